//! The storage of the clinic directory (R8, R11): every SQL statement of the area, rows read
//! by column name. Directory data is stored in clear; the rules (checked texts, folded keys),
//! the conflicts and the journaling stay in the area's module. Each function takes any
//! executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

/// A clinic's columns, with its effective time zone: its own, else its region's.
const CLINIC_COLUMNS: &str = "id, region_code, code, name, address, opening_hours, \
    COALESCE(time_zone, (SELECT r.time_zone FROM regions r WHERE r.code = clinics.region_code)) AS time_zone";

/// A region as stored.
pub(super) struct RegionRow {
    pub code: String,
    pub name: String,
    pub time_zone: String,
}

/// A clinic as stored.
pub(super) struct ClinicRow {
    pub id: String,
    pub region_code: String,
    pub code: String,
    pub name: String,
    pub address: String,
    pub opening_hours: String,
    pub time_zone: String,
}

/// A practitioner with their clinic's name, as stored (visit types apart).
pub(super) struct PractitionerRow {
    pub id: String,
    pub clinic_id: String,
    pub clinic_name: String,
    pub full_name: String,
    pub specialization: String,
}

/// A slot as stored (times in microseconds).
pub(super) struct SlotRow {
    pub id: String,
    pub practitioner_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub visit_type: String,
}

/// A new clinic (its name also as the folded key it is found by).
pub(super) struct NewClinicRow<'a> {
    pub id: &'a str,
    pub region_code: &'a str,
    pub code: &'a str,
    pub name: &'a str,
    pub name_key: &'a str,
    pub address: &'a str,
    pub opening_hours: &'a str,
    pub now: i64,
}

/// A new practitioner (their specialization also as the folded key it is found by).
pub(super) struct NewPractitionerRow<'a> {
    pub id: &'a str,
    pub clinic_id: &'a str,
    pub full_name: &'a str,
    pub specialization: &'a str,
    pub specialization_key: &'a str,
    pub now: i64,
}

/// A new slot (times in microseconds).
pub(super) struct NewSlotRow<'a> {
    pub id: &'a str,
    pub practitioner_id: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub visit_type: &'a str,
    pub now: i64,
}

/// Which practitioners to read: every filter given must hold.
pub(super) struct PractitionerFilter<'a> {
    /// The folded specialization key.
    pub specialization_key: Option<&'a str>,
    /// The clinic.
    pub clinic_id: Option<&'a str>,
    /// A visit type they take.
    pub visit_type: Option<&'a str>,
}

fn clinic(r: &sqlx::any::AnyRow) -> Result<ClinicRow> {
    Ok(ClinicRow {
        id: r.try_get("id")?,
        region_code: r.try_get("region_code")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        opening_hours: r.try_get("opening_hours")?,
        time_zone: r.try_get("time_zone")?,
    })
}

fn slot(r: &sqlx::any::AnyRow) -> Result<SlotRow> {
    Ok(SlotRow {
        id: r.try_get("id")?,
        practitioner_id: r.try_get("practitioner_id")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        visit_type: r.try_get("visit_type")?,
    })
}

/// Every region, by code.
pub(super) async fn regions<'e>(ex: impl Executor<'e, Database = Any>) -> Result<Vec<RegionRow>> {
    let rows = sqlx::query("SELECT code, name, time_zone FROM regions ORDER BY code").fetch_all(ex).await?;
    rows.iter()
        .map(|r| {
            Ok(RegionRow { code: r.try_get("code")?, name: r.try_get("name")?, time_zone: r.try_get("time_zone")? })
        })
        .collect()
}

/// The region's time zone, if the region exists.
pub(super) async fn region_zone<'e>(ex: impl Executor<'e, Database = Any>, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT time_zone FROM regions WHERE code = $1").bind(code).fetch_optional(ex).await?)
}

/// Sets (or, with `None`, clears) a clinic's own time zone; whether the clinic exists.
pub(super) async fn set_clinic_zone<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
    zone: Option<&str>,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE clinics SET time_zone = $1 WHERE id = $2").bind(zone).bind(clinic_id).execute(ex).await?;
    Ok(done.rows_affected() == 1)
}

