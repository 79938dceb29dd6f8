//! UniFFI support (feature `uniffi`): the core's own types cross to Kotlin and Swift through
//! derives on them (`cfg_attr(feature = "uniffi", derive(uniffi::Record))`), not through
//! mirror records in `bindings-uniffi`. This module holds the one mapping of date and time
//! types: an instant is the foreign side's timestamp (`SystemTime`: Kotlin `Instant`, Swift
//! `Date`), a calendar date is ISO `YYYY-MM-DD` text.

use std::time::SystemTime;

use time::{Date, OffsetDateTime};

uniffi::custom_type!(OffsetDateTime, SystemTime, {
    remote,
    lower: |t| t.into(),
    try_lift: |s| Ok(OffsetDateTime::from(s)),
});

uniffi::custom_type!(Date, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(Date::parse(&s, time::macros::format_description!("[year]-[month]-[day]"))?),
});
