//! Certificate revocation lists: the root's CRL of revoked seal certificates.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use x509_cert::Version;
use x509_cert::crl::TbsCertList;
use x509_cert::ext::ToExtension as _;
use x509_cert::ext::pkix::{CrlNumber, CrlReason};
use x509_cert::serial_number::SerialNumber;
use x509_parser::revocation_list::CertificateRevocationList;

use super::cert::{check_issuer_key, check_validity, issuer_of, parse_cert, utc_in_range};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::name;
use super::profile::{Issuer, authority_key_id_extension, sign_crl, x509_time};
use super::x509_key::{X509Signer, signature_algorithm};
use crate::signing::ParseEnumError;

/// Why a certificate was revoked (the RFC 5280 CRLReason values the platform uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    /// No reason given (written as an entry without a reasonCode, as RFC 5280 asks).
    #[default]
    Unspecified,
    /// The seal's private key was or may have been disclosed.
    KeyCompromise,
    /// The department's name or other details changed.
    AffiliationChanged,
    /// A new certificate replaces this one.
    Superseded,
    /// The seal is no longer used (department dissolved, seal withdrawn).
    CessationOfOperation,
}

impl RevocationReason {
    /// Every reason, in CRLReason code order.
    pub const ALL: [RevocationReason; 5] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
    ];

    /// The kebab-case name, as in `Display` and `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
        }
    }

    /// The RFC 5280 CRLReason code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
        }
    }

    /// The reason for an RFC 5280 CRLReason code. Codes outside this set (cACompromise,
    /// certificateHold, privilegeWithdrawn, …) read as `Unspecified`.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => RevocationReason::KeyCompromise,
            3 => RevocationReason::AffiliationChanged,
            4 => RevocationReason::Superseded,
            5 => RevocationReason::CessationOfOperation,
            _ => RevocationReason::Unspecified,
        }
    }

    /// The reasonCode an entry carries: none for `Unspecified` (RFC 5280 §5.3.1 asks to
    /// leave it out rather than write unspecified).
    fn crl_reason(self) -> Option<CrlReason> {
        match self {
            RevocationReason::Unspecified => None,
            RevocationReason::KeyCompromise => Some(CrlReason::KeyCompromise),
            RevocationReason::AffiliationChanged => Some(CrlReason::AffiliationChanged),
            RevocationReason::Superseded => Some(CrlReason::Superseded),
            RevocationReason::CessationOfOperation => Some(CrlReason::CessationOfOperation),
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RevocationReason {
    type Err = ParseEnumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RevocationReason::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ParseEnumError {
            what: "revocation reason",
            value: s.to_owned(),
            allowed: "unspecified, key-compromise, affiliation-changed, superseded, \
                          cessation-of-operation",
        })
    }
}

/// One revoked certificate in a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedCert {
    /// The certificate's serial number, big-endian (leading zero octets do not matter).
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// What a CRL says, as the platform reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// Issuer name, RFC 4514 style.
    pub issuer: String,
    /// The CRL number, if present and at most 64 bits.
    pub crl_number: Option<u64>,
    /// When it was issued.
    pub this_update: OffsetDateTime,
    /// When the next one is due.
    pub next_update: Option<OffsetDateTime>,
    /// The authorityKeyIdentifier's keyIdentifier, lowercase hex.
    pub authority_key_id: Option<String>,
    /// The revoked certificates (serials without leading zero octets).
    pub revoked: Vec<RevokedCert>,
}

/// Makes a CRL (DER) signed by `issuer_key` for the CA certificate `issuer_cert_der`, with
/// the CRL number and authorityKeyIdentifier extensions and a reasonCode per entry (none
/// for `Unspecified`).
///
/// Refused: a key that does not match the certificate, an issuer without cRLSign, an empty
/// serial, and `next_update` not after `this_update`.
pub fn make_crl(
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    crl_number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: &[RevokedCert],
) -> Result<Vec<u8>, PkiError> {
    let issuer_cert = parse_cert(issuer_cert_der).map_err(PkiError::MalformedCertificate)?;
    check_issuer_key(&issuer_cert, issuer_key)?;
    let crl_signer = matches!(issuer_cert.key_usage(), Ok(Some(ku)) if ku.value.crl_sign());
    if !crl_signer {
        return Err(PkiError::IssuerNotCrlSigner);
    }
    let (this_update, next_update) = check_validity(this_update, next_update)?;

    build_crl(
        &issuer_of(&issuer_cert)?,
        &X509Signer::new(issuer_key)?,
        crl_number,
        this_update,
        next_update,
        revoked,
    )
}

/// The CRL profile: version 2, `issuer`'s name, thisUpdate and nextUpdate, one entry per
/// revoked certificate (with a reasonCode unless `Unspecified`), the extensions
/// authorityKeyIdentifier and cRLNumber (non-critical); signed by `signer`, which the
/// caller has checked is `issuer`'s key.
pub(crate) fn build_crl(
    issuer: &Issuer,
    signer: &X509Signer,
    crl_number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: &[RevokedCert],
) -> Result<Vec<u8>, PkiError> {
    let encoding = |e: der::Error| PkiError::Signing(format!("encoding the CRL: {e}"));
    let mut entries = Vec::with_capacity(revoked.len());
    for r in revoked {
        if r.serial.iter().all(|&b| b == 0) {
            return Err(PkiError::InvalidSerial);
        }
        let reason = r
            .reason
            .crl_reason()
            .map(|code| (false, &code).to_extension(&issuer.name, &[]))
            .transpose()
            .map_err(encoding)?;
        entries.push(x509_cert::crl::RevokedCert {
            serial_number: SerialNumber::new(&r.serial).map_err(|_| PkiError::InvalidSerial)?,
            revocation_date: x509_time(utc_in_range(r.revoked_at)?)?,
            crl_entry_extensions: reason.map(|ext| vec![ext]),
        });
    }
    let number = CrlNumber(der::asn1::Uint::new(&crl_number.to_be_bytes()).map_err(encoding)?);
    let extensions = vec![
        authority_key_id_extension(&issuer.key_id, &issuer.name)?,
        (false, &number).to_extension(&issuer.name, &[]).map_err(encoding)?,
    ];
    let tbs = TbsCertList {
        version: Version::V2,
        // Replaced by the signer's when it signs.
        signature: signature_algorithm(signer.algorithm()),
        issuer: issuer.name.clone(),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(extensions),
    };
    sign_crl(tbs, signer)
}

