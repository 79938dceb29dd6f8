//! Certificates and extracts (R10): a medical-history extract, a health status certificate
//! and a vaccination certificate, requested by the patient, confirmed by a one-time SMS
//! code, checked for the data they need (`certificate.no_data` — say, no vaccinations for a
//! vaccination certificate), rendered as a PDF with the patient's Cyrillic name, stored as a
//! document and marked *ready*. Asking again with other parameters makes a new one.
//! Also the other PDFs of the cabinet: lab report, request correspondence, visit card and
//! attachment confirmation.

use time::{Date, OffsetDateTime};

mod store;

use crate::attachment::PendingConfirmation;
use crate::audit::{Action, AuditContext};
use crate::auth::{AuthError, codes};
use crate::cabinet::Cabinet;
use crate::documents::pdf::{Block, render};
use crate::documents::{DocumentKind, DocumentMeta, NewDocument};
use crate::error::{Error, Result};
use crate::i18n::{Locale, text};
use crate::ids::{Reason, ValidationError};
use crate::integrations::Channel;
use crate::me::Me;
use crate::medical::{Vault, date_us};
use crate::patients::{Patient, Patients};
use crate::records::{ItemData, MedicalItem};
use crate::store::Conn;
use crate::timeutil::{from_micros, to_micros};

crate::sets::closed_set! {
    /// What certificate a patient asks for (R10).
    pub enum CertificateKind in "kind" {
        /// An extract from the medical history.
        MedicalHistoryExtract = "medical_history_extract",
        /// A health status certificate (allergies, screenings).
        HealthStatus = "health_status",
        /// A vaccination certificate.
        Vaccination = "vaccination",
    }
}

crate::sets::closed_set! {
    /// Where a certificate stands.
    pub enum CertificateStatus in "status" {
        /// Waiting for the SMS code.
        Pending = "pending",
        /// Issued: its PDF is among the documents.
        Ready = "ready",
    }
}

/// A certificate or extract.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Certificate {
    /// Id.
    pub id: String,
    /// What it is.
    pub kind: CertificateKind,
    /// Pending until confirmed, then ready.
    pub status: CertificateStatus,
    /// The stored PDF, once ready.
    pub document_id: Option<String>,
    /// Period covered, if asked.
    pub since: Option<Date>,
    /// Period covered, if asked.
    pub until: Option<Date>,
    /// Requested.
    pub created_at: OffsetDateTime,
}

/// The patient block every PDF starts with.
fn person_blocks(locale: Locale, p: &Patient) -> Vec<Block> {
    let name = [Some(p.surname.as_str()), Some(p.given_name.as_str()), p.patronymic.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = vec![
        Block::Field(text(locale, "pdf.patient").into(), name),
        Block::Field(text(locale, "pdf.birth_date").into(), p.birth_date.to_string()),
    ];
    if let Some(s) = &p.snils {
        out.push(Block::Field(text(locale, "pdf.snils").into(), crate::ids::format_snils(s)));
    }
    if let Some(o) = &p.oms_policy {
        out.push(Block::Field(text(locale, "pdf.oms_policy").into(), o.clone()));
    }
    out
}

fn in_period(d: Date, since: Option<Date>, until: Option<Date>) -> bool {
    since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u)
}

