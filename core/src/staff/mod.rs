//! Clinic staff: accounts the operator provisions (always with TOTP), and the staff context
//! a staff session opens. Staff see only patients connected to their clinic (attached to it
//! or booked with it); every look-up and read is journaled under their name and role.

mod store;

use crate::audit::{Access, Action, Outcome};
use crate::auth::{password, totp};
use crate::cabinet::Cabinet;
use crate::crypto::{Aad, BlindIndexKind};
use crate::error::{Error, Result};
use crate::ids::{self, Reason, ValidationError};
use crate::me::Me;
use crate::patients::Patients;
use crate::timeutil::to_micros;

crate::sets::closed_set! {
    /// The role of a staff account; each area names the roles that may act in it.
    pub enum StaffRole in "role" {
        /// Doctor.
        Doctor = "doctor",
        /// Nurse.
        Nurse = "nurse",
        /// Registrar (front desk).
        Registrar = "registrar",
        /// Laboratory.
        Laboratory = "laboratory",
        /// Clinic administrator.
        Administrator = "administrator",
    }
}

crate::paging::page_type! {
    /// One page of the patients attached to a clinic.
    PatientRefPage of PatientRef
}

/// A member of a clinic's staff.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct StaffMember {
    /// Account id.
    pub account_id: String,
    /// The clinic they work for.
    pub clinic_id: String,
    /// Role.
    pub role: StaffRole,
    /// Full name, shown to patients in their access history.
    pub full_name: String,
}

/// What the operator provisions for a new staff member.
#[derive(Clone)]
pub struct NewStaff {
    /// The clinic.
    pub clinic_id: String,
    /// Role.
    pub role: StaffRole,
    /// Full name.
    pub full_name: String,
    /// Mobile phone (a login identifier).
    pub phone: String,
    /// E-mail (a login identifier).
    pub email: String,
    /// Initial password (policy of R4).
    pub password: String,
}

impl std::fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaff").field("clinic_id", &self.clinic_id).field("role", &self.role).finish_non_exhaustive()
    }
}

/// A provisioned staff account with its TOTP secret, to hand to the person once.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct StaffAccount {
    /// Account id.
    pub id: String,
    /// TOTP secret in base32.
    pub totp_secret_base32: String,
    /// `otpauth://` URI for a QR code.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffAccount").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Loads the staff record of an account.
pub(crate) async fn member(cab: &Cabinet, account_id: &str) -> Result<Option<StaffMember>> {
    let row = store::member(cab.store().pool(), account_id).await?;
    row.map(|r| {
        Ok(StaffMember {
            account_id: account_id.to_owned(),
            clinic_id: r.clinic_id,
            role: StaffRole::stored(&r.role)?,
            full_name: r.full_name,
        })
    })
    .transpose()
}

/// Operator management of staff accounts.
#[derive(Debug, Clone)]
pub struct SystemStaff {
    cab: Cabinet,
}

impl SystemStaff {
    pub(crate) fn new(cab: Cabinet) -> Self {
        SystemStaff { cab }
    }

    /// Creates a staff account for a clinic. Staff always sign in with TOTP: the secret is
    /// returned once, for the person's authenticator app.
    pub async fn create(&self, new: NewStaff) -> Result<StaffAccount> {
        let cab = &self.cab;
        let role = new.role;
        let full_name = crate::directory::text_field("full_name", &new.full_name, 300)?;
        let phone = ids::phone(&new.phone)?;
        let email = ids::email(&new.email)?;
        password::check_policy(&new.password, &[full_name.as_str(), phone.as_str(), email.as_str()])?;
        if !store::clinic_exists(cab.store().pool(), &new.clinic_id).await? {
            return Err(Error::NotFound { entity: "clinic" });
        }
        let hash = cab.passwords().hash(new.password.clone()).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let secret = totp::new_secret();
        let sealed = cab
            .credentials()
            .seal(&Aad { table: "accounts", record_id: &id, field: "totp_secret", patient_id: "" }, &secret)?;
        let now = to_micros(cab.now());
        let bidx = cab.blind_indexer();
        let mut tx = cab.store().begin().await?;
        let account = store::NewStaffAccount {
            id: &id,
            phone_bidx: bidx.index(BlindIndexKind::Phone, &phone),
            email_bidx: bidx.index(BlindIndexKind::Email, &email),
            password_hash: &hash,
            totp_secret: sealed,
            locale: cab.locale().tag(),
            now,
        };
        let inserted = store::insert_account(&mut *tx, account).await;
        match inserted {
            Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "account.exists" }),
            other => other?,
        };
        store::insert_member(&mut *tx, &id, &new.clinic_id, role.as_str(), &full_name, now).await?;
        let what = Access { patient_id: None, action: Action::Create, resource_type: "staff", resource_id: Some(&id) };
        cab.journal().record(&mut tx, &crate::audit::AuditContext::system(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        Ok(StaffAccount {
            totp_secret_base32: totp::secret_base32(&secret),
            otpauth_uri: totp::otpauth_uri(&secret, "Kabinet", &email),
            id,
        })
    }
}

