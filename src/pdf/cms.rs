//! The CMS SignedData inside a PAdES signature: build (detached, ESS signing-certificate-v2,
//! no signing-time) and verify.
//!
//! Ed25519 signs with SHA-512 as the message digest (RFC 8419), P-256 with SHA-256
//! (ecdsa-with-SHA256). Types come from the `cms`, `x509-cert` and `der` crates; the ESS
//! attribute (RFC 5035) is defined here with `der` derives.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::PdfError;
use crate::signing::{Algorithm, SealSigner, SealVerifier};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SIGNING_CERT_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// `id-aa-signatureTimeStampToken` (RFC 3161 Appendix A): the unsigned attribute holding a
/// time-stamp token over the signature value (PAdES B-T).
pub(crate) const ID_SIGNATURE_TIME_STAMP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// ESS `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct IssuerSerial {
    pub(crate) issuer: Vec<GeneralName>,
    pub(crate) serial_number: SerialNumber,
}

/// ESS `ESSCertIDv2` with the default hash algorithm (SHA-256), which DER leaves out.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct EssCertIdV2 {
    pub(crate) cert_hash: OctetString,
    pub(crate) issuer_serial: Option<IssuerSerial>,
}

/// ESS `SigningCertificateV2` without policies.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct SigningCertificateV2 {
    pub(crate) certs: Vec<EssCertIdV2>,
}

/// A message digest algorithm of a seal signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestAlg {
    /// SHA-256 (P-256 seals).
    Sha256,
    /// SHA-512 (Ed25519 seals, RFC 8419).
    Sha512,
    /// SM3 (SM2 seals, GB/T 35275).
    Sm3,
}

impl DigestAlg {
    /// The digest a seal of `algorithm` uses.
    pub(crate) fn for_algorithm(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Ed25519 => Self::Sha512,
            Algorithm::P256 => Self::Sha256,
            Algorithm::Sm2 => Self::Sm3,
        }
    }

    /// Name for reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::Sm3 => "sm3",
        }
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => ID_SHA256,
            Self::Sha512 => ID_SHA512,
            Self::Sm3 => crate::signing::oid::SM3,
        }
    }

    fn from_oid(oid: ObjectIdentifier) -> Result<Self, PdfError> {
        match oid {
            ID_SHA256 => Ok(Self::Sha256),
            ID_SHA512 => Ok(Self::Sha512),
            crate::signing::oid::SM3 => Ok(Self::Sm3),
            other => Err(PdfError::UnsupportedAlgorithm(format!("digest {other}"))),
        }
    }

    /// Digest of the concatenation of `parts`.
    pub(crate) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            // ring's assembly (SHA-NI, AVX2) hashes the ~50 KB of a licence PDF faster than
            // the `sha2` crate: each B-LTA licence hashes it twice (signature and document
            // time-stamp).
            Self::Sha256 => ring_digest(&ring::digest::SHA256, parts),
            Self::Sha512 => ring_digest(&ring::digest::SHA512, parts),
            Self::Sm3 => {
                let mut h = <sm3::Sm3 as sm3::Digest>::new();
                parts.iter().for_each(|p| sm3::Digest::update(&mut h, p));
                sm3::Digest::finalize(h).to_vec()
            }
        }
    }
}

/// The `alg` digest of the concatenation of `parts`.
fn ring_digest(alg: &'static ring::digest::Algorithm, parts: &[&[u8]]) -> Vec<u8> {
    let mut h = ring::digest::Context::new(alg);
    parts.iter().for_each(|p| h.update(p));
    h.finish().as_ref().to_vec()
}

