//! What verification answers: a [`Report`] — a [`Verdict`] and the ordered [`Check`]s
//! behind it, each with a stable code from [`CHECKS`] and a message in Chinese and
//! English — with summaries of the licence and the seal.

use serde::Serialize;
use time::OffsetDateTime;

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
    /// A signed OFD (GB/T 33190 with a GB/T 38540 seal signature).
    Ofd,
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
    ("ofd.structure", "OFD 文件结构", "OFD package structure"),
    ("ofd.signature_found", "OFD 电子签章", "OFD seal signature present"),
    ("ofd.references", "文件摘要", "Package file digests"),
    ("ofd.coverage", "签章覆盖范围", "Every package file signed"),
    ("ofd.data_hash", "签章描述摘要", "Signature description digest"),
    ("ofd.signature", "电子签章签名值", "Seal signature value"),
    ("ofd.seal_maker", "制章者签名", "Seal maker's signature"),
    ("ofd.seal_maker_chain", "制章者证书", "Seal maker trusted"),
    ("ofd.seal_validity", "印章有效期", "Seal validity period"),
    ("ofd.seal_signer", "签章人证书", "Signer certificate listed in the seal"),
    ("token.signer", "签名印章", "Signing seal known"),
    ("token.signature", "二维码签名", "QR token signature"),
    ("pdf.token", "PDF 与二维码一致", "PDF and QR token agree"),
    ("ofd.token", "OFD 与二维码一致", "OFD and QR token agree"),
    ("pdf.timestamp", "签名时间戳", "Signature time-stamp"),
    ("pdf.archive", "长期验证数据与文档时间戳", "Long-term validation data and document time-stamps"),
    ("ofd.timestamp", "电子签章时间戳", "Seal signature time-stamp"),
    ("seal.chain", "印章证书链", "Seal certificate chain"),
    ("seal.revocation", "印章吊销状态", "Seal revocation status"),
    ("issuer.authorised", "颁证单位权限", "Issuer authorised for this type"),
    ("licence.identifier", "证照标识", "Licence identifier"),
    ("register.record", "证照库记录", "Register record"),
    ("licence.validity", "有效期", "Validity period"),
    ("licence.status", "证照状态", "Licence status"),
    ("bundle.record", "与办结通知书一致", "Licence as the receipt lists it"),
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

    pub(crate) fn pass(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::Passed, zh, en)
    }

    pub(crate) fn fail(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::Failed, zh, en)
    }

    pub(crate) fn not_checked(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(code, Outcome::NotChecked, zh, en)
    }

    /// `input.read` failed: the input is not what it claims to be.
    pub(crate) fn unreadable(why: &str) -> Self {
        Self::fail("input.read", format!("无法读取：{why}"), format!("unreadable: {why}"))
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
    /// When the licence was signed, and what says so (absent when verification stopped
    /// before the signature was authenticated).
    pub signing_time: Option<SigningTime>,
    /// The checks, in order.
    pub checks: Vec<Check>,
}

/// What a signing time rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeBasis {
    /// A validated time-stamp from a trusted time-stamping authority.
    TimeStamp,
    /// The register's date of issue (online, the register holds exactly this licence).
    Register,
    /// Only the signer's own claim (`/M`, the token's date, the seal signature's time).
    Claimed,
}

/// The signing time of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SigningTime {
    /// The time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub time: OffsetDateTime,
    /// What it rests on.
    pub basis: TimeBasis,
    /// The time-stamping authority's certificate subject, for a time-stamp.
    pub tsa: Option<String>,
}

impl Report {
    pub(crate) fn new(subject: Subject, mode: Mode, now: OffsetDateTime, checks: Vec<Check>) -> Self {
        let verdict = if checks.iter().any(|c| c.outcome == Outcome::Failed) {
            Verdict::Invalid
        } else if checks.is_empty() || checks.iter().any(|c| c.outcome == Outcome::NotChecked) {
            Verdict::Indeterminate
        } else {
            Verdict::Valid
        };
        Self {
            verdict,
            subject,
            mode,
            checked_at: now,
            licence: None,
            seal: None,
            signing_time: None,
            checks,
        }
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
