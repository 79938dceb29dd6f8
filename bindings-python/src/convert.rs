//! Dates and times between Python and the core.

use pyo3::prelude::*;
use pyo3::types::{PyDate, PyDateAccess, PyDateTime, PyTimeAccess, PyTzInfo, PyTzInfoAccess};
use time::{Date, OffsetDateTime};

/// `datetime.date` → `time::Date`.
pub(crate) fn date_from_py(d: &Bound<'_, PyDate>, field: &'static str) -> PyResult<Date> {
    let month =
        time::Month::try_from(d.get_month()).map_err(|_| crate::errors::validation(field, kabinet::Reason::Format))?;
    Date::from_calendar_date(d.get_year(), month, d.get_day())
        .map_err(|_| crate::errors::validation(field, kabinet::Reason::Format))
}

/// `time::Date` → `datetime.date`.
pub(crate) fn date_to_py<'py>(py: Python<'py>, d: Date) -> PyResult<Bound<'py, PyDate>> {
    PyDate::new(py, d.year(), u8::from(d.month()), d.day())
}

/// `OffsetDateTime` → timezone-aware UTC `datetime.datetime`.
pub(crate) fn datetime_to_py<'py>(py: Python<'py>, t: OffsetDateTime) -> PyResult<Bound<'py, PyDateTime>> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let utc = PyTzInfo::utc(py)?;
    PyDateTime::new(
        py,
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond(),
        Some(&utc),
    )
}

/// Aware `datetime.datetime` → `OffsetDateTime` (naive datetimes are refused).
pub(crate) fn datetime_from_py(dt: &Bound<'_, PyDateTime>) -> PyResult<OffsetDateTime> {
    if dt.get_tzinfo().is_none() {
        return Err(pyo3::exceptions::PyValueError::new_err("datetime must be timezone-aware"));
    }
    let utc = PyTzInfo::utc(dt.py())?;
    let u = dt.call_method1("astimezone", (utc,))?.cast_into::<PyDateTime>()?;
    let month = time::Month::try_from(u.get_month()).map_err(|_| pyo3::exceptions::PyValueError::new_err("month"))?;
    let date = Date::from_calendar_date(u.get_year(), month, u.get_day())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("date"))?;
    let time = time::Time::from_hms_micro(u.get_hour(), u.get_minute(), u.get_second(), u.get_microsecond())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("time"))?;
    Ok(date.with_time(time).assume_utc())
}
