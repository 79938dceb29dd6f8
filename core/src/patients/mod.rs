//! Patients' personal data (R1 fields), encrypted field by field under each patient's data
//! key (S2), with blind indexes for lookups by SNILS, INN, ENP, phone and e-mail, and
//! erasure by destroying the data key (crypto-shredding).

mod store;

use time::{Date, OffsetDateTime};

use crate::audit::{Access, Action, AuditContext, Outcome, PlannedEntries};
use crate::cabinet::Cabinet;
use crate::crypto::{Aad, BlindIndexKind, CryptoError, SecretKey};
use crate::error::{Error, Result};
use crate::ids::{self, Reason, Sex, ValidationError};
use crate::store::rows::Row;
use crate::store::{Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

const TABLE: &str = "patients";

/// Personal data for a new patient record. Identifiers are validated and normalized.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct NewPatient {
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Patronymic, if any.
    pub patronymic: Option<String>,
    /// Birth date (not in the future).
    pub birth_date: Date,
    /// Sex: male or female (`Unknown` only for records imported without it).
    pub sex: Sex,
    /// SNILS in any common format.
    pub snils: Option<String>,
    /// INN (12 digits for people).
    pub inn: Option<String>,
    /// OMS single policy number (ENP).
    pub oms_policy: Option<String>,
    /// Mobile phone in any common format.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

impl std::fmt::Debug for NewPatient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPatient(<personal data>)")
    }
}

/// A patient's personal data, decrypted.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Patient {
    /// Opaque id (UUID).
    pub id: String,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Patronymic.
    pub patronymic: Option<String>,
    /// Birth date.
    pub birth_date: Date,
    /// Sex.
    pub sex: Sex,
    /// SNILS, normalized.
    pub snils: Option<String>,
    /// INN, normalized.
    pub inn: Option<String>,
    /// OMS policy (ENP), normalized.
    pub oms_policy: Option<String>,
    /// Phone, E.164.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// The OMS insurer.
    pub insurer: Option<String>,
    /// Passport series and number, normalized (10 digits).
    pub passport: Option<String>,
    /// Registration address.
    pub address: Option<String>,
    /// Actual address, where the person lives.
    pub actual_address: Option<String>,
    /// When the record was created.
    pub created_at: OffsetDateTime,
}

impl Patient {
    /// The person's own data a password must not be built from (R4).
    pub(crate) fn personal_data(&self) -> Vec<String> {
        let mut out = vec![self.surname.clone(), self.given_name.clone(), self.birth_date.to_string()];
        out.extend([&self.patronymic, &self.phone, &self.email, &self.snils].into_iter().flatten().cloned());
        out
    }
}

impl std::fmt::Debug for Patient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patient").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Personal details a person may change (R18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    /// Surname.
    Surname,
    /// Given name.
    GivenName,
    /// Patronymic.
    Patronymic,
    /// Mobile phone (also a login identifier).
    Phone,
    /// E-mail (also a login identifier).
    Email,
    /// INN (12 digits; a login identifier once the identity is confirmed).
    Inn,
    /// OMS single policy number (ENP).
    OmsPolicy,
    /// The OMS insurer (the insurance company's name).
    Insurer,
    /// Passport series and number.
    Passport,
    /// Registration address (`"address"`).
    Address,
    /// Actual address, where the person lives.
    ActualAddress,
    /// SNILS (changed only through a new registry check).
    Snils,
    /// Birth date, `YYYY-MM-DD` (changed only through a new registry check).
    BirthDate,
}

/// Every changeable field, in the order a profile lists them.
pub const PROFILE_FIELDS: [ProfileField; 13] = [
    ProfileField::Surname,
    ProfileField::GivenName,
    ProfileField::Patronymic,
    ProfileField::Phone,
    ProfileField::Email,
    ProfileField::Inn,
    ProfileField::OmsPolicy,
    ProfileField::Insurer,
    ProfileField::Passport,
    ProfileField::Address,
    ProfileField::ActualAddress,
    ProfileField::Snils,
    ProfileField::BirthDate,
];

