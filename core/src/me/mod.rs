//! The signed-in person (`Me`): who they are (a patient, staff, or a proxy for a ward), and the
//! entry point to every area they may use — each area checks its own rules. Kept apart from
//! the login code (`auth`), which knows nothing of the areas.

use time::OffsetDateTime;

use crate::audit::{Access, AccessEntry, Action, ActorKind, AuditContext, Outcome};
use crate::auth::sessions::{Device, Failure, SessionInfo, count_failure, device_ctx, revoke_sessions, to_us};
use crate::auth::{AuthError, SessionError, password, tokens};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::integrations::Channel;
use crate::notify;
use crate::timeutil::{from_micros, to_micros};

use crate::auth::store;

/// What a re-validation found out about a live session.
struct Live {
    identity_confirmed: bool,
    /// For a proxy context: the scopes its grant holds now.
    proxy_scopes: Option<Vec<String>>,
}

crate::sets::closed_set! {
    /// What a signed-in context acts as (`Me.role`).
    pub enum ContextRole in "role" {
        /// A patient acting on their own cabinet.
        Patient = "patient",
        /// A member of a clinic's staff.
        Staff = "staff",
        /// A proxy acting for a ward (a context from `as_ward`).
        Proxy = "proxy",
    }
}

/// Who is signed in: a patient, or a member of a clinic's staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A patient acting on their own cabinet.
    Patient {
        /// The patient's id.
        patient_id: String,
    },
    /// Clinic staff.
    Staff(crate::staff::StaffMember),
    /// A parent or legal representative acting for a ward within scopes (R20).
    Proxy {
        /// The proxy's own patient id.
        proxy_patient_id: String,
        /// The ward acted for.
        ward_patient_id: String,
        /// What the proxy may do: `records`, `labs`, `appointments`, `requests`.
        scopes: Vec<String>,
    },
}

