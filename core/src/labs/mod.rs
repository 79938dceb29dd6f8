//! Lab results (R9), modelled on FHIR DiagnosticReport + Observation with `referenceRange`:
//! a laboratory (staff of the patient's clinic in a lab role) publishes a report; Kabinet
//! computes each result's out-of-range flag, seals everything with the patient's key,
//! queues a new-result SMS, and journals every view.

use crate::staff::StaffRole;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod store;

pub use rust_decimal::Decimal;

use crate::audit::Action;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::me::Me;
use crate::medical::{PatientWork, Vault, staff_for};
use crate::timeutil::{from_micros, to_micros};

/// Roles that publish lab results.
pub const LAB_ROLES: &[StaffRole] = &[StaffRole::Laboratory, StaffRole::Doctor, StaffRole::Nurse];

/// One result as the laboratory sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass, from_py_object))]
pub struct LabResultInput {
    /// Test name ("Гемоглобин").
    pub test_name: String,
    /// Test code (LOINC or the lab's own).
    pub code: String,
    /// Numeric value, with the digits it was given (4.10 stays 4.10).
    pub value: Option<Decimal>,
    /// Text value ("отрицательно"), when not numeric.
    pub value_text: Option<String>,
    /// Unit ("г/л").
    pub unit: Option<String>,
    /// Lower limit of the reference range (one-sided ranges leave one side empty).
    pub range_low: Option<Decimal>,
    /// Upper limit.
    pub range_high: Option<Decimal>,
    /// Expected text value ("отрицательно"), for text results.
    pub range_text: Option<String>,
    /// When the sample was taken.
    pub sampled_at: OffsetDateTime,
}

/// A report: several results from one laboratory.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct LabReport {
    /// Title ("Общий анализ крови").
    pub title: String,
    /// Laboratory.
    pub laboratory: String,
    /// When issued.
    pub issued_at: OffsetDateTime,
    /// Results.
    pub results: Vec<LabResultInput>,
}

crate::paging::page_type! {
    /// One page of a patient's lab results.
    LabResultPage of LabResult
}

/// A result as the patient sees it.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct LabResult {
    /// Id.
    pub id: String,
    /// The report it belongs to.
    pub report_id: String,
    /// Report title.
    pub report_title: String,
    /// Laboratory.
    pub laboratory: String,
    /// Test name.
    pub test_name: String,
    /// LOINC or the laboratory's code.
    pub code: String,
    /// Numeric value, as sent.
    pub value: Option<Decimal>,
    /// Text value ("отрицательно"), as sent.
    pub value_text: Option<String>,
    /// Unit.
    pub unit: Option<String>,
    /// Lower bound of the reference range.
    pub range_low: Option<Decimal>,
    /// Upper bound of the reference range.
    pub range_high: Option<Decimal>,
    /// Expected text value.
    pub range_text: Option<String>,
    /// When the sample was taken.
    pub sampled_at: OffsetDateTime,
    /// The reference range for display ("3.5–5.5", "< 5.2", "≥ 1.0", "отрицательно").
    pub reference_range: Option<String>,
    /// Low, high, normal, abnormal (text differs), or `None` without a range.
    pub flag: Option<LabFlag>,
    /// When issued.
    pub issued_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct Body {
    report_title: String,
    laboratory: String,
    input: LabResultInput,
    flag: Option<LabFlag>,
}

crate::sets::closed_set! {
    /// A result against its reference range.
    pub enum LabFlag in "flag" {
        /// Below the range.
        Low = "low",
        /// Above the range.
        High = "high",
        /// Within the range (or the expected text).
        Normal = "normal",
        /// A text result other than the expected one.
        Abnormal = "abnormal",
    }
}

/// Ids and the flag only: values are medical data and stay out of logs.
impl std::fmt::Debug for LabResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabResult")
            .field("id", &self.id)
            .field("report_id", &self.report_id)
            .field("flag", &self.flag)
            .finish_non_exhaustive()
    }
}

/// The out-of-range flag: numeric values against low/high (either may be absent), text
/// values against the expected text (case- and ё-insensitive); `None` without a range.
pub fn flag(r: &LabResultInput) -> Option<LabFlag> {
    match (r.value, r.value_text.as_deref()) {
        (Some(v), _) => match (r.range_low, r.range_high) {
            (None, None) => None,
            (Some(lo), _) if v < lo => Some(LabFlag::Low),
            (_, Some(hi)) if v > hi => Some(LabFlag::High),
            _ => Some(LabFlag::Normal),
        },
        (None, Some(text)) => {
            let expected = r.range_text.as_deref()?;
            let same = crate::directory::fold(text) == crate::directory::fold(expected);
            Some(if same { LabFlag::Normal } else { LabFlag::Abnormal })
        }
        (None, None) => None,
    }
}

/// The reference range as people write it.
pub fn reference_range(r: &LabResultInput) -> Option<String> {
    match (r.range_low, r.range_high, r.range_text.as_deref()) {
        (Some(lo), Some(hi), _) => Some(format!("{lo}–{hi}")),
        (Some(lo), None, _) => Some(format!("≥ {lo}")),
        (None, Some(hi), _) => Some(format!("≤ {hi}")),
        (None, None, Some(t)) => Some(t.to_owned()),
        (None, None, None) => None,
    }
}