impl ProfileField {
    /// Parses a field's name (see [`ProfileField::name`]); `"registration_address"` is
    /// another name of `"address"`.
    pub fn parse(s: &str) -> Result<ProfileField, ValidationError> {
        if s == "registration_address" {
            return Ok(ProfileField::Address);
        }
        PROFILE_FIELDS
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| ValidationError::new("field", Reason::UnknownValue))
    }

    /// The field's stable name: `surname`, `given_name`, `patronymic`, `phone`, `email`,
    /// `inn`, `oms_policy`, `insurer`, `passport`, `address`, `actual_address`, `snils`,
    /// `birth_date`.
    pub fn name(self) -> &'static str {
        match self {
            ProfileField::OmsPolicy => "oms_policy",
            other => other.column(),
        }
    }

    /// The stored column (also the field name its ciphertext is bound to).
    pub(crate) fn column(self) -> &'static str {
        match self {
            ProfileField::Surname => "surname",
            ProfileField::GivenName => "given_name",
            ProfileField::Patronymic => "patronymic",
            ProfileField::Phone => "phone",
            ProfileField::Email => "email",
            ProfileField::Inn => "inn",
            ProfileField::OmsPolicy => "enp",
            ProfileField::Insurer => "insurer",
            ProfileField::Passport => "passport",
            ProfileField::Address => "address",
            ProfileField::ActualAddress => "actual_address",
            ProfileField::Snils => "snils",
            ProfileField::BirthDate => "birth_date",
        }
    }

    /// The blind-index column the field is looked up by, if any.
    pub(crate) fn index_column(self) -> Option<&'static str> {
        match self {
            ProfileField::Surname | ProfileField::GivenName | ProfileField::BirthDate => Some("person_bidx"),
            ProfileField::Phone => Some("phone_bidx"),
            ProfileField::Email => Some("email_bidx"),
            ProfileField::Inn => Some("inn_bidx"),
            ProfileField::OmsPolicy => Some("enp_bidx"),
            ProfileField::Snils => Some("snils_bidx"),
            _ => None,
        }
    }

    /// Changed only after the identity registry confirms the new value (SNILS, birth date).
    pub fn needs_registry(self) -> bool {
        matches!(self, ProfileField::Snils | ProfileField::BirthDate)
    }

    /// A contact proved by a code sent to the new value itself (phone, e-mail).
    pub fn is_contact(self) -> bool {
        matches!(self, ProfileField::Phone | ProfileField::Email)
    }

    /// Validates and normalizes a new value for this field (`today` bounds a birth date).
    pub fn normalize(self, value: &str, today: Date) -> Result<String, ValidationError> {
        match self {
            ProfileField::Phone => ids::phone(value),
            ProfileField::Email => ids::email(value),
            ProfileField::Inn => person_inn(value),
            ProfileField::OmsPolicy => ids::enp(value),
            ProfileField::Passport => ids::passport(value),
            ProfileField::Snils => ids::snils(value),
            ProfileField::Insurer => text("insurer", value, 200),
            ProfileField::Address | ProfileField::ActualAddress => text(self.name(), value, 500),
            ProfileField::BirthDate => {
                let date = Date::parse(value.trim(), time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| ValidationError::new("birth_date", Reason::Format))?;
                check_birth_date(date, today)?;
                Ok(date.to_string())
            }
            ProfileField::Surname | ProfileField::GivenName | ProfileField::Patronymic => {
                ids::person_name(self.column(), value)
            }
        }
    }

    /// The field's current value in `p`.
    pub(crate) fn value_in(self, p: &Patient) -> Option<String> {
        match self {
            ProfileField::Surname => Some(p.surname.clone()),
            ProfileField::GivenName => Some(p.given_name.clone()),
            ProfileField::Patronymic => p.patronymic.clone(),
            ProfileField::Phone => p.phone.clone(),
            ProfileField::Email => p.email.clone(),
            ProfileField::Inn => p.inn.clone(),
            ProfileField::OmsPolicy => p.oms_policy.clone(),
            ProfileField::Insurer => p.insurer.clone(),
            ProfileField::Passport => p.passport.clone(),
            ProfileField::Address => p.address.clone(),
            ProfileField::ActualAddress => p.actual_address.clone(),
            ProfileField::Snils => p.snils.clone(),
            ProfileField::BirthDate => Some(p.birth_date.to_string()),
        }
    }
}

