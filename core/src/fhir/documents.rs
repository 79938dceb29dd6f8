//! DocumentReference (+ Binary) to stored documents. The content comes inline
//! (`attachment.data`) or from a Binary of the same input that `attachment.url` names; it
//! is checked from its bytes exactly as an upload is (`documents::sniff`, plain text only
//! when declared so), then sealed with the patient's key. A DocumentReference whose content
//! is not in the input cannot be stored and is counted as unsupported.

use std::collections::HashSet;

use base64::Engine;
use serde_json::Value;
use time::Date;

use super::import::{Writer, at_path, subject_of};
use super::read::{Entry, Input, bad, parse_date, text_of};
use crate::documents::{DocumentKind, DocumentMeta, NewDocument, sniff};
use crate::error::Result;

/// LOINC document types with a Kabinet kind of their own; others are `other`.
const KINDS_BY_LOINC: &[(&str, DocumentKind)] = &[
    ("11502-2", DocumentKind::LabResult),
    ("18842-5", DocumentKind::Extract),
    ("57133-1", DocumentKind::Referral),
    ("11488-4", DocumentKind::Conclusion),
];

struct DocumentPlan<'a> {
    index: usize,
    binary: Option<usize>,
    subject: &'a str,
    kind: DocumentKind,
    filename: String,
    content: Vec<u8>,
    format: sniff::Format,
    meta: DocumentMeta,
}

/// The documents of an input, checked; and the Binaries they use.
pub(super) struct DocumentsPlan<'a> {
    documents: Vec<DocumentPlan<'a>>,
    used: HashSet<usize>,
    unplaced: Vec<usize>,
}

impl DocumentsPlan<'_> {
    /// Whether an entry is a DocumentReference or a Binary one of them uses.
    pub fn handles(&self, e: &Entry<'_>) -> bool {
        e.kind == "DocumentReference" || self.used.contains(&e.index)
    }
}

fn kind_of(r: &Value) -> DocumentKind {
    let codes: Vec<&str> = [&r["type"], &r["category"][0]]
        .iter()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .filter_map(|c| c["code"].as_str())
        .collect();
    KINDS_BY_LOINC.iter().find(|(loinc, _)| codes.contains(loinc)).map_or(DocumentKind::Other, |(_, kind)| *kind)
}

fn decode(data: &str, path: &str) -> Result<Vec<u8>> {
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| bad(path, "format"))
}

/// Checks every DocumentReference of the input; writes nothing.
pub(super) fn plan<'a>(input: &Input<'a>, max_bytes: usize, today: Date) -> Result<DocumentsPlan<'a>> {
    let mut plan = DocumentsPlan { documents: Vec::new(), used: HashSet::new(), unplaced: Vec::new() };
    for e in input.of_kind("DocumentReference") {
        let r = e.resource;
        let attachment = &r["content"][0]["attachment"];
        let path = e.at("content[0].attachment");
        let binary = attachment["url"].as_str().and_then(|u| input.find(u)).filter(|b| b.kind == "Binary");
        let (data, declared, data_path) = match (attachment["data"].as_str(), binary) {
            (Some(d), _) => (d, attachment["contentType"].as_str(), format!("{path}.data")),
            (None, Some(b)) => {
                plan.used.insert(b.index);
                let d = b.resource["data"].as_str().ok_or_else(|| bad(&b.at("data"), "missing"))?;
                (d, b.resource["contentType"].as_str().or(attachment["contentType"].as_str()), b.at("data"))
            }
            (None, None) => {
                plan.unplaced.push(e.index);
                continue;
            }
        };
        if r["status"] == "entered-in-error" {
            plan.unplaced.push(e.index);
            continue;
        }
        let bytes = decode(data, &data_path)?;
        let (format, content) =
            sniff::check_declared(&bytes, declared.unwrap_or_default(), max_bytes).map_err(at_path(&e.path))?;
        let title = attachment["title"].as_str().or(r["description"].as_str()).unwrap_or("document");
        let title: String = title.chars().filter(|c| !matches!(c, '/' | '\\' | '\0')).take(200).collect();
        let filename = if title.contains('.') { title } else { format!("{title}.{}", format.extension()) };
        let filename = sniff::safe_filename(&filename, format);
        sniff::check_name(&filename, format).map_err(at_path(&e.path))?;
        let created_on = [&attachment["creation"], &r["date"], &r["context"]["period"]["start"]]
            .into_iter()
            .find(|v| v.is_string())
            .map(|v| parse_date(v, &e.at("date")))
            .transpose()?
            .unwrap_or(today)
            .min(today);
        let institution = r["custodian"]["display"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| text_of(&r["context"]["practiceSetting"]))
            .unwrap_or_else(|| "—".into());
        plan.documents.push(DocumentPlan {
            index: e.index,
            binary: binary.filter(|_| attachment["data"].is_null()).map(|b| b.index),
            subject: subject_of(e)?,
            kind: kind_of(r),
            filename,
            content,
            format,
            meta: DocumentMeta { created_on, institution, study_type: text_of(&r["type"]) },
        });
    }
    Ok(plan)
}

impl DocumentsPlan<'_> {
    /// Stores the documents (sealed, journaled) for their patients.
    pub async fn write(&self, input: &Input<'_>, w: &mut Writer<'_>) -> Result<()> {
        for &i in &self.unplaced {
            w.unsupported(&input.entries[i]);
        }
        for d in &self.documents {
            let e = &input.entries[d.index];
            let patient_id = w.patient(input, d.subject, &e.at("subject")).await?;
            if let Some(k) = &e.key
                && w.held(k, e.resource["id"].as_str(), &patient_id, &e.path).await?
            {
                w.count(e, false);
                if let Some(b) = d.binary {
                    w.count(&input.entries[b], false);
                }
                continue;
            }
            let new = NewDocument {
                patient_id: &patient_id,
                kind: d.kind,
                filename: &d.filename,
                content: &d.content,
                content_type: d.format.mime(),
                meta: &d.meta,
                clinic_id: None,
                author_id: "fhir-import",
            };
            let info = crate::documents::store(w.cab, &mut w.tx, &w.ctx, new, w.now).await.map_err(at_path(&e.path))?;
            w.remember(e.key.as_deref(), "document", &info.id, Some(&patient_id)).await?;
            w.count(e, true);
            if let Some(b) = d.binary {
                w.remember(input.entries[b].key.as_deref(), "document", &info.id, Some(&patient_id)).await?;
                w.count(&input.entries[b], true);
            }
        }
        Ok(())
    }
}