/// A clinic's card of a patient: name and birth date as the clinic has them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ClinicCard {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: time::Date,
}

/// Whether any clinic's card differs from the patient's own name or birth date (names
/// compared without regard to case and ё/е). Reads are journaled.
pub(crate) async fn cards_differ(me: &Me, patient: &crate::patients::Patient) -> Result<bool> {
    let cab = me.cabinet();
    let now = to_micros(cab.now());
    let mut tx = cab.store().begin().await?;
    let rows = store::cards(&mut *tx, &patient.id).await?;
    if rows.is_empty() {
        return Ok(false);
    }
    let vault = crate::medical::Vault::open(
        cab,
        &mut tx,
        me.audit_context(),
        &patient.id,
        Action::Read,
        "clinic_card",
        None,
        now,
    )
    .await?;
    let fold = crate::directory::fold;
    let mut differ = false;
    for (clinic, body) in rows {
        let card: ClinicCard = vault.open_json("clinic_cards", &format!("{}/{clinic}", patient.id), "body", &body)?;
        differ |= fold(&card.surname) != fold(&patient.surname)
            || fold(&card.given_name) != fold(&patient.given_name)
            || card.patronymic.as_deref().map(fold) != patient.patronymic.as_deref().map(fold)
            || card.birth_date != patient.birth_date;
    }
    tx.commit().await?;
    Ok(differ)
}

/// A patient as staff see them in lists.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct PatientRef {
    /// Patient id.
    pub id: String,
    /// "Surname Given Patronymic".
    pub full_name: String,
    /// Birth date.
    pub birth_date: time::Date,
}

/// Prints the id only: the name and birth date are personal data.
impl std::fmt::Debug for PatientRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRef").field("id", &self.id).finish_non_exhaustive()
    }
}

/// What a signed-in staff member can do.
#[derive(Debug, Clone)]
pub struct StaffContext {
    me: Me,
}

impl StaffContext {
    pub(crate) fn new(me: Me) -> Self {
        StaffContext { me }
    }

    /// The staff member signed in.
    pub fn member(&self) -> Result<&StaffMember> {
        self.me.staff_member()
    }

    /// Patients of the staff member's clinic.
    pub fn patients(&self) -> StaffPatients {
        StaffPatients { me: self.me.clone() }
    }

    /// Appointments at the staff member's clinic.
    pub fn appointments(&self) -> crate::appointments::ClinicAppointments {
        crate::appointments::ClinicAppointments::new(self.me.clone())
    }

    /// Medical records of the clinic's patients (doctors and nurses).
    pub fn records(&self) -> crate::records::StaffRecords {
        crate::records::StaffRecords::new(self.me.clone())
    }

    /// Correction requests about the clinic's records.
    pub fn corrections(&self) -> crate::records::StaffCorrections {
        crate::records::StaffCorrections::new(self.me.clone())
    }

    /// Putting documents into patients' cabinets.
    pub fn documents(&self) -> crate::documents::StaffDocuments {
        crate::documents::StaffDocuments::new(self.me.clone())
    }

    /// Publishing lab results.
    pub fn labs(&self) -> crate::labs::StaffLabs {
        crate::labs::StaffLabs::new(self.me.clone())
    }

    /// Requests to the clinic.
    pub fn requests(&self) -> crate::requests::StaffRequests {
        crate::requests::StaffRequests::new(self.me.clone())
    }

    /// Registering proxies for the clinic's patients.
    pub fn proxies(&self) -> crate::proxies::StaffProxies {
        crate::proxies::StaffProxies::new(self.me.clone())
    }
}

/// Patient look-ups for staff, limited to their clinic's patients.
#[derive(Debug, Clone)]
pub struct StaffPatients {
    me: Me,
}

