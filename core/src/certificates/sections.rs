//! The body of a certificate: each record section its kind names, in order, limited to the
//! period (allergies on file are stated whatever the period). A section with nothing in it
//! says so; a certificate whose every section is empty is `certificate.no_data`.

use time::Date;

use super::kinds::CertificateSection;
use crate::documents::pdf::Block;
use crate::error::{Error, Result};
use crate::i18n::{Locale, text};
use crate::labs::LabResult;
use crate::records::{ItemData, MedicalItem};

/// What the record holds for a certificate: medical items, and lab results when a section
/// asks for them.
pub(super) struct Sources<'a> {
    pub items: &'a [MedicalItem],
    pub labs: &'a [LabResult],
    /// The issuing clinic's zone: a lab result belongs to the day it was sampled there.
    pub zone: &'a str,
}

fn in_period(d: Date, since: Option<Date>, until: Option<Date>) -> bool {
    since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u)
}

/// The blocks of one section, or `None` when it holds nothing to state.
fn section(
    locale: Locale,
    which: CertificateSection,
    src: &Sources<'_>,
    since: Option<Date>,
    until: Option<Date>,
) -> Option<Vec<Block>> {
    let t = |k: &str| text(locale, k).to_owned();
    let dated = || src.items.iter().map(|i| &i.data).filter(move |d| in_period(d.date(), since, until));
    let mut blocks = Vec::new();
    match which {
        CertificateSection::Immunizations => {
            let rows: Vec<Vec<String>> = dated()
                .filter_map(|d| match d {
                    ItemData::Immunization(i) => Some(vec![
                        i.date.to_string(),
                        i.vaccine.clone(),
                        i.dose.clone().unwrap_or_default(),
                        i.lot.clone().unwrap_or_default(),
                    ]),
                    _ => None,
                })
                .collect();
            if rows.is_empty() {
                return None;
            }
            blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.vaccine"), t("pdf.dose"), t("pdf.lot")], rows));
        }
        CertificateSection::Visits => {
            for d in dated() {
                if let ItemData::Visit(v) = d {
                    let diagnoses =
                        v.diagnoses.iter().map(|d| format!("{} {}", d.icd10, d.text)).collect::<Vec<_>>().join("; ");
                    blocks.push(Block::Text(format!("{} — {}: {}", v.date, v.institution, diagnoses)));
                    if !v.procedures.is_empty() {
                        blocks.push(Block::Field(t("pdf.procedures"), v.procedures.join(", ")));
                    }
                }
            }
        }
        CertificateSection::Medications => {
            let rows: Vec<Vec<String>> = dated()
                .filter_map(|d| match d {
                    ItemData::Medication(m) => {
                        Some(vec![m.start.to_string(), m.name.clone(), m.dosage.clone(), m.schedule.clone()])
                    }
                    _ => None,
                })
                .collect();
            if rows.is_empty() {
                return None;
            }
            blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.drug"), t("pdf.dosage"), t("pdf.schedule")], rows));
        }
        CertificateSection::Allergies => {
            let on_file: Vec<String> = src
                .items
                .iter()
                .filter_map(|i| match &i.data {
                    ItemData::Allergy(a) => Some(format!("{} — {}", a.substance, a.reaction)),
                    _ => None,
                })
                .collect();
            if on_file.is_empty() {
                return None;
            }
            blocks.push(Block::Text(on_file.join("; ")));
        }
        CertificateSection::Screenings => {
            for d in dated() {
                if let ItemData::Screening(s) = d {
                    blocks.push(Block::Text(format!("{} {}: {}", s.date, s.name, s.result)));
                }
            }
        }
        CertificateSection::HealthCertificates => {
            for d in dated() {
                if let ItemData::Certificate(c) = d {
                    let purpose = text(locale, &format!("pdf.purpose.{}", c.purpose));
                    let valid = c.valid_until.map(|v| format!(" ({} {v})", text(locale, "pdf.valid_until")));
                    blocks.push(Block::Text(format!(
                        "{} {purpose}{}: {}",
                        c.issued_on,
                        valid.unwrap_or_default(),
                        c.conclusion
                    )));
                }
            }
        }
        CertificateSection::LabResults => {
            let rows: Vec<Vec<String>> = src
                .labs
                .iter()
                .map(|r| (crate::localtime::local(r.sampled_at, src.zone).day, r))
                .filter(|(day, _)| in_period(*day, since, until))
                .map(|(day, r)| {
                    let value = r.value.map_or_else(|| r.value_text.clone().unwrap_or_default(), |v| v.to_string());
                    let flag = r.flag.map(|f| t(&format!("pdf.flag.{f}"))).unwrap_or_default();
                    vec![
                        day.to_string(),
                        r.test_name.clone(),
                        format!("{value} {}", r.unit.clone().unwrap_or_default()).trim().to_owned(),
                        r.reference_range.clone().unwrap_or_default(),
                        flag,
                    ]
                })
                .collect();
            if rows.is_empty() {
                return None;
            }
            let header = vec![t("pdf.date"), t("pdf.test"), t("pdf.value"), t("pdf.range"), t("pdf.flag")];
            blocks.push(Block::Table(header, rows));
        }
    }
    (!blocks.is_empty()).then_some(blocks)
}

/// Every section of a certificate under its heading; `certificate.no_data` when none holds
/// anything to state.
pub(super) fn blocks(
    locale: Locale,
    sections: &[CertificateSection],
    src: &Sources<'_>,
    since: Option<Date>,
    until: Option<Date>,
) -> Result<Vec<Block>> {
    let mut out = Vec::new();
    let mut stated = false;
    for which in sections {
        out.push(Block::Heading(text(locale, &format!("pdf.section.{which}")).to_owned()));
        match section(locale, *which, src, since, until) {
            Some(body) => {
                stated = true;
                out.extend(body);
            }
            None => out.push(Block::Text(text(locale, "pdf.none").to_owned())),
        }
    }
    if stated { Ok(out) } else { Err(Error::Conflict { code: "certificate.no_data" }) }
}
