//! The one shape of a Python handle class: a core handle and the cabinet's locale, and
//! methods that only call the core method of the same name with the GIL released.
//!
//! [`delegate!`] writes the class, its constructor and its `#[pymethods]` from one line per
//! method, so a binding method cannot drift from the core call it stands for. Each argument
//! is taken from Python as declared, made owned and `Send` by [`Arg`] (a frozen Python object
//! is cloned out, an aware datetime is moved to UTC), and passed to the core by [`Pass`]
//! (strings as `&str`, a `Device` by reference, inputs by value). A type passed the wrong way
//! for the core method is a compile error, never a silent conversion.

use pyo3::prelude::*;

/// An argument as Python gives it, made owned and `Send` before the GIL is released.
pub(crate) trait Arg {
    /// The owned form.
    type Owned: Send + 'static;
    /// Converts.
    fn own(self) -> Self::Owned;
}

/// An owned argument as the core method takes it.
pub(crate) trait Pass {
    /// What the core takes.
    type Out<'a>
    where
        Self: 'a;
    /// Borrows or copies.
    fn pass(&self) -> Self::Out<'_>;
}

macro_rules! owned_as_is {
    ($($t:ty),* $(,)?) => {$(
        impl Arg for $t {
            type Owned = $t;
            fn own(self) -> $t {
                self
            }
        }
    )*};
}

/// Arguments the core takes by value (copied or cloned out of the owned argument).
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

/// Arguments Python gives as they are and the core takes by value.
macro_rules! values {
    ($($t:ty),* $(,)?) => {
        owned_as_is!($($t),*);
        by_value!($($t),*);
    };
}

owned_as_is!(String, Option<String>, Vec<String>, Vec<u8>);
values!(bool, i64, u32, u64, Option<u32>, Option<i64>, time::Date, Option<time::Date>);
values!(kabinet::ItemData, Option<kabinet::ItemData>, kabinet::CertificateKind);
values!(kabinet::DocumentKind, Option<kabinet::DocumentKind>, kabinet::integrations::Channel, kabinet::PushPlatform);
values!(Option<kabinet::AttachmentReason>);
by_value!(time::OffsetDateTime, Option<time::OffsetDateTime>);
by_value!(kabinet::Registration, kabinet::LegacyAccount, kabinet::NewPatient, kabinet::CertificateKindDefinition);
by_ref!(kabinet::Device, Vec<String>, Vec<u8>);

/// The same instant in UTC: PyO3's conversion (feature `time`) reads an aware `datetime`
/// (a naive one is refused) with its offset; Kabinet works in UTC.
pub(crate) fn utc(t: time::OffsetDateTime) -> time::OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

impl Arg for time::OffsetDateTime {
    type Owned = time::OffsetDateTime;
    fn own(self) -> Self::Owned {
        utc(self)
    }
}

impl Arg for Option<time::OffsetDateTime> {
    type Owned = Option<time::OffsetDateTime>;
    fn own(self) -> Self::Owned {
        self.map(utc)
    }
}

impl<T> Arg for &Bound<'_, T>
where
    T: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True> + Clone + Send + Sync + 'static,
{
    type Owned = T;
    fn own(self) -> T {
        self.get().clone()
    }
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

/// Writes a handle class and its delegating methods; see the module docs. `handles { … }`
/// lists sub-handle getters (`name -> Class = core handle;`, each with this class's locale);
/// `extra { … }` holds hand-written methods of the same class (calls of a different shape).
macro_rules! delegate {
    (
        $(#[$class_meta:meta])*
        class $ty:ident($inner:ty) via |$h:ident, $loc:ident| $handle:expr;
        $(
            $(#[$meta:meta])*
            fn $name:ident($($arg:ident: $aty:ty),* $(,)?) -> $ret:ty;
        )*
        $(handles { $( $(#[$hmeta:meta])* $hname:ident -> $hty:ty = $hexpr:expr; )* })?
        $(extra { $($extra:tt)* })?
    ) => {
        $(#[$class_meta])*
        #[pyo3::pyclass(module = "kabinet", frozen)]
        pub(crate) struct $ty {
            pub(crate) inner: $inner,
            pub(crate) locale: kabinet::Locale,
        }

        impl $ty {
            #[allow(dead_code)]
            pub(crate) fn new(inner: $inner, locale: kabinet::Locale) -> Self {
                Self { inner, locale }
            }
        }

        #[pyo3::pymethods]
        impl $ty {
            $(
                $(#[$meta])*
                #[allow(clippy::too_many_arguments)]
                fn $name(&self, py: pyo3::Python<'_>, $($arg: $aty),*) -> pyo3::PyResult<$ret> {
                    let ($h, $loc) = (&self.inner, self.locale);
                    let handle = $handle;
                    $(let $arg = crate::delegate::Arg::own($arg);)*
                    crate::runtime::block_on(py, self.locale, async move {
                        let call = handle.$name($(crate::delegate::Pass::pass(&$arg)),*);
                        kabinet::log::timed(concat!(stringify!($ty), ".", stringify!($name)), call).await
                    })
                }
            )*
            $($(
                $(#[$hmeta])*
                #[getter]
                fn $hname(&self) -> $hty {
                    let $h = &self.inner;
                    <$hty>::new($hexpr, self.locale)
                }
            )*)?
            $($($extra)*)?
        }
    };
}

pub(crate) use delegate;
