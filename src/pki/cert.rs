//! Root CA and seal certificates: their profiles ([`super::profile`] writes and signs them)
//! and reading them back (x509-parser).

use der::asn1::ObjectIdentifier;
use time::{OffsetDateTime, UtcOffset};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

use super::error::{PkiError, fmt_time};
use super::keys::PrivateKey;
use super::name::{self, NameBuilder, attr, check_text};
use super::profile::{CertSpec, Issuer, build_cert, key_identifier};
use super::x509_key::{SubjectKey, X509Signer, spki_algorithm};
use crate::signing::Algorithm;

/// OID of the extended key usage "document signing" (id-kp-documentSigning, RFC 9336).
pub const DOCUMENT_SIGNING_EKU: &str = "1.3.6.1.5.5.7.3.36";
const DOCUMENT_SIGNING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap(DOCUMENT_SIGNING_EKU);
/// id-kp-emailProtection (RFC 5280).
const EMAIL_PROTECTION_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// Prefix of organizationIdentifier for a national trade register number in China
/// (ETSI EN 319 412-1 §5.1.4 semantics: "NTR" + ISO 3166 country + "-").
const NTR_PREFIX: &str = "NTRCN-";

/// Who a seal certificate is for. Strings are taken as given (the caller has validated the
/// 统一社会信用代码); Chinese text is stored as UTF8String.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealSubject<'a> {
    /// The platform's seal id; goes into the subject serialNumber attribute (2.5.4.5).
    pub seal_id: &'a str,
    /// The seal's name (印章名称), e.g. "某某市市场监督管理局行政审批专用章": the subject CN.
    pub seal_name: &'a str,
    /// The department's name (单位名称): the subject O.
    pub department_name: &'a str,
    /// The department's 18-character 统一社会信用代码: organizationIdentifier `NTRCN-<code>`.
    pub department_code: &'a str,
}

/// What a certificate says, as the platform reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Serial number, lowercase hex without leading zero octets.
    pub serial_hex: String,
    /// Subject name, RFC 4514 style in certificate order (`C=CN, O=…, CN=…`).
    pub subject: String,
    /// Issuer name, same format.
    pub issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Algorithm of the certified public key.
    pub algorithm: Algorithm,
    /// Key id: lowercase hex SHA-256 of the SubjectPublicKeyInfo DER.
    pub key_id: String,
    /// Whether basicConstraints says cA=TRUE.
    pub is_ca: bool,
    /// The subject serialNumber attribute (the seal id), if any.
    pub seal_id: Option<String>,
    /// The subject organizationIdentifier with "NTRCN-" removed (the 统一社会信用代码), if any.
    pub department_code: Option<String>,
    /// URIs of the CRL distribution points.
    pub crl_urls: Vec<String>,
}

/// Makes the platform's self-signed root CA certificate for `alg` (DER).
///
/// Subject `C=CN, O=<platform_name>, CN=<platform_name> Root CA (Ed25519|P-256|SM2)`;
/// basicConstraints critical cA pathlen:0; keyUsage critical keyCertSign, cRLSign;
/// subjectKeyIdentifier (first 20 octets of SHA-256 of the SubjectPublicKeyInfo).
/// `key` must be of algorithm `alg`.
pub fn make_root(
    alg: Algorithm,
    platform_name: &str,
    key: &PrivateKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
    if key.algorithm() != alg {
        return Err(PkiError::AlgorithmMismatch { expected: alg, found: key.algorithm() });
    }
    // The CN adds " Root CA (Ed25519)" (18 characters) to the name: keep it within the
    // X.520 limit of 64 characters.
    check_text("platform name", platform_name, 46)?;
    check_serial(&serial)?;
    let (not_before, not_after) = check_validity(not_before, not_after)?;

    let subject = NameBuilder::new()
        .printable_or_utf8(attr::COUNTRY, "CN")?
        .utf8(attr::ORGANIZATION, platform_name)?
        .utf8(attr::COMMON_NAME, &format!("{platform_name} Root CA ({})", alg.label()))?
        .build()?;
    let spec = CertSpec {
        subject,
        serial: serial.to_vec(),
        not_before,
        not_after,
        basic_constraints: BasicConstraints { ca: true, path_len_constraint: Some(0) },
        key_usage: KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        extended_key_usage: vec![],
        extended_key_usage_critical: false,
        crl_url: None,
    };
    let subject_key = SubjectKey::from_spki_der(&key.public_key_spki_der())?;
    build_cert(&spec, None, &subject_key, &X509Signer::new(key)?)
}

