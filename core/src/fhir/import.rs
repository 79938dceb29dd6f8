//! Import: check the whole input, then write it in one transaction.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::OffsetDateTime;

use super::ImportReport;
use super::clinical::{Clinical, clinical};
use super::read::{Entry, bad, bump, entries, new_patient, parse_time, ref_key, sq, text_of};
use crate::audit::AuditContext;
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::labs::{LabReport, LabResultInput};
use crate::patients::{NewPatient, Patients};
use crate::store::Conn;
use crate::timeutil::to_micros;

/// Imports a FHIR R4 bundle (transaction, batch or collection) or a single resource.
pub(crate) async fn import(cab: &Cabinet, json_text: &str) -> Result<ImportReport> {
    let root: Value = serde_json::from_str(json_text).map_err(|_| bad("$", "json"))?;
    let list = entries(&root)?;
    let now_t = cab.now();
    let today = now_t.date();
    let now = to_micros(now_t);
    let ctx = AuditContext::system();
    // Check everything first: nothing is written unless the whole input is good.
    let mut patients = Vec::new();
    let mut clinicals = Vec::new();
    // DiagnosticReports first: they name, date and group the Observations they list.
    let mut report_titles: HashMap<String, (String, String, Option<OffsetDateTime>, String)> = HashMap::new();
    for e in list.iter().filter(|e| e.resource["resourceType"] == "DiagnosticReport") {
        let title = text_of(&e.resource["code"]).unwrap_or_else(|| "—".into());
        let lab = e.resource["performer"][0]["display"].as_str().unwrap_or("—").to_owned();
        let when = ["effectiveDateTime", "issued"]
            .iter()
            .find(|k| e.resource[**k].is_string())
            .map(|k| parse_time(&e.resource[*k], &format!("{}.{k}", e.path)))
            .transpose()?;
        for r in e.resource["result"].as_array().into_iter().flatten() {
            if let Some(reference) = r["reference"].as_str() {
                let group = e.key.clone().unwrap_or_else(|| e.path.clone());
                report_titles.insert(ref_key(reference), (title.clone(), lab.clone(), when, group));
            }
        }
    }
    let mut report = ImportReport::default();
    for e in &list {
        let kind = e.resource["resourceType"].as_str().unwrap_or_default().to_owned();
        let report_time = e.key.as_ref().and_then(|k| report_titles.get(k)).and_then(|t| t.2);
        match kind.as_str() {
            "Patient" => patients.push((e, new_patient(e.resource, &e.path)?)),
            "DiagnosticReport" => {}
            _ => match clinical(e.resource, &e.path, today, report_time)? {
                Some(c) => {
                    let subject = e.resource["subject"]["reference"]
                        .as_str()
                        .or_else(|| e.resource["patient"]["reference"].as_str())
                        .ok_or_else(|| bad(&format!("{}.subject", e.path), "missing"))?;
                    clinicals.push((e, kind.clone(), ref_key(subject), c));
                }
                None => bump(&mut report.unsupported, &kind),
            },
        }
    }
    let mut tx = cab.store().begin().await?;
    #[allow(clippy::type_complexity)] // (patient, group) → (title, laboratory, issued, results, path)
    let mut groups: BTreeMap<
        (String, String),
        (String, String, Option<OffsetDateTime>, Vec<(String, LabResultInput)>, String),
    > = BTreeMap::new();
    let people = Patients::new(cab.clone(), ctx.clone());
    let mut local: HashMap<String, String> = HashMap::new();
    for (e, new) in patients {
        let (id, created) = match_patient(cab, &mut tx, &people, e, &new, now_t).await?;
        if let Some(k) = &e.key {
            local.insert(k.clone(), id.clone());
            remember(&mut tx, k, "patient", &id, Some(&id), now).await?;
        }
        bump(if created { &mut report.created } else { &mut report.unchanged }, "Patient");
        if !report.patient_ids.contains(&id) {
            report.patient_ids.push(id);
        }
    }
    for (e, kind, subject, c) in clinicals {
        let patient_id = match local.get(&subject) {
            Some(id) => id.clone(),
            None => known(&mut tx, &subject).await?.ok_or_else(|| bad(&format!("{}.subject", e.path), "reference"))?,
        };
        if !report.patient_ids.contains(&patient_id) {
            report.patient_ids.push(patient_id.clone());
        }
        let source = e.key.clone().unwrap_or_else(|| format!("{kind}/{}", uuid::Uuid::now_v7()));
        if seen(&mut tx, &source, e.resource["id"].as_str()).await? {
            bump(&mut report.unchanged, &kind);
            continue;
        }
        let local_id = match c {
            Clinical::Item(data) => {
                let data = data.validate(today).map_err(|err| match err {
                    Error::Validation(v) => bad(&format!("{}.{}", e.path, v.field), v.reason.as_str()),
                    other => other,
                })?;
                crate::records::insert_item(cab, &mut tx, &ctx, &patient_id, &data, (None, "fhir-import"), now).await?
            }
            Clinical::Lab(input, issued) => {
                // Observations of one DiagnosticReport are stored as one report, below.
                let (title, laboratory, group) = report_titles
                    .get(&source)
                    .map(|t| (t.0.clone(), t.1.clone(), t.3.clone()))
                    .unwrap_or_else(|| (input.test_name.clone(), "—".into(), source.clone()));
                let g = groups
                    .entry((patient_id.clone(), group))
                    .or_insert_with(|| (title, laboratory, None, Vec::new(), e.path.clone()));
                g.2 = g.2.max(issued.map(|i| i.max(input.sampled_at)).or(Some(input.sampled_at)));
                g.3.push((source, input));
                continue;
            }
        };
        remember(&mut tx, &source, &kind, &local_id, Some(&patient_id), now).await?;
        bump(&mut report.created, &kind);
    }
    for ((patient_id, _), (title, laboratory, issued, results, path)) in groups {
        let sampled = results.iter().map(|r| r.1.sampled_at).max();
        let issued_at = issued.or(sampled).ok_or_else(|| bad(&path, "missing"))?;
        let lab = LabReport { title, laboratory, issued_at, results: results.iter().map(|r| r.1.clone()).collect() };
        let (_, stored) = crate::labs::insert_report(cab, &mut tx, &ctx, &patient_id, &lab, None, now).await.map_err(
            |err| match err {
                Error::Validation(v) => bad(&format!("{path}.{}", v.field), v.reason.as_str()),
                other => other,
            },
        )?;
        for ((source, _), result) in results.iter().zip(stored) {
            remember(&mut tx, source, "Observation", &result.id, Some(&patient_id), now).await?;
            bump(&mut report.created, "Observation");
        }
    }
    tx.commit().await.map_err(sq)?;
    Ok(report)
}

