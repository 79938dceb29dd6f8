//! Certificates and extracts (R10): any kind an operator registered (six ship built in: a
//! medical-history extract, a health status certificate, a vaccination certificate, an
//! outpatient-card extract, the vaccination record and a completed preventive check-up),
//! requested by the patient for a period the kind allows, confirmed by a one-time SMS code,
//! checked for the data it states (`certificate.no_data` — say, no vaccinations for a
//! vaccination certificate), rendered as a PDF in the patient's language with the issuing
//! clinic's name, code and address, stored as a document and marked *ready*. Asking again
//! with other parameters makes a new one.
//! Also the other PDFs of the cabinet: lab report, request correspondence, visit card and
//! attachment confirmation.

use time::{Date, OffsetDateTime};

mod kinds;
mod sections;
mod store;

pub use kinds::{
    CertificateKind, CertificateKindDefinition, CertificateKindInfo, CertificatePeriod, CertificateSection,
    MAX_KIND_DAYS, MAX_TITLE_CHARS,
};

use crate::attachment::PendingConfirmation;
use crate::audit::{Access, Action, AuditContext, Outcome};
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
use crate::records::MedicalItem;
use crate::store::Conn;
use crate::timeutil::{from_micros, to_micros};

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
    /// The kind's code (a [`CertificateKind`] value for the built-in ones).
    pub kind: String,
    /// The kind's title in the patient's language.
    pub title: String,
    /// Pending until confirmed, then ready.
    pub status: CertificateStatus,
    /// The stored PDF, once ready.
    pub document_id: Option<String>,
    /// Period covered: asked for, or the kind's default.
    pub since: Option<Date>,
    /// Period covered.
    pub until: Option<Date>,
    /// Valid until (kinds with a validity), once ready.
    pub valid_until: Option<Date>,
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

/// A kind as stored, with its title in `locale`.
fn kind_info(row: store::KindRow, locale: Locale) -> Result<CertificateKindInfo> {
    let days =
        |d: Option<i32>| d.map(u32::try_from).transpose().map_err(|_| crate::store::StorageError::Corrupt("days"));
    let mut info = CertificateKindInfo {
        title: String::new(),
        sections: kinds::sections_stored(&row.sections)?,
        period: CertificatePeriod::stored(&row.period)?,
        max_period_days: days(row.max_period_days)?,
        default_period_days: days(row.default_period_days)?,
        validity_days: days(row.validity_days)?,
        document_kind: DocumentKind::stored(&row.document_kind)?,
        builtin: row.builtin,
        active: row.active,
        code: row.code,
        title_ru: row.title_ru,
        title_en: row.title_en,
    };
    info.title = info.title_in(locale).to_owned();
    Ok(info)
}

/// The kind a patient asks for: registered and offered, else `validation` on `kind`.
async fn offered_kind(tx: &mut Conn, code: &str, locale: Locale) -> Result<CertificateKindInfo> {
    let code = code.trim().to_ascii_lowercase();
    if !kinds::well_formed(&code) {
        return Err(ValidationError::new("kind", Reason::UnknownValue).into());
    }
    match store::kind_by_code(&mut *tx, &code).await? {
        Some(row) if row.active => kind_info(row, locale),
        _ => Err(ValidationError::new("kind", Reason::UnknownValue).into()),
    }
}

/// A kind's definition as it stood when a certificate was asked for: what confirmation
/// issues, whatever an operator changes meanwhile, and the title the certificate is listed by.
#[derive(serde::Serialize, serde::Deserialize)]
struct KindSnapshot {
    title_ru: String,
    title_en: String,
    sections: Vec<CertificateSection>,
    document_kind: DocumentKind,
    validity_days: Option<u32>,
}

impl KindSnapshot {
    fn of(kind: &CertificateKindInfo) -> Self {
        KindSnapshot {
            title_ru: kind.title_ru.clone(),
            title_en: kind.title_en.clone(),
            sections: kind.sections.clone(),
            document_kind: kind.document_kind,
            validity_days: kind.validity_days,
        }
    }

    /// The kind to issue by: this definition under `code` (the period rule was applied when
    /// the certificate was asked for).
    fn kind(self, code: String, locale: Locale) -> CertificateKindInfo {
        let mut info = CertificateKindInfo {
            code,
            title: String::new(),
            title_ru: self.title_ru,
            title_en: self.title_en,
            sections: self.sections,
            period: CertificatePeriod::Optional,
            max_period_days: None,
            default_period_days: None,
            validity_days: self.validity_days,
            document_kind: self.document_kind,
            builtin: false,
            active: true,
        };
        info.title = info.title_in(locale).to_owned();
        info
    }
}

