//! Import: check the whole input, prepare its rows outside the write lock, then publish
//! them in one short transaction.
//!
//! *Check*: the input is parsed and every resource mapped and validated; nothing is read
//! from the database yet. *Plan*: in a read-only snapshot, patients are matched or made,
//! their keys opened, and every patient, record, lab result and source id becomes a sealed
//! row in memory; the journal entries those keys stand on are promised (one per patient and
//! import, see [`crate::audit::PlannedEntries`]). *Publish*: one write transaction writes
//! the rows a few hundred to a statement, then the directory (clinics, practitioners,
//! slots), documents and appointments, then the promised journal entries, and commits — all
//! or nothing. A publish that finds another import got there first (a source id or an
//! identifier already taken, a patient erased meanwhile) rolls back and plans again, a few
//! times at most.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use time::{Date, OffsetDateTime};

use super::ImportReport;
use super::clinical::{Clinical, clinical, encounter_visit, procedures_by_encounter};
use super::read::{Entry, Input, bad, bump, mismatch, new_patient, parse_time, text_of};
use super::store::{self, PatientIndex};
use crate::audit::{Access, Action, AuditContext, PlannedEntries};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::labs::{LabReport, LabResultInput};
use crate::medical::Vault;
use crate::patients::{NewPatient, Patients};
use crate::store::rows::{Row, Rows, Staging};
use crate::store::{Conn, StorageError, Tx};
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
    /// Rows prepared and not yet written.
    pub rows: Rows,
    /// Source names whose rows are prepared.
    sources: HashSet<String>,
    /// Journal entries promised for the keys opened.
    journal: PlannedEntries,
    /// Each patient's key, opened once per import.
    vaults: HashMap<String, Vault>,
    /// Patients made by this import, by blind index, so that later entries find them.
    made: MadePatients,
    /// This import's id: the journal entries and staged rows name it.
    import_id: String,
    /// The rows staged so far.
    staging: Staging,
}

/// Prepared rows kept in memory before they are staged (one short write transaction each).
const STAGE_ROWS: usize = 2_000;

/// Patients made by this import, by the blind indexes a match looks them up by.
#[derive(Default)]
struct MadePatients {
    ids: HashSet<String>,
    snils: HashMap<Vec<u8>, String>,
    enp: HashMap<Vec<u8>, String>,
    /// Policy and INN indexes of the people made (each must be one person's).
    unique: HashSet<Vec<u8>>,
    person: HashMap<Vec<u8>, Vec<String>>,
    /// Name indexes of people matched or made by name and birth date alone.
    by_name: Vec<Vec<u8>>,
    /// The new people's data keys, wrapped at publish.
    keys: Vec<(String, crate::crypto::SecretKey)>,
}

