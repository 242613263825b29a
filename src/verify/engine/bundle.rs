//! A bundle receipt's QR token (办结通知书 of 一件事一次办): its signature and seal, then
//! each licence it names as the register has it, and whether the register's record is
//! still the one the receipt states (`bundle.record`).

use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use super::Engine;
use crate::token::bundle::{BundleClaims, BundleEntryClaim, parse_bundle, verify_bundle};
use crate::verify::checks::seal_checks;
use crate::verify::format::token::authenticate;
use crate::verify::register::Lookup;
use crate::verify::report::{Check, Mode, Outcome, Report, SealSummary, Verdict};
use crate::verify::trust::TrustedSeal;

/// A receipt's token as read: its own checks, and what it states once authentic.
#[derive(Debug)]
pub struct BundleRead {
    checks: Vec<Check>,
    claims: Option<BundleClaims>,
    seal: Option<Arc<TrustedSeal>>,
}

impl BundleRead {
    /// The licences the receipt names, once its token is authentic (none otherwise).
    pub fn licences(&self) -> &[BundleEntryClaim] {
        self.claims.as_ref().map_or(&[], |c| c.licences.as_slice())
    }
}

/// The verification of a bundle receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleReport {
    /// Valid when the receipt is authentic and every licence it names is valid and
    /// unchanged; invalid when anything fails; else indeterminate.
    pub verdict: Verdict,
    /// Online (with the register) or offline.
    pub mode: Mode,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub checked_at: OffsetDateTime,
    /// What the receipt states, once its token is authentic.
    pub bundle: Option<BundleSummary>,
    /// The seal that signed the receipt, once known.
    pub seal: Option<SealSummary>,
    /// The receipt's own checks (its token, its seal).
    pub checks: Vec<Check>,
    /// Each licence the receipt names, verified.
    pub licences: Vec<BundleLicenceReport>,
}

/// One licence a receipt names, and its verification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleLicenceReport {
    /// The identifier the receipt states.
    pub identifier: String,
    /// The licence verified as the register has it, with `bundle.record`.
    pub report: Report,
}

/// The bundle as its receipt states it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleSummary {
    /// The bundle identifier.
    pub id: String,
    /// The matter (一件事) code.
    pub matter_code: String,
    /// The matter name.
    pub matter_name: String,
    /// The applicant.
    pub applicant_name: String,
    /// The applicant's code (masked for persons).
    pub applicant_code: String,
    /// When the bundle was issued (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub issued_at: OffsetDateTime,
}

impl Engine<'_> {
    /// Reads a receipt token given as text (its QR URL or the bare token): well formed,
    /// signed by a trusted seal, the seal valid at the token's date.
    pub fn read_bundle(&self, text: &str) -> BundleRead {
        let parsed = match crate::token::decode_from_url(text).and_then(|bytes| parse_bundle(&bytes)) {
            Ok(parsed) => parsed,
            Err(e) => {
                let check = Check::unreadable(&format!("not a bundle receipt token: {e}"));
                return BundleRead { checks: vec![check], claims: None, seal: None };
            }
        };
        let mut checks =
            vec![Check::pass("input.read", "办结通知书二维码格式正确", "a well-formed bundle receipt token")];
        let holds = |v: &crate::signing::SealVerifier| verify_bundle(&parsed, v).is_ok();
        let Some(seal) = authenticate(self.trust, &parsed.kid, holds, &mut checks) else {
            return BundleRead { checks, claims: None, seal: None };
        };
        let signed = OffsetDateTime::from_unix_timestamp(parsed.claims.issued_at)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let assessment = self.trust.assessment(&seal);
        let register_revocation =
            if self.trust.mode() == Mode::Online { seal.register_revocation } else { None };
        checks.extend(seal_checks(&assessment, register_revocation, signed, false, self.now));
        BundleRead { checks, claims: Some(parsed.claims), seal: Some(seal) }
    }

    /// One licence a receipt names, with the register's answer for it: the licence's own
    /// report, and `bundle.record` — the register's record hash still starts with the
    /// bytes the receipt states.
    pub fn bundle_licence(&self, claim: &BundleEntryClaim, lookup: Lookup) -> BundleLicenceReport {
        let same = lookup.entry().map(|e| e.record_hash.starts_with(&claim.record_hash));
        let mut report = self.finish_identifier(&claim.licence_id, lookup);
        report.checks.push(match same {
            Some(true) => Check::pass(
                "bundle.record",
                "证照库记录与办结通知书所列一致",
                "the register's record is the one the receipt lists",
            ),
            Some(false) => Check::fail(
                "bundle.record",
                "证照库记录与办结通知书所列不一致：证照已被更改",
                "the register's record differs from the one the receipt lists",
            ),
            None => Check::not_checked(
                "bundle.record",
                "无法与证照库记录比对",
                "the register's record could not be compared",
            ),
        });
        report.verdict = verdict(&report.checks, std::slice::from_ref(&report.verdict));
        BundleLicenceReport { identifier: claim.licence_id.clone(), report }
    }

    /// The receipt's report from its reading and its licences' reports.
    pub fn conclude_bundle(&self, read: BundleRead, licences: Vec<BundleLicenceReport>) -> BundleReport {
        let verdicts: Vec<Verdict> = licences.iter().map(|l| l.report.verdict).collect();
        let bundle = read.claims.as_ref().map(|c| BundleSummary {
            id: c.bundle_id.clone(),
            matter_code: c.matter_code.clone(),
            matter_name: c.matter_name.clone(),
            applicant_name: c.applicant_name.clone(),
            applicant_code: c.applicant_code_masked.clone(),
            issued_at: OffsetDateTime::from_unix_timestamp(c.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        });
        BundleReport {
            verdict: verdict(&read.checks, &verdicts),
            mode: self.trust.mode(),
            checked_at: self.moment(),
            bundle,
            seal: read.seal.map(|s| s.summary()),
            checks: read.checks,
            licences,
        }
    }
}

/// Invalid if a check failed or a part is invalid; indeterminate if something could not
/// be checked; else valid.
fn verdict(checks: &[Check], parts: &[Verdict]) -> Verdict {
    if checks.iter().any(|c| c.outcome == Outcome::Failed) || parts.contains(&Verdict::Invalid) {
        Verdict::Invalid
    } else if checks.iter().any(|c| c.outcome == Outcome::NotChecked)
        || parts.contains(&Verdict::Indeterminate)
    {
        Verdict::Indeterminate
    } else {
        Verdict::Valid
    }
}
