//! The legal basis of a read, check or download, decided from the request and the
//! identifier alone (its issuer and type) before the register is consulted, so that a
//! client without a basis gets the same refusal whether or not the licence exists.

use sha2::{Digest, Sha256};

use crate::codes::LicenceId;
use crate::store::{AuthorisationRecord, ClientRecord, LicenceRow};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::access::Subject;

/// Longest `X-Matter-Code`, in characters.
pub(super) const MAX_MATTER: usize = 64;

/// The stored hash of a holder authorisation code.
pub(in crate::platform) fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_ascii_uppercase().as_bytes()))
}

/// What a licence is asked for by.
pub(super) enum Target<'a> {
    /// Its identifier (well-formed: the issuer and type are read from it).
    Id(&'a LicenceId),
    /// The current licence of a type held by a holder.
    Holder {
        /// The holder's code.
        code: &'a str,
        /// The holder's code type, if given.
        code_type: Option<&'a str>,
        /// The licence type.
        type_code: &'a str,
    },
}

/// A basis granted before the register is consulted; `Register::confirm` turns it into
/// a [`Basis`] once the licence is found.
pub(super) enum Grant {
    /// The holder's authorisation (used once the licence is found).
    Holder {
        /// The code's hash, to take one use.
        hash: String,
        /// The authorisation.
        auth: AuthorisationRecord,
    },
    /// The client's department issued the licence the identifier names.
    Issuer,
    /// The client's duty covers the type, in this matter.
    Duty(String),
    /// A check by holder without a duty or authorisation: only licences the client's own
    /// department issued are looked at; none found is the same refusal as no basis.
    OwnOnly,
}

/// The one refusal for want of a legal basis, whatever the licence.
pub(super) fn no_basis() -> PlatformError {
    PlatformError::Forbidden(
        "no legal basis: present the holder's X-Authorisation-Code, or the X-Matter-Code of the matter your \
         duty covers"
            .into(),
    )
}

/// Whether the client reads at all (query or check scope).
pub(super) fn reads(client: &ClientRecord) -> bool {
    has_scope(client, Scope::Query) || has_scope(client, Scope::Check)
}

/// A path identifier as the register keys it; anything else names no licence (404 for
/// every client: a malformed identifier reveals nothing).
pub(super) fn parse_id(id: &str) -> Result<LicenceId, PlatformError> {
    LicenceId::parse(id.trim()).map_err(|_| PlatformError::NotFound("licence".into()))
}

/// Checks that a code a request names (and the access log will keep) is 1–`max` ASCII
/// letters, digits or hyphens.
pub(super) fn plain_code(field: &'static str, value: &str, max: usize) -> Result<(), PlatformError> {
    let value = value.trim();
    let plain = value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if value.is_empty() || value.len() > max || !plain {
        return Err(PlatformError::InvalidInput {
            field,
            message: format!("1–{max} ASCII letters, digits or hyphens"),
        });
    }
    Ok(())
}

/// The access log's licence fields for what a request named, before any lookup.
pub(super) fn asked(target: &Target<'_>) -> Subject {
    match target {
        Target::Id(id) => (id.as_str().to_owned(), String::new(), String::new()),
        Target::Holder { code, code_type, .. } => {
            (String::new(), code_type.unwrap_or_default().to_owned(), (*code).to_owned())
        }
    }
}

/// The access log's licence fields for a licence found.
pub(super) fn found(row: &LicenceRow) -> Subject {
    (row.licence.id.clone(), row.licence.holder_code_type.clone(), row.licence.holder_code.clone())
}
