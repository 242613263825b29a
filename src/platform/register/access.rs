//! Who reads the register, why, and the access log entry every read, check, change and
//! refusal leaves.

use time::OffsetDateTime;

use crate::audit::AccessEntry;
use crate::store::ClientRecord;

use super::super::error::PlatformError;
use super::super::limits::MAX_PURPOSE;

/// Who is asking, why, and on what legal basis.
#[derive(Debug, Clone)]
pub struct Access {
    /// The client.
    pub client: ClientRecord,
    /// `X-Purpose`.
    pub purpose: Option<String>,
    /// `X-Authorisation-Code`: the holder's authorisation.
    pub authorisation_code: Option<String>,
    /// `X-Matter-Code`: the matter (事项) handled, for a duty-based read.
    pub matter_code: Option<String>,
}

/// The basis a read was allowed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The department that issued the licence.
    Issuer,
    /// The holder authorised it.
    HolderAuthorisation,
    /// The client's duty for this licence type, in a matter.
    Duty(String),
}

impl Basis {
    /// The access log's name of the basis.
    pub(super) fn label(&self) -> String {
        match self {
            Self::Issuer => "issuer".into(),
            Self::HolderAuthorisation => "holder-authorisation".into(),
            Self::Duty(matter) => format!("duty:{matter}"),
        }
    }

    /// Whether the holder's code may be shown unmasked.
    pub(super) fn full_disclosure(&self) -> bool {
        matches!(self, Self::Issuer | Self::HolderAuthorisation)
    }
}

/// The licence fields of an access log entry: identifier, holder code type, holder code
/// (each empty when the request did not name it).
pub(super) type Subject = (String, String, String);

/// What an access log entry says about one request, its outcome aside.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attempt<'a> {
    /// The client, or `None` for the operator.
    pub(super) client: Option<&'a ClientRecord>,
    /// `read`, `pdf`, `list`, `check`, `status`, `history`.
    pub(super) action: &'a str,
    /// The stated purpose (for a status change, its reason).
    pub(super) purpose: Option<&'a str>,
    /// The basis it was allowed on.
    pub(super) basis: Option<&'a Basis>,
    /// The licence named or found.
    pub(super) subject: Option<&'a Subject>,
}

impl Attempt<'_> {
    /// The entry for `result` (an outcome code or a status code); its sequence number is
    /// given when it is appended.
    pub(super) fn entry(&self, result: &str, now: OffsetDateTime) -> AccessEntry {
        AccessEntry {
            seq: 0,
            at: now.unix_timestamp(),
            client_id: self.client.map(|c| c.id.clone()),
            department_code: self.client.map(|c| c.department_code.clone()),
            action: self.action.to_owned(),
            purpose: self.purpose.map(str::to_owned),
            basis: self.basis.map(Basis::label),
            licence_id: self.subject.map(|l| l.0.clone()),
            holder_code_type: self.subject.map(|l| l.1.clone()),
            holder_code: self.subject.map(|l| l.2.clone()),
            result: result.to_owned(),
            assertion_id: None,
            auth_level: None,
        }
    }
}

/// Checks the stated purpose: 1–[`MAX_PURPOSE`] characters without control characters.
pub(super) fn check_purpose(purpose: Option<&str>) -> Result<String, PlatformError> {
    let p = purpose.map(str::trim).unwrap_or_default();
    let n = p.chars().count();
    if n == 0 {
        return Err(PlatformError::InvalidInput {
            field: "X-Purpose",
            message: "state the purpose of this access".into(),
        });
    }
    if n > MAX_PURPOSE || p.chars().any(char::is_control) {
        return Err(PlatformError::InvalidInput {
            field: "X-Purpose",
            message: format!("must be 1–{MAX_PURPOSE} characters without control characters"),
        });
    }
    Ok(p.to_owned())
}
