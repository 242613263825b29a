//! The register that other departments rely on (电子证照互认): reads, listings and yes/no
//! checks with a stated purpose and a legal basis, holder authorisations, status changes,
//! and an access log entry for every one of them — refusals included.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime};

use super::clients::{Scope, has_scope, may_use_type};
use super::{Platform, PlatformError};
use crate::audit::AccessEntry;
use crate::licence::{CATALOGUE_LABELS, LicenceRecord, LicenceStatus};
use crate::store::{ClientRecord, LicenceEvent, LicenceFilter, LicenceRow};

mod basis;

/// Longest stated purpose, in characters.
pub const MAX_PURPOSE: usize = 200;
/// Largest page of a listing.
pub const MAX_PAGE: u32 = 100;
/// Default lifetime of a holder authorisation.
pub const DEFAULT_AUTHORISATION_TTL: Duration = Duration::minutes(10);
/// Longest lifetime of a holder authorisation.
pub const MAX_AUTHORISATION_TTL: Duration = Duration::days(30);

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
    fn label(&self) -> String {
        match self {
            Self::Issuer => "issuer".into(),
            Self::HolderAuthorisation => "holder-authorisation".into(),
            Self::Duty(matter) => format!("duty:{matter}"),
        }
    }

    /// Whether the holder's code may be shown unmasked.
    fn full_disclosure(&self) -> bool {
        matches!(self, Self::Issuer | Self::HolderAuthorisation)
    }
}

/// A licence as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LicenceView {
    /// 电子证照标识.
    pub identifier: String,
    /// Status in force today (expiry by date applied).
    pub status: StatusView,
    /// Whether this is the current version.
    pub current: bool,
    /// Version number.
    pub version: u16,
    /// The version this replaces.
    pub replaces: Option<String>,
    /// The version that replaced this.
    pub superseded_by: Option<String>,
    /// Catalogue metadata under stable English keys.
    #[schema(value_type = Object)]
    pub metadata: BTreeMap<&'static str, Option<String>>,
    /// The Chinese label of each metadata key.
    #[schema(value_type = Object)]
    pub metadata_labels: BTreeMap<&'static str, &'static str>,
    /// The type's fields.
    pub fields: BTreeMap<String, String>,
    /// The Chinese label of each field.
    pub field_labels: BTreeMap<String, String>,
    /// Links.
    #[schema(value_type = Object)]
    pub links: BTreeMap<&'static str, String>,
}

/// A status code with its names.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    /// `01`…`99`.
    #[schema(value_type = String)]
    pub code: &'static str,
    /// `valid`, `suspended`, …
    pub name: LicenceStatus,
    /// 有效, 暂扣, …
    #[schema(value_type = String)]
    pub label: &'static str,
}

impl From<LicenceStatus> for StatusView {
    fn from(s: LicenceStatus) -> Self {
        Self { code: s.code(), name: s, label: s.label() }
    }
}

/// The status of a licence on `today`: a valid licence past its last day is expired.
pub fn effective_status(row: &LicenceRow, today: Date) -> LicenceStatus {
    let ended = row
        .licence
        .valid_until
        .as_deref()
        .and_then(|d| crate::licence::parse_date("", d).ok())
        .is_some_and(|until| until < today);
    if row.status == LicenceStatus::Valid && ended { LicenceStatus::Expired } else { row.status }
}

/// A yes/no check request.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The licence by identifier…
    #[serde(default)]
    pub identifier: Option<String>,
    /// …or by holder and type (the current version).
    #[serde(default)]
    pub holder_code: Option<String>,
    /// Holder code type, with `holder_code`.
    #[serde(default)]
    pub holder_code_type: Option<String>,
    /// Type code, with `holder_code`.
    #[serde(default)]
    pub type_code: Option<String>,
    /// The claims to compare.
    #[serde(default)]
    pub claims: CheckClaims,
}

/// Claims a relying department wants confirmed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckClaims {
    /// The holder's name equals this.
    #[serde(default)]
    pub holder_name: Option<String>,
    /// Valid on this date (`YYYY-MM-DD`).
    #[serde(default)]
    pub valid_on: Option<String>,
    /// Field → text the field must contain (e.g. business scope contains 热食类食品制售).
    #[serde(default)]
    pub fields_contain: BTreeMap<String, String>,
    /// Field → exact value.
    #[serde(default)]
    pub fields_equal: BTreeMap<String, String>,
}