/// Issues a seal certificate (DER) for the public key `seal_public_key_spki_der`, signed by
/// `issuer_key` on behalf of the CA certificate `issuer_cert_der`.
///
/// Subject `C=CN, O=<department>, organizationIdentifier=NTRCN-<code>, CN=<seal name>,
/// serialNumber=<seal id>`; basicConstraints CA:FALSE; keyUsage critical digitalSignature,
/// contentCommitment; extendedKeyUsage document signing; CRL distribution point `crl_url`;
/// authority and subject key identifiers.
///
/// Refused: a seal key of another algorithm than the issuer's (chains are homogeneous), an
/// issuer key that does not match the issuer certificate, an issuer that is not a CA with
/// keyCertSign, a validity outside the issuer's, and a non-ASCII or empty `crl_url`.
#[allow(clippy::too_many_arguments)] // the signature is the platform's agreed API
pub fn issue_seal_cert(
    subject: &SealSubject<'_>,
    seal_public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    crl_url: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
    check_text("seal id", subject.seal_id, 64)?;
    check_text("seal name", subject.seal_name, 64)?;
    check_text("department name", subject.department_name, 64)?;
    check_text("department code", subject.department_code, 58)?;
    check_crl_url(crl_url)?;
    check_serial(&serial)?;
    let (not_before, not_after) = check_validity(not_before, not_after)?;

    let seal_key = SubjectKey::from_spki_der(seal_public_key_spki_der)?;
    let issuer_cert = parse_cert(issuer_cert_der).map_err(PkiError::MalformedCertificate)?;
    let signer = X509Signer::new(issuer_key)?;
    check_issuer_key(&issuer_cert, issuer_key)?;
    if seal_key.algorithm() != issuer_key.algorithm() {
        return Err(PkiError::AlgorithmMismatch {
            expected: issuer_key.algorithm(),
            found: seal_key.algorithm(),
        });
    }
    if !can_sign_certs(&issuer_cert) {
        return Err(PkiError::IssuerNotCa);
    }
    let issuer_nb = issuer_cert.validity().not_before.to_datetime();
    let issuer_na = issuer_cert.validity().not_after.to_datetime();
    if not_before < issuer_nb || not_after > issuer_na {
        return Err(PkiError::InvalidValidity(format!(
            "{} .. {} is not within the issuer's validity {} .. {}",
            fmt_time(&not_before),
            fmt_time(&not_after),
            fmt_time(&issuer_nb),
            fmt_time(&issuer_na)
        )));
    }

    let name = NameBuilder::new()
        .printable_or_utf8(attr::COUNTRY, "CN")?
        .utf8(attr::ORGANIZATION, subject.department_name)?
        .printable_or_utf8(
            attr::ORGANIZATION_IDENTIFIER,
            &format!("{NTR_PREFIX}{}", subject.department_code),
        )?
        .utf8(attr::COMMON_NAME, subject.seal_name)?
        .printable_or_utf8(attr::SERIAL_NUMBER, subject.seal_id)?
        .build()?;
    let spec = CertSpec {
        subject: name,
        serial: serial.to_vec(),
        not_before,
        not_after,
        basic_constraints: BasicConstraints { ca: false, path_len_constraint: None },
        key_usage: KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
        // Document signing is what a seal does; emailProtection is there too because NSS
        // (pdfsig, Firefox, LibreOffice) validates PDF signers as e-mail signers and refuses
        // the certificate without it.
        extended_key_usage: vec![DOCUMENT_SIGNING_OID, EMAIL_PROTECTION_OID],
        extended_key_usage_critical: false,
        crl_url: Some(crl_url.to_owned()),
    };
    build_cert(&spec, Some(&issuer_of(&issuer_cert)?), &seal_key, &signer)
}

