//! The trust list: what an offline verifier (or a peer platform) needs to check this
//! platform's licences — the root certificates, every seal certificate with its
//! department and the licence types it may issue, and the current CRLs — signed by the
//! platform's Ed25519 root.
//!
//! The file is a JWS in flattened JSON serialisation (RFC 7515 §7.2.2) with `alg`
//! `EdDSA` (RFC 8037) and the signing root certificate in `x5c`, so any JOSE library can
//! check it; the payload is the JSON [`TrustListBody`].

use data_encoding::{BASE64, BASE64URL_NOPAD};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::report::Mode;
use super::trust::{SealSource, TrustSet, spki_of_cert};
use crate::pki::{Algorithm, CertInfo, cert_info, crl_info};
use crate::signing::{SealSigner, SealVerifier};

/// Largest trust list accepted, in bytes.
pub const MAX_TRUST_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Format version of [`TrustListBody`].
pub const TRUST_LIST_VERSION: u32 = 1;

/// One root certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedRoot {
    /// `ed25519` or `p256`.
    pub algorithm: String,
    /// The certificate, DER in standard base64.
    pub certificate: String,
}

/// One seal: its certificate and what it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedSealEntry {
    /// The seal id (also the certificate's subject serialNumber).
    pub id: String,
    /// The token `kid`: lowercase hex of the first 8 bytes of SHA-256 of the certificate.
    pub kid: String,
    /// The owning department's 统一社会信用代码.
    pub department_code: String,
    /// The department's name.
    pub department_name: String,
    /// The seal's name.
    pub name: String,
    /// `ed25519` or `p256`.
    pub algorithm: String,
    /// The seal certificate, DER in standard base64.
    pub certificate: String,
    /// Licence type codes the department may issue (`*` = any; empty: none).
    pub type_codes: Vec<String>,
}

/// One CRL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedCrl {
    /// Root algorithm.
    pub algorithm: String,
    /// CRL number.
    pub number: u64,
    /// The CRL, DER in standard base64.
    pub crl: String,
}

/// What the trust list states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListBody {
    /// [`TRUST_LIST_VERSION`].
    pub version: u32,
    /// The platform's name.
    pub platform: String,
    /// The platform's public URL (verification pages live under it).
    pub public_url: String,
    /// When the list was made (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    /// When a fresh list should be fetched (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub next_update: OffsetDateTime,
    /// Root certificates.
    pub roots: Vec<TrustedRoot>,
    /// Seal certificates.
    pub seals: Vec<TrustedSealEntry>,
    /// The roots' CRLs as of `issued_at`.
    pub crls: Vec<TrustedCrl>,
}

/// The JWS, flattened JSON serialisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlattenedJws {
    payload: String,
    protected: String,
    signature: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ProtectedHeader {
    alg: String,
    typ: String,
    x5c: Vec<String>,
}

const JWS_TYP: &str = "zhengzhao-trust-list+json";

/// Why a trust list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustListError {
    /// Not a trust list (size, JSON, base64, header).
    #[error("not a trust list: {0}")]
    Malformed(String),
    /// The signature does not verify, or is not by a root the list names.
    #[error("the trust list's signature does not verify: {0}")]
    BadSignature(String),
    /// It was signed by another root than the one pinned.
    #[error("the trust list is signed by a root other than the pinned one")]
    UnexpectedSigner,
}

fn b64(der: &[u8]) -> String {
    BASE64.encode(der)
}

/// Decodes a standard-base64 DER field.
pub fn der_of(field: &str) -> Result<Vec<u8>, TrustListError> {
    BASE64.decode(field.as_bytes()).map_err(|e| TrustListError::Malformed(format!("base64: {e}")))
}

impl TrustedRoot {
    /// Entry for a root certificate.
    pub fn new(algorithm: Algorithm, cert_der: &[u8]) -> Self {
        Self { algorithm: algorithm.to_string(), certificate: b64(cert_der) }
    }
}

