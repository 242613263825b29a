//! The register's API views (with their OpenAPI schemas): a licence as shown, its
//! status, a check's request and answer, a holder authorisation as requested and created.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::licence::{CATALOGUE_LABELS, Catalogue, CheckClaims, DocumentKind, LicenceRecord, LicenceStatus};
use crate::store::{LicenceRow, StoreError};

use super::super::error::PlatformError;

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
    /// The documents it was issued with: `pdf` (fetch it at `links.pdf`), `ofd` (at
    /// `links.ofd`), `both` (both links) or `none` (a data-only licence: no file, no link).
    pub document: DocumentKind,
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
    /// Links: `self`, `history`, `verify` (the QR URL), and `pdf` and `ofd` when it has them.
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
    row.status.on(row.licence.valid_until.as_deref(), today)
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

/// The licence record of a register row.
pub(in crate::platform) fn record_of(row: &LicenceRow) -> Result<LicenceRecord, PlatformError> {
    LicenceRecord::from_cbor(&row.licence.record_cbor)
        .map_err(|e| PlatformError::Store(StoreError::Corrupt(e.to_string())))
}

/// The view of a licence, with the holder code masked unless `full_disclosure`.
pub(in crate::platform) fn licence_view(
    catalogue: &Catalogue,
    public_url: &str,
    row: &LicenceRow,
    full_disclosure: bool,
    today: Date,
) -> Result<LicenceView, PlatformError> {
    let record = record_of(row)?;
    let holder_code = if full_disclosure { record.holder_code.clone() } else { record.public_holder_code() };
    let status = effective_status(row, today);
    let mut metadata: BTreeMap<_, _> = record.metadata().into_iter().collect();
    metadata.insert("holder_code", Some(holder_code));
    metadata.insert("status", Some(status.code().to_owned()));
    let labels = CATALOGUE_LABELS.iter().copied().filter(|(k, _)| *k != "fields").collect();
    let field_labels = catalogue
        .get(&record.type_code)
        .map(|t| t.fields.iter().map(|f| (f.key.clone(), f.label.clone())).collect())
        .unwrap_or_default();
    let mut links = BTreeMap::new();
    links.insert("self", format!("/api/v1/licences/{}", record.identifier));
    let document = row.licence.document.kind();
    if document.has_pdf() {
        links.insert("pdf", format!("/api/v1/licences/{}/pdf", record.identifier));
    }
    if document.has_ofd() {
        links.insert("ofd", format!("/api/v1/licences/{}/ofd", record.identifier));
    }
    links.insert("history", format!("/api/v1/licences/{}/history", record.identifier));
    links.insert("verify", crate::token::qr_url(public_url, &row.licence.token));
    Ok(LicenceView {
        identifier: record.identifier.clone(),
        status: status.into(),
        current: row.superseded_by.is_none(),
        version: record.version,
        replaces: record.replaces.clone(),
        superseded_by: row.superseded_by.clone(),
        document,
        metadata,
        metadata_labels: labels,
        fields: record.fields,
        field_labels,
        links,
    })
}

/// Compares claims with a licence: status first (superseded, then the status in force on
/// the claimed day), then every claim.
pub(super) fn compare(
    row: &LicenceRow,
    claims: &CheckClaims,
    today: Date,
) -> Result<CheckResult, PlatformError> {
    let identifier = Some(row.licence.id.clone());
    if row.superseded_by.is_some() {
        return Ok(CheckResult { result: "superseded".into(), mismatches: vec![], identifier });
    }
    let on =
        claims.day(today).map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?;
    let status = effective_status(row, on);
    if status != LicenceStatus::Valid {
        let name =
            serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        return Ok(CheckResult { result: name, mismatches: vec![], identifier });
    }
    let mismatches = claims.mismatches(&record_of(row)?, on);
    let result = if mismatches.is_empty() { "valid" } else { "mismatch" };
    Ok(CheckResult { result: result.into(), mismatches, identifier })
}
