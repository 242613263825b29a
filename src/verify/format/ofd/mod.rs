//! The signed licence OFD (GB/T 33190 with GB/T 38540 seal signatures, see [`crate::ofd`]
//! and [`crate::ses`]): the package read within limits, then for every seal signature its
//! reference digests, what it leaves uncovered, `dataHash`, the signature over `TBS_Sign`,
//! the seal inside (maker's signature and chain, validity, signer listed), and the QR
//! token in the metadata, which must agree with the signer and the metadata, and the
//! signature's time-stamp (`ofd.timestamp`), whose time, when it holds, is the signing time.
//!
//! Every signature must hold (a file one signature excuses from its coverage — another
//! signature's own files — is only as good as that signature); the first is the licence's,
//! whose signer the engine judges (`seal.chain`, `seal.revocation`) at its signing time.

mod seal;
mod stamp;
mod token;

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Evidence, Read};
use crate::ofd::{self, Finding, OfdError, OfdInspection, ReadLimits, SignatureInspection};
use crate::verify::report::{Check, Subject};
use crate::verify::trust::{SealAssessment, TrustSet};

/// The OFD error codes that mean "beyond the package limits" rather than "not an OFD".
const TOO_COMPLEX: [&str; 8] = [
    "ofd_input_too_large",
    "ofd_too_many_entries",
    "ofd_entry_too_large",
    "ofd_total_too_large",
    "ofd_compression_ratio",
    "ofd_xml_too_large",
    "ofd_xml_too_deep",
    "ofd_xml_too_many_nodes",
];

/// Whether an OFD error code (as the English message of `input.read` ends with it) says
/// the package is beyond the limits.
pub(crate) fn is_too_complex(code: &str) -> bool {
    TOO_COMPLEX.contains(&code)
}

/// Reads a signed OFD: `input.read`, the `ofd.*` checks; the evidence is the embedded
/// token's claims, checked against the first seal signature's signer.
pub(crate) fn read(trust: &TrustSet, bytes: &[u8], now: OffsetDateTime) -> Read {
    let inspection = match ofd::inspect(bytes, &ReadLimits::default()) {
        Ok(i) => i,
        Err(e) => return Read::Stopped(vec![unreadable(&e)]),
    };
    let mut checks = vec![Check::pass("input.read", "OFD 文件可读", "a readable OFD package")];
    checks.push(structure_check(&inspection));
    let seals: Vec<&SignatureInspection> =
        inspection.signatures.iter().filter(|s| s.kind.as_deref().is_none_or(|k| k == "Seal")).collect();
    let Some(first) = seals.first() else {
        checks.push(Check::fail(
            "ofd.signature_found",
            "OFD 没有电子签章",
            "the OFD carries no seal signature (Type=\"Seal\")",
        ));
        return Read::Stopped(checks);
    };
    if let Some(missing) = seals.iter().find_map(|s| signature_files_missing(s)) {
        checks.push(Check::fail("ofd.signature_found", "电子签章文件不完整", missing));
        return Read::Stopped(checks);
    }
    checks.push(Check::pass(
        "ofd.signature_found",
        format!("找到 {} 个电子签章", seals.len()),
        format!("{} seal signature(s) (GB/T 38540) found", seals.len()),
    ));
    checks.push(references_check(&seals));
    checks.push(coverage_check(&seals));
    let read = match seal::read_all(trust, &seals, now, &mut checks) {
        Some(read) => read,
        None => return Read::Stopped(checks),
    };
    let signer_cert = read.first.signer_cert_der.clone();
    let kid = crate::token::kid_of(&signer_cert);
    let trusted = trust.seal_by_kid(&kid).filter(|s| s.cert_der == signer_cert).cloned();
    let claims = token::check(trust, &inspection, &signer_cert, trusted.as_deref(), &mut checks);
    checks.push(read.stamp_check);
    // Every CRL known now, also when the report is for an earlier moment.
    let known = trust.built_at.max(now);
    let assessment = match &trusted {
        Some(s) => trust.assessment(s),
        None => Arc::new(SealAssessment::new(&signer_cert, &[], trust.roots(), trust.crls(), known)),
    };
    let claimed_signing_time = read
        .first
        .time
        .or_else(|| first.signature_time.map(|t| t.assume_utc()))
        .or_else(|| claims.as_ref().and_then(|c| OffsetDateTime::from_unix_timestamp(c.issued_at).ok()))
        .unwrap_or(now);
    Read::Evidence(Box::new(Evidence {
        subject: Subject::Ofd,
        checks,
        claims,
        seal: trusted,
        assessment,
        claimed_signing_time,
        proven_time: read.proven,
        record_hash: token::metadata(&inspection, "RecordHash"),
    }))
}