/// A signed-in person, patient or staff: everything they do is authorized and journaled
/// as them. Patient features refuse staff sessions and staff features refuse patients.
#[derive(Debug, Clone)]
pub struct Me {
    cab: Cabinet,
    account_id: String,
    principal: Principal,
    session_id: String,
    ctx: AuditContext,
    /// The record the account was joined to when its identity was confirmed (shared by
    /// clones, so every held context follows).
    relinked: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl Me {
    /// Checks the access token and the session behind it (revoked, blocked, idle or
    /// absolute timeout) and returns the signed-in context.
    pub(crate) async fn open(cab: &Cabinet, access_token: &str, device: &Device) -> Result<Me> {
        let now = to_micros(cab.now());
        let claims = cab.tokens().verify(access_token, now / 1_000_000).map_err(|e| match e {
            tokens::TokenError::Expired => SessionError::Expired,
            _ => SessionError::Invalid,
        })?;
        let row = store::session_of_token(cab.store().pool(), &claims.sid).await?.ok_or(SessionError::Invalid)?;
        let (account_id, patient_id, kind) = (row.account_id, row.patient_id, row.account_kind);
        let (revoked, blocked, expires, last_used) = (row.revoked_at, row.blocked_at, row.expires_at, row.last_used_at);
        if account_id != claims.sub {
            return Err(SessionError::Invalid.into());
        }
        if blocked.is_some() {
            return Err(SessionError::Blocked.into());
        }
        if revoked.is_some() {
            return Err(SessionError::Revoked.into());
        }
        if expires <= now || last_used.saturating_add(to_us(cab.session_policy().idle_timeout)) <= now {
            return Err(SessionError::Expired.into());
        }
        store::touch_session(cab.store().pool(), &claims.sid, now).await?;
        let (principal, actor_kind) = if kind == "staff" {
            let member = crate::staff::member(cab, &account_id).await?.ok_or(SessionError::Invalid)?;
            (Principal::Staff(member), ActorKind::Staff)
        } else {
            (Principal::Patient { patient_id: patient_id.ok_or(SessionError::Invalid)? }, ActorKind::Patient)
        };
        Ok(Me {
            cab: cab.clone(),
            principal,
            ctx: device_ctx(actor_kind, Some(&account_id), device),
            account_id,
            session_id: claims.sid,
            relinked: Default::default(),
        })
    }

    /// Who is signed in.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// What this context acts as: a patient, staff, or a proxy for a ward.
    pub fn role(&self) -> ContextRole {
        match self.principal {
            Principal::Patient { .. } => ContextRole::Patient,
            Principal::Staff(_) => ContextRole::Staff,
            Principal::Proxy { .. } => ContextRole::Proxy,
        }
    }

    /// Re-validates the session behind this context (issue 11, class 7): one indexed read
    /// per call, so a context kept after `revoke_all`, a block, an erasure, the end of a
    /// proxy grant or the absolute timeout stops working at once. Refreshes `last_used_at`
    /// at most once a minute. Returns whether the account's identity is confirmed (R2) and,
    /// for a proxy, the scopes the grant holds now.
    async fn live(&self) -> Result<Live> {
        let cab = &self.cab;
        let now = to_micros(cab.now());
        let (proxy, ward) = match &self.principal {
            Principal::Proxy { proxy_patient_id, ward_patient_id, .. } => {
                (Some(proxy_patient_id.as_str()), Some(ward_patient_id.as_str()))
            }
            _ => (None, None),
        };
        let row = store::live_session(cab.store().pool(), &self.session_id, &self.account_id, proxy, ward, now)
            .await?
            .ok_or(SessionError::Invalid)?;
        if row.blocked_at.is_some() {
            return Err(SessionError::Blocked.into());
        }
        if row.revoked_at.is_some() || row.erased_at.is_some() {
            return Err(SessionError::Revoked.into());
        }
        let (expires, last_used) = (row.expires_at, row.last_used_at);
        if expires <= now || last_used.saturating_add(to_us(cab.session_policy().idle_timeout)) <= now {
            return Err(SessionError::Expired.into());
        }
        if last_used.saturating_add(60_000_000) < now {
            store::touch_session_if_older(cab.store().pool(), &self.session_id, now).await?;
        }
        // Joined to the clinics' record by an identity confirmation elsewhere: follow it.
        if let (Principal::Patient { .. }, Some(current)) = (&self.principal, row.patient_id)
            && self.patient_id().ok() != Some(current.as_str())
        {
            self.relink(current);
        }
        let proxy_scopes = row.proxy_scopes;
        if proxy.is_some() && proxy_scopes.is_none() {
            return Err(Error::PermissionDenied { code: "proxy.revoked" });
        }
        Ok(Live {
            identity_confirmed: row.identity_confirmed_at.is_some(),
            proxy_scopes: proxy_scopes.map(|s| s.split(',').map(str::to_owned).collect()),
        })
    }

    /// The patient a medical call in `scope` concerns, after re-validating the session: the
    /// patient themself, or the ward when a live proxy grant holds that scope now. Medical
    /// data needs a confirmed identity (R2, S5): `identity.unconfirmed` (PermissionDenied)
    /// before that — for a proxy, their own identity. Staff get `role.patient_only`.
    pub(crate) async fn patient_for(&self, scope: &str) -> Result<String> {
        let live = self.live().await?;
        let patient = match (&self.principal, &live.proxy_scopes) {
            (Principal::Patient { .. }, _) => self.patient_id()?.to_owned(),
            (Principal::Proxy { ward_patient_id, .. }, Some(now_held)) if now_held.iter().any(|s| s == scope) => {
                ward_patient_id.clone()
            }
            (Principal::Proxy { .. }, _) => return Err(Error::PermissionDenied { code: "proxy.scope" }),
            (Principal::Staff(_), _) => return Err(Error::PermissionDenied { code: "role.patient_only" }),
        };
        let gated = scope != "appointments" || self.cab.appointment_policy().require_identity;
        if gated && !live.identity_confirmed {
            return Err(crate::auth::identity::IdentityError::NotConfirmed.into());
        }
        Ok(patient)
    }

    /// The signed-in patient's own id for their own medical calls that are never delegated
    /// (proxy grants): re-validated, identity confirmed.
    /// Proxies get `proxy.scope`, staff `role.patient_only`.
    pub(crate) async fn own_medical(&self) -> Result<String> {
        let live = self.live().await?;
        let own = self.patient_id()?.to_owned();
        if !live.identity_confirmed {
            return Err(crate::auth::identity::IdentityError::NotConfirmed.into());
        }
        Ok(own)
    }

    /// The record a call is for (notification preferences): the patient's own, before
    /// identity confirmation too; the ward's for a proxy holding `scope` with a confirmed
    /// identity.
    pub(crate) async fn patient_or_ward(&self, scope: &str) -> Result<String> {
        let live = self.live().await?;
        match (&self.principal, &live.proxy_scopes) {
            (Principal::Patient { .. }, _) => Ok(self.patient_id()?.to_owned()),
            (Principal::Proxy { ward_patient_id, .. }, Some(held)) if held.iter().any(|s| s == scope) => {
                if !live.identity_confirmed {
                    return Err(crate::auth::identity::IdentityError::NotConfirmed.into());
                }
                Ok(ward_patient_id.clone())
            }
            (Principal::Proxy { .. }, _) => Err(Error::PermissionDenied { code: "proxy.scope" }),
            (Principal::Staff(_), _) => Err(Error::PermissionDenied { code: "role.patient_only" }),
        }
    }

    /// Whose phone a one-time code goes to: the person acting — the proxy, not the ward
    /// (a child may have none, and the code proves the actor's presence).
    pub(crate) fn actor_patient_id(&self) -> Result<&str> {
        match &self.principal {
            Principal::Proxy { proxy_patient_id, .. } => Ok(proxy_patient_id),
            _ => self.patient_id(),
        }
    }

    /// The signed-in patient's own id for the reduced feature set available before identity
    /// confirmation (profile, security, identity, notification preferences), re-validated.
    pub(crate) async fn own_patient(&self) -> Result<String> {
        self.live().await?;
        Ok(self.patient_id()?.to_owned())
    }

    /// Follows the account to the record it was joined to (see `auth::identity`).
    pub(crate) fn relink(&self, patient_id: String) {
        let _ = self.relinked.set(patient_id);
    }

    /// The signed-in staff member, after re-validating the session.
    pub(crate) async fn live_staff(&self) -> Result<&crate::staff::StaffMember> {
        self.live().await?;
        self.staff_member()
    }

    /// Re-validates the session only (for calls that concern no patient record).
    pub(crate) async fn check_session(&self) -> Result<()> {
        self.live().await.map(|_| ())
    }

    /// The staff member signed in; `role.staff_only` (PermissionDenied) for patients.
    pub(crate) fn staff_member(&self) -> Result<&crate::staff::StaffMember> {
        match &self.principal {
            Principal::Staff(m) => Ok(m),
            _ => Err(Error::PermissionDenied { code: "role.staff_only" }),
        }
    }

    /// Acts for a ward (R20): the returned context reads and does, within the granted
    /// scopes, what the ward could; every action is journaled as done by the proxy for the
    /// ward. `NotFound` unless a live grant exists.
    pub async fn as_ward(&self, ward_patient_id: &str) -> Result<Me> {
        let own = self.own_patient().await?;
        let scopes = crate::proxies::live_scopes(&self.cab, &own, ward_patient_id).await?;
        let mut ctx = self.ctx.clone();
        ctx.actor.kind = ActorKind::Proxy;
        ctx.actor.on_behalf_of = Some(ward_patient_id.to_owned());
        Ok(Me {
            cab: self.cab.clone(),
            account_id: self.account_id.clone(),
            principal: Principal::Proxy { proxy_patient_id: own, ward_patient_id: ward_patient_id.to_owned(), scopes },
            session_id: self.session_id.clone(),
            relinked: Default::default(),
            ctx,
        })
    }

    /// Medical records (R12): the patient's own (or a ward's) health passport, visits,
    /// medications, allergies, certificates, and correction requests.
    pub fn records(&self) -> crate::records::Records {
        crate::records::Records::new(self.clone())
    }

    /// Lab results (R9).
    pub fn labs(&self) -> crate::labs::Labs {
        crate::labs::Labs::new(self.clone())
    }

    /// Requests and appeals to clinics (R13).
    pub fn requests(&self) -> crate::requests::Requests {
        crate::requests::Requests::new(self.clone())
    }

    /// Documents (R7): list, download (integrity-checked), share as a sealed package.
    pub fn documents(&self) -> crate::documents::Documents {
        crate::documents::Documents::new(self.clone())
    }

    /// Certificates and extracts as PDF (R10).
    pub fn certificates(&self) -> crate::certificates::Certificates {
        crate::certificates::Certificates::new(self.clone())
    }

    /// Notification channel preferences (R14).
    pub fn notifications(&self) -> crate::notify::Notifications {
        crate::notify::Notifications::new(self.clone())
    }

    /// Proxy grants (R20): who may act for me, and for whom I may act.
    pub fn proxies(&self) -> crate::proxies::Proxies {
        crate::proxies::Proxies::new(self.clone())
    }

    /// Clinic work of a signed-in staff member: their patients, schedules, records.
    pub fn staff(&self) -> Result<crate::staff::StaffContext> {
        self.staff_member()?;
        Ok(crate::staff::StaffContext::new(self.clone()))
    }

    /// The clinic directory: regions, clinics, practitioners (R8, R11).
    pub fn directory(&self) -> crate::directory::Directory {
        crate::directory::Directory::for_session(self.clone())
    }

    /// Appointments with doctors (R8).
    pub fn appointments(&self) -> crate::appointments::Appointments {
        crate::appointments::Appointments::new(self.clone())
    }

    /// Attachment to a clinic (R11).
    pub fn attachment(&self) -> crate::attachment::Attachment {
        crate::attachment::Attachment::new(self.clone())
    }

    /// Identity confirmation against state registries (R2).
    pub fn identity(&self) -> Identity {
        Identity { me: self.clone() }
    }

    pub(crate) fn cabinet(&self) -> &Cabinet {
        &self.cab
    }

    pub(crate) fn audit_context(&self) -> &AuditContext {
        &self.ctx
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The patient id of the account; `role.patient_only` (PermissionDenied) for staff and
    /// `proxy.scope` for a proxy context (security, profile and identity are never delegated).
    pub fn patient_id(&self) -> Result<&str> {
        match &self.principal {
            Principal::Patient { patient_id } => Ok(self.relinked.get().unwrap_or(patient_id)),
            Principal::Proxy { .. } => Err(Error::PermissionDenied { code: "proxy.scope" }),
            Principal::Staff(_) => Err(Error::PermissionDenied { code: "role.patient_only" }),
        }
    }

    /// Sessions, access history, second factors.
    pub fn security(&self) -> Security {
        Security { me: self.clone() }
    }

    /// The person's own personal data: read, change (R18), history.
    pub fn profile(&self) -> crate::auth::profile::Profile {
        crate::auth::profile::Profile { me: self.clone() }
    }

    pub(crate) fn session_id(&self) -> &str {
        &self.session_id
    }
}

/// Identity confirmation of the signed-in person (R2).
#[derive(Debug, Clone)]
pub struct Identity {
    me: Me,
}

impl Identity {
    /// Checks the person's details against state registries through the host's
    /// `IdentityRegistry`; a mismatch comes back with the registry's reason.
    pub async fn confirm(
        &self,
        input: crate::auth::identity::IdentityConfirmation,
    ) -> Result<crate::auth::identity::IdentityCheck> {
        self.me.check_session().await?;
        crate::auth::identity::confirm(&self.me, input).await
    }

    /// Whether the identity is confirmed (the full feature set is unlocked).
    pub async fn confirmed(&self) -> Result<bool> {
        self.me.check_session().await?;
        crate::auth::identity::is_confirmed(&self.me).await
    }

    /// Fails with `identity.unconfirmed` (PermissionDenied) unless confirmed: the gate
    /// every feature outside the reduced set calls.
    pub async fn require_confirmed(&self) -> Result<()> {
        self.me.check_session().await?;
        crate::auth::identity::require_confirmed(&self.me).await
    }
}

/// Sessions and access history of the signed-in person (R5).
#[derive(Debug, Clone)]
pub struct Security {
    me: Me,
}

impl Security {
    /// Active sessions, newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>> {
        self.me.check_session().await?;
        let now = to_micros(self.me.cab.now());
        let rows = store::active_sessions(self.me.cab.store().pool(), &self.me.account_id, now).await?;
        rows.into_iter()
            .map(|r| {
                Ok(SessionInfo {
                    current: r.id == self.me.session_id,
                    id: r.id,
                    device: r.device_name.unwrap_or_default(),
                    device_id: r.device_id.unwrap_or_default(),
                    ip: r.ip.unwrap_or_default(),
                    started_at: from_micros(r.created_at)?,
                    last_used_at: from_micros(r.last_used_at)?,
                })
            })
            .collect()
    }

    /// Starts enrolling an authenticator app (TOTP): returns the secret and `otpauth://` URI.
    pub async fn enable_totp(&self) -> Result<crate::auth::factors::TotpSetup> {
        self.me.check_session().await?;
        crate::auth::factors::begin_totp(&self.me.cab, &self.me.account_id, &self.me.account_id).await
    }

    /// Confirms the authenticator with its first code; TOTP becomes the second factor.
    /// Returns 10 single-use recovery codes, shown once.
    pub async fn confirm_totp(&self, code: &str) -> Result<Vec<String>> {
        self.me.check_session().await?;
        let now = to_micros(self.me.cab.now());
        let mut tx = self.me.cab.store().begin().await?;
        let unix = u64::try_from(now / 1_000_000).unwrap_or(0);
        let codes =
            crate::auth::factors::confirm_totp(&self.me.cab, &mut tx, &self.me.account_id, code, unix, now).await?;
        let what = Access {
            patient_id: Some(self.me.patient_id()?),
            action: Action::Update,
            resource_type: "second_factor",
            resource_id: Some(&self.me.account_id),
        };
        self.me.cab.journal().record(&mut tx, &self.me.ctx, what, Outcome::Success, now).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Changes the password (R4): the old one is required, the new one must meet the
    /// policy; every other session is signed out.
    pub async fn change_password(&self, old: &str, new: &str) -> Result<()> {
        self.me.check_session().await?;
        let cab = &self.me.cab;
        let stored = store::password_hash(cab.store().pool(), &self.me.account_id).await?;
        if cab.passwords().verify(old.to_owned(), stored).await? == password::Verified::No {
            // The same counter as at sign-in (R4): three wrong passwords block it, whoever
            // holds the session; journaled.
            let patient = self.me.patient_id().ok().map(str::to_owned);
            let now = to_micros(cab.now());
            if count_failure(cab, &self.me.account_id, patient.as_deref(), &self.me.ctx, Failure::Password, now).await?
            {
                revoke_sessions(cab, &self.me.account_id, None, now).await?;
                return Err(AuthError::Locked.into());
            }
            return Err(AuthError::InvalidCredentials.into());
        }
        let person = self.me.profile().get().await?;
        password::check_policy(new, &person.personal_data())?;
        let hash = cab.passwords().hash(new.to_owned()).await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        store::set_changed_password(&mut *tx, &self.me.account_id, hash, now).await?;
        store::revoke_other_sessions(&mut *tx, &self.me.account_id, &self.me.session_id, now).await?;
        let what = Access {
            patient_id: Some(self.me.patient_id()?),
            action: Action::Update,
            resource_type: "password",
            resource_id: Some(&self.me.account_id),
        };
        cab.journal().record(&mut tx, &self.me.ctx, what, Outcome::Success, now).await?;
        // A password change long after the session's SMS-confirmed sign-in is suspicious (R6):
        // the patient must confirm it within 30 minutes or every session is blocked.
        let signed_in = store::session_started(&mut *tx, &self.me.session_id).await?;
        let mut outbox = Vec::new();
        if signed_in + crate::auth::profile::REAUTH_WINDOW_US < now {
            let device = Device {
                id: self.me.ctx.device_id.clone().unwrap_or_default(),
                name: String::new(),
                ip: self.me.ctx.ip.clone().unwrap_or_default(),
                user_agent: String::new(),
            };
            let patient_id = self.me.patient_id()?.to_owned();
            outbox = crate::auth::incidents::raise(
                cab,
                &mut tx,
                &self.me.account_id,
                &patient_id,
                crate::auth::incidents::IncidentKind::CredentialChange,
                &device,
                now,
            )
            .await?;
        }
        let msg = cab.message(
            Some(self.me.patient_id()?),
            "password_changed",
            Channel::Sms,
            person.phone.as_deref().unwrap_or(""),
            None,
        );
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        notify::deliver(cab, &out).await?;
        for id in outbox {
            notify::deliver(cab, &id).await?;
        }
        Ok(())
    }

    /// Security incidents of the account, newest first (R6).
    pub async fn incidents(&self) -> Result<Vec<crate::auth::incidents::Incident>> {
        self.me.check_session().await?;
        crate::auth::incidents::list(&self.me.cab, &self.me.account_id).await
    }

    /// Confirms an incident with the code from its notification ("it was me").
    pub async fn confirm_incident(&self, incident_id: &str, code: &str) -> Result<()> {
        self.me.check_session().await?;
        crate::auth::incidents::confirm(
            &self.me.cab,
            &self.me.ctx,
            &self.me.account_id,
            self.me.patient_id()?,
            incident_id,
            code,
        )
        .await
    }

    /// Ends one of the person's sessions.
    pub async fn revoke(&self, session_id: &str) -> Result<()> {
        self.me.check_session().await?;
        revoke_sessions(&self.me.cab, &self.me.account_id, Some(session_id), to_micros(self.me.cab.now())).await
    }

    /// Ends every session of the person, this one included.
    pub async fn revoke_all(&self) -> Result<()> {
        self.me.check_session().await?;
        revoke_sessions(&self.me.cab, &self.me.account_id, None, to_micros(self.me.cab.now())).await
    }

    /// Who accessed the person's account and data: "you", staff, proxies, the system —
    /// when, from which device and IP, what action (R5). Read from the signed journal.
    pub async fn access_history(&self, since: Option<OffsetDateTime>) -> Result<Vec<AccessEntry>> {
        Ok(self.history(since, None, i64::MAX - 1).await?.items)
    }

    /// One page of [`Security::access_history`]: at most `limit` entries (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn access_history_page(
        &self,
        since: Option<OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<crate::audit::AccessPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 1, 1)).transpose()?;
        self.history(since, after.as_ref(), limit).await
    }

    async fn history(
        &self,
        since: Option<OffsetDateTime>,
        after: Option<&crate::paging::Cursor>,
        limit: i64,
    ) -> Result<crate::audit::AccessPage> {
        self.me.check_session().await?;
        let (cab, ctx, account) = (&self.me.cab, &self.me.ctx, Some(self.me.account_id.as_str()));
        crate::audit::access_history_as(cab, ctx, self.me.patient_id()?, since, account, after, limit).await
    }
}
