//! The store calls around the legal basis ([`basis`] decides it): looking up a presented
//! holder authorisation before the decision, and taking one use of it once the licence is
//! found.

use time::OffsetDateTime;

use crate::store::{LicenceRow, StoreError};

use super::super::error::PlatformError;
use super::Register;
use super::access::{Access, Basis};
use super::basis::{self, Grant, Target, code_hash};

impl Register {
    /// Decides the basis for `access` to read or check `target` without looking the
    /// licence up ([`basis::grant`]): a refusal here is the same whether or not the
    /// licence exists. Only a presented authorisation code is looked up.
    pub(super) async fn grant(&self, access: &Access, target: &Target<'_>) -> Result<Grant, PlatformError> {
        let authorisation = match &access.authorisation_code {
            None => None,
            Some(code) => {
                let hash = code_hash(code);
                let auth = self
                    .store
                    .authorisation(&hash)
                    .await?
                    .ok_or_else(|| PlatformError::Forbidden("unknown authorisation code".into()))?;
                Some((hash, auth))
            }
        };
        basis::grant(access, target, authorisation)
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
                basis::covers_found(&auth, row)?;
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