/// The answer to a check: a result code, never the licence's data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CheckResult {
    /// `valid`, `suspended`, `revoked`, `cancelled`, `expired`, `superseded`,
    /// `not_found`, `mismatch`, or another status name.
    pub result: String,
    /// The claims that did not match (for `mismatch`).
    pub mismatches: Vec<String>,
    /// The identifier checked, when found.
    pub identifier: Option<String>,
}

/// A holder authorisation as created (the code is shown once).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorisationView {
    /// The code to give the relying department.
    pub code: String,
    /// Licences it covers.
    pub licence_ids: Vec<String>,
    /// The only department that may use it.
    pub relying_department: Option<String>,
    /// Until when (RFC 3339).
    pub expires_at: String,
    /// Uses allowed.
    pub uses: u32,
}

/// What a holder portal asks to authorise.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorisationRequest {
    /// The holder's code type.
    pub holder_code_type: String,
    /// The holder's code.
    pub holder_code: String,
    /// The licences (all must be the holder's).
    pub licence_ids: Vec<String>,
    /// Bind to one relying department (统一社会信用代码).
    #[serde(default)]
    pub relying_department: Option<String>,
    /// Lifetime in seconds (default 600).
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
    /// How many reads/checks it allows (default 1).
    #[serde(default)]
    pub uses: Option<u32>,
}

pub(super) fn code_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_ascii_uppercase().as_bytes()))
}

