//! Verifying a `TimeStampToken` (or the `TimeStampResp` carrying it) against the data it
//! stamps and the platform's roots.

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode as _, Encode as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;

use super::asn1::{TimeStampResp, TstInfo};
use super::respond::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNING_CERT_V2};
use super::{
    Accuracy, FailureInfo, ID_CT_TST_INFO, ImprintAlg, MAX_TOKEN_BYTES, MAX_TOKEN_CERTS, TsaError,
    validate_tsa_cert,
};
use crate::pdf::cms::{DigestAlg, SigningCertificateV2};
use crate::signing::{Algorithm, SealVerifier};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// What a verified time-stamp token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampInfo {
    /// The time of the stamp.
    pub gen_time: OffsetDateTime,
    /// The serial number, as DER INTEGER content bytes (big-endian, minimal).
    pub serial: Vec<u8>,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// The nonce, as DER INTEGER content bytes, if any.
    pub nonce: Option<Vec<u8>>,
    /// The imprint's hash algorithm.
    pub imprint_alg: ImprintAlg,
    /// The accuracy, if stated.
    pub accuracy: Option<Accuracy>,
    /// DER of the TSA's certificate.
    pub tsa_cert_der: Vec<u8>,
    /// The TSA key's algorithm.
    pub algorithm: Algorithm,
}

impl StampInfo {
    /// The serial number as a `u64`, if it is one.
    pub fn serial_u64(&self) -> Option<u64> {
        let bytes = self.serial.strip_prefix(&[0]).unwrap_or(&self.serial);
        (bytes.len() <= 8 && bytes.first().is_none_or(|b| *b & 0x80 == 0 || self.serial.len() > bytes.len()))
            .then(|| bytes.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
    }
}

fn malformed(what: impl std::fmt::Display) -> TsaError {
    TsaError::Malformed(what.to_string())
}

/// Verifies a DER `TimeStampResp`: granted (else [`TsaError::NotGranted`]), and its token
/// as [`verify_token`] does.
pub fn verify_response(
    resp_der: &[u8],
    data: &[u8],
    trusted_roots: &[Vec<u8>],
    tsa_certs: &[Vec<u8>],
) -> Result<StampInfo, TsaError> {
    if resp_der.len() > MAX_TOKEN_BYTES {
        return Err(malformed(format!("reply over {MAX_TOKEN_BYTES} bytes")));
    }
    let resp = TimeStampResp::from_der(resp_der).map_err(malformed)?;
    let status = resp.status.status;
    // granted (0) and grantedWithMods (1) carry a token.
    let token = match (&resp.time_stamp_token, status) {
        (Some(token), 0 | 1) => token,
        _ => {
            let fail = resp.status.fail_info.as_ref().and_then(failure_of);
            return Err(TsaError::NotGranted { status, fail });
        }
    };
    verify_token(&token.to_der().map_err(malformed)?, data, trusted_roots, tsa_certs)
}

fn failure_of(bits: &der::asn1::BitString) -> Option<FailureInfo> {
    use FailureInfo::*;
    let set: Vec<usize> = bits.bits().enumerate().filter(|(_, b)| *b).map(|(i, _)| i).collect();
    let [one] = set.as_slice() else { return None };
    [
        BadAlg,
        BadRequest,
        BadDataFormat,
        TimeNotAvailable,
        UnacceptedPolicy,
        UnacceptedExtension,
        SystemFailure,
    ]
    .into_iter()
    .find(|f| usize::from(f.bit()) == *one)
}

/// Verifies a DER `TimeStampToken` over `data`: a SignedData (version 3) encapsulating a version 1
/// `TSTInfo`, one signer whose certificate is in the token or in `tsa_certs`, the
/// messageDigest, contentType (id-ct-TSTInfo) and signingCertificateV2 attributes, the
/// signature, the message imprint against the digest of `data`, and the signer's
/// certificate as a TSA's ([`validate_tsa_cert`]) at the stamp's time.
pub fn verify_token(
    token_der: &[u8],
    data: &[u8],
    trusted_roots: &[Vec<u8>],
    tsa_certs: &[Vec<u8>],
) -> Result<StampInfo, TsaError> {
    verify_token_parts(token_der, &[data], trusted_roots, tsa_certs)
}

/// [`verify_token`] over data given in parts (a PDF's signed byte ranges), digested as
/// their concatenation.
pub fn verify_token_parts(
    token_der: &[u8],
    parts: &[&[u8]],
    trusted_roots: &[Vec<u8>],
    tsa_certs: &[Vec<u8>],
) -> Result<StampInfo, TsaError> {
    if token_der.len() > MAX_TOKEN_BYTES {
        return Err(malformed(format!("token over {MAX_TOKEN_BYTES} bytes")));
    }
    let ci = ContentInfo::from_der(token_der).map_err(malformed)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(malformed(format!("content type {} is not signedData", ci.content_type)));
    }
    let sd: SignedData = ci.content.decode_as().map_err(malformed)?;
    // RFC 5652 §5.1: version 3 when the content is not id-data.
    if sd.version != cms::content_info::CmsVersion::V3 {
        return Err(malformed("SignedData version is not 3"));
    }
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(malformed("the content is not a TSTInfo"));
    }
    let econtent = sd.encap_content_info.econtent.as_ref().ok_or_else(|| malformed("no TSTInfo"))?;
    let tst_der = econtent.decode_as::<OctetString>().map_err(malformed)?.as_bytes().to_vec();
    let tst = TstInfo::from_der(&tst_der).map_err(malformed)?;
    if tst.version != 1 {
        return Err(malformed(format!("TSTInfo version {}", tst.version)));
    }
    let mut signers = sd.signer_infos.0.iter();
    let (Some(si), None) = (signers.next(), signers.next()) else {
        return Err(malformed("expected exactly one SignerInfo"));
    };
    if !sd.digest_algorithms.iter().any(|a| a.oid == si.digest_alg.oid) {
        return Err(malformed("the signer's digest algorithm is not among the SignedData's"));
    }
    let (cert, cert_der) = signer_cert(&sd, si, tsa_certs)?;
    let algorithm = check_signature(si, &cert, &cert_der, &tst_der)?;

    let imprint = &tst.message_imprint;
    let imprint_alg = ImprintAlg::from_oid(&imprint.hash_algorithm.oid).ok_or_else(|| {
        TsaError::UnsupportedAlgorithm(format!("imprint hash {}", imprint.hash_algorithm.oid))
    })?;
    if imprint.hashed_message.as_bytes() != imprint_alg.digest_parts(parts).as_slice() {
        return Err(TsaError::ImprintMismatch);
    }
    let secs = tst.gen_time.to_unix_duration().as_secs();
    let gen_time = i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| malformed("genTime out of range"))?;
    validate_tsa_cert(&cert_der, trusted_roots, gen_time)?;
    Ok(StampInfo {
        gen_time,
        serial: tst.serial_number.as_bytes().to_vec(),
        policy: tst.policy,
        nonce: tst.nonce.map(|n| n.as_bytes().to_vec()),
        imprint_alg,
        accuracy: tst.accuracy.map(|a| Accuracy { seconds: a.seconds, millis: a.millis, micros: a.micros }),
        tsa_cert_der: cert_der,
        algorithm,
    })
}