/// Reads a certificate's identity, key and seal attributes.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, PkiError> {
    let cert = parse_cert(der).map_err(PkiError::MalformedCertificate)?;
    cert_info_parsed(&cert)
}

pub(crate) fn cert_info_parsed(cert: &X509Certificate<'_>) -> Result<CertInfo, PkiError> {
    let spki = cert.public_key();
    let subject = cert.subject();
    let mut crl_urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for point in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    for n in names {
                        if let GeneralName::URI(uri) = n {
                            crl_urls.push((*uri).to_owned());
                        }
                    }
                }
            }
        }
    }
    let is_ca = cert
        .basic_constraints()
        .map_err(|e| PkiError::MalformedCertificate(e.to_string()))?
        .is_some_and(|bc| bc.value.ca);
    Ok(CertInfo {
        serial_hex: hex::encode(cert.tbs_certificate.serial.to_bytes_be()),
        subject: name::format_name(subject),
        issuer: name::format_name(cert.issuer()),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        algorithm: spki_algorithm(spki)?,
        key_id: super::keys::key_id(spki.raw),
        is_ca,
        seal_id: name::attribute(subject, name::OID_SERIAL_NUMBER),
        department_code: name::attribute(subject, name::OID_ORGANIZATION_IDENTIFIER)
            .map(|v| v.strip_prefix(NTR_PREFIX).map_or(v.clone(), str::to_owned)),
        crl_urls,
    })
}

/// Parses a DER certificate, refusing trailing bytes.
pub(crate) fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err("trailing bytes after the certificate".to_owned());
    }
    Ok(cert)
}

/// Whether a certificate is a CA allowed to sign certificates (cA=TRUE and keyCertSign).
pub(crate) fn can_sign_certs(cert: &X509Certificate<'_>) -> bool {
    let ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    let ku = matches!(cert.key_usage(), Ok(Some(ku)) if ku.value.key_cert_sign());
    ca && ku
}

/// The subjectKeyIdentifier of a certificate, if it has one.
pub(crate) fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions().iter().find_map(|ext| match ext.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(kid) => Some(kid.0),
        _ => None,
    })
}

/// The keyIdentifier of a certificate's authorityKeyIdentifier, if it has one.
pub(crate) fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions().iter().find_map(|ext| match ext.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|k| k.0),
        _ => None,
    })
}

/// `cert` as the issuer of what it signs: its subject, its key identifier.
pub(crate) fn issuer_of(cert: &X509Certificate<'_>) -> Result<Issuer, PkiError> {
    let key_id = subject_key_id(cert).map_or_else(|| key_identifier(cert.public_key().raw), <[u8]>::to_vec);
    Ok(Issuer { name: name::copy_name(cert.subject())?, key_id })
}

/// Refuses a key that does not belong to the issuer certificate.
pub(crate) fn check_issuer_key(issuer: &X509Certificate<'_>, key: &PrivateKey) -> Result<(), PkiError> {
    if issuer.public_key().raw != key.public_key_spki_der().as_slice() {
        return Err(PkiError::KeyMismatch);
    }
    Ok(())
}

fn check_serial(serial: &[u8; 16]) -> Result<(), PkiError> {
    if serial.iter().all(|&b| b == 0) {
        return Err(PkiError::InvalidSerial);
    }
    Ok(())
}

/// Checks a validity period and returns it in UTC.
pub(crate) fn check_validity(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), PkiError> {
    let (nb, na) = (not_before.to_offset(UtcOffset::UTC), not_after.to_offset(UtcOffset::UTC));
    if na <= nb {
        return Err(PkiError::InvalidValidity(format!(
            "end {} is not after start {}",
            fmt_time(&na),
            fmt_time(&nb)
        )));
    }
    Ok((utc_in_range(nb)?, utc_in_range(na)?))
}

/// A time in UTC, refused outside years 1970–9999 (the X.509 time types hold 1950–9999;
/// the encoder, `der`, counts from the Unix epoch).
pub(crate) fn utc_in_range(t: OffsetDateTime) -> Result<OffsetDateTime, PkiError> {
    let t = t.to_offset(UtcOffset::UTC);
    if !(1970..=9999).contains(&t.year()) {
        return Err(PkiError::InvalidValidity(format!("{} is outside years 1970-9999", fmt_time(&t))));
    }
    Ok(t)
}

