//! Proxy access (R20): a parent or legal representative acts for a ward within scopes, for a
//! limited time, journaled as the proxy acting for the ward.
//!
//! Who may grant what (issue 11, class 3):
//! * an adult grants access to themself: `Proxies::grant` sends an SMS code to the adult's
//!   own phone and the grant exists only after `Proxies::confirm` — nobody else can make it;
//! * clinic staff register a proxy only for a **minor**, or for an adult **under legal
//!   guardianship**, who is a patient of their clinic (attached, or with a visit booked there),
//!   naming the supporting document (`basis`, kept sealed under the ward's key); a child
//!   without an account of their own can be linked;
//! * every grant has an end date (a minor's grant ends at the latest on the 18th birthday);
//! * the ward (and the proxy) can list and revoke; the ward is told of every grant and
//!   revocation, and gets a daily summary of what proxies did (`run_due_jobs`).
//!
//! Held proxy contexts are re-checked on every call (`Me::patient_for`): a revoked or
//! expired grant stops them at once.

use crate::staff::StaffRole;
use time::{Date, OffsetDateTime};

mod store;

use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::auth::codes;
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::integrations::Channel;
use crate::me::Me;
use crate::medical::Vault;
use crate::notify;
use crate::patients::Patients;
use crate::store::Conn;
use crate::timeutil::{ADULT_AGE, age_on, from_micros, to_micros};

/// What a proxy can be given: every patient function (R20). Security settings, profile,
/// identity and proxy grants themselves are never delegated. `notifications` also sends the
/// proxy the ward's messages.
pub const SCOPES: &[&str] =
    &["records", "labs", "appointments", "requests", "attachment", "certificates", "documents", "notifications"];
/// Roles that register proxies.
pub const PROXY_ROLES: &[StaffRole] = &[StaffRole::Registrar, StaffRole::Administrator, StaffRole::Doctor];
/// A grant lasts this long unless a shorter end is asked for (one year).
pub const DEFAULT_GRANT_DAYS: i64 = 365;
/// The longest grant (five years; a minor's ends at 18 whatever is asked).
pub const MAX_GRANT_DAYS: i64 = 5 * 365;
const DAY_US: i64 = 86_400_000_000;

/// A proxy grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ProxyGrant {
    /// Id.
    pub id: String,
    /// The proxy (their patient id).
    pub proxy_patient_id: String,
    /// The ward.
    pub ward_patient_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Account that granted it (staff or the ward).
    pub granted_by: String,
    /// When.
    pub granted_at: OffsetDateTime,
    /// The grant ends at this moment (start of the day after its last day, UTC).
    pub valid_until: OffsetDateTime,
}

/// What clinic staff register for a minor or a ward under guardianship.
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass, from_py_object))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct WardGrant {
    /// The proxy, by SNILS (or give `proxy_patient_id`).
    pub proxy_snils: Option<String>,
    /// The proxy, by patient id.
    pub proxy_patient_id: Option<String>,
    /// The ward: a patient of the clinic (they need no account of their own).
    pub ward_patient_id: String,
    /// Scopes, from [`SCOPES`].
    pub scopes: Vec<String>,
    /// The supporting document: birth certificate, court decision on guardianship…
    /// (required; stored sealed under the ward's key).
    pub basis: String,
    /// Last day of the grant; default a year, never past a minor's 18th birthday.
    pub until: Option<Date>,
    /// The ward is an adult under legal guardianship (the basis is the court decision).
    pub guardianship: bool,
}

