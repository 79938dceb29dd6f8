//! The one way to touch medical data: a journal entry first, then the patient's data key
//! against its receipt, then sealing or opening JSON bodies bound to table, row, field and
//! patient. Also the staff side of authorization: a staff member may act on a patient only
//! when the patient is attached to, or booked with, their clinic, and only in given roles.

use crate::staff::StaffRole;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::crypto::{Aad, SecretKey};
use crate::error::{Error, Result};
use crate::me::Me;
use crate::staff::{StaffMember, StaffPatients};
use crate::store::{Conn, StorageError};

/// A patient's data key, obtained against a journal entry.
pub(crate) struct Vault {
    key: SecretKey,
    patient_id: String,
}

impl Vault {
    /// Journals `action` on `resource_type`/`resource_id` for `patient_id` and opens the
    /// patient's key. (Each argument is one field of the journal entry.)
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open(
        cab: &Cabinet,
        tx: &mut Conn,
        ctx: &AuditContext,
        patient_id: &str,
        action: Action,
        resource_type: &'static str,
        resource_id: Option<&str>,
        now: i64,
    ) -> Result<Vault> {
        let what = Access { patient_id: Some(patient_id), action, resource_type, resource_id };
        let receipt = cab.journal().record(&mut *tx, ctx, what, Outcome::Success, now).await?;
        let key = cab.keyring().patient_key(&mut *tx, &receipt).await?;
        Ok(Vault { key, patient_id: patient_id.to_owned() })
    }

    /// As [`Vault::open`] for an access that changes nothing (a read, an export): the entry is
    /// journaled in a group commit shared with other such accesses (see
    /// [`crate::audit::record_grouped`]) and committed before the key is opened. The caller
    /// holds no connection while it waits. The entry says the key was released for the
    /// access: a read that then fails (an integrity check) adds its own failure entry.
    pub(crate) async fn open_to_read(
        cab: &Cabinet,
        ctx: &AuditContext,
        patient_id: &str,
        action: Action,
        resource_type: &'static str,
        resource_id: Option<&str>,
        now: i64,
    ) -> Result<Vault> {
        let what = Access { patient_id: Some(patient_id), action, resource_type, resource_id };
        let receipt = crate::audit::record_grouped(cab, ctx, what, Outcome::Success, now).await?;
        let mut conn = cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        let key = cab.keyring().patient_key(&mut conn, &receipt).await?;
        Ok(Vault { key, patient_id: patient_id.to_owned() })
    }

    /// A vault over a key already opened against a receipt (a planned import keeps one per
    /// patient; see [`crate::audit::PlannedEntries`]).
    pub(crate) fn with_key(key: SecretKey, patient_id: &str) -> Vault {
        Vault { key, patient_id: patient_id.to_owned() }
    }

    fn aad<'a>(&'a self, table: &'a str, id: &'a str, field: &'a str) -> Aad<'a> {
        Aad { table, record_id: id, field, patient_id: &self.patient_id }
    }

    /// Seals `value` as JSON for `table`/`id`/`field`.
    pub(crate) fn seal<T: Serialize>(&self, table: &str, id: &str, field: &str, value: &T) -> Result<Vec<u8>> {
        let json = serde_json::to_vec(value).map_err(|_| crate::CryptoError::Internal("json"))?;
        Ok(crate::crypto::seal(&self.key, &self.aad(table, id, field), &json)?)
    }

    /// Opens a JSON value sealed by [`Vault::seal`]; a tampered or moved value is an
    /// integrity error.
    pub(crate) fn open_json<T: DeserializeOwned>(
        &self,
        table: &str,
        id: &str,
        field: &str,
        sealed: &[u8],
    ) -> Result<T> {
        let plain = crate::crypto::open(&self.key, &self.aad(table, id, field), sealed)?;
        serde_json::from_slice(&plain).map_err(|_| StorageError::Corrupt("sealed json").into())
    }

    /// Seals raw bytes.
    pub(crate) fn seal_bytes(&self, table: &str, id: &str, field: &str, value: &[u8]) -> Result<Vec<u8>> {
        Ok(crate::crypto::seal(&self.key, &self.aad(table, id, field), value)?)
    }

    /// Opens raw bytes.
    pub(crate) fn open_bytes(&self, table: &str, id: &str, field: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        // The caller owns the plaintext from here (no second copy of a large document).
        let mut plain = crate::crypto::open(&self.key, &self.aad(table, id, field), sealed)?;
        Ok(std::mem::take(&mut *plain))
    }
}

/// One unit of work on a patient's data: a transaction, the journal entry saying who did what
/// to which record (R5), and the patient's key opened against that entry (S1). What is done
/// through it commits together with its journal entry or not at all: dropping it without
/// [`PatientWork::commit`] rolls everything back, the journal entry included.
pub(crate) struct PatientWork {
    /// The transaction; queries run on `&mut *work.tx`.
    pub tx: crate::store::Tx,
    /// The patient's key, opened against this work's journal entry.
    pub vault: Vault,
    /// The moment of the work, in microseconds (the journal entry's time).
    pub now: i64,
}

impl PatientWork {
    /// Begins: a transaction, the journal entry for `action` on `resource_type`/`resource_id`
    /// of `patient_id` by `ctx`, and the patient's key. For a read or an export the entry is
    /// committed first in a group commit ([`crate::audit::record_grouped`]) and the transaction
    /// is a read-only snapshot; anything else journals inside its write transaction.
    pub(crate) async fn begin(
        cab: &Cabinet,
        ctx: &AuditContext,
        patient_id: &str,
        action: Action,
        resource_type: &'static str,
        resource_id: Option<&str>,
    ) -> Result<PatientWork> {
        let now = crate::timeutil::to_micros(cab.now());
        if matches!(action, Action::Read | Action::Export) {
            // A read changes nothing: its entry goes in a group commit (committed before the
            // key opens) and the work reads one consistent snapshot without the write lock —
            // the key first, so key and data come from the same snapshot (an erasure
            // committed in between takes both away).
            let what = Access { patient_id: Some(patient_id), action, resource_type, resource_id };
            let receipt = crate::audit::record_grouped(cab, ctx, what, Outcome::Success, now).await?;
            let mut tx = cab.store().begin_snapshot().await?;
            let key = cab.keyring().patient_key(&mut tx, &receipt).await?;
            return Ok(PatientWork { tx, vault: Vault { key, patient_id: patient_id.to_owned() }, now });
        }
        let mut tx = cab.store().begin().await?;
        let vault = Vault::open(cab, &mut tx, ctx, patient_id, action, resource_type, resource_id, now).await?;
        Ok(PatientWork { tx, vault, now })
    }

    /// Commits the work and its journal entry together.
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// The staff member of `me`, if they may act on `patient_id` in one of `roles`:
/// `role.staff_only` for non-staff, `role.not_allowed` for another role, and `NotFound`
/// (nothing revealed) for patients not connected to their clinic.
pub(crate) async fn staff_for<'a>(me: &'a Me, patient_id: &str, roles: &[StaffRole]) -> Result<&'a StaffMember> {
    let member = me.live_staff().await?;
    if !roles.contains(&member.role) {
        return Err(Error::PermissionDenied { code: "role.not_allowed" });
    }
    if !StaffPatients::is_clinic_patient(me.cabinet(), &member.clinic_id, patient_id).await? {
        return Err(Error::NotFound { entity: "patient" });
    }
    Ok(member)
}

/// Days since the Unix epoch → microseconds, for clinical dates stored as BIGINT.
pub(crate) fn date_us(d: time::Date) -> i64 {
    crate::timeutil::to_micros(d.midnight().assume_utc())
}