/// Free text: no control or bidi characters, single spaces, not empty, at most `max` chars.
fn text(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    match crate::directory::text_field(field, value, max) {
        Ok(v) => Ok(v),
        Err(Error::Validation(e)) => Err(e),
        Err(_) => Err(ValidationError::new(field, Reason::Format)),
    }
}

/// A person's INN: 12 digits with valid check digits (10 digits belong to organisations).
pub(crate) fn person_inn(value: &str) -> Result<String, ValidationError> {
    let inn = ids::inn(value)?;
    if inn.len() != 12 {
        return Err(ValidationError::new("inn", Reason::Length));
    }
    Ok(inn)
}

/// A birth date is neither in the future nor more than 150 years back.
fn check_birth_date(date: Date, today: Date) -> Result<(), ValidationError> {
    if date > today {
        return Err(ValidationError::new("birth_date", Reason::Future));
    }
    if today.year() - date.year() > 150 {
        return Err(ValidationError::new("birth_date", Reason::Format));
    }
    Ok(())
}

/// One applied change of personal data.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ProfileChange {
    /// Field name.
    pub field: String,
    /// Value before.
    pub old_value: Option<String>,
    /// Value after.
    pub new_value: String,
    /// When.
    pub changed_at: OffsetDateTime,
    /// How it was confirmed (`"sms"`).
    pub confirmed_by: String,
}

impl std::fmt::Debug for ProfileChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileChange")
            .field("field", &self.field)
            .field("changed_at", &self.changed_at)
            .finish_non_exhaustive()
    }
}

/// Validated, normalized fields.
struct Checked {
    surname: String,
    given_name: String,
    patronymic: Option<String>,
    birth_date: Date,
    sex: Sex,
    snils: Option<String>,
    inn: Option<String>,
    enp: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

fn optional(
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<String, ValidationError>,
) -> Result<Option<String>, ValidationError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v).map(Some),
    }
}

/// Validates a new patient's fields without storing anything.
pub(crate) fn check_new(new: &NewPatient, today: Date) -> Result<(), ValidationError> {
    check(new, today, Sex::known).map(|_| ())
}

/// The blind index of a person by folded surname, given name and birth date (FHIR matching
/// of patients who come without SNILS or OMS policy).
pub(crate) fn person_index(
    bidx: &crate::crypto::BlindIndexer,
    surname: &str,
    given_name: &str,
    birth_date: Date,
) -> Vec<u8> {
    let fold = crate::directory::fold;
    bidx.index(BlindIndexKind::Person, &format!("{}|{}|{birth_date}", fold(surname), fold(given_name)))
}

fn check(
    new: &NewPatient,
    today: Date,
    sex: fn(Sex) -> Result<Sex, ValidationError>,
) -> Result<Checked, ValidationError> {
    check_birth_date(new.birth_date, today)?;
    let inn = optional(&new.inn, person_inn)?;
    Ok(Checked {
        surname: ids::person_name("surname", &new.surname)?,
        given_name: ids::person_name("given_name", &new.given_name)?,
        patronymic: optional(&new.patronymic, |p| ids::person_name("patronymic", p))?,
        birth_date: new.birth_date,
        sex: sex(new.sex)?,
        snils: optional(&new.snils, ids::snils)?,
        inn,
        enp: optional(&new.oms_policy, ids::enp)?,
        phone: optional(&new.phone, ids::phone)?,
        email: optional(&new.email, ids::email)?,
    })
}

