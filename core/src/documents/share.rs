//! Secure sharing of a document (R7, S2): a sealed package anyone can carry (e-mail, USB) but
//! only the holder of the recipient's RSA private key can open. A fresh AES-256-GCM content
//! key encrypts the file (the metadata JSON is the AAD); RSA-4096 OAEP-SHA-256 wraps the
//! key; the deployment's Ed25519 key signs the whole package, so the recipient can tell it
//! came from this cabinet unchanged.
//!
//! RUSTSEC-2023-0071 (Marvin: a timing side channel in the `rsa` crate's *decryption*): the
//! SDK itself only encrypts to public keys, which is not affected. [`open_package`] decrypts
//! for recipients who use Kabinet; it runs once per package on the recipient's own machine,
//! never as a network service, so an attacker cannot make the millions of timed queries the
//! attack needs. A deployment must not expose `open_package` as an online decryption oracle.
//! When `rsa` ships a constant-time release, upgrading removes the caveat.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, SecretKey};
use crate::error::Result;
use crate::ids::{Reason, ValidationError};

/// Smallest recipient key accepted.
pub const MIN_RSA_BITS: usize = 4096;
const FORMAT: &str = "kabinet-share/1";
const ALG: &str = "RSA-OAEP-256+A256GCM";

/// What the package says about the file (readable before opening; authenticated).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
pub struct SharedMeta {
    /// Document id at the source.
    pub document_id: String,
    /// Original file name.
    pub filename: String,
    /// Document kind.
    pub kind: crate::documents::DocumentKind,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Date of the document.
    pub created_on: String,
    /// Institution.
    pub institution: String,
}

/// Leaves out the file name, date and institution, as [`crate::DocumentInfo`] does.
impl std::fmt::Debug for SharedMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMeta")
            .field("document_id", &self.document_id)
            .field("kind", &self.kind)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Package {
    format: String,
    alg: String,
    meta: SharedMeta,
    wrapped_key: String,
    sealed: String,
    signer: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    signature: String,
}

impl Package {
    /// The signed bytes: the package with an empty signature, as JSON.
    fn signed_bytes(&self) -> Result<Vec<u8>> {
        let unsigned = Package {
            format: self.format.clone(),
            alg: self.alg.clone(),
            meta: self.meta.clone(),
            wrapped_key: self.wrapped_key.clone(),
            sealed: self.sealed.clone(),
            signer: self.signer.clone(),
            signature: String::new(),
        };
        let mut out = b"kabinet/share/v1\0".to_vec();
        out.extend(serde_json::to_vec(&unsigned).map_err(|_| CryptoError::Internal("package"))?);
        Ok(out)
    }
}

fn bad_key() -> crate::Error {
    ValidationError::new("recipient_public_key", Reason::Format).into()
}

/// Seals `content` for the holder of `recipient_public_key_pem` (SPKI or PKCS#1 PEM, RSA
/// ≥ 4096 bits), signed with `signer`. Returns the package (JSON bytes).
pub(crate) fn seal(
    content: &[u8],
    meta: SharedMeta,
    recipient_public_key_pem: &str,
    signer: &SigningKey,
) -> Result<Vec<u8>> {
    let public = RsaPublicKey::from_public_key_pem(recipient_public_key_pem.trim())
        .or_else(|_| {
            use rsa::pkcs1::DecodeRsaPublicKey;
            RsaPublicKey::from_pkcs1_pem(recipient_public_key_pem.trim())
        })
        .map_err(|_| bad_key())?;
    if public.n().bits() < MIN_RSA_BITS {
        return Err(ValidationError::new("recipient_public_key", Reason::Length).into());
    }
    let key = SecretKey::generate();
    let aad = serde_json::to_vec(&meta).map_err(|_| CryptoError::Internal("package"))?;
    let sealed = crate::crypto::envelope::seal_raw(&key, &aad, content)?;
    let wrapped = public
        .encrypt(&mut rsa::rand_core::OsRng, Oaep::new::<rsa::sha2::Sha256>(), key.expose())
        .map_err(|_| CryptoError::Internal("rsa"))?;
    let mut package = Package {
        format: FORMAT.into(),
        alg: ALG.into(),
        meta,
        wrapped_key: B64.encode(wrapped),
        sealed: B64.encode(sealed),
        signer: B64.encode(signer.verifying_key().to_bytes()),
        signature: String::new(),
    };
    package.signature = B64.encode(signer.sign(&package.signed_bytes()?).to_bytes());
    serde_json::to_vec_pretty(&package).map_err(|_| CryptoError::Internal("package").into())
}

