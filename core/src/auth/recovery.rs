//! Password recovery (R4): a code by SMS or e-mail, a new policy-compliant password, the
//! lock lifted and every session signed out. An enrolled TOTP factor is never bypassed: the
//! TOTP or a recovery code is required as well. Starting a recovery answers the same whether
//! or not the identifier matches an account.

use super::{AuthError, codes, factors, password, store};
use crate::audit::{Access, Action, Actor, ActorKind, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::ids::ValidationError;
use crate::integrations::Channel;
use crate::notify;
use crate::timeutil::to_micros;

/// Recovery codes sent per account in an hour, at most (the rest are journaled, not sent).
pub const MAX_RECOVERIES_PER_HOUR: i64 = 3;

/// Starts a recovery; returns its id whatever the identifier matched.
pub(crate) async fn start(cab: &Cabinet, identifier: &str, channel: Channel) -> Result<String> {
    let channel = match channel {
        Channel::Push => return Err(ValidationError::one_of("channel", false, &["sms", "email"]).into()),
        sent => sent,
    };
    let now = to_micros(cab.now());
    let id = uuid::Uuid::new_v4().to_string();
    let account = cab.auth().find_any_account(identifier).await?;
    let mut tx = cab.store().begin().await?;
    if let (Some((account_id, _)), crate::store::Backend::Postgres) = (&account, cab.store().backend()) {
        // Requests for one account are counted one at a time: under READ COMMITTED two
        // transactions would otherwise each count the other's row as not yet there. A
        // transaction lock on the account's id (not its row: erasure locks the journal, then
        // the account, and a row lock here would be the other order). SQLite's
        // `BEGIN IMMEDIATE` already orders them.
        store::lock_recoveries_of(&mut *tx, account_id).await?;
    }
    let account_id = account.as_ref().map(|a| a.0.as_str());
    store::insert_recovery(&mut *tx, &id, account_id, channel.as_str(), now, now + crate::accounts::CODE_TTL_US)
        .await?;
    // At most a few codes an hour per account, whoever asks: a flood of recovery requests
    // never becomes a flood of SMS. The answer stays the same (no code is sent).
    let recent: i64 = match &account {
        Some((account_id, _)) => {
            store::recoveries_since(&mut *tx, account_id, now.saturating_sub(3_600_000_000)).await?
        }
        None => 0,
    };
    let mut outbox = None;
    if recent > MAX_RECOVERIES_PER_HOUR {
        let what = Access {
            patient_id: account.as_ref().and_then(|a| a.1.as_deref()),
            action: Action::Update,
            resource_type: "recovery_limited",
            resource_id: account.as_ref().map(|a| a.0.as_str()),
        };
        cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Denied, now).await?;
    } else if let Some((account_id, Some(patient_id))) = &account {
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "recovery_code", &id, &code, now + crate::accounts::CODE_TTL_US)
            .await?;
        let ctx = AuditContext {
            actor: Actor { kind: ActorKind::Patient, id: Some(account_id.clone()), on_behalf_of: None },
            ip: None,
            device_id: None,
        };
        let person = crate::patients::Patients::new(cab.clone(), ctx).read_in(&mut tx, patient_id, now).await?;
        let to = match channel {
            Channel::Email => person.email,
            _ => person.phone,
        };
        // No address on that channel (an imported account without e-mail): nothing is sent
        // and the answer stays the same, so the reply says nothing about the account.
        if let Some(to) = to.filter(|t| !t.trim().is_empty()) {
            let msg = cab.message(Some(patient_id), "recovery_code", channel, &to, Some(&code));
            outbox = Some(cab.outbox().enqueue(&mut tx, &msg, now).await?);
        }
    }
    tx.commit().await?;
    if let Some(o) = outbox {
        notify::deliver(cab, &o).await?;
    }
    Ok(id)
}

/// Completes a recovery: checks the code (and the TOTP or a recovery code when TOTP is
/// enrolled), sets the new password, lifts the lock and signs out every session.
pub(crate) async fn complete(
    cab: &Cabinet,
    recovery_id: &str,
    code: &str,
    new_password: &str,
    second_factor: Option<&str>,
) -> Result<()> {
    let now = to_micros(cab.now());
    let row = store::recovery(cab.store().pool(), recovery_id).await?.ok_or(AuthError::InvalidCode)?;
    let (account_id, expires, used, patient_id) = (row.account_id, row.expires_at, row.used_at, row.patient_id);
    if used.is_some() || expires <= now {
        return Err(AuthError::CodeExpired.into());
    }
    // No account behind it: the same answer as a wrong code.
    let (Some(account_id), Some(patient_id)) = (account_id, patient_id) else {
        return Err(AuthError::InvalidCode.into());
    };
    crate::accounts::check_code(cab, "recovery_code", recovery_id, code, now).await?;
    if factors::has_totp(cab, &account_id).await? {
        let second = second_factor.ok_or(AuthError::SecondFactor)?;
        factors::check_totp_or_recovery(cab, &account_id, second, u64::try_from(now / 1_000_000).unwrap_or(0), now)
            .await?;
    }
    let ctx = AuditContext {
        actor: Actor { kind: ActorKind::Patient, id: Some(account_id.clone()), on_behalf_of: None },
        ip: None,
        device_id: None,
    };
    let person = crate::patients::Patients::new(cab.clone(), ctx.clone()).get(&patient_id).await?;
    password::check_policy(new_password, &person.personal_data())?;
    let hash = cab.passwords().hash(new_password.to_owned()).await?;
    let mut tx = cab.store().begin().await?;
    if !store::claim_recovery(&mut *tx, recovery_id, now).await? {
        return Err(AuthError::CodeExpired.into());
    }
    store::set_recovered_password(&mut *tx, &account_id, hash, now).await?;
    store::revoke_all_sessions(&mut *tx, &account_id, now).await?;
    crate::notify::forget_push(&mut tx, &account_id, None).await?;
    store::cancel_login_steps(&mut *tx, &account_id, now).await?;
    let what = Access {
        patient_id: Some(&patient_id),
        action: Action::Update,
        resource_type: "password",
        resource_id: Some(&account_id),
    };
    cab.journal().record(&mut tx, &ctx, what, Outcome::Success, now).await?;
    let msg =
        cab.message(Some(&patient_id), "password_changed", Channel::Sms, person.phone.as_deref().unwrap_or(""), None);
    let mut outbox = vec![cab.outbox().enqueue(&mut tx, &msg, now).await?];
    // Incidents that blocked the account are resolved by this recovery (R6); the person is
    // told by e-mail, as the seed says.
    let resolved = super::incidents::store::resolve_blocked(&mut *tx, &account_id, now).await?;
    if resolved > 0 {
        let what = Access {
            patient_id: Some(&patient_id),
            action: Action::Update,
            resource_type: "incident",
            resource_id: Some(&account_id),
        };
        cab.journal().record(&mut tx, &ctx, what, Outcome::Success, now).await?;
        if let Some(email) = person.email.as_deref() {
            let msg = cab.message(Some(&patient_id), "incident_recovered", Channel::Email, email, None);
            outbox.push(cab.outbox().enqueue(&mut tx, &msg, now).await?);
        }
    }
    tx.commit().await?;
    notify::deliver_all(cab, outbox).await?;
    Ok(())
}
