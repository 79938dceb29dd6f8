//! Closed sets of values (statuses, kinds, roles, flags): one declaration each, with
//! [`closed_set!`], gives the Rust enum, its stable string values (stored, journaled and
//! shown to hosts), a parser whose error lists the valid values, the UniFFI enum (feature
//! `uniffi`: Kotlin `enum class`, Swift `enum`) and a Python string-valued `enum.StrEnum`
//! (feature `python`), so `status == "booked"` keeps working in Python.

/// Declares a closed set. Each variant names its stable value and, optionally, aliases the
/// parser also takes (`Female = "female" | "f"`). Parsing trims and ignores case.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $field:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable string values, in declaration order.
            pub const VALUES: &'static [&'static str] = &[$($value),+];

            /// The stable string value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// Parses a value (trimmed, any case); the error names the field and lists
            /// the valid values.
            pub fn parse(input: &str) -> Result<$name, $crate::ids::ValidationError> {
                let wanted = input.trim().to_lowercase();
                $(
                    if wanted == $value $(|| wanted == $alias)* {
                        return Ok($name::$variant);
                    }
                )+
                Err($crate::ids::ValidationError::one_of($field, wanted.is_empty(), Self::VALUES))
            }

            /// Reads a value written by Kabinet; anything else is damaged data.
            #[allow(dead_code)]
            pub(crate) fn stored(value: &str) -> Result<$name, $crate::store::StorageError> {
                Self::VALUES
                    .iter()
                    .position(|v| *v == value)
                    .map(|i| Self::ALL[i])
                    .ok_or_else(|| $crate::store::StorageError::Corrupt(concat!("unknown ", $field)))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ids::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        #[cfg(feature = "python")]
        $crate::python::str_enum!($name);
    };
}

pub(crate) use closed_set;

#[cfg(test)]
mod tests {
    use crate::appointments::AppointmentStatus;
    use crate::ids::{Reason, Sex};
    use crate::staff::StaffRole;

    #[test]
    fn values_parse_back_to_their_members_in_any_case_and_spacing() {
        for member in StaffRole::ALL {
            assert_eq!(StaffRole::parse(member.as_str()).unwrap(), *member);
            assert_eq!(StaffRole::parse(&format!("  {}\t", member.as_str().to_uppercase())).unwrap(), *member);
            assert_eq!(member.to_string(), member.as_str());
            assert_eq!(StaffRole::stored(member.as_str()).unwrap(), *member);
        }
        assert_eq!(StaffRole::VALUES.len(), StaffRole::ALL.len());
    }

    #[test]
    fn a_bad_value_names_the_field_and_lists_the_valid_ones() {
        let e = AppointmentStatus::parse("archived").unwrap_err();
        assert_eq!((e.field, e.reason, e.allowed), ("status", Reason::UnknownValue, AppointmentStatus::VALUES));
        assert!(e.to_string().contains("booked, cancelled, past"), "{e}");
        assert_eq!(AppointmentStatus::parse(" ").unwrap_err().reason, Reason::Empty);
        for hostile in ["booked\0", "bооked" /* Cyrillic о */, "booked; DROP TABLE x", &"b".repeat(100_000)] {
            assert_eq!(AppointmentStatus::parse(hostile).unwrap_err().reason, Reason::UnknownValue);
        }
        // What the database holds is read strictly: no trimming, no case folding.
        assert!(AppointmentStatus::stored("Booked").is_err());
    }

    #[test]
    fn serde_writes_the_value_and_reads_what_the_parser_takes() {
        assert_eq!(serde_json::to_string(&AppointmentStatus::Past).unwrap(), "\"past\"");
        assert_eq!(serde_json::from_str::<AppointmentStatus>("\"PAST\"").unwrap(), AppointmentStatus::Past);
        assert!(serde_json::from_str::<AppointmentStatus>("\"later\"").is_err());
    }

    #[test]
    fn sex_aliases_are_documented_values_and_registration_refuses_unknown() {
        for (given, want) in [("F", Sex::Female), ("ж", Sex::Female), ("Мужской", Sex::Male), ("m", Sex::Male)]
        {
            assert_eq!(Sex::parse(given).unwrap(), want, "{given}");
            assert_eq!(Sex::parse_known(given).unwrap(), want, "{given}");
        }
        assert_eq!(Sex::parse("unknown").unwrap(), Sex::Unknown);
        assert_eq!(Sex::parse_known("unknown").unwrap_err().allowed, ["male", "female"]);
    }
}
