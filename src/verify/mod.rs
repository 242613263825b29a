//! One verification engine for everything a verifier can hold: a QR token (or its URL), a
//! signed PDF, or a licence identifier. Each gives a [`Report`]: a verdict and the ordered
//! list of checks that led to it, each with a stable code and a message in Chinese and
//! English, in the spirit of ETSI validation reports (EN 319 102-1).
//!
//! Two modes share every check:
//! - **online**, with the register ([`RegisterLookup`]) and the store's current seals and
//!   CRLs: the licence's status is checked, and the register entry proves when the licence
//!   was issued;
//! - **offline**, with a [`TrustSet`] from a trust list (and optionally a cached CRL): the
//!   status is reported as not checked, so the verdict is at best `indeterminate`.
//!
//! Verdict: any failed check makes the licence `invalid`; otherwise any check that could
//! not be made makes it `indeterminate`; only when every check passed is it `valid`.
//!
//! The engine does no I/O of its own: the register comes in through [`RegisterLookup`].

pub mod trustlist;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use crate::codes::LicenceId;
use crate::licence::LicenceStatus;
use crate::pdf::{self, LaterRevisions, PdfError};
use crate::pki::{
    self, Algorithm, CertInfo, ChainError, RevocationPolicy, RevocationReason, RevocationStatus,
    ValidatedChain,
};
use crate::signing::SealVerifier;
use crate::token::{self, LicenceClaims, ParsedToken};

/// Bytes of a token `kid`: the first bytes of SHA-256 of the seal certificate.
pub const KID_BYTES: usize = 8;

/// The token `kid` of a seal certificate: the first [`KID_BYTES`] of its SHA-256.
pub fn kid_of(cert_der: &[u8]) -> Vec<u8> {
    Sha256::digest(cert_der)[..KID_BYTES].to_vec()
}

/// The SubjectPublicKeyInfo (DER) of a certificate.
pub fn spki_of_cert(cert_der: &[u8]) -> Result<Vec<u8>, String> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok(cert.public_key().raw.to_vec())
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It holds.
    Passed,
    /// It does not hold: the licence must not be relied on.
    Failed,
    /// It could not be made (offline, no revocation data, …).
    NotChecked,
}

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Valid,
    /// At least one check failed.
    Invalid,
    /// Nothing failed, but not everything could be checked.
    Indeterminate,
}

impl Verdict {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Invalid => "无效",
            Self::Indeterminate => "无法确认",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Valid => "Valid",
            Self::Invalid => "Invalid",
            Self::Indeterminate => "Cannot be confirmed",
        }
    }

    /// Process exit code for the command line: 0 valid, 1 invalid, 2 cannot tell.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Invalid => 1,
            Self::Indeterminate => 2,
        }
    }
}

/// What was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A QR token or its URL.
    Token,
    /// A signed PDF.
    Pdf,
    /// A licence identifier, looked up in the register.
    Identifier,
}

/// Where trust and status came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// With the register.
    Online,
    /// With a trust list only.
    Offline,
}

/// Every check the engine makes, in report order: stable code, Chinese and English title.
pub const CHECKS: &[(&str, &str, &str)] = &[
    ("input.read", "读取输入", "Input readable"),
    ("pdf.signature_found", "PDF 签名", "PDF signature present"),
    ("pdf.byte_range", "签名覆盖范围", "Signed byte ranges"),
    ("pdf.digest", "文档摘要", "Document digest"),
    ("pdf.signature", "PDF 签名值", "PDF signature value"),
    ("pdf.changes", "签名后修改", "Changes after signing"),
    ("token.signer", "签名印章", "Signing seal known"),
    ("token.signature", "二维码签名", "QR token signature"),
    ("pdf.token", "PDF 与二维码一致", "PDF and QR token agree"),
    ("seal.chain", "印章证书链", "Seal certificate chain"),
    ("seal.revocation", "印章吊销状态", "Seal revocation status"),
    ("issuer.authorised", "颁证单位权限", "Issuer authorised for this type"),
    ("licence.identifier", "证照标识", "Licence identifier"),
    ("register.record", "证照库记录", "Register record"),
    ("licence.validity", "有效期", "Validity period"),
    ("licence.status", "证照状态", "Licence status"),
];

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// Stable code, e.g. `token.signature` (see [`CHECKS`]).
    pub code: &'static str,
    /// How it came out.
    pub outcome: Outcome,
    /// Title in Chinese.
    pub title_zh: &'static str,
    /// Title in English.
    pub title_en: &'static str,
    /// What was found, in Chinese.
    pub message_zh: String,
    /// What was found, in English.
    pub message_en: String,
}

impl Check {
    /// The outcome as its snake_case word (`passed`, `failed`, `not_checked`).
    pub fn outcome_word(&self) -> &'static str {
        match self.outcome {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::NotChecked => "not_checked",
        }
    }

    fn new(code: &'static str, outcome: Outcome, zh: impl Into<String>, en: impl Into<String>) -> Self {
        let (title_zh, title_en) =
            CHECKS.iter().find(|(c, _, _)| *c == code).map_or(("", ""), |(_, zh, en)| (*zh, *en));
        Self { code, outcome, title_zh, title_en, message_zh: zh.into(), message_en: en.into() }
    }

    fn pass(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::Passed, zh, en)
    }

    fn fail(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::Failed, zh, en)
    }

    fn not_checked(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::NotChecked, zh, en)
    }
}

