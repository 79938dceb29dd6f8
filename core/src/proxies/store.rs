//! The storage of proxy grants (R20): every SQL statement of the area, rows read by column
//! name. The basis document arrives sealed; rules, authorization and sealing stay in the
//! area's module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

/// A live grant as stored.
pub(super) struct GrantRow {
    pub id: String,
    pub proxy_patient_id: String,
    pub ward_patient_id: String,
    pub scopes: Vec<String>,
    pub granted_by: String,
    pub granted_at: i64,
    pub valid_until: i64,
}

/// A grant asked for by an adult, waiting for their code.
pub(super) struct RequestRow {
    pub proxy_patient_id: String,
    pub scopes: Vec<String>,
    pub valid_until: i64,
    pub expires_at: i64,
    pub confirmed_at: Option<i64>,
}

fn scopes(list: &str) -> Vec<String> {
    list.split(',').map(str::to_owned).collect()
}

/// The scopes of the live grant from `ward` to `proxy` at `now`, if there is one.
pub(super) async fn live_scopes<'e>(
    ex: impl Executor<'e, Database = Any>,
    proxy: &str,
    ward: &str,
    now: i64,
) -> Result<Option<Vec<String>>> {
    let list: Option<String> = sqlx::query_scalar(
        "SELECT scopes FROM proxies WHERE proxy_patient_id = $1 AND ward_patient_id = $2 AND revoked_at IS NULL \
         AND valid_until > $3",
    )
    .bind(proxy)
    .bind(ward)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    Ok(list.as_deref().map(scopes))
}

/// The live grants for `ward` at `now`: each proxy with their scopes.
pub(super) async fn live_proxies<'e>(
    ex: impl Executor<'e, Database = Any>,
    ward: &str,
    now: i64,
) -> Result<Vec<(String, Vec<String>)>> {
    let rows = sqlx::query(
        "SELECT proxy_patient_id, scopes FROM proxies WHERE ward_patient_id = $1 AND revoked_at IS NULL \
         AND valid_until > $2 ORDER BY proxy_patient_id",
    )
    .bind(ward)
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let list: String = r.try_get("scopes")?;
            Ok((r.try_get("proxy_patient_id")?, scopes(&list)))
        })
        .collect()
}

/// Closes the grants of the pair that ended by `now` (so a new one can follow).
pub(super) async fn close_ended<'e>(
    ex: impl Executor<'e, Database = Any>,
    proxy: &str,
    ward: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE proxies SET revoked_at = valid_until WHERE proxy_patient_id = $1 AND ward_patient_id = $2 \
         AND revoked_at IS NULL AND valid_until <= $3",
    )
    .bind(proxy)
    .bind(ward)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// A new grant; the storage error keeps the database's word (a second live grant of the
/// pair, an unknown patient) for the caller to name.
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    g: &GrantRow,
    basis: Option<Vec<u8>>,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO proxies (id, proxy_patient_id, ward_patient_id, scopes, granted_by, granted_at, valid_until, basis) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&g.id)
    .bind(&g.proxy_patient_id)
    .bind(&g.ward_patient_id)
    .bind(g.scopes.join(","))
    .bind(&g.granted_by)
    .bind(g.granted_at)
    .bind(g.valid_until)
    .bind(basis)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// Live grants where `patient` is the ward or the proxy at `now`, newest first.
pub(super) async fn live_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient: &str,
    now: i64,
) -> Result<Vec<GrantRow>> {
    let rows = sqlx::query(
        "SELECT id, proxy_patient_id, ward_patient_id, scopes, granted_by, granted_at, valid_until FROM proxies \
         WHERE (proxy_patient_id = $1 OR ward_patient_id = $1) AND revoked_at IS NULL AND valid_until > $2 \
         ORDER BY granted_at DESC, id DESC",
    )
    .bind(patient)
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            let list: String = r.try_get("scopes")?;
            Ok(GrantRow {
                id: r.try_get("id")?,
                proxy_patient_id: r.try_get("proxy_patient_id")?,
                ward_patient_id: r.try_get("ward_patient_id")?,
                scopes: scopes(&list),
                granted_by: r.try_get("granted_by")?,
                granted_at: r.try_get("granted_at")?,
                valid_until: r.try_get("valid_until")?,
            })
        })
        .collect()
}

