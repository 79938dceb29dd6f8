//! Suspicious activity (R6): a login from a device and IP never seen on the account, a known
//! device on a network never seen, a successful login right after failed attempts, or a new
//! login while another device is active raises an incident. The patient is notified (SMS and
//! e-mail) with the details, a request number and a one-time confirmation code. If not
//! confirmed within 30 minutes, `run_due_jobs` blocks every active session and new logins
//! (driven by the `Clock`) until the person resolves it through password recovery, which
//! tells them by e-mail. Incidents stay in the journal; confirming one sends an e-mail.

use time::OffsetDateTime;

pub(crate) mod store;

use super::sessions::Device;
use super::{AuthError, codes};
use crate::audit::{Access, Action, Actor, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::integrations::Channel;
use crate::notify;
use crate::store::Conn;
use crate::timeutil::{from_micros, to_micros};

/// Reads of medical and personal data in the last hour that can count as unusual.
pub const UNUSUAL_READS_PER_HOUR: i64 = 100;
/// How many times the account's usual hourly rate (over the previous 30 days) is unusual.
pub const UNUSUAL_FACTOR: i64 = 10;

/// Time to confirm an incident before every session is blocked.
pub const CONFIRM_WITHIN_US: i64 = 30 * 60 * 1_000_000;
/// How many of the account's most recent addresses count as its known networks.
const RECENT_ADDRESSES: i64 = 200;

/// The network an address belongs to: its /24 for IPv4, its /48 for IPv6 (a home or a
/// carrier's pool changes the last part often); anything unparsable stands for itself.
pub(crate) fn network_of(ip: &str) -> String {
    match ip.trim().parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => network_of(&v4.to_string()),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
        Err(_) => ip.trim().to_owned(),
    }
}

/// Another session used this recently counts as simultaneous.
const SIMULTANEOUS_US: i64 = 5 * 60 * 1_000_000;

/// A security incident as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Incident {
    /// Id.
    pub id: String,
    /// Request number quoted in the notification (e.g. `INC-20261128-4F2A9C`).
    pub request_number: String,
    /// What looked suspicious.
    pub kind: IncidentKind,
    /// IP of the login that raised it.
    pub ip: Option<String>,
    /// Device name of that login.
    pub device: Option<String>,
    /// When.
    pub created_at: OffsetDateTime,
    /// Confirm before this, or every session is blocked.
    pub deadline: OffsetDateTime,
    /// Open, confirmed by the patient, or blocked.
    pub status: IncidentStatus,
}

crate::sets::closed_set! {
    /// What made a login or an access look suspicious (R5).
    pub enum IncidentKind in "kind" {
        /// A login from a device and address never seen for the account.
        NewDevice = "new_device",
        /// A login from a known device on a network never seen for the account (the device
        /// id is chosen by the client, so a known one proves nothing by itself).
        NewNetwork = "new_network",
        /// A successful login after failed attempts.
        SuccessAfterFailures = "success_after_failures",
        /// A login while another device's session is active.
        SimultaneousSessions = "simultaneous_sessions",
        /// Records read at an unusual rate.
        UnusualAccessRate = "unusual_access_rate",
        /// A password or second factor was changed.
        CredentialChange = "credential_change",
    }
}

crate::sets::closed_set! {
    /// Where an incident stands.
    pub enum IncidentStatus in "status" {
        /// Waiting for the patient's confirmation.
        Open = "open",
        /// The patient confirmed it was them.
        Confirmed = "confirmed",
        /// Not confirmed in time, or reported: sessions and new logins blocked.
        Blocked = "blocked",
        /// Resolved by the person through password recovery (blocked or still open then).
        Resolved = "resolved",
    }
}

