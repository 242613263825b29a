//! Hostile-input tests of the holder assertion parser.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use data_encoding::BASE64URL_NOPAD;

use super::*;

const NOW: i64 = 1_790_000_000;
const PORTAL: &str = "pt_abcdefgh";

fn ed25519() -> SealSigner {
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    SealSigner::from_pkcs8_der(der.as_ref()).unwrap()
}

fn p256() -> SealSigner {
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    SealSigner::from_pkcs8_der(der.as_ref()).unwrap()
}

fn claims() -> HolderClaims {
    HolderClaims {
        iss: PORTAL.into(),
        holder_code_type: "111".into(),
        holder_code: "310115199003071239".into(),
        acr: "L2".into(),
        iat: NOW - 10,
        exp: NOW + 110,
        nbf: None,
        jti: "0123456789abcdef-_XY".into(),
    }
}

fn b64(s: &str) -> String {
    BASE64URL_NOPAD.encode(s.as_bytes())
}

/// A JWS with the given header and payload JSON, signed by `key` whatever the header says.
fn raw(key: &SealSigner, header: &str, payload: &str) -> String {
    let (h, p) = (b64(header), b64(payload));
    let sig = crate::jws::sign(key, &h, &p);
    format!("{h}.{p}.{sig}")
}

fn check(text: &str, key: &SealSigner) -> Result<HolderAssertion, AssertionError> {
    verify(text, PORTAL, &key.verifier(), NOW)
}

#[test]
fn good_assertions_verify_with_either_algorithm() {
    for key in [ed25519(), p256()] {
        let a = check(&sign(&claims(), &key), &key).unwrap();
        assert_eq!(a.claims, claims());
        assert_eq!(a.remember_until(), NOW + 110 + MAX_SKEW_SECS);
    }
    // A company holder, with nbf and a kid header.
    let key = ed25519();
    let c = HolderClaims {
        holder_code_type: "001".into(),
        holder_code: "91310115MA1H7ABC2D".into(),
        nbf: Some(NOW - 10),
        ..claims()
    };
    let text = raw(
        &key,
        r#"{"alg":"EdDSA","typ":"holder-assertion+jwt","kid":"k1"}"#,
        &serde_json::to_string(&c).unwrap(),
    );
    assert_eq!(check(&text, &key).unwrap().claims, c);
}

