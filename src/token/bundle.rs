//! The QR token of a bundle receipt (办结通知书 of 一件事一次办): one COSE_Sign1, as a
//! licence token (same header, same signers), whose CWT claims name the bundle and every
//! licence issued in it with the first [`RECORD_HASH_BYTES`] of its record hash.
//!
//! Layout of the claims map: `iat` (6), and [`CLAIM_BUNDLE`] (−65538), a map:
//!
//! | key | field | CBOR type |
//! |---|---|---|
//! | [`BUNDLE_ID`] (1) | the bundle identifier | text |
//! | [`MATTER_CODE`] (2) | the matter (一件事) code | text |
//! | [`MATTER_NAME`] (3) | the matter name, e.g. 开办饭店 | text |
//! | [`APPLICANT_NAME`] (4) | the applicant | text |
//! | [`APPLICANT_CODE_MASKED`] (5) | the applicant's code, masked | text |
//! | [`LICENCES`] (6) | one `[identifier without its root, record hash]` pair per licence | array |
//!
//! A verifier checks the signature with the seal the `kid` names, then asks the register
//! for each licence: its state, and whether its record hash still starts with the bytes
//! the receipt states.

use ciborium::Value;
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};
use minicbor::Decoder;

use super::claims::{CLAIM_IAT, cbor, check_text, once, text, text_item, whole_seconds};
use super::{LICENCE_ID_ROOT, RECORD_HASH_BYTES, TokenError, cose};
use crate::signing::{Algorithm, SealSigner, SealVerifier};

/// CWT claim key (IANA private-use range) of the bundle map.
pub const CLAIM_BUNDLE: i64 = -65538;
/// Key in the bundle map: bundle identifier, text.
pub const BUNDLE_ID: i64 = 1;
/// Key in the bundle map: matter code, text.
pub const MATTER_CODE: i64 = 2;
/// Key in the bundle map: matter name, text.
pub const MATTER_NAME: i64 = 3;
/// Key in the bundle map: applicant name, text.
pub const APPLICANT_NAME: i64 = 4;
/// Key in the bundle map: masked applicant code, text.
pub const APPLICANT_CODE_MASKED: i64 = 5;
/// Key in the bundle map: the licences, an array of `[short identifier, hash]`.
pub const LICENCES: i64 = 6;
/// Most licences one receipt token names: eight of the longest identifiers keep the token
/// within [`MAX_BUNDLE_TOKEN_BYTES`] (a QR code of version 27 at most).
pub const MAX_BUNDLE_LICENCES: usize = 8;
/// Largest receipt token (COSE bytes): that of a licence token, so that the URL reader
/// and its limits serve both.
pub const MAX_BUNDLE_TOKEN_BYTES: usize = super::MAX_TOKEN_BYTES;

/// One licence a receipt names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleEntryClaim {
    /// Licence identifier (GB/T 36904), with its root.
    pub licence_id: String,
    /// Record hash: the full hash when signing (the token keeps the first
    /// [`RECORD_HASH_BYTES`]), those bytes when parsed.
    pub record_hash: Vec<u8>,
}

/// What a receipt's token states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleClaims {
    /// `iat`: seconds since the Unix epoch.
    pub issued_at: i64,
    /// The bundle identifier.
    pub bundle_id: String,
    /// The matter (一件事) code.
    pub matter_code: String,
    /// The matter name.
    pub matter_name: String,
    /// The applicant.
    pub applicant_name: String,
    /// The applicant's code, masked.
    pub applicant_code_masked: String,
    /// The licences, in the receipt's order.
    pub licences: Vec<BundleEntryClaim>,
}

/// A receipt token read but NOT verified (see [`verify_bundle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedBundleToken {
    /// The seal certificate identifier.
    pub kid: Vec<u8>,
    /// The seal algorithm.
    pub algorithm: Algorithm,
    /// The claims as stated.
    pub claims: BundleClaims,
    signed_data: Vec<u8>,
    signature: Vec<u8>,
}