fn alg_id(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

fn cms_err(e: der::Error) -> PdfError {
    PdfError::BadCms(e.to_string())
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, PdfError> {
    let values = SetOfVec::try_from(vec![value]).map_err(cms_err)?;
    Ok(Attribute { oid, values })
}

/// Builds the DER ContentInfo of a detached SignedData over content whose digest is
/// `message_digest` (computed with [`DigestAlg::for_algorithm`] of the signer).
///
/// `chain_der` holds the seal certificate first, then its issuers. With a `stamper`, the
/// signature value is time-stamped (imprint with the seal's digest algorithm) and the token
/// added as the unsigned attribute signature-time-stamp (PAdES B-T).
pub(crate) fn sign(
    signer: &SealSigner,
    chain_der: &[Vec<u8>],
    message_digest: &[u8],
    stamper: Option<&dyn crate::tsa::Stamper>,
) -> Result<Vec<u8>, PdfError> {
    let first = chain_der.first().ok_or(PdfError::EmptyChain)?;
    let certs: Vec<std::sync::Arc<Certificate>> = chain_der
        .iter()
        .map(|d| crate::pki::signing_cert(d).map_err(|e| PdfError::BadCertificate(e.to_string())))
        .collect::<Result<_, _>>()?;
    let leaf = &certs[0];
    let spki = leaf.tbs_certificate().subject_public_key_info().to_der().map_err(cms_err)?;
    if spki != signer.public_key_spki_der() {
        return Err(PdfError::KeyMismatch);
    }
    let digest_alg = DigestAlg::for_algorithm(signer.algorithm());
    let sig_alg = signer.algorithm().signature_oid();

    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(first).to_vec()).map_err(cms_err)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(leaf.tbs_certificate().issuer().clone())],
                serial_number: leaf.tbs_certificate().serial_number().clone(),
            }),
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).map_err(cms_err)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest.to_vec()).map_err(cms_err)?)
                .map_err(cms_err)?,
        )?,
        attribute(ID_SIGNING_CERT_V2, Any::encode_from(&ess).map_err(cms_err)?)?,
    ])
    .map_err(cms_err)?;
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
    let signature = signer.sign_der(&signed_attrs.to_der().map_err(cms_err)?);
    let unsigned_attrs = match stamper {
        Some(stamper) => {
            let imprint = crate::tsa::ImprintAlg::for_algorithm(signer.algorithm());
            let token = stamper.stamp(imprint, &imprint.digest(&signature)).map_err(PdfError::TimeStamp)?;
            let value = Any::from_der(&token).map_err(cms_err)?;
            Some(SetOfVec::try_from(vec![attribute(ID_SIGNATURE_TIME_STAMP, value)?]).map_err(cms_err)?)
        }
        None => None,
    };

    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate().issuer().clone(),
            serial_number: leaf.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: alg_id(digest_alg.oid()),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg_id(sig_alg),
        signature: OctetString::new(signature).map_err(cms_err)?,
        unsigned_attrs,
    };
    let cert_set = SetOfVec::try_from(
        certs
            .iter()
            .map(|c| cms::cert::CertificateChoices::Certificate(Certificate::clone(c)))
            .collect::<Vec<_>>(),
    )
    .map_err(cms_err)?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![alg_id(digest_alg.oid())]).map_err(cms_err)?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: ID_DATA, econtent: None },
        certificates: Some(CertificateSet(cert_set)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(cms_err)?),
    };
    ContentInfo { content_type: ID_SIGNED_DATA, content: Any::encode_from(&signed_data).map_err(cms_err)? }
        .to_der()
        .map_err(cms_err)
}

/// What a verified CMS signature says.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    /// DER of the signer certificate.
    pub signer_cert_der: Vec<u8>,
    /// DER of every certificate in the CMS.
    pub certificates: Vec<Vec<u8>>,
    /// The seal key's algorithm.
    pub algorithm: Algorithm,
    /// The message digest algorithm.
    pub digest: DigestAlg,
    /// The signature value (what a signature time-stamp stamps).
    pub signature_value: Vec<u8>,
    /// The DER `TimeStampToken` of the signature-time-stamp attribute, if there is exactly
    /// one (several are refused as [`PdfError::BadAttribute`]); not verified here.
    pub signature_timestamp: Option<Vec<u8>>,
}

/// The signer's certificate, parsed, with its DER.
type SignerCert = (Certificate, Vec<u8>);

/// The DER of every certificate in `sd`, and the signer's (named by issuer and serial
/// number in `si`) parsed with its DER, if present.
fn certificates_of(
    sd: &SignedData,
    si: &cms::signed_data::SignerInfo,
) -> Result<(Vec<Vec<u8>>, Option<SignerCert>), PdfError> {
    let mut certificates = Vec::new();
    let mut signer_cert: Option<SignerCert> = None;
    for choice in sd.certificates.iter().flat_map(|s| s.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(cert) = choice {
            let der = cert.to_der().map_err(cms_err)?;
            let tbs = cert.tbs_certificate();
            let matches = match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => {
                    ias.issuer == *tbs.issuer() && ias.serial_number == *tbs.serial_number()
                }
                SignerIdentifier::SubjectKeyIdentifier(_) => false,
            };
            if matches && signer_cert.is_none() {
                signer_cert = Some((cert.clone(), der.clone()));
            }
            certificates.push(der);
        }
    }
    Ok((certificates, signer_cert))
}

