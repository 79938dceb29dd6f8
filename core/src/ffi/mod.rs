//! UniFFI support (feature `uniffi`): the core's own types cross to Kotlin and Swift through
//! derives on them (`cfg_attr(feature = "uniffi", derive(uniffi::Record))`), not through
//! mirror records in `bindings-uniffi`. This module holds the one mapping of date and time
//! types: an instant is the foreign side's timestamp (`SystemTime`: Kotlin `Instant`, Swift
//! `Date`), a calendar date is ISO `YYYY-MM-DD` text — `java.time.LocalDate` in Kotlin
//! (`core/uniffi.toml`), text in Swift, where a malformed one is `KabinetError.Validation`
//! (field `date`, reason `format`) rather than a fault. A lab value is a decimal as text with
//! its digits (`"4.10"`): `java.math.BigDecimal` in Kotlin, text in Swift.

use std::time::SystemTime;

use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

mod error;

pub use error::{IntoFfi, KabinetError};

uniffi::custom_type!(OffsetDateTime, SystemTime, {
    remote,
    lower: |t| t.into(),
    try_lift: |s| Ok(OffsetDateTime::from(s)),
});

uniffi::custom_type!(Date, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| {
        Date::parse(&s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| KabinetError::validation(crate::ValidationError::new("date", crate::Reason::Format)).into())
    },
});

uniffi::custom_type!(Decimal, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| {
        s.trim()
            .parse::<Decimal>()
            .map_err(|_| KabinetError::validation(crate::ValidationError::new("value", crate::Reason::Format)).into())
    },
});

#[cfg(test)]
mod tests {
    use super::*;

    fn lift(text: &str) -> uniffi::Result<Date> {
        <Date as uniffi::FfiConverter<crate::UniFfiTag>>::try_lift(uniffi::RustBuffer::from_vec(
            text.as_bytes().to_vec(),
        ))
    }

    #[test]
    fn dates_cross_as_iso_text() {
        assert_eq!(lift("2026-02-28").unwrap(), time::macros::date!(2026 - 02 - 28));
        let lowered = <Date as uniffi::FfiConverter<crate::UniFfiTag>>::lower(time::macros::date!(1990 - 03 - 14));
        assert_eq!(lowered.destroy_into_vec(), b"1990-03-14");
    }

    /// UniFFI returns a lift failure as the call's error when it is the call's error type, so
    /// a malformed date from Swift is `KabinetError.Validation`, not an internal fault.
    #[test]
    fn a_malformed_date_is_a_validation_error() {
        for bad in ["2026-02-30", "2026-13-01", "14.03.1990", "", "2026-02-28\0", "９９９９-01-01"] {
            let err = lift(bad).unwrap_err().downcast::<KabinetError>().expect("a KabinetError");
            match err {
                KabinetError::Validation { field, reason, .. } => {
                    assert_eq!((field.as_str(), reason.as_str()), ("date", "format"))
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn decimals_cross_as_text_with_their_digits() {
        let lift = |text: &str| {
            <Decimal as uniffi::FfiConverter<crate::UniFfiTag>>::try_lift(uniffi::RustBuffer::from_vec(
                text.as_bytes().to_vec(),
            ))
        };
        assert_eq!(lift("4.10").unwrap().to_string(), "4.10");
        for bad in ["4,10", "", "NaN", "1e400"] {
            let err = lift(bad).unwrap_err().downcast::<KabinetError>().expect("a KabinetError");
            assert!(matches!(err, KabinetError::Validation { ref field, .. } if field == "value"), "{bad}");
        }
    }
}
