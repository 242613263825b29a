//! The licence QR token: a COSE_Sign1 (RFC 9052) over CWT claims (RFC 8392), signed by the seal key.
//!
//! Structure: tag 18, protected header `{1: alg, 4: kid}` with alg EdDSA (−8) for Ed25519
//! seals, ES256 (−7) for P-256 seals and −65600 ([`crate::signing::alg::COSE_SM2_SM3`], a
//! private-use value: COSE registers no SM2 algorithm) for SM2 seals, an empty unprotected
//! header, the claims map (see [`claims`]) as an embedded payload, and the 64-byte
//! signature over the `Signature1` Sig_structure with empty external AAD (SM2: `r‖s` over
//! `SM3(Z ‖ Sig_structure)`, default ID). Any COSE library with the seal's public key can
//! verify Ed25519 and P-256 tokens; SM2 tokens verify with any SM2 implementation given
//! the Sig_structure (the README shows it with OpenSSL). This module does no I/O and reads no clock: times come in as arguments,
//! and checking `exp` against "now" is the caller's business.

pub mod bundle;
pub mod claims;
mod cose;
pub mod url;

use coset::{CborSerializable as _, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable as _};

pub use claims::{LICENCE_ID_ROOT, LicenceClaims, RECORD_HASH_BYTES};
pub use url::{bundle_url, decode_from_url, encode_for_url, qr_url};

use crate::signing::{Algorithm, SealSigner, SealVerifier};

/// Largest token (COSE bytes) accepted; bigger input is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 1024;

/// Longest `kid` accepted (the seal certificate identifier; 8 bytes is typical).
pub const MAX_KID_BYTES: usize = 32;

/// Bytes of the `kid` this platform puts in its tokens.
pub const KID_BYTES: usize = 8;

/// The token `kid` of a seal certificate: the first [`KID_BYTES`] of its SHA-256. Issuing
/// writes it; verification finds the seal by it.
pub fn kid_of(cert_der: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(cert_der)[..KID_BYTES].to_vec()
}

/// A token's structure, read but NOT verified: nothing in it is to be trusted until
/// [`verify`] succeeds with the key of the seal that `kid` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    /// The seal certificate identifier from the protected header.
    pub kid: Vec<u8>,
    /// The seal algorithm the COSE `alg` names (EdDSA: Ed25519, ES256: P-256, −65600: SM2).
    pub algorithm: Algorithm,
    /// The claims, as stated (unverified).
    pub claims: LicenceClaims,
    /// The bytes the signature covers (the COSE `Sig_structure`).
    signed_data: Vec<u8>,
    /// The signature (64 bytes for every algorithm when well-formed).
    signature: Vec<u8>,
}

/// Signs `claims` with `signer` under the seal certificate identifier `kid`; returns the
/// tagged COSE_Sign1 bytes. Keeps the first [`RECORD_HASH_BYTES`] of the record hash.
pub fn sign(claims: &LicenceClaims, kid: &[u8], signer: &SealSigner) -> Result<Vec<u8>, TokenError> {
    let payload = claims
        .to_claims_set()
        .map_err(TokenError::Signing)?
        .to_vec()
        .map_err(|e| TokenError::Signing(format!("encoding the claims: {e}")))?;
    sign_payload(payload, kid, signer, MAX_TOKEN_BYTES)
}

/// The tagged COSE_Sign1 of a claims `payload` under `kid`, at most `max` bytes: licence
/// tokens and bundle receipt tokens are made here.
fn sign_payload(
    payload: Vec<u8>,
    kid: &[u8],
    signer: &SealSigner,
    max: usize,
) -> Result<Vec<u8>, TokenError> {
    if kid.is_empty() || kid.len() > MAX_KID_BYTES {
        return Err(TokenError::Signing(format!("kid must be 1 to {MAX_KID_BYTES} bytes")));
    }
    let mut protected = HeaderBuilder::new().key_id(kid.to_vec()).build();
    protected.alg = Some(signer.algorithm().cose());
    let token = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(&[], |data| signer.sign_raw(data))
        .build()
        .to_tagged_vec()
        .map_err(|e| TokenError::Signing(format!("encoding the COSE_Sign1: {e}")))?;
    if token.len() > max {
        return Err(TokenError::Signing(format!(
            "token of {} bytes exceeds {max}: shorten the claims",
            token.len()
        )));
    }
    Ok(token)
}