/// The kind a stored certificate is issued and listed by: its snapshot, or (for one asked
/// for before kinds were data) the kind as registered now.
async fn kind_of(tx: &mut Conn, row: &store::CertificateRow, locale: Locale) -> Result<CertificateKindInfo> {
    if let Some(snapshot) = &row.kind_snapshot {
        let snapshot: KindSnapshot = serde_json::from_str(snapshot)
            .map_err(|_| crate::store::StorageError::Corrupt("certificate kind snapshot"))?;
        return Ok(snapshot.kind(row.kind.clone(), locale));
    }
    let kind = store::kind_by_code(&mut *tx, &row.kind)
        .await?
        .ok_or(crate::store::StorageError::Corrupt("certificate kind"))?;
    kind_info(kind, locale)
}

fn date_of(us: Option<i64>) -> Result<Option<Date>> {
    Ok(us.map(from_micros).transpose()?.map(|t| t.date()))
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

    /// The patient's record and, when the kind states them, lab results; each read journaled.
    async fn gather(
        &self,
        tx: &mut Conn,
        patient_id: &str,
        kind: &CertificateKindInfo,
        now: i64,
    ) -> Result<(Patient, Vec<MedicalItem>, Vec<crate::labs::LabResult>)> {
        let cab = self.me.cabinet();
        let ctx = self.me.audit_context();
        let person = Patients::new(cab.clone(), ctx.clone()).read_in(&mut *tx, patient_id, now).await?;
        let vault = Vault::open(cab, tx, ctx, patient_id, Action::Read, "medical_items", None, now).await?;
        let items = crate::records::load_items(tx, &vault, patient_id, None).await?;
        let labs = if kind.sections.contains(&CertificateSection::LabResults) {
            let vault = Vault::open(cab, tx, ctx, patient_id, Action::Read, "lab_result", None, now).await?;
            crate::labs::load_all(tx, &vault, patient_id).await?
        } else {
            Vec::new()
        };
        Ok((person, items, labs))
    }

    /// A proxy needs, besides `certificates`, the scope of every kind of data a certificate
    /// states that has its own: `labs` for lab results (R20).
    async fn may_read_sections(&self, kind: &CertificateKindInfo, patient_id: &str) -> Result<()> {
        if kind.sections.contains(&CertificateSection::LabResults) && self.me.patient_for("labs").await? != patient_id {
            return Err(Error::PermissionDenied { code: "proxy.scope" });
        }
        Ok(())
    }

    /// Journals, in a transaction of its own, the reads a refused request made.
    async fn journal_failed_read(&self, patient_id: &str, kind: &CertificateKindInfo) -> Result<()> {
        let cab = self.me.cabinet();
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let mut types = vec!["medical_items"];
        if kind.sections.contains(&CertificateSection::LabResults) {
            types.push("lab_result");
        }
        for resource_type in types {
            let what = Access { patient_id: Some(patient_id), action: Action::Read, resource_type, resource_id: None };
            cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Failure, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The kinds a patient may ask for, titled in the patient's language.
    pub async fn kinds(&self) -> Result<Vec<CertificateKindInfo>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("certificates").await?;
        let mut tx = cab.store().begin_snapshot().await?;
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let rows = store::kinds(&mut *tx).await?;
        tx.commit().await?;
        rows.into_iter().filter(|r| r.active).map(|r| kind_info(r, locale)).collect()
    }

    /// Asks for a certificate of a registered kind (a [`CertificateKind`] or any code from
    /// [`Certificates::kinds`]) for a period its rule allows; checks the records hold what it
    /// states and sends an SMS code.
    pub async fn request(
        &self,
        kind: impl AsRef<str>,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<PendingConfirmation> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("certificates").await?;
        let now_t = cab.now();
        let now = to_micros(now_t);
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = cab.store().begin().await?;
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let kind = offered_kind(&mut tx, kind.as_ref(), locale).await?;
        let zone = issuing_zone(&mut tx, &patient_id).await?;
        let zone = zone.as_str();
        let today = crate::localtime::local(now_t, zone).day;
        let (since, until) = kinds::period(&kind, since, until, today)?;
        self.may_read_sections(&kind, &patient_id).await?;
        let (person, items, labs) = self.gather(&mut tx, &patient_id, &kind, now).await?;
        let src = sections::Sources { items: &items, labs: &labs, zone };
        if let Err(e) = sections::blocks(locale, &kind.sections, &src, since, until) {
            // The reads roll back with the transaction: journal that they happened.
            drop(tx);
            self.journal_failed_read(&patient_id, &kind).await?;
            return Err(e);
        }
        let expires = now + crate::accounts::CODE_TTL_US;
        let (from, to) = (since.map(date_us), until.map(date_us));
        let snapshot = serde_json::to_string(&KindSnapshot::of(&kind))
            .map_err(|_| crate::store::StorageError::Corrupt("certificate kind snapshot"))?;
        store::insert(&mut *tx, &id, &patient_id, &kind.code, &snapshot, from, to, now, expires).await?;
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
        let status = CertificateStatus::stored(&row.status)?;
        if status != CertificateStatus::Pending || row.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
        crate::accounts::check_code(cab, "certificate", pending_id, code, now).await?;
        let (since, until) = (date_of(row.period_from)?, date_of(row.period_until)?);
        let mut tx = cab.store().begin().await?;
        // In the patient's own language (R17), issued by the clinic they are attached to, with
        // its address and code, dated in its local time (R10). The kind is issued as it was
        // when asked for, whatever an operator changed or retired since.
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let kind = kind_of(&mut tx, &row, locale).await?;
        self.may_read_sections(&kind, &patient_id).await?;
        let issuer = crate::attachment::current_clinic_in(&mut tx, &patient_id).await?;
        let (person, items, labs) = self.gather(&mut tx, &patient_id, &kind, now).await?;
        let mut blocks = Vec::new();
        let zone = issuer.as_ref().map_or(crate::localtime::DEFAULT_TIME_ZONE, |c| c.time_zone.as_str());
        let issued = crate::localtime::local(now_t, zone);
        let valid_until = kinds::valid_until(&kind, issued.day);
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
        if let Some(v) = valid_until {
            blocks.push(Block::Field(text(locale, "pdf.valid_until").into(), v.to_string()));
        }
        let src = sections::Sources { items: &items, labs: &labs, zone };
        blocks.extend(sections::blocks(locale, &kind.sections, &src, since, until)?);
        let subtitle = format!("{} {}", text(locale, "pdf.issued"), issued.date);
        let pdf = render(&kind.title, &subtitle, locale, &blocks)?;
        let meta = DocumentMeta { created_on: issued.day, institution, study_type: None };
        let filename = format!("{}-{}.pdf", kind.code, issued.day);
        let doc = NewDocument {
            patient_id: &patient_id,
            kind: kind.document_kind,
            filename: &filename,
            content: &pdf,
            content_type: "application/pdf",
            meta: &meta,
            clinic_id: issuer.as_ref().map(|c| c.id.as_str()),
            author_id: self.me.account_id(),
        };
        let info = crate::documents::store(cab, &mut tx, self.me.audit_context(), doc, now).await?;
        if !store::ready(&mut *tx, pending_id, &info.id, valid_until.map(date_us), now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        tx.commit().await?;
        Ok(Certificate {
            id: pending_id.to_owned(),
            kind: kind.code,
            title: kind.title,
            status: CertificateStatus::Ready,
            document_id: Some(info.id),
            since,
            until,
            valid_until,
            created_at: from_micros(row.created_at)?,
        })
    }

    /// Certificates, newest first (journaled as a read of the patient's certificates).
    pub async fn list(&self) -> Result<Vec<Certificate>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("certificates").await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let what = Access {
            patient_id: Some(&patient_id),
            action: Action::Read,
            resource_type: "certificate",
            resource_id: None,
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let rows = store::of_patient(&mut *tx, &patient_id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = kind_of(&mut tx, &r, locale).await?;
            out.push(Certificate {
                title: kind.title,
                status: CertificateStatus::stored(&r.status)?,
                since: date_of(r.period_from)?,
                until: date_of(r.period_until)?,
                valid_until: date_of(r.valid_until)?,
                created_at: from_micros(r.created_at)?,
                kind: r.kind,
                id: r.id,
                document_id: r.document_id,
            });
        }
        tx.commit().await?;
        Ok(out)
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

/// The time zone of the clinic the patient is attached to (Moscow when none): certificates
/// are dated, and lab results read, in it.
pub(crate) async fn issuing_zone(tx: &mut Conn, patient_id: &str) -> Result<String> {
    let issuer = crate::attachment::current_clinic_in(tx, patient_id).await?;
    Ok(issuer.map_or_else(|| crate::localtime::DEFAULT_TIME_ZONE.to_owned(), |c| c.time_zone))
}

/// The operator's registry of certificate kinds (R10).
#[derive(Debug, Clone)]
pub struct SystemCertificates {
    cab: Cabinet,
}

impl SystemCertificates {
    pub(crate) fn new(cab: Cabinet) -> Self {
        SystemCertificates { cab }
    }

    /// Registers a kind, or replaces the definition of the kind with its code (built-in ones
    /// included) and offers it again. Certificates already issued keep their PDFs. Journaled.
    pub async fn register_kind(&self, definition: CertificateKindDefinition) -> Result<CertificateKindInfo> {
        let def = kinds::check(definition)?;
        let days = |d: Option<u32>| d.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
        let sections = kinds::sections_text(&def.sections);
        let row = store::NewKind {
            code: &def.code,
            title_ru: &def.title_ru,
            title_en: &def.title_en,
            sections: &sections,
            period: def.period.as_str(),
            max_period_days: days(def.max_period_days),
            default_period_days: days(def.default_period_days),
            validity_days: days(def.validity_days),
            document_kind: def.document_kind.as_str(),
        };
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        let existed = store::kind_by_code(&mut *tx, &def.code).await?.is_some();
        store::upsert_kind(&mut *tx, &row, now).await?;
        self.journal(&mut tx, if existed { Action::Update } else { Action::Create }, &def.code, now).await?;
        let stored =
            store::kind_by_code(&mut *tx, &def.code).await?.ok_or(Error::NotFound { entity: "certificate_kind" })?;
        tx.commit().await?;
        kind_info(stored, self.cab.locale())
    }

    /// Stops offering a kind (built-in ones included); its certificates stay readable and a
    /// pending one can still be confirmed. `NotFound` for an unknown code. Journaled.
    pub async fn retire_kind(&self, code: &str) -> Result<()> {
        let now = to_micros(self.cab.now());
        let code = code.trim();
        if !kinds::well_formed(code) {
            return Err(Error::NotFound { entity: "certificate_kind" });
        }
        let mut tx = self.cab.store().begin().await?;
        if !store::retire_kind(&mut *tx, code, now).await? {
            return Err(Error::NotFound { entity: "certificate_kind" });
        }
        self.journal(&mut tx, Action::Update, code, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every kind, retired ones too, titled in the cabinet's language.
    pub async fn kinds(&self) -> Result<Vec<CertificateKindInfo>> {
        let rows = store::kinds(self.cab.store().pool()).await?;
        rows.into_iter().map(|r| kind_info(r, self.cab.locale())).collect()
    }

    async fn journal(&self, tx: &mut Conn, action: Action, code: &str, now: i64) -> Result<()> {
        let what = Access { patient_id: None, action, resource_type: "certificate_kind", resource_id: Some(code) };
        self.cab.journal().record(tx, &AuditContext::system(), what, Outcome::Success, now).await?;
        Ok(())
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

/// A lab report as PDF (R9): the report's results with ranges and flags, times in `zone`
/// (the patient's clinic) with the zone named.
pub(crate) fn lab_report_pdf(
    locale: Locale,
    person: &Patient,
    results: &[crate::labs::LabResult],
    zone: &str,
) -> Result<Vec<u8>> {
    let first = results.first().ok_or(Error::NotFound { entity: "lab_result" })?;
    let mut blocks = person_blocks(locale, person);
    blocks.push(Block::Field(text(locale, "pdf.laboratory").into(), first.laboratory.clone()));
    let rows = results
        .iter()
        .map(|r| {
            let value = r.value.map_or_else(|| r.value_text.clone().unwrap_or_default(), |v| v.to_string());
            let flag = r.flag.map(|f| text(locale, &format!("pdf.flag.{f}")).to_owned()).unwrap_or_default();
            let sampled = crate::localtime::local(r.sampled_at, zone);
            vec![
                format!("{} {}", sampled.date, sampled.time),
                r.test_name.clone(),
                format!("{value} {}", r.unit.clone().unwrap_or_default()).trim().to_owned(),
                r.reference_range.clone().unwrap_or_default(),
                flag,
            ]
        })
        .collect();
    let t = |k: &str| text(locale, k).to_owned();
    blocks.push(Block::Table(vec![t("pdf.date"), t("pdf.test"), t("pdf.value"), t("pdf.range"), t("pdf.flag")], rows));
    let issued = crate::localtime::local(first.issued_at, zone).text();
    render(&first.report_title, &format!("{} {issued}", t("pdf.issued")), locale, &blocks)
}

/// A request's correspondence as PDF (R13), times in `zone` (the request's clinic).
pub(crate) fn request_pdf(
    locale: Locale,
    person: &Patient,
    r: &crate::requests::Request,
    zone: &str,
) -> Result<Vec<u8>> {
    let t = |k: &str| text(locale, k).to_owned();
    let mut blocks = person_blocks(locale, person);
    blocks.push(Block::Field(t("pdf.subject"), r.subject.clone()));
    blocks.push(Block::Field(t("pdf.status"), text(locale, &format!("request.status.{}", r.status)).into()));
    for m in &r.messages {
        let who = m.author_name.clone().unwrap_or_else(|| t(&format!("pdf.author.{}", m.author_kind)));
        let at = crate::localtime::local(m.at, zone);
        blocks.push(Block::Heading(format!("{} {} — {who}", at.date, at.time)));
        blocks.push(Block::Text(m.text.clone()));
    }
    let created = crate::localtime::local(r.created_at, zone).text();
    render(&t("pdf.title.request"), &format!("{} {created}", t("pdf.created")), locale, &blocks)
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