impl<'c> Writer<'c> {
    /// A writer that plans in a read-only snapshot: whatever other writers commit meanwhile,
    /// the plan sees one state of the database (the publish checks it still holds).
    async fn plan(cab: &'c Cabinet, scope: String, now_t: OffsetDateTime, import_id: &str) -> Result<Writer<'c>> {
        Ok(Writer {
            cab,
            tx: cab.store().begin_snapshot().await?,
            ctx: AuditContext::system(),
            now: to_micros(now_t),
            today: now_t.date(),
            report: ImportReport::default(),
            scope,
            local: HashMap::new(),
            outcomes: BTreeMap::new(),
            rows: Rows::default(),
            sources: HashSet::new(),
            journal: PlannedEntries::default(),
            vaults: HashMap::new(),
            made: MadePatients::default(),
            import_id: import_id.to_owned(),
            staging: Staging::new(import_id, to_micros(now_t)),
        })
    }

    /// While planning, stages the prepared rows once there are enough of them.
    pub async fn stage_if_full(&mut self) -> Result<()> {
        if self.rows.len() >= STAGE_ROWS { self.stage().await } else { Ok(()) }
    }

    /// While planning, moves the prepared rows into the staging tables in one short write
    /// transaction on another connection. A pool of one connection (an in-memory database)
    /// has none to spare: its rows wait in memory for the publish.
    async fn stage(&mut self) -> Result<()> {
        if self.rows.len() == 0 {
            return Ok(());
        }
        // Never queue for a connection while holding the snapshot's: without a spare one
        // the rows wait in memory for the next try.
        let Some(mut conn) = self.cab.store().spare_connection().await else { return Ok(()) };
        let mut tx = self.cab.store().begin_on(&mut conn).await?;
        self.staging.stage(&mut tx, &mut self.rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stages what is left, ends the snapshot and takes the write lock:
    /// from here the writer publishes.
    async fn into_publish(mut self) -> Result<Writer<'c>> {
        self.stage().await?;
        let Writer {
            cab,
            tx,
            ctx,
            now,
            today,
            report,
            scope,
            local,
            outcomes,
            rows,
            sources,
            journal,
            vaults,
            made,
            import_id,
            staging,
        } = self;
        tx.rollback().await?;
        let mut tx = cab.store().begin().await?;
        let mut staging = staging;
        let mut rows = rows;
        if staging.has_rows() && rows.len() > 0 {
            // Some rows staged, the rest never got a spare connection: stage them here, so that
            // the publish copies every table whole, parents first.
            staging.stage(&mut tx, &mut rows).await?;
        }
        Ok(Writer {
            cab,
            tx,
            ctx,
            now,
            today,
            report,
            scope,
            local,
            outcomes,
            rows,
            sources,
            journal,
            vaults,
            made,
            import_id,
            staging,
        })
    }

    /// Copies the staged rows into their tables; `Ok(false)` when another writer took one
    /// of their unique values first (the import plans again).
    async fn publish_staged(&mut self) -> Result<bool> {
        let published = self.staging.publish(&mut self.tx).await.map_err(StorageError::from_sqlx);
        match published {
            Ok(whole) => Ok(whole),
            Err(e) if e.unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Commits the publish.
    async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Writes the prepared rows; `Ok(false)` when another writer took one of their unique
    /// values first (the import plans again).
    async fn write_rows(&mut self) -> Result<bool> {
        match self.rows.write(&mut self.tx).await.map_err(StorageError::from_sqlx) {
            Ok(()) => Ok(true),
            Err(e) if e.unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a patient this import matched on file was erased since it was planned. On
    /// PostgreSQL the rows are share-locked until the publish commits, so an erasure cannot
    /// slip in between this check and the commit (SQLite's write lock already excludes it).
    async fn matched_patient_erased(&mut self) -> Result<bool> {
        let for_share = self.cab.store().backend() == crate::store::Backend::Postgres;
        let mut matched: Vec<String> = self.vaults.keys().filter(|id| !self.made.ids.contains(*id)).cloned().collect();
        matched.sort(); // one lock order for every import
        for id in matched {
            if store::patient_erased(&mut *self.tx, &id, for_share).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether each person this import matched or made by name and birth date alone is
    /// still the only one with them: two imports of one person without identifiers must
    /// not both make them. On PostgreSQL a transaction lock per name index orders such
    /// publishes, so the second sees the first's row and plans again.
    async fn people_by_name_still_unique(&mut self) -> Result<bool> {
        let mut indexes: Vec<Vec<u8>> = self.made.by_name.clone();
        indexes.sort();
        indexes.dedup();
        for index in indexes {
            if self.cab.store().backend() == crate::store::Backend::Postgres {
                let mut key = [0u8; 8];
                key.copy_from_slice(index.get(..8).unwrap_or(&[0; 8]));
                store::advisory_xact_lock(&mut *self.tx, i64::from_be_bytes(key)).await?;
            }
            let n = store::count_live_by_person(&mut *self.tx, &index).await?;
            if n != 1 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes the data keys of the people this import made, wrapped now under the current
    /// KEK; `Ok(false)` on a unique violation (plan again).
    async fn write_made_keys(&mut self) -> Result<bool> {
        let mut keys = Rows::default();
        for (id, key) in &self.made.keys {
            keys.push(self.cab.keyring().patient_key_row(id, key, self.now)?);
        }
        match keys.write(&mut self.tx).await.map_err(StorageError::from_sqlx) {
            Ok(()) => Ok(true),
            Err(e) if e.unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The key of a patient's records for this import, opened once against the import's
    /// journal entry for that patient.
    async fn vault(&mut self, patient_id: &str) -> Result<&Vault> {
        if !self.vaults.contains_key(patient_id) {
            let access = Access {
                patient_id: Some(patient_id),
                action: Action::Create,
                resource_type: IMPORT_RESOURCE,
                resource_id: Some(&self.import_id),
            };
            let receipt = self.journal.promise(patient_id, access);
            let key = self.cab.keyring().patient_key(&mut self.tx, &receipt).await?;
            self.vaults.insert(patient_id.to_owned(), Vault::with_key(key, patient_id));
        }
        self.vaults.get(patient_id).ok_or(Error::NotFound { entity: "data_key" })
    }
}

/// The resource type of an import's journal entry for each patient it wrote records of.
const IMPORT_RESOURCE: &str = "fhir_import";

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
            // The first record a name is remembered for keeps it.
            let name = scoped(&self.scope, k);
            if !self.sources.contains(&name) && known(&mut self.tx, &name).await?.is_none() {
                self.rows.push(source_row(&name, kind, local_id, patient, self.now));
                self.sources.insert(name);
            }
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
    async fn finish(&mut self, input: &Input<'_>) -> Result<ImportReport> {
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
        Ok(std::mem::take(&mut self.report))
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
    let pool = cab.store().pool();
    purge_abandoned_imports(cab).await?;
    for _ in 0..PUBLISH_ATTEMPTS {
        let import_id = uuid::Uuid::now_v7().to_string();
        let outcome = attempt(cab, &input, &scope, &import_id).await;
        // Staged rows are copies; if they cannot be deleted now, the next import purges
        // them a day later.
        let _ = crate::store::rows::discard(pool, &import_id).await;
        if let Some(report) = outcome? {
            return Ok(report);
        }
    }
    Err(StorageError::Busy(sqlx::Error::Protocol("other imports kept taking the same records".into())).into())
}

/// Deletes the staged rows of imports that died before their publish (a day old).
pub(crate) async fn purge_abandoned_imports(cab: &Cabinet) -> Result<()> {
    let before = to_micros(cab.now()).saturating_sub(ABANDONED_AFTER_US);
    crate::store::rows::purge_abandoned(cab.store().pool(), before).await?;
    Ok(())
}

/// Plans made before a publish that keeps meeting other imports' records gives up
/// (`storage.busy`, retryable).
const PUBLISH_ATTEMPTS: usize = 3;

/// Staged rows older than this belong to an import that died: the next import deletes them.
const ABANDONED_AFTER_US: i64 = 24 * 3_600 * 1_000_000;

/// One plan and publish; `None` when the publish found the database changed under the plan.
async fn attempt(cab: &Cabinet, input: &Input<'_>, scope: &str, import_id: &str) -> Result<Option<ImportReport>> {
    let now_t = cab.now();
    let today = now_t.date();
    // Check everything first: nothing is written unless the whole input is good.
    let reports = diagnostic_reports(input)?;
    let directory = super::directory::plan(input)?;
    let documents = super::documents::plan(input, cab.document_max_bytes(), today)?;
    let mut folded: HashSet<usize> = HashSet::new();
    let mut planned = Vec::new();
    let mut unsupported = Vec::new();
    let procedures_of = procedures_by_encounter(input);
    for e in input.of_kind("Encounter") {
        let Some((visit, parts)) = encounter_visit(input, e, &procedures_of, today)? else {
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
    // Plan: patients and their records become rows, outside the write lock.
    let mut w = Writer::plan(cab, scope.to_owned(), now_t, import_id).await?;
    for e in unsupported {
        w.unsupported(e);
    }
    let people = Patients::new(cab.clone(), w.ctx.clone());
    for (e, new) in patients {
        let (id, created) = match_patient(&mut w, &people, e, &new, now_t).await?;
        w.remember(e.key.as_deref(), "patient", &id, Some(&id)).await?;
        w.count(e, created);
        w.concerns(&id);
        w.stage_if_full().await?;
    }
    write_records(input, &mut w, planned, &reports).await?;
    // Publish: one short write transaction.
    let mut w = w.into_publish().await?;
    let published = w.write_made_keys().await?
        && w.publish_staged().await?
        && w.write_rows().await?
        && !w.matched_patient_erased().await?
        && w.people_by_name_still_unique().await?;
    if !published {
        return Ok(None);
    }
    // The promised entries first (stamped now), then what the publish journals itself.
    let promised = std::mem::take(&mut w.journal);
    promised.append(cab.journal(), &mut w.tx, &w.ctx, to_micros(cab.now())).await?;
    directory.write_directory(input, &mut w).await?;
    documents.write(input, &mut w).await?;
    directory.write_appointments(input, &mut w).await?;
    if !w.write_rows().await? {
        return Ok(None);
    }
    let report = w.finish(input).await?;
    w.commit().await?;
    Ok(Some(report))
}

/// Lab results grouped into reports: (patient, group) → (title, laboratory, issued,
/// results with their source keys, path).
type Groups = BTreeMap<
    (String, String),
    (
        String,
        String,
        Option<OffsetDateTime>,
        Vec<(String, LabResultInput, Option<crate::labs::LabFlag>, Option<usize>)>,
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
        w.stage_if_full().await?;
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
                let id = uuid::Uuid::now_v7().to_string();
                let now = w.now;
                let vault = w.vault(&patient_id).await?;
                let row = crate::records::item_row(vault, &id, &patient_id, &data, (None, "fhir-import"), now)?;
                w.rows.push(row);
                id
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
        let flags: Vec<Option<crate::labs::LabFlag>> = results.iter().map(|r| r.2).collect();
        let report_id = uuid::Uuid::now_v7().to_string();
        let now = w.now;
        let vault = w.vault(&patient_id).await?;
        let (_, stored, rows) = crate::labs::report_rows(vault, &report_id, &patient_id, &lab, None, &flags, now)
            .map_err(at_path(&path))?;
        for row in rows {
            w.rows.push(row);
        }
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
        w.stage_if_full().await?;
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
    w: &mut Writer<'_>,
    people: &Patients,
    e: &Entry<'_>,
    new: &NewPatient,
    now: OffsetDateTime,
) -> Result<(String, bool)> {
    // By id: imported before from this system, or Kabinet's own export coming back (the id
    // is the local patient id). Either way the person on file must be the same person.
    let mut by_id = None;
    if let Some(k) = &e.key {
        by_id = w.resolve(k).await?;
    }
    if by_id.is_none()
        && let Some(id) = e.resource["id"].as_str()
    {
        by_id = store::live_patient(&mut *w.tx, id).await?;
    }
    if let Some(id) = by_id {
        if !w.made.ids.contains(&id) {
            let existing = people.read_planned(&mut w.tx, &mut w.journal, &id).await?;
            if !same_person(&existing, new) {
                return Err(mismatch(&e.path));
            }
        }
        return Ok((id, false));
    }
    let bidx = w.cab.blind_indexer();
    let by_identifier = match (&new.snils, &new.oms_policy) {
        (Some(s), _) => Some((
            PatientIndex::Snils,
            bidx.index(
                crate::crypto::BlindIndexKind::Snils,
                &crate::ids::snils(s).map_err(|v| bad(&e.at("identifier"), v.reason.as_str()))?,
            ),
            &w.made.snils,
        )),
        (None, Some(o)) => Some((
            PatientIndex::Enp,
            bidx.index(
                crate::crypto::BlindIndexKind::Enp,
                &crate::ids::enp(o).map_err(|v| bad(&e.at("identifier"), v.reason.as_str()))?,
            ),
            &w.made.enp,
        )),
        _ => None,
    };
    let has_identifier = by_identifier.is_some();
    if let Some((kind, index, made)) = by_identifier {
        if let Some(id) = made.get(&index) {
            // Made earlier in this input: the same identifier is the same person.
            return Ok((id.clone(), false));
        }
        let found = store::patient_by_index(&mut *w.tx, kind, &index).await?;
        if let Some(id) = found {
            let existing = people.read_planned(&mut w.tx, &mut w.journal, &id).await?;
            let fold = crate::directory::fold;
            if fold(&existing.surname) != fold(&new.surname) || existing.birth_date != new.birth_date {
                return Err(mismatch(&e.path));
            }
            return Ok((id, false));
        }
    } else {
        // No SNILS or policy: the same folded name and birth date is the same person when
        // exactly one patient has them; several are refused rather than guessed between.
        let index = crate::patients::person_index(bidx, &new.surname, &new.given_name, new.birth_date);
        let mut found = store::live_patients_by_person(&mut *w.tx, &index).await?;
        found.extend(w.made.person.get(&index).into_iter().flatten().cloned());
        match found.as_slice() {
            [] => {}
            [one] => {
                w.made.by_name.push(index.clone());
                return Ok((one.clone(), false));
            }
            _ => return Err(Error::Conflict { code: "fhir.patient_ambiguous" }),
        }
    }
    let made = people.plan_recorded(&mut w.journal, new, now).map_err(at_path(&e.path))?;
    // A policy number (or INN) is one person's: held by someone else — on file or earlier in
    // this input — it refuses the input at once (a new person is made only when the SNILS,
    // if any, matched no one).
    for (kind, index) in [(PatientIndex::Enp, &made.enp_bidx), (PatientIndex::Inn, &made.inn_bidx)] {
        let Some(index) = index else { continue };
        let on_file = store::patient_by_index(&mut *w.tx, kind, index).await?;
        if on_file.is_some() || !w.made.unique.insert(index.clone()) {
            return Err(Error::Conflict { code: "patient.exists" });
        }
    }
    if !has_identifier {
        w.made.by_name.push(made.person_bidx.clone());
    }
    w.rows.push(made.row);
    w.made.keys.push((made.id.clone(), made.key.clone()));
    w.made.ids.insert(made.id.clone());
    if let Some(i) = made.snils_bidx {
        w.made.snils.insert(i, made.id.clone());
    }
    if let Some(i) = made.enp_bidx {
        w.made.enp.insert(i, made.id.clone());
    }
    w.made.person.entry(made.person_bidx).or_default().push(made.id.clone());
    w.vaults.insert(made.id.clone(), Vault::with_key(made.key, &made.id));
    let access = Access {
        patient_id: Some(&made.id),
        action: Action::Create,
        resource_type: IMPORT_RESOURCE,
        resource_id: Some(&w.import_id),
    };
    let _ = w.journal.promise(&made.id, access);
    Ok((made.id, true))
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
    Ok(store::source(tx, source).await?.map(|r| (r.id, r.patient_id)))
}

/// Kabinet's own record with this id (an export coming back), if any, with its patient.
async fn own_record(tx: &mut Conn, id: Option<&str>) -> Result<Option<(String, Option<String>)>> {
    let Some(id) = id else { return Ok(None) };
    Ok(store::own_record(tx, id).await?.map(|r| (r.id, r.patient_id)))
}

/// The `fhir_sources` row remembering that `source` is the local record `local_id`.
fn source_row(source: &str, kind: &str, local_id: &str, patient: Option<&str>, now: i64) -> Row {
    Row::new(
        "fhir_sources",
        &["source", "local_kind", "local_id", "patient_id", "imported_at"],
        vec![source.into(), kind.into(), local_id.into(), patient.into(), now.into()],
    )
}