/// The signer's certificate (parsed, DER): the one named by `si` among the token's
/// certificates, then `extra`.
fn signer_cert(
    sd: &SignedData,
    si: &SignerInfo,
    extra: &[Vec<u8>],
) -> Result<(Certificate, Vec<u8>), TsaError> {
    // RFC 5652 §5.3: version 1 with issuerAndSerialNumber.
    let (SignerIdentifier::IssuerAndSerialNumber(ias), cms::content_info::CmsVersion::V1) =
        (&si.sid, si.version)
    else {
        return Err(malformed("the signer is not named by issuer and serial number"));
    };
    let in_token: Vec<&CertificateChoices> = sd.certificates.iter().flat_map(|s| s.0.iter()).collect();
    if in_token.len() > MAX_TOKEN_CERTS {
        return Err(malformed(format!("over {MAX_TOKEN_CERTS} certificates")));
    }
    let mut candidates: Vec<Certificate> = in_token
        .into_iter()
        .filter_map(|c| match c {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    for der in extra {
        candidates.push(Certificate::from_der(der).map_err(|e| malformed(format!("TSA certificate: {e}")))?);
    }
    let cert = candidates
        .into_iter()
        .find(|c| {
            *c.tbs_certificate().issuer() == ias.issuer
                && *c.tbs_certificate().serial_number() == ias.serial_number
        })
        .ok_or(TsaError::SignerCertMissing)?;
    let der = cert.to_der().map_err(malformed)?;
    Ok((cert, der))
}

/// Checks the signed attributes and the signature; the key's algorithm.
fn check_signature(
    si: &SignerInfo,
    cert: &Certificate,
    cert_der: &[u8],
    tst_der: &[u8],
) -> Result<Algorithm, TsaError> {
    let attrs = si.signed_attrs.as_ref().ok_or(TsaError::BadAttribute("signed attributes"))?;
    let single = |oid: ObjectIdentifier, name: &'static str| -> Result<&Any, TsaError> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a.values.get(0).ok_or(TsaError::BadAttribute(name)),
            _ => Err(TsaError::BadAttribute(name)),
        }
    };
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(malformed)?;
    let verifier =
        SealVerifier::from_spki_der(&spki).map_err(|e| TsaError::UnsupportedAlgorithm(e.to_string()))?;
    let algorithm = verifier.algorithm();
    let digest = DigestAlg::for_algorithm(algorithm);
    if si.signature_algorithm.oid != algorithm.signature_oid() || si.digest_alg.oid != digest.oid() {
        return Err(TsaError::UnsupportedAlgorithm(format!(
            "signature {} with digest {} for a {algorithm} key",
            si.signature_algorithm.oid, si.digest_alg.oid
        )));
    }
    let signed_digest: OctetString = single(ID_MESSAGE_DIGEST, "message-digest")?
        .decode_as()
        .map_err(|_| TsaError::BadAttribute("message-digest"))?;
    if signed_digest.as_bytes() != digest.digest(&[tst_der]).as_slice() {
        return Err(TsaError::DigestMismatch);
    }
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE, "content-type")?
        .decode_as()
        .map_err(|_| TsaError::BadAttribute("content-type"))?;
    if content_type != ID_CT_TST_INFO {
        return Err(TsaError::BadAttribute("content-type"));
    }
    let ess: SigningCertificateV2 = single(ID_SIGNING_CERT_V2, "signing-certificate-v2")?
        .decode_as()
        .map_err(|_| TsaError::BadAttribute("signing-certificate-v2"))?;
    if ess.certs.first().is_none_or(|id| id.cert_hash.as_bytes() != &Sha256::digest(cert_der)[..]) {
        return Err(TsaError::SigningCertificateMismatch);
    }
    let signed = attrs.to_der().map_err(malformed)?;
    verifier.verify_der(&signed, si.signature.as_bytes()).map_err(|_| TsaError::BadSignature)?;
    Ok(algorithm)
}
