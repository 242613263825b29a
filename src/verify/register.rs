//! The register as the engine sees it: the caller looks a licence up (the engine does no
//! I/O) and answers a pending report with a [`Lookup`].

use time::OffsetDateTime;

use crate::licence::LicenceStatus;

/// A licence as the register holds it, for the online checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// 电子证照标识.
    pub identifier: String,
    /// Stored status.
    pub status: LicenceStatus,
    /// The version that replaced it.
    pub superseded_by: Option<String>,
    /// When its status last changed or it was replaced (`None` while it is in force).
    pub status_since: Option<OffsetDateTime>,
    /// SHA-256 of the record.
    pub record_hash: Vec<u8>,
    /// When the register recorded it (proof that it existed then).
    pub issued_at: OffsetDateTime,
    /// The seal that signed it (its token, and its PDF or, alone, its OFD).
    pub seal_id: String,
    /// The SM2 seal that signed its OFD, if it has one (for an OFD alone, `seal_id`).
    pub ofd_seal_id: Option<String>,
    /// Holder name.
    pub holder_name: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`; `None` for long-term.
    pub valid_until: Option<String>,
    /// The stored token.
    pub token: Vec<u8>,
    /// Type name.
    pub type_name: Option<String>,
    /// Fields to show (label, value), personal codes masked.
    pub fields: Vec<(String, String)>,
}

/// What the caller found in the register for the identifier a pending report names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The register's entry.
    Found(Box<RegisterEntry>),
    /// The register has no such licence.
    Missing,
    /// The register could not be read: the checks that need it are not made.
    Unavailable,
    /// No register was consulted: the report is finished offline.
    Offline,
}

impl Lookup {
    /// The entry, when one was found.
    pub(crate) fn entry(&self) -> Option<&RegisterEntry> {
        match self {
            Self::Found(entry) => Some(entry),
            _ => None,
        }
    }
}