/// Seals and opens the fields of one patient row.
struct RowSealer<'a> {
    key: &'a SecretKey,
    id: &'a str,
}

impl RowSealer<'_> {
    fn aad<'f>(&'f self, field: &'f str) -> Aad<'f> {
        Aad { table: TABLE, record_id: self.id, field, patient_id: self.id }
    }
    fn seal(&self, field: &str, value: &str) -> Result<Vec<u8>> {
        Ok(crate::crypto::seal(self.key, &self.aad(field), value.as_bytes())?)
    }
    fn seal_opt(&self, field: &str, value: &Option<String>) -> Result<Option<Vec<u8>>> {
        value.as_deref().map(|v| self.seal(field, v)).transpose()
    }
    fn open(&self, field: &str, blob: &[u8]) -> Result<String> {
        let plain = crate::crypto::open(self.key, &self.aad(field), blob)?;
        String::from_utf8(plain.to_vec()).map_err(|_| Error::Crypto(CryptoError::Integrity))
    }
    fn open_opt(&self, field: &str, blob: Option<Vec<u8>>) -> Result<Option<String>> {
        blob.map(|b| self.open(field, &b)).transpose()
    }
}

/// Access to patients' personal data; every call is journaled as the context's actor.
#[derive(Debug, Clone)]
pub struct Patients {
    cab: Cabinet,
    ctx: AuditContext,
}

fn access(patient_id: &str, action: Action) -> Access<'_> {
    Access { patient_id: Some(patient_id), action, resource_type: TABLE, resource_id: Some(patient_id) }
}

/// A patient prepared by [`Patients::plan_recorded`]: the row to write, the new data key
/// (for sealing their records; wrapped at publish), and the blind indexes later entries of
/// the same input are matched by.
pub(crate) struct PlannedPatient {
    pub id: String,
    pub key: SecretKey,
    pub row: Row,
    pub snils_bidx: Option<Vec<u8>>,
    pub enp_bidx: Option<Vec<u8>>,
    pub inn_bidx: Option<Vec<u8>>,
    pub person_bidx: Vec<u8>,
}

/// A patient's sealed row (`NotFound` if there is none).
async fn sealed_row(tx: &mut Conn, patient_id: &str) -> Result<store::SealedPatientRow> {
    store::sealed(tx, patient_id).await?.ok_or(Error::NotFound { entity: "patient" })
}

/// Opens a row read by [`sealed_row`] with the patient's key.
fn decode(row: store::SealedPatientRow, patient_id: &str, key: &SecretKey) -> Result<Patient> {
    let s = RowSealer { key, id: patient_id };
    let required = |blob: Option<Vec<u8>>| -> Result<Vec<u8>> {
        blob.ok_or(Error::Storage(StorageError::Corrupt("missing field")))
    };
    let birth = s.open("birth_date", &required(row.birth_date)?)?;
    let birth_date = Date::parse(&birth, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| StorageError::Corrupt("birth date"))?;
    Ok(Patient {
        id: patient_id.to_owned(),
        surname: s.open("surname", &required(row.surname)?)?,
        given_name: s.open("given_name", &required(row.given_name)?)?,
        patronymic: s.open_opt("patronymic", row.patronymic)?,
        birth_date,
        sex: Sex::parse(&s.open("sex", &required(row.sex)?)?)?,
        snils: s.open_opt("snils", row.snils)?,
        inn: s.open_opt("inn", row.inn)?,
        oms_policy: s.open_opt("enp", row.enp)?,
        phone: s.open_opt("phone", row.phone)?,
        email: s.open_opt("email", row.email)?,
        insurer: s.open_opt("insurer", row.insurer)?,
        passport: s.open_opt("passport", row.passport)?,
        address: s.open_opt("address", row.address)?,
        actual_address: s.open_opt("actual_address", row.actual_address)?,
        created_at: from_micros(row.created_at)?,
    })
}

