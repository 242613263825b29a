//! The register's reads: one licence, its signed PDF, listings and yes/no checks, and
//! a licence's history, each with its access log entry (refusals too).

use time::{Date, OffsetDateTime};

use crate::audit::AccessEntry;
use crate::licence::TypeScope;
use crate::store::{ClientRecord, LicenceEvent, LicenceFilter, LicenceRow};

use super::super::clients::{Scope, has_scope};
use super::super::error::PlatformError;
use super::super::limits::MAX_PAGE;
use super::super::lookup;
use super::access::{Access, Attempt, Basis, check_purpose};
use super::views::{CheckRequest, CheckResult, LicenceView, compare, licence_view};
use super::{Original, Register, basis};

impl Register {
    /// The view of a licence, with the holder code masked unless `basis` allows it.
    pub fn licence_view(
        &self,
        row: &LicenceRow,
        basis: Option<&Basis>,
        today: Date,
    ) -> Result<LicenceView, PlatformError> {
        let full = basis.is_some_and(Basis::full_disclosure);
        licence_view(&self.catalogue, &self.config.public_url, row, full, today)
    }

    /// Reads one licence for a client, with purpose and basis; logged. The basis is
    /// decided from the identifier before the register is consulted (`basis.rs`, `grants.rs`).
    pub async fn read_licence(
        &self,
        access: &Access,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<LicenceView, PlatformError> {
        let mut basis = None;
        let mut subject = None;
        let result = async {
            check_purpose(access.purpose.as_deref())?;
            let id = basis::parse_id(id)?;
            let target = basis::Target::Id(&id);
            subject = Some(basis::asked(&target));
            let grant = self.grant(access, &target).await?;
            let row = lookup::licence(self.store.as_ref(), id.as_str()).await?;
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            self.licence_view(&row, basis.as_ref(), now.date())
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        self.logged(
            Attempt { client, action: "read", purpose, basis: basis.as_ref(), subject: subject.as_ref() },
            now,
            result,
        )
        .await
    }

    /// A signed original — the PDF or the OFD: it carries the holder's data unmasked and
    /// cannot be masked without breaking its signature, so it goes only to the issuer (no
    /// purpose needed) and to readers with the holder's authorisation; a duty is refused
    /// with `original_requires_holder_authorisation`. A licence issued without that
    /// rendition has none: [`PlatformError::NoDocument`], once the basis is confirmed (a
    /// reader without one learns nothing about the licence; a holder authorisation's use is
    /// taken, as for any answer about the licence). Logged (action `pdf` or `ofd`).
    pub async fn read_original(
        &self,
        access: &Access,
        id: &str,
        original: Original,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, PlatformError> {
        let mut basis = None;
        let mut subject = None;
        let result = async {
            let id = basis::parse_id(id)?;
            let target = basis::Target::Id(&id);
            subject = Some(basis::asked(&target));
            // The issuer needs no purpose for its own original; a purpose it states must be valid.
            if access.client.department_code != id.issuer().as_str() || access.purpose.is_some() {
                check_purpose(access.purpose.as_deref())?;
            }
            let grant = self.grant(access, &target).await?;
            if matches!(grant, basis::Grant::Duty(_)) {
                return Err(PlatformError::OriginalRequiresHolderAuthorisation);
            }
            let row = lookup::licence(self.store.as_ref(), id.as_str()).await?;
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            let id = row.licence.id.clone();
            let document = self.issuing.documents(row, now).await?;
            match original {
                Original::Pdf => document.into_pdf(),
                Original::Ofd => document.into_ofd(),
            }
            .ok_or(PlatformError::NoDocument(id))
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        let action = original.action();
        self.logged(
            Attempt { client, action, purpose, basis: basis.as_ref(), subject: subject.as_ref() },
            now,
            result,
        )
        .await
    }

    /// Lists licences for a client: by duty (the type must be one the client's duty
    /// covers, the matter stated) or the issuer's own; logged once per listing.
    pub async fn list_licences(
        &self,
        access: &Access,
        mut filter: LicenceFilter,
        now: OffsetDateTime,
    ) -> Result<(Vec<LicenceView>, Option<String>), PlatformError> {
        let mut basis = None;
        let result = async {
            check_purpose(access.purpose.as_deref())?;
            let client = &access.client;
            if !has_scope(client, Scope::Query) {
                return Err(PlatformError::Forbidden("listing needs the query scope".into()));
            }
            filter.limit = filter.limit.clamp(1, MAX_PAGE);
            let matter = access.matter_code.as_deref().map(str::trim).filter(|m| !m.is_empty());
            let duty = match (&filter.type_code, matter) {
                (Some(t), Some(m)) if TypeScope::new(&client.type_codes).covers(t) => {
                    Some(Basis::Duty(m.to_owned()))
                }
                _ => None,
            };
            basis = match duty {
                Some(b) => Some(b),
                None => {
                    // Without a duty for the type, a department sees only what it issued.
                    filter.issuer_code = Some(client.department_code.clone());
                    Some(Basis::Issuer)
                }
            };
            let rows = self.store.licences(&filter).await?;
            let next = if rows.len() == filter.limit as usize {
                rows.last().map(|r| r.licence.id.clone())
            } else {
                None
            };
            let views = rows
                .iter()
                .map(|r| self.licence_view(r, basis.as_ref(), now.date()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((views, next))
        }
        .await;
        let subject = filter
            .holder_code
            .as_ref()
            .zip(filter.holder_code_type.as_ref())
            .map(|(c, t)| (String::new(), t.clone(), c.clone()));
        let attempt = Attempt {
            client: Some(&access.client),
            action: "list",
            purpose: access.purpose.as_deref(),
            basis: basis.as_ref(),
            subject: subject.as_ref(),
        };
        self.logged(attempt, now, result).await
    }

    /// A yes/no check: compares claims without returning the licence; logged. Checks
    /// follow the purpose and basis rules of reads: without a basis the answer (and its
    /// log entry) is the same whether or not the licence exists.
    pub async fn check(
        &self,
        access: &Access,
        request: &CheckRequest,
        now: OffsetDateTime,
    ) -> Result<CheckResult, PlatformError> {
        let by_id = check_by_id(request)?;
        let not_found = || CheckResult { result: "not_found".into(), mismatches: vec![], identifier: None };
        let mut basis = None;
        let mut subject = None;
        let result = async {
            check_purpose(access.purpose.as_deref())?;
            if !basis::reads(&access.client) {
                return Err(PlatformError::Forbidden("checks need the check or query scope".into()));
            }
            // Malformed claims are refused whether or not the licence exists.
            request
                .claims
                .day(now.date())
                .map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?;
            let parsed;
            let target = match by_id {
                Some(id) => {
                    // A malformed identifier names no licence, for every client alike.
                    let Ok(id) = crate::codes::LicenceId::parse(id) else { return Ok(not_found()) };
                    parsed = id;
                    basis::Target::Id(&parsed)
                }
                None => basis::Target::Holder {
                    code: request.holder_code.as_deref().map(str::trim).unwrap_or_default(),
                    code_type: request.holder_code_type.as_deref().map(str::trim),
                    type_code: request.type_code.as_deref().map(str::trim).unwrap_or_default(),
                },
            };
            subject = Some(basis::asked(&target));
            let grant = self.grant(access, &target).await?;
            let row = self.checked_licence(access, &target, &grant).await?;
            let Some(row) = row else { return Ok(not_found()) };
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            compare(&row, &request.claims, now.date())
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        self.logged(
            Attempt { client, action: "check", purpose, basis: basis.as_ref(), subject: subject.as_ref() },
            now,
            result,
        )
        .await
    }

    /// The licence a check names: by identifier, or the current one of a type held by a
    /// holder (only the client's own department's on an `OwnOnly` grant, none found
    /// being the same refusal as no basis).
    async fn checked_licence(
        &self,
        access: &Access,
        target: &basis::Target<'_>,
        grant: &basis::Grant,
    ) -> Result<Option<LicenceRow>, PlatformError> {
        let row = match target {
            basis::Target::Id(id) => self.store.licence(id.as_str()).await?,
            basis::Target::Holder { code, code_type, type_code } => {
                let own = matches!(grant, basis::Grant::OwnOnly);
                let filter = LicenceFilter {
                    holder_code: Some((*code).to_owned()),
                    holder_code_type: code_type.map(str::to_owned),
                    type_code: Some((*type_code).to_owned()),
                    issuer_code: own.then(|| access.client.department_code.clone()),
                    limit: MAX_PAGE,
                    ..LicenceFilter::default()
                };
                let rows = self.store.licences(&filter).await?;
                let current = rows
                    .into_iter()
                    .filter(|r| r.superseded_by.is_none())
                    .max_by_key(|r| r.licence.issued_at);
                if own && current.is_none() {
                    return Err(basis::no_basis());
                }
                current
            }
        };
        Ok(row)
    }

    /// A licence's history, for the issuing department's `manage` and `audit` clients (or
    /// the operator, `client` `None`). Every read is logged, refusals too; a client of
    /// another department is refused from the identifier alone, whether or not it exists.
    pub async fn history(
        &self,
        client: Option<&ClientRecord>,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<LicenceEvent>, PlatformError> {
        let mut subject = None;
        let result = async {
            let id = basis::parse_id(id)?;
            subject = Some(basis::asked(&basis::Target::Id(&id)));
            if let Some(c) = client {
                let role = has_scope(c, Scope::Manage) || has_scope(c, Scope::Audit);
                if !role || c.department_code != id.issuer().as_str() {
                    return Err(PlatformError::Forbidden(
                        "a licence's history is for the issuing department's manage and audit clients".into(),
                    ));
                }
            }
            let row = lookup::licence(self.store.as_ref(), id.as_str()).await?;
            subject = Some(basis::found(&row));
            Ok(self.store.licence_events(&row.licence.id).await?)
        }
        .await;
        let basis = result.is_ok().then_some(Basis::Issuer);
        self.logged(
            Attempt {
                client,
                action: "history",
                purpose: None,
                basis: basis.as_ref(),
                subject: subject.as_ref(),
            },
            now,
            result,
        )
        .await
    }

    /// Appends an access log entry made elsewhere (a holder's call); returns once it is
    /// committed.
    pub(in crate::platform) async fn append_entry(&self, entry: AccessEntry) -> Result<(), PlatformError> {
        self.access_log.append(entry).await?;
        Ok(())
    }

    /// Appends the entry of `attempt` with `result`. A failure to log fails the request:
    /// nothing is read that is not logged.
    pub(super) async fn log(
        &self,
        attempt: Attempt<'_>,
        result: &str,
        now: OffsetDateTime,
    ) -> Result<(), PlatformError> {
        self.access_log.append(attempt.entry(result, now)).await?;
        Ok(())
    }

    /// Appends the access log entry for `result` (its outcome code, or `ok`) and passes
    /// it on.
    pub(super) async fn logged<T>(
        &self,
        attempt: Attempt<'_>,
        now: OffsetDateTime,
        result: Result<T, PlatformError>,
    ) -> Result<T, PlatformError> {
        let outcome = result.as_ref().map_or_else(PlatformError::code, |_| "ok");
        self.log(attempt, outcome, now).await?;
        result
    }
}

/// Checks how a check request names its licence: `Some(identifier)`, or `None` for a
/// holder and type (short plain codes, as they go into the access log).
fn check_by_id(request: &CheckRequest) -> Result<Option<&str>, PlatformError> {
    match (&request.identifier, &request.holder_code, &request.type_code) {
        (Some(id), None, None) => Ok(Some(id.trim())),
        (None, Some(code), Some(type_code)) => {
            // What a check by holder names goes into the access log: keep it short and plain.
            basis::plain_code("holder_code", code, 64)?;
            basis::plain_code("type_code", type_code, 32)?;
            if let Some(t) = &request.holder_code_type {
                basis::plain_code("holder_code_type", t, 8)?;
            }
            Ok(None)
        }
        _ => Err(PlatformError::InvalidInput {
            field: "licence",
            message: "give either identifier, or holder_code with type_code".into(),
        }),
    }
}