impl BundleClaims {
    fn to_claims_set(&self) -> Result<ClaimsSet, String> {
        for (name, t) in [
            ("bundle identifier", &self.bundle_id),
            ("matter code", &self.matter_code),
            ("matter name", &self.matter_name),
            ("applicant name", &self.applicant_name),
            ("masked applicant code", &self.applicant_code_masked),
        ] {
            check_text(name, t)?;
        }
        if self.licences.is_empty() || self.licences.len() > MAX_BUNDLE_LICENCES {
            return Err(format!("a receipt names 1 to {MAX_BUNDLE_LICENCES} licences"));
        }
        let mut licences = Vec::with_capacity(self.licences.len());
        for l in &self.licences {
            let short = l
                .licence_id
                .strip_prefix(LICENCE_ID_ROOT)
                .ok_or_else(|| format!("licence identifier does not start with {LICENCE_ID_ROOT}"))?;
            check_text("licence identifier", short)?;
            let hash = l.record_hash.get(..RECORD_HASH_BYTES).ok_or("record hash too short")?;
            licences.push(Value::Array(vec![Value::Text(short.to_owned()), Value::Bytes(hash.to_vec())]));
        }
        let bundle = vec![
            (Value::from(BUNDLE_ID), Value::Text(self.bundle_id.clone())),
            (Value::from(MATTER_CODE), Value::Text(self.matter_code.clone())),
            (Value::from(MATTER_NAME), Value::Text(self.matter_name.clone())),
            (Value::from(APPLICANT_NAME), Value::Text(self.applicant_name.clone())),
            (Value::from(APPLICANT_CODE_MASKED), Value::Text(self.applicant_code_masked.clone())),
            (Value::from(LICENCES), Value::Array(licences)),
        ];
        Ok(ClaimsSet {
            issued_at: Some(Timestamp::WholeSeconds(self.issued_at)),
            rest: vec![(ClaimName::PrivateUse(CLAIM_BUNDLE), Value::Map(bundle))],
            ..ClaimsSet::default()
        })
    }

    /// Reads the claims strictly: `iat` and the bundle map, nothing else, no duplicate,
    /// definite lengths, nothing after.
    fn from_cwt(payload: &[u8]) -> Result<Self, String> {
        let mut d = Decoder::new(payload);
        let entries = d.map().map_err(cbor("CWT claims"))?.ok_or("CWT claims: indefinite-length map")?;
        let (mut issued_at, mut bundle) = (None, None);
        for _ in 0..entries {
            match d.i64().map_err(|_| "a CWT claim key is not an integer")? {
                CLAIM_IAT => once(&mut issued_at, whole_seconds("iat", &mut d)?, "iat")?,
                CLAIM_BUNDLE => once(&mut bundle, read_bundle(&mut d)?, "bundle")?,
                other => return Err(format!("unexpected claim {other} in a receipt token")),
            }
        }
        if d.position() != payload.len() {
            return Err("bytes after the CWT claims".into());
        }
        let mut claims = bundle.ok_or("missing bundle claim")?;
        claims.issued_at = issued_at.ok_or("missing claim iat")?;
        Ok(claims)
    }
}

/// The bundle map.
fn read_bundle(d: &mut Decoder<'_>) -> Result<BundleClaims, String> {
    let entries = d.map().map_err(|_| "the bundle claim is not a map")?.ok_or("indefinite bundle map")?;
    let (mut id, mut code, mut name, mut applicant, mut masked, mut licences) =
        (None, None, None, None, None, None);
    for _ in 0..entries {
        match d.i64().map_err(|_| "a key in the bundle claim is not an integer")? {
            BUNDLE_ID => once(&mut id, text_item(d, "bundle identifier")?, "bundle id")?,
            MATTER_CODE => once(&mut code, text_item(d, "matter code")?, "matter code")?,
            MATTER_NAME => once(&mut name, text_item(d, "matter name")?, "matter name")?,
            APPLICANT_NAME => once(&mut applicant, text_item(d, "applicant name")?, "applicant")?,
            APPLICANT_CODE_MASKED => once(&mut masked, text_item(d, "applicant code")?, "applicant code")?,
            LICENCES => once(&mut licences, read_licences(d)?, "licences")?,
            other => return Err(format!("unexpected key {other} in the bundle claim")),
        }
    }
    Ok(BundleClaims {
        issued_at: 0,
        bundle_id: text("bundle identifier", id)?.to_owned(),
        matter_code: text("matter code", code)?.to_owned(),
        matter_name: text("matter name", name)?.to_owned(),
        applicant_name: text("applicant name", applicant)?.to_owned(),
        applicant_code_masked: text("masked applicant code", masked)?.to_owned(),
        licences: licences.ok_or("missing licences")?,
    })
}

