//! Verifying as of another moment (`zhengzhao verify --at`, `"at"` of `POST
//! /api/v1/verify`): what a verifier will see then. The moment is parsed and bounded here
//! ([`parse_as_of`]); the engine ([`super::Engine::as_of`]) judges the licence's validity,
//! the certificates and the time-stamps at it, but can only know the register's status and
//! the CRLs as they stand now — the checks built on them say so (`note_known_now`).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::checks::fmt_time;
use super::report::{Check, Outcome};

/// The earliest moment accepted: 2000-01-01T00:00:00Z (before any licence of the platform).
pub const EARLIEST_AS_OF: OffsetDateTime = time::macros::datetime!(2000-01-01 0:00 UTC);

/// How far ahead of now a moment may be: 100 years (36,525 days).
pub const MAX_AS_OF_AHEAD: Duration = Duration::days(36_525);

/// Why a moment to verify at is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsOfError {
    /// Not an RFC 3339 date-time with a zone.
    #[error("{0:?} is not an RFC 3339 time (e.g. 2035-01-01T00:00:00Z)")]
    Malformed(String),
    /// Before [`EARLIEST_AS_OF`].
    #[error("{0} is before 2000-01-01T00:00:00Z")]
    TooEarly(String),
    /// More than [`MAX_AS_OF_AHEAD`] after now.
    #[error("{0} is more than 100 years ahead")]
    TooFar(String),
}

impl AsOfError {
    /// The code an HTTP answer carries (`invalid_at`, whichever the reason).
    pub fn code(&self) -> &'static str {
        "invalid_at"
    }
}

/// Longest text read as a moment (an RFC 3339 time with nanoseconds and an offset is 35).
const MAX_TEXT: usize = 64;

/// Parses an RFC 3339 moment (`2035-01-01T00:00:00Z`, `2035-01-01T08:00:00+08:00`) and
/// checks it is from 2000 on and at most 100 years after `now`; returned in UTC.
pub fn parse_as_of(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, AsOfError> {
    let text = text.trim();
    let shown = || text.chars().take(MAX_TEXT).collect::<String>();
    if text.len() > MAX_TEXT {
        return Err(AsOfError::Malformed(shown()));
    }
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| AsOfError::Malformed(shown()))?
        .to_offset(time::UtcOffset::UTC);
    if at < EARLIEST_AS_OF {
        return Err(AsOfError::TooEarly(shown()));
    }
    if at > now + MAX_AS_OF_AHEAD {
        return Err(AsOfError::TooFar(shown()));
    }
    Ok(at)
}

/// The checks that rest on what is known now, not on the moment judged.
const KNOWN_NOW: [&str; 3] = ["seal.revocation", "register.record", "licence.status"];

/// Adds to the checks made from the register and the CRLs (not those left unchecked) that
/// they say what is known at `now`, not what will be known at `at`.
pub(crate) fn note_known_now(checks: &mut [Check], now: OffsetDateTime, at: OffsetDateTime) {
    for c in checks.iter_mut().filter(|c| KNOWN_NOW.contains(&c.code) && c.outcome != Outcome::NotChecked) {
        c.message_zh.push_str(&format!("（按 {} 时所知，非 {} 时的情况）", fmt_time(now), fmt_time(at)));
        c.message_en.push_str(&format!(
            " (as known at {}, not as it may stand at {})",
            fmt_time(now),
            fmt_time(at)
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use time::macros::datetime;

    use super::*;

    #[test]
    fn moments_parse_in_rfc_3339_within_bounds() {
        let now = datetime!(2026-11-01 12:00 UTC);
        assert_eq!(parse_as_of("2035-01-01T00:00:00Z", now), Ok(datetime!(2035-01-01 0:00 UTC)));
        assert_eq!(parse_as_of(" 2035-01-01T08:00:00+08:00 ", now), Ok(datetime!(2035-01-01 0:00 UTC)));
        assert_eq!(parse_as_of("2000-01-01T00:00:00Z", now), Ok(EARLIEST_AS_OF));
        for bad in [
            "2035-01-01",
            "2035-13-01T00:00:00Z",
            "2035-01-01T00:00:00",
            "tomorrow",
            "",
            "2035-01-01T25:00:00Z",
        ] {
            assert!(matches!(parse_as_of(bad, now), Err(AsOfError::Malformed(_))), "{bad}");
        }
        assert!(
            matches!(parse_as_of(&"9".repeat(1000), now), Err(AsOfError::Malformed(s)) if s.len() == MAX_TEXT)
        );
        assert!(matches!(parse_as_of("1999-12-31T23:59:59Z", now), Err(AsOfError::TooEarly(_))));
        assert!(matches!(parse_as_of("2127-01-01T00:00:00Z", now), Err(AsOfError::TooFar(_))));
        assert_eq!(AsOfError::TooFar(String::new()).code(), "invalid_at");
    }
}
