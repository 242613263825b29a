//! The one way the platform's certificates and CRLs are written and signed, for every
//! algorithm: `x509-cert` encodes, [`X509Signer`] signs through `crate::signing`.
//!
//! [`CertSpec`] says what a certificate holds (name, validity, constraints, usages, CRL
//! distribution point); [`build_cert`] adds what every certificate has (subject key
//! identifier, the issuer's authority key identifier) and writes the extensions in one
//! order with one criticality each: authorityKeyIdentifier, keyUsage (critical),
//! extendedKeyUsage (critical when the spec says so: time-stamping authorities), cRLDistributionPoints, subjectKeyIdentifier, basicConstraints
//! (critical). [`sign_crl`] signs a CRL's TBS the same way.

use der::Encode as _;
use der::asn1::{Ia5String, ObjectIdentifier, OctetString};
use der::flagset::FlagSet;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::TbsCertificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::crl::{CertificateList, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use super::error::PkiError;
use super::x509_key::{SubjectKey, X509Signature, X509Signer};

/// What a certificate says besides its key and issuer.
#[derive(Debug, Clone)]
pub(crate) struct CertSpec {
    /// The subject name.
    pub(crate) subject: Name,
    /// The serial number, big-endian, positive.
    pub(crate) serial: Vec<u8>,
    /// Start of validity (UTC, whole seconds are written).
    pub(crate) not_before: OffsetDateTime,
    /// End of validity.
    pub(crate) not_after: OffsetDateTime,
    /// basicConstraints, always written (critical), also for end entities (cA FALSE).
    pub(crate) basic_constraints: BasicConstraints,
    /// keyUsage (critical); omitted when empty.
    pub(crate) key_usage: FlagSet<KeyUsages>,
    /// extendedKeyUsage; omitted when empty.
    pub(crate) extended_key_usage: Vec<ObjectIdentifier>,
    /// Whether extendedKeyUsage is critical (a time-stamping authority's, RFC 3161 §2.3).
    pub(crate) extended_key_usage_critical: bool,
    /// The one URI of the cRLDistributionPoints extension, if any.
    pub(crate) crl_url: Option<String>,
}

/// The key identifier of a public key: the first 20 octets of SHA-256 of its
/// SubjectPublicKeyInfo DER (RFC 7093 §2 method 1).
pub(crate) fn key_identifier(spki_der: &[u8]) -> Vec<u8> {
    Sha256::digest(spki_der)[..20].to_vec()
}

/// The CA that signs: its name and the identifier of its key, as what it signs names them
/// (issuer field, authorityKeyIdentifier).
#[derive(Debug, Clone)]
pub(crate) struct Issuer {
    /// Its subject name, byte for byte.
    pub(crate) name: Name,
    /// Its subjectKeyIdentifier, or [`key_identifier`] of its key when it has none.
    pub(crate) key_id: Vec<u8>,
}

/// The authorityKeyIdentifier extension naming `key_id` (non-critical), for certificates
/// and CRLs alike.
pub(crate) fn authority_key_id_extension(key_id: &[u8], subject: &Name) -> Result<Extension, PkiError> {
    let aki = AuthorityKeyIdentifier { key_identifier: Some(octets(key_id)?), ..Default::default() };
    (false, &aki).to_extension(subject, &[]).map_err(encoding)
}

/// A time as RFC 5280 §4.1.2.5 writes it: UTCTime through 2049, GeneralizedTime after,
/// whole seconds. Years before 1970 are refused (the encoder counts from the Unix epoch).
pub(crate) fn x509_time(t: OffsetDateTime) -> Result<Time, PkiError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| PkiError::InvalidValidity(format!("{t} is before 1970")))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|e| PkiError::InvalidValidity(format!("{t}: {e}")))?;
    let time = if dt.year() <= 2049 {
        Time::UtcTime(der::asn1::UtcTime::from_date_time(dt).map_err(encoding)?)
    } else {
        Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt))
    };
    Ok(time)
}

