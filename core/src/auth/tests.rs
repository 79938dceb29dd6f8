//! R3/R4: password policy and hashing, TOTP (RFC 6238 vectors, replay), one-time codes.

use super::*;
use crate::config::Argon2Params;
use crate::ids::Reason;

/// Light parameters keep the tests fast; the defaults are OWASP's.
fn fast() -> Argon2Params {
    Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 }
}

/// No personal data to compare against.
const NOBODY: [&str; 0] = [];

fn reason(r: Result<(), crate::ValidationError>) -> Reason {
    let e = r.expect_err("must be refused");
    assert_eq!(e.field, "password");
    e.reason
}

#[test]
fn r4_policy_rules() {
    let me = ["Анна", "Иванова", "1990-03-14", "+79161234567", "anna.ivanova@example.ru", "11223344595"];
    assert!(password::check_policy("Vek-Tor!58zeb", &me).is_ok());
    assert!(password::check_policy("Зелёный-Кит#72ц", &me).is_ok());
    assert_eq!(reason(password::check_policy("Сложный-Пароль#72ц", &me)), Reason::CommonPassword);
    // At least 64 characters are allowed.
    assert!(password::check_policy(&format!("Long-{}-Pass7!", "xq3Zr".repeat(12)), &me).is_ok());
    assert_eq!(reason(password::check_policy("", &me)), Reason::Empty);
    assert_eq!(reason(password::check_policy("Ab1!xyz", &me)), Reason::Length);
    assert_eq!(reason(password::check_policy("vek-tor!58zeb", &me)), Reason::NoUppercase);
    assert_eq!(reason(password::check_policy("VEK-TOR!58ZEB", &me)), Reason::NoLowercase);
    assert_eq!(reason(password::check_policy("Vek-Tor!zebra", &me)), Reason::NoDigit);
    assert_eq!(reason(password::check_policy("VekTor58zebQ", &me)), Reason::NoSpecial);
    assert_eq!(reason(password::check_policy("Qwerty123!", &me)), Reason::CommonPassword);
    assert_eq!(reason(password::check_policy("Йцукен-77!Z", &me)), Reason::CommonPassword);
    assert_eq!(reason(password::check_policy("Ivanova!Z9q", &["Ivanova"])), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Иванова#2024z", &me)), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Zeb!9161234567", &me)), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Zeb!-1234567q", &me)), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Zeb!14031990q", &me)), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Zeb!11223344595", &me)), Reason::PersonalData);
    assert_eq!(reason(password::check_policy("Xy!7abcdQm", &NOBODY)), Reason::Sequence);
    assert_eq!(reason(password::check_policy("Xy!7asdfQm", &NOBODY)), Reason::Sequence);
    assert_eq!(reason(password::check_policy("Xy!7zzzzQm", &NOBODY)), Reason::Sequence);
    assert_eq!(reason(password::check_policy("Xy!7\u{0444}\u{044b}\u{0432}\u{0430}Qm", &NOBODY)), Reason::Sequence);
}

#[test]
fn r4_argon2id_phc_round_trip_and_rehash() {
    let params = fast();
    let h = password::hash("Vek-Tor!58zeb", &params).unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"), "{h}");
    assert_eq!(password::verify("Vek-Tor!58zeb", &h, &params), password::Verified::Yes);
    assert_eq!(password::verify("Vek-Tor!58zeB", &h, &params), password::Verified::No);
    // Stronger configured parameters ask for a rehash on the next login.
    let stronger = Argon2Params { memory_kib: 8192, ..params };
    assert_eq!(password::verify("Vek-Tor!58zeb", &h, &stronger), password::Verified::YesRehash);
    assert_eq!(password::verify("x", "$argon2id$garbage", &params), password::Verified::No);
    assert_eq!(password::verify("x", "plaintext", &params), password::Verified::No);
    // Two hashes of one password differ (random salt).
    assert_ne!(h, password::hash("Vek-Tor!58zeb", &params).unwrap());
}

#[test]
fn r4_argon2id_rfc9106_vector() {
    #[derive(serde::Deserialize)]
    struct V {
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        tag_length: usize,
        password_hex: String,
        salt_hex: String,
        secret_hex: String,
        associated_data_hex: String,
        tag_hex: String,
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/rfc/rfc9106_argon2id_vector.json"
    ))
    .unwrap();
    let v: V = serde_json::from_str(&text).unwrap();
    let ad = argon2::AssociatedData::new(&hex::decode(&v.associated_data_hex).unwrap()).unwrap();
    let params = argon2::ParamsBuilder::new()
        .m_cost(v.memory_kib)
        .t_cost(v.iterations)
        .p_cost(v.parallelism)
        .output_len(v.tag_length)
        .data(ad)
        .build()
        .unwrap();
    let secret = hex::decode(&v.secret_hex).unwrap();
    let argon =
        argon2::Argon2::new_with_secret(&secret, argon2::Algorithm::Argon2id, argon2::Version::V0x13, params).unwrap();
    let mut out = vec![0u8; v.tag_length];
    argon
        .hash_password_into(&hex::decode(&v.password_hex).unwrap(), &hex::decode(&v.salt_hex).unwrap(), &mut out)
        .unwrap();
    assert_eq!(hex::encode(out), v.tag_hex);
}