impl TrustedCrl {
    /// Entry for a CRL.
    pub fn new(algorithm: Algorithm, number: u64, der: &[u8]) -> Self {
        Self { algorithm: algorithm.to_string(), number, crl: b64(der) }
    }
}

impl TrustedSealEntry {
    /// Entry for a seal certificate.
    pub fn new(
        id: &str,
        department_code: &str,
        department_name: &str,
        name: &str,
        algorithm: Algorithm,
        cert_der: &[u8],
        type_codes: Vec<String>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            kid: hex::encode(crate::token::kid_of(cert_der)),
            department_code: department_code.to_owned(),
            department_name: department_name.to_owned(),
            name: name.to_owned(),
            algorithm: algorithm.to_string(),
            certificate: b64(cert_der),
            type_codes,
        }
    }
}

/// Signs `body` with the Ed25519 root (`root_key` is its PKCS#8 DER, `root_cert` its
/// certificate); returns the JSON file.
pub fn sign_trust_list(
    body: &TrustListBody,
    root_cert: &[u8],
    root_key: &SealSigner,
) -> Result<String, TrustListError> {
    let header = ProtectedHeader { alg: "EdDSA".into(), typ: JWS_TYP.into(), x5c: vec![b64(root_cert)] };
    let protected = b64_json(&header)?;
    let payload = b64_json(body)?;
    let signature = crate::jws::sign(root_key, &protected, &payload);
    let jws = FlattenedJws { payload, protected, signature };
    serde_json::to_string_pretty(&jws).map_err(|e| TrustListError::Malformed(e.to_string()))
}

/// base64url (no padding) of the JSON of `value`.
fn b64_json<T: Serialize>(value: &T) -> Result<String, TrustListError> {
    let json = serde_json::to_vec(value).map_err(|e| TrustListError::Malformed(e.to_string()))?;
    Ok(BASE64URL_NOPAD.encode(&json))
}

/// A trust list whose signature verified.
#[derive(Debug, Clone)]
pub struct VerifiedTrustList {
    /// What it states.
    pub body: TrustListBody,
    /// The root that signed it.
    pub signer: CertInfo,
}

