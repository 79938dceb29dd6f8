//! Times are stored as microseconds since the Unix epoch (UTC) in `BIGINT` columns, the
//! one representation SQLite and PostgreSQL share exactly.

use time::OffsetDateTime;

use crate::store::StorageError;

/// Microseconds since the epoch.
pub(crate) fn to_micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// Back from microseconds; a value out of range is corrupt storage.
pub(crate) fn from_micros(us: i64) -> Result<OffsetDateTime, StorageError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000).map_err(|_| StorageError::Corrupt("timestamp"))
}