/// The body of a certificate from the patient's records; `certificate.no_data` when the
/// records hold nothing it can state.
fn certificate_blocks(
    locale: Locale,
    kind: CertificateKind,
    items: &[MedicalItem],
    since: Option<Date>,
    until: Option<Date>,
) -> Result<Vec<Block>> {
    let t = |k: &str| text(locale, k).to_owned();
    let mut blocks = Vec::new();
    let chosen: Vec<&ItemData> = items.iter().map(|i| &i.data).filter(|d| in_period(d.date(), since, until)).collect();
    match kind {
        CertificateKind::Vaccination => {
            let rows: Vec<Vec<String>> = chosen
                .iter()
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
                return Err(Error::Conflict { code: "certificate.no_data" });
            }
            blocks.push(Block::Heading(t("pdf.immunizations")));
            blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.vaccine"), t("pdf.dose"), t("pdf.lot")], rows));
        }
        CertificateKind::MedicalHistoryExtract => {
            let visits: Vec<_> =
                chosen.iter().filter_map(|d| if let ItemData::Visit(v) = d { Some(v) } else { None }).collect();
            if visits.is_empty() {
                return Err(Error::Conflict { code: "certificate.no_data" });
            }
            blocks.push(Block::Heading(t("pdf.visits")));
            for v in visits {
                let diagnoses =
                    v.diagnoses.iter().map(|d| format!("{} {}", d.icd10, d.text)).collect::<Vec<_>>().join("; ");
                blocks.push(Block::Text(format!("{} — {}: {}", v.date, v.institution, diagnoses)));
                if !v.procedures.is_empty() {
                    blocks.push(Block::Field(t("pdf.procedures"), v.procedures.join(", ")));
                }
            }
            let meds: Vec<Vec<String>> = chosen
                .iter()
                .filter_map(|d| match d {
                    ItemData::Medication(m) => {
                        Some(vec![m.start.to_string(), m.name.clone(), m.dosage.clone(), m.schedule.clone()])
                    }
                    _ => None,
                })
                .collect();
            if !meds.is_empty() {
                blocks.push(Block::Heading(t("pdf.medications")));
                blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.drug"), t("pdf.dosage"), t("pdf.schedule")], meds));
            }
        }
        _ => {
            // Health status: allergies and screenings (all on file, the period limits screenings).
            let allergies: Vec<String> = items
                .iter()
                .filter_map(|i| match &i.data {
                    ItemData::Allergy(a) => Some(format!("{} — {}", a.substance, a.reaction)),
                    _ => None,
                })
                .collect();
            let screenings: Vec<String> = chosen
                .iter()
                .filter_map(|d| match d {
                    ItemData::Screening(s) => Some(format!("{} {}: {}", s.date, s.name, s.result)),
                    _ => None,
                })
                .collect();
            if allergies.is_empty() && screenings.is_empty() {
                return Err(Error::Conflict { code: "certificate.no_data" });
            }
            blocks.push(Block::Heading(t("pdf.allergies")));
            blocks.push(Block::Text(if allergies.is_empty() { t("pdf.none") } else { allergies.join("; ") }));
            blocks.push(Block::Heading(t("pdf.screenings")));
            blocks.push(Block::Text(if screenings.is_empty() { t("pdf.none") } else { screenings.join("; ") }));
        }
    }
    Ok(blocks)
}

/// The signed-in patient's certificates.
#[derive(Debug, Clone)]
pub struct Certificates {
    me: Me,
}

impl Certificates {
    pub(crate) fn new(me: Me) -> Self {
        Certificates { me }
    }

    async fn gather(&self, tx: &mut Conn, patient_id: &str, now: i64) -> Result<(Patient, Vec<MedicalItem>)> {
        let cab = self.me.cabinet();
        let person =
            Patients::new(cab.clone(), self.me.audit_context().clone()).read_in(&mut *tx, patient_id, now).await?;
        let vault =
            Vault::open(cab, tx, self.me.audit_context(), patient_id, Action::Read, "medical_items", None, now).await?;
        let items = crate::records::load_items(tx, &vault, patient_id, None).await?;
        Ok((person, items))
    }