fn validate(r: &LabResultInput, issued_at: OffsetDateTime) -> Result<LabResultInput> {
    let text = |f: &'static str, v: &Option<String>| {
        v.as_deref().map(|v| crate::directory::text_field(f, v, 2000)).transpose()
    };
    let out = LabResultInput {
        test_name: crate::directory::text_field("test_name", &r.test_name, 300)?,
        code: crate::directory::text_field("code", &r.code, 64)?,
        value_text: text("value_text", &r.value_text)?,
        unit: text("unit", &r.unit)?,
        range_text: text("range_text", &r.range_text)?,
        ..r.clone()
    };
    match (out.value, &out.value_text) {
        (Some(_), None) | (None, Some(_)) => {}
        (Some(_), Some(_)) => return Err(ValidationError::new("value_text", Reason::Format).into()),
        _ => return Err(ValidationError::new("value", Reason::Empty).into()),
    }
    if let (Some(lo), Some(hi)) = (out.range_low, out.range_high)
        && lo > hi
    {
        return Err(ValidationError::new("range_low", Reason::Format).into());
    }
    if out.sampled_at > issued_at {
        return Err(ValidationError::new("sampled_at", Reason::Future).into());
    }
    Ok(out)
}

/// Staff publishing lab reports.
#[derive(Debug, Clone)]
pub struct StaffLabs {
    me: Me,
}

impl StaffLabs {
    pub(crate) fn new(me: Me) -> Self {
        StaffLabs { me }
    }

    /// Publishes a report for a patient of the clinic; returns the stored results with their
    /// flags. All or nothing: one invalid result refuses the whole report.
    pub async fn publish(&self, patient_id: &str, report: LabReport) -> Result<Vec<LabResult>> {
        let cab = self.me.cabinet();
        let member = staff_for(&self.me, patient_id, LAB_ROLES).await?.clone();
        let now_t = cab.now();
        if report.issued_at > now_t {
            return Err(ValidationError::new("issued_at", Reason::Future).into());
        }
        let now = to_micros(now_t);
        let mut tx = cab.store().begin().await?;
        let (title, out) = insert_report(
            cab,
            &mut tx,
            self.me.audit_context(),
            patient_id,
            &report,
            Some(&member.clinic_id),
            &[],
            now,
        )
        .await?;
        let args = [("title", title)];
        let message = crate::notify::patient_event(cab, &mut tx, patient_id, "lab_result", &args, now).await?;
        tx.commit().await?;
        crate::notify::deliver_all(cab, message).await?;
        Ok(out)
    }
}

/// Validates and stores a report in the caller's transaction (journaled as created by
/// `ctx`); returns the cleaned title and the results with their flags. Kabinet computes each
/// flag from the range; `source_flags` (by position, from an imported interpretation) fill
/// in only where there is no range to compute from.
#[allow(clippy::too_many_arguments)] // one transaction's worth of context, each argument distinct
pub(crate) async fn insert_report(
    cab: &crate::cabinet::Cabinet,
    tx: &mut crate::store::Conn,
    ctx: &crate::audit::AuditContext,
    patient_id: &str,
    report: &LabReport,
    clinic_id: Option<&str>,
    source_flags: &[Option<LabFlag>],
    now: i64,
) -> Result<(String, Vec<LabResult>)> {
    let report_id = uuid::Uuid::now_v7().to_string();
    let vault = Vault::open(cab, tx, ctx, patient_id, Action::Create, "lab_report", Some(&report_id), now).await?;
    let (title, out, rows) = report_rows(&vault, &report_id, patient_id, report, clinic_id, source_flags, now)?;
    let mut batch = crate::store::rows::Rows::default();
    for row in rows {
        batch.push(row);
    }
    batch.write(tx).await?;
    Ok((title, out))
}

/// The `lab_results` rows of a report (checked; bodies sealed in `vault`), with the report's
/// title and the results as read back.
#[allow(clippy::type_complexity)]
pub(crate) fn report_rows(
    vault: &Vault,
    report_id: &str,
    patient_id: &str,
    report: &LabReport,
    clinic_id: Option<&str>,
    source_flags: &[Option<LabFlag>],
    now: i64,
) -> Result<(String, Vec<LabResult>, Vec<crate::store::rows::Row>)> {
    let title = crate::directory::text_field("title", &report.title, 300)?;
    let laboratory = crate::directory::text_field("laboratory", &report.laboratory, 300)?;
    if report.results.is_empty() {
        return Err(ValidationError::new("results", Reason::Empty).into());
    }
    let inputs = report.results.iter().map(|r| validate(r, report.issued_at)).collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(inputs.len());
    let mut rows = Vec::with_capacity(inputs.len());
    for (position, input) in inputs.into_iter().enumerate() {
        let id = uuid::Uuid::now_v7().to_string();
        let flag = flag(&input).or_else(|| source_flags.get(position).copied().flatten());
        let body = Body { report_title: title.clone(), laboratory: laboratory.clone(), input, flag };
        rows.push(crate::store::rows::Row::new(
            "lab_results",
            &[
                "id",
                "report_id",
                "patient_id",
                "clinic_id",
                "sampled_at",
                "issued_at",
                "position",
                "body",
                "created_at",
            ],
            vec![
                id.as_str().into(),
                report_id.into(),
                patient_id.into(),
                clinic_id.into(),
                to_micros(body.input.sampled_at).into(),
                to_micros(report.issued_at).into(),
                i64::try_from(position).unwrap_or(i64::MAX).into(),
                vault.seal("lab_results", &id, "body", &body)?.into(),
                now.into(),
            ],
        ));
        out.push(result_from(id, report_id.to_owned(), body, report.issued_at));
    }
    Ok((title, out, rows))
}

