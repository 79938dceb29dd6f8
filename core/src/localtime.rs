//! Local time for what people read (R8, R10, R14): every region has an IANA time zone and a
//! clinic may override it; SMS, e-mail, push, visit cards and PDFs show the clinic's local
//! time with the zone named, while the API keeps returning aware UTC datetimes. The zone
//! rules come from the IANA database through `jiff` (the system's copy, or the bundled one).

use time::OffsetDateTime;

use crate::ids::{Reason, ValidationError};

/// The zone a region gets when none is given.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Moscow";

/// Checks an IANA zone name (`"Asia/Yekaterinburg"`); returns it as given, trimmed. An
/// unknown name is `validation` on `time_zone`.
pub(crate) fn check_zone(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ValidationError::new("time_zone", Reason::Format));
    }
    jiff::tz::db().get(name).map_err(|_| ValidationError::new("time_zone", Reason::UnknownValue))?;
    Ok(name.to_owned())
}

/// `t` in `zone`, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Local {
    /// `DD.MM.YYYY`.
    pub date: String,
    /// `HH:MM`.
    pub time: String,
    /// The zone named: `Europe/Moscow, UTC+3`.
    pub zone: String,
    /// The local calendar date.
    pub day: time::Date,
}

impl Local {
    /// `30.11.2026 09:00 (Europe/Moscow, UTC+3)`.
    pub(crate) fn text(&self) -> String {
        format!("{} {} ({})", self.date, self.time, self.zone)
    }
}

/// Converts `t` to the zone's local time. A zone the database no longer knows (stored before
/// an update removed it) falls back to UTC, named as such: a time is never shown wrong silently.
pub(crate) fn local(t: OffsetDateTime, zone: &str) -> Local {
    let (tz, name) = match jiff::tz::db().get(zone) {
        Ok(tz) => (tz, zone.to_owned()),
        Err(_) => (jiff::tz::TimeZone::UTC, "UTC".to_owned()),
    };
    let stamp = jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let z = stamp.to_zoned(tz);
    let offset = z.offset().seconds();
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.unsigned_abs() / 3600, offset.unsigned_abs() % 3600 / 60);
    let utc = if m == 0 { format!("UTC{sign}{h}") } else { format!("UTC{sign}{h}:{m:02}") };
    let month = time::Month::try_from(z.month() as u8).unwrap_or(time::Month::January);
    let day = time::Date::from_calendar_date(i32::from(z.year()), month, z.day() as u8).unwrap_or(t.date());
    Local {
        date: format!("{:02}.{:02}.{:04}", z.day(), z.month(), z.year()),
        time: format!("{:02}:{:02}", z.hour(), z.minute()),
        zone: if name == "UTC" { "UTC".to_owned() } else { format!("{name}, {utc}") },
        day,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::{check_zone, local};

    #[test]
    fn r8_a_moscow_visit_reads_nine_not_six() {
        let l = local(datetime!(2026-11-30 06:00 UTC), "Europe/Moscow");
        assert_eq!(l.text(), "30.11.2026 09:00 (Europe/Moscow, UTC+3)");
        assert_eq!(l.day, time::macros::date!(2026 - 11 - 30));
    }

    #[test]
    fn r8_zones_across_russia_dates_roll_over_and_half_hours_are_named() {
        // Kamchatka is UTC+12: 20:30 UTC is already the next day there.
        let l = local(datetime!(2026-11-30 20:30 UTC), "Asia/Kamchatka");
        assert_eq!(l.text(), "01.12.2026 08:30 (Asia/Kamchatka, UTC+12)");
        assert_eq!(l.day, time::macros::date!(2026 - 12 - 01));
        assert_eq!(local(datetime!(2026-11-30 06:00 UTC), "Europe/Kaliningrad").time, "08:00");
        assert_eq!(local(datetime!(2026-01-15 12:00 UTC), "Asia/Kolkata").zone, "Asia/Kolkata, UTC+5:30");
        assert_eq!(local(datetime!(2026-01-15 12:00 UTC), "America/St_Johns").zone, "America/St_Johns, UTC-3:30");
        // A zone with daylight saving changes its offset with the date.
        assert_eq!(local(datetime!(2026-07-01 12:00 UTC), "Europe/Berlin").time, "14:00");
        assert_eq!(local(datetime!(2026-01-01 12:00 UTC), "Europe/Berlin").time, "13:00");
        // A name the database does not know reads as UTC, named so.
        assert_eq!(local(datetime!(2026-11-30 06:00 UTC), "Mars/Olympus").text(), "30.11.2026 06:00 (UTC)");
    }

    #[test]
    fn r8_zone_names_are_checked_against_the_database() {
        assert_eq!(check_zone(" Asia/Yekaterinburg ").unwrap(), "Asia/Yekaterinburg");
        for bad in ["", "Mars/Olympus", "Europe/Moscow\u{0}", "Europe/ Moscow", &"A".repeat(65), "../../etc/passwd"] {
            assert!(check_zone(bad).is_err(), "{bad:?}");
        }
    }
}
