//! The durable outbox (R14): messages are written in the same transaction as the event
//! that causes them, with recipient, text and code sealed under a system key; delivery
//! goes through the host `Notifier`. A message is claimed with a conditional UPDATE (only one
//! process wins it), delivered, then marked; a failure or a crash after the claim leaves it
//! to be retried after the claim expires, with exponential back-off.

mod store;

use crate::cabinet::Cabinet;
use crate::crypto::{Aad, SecretKey};
use crate::error::Result;
use crate::integrations::{Channel, Message, PushPlatform};
use crate::store::{Conn, StorageError};
use crate::timeutil::to_micros;

/// A message to enqueue.
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub patient_id: Option<String>,
    pub kind: &'static str,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub code: Option<String>,
    /// The push service of a push message's token.
    pub platform: Option<PushPlatform>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    recipient: String,
    subject: String,
    text: String,
    code: Option<String>,
    /// Absent in messages queued before push existed.
    #[serde(default)]
    platform: Option<String>,
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Delivered now.
    pub delivered: u64,
    /// Failed now; will be retried.
    pub failed: u64,
    /// Undelivered messages whose last attempt failed, waiting for their retry (after this
    /// pass; the ones that failed when first sent inside the call that queued them too).
    pub retries_scheduled: u64,
    /// Of those, the ones whose first and only attempt so far failed.
    pub first_attempt_failures: u64,
}

const CLAIM_US: i64 = 60_000_000;
const BASE_BACKOFF_US: i64 = 30_000_000;
const MAX_BACKOFF_US: i64 = 3_600_000_000;

fn aad(id: &str) -> Aad<'_> {
    Aad { table: "outbox", record_id: id, field: "payload", patient_id: "" }
}

fn channel_name(c: Channel) -> &'static str {
    c.as_str()
}

fn parse_channel(s: &str) -> Channel {
    match s {
        "email" => Channel::Email,
        "push" => Channel::Push,
        _ => Channel::Sms,
    }
}

async fn enqueue(conn: &mut Conn, sealer: &crate::crypto::Sealer, msg: &Outgoing, now: i64) -> Result<String> {
    // A message with nowhere to go is the caller's error now, not a silent entry the host
    // would be asked to send to nobody.
    if msg.recipient.trim().is_empty() {
        return Err(crate::Error::Conflict { code: "notify.no_recipient" });
    }
    let id = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::to_vec(&Payload {
        recipient: msg.recipient.clone(),
        subject: msg.subject.clone(),
        text: msg.text.clone(),
        code: msg.code.clone(),
        platform: msg.platform.map(|p| p.as_str().to_owned()),
    })
    .map_err(|_| crate::CryptoError::Internal("outbox payload"))?;
    let sealed = sealer.seal(&aad(&id), &payload)?;
    store::insert(conn, &id, msg.patient_id.as_deref(), msg.kind, channel_name(msg.channel), sealed, now).await?;
    Ok(id)
}

/// Tries to deliver one message now (used right after the transaction that enqueued it, so
/// codes arrive at once). Returns whether it was delivered; failures stay queued.
pub(crate) async fn deliver(cab: &Cabinet, id: &str) -> Result<bool> {
    if cab.notifier().is_none() {
        return Ok(false);
    }
    let now = to_micros(cab.now());
    if !store::claim(cab.store().pool(), id, now, now + CLAIM_US).await? {
        return Ok(false);
    }
    send(cab, id).await
}

/// Tries to deliver each of `ids` now (see [`deliver`]).
pub(crate) async fn deliver_all(cab: &Cabinet, ids: impl IntoIterator<Item = String>) -> Result<()> {
    for id in ids {
        deliver(cab, &id).await?;
    }
    Ok(())
}

