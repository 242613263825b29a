//! Reading a `TimeStampReq` into what the responder needs, refusing what RFC 3161 lets a
//! TSA refuse, and writing one (the platform stamping its own signatures).

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode as _, Encode as _, Tagged as _};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::asn1::{MessageImprint, TimeStampReq};
use super::{FailureInfo, ImprintAlg, MAX_NONCE_BYTES, MAX_REQUEST_BYTES, Refusal, TsaError, enc};

/// A well-formed time-stamp request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The message imprint's hash algorithm.
    pub imprint_alg: ImprintAlg,
    /// The message imprint's digest, of the algorithm's length.
    pub hashed_message: Vec<u8>,
    /// The policy asked for, if any.
    pub req_policy: Option<ObjectIdentifier>,
    /// The nonce, as DER INTEGER content bytes (two's complement, minimal), if any.
    pub nonce: Option<Vec<u8>>,
    /// Whether the reply's token must carry the TSA's certificate.
    pub cert_req: bool,
    /// The imprint as sent, copied into the TSTInfo as is (RFC 3161 §2.4.2).
    pub(crate) imprint: MessageImprint,
}

/// Reads a DER `TimeStampReq` (RFC 3161 §2.4.1). Refused, with the failure bit to reply
/// with: more than [`MAX_REQUEST_BYTES`], not DER or not a `TimeStampReq`, a version
/// other than 1, a digest whose length is not its algorithm's, a nonce longer than
/// [`MAX_NONCE_BYTES`] (`badDataFormat`); a hash algorithm other than SHA-256/384/512
/// and SM3, or one with parameters other than absent or NULL (`badAlg`); any extension
/// (`unacceptedExtension`).
pub fn parse_request(der: &[u8]) -> Result<Request, Refusal> {
    if der.len() > MAX_REQUEST_BYTES {
        return Err(Refusal::new(
            FailureInfo::BadDataFormat,
            format!("request of {} bytes, over {MAX_REQUEST_BYTES}", der.len()),
        ));
    }
    let req = TimeStampReq::from_der(der)
        .map_err(|e| Refusal::new(FailureInfo::BadDataFormat, format!("not a DER TimeStampReq: {e}")))?;
    if req.version != 1 {
        return Err(Refusal::new(FailureInfo::BadDataFormat, format!("version {}, not 1", req.version)));
    }
    if req.extensions.is_some() {
        return Err(Refusal::new(FailureInfo::UnacceptedExtension, "request extensions are not supported"));
    }
    let alg_id = &req.message_imprint.hash_algorithm;
    let alg = ImprintAlg::from_oid(&alg_id.oid)
        .ok_or_else(|| Refusal::new(FailureInfo::BadAlg, format!("hash algorithm {}", alg_id.oid)))?;
    if alg_id.parameters.as_ref().is_some_and(|p| p.tag() != der::Tag::Null || !p.value().is_empty()) {
        return Err(Refusal::new(FailureInfo::BadAlg, "hash algorithm parameters other than NULL"));
    }
    let hashed = req.message_imprint.hashed_message.as_bytes();
    if hashed.len() != alg.digest_len() {
        return Err(Refusal::new(
            FailureInfo::BadDataFormat,
            format!("{}-byte digest for a {}-byte hash", hashed.len(), alg.digest_len()),
        ));
    }
    let imprint = req.message_imprint.clone();
    let nonce = req.nonce.map(|n| n.as_bytes().to_vec());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE_BYTES) {
        return Err(Refusal::new(FailureInfo::BadDataFormat, format!("nonce over {MAX_NONCE_BYTES} bytes")));
    }
    Ok(Request {
        imprint_alg: alg,
        hashed_message: hashed.to_vec(),
        req_policy: req.req_policy,
        nonce,
        cert_req: req.cert_req,
        imprint,
    })
}

/// Writes a DER `TimeStampReq` for `data` hashed with `alg`, with an optional nonce and
/// policy, asking for the TSA's certificate when `cert_req`.
pub fn build_request(
    alg: ImprintAlg,
    data: &[u8],
    nonce: Option<u64>,
    cert_req: bool,
    policy: Option<ObjectIdentifier>,
) -> Result<Vec<u8>, TsaError> {
    TimeStampReq {
        version: 1,
        message_imprint: imprint(alg, &alg.digest(data))?,
        req_policy: policy,
        nonce: nonce.map(super::int_u64).transpose()?,
        cert_req,
        extensions: None,
    }
    .to_der()
    .map_err(enc)
}

/// A `MessageImprint` (hash algorithm without parameters, as OpenSSL writes SHA-2 too).
pub(crate) fn imprint(alg: ImprintAlg, digest: &[u8]) -> Result<MessageImprint, TsaError> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifierOwned { oid: alg.oid(), parameters: None },
        hashed_message: OctetString::new(digest.to_vec()).map_err(enc)?,
    })
}