/// The licence as the verified data states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LicenceSummary {
    /// 电子证照标识.
    pub identifier: String,
    /// Type code.
    pub type_code: String,
    /// Type name (from the register or the catalogue), if known.
    pub type_name: Option<String>,
    /// Holder name.
    pub holder_name: String,
    /// Holder code, masked.
    pub holder_code_masked: String,
    /// Issuer's 统一社会信用代码.
    pub issuer_code: String,
    /// Issuer's name, if known (from the seal).
    pub issuer_name: Option<String>,
    /// First day of validity, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day, `YYYY-MM-DD`; `None` for long-term licences.
    pub valid_until: Option<String>,
    /// Status in the register (`01` …), online only.
    pub status_code: Option<String>,
    /// Status label (有效, 暂扣, …), online only.
    pub status_label: Option<String>,
    /// The newer version that replaced it, online only.
    pub superseded_by: Option<String>,
    /// When the register last changed its status or replaced it (RFC 3339), online only,
    /// when it is no longer in force.
    pub status_since: Option<String>,
    /// The licence's fields as the register has them (label, value), online only; personal
    /// codes masked.
    pub fields: Vec<(String, String)>,
}

/// The seal that signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SealSummary {
    /// Seal id.
    pub id: String,
    /// Seal name.
    pub name: String,
    /// Owning department's name.
    pub department_name: String,
    /// Owning department's code.
    pub department_code: String,
}

/// A verification report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// The answer.
    pub verdict: Verdict,
    /// What was verified.
    pub subject: Subject,
    /// Online or offline.
    pub mode: Mode,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub checked_at: OffsetDateTime,
    /// The licence, once its data are authenticated (or as the register has it).
    pub licence: Option<LicenceSummary>,
    /// The seal, once known.
    pub seal: Option<SealSummary>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    fn new(subject: Subject, mode: Mode, now: OffsetDateTime, checks: Vec<Check>) -> Self {
        let verdict = if checks.iter().any(|c| c.outcome == Outcome::Failed) {
            Verdict::Invalid
        } else if checks.is_empty() || checks.iter().any(|c| c.outcome == Outcome::NotChecked) {
            Verdict::Indeterminate
        } else {
            Verdict::Valid
        };
        Self { verdict, subject, mode, checked_at: now, licence: None, seal: None, checks }
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome == Outcome::Failed)
    }

    /// The check with `code`, if it was made.
    pub fn check(&self, code: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.code == code)
    }
}