/// Reads a token's structure strictly, without verifying it: tag 18, a known algorithm,
/// a `kid`, no `crit` or other header parameters, an empty unprotected header, an
/// embedded payload with exactly the claims this version knows, definite lengths, no
/// trailing bytes. One pass over the bytes (see `cose.rs` for why not coset's reader);
/// the `Sig_structure` is kept with the protected header's bytes as they came.
pub fn parse(token: &[u8]) -> Result<ParsedToken, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge { size: token.len(), max: MAX_TOKEN_BYTES });
    }
    let sign1 = cose::read(token)?;
    let claims = LicenceClaims::from_cwt(sign1.payload).map_err(TokenError::Malformed)?;
    Ok(ParsedToken {
        kid: sign1.kid.to_vec(),
        algorithm: sign1.algorithm,
        claims,
        signed_data: cose::sig_structure(sign1.protected, sign1.payload),
        signature: sign1.signature.to_vec(),
    })
}

/// Verifies a parsed token with the public key of the seal its `kid` names: the key type
/// must match the token's algorithm and the signature must hold over the Sig_structure.
pub fn verify(parsed: &ParsedToken, verifier: &SealVerifier) -> Result<(), TokenError> {
    if parsed.algorithm != verifier.algorithm() {
        return Err(TokenError::AlgorithmMismatch);
    }
    verifier.verify_raw(&parsed.signed_data, &parsed.signature).map_err(|_| TokenError::BadSignature)
}

/// [`parse`] then [`verify`]: the claims, only if the signature holds.
pub fn parse_and_verify(token: &[u8], verifier: &SealVerifier) -> Result<LicenceClaims, TokenError> {
    let parsed = parse(token)?;
    verify(&parsed, verifier)?;
    Ok(parsed.claims)
}

/// Why a token could not be made, read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The input is bigger than a token can be.
    #[error("token too large: {size} > {max}")]
    TooLarge {
        /// Size of the input (bytes, or characters for URL text).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The URL text is not a token encoding.
    #[error("token encoding: {0}")]
    Encoding(String),
    /// The bytes are not a token of this format.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token names an algorithm this platform does not accept.
    #[error("unsupported token algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The token's algorithm is not the given key's algorithm.
    #[error("token algorithm does not match the seal key")]
    AlgorithmMismatch,
    /// The signature does not hold.
    #[error("bad token signature")]
    BadSignature,
    /// A token could not be made from these claims.
    #[error("cannot sign token: {0}")]
    Signing(String),
}

impl TokenError {
    /// A stable snake_case code for APIs and verification reports.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "token_too_large",
            Self::Encoding(_) => "token_encoding",
            Self::Malformed(_) => "token_malformed",
            Self::UnsupportedAlgorithm(_) => "token_unsupported_algorithm",
            Self::AlgorithmMismatch => "token_algorithm_mismatch",
            Self::BadSignature => "token_bad_signature",
            Self::Signing(_) => "token_signing_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coset::{CoseSign1, iana};

    fn ed25519() -> SealSigner {
        let rng = ring::rand::SystemRandom::new();
        let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        SealSigner::from_pkcs8_der(der.as_ref()).unwrap()
    }

    fn p256() -> SealSigner {
        let rng = ring::rand::SystemRandom::new();
        let alg = &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let der = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        SealSigner::from_pkcs8_der(der.as_ref()).unwrap()
    }

    fn sm2() -> SealSigner {
        let der = crate::signing::sm2::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        SealSigner::from_pkcs8_der(&der).unwrap()
    }

    /// A fresh key of each algorithm.
    fn every_algorithm() -> [SealSigner; 3] {
        [ed25519(), p256(), sm2()]
    }

    const PUBLIC_URL: &str = "https://licence.example.gov.cn"; // 30 characters
    const KID: &[u8] = &[0x5a, 0x1f, 0x03, 0x9e, 0x44, 0x10, 0xc2, 0x7b];

    fn claims() -> LicenceClaims {
        LicenceClaims {
            issuer: PUBLIC_URL.into(),
            issued_at: 1_717_200_000,
            expires_at: Some(1_874_966_399),
            licence_id: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
            holder_name: "上海某某餐饮管理有限公司".into(),
            holder_code_masked: "110***********002X".into(),
            valid_from: "2024-06-01".into(),
            valid_until: Some("2029-05-31".into()),
            record_hash: (100u8..132).collect(),
        }
    }

