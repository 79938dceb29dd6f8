//! The one shape of a Kotlin/Swift handle object: a core handle and the cabinet's locale, and
//! async methods that only call the core method of the same name.
//!
//! [`delegate!`] writes the object, its exported `impl` (panic-guarded by `#[guard]`) and one
//! method per line, so a binding method cannot drift from the core call it stands for. Each
//! argument is passed to the core by [`Pass`]: strings as `&str`, times from `SystemTime`,
//! lists and a `Device` by reference, inputs and enums by value. A type passed the wrong
//! way for the core method is a compile error, never a silent conversion.

use std::time::SystemTime;

/// An argument as the core method takes it.
pub(crate) trait Pass {
    /// What the core takes.
    type Out<'a>
    where
        Self: 'a;
    /// Borrows, copies or converts.
    fn pass(&self) -> Self::Out<'_>;
}

impl Pass for String {
    type Out<'a> = &'a str;
    fn pass(&self) -> &str {
        self
    }
}

impl Pass for Option<String> {
    type Out<'a> = Option<&'a str>;
    fn pass(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl Pass for SystemTime {
    type Out<'a> = time::OffsetDateTime;
    fn pass(&self) -> time::OffsetDateTime {
        (*self).into()
    }
}

impl Pass for Option<SystemTime> {
    type Out<'a> = Option<time::OffsetDateTime>;
    fn pass(&self) -> Option<time::OffsetDateTime> {
        self.map(Into::into)
    }
}

/// Arguments the core takes by value (copied or cloned).
macro_rules! by_value {
    ($($t:ty),* $(,)?) => {$(
        impl Pass for $t {
            type Out<'a> = $t;
            fn pass(&self) -> $t {
                self.clone()
            }
        }
    )*};
}

/// Arguments the core takes by reference.
macro_rules! by_ref {
    ($($t:ty),* $(,)?) => {$(
        impl Pass for $t {
            type Out<'a> = &'a $t;
            fn pass(&self) -> &$t {
                self
            }
        }
    )*};
}

by_value!(bool, i64, u32, u64, Option<u32>, Option<i64>, time::Date, Option<time::Date>);
by_value!(kabinet::ItemData, Option<kabinet::ItemData>, kabinet::CertificateKind, kabinet::StaffRole);
by_value!(
    kabinet::DocumentKind,
    Option<kabinet::DocumentKind>,
    kabinet::RequestStatus,
    kabinet::integrations::Channel,
    kabinet::PushPlatform,
    Option<kabinet::AttachmentReason>
);
by_value!(
    kabinet::Registration,
    kabinet::LegacyAccount,
    kabinet::NewPatient,
    kabinet::LabReport,
    kabinet::CertificateKindDefinition
);
by_value!(kabinet::WardGrant, kabinet::DocumentMeta, kabinet::IdentityConfirmation, kabinet::NewStaff);
by_ref!(kabinet::Device, Vec<String>, Vec<u8>);

/// Writes a handle object and its delegating methods; see the module docs. `handles { … }`
/// lists sub-handles (`name -> Object = |h| core handle;`, each with this object's locale);
/// `extra { … }` holds hand-written methods of the same object (calls of a different shape).
macro_rules! delegate {
    (
        $(#[$class_meta:meta])*
        class $ty:ident($field:ident: $inner:ty) via |$h:ident| $handle:expr;
        handles { $( $(#[$hmeta:meta])* $hname:ident -> $hty:ty = $hexpr:expr; )* }
    ) => {
        $(#[$class_meta])*
        #[derive(uniffi::Object)]
        pub struct $ty {
            pub(crate) $field: $inner,
            pub(crate) locale: kabinet::Locale,
        }

        impl $ty {
            #[allow(dead_code)]
            pub(crate) fn new($field: $inner, locale: kabinet::Locale) -> Self {
                Self { $field, locale }
            }
        }

        #[kabinet_ffi_guard::guard]
        #[uniffi::export]
        impl $ty {
            $(
                $(#[$hmeta])*
                pub fn $hname(&self) -> std::sync::Arc<$hty> {
                    let $h = &self.$field;
                    std::sync::Arc::new(<$hty>::new($hexpr, self.locale))
                }
            )*
        }
    };
    (
        $(#[$class_meta:meta])*
        class $ty:ident($field:ident: $inner:ty) via |$h:ident| $handle:expr;
        $(
            $(#[$meta:meta])*
            fn $name:ident($($arg:ident: $aty:ty),* $(,)?) -> $ret:ty;
        )*
        $(handles { $($handles:tt)* })?
        $(extra { $($extra:tt)* })?
    ) => {
        crate::delegate::delegate! {
            $(#[$class_meta])*
            class $ty($field: $inner) via |$h| $handle;
            handles { $($($handles)*)? }
        }

        #[kabinet_ffi_guard::guard]
        #[uniffi::export(async_runtime = "tokio")]
        impl $ty {
            $(
                $(#[$meta])*
                pub async fn $name(&self, $($arg: $aty),*) -> Result<$ret, crate::KabinetError> {
                    let $h = &self.$field;
                    let handle = $handle;
                    let call = handle.$name($(crate::delegate::Pass::pass(&$arg)),*);
                    let result = kabinet::log::timed(concat!(stringify!($ty), ".", stringify!($name)), call).await;
                    crate::error::IntoFfi::ffi(result, self.locale)
                }
            )*
            $($($extra)*)?
        }
    };
}

pub(crate) use delegate;
