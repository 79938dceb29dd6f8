//! Instants from Python in UTC: PyO3's own conversion (feature `time`) reads an aware
//! `datetime` (a naive one is refused) with its offset; Kabinet works in UTC.

use time::{OffsetDateTime, UtcOffset};

/// The same instant in UTC.
pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}