impl StaffPatients {
    fn patients(&self) -> Patients {
        Patients::new(self.me.cabinet().clone(), self.me.audit_context().clone())
    }

    /// Whether a patient is attached to, or has a visit booked with, the staff member's clinic.
    pub(crate) async fn is_clinic_patient(cab: &Cabinet, clinic_id: &str, patient_id: &str) -> Result<bool> {
        store::is_clinic_patient(cab.store().pool(), clinic_id, patient_id).await
    }

    async fn reference(&self, patient_id: &str) -> Result<PatientRef> {
        let p = self.patients().get(patient_id).await?;
        let full_name = [Some(p.surname), Some(p.given_name), p.patronymic].into_iter().flatten().collect::<Vec<_>>();
        Ok(PatientRef { id: p.id, full_name: full_name.join(" "), birth_date: p.birth_date })
    }

    /// Finds a patient of the clinic by SNILS or OMS policy (exactly one must be given).
    /// Patients not connected to the clinic are not found (and the search is journaled).
    pub async fn find(&self, snils: Option<&str>, oms_policy: Option<&str>) -> Result<Vec<PatientRef>> {
        let clinic = self.me.live_staff().await?.clinic_id.clone();
        let found = match (snils, oms_policy) {
            (Some(s), None) => self.patients().find_by_snils(s).await?,
            (None, Some(o)) => self.patients().find_by_oms_policy(o).await?,
            (None, None) => return Err(ValidationError::new("snils", Reason::Empty).into()),
            (Some(_), Some(_)) => return Err(ValidationError::new("oms_policy", Reason::Format).into()),
        };
        match found {
            Some(id) if Self::is_clinic_patient(self.me.cabinet(), &clinic, &id).await? => {
                Ok(vec![self.reference(&id).await?])
            }
            _ => Ok(Vec::new()),
        }
    }

    /// Records the clinic's card of a patient (name and birth date as the clinic has them);
    /// the patient's completeness report flags any difference (R19). Registrars,
    /// administrators and doctors.
    pub async fn record_card(
        &self,
        patient_id: &str,
        surname: &str,
        given_name: &str,
        patronymic: Option<&str>,
        birth_date: time::Date,
    ) -> Result<()> {
        let cab = self.me.cabinet();
        let member = crate::medical::staff_for(
            &self.me,
            patient_id,
            &[StaffRole::Registrar, StaffRole::Administrator, StaffRole::Doctor],
        )
        .await?
        .clone();
        let card = ClinicCard {
            surname: ids::person_name("surname", surname)?,
            given_name: ids::person_name("given_name", given_name)?,
            patronymic: patronymic.map(|p| ids::person_name("patronymic", p)).transpose()?,
            birth_date,
        };
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let vault = crate::medical::Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            patient_id,
            Action::Update,
            "clinic_card",
            Some(&member.clinic_id),
            now,
        )
        .await?;
        let aad_id = format!("{patient_id}/{}", member.clinic_id);
        let sealed = vault.seal("clinic_cards", &aad_id, "body", &card)?;
        store::put_card(&mut tx, patient_id, &member.clinic_id, sealed, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Patients attached to the clinic, most recent attachment first.
    pub async fn attached(&self) -> Result<Vec<PatientRef>> {
        Ok(self.select_attached(None, i64::MAX - 1).await?.items)
    }

    /// One page of [`StaffPatients::attached`]: at most `limit` patients (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn attached_page(&self, limit: Option<u32>, cursor: Option<&str>) -> Result<PatientRefPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 2, 1)).transpose()?;
        self.select_attached(after.as_ref(), limit).await
    }

    async fn select_attached(&self, after: Option<&crate::paging::Cursor>, limit: i64) -> Result<PatientRefPage> {
        let clinic = self.me.live_staff().await?.clinic_id.clone();
        let after = after.map(|c| (c.ints[0], c.texts[0].as_str()));
        let rows = store::attached(self.me.cabinet().store().pool(), &clinic, after, limit.saturating_add(1)).await?;
        let (rows, next_cursor) =
            crate::paging::split(rows, limit, |(id, _, at)| Ok::<_, Error>(vec![at.to_string(), id.clone()]))?;
        let mut items = Vec::with_capacity(rows.len());
        for (_, patient_id, _) in rows {
            items.push(self.reference(&patient_id).await?);
        }
        Ok(PatientRefPage { items, next_cursor })
    }
}