/// `input.read` failed: the English message ends with the error's code, so that the
/// answer can tell "beyond the limits" from "not an OFD".
fn unreadable(e: &OfdError) -> Check {
    Check::fail("input.read", format!("无法读取 OFD：{e}"), format!("not a readable OFD: {e} ({})", e.code()))
}

/// `ofd.structure`: what is wrong with the package as a whole and in each signature's
/// `SignedInfo` (not its digests or coverage, which have their own checks).
fn structure_check(inspection: &OfdInspection) -> Check {
    let own = |f: &Finding| {
        matches!(
            f,
            Finding::PageMissing { .. }
                | Finding::SignaturesUnreadable { .. }
                | Finding::TooManySignatures { .. }
                | Finding::CustomTagsUnreadable { .. }
                | Finding::ExtraDocuments { .. }
                | Finding::SignatureMethodUnknown { .. }
                | Finding::SignatureTimeUnreadable { .. }
                | Finding::StampAnnotInvalid { .. }
        )
    };
    let found: Vec<String> = inspection
        .findings
        .iter()
        .chain(inspection.signatures.iter().flat_map(|s| &s.findings))
        .filter(|f| own(f))
        .map(|f| format!("{f} ({})", f.code()))
        .collect();
    if found.is_empty() {
        let pages = inspection.document.pages.len();
        Check::pass(
            "ofd.structure",
            format!("OFD 文件结构完整（{pages} 页）"),
            format!("the OFD package is well formed ({pages} page(s))"),
        )
    } else {
        Check::fail("ofd.structure", format!("OFD 文件结构有误：{}", found.join("；")), found.join("; "))
    }
}

/// Why a signature lacks the files a seal signature consists of, if it does.
fn signature_files_missing(s: &SignatureInspection) -> Option<String> {
    s.findings
        .iter()
        .find(|f| {
            matches!(
                f,
                Finding::SignatureXmlMissing { .. }
                    | Finding::SignatureXmlUnreadable { .. }
                    | Finding::SignedValueMissing { .. }
            )
        })
        .map(|f| format!("signature {}: {f} ({})", s.id, f.code()))
}

/// The findings of `seals` that `pick` selects, as "signature N: what (code)".
fn findings_of(seals: &[&SignatureInspection], pick: impl Fn(&Finding) -> bool) -> Vec<String> {
    seals
        .iter()
        .flat_map(|s| {
            s.findings
                .iter()
                .filter(|f| pick(f))
                .map(move |f| format!("signature {}: {f} ({})", s.id, f.code()))
        })
        .collect()
}

/// `ofd.references`: every file a signature names has the SM3 digest it states.
fn references_check(seals: &[&SignatureInspection]) -> Check {
    let bad = findings_of(seals, |f| {
        matches!(
            f,
            Finding::ReferenceMismatch { .. }
                | Finding::ReferenceMissingFile { .. }
                | Finding::ReferenceBadPath { .. }
                | Finding::ReferenceBadCheckValue { .. }
                | Finding::NoReferences
                | Finding::CheckMethodUnsupported { .. }
        )
    });
    let count: usize = seals.iter().map(|s| s.references.len()).sum();
    if bad.is_empty() {
        Check::pass(
            "ofd.references",
            format!("签章覆盖的 {count} 个文件摘要（SM3）全部一致，内容未被篡改"),
            format!("all {count} referenced files match their SM3 digests: nothing signed was changed"),
        )
    } else {
        Check::fail(
            "ofd.references",
            format!("签章后文件被篡改：{}", bad.join("；")),
            format!("files changed after signing: {}", bad.join("; ")),
        )
    }
}

/// `ofd.coverage`: no file of the package is outside every signature (but the
/// signatures' own files).
fn coverage_check(seals: &[&SignatureInspection]) -> Check {
    let bad =
        findings_of(seals, |f| matches!(f, Finding::FileNotCovered { .. } | Finding::PageNotCovered { .. }));
    if bad.is_empty() {
        Check::pass(
            "ofd.coverage",
            "签章覆盖文件包中除签章文件外的全部文件",
            "the signature covers every file of the package but its own",
        )
    } else {
        Check::fail(
            "ofd.coverage",
            format!("文件包中有未经签章的文件：{}", bad.join("；")),
            format!("files not covered by the signature: {}", bad.join("; ")),
        )
    }
}
