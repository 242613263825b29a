//! One verification engine for everything a verifier can hold: a QR token (or its URL), a
//! signed PDF, or a licence identifier. Each gives a [`Report`]: a verdict and the ordered
//! list of checks that led to it, each with a stable code and a message in Chinese and
//! English, in the spirit of ETSI validation reports (EN 319 102-1).
//!
//! The engine is synchronous and does no I/O (sans-I/O, as rustls's core): it works in
//! two phases. [`Engine::read`] reads the [`Input`] with a [`TrustSet`] into a [`Step`]:
//! either a finished report or a [`Pending`] one naming the licence it needs from the
//! register; the caller looks that up and [`Engine::finish`] ends the report with the
//! [`Lookup`]. Two modes share every check:
//! - **online**, with an online trust set (the store's current seals and CRLs) and the
//!   register: the licence's status is checked, and the register entry proves when the
//!   licence was issued;
//! - **offline**, with a trust set from a trust list (and optionally a cached CRL), or a
//!   lookup answered [`Lookup::Offline`]: the status is reported as not checked, so the
//!   verdict is at best `indeterminate`.
//!
//! Verdict: any failed check makes the licence `invalid`; otherwise any check that could
//! not be made makes it `indeterminate`; only when every check passed is it `valid`.
//!
//! A report can be asked as of another moment ([`Engine::as_of`], [`as_of`]): what a
//! verifier will see then, with the register and the CRLs as known now.
//!
//! Files: `report` (what the answer says), `register` (the register as the engine sees
//! it), `trust` (the trust set), `checks` (the checks every format shares), `format/`
//! (one module per document format: `token`, `pdf`, `ofd`), `timestamp` (time-stamps
//! inside documents), `engine` (the two phases), `as_of` (the moment judged),
//! `trustlist` (the signed trust list offline verifiers use).

pub mod as_of;
mod checks;
mod engine;
mod format;
mod register;
mod report;
mod timestamp;
mod trust;
pub mod trustlist;

pub use engine::{
    BundleLicenceReport, BundleRead, BundleReport, BundleSummary, Engine, Input, Pending, Step,
};

/// Whether an OFD error code says the package is beyond the reader's limits (an answer of
/// `ofd_too_complex`) rather than unreadable.
pub fn ofd_too_complex(code: &str) -> bool {
    format::ofd::is_too_complex(code)
}
pub use register::{Lookup, RegisterEntry};
pub use report::{
    CHECKS, Check, LicenceSummary, Mode, Outcome, Report, SealSummary, SigningTime, Subject, TimeBasis,
    Verdict,
};
pub use trust::{SealAssessment, SealSource, TrustSet, TrustedSeal, spki_of_cert};