/// Verifies a detached CMS signature over `parts` (the signed byte ranges).
///
/// Checks, in order: the structure, the signer certificate, the message digest, the
/// content-type, signing-time and signing-certificate-v2 attributes, then the signature
/// over the signed attributes.
pub(crate) fn verify(cms_der: &[u8], parts: &[&[u8]]) -> Result<Verified, PdfError> {
    let ci = ContentInfo::from_der(cms_der).map_err(cms_err)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(PdfError::BadCms(format!("content type {} is not signedData", ci.content_type)));
    }
    let sd: SignedData = ci.content.decode_as().map_err(cms_err)?;
    if sd.encap_content_info.econtent.is_some() {
        return Err(PdfError::BadCms("the signature is not detached".into()));
    }
    let mut signers = sd.signer_infos.0.iter();
    let (Some(si), None) = (signers.next(), signers.next()) else {
        return Err(PdfError::BadCms("expected exactly one SignerInfo".into()));
    };
    let (certificates, signer_cert) = certificates_of(&sd, si)?;
    let (cert, cert_der) = signer_cert.ok_or(PdfError::SignerCertMissing)?;
    let digest = DigestAlg::from_oid(si.digest_alg.oid)?;
    let attrs = si.signed_attrs.as_ref().ok_or(PdfError::BadAttribute("signed attributes"))?;
    let single = |oid: ObjectIdentifier, name: &'static str| -> Result<&Any, PdfError> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a.values.get(0).ok_or(PdfError::BadAttribute(name)),
            _ => Err(PdfError::BadAttribute(name)),
        }
    };
    // The digest first: a report that blames an attribute must be able to say that the
    // signed bytes themselves are intact.
    let signed_digest: OctetString = single(ID_MESSAGE_DIGEST, "message-digest")?
        .decode_as()
        .map_err(|_| PdfError::BadAttribute("message-digest"))?;
    if signed_digest.as_bytes() != digest.digest(parts).as_slice() {
        return Err(PdfError::DigestMismatch);
    }
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE, "content-type")?
        .decode_as()
        .map_err(|_| PdfError::BadAttribute("content-type"))?;
    if content_type != ID_DATA {
        return Err(PdfError::BadAttribute("content-type"));
    }
    if attrs.iter().any(|a| a.oid == ID_SIGNING_TIME) {
        // PAdES baseline forbids it; its presence means this is not our PAdES signature.
        return Err(PdfError::BadAttribute("signing-time (forbidden in PAdES)"));
    }
    let ess: SigningCertificateV2 = single(ID_SIGNING_CERT_V2, "signing-certificate-v2")?
        .decode_as()
        .map_err(|_| PdfError::BadAttribute("signing-certificate-v2"))?;
    let cert_hash = Sha256::digest(&cert_der);
    if ess.certs.first().is_none_or(|id| id.cert_hash.as_bytes() != &cert_hash[..]) {
        return Err(PdfError::SigningCertificateMismatch);
    }

    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(cms_err)?;
    let verifier =
        SealVerifier::from_spki_der(&spki).map_err(|e| PdfError::UnsupportedAlgorithm(e.to_string()))?;
    let expected = (verifier.algorithm().signature_oid(), DigestAlg::for_algorithm(verifier.algorithm()));
    if si.signature_algorithm.oid != expected.0 || digest != expected.1 {
        return Err(PdfError::UnsupportedAlgorithm(format!(
            "signature {} with digest {} for a {} key",
            si.signature_algorithm.oid,
            si.digest_alg.oid,
            verifier.algorithm()
        )));
    }
    let signed = attrs.to_der().map_err(cms_err)?;
    verifier.verify_der(&signed, si.signature.as_bytes()).map_err(|_| PdfError::BadSignature)?;
    Ok(Verified {
        signer_cert_der: cert_der,
        certificates,
        algorithm: verifier.algorithm(),
        digest,
        signature_value: si.signature.as_bytes().to_vec(),
        signature_timestamp: signature_timestamp(si)?,
    })
}

/// The token of the signature-time-stamp unsigned attribute of `si`, if any.
fn signature_timestamp(si: &SignerInfo) -> Result<Option<Vec<u8>>, PdfError> {
    let mut found =
        si.unsigned_attrs.iter().flat_map(|a| a.iter()).filter(|a| a.oid == ID_SIGNATURE_TIME_STAMP);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(a), None) if a.values.len() == 1 => {
            let token = a.values.get(0).ok_or(PdfError::BadAttribute("signature-time-stamp"))?;
            Ok(Some(token.to_der().map_err(cms_err)?))
        }
        _ => Err(PdfError::BadAttribute("signature-time-stamp (more than one)")),
    }
}
