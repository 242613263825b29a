//! The document formats, one module each: a format reads its bytes with the trust set,
//! makes its own checks (the PDF signature, the token signature, …) and hands the engine
//! [`Evidence`] — the authenticated licence data and the seal that signed them — on which
//! the engine makes the checks every format shares ([`super::checks`]).
//!
//! A new format is a new module here with a `read` that returns [`Read`], one
//! [`super::Input`] variant and one [`super::Subject`] variant, as the OFD's.

pub(crate) mod ofd;
pub(crate) mod pdf;
mod pdf_stamps;
pub(crate) mod token;

use std::sync::Arc;

use time::OffsetDateTime;

use super::report::{Check, Subject};
use super::trust::{SealAssessment, TrustedSeal};
use crate::token::LicenceClaims;

/// What a document yields once its own checks are made.
#[derive(Debug)]
pub(crate) struct Evidence {
    /// What was verified.
    pub(crate) subject: Subject,
    /// The format's checks so far, in report order.
    pub(crate) checks: Vec<Check>,
    /// The licence data, authenticated; `None` when the document carries none that hold.
    pub(crate) claims: Option<LicenceClaims>,
    /// The trusted seal that signed, if the signer is one.
    pub(crate) seal: Option<Arc<TrustedSeal>>,
    /// The judgement of the signer's chain.
    pub(crate) assessment: Arc<SealAssessment>,
    /// When the document says it was signed; the register's date replaces it when the
    /// register holds exactly this licence.
    pub(crate) claimed_signing_time: OffsetDateTime,
    /// The signing time a validated time-stamp proves (it outranks the register's date and
    /// the claim).
    pub(crate) proven_time: Option<super::timestamp::ProvenTime>,
    /// The record hash (hex) the document states beside the licence data, to compare
    /// with the register's.
    pub(crate) record_hash: Option<String>,
}

/// How reading a document ended.
#[derive(Debug)]
pub(crate) enum Read {
    /// A check failed before anything could be authenticated: these are all the checks.
    Stopped(Vec<Check>),
    /// Authenticated (or as far as it goes): the engine goes on with the shared checks.
    Evidence(Box<Evidence>),
}