/// A licence as the register holds it, for the online checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// 电子证照标识.
    pub identifier: String,
    /// Stored status.
    pub status: LicenceStatus,
    /// The version that replaced it.
    pub superseded_by: Option<String>,
    /// When its status last changed or it was replaced (`None` while it is in force).
    pub status_since: Option<OffsetDateTime>,
    /// SHA-256 of the record.
    pub record_hash: Vec<u8>,
    /// When the register recorded it (proof that it existed then).
    pub issued_at: OffsetDateTime,
    /// The seal that signed it.
    pub seal_id: String,
    /// Holder name.
    pub holder_name: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`; `None` for long-term.
    pub valid_until: Option<String>,
    /// The stored token.
    pub token: Vec<u8>,
    /// Type name.
    pub type_name: Option<String>,
    /// Fields to show (label, value), personal codes masked.
    pub fields: Vec<(String, String)>,
}

/// Where the online engine reads the register.
#[async_trait::async_trait]
pub trait RegisterLookup: Send + Sync {
    /// The register entry of `identifier`, or `None` if the register has none.
    async fn entry(&self, identifier: &str) -> Result<Option<RegisterEntry>, String>;
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
    assessment: std::sync::OnceLock<SealAssessment>,
    /// Revocation as the register has it (online only; authoritative and current).
    pub register_revocation: Option<Option<(OffsetDateTime, RevocationReason)>>,
}

impl TrustedSeal {
    fn summary(&self) -> SealSummary {
        SealSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            department_name: self.department_name.clone(),
            department_code: self.department_code.clone(),
        }
    }

    fn may_issue(&self, type_code: &str) -> bool {
        self.type_codes.iter().any(|t| t == "*" || t == type_code)
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
                let verifier =
                    spki_of_cert(&s.cert_der).ok().and_then(|spki| SealVerifier::from_spki_der(&spki).ok());
                let seal = TrustedSeal {
                    id: s.id,
                    name: s.name,
                    department_code: s.department_code,
                    department_name: s.department_name,
                    type_codes: s.type_codes,
                    verifier,
                    assessment: std::sync::OnceLock::new(),
                    register_revocation: s.register_revocation,
                    cert_der: s.cert_der,
                };
                (kid_of(&seal.cert_der), Arc::new(seal))
            })
            .collect();
        Self { mode, roots, crls, seals, built_at: now }
    }

    /// Builds an offline set from a verified trust list, plus extra CRLs (DER) such as a
    /// cached newer CRL.
    pub fn from_trust_list(
        list: &trustlist::TrustListBody,
        extra_crls: Vec<Vec<u8>>,
        now: OffsetDateTime,
    ) -> Result<Self, trustlist::TrustListError> {
        let roots = list.roots.iter().map(|r| trustlist::der_of(&r.certificate)).collect::<Result<_, _>>()?;
        let mut crls: Vec<Vec<u8>> =
            list.crls.iter().map(|c| trustlist::der_of(&c.crl)).collect::<Result<_, _>>()?;
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
                        trustlist::TrustListError::Malformed(format!(
                            "seal {}: algorithm {}",
                            s.id, s.algorithm
                        ))
                    })?,
                    cert_der: trustlist::der_of(&s.certificate)?,
                    register_revocation: None,
                })
            })
            .collect::<Result<_, trustlist::TrustListError>>()?;
        Ok(Self::new(Mode::Offline, roots, crls, seals, now))
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
    fn assessment<'s>(&'s self, seal: &'s TrustedSeal) -> &'s SealAssessment {
        seal.assessment
            .get_or_init(|| SealAssessment::new(&seal.cert_der, &[], &self.roots, &self.crls, self.built_at))
    }
}

/// A seal certificate's chain judged once, without a signing time: the structure (path to
/// a trusted root, signatures, CA constraints, key usage) and what the CRLs say.
#[derive(Debug, Clone)]
pub struct SealAssessment {
    chain: Result<ValidatedChain, ChainError>,
    revocation: Result<RevocationStatus, ChainError>,
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
fn issuer_der<'a>(
    chain: &ValidatedChain,
    intermediates: &'a [Vec<u8>],
    roots: &'a [Vec<u8>],
) -> Option<&'a [u8]> {
    let issuer: &CertInfo = chain.path.get(1)?;
    intermediates.iter().chain(roots).map(Vec::as_slice).find(|der| {
        pki::cert_info(der).is_ok_and(|i| i.serial_hex == issuer.serial_hex && i.subject == issuer.subject)
    })
}

fn fmt_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_else(|_| t.to_string())
}

fn reason_zh(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::KeyCompromise => "密钥泄露",
        RevocationReason::AffiliationChanged => "单位变更",
        RevocationReason::Superseded => "已被替换",
        RevocationReason::CessationOfOperation => "停止使用",
        _ => "未说明原因",
    }
}

/// The chain and revocation checks for a signature made (or registered) at `signing_time`.
fn seal_checks(
    assessment: &SealAssessment,
    register_revocation: Option<Option<(OffsetDateTime, RevocationReason)>>,
    signing_time: OffsetDateTime,
    proven: bool,
    now: OffsetDateTime,
) -> Vec<Check> {
    let chain = match &assessment.chain {
        Err(e) => {
            return vec![Check::fail(
                "seal.chain",
                format!("印章证书不能追溯到受信任的根证书：{e}"),
                format!("the seal certificate does not chain to a trusted root: {e} ({})", e.code()),
            )];
        }
        Ok(chain) => chain,
    };
    if let Some(cert) = chain.path.iter().find(|c| signing_time < c.not_before || signing_time > c.not_after)
    {
        return vec![Check::fail(
            "seal.chain",
            format!(
                "签名时间 {} 不在证书有效期（{} 至 {}）内",
                fmt_time(signing_time),
                fmt_time(cert.not_before),
                fmt_time(cert.not_after)
            ),
            format!(
                "signing time {} is outside the validity of {} ({} to {})",
                fmt_time(signing_time),
                cert.subject,
                fmt_time(cert.not_before),
                fmt_time(cert.not_after)
            ),
        )];
    }
    let root = chain.path.last().map_or_else(String::new, |r| r.subject.clone());
    let mut checks = vec![Check::pass(
        "seal.chain",
        "印章证书由平台根证书签发，签名时在有效期内",
        format!("the seal certificate chains to the trusted root {root} and was valid at the signing time"),
    )];
    let status = match register_revocation {
        Some(revoked) => Ok(RevocationStatus { revoked, known_until: now }),
        None => assessment.revocation.clone(),
    };
    checks.push(match status {
        Err(e) => Check::not_checked(
            "seal.revocation",
            format!("没有可用的吊销列表，无法确认印章证书未被吊销：{e}"),
            format!("no usable CRL: whether the seal was revoked is unknown ({e})"),
        ),
        Ok(RevocationStatus { revoked: Some((at, reason)), .. })
            if pki::revocation_applies(at, reason, signing_time, proven) =>
        {
            Check::fail(
                "seal.revocation",
                format!("印章证书已于 {} 吊销（{}）", fmt_time(at), reason_zh(reason)),
                format!("the seal certificate was revoked at {} (reason: {reason})", fmt_time(at)),
            )
        }
        Ok(s) if s.known_until < signing_time => Check::not_checked(
            "seal.revocation",
            format!("最新的吊销列表（{}）早于签名时间，无法确认", fmt_time(s.known_until)),
            format!(
                "the newest CRL ({}) predates the signature: revocation at signing time unknown",
                fmt_time(s.known_until)
            ),
        ),
        Ok(RevocationStatus { revoked: Some((at, reason)), .. }) => Check::pass(
            "seal.revocation",
            format!("签名时印章有效；印章其后于 {} 吊销（{}），不影响此前出具的证照", fmt_time(at), reason_zh(reason)),
            format!(
                "the seal was valid when it signed; it was revoked later, at {} ({reason}), which does not affect earlier licences",
                fmt_time(at)
            ),
        ),
        Ok(_) => Check::pass("seal.revocation", "印章证书未被吊销", "the seal certificate is not revoked"),
    });
    checks
}

/// Parses a licence date `YYYY-MM-DD`.
fn date(s: &str) -> Option<Date> {
    crate::licence::parse_date("", s).ok()
}

/// Checks after the claims are authenticated: issuer, identifier, register, validity, status.
struct ClaimsContext<'a> {
    claims: &'a LicenceClaims,
    seal: Option<&'a TrustedSeal>,
    entry: Option<&'a RegisterEntry>,
    /// Online, but the register could not be read.
    register_down: bool,
    mode: Mode,
    today: Date,
}

fn licence_checks(cx: &ClaimsContext<'_>, checks: &mut Vec<Check>) {
    let id = LicenceId::parse(&cx.claims.licence_id);
    checks.push(match (&id, cx.seal) {
        (Err(_), _) => Check::not_checked(
            "issuer.authorised",
            "证照标识无效，无法确认颁证单位",
            "the identifier is invalid: the issuer cannot be told",
        ),
        (Ok(_), None) => Check::not_checked(
            "issuer.authorised",
            "签名证书不在信任列表中，无法确认颁证单位的权限",
            "the signing certificate is not in the trust list: the issuer's authorisation is unknown",
        ),
        (Ok(id), Some(seal)) if seal.department_code != id.issuer().as_str() => Check::fail(
            "issuer.authorised",
            format!("证照标识中的颁证单位 {} 与签章单位 {} 不符", id.issuer(), seal.department_code),
            format!(
                "the identifier names issuer {} but the seal belongs to {}",
                id.issuer(),
                seal.department_code
            ),
        ),
        (Ok(id), Some(seal)) if !seal.may_issue(id.type_code().as_str()) => Check::fail(
            "issuer.authorised",
            format!("{} 无权颁发此类证照（{}）", seal.department_name, id.type_code()),
            format!(
                "{} is not authorised to issue licences of type {}",
                seal.department_name,
                id.type_code()
            ),
        ),
        (Ok(_), Some(seal)) => Check::pass(
            "issuer.authorised",
            format!("{} 有权颁发此类证照", seal.department_name),
            format!("{} is authorised to issue this type", seal.department_code),
        ),
    });
    checks.push(match &id {
        Ok(_) => Check::pass(
            "licence.identifier",
            "证照标识格式与校验位正确",
            "identifier well-formed, check character correct",
        ),
        Err(e) => Check::fail(
            "licence.identifier",
            format!("证照标识无效：{e}"),
            format!("the identifier is invalid: {e}"),
        ),
    });
    checks.push(register_check(cx));
    checks.push(validity_check(cx.claims, cx.today));
    checks.push(status_check(cx));
}

/// Where the authenticated claims and the seal disagree with the register's entry; empty
/// when the register holds exactly this licence, signed by this seal.
fn register_differences(
    claims: &LicenceClaims,
    seal: Option<&TrustedSeal>,
    entry: &RegisterEntry,
) -> Vec<&'static str> {
    let mut differences = Vec::new();
    if entry.identifier != claims.licence_id {
        differences.push("identifier");
    }
    if !claims.record_hash_matches(&entry.record_hash) {
        differences.push("record hash");
    }
    if entry.holder_name != claims.holder_name {
        differences.push("holder name");
    }
    if entry.valid_from != claims.valid_from || entry.valid_until != claims.valid_until {
        differences.push("validity");
    }
    if seal.is_none_or(|s| s.id != entry.seal_id) {
        differences.push("seal");
    }
    differences
}

/// The register entry an online check compares with; without one (offline, register
/// down, no such licence), the check `code` as it then comes out.
fn entry_for<'a>(
    cx: &ClaimsContext<'a>,
    code: &'static str,
    offline: (&str, &str),
    missing: (&str, &str),
) -> Result<&'a RegisterEntry, Check> {
    if cx.mode == Mode::Offline {
        return Err(Check::not_checked(code, offline.0, offline.1));
    }
    if cx.register_down {
        return Err(Check::not_checked(code, "证照库暂时无法访问", "the register could not be reached"));
    }
    cx.entry.ok_or_else(|| Check::fail(code, missing.0, missing.1))
}

fn register_check(cx: &ClaimsContext<'_>) -> Check {
    let entry = match entry_for(
        cx,
        "register.record",
        ("离线核验，未查询证照库", "offline: the register was not consulted"),
        (
            "证照库中没有此证照：签名虽有效，但证照未经登记",
            "the register has no such licence: though signed, it was never registered",
        ),
    ) {
        Ok(entry) => entry,
        Err(check) => return check,
    };
    let differences = register_differences(cx.claims, cx.seal, entry);
    if differences.is_empty() {
        Check::pass("register.record", "与证照库记录一致", "agrees with the register's record")
    } else {
        Check::fail(
            "register.record",
            format!("与证照库记录不一致（{}）", differences.join("、")),
            format!("differs from the register's record: {}", differences.join(", ")),
        )
    }
}

fn validity_check(claims: &LicenceClaims, today: Date) -> Check {
    let from = date(&claims.valid_from);
    let until = claims.valid_until.as_deref().map(date);
    match (from, until) {
        (None, _) | (_, Some(None)) => {
            Check::fail("licence.validity", "有效期日期无效", "the validity dates are invalid")
        }
        (Some(from), _) if today < from => Check::fail(
            "licence.validity",
            format!("证照自 {from} 起才有效"),
            format!("the licence is not valid before {from}"),
        ),
        (_, Some(Some(until))) if today > until => Check::fail(
            "licence.validity",
            format!("证照已于 {until} 到期"),
            format!("the licence expired on {until}"),
        ),
        (Some(from), Some(Some(until))) => Check::pass(
            "licence.validity",
            format!("在有效期内（{from} 至 {until}）"),
            format!("within its validity ({from} to {until})"),
        ),
        (Some(from), None) => Check::pass(
            "licence.validity",
            format!("自 {from} 起长期有效"),
            format!("valid from {from}, no end date"),
        ),
    }
}

fn status_check(cx: &ClaimsContext<'_>) -> Check {
    let entry = match entry_for(
        cx,
        "licence.status",
        (
            "离线核验无法确认证照当前状态（是否暂扣、撤销、注销）",
            "offline: the licence's current status (suspended, revoked, cancelled) is not checked",
        ),
        ("证照库中没有此证照", "the register has no such licence"),
    ) {
        Ok(entry) => entry,
        Err(check) => return check,
    };
    if let Some(newer) = &entry.superseded_by {
        return Check::fail(
            "licence.status",
            format!("此版本已被新版本 {newer} 取代"),
            format!("this version was superseded by {newer}"),
        );
    }
    match entry.status {
        LicenceStatus::Valid => Check::pass("licence.status", "证照状态：有效", "status: valid"),
        other => Check::fail(
            "licence.status",
            format!("证照状态：{}", other.label()),
            format!("status: {} ({})", status_en(other), other.code()),
        ),
    }
}

fn status_en(s: LicenceStatus) -> &'static str {
    match s {
        LicenceStatus::Valid => "valid",
        LicenceStatus::Suspended => "suspended",
        LicenceStatus::Revoked => "revoked",
        LicenceStatus::Cancelled => "cancelled",
        LicenceStatus::Expired => "expired",
        LicenceStatus::TransferredOut => "transferred out",
        LicenceStatus::Withdrawn => "withdrawn",
        LicenceStatus::Other => "other",
    }
}

fn summary(
    claims: &LicenceClaims,
    seal: Option<&TrustedSeal>,
    entry: Option<&RegisterEntry>,
) -> LicenceSummary {
    let id = LicenceId::parse_lenient(&claims.licence_id).ok().map(|(id, _)| id);
    LicenceSummary {
        identifier: claims.licence_id.clone(),
        type_code: id.as_ref().map(|i| i.type_code().as_str().to_owned()).unwrap_or_default(),
        type_name: entry.and_then(|e| e.type_name.clone()),
        holder_name: claims.holder_name.clone(),
        holder_code_masked: claims.holder_code_masked.clone(),
        issuer_code: id.as_ref().map(|i| i.issuer().as_str().to_owned()).unwrap_or_default(),
        issuer_name: seal.map(|s| s.department_name.clone()),
        valid_from: claims.valid_from.clone(),
        valid_until: claims.valid_until.clone(),
        status_code: entry.map(|e| e.status.code().to_owned()),
        status_label: entry.map(|e| e.status.label().to_owned()),
        superseded_by: entry.and_then(|e| e.superseded_by.clone()),
        status_since: entry
            .and_then(|e| e.status_since)
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        fields: entry.map(|e| e.fields.clone()).unwrap_or_default(),
    }
}

/// The verification engine over one trust set and, online, the register.
pub struct Engine<'a> {
    trust: &'a TrustSet,
    register: Option<&'a dyn RegisterLookup>,
    now: OffsetDateTime,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("mode", &self.mode()).field("now", &self.now).finish()
    }
}

impl<'a> Engine<'a> {
    /// An engine; online when `register` is given and the trust set is online.
    pub fn new(trust: &'a TrustSet, register: Option<&'a dyn RegisterLookup>, now: OffsetDateTime) -> Self {
        Self { trust, register, now }
    }

    fn mode(&self) -> Mode {
        if self.register.is_some() && self.trust.mode == Mode::Online { Mode::Online } else { Mode::Offline }
    }

    /// The register entry (`Ok(None)`: none, or offline); `Err` when the register failed.
    async fn lookup(&self, identifier: &str) -> Result<Option<RegisterEntry>, ()> {
        let Some(register) = self.register.filter(|_| self.mode() == Mode::Online) else {
            return Ok(None);
        };
        register.entry(identifier).await.map_err(|e| {
            tracing::warn!(error = %e, "register lookup failed during verification");
        })
    }

    /// Verifies a token given as text: the QR URL or the bare base32 token.
    pub async fn verify_token_text(&self, text: &str) -> Report {
        match token::decode_from_url(text) {
            Ok(bytes) => self.verify_token(&bytes).await,
            Err(e) => self.unreadable(Subject::Token, &e.to_string()),
        }
    }

    fn unreadable(&self, subject: Subject, why: &str) -> Report {
        let check = Check::fail("input.read", format!("无法读取：{why}"), format!("unreadable: {why}"));
        Report::new(subject, self.mode(), self.now, vec![check])
    }

    /// Verifies COSE token bytes.
    pub async fn verify_token(&self, bytes: &[u8]) -> Report {
        self.token_report(bytes, Subject::Token, None).await
    }

    async fn token_report(&self, bytes: &[u8], subject: Subject, entry: Option<RegisterEntry>) -> Report {
        let mut checks = Vec::new();
        let parsed = match token::parse(bytes) {
            Ok(p) => p,
            Err(e) => return self.unreadable(subject, &format!("not a licence token: {e}")),
        };
        checks.push(Check::pass("input.read", "二维码令牌格式正确", "a well-formed licence token"));
        let Some(seal) = self.authenticate_token(&parsed, &mut checks) else {
            return Report::new(subject, self.mode(), self.now, checks);
        };
        let claims = &parsed.claims;
        let (entry, register_down) = match entry {
            Some(e) => (Some(e), false),
            None => match self.lookup(&claims.licence_id).await {
                Ok(e) => (e, false),
                Err(()) => (None, true),
            },
        };
        let mut report =
            self.after_authentication(subject, claims, seal, entry.as_ref(), register_down, checks);
        report.seal = Some(seal.summary());
        report
    }

    /// `token.signer` and `token.signature`: the seal, if the token is authentic.
    fn authenticate_token<'s>(
        &'s self,
        parsed: &ParsedToken,
        checks: &mut Vec<Check>,
    ) -> Option<&'s TrustedSeal> {
        let Some(seal) = self.trust.seal_by_kid(&parsed.kid) else {
            checks.push(Check::fail(
                "token.signer",
                "签名印章不在信任列表中：可能是伪造的二维码",
                format!("no trusted seal has key id {}: the token may be forged", hex::encode(&parsed.kid)),
            ));
            return None;
        };
        let verified = seal.verifier.as_ref().is_some_and(|v| token::verify(parsed, v).is_ok());
        checks.push(if verified {
            Check::pass(
                "token.signer",
                format!("由 {}「{}」签发", seal.department_name, seal.name),
                format!("signed by seal {} of {}", seal.id, seal.department_code),
            )
        } else {
            // The kid only names a seal: without a holding signature the token merely
            // claims it, and the report must not read as if that seal had signed.
            Check::not_checked(
                "token.signer",
                format!("声称由 {}「{}」签发，但签名不成立", seal.department_name, seal.name),
                format!(
                    "claims to be signed by seal {} of {}, but the signature does not hold",
                    seal.id, seal.department_code
                ),
            )
        });
        checks.push(if verified {
            Check::pass(
                "token.signature",
                "二维码签名有效，内容未被篡改",
                "the token signature holds: its content is unaltered",
            )
        } else {
            Check::fail(
                "token.signature",
                "二维码签名无效：内容被篡改或为伪造",
                "the token signature does not hold: altered or forged",
            )
        });
        verified.then_some(seal.as_ref())
    }

    fn after_authentication(
        &self,
        subject: Subject,
        claims: &LicenceClaims,
        seal: &TrustedSeal,
        entry: Option<&RegisterEntry>,
        register_down: bool,
        mut checks: Vec<Check>,
    ) -> Report {
        let registered = entry.filter(|e| register_differences(claims, Some(seal), e).is_empty());
        let signing_time = match registered {
            Some(e) => e.issued_at,
            None => {
                OffsetDateTime::from_unix_timestamp(claims.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH)
            }
        };
        let register_revocation = if self.mode() == Mode::Online { seal.register_revocation } else { None };
        checks.extend(seal_checks(
            self.trust.assessment(seal),
            register_revocation,
            signing_time,
            registered.is_some(),
            self.now,
        ));
        let cx = ClaimsContext {
            claims,
            seal: Some(seal),
            entry,
            register_down,
            mode: self.mode(),
            today: self.now.date(),
        };
        licence_checks(&cx, &mut checks);
        let mut report = Report::new(subject, self.mode(), self.now, checks);
        report.licence = Some(summary(claims, Some(seal), entry));
        report
    }

    /// Verifies a licence identifier against the register (online only), including the
    /// signature of the token the register keeps for it.
    pub async fn verify_identifier(&self, identifier: &str) -> Report {
        let identifier = identifier.trim();
        let mut checks = Vec::new();
        if let Err(e) = LicenceId::parse(identifier) {
            checks.push(Check::fail(
                "licence.identifier",
                format!("证照标识无效：{e}"),
                format!("invalid identifier: {e}"),
            ));
            return Report::new(Subject::Identifier, self.mode(), self.now, checks);
        }
        if self.mode() == Mode::Offline {
            checks.push(Check::not_checked(
                "register.record",
                "离线核验只凭证照标识无法确认，请扫描二维码或上传 PDF",
                "offline, an identifier alone cannot be verified: scan the QR code or give the PDF",
            ));
            return Report::new(Subject::Identifier, self.mode(), self.now, checks);
        }
        let entry = match self.lookup(identifier).await {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                checks.push(Check::fail(
                    "register.record",
                    "证照库中没有此证照",
                    "the register has no such licence",
                ));
                return Report::new(Subject::Identifier, self.mode(), self.now, checks);
            }
            Err(()) => {
                checks.push(Check::not_checked(
                    "register.record",
                    "证照库暂时无法访问",
                    "the register could not be reached",
                ));
                return Report::new(Subject::Identifier, self.mode(), self.now, checks);
            }
        };
        let token = entry.token.clone();
        let mut report = self.token_report(&token, Subject::Identifier, Some(entry)).await;
        if report.licence.as_ref().is_some_and(|l| l.identifier != identifier) {
            report.checks.push(Check::fail(
                "register.record",
                "证照库记录的令牌属于另一证照",
                "the register's token belongs to another licence",
            ));
            report.verdict = Verdict::Invalid;
        }
        report
    }

    /// Verifies a signed licence PDF: its PAdES signature, the seal's chain, the embedded
    /// token, and then the licence as for a token.
    pub async fn verify_pdf(&self, bytes: &[u8]) -> Report {
        let mut checks = Vec::new();
        let sig = match pdf::inspect(bytes) {
            Ok(sig) => sig,
            Err(e) => {
                pdf_failure(&e, &mut checks);
                return Report::new(Subject::Pdf, self.mode(), self.now, checks);
            }
        };
        for (code, zh, en) in PDF_STAGES {
            checks.push(Check::pass(code, zh, en));
        }
        checks.push(match &sig.later_revisions {
            LaterRevisions::None => Check::pass("pdf.changes", "签名后没有修改", "no changes after signing"),
            LaterRevisions::DssOnly => Check::pass(
                "pdf.changes",
                "签名后只添加了验证数据（DSS）",
                "after signing, only validation data (DSS) was added",
            ),
            LaterRevisions::Other(what) => Check::fail(
                "pdf.changes",
                format!("签名后文档被修改（{} 处）", what.len()),
                format!("the document was changed after signing: {}", what.join("; ")),
            ),
        });
        let kid = kid_of(&sig.signer_cert_der);
        let seal = self.trust.seal_by_kid(&kid).filter(|s| s.cert_der == sig.signer_cert_der);
        // The token, authenticated with the PDF's own signing certificate.
        let claims = match pdf_token(&sig, &kid) {
            Ok(claims) => {
                checks.push(Check::pass(
                    "pdf.token",
                    "PDF 内嵌的二维码令牌由同一印章签名，与文档信息一致",
                    "the embedded QR token is signed by the same seal and agrees with the document information",
                ));
                Some(claims)
            }
            Err((zh, en)) => {
                checks.push(Check::fail("pdf.token", zh, en));
                None
            }
        };
        let (entry, register_down) = match &claims {
            Some(c) => match self.lookup(&c.licence_id).await {
                Ok(e) => (e, false),
                Err(()) => (None, true),
            },
            None => (None, false),
        };
        // With DSS data (or an unknown seal), judge the chain with what the PDF carries too;
        // else the trust set's judgement of the seal stands.
        let fresh;
        let assessment = match seal {
            Some(s) if sig.dss_crls.is_empty() => self.trust.assessment(s),
            _ => {
                let mut crls = self.trust.crls.clone();
                crls.extend(sig.dss_crls.iter().cloned());
                let mut intermediates = sig.certificates.clone();
                intermediates.extend(sig.dss_certs.iter().cloned());
                fresh = SealAssessment::new(
                    &sig.signer_cert_der,
                    &intermediates,
                    &self.trust.roots,
                    &crls,
                    self.now,
                );
                &fresh
            }
        };
        let registered = match (&entry, &claims) {
            (Some(e), Some(c)) => register_differences(c, seal.map(Arc::as_ref), e).is_empty(),
            _ => false,
        };
        let signing_time = match (&entry, registered) {
            (Some(e), true) => e.issued_at,
            _ => sig
                .signing_time
                .or_else(|| {
                    claims.as_ref().and_then(|c| OffsetDateTime::from_unix_timestamp(c.issued_at).ok())
                })
                .unwrap_or(self.now),
        };
        let register_revocation =
            if self.mode() == Mode::Online { seal.and_then(|s| s.register_revocation) } else { None };
        checks.extend(seal_checks(assessment, register_revocation, signing_time, registered, self.now));
        if let Some(full) = sig.info.get("RecordHash")
            && let Some(e) = &entry
            && hex::encode(&e.record_hash) != *full
        {
            checks.push(Check::fail(
                "register.record",
                "PDF 中的记录摘要与证照库不一致",
                "the PDF's record hash differs from the register's",
            ));
        }
        let mut report = match &claims {
            Some(claims) => {
                let cx = ClaimsContext {
                    claims,
                    seal: seal.map(Arc::as_ref),
                    entry: entry.as_ref(),
                    register_down,
                    mode: self.mode(),
                    today: self.now.date(),
                };
                licence_checks(&cx, &mut checks);
                let mut r = Report::new(Subject::Pdf, self.mode(), self.now, checks);
                r.licence = Some(summary(claims, seal.map(Arc::as_ref), entry.as_ref()));
                r
            }
            None => Report::new(Subject::Pdf, self.mode(), self.now, checks),
        };
        report.seal = seal.map(|s| s.summary());
        report
    }
}

/// The PDF's embedded token, verified with the PDF's signing certificate, and its
/// agreement with the document information. Errors are (Chinese, English) messages.
fn pdf_token(sig: &pdf::SignatureInfo, kid: &[u8]) -> Result<LicenceClaims, (String, String)> {
    let err = |zh: &str, en: &str| (zh.to_owned(), en.to_owned());
    let text =
        sig.info.get("Token").ok_or_else(|| err("PDF 中没有二维码令牌", "the PDF carries no QR token"))?;
    let bytes = token::decode_from_url(text)
        .map_err(|e| (format!("二维码令牌无法读取：{e}"), format!("unreadable token: {e}")))?;
    let parsed = token::parse(&bytes)
        .map_err(|e| (format!("二维码令牌无法读取：{e}"), format!("unreadable token: {e}")))?;
    if parsed.kid != kid {
        return Err(err(
            "二维码令牌与 PDF 由不同印章签名",
            "the token and the PDF were signed by different seals",
        ));
    }
    let verifier = spki_of_cert(&sig.signer_cert_der)
        .ok()
        .and_then(|spki| SealVerifier::from_spki_der(&spki).ok())
        .ok_or_else(|| err("签名证书的公钥无法读取", "the signing certificate's key cannot be read"))?;
    token::verify(&parsed, &verifier)
        .map_err(|_| err("二维码令牌签名无效", "the token signature does not hold"))?;
    let claims = parsed.claims;
    if sig.info.get("Identifier") != Some(&claims.licence_id) {
        return Err(err("二维码令牌属于另一份证照", "the token belongs to another licence than the PDF"));
    }
    let hash_ok = sig
        .info
        .get("RecordHash")
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|h| claims.record_hash_matches(&h));
    if !hash_ok {
        return Err(err(
            "PDF 的记录摘要与二维码令牌不一致",
            "the PDF's record hash and the token's disagree",
        ));
    }
    Ok(claims)
}

/// The checks [`pdf::inspect`] makes, in its order, with what each means when it passes.
const PDF_STAGES: [(&str, &str, &str); 5] = [
    ("input.read", "PDF 文件可读", "a readable PDF"),
    ("pdf.signature_found", "找到 PAdES 签名", "a PAdES signature (ETSI.CAdES.detached) is present"),
    (
        "pdf.byte_range",
        "签名覆盖除签名值外的整个签名版本",
        "the signature covers its whole revision but the signature value",
    ),
    (
        "pdf.digest",
        "文档摘要与签名一致，签名后内容未改",
        "the document digest matches: nothing signed was changed",
    ),
    ("pdf.signature", "签名值有效", "the CMS signature holds"),
];

/// Maps why [`pdf::inspect`] stopped to the check that failed, after those that passed.
fn pdf_failure(e: &PdfError, checks: &mut Vec<Check>) {
    let failed = match e {
        PdfError::NotSigned | PdfError::UnsupportedSubFilter(_) => "pdf.signature_found",
        PdfError::BadByteRange(_) => "pdf.byte_range",
        PdfError::DigestMismatch => "pdf.digest",
        PdfError::BadCms(_)
        | PdfError::UnsupportedAlgorithm(_)
        | PdfError::SignerCertMissing
        | PdfError::BadAttribute(_)
        | PdfError::SigningCertificateMismatch
        | PdfError::BadSignature => "pdf.signature",
        _ => "input.read",
    };
    for (code, zh, en) in PDF_STAGES.iter().take_while(|(code, _, _)| *code != failed) {
        checks.push(Check::pass(code, *zh, *en));
    }
    let (zh, en) = match e {
        PdfError::DigestMismatch => {
            ("签名后文档内容被篡改（摘要不符）".to_owned(), format!("the signed content was altered: {e}"))
        }
        PdfError::NotSigned => ("PDF 没有签名".to_owned(), e.to_string()),
        PdfError::BadSignature => ("签名值无效：文档被篡改或签名被替换".to_owned(), e.to_string()),
        _ => (format!("PDF 检查失败：{e}"), e.to_string()),
    };
    checks.push(Check::fail(failed, zh, format!("{en} ({})", e.code())));
}
