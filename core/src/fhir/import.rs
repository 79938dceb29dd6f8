//! Import: check the whole input, then write it in one transaction — the directory first
//! (clinics, practitioners, slots), then patients, their records, lab reports and
//! documents, and last the appointments that need both a patient and a slot.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use time::{Date, OffsetDateTime};

use super::ImportReport;
use super::clinical::{Clinical, clinical, encounter_visit, procedures_by_encounter};
use super::read::{Entry, Input, bad, bump, mismatch, new_patient, parse_time, text_of};
use crate::audit::AuditContext;
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::labs::{LabReport, LabResultInput};
use crate::patients::{NewPatient, Patients};
use crate::store::{Conn, Tx};
use crate::timeutil::to_micros;

/// The state of one import's writes: its transaction, what it made, and the local ids of
/// the input's resources.
pub(super) struct Writer<'c> {
    pub cab: &'c Cabinet,
    pub tx: Tx,
    pub ctx: AuditContext,
    pub now: i64,
    pub today: Date,
    pub report: ImportReport,
    /// The sending system whose ids these are (`""`: unscoped).
    scope: String,
    local: HashMap<String, String>,
    /// What became of each entry, by its position in the input.
    outcomes: BTreeMap<usize, Outcome>,
}

impl Writer<'_> {
    /// The local id a key stands for: made in this import, or remembered from an earlier one.
    pub async fn resolve(&mut self, key: &str) -> Result<Option<String>> {
        if let Some(id) = self.local.get(key) {
            return Ok(Some(id.clone()));
        }
        Ok(known(&mut self.tx, &scoped(&self.scope, key)).await?.map(|k| k.0))
    }

    /// Remembers that `key` is the local record `local_id` (of `kind`), for references and
    /// for the next import of the same input.
    pub async fn remember(
        &mut self,
        key: Option<&str>,
        kind: &str,
        local_id: &str,
        patient: Option<&str>,
    ) -> Result<()> {
        if let Some(k) = key {
            self.local.insert(k.to_owned(), local_id.to_owned());
            remember(&mut self.tx, &scoped(&self.scope, k), kind, local_id, patient, self.now).await?;
        }
        Ok(())
    }

    /// Whether the entry was imported before (or earlier in this input); if so it is counted
    /// as unchanged.
    pub async fn imported_before(&mut self, e: &Entry<'_>) -> Result<bool> {
        let Some(key) = &e.key else { return Ok(false) };
        let known = self.resolve(key).await?.is_some();
        if known {
            self.count(e, false);
        }
        Ok(known)
    }

    /// Whether a record is already here — imported before under `source`, or Kabinet's own
    /// record with the resource's id coming back — noting which one it is. A record found
    /// by id that belongs to another patient than `patient_id` refuses the input
    /// (`fhir.patient_mismatch` at `path`): an id never moves data between people.
    pub async fn held(&mut self, source: &str, own_id: Option<&str>, patient_id: &str, path: &str) -> Result<bool> {
        let found = match self.local.get(source) {
            Some(id) => Some((id.clone(), Some(patient_id.to_owned()))),
            None => match known(&mut self.tx, &scoped(&self.scope, source)).await? {
                Some(k) => Some(k),
                None => own_record(&mut self.tx, own_id).await?,
            },
        };
        let Some((id, owner)) = found else { return Ok(false) };
        if owner.as_deref().is_some_and(|o| o != patient_id) {
            return Err(mismatch(path));
        }
        self.local.insert(source.to_owned(), id);
        Ok(true)
    }

    /// Counts a resource as created (`true`) or as left unchanged.
    pub fn count(&mut self, e: &Entry<'_>, created: bool) {
        bump(if created { &mut self.report.created } else { &mut self.report.unchanged }, e.kind);
        self.outcomes.insert(e.index, if created { Outcome::Created } else { Outcome::Unchanged });
    }

    /// Counts a resource Kabinet does not hold (or cannot place).
    pub fn unsupported(&mut self, e: &Entry<'_>) {
        bump(&mut self.report.unsupported, e.kind);
        self.outcomes.insert(e.index, Outcome::Unsupported);
    }

    /// The report with one line per entry: its outcome and the local record it is (made in
    /// this import, remembered from an earlier one, or Kabinet's own id coming back).
    async fn finish(mut self, input: &Input<'_>) -> Result<(Tx, ImportReport)> {
        let outcomes = std::mem::take(&mut self.outcomes);
        for (index, outcome) in outcomes {
            let e = &input.entries[index];
            let local_id = match (&e.key, outcome) {
                (_, Outcome::Unsupported) | (None, _) => None,
                (Some(key), _) => self.resolve(key).await?,
            };
            self.report.entries.push(super::ImportedEntry {
                path: e.path.clone(),
                resource_type: e.kind.to_owned(),
                source: e.key.clone(),
                outcome: outcome.as_str().to_owned(),
                local_id,
            });
        }
        Ok((self.tx, self.report))
    }

    /// Notes a patient the input concerned.
    pub fn concerns(&mut self, patient_id: &str) {
        if !self.report.patient_ids.iter().any(|p| p == patient_id) {
            self.report.patient_ids.push(patient_id.to_owned());
        }
    }

    /// The local patient a reference names; a dangling one refuses the input.
    pub async fn patient(&mut self, input: &Input<'_>, reference: &str, path: &str) -> Result<String> {
        let key = input.key(reference);
        let id = self.resolve(&key).await?.ok_or_else(|| bad(path, "reference"))?;
        self.concerns(&id);
        Ok(id)
    }
}

