//! The GB/T 38540 side of an OFD's seal signatures: each `SignedValue.dat` read as an
//! `SES_Signature` ([`crate::ses`]) and checked — `dataHash` against `Signature.xml` as
//! stored, the signature over `TBS_Sign`, the seal maker's signature and chain, the seal's
//! validity at the signing time, and the signer being the certificate the seal lists. The
//! signing time is the one its time-stamp proves (`stamp.rs`), else the one it states.

use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use super::stamp::{self, Stamp};
use crate::ofd::SignatureInspection;
use crate::ses::{self, SignatureFacts};
use crate::verify::report::Check;
use crate::verify::timestamp::ProvenTime;
use crate::verify::trust::TrustSet;

/// The seal signatures read; `first` is the licence's.
pub(super) struct SesRead {
    /// The first signature's facts.
    pub(super) first: SignatureFacts,
    /// `ofd.timestamp`, for the caller to place in report order.
    pub(super) stamp_check: Check,
    /// The signing time of the first signature that its time-stamp proves.
    pub(super) proven: Option<ProvenTime>,
}

/// One check's outcome for one signature: `Ok(message)` or `Err(message)`, English.
type Outcome = Result<String, String>;

/// Reads and checks every seal signature, appending `ofd.data_hash`, `ofd.signature`,
/// `ofd.seal_maker`, `ofd.seal_maker_chain`, `ofd.seal_validity` and `ofd.seal_signer`
/// (each failing when any signature fails it), and judging `ofd.timestamp`. `None` when a
/// `SignedValue.dat` is no `SES_Signature` (then `ofd.signature` says so and nothing more
/// can be checked).
pub(super) fn read_all(
    trust: &TrustSet,
    seals: &[&SignatureInspection],
    now: OffsetDateTime,
    checks: &mut Vec<Check>,
) -> Option<SesRead> {
    let mut facts = Vec::with_capacity(seals.len());
    for s in seals {
        match ses::read_signature(s.signed_value.as_deref().unwrap_or_default()) {
            Ok(f) => facts.push(f),
            Err(e) => {
                checks.push(Check::fail(
                    "ofd.signature",
                    format!("电子签章数据无法读取：{e}"),
                    format!(
                        "signature {}: SignedValue is no readable SES_Signature: {e} ({})",
                        s.id,
                        e.code()
                    ),
                ));
                return None;
            }
        }
    }
    let stamps: Vec<Stamp> = facts.iter().map(|f| stamp::judge(trust, f, now)).collect();
    let results: Vec<[Outcome; 6]> = seals
        .iter()
        .zip(&facts)
        .zip(&stamps)
        .map(|((s, f), stamp)| judge(trust, s, f, stamp.proven().map(|p| p.time), now))
        .collect();
    for (i, (code, zh_pass, zh_fail)) in TITLES.iter().enumerate() {
        let failed: Vec<String> = seals
            .iter()
            .zip(&results)
            .filter_map(|(s, r)| r[i].as_ref().err().map(|e| format!("signature {}: {e}", s.id)))
            .collect();
        let check = if failed.is_empty() {
            let passed: Vec<&str> = results.iter().filter_map(|r| r[i].as_deref().ok()).collect();
            Check::pass(code, *zh_pass, passed.join("; "))
        } else {
            Check::fail(code, format!("{zh_fail}：{}", failed.join("；")), failed.join("; "))
        };
        checks.push(check);
    }
    let stamp_check = stamp::check(seals, &stamps);
    let proven = stamps.first().and_then(Stamp::proven).cloned();
    facts.into_iter().next().map(|first| SesRead { first, stamp_check, proven })
}

/// Codes with their Chinese messages when passing and failing, in [`judge`]'s order.
const TITLES: [(&str, &str, &str); 6] = [
    ("ofd.data_hash", "签章描述文件（Signature.xml）未被改动", "签章描述文件被改动"),
    ("ofd.signature", "电子签章签名值有效（SM2/SM3）", "电子签章签名值无效"),
    ("ofd.seal_maker", "印章数据由制章者签名，未被改动", "印章数据的制章者签名无效"),
    ("ofd.seal_maker_chain", "制章者证书由平台根证书签发", "制章者不受信任"),
    ("ofd.seal_validity", "签章时印章在有效期内", "签章时印章不在有效期内"),
    ("ofd.seal_signer", "签章人证书是印章所列证书", "签章人证书不是印章所列证书"),
];

/// The six outcomes for one signature, at the signing time its time-stamp proves (`proven`)
/// or, without one, the time it states.
fn judge(
    trust: &TrustSet,
    s: &SignatureInspection,
    f: &SignatureFacts,
    proven: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> [Outcome; 6] {
    let at = proven.or(f.time).or_else(|| s.signature_time.map(|t| t.assume_utc())).unwrap_or(now);
    let maker = &f.seal.maker_cert_der;
    let maker_name = crate::pki::cert_info(maker).map_or_else(|_| "?".to_owned(), |i| i.subject);
    [
        data_hash(s, f),
        f.verify_signature()
            .map(|()| {
                format!("the SM2 signature over TBS_Sign holds (seal {:?}, v{})", f.seal.name, f.version)
            })
            .map_err(|e| format!("{e} ({})", e.code())),
        f.verify_maker_signature()
            .map(|()| {
                format!("the seal maker {maker_name} signed the seal {:?} and it is unaltered", f.seal.es_id)
            })
            .map_err(|e| format!("{e} ({})", e.code())),
        trust
            .seal_maker_chain(maker, at)
            .map(|_| format!("the seal maker {maker_name} chains to a trusted root"))
            .map_err(|e| format!("the seal maker {maker_name} is not trusted: {e} ({})", e.code())),
        f.seal
            .check_valid_at(at)
            .map(|()| {
                format!(
                    "the seal was valid at the signing time ({} to {})",
                    f.seal.valid_start, f.seal.valid_end
                )
            })
            .map_err(|e| format!("{e} ({})", e.code())),
        f.signer_listed_in_seal()
            .map(|()| "the signer certificate is one the seal lists".to_owned())
            .map_err(|e| format!("{e} ({})", e.code())),
    ]
}

/// `dataHash` is SM3 of `Signature.xml` exactly as stored, and `propertyInfo` names it.
fn data_hash(s: &SignatureInspection, f: &SignatureFacts) -> Outcome {
    let xml = s.signature_xml.as_deref().unwrap_or_default();
    if Sm3::digest(xml).as_slice() != f.data_hash.as_slice() {
        return Err(
            "dataHash is not the SM3 of Signature.xml as stored: it was changed after signing".to_owned()
        );
    }
    let path = s.path.as_deref().unwrap_or_default();
    if f.property_info.trim_start_matches('/') != path.trim_start_matches('/') {
        return Err(format!("propertyInfo {:?} names another file than {path:?}", f.property_info));
    }
    Ok(format!("dataHash is the SM3 of {path} as stored"))
}