impl std::fmt::Debug for WardGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardGrant")
            .field("ward_patient_id", &self.ward_patient_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn scopes(list: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim().to_lowercase();
        if !SCOPES.contains(&s.as_str()) {
            return Err(ValidationError::new("scopes", Reason::UnknownValue).into());
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(ValidationError::new("scopes", Reason::Empty).into());
    }
    out.sort();
    Ok(out)
}

/// The end of a grant (microseconds): the day after `until`, which must lie after today and
/// within [`MAX_GRANT_DAYS`] and `latest`; a year (or `latest`) when not given.
fn end_of(until: Option<Date>, today: Date, latest: Option<Date>) -> Result<i64> {
    let cap = today.checked_add(time::Duration::days(MAX_GRANT_DAYS)).unwrap_or(Date::MAX);
    let cap = latest.map_or(cap, |l| l.min(cap));
    let last = match until {
        Some(d) if d < today => return Err(ValidationError::new("until", Reason::Format).into()),
        Some(d) if d > cap => return Err(ValidationError::new("until", Reason::TooLong).into()),
        Some(d) => d,
        None => today.checked_add(time::Duration::days(DEFAULT_GRANT_DAYS)).unwrap_or(cap).min(cap),
    };
    let next = last.next_day().unwrap_or(last);
    Ok(to_micros(next.midnight().assume_utc()))
}

/// The proxies who hold every one of `wanted` for `ward` now (their own patient ids).
pub(crate) async fn proxies_with(cab: &Cabinet, tx: &mut Conn, ward: &str, wanted: &[&str]) -> Result<Vec<String>> {
    let live = store::live_proxies(&mut *tx, ward, to_micros(cab.now())).await?;
    Ok(live
        .into_iter()
        .filter(|(_, scopes)| wanted.iter().all(|w| scopes.iter().any(|s| s == w)))
        .map(|(p, _)| p)
        .collect())
}

/// The scopes of a live grant from `ward` to `proxy`; `NotFound` without one.
pub(crate) async fn live_scopes(cab: &Cabinet, proxy: &str, ward: &str) -> Result<Vec<String>> {
    store::live_scopes(cab.store().pool(), proxy, ward, to_micros(cab.now()))
        .await?
        .ok_or(Error::NotFound { entity: "proxy" })
}

/// Stores a grant in `tx`, journals it for the ward, and queues the notices to ward and
/// proxy. Returns the grant and the outbox ids to deliver after commit.
#[allow(clippy::too_many_arguments)] // each argument is one part of the grant
async fn insert(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &AuditContext,
    granted_by: &str,
    proxy: &str,
    ward: &str,
    scopes: Vec<String>,
    until_us: i64,
    basis: Option<&str>,
    now: i64,
) -> Result<(ProxyGrant, Vec<String>)> {
    if proxy == ward {
        return Err(ValidationError::new("proxy", Reason::Format).into());
    }
    // A grant past its end no longer holds the pair: it is closed, so a new one can follow.
    store::close_ended(&mut *tx, proxy, ward, now).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let vault = Vault::open(cab, tx, ctx, ward, Action::Create, "proxy", Some(&id), now).await?;
    let sealed = basis.map(|b| vault.seal("proxies", &id, "basis", &b)).transpose()?;
    let row = store::GrantRow {
        id: id.clone(),
        proxy_patient_id: proxy.to_owned(),
        ward_patient_id: ward.to_owned(),
        scopes: scopes.clone(),
        granted_by: granted_by.to_owned(),
        granted_at: now,
        valid_until: until_us,
    };
    match store::insert(&mut *tx, &row, sealed).await {
        Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "proxy.exists" }),
        Err(e) if e.foreign_key_violation() => return Err(Error::NotFound { entity: "patient" }),
        other => other?,
    };
    let until = from_micros(until_us)?;
    let args = [("scopes", scopes.join(", ")), ("until", until.date().to_string())];
    let mut outbox = Vec::new();
    for person in [ward, proxy] {
        outbox.extend(notify::patient_event(cab, tx, person, "proxy_granted", &args, now).await?);
    }
    let grant = ProxyGrant {
        id,
        proxy_patient_id: proxy.to_owned(),
        ward_patient_id: ward.to_owned(),
        scopes,
        granted_by: granted_by.to_owned(),
        granted_at: from_micros(now)?,
        valid_until: until,
    };
    Ok((grant, outbox))
}

fn grant_from(r: store::GrantRow) -> Result<ProxyGrant> {
    Ok(ProxyGrant {
        id: r.id,
        proxy_patient_id: r.proxy_patient_id,
        ward_patient_id: r.ward_patient_id,
        scopes: r.scopes,
        granted_by: r.granted_by,
        granted_at: from_micros(r.granted_at)?,
        valid_until: from_micros(r.valid_until)?,
    })
}

/// The signed-in patient's proxy grants.
#[derive(Debug, Clone)]
pub struct Proxies {
    me: Me,
}

impl Proxies {
    pub(crate) fn new(me: Me) -> Self {
        Proxies { me }
    }

