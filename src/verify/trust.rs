//! What the verifier trusts: roots, seals and CRLs ([`TrustSet`]), read-only once built,
//! with every seal's chain judged once ([`SealAssessment`]). Online the platform builds
//! it from its store; offline it comes from a signed trust list.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use time::OffsetDateTime;

use super::report::{Mode, SealSummary};
use crate::pki::{
    self, Algorithm, CertInfo, ChainError, RevocationPolicy, RevocationReason, RevocationStatus,
    ValidatedChain,
};
use crate::signing::SealVerifier;
use crate::token::kid_of;

/// The SubjectPublicKeyInfo (DER) of a certificate.
pub fn spki_of_cert(cert_der: &[u8]) -> Result<Vec<u8>, String> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok(cert.public_key().raw.to_vec())
}

/// The key certified by `cert_der`, if it is one the verifier knows.
pub(crate) fn verifier_of_cert(cert_der: &[u8]) -> Option<SealVerifier> {
    spki_of_cert(cert_der).ok().and_then(|spki| SealVerifier::from_spki_der(&spki).ok())
}

/// A seal the verifier trusts to sign licences, with its chain judged once.
#[derive(Debug)]
pub struct TrustedSeal {
    /// Seal id.
    pub id: String,
    /// Seal name.
    pub name: String,
    /// Owning department's code.
    pub department_code: String,
    /// Owning department's name.
    pub department_name: String,
    /// Licence types the department may issue (`*` = any).
    pub type_codes: Vec<String>,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certified key.
    pub verifier: Option<SealVerifier>,
    /// The chain, judged without a signing time, on first use.
    assessment: OnceLock<Arc<SealAssessment>>,
    /// Revocation as the register has it (online only; authoritative and current).
    pub register_revocation: Option<Option<(OffsetDateTime, RevocationReason)>>,
}

impl TrustedSeal {
    pub(crate) fn summary(&self) -> SealSummary {
        SealSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            department_name: self.department_name.clone(),
            department_code: self.department_code.clone(),
        }
    }

    pub(crate) fn may_issue(&self, type_code: &str) -> bool {
        crate::licence::TypeScope::new(&self.type_codes).covers(type_code)
    }
}

/// A seal as given to [`TrustSet::new`].
#[derive(Debug, Clone)]
pub struct SealSource {
    /// Seal id.
    pub id: String,
    /// Seal name.
    pub name: String,
    /// Owning department's code.
    pub department_code: String,
    /// Owning department's name.
    pub department_name: String,
    /// Licence types the department may issue.
    pub type_codes: Vec<String>,
    /// Key algorithm.
    pub algorithm: Algorithm,
    /// Certificate DER.
    pub cert_der: Vec<u8>,
    /// Online: the register's revocation of the seal (`Some(None)`: not revoked).
    pub register_revocation: Option<Option<(OffsetDateTime, RevocationReason)>>,
}

/// What the verifier trusts: roots, seals and CRLs, with every seal's chain judged once.
#[derive(Debug)]
pub struct TrustSet {
    mode: Mode,
    roots: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    seals: HashMap<Vec<u8>, Arc<TrustedSeal>>,
    /// When it was built.
    pub built_at: OffsetDateTime,
}

impl TrustSet {
    /// Builds the set: `roots` and `crls` DER; each seal's chain is validated now, once.
    pub fn new(
        mode: Mode,
        roots: Vec<Vec<u8>>,
        crls: Vec<Vec<u8>>,
        seals: Vec<SealSource>,
        now: OffsetDateTime,
    ) -> Self {
        let seals = seals
            .into_iter()
            .map(|s| {
                let verifier = verifier_of_cert(&s.cert_der);
                let seal = TrustedSeal {
                    id: s.id,
                    name: s.name,
                    department_code: s.department_code,
                    department_name: s.department_name,
                    type_codes: s.type_codes,
                    verifier,
                    assessment: OnceLock::new(),
                    register_revocation: s.register_revocation,
                    cert_der: s.cert_der,
                };
                (kid_of(&seal.cert_der), Arc::new(seal))
            })
            .collect();
        Self { mode, roots, crls, seals, built_at: now }
    }