/// A new region; the storage error keeps the database's word (the code already taken).
pub(super) async fn insert_region<'e>(
    ex: impl Executor<'e, Database = Any>,
    code: &str,
    name: &str,
    time_zone: &str,
) -> std::result::Result<(), StorageError> {
    sqlx::query("INSERT INTO regions (code, name, time_zone) VALUES ($1, $2, $3)")
        .bind(code)
        .bind(name)
        .bind(time_zone)
        .execute(ex)
        .await
        .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// A new region unless one with the code exists.
pub(super) async fn ensure_region<'e>(ex: impl Executor<'e, Database = Any>, code: &str, name: &str) -> Result<()> {
    sqlx::query("INSERT INTO regions (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING")
        .bind(code)
        .bind(name)
        .execute(ex)
        .await?;
    Ok(())
}

/// The clinics of a region, by name key.
pub(super) async fn clinics_of_region<'e>(
    ex: impl Executor<'e, Database = Any>,
    region_code: &str,
) -> Result<Vec<ClinicRow>> {
    let rows = sqlx::query(crate::store::composed_sql!(
        "SELECT {CLINIC_COLUMNS} FROM clinics WHERE region_code = $1 ORDER BY name_key"
    ))
    .bind(region_code)
    .fetch_all(ex)
    .await?;
    rows.iter().map(clinic).collect()
}

/// The clinic `id`, if there is one.
pub(super) async fn clinic_by_id<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<ClinicRow>> {
    let row = sqlx::query(crate::store::composed_sql!("SELECT {CLINIC_COLUMNS} FROM clinics WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(clinic).transpose()
}

/// The clinic with a registry code, if there is one.
pub(super) async fn clinic_by_code<'e>(ex: impl Executor<'e, Database = Any>, code: &str) -> Result<Option<ClinicRow>> {
    let row = sqlx::query(crate::store::composed_sql!("SELECT {CLINIC_COLUMNS} FROM clinics WHERE code = $1"))
        .bind(code)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(clinic).transpose()
}

/// The id of the clinic with a registry code, if there is one.
pub(super) async fn clinic_id_by_code<'e>(ex: impl Executor<'e, Database = Any>, code: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM clinics WHERE code = $1").bind(code).fetch_optional(ex).await?)
}

/// The clinics whose folded name is `name_key`, by code.
pub(super) async fn clinics_named<'e>(ex: impl Executor<'e, Database = Any>, name_key: &str) -> Result<Vec<ClinicRow>> {
    let rows = sqlx::query(crate::store::composed_sql!(
        "SELECT {CLINIC_COLUMNS} FROM clinics WHERE name_key = $1 ORDER BY code"
    ))
    .bind(name_key)
    .fetch_all(ex)
    .await?;
    rows.iter().map(clinic).collect()
}

/// A new clinic; the storage error keeps the database's word (the code already taken).
pub(super) async fn insert_clinic<'e>(
    ex: impl Executor<'e, Database = Any>,
    c: NewClinicRow<'_>,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO clinics (id, region_code, code, name, name_key, address, opening_hours, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id)
    .bind(c.region_code)
    .bind(c.code)
    .bind(c.name)
    .bind(c.name_key)
    .bind(c.address)
    .bind(c.opening_hours)
    .bind(c.now)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// Practitioners with their clinic's name, by name then id. The statement is built from
/// the filters given, each bound in turn.
pub(super) async fn practitioners<'e>(
    ex: impl Executor<'e, Database = Any>,
    filter: PractitionerFilter<'_>,
) -> Result<Vec<PractitionerRow>> {
    let mut sql = String::from(
        "SELECT p.id, p.clinic_id, c.name AS clinic_name, p.full_name, p.specialization FROM practitioners p \
         JOIN clinics c ON c.id = p.clinic_id WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    if let Some(s) = filter.specialization_key {
        binds.push(s);
        sql.push_str(&format!(" AND p.specialization_key = ${}", binds.len()));
    }
    if let Some(c) = filter.clinic_id {
        binds.push(c);
        sql.push_str(&format!(" AND p.clinic_id = ${}", binds.len()));
    }
    if let Some(v) = filter.visit_type {
        binds.push(v);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM practitioner_visit_types t WHERE t.practitioner_id = p.id AND t.visit_type = ${})",
            binds.len()
        ));
    }
    sql.push_str(" ORDER BY p.full_name, p.id");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(ex).await?;
    rows.iter()
        .map(|r| {
            Ok(PractitionerRow {
                id: r.try_get("id")?,
                clinic_id: r.try_get("clinic_id")?,
                clinic_name: r.try_get("clinic_name")?,
                full_name: r.try_get("full_name")?,
                specialization: r.try_get("specialization")?,
            })
        })
        .collect()
}

