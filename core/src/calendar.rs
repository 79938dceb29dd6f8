//! The working calendar (R12, R13): weekends and the deployment's holidays, and the deadline
//! "within one working day" a correction request must be processed by — the end of the
//! first working day after the day it was made, in the clinic's local time.

use time::{Date, OffsetDateTime, Weekday};

/// Whether `day` is a working day: not Saturday or Sunday, not a holiday.
pub(crate) fn is_working(day: Date, holidays: &[Date]) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !holidays.contains(&day)
}

/// The first working day after `day` (at most a year ahead: a calendar of only holidays
/// cannot loop forever).
pub(crate) fn next_working_day(day: Date, holidays: &[Date]) -> Date {
    let mut d = day;
    for _ in 0..366 {
        d = d.next_day().unwrap_or(d);
        if is_working(d, holidays) {
            return d;
        }
    }
    d
}

/// The end of the first working day after the local day of `made` in `zone`: the instant
/// local midnight starts the day after it (UTC).
pub(crate) fn one_working_day_after(made: OffsetDateTime, zone: &str, holidays: &[Date]) -> OffsetDateTime {
    let local = crate::localtime::local(made, zone);
    let due_day = next_working_day(local.day, holidays);
    let after = due_day.next_day().unwrap_or(due_day);
    start_of_day(after, zone).unwrap_or(made + time::Duration::days(1))
}

/// The UTC instant local midnight of `day` begins in `zone`.
fn start_of_day(day: Date, zone: &str) -> Option<OffsetDateTime> {
    let tz = jiff::tz::db().get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let civil = jiff::civil::date(i16::try_from(day.year()).ok()?, u8::from(day.month()) as i8, day.day() as i8);
    let zoned = civil.to_zoned(tz).ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(zoned.timestamp().as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::one_working_day_after;

    #[test]
    fn r12_due_by_the_end_of_the_next_working_day_in_local_time() {
        let none: &[time::Date] = &[];
        // Monday 10:00 Moscow → due at the end of Tuesday (Wednesday 00:00 MSK = Tuesday 21:00 UTC).
        let made = datetime!(2026-11-30 07:00 UTC);
        assert_eq!(one_working_day_after(made, "Europe/Moscow", none), datetime!(2026-12-01 21:00 UTC));
        // Friday → Monday; Saturday → Monday.
        assert_eq!(
            one_working_day_after(datetime!(2026-12-04 07:00 UTC), "Europe/Moscow", none),
            datetime!(2026-12-07 21:00 UTC)
        );
        assert_eq!(
            one_working_day_after(datetime!(2026-12-05 07:00 UTC), "Europe/Moscow", none),
            datetime!(2026-12-07 21:00 UTC)
        );
        // Friday 23:30 Moscow is still Friday there, though Saturday has begun nowhere in UTC.
        assert_eq!(
            one_working_day_after(datetime!(2026-12-04 20:30 UTC), "Europe/Moscow", none),
            datetime!(2026-12-07 21:00 UTC)
        );
        // A holiday moves it on: the New Year week.
        let holidays = [date!(2027 - 01 - 01), date!(2027 - 01 - 04), date!(2027 - 01 - 05)];
        assert_eq!(
            one_working_day_after(datetime!(2026-12-31 07:00 UTC), "Europe/Moscow", &holidays),
            datetime!(2027-01-06 21:00 UTC)
        );
        // Vladivostok is UTC+10: its Monday 09:00 is Sunday 23:00 UTC.
        assert_eq!(
            one_working_day_after(datetime!(2026-11-29 23:00 UTC), "Asia/Vladivostok", none),
            datetime!(2026-12-01 14:00 UTC)
        );
        // A calendar of nothing but holidays ends, a year on.
        let all: Vec<time::Date> = (0..400).map(|i| date!(2026 - 12 - 01) + time::Duration::days(i)).collect();
        let _ = one_working_day_after(made, "Europe/Moscow", &all);
    }
}