async fn match_patient(
    cab: &Cabinet,
    tx: &mut Conn,
    people: &Patients,
    e: &Entry<'_>,
    new: &NewPatient,
    now: OffsetDateTime,
) -> Result<(String, bool)> {
    if let Some(k) = &e.key
        && let Some(id) = known(tx, k).await?
    {
        return Ok((id, false));
    }
    // Kabinet's own export: the id is the local patient id.
    if let Some(id) = e.resource["id"].as_str() {
        let mine: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(sq)?;
        if let Some(id) = mine {
            return Ok((id, false));
        }
    }
    let bidx = cab.blind_indexer();
    let by_identifier = match (&new.snils, &new.oms_policy) {
        (Some(s), _) => Some((
            "SELECT id FROM patients WHERE snils_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Snils,
                &crate::ids::snils(s).map_err(|v| bad(&format!("{}.identifier", e.path), v.reason.as_str()))?,
            ),
        )),
        (None, Some(o)) => Some((
            "SELECT id FROM patients WHERE enp_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Enp,
                &crate::ids::enp(o).map_err(|v| bad(&format!("{}.identifier", e.path), v.reason.as_str()))?,
            ),
        )),
        _ => None,
    };
    if let Some((sql, index)) = by_identifier {
        let found: Option<String> = sqlx::query_scalar(sql).bind(index).fetch_optional(&mut *tx).await.map_err(sq)?;
        if let Some(id) = found {
            let existing = people.read_in(tx, &id, to_micros(now)).await?;
            let fold = crate::directory::fold;
            if fold(&existing.surname) != fold(&new.surname) || existing.birth_date != new.birth_date {
                return Err(Error::Conflict { code: "fhir.patient_mismatch" });
            }
            return Ok((id, false));
        }
    }
    let id = people.insert(tx, new, now).await.map_err(|err| match err {
        Error::Validation(v) => bad(&format!("{}.{}", e.path, v.field), v.reason.as_str()),
        other => other,
    })?;
    Ok((id, true))
}

async fn known(tx: &mut Conn, source: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT local_id FROM fhir_sources WHERE source = $1")
        .bind(source)
        .fetch_optional(&mut *tx)
        .await
        .map_err(sq)
}

/// Whether a clinical resource was imported before (by source) or is Kabinet's own record.
async fn seen(tx: &mut Conn, source: &str, id: Option<&str>) -> Result<bool> {
    if known(tx, source).await?.is_some() {
        return Ok(true);
    }
    let Some(id) = id else { return Ok(false) };
    let own: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM medical_items WHERE id = $1 UNION SELECT 1 FROM lab_results WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(sq)?;
    Ok(own.is_some())
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
        .map_err(sq)?;
    Ok(())
}