/// The two people of a grant.
pub(super) struct PartiesRow {
    pub ward_patient_id: String,
    pub proxy_patient_id: String,
}

/// The ward and proxy of a grant not yet revoked that `patient` is part of.
pub(super) async fn parties<'e>(
    ex: impl Executor<'e, Database = Any>,
    grant_id: &str,
    patient: &str,
) -> Result<Option<PartiesRow>> {
    let row = sqlx::query(
        "SELECT ward_patient_id, proxy_patient_id FROM proxies WHERE id = $1 \
         AND (ward_patient_id = $2 OR proxy_patient_id = $2) AND revoked_at IS NULL",
    )
    .bind(grant_id)
    .bind(patient)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(PartiesRow {
            ward_patient_id: r.try_get("ward_patient_id")?,
            proxy_patient_id: r.try_get("proxy_patient_id")?,
        })
    })
    .transpose()
}

/// Ends a grant at `now`.
pub(super) async fn revoke<'e>(ex: impl Executor<'e, Database = Any>, grant_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE proxies SET revoked_at = $1 WHERE id = $2").bind(now).bind(grant_id).execute(ex).await?;
    Ok(())
}

/// A grant an adult asked for, waiting for the code sent to them.
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert_request<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    ward: &str,
    proxy: &str,
    scopes: &[String],
    valid_until: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO proxy_requests (id, ward_patient_id, proxy_patient_id, scopes, valid_until, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(ward)
    .bind(proxy)
    .bind(scopes.join(","))
    .bind(valid_until)
    .bind(now)
    .bind(expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// The grant `ward` asked for as `id`, if there is one.
pub(super) async fn request<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    ward: &str,
) -> Result<Option<RequestRow>> {
    let row = sqlx::query(
        "SELECT proxy_patient_id, scopes, valid_until, expires_at, confirmed_at FROM proxy_requests \
         WHERE id = $1 AND ward_patient_id = $2",
    )
    .bind(id)
    .bind(ward)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        let list: String = r.try_get("scopes")?;
        Ok(RequestRow {
            proxy_patient_id: r.try_get("proxy_patient_id")?,
            scopes: scopes(&list),
            valid_until: r.try_get("valid_until")?,
            expires_at: r.try_get("expires_at")?,
            confirmed_at: r.try_get("confirmed_at")?,
        })
    })
    .transpose()
}

/// Claims a pending request for its confirmation; whether this call claimed it.
pub(super) async fn claim_request<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let claimed = sqlx::query("UPDATE proxy_requests SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Whether `patient` is attached to `clinic` now.
pub(super) async fn attached<'e>(ex: impl Executor<'e, Database = Any>, clinic: &str, patient: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM attachments WHERE clinic_id = $1 AND patient_id = $2 AND detached_at IS NULL",
    )
    .bind(clinic)
    .bind(patient)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}

/// A ward due a summary, with the start of the period to summarize.
pub(super) struct SummaryDueRow {
    pub ward_patient_id: String,
    pub since: i64,
}

/// Wards with live grants whose last summary is older than `before`, with the start of the
/// period to summarize, at most `limit`.
pub(super) async fn wards_due_summary<'e>(
    ex: impl Executor<'e, Database = Any>,
    before: i64,
    limit: i64,
) -> Result<Vec<SummaryDueRow>> {
    let rows = sqlx::query(
        "SELECT ward_patient_id, MIN(COALESCE(summary_at, granted_at)) AS since FROM proxies \
         WHERE revoked_at IS NULL AND COALESCE(summary_at, 0) < $1 \
         AND ward_patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) GROUP BY ward_patient_id LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| Ok(SummaryDueRow { ward_patient_id: r.try_get("ward_patient_id")?, since: r.try_get("since")? }))
        .collect()
}

/// How many journal entries proxies wrote for `ward` since `since`.
pub(super) async fn proxy_actions<'e>(ex: impl Executor<'e, Database = Any>, ward: &str, since: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE actor_kind = 'proxy' AND on_behalf_of = $1 AND at >= $2",
    )
    .bind(ward)
    .bind(since)
    .fetch_one(ex)
    .await?)
}

/// Stamps the summary time of `ward`'s live grants.
pub(super) async fn mark_summarized<'e>(ex: impl Executor<'e, Database = Any>, ward: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE proxies SET summary_at = $1 WHERE ward_patient_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(ward)
        .execute(ex)
        .await?;
    Ok(())
}
