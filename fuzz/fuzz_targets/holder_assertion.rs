//! Fuzz target: `X-Holder-Assertion` text → `holder_assertion::verify` with a fixed
//! Ed25519 and a fixed P-256 portal key, at a fixed time. Every outcome must be `Err`
//! (a fuzzer cannot sign), quickly and without panicking.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use zhengzhao::holder_assertion;
use zhengzhao::signing::SealVerifier;

/// SubjectPublicKeyInfo of the RFC 8032 test 1 Ed25519 public key.
const ED25519_SPKI: &str =
    "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// SubjectPublicKeyInfo of a P-256 key whose public point is the curve's generator.
const P256_SPKI: &str = concat!(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
);

static VERIFIERS: LazyLock<[SealVerifier; 2]> = LazyLock::new(|| {
    let key = |hex: &str| {
        let der: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("constant hex"))
            .collect();
        SealVerifier::from_spki_der(&der).expect("constant SPKI")
    };
    [key(ED25519_SPKI), key(P256_SPKI)]
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for key in VERIFIERS.iter() {
        let verified = holder_assertion::verify(&text, "pt_fuzzport", key, 1_790_000_000);
        assert!(verified.is_err(), "forged holder assertion verified");
    }
});
