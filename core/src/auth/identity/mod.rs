//! Identity confirmation (R2): the person's details are checked against state registries
//! through the host's `IdentityRegistry`. A match marks the account *identity confirmed*
//! and unlocks the full feature set; a mismatch returns the registry's concrete reason
//! (`name_mismatch`, `no_linked_phone`, `policy_not_found`, …) and the person may retry or
//! pick another method. Every attempt is journaled.

use time::Date;

mod store;

use crate::audit::{Access, Action, Outcome};
use crate::error::{Error, ErrorCode, ErrorKind, Result};
use crate::ids::{self, Reason, ValidationError};
use crate::integrations::{IdentityMethod, RegistryRequest};
use crate::me::Me;
use crate::store::StorageError;
use crate::timeutil::to_micros;

/// Identity errors that are not a registry's "no".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// No `IdentityRegistry` is configured.
    #[error("no identity registry configured")]
    NoRegistry,
    /// The registry could not be reached; try again later.
    #[error("identity registry unavailable")]
    RegistryUnavailable,
    /// The feature needs a confirmed identity (R2).
    #[error("identity not confirmed")]
    NotConfirmed,
    /// The registry did not confirm a new SNILS or birth date (R18); nothing was changed.
    #[error("the registry did not confirm the change")]
    Mismatch,
    /// The chosen confirmation method is neither `"sms"` nor one the host's confirmer offers.
    #[error("no such confirmation method")]
    NoConfirmer,
    /// The host's confirmer failed; try again later.
    #[error("confirmation method unavailable")]
    ConfirmerUnavailable,
}

impl ErrorCode for IdentityError {
    fn code(&self) -> &'static str {
        match self {
            IdentityError::NoRegistry => "identity.no_registry",
            IdentityError::RegistryUnavailable => "identity.registry_unavailable",
            IdentityError::NotConfirmed => "identity.unconfirmed",
            IdentityError::Mismatch => "identity.mismatch",
            IdentityError::NoConfirmer => "confirmation.no_method",
            IdentityError::ConfirmerUnavailable => "confirmation.unavailable",
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            IdentityError::NoRegistry => ErrorKind::Config,
            IdentityError::RegistryUnavailable => ErrorKind::Storage,
            IdentityError::NotConfirmed => ErrorKind::PermissionDenied,
            IdentityError::Mismatch => ErrorKind::Conflict,
            IdentityError::NoConfirmer => ErrorKind::Validation,
            IdentityError::ConfirmerUnavailable => ErrorKind::Storage,
        }
    }
}

/// What the person enters to confirm their identity.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityConfirmation {
    /// `"esignature"`, `"sms"`, `"video"` or `"service_centre"`.
    pub method: String,
    /// Full name: surname, given name and patronymic (if any), separated by spaces.
    pub full_name: String,
    /// Birth date.
    pub birth_date: Date,
    /// OMS policy (ENP).
    pub oms_policy: String,
    /// The phone linked in the registry.
    pub phone: String,
}

impl std::fmt::Debug for IdentityConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityConfirmation").field("method", &self.method).finish_non_exhaustive()
    }
}

/// The outcome of a confirmation attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct IdentityCheck {
    /// The registry matched: the account is now identity confirmed.
    pub confirmed: bool,
    /// On a mismatch, the registry's concrete reason.
    pub reason: Option<String>,
}

/// Checks the person's details against the registry.
pub(crate) async fn confirm(me: &Me, input: IdentityConfirmation) -> Result<IdentityCheck> {
    let cab = me.cabinet();
    let registry = cab.identity_registry().ok_or(IdentityError::NoRegistry)?.clone();
    let method = IdentityMethod::parse(&input.method)?;
    let parts: Vec<&str> = input.full_name.split_whitespace().collect();
    let (surname, given, patronymic) = match parts.as_slice() {
        [s, g] => (*s, *g, None),
        [s, g, p @ ..] => (*s, *g, Some(p.join(" "))),
        _ => return Err(ValidationError::new("full_name", Reason::Format).into()),
    };
    let request = RegistryRequest {
        method,
        surname: ids::person_name("surname", surname)?,
        given_name: ids::person_name("given_name", given)?,
        patronymic: patronymic.map(|p| ids::person_name("patronymic", &p)).transpose()?,
        birth_date: input.birth_date,
        snils: me.profile().get().await?.snils,
        oms_policy: Some(ids::enp(&input.oms_policy)?),
        phone: Some(ids::phone(&input.phone)?),
    };
    // The registry call may block (a network round trip): keep it off the async executor.
    let answer = tokio::task::spawn_blocking(move || registry.check(&request))
        .await
        .map_err(|_| IdentityError::RegistryUnavailable)?
        .map_err(|_| IdentityError::RegistryUnavailable)?;
    let now = to_micros(cab.now());
    let mut tx = cab.store().begin().await?;
    let mut linked = None;
    if answer.matched {
        store::confirm(&mut *tx, me.account_id(), now).await?;
        linked = join_record(me, &mut tx, now).await?;
    }
    let outcome = if answer.matched { Outcome::Success } else { Outcome::Failure };
    let what = Access {
        patient_id: Some(me.patient_id()?),
        action: Action::Update,
        resource_type: "identity",
        resource_id: Some(me.account_id()),
    };
    cab.journal().record(&mut tx, me.audit_context(), what, outcome, now).await?;
    tx.commit().await.map_err(StorageError::from_sqlx)?;
    // Only once the join is committed does a held context follow it.
    if let Some(record) = linked {
        me.relink(record);
    }
    Ok(IdentityCheck {
        confirmed: answer.matched,
        reason: if answer.matched { None } else { Some(answer.reason.unwrap_or_else(|| "mismatch".into())) },
    })
}