#[test]
fn r4_legacy_bcrypt_cost_12_and_the_72_byte_rule() {
    let params = fast();
    for prefix in ["$2a$", "$2b$", "$2y$"] {
        let h = bcrypt::hash_with_result("Legacy-Pass1!", 12).unwrap().format_for_version(match prefix {
            "$2a$" => bcrypt::Version::TwoA,
            "$2b$" => bcrypt::Version::TwoB,
            _ => bcrypt::Version::TwoY,
        });
        assert!(h.starts_with(prefix) && h.contains("$12$"));
        assert_eq!(password::verify("Legacy-Pass1!", &h, &params), password::Verified::YesRehash);
        assert_eq!(password::verify("Legacy-Pass2!", &h, &params), password::Verified::No);
    }
    // A 100-byte password hashed by a legacy system that truncated at 72 bytes.
    let long = format!("{}Tail-1", "Aa1!".repeat(25));
    let legacy = bcrypt::hash(&long.as_bytes()[..72], 4).unwrap();
    assert_eq!(password::verify(&long, &legacy, &params), password::Verified::YesRehash);
    // After the upgrade to Argon2id the whole password counts.
    let upgraded = password::hash(&long, &params).unwrap();
    let mut other = long.clone();
    other.push('x');
    assert_eq!(password::verify(&other, &upgraded, &params), password::Verified::No);
}

#[derive(serde::Deserialize)]
struct TotpVector {
    unix_time: u64,
    totp: String,
    algorithm: String,
    secret_hex: String,
    digits: u8,
}

#[derive(serde::Deserialize)]
struct TotpFile {
    vectors: Vec<TotpVector>,
}

#[test]
fn r3_rfc6238_vectors() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/rfc/rfc6238_totp_vectors.json"))
            .unwrap();
    let file: TotpFile = serde_json::from_str(&text).unwrap();
    assert_eq!(file.vectors.len(), 18);
    for v in &file.vectors {
        let secret = hex::decode(&v.secret_hex).unwrap();
        assert_eq!(
            totp::rfc_code(&secret, &v.algorithm, v.digits, v.unix_time).unwrap(),
            v.totp,
            "{} at {}",
            v.algorithm,
            v.unix_time
        );
    }
}

#[test]
fn r3_totp_skew_and_replay() {
    let secret = totp::new_secret();
    let t = 1_800_000_000u64;
    let code = totp::code_at(&secret, t);
    let step = totp::verify(&secret, &code, t, None).expect("current code");
    assert_eq!(step, t / 30);
    // The same code again: refused (never accepted twice).
    assert_eq!(totp::verify(&secret, &code, t, Some(step)), None);
    assert_eq!(totp::verify(&secret, &code, t + 29, Some(step)), None);
    // ±1 step of skew.
    let prev = totp::code_at(&secret, t - 30);
    let next = totp::code_at(&secret, t + 30);
    assert!(totp::verify(&secret, &prev, t, None).is_some());
    assert!(totp::verify(&secret, &next, t, None).is_some());
    // Two steps away: refused.
    assert!(totp::verify(&secret, &totp::code_at(&secret, t - 60), t, None).is_none());
    assert!(totp::verify(&secret, &totp::code_at(&secret, t + 90), t, None).is_none());
    // An older step after a newer one was used: refused.
    assert!(totp::verify(&secret, &prev, t, Some(t / 30)).is_none());
    assert!(totp::verify(&secret, "12345", t, None).is_none());
    assert!(totp::verify(&secret, "abcdef", t, None).is_none());
    let uri = totp::otpauth_uri(&secret, "Kabinet", "doctor@clinic.ru");
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&totp::secret_base32(&secret)), "{uri}");
}

#[test]
fn r1_one_time_codes() {
    let key = crate::crypto::SecretKey::generate();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let c = codes::generate(6);
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        seen.insert(c);
    }
    assert!(seen.len() > 190, "codes must be random");
    let code = codes::generate(6);
    let stored = codes::digest(&key, "phone_confirmation", "reg-1", &code);
    assert!(codes::matches(&key, "phone_confirmation", "reg-1", &code, &stored));
    assert!(codes::matches(&key, "phone_confirmation", "reg-1", &format!(" {code} "), &stored));
    assert!(!codes::matches(&key, "phone_confirmation", "reg-2", &code, &stored));
    assert!(!codes::matches(&key, "login_code", "reg-1", &code, &stored));
    assert!(!codes::matches(&crate::crypto::SecretKey::generate(), "phone_confirmation", "reg-1", &code, &stored));
    assert!(!stored.windows(code.len()).any(|w| w == code.as_bytes()), "only the keyed digest is stored");
    let t = codes::token();
    assert!(t.len() >= 43, "≥ 256 bits");
}

