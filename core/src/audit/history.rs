//! The patient's access history (R5), read from the journal.

use time::OffsetDateTime;

use super::journal::entry_from_row;
use super::store;
use crate::error::Result;
use crate::i18n::Locale;
use crate::store::Conn;

/// One line of a patient's access history: who, when, from where, what on which data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct AccessEntry {
    /// Journal sequence number.
    pub seq: u64,
    /// When.
    pub at: OffsetDateTime,
    /// Who, for people: "you", "proxy", "clinic staff", "system" (localized).
    pub who: String,
    /// Patient, staff, proxy, system or anonymous.
    pub actor_kind: crate::audit::ActorKind,
    /// For staff: their role.
    pub actor_role: Option<crate::staff::StaffRole>,
    /// For staff: their full name.
    pub actor_name: Option<String>,
    /// For staff: the clinic they work for.
    pub actor_clinic: Option<String>,
    /// The actor's account id.
    pub actor_id: Option<String>,
    /// Action (read, create, login, …).
    pub action: crate::audit::Action,
    /// Kind of data.
    pub resource_type: String,
    /// Record id.
    pub resource_id: Option<String>,
    /// Success, denied or failure.
    pub outcome: crate::audit::Outcome,
    /// Client IP. In a patient's own history only their own and their proxies' addresses
    /// are shown: a staff member's network address is the clinic's business, not the patient's.
    pub ip: Option<String>,
    /// Client device id (hidden for staff in a patient's own history, like `ip`).
    pub device_id: Option<String>,
}

fn who(
    locale: Locale,
    kind: &str,
    actor_id: Option<&str>,
    viewer: Option<&str>,
    staff: Option<(&str, &str)>,
) -> String {
    if let (Some((role, name)), "staff") = (staff, kind) {
        return format!("{} {name}", crate::i18n::text(locale, &format!("role.{role}")));
    }
    let key = match kind {
        "patient" if actor_id.is_some() && actor_id == viewer => "who.you",
        "patient" => "who.patient",
        "staff" => "who.staff",
        "proxy" => "who.proxy",
        "anonymous" => "who.anonymous",
        _ => "who.system",
    };
    crate::i18n::text(locale, key).to_owned()
}

/// Entries about `patient_id` at or after `since_us` and before `before_seq` (if given),
/// newest first, at most `limit`.
pub(crate) async fn access_history(
    conn: &mut Conn,
    patient_id: &str,
    since_us: i64,
    before_seq: Option<i64>,
    limit: i64,
    viewer: Option<&str>,
    locale: Locale,
) -> Result<Vec<AccessEntry>> {
    let rows = store::patient_entries(conn, patient_id, since_us, before_seq, limit).await?;
    rows.into_iter()
        .map(|row| {
            let (e, _) = entry_from_row(row.entry)?;
            let (role, name, clinic) = (row.staff_role, row.staff_name, row.staff_clinic);
            // A patient reading their own history sees who and when, not staff addresses.
            let hide_address = viewer.is_some() && !matches!(e.actor_kind.as_str(), "patient" | "proxy" | "anonymous");
            let staff = role.as_deref().zip(name.as_deref());
            Ok(AccessEntry {
                seq: e.seq,
                at: e.at(),
                who: who(locale, &e.actor_kind, e.actor_id.as_deref(), viewer, staff),
                actor_role: role.as_deref().map(crate::staff::StaffRole::stored).transpose()?,
                actor_name: name.clone(),
                actor_clinic: clinic,
                actor_kind: crate::audit::ActorKind::stored(&e.actor_kind)?,
                actor_id: e.actor_id,
                action: crate::audit::Action::stored(&e.action)?,
                resource_type: e.resource_type,
                resource_id: e.resource_id,
                outcome: crate::audit::Outcome::stored(&e.outcome)?,
                ip: if hide_address { None } else { e.ip },
                device_id: if hide_address { None } else { e.device_id },
            })
        })
        .collect()
}