/// Hands a claimed message to the host and records the outcome. A crash before the outcome
/// is recorded leaves the claim to expire, and the message is sent again (ids are stable,
/// so hosts can drop a duplicate the gateway already accepted).
async fn send(cab: &Cabinet, id: &str) -> Result<bool> {
    let Some(notifier) = cab.notifier() else { return Ok(false) };
    let row = store::message(cab.store().pool(), id).await?;
    let plain = cab.outbox().sealer().open(&aad(id), &row.payload)?;
    let p: Payload = serde_json::from_slice(&plain).map_err(|_| StorageError::Corrupt("outbox payload"))?;
    let (channel, attempts) = (row.channel, row.attempts);
    let message = Message {
        id: id.to_owned(),
        channel: parse_channel(&channel),
        recipient: p.recipient,
        kind: row.kind,
        subject: p.subject,
        text: p.text,
        code: p.code,
        patient_id: row.patient_id,
        platform: p.platform.as_deref().and_then(|p| PushPlatform::parse(p).ok()),
    };
    let result = notifier.deliver(&message);
    let now = to_micros(cab.now());
    let (kind, channel) = (message.kind.as_str(), message.channel.as_str());
    match result {
        Ok(()) => {
            store::delivered(cab.store().pool(), id, now).await?;
            tracing::info!(target: "kabinet::outbox", message_id = id, kind, channel, "message delivered");
            Ok(true)
        }
        Err(e) => {
            // The host's error text may quote the message: it is not logged, only kept sealed.
            tracing::warn!(
                target: "kabinet::outbox",
                message_id = id,
                kind,
                channel,
                attempt = attempts + 1,
                "delivery failed; retry scheduled"
            );
            let backoff = (BASE_BACKOFF_US << attempts.clamp(0, 16)).min(MAX_BACKOFF_US);
            // The host's text may quote the message (a phone number, a code): it is kept
            // only sealed under the outbox key, like the message itself.
            let text: String = e.0.chars().take(500).collect();
            let reason = cab
                .outbox()
                .sealer()
                .seal(&Aad { table: "outbox", record_id: id, field: "last_error", patient_id: "" }, text.as_bytes())?;
            store::failed(cab.store().pool(), id, now + backoff, reason).await?;
            Ok(false)
        }
    }
}

/// Delivers every message that is due. The batch is claimed in one statement — on
/// PostgreSQL with `FOR UPDATE SKIP LOCKED`, so processes running this at once take
/// disjoint batches without waiting on each other; on SQLite the single writer serializes.
pub(crate) async fn deliver_due(cab: &Cabinet, limit: i64) -> Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    if cab.notifier().is_none() {
        return Ok(report);
    }
    let lock = if cab.backend() == crate::store::Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    // One message claimed at a time, just before it is sent: a claim outlives one delivery
    // (a slow gateway or hook) and never a whole batch, so a second runner cannot reclaim —
    // and send again — messages still waiting in this runner's batch.
    for _ in 0..limit {
        let now = to_micros(cab.now());
        let Some(id) = store::claim_due(cab.store().pool(), now, now + CLAIM_US, 1, lock).await?.pop() else { break };
        match send(cab, &id).await {
            Ok(true) => report.delivered += 1,
            Ok(false) => report.failed += 1,
            // A message that cannot be opened must not hold up everyone else's: journaled,
            // and tried again in a day.
            Err(e) if crate::cabinet::skippable(&e) => {
                report.failed += 1;
                let settle = async |tx: &mut Conn| store::postpone_a_day(tx, &id, now).await;
                crate::cabinet::skip_item(cab, "outbox_delivery", &id, settle, now).await?;
            }
            Err(e) => return Err(e),
        }
    }
    (report.retries_scheduled, report.first_attempt_failures) = store::failures_waiting(cab.store().pool()).await?;
    Ok(report)
}

/// Events a patient cannot switch off: codes and security notices always go out.
pub const SECURITY_KINDS: &[&str] = &[
    "phone_confirmation",
    "email_confirmation",
    "login_code",
    "recovery_code",
    "incident",
    "incident_resolved",
    "incident_recovered",
    "password_changed",
    "registration_attempt",
    "proxy_code",
    "proxy_granted",
    "proxy_revoked",
    "contact_changed",
    "profile_change",
    "attachment_code",
    "certificate_code",
];