/// Reads and verifies a trust list: a JWS signed with EdDSA by the root in its `x5c`,
/// which must be one of the Ed25519 roots the list itself names and, when `pinned_root`
/// is given (DER), that root. Every certificate and CRL in it must parse.
pub fn verify_trust_list(
    text: &[u8],
    pinned_root: Option<&[u8]>,
) -> Result<VerifiedTrustList, TrustListError> {
    if text.len() > MAX_TRUST_LIST_BYTES {
        return Err(TrustListError::Malformed(format!("larger than {MAX_TRUST_LIST_BYTES} bytes")));
    }
    let jws: FlattenedJws =
        serde_json::from_slice(text).map_err(|e| TrustListError::Malformed(format!("JSON: {e}")))?;
    let unb64 = |s: &str, what: &str| {
        BASE64URL_NOPAD.decode(s.as_bytes()).map_err(|e| TrustListError::Malformed(format!("{what}: {e}")))
    };
    let header: ProtectedHeader = serde_json::from_slice(&unb64(&jws.protected, "protected header")?)
        .map_err(|e| TrustListError::Malformed(format!("protected header: {e}")))?;
    if header.alg != "EdDSA" || header.typ != JWS_TYP {
        return Err(TrustListError::Malformed(format!(
            "expected alg EdDSA and typ {JWS_TYP}, got {} and {}",
            header.alg, header.typ
        )));
    }
    let signer_der = der_of(header.x5c.first().ok_or_else(|| TrustListError::Malformed("no x5c".into()))?)?;
    if let Some(pinned) = pinned_root
        && pinned != signer_der.as_slice()
    {
        return Err(TrustListError::UnexpectedSigner);
    }
    let signer = cert_info(&signer_der).map_err(|e| TrustListError::Malformed(format!("x5c: {e}")))?;
    let verifier =
        SealVerifier::from_spki_der(&spki_of_cert(&signer_der).map_err(TrustListError::Malformed)?)
            .map_err(|e| TrustListError::BadSignature(e.to_string()))?;
    if verifier.algorithm() != crate::signing::Algorithm::Ed25519 {
        return Err(TrustListError::BadSignature("the signer is not an Ed25519 root".into()));
    }
    crate::jws::verify(&verifier, &jws.protected, &jws.payload, &jws.signature).map_err(|e| match e {
        crate::jws::JwsError::Base64(what) => TrustListError::Malformed(format!("{what}: not base64url")),
        crate::jws::JwsError::BadSignature => {
            TrustListError::BadSignature("Ed25519 signature does not hold".into())
        }
    })?;
    let body: TrustListBody = serde_json::from_slice(&unb64(&jws.payload, "payload")?)
        .map_err(|e| TrustListError::Malformed(format!("payload: {e}")))?;
    if body.version != TRUST_LIST_VERSION {
        return Err(TrustListError::Malformed(format!("version {} is not supported", body.version)));
    }
    let mut signer_listed = false;
    for root in &body.roots {
        let der = der_of(&root.certificate)?;
        cert_info(&der).map_err(|e| TrustListError::Malformed(format!("root certificate: {e}")))?;
        signer_listed |= der == signer_der;
    }
    if !signer_listed {
        return Err(TrustListError::BadSignature("signed by a root the list does not name".into()));
    }
    for seal in &body.seals {
        let der = der_of(&seal.certificate)?;
        cert_info(&der).map_err(|e| TrustListError::Malformed(format!("seal {}: {e}", seal.id)))?;
        if seal.kid != hex::encode(crate::token::kid_of(&der)) {
            return Err(TrustListError::Malformed(format!(
                "seal {}: kid does not match its certificate",
                seal.id
            )));
        }
    }
    for crl in &body.crls {
        crl_info(&der_of(&crl.crl)?).map_err(|e| TrustListError::Malformed(format!("CRL: {e}")))?;
    }
    Ok(VerifiedTrustList { body, signer })
}

impl TrustSet {
    /// The offline set of a signed trust list (`text`, as `/pki/trust-list.json` serves
    /// it) once [`verify_trust_list`] accepts it, plus extra CRLs (DER) such as a cached
    /// newer CRL: what an offline verifier holds.
    pub fn from_signed_trust_list(
        text: &[u8],
        extra_crls: Vec<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<Self, TrustListError> {
        let list = verify_trust_list(text, None)?;
        Self::from_trust_list(&list.body, extra_crls, now)
    }

    /// Builds an offline set from a verified trust list, plus extra CRLs (DER) such as a
    /// cached newer CRL.
    pub fn from_trust_list(
        list: &TrustListBody,
        extra_crls: Vec<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<Self, TrustListError> {
        let roots = list.roots.iter().map(|r| der_of(&r.certificate)).collect::<Result<_, _>>()?;
        let mut crls: Vec<Vec<u8>> = list.crls.iter().map(|c| der_of(&c.crl)).collect::<Result<_, _>>()?;
        crls.extend(extra_crls);
        let seals = list
            .seals
            .iter()
            .map(|s| {
                Ok(SealSource {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    department_code: s.department_code.clone(),
                    department_name: s.department_name.clone(),
                    type_codes: s.type_codes.clone(),
                    algorithm: s.algorithm.parse().map_err(|_| {
                        TrustListError::Malformed(format!("seal {}: algorithm {}", s.id, s.algorithm))
                    })?,
                    cert_der: der_of(&s.certificate)?,
                    register_revocation: None,
                })
            })
            .collect::<Result<_, TrustListError>>()?;
        Ok(Self::new(Mode::Offline, roots, crls, seals, now))
    }
}