    #[test]
    fn round_trip_every_algorithm() {
        for (signer, alg) in
            [(ed25519(), Algorithm::Ed25519), (p256(), Algorithm::P256), (sm2(), Algorithm::Sm2)]
        {
            let token = sign(&claims(), KID, &signer).unwrap();
            let parsed = parse(&token).unwrap();
            assert_eq!((parsed.kid.as_slice(), parsed.algorithm), (KID, alg));
            assert_eq!(parsed.claims.record_hash, claims().record_hash[..RECORD_HASH_BYTES]);
            assert!(parsed.claims.record_hash_matches(&claims().record_hash));
            assert_eq!(parsed.claims.licence_id, claims().licence_id);
            assert_eq!(parsed.claims.holder_name, claims().holder_name);
            verify(&parsed, &signer.verifier()).unwrap();
            let spki = SealVerifier::from_spki_der(&signer.public_key_spki_der()).unwrap();
            assert_eq!(parse_and_verify(&token, &spki).unwrap(), parsed.claims);
            let via_url = decode_from_url(&qr_url(PUBLIC_URL, &token)).unwrap();
            assert_eq!(via_url, token);
        }
    }

    #[test]
    fn tampering_and_wrong_keys_fail() {
        for (signer, other) in [(ed25519(), ed25519()), (p256(), p256()), (sm2(), sm2())] {
            let token = sign(&claims(), KID, &signer).unwrap();
            let parsed = parse(&token).unwrap();
            assert!(matches!(verify(&parsed, &other.verifier()), Err(TokenError::BadSignature)));
            // A foreign key of the same kind signs edited claims under the same kid.
            let edited = LicenceClaims { valid_until: Some("2039-05-31".into()), ..claims() };
            let forged = parse(&sign(&edited, KID, &other).unwrap()).unwrap();
            assert_eq!((forged.kid.as_slice(), forged.algorithm), (KID, signer.algorithm()));
            assert!(matches!(verify(&forged, &signer.verifier()), Err(TokenError::BadSignature)));
            // Change one character of the holder name inside the payload.
            let at = token.windows(3).position(|w| w == "某".as_bytes()).unwrap();
            let mut bad = token.clone();
            bad[at + 2] ^= 0x01;
            let parsed = parse(&bad).unwrap();
            assert_ne!(parsed.claims.holder_name, claims().holder_name);
            assert!(matches!(verify(&parsed, &signer.verifier()), Err(TokenError::BadSignature)));
            // Flip a signature bit.
            let mut bad = token.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x80;
            let err = verify(&parse(&bad).unwrap(), &signer.verifier()).unwrap_err();
            assert_eq!(err.code(), "token_bad_signature");
        }
        let es256 = parse(&sign(&claims(), KID, &p256()).unwrap()).unwrap();
        assert!(matches!(verify(&es256, &ed25519().verifier()), Err(TokenError::AlgorithmMismatch)));
        let eddsa = parse(&sign(&claims(), KID, &ed25519()).unwrap()).unwrap();
        assert!(matches!(verify(&eddsa, &p256().verifier()), Err(TokenError::AlgorithmMismatch)));
        let sm2_token = parse(&sign(&claims(), KID, &sm2()).unwrap()).unwrap();
        for other in [ed25519(), p256()] {
            assert!(matches!(verify(&sm2_token, &other.verifier()), Err(TokenError::AlgorithmMismatch)));
            let token = parse(&sign(&claims(), KID, &other).unwrap()).unwrap();
            assert!(matches!(verify(&token, &sm2().verifier()), Err(TokenError::AlgorithmMismatch)));
        }
    }

    /// `token` with its protected `alg` replaced by `alg`, the signature kept.
    fn relabelled(token: &[u8], alg: Algorithm) -> Vec<u8> {
        let mut sign1 = CoseSign1::from_tagged_slice(token).unwrap();
        sign1.protected.header.alg = Some(alg.cose());
        // Re-encode the header from its fields, not from the bytes it was read from.
        sign1.protected.original_data = None;
        sign1.to_tagged_vec().unwrap()
    }