/// A patient's channel choices (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Preferences {
    /// SMS.
    pub sms: bool,
    /// E-mail.
    pub email: bool,
    /// Push.
    pub push: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences { sms: true, email: true, push: true }
    }
}

pub(crate) async fn preferences(conn: &mut Conn, patient_id: &str) -> Result<Preferences> {
    let row = store::preferences(conn, patient_id).await?;
    Ok(row.map_or_else(Preferences::default, |(sms, email, push)| Preferences { sms, email, push }))
}

pub(crate) async fn set_preferences(conn: &mut Conn, patient_id: &str, p: Preferences, now: i64) -> Result<()> {
    store::set_preferences(conn, patient_id, (p.sms, p.email, p.push), now).await?;
    Ok(())
}

/// Queues a message about an event (`lab_result`, `request_status`, …) to a patient, with
/// `{name}` placeholders of the text filled from `args`, by the event's channel policy (see
/// [`for_patient`]); returns the outbox ids. The contact is read under the system's name
/// (journaled).
pub(crate) async fn patient_event(
    cab: &Cabinet,
    tx: &mut Conn,
    patient_id: &str,
    kind: &'static str,
    args: &[(&str, String)],
    now: i64,
) -> Result<Vec<String>> {
    for_patient(cab, tx, &crate::audit::AuditContext::system(), patient_id, kind, None, args, now).await
}

/// Kinds a person gets by e-mail **and** in the app, whatever their preferences (the
/// seed: visit cards and booking changes); by SMS only when neither reaches them.
pub const VISIT_KINDS: &[&str] = &["appointment_booked", "appointment_changed", "appointment_cancelled"];

/// How an event reaches a patient (R14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    /// Security notices and codes: every channel that reaches the person.
    Every,
    /// Visit cards and booking changes: e-mail and push.
    VisitCard,
    /// Everything else: the first channel the person chose that reaches them (push, then
    /// SMS, then e-mail).
    Chosen,
}

fn policy_of(kind: &str) -> Policy {
    if SECURITY_KINDS.contains(&kind) {
        Policy::Every
    } else if VISIT_KINDS.contains(&kind) {
        Policy::VisitCard
    } else {
        Policy::Chosen
    }
}

/// Every address that reaches a person: each registered device, the phone, the e-mail.
struct Reach {
    pushes: Vec<Target>,
    sms: Option<Target>,
    email: Option<Target>,
}

impl Reach {
    /// The first channel the person chose that reaches them: push (every device), then SMS,
    /// then e-mail; none when no chosen channel does.
    fn first_chosen(self, prefs: Preferences) -> Vec<Target> {
        let pushes = if prefs.push { self.pushes } else { Vec::new() };
        let sms: Vec<Target> = self.sms.into_iter().filter(|_| prefs.sms).collect();
        let email: Vec<Target> = self.email.into_iter().filter(|_| prefs.email).collect();
        [pushes, sms, email].into_iter().find(|t| !t.is_empty()).unwrap_or_default()
    }
}

/// The person's record (read under `ctx`, journaled) and every address that reaches them.
async fn reach(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &crate::audit::AuditContext,
    patient_id: &str,
    now: i64,
) -> Result<(crate::patients::Patient, Reach)> {
    let person = crate::patients::Patients::new(cab.clone(), ctx.clone()).read_in(&mut *tx, patient_id, now).await?;
    let pushes = push_targets(cab, tx, patient_id)
        .await?
        .into_iter()
        .map(|(platform, to)| Target { channel: Channel::Push, to, platform: Some(platform) })
        .collect();
    let sms = person.phone.clone().map(|to| Target { channel: Channel::Sms, to, platform: None });
    let email = person.email.clone().map(|to| Target { channel: Channel::Email, to, platform: None });
    Ok((person, Reach { pushes, sms, email }))
}

/// One address a message goes to.
struct Target {
    channel: Channel,
    to: String,
    platform: Option<PushPlatform>,
}