/// What became of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Unchanged,
    Unsupported,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Unchanged => "unchanged",
            Outcome::Unsupported => "unsupported",
        }
    }
}

/// A validation error of a mapped record, reported at the resource's JSON path.
pub(super) fn at_path(path: &str) -> impl Fn(Error) -> Error + '_ {
    move |err| match err {
        Error::Validation(v) => bad(&format!("{path}.{}", v.field), v.reason.as_str()),
        other => other,
    }
}

/// The patient reference of a clinical resource (`subject` or `patient`).
pub(super) fn subject_of<'v>(e: &Entry<'v>) -> Result<&'v str> {
    e.resource["subject"]["reference"]
        .as_str()
        .or_else(|| e.resource["patient"]["reference"].as_str())
        .ok_or_else(|| bad(&e.at("subject"), "missing"))
}

/// (title, laboratory, time, group) of the DiagnosticReport an Observation belongs to.
type ReportOf = HashMap<String, (String, String, Option<OffsetDateTime>, String)>;

fn diagnostic_reports(input: &Input<'_>) -> Result<ReportOf> {
    let mut of = ReportOf::new();
    for e in input.of_kind("DiagnosticReport") {
        let title = text_of(&e.resource["code"]).unwrap_or_else(|| "—".into());
        let lab = e.resource["performer"][0]["display"].as_str().unwrap_or("—").to_owned();
        let when = ["effectiveDateTime", "issued"]
            .iter()
            .find(|k| e.resource[**k].is_string())
            .map(|k| parse_time(&e.resource[*k], &e.at(k)))
            .transpose()?;
        for r in e.resource["result"].as_array().into_iter().flatten() {
            if let Some(reference) = r["reference"].as_str() {
                let group = e.key.clone().unwrap_or_else(|| e.path.clone());
                of.insert(input.key(reference), (title.clone(), lab.clone(), when, group));
            }
        }
    }
    Ok(of)
}

/// A clinical record to store: the entry, what it maps to, and the entries folded into it
/// (an Encounter's Conditions and Procedures).
struct Planned<'i, 'a> {
    entry: &'i Entry<'a>,
    subject: &'a str,
    record: Clinical,
    folded: Vec<&'i Entry<'a>>,
}

/// The name a source id is remembered by: scoped to its sending system when there is one
/// (unscoped names stay as earlier versions stored them).
fn scoped(scope: &str, key: &str) -> String {
    // `|` separates the scope; a key may not contain one, or an unscoped reference such as
    // `urn:hospital-a|Patient/1` would name another system's record.
    let key = key.replace('|', "%7C");
    if scope.is_empty() { key } else { format!("{scope}|{key}") }
}

/// The sending system of an import: the explicit `source`, else `Bundle.meta.source`, else
/// none. Checked like any free text (no control characters, at most 200 characters).
fn scope_of(root: &Value, source: Option<&str>) -> Result<String> {
    let named = source.or_else(|| root["meta"]["source"].as_str());
    match named {
        None => Ok(String::new()),
        Some(s) => crate::directory::text_field("source", s, 200)
            .map(|s| s.replace('|', "/"))
            .map_err(|_| bad("meta.source", "format")),
    }
}