/// Joins a confirmed account to the clinics' record of the person (R2, S5): the SNILS the
/// registry has just confirmed becomes the account's login identifier and the key its
/// record is found by. A self-registered (provisional) record is joined to the record staff
/// created or a FHIR import brought, when there is one — that record takes the confirmed
/// phone and e-mail, and the provisional one is erased — or else becomes the person's
/// record itself. Returns the patient id the account now uses, when it changed. A SNILS
/// already confirmed for another account is a `Conflict("identity.claimed")`.
async fn join_record(me: &Me, tx: &mut crate::store::Conn, now: i64) -> Result<Option<String>> {
    let cab = me.cabinet();
    let own = me.patient_id()?.to_owned();
    let people = crate::patients::Patients::new(cab.clone(), me.audit_context().clone());
    let person = people.read_in(&mut *tx, &own, now).await?;
    let Some(snils) = person.snils.as_deref() else { return Ok(None) };
    let index = cab.blind_indexer().index(crate::crypto::BlindIndexKind::Snils, snils);
    let claimed = store::claim_snils(&mut *tx, me.account_id(), &index).await;
    match claimed {
        Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "identity.claimed" }),
        other => other?,
    };
    let indexed = store::record_snils(&mut *tx, &own).await?;
    if indexed.is_some() {
        // Already the person's record.
        claim_inn(me, &mut *tx, &own, person.inn.as_deref(), now).await?;
        return Ok(None);
    }
    let held = store::unclaimed_record(&mut *tx, &index).await?;
    let Some(record) = held else {
        store::set_record_snils(&mut *tx, &own, &index).await?;
        claim_inn(me, &mut *tx, &own, person.inn.as_deref(), now).await?;
        return Ok(None);
    };
    store::relink(&mut *tx, me.account_id(), &record).await?;
    // The confirmed contacts go to the record they now sign in with.
    let on_file = people.read_in(&mut *tx, &record, now).await?;
    let contacts = [
        (crate::patients::ProfileField::Phone, on_file.phone, person.phone),
        (crate::patients::ProfileField::Email, on_file.email, person.email),
    ];
    for (field, had, confirmed) in contacts {
        if let Some(value) = confirmed.filter(|v| had.as_ref() != Some(v)) {
            people.update_field(&mut *tx, &record, field, &value, "registration", true, now).await?;
        }
    }
    // The clinics' INN wins; the one entered at registration fills a record without one.
    let inn = on_file.inn.or(person.inn);
    claim_inn(me, &mut *tx, &record, inn.as_deref(), now).await?;
    people.erase_in(&mut *tx, &own, now).await?;
    Ok(Some(record))
}

/// Makes the person's INN (R3) a login identifier of the confirmed account and the key its
/// record is found by — unless another account or record holds it already: then it stays on
/// the record unindexed (nobody's INN is taken over), and the person can correct it in the
/// profile, where a clash is a `Conflict("identity.claimed")`.
async fn claim_inn(me: &Me, tx: &mut crate::store::Conn, record: &str, inn: Option<&str>, now: i64) -> Result<()> {
    let Some(inn) = inn else { return Ok(()) };
    let cab = me.cabinet();
    let index = cab.blind_indexer().index(crate::crypto::BlindIndexKind::Inn, inn);
    if crate::auth::store::inn_holder(&mut *tx, &index).await?.is_some_and(|a| a != me.account_id()) {
        return Ok(());
    }
    match crate::auth::store::inn_record(&mut *tx, &index).await? {
        Some(other) if other != record => return Ok(()),
        Some(_) => {}
        None => {
            let people = crate::patients::Patients::new(cab.clone(), me.audit_context().clone());
            let on_file = people.read_in(&mut *tx, record, now).await?.inn;
            if on_file.as_deref() == Some(inn) {
                store::set_record_inn(&mut *tx, record, &index).await?;
            } else {
                let field = crate::patients::ProfileField::Inn;
                people.update_field(&mut *tx, record, field, inn, "registration", true, now).await?;
            }
        }
    }
    crate::auth::store::set_login_contact(&mut *tx, me.account_id(), crate::auth::store::LoginContact::Inn, index)
        .await?;
    Ok(())
}

/// Whether the account's identity is confirmed.
pub(crate) async fn is_confirmed(me: &Me) -> Result<bool> {
    let at = store::confirmed_at(me.cabinet().store().pool(), me.account_id()).await?;
    Ok(at.is_some())
}

/// The gate for the full feature set: features beyond the reduced set call this first.
pub(crate) async fn require_confirmed(me: &Me) -> Result<()> {
    if is_confirmed(me).await? { Ok(()) } else { Err(Error::from(IdentityError::NotConfirmed)) }
}