/// Queues a message to a patient by the event's channel policy ([`Policy`]): security kinds
/// ([`SECURITY_KINDS`]) on every channel that reaches them, visit cards ([`VISIT_KINDS`]) by
/// e-mail and push, others on the first channel their preferences allow. Push goes to every
/// device with a registered token. Returns the outbox ids: none when nothing can carry it —
/// logged at `warn` (kind only) unless the person switched every channel off. The contact is
/// read under `ctx` (journaled).
#[allow(clippy::too_many_arguments)] // each argument is one part of the message
pub(crate) async fn for_patient(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &crate::audit::AuditContext,
    patient_id: &str,
    kind: &'static str,
    code: Option<&str>,
    args: &[(&str, String)],
    now: i64,
) -> Result<Vec<String>> {
    let (person, Reach { pushes, sms, email }) = reach(cab, tx, ctx, patient_id, now).await?;
    let policy = policy_of(kind);
    let mut switched_off = false;
    let targets: Vec<Target> = match policy {
        Policy::Every => pushes.into_iter().chain(sms).chain(email).collect(),
        Policy::VisitCard => {
            let both: Vec<Target> = email.into_iter().chain(pushes).collect();
            if both.is_empty() { sms.into_iter().collect() } else { both }
        }
        Policy::Chosen => {
            let prefs = preferences(&mut *tx, patient_id).await?;
            switched_off = !(prefs.sms || prefs.email || prefs.push);
            Reach { pushes, sms, email }.first_chosen(prefs)
        }
    };
    if targets.is_empty() {
        if switched_off {
            tracing::debug!(target: "kabinet::outbox", kind, "every channel switched off by the patient; not queued");
        } else {
            // Nothing can carry it (no contact, no device for the channels chosen): the
            // operator's concern, never silence.
            tracing::warn!(target: "kabinet::outbox", kind, "no channel reaches the patient; message not queued");
        }
        return Ok(Vec::new());
    }
    let locale = locale_of(cab, tx, patient_id).await?;
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let mut msg = cab.message_in(locale, Some(patient_id), kind, t.channel, &t.to, code, args);
        msg.platform = t.platform;
        out.push(cab.outbox().enqueue(tx, &msg, now).await?);
    }
    // A parent or representative holding `notifications` — and the scope the event belongs
    // to — gets the ward's messages too (R20), on their own channels and choices, named for
    // whom. Codes, security and proxy notices stay with their addressee.
    if let (None, Some(scope)) = (code, forwarded_scope(kind)) {
        for proxy in crate::proxies::proxies_with(cab, tx, patient_id, &["notifications", scope]).await? {
            out.extend(for_proxy(cab, tx, ctx, &proxy, patient_id, &person.given_name, kind, args, now).await?);
        }
    }
    Ok(out)
}

/// The proxy scope an event belongs to, for the events a proxy may be sent; `None` for the
/// rest (security notices, proxy notices, password reminders, registration attempts).
fn forwarded_scope(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "lab_result" => "labs",
        "new_document" | "document_restored" | "correction_resolved" | "correction_overdue" | "vaccination_due" => {
            "records"
        }
        "request_status" => "requests",
        "appointment_booked" | "appointment_changed" | "appointment_cancelled" | "reminder" => "appointments",
        "attachment_completed" | "detachment_completed" => "attachment",
        _ => return None,
    })
}

/// One message about `ward` to a proxy: by the kind's policy over the proxy's own contacts,
/// devices and choices, in their language, prefixed with the ward's given name.
#[allow(clippy::too_many_arguments)] // each argument is one part of the message
async fn for_proxy(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &crate::audit::AuditContext,
    proxy: &str,
    ward: &str,
    ward_name: &str,
    kind: &'static str,
    args: &[(&str, String)],
    now: i64,
) -> Result<Vec<String>> {
    let (_, reach) = reach(cab, tx, ctx, proxy, now).await?;
    let prefs =
        if policy_of(kind) == Policy::Chosen { preferences(&mut *tx, proxy).await? } else { Preferences::default() };
    let chosen = reach.first_chosen(prefs);
    let locale = locale_of(cab, tx, proxy).await?;
    let about = crate::i18n::format(locale, "msg.about", &[("name", ward_name.to_owned())]);
    let mut out = Vec::with_capacity(chosen.len());
    for t in chosen {
        let mut msg = cab.message_in(locale, Some(ward), kind, t.channel, &t.to, None, args);
        msg.platform = t.platform;
        msg.subject = format!("{about} {}", msg.subject);
        msg.text = format!("{about} {}", msg.text);
        out.push(cab.outbox().enqueue(tx, &msg, now).await?);
    }
    Ok(out)
}