/// Signs a certificate for `subject_key` as `spec` says. `issuer` is the issuing CA, or
/// `None` for a self-signed certificate (no authority key identifier). The caller has
/// checked that `signer` is the issuer's key.
pub(crate) fn build_cert(
    spec: &CertSpec,
    issuer: Option<&Issuer>,
    subject_key: &SubjectKey,
    signer: &X509Signer,
) -> Result<Vec<u8>, PkiError> {
    let (issuer_name, authority_key_id) = match issuer {
        Some(i) => (i.name.clone(), Some(i.key_id.as_slice())),
        None => (spec.subject.clone(), None),
    };
    let spki_der = subject_key.spki().to_der().map_err(encoding)?;
    let extensions = extensions(spec, authority_key_id, &spki_der)?;
    let profile = Profile { subject: spec.subject.clone(), issuer_name, extensions };
    let serial = SerialNumber::new(&spec.serial).map_err(|_| PkiError::InvalidSerial)?;
    let validity = Validity::new(x509_time(spec.not_before)?, x509_time(spec.not_after)?);
    let builder = CertificateBuilder::new(profile, serial, validity, subject_key.spki().clone())?;
    let cert = builder.build::<_, X509Signature>(signer)?;
    cert.to_der().map_err(encoding)
}

/// The extensions of a certificate, in the order and with the criticality of the module
/// comment.
fn extensions(
    spec: &CertSpec,
    authority_key_id: Option<&[u8]>,
    subject_spki_der: &[u8],
) -> Result<Vec<Extension>, PkiError> {
    let subject = &spec.subject;
    let mut exts = Vec::new();
    if let Some(kid) = authority_key_id {
        exts.push(authority_key_id_extension(kid, subject)?);
    }
    if !spec.key_usage.is_empty() {
        exts.push((true, &KeyUsage(spec.key_usage)).to_extension(subject, &[]).map_err(encoding)?);
    }
    if !spec.extended_key_usage.is_empty() {
        let eku = ExtendedKeyUsage(spec.extended_key_usage.clone());
        exts.push((spec.extended_key_usage_critical, &eku).to_extension(subject, &[]).map_err(encoding)?);
    }
    if let Some(url) = &spec.crl_url {
        let uri = Ia5String::new(url)
            .map_err(|e| PkiError::InvalidField { field: "CRL URL", reason: e.to_string() })?;
        let point = DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![
                GeneralName::UniformResourceIdentifier(uri),
            ])),
            reasons: None,
            crl_issuer: None,
        };
        let points = CrlDistributionPoints(vec![point]);
        exts.push((false, &points).to_extension(subject, &[]).map_err(encoding)?);
    }
    let ski = SubjectKeyIdentifier(octets(&key_identifier(subject_spki_der))?);
    exts.push((false, &ski).to_extension(subject, &[]).map_err(encoding)?);
    exts.push((true, &spec.basic_constraints).to_extension(subject, &[]).map_err(encoding)?);
    Ok(exts)
}

/// What the `x509-cert` builder asks of a profile: names and the extensions made above.
struct Profile {
    subject: Name,
    issuer_name: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer_name.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// Signs a CRL whose TBS `tbs` is complete but for its signature algorithm.
pub(crate) fn sign_crl(tbs: TbsCertList, signer: &X509Signer) -> Result<Vec<u8>, PkiError> {
    let crl = CrlDraft { tbs }.build::<_, X509Signature>(signer)?;
    crl.to_der().map_err(encoding)
}

/// A CRL for the builder: the same signing path as certificates. (`x509-cert`'s own CRL
/// builder takes the authority key identifier from the issuer's authorityKeyIdentifier,
/// not its subjectKeyIdentifier, and makes up a SHA-1 one when that is absent.)
struct CrlDraft {
    tbs: TbsCertList,
}

impl Builder for CrlDraft {
    type Output = CertificateList;

    fn finalize<S>(&mut self, signer: &S) -> x509_cert::builder::Result<Vec<u8>>
    where
        S: signature::Keypair + DynSignatureAlgorithmIdentifier,
        S::VerifyingKey: EncodePublicKey,
    {
        self.tbs.signature = signer.signature_algorithm_identifier()?;
        Ok(self.tbs.to_der()?)
    }

    fn assemble<S>(
        self,
        signature: der::asn1::BitString,
        _signer: &S,
    ) -> x509_cert::builder::Result<CertificateList>
    where
        S: signature::Keypair + DynSignatureAlgorithmIdentifier,
        S::VerifyingKey: EncodePublicKey,
    {
        let signature_algorithm = self.tbs.signature.clone();
        Ok(CertificateList { tbs_cert_list: self.tbs, signature_algorithm, signature })
    }
}

fn octets(bytes: &[u8]) -> Result<OctetString, PkiError> {
    OctetString::new(bytes).map_err(encoding)
}

fn encoding(e: der::Error) -> PkiError {
    PkiError::Signing(format!("encoding: {e}"))
}