    /// Every token relabelled as every other algorithm (SM2 as EdDSA and ES256 and back):
    /// read as the new algorithm, refused by its own key as a mismatch, and refused by a
    /// key of the new algorithm (even the matching one of the same kind could not
    /// verify: the Sig_structure covers the protected header).
    #[test]
    fn a_relabelled_alg_fails() {
        let signers = every_algorithm();
        for signer in &signers {
            let token = sign(&claims(), KID, signer).unwrap();
            for target in &signers {
                let (from, to) = (signer.algorithm(), target.algorithm());
                if from == to {
                    continue;
                }
                let forged = relabelled(&token, to);
                let parsed = parse(&forged).unwrap();
                assert_eq!(parsed.algorithm, to, "{from} as {to}");
                let own = verify(&parsed, &signer.verifier());
                assert!(matches!(own, Err(TokenError::AlgorithmMismatch)), "{from} as {to}: {own:?}");
                let theirs = verify(&parsed, &target.verifier());
                assert!(matches!(theirs, Err(TokenError::BadSignature)), "{from} as {to}: {theirs:?}");
                // Relabelled back, the original bytes and signature verify again.
                let back = relabelled(&forged, from);
                assert_eq!(back, token, "{from} as {to} and back");
                verify(&parse(&back).unwrap(), &signer.verifier()).unwrap();
            }
        }
    }