/// The licences array: 1 to [`MAX_BUNDLE_LICENCES`] pairs.
fn read_licences(d: &mut Decoder<'_>) -> Result<Vec<BundleEntryClaim>, String> {
    let n = d.array().map_err(|_| "licences is not an array")?.ok_or("indefinite licences array")?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n == 0 || n > MAX_BUNDLE_LICENCES {
        return Err(format!("a receipt names 1 to {MAX_BUNDLE_LICENCES} licences"));
    }
    let mut licences = Vec::with_capacity(n);
    for _ in 0..n {
        if d.array().map_err(|_| "a licence entry is not an array")? != Some(2) {
            return Err("a licence entry is not a pair".into());
        }
        let short = text("licence identifier", Some(text_item(d, "licence identifier")?))?;
        let hash = d.bytes().map_err(|_| "record hash is not bytes")?;
        if hash.len() != RECORD_HASH_BYTES {
            return Err(format!("record hash is not {RECORD_HASH_BYTES} bytes"));
        }
        licences.push(BundleEntryClaim {
            licence_id: format!("{LICENCE_ID_ROOT}{short}"),
            record_hash: hash.to_vec(),
        });
    }
    Ok(licences)
}

/// Signs a receipt's claims with `signer` under `kid`.
pub fn sign_bundle(claims: &BundleClaims, kid: &[u8], signer: &SealSigner) -> Result<Vec<u8>, TokenError> {
    use coset::CborSerializable as _;
    let payload = claims
        .to_claims_set()
        .map_err(TokenError::Signing)?
        .to_vec()
        .map_err(|e| TokenError::Signing(format!("encoding the claims: {e}")))?;
    super::sign_payload(payload, kid, signer, MAX_BUNDLE_TOKEN_BYTES)
}

/// Reads a receipt token strictly, without verifying it.
pub fn parse_bundle(token: &[u8]) -> Result<ParsedBundleToken, TokenError> {
    if token.len() > MAX_BUNDLE_TOKEN_BYTES {
        return Err(TokenError::TooLarge { size: token.len(), max: MAX_BUNDLE_TOKEN_BYTES });
    }
    let sign1 = cose::read(token)?;
    let claims = BundleClaims::from_cwt(sign1.payload).map_err(TokenError::Malformed)?;
    Ok(ParsedBundleToken {
        kid: sign1.kid.to_vec(),
        algorithm: sign1.algorithm,
        claims,
        signed_data: cose::sig_structure(sign1.protected, sign1.payload),
        signature: sign1.signature.to_vec(),
    })
}