impl Patients {
    pub(crate) fn new(cab: Cabinet, ctx: AuditContext) -> Self {
        Patients { cab, ctx }
    }

    /// Journals a failed access in its own transaction (the failed operation's transaction
    /// was rolled back); a failure to journal it is reported instead of the original error.
    async fn journal_failure(&self, patient_id: &str, action: Action, now: i64) -> Result<()> {
        let mut tx = self.cab.store().begin().await?;
        self.cab.journal().record(&mut tx, &self.ctx, access(patient_id, action), Outcome::Failure, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }

    /// Creates a patient with a fresh data key. A SNILS, INN or ENP already on file is a
    /// `Conflict("patient.exists")`: two people are never merged silently.
    pub async fn create(&self, new: NewPatient) -> Result<String> {
        let now = self.cab.now();
        check(&new, now.date(), Sex::known)?;
        let mut tx = self.cab.store().begin().await?;
        let id = self.insert(&mut tx, &new, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(id)
    }

    /// Inserts a patient inside the caller's transaction (journaled there).
    pub(crate) async fn insert(&self, tx: &mut Conn, new: &NewPatient, now: OffsetDateTime) -> Result<String> {
        self.insert_checked(tx, new, now, Sex::known, true).await
    }

    /// Inserts the record of a self-registered person: their identifiers are sealed but not
    /// indexed, so nothing can find or match the record by SNILS, INN or ENP — and the
    /// record claims no one else's — until the registry confirms the identity (R2, S5; see
    /// `auth::identity`).
    pub(crate) async fn insert_provisional(
        &self,
        tx: &mut Conn,
        new: &NewPatient,
        now: OffsetDateTime,
    ) -> Result<String> {
        self.insert_checked(tx, new, now, Sex::known, false).await
    }

    async fn insert_checked(
        &self,
        tx: &mut Conn,
        new: &NewPatient,
        now: OffsetDateTime,
        sex: fn(Sex) -> Result<Sex, ValidationError>,
        index_identifiers: bool,
    ) -> Result<String> {
        let c = check(new, now.date(), sex)?;
        let id = uuid::Uuid::new_v4().to_string();
        let receipt = self
            .cab
            .journal()
            .record(&mut *tx, &self.ctx, access(&id, Action::Create), Outcome::Success, to_micros(now))
            .await?;
        let key = self.cab.keyring().create_patient_key(&mut *tx, &receipt, to_micros(now)).await?;
        let row = self.patient_row(&id, &c, &key, index_identifiers, to_micros(now))?;
        match row.insert(tx).await.map_err(StorageError::from_sqlx) {
            Ok(()) => Ok(id),
            Err(e) if e.unique_violation() => Err(Error::Conflict { code: "patient.exists" }),
            Err(e) => Err(e.into()),
        }
    }

    /// The `patients` row of a checked patient: every field sealed under `key`, blind
    /// indexes for lookups (SNILS, INN and ENP only when `index_identifiers`).
    fn patient_row(&self, id: &str, c: &Checked, key: &SecretKey, index_identifiers: bool, now: i64) -> Result<Row> {
        let bidx = self.cab.blind_indexer();
        let idx = |kind, v: &Option<String>| v.as_deref().map(|v| bidx.index(kind, v));
        let strong = |kind, v: &Option<String>| if index_identifiers { idx(kind, v) } else { None };
        let s = RowSealer { key, id };
        let birth = c.birth_date.to_string();
        Ok(Row::new(
            TABLE,
            &[
                "id",
                "key_id",
                "surname",
                "given_name",
                "patronymic",
                "birth_date",
                "sex",
                "snils",
                "inn",
                "enp",
                "phone",
                "email",
                "snils_bidx",
                "inn_bidx",
                "enp_bidx",
                "phone_bidx",
                "email_bidx",
                "person_bidx",
                "created_at",
                "updated_at",
            ],
            vec![
                id.into(),
                crate::crypto::keyring::patient_key_id(id).into(),
                s.seal("surname", &c.surname)?.into(),
                s.seal("given_name", &c.given_name)?.into(),
                s.seal_opt("patronymic", &c.patronymic)?.into(),
                s.seal("birth_date", &birth)?.into(),
                s.seal("sex", c.sex.as_str())?.into(),
                s.seal_opt("snils", &c.snils)?.into(),
                s.seal_opt("inn", &c.inn)?.into(),
                s.seal_opt("enp", &c.enp)?.into(),
                s.seal_opt("phone", &c.phone)?.into(),
                s.seal_opt("email", &c.email)?.into(),
                strong(BlindIndexKind::Snils, &c.snils).into(),
                strong(BlindIndexKind::Inn, &c.inn).into(),
                strong(BlindIndexKind::Enp, &c.enp).into(),
                idx(BlindIndexKind::Phone, &c.phone).into(),
                idx(BlindIndexKind::Email, &c.email).into(),
                person_index(bidx, &c.surname, &c.given_name, c.birth_date).into(),
                now.into(),
                now.into(),
            ],
        ))
    }

    /// Prepares a patient from another system's record (as `insert_recorded` did) without
    /// writing: the journal entry is promised in `journal`; the patient's row is returned, and
    /// its new data key, which is wrapped only when the import publishes (so a key rotation
    /// during the plan cannot leave it under a retired KEK, and no wrapped key is staged).
    pub(crate) fn plan_recorded(
        &self,
        journal: &mut PlannedEntries,
        new: &NewPatient,
        now: OffsetDateTime,
    ) -> Result<PlannedPatient> {
        let c = check(new, now.date(), Ok)?;
        let id = uuid::Uuid::new_v4().to_string();
        let _receipt = journal.promise(&id, access(&id, Action::Create));
        let key = SecretKey::generate();
        let row = self.patient_row(&id, &c, &key, true, to_micros(now))?;
        let bidx = self.cab.blind_indexer();
        Ok(PlannedPatient {
            snils_bidx: c.snils.as_deref().map(|v| bidx.index(BlindIndexKind::Snils, v)),
            enp_bidx: c.enp.as_deref().map(|v| bidx.index(BlindIndexKind::Enp, v)),
            inn_bidx: c.inn.as_deref().map(|v| bidx.index(BlindIndexKind::Inn, v)),
            person_bidx: person_index(bidx, &c.surname, &c.given_name, c.birth_date),
            row,
            key,
            id,
        })
    }

    /// Reads and decrypts a patient. An erased patient fails with `crypto.key_destroyed`;
    /// a tampered or moved ciphertext with `crypto.integrity`.
    pub async fn get(&self, patient_id: &str) -> Result<Patient> {
        let now = to_micros(self.cab.now());
        match self.read(patient_id, now).await {
            Err(Error::Crypto(CryptoError::Integrity)) => {
                self.journal_failure(patient_id, Action::Read, now).await?;
                Err(Error::Crypto(CryptoError::Integrity))
            }
            other => other,
        }
    }

    async fn read(&self, patient_id: &str, now: i64) -> Result<Patient> {
        let mut tx = self.cab.store().begin().await?;
        let patient = self.read_in(&mut tx, patient_id, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(patient)
    }

    /// Replaces one field inside the caller's transaction (journaled as an update), keeps
    /// the old and new values as sealed history, and refreshes the field's blind index — for
    /// SNILS, INN and ENP only when `index_identifiers` (a confirmed identity; a provisional
    /// record claims no one's identifier). Another record's identifier is a
    /// `Conflict("identity.claimed")`. Returns the old value.
    #[allow(clippy::too_many_arguments)] // the change, its confirmation and its indexing, each one argument
    pub(crate) async fn update_field(
        &self,
        tx: &mut Conn,
        patient_id: &str,
        field: ProfileField,
        value: &str,
        confirmed_by: &str,
        index_identifiers: bool,
        now: i64,
    ) -> Result<Option<String>> {
        let current = self.read_in(tx, patient_id, now).await?;
        let old = field.value_in(&current);
        let what = Access {
            patient_id: Some(patient_id),
            action: Action::Update,
            resource_type: TABLE,
            resource_id: Some(patient_id),
        };
        let receipt = self.cab.journal().record(&mut *tx, &self.ctx, what, Outcome::Success, now).await?;
        let key = self.cab.keyring().patient_key(&mut *tx, &receipt).await?;
        let s = RowSealer { key: &key, id: patient_id };
        let sealed = s.seal(field.column(), value)?;
        let bidx = self.cab.blind_indexer();
        let index = match field {
            ProfileField::Phone => Some(bidx.index(BlindIndexKind::Phone, value)),
            ProfileField::Email => Some(bidx.index(BlindIndexKind::Email, value)),
            ProfileField::Surname => Some(person_index(bidx, value, &current.given_name, current.birth_date)),
            ProfileField::GivenName => Some(person_index(bidx, &current.surname, value, current.birth_date)),
            ProfileField::BirthDate => {
                let date = Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| ValidationError::new("birth_date", Reason::Format))?;
                Some(person_index(bidx, &current.surname, &current.given_name, date))
            }
            ProfileField::Snils if index_identifiers => Some(bidx.index(BlindIndexKind::Snils, value)),
            ProfileField::Inn if index_identifiers => Some(bidx.index(BlindIndexKind::Inn, value)),
            ProfileField::OmsPolicy if index_identifiers => Some(bidx.index(BlindIndexKind::Enp, value)),
            _ => None,
        };
        match store::update_field(&mut *tx, patient_id, field, sealed, index, now).await {
            Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "identity.claimed" }),
            other => other?,
        }
        let change_id = uuid::Uuid::new_v4().to_string();
        let h = |which: &'static str, v: &str| {
            crate::crypto::seal(
                &key,
                &Aad { table: "profile_changes", record_id: &change_id, field: which, patient_id },
                v.as_bytes(),
            )
        };
        let change = store::NewChangeRow {
            id: &change_id,
            patient_id,
            field: field.name(),
            old_value: old.as_deref().map(|o| h("old_value", o)).transpose()?,
            new_value: h("new_value", value)?,
            now,
            confirmed_by,
        };
        store::insert_change(&mut *tx, change).await?;
        Ok(old)
    }

    /// Whether the person's registration or actual address changed after `since` (a change
    /// of residence, R11).
    pub(crate) async fn moved_since(tx: &mut Conn, patient_id: &str, since: i64) -> Result<bool> {
        for field in [ProfileField::Address, ProfileField::ActualAddress] {
            if store::changed_since(&mut *tx, patient_id, field.name(), since).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The history of personal data changes, newest first (journaled as a read).
    pub(crate) async fn change_history(&self, patient_id: &str) -> Result<Vec<ProfileChange>> {
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        let what = Access {
            patient_id: Some(patient_id),
            action: Action::Read,
            resource_type: "profile_changes",
            resource_id: None,
        };
        let receipt = self.cab.journal().record(&mut tx, &self.ctx, what, Outcome::Success, now).await?;
        let key = self.cab.keyring().patient_key(&mut tx, &receipt).await?;
        let rows = store::changes(&mut *tx, patient_id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let open = |which: &str, blob: &[u8]| -> Result<String> {
                let plain = crate::crypto::open(
                    &key,
                    &Aad { table: "profile_changes", record_id: &r.id, field: which, patient_id },
                    blob,
                )?;
                String::from_utf8(plain.to_vec()).map_err(|_| Error::Crypto(CryptoError::Integrity))
            };
            out.push(ProfileChange {
                old_value: r.old_value.as_deref().map(|o| open("old_value", o)).transpose()?,
                new_value: open("new_value", &r.new_value)?,
                field: r.field,
                changed_at: from_micros(r.changed_at)?,
                confirmed_by: r.confirmed_by,
            });
        }
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(out)
    }

    /// Reads a patient inside the caller's transaction (journaled there).
    pub(crate) async fn read_in(&self, tx: &mut Conn, patient_id: &str, now: i64) -> Result<Patient> {
        let row = sealed_row(tx, patient_id).await?;
        let receipt = self
            .cab
            .journal()
            .record(&mut *tx, &self.ctx, access(patient_id, Action::Read), Outcome::Success, now)
            .await?;
        let key = self.cab.keyring().patient_key(&mut *tx, &receipt).await?;
        decode(row, patient_id, &key)
    }

    /// Reads a patient as [`Patients::read_in`] does, its journal entry promised in
    /// `journal` (written with the rows of a planned import).
    pub(crate) async fn read_planned(
        &self,
        tx: &mut Conn,
        journal: &mut PlannedEntries,
        patient_id: &str,
    ) -> Result<Patient> {
        let row = sealed_row(tx, patient_id).await?;
        let receipt = journal.promise(patient_id, access(patient_id, Action::Read));
        let key = self.cab.keyring().patient_key(&mut *tx, &receipt).await?;
        decode(row, patient_id, &key)
    }

    /// Finds a patient by SNILS through its blind index.
    pub async fn find_by_snils(&self, snils: &str) -> Result<Option<String>> {
        self.find(BlindIndexKind::Snils, &ids::snils(snils)?).await
    }

    /// Finds a patient by OMS policy (ENP) through its blind index.
    pub async fn find_by_oms_policy(&self, enp: &str) -> Result<Option<String>> {
        self.find(BlindIndexKind::Enp, &ids::enp(enp)?).await
    }

    /// Looks up by blind index; the lookup reveals whether someone is on file, so it is
    /// journaled as a search concerning the patient found.
    async fn find(&self, kind: BlindIndexKind, normalized: &str) -> Result<Option<String>> {
        let which = match kind {
            BlindIndexKind::Snils => store::Identifier::Snils,
            BlindIndexKind::Enp => store::Identifier::Enp,
            BlindIndexKind::Inn => store::Identifier::Inn,
            _ => return Ok(None),
        };
        let index = self.cab.blind_indexer().index(kind, normalized);
        let found = store::by_identifier(self.cab.store().pool(), which, &index).await?;
        let now = to_micros(self.cab.now());
        let what = Access {
            patient_id: found.as_deref(),
            action: Action::Search,
            resource_type: TABLE,
            resource_id: found.as_deref(),
        };
        crate::audit::record_grouped(&self.cab, &self.ctx, what, Outcome::Success, now).await?;
        Ok(found)
    }

    /// Erases a patient by destroying their data key (crypto-shredding) and clearing the
    /// blind indexes; the ciphertexts that remain can never be decrypted again. In the same
    /// transaction every live reference to them ends (see `store::forget_everywhere`): sessions,
    /// tokens, queued messages and jobs, visits, attachments, proxy grants, login identifiers.
    pub async fn erase(&self, patient_id: &str) -> Result<()> {
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        if !store::mark_erased(&mut *tx, patient_id, now).await? {
            return Err(Error::NotFound { entity: "patient" });
        }
        let receipt = self
            .cab
            .journal()
            .record(&mut tx, &self.ctx, access(patient_id, Action::Delete), Outcome::Success, now)
            .await?;
        self.cab.keyring().destroy_patient_key(&mut tx, &receipt, now).await?;
        store::forget_everywhere(&mut tx, patient_id, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }

    /// Erases a patient inside the caller's transaction (as [`Patients::erase`]).
    pub(crate) async fn erase_in(&self, tx: &mut Conn, patient_id: &str, now: i64) -> Result<()> {
        store::mark_erased(&mut *tx, patient_id, now).await?;
        let receipt = self
            .cab
            .journal()
            .record(&mut *tx, &self.ctx, access(patient_id, Action::Delete), Outcome::Success, now)
            .await?;
        self.cab.keyring().destroy_patient_key(&mut *tx, &receipt, now).await?;
        store::forget_everywhere(tx, patient_id, now).await
    }
}