    /// Online or offline.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The seal whose certificate has this `kid`.
    pub fn seal_by_kid(&self, kid: &[u8]) -> Option<&Arc<TrustedSeal>> {
        self.seals.get(kid)
    }

    /// Number of seals.
    pub fn seal_count(&self) -> usize {
        self.seals.len()
    }

    /// The judgement of a seal's chain, made on first use and kept.
    pub(crate) fn assessment(&self, seal: &TrustedSeal) -> Arc<SealAssessment> {
        seal.assessment
            .get_or_init(|| {
                Arc::new(SealAssessment::new(&seal.cert_der, &[], &self.roots, &self.crls, self.built_at))
            })
            .clone()
    }

    /// Judges the seal maker (制章者) of a GB/T 38540 electronic seal, its certificate as
    /// the seal carries it (`ses::SealFacts::maker_cert_der`), at `at`: the platform's
    /// maker, issued by a trusted (SM2) root, passes; a maker under another root
    /// (`unknown_issuer`), a seal or other certificate posing as maker
    /// (`wrong_extended_key_usage`, `wrong_key_usage`) or an expired one fails. The
    /// trusted makers are exactly those the trusted roots issued with the maker profile
    /// ([`pki::validate_seal_maker`]), so the trust list needs nothing more than its roots.
    pub fn seal_maker_chain(
        &self,
        maker_cert_der: &[u8],
        at: OffsetDateTime,
    ) -> Result<ValidatedChain, ChainError> {
        pki::validate_seal_maker(maker_cert_der, &self.roots, at)
    }

    /// The trusted root certificates, DER.
    pub(crate) fn roots(&self) -> &[Vec<u8>] {
        &self.roots
    }

    /// The CRLs, DER.
    pub(crate) fn crls(&self) -> &[Vec<u8>] {
        &self.crls
    }
}

/// A seal certificate's chain judged once, without a signing time: the structure (path to
/// a trusted root, signatures, CA constraints, key usage) and what the CRLs say.
#[derive(Debug, Clone)]
pub struct SealAssessment {
    pub(crate) chain: Result<ValidatedChain, ChainError>,
    pub(crate) revocation: Result<RevocationStatus, ChainError>,
}

impl SealAssessment {
    /// Judges `cert_der` against `roots`, with `intermediates` and `crls` (all DER); CRLs
    /// issued up to `now` count.
    pub fn new(
        cert_der: &[u8],
        intermediates: &[Vec<u8>],
        roots: &[Vec<u8>],
        crls: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Self {
        let at = match pki::cert_info(cert_der) {
            Ok(info) => info.not_before,
            Err(e) => {
                let e = ChainError::Malformed(format!("seal: {e}"));
                return Self { chain: Err(e.clone()), revocation: Err(e) };
            }
        };
        let structure =
            RevocationPolicy { crls_issued_until: now, signing_time_proven: true, check_revocation: false };
        let chain = pki::validate_signature_chain(cert_der, intermediates, roots, crls, at, structure);
        let revocation = match &chain {
            Err(e) => Err(e.clone()),
            Ok(valid) => issuer_der(valid, intermediates, roots)
                .ok_or_else(|| ChainError::Malformed("issuer certificate not found".into()))
                .and_then(|issuer| pki::revocation_status(cert_der, issuer, crls, now)),
        };
        Self { chain, revocation }
    }
}

/// The DER of the certificate that issued the seal certificate of `chain`.
pub(crate) fn issuer_der<'a>(
    chain: &ValidatedChain,
    intermediates: &'a [Vec<u8>],
    roots: &'a [Vec<u8>],
) -> Option<&'a [u8]> {
    let issuer: &CertInfo = chain.path.get(1)?;
    intermediates.iter().chain(roots).map(Vec::as_slice).find(|der| {
        pki::cert_info(der).is_ok_and(|i| i.serial_hex == issuer.serial_hex && i.subject == issuer.subject)
    })
}