fn claims(now: i64) -> tokens::Claims {
    tokens::Claims {
        iss: tokens::ISSUER.into(),
        aud: tokens::AUDIENCE.into(),
        sub: "acc-1".into(),
        sid: "ses-1".into(),
        iat: now,
        nbf: now,
        exp: now + 900,
        jti: "j".into(),
    }
}

/// ASVS 5.0 V9.1.1/9.1.2: algorithm allowlist, signature, and iss/aud/exp/nbf checks.
#[test]
fn r5_access_tokens_are_strict() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let vk = key.verifying_key();
    let now = 1_800_000_000;
    let t = tokens::sign(&key, &claims(now));
    assert_eq!(tokens::verify(&vk, &t, now).unwrap(), claims(now));
    assert_eq!(tokens::verify(&vk, &t, now + 900), Err(tokens::TokenError::Expired));
    assert_eq!(tokens::verify(&vk, &t, now - 1), Err(tokens::TokenError::NotYetValid));
    let other = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert_eq!(tokens::verify(&other, &t, now), Err(tokens::TokenError::Signature));
    // alg=none and any other header are refused.
    let parts: Vec<&str> = t.split('.').collect();
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"EdDSA"}"#] {
        let forged = format!("{}.{}.{}", b64.encode(header), parts[1], parts[2]);
        assert_eq!(tokens::verify(&vk, &forged, now), Err(tokens::TokenError::Malformed));
        let unsigned = format!("{}.{}.", b64.encode(header), parts[1]);
        assert_eq!(tokens::verify(&vk, &unsigned, now), Err(tokens::TokenError::Malformed));
    }
    // A changed payload breaks the signature.
    let mut c = claims(now);
    c.sub = "acc-2".into();
    let forged = format!("{}.{}.{}", parts[0], b64.encode(serde_json::to_vec(&c).unwrap()), parts[2]);
    assert_eq!(tokens::verify(&vk, &forged, now), Err(tokens::TokenError::Signature));
    // Wrong audience, signed correctly.
    let mut c = claims(now);
    c.aud = "someone-else".into();
    assert_eq!(tokens::verify(&vk, &tokens::sign(&key, &c), now), Err(tokens::TokenError::Claims));
    for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
        assert_eq!(tokens::verify(&vk, junk, now), Err(tokens::TokenError::Malformed));
    }
}

/// RFC 8037 A.4: the EdDSA JWS primitive reproduces the RFC's compact serialization; every
/// other RFC 7515 example (HS256, RS256, ES256, ES512, none) is refused by the allowlist.
#[test]
fn r5_jose_rfc_vectors() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jose/jws_jwt_rfc_vectors.json"))
            .unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    let ed = vectors.iter().find(|v| v["alg"] == "EdDSA").unwrap();
    let d: [u8; 32] = b64.decode(ed["jwk"]["d"].as_str().unwrap()).unwrap().try_into().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&d);
    assert_eq!(b64.encode(key.verifying_key().to_bytes()), ed["jwk"]["x"].as_str().unwrap());
    let compact = ed["compact"].as_str().unwrap();
    let (input, sig) = compact.rsplit_once('.').unwrap();
    use ed25519_dalek::Signer;
    assert_eq!(b64.encode(key.sign(input.as_bytes()).to_bytes()), sig);
    let vk = key.verifying_key();
    for v in vectors {
        let token = v["compact"].as_str().unwrap();
        // RFC 8037's header lacks "typ":"JWT" and every other vector has another algorithm:
        // none of them is a Kabinet access token.
        assert_eq!(tokens::verify(&vk, token, 0), Err(tokens::TokenError::Malformed), "{}", v["name"]);
    }
}

#[test]
fn r3_the_no_account_dummy_hash_uses_each_cabinets_own_parameters() {
    // A wrong identifier must cost what a wrong password costs in *this* deployment, so the
    // dummy hash carries the parameters it is given, not those of the first cabinet opened.
    let light = password::dummy_hash(&fast()).unwrap();
    let heavier = password::dummy_hash(&Argon2Params { memory_kib: 8192, iterations: 2, parallelism: 1 }).unwrap();
    assert!(light.contains("m=4096,t=1,p=1"), "{light}");
    assert!(heavier.contains("m=8192,t=2,p=1"), "{heavier}");
    password::dummy_verify("anything", &light, &fast());
}