/// The language a patient reads: their account's choice, else the cabinet's (R17).
pub(crate) async fn locale_of(cab: &Cabinet, conn: &mut Conn, patient_id: &str) -> Result<crate::i18n::Locale> {
    let tag = store::account_locale(&mut *conn, patient_id).await?;
    Ok(tag.as_deref().and_then(crate::i18n::Locale::parse).unwrap_or_else(|| cab.locale()))
}

/// The push tokens of the devices the patient's own account registered, opened.
async fn push_targets(cab: &Cabinet, tx: &mut Conn, patient_id: &str) -> Result<Vec<(PushPlatform, String)>> {
    let rows = store::push_tokens_of_patient(&mut *tx, patient_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let token = cab.credentials().open(&push_aad(&r.account_id, &r.device_id), &r.token)?;
        let token = String::from_utf8(token.to_vec()).map_err(|_| StorageError::Corrupt("push token"))?;
        out.push((PushPlatform::stored(&r.platform)?, token));
    }
    Ok(out)
}

fn push_aad<'a>(account_id: &'a str, device_id: &'a str) -> Aad<'a> {
    Aad { table: "push_tokens", record_id: account_id, field: device_id, patient_id: "" }
}

/// Devices one account may register for push: each event queues a message per device.
pub const MAX_PUSH_DEVICES: usize = 10;

/// A device registered for push (its token stays inside).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct PushDevice {
    /// The device id given at registration.
    pub device_id: String,
    /// Its push service.
    pub platform: PushPlatform,
    /// When it was registered (UTC).
    pub registered_at: time::OffsetDateTime,
}

/// Removes push tokens of `account_id`: one device's, or every device's (`None`).
pub(crate) async fn forget_push(conn: &mut Conn, account_id: &str, device_id: Option<&str>) -> Result<()> {
    store::delete_push_tokens(conn, account_id, device_id).await
}

/// The signed-in patient's notification preferences (R14).
#[derive(Debug, Clone)]
pub struct Notifications {
    me: crate::me::Me,
}

impl Notifications {
    pub(crate) fn new(me: crate::me::Me) -> Self {
        Notifications { me }
    }

    /// Current channel choices (all on by default).
    pub async fn preferences(&self) -> Result<Preferences> {
        let patient_id = &self.me.patient_or_ward("notifications").await?;
        let mut conn = self.me.cabinet().store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        preferences(&mut conn, patient_id).await
    }

