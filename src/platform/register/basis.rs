//! The legal basis of a read, check or download, decided from the request and the
//! identifier alone (its issuer and type) before the register is consulted, so that a
//! client without a basis gets the same refusal whether or not the licence exists.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::codes::LicenceId;
use crate::licence::TypeScope;
use crate::store::{AuthorisationRecord, ClientRecord, LicenceRow, StoreError};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::Register;
use super::access::{Access, Subject};

/// Longest `X-Matter-Code`, in characters.
const MAX_MATTER: usize = 64;

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

/// A basis granted before the register is consulted; [`Register::confirm`] turns it into
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

impl Register {
    /// Decides the basis for `access` to read or check `target` without looking the
    /// licence up: a refusal here is the same whether or not the licence exists.
    pub(super) async fn grant(&self, access: &Access, target: &Target<'_>) -> Result<Grant, PlatformError> {
        let client = &access.client;
        let reads = reads(client);
        if let Some(code) = &access.authorisation_code {
            let hash = code_hash(code);
            let auth = self
                .store
                .authorisation(&hash)
                .await?
                .ok_or_else(|| PlatformError::Forbidden("unknown authorisation code".into()))?;
            if auth.relying_department.as_ref().is_some_and(|d| *d != client.department_code) {
                return Err(PlatformError::Forbidden("the authorisation is for another department".into()));
            }
            if !reads {
                return Err(PlatformError::Forbidden("this client lacks the query or check scope".into()));
            }
            let covers = match target {
                Target::Id(id) => auth.licence_ids.iter().any(|l| l == id.as_str()),
                Target::Holder { code, code_type, .. } => {
                    auth.holder_code == *code && code_type.is_none_or(|t| t == auth.holder_code_type)
                }
            };
            if !covers {
                return Err(PlatformError::Forbidden("the authorisation does not cover this licence".into()));
            }
            return Ok(Grant::Holder { hash, auth });
        }
        let (issuer, type_code) = match target {
            Target::Id(id) => (Some(id.issuer().as_str()), id.type_code().as_str()),
            Target::Holder { type_code, .. } => (None, *type_code),
        };
        if issuer == Some(client.department_code.as_str())
            && (reads || has_scope(client, Scope::Manage) || has_scope(client, Scope::Issue))
        {
            return Ok(Grant::Issuer);
        }
        if !reads {
            return Err(PlatformError::Forbidden("this client lacks the query or check scope".into()));
        }
        let by_holder = matches!(target, Target::Holder { .. });
        let Some(matter) = access.matter_code.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
            return if by_holder { Ok(Grant::OwnOnly) } else { Err(no_basis()) };
        };
        if matter.chars().count() > MAX_MATTER || matter.chars().any(char::is_control) {
            return Err(PlatformError::InvalidInput {
                field: "X-Matter-Code",
                message: format!("at most {MAX_MATTER} characters without control characters"),
            });
        }
        if TypeScope::new(&client.type_codes).covers(type_code) {
            Ok(Grant::Duty(matter.to_owned()))
        } else if by_holder {
            Ok(Grant::OwnOnly)
        } else {
            Err(PlatformError::Forbidden(format!(
                "this client's duty does not cover licences of type {type_code}"
            )))
        }
    }

    /// Turns a grant into the basis for the licence found; takes one use of a holder
    /// authorisation.
    pub(super) async fn confirm(
        &self,
        grant: Grant,
        row: &LicenceRow,
        now: OffsetDateTime,
    ) -> Result<Basis, PlatformError> {
        match grant {
            Grant::Holder { hash, auth } => {
                if auth.holder_code != row.licence.holder_code
                    || auth.holder_code_type != row.licence.holder_code_type
                    || !auth.licence_ids.contains(&row.licence.id)
                {
                    return Err(PlatformError::Forbidden(
                        "the authorisation does not cover this licence".into(),
                    ));
                }
                match self.store.use_authorisation(&hash, now).await {
                    Ok(()) => Ok(Basis::HolderAuthorisation),
                    Err(StoreError::Conflict(_)) => Err(PlatformError::Forbidden(
                        "the authorisation code is used up, expired or revoked".into(),
                    )),
                    Err(e) => Err(e.into()),
                }
            }
            Grant::Issuer | Grant::OwnOnly => Ok(Basis::Issuer),
            Grant::Duty(matter) => Ok(Basis::Duty(matter)),
        }
    }
}