/// Opens a package with the recipient's private key (PKCS#8 PEM). Checks the signature —
/// against `expected_signer` (the deployment's public key PEM, `audit.public_key()`) when
/// given — then the
/// key wrap, the content's authentication tag and its SHA-256. Any change to any byte of the
/// package fails with an integrity error. See the module notes on RUSTSEC-2023-0071.
pub fn open_package(
    package: &[u8],
    recipient_private_key_pem: &str,
    expected_signer: Option<&str>,
) -> Result<(SharedMeta, Vec<u8>)> {
    let p: Package = serde_json::from_slice(package).map_err(|_| CryptoError::Integrity)?;
    if p.format != FORMAT || p.alg != ALG {
        return Err(CryptoError::Integrity.into());
    }
    let signer_bytes: [u8; 32] =
        B64.decode(&p.signer).ok().and_then(|b| b.try_into().ok()).ok_or(CryptoError::Integrity)?;
    if let Some(expected) = expected_signer {
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        let expected = VerifyingKey::from_public_key_pem(expected.trim()).map_err(|_| CryptoError::Integrity)?;
        if expected.to_bytes() != signer_bytes {
            return Err(CryptoError::Integrity.into());
        }
    }
    let signer = VerifyingKey::from_bytes(&signer_bytes).map_err(|_| CryptoError::Integrity)?;
    let sig_bytes: [u8; 64] =
        B64.decode(&p.signature).ok().and_then(|b| b.try_into().ok()).ok_or(CryptoError::Integrity)?;
    signer.verify(&p.signed_bytes()?, &Signature::from_bytes(&sig_bytes)).map_err(|_| CryptoError::Integrity)?;
    let private = RsaPrivateKey::from_pkcs8_pem(recipient_private_key_pem.trim())
        .map_err(|_| ValidationError::new("recipient_private_key", Reason::Format))?;
    let wrapped = B64.decode(&p.wrapped_key).map_err(|_| CryptoError::Integrity)?;
    let key = private.decrypt(Oaep::new::<rsa::sha2::Sha256>(), &wrapped).map_err(|_| CryptoError::Integrity)?;
    let key = SecretKey::from_slice(&key).ok_or(CryptoError::Integrity)?;
    let aad = serde_json::to_vec(&p.meta).map_err(|_| CryptoError::Internal("package"))?;
    let sealed = B64.decode(&p.sealed).map_err(|_| CryptoError::Integrity)?;
    let content = crate::crypto::envelope::open_raw(&key, &aad, &sealed)?.to_vec();
    use sha2::Digest;
    if hex::encode(sha2::Sha256::digest(&content)) != p.meta.sha256 {
        return Err(CryptoError::Integrity.into());
    }
    Ok((p.meta, content))
}

/// Seals shared packages signed with the deployment's package key (which stays inside).
pub(crate) struct PackageSigner {
    key: SigningKey,
}

impl PackageSigner {
    pub(crate) fn new(key: SigningKey) -> Self {
        PackageSigner { key }
    }

    /// See [`seal`].
    pub(crate) fn seal(&self, content: &[u8], meta: SharedMeta, recipient_public_key_pem: &str) -> Result<Vec<u8>> {
        seal(content, meta, recipient_public_key_pem, &self.key)
    }
}
