//! Answering a `TimeStampReq`: a granted reply with a signed `TSTInfo`, or a rejection.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString, SetOfVec, Utf8StringRef};
use der::{Any, Decode as _, Encode as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::asn1::{AccuracyAsn1, PkiStatusInfo, TimeStampResp, TstInfo};
use super::request::{Request, parse_request};
use super::{Accuracy, FailureInfo, ID_CT_TST_INFO, Refusal, TsaError, enc};
use crate::pdf::cms::{DigestAlg, EssCertIdV2, IssuerSerial, SigningCertificateV2};
use crate::signing::SealSigner;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const ID_SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// What the TSA states in a token besides the request's imprint and nonce.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The TSA policy; a request asking for another one is refused (`unacceptedPolicy`).
    pub policy: ObjectIdentifier,
    /// The token's serial number, unique for this TSA (the caller's monotonic counter).
    pub serial: u64,
    /// The time of the stamp (UTC; written to the second, fractions dropped).
    pub gen_time: OffsetDateTime,
    /// The accuracy stated, if any.
    pub accuracy: Option<Accuracy>,
    /// Whether to name the TSA (its certificate's subject) in the TSTInfo's `tsa` field.
    pub name_tsa: bool,
}

/// Whether a reply grants a time-stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// PKIStatus granted (0), with a token.
    Granted,
    /// PKIStatus rejection (2), with this failure.
    Rejected(Refusal),
}

/// A DER `TimeStampResp` and what it says.
#[derive(Debug, Clone)]
pub struct Response {
    /// The DER `TimeStampResp`.
    pub der: Vec<u8>,
    /// Granted or refused, and why.
    pub outcome: Outcome,
}

/// Answers the DER `TimeStampReq` `request_der` as the TSA whose key is `signer` and
/// certificate `tsa_cert_der` (see [`super::issue_tsa_cert`]): a granted reply whose token
/// holds `stamp`, or a rejection reply for a request [`parse_request`] refuses or that asks
/// for a policy other than `stamp.policy`. Errors: the key does not match the certificate,
/// `stamp` is out of range (time before 1970, accuracy millis or micros outside 1..=999).
pub fn respond(
    request_der: &[u8],
    signer: &SealSigner,
    tsa_cert_der: &[u8],
    stamp: &Stamp,
) -> Result<Response, TsaError> {
    let cert = crate::pki::signing_cert(tsa_cert_der).map_err(|e| TsaError::BadTsaKey(e.to_string()))?;
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(enc)?;
    if spki != signer.public_key_spki_der() {
        return Err(TsaError::BadTsaKey("the key does not match the certificate".to_owned()));
    }
    let tst_info = |req: &Request| tst_info(req, &cert, stamp);
    let refused = |refusal: Refusal| -> Result<Response, TsaError> {
        Ok(Response { der: rejection(&refusal)?, outcome: Outcome::Rejected(refusal) })
    };
    let req = match parse_request(request_der) {
        Ok(req) => req,
        Err(refusal) => return refused(refusal),
    };
    if req.req_policy.is_some_and(|p| p != stamp.policy) {
        return refused(Refusal::new(FailureInfo::UnacceptedPolicy, "the TSA has one policy"));
    }
    let tst_der = tst_info(&req)?.to_der().map_err(enc)?;
    let token = sign_token(&tst_der, signer, &cert, tsa_cert_der, req.cert_req)?;
    let resp = TimeStampResp {
        status: PkiStatusInfo { status: 0, status_string: None, fail_info: None },
        time_stamp_token: Some(Any::from_der(&token).map_err(enc)?),
    };
    Ok(Response { der: resp.to_der().map_err(enc)?, outcome: Outcome::Granted })
}

/// A DER `TimeStampToken` over `digest` (made with `alg`), the TSA certificate included:
/// what [`super::Authority::token`] gives the in-process signers. Errors as [`respond`].
pub(crate) fn token_for_digest(
    alg: super::ImprintAlg,
    digest: &[u8],
    signer: &SealSigner,
    tsa_cert_der: &[u8],
    stamp: &Stamp,
) -> Result<Vec<u8>, TsaError> {
    if digest.len() != alg.digest_len() {
        return Err(TsaError::InvalidArgument(format!("a {alg:?} digest has {} bytes", alg.digest_len())));
    }
    let cert = crate::pki::signing_cert(tsa_cert_der).map_err(|e| TsaError::BadTsaKey(e.to_string()))?;
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(enc)?;
    if spki != signer.public_key_spki_der() {
        return Err(TsaError::BadTsaKey("the key does not match the certificate".to_owned()));
    }
    let req = Request {
        imprint: super::request::imprint(alg, digest)?,
        imprint_alg: alg,
        hashed_message: digest.to_vec(),
        req_policy: None,
        nonce: None,
        cert_req: true,
    };
    let tst_der = tst_info(&req, &cert, stamp)?.to_der().map_err(enc)?;
    sign_token(&tst_der, signer, &cert, tsa_cert_der, true)
}