pub(super) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn check_purpose(purpose: Option<&str>) -> Result<String, PlatformError> {
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

impl Platform {
    /// Appends an access log entry. A failure to log fails the request: nothing is read
    /// that is not logged.
    async fn log(&self, entry: AccessEntry) -> Result<(), PlatformError> {
        self.access_log.append(entry).await?;
        Ok(())
    }

    pub(super) async fn row(&self, id: &str) -> Result<LicenceRow, PlatformError> {
        self.store
            .licence(id.trim())
            .await?
            .ok_or_else(|| PlatformError::NotFound(format!("licence {}", id.trim())))
    }

    /// The view of a licence, with the holder code masked unless `basis` allows it.
    pub fn licence_view(
        &self,
        row: &LicenceRow,
        basis: Option<&Basis>,
        today: Date,
    ) -> Result<LicenceView, PlatformError> {
        let record = LicenceRecord::from_cbor(&row.licence.record_cbor)
            .map_err(|e| PlatformError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
        let full = basis.is_some_and(Basis::full_disclosure);
        let holder_code = if full {
            record.holder_code.clone()
        } else {
            crate::codes::public_holder_code(&record.holder_code, &record.holder_code_type)
        };
        let status = effective_status(row, today);
        let mut metadata = BTreeMap::new();
        let values: [(&'static str, Option<String>); 19] = [
            ("licence_name", Some(record.licence_name.clone())),
            ("licence_number", Some(record.licence_number.clone())),
            ("identifier", Some(record.identifier.clone())),
            ("type_name", Some(record.type_name.clone())),
            ("type_code", Some(record.type_code.clone())),
            ("issuer_name", Some(record.issuer_name.clone())),
            ("issuer_code", Some(record.issuer_code.clone())),
            ("definer_name", Some(record.definer_name.clone())),
            ("definer_code", Some(record.definer_code.clone())),
            ("issue_date", Some(record.issue_date.clone())),
            ("valid_from", Some(record.valid_from.clone())),
            ("valid_until", record.valid_until.clone()),
            ("area_code", Some(record.area_code.clone())),
            ("holder_name", Some(record.holder_name.clone())),
            ("holder_code", Some(holder_code)),
            ("holder_code_type", Some(record.holder_code_type.clone())),
            ("matter_name", record.matter_name.clone()),
            ("matter_code", record.matter_code.clone()),
            ("status", Some(status.code().to_owned())),
        ];
        metadata.extend(values);
        let labels = CATALOGUE_LABELS.iter().copied().filter(|(k, _)| *k != "fields").collect();
        let field_labels = self
            .catalogue
            .get(&record.type_code)
            .map(|t| t.fields.iter().map(|f| (f.key.clone(), f.label.clone())).collect())
            .unwrap_or_default();
        let mut links = BTreeMap::new();
        links.insert("self", format!("/api/v1/licences/{}", record.identifier));
        links.insert("pdf", format!("/api/v1/licences/{}/pdf", record.identifier));
        links.insert("history", format!("/api/v1/licences/{}/history", record.identifier));
        links.insert("verify", crate::token::qr_url(&self.config.public_url, &row.licence.token));
        Ok(LicenceView {
            identifier: record.identifier.clone(),
            status: status.into(),
            current: row.superseded_by.is_none(),
            version: record.version,
            replaces: record.replaces.clone(),
            superseded_by: row.superseded_by.clone(),
            metadata,
            metadata_labels: labels,
            fields: record.fields,
            field_labels,
            links,
        })
    }

    /// Reads one licence for a client, with purpose and basis; logged. The basis is
    /// decided from the identifier before the register is consulted (`register/basis.rs`).
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
            let row = self.row(id.as_str()).await?;
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            self.licence_view(&row, basis.as_ref(), now.date())
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        self.logged_as(client, "read", purpose, basis.as_ref(), subject.as_ref(), now, result).await
    }

    /// The signed PDF: it carries the holder's data unmasked and cannot be masked without
    /// breaking its signature, so it goes only to the issuer (no purpose needed) and to
    /// readers with the holder's authorisation; a duty is refused with
    /// `original_requires_holder_authorisation`. Logged.
    pub async fn read_pdf(
        &self,
        access: &Access,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, PlatformError> {
        let mut basis = None;
        let mut subject = None;
        let result = async {
            let id = basis::parse_id(id)?;
            let target = basis::Target::Id(&id);
            subject = Some(basis::asked(&target));
            // The issuer needs no purpose for its own PDF; a purpose it states must be valid.
            if access.client.department_code != id.issuer().as_str() || access.purpose.is_some() {
                check_purpose(access.purpose.as_deref())?;
            }
            let grant = self.grant(access, &target).await?;
            if matches!(grant, basis::Grant::Duty(_)) {
                return Err(PlatformError::OriginalRequiresHolderAuthorisation);
            }
            let row = self.row(id.as_str()).await?;
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            Ok(row.licence.pdf.clone())
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        self.logged_as(client, "pdf", purpose, basis.as_ref(), subject.as_ref(), now, result).await
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
                (Some(t), Some(m)) if may_use_type(client, t) => Some(Basis::Duty(m.to_owned())),
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
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        let licence =
            filter.holder_code.as_deref().zip(filter.holder_code_type.as_deref()).map(|(c, t)| ("", t, c));
        self.log(entry(
            Some(&access.client),
            "list",
            access.purpose.as_deref(),
            basis.as_ref(),
            licence,
            outcome,
            now,
        ))
        .await?;
        result
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
        let by_id = match (&request.identifier, &request.holder_code, &request.type_code) {
            (Some(id), None, None) => Some(id.trim()),
            (None, Some(code), Some(type_code)) => {
                // What a check by holder names goes into the access log: keep it short and plain.
                basis::plain_code("holder_code", code, 64)?;
                basis::plain_code("type_code", type_code, 32)?;
                if let Some(t) = &request.holder_code_type {
                    basis::plain_code("holder_code_type", t, 8)?;
                }
                None
            }
            _ => {
                return Err(PlatformError::InvalidInput {
                    field: "licence",
                    message: "give either identifier, or holder_code with type_code".into(),
                });
            }
        };
        let not_found = || CheckResult { result: "not_found".into(), mismatches: vec![], identifier: None };
        let mut basis = None;
        let mut subject = None;
        let result = async {
            check_purpose(access.purpose.as_deref())?;
            if !basis::reads(&access.client) {
                return Err(PlatformError::Forbidden("checks need the check or query scope".into()));
            }
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
            let row = match &target {
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
            let Some(row) = row else { return Ok(not_found()) };
            subject = Some(basis::found(&row));
            basis = Some(self.confirm(grant, &row, now).await?);
            compare(&row, &request.claims, now.date())
        }
        .await;
        let (client, purpose) = (Some(&access.client), access.purpose.as_deref());
        self.logged_as(client, "check", purpose, basis.as_ref(), subject.as_ref(), now, result).await
    }

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
            let row = self.row(parsed.as_str()).await?;
            subject = Some(basis::found(&row));
            if reason.is_empty() || reason.chars().count() > 500 {
                return Err(PlatformError::InvalidInput {
                    field: "reason",
                    message: "give a reason of 1–500 characters".into(),
                });
            }
            let from = row.status;
            let allowed = matches!(
                (from, to),
                (
                    LicenceStatus::Valid,
                    LicenceStatus::Suspended | LicenceStatus::Revoked | LicenceStatus::Cancelled
                ) | (
                    LicenceStatus::Suspended,
                    LicenceStatus::Valid | LicenceStatus::Revoked | LicenceStatus::Cancelled
                )
            );
            if !allowed {
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
        let licence = subject.as_ref().map(|(i, t, c)| (i.as_str(), t.as_str(), c.as_str()));
        self.log(entry(client, "status", purpose, basis, licence, outcome, now)).await?;
        let row = self.row(&result?).await?;
        self.licence_view(&row, Some(&Basis::Issuer), now.date())
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
            let row = self.row(id.as_str()).await?;
            subject = Some(basis::found(&row));
            Ok(self.store.licence_events(&row.licence.id).await?)
        }
        .await;
        let basis = result.is_ok().then_some(Basis::Issuer);
        self.logged_as(client, "history", None, basis.as_ref(), subject.as_ref(), now, result).await
    }

    /// Recomputes the whole access log chain; answers the number of entries or the first break.
    pub async fn audit_verify(&self) -> Result<Result<u64, crate::audit::ChainBreak>, PlatformError> {
        let mut verifier = crate::audit::ChainVerifier::default();
        loop {
            let rows = self.store.access_log(verifier.verified(), 5000).await?;
            if rows.is_empty() {
                return Ok(Ok(verifier.verified()));
            }
            for r in &rows {
                if let Err(broken) = verifier.push(&r.entry, &r.prev_hash, &r.hash) {
                    return Ok(Err(broken));
                }
            }
        }
    }
}

/// An access log entry (its sequence number is given when it is appended).
fn entry(
    client: Option<&ClientRecord>,
    action: &str,
    purpose: Option<&str>,
    basis: Option<&Basis>,
    licence: Option<(&str, &str, &str)>,
    result: &str,
    now: OffsetDateTime,
) -> AccessEntry {
    AccessEntry {
        seq: 0,
        at: now.unix_timestamp(),
        client_id: client.map(|c| c.id.clone()),
        department_code: client.map(|c| c.department_code.clone()),
        action: action.to_owned(),
        purpose: purpose.map(str::to_owned),
        basis: basis.map(Basis::label),
        licence_id: licence.map(|l| l.0.to_owned()),
        holder_code_type: licence.map(|l| l.1.to_owned()),
        holder_code: licence.map(|l| l.2.to_owned()),
        result: result.to_owned(),
        assertion_id: None,
        auth_level: None,
    }
}

/// Compares claims with a licence: status first, then every claim.
fn compare(row: &LicenceRow, claims: &CheckClaims, today: Date) -> Result<CheckResult, PlatformError> {
    let identifier = Some(row.licence.id.clone());
    if row.superseded_by.is_some() {
        return Ok(CheckResult { result: "superseded".into(), mismatches: vec![], identifier });
    }
    let on = match &claims.valid_on {
        Some(d) => crate::licence::parse_date("claims.valid_on", d)
            .map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?,
        None => today,
    };
    let status = effective_status(row, on);
    let not_yet = crate::licence::parse_date("", &row.licence.valid_from).is_ok_and(|from| on < from);
    if status != LicenceStatus::Valid {
        let name =
            serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        return Ok(CheckResult { result: name, mismatches: vec![], identifier });
    }
    let record = LicenceRecord::from_cbor(&row.licence.record_cbor)
        .map_err(|e| PlatformError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let mut mismatches = vec![];
    if not_yet {
        mismatches.push("valid_on".to_owned());
    }
    if claims.holder_name.as_deref().is_some_and(|n| n.trim() != record.holder_name) {
        mismatches.push("holder_name".to_owned());
    }
    for (key, needle) in &claims.fields_contain {
        if !record.fields.get(key).is_some_and(|v| v.contains(needle.trim())) {
            mismatches.push(format!("fields_contain.{key}"));
        }
    }
    for (key, value) in &claims.fields_equal {
        if record.fields.get(key).is_none_or(|v| v != value.trim()) {
            mismatches.push(format!("fields_equal.{key}"));
        }
    }
    let result = if mismatches.is_empty() { "valid" } else { "mismatch" };
    Ok(CheckResult { result: result.into(), mismatches, identifier })
}