    /// An adult lets the person with `proxy_snils` act for them within `scopes` until the
    /// end of `until` (default a year, at most five). Nothing is granted yet: a code goes to
    /// the adult's own phone, and [`Proxies::confirm`] makes the grant. A minor cannot grant
    /// (`proxy.ward_minor`): the clinic registers a child's proxy.
    pub async fn grant(
        &self,
        proxy_snils: &str,
        scopes_wanted: &[String],
        until: Option<Date>,
    ) -> Result<crate::attachment::PendingConfirmation> {
        let cab = self.me.cabinet();
        let ward = self.me.own_medical().await?;
        let scopes = scopes(scopes_wanted)?;
        let patients = Patients::new(cab.clone(), self.me.audit_context().clone());
        let me = patients.get(&ward).await?;
        let today = cab.now().date();
        if age_on(me.birth_date, today) < ADULT_AGE {
            return Err(Error::PermissionDenied { code: "proxy.ward_minor" });
        }
        let until_us = end_of(until, today, None)?;
        let proxy = patients.find_by_snils(proxy_snils).await?.ok_or(Error::NotFound { entity: "patient" })?;
        if proxy == ward {
            return Err(ValidationError::new("proxy", Reason::Format).into());
        }
        if live_scopes(cab, &proxy, &ward).await.is_ok() {
            return Err(Error::Conflict { code: "proxy.exists" });
        }
        let now = to_micros(cab.now());
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = cab.store().begin().await?;
        let expires = now + crate::accounts::CODE_TTL_US;
        store::insert_request(&mut *tx, &id, &ward, &proxy, &scopes, until_us, now, expires).await?;
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "proxy_code", &id, &code, now + crate::accounts::CODE_TTL_US).await?;
        let person = patients.read_in(&mut tx, &ward, now).await?;
        let msg =
            cab.message(Some(&ward), "proxy_code", Channel::Sms, person.phone.as_deref().unwrap_or(""), Some(&code));
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        notify::deliver(cab, &out).await?;
        Ok(crate::attachment::PendingConfirmation { id, action: "proxy_grant".into() })
    }

    /// Makes a grant asked for by [`Proxies::grant`], with the code from the SMS. The ward
    /// and the proxy are told.
    pub async fn confirm(&self, pending_id: &str, code: &str) -> Result<ProxyGrant> {
        let cab = self.me.cabinet();
        let ward = self.me.own_medical().await?;
        let now = to_micros(cab.now());
        let row = store::request(cab.store().pool(), pending_id, &ward)
            .await?
            .ok_or(Error::NotFound { entity: "proxy_request" })?;
        if row.confirmed_at.is_some() || row.expires_at <= now {
            return Err(crate::auth::AuthError::CodeExpired.into());
        }
        crate::accounts::check_code(cab, "proxy_code", pending_id, code, now).await?;
        let (proxy, scopes, until_us) = (row.proxy_patient_id, row.scopes, row.valid_until);
        let mut tx = cab.store().begin().await?;
        if !store::claim_request(&mut *tx, pending_id, now).await? {
            return Err(crate::auth::AuthError::CodeExpired.into());
        }
        let ctx = self.me.audit_context();
        let (grant, outbox) =
            insert(cab, &mut tx, ctx, self.me.account_id(), &proxy, &ward, scopes, until_us, None, now).await?;
        tx.commit().await?;
        notify::deliver_all(cab, outbox).await?;
        Ok(grant)
    }

    /// Live grants where the signed-in patient is the ward or the proxy, newest first.
    pub async fn list(&self) -> Result<Vec<ProxyGrant>> {
        let own = self.me.own_medical().await?;
        let now = to_micros(self.me.cabinet().now());
        store::live_of(self.me.cabinet().store().pool(), &own, now).await?.into_iter().map(grant_from).collect()
    }

    /// The ward (or the proxy) ends a grant; both are told.
    pub async fn revoke(&self, grant_id: &str) -> Result<()> {
        let cab = self.me.cabinet();
        let own = self.me.own_medical().await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let store::PartiesRow { ward_patient_id: ward, proxy_patient_id: proxy } =
            store::parties(&mut *tx, grant_id, &own).await?.ok_or(Error::NotFound { entity: "proxy" })?;
        store::revoke(&mut *tx, grant_id, now).await?;
        let what = Access {
            patient_id: Some(&ward),
            action: Action::Delete,
            resource_type: "proxy",
            resource_id: Some(grant_id),
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
        let mut outbox = Vec::new();
        for person in [&ward, &proxy] {
            outbox.extend(notify::patient_event(cab, &mut tx, person, "proxy_revoked", &[], now).await?);
        }
        tx.commit().await?;
        notify::deliver_all(cab, outbox).await
    }
}

/// Staff registering proxies for minors and wards under guardianship of their clinic.
#[derive(Debug, Clone)]
pub struct StaffProxies {
    me: Me,
}

