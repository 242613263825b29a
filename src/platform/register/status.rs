//! Status changes (suspend, revoke, cancel, reinstate) by the issuing department, with a
//! reason, recorded in the licence's history and the access log. Which changes are allowed
//! is [`LicenceStatus::can_become`].

use time::OffsetDateTime;

use crate::licence::LicenceStatus;
use crate::store::{ClientRecord, LicenceEvent};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::super::lookup;
use super::access::{Attempt, Basis};
use super::views::LicenceView;
use super::{Register, basis};

impl Register {
    /// Changes a licence's status (suspend, revoke, cancel, reinstate) with a reason.
    /// `client` must have the manage scope and belong to the issuing department; `None`
    /// is the operator. Logged and recorded in the licence's history.
    pub async fn set_status(
        &self,
        client: Option<&ClientRecord>,
        id: &str,
        to: LicenceStatus,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<LicenceView, PlatformError> {
        let reason = reason.trim();
        let mut subject = None;
        let result = async {
            // Decided from the identifier alone, so a refusal does not tell whether it exists.
            let parsed = basis::parse_id(id)?;
            subject = Some(basis::asked(&basis::Target::Id(&parsed)));
            if let Some(c) = client
                && (!has_scope(c, Scope::Manage) || c.department_code != parsed.issuer().as_str())
            {
                return Err(PlatformError::Forbidden(
                    "only the issuing department's manage client may change the status".into(),
                ));
            }
            let row = lookup::licence(self.store.as_ref(), parsed.as_str()).await?;
            subject = Some(basis::found(&row));
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(PlatformError::InvalidInput {
                    field: "reason",
                    message: "give a reason of 1–500 characters".into(),
                });
            }
            let from = row.status;
            if !from.can_become(to) {
                return Err(PlatformError::Conflict(format!(
                    "a licence that is {} ({}) cannot become {} ({})",
                    from.label(),
                    from.code(),
                    to.label(),
                    to.code()
                )));
            }
            let event = LicenceEvent {
                seq: 0,
                at: now,
                kind: "status".into(),
                from_status: Some(from),
                to_status: to,
                reason: reason.to_owned(),
                actor: client.map_or_else(|| "operator".to_owned(), |c| c.id.clone()),
            };
            self.store.change_status(&row.licence.id, from, &event).await?;
            Ok(row.licence.id)
        }
        .await;
        // One entry per attempt, refusals too: a change records its reason and new status code.
        let (purpose, basis, outcome) = match &result {
            Ok(_) => (Some(reason), Some(&Basis::Issuer), to.code()),
            Err(e) => (None, None, e.code()),
        };
        let attempt = Attempt { client, action: "status", purpose, basis, subject: subject.as_ref() };
        self.log(attempt, outcome, now).await?;
        let row = lookup::licence(self.store.as_ref(), &result?).await?;
        self.licence_view(&row, Some(&Basis::Issuer), now.date())
    }
}