/// Whether the practitioner exists.
pub(super) async fn practitioner_exists<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM practitioners WHERE id = $1").bind(id).fetch_optional(ex).await?;
    Ok(found.is_some())
}

/// A new practitioner (their visit types apart).
pub(super) async fn insert_practitioner<'e>(
    ex: impl Executor<'e, Database = Any>,
    p: NewPractitionerRow<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO practitioners (id, clinic_id, full_name, specialization, specialization_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(p.id)
    .bind(p.clinic_id)
    .bind(p.full_name)
    .bind(p.specialization)
    .bind(p.specialization_key)
    .bind(p.now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The visit types a practitioner takes, in order.
pub(super) async fn visit_types<'e>(
    ex: impl Executor<'e, Database = Any>,
    practitioner_id: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT visit_type FROM practitioner_visit_types WHERE practitioner_id = $1 ORDER BY visit_type",
    )
    .bind(practitioner_id)
    .fetch_all(ex)
    .await?)
}

/// Whether a practitioner takes a visit type.
pub(super) async fn takes_visit_type<'e>(
    ex: impl Executor<'e, Database = Any>,
    practitioner_id: &str,
    visit_type: &str,
) -> Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT visit_type FROM practitioner_visit_types WHERE practitioner_id = $1 AND visit_type = $2",
    )
    .bind(practitioner_id)
    .bind(visit_type)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}

/// Lets a practitioner take one more visit type (no change if they already do).
pub(super) async fn add_visit_type<'e>(
    ex: impl Executor<'e, Database = Any>,
    practitioner_id: &str,
    visit_type: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO practitioner_visit_types (practitioner_id, visit_type) VALUES ($1, $2) \
         ON CONFLICT (practitioner_id, visit_type) DO NOTHING",
    )
    .bind(practitioner_id)
    .bind(visit_type)
    .execute(ex)
    .await?;
    Ok(())
}

/// The documents a visit type is configured to need, comma-separated, if it is configured.
pub(super) async fn required_documents<'e>(
    ex: impl Executor<'e, Database = Any>,
    visit_type: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT required_documents FROM visit_types WHERE code = $1")
        .bind(visit_type)
        .fetch_optional(ex)
        .await?)
}

/// Replaces the documents a visit type needs (comma-separated). Run it inside a transaction.
pub(super) async fn set_required_documents(
    conn: &mut crate::store::Conn,
    visit_type: &str,
    documents: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM visit_types WHERE code = $1").bind(visit_type).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO visit_types (code, required_documents) VALUES ($1, $2)")
        .bind(visit_type)
        .bind(documents)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A practitioner's slots starting in `[since, until)` with no booked appointment, earliest
/// first.
pub(super) async fn free_slots<'e>(
    ex: impl Executor<'e, Database = Any>,
    practitioner_id: &str,
    since: i64,
    until: i64,
) -> Result<Vec<SlotRow>> {
    let rows = sqlx::query(
        "SELECT s.id, s.practitioner_id, s.starts_at, s.ends_at, s.visit_type FROM slots s \
         WHERE s.practitioner_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 \
         AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status = 'booked') \
         ORDER BY s.starts_at",
    )
    .bind(practitioner_id)
    .bind(since)
    .bind(until)
    .fetch_all(ex)
    .await?;
    rows.iter().map(slot).collect()
}

/// A new slot; the storage error keeps the database's word (the same practitioner and
/// start already taken).
pub(super) async fn insert_slot<'e>(
    ex: impl Executor<'e, Database = Any>,
    s: NewSlotRow<'_>,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO slots (id, practitioner_id, starts_at, ends_at, visit_type, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.id)
    .bind(s.practitioner_id)
    .bind(s.starts_at)
    .bind(s.ends_at)
    .bind(s.visit_type)
    .bind(s.now)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}