    /// Registers (or replaces) the push token of the device this session runs on: messages
    /// then reach the app (R14). `device_id` must be the session's own device (so logging out
    /// of it, or revoking its session, removes the token); at most [`MAX_PUSH_DEVICES`] per
    /// account (`push.limit`). The token is sealed at rest, never returned and never logged;
    /// an incident that blocks the account removes every token. Journaled.
    pub async fn register_push(&self, device_id: &str, platform: PushPlatform, token: &str) -> Result<()> {
        let cab = self.me.cabinet();
        let patient_id = self.me.own_patient().await?;
        let device_id = bounded("device_id", device_id, 128)?;
        let token = bounded("token", token, 4096)?;
        if self.me.audit_context().device_id.as_deref() != Some(device_id.as_str()) {
            return Err(crate::ids::ValidationError::new("device_id", crate::ids::Reason::Mismatch).into());
        }
        let now = to_micros(cab.now());
        let account_id = self.me.account_id().to_owned();
        let sealed = cab.credentials().seal(&push_aad(&account_id, &device_id), token.as_bytes())?;
        let mut tx = cab.store().begin().await?;
        let held = store::push_devices(&mut *tx, &account_id).await?;
        if held.len() >= MAX_PUSH_DEVICES && !held.iter().any(|d| d.device_id == device_id) {
            return Err(crate::Error::Conflict { code: "push.limit" });
        }
        store::upsert_push_token(&mut *tx, &account_id, &device_id, platform.as_str(), sealed, now).await?;
        self.journal(&mut tx, &patient_id, crate::audit::Action::Create, &device_id, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }

    /// Removes one device's push token (nothing to remove is not an error). Journaled.
    pub async fn unregister_push(&self, device_id: &str) -> Result<()> {
        let cab = self.me.cabinet();
        let patient_id = self.me.own_patient().await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        forget_push(&mut tx, self.me.account_id(), Some(device_id)).await?;
        self.journal(&mut tx, &patient_id, crate::audit::Action::Delete, device_id, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }

    /// The devices registered for push, newest first (tokens stay inside).
    pub async fn push_devices(&self) -> Result<Vec<PushDevice>> {
        self.me.own_patient().await?;
        let rows = store::push_devices(self.me.cabinet().store().pool(), self.me.account_id()).await?;
        rows.into_iter()
            .map(|r| {
                Ok(PushDevice {
                    platform: PushPlatform::stored(&r.platform)?,
                    registered_at: crate::timeutil::from_micros(r.created_at)?,
                    device_id: r.device_id,
                })
            })
            .collect()
    }

    async fn journal(
        &self,
        tx: &mut Conn,
        patient_id: &str,
        action: crate::audit::Action,
        device_id: &str,
        now: i64,
    ) -> Result<()> {
        let what = crate::audit::Access {
            patient_id: Some(patient_id),
            action,
            resource_type: "push_token",
            resource_id: Some(device_id),
        };
        let ctx = self.me.audit_context();
        self.me.cabinet().journal().record(tx, ctx, what, crate::audit::Outcome::Success, now).await?;
        Ok(())
    }

    /// Chooses channels for informational messages; security notices and codes still go
    /// out. Journaled.
    pub async fn set_preferences(&self, sms: bool, email: bool, push: bool) -> Result<Preferences> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_or_ward("notifications").await?;
        let now = to_micros(cab.now());
        let prefs = Preferences { sms, email, push };
        let mut tx = cab.store().begin().await?;
        set_preferences(&mut tx, &patient_id, prefs, now).await?;
        let what = crate::audit::Access {
            patient_id: Some(&patient_id),
            action: crate::audit::Action::Update,
            resource_type: "notification_preferences",
            resource_id: None,
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, crate::audit::Outcome::Success, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(prefs)
    }
}

/// A short identifier from the host: trimmed, not empty, no control characters, at most
/// `max` characters.
fn bounded(field: &'static str, value: &str, max: usize) -> Result<String> {
    use crate::ids::{Reason, ValidationError};
    let v = value.trim();
    if v.is_empty() {
        return Err(ValidationError::new(field, Reason::Empty).into());
    }
    if v.chars().count() > max {
        return Err(ValidationError::new(field, Reason::TooLong).into());
    }
    if v.chars().any(|c| c.is_control() || crate::ids::is_bidi_control(c)) {
        return Err(ValidationError::new(field, Reason::Format).into());
    }
    Ok(v.to_owned())
}

/// The outbox: messages sealed under the outbox key (which stays inside) until delivered.
pub(crate) struct Outbox {
    sealer: crate::crypto::Sealer,
}

impl Outbox {
    pub(crate) fn new(key: SecretKey) -> Self {
        Outbox { sealer: crate::crypto::Sealer::new(key) }
    }

    /// Writes `msg` to the outbox inside the caller's transaction; returns its id.
    pub(crate) async fn enqueue(&self, conn: &mut Conn, msg: &Outgoing, now: i64) -> Result<String> {
        enqueue(conn, &self.sealer, msg, now).await
    }

    pub(crate) fn sealer(&self) -> &crate::crypto::Sealer {
        &self.sealer
    }
}