#[test]
fn garbage_is_malformed_and_never_panics() {
    let key = ed25519();
    let good = sign(&claims(), &key);
    let mut cases: Vec<String> = vec![
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b.c".into(),
        "a.b.c.d".into(),
        "\u{0}\u{ffff}".into(),
        format!("{good}.x"),
        good.replacen('.', "", 1),
        format!("{}.{}.", b64("{}"), b64("{}")),
        format!("{}.{}.AA", b64("null"), b64("{}")),
        format!("{}.{}.AA", b64("[1,2]"), b64("{}")),
        format!("{}=.{}.AA", b64(r#"{"alg":"EdDSA"}"#), b64("{}")),
        "eyJ.eyJ.eyJ".into(),
    ];
    // Every truncation and every one-character edit of a good assertion.
    for i in 0..good.len() {
        cases.push(good[..i].to_owned());
        let mut edited = good.clone().into_bytes();
        edited[i] = if edited[i] == b'A' { b'B' } else { b'A' };
        cases.push(String::from_utf8(edited).unwrap());
    }
    for text in cases {
        let e = check(&text, &key).unwrap_err();
        assert_eq!(e.code(), "holder_assertion_invalid", "{text:?}: {e}");
    }
}

#[test]
fn alg_none_other_algorithms_and_the_wrong_one_are_refused() {
    let key = ed25519();
    let payload = serde_json::to_string(&claims()).unwrap();
    // alg none with an empty signature, as the classic attack sends it.
    let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"holder-assertion+jwt"}"#), b64(&payload));
    assert!(matches!(check(&none, &key), Err(AssertionError::Algorithm(_))));
    let none = format!("{}.{}.", b64(r#"{"alg":"NONE","typ":"holder-assertion+jwt"}"#), b64(&payload));
    assert!(matches!(check(&none, &key), Err(AssertionError::Algorithm(_))));
    for alg in ["HS256", "RS256", "ES384", "Ed25519", "ES256K", ""] {
        let text = raw(&key, &format!(r#"{{"alg":"{alg}","typ":"holder-assertion+jwt"}}"#), &payload);
        assert!(matches!(check(&text, &key), Err(AssertionError::Algorithm(_))), "{alg}");
    }
    // ES256 claimed for an Ed25519 portal, and the other way round.
    let text = raw(&key, r#"{"alg":"ES256","typ":"holder-assertion+jwt"}"#, &payload);
    assert!(matches!(check(&text, &key), Err(AssertionError::Algorithm(_))));
    let p = p256();
    let text = raw(&p, r#"{"alg":"EdDSA","typ":"holder-assertion+jwt"}"#, &payload);
    assert!(matches!(check(&text, &p), Err(AssertionError::Algorithm(_))));
    // HS256 keyed with the public key (algorithm confusion) goes nowhere either.
    let text = raw(&key, r#"{"alg":"HS256","typ":"JWT"}"#, &payload);
    assert!(matches!(check(&text, &key), Err(AssertionError::Algorithm(_))));
}

#[test]
fn the_header_must_be_small_typed_and_known() {
    let key = ed25519();
    let payload = serde_json::to_string(&claims()).unwrap();
    for header in [
        r#"{"alg":"EdDSA"}"#,
        r#"{"alg":"EdDSA","typ":"JWT"}"#,
        r#"{"alg":"EdDSA","typ":"holder-assertion+jwt","crit":["exp"]}"#,
        r#"{"alg":"EdDSA","typ":"holder-assertion+jwt","jwk":{"kty":"OKP"}}"#,
        r#"{"alg":"EdDSA","typ":"holder-assertion+jwt","x5c":["AA"]}"#,
    ] {
        let e = check(&raw(&key, header, &payload), &key).unwrap_err();
        assert!(matches!(e, AssertionError::Malformed(_)), "{header}: {e}");
    }
    // A huge header is refused before anything is decoded.
    let huge = format!(r#"{{"alg":"EdDSA","typ":"holder-assertion+jwt","kid":"{}"}}"#, "k".repeat(1 << 20));
    let e = check(&raw(&key, &huge, &payload), &key).unwrap_err();
    assert!(e.to_string().contains("longer than 4096 bytes"), "{e}");
}

#[test]
fn a_signature_by_another_key_or_over_other_claims_fails() {
    let (key, other) = (ed25519(), ed25519());
    assert_eq!(check(&sign(&claims(), &other), &key), Err(AssertionError::BadSignature));
    let (pkey, pother) = (p256(), p256());
    assert_eq!(check(&sign(&claims(), &pother), &pkey), Err(AssertionError::BadSignature));
    // Payload swapped under a good signature.
    let good = sign(&claims(), &key);
    let parts: Vec<&str> = good.split('.').collect();
    let other_holder = HolderClaims { holder_code: "11010519491231002X".into(), ..claims() };
    let forged = format!("{}.{}.{}", parts[0], b64(&serde_json::to_string(&other_holder).unwrap()), parts[2]);
    assert_eq!(check(&forged, &key), Err(AssertionError::BadSignature));
}

#[test]
fn times_are_bounded() {
    let key = ed25519();
    let at = |iat: i64, exp: i64| check(&sign(&HolderClaims { iat, exp, ..claims() }, &key), &key);
    assert!(at(NOW, NOW + MAX_LIFETIME_SECS).is_ok());
    assert_eq!(at(NOW, NOW + MAX_LIFETIME_SECS + 1), Err(AssertionError::Lifetime(301)));
    assert_eq!(at(NOW, NOW), Err(AssertionError::Lifetime(0)));
    assert_eq!(at(NOW, NOW - 5), Err(AssertionError::Lifetime(-5)));
    assert_eq!(at(i64::MIN, i64::MAX), Err(AssertionError::Lifetime(i64::MAX)));
    // Expired: past exp by more than the skew; within the skew still good.
    assert_eq!(at(NOW - 200, NOW - MAX_SKEW_SECS - 1), Err(AssertionError::Expired(NOW - MAX_SKEW_SECS - 1)));
    assert_eq!(at(NOW - 200, NOW - MAX_SKEW_SECS - 1).unwrap_err().code(), "holder_assertion_expired");
    assert!(at(NOW - 200, NOW - MAX_SKEW_SECS).is_ok());
    // Issued in the future.
    assert_eq!(at(NOW + MAX_SKEW_SECS + 1, NOW + 200), Err(AssertionError::NotYetValid));
    assert!(at(NOW + MAX_SKEW_SECS, NOW + 200).is_ok());
    let nbf = HolderClaims { nbf: Some(NOW + 100), ..claims() };
    assert_eq!(check(&sign(&nbf, &key), &key), Err(AssertionError::NotYetValid));
}

#[test]
fn issuer_and_claim_values_are_checked() {
    let key = ed25519();
    let c = |c: HolderClaims| check(&sign(&c, &key), &key);
    assert_eq!(
        c(HolderClaims { iss: "pt_another".into(), ..claims() }),
        Err(AssertionError::WrongIssuer("pt_another".into()))
    );
    let bad = [
        HolderClaims { holder_code_type: "999".into(), ..claims() },
        HolderClaims { holder_code: "310115199003071238".into(), ..claims() },
        HolderClaims { holder_code: " 310115199003071239".into(), ..claims() },
        HolderClaims { holder_code_type: "001".into(), ..claims() },
        HolderClaims { acr: String::new(), ..claims() },
        HolderClaims { acr: "L\n2".into(), ..claims() },
        HolderClaims { acr: "x".repeat(65), ..claims() },
        HolderClaims { jti: "short".into(), ..claims() },
        HolderClaims { jti: "x".repeat(129), ..claims() },
        HolderClaims { jti: "0123456789abcdef/../".into(), ..claims() },
    ];
    for claims in bad {
        assert!(matches!(c(claims.clone()), Err(AssertionError::Malformed(_))), "{claims:?}");
    }
    // Unknown, missing and mistyped claims.
    for payload in [
        r#"{"iss":"pt_abcdefgh","holder_code_type":"111","holder_code":"310115199003071239","acr":"L2","iat":1790000000,"exp":1790000100,"jti":"0123456789abcdef","admin":true}"#,
        r#"{"iss":"pt_abcdefgh","holder_code_type":"111","holder_code":"310115199003071239","acr":"L2","iat":1790000000,"exp":1790000100}"#,
        r#"{"iss":"pt_abcdefgh","holder_code_type":"111","holder_code":"310115199003071239","acr":"L2","iat":"1790000000","exp":1790000100,"jti":"0123456789abcdef"}"#,
        r#"{"iss":"pt_abcdefgh","holder_code_type":"111","holder_code":"310115199003071239","acr":"L2","iat":1790000000.5,"exp":1790000100,"jti":"0123456789abcdef"}"#,
        r#"{"iss":"pt_abcdefgh","holder_code_type":"111","holder_code":"310115199003071239","acr":"L2","iat":1e30,"exp":1790000100,"jti":"0123456789abcdef"}"#,
    ] {
        let e =
            check(&raw(&key, r#"{"alg":"EdDSA","typ":"holder-assertion+jwt"}"#, payload), &key).unwrap_err();
        assert!(matches!(e, AssertionError::Malformed(_)), "{payload}: {e}");
    }
}