/// Reads a CRL (without checking its signature: [`super::validate_seal_chain`] does that).
pub fn crl_info(der: &[u8]) -> Result<CrlInfo, PkiError> {
    let crl = parse_crl(der).map_err(PkiError::MalformedCrl)?;
    let crl_number = crl.crl_number().and_then(|n| {
        let bytes = n.to_bytes_be();
        (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    });
    let authority_key_id = crl.extensions().iter().find_map(|ext| match ext.parsed_extension() {
        x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki) => {
            aki.key_identifier.as_ref().map(|k| hex::encode(k.0))
        }
        _ => None,
    });
    Ok(CrlInfo {
        issuer: name::format_name(crl.issuer()),
        crl_number,
        this_update: crl.last_update().to_datetime(),
        next_update: crl.next_update().map(|t| t.to_datetime()),
        authority_key_id,
        revoked: crl
            .iter_revoked_certificates()
            .map(|r| RevokedCert {
                serial: r.serial().to_bytes_be(),
                revoked_at: r.revocation_date.to_datetime(),
                reason: r
                    .reason_code()
                    .map_or(RevocationReason::Unspecified, |(_, code)| RevocationReason::from_code(code.0)),
            })
            .collect(),
    })
}

/// Parses a DER CRL, refusing trailing bytes.
pub(crate) fn parse_crl(der: &[u8]) -> Result<CertificateRevocationList<'_>, String> {
    let (rest, crl) = x509_parser::parse_x509_crl(der).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err("trailing bytes after the CRL".to_owned());
    }
    Ok(crl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Algorithm;
    use crate::pki::cert::{cert_info, subject_key_id};
    use crate::pki::test_support::*;

    #[test]
    fn reasons_parse_and_print() {
        for r in RevocationReason::ALL {
            assert_eq!(r.to_string().parse::<RevocationReason>().unwrap(), r);
            assert_eq!(RevocationReason::from_code(r.code()), r);
        }
        assert_eq!("key-compromise".parse::<RevocationReason>().unwrap(), RevocationReason::KeyCompromise);
        let err = "lost".parse::<RevocationReason>().unwrap_err().to_string();
        assert!(err.contains("cessation-of-operation") && err.contains("\"lost\""), "{err}");
    }

    #[test]
    fn crl_lists_serials_reasons_and_number() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let revoked = vec![
                RevokedCert {
                    serial: SEAL_SERIAL.to_vec(),
                    revoked_at: date(2026, 3, 1),
                    reason: RevocationReason::KeyCompromise,
                },
                RevokedCert {
                    serial: vec![0x00, 0x7f, 0x01],
                    revoked_at: date(2026, 4, 1),
                    reason: RevocationReason::Unspecified,
                },
            ];
            let der =
                make_crl(&root.der, &root.key, 42, date(2026, 5, 1), date(2026, 5, 8), &revoked).unwrap();
            let crl = parse_crl(&der).unwrap();
            let root_cert = parse_cert(&root.der).unwrap();
            crate::pki::signature::verify_crl(&crl, root_cert.public_key().raw).unwrap();
            if alg != Algorithm::Sm2 {
                crl.verify_signature(root_cert.public_key()).unwrap();
            }

            let info = crl_info(&der).unwrap();
            assert_eq!(info.crl_number, Some(42));
            assert_eq!(info.issuer, cert_info(&root.der).unwrap().subject);
            assert_eq!(info.this_update, date(2026, 5, 1));
            assert_eq!(info.next_update, Some(date(2026, 5, 8)));
            assert_eq!(
                info.authority_key_id.as_deref(),
                subject_key_id(&root_cert).map(hex::encode).as_deref()
            );
            assert_eq!(info.revoked.len(), 2);
            assert_eq!(info.revoked[0], revoked[0]);
            assert_eq!(info.revoked[1].serial, vec![0x7f, 0x01]);
            assert_eq!(info.revoked[1].reason, RevocationReason::Unspecified);
        }
    }

    #[test]
    fn crl_refuses_wrong_key_and_non_crl_signer() {
        let root = TestRoot::new(Algorithm::P256);
        let other = PrivateKey::generate(Algorithm::P256, &rng()).unwrap();
        let crl =
            |der: &[u8], key: &PrivateKey| make_crl(der, key, 1, date(2026, 1, 1), date(2026, 2, 1), &[]);
        assert_eq!(crl(&root.der, &other).unwrap_err(), PkiError::KeyMismatch);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2027, 1, 1));
        assert_eq!(crl(&seal.der, &seal.key).unwrap_err(), PkiError::IssuerNotCrlSigner);
        assert!(matches!(
            make_crl(&root.der, &root.key, 1, date(2026, 2, 1), date(2026, 1, 1), &[]),
            Err(PkiError::InvalidValidity(_))
        ));
        // An empty CRL is fine.
        let empty = crl(&root.der, &root.key).unwrap();
        assert!(crl_info(&empty).unwrap().revoked.is_empty());
        assert!(matches!(crl_info(b"junk"), Err(PkiError::MalformedCrl(_))));
    }
}