/// Every result of a patient (oldest report first), read with `vault`.
pub(crate) async fn load_all(tx: &mut crate::store::Conn, vault: &Vault, patient_id: &str) -> Result<Vec<LabResult>> {
    let rows = store::results(&mut *tx, store::Which::AllOf(patient_id)).await?;
    rows.into_iter().map(|r| open_result(vault, r)).collect()
}

/// A stored result opened with the patient's `vault`.
fn open_result(vault: &Vault, r: store::ResultRow) -> Result<LabResult> {
    let body: Body = vault.open_json("lab_results", &r.id, "body", &r.body)?;
    Ok(result_from(r.id, r.report_id, body, from_micros(r.issued_at)?))
}

fn result_from(id: String, report_id: String, body: Body, issued_at: OffsetDateTime) -> LabResult {
    let reference_range = reference_range(&body.input);
    let LabResultInput { test_name, code, value, value_text, unit, range_low, range_high, range_text, sampled_at } =
        body.input;
    LabResult {
        id,
        report_id,
        report_title: body.report_title,
        laboratory: body.laboratory,
        test_name,
        code,
        value,
        value_text,
        unit,
        range_low,
        range_high,
        range_text,
        sampled_at,
        reference_range,
        flag: body.flag,
        issued_at,
    }
}

/// The signed-in patient's (or ward's) lab results.
#[derive(Debug, Clone)]
pub struct Labs {
    me: Me,
}

impl Labs {
    pub(crate) fn new(me: Me) -> Self {
        Labs { me }
    }

    /// The report a result belongs to, as a PDF with every result, range and flag (R9).
    /// Journaled as an export.
    pub async fn report_pdf(&self, result_id: &str) -> Result<Vec<u8>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("labs").await?;
        let now = to_micros(cab.now());
        let report_id = store::report_of(cab.store().pool(), result_id, &patient_id).await?;
        let report_id = report_id.ok_or(Error::NotFound { entity: "lab_result" })?;
        let mut tx = cab.store().begin().await?;
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Export,
            "lab_report",
            Some(&report_id),
            now,
        )
        .await?;
        let rows = store::results(&mut *tx, store::Which::Report(&report_id)).await?;
        let results = rows.into_iter().map(|r| open_result(&vault, r)).collect::<Result<Vec<_>>>()?;
        let person = crate::patients::Patients::new(cab.clone(), self.me.audit_context().clone())
            .read_in(&mut tx, &patient_id, now)
            .await?;
        // In the patient's language, times at the patient's clinic (R17, R9).
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let zone = crate::certificates::issuing_zone(&mut tx, &patient_id).await?;
        tx.commit().await?;
        crate::certificates::lab_report_pdf(locale, &person, &results, &zone)
    }

    /// Results sampled at or after `since`, newest first (each view journaled).
    pub async fn results(&self, since: Option<OffsetDateTime>) -> Result<Vec<LabResult>> {
        Ok(self.select(since, None, i64::MAX - 1).await?.items)
    }

    /// One page of [`Labs::results`]: at most `limit` results (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn results_page(
        &self,
        since: Option<OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<LabResultPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 4, 3)).transpose()?;
        self.select(since, after.as_ref(), limit).await
    }

    async fn select(
        &self,
        since: Option<OffsetDateTime>,
        after: Option<&crate::paging::Cursor>,
        limit: i64,
    ) -> Result<LabResultPage> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("labs").await?;
        let mut work =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "lab_result", None).await?;
        // The list's order with the report as the tie-breaker: (sampled, issued, report, position).
        let after = after.map(|c| (c.ints[0], c.ints[1], c.ints[2], c.texts[0].as_str()));
        let since = since.map_or(i64::MIN, to_micros);
        let which = store::Which::Page { patient_id: &patient_id, since, after, limit: limit.saturating_add(1) };
        let rows = store::results(&mut *work.tx, which).await?;
        let (rows, next_cursor) = crate::paging::split(rows, limit, |r| {
            Ok::<_, Error>(vec![
                r.sampled_at.to_string(),
                r.issued_at.to_string(),
                r.position.to_string(),
                r.report_id.clone(),
            ])
        })?;
        let items = rows.into_iter().map(|r| open_result(&work.vault, r)).collect::<Result<Vec<_>>>()?;
        work.commit().await?;
        Ok(LabResultPage { items, next_cursor })
    }
}
