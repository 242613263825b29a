//! The checks every document format shares, written once: the seal's chain and
//! revocation at the signing time ([`seal_checks`]), and the licence's issuer,
//! identifier, register record, validity and status ([`licence_checks`]).

use time::{Date, OffsetDateTime};

use super::register::RegisterEntry;
use super::report::{Check, LicenceSummary, Mode};
use super::trust::{SealAssessment, TrustedSeal};
use crate::codes::LicenceId;
use crate::licence::LicenceStatus;
use crate::pki::{self, RevocationReason, RevocationStatus};
use crate::token::LicenceClaims;

pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
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
pub(crate) fn seal_checks(
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
    checks.push(revocation_check(status, signing_time, proven));
    checks
}

/// `seal.revocation`: what the register or the CRLs say of the seal at `signing_time`.
fn revocation_check(
    status: Result<RevocationStatus, pki::ChainError>,
    signing_time: OffsetDateTime,
    proven: bool,
) -> Check {
    match status {
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
            format!(
                "签名时印章有效；印章其后于 {} 吊销（{}），不影响此前出具的证照",
                fmt_time(at),
                reason_zh(reason)
            ),
            format!(
                "the seal was valid when it signed; it was revoked later, at {} ({reason}), which does not affect earlier licences",
                fmt_time(at)
            ),
        ),
        Ok(_) => Check::pass("seal.revocation", "印章证书未被吊销", "the seal certificate is not revoked"),
    }
}

/// Parses a licence date `YYYY-MM-DD`.
fn date(s: &str) -> Option<Date> {
    crate::licence::parse_date("", s).ok()
}

/// Checks after the claims are authenticated: issuer, identifier, register, validity, status.
pub(crate) struct ClaimsContext<'a> {
    pub(crate) claims: &'a LicenceClaims,
    pub(crate) seal: Option<&'a TrustedSeal>,
    pub(crate) entry: Option<&'a RegisterEntry>,
    /// Online, but the register could not be read.
    pub(crate) register_down: bool,
    pub(crate) mode: Mode,
    pub(crate) today: Date,
}

pub(crate) fn licence_checks(cx: &ClaimsContext<'_>, checks: &mut Vec<Check>) {
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
pub(crate) fn register_differences(
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
    // The document's signer is one of the licence's seals: the token's (and PDF's), or the
    // OFD's of a PDF + OFD licence.
    if seal.is_none_or(|s| s.id != entry.seal_id && entry.ofd_seal_id.as_ref() != Some(&s.id)) {
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

/// The licence as the authenticated claims state it, with what the register adds.
pub(crate) fn summary(
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
