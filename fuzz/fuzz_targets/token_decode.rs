//! Fuzz target: QR token text and bytes → `token::decode_from_url`, `token::parse` (a
//! licence's token) and `token::bundle::parse_bundle` (a bundle receipt's), and, when a
//! token parses, its verification with fixed Ed25519, P-256 and SM2 keys.
//!
//! The input is tried twice: as URL text (lossy UTF-8) through `decode_from_url`, and as
//! raw COSE bytes straight into `parse`. Every outcome must be `Ok` or `Err`, quickly.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use zhengzhao::signing::SealVerifier;
use zhengzhao::token;

/// SubjectPublicKeyInfo of the RFC 8032 test 1 Ed25519 public key.
const ED25519_SPKI: &str =
    "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// SubjectPublicKeyInfo of a P-256 key whose public point is the curve's generator.
const P256_SPKI: &str = concat!(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
);
/// SubjectPublicKeyInfo of the SM2 public key of the GB/T 32918.5 example (private key
/// 3945208F…C5B8), as OpenSSL writes it.
const SM2_SPKI: &str = concat!(
    "3059301306072a8648ce3d020106082a811ccf5501822d03420004",
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020",
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
);

static VERIFIERS: LazyLock<[SealVerifier; 3]> = LazyLock::new(|| {
    let key = |hex: &str| {
        let der: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("constant hex"))
            .collect();
        SealVerifier::from_spki_der(&der).expect("constant SPKI")
    };
    [key(ED25519_SPKI), key(P256_SPKI), key(SM2_SPKI)]
});

fn parse_and_verify(bytes: &[u8]) {
    if let Ok(parsed) = token::parse(bytes) {
        for verifier in VERIFIERS.iter() {
            // A fuzzer cannot forge a signature: verification must fail, without panicking.
            assert!(token::verify(&parsed, verifier).is_err(), "forged token verified");
        }
    }
    if let Ok(parsed) = token::bundle::parse_bundle(bytes) {
        for verifier in VERIFIERS.iter() {
            let verified = token::bundle::verify_bundle(&parsed, verifier);
            assert!(verified.is_err(), "forged bundle receipt token verified");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = token::decode_from_url(&String::from_utf8_lossy(data)) {
        parse_and_verify(&bytes);
    }
    parse_and_verify(data);
});
