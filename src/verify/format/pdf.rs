//! The signed licence PDF (PAdES, see [`crate::pdf`]): its signature, what changed after
//! it, and the QR token it embeds, which must be signed by the same seal and agree with
//! the document information.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Evidence, Read};
use crate::pdf::{self, LaterRevisions, PdfError};
use crate::token::{self, LicenceClaims};
use crate::verify::report::{Check, Subject};
use crate::verify::trust::{SealAssessment, TrustSet, verifier_of_cert};

/// Reads a signed PDF: the `pdf.*` checks and `input.read`; the evidence is the
/// embedded token's claims, authenticated with the PDF's own signing certificate.
pub(crate) fn read(trust: &TrustSet, bytes: &[u8], now: OffsetDateTime) -> Read {
    let mut checks = Vec::new();
    let sig = match pdf::inspect(bytes) {
        Ok(sig) => sig,
        Err(e) => {
            pdf_failure(&e, &mut checks);
            return Read::Stopped(checks);
        }
    };
    for (code, zh, en) in PDF_STAGES {
        checks.push(Check::pass(code, zh, en));
    }
    checks.push(changes_check(&sig.later_revisions));
    let (stamp_checks, proven_time) = super::pdf_stamps::checks(trust, bytes, &sig, now);
    checks.extend(stamp_checks);
    let kid = token::kid_of(&sig.signer_cert_der);
    let seal = trust.seal_by_kid(&kid).filter(|s| s.cert_der == sig.signer_cert_der).cloned();
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
    // With DSS data (or an unknown seal), judge the chain with what the PDF carries too;
    // else the trust set's judgement of the seal stands.
    let assessment = match &seal {
        Some(s) if sig.dss_crls.is_empty() => trust.assessment(s),
        _ => {
            let mut crls = trust.crls().to_vec();
            crls.extend(sig.dss_crls.iter().cloned());
            let mut intermediates = sig.certificates.clone();
            intermediates.extend(sig.dss_certs.iter().cloned());
            // Every CRL known now, also when the report is for an earlier moment.
            let known = trust.built_at.max(now);
            Arc::new(SealAssessment::new(&sig.signer_cert_der, &intermediates, trust.roots(), &crls, known))
        }
    };
    let claimed_signing_time = sig
        .signing_time
        .or_else(|| claims.as_ref().and_then(|c| OffsetDateTime::from_unix_timestamp(c.issued_at).ok()))
        .unwrap_or(now);
    Read::Evidence(Box::new(Evidence {
        subject: Subject::Pdf,
        checks,
        claims,
        seal,
        assessment,
        claimed_signing_time,
        proven_time,
        record_hash: sig.info.get("RecordHash").cloned(),
    }))
}

/// `pdf.changes`: what was added after the signature.
fn changes_check(later: &LaterRevisions) -> Check {
    match later {
        LaterRevisions::None => Check::pass("pdf.changes", "签名后没有修改", "no changes after signing"),
        LaterRevisions::DssOnly => Check::pass(
            "pdf.changes",
            "签名后只添加了验证数据（DSS）",
            "after signing, only validation data (DSS) was added",
        ),
        LaterRevisions::Archival { doc_timestamps } => Check::pass(
            "pdf.changes",
            format!("签名后只添加了验证数据（DSS）和 {doc_timestamps} 个文档时间戳"),
            format!(
                "after signing, only validation data (DSS) and {doc_timestamps} document time-stamp(s) were added"
            ),
        ),
        LaterRevisions::Other(what) => Check::fail(
            "pdf.changes",
            format!("签名后文档被修改（{} 处）", what.len()),
            format!("the document was changed after signing: {}", what.join("; ")),
        ),
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
    let verifier = verifier_of_cert(&sig.signer_cert_der)
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
