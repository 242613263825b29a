//! `ofd.timestamp`: the time-stamp a GB/T 38540 seal signature carries in `timeStamp` — an
//! RFC 3161 token over the signature value — validated as every document time-stamp is
//! ([`crate::verify::timestamp::validate`]). A valid one proves when the signature existed
//! and becomes the signing time.
//!
//! The check fails only when a time-stamp is there and is not one: a token of an
//! untrusted TSA, over other data, unreadable, or whose TSA certificate was not valid (or
//! already revoked) when it stamped. A signature without a time-stamp passes with what
//! that means — the signing time is the signer's claim (online, the register's date) —
//! so that older licences keep their verdict. So does a time-stamp that held when it was
//! made but proves nothing any more (its TSA certificate has since expired, or was
//! revoked for key compromise, and nothing renews it): it is then as if absent.

use time::OffsetDateTime;

use crate::ofd::SignatureInspection;
use crate::ses::SignatureFacts;
use crate::verify::checks::fmt_time;
use crate::verify::report::Check;
use crate::verify::timestamp::{self, ProvenTime, StampFailure};
use crate::verify::trust::TrustSet;

/// What one signature's `timeStamp` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stamp {
    /// No `timeStamp`.
    Absent,
    /// A valid time-stamp: the time it proves.
    Proven(ProvenTime),
    /// Valid when made, but it proves nothing any more: why (Chinese, English).
    Lapsed(StampFailure),
    /// Not a valid time-stamp of this signature: why (Chinese, English).
    Invalid(StampFailure),
}

impl Stamp {
    /// The time it proves, if it does.
    pub(super) fn proven(&self) -> Option<&ProvenTime> {
        match self {
            Self::Proven(p) => Some(p),
            _ => None,
        }
    }
}

/// Judges the time-stamp of the signature `f` for a verifier at `now`: over exactly the
/// signature value (the content of its `signature` BIT STRING).
pub(super) fn judge(trust: &TrustSet, f: &SignatureFacts, now: OffsetDateTime) -> Stamp {
    let Some(token) = f.timestamp.as_deref() else { return Stamp::Absent };
    let parts: [&[u8]; 1] = [&f.signature];
    match timestamp::validate(trust, token, &parts, &[], &[], None, now) {
        Ok((_, proven)) => Stamp::Proven(proven),
        // Proven to exist at the earliest moment, would it hold? Then it held when it was
        // made, and only its TSA certificate's later expiry (or revocation for key
        // compromise after the stamp) keeps it from proving anything now.
        Err(why) => {
            match timestamp::validate(trust, token, &parts, &[], &[], Some(OffsetDateTime::UNIX_EPOCH), now) {
                Ok(_) => Stamp::Lapsed(why),
                Err(_) => Stamp::Invalid(why),
            }
        }
    }
}

/// `ofd.timestamp` over every seal signature's stamp (`stamps` in the order of `seals`):
/// failed when any is invalid; else passed, saying what the licence's (first) signing
/// time rests on.
pub(super) fn check(seals: &[&SignatureInspection], stamps: &[Stamp]) -> Check {
    let invalid: Vec<(String, String)> = seals
        .iter()
        .zip(stamps)
        .filter_map(|(s, stamp)| match stamp {
            Stamp::Invalid((zh, en)) => {
                Some((format!("签章 {}：{zh}", s.id), format!("signature {}: {en}", s.id)))
            }
            _ => None,
        })
        .collect();
    if !invalid.is_empty() {
        let (zh, en): (Vec<String>, Vec<String>) = invalid.into_iter().unzip();
        return Check::fail(
            "ofd.timestamp",
            format!("电子签章时间戳无效：{}", zh.join("；")),
            format!("the seal signature's time-stamp is not valid: {}", en.join("; ")),
        );
    }
    let (zh, en) = match stamps.first().unwrap_or(&Stamp::Absent) {
        Stamp::Proven(p) => (
            format!("时间戳服务机构 {} 证明签章于 {} 已存在，以此为签章时间", p.tsa, fmt_time(p.time)),
            format!(
                "time-stamped by {} at {}: the signing time rests on the time-stamp",
                p.tsa,
                fmt_time(p.time)
            ),
        ),
        Stamp::Lapsed((zh, en)) => (
            format!("时间戳签发时有效，但已不能证明签章时间（{zh}）；如同没有时间戳，签章时间为签章人自述的时间（在线核验时以证照库登记时间为准）"),
            format!(
                "the time-stamp was valid when made but proves nothing any more ({en}): as without one, the signing time is the signer's own claim (online, the register's date)"
            ),
        ),
        Stamp::Absent | Stamp::Invalid(_) => (
            "电子签章没有时间戳：签章时间为签章人自述的时间（在线核验时以证照库登记时间为准）".to_owned(),
            "the seal signature carries no time-stamp: the signing time is the signer's own claim (online, the register's date)"
                .to_owned(),
        ),
    };
    Check::pass("ofd.timestamp", zh, en)
}