    /// Asks for a certificate (`medical_history_extract`, `health_status`, `vaccination`) for
    /// an optional period; checks the records hold what it needs and sends an SMS code.
    pub async fn request(
        &self,
        kind: CertificateKind,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<PendingConfirmation> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("certificates").await?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(ValidationError::new("since", Reason::Format).into());
        }
        let now = to_micros(cab.now());
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = cab.store().begin().await?;
        let (person, items) = self.gather(&mut tx, &patient_id, now).await?;
        certificate_blocks(cab.locale(), kind, &items, since, until)?;
        let expires = now + crate::accounts::CODE_TTL_US;
        let (from, to) = (since.map(date_us), until.map(date_us));
        store::insert(&mut *tx, &id, &patient_id, kind.as_str(), from, to, now, expires).await?;
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "certificate", &id, &code, now + crate::accounts::CODE_TTL_US)
            .await?;
        // The code goes to whoever acts (a proxy for a child).
        let actor = if self.me.actor_patient_id()? == patient_id {
            person.phone.clone()
        } else {
            Patients::new(cab.clone(), self.me.audit_context().clone())
                .read_in(&mut tx, self.me.actor_patient_id()?, now)
                .await?
                .phone
        };
        let msg = cab.message(
            Some(&patient_id),
            "certificate_code",
            Channel::Sms,
            actor.as_deref().unwrap_or(""),
            Some(&code),
        );
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        crate::notify::deliver(cab, &out).await?;
        Ok(PendingConfirmation { id, action: "certificate".into() })
    }

    /// Confirms with the SMS code: renders the PDF, stores it as a document, marks *ready*.
    pub async fn confirm(&self, pending_id: &str, code: &str) -> Result<Certificate> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("certificates").await?;
        let now_t = cab.now();
        let now = to_micros(now_t);
        let row = store::find(cab.store().pool(), pending_id, &patient_id)
            .await?
            .ok_or(Error::NotFound { entity: "certificate" })?;
        let kind = CertificateKind::stored(&row.kind)?;
        let (since, until) = (row.period_from, row.period_until);
        let status = CertificateStatus::stored(&row.status)?;
        let expires = row.expires_at;
        if status != CertificateStatus::Pending || expires <= now {
            return Err(AuthError::CodeExpired.into());
        }
        crate::accounts::check_code(cab, "certificate", pending_id, code, now).await?;
        let since = since.map(from_micros).transpose()?.map(|t| t.date());
        let until = until.map(from_micros).transpose()?.map(|t| t.date());
        let mut tx = cab.store().begin().await?;
        // In the patient's own language (R17), issued by the clinic they are attached to, with
        // its address and code, dated in its local time (R10).
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let issuer = crate::attachment::current_clinic_in(&mut tx, &patient_id).await?;
        let (person, items) = self.gather(&mut tx, &patient_id, now).await?;
        let mut blocks = Vec::new();
        let zone = issuer.as_ref().map_or(crate::localtime::DEFAULT_TIME_ZONE, |c| c.time_zone.as_str());
        let issued = crate::localtime::local(now_t, zone);
        let institution = match &issuer {
            Some(c) => {
                blocks.push(Block::Field(text(locale, "pdf.issuer").into(), format!("{} ({})", c.name, c.code)));
                blocks.push(Block::Field(text(locale, "pdf.address").into(), c.address.clone()));
                c.name.clone()
            }
            None => text(locale, "pdf.issuer.none").to_owned(),
        };
        blocks.extend(person_blocks(locale, &person));
        if since.is_some() || until.is_some() {
            let period = format!(
                "{} — {}",
                since.map_or_else(|| "…".to_owned(), |d| d.to_string()),
                until.map_or_else(|| "…".to_owned(), |d| d.to_string())
            );
            blocks.push(Block::Field(text(locale, "pdf.period").into(), period));
        }
        blocks.extend(certificate_blocks(locale, kind, &items, since, until)?);
        let title = text(locale, &format!("pdf.title.{kind}"));
        let subtitle = format!("{} {}", text(locale, "pdf.issued"), issued.date);
        let pdf = render(title, &subtitle, locale, &blocks)?;
        let meta = DocumentMeta { created_on: issued.day, institution, study_type: None };
        let doc_kind = match kind {
            CertificateKind::MedicalHistoryExtract => DocumentKind::Extract,
            _ => DocumentKind::Certificate,
        };
        let filename = format!("{kind}-{}.pdf", issued.day);
        let doc = NewDocument {
            patient_id: &patient_id,
            kind: doc_kind,
            filename: &filename,
            content: &pdf,
            content_type: "application/pdf",
            meta: &meta,
            clinic_id: issuer.as_ref().map(|c| c.id.as_str()),
            author_id: self.me.account_id(),
        };
        let info = crate::documents::store(cab, &mut tx, self.me.audit_context(), doc, now).await?;
        if !store::ready(&mut *tx, pending_id, &info.id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        tx.commit().await?;
        Ok(Certificate {
            id: pending_id.to_owned(),
            kind,
            status: CertificateStatus::Ready,
            document_id: Some(info.id),
            since,
            until,
            created_at: from_micros(now)?,
        })
    }

    /// Certificates, newest first.
    pub async fn list(&self) -> Result<Vec<Certificate>> {
        let patient_id = self.me.patient_for("certificates").await?;
        let rows = store::of_patient(self.me.cabinet().store().pool(), &patient_id).await?;
        rows.into_iter()
            .map(|r| {
                Ok(Certificate {
                    kind: CertificateKind::stored(&r.kind)?,
                    status: CertificateStatus::stored(&r.status)?,
                    since: r.period_from.map(from_micros).transpose()?.map(|t| t.date()),
                    until: r.period_until.map(from_micros).transpose()?.map(|t| t.date()),
                    created_at: from_micros(r.created_at)?,
                    id: r.id,
                    document_id: r.document_id,
                })
            })
            .collect()
    }

    /// The PDF of a ready certificate (integrity-checked).
    pub async fn download(&self, certificate_id: &str) -> Result<Vec<u8>> {
        let patient_id = self.me.patient_for("certificates").await?;
        let doc =
            store::find(self.me.cabinet().store().pool(), certificate_id, &patient_id).await?.map(|r| r.document_id);
        let doc = doc
            .ok_or(Error::NotFound { entity: "certificate" })?
            .ok_or(Error::Conflict { code: "certificate.pending" })?;
        let (_, pdf) =
            crate::documents::read_checked(self.me.cabinet(), self.me.audit_context(), &patient_id, &doc, Action::Read)
                .await?;
        Ok(pdf)
    }
}