pub(super) fn check_crl_url(url: &str) -> Result<(), PkiError> {
    let invalid = |reason: &str| PkiError::InvalidField { field: "CRL URL", reason: reason.to_owned() };
    if url.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if !url.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid("must be ASCII without spaces (percent-encode other characters)"));
    }
    if !url.contains("://") {
        return Err(invalid("must be an absolute URI such as http://host/root.crl"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_support::*;

    #[test]
    fn roots_of_every_algorithm_have_the_profile() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let cert = parse_cert(&root.der).unwrap();
            // Self-signed, signature good: through `crate::signing`, and for the algorithms
            // x509-parser knows (not SM2), through it as a second opinion.
            crate::pki::signature::verify_cert(&cert, cert.public_key().raw).unwrap();
            if alg != Algorithm::Sm2 {
                cert.verify_signature(None).unwrap();
            }
            assert_eq!(cert.subject().as_raw(), cert.issuer().as_raw());

            let bc = cert.basic_constraints().unwrap().unwrap();
            assert!(bc.critical);
            assert!(bc.value.ca);
            assert_eq!(bc.value.path_len_constraint, Some(0));

            let ku = cert.key_usage().unwrap().unwrap();
            assert!(ku.critical);
            assert!(ku.value.key_cert_sign() && ku.value.crl_sign());
            assert!(!ku.value.digital_signature());

            assert_eq!(subject_key_id(&cert).map(<[u8]>::len), Some(20));

            let info = cert_info(&root.der).unwrap();
            assert_eq!(info.algorithm, alg);
            assert!(info.is_ca);
            assert_eq!(info.serial_hex, hex::encode(ROOT_SERIAL));
            assert_eq!(
                info.subject,
                format!("C=CN, O=证照测试平台, CN=证照测试平台 Root CA ({})", alg.label())
            );
            assert_eq!(info.subject, info.issuer);
            assert_eq!(info.not_before, date(2025, 1, 1));
            assert_eq!(info.not_after, date(2045, 1, 1));
            assert_eq!(info.key_id, root.key.key_id());
            assert_eq!(info.seal_id, None);
            assert!(info.crl_urls.is_empty());
        }
    }

    #[test]
    fn seal_certs_carry_the_profile_and_chinese_names() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let cert = parse_cert(&seal.der).unwrap();
            let root_cert = parse_cert(&root.der).unwrap();
            crate::pki::signature::verify_cert(&cert, root_cert.public_key().raw).unwrap();
            if alg != Algorithm::Sm2 {
                cert.verify_signature(Some(root_cert.public_key())).unwrap();
            }
            assert_eq!(cert.issuer().as_raw(), root_cert.subject().as_raw());

            let bc = cert.basic_constraints().unwrap().unwrap();
            assert!(!bc.value.ca);
            let ku = cert.key_usage().unwrap().unwrap();
            assert!(ku.critical);
            assert!(ku.value.digital_signature() && ku.value.non_repudiation());
            assert!(!ku.value.key_cert_sign());
            let eku = cert.extended_key_usage().unwrap().unwrap();
            assert!(eku.value.other.iter().any(|o| o.to_id_string() == DOCUMENT_SIGNING_EKU));
            assert_eq!(authority_key_id(&cert), subject_key_id(&root_cert));
            assert!(subject_key_id(&cert).is_some());

            let info = cert_info(&seal.der).unwrap();
            assert_eq!(info.algorithm, alg);
            assert!(!info.is_ca);
            assert_eq!(info.serial_hex, hex::encode(SEAL_SERIAL));
            assert_eq!(
                info.subject,
                "C=CN, O=某某市市场监督管理局, organizationIdentifier=NTRCN-11100000000013338W, \
                 CN=某某市市场监督管理局行政审批专用章, serialNumber=SEAL-0001"
            );
            assert_eq!(info.issuer, cert_info(&root.der).unwrap().subject);
            assert_eq!(info.seal_id.as_deref(), Some("SEAL-0001"));
            assert_eq!(info.department_code.as_deref(), Some("11100000000013338W"));
            assert_eq!(info.crl_urls, vec![CRL_URL.to_owned()]);
            assert_eq!(info.key_id, seal.key.key_id());
            assert_eq!(info.not_before, date(2026, 1, 1));
        }
    }

    #[test]
    fn mixed_algorithms_are_refused() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let p256_key = PrivateKey::generate(Algorithm::P256, &rng()).unwrap();
        let err = issue_seal_cert(
            &subject(),
            &p256_key.public_key_spki_der(),
            &root.der,
            &root.key,
            CRL_URL,
            date(2026, 1, 1),
            date(2027, 1, 1),
            SEAL_SERIAL,
        )
        .unwrap_err();
        assert_eq!(err, PkiError::AlgorithmMismatch { expected: Algorithm::Ed25519, found: Algorithm::P256 });
        // And a root whose key is of another algorithm than asked for.
        let err =
            make_root(Algorithm::Ed25519, "x", &p256_key, date(2025, 1, 1), date(2026, 1, 1), ROOT_SERIAL)
                .unwrap_err();
        assert!(matches!(err, PkiError::AlgorithmMismatch { .. }));
    }

    #[test]
    fn issuing_refuses_bad_inputs() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal_key = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        let issue = |issuer_der: &[u8], issuer_key: &PrivateKey, url: &str, nb, na, serial| {
            issue_seal_cert(
                &subject(),
                &seal_key.public_key_spki_der(),
                issuer_der,
                issuer_key,
                url,
                nb,
                na,
                serial,
            )
        };
        let (nb, na) = (date(2026, 1, 1), date(2027, 1, 1));
        // Someone else's key for our root.
        let other = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        assert_eq!(
            issue(&root.der, &other, CRL_URL, nb, na, SEAL_SERIAL).unwrap_err(),
            PkiError::KeyMismatch
        );
        // A seal certificate cannot issue.
        let seal = root.seal(SEAL_SERIAL, nb, na);
        assert_eq!(
            issue(&seal.der, &seal.key, CRL_URL, nb, na, SEAL_SERIAL).unwrap_err(),
            PkiError::IssuerNotCa
        );
        // Outliving the root.
        assert!(matches!(
            issue(&root.der, &root.key, CRL_URL, nb, date(2050, 1, 1), SEAL_SERIAL),
            Err(PkiError::InvalidValidity(_))
        ));
        // Reversed validity, zero serial, non-ASCII URL.
        assert!(matches!(
            issue(&root.der, &root.key, CRL_URL, na, nb, SEAL_SERIAL),
            Err(PkiError::InvalidValidity(_))
        ));
        assert_eq!(
            issue(&root.der, &root.key, CRL_URL, nb, na, [0; 16]).unwrap_err(),
            PkiError::InvalidSerial
        );
        assert!(matches!(
            issue(&root.der, &root.key, "http://证照.cn/root.crl", nb, na, SEAL_SERIAL),
            Err(PkiError::InvalidField { field: "CRL URL", .. })
        ));
        // Empty names.
        let empty = SealSubject { seal_name: " ", ..subject() };
        assert!(matches!(
            issue_seal_cert(
                &empty,
                &seal_key.public_key_spki_der(),
                &root.der,
                &root.key,
                CRL_URL,
                nb,
                na,
                SEAL_SERIAL
            ),
            Err(PkiError::InvalidField { field: "seal name", .. })
        ));
        // Garbage instead of a certificate or key.
        assert!(matches!(
            issue(b"nope", &root.key, CRL_URL, nb, na, SEAL_SERIAL),
            Err(PkiError::MalformedCertificate(_))
        ));
        assert!(matches!(cert_info(b"nope"), Err(PkiError::MalformedCertificate(_))));
        assert!(matches!(
            issue_seal_cert(&subject(), b"nope", &root.der, &root.key, CRL_URL, nb, na, SEAL_SERIAL),
            Err(PkiError::MalformedPublicKey(_))
        ));
    }
}
