//! The storage of lab results (R9): every SQL statement of the area that reads them, rows
//! read by column name (results are written with the patient's other rows through
//! `store::rows`). Bodies arrive and leave sealed; the rules and the sealing stay in the
//! area's module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

const COLUMNS: &str = "id, report_id, issued_at, sampled_at, CAST(position AS BIGINT) AS position, body";

/// A result as stored (body sealed).
pub(super) struct ResultRow {
    pub id: String,
    pub report_id: String,
    pub issued_at: i64,
    pub sampled_at: i64,
    pub position: i64,
    pub body: Vec<u8>,
}

/// Which results to read, in which order.
pub(super) enum Which<'a> {
    /// Every result of a patient, oldest report first.
    AllOf(&'a str),
    /// The results of one report, in their order.
    Report(&'a str),
    /// A patient's results sampled at or after `since`, newest first, after the sort key
    /// `after` (sampled, issued, position, report), at most `limit`.
    Page { patient_id: &'a str, since: i64, after: Option<(i64, i64, i64, &'a str)>, limit: i64 },
}

fn result(r: &sqlx::any::AnyRow) -> Result<ResultRow> {
    Ok(ResultRow {
        id: r.try_get("id")?,
        report_id: r.try_get("report_id")?,
        issued_at: r.try_get("issued_at")?,
        sampled_at: r.try_get("sampled_at")?,
        position: r.try_get("position")?,
        body: r.try_get("body")?,
    })
}

/// Results.
pub(super) async fn results<'e>(ex: impl Executor<'e, Database = Any>, which: Which<'_>) -> Result<Vec<ResultRow>> {
    use crate::store::composed_sql;
    let rows = match which {
        Which::AllOf(patient_id) => {
            sqlx::query(composed_sql!(
                "SELECT {COLUMNS} FROM lab_results WHERE patient_id = $1 ORDER BY issued_at, report_id, position"
            ))
            .bind(patient_id)
            .fetch_all(ex)
            .await?
        }
        Which::Report(report_id) => {
            sqlx::query(composed_sql!("SELECT {COLUMNS} FROM lab_results WHERE report_id = $1 ORDER BY position"))
                .bind(report_id)
                .fetch_all(ex)
                .await?
        }
        Which::Page { patient_id, since, after, limit } => {
            sqlx::query(composed_sql!(
                "SELECT {COLUMNS} FROM lab_results \
             WHERE patient_id = $1 AND sampled_at >= $2 AND ($3 = 0 OR sampled_at < $4 OR (sampled_at = $4 AND \
             (issued_at < $5 OR (issued_at = $5 AND (report_id < $7 OR (report_id = $7 AND position > $6)))))) \
             ORDER BY sampled_at DESC, issued_at DESC, report_id DESC, position LIMIT $8"
            ))
            .bind(patient_id)
            .bind(since)
            .bind(i64::from(after.is_some()))
            .bind(after.map_or(0, |a| a.0))
            .bind(after.map_or(0, |a| a.1))
            .bind(after.map_or(0, |a| a.2))
            .bind(after.map_or("", |a| a.3))
            .bind(limit)
            .fetch_all(ex)
            .await?
        }
    };
    rows.iter().map(result).collect()
}

/// The report a patient's result belongs to, if it exists.
pub(super) async fn report_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    result_id: &str,
    patient_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT report_id FROM lab_results WHERE id = $1 AND patient_id = $2")
        .bind(result_id)
        .bind(patient_id)
        .fetch_optional(ex)
        .await?)
}