/// Decides, inside the login transaction, whether this login is suspicious; returns the
/// incident kind.
pub(crate) async fn assess(
    tx: &mut Conn,
    account_id: &str,
    device: &Device,
    had_failures: bool,
    now: i64,
) -> Result<Option<IncidentKind>> {
    let previous = store::sessions_ever(&mut *tx, account_id).await?;
    if previous == 0 {
        // The first login after registration sets the baseline.
        return Ok(had_failures.then_some(IncidentKind::SuccessAfterFailures));
    }
    let known_device = store::sessions_from_device(&mut *tx, account_id, &device.id).await? > 0;
    let network = network_of(&device.ip);
    let seen = store::recent_ips(&mut *tx, account_id, RECENT_ADDRESSES).await?;
    let known_network = seen.iter().any(|ip| network_of(ip) == network);
    match (known_device, known_network) {
        (false, false) => return Ok(Some(IncidentKind::NewDevice)),
        (true, false) => return Ok(Some(IncidentKind::NewNetwork)),
        _ => {}
    }
    if had_failures {
        return Ok(Some(IncidentKind::SuccessAfterFailures));
    }
    let busy = store::busy_elsewhere(&mut *tx, account_id, &device.id, now - SIMULTANEOUS_US).await?;
    Ok((busy > 0).then_some(IncidentKind::SimultaneousSessions))
}

/// Finds accounts whose reads in the last hour are far above their usual rate (at least
/// [`UNUSUAL_READS_PER_HOUR`] and [`UNUSUAL_FACTOR`] times their hourly average over the
/// previous 30 days) and raises an `unusual_access_rate` incident for each, at most one per
/// hour. Run by `run_due_jobs`; returns how many were raised.
pub(crate) async fn detect_unusual_access(cab: &Cabinet) -> Result<u64> {
    const HOUR_US: i64 = 3600 * 1_000_000;
    let now = to_micros(cab.now());
    let busy = store::heavy_readers(cab.store().pool(), now - HOUR_US, UNUSUAL_READS_PER_HOUR).await?;
    let mut raised = 0;
    for store::HeavyReaderRow { account_id, reads: recent } in busy {
        let before =
            store::reads_between(cab.store().pool(), &account_id, now - 30 * 24 * HOUR_US, now - HOUR_US).await?;
        let usual_per_hour = (before / (30 * 24 - 1)).max(1);
        if recent < usual_per_hour * UNUSUAL_FACTOR {
            continue;
        }
        let mut tx = cab.store().begin().await?;
        let row = store::patient_and_rate_incidents(&mut *tx, &account_id, now - HOUR_US).await?;
        let Some((Some(patient_id), 0)) = row else { continue };
        let device = Device::default();
        let outbox =
            raise(cab, &mut tx, &account_id, &patient_id, IncidentKind::UnusualAccessRate, &device, now).await?;
        tx.commit().await?;
        for id in outbox {
            notify::deliver(cab, &id).await?;
        }
        raised += 1;
    }
    Ok(raised)
}

/// Raises an incident inside the caller's transaction: stores it with a confirmation code,
/// journals it and queues the notifications. Returns the outbox ids to deliver after commit.
pub(crate) async fn raise(
    cab: &Cabinet,
    tx: &mut Conn,
    account_id: &str,
    patient_id: &str,
    kind: IncidentKind,
    device: &Device,
    now: i64,
) -> Result<Vec<String>> {
    let id = uuid::Uuid::new_v4().to_string();
    let stamp = from_micros(now)?.date();
    let number = format!(
        "INC-{:04}{:02}{:02}-{}",
        stamp.year(),
        u8::from(stamp.month()),
        stamp.day(),
        &codes::token()[..6].to_uppercase()
    );
    let incident = store::NewIncident {
        id: &id,
        account_id,
        request_number: &number,
        kind: kind.as_str(),
        ip: &device.ip,
        device_id: &device.id,
        device_name: &device.name,
        now,
        deadline: now + CONFIRM_WITHIN_US,
    };
    store::insert(&mut *tx, incident).await?;
    let code = codes::generate(6);
    crate::accounts::store_code(cab, tx, "incident", &id, &code, now + CONFIRM_WITHIN_US).await?;
    let ctx = AuditContext { actor: Actor::system(), ip: Some(device.ip.clone()), device_id: Some(device.id.clone()) };
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Create,
        resource_type: "incident",
        resource_id: Some(&id),
    };
    cab.journal().record(tx, &ctx, what, Outcome::Success, now).await?;
    let person = crate::patients::Patients::new(cab.clone(), ctx).read_in(tx, patient_id, now).await?;
    let locale = cab.locale();
    let details = crate::i18n::text(locale, &format!("incident.{kind}"));
    let mut out = Vec::new();
    for (channel, to) in [(Channel::Sms, person.phone), (Channel::Email, person.email)] {
        let Some(to) = to else { continue };
        let args = [
            ("number", number.clone()),
            ("details", details.to_owned()),
            ("device", device.name.clone()),
            ("ip", device.ip.clone()),
        ];
        let msg = cab.message_with(Some(patient_id), "incident", channel, &to, Some(&code), &args);
        out.push(cab.outbox().enqueue(tx, &msg, now).await?);
    }
    Ok(out)
}

