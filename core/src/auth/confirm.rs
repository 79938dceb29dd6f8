//! How a person confirms a change (R11, R18): the built-in SMS code, or a method the host
//! offers through its [`Confirmer`](crate::integrations::Confirmer) — an electronic
//! signature, a code shown in the app. The host sees a [`ConfirmationRequest`] whose
//! challenge binds the change (so a proof for one change confirms no other) and judges the
//! proof; its calls run off the async executor, and a failure is a typed error.

use sha2::{Digest, Sha256};

use super::identity::IdentityError;
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::integrations::ConfirmationRequest;

/// The built-in method: a one-time code by SMS (or to the new contact itself).
pub(crate) const SMS: &str = "sms";

/// A confirmation method the person chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Method {
    /// The built-in code.
    Sms,
    /// A host method, by its name.
    Host(String),
}

impl Method {
    /// The stored name.
    pub(crate) fn name(&self) -> &str {
        match self {
            Method::Sms => SMS,
            Method::Host(m) => m,
        }
    }

    /// A stored name back (a name the confirmer no longer offers still verifies through it).
    pub(crate) fn from_stored(name: &str) -> Method {
        if name == SMS { Method::Sms } else { Method::Host(name.to_owned()) }
    }
}

/// Checks the person's choice: `None` or `"sms"` is the built-in code; any other name must be
/// one the configured confirmer offers (`confirmation.no_method` otherwise).
pub(crate) async fn choose(cab: &Cabinet, method: Option<&str>) -> Result<Method> {
    let name = match method.map(str::trim) {
        None | Some("") | Some(SMS) => return Ok(Method::Sms),
        Some(name) => name.to_owned(),
    };
    let confirmer = cab.confirmer().ok_or(IdentityError::NoConfirmer)?.clone();
    let offered = tokio::task::spawn_blocking(move || confirmer.methods())
        .await
        .map_err(|_| IdentityError::ConfirmerUnavailable)?;
    if offered.iter().any(|m| m == &name && m != SMS) {
        Ok(Method::Host(name))
    } else {
        Err(IdentityError::NoConfirmer.into())
    }
}

/// The digest a host method confirms: each part length-prefixed, so no two changes share it.
pub(crate) fn challenge(id: &str, purpose: &str, subject: &str, value: &str) -> String {
    let mut h = Sha256::new();
    for part in ["kabinet-confirmation-v1", id, purpose, subject, value] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Asks the host to start a confirmation with the person.
pub(crate) async fn start(cab: &Cabinet, request: ConfirmationRequest) -> Result<()> {
    let confirmer = cab.confirmer().ok_or(IdentityError::NoConfirmer)?.clone();
    tokio::task::spawn_blocking(move || confirmer.start(&request))
        .await
        .map_err(|_| IdentityError::ConfirmerUnavailable)?
        .map_err(|_| IdentityError::ConfirmerUnavailable.into())
}

/// Asks the host whether `proof` confirms `request`.
pub(crate) async fn verify(cab: &Cabinet, request: ConfirmationRequest, proof: String) -> Result<bool> {
    let confirmer = cab.confirmer().ok_or(IdentityError::NoConfirmer)?.clone();
    tokio::task::spawn_blocking(move || confirmer.verify(&request, &proof))
        .await
        .map_err(|_| IdentityError::ConfirmerUnavailable)?
        .map_err(|_| IdentityError::ConfirmerUnavailable.into())
}

#[cfg(test)]
mod tests {
    use super::challenge;

    #[test]
    fn challenges_differ_when_any_part_differs_even_by_shifting_a_boundary() {
        let base = challenge("c1", "profile_change", "inn", "500100732259");
        assert_eq!(base.len(), 64);
        assert_ne!(base, challenge("c2", "profile_change", "inn", "500100732259"));
        assert_ne!(base, challenge("c1", "profile_change", "inn", "500100732258"));
        assert_ne!(challenge("ab", "c", "d", "e"), challenge("a", "bc", "d", "e"));
        assert_eq!(base, challenge("c1", "profile_change", "inn", "500100732259"));
    }
}
