//! Granting a read, check or download its legal basis: decided from the request and the
//! identifier before the register is consulted ([`Register::grant`]), confirmed on the
//! licence found ([`Register::confirm`]), which takes one use of a holder authorisation.

use time::OffsetDateTime;

use crate::licence::TypeScope;
use crate::store::{LicenceRow, StoreError};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::Register;
use super::access::{Access, Basis};
use super::basis::{Grant, MAX_MATTER, Target, code_hash, no_basis, reads};

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