/// Verifies a parsed receipt token with the key of the seal its `kid` names.
pub fn verify_bundle(parsed: &ParsedBundleToken, verifier: &SealVerifier) -> Result<(), TokenError> {
    if parsed.algorithm != verifier.algorithm() {
        return Err(TokenError::AlgorithmMismatch);
    }
    verifier.verify_raw(&parsed.signed_data, &parsed.signature).map_err(|_| TokenError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(n: usize) -> BundleClaims {
        BundleClaims {
            issued_at: 1_790_000_000,
            bundle_id: "BDL-20261206-7QK2M4XA".into(),
            matter_code: "310115-YJS-0001".into(),
            matter_name: "开办饭店".into(),
            applicant_name: "上海浦江美食餐饮管理有限公司".into(),
            applicant_code_masked: "9131**********BC2D".into(),
            licences: (0..n)
                .map(|i| BundleEntryClaim {
                    licence_id: format!(
                        "{LICENCE_ID_ROOT}11100000000013338W002.11310115MB2C90510L.2026{i:07}.001.X"
                    ),
                    record_hash: vec![i as u8; 32],
                })
                .collect(),
        }
    }

    fn signer() -> SealSigner {
        let rng = ring::rand::SystemRandom::new();
        let der = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        SealSigner::from_pkcs8_der(der.as_ref()).expect("signer")
    }

    #[test]
    fn signs_and_reads_back_with_hashes_cut_to_sixteen_bytes() {
        let signer = signer();
        let token = sign_bundle(&claims(5), b"kid12345", &signer).expect("signed");
        let parsed = parse_bundle(&token).expect("parsed");
        verify_bundle(&parsed, &signer.verifier()).expect("verified");
        let mut expected = claims(5);
        for l in &mut expected.licences {
            l.record_hash.truncate(RECORD_HASH_BYTES);
        }
        assert_eq!(parsed.claims, expected);
        assert_eq!(parsed.kid, b"kid12345");
    }

    #[test]
    fn the_most_licences_fit_and_one_more_is_refused() {
        let signer = signer();
        let token = sign_bundle(&claims(MAX_BUNDLE_LICENCES), b"kid12345", &signer).expect("the most fit");
        assert!(token.len() <= MAX_BUNDLE_TOKEN_BYTES);
        assert!(sign_bundle(&claims(MAX_BUNDLE_LICENCES + 1), b"kid12345", &signer).is_err());
        assert!(sign_bundle(&claims(0), b"kid12345", &signer).is_err());
    }

    #[test]
    fn a_licence_token_is_not_a_receipt_and_an_altered_receipt_fails() {
        let signer = signer();
        let token = sign_bundle(&claims(2), b"kid12345", &signer).expect("signed");
        assert!(super::super::parse(&token).is_err(), "a receipt is no licence token");
        let mut altered = token.clone();
        let at = altered.len() - 70;
        altered[at] ^= 1;
        // A flipped bit in the signature or payload: unreadable, or read and not verified.
        if let Ok(parsed) = parse_bundle(&altered) {
            assert!(verify_bundle(&parsed, &signer.verifier()).is_err());
        }
        assert!(parse_bundle(&token[..token.len() - 1]).is_err());
        assert!(parse_bundle(&vec![0u8; MAX_BUNDLE_TOKEN_BYTES + 1]).is_err());
    }

    #[test]
    fn hostile_claims_are_refused_quickly() {
        use minicbor::Encoder;
        let claims_with = |build: &dyn Fn(&mut Encoder<&mut Vec<u8>>)| {
            let mut buf = Vec::new();
            let mut e = Encoder::new(&mut buf);
            e.map(2).unwrap().i64(6).unwrap().i64(1_790_000_000).unwrap().i64(CLAIM_BUNDLE).unwrap();
            build(&mut e);
            buf
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "a huge declared licence array",
                claims_with(&|e| {
                    e.map(1).unwrap().i64(LICENCES).unwrap().array(u64::MAX).unwrap();
                }),
            ),
            (
                "an indefinite bundle map",
                claims_with(&|e| {
                    e.begin_map().unwrap();
                }),
            ),
            (
                "a licence that is no pair",
                claims_with(&|e| {
                    e.map(1).unwrap().i64(LICENCES).unwrap().array(1).unwrap().array(3).unwrap();
                }),
            ),
            (
                "a short record hash",
                claims_with(&|e| {
                    let l = e.map(1).unwrap().i64(LICENCES).unwrap().array(1).unwrap().array(2).unwrap();
                    l.str("11100000000013338W002.X").unwrap().bytes(&[0; 8]).unwrap();
                }),
            ),
            (
                "a duplicate key",
                claims_with(&|e| {
                    e.map(2)
                        .unwrap()
                        .i64(BUNDLE_ID)
                        .unwrap()
                        .str("a")
                        .unwrap()
                        .i64(BUNDLE_ID)
                        .unwrap()
                        .str("b")
                        .unwrap();
                }),
            ),
            (
                "an unknown key",
                claims_with(&|e| {
                    e.map(1).unwrap().i64(99).unwrap().str("a").unwrap();
                }),
            ),
            (
                "nothing but the map",
                claims_with(&|e| {
                    e.map(0).unwrap();
                }),
            ),
        ];
        for (name, payload) in cases {
            let start = std::time::Instant::now();
            assert!(BundleClaims::from_cwt(&payload).is_err(), "{name}");
            assert!(start.elapsed() < std::time::Duration::from_millis(100), "{name}");
        }
        let mut nested = vec![0xa2, 0x06, 0x01, 0x3a, 0x00, 0x01, 0x00, 0x01];
        nested.extend(std::iter::repeat_n(0x81, 100_000));
        assert!(BundleClaims::from_cwt(&nested).is_err(), "deep nesting");
    }
}