impl StaffProxies {
    pub(crate) fn new(me: Me) -> Self {
        StaffProxies { me }
    }

    /// Lets the proxy act for the ward. Allowed for a ward who is a minor (the grant ends at
    /// the latest on their 18th birthday) or, with `guardianship`, an adult under legal
    /// guardianship; an adult otherwise is `PermissionDenied("proxy.ward_adult")` — adults
    /// grant for themselves. The ward must be a patient of the staff member's clinic
    /// (attached or booked; else `NotFound`, nothing revealed); the basis is required.
    pub async fn grant(&self, g: WardGrant) -> Result<ProxyGrant> {
        let cab = self.me.cabinet();
        let member = self.me.live_staff().await?.clone();
        if !PROXY_ROLES.contains(&member.role) {
            return Err(Error::PermissionDenied { code: "role.not_allowed" });
        }
        let scopes = scopes(&g.scopes)?;
        let basis = crate::directory::text_field("basis", &g.basis, 300)?;
        let patients = Patients::new(cab.clone(), self.me.audit_context().clone());
        let proxy = match (&g.proxy_snils, &g.proxy_patient_id) {
            (Some(snils), None) => patients.find_by_snils(snils).await?,
            (None, Some(id)) => Some(id.clone()),
            _ => return Err(ValidationError::new("proxy_snils", Reason::Empty).into()),
        }
        .ok_or(Error::NotFound { entity: "patient" })?;
        // The ward must be the clinic's patient (attached, or with a visit booked there): the
        // proxy's attachment proves nothing about the ward.
        if !crate::staff::StaffPatients::is_clinic_patient(cab, &member.clinic_id, &g.ward_patient_id).await? {
            return Err(Error::NotFound { entity: "patient" });
        }
        let ward = patients.get(&g.ward_patient_id).await?;
        let today = cab.now().date();
        let latest = if age_on(ward.birth_date, today) < ADULT_AGE {
            let eighteenth = ward.birth_date.replace_year(ward.birth_date.year() + ADULT_AGE);
            // Born on 29 February: of age on 1 March of a common year.
            let eighteenth = eighteenth
                .or_else(|_| Date::from_calendar_date(ward.birth_date.year() + ADULT_AGE, time::Month::March, 1));
            Some(
                eighteenth
                    .map_err(|_| ValidationError::new("birth_date", Reason::Format))?
                    .previous_day()
                    .unwrap_or(today),
            )
        } else if g.guardianship {
            None
        } else {
            return Err(Error::PermissionDenied { code: "proxy.ward_adult" });
        };
        if latest.is_none() {
            // Guardianship of an adult is the clinic's word: only for a patient attached to
            // it (a booking is not enough), and the ward is told like any grant.
            if !store::attached(cab.store().pool(), &member.clinic_id, &ward.id).await? {
                return Err(Error::NotFound { entity: "patient" });
            }
        }
        let until_us = end_of(g.until, today, latest)?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let ctx = self.me.audit_context();
        let (grant, outbox) =
            insert(cab, &mut tx, ctx, self.me.account_id(), &proxy, &ward.id, scopes, until_us, Some(&basis), now)
                .await?;
        tx.commit().await?;
        notify::deliver_all(cab, outbox).await?;
        Ok(grant)
    }
}

/// Sends each ward whose proxies acted for them since the last summary (at most daily) a
/// summary of how many actions that was (R20). Run by `run_due_jobs`; returns how many.
pub(crate) async fn send_use_summaries(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let wards = store::wards_due_summary(cab.store().pool(), now.saturating_sub(DAY_US), 500).await?;
    let mut sent = 0;
    for store::SummaryDueRow { ward_patient_id: ward, since } in wards {
        let actions = store::proxy_actions(cab.store().pool(), &ward, since).await?;
        let mut tx = cab.store().begin().await?;
        store::mark_summarized(&mut *tx, &ward, now).await?;
        let mut outbox = Vec::new();
        if actions > 0 {
            let args = [("count", actions.to_string())];
            match notify::patient_event(cab, &mut tx, &ward, "proxy_summary", &args, now).await {
                Ok(o) => outbox.extend(o),
                Err(e) if crate::cabinet::skippable(&e) => {}
                Err(e) => return Err(e),
            }
            sent += 1;
        }
        tx.commit().await?;
        notify::deliver_all(cab, outbox).await?;
    }
    Ok(sent)
}