/// The account's incidents, newest first.
pub(crate) async fn list(cab: &Cabinet, account_id: &str) -> Result<Vec<Incident>> {
    store::of_account(cab.store().pool(), account_id)
        .await?
        .into_iter()
        .map(|r| {
            Ok(Incident {
                kind: IncidentKind::stored(&r.kind)?,
                created_at: from_micros(r.created_at)?,
                deadline: from_micros(r.deadline)?,
                status: match (r.confirmed_at, r.blocked_at, r.resolved_at) {
                    (Some(_), _, _) => IncidentStatus::Confirmed,
                    (None, _, Some(_)) => IncidentStatus::Resolved,
                    (None, Some(_), None) => IncidentStatus::Blocked,
                    (None, None, None) => IncidentStatus::Open,
                },
                id: r.id,
                request_number: r.request_number,
                ip: r.ip,
                device: r.device_name,
            })
        })
        .collect()
}

/// The patient confirms an incident with the code from the notification ("it was me").
pub(crate) async fn confirm(
    cab: &Cabinet,
    ctx: &AuditContext,
    account_id: &str,
    patient_id: &str,
    incident_id: &str,
    code: &str,
) -> Result<()> {
    let now = to_micros(cab.now());
    let owner = store::open_owner(cab.store().pool(), incident_id).await?;
    if owner.as_deref() != Some(account_id) {
        return Err(Error::NotFound { entity: "incident" });
    }
    crate::accounts::check_code(cab, "incident", incident_id, code, now).await?;
    let mut tx = cab.store().begin().await?;
    if !store::confirm(&mut *tx, incident_id, now).await? {
        return Err(AuthError::CodeExpired.into());
    }
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Update,
        resource_type: "incident",
        resource_id: Some(incident_id),
    };
    cab.journal().record(&mut tx, ctx, what, Outcome::Success, now).await?;
    let person = crate::patients::Patients::new(cab.clone(), ctx.clone()).read_in(&mut tx, patient_id, now).await?;
    let mut out = None;
    if let Some(email) = person.email {
        let msg = cab.message(Some(patient_id), "incident_resolved", Channel::Email, &email, None);
        out = Some(cab.outbox().enqueue(&mut tx, &msg, now).await?);
    }
    tx.commit().await?;
    if let Some(o) = out {
        notify::deliver(cab, &o).await?;
    }
    Ok(())
}

/// Blocks every active session, and new logins, of accounts whose incidents passed their
/// deadline unconfirmed; recovery lifts it and resolves the incident. Returns how many
/// incidents expired.
pub(crate) async fn expire(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let due = store::overdue(cab.store().pool(), now).await?;
    let mut expired = 0;
    for (id, account, patient) in due {
        let mut tx = cab.store().begin().await?;
        // Claimed by the conditional update: one process blocks, the others skip.
        if !store::block(&mut *tx, &id, now).await? {
            continue;
        }
        store::block_sessions(&mut *tx, &account, now).await?;
        // New logins too, until the person resolves it through recovery; and no device keeps
        // getting the person's messages meanwhile.
        store::lock_account(&mut *tx, &account, now).await?;
        crate::notify::forget_push(&mut tx, &account, None).await?;
        let what = Access {
            patient_id: patient.as_deref(),
            action: Action::Update,
            resource_type: "session_block",
            resource_id: Some(&id),
        };
        cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        expired += 1;
    }
    Ok(expired)
}