/// Imports a FHIR R4 bundle (transaction, batch or collection) or a single resource, its
/// ids scoped to the sending system (see the module notes).
pub(crate) async fn import(cab: &Cabinet, json_text: &str, source: Option<&str>) -> Result<ImportReport> {
    let root: Value = serde_json::from_str(json_text).map_err(|_| bad("$", "json"))?;
    let scope = scope_of(&root, source)?;
    let input = Input::new(&root)?;
    let now_t = cab.now();
    let today = now_t.date();
    // Check everything first: nothing is written unless the whole input is good.
    let reports = diagnostic_reports(&input)?;
    let directory = super::directory::plan(&input)?;
    let documents = super::documents::plan(&input, cab.document_max_bytes(), today)?;
    let mut folded: HashSet<usize> = HashSet::new();
    let mut planned = Vec::new();
    let mut unsupported = Vec::new();
    let procedures_of = procedures_by_encounter(&input);
    for e in input.of_kind("Encounter") {
        let Some((visit, parts)) = encounter_visit(&input, e, &procedures_of, today)? else {
            unsupported.push(e); // planned, cancelled or entered in error: no visit
            continue;
        };
        folded.extend(parts.iter().map(|p| p.index));
        planned.push(Planned {
            entry: e,
            subject: subject_of(e)?,
            record: Clinical::Item(crate::records::ItemData::Visit(visit)),
            folded: parts,
        });
    }
    let mut patients: Vec<(&Entry<'_>, NewPatient)> = Vec::new();
    for e in &input.entries {
        if folded.contains(&e.index) || directory.handles(e) || documents.handles(e) {
            continue;
        }
        match e.kind {
            "Patient" => patients.push((e, new_patient(e.resource, &e.path)?)),
            "DiagnosticReport" | "Encounter" => {}
            _ => {
                let report_time = e.key.as_ref().and_then(|k| reports.get(k)).and_then(|t| t.2);
                match clinical(e.resource, &e.path, today, report_time)? {
                    Some(record) => planned.push(Planned { entry: e, subject: subject_of(e)?, record, folded: vec![] }),
                    None => unsupported.push(e),
                }
            }
        }
    }
    let mut w = Writer {
        cab,
        tx: cab.store().begin().await?,
        ctx: AuditContext::system(),
        now: to_micros(now_t),
        today,
        report: ImportReport::default(),
        scope,
        local: HashMap::new(),
        outcomes: BTreeMap::new(),
    };
    for e in unsupported {
        w.unsupported(e);
    }
    directory.write_directory(&input, &mut w).await?;
    let people = Patients::new(cab.clone(), w.ctx.clone());
    for (e, new) in patients {
        let (id, created) = match_patient(cab, &mut w.tx, &people, &w.scope, e, &new, now_t).await?;
        w.remember(e.key.as_deref(), "patient", &id, Some(&id)).await?;
        w.count(e, created);
        w.concerns(&id);
    }
    write_records(&input, &mut w, planned, &reports).await?;
    documents.write(&input, &mut w).await?;
    directory.write_appointments(&input, &mut w).await?;
    let (tx, report) = w.finish(&input).await?;
    tx.commit().await?;
    Ok(report)
}

/// Lab results grouped into reports: (patient, group) → (title, laboratory, issued,
/// results with their source keys, path).
type Groups = BTreeMap<
    (String, String),
    (
        String,
        String,
        Option<OffsetDateTime>,
        Vec<(String, LabResultInput, Option<&'static str>, Option<usize>)>,
        String,
    ),
>;

async fn write_records(
    input: &Input<'_>,
    w: &mut Writer<'_>,
    planned: Vec<Planned<'_, '_>>,
    reports: &ReportOf,
) -> Result<()> {
    let mut groups = Groups::new();
    for p in planned {
        let e = p.entry;
        let patient_id = w.patient(input, p.subject, &e.at("subject")).await?;
        let source = e.key.clone().unwrap_or_else(|| format!("{}/{}", e.kind, uuid::Uuid::now_v7()));
        if w.held(&source, e.resource["id"].as_str(), &patient_id, &e.path).await? {
            w.count(e, false);
            for part in &p.folded {
                w.count(part, false);
            }
            continue;
        }
        let local_id = match p.record {
            Clinical::Item(data) => {
                let data = data.validate(w.today).map_err(at_path(&e.path))?;
                crate::records::insert_item(w.cab, &mut w.tx, &w.ctx, &patient_id, &data, (None, "fhir-import"), w.now)
                    .await?
            }
            Clinical::Lab(results, issued) => {
                // Observations of one DiagnosticReport are stored as one report, below; a
                // panel's components after the first are remembered as `source#component[i]`.
                let Some(first) = results.first() else { continue };
                let (title, laboratory, group) = reports
                    .get(&source)
                    .map(|t| (t.0.clone(), t.1.clone(), t.3.clone()))
                    .unwrap_or_else(|| (first.0.test_name.clone(), "—".into(), source.clone()));
                let g = groups
                    .entry((patient_id.clone(), group))
                    .or_insert_with(|| (title, laboratory, None, Vec::new(), e.path.clone()));
                for (i, (result, interpretation)) in results.into_iter().enumerate() {
                    g.2 = g.2.max(issued.map(|t| t.max(result.sampled_at)).or(Some(result.sampled_at)));
                    let key = if i == 0 { source.clone() } else { format!("{source}#component[{i}]") };
                    g.3.push((key, result, interpretation, (i == 0).then_some(e.index)));
                }
                continue;
            }
        };
        w.remember(Some(&source), e.kind, &local_id, Some(&patient_id)).await?;
        w.count(e, true);
        for part in &p.folded {
            w.remember(part.key.as_deref(), part.kind, &local_id, Some(&patient_id)).await?;
            w.count(part, true);
        }
    }
    let mut created_reports = HashSet::new();
    for ((patient_id, group), (title, laboratory, issued, results, path)) in groups {
        let sampled = results.iter().map(|r| r.1.sampled_at).max();
        let issued_at = issued.or(sampled).ok_or_else(|| bad(&path, "missing"))?;
        let lab = LabReport { title, laboratory, issued_at, results: results.iter().map(|r| r.1.clone()).collect() };
        let flags: Vec<Option<&'static str>> = results.iter().map(|r| r.2).collect();
        let (_, stored) = crate::labs::insert_report(w.cab, &mut w.tx, &w.ctx, &patient_id, &lab, None, &flags, w.now)
            .await
            .map_err(at_path(&path))?;
        let stored_report = stored.first().map(|r| r.report_id.clone());
        for ((source, _, _, entry), result) in results.iter().zip(stored) {
            w.remember(Some(source), "Observation", &result.id, Some(&patient_id)).await?;
            if let Some(index) = entry {
                w.count(&input.entries[*index], true);
            }
        }
        if let Some(report_id) = stored_report {
            w.remember(Some(&group), "lab_report", &report_id, Some(&patient_id)).await?;
        }
        created_reports.insert(group);
    }
    // A DiagnosticReport is stored as the lab report of its results: created with them, or
    // left unchanged when they were all imported before.
    for e in input.of_kind("DiagnosticReport") {
        let group = e.key.clone().unwrap_or_else(|| e.path.clone());
        w.count(e, created_reports.contains(&group));
    }
    Ok(())
}

async fn match_patient(
    cab: &Cabinet,
    tx: &mut Conn,
    people: &Patients,
    scope: &str,
    e: &Entry<'_>,
    new: &NewPatient,
    now: OffsetDateTime,
) -> Result<(String, bool)> {
    // By id: imported before from this system, or Kabinet's own export coming back (the id
    // is the local patient id). Either way the person on file must be the same person.
    let mut by_id = None;
    if let Some(k) = &e.key {
        by_id = known(tx, &scoped(scope, k)).await?.map(|k| k.0);
    }
    if by_id.is_none()
        && let Some(id) = e.resource["id"].as_str()
    {
        by_id = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1 AND erased_at IS NULL")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    }
    if let Some(id) = by_id {
        let existing = people.read_in(tx, &id, to_micros(now)).await?;
        if !same_person(&existing, new) {
            return Err(mismatch(&e.path));
        }
        return Ok((id, false));
    }
    let bidx = cab.blind_indexer();
    let by_identifier = match (&new.snils, &new.oms_policy) {
        (Some(s), _) => Some((
            "SELECT id FROM patients WHERE snils_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Snils,
                &crate::ids::snils(s).map_err(|v| bad(&e.at("identifier"), v.reason.as_str()))?,
            ),
        )),
        (None, Some(o)) => Some((
            "SELECT id FROM patients WHERE enp_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Enp,
                &crate::ids::enp(o).map_err(|v| bad(&e.at("identifier"), v.reason.as_str()))?,
            ),
        )),
        _ => None,
    };
    if let Some((sql, index)) = &by_identifier {
        let found: Option<String> = sqlx::query_scalar(*sql).bind(index.clone()).fetch_optional(&mut *tx).await?;
        if let Some(id) = found {
            let existing = people.read_in(tx, &id, to_micros(now)).await?;
            let fold = crate::directory::fold;
            if fold(&existing.surname) != fold(&new.surname) || existing.birth_date != new.birth_date {
                return Err(mismatch(&e.path));
            }
            return Ok((id, false));
        }
    }
    if by_identifier.is_none() {
        // No SNILS or policy: the same folded name and birth date is the same person when
        // exactly one patient has them; several are refused rather than guessed between.
        let index = crate::patients::person_index(bidx, &new.surname, &new.given_name, new.birth_date);
        let found: Vec<String> =
            sqlx::query_scalar("SELECT id FROM patients WHERE person_bidx = $1 AND erased_at IS NULL LIMIT 2")
                .bind(index)
                .fetch_all(&mut *tx)
                .await?;
        match found.as_slice() {
            [] => {}
            [one] => return Ok((one.clone(), false)),
            _ => return Err(Error::Conflict { code: "fhir.patient_ambiguous" }),
        }
    }
    let id = people.insert_recorded(tx, new, now).await.map_err(at_path(&e.path))?;
    Ok((id, true))
}

/// Whether a patient on file and an incoming one are the same person: SNILS and ENP must be
/// equal where both sides have them; with no identifier on both sides, the folded surname,
/// given name and birth date must be.
fn same_person(existing: &crate::patients::Patient, new: &NewPatient) -> bool {
    let norm = |v: &Option<String>, f: fn(&str) -> std::result::Result<String, crate::ids::ValidationError>| {
        v.as_deref().and_then(|s| f(s).ok())
    };
    let pairs = [
        (existing.snils.clone(), norm(&new.snils, crate::ids::snils)),
        (existing.oms_policy.clone(), norm(&new.oms_policy, crate::ids::enp)),
    ];
    let mut compared = false;
    for (a, b) in pairs {
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                return false;
            }
            compared = true;
        }
    }
    let fold = crate::directory::fold;
    compared
        || (fold(&existing.surname) == fold(&new.surname)
            && fold(&existing.given_name) == fold(&new.given_name)
            && existing.birth_date == new.birth_date)
}

