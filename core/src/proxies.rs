//! Proxy access (R20): a parent or legal representative acts for a ward within scopes.
//! Grants come from staff of the ward's clinic (e.g. for a child) or from the ward
//! themself when adult; the ward can revoke. `Me::as_ward` checks a live grant each time,
//! and everything done through it is journaled as the proxy acting for the ward.

use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::{Access, Action, Outcome};
use crate::auth::sessions::Me;
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::patients::Patients;
use crate::store::{Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

fn sq(e: sqlx::Error) -> Error {
    StorageError::from_sqlx(e).into()
}

/// What a proxy can be given. Security settings, profile and identity are never delegated.
pub const SCOPES: &[&str] = &["records", "labs", "appointments", "requests"];
/// Roles that register proxies.
pub const PROXY_ROLES: &[&str] = &["registrar", "administrator", "doctor"];

/// A proxy grant.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The scopes of a live grant from `ward` to `proxy`; `NotFound` without one.
pub(crate) async fn live_scopes(cab: &Cabinet, proxy: &str, ward: &str) -> Result<Vec<String>> {
    let list: Option<String> = sqlx::query_scalar(
        "SELECT scopes FROM proxies WHERE proxy_patient_id = $1 AND ward_patient_id = $2 AND revoked_at IS NULL",
    )
    .bind(proxy)
    .bind(ward)
    .fetch_optional(cab.store().pool())
    .await
    .map_err(sq)?;
    let list = list.ok_or(Error::NotFound { entity: "proxy" })?;
    Ok(list.split(',').map(str::to_owned).collect())
}

async fn insert(cab: &Cabinet, me: &Me, proxy: &str, ward: &str, scopes: Vec<String>, now: i64) -> Result<ProxyGrant> {
    if proxy == ward {
        return Err(ValidationError::new("proxy", Reason::Format).into());
    }
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = cab.store().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO proxies (id, proxy_patient_id, ward_patient_id, scopes, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(proxy)
    .bind(ward)
    .bind(scopes.join(","))
    .bind(me.account_id())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StorageError::from_sqlx);
    match inserted {
        Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "proxy.exists" }),
        Err(e) if e.foreign_key_violation() => return Err(Error::NotFound { entity: "patient" }),
        other => other?,
    };
    journal(cab, &mut tx, me, ward, Action::Create, &id, now).await?;
    tx.commit().await.map_err(sq)?;
    Ok(ProxyGrant {
        id,
        proxy_patient_id: proxy.to_owned(),
        ward_patient_id: ward.to_owned(),
        scopes,
        granted_by: me.account_id().to_owned(),
        granted_at: from_micros(now)?,
    })
}

async fn journal(cab: &Cabinet, tx: &mut Conn, me: &Me, ward: &str, action: Action, id: &str, now: i64) -> Result<()> {
    let what = Access { patient_id: Some(ward), action, resource_type: "proxy", resource_id: Some(id) };
    cab.journal().record(tx, me.audit_context(), what, Outcome::Success, now).await?;
    Ok(())
}

fn grant_from(r: &sqlx::any::AnyRow) -> Result<ProxyGrant> {
    let scopes: String = r.try_get(3).map_err(sq)?;
    Ok(ProxyGrant {
        id: r.try_get(0).map_err(sq)?,
        proxy_patient_id: r.try_get(1).map_err(sq)?,
        ward_patient_id: r.try_get(2).map_err(sq)?,
        scopes: scopes.split(',').map(str::to_owned).collect(),
        granted_by: r.try_get(4).map_err(sq)?,
        granted_at: from_micros(r.try_get(5).map_err(sq)?)?,
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

    /// An adult patient lets the person with `proxy_snils` act for them within `scopes`.
    pub async fn grant(&self, proxy_snils: &str, scopes_wanted: &[String]) -> Result<ProxyGrant> {
        let cab = self.me.cabinet();
        let ward = self.me.own_medical().await?;
        let scopes = scopes(scopes_wanted)?;
        let patients = Patients::new(cab.clone(), self.me.audit_context().clone());
        let me = patients.get(&ward).await?;
        let today = cab.now().date();
        let adult = crate::timeutil::age_on(me.birth_date, today) >= crate::timeutil::ADULT_AGE;
        if !adult {
            return Err(Error::PermissionDenied { code: "proxy.ward_minor" });
        }
        let proxy = patients.find_by_snils(proxy_snils).await?.ok_or(Error::NotFound { entity: "patient" })?;
        insert(cab, &self.me, &proxy, &ward, scopes, to_micros(cab.now())).await
    }

    /// Live grants where the signed-in patient is the ward or the proxy.
    pub async fn list(&self) -> Result<Vec<ProxyGrant>> {
        let own = &self.me.own_medical().await?;
        let rows = sqlx::query(
            "SELECT id, proxy_patient_id, ward_patient_id, scopes, granted_by, granted_at FROM proxies \
             WHERE (proxy_patient_id = $1 OR ward_patient_id = $1) AND revoked_at IS NULL ORDER BY granted_at DESC, id DESC",
        )
        .bind(own)
        .fetch_all(self.me.cabinet().store().pool())
        .await
        .map_err(sq)?;
        rows.iter().map(grant_from).collect()
    }

    /// The ward (or the proxy) ends a grant.
    pub async fn revoke(&self, grant_id: &str) -> Result<()> {
        let cab = self.me.cabinet();
        let own = self.me.own_medical().await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let ward: Option<String> = sqlx::query_scalar(
            "SELECT ward_patient_id FROM proxies WHERE id = $1 AND (ward_patient_id = $2 OR proxy_patient_id = $2) AND revoked_at IS NULL",
        )
        .bind(grant_id)
        .bind(&own)
        .fetch_optional(&mut *tx)
        .await
        .map_err(sq)?;
        let ward = ward.ok_or(Error::NotFound { entity: "proxy" })?;
        sqlx::query("UPDATE proxies SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(grant_id)
            .execute(&mut *tx)
            .await
            .map_err(sq)?;
        journal(cab, &mut tx, &self.me, &ward, Action::Delete, grant_id, now).await?;
        tx.commit().await.map_err(sq)?;
        Ok(())
    }
}

/// Staff registering proxies (e.g. a parent for a child) for patients of their clinic.
#[derive(Debug, Clone)]
pub struct StaffProxies {
    me: Me,
}

impl StaffProxies {
    pub(crate) fn new(me: Me) -> Self {
        StaffProxies { me }
    }

    /// Lets `proxy_patient_id` act for `ward_patient_id` (a patient of the clinic).
    pub async fn grant(
        &self,
        proxy_patient_id: &str,
        ward_patient_id: &str,
        scopes_wanted: &[String],
    ) -> Result<ProxyGrant> {
        let cab = self.me.cabinet();
        crate::medical::staff_for(&self.me, ward_patient_id, PROXY_ROLES).await?;
        let scopes = scopes(scopes_wanted)?;
        insert(cab, &self.me, proxy_patient_id, ward_patient_id, scopes, to_micros(cab.now())).await
    }
}