/// A DER `TimeStampResp` refusing with `refusal`: PKIStatus rejection (2), its reason as
/// the status string, its PKIFailureInfo bit.
pub fn rejection(refusal: &Refusal) -> Result<Vec<u8>, TsaError> {
    let bit = refusal.fail.bit();
    let mut bytes = vec![0u8; usize::from(bit / 8) + 1];
    if let Some(last) = bytes.last_mut() {
        *last = 0x80 >> (bit % 8);
    }
    let reason: String = refusal.reason.chars().take(200).collect();
    let text = Utf8StringRef::new(&reason).map_err(enc)?;
    TimeStampResp {
        status: PkiStatusInfo {
            status: 2,
            status_string: Some(vec![text]),
            fail_info: Some(BitString::new(7 - bit % 8, bytes).map_err(enc)?),
        },
        time_stamp_token: None,
    }
    .to_der()
    .map_err(enc)
}

fn tst_info(req: &Request, cert: &Certificate, stamp: &Stamp) -> Result<TstInfo, TsaError> {
    let secs = u64::try_from(stamp.gen_time.unix_timestamp())
        .map_err(|_| TsaError::InvalidArgument("time before 1970".to_owned()))?;
    let gen_time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| TsaError::InvalidArgument(format!("time: {e}")))?;
    let accuracy = stamp.accuracy.map(accuracy).transpose()?;
    Ok(TstInfo {
        version: 1,
        policy: stamp.policy,
        message_imprint: req.imprint.clone(),
        serial_number: super::int_u64(stamp.serial)?,
        gen_time,
        accuracy,
        ordering: false,
        nonce: req.nonce.as_deref().map(Int::new).transpose().map_err(enc)?,
        tsa: stamp.name_tsa.then(|| GeneralName::DirectoryName(cert.tbs_certificate().subject().clone())),
        extensions: None,
    })
}

fn accuracy(a: Accuracy) -> Result<AccuracyAsn1, TsaError> {
    let in_range = |v: Option<u16>| v.is_none_or(|v| (1..=999).contains(&v));
    if !in_range(a.millis) || !in_range(a.micros) {
        return Err(TsaError::InvalidArgument("accuracy millis and micros are 1..=999".to_owned()));
    }
    Ok(AccuracyAsn1 { seconds: a.seconds, millis: a.millis, micros: a.micros })
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, TsaError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value]).map_err(enc)? })
}

fn alg_id(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

/// The DER `ContentInfo` of a SignedData encapsulating `tst_der` (RFC 3161 §2.4.2).
fn sign_token(
    tst_der: &[u8],
    signer: &SealSigner,
    cert: &Certificate,
    cert_der: &[u8],
    include_cert: bool,
) -> Result<Vec<u8>, TsaError> {
    let digest_alg = DigestAlg::for_algorithm(signer.algorithm());
    let tbs = cert.tbs_certificate();
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(cert_der).to_vec()).map_err(enc)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            }),
        }],
    };
    let digest = OctetString::new(digest_alg.digest(&[tst_der])).map_err(enc)?;
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_CT_TST_INFO).map_err(enc)?)?,
        attribute(ID_MESSAGE_DIGEST, Any::encode_from(&digest).map_err(enc)?)?,
        attribute(ID_SIGNING_CERT_V2, Any::encode_from(&ess).map_err(enc)?)?,
    ])
    .map_err(enc)?;
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
    let signature = signer.sign_der(&signed_attrs.to_der().map_err(enc)?);
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: alg_id(digest_alg.oid()),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg_id(signer.algorithm().signature_oid()),
        signature: OctetString::new(signature).map_err(enc)?,
        unsigned_attrs: None,
    };
    let certificates = if include_cert {
        let set = SetOfVec::try_from(vec![CertificateChoices::Certificate(cert.clone())]).map_err(enc)?;
        Some(CertificateSet(set))
    } else {
        None
    };
    let econtent = Any::encode_from(&OctetString::new(tst_der.to_vec()).map_err(enc)?).map_err(enc)?;
    let signed_data = SignedData {
        // Version 3: the encapsulated content is not id-data (RFC 5652 §5.1).
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![alg_id(digest_alg.oid())]).map_err(enc)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(econtent),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(enc)?),
    };
    ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed_data).map_err(enc)? }
        .to_der()
        .map_err(enc)
}
