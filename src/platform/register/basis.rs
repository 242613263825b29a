//! The legal basis of a read, check or download, decided from the request and the
//! identifier alone (its issuer and type) before the register is consulted, so that a
//! client without a basis gets the same refusal whether or not the licence exists.

use sha2::{Digest, Sha256};

use crate::codes::LicenceId;
use crate::licence::TypeScope;
use crate::store::{AuthorisationRecord, ClientRecord, LicenceRow};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::access::{Access, Subject};

/// Longest `X-Matter-Code`, in characters.
const MAX_MATTER: usize = 64;

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

/// Decides the basis for `access` to read or check `target` from the request and the
/// identifier alone. `authorisation` is the holder authorisation the request presented
/// (the code's hash and the record), as looked up.
pub(super) fn grant(
    access: &Access,
    target: &Target<'_>,
    authorisation: Option<(String, AuthorisationRecord)>,
) -> Result<Grant, PlatformError> {
    let client = &access.client;
    let reads = reads(client);
    if let Some((hash, auth)) = authorisation {
        return holder_grant(client, target, hash, auth);
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

/// A holder authorisation as a basis: for this client's department (if bound to one), a
/// client that reads, and the licence or holder the request names.
fn holder_grant(
    client: &ClientRecord,
    target: &Target<'_>,
    hash: String,
    auth: AuthorisationRecord,
) -> Result<Grant, PlatformError> {
    if auth.relying_department.as_ref().is_some_and(|d| *d != client.department_code) {
        return Err(PlatformError::Forbidden("the authorisation is for another department".into()));
    }
    if !reads(client) {
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
    Ok(Grant::Holder { hash, auth })
}

/// The holder authorisation covers the licence found: the same holder, and the licence
/// among those it names.
pub(super) fn covers_found(auth: &AuthorisationRecord, row: &LicenceRow) -> Result<(), PlatformError> {
    if auth.holder_code != row.licence.holder_code
        || auth.holder_code_type != row.licence.holder_code_type
        || !auth.licence_ids.contains(&row.licence.id)
    {
        return Err(PlatformError::Forbidden("the authorisation does not cover this licence".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    const ID: &str = "1.2.156.3005.2.11100000000013338W003.11310115MB2C90510L.20260000001.001.I";
    const ISSUER: &str = "11310115MB2C90510L";
    const OTHER: &str = "11310115MB2C90512T";

    fn access(department: &str, scopes: &[&str], types: &[&str], matter: Option<&str>) -> Access {
        let client = ClientRecord {
            id: "cl_test".into(),
            department_code: department.into(),
            name: "test".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            type_codes: types.iter().map(|s| (*s).to_owned()).collect(),
            key_hash: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            revoked_at: None,
        };
        Access { client, purpose: None, authorisation_code: None, matter_code: matter.map(str::to_owned) }
    }

    fn authorisation(relying: Option<&str>) -> AuthorisationRecord {
        AuthorisationRecord {
            code_hash: "h".into(),
            holder_code_type: "111".into(),
            holder_code: "310115199003071239".into(),
            licence_ids: vec![ID.into()],
            relying_department: relying.map(str::to_owned),
            created_by: "pt_x".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
            uses_left: 1,
            revoked_at: None,
        }
    }

    fn refusal(result: Result<Grant, PlatformError>) -> String {
        match result {
            Err(e) => format!("{}: {e}", e.code()),
            Ok(_) => "granted".into(),
        }
    }

    #[test]
    fn the_issuer_reads_its_own_licences_and_others_need_a_duty() {
        let id = LicenceId::parse(ID).unwrap();
        let target = Target::Id(&id);
        let by_holder = Target::Holder { code: "x", code_type: None, type_code: "11100000000013338W003" };
        let issuer = access(ISSUER, &["manage"], &[], None);
        assert!(matches!(grant(&issuer, &target, None), Ok(Grant::Issuer)));
        let no_matter = access(OTHER, &["query"], &["*"], None);
        assert!(refusal(grant(&no_matter, &target, None)).contains("no legal basis"));
        assert!(matches!(grant(&no_matter, &by_holder, None), Ok(Grant::OwnOnly)));
        let duty = access(OTHER, &["check"], &["11100000000013338W003"], Some(" M1 "));
        assert!(matches!(grant(&duty, &target, None), Ok(Grant::Duty(m)) if m == "M1"));
        let other_type = access(OTHER, &["query"], &["11100000000013338W002"], Some("M1"));
        assert!(refusal(grant(&other_type, &target, None)).contains("does not cover licences of type"));
        assert!(matches!(grant(&other_type, &by_holder, None), Ok(Grant::OwnOnly)));
        let no_scope = access(OTHER, &["issue"], &["*"], Some("M1"));
        assert!(refusal(grant(&no_scope, &target, None)).contains("lacks the query or check scope"));
    }

    #[test]
    fn a_holder_authorisation_is_bound_to_its_department_and_licences() {
        let id = LicenceId::parse(ID).unwrap();
        let reader = access(OTHER, &["query"], &[], None);
        let ok = grant(&reader, &Target::Id(&id), Some(("h".into(), authorisation(Some(OTHER)))));
        assert!(matches!(ok, Ok(Grant::Holder { .. })));
        let elsewhere = grant(&reader, &Target::Id(&id), Some(("h".into(), authorisation(Some(ISSUER)))));
        assert!(refusal(elsewhere).contains("for another department"));
        let another = Target::Holder { code: "310115199003071239", code_type: Some("001"), type_code: "t" };
        let wrong_type = grant(&reader, &another, Some(("h".into(), authorisation(None))));
        assert!(refusal(wrong_type).contains("does not cover this licence"));
    }
}
