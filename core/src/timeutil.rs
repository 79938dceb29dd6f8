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

/// Full years of age on `on` for someone born on `birth`. Someone born on 29 February has
/// their birthday on 1 March in common years (the day after 28 February has passed).
pub(crate) fn age_on(birth: time::Date, on: time::Date) -> i32 {
    let years = on.year() - birth.year();
    let before_birthday = (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day());
    if before_birthday { years - 1 } else { years }
}

/// Age of majority (R20): from this age a person acts for themself.
pub(crate) const ADULT_AGE: i32 = 18;

#[cfg(test)]
mod tests {
    use time::macros::date;

    #[test]
    fn r20_leap_day_birthday_comes_of_age_on_the_first_of_march() {
        let birth = date!(2008 - 02 - 29);
        assert_eq!(super::age_on(birth, date!(2026 - 02 - 28)), 17);
        assert_eq!(super::age_on(birth, date!(2026 - 03 - 01)), 18);
        assert_eq!(super::age_on(date!(2008 - 03 - 01), date!(2026 - 02 - 28)), 17);
        assert_eq!(super::age_on(date!(2008 - 02 - 28), date!(2026 - 02 - 28)), 18);
        assert_eq!(super::age_on(birth, date!(2028 - 02 - 29)), 20);
    }
}