    #[test]
    fn garbage_is_a_clean_error() {
        assert!(matches!(parse(&[]), Err(TokenError::Malformed(_))));
        for signer in every_algorithm() {
            let token = sign(&claims(), KID, &signer).unwrap();
            for n in 0..token.len() {
                assert!(parse(&token[..n]).is_err(), "{} prefix {n}", signer.algorithm());
            }
            let mut trailing = token.clone();
            trailing.push(0);
            assert!(matches!(parse(&trailing), Err(TokenError::Malformed(_))));
        }
        let big = vec![0u8; MAX_TOKEN_BYTES + 1];
        assert!(matches!(parse(&big), Err(TokenError::TooLarge { .. })));
        // Huge lengths in CBOR headers: arrays, maps, byte and text strings, tags, nesting.
        let huge: [&[u8]; 8] = [
            &[0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xd2, 0x84, 0x5a, 0xff, 0xff, 0xff, 0xff, 0xa0],
            &[0xd2, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xd2, 0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80],
            &[0x9f; 1000],
            &[0xd2; 1000],
        ];
        for bytes in huge {
            assert!(parse(bytes).is_err());
        }
        // Deterministic pseudo-random bytes and single-byte mutations of a good token.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = parse(&bytes);
            let _ = decode_from_url(&String::from_utf8_lossy(&bytes));
        }
        // Every byte of a token of each algorithm replaced: an error, or a token that its
        // seal's key refuses (only the unchanged byte value gives the token back).
        for signer in every_algorithm() {
            let token = sign(&claims(), KID, &signer).unwrap();
            let verifier = signer.verifier();
            for i in 0..token.len() {
                for v in [0x00, 0x18, 0x1b, 0x5b, 0x7b, 0x9b, 0xbb, 0xff, next() as u8] {
                    let mut t = token.clone();
                    t[i] = v;
                    if let Ok(p) = parse(&t) {
                        assert!(
                            t == token || verify(&p, &verifier).is_err(),
                            "{} byte {i}",
                            signer.algorithm()
                        );
                    }
                }
            }
        }
    }

    /// The one-pass reader is no looser than coset's: every single-byte change of a token
    /// that [`parse`] accepts, coset reads too, with the same `alg`, `kid` and payload, the
    /// same Sig_structure, and a claims set that coset reads.
    #[test]
    fn what_parse_accepts_coset_reads_alike() {
        for signer in every_algorithm() {
            let token = sign(&claims(), KID, &signer).unwrap();
            let mut accepted = 0;
            for i in 0..token.len() {
                for v in [0x00, 0x01, 0x18, 0x40, 0x5f, 0x60, 0x7f, 0x9f, 0xa0, 0xbf, 0xc0, 0xf6, 0xff] {
                    let mut t = token.clone();
                    t[i] = v;
                    let Ok(parsed) = parse(&t) else { continue };
                    accepted += 1;
                    let sign1 =
                        CoseSign1::from_tagged_slice(&t).unwrap_or_else(|e| panic!("byte {i} = {v:#x}: {e}"));
                    let header = &sign1.protected.header;
                    assert_eq!(header.alg, Some(parsed.algorithm.cose()), "byte {i} = {v:#x}");
                    assert_eq!(header.key_id, parsed.kid, "byte {i} = {v:#x}");
                    assert_eq!(sign1.tbs_data(&[]), parsed.signed_data, "byte {i} = {v:#x}");
                    assert_eq!(sign1.signature, parsed.signature, "byte {i} = {v:#x}");
                    let payload = sign1.payload.unwrap();
                    coset::cwt::ClaimsSet::from_slice(&payload)
                        .unwrap_or_else(|e| panic!("byte {i} = {v:#x}: {e}"));
                }
            }
            // Changes inside the texts, the hash and the signature keep a token readable.
            assert!(accepted > token.len() / 2, "{}: only {accepted} accepted", signer.algorithm());
        }
    }

    #[test]
    fn strict_structure() {
        use coset::{CoseSign1Builder, HeaderBuilder};
        let signer = ed25519();
        let payload = claims().to_claims_set().unwrap().to_vec().unwrap();
        let build = |protected: coset::Header, unprotected: coset::Header, payload: Option<Vec<u8>>| {
            let mut b = CoseSign1Builder::new().protected(protected).unprotected(unprotected);
            if let Some(p) = payload {
                b = b.payload(p);
            }
            b.create_signature(&[], |d| signer.sign_raw(d)).build()
        };
        let good = || HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(KID.to_vec());
        let empty = coset::Header::default;
        let ok = build(good().build(), empty(), Some(payload.clone()));
        assert!(parse(&ok.clone().to_tagged_vec().unwrap()).is_ok());
        // Untagged.
        assert!(matches!(parse(&ok.to_vec().unwrap()), Err(TokenError::Malformed(_))));
        let es384 = HeaderBuilder::new().algorithm(iana::Algorithm::ES384).key_id(KID.to_vec()).build();
        let cases = [
            (build(es384, empty(), Some(payload.clone())), "token_unsupported_algorithm"),
            (
                build(HeaderBuilder::new().key_id(KID.to_vec()).build(), empty(), Some(payload.clone())),
                "token_malformed",
            ),
            (
                build(
                    HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).build(),
                    empty(),
                    Some(payload.clone()),
                ),
                "token_malformed",
            ),
            (
                build(
                    good().add_critical(iana::HeaderParameter::Alg).build(),
                    empty(),
                    Some(payload.clone()),
                ),
                "token_malformed",
            ),
            (
                build(good().content_type("x".into()).build(), empty(), Some(payload.clone())),
                "token_malformed",
            ),
            (
                build(good().build(), HeaderBuilder::new().key_id(vec![1]).build(), Some(payload.clone())),
                "token_malformed",
            ),
            (build(good().build(), empty(), None), "token_malformed"),
            (build(good().build(), empty(), Some(vec![0xa0])), "token_malformed"),
        ];
        for (sign1, code) in cases {
            let err = parse(&sign1.to_tagged_vec().unwrap()).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
        }
        assert!(sign(&claims(), &[], &signer).is_err());
        assert!(sign(&LicenceClaims { record_hash: vec![0; 8], ..claims() }, KID, &signer).is_err());
        let huge = LicenceClaims { holder_name: "名".repeat(400), ..claims() };
        assert_eq!(sign(&huge, KID, &signer).unwrap_err().code(), "token_signing_failed");
    }

    /// The QR version of a realistic token's URL, base32 (alphanumeric mode) against
    /// base64url (byte mode), at ECC level M, with `iss` the 30-character public URL and
    /// with `iss` the 18-character issuer code. Run with `--nocapture` to see the sizes.
    /// Version 12 (the first target) cannot be met: see the measurements in [`url`]. The
    /// platform signs with `iss` = the issuer code, which the identifier carries, so the
    /// token leaves it out: 246 bytes, version 13 with the lowercase `/v/` prefix (14 with `iss`).
    #[test]
    fn qr_versions() {
        use data_encoding::BASE64URL_NOPAD;
        use qrcode::{EcLevel, QrCode, Version};
        let version =
            |text: &str| match QrCode::with_error_correction_level(text, EcLevel::M).unwrap().version() {
                Version::Normal(v) => v,
                Version::Micro(v) => -v,
            };
        for signer in every_algorithm() {
            for (issuer, limit) in [(PUBLIC_URL, 14), ("11220000013544541J", 13)] {
                let token = sign(&LicenceClaims { issuer: issuer.into(), ..claims() }, KID, &signer).unwrap();
                let b32 = qr_url(PUBLIC_URL, &token);
                let b64 = format!("{PUBLIC_URL}/v/{}", BASE64URL_NOPAD.encode(&token));
                let (v32, v64) = (version(&b32), version(&b64));
                println!(
                    "{} iss={issuer}: token {} bytes; base32 URL {} chars -> QR {v32}-M; base64url URL {} chars -> QR {v64}-M",
                    signer.algorithm(),
                    token.len(),
                    b32.len(),
                    b64.len()
                );
                assert!(v32 <= limit && v32 < v64, "{b32}");
            }
        }
    }
}