/// Renders and stores the attachment confirmation PDF in the caller's transaction; returns
/// the document id.
pub(crate) async fn attachment_confirmation(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &AuditContext,
    patient_id: &str,
    clinic: &crate::directory::Clinic,
    action: &str,
    now: i64,
) -> Result<String> {
    let locale = cab.locale();
    let person = Patients::new(cab.clone(), ctx.clone()).read_in(&mut *tx, patient_id, now).await?;
    let at = from_micros(now)?;
    let mut blocks = person_blocks(locale, &person);
    blocks.push(Block::Field(text(locale, "pdf.clinic").into(), format!("{} ({})", clinic.name, clinic.code)));
    blocks.push(Block::Field(text(locale, "pdf.address").into(), clinic.address.clone()));
    blocks.push(Block::Field(
        text(locale, "pdf.status").into(),
        text(locale, &format!("pdf.attachment.{action}")).into(),
    ));
    let local = crate::localtime::local(at, &clinic.time_zone);
    blocks.push(Block::Field(text(locale, "pdf.when").into(), local.text()));
    let title = text(locale, "pdf.title.attachment");
    let pdf = render(title, &format!("{} {}", text(locale, "pdf.issued"), local.date), locale, &blocks)?;
    let meta = DocumentMeta { created_on: local.day, institution: clinic.name.clone(), study_type: None };
    let filename = format!("attachment-{}.pdf", local.day);
    let doc = NewDocument {
        patient_id,
        kind: DocumentKind::Other,
        filename: &filename,
        content: &pdf,
        content_type: "application/pdf",
        meta: &meta,
        clinic_id: Some(&clinic.id),
        author_id: ctx.actor.id.as_deref().unwrap_or("system"),
    };
    Ok(crate::documents::store(cab, tx, ctx, doc, now).await?.id)
}