/// The local id (and its patient) remembered for a scoped source name.
pub(super) async fn known(tx: &mut Conn, source: &str) -> Result<Option<(String, Option<String>)>> {
    sqlx::query_as("SELECT local_id, patient_id FROM fhir_sources WHERE source = $1")
        .bind(source)
        .fetch_optional(&mut *tx)
        .await
        .map_err(Error::from)
}

/// Kabinet's own record with this id (an export coming back), if any, with its patient.
async fn own_record(tx: &mut Conn, id: Option<&str>) -> Result<Option<(String, Option<String>)>> {
    let Some(id) = id else { return Ok(None) };
    sqlx::query_as(
        "SELECT id, patient_id FROM medical_items WHERE id = $1 UNION SELECT id, patient_id FROM lab_results WHERE id = $1 \
         UNION SELECT id, patient_id FROM documents WHERE id = $1 UNION SELECT id, patient_id FROM appointments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::from)
}

async fn remember(
    tx: &mut Conn,
    source: &str,
    kind: &str,
    local_id: &str,
    patient: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO fhir_sources (source, local_kind, local_id, patient_id, imported_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source) DO NOTHING")
        .bind(source)
        .bind(kind)
        .bind(local_id)
        .bind(patient)
        .bind(now)
        .execute(&mut *tx)
        .await
        ?;
    Ok(())
}