/// A lab report as PDF (R9): the report's results with ranges and flags.
pub(crate) fn lab_report_pdf(locale: Locale, person: &Patient, results: &[crate::labs::LabResult]) -> Result<Vec<u8>> {
    let first = results.first().ok_or(Error::NotFound { entity: "lab_result" })?;
    let mut blocks = person_blocks(locale, person);
    blocks.push(Block::Field(text(locale, "pdf.laboratory").into(), first.laboratory.clone()));
    let rows = results
        .iter()
        .map(|r| {
            let value = r.value.map_or_else(|| r.value_text.clone().unwrap_or_default(), |v| v.to_string());
            let flag = r.flag.map(|f| text(locale, &format!("pdf.flag.{f}")).to_owned()).unwrap_or_default();
            vec![
                r.sampled_at.date().to_string(),
                r.test_name.clone(),
                format!("{value} {}", r.unit.clone().unwrap_or_default()).trim().to_owned(),
                r.reference_range.clone().unwrap_or_default(),
                flag,
            ]
        })
        .collect();
    let t = |k: &str| text(locale, k).to_owned();
    blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.test"), t("pdf.value"), t("pdf.range"), t("pdf.flag")], rows));
    render(&first.report_title, &format!("{} {}", t("pdf.issued"), first.issued_at.date()), locale, &blocks)
}

/// A request's correspondence as PDF (R13).
pub(crate) fn request_pdf(locale: Locale, person: &Patient, r: &crate::requests::Request) -> Result<Vec<u8>> {
    let t = |k: &str| text(locale, k).to_owned();
    let mut blocks = person_blocks(locale, person);
    blocks.push(Block::Field(t("pdf.subject"), r.subject.clone()));
    blocks.push(Block::Field(t("pdf.status"), text(locale, &format!("request.status.{}", r.status)).into()));
    for m in &r.messages {
        let who = m.author_name.clone().unwrap_or_else(|| t(&format!("pdf.author.{}", m.author_kind)));
        blocks.push(Block::Heading(format!("{} — {}", m.at.date(), who)));
        blocks.push(Block::Text(m.text.clone()));
    }
    render(&t("pdf.title.request"), &format!("{} {}", t("pdf.created"), r.created_at.date()), locale, &blocks)
}

/// A visit card as PDF (R8).
pub(crate) fn visit_card_pdf(
    locale: Locale,
    person: &Patient,
    a: &crate::appointments::Appointment,
) -> Result<Vec<u8>> {
    let t = |k: &str| text(locale, k).to_owned();
    let mut blocks = person_blocks(locale, person);
    blocks.push(Block::Field(t("pdf.doctor"), format!("{} ({})", a.practitioner_name, a.specialization)));
    blocks.push(Block::Field(t("pdf.clinic"), format!("{}, {}", a.clinic_name, a.clinic_address)));
    blocks.push(Block::Field(t("pdf.when"), crate::localtime::local(a.starts_at, &a.clinic_time_zone).text()));
    blocks.push(Block::Field(t("pdf.confirmation_code"), a.confirmation_code.clone()));
    let docs = a
        .required_documents
        .iter()
        .map(|d| {
            crate::i18n::text_opt(locale, &format!("pdf.document.{d}"))
                .map_or_else(|| d.replace('_', " "), str::to_owned)
        })
        .collect::<Vec<_>>();
    blocks.push(Block::Field(t("pdf.bring"), docs.join(", ")));
    render(&t("pdf.title.visit_card"), a.status.as_str(), locale, &blocks)
}
