//! The register API: reads, listings and checks by relying departments (purpose and legal
//! basis in headers), status changes and history for issuers. (The holder portals'
//! endpoints are in `holder.rs`.)

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::auth::Client;
use super::error::ApiError;
use super::headers::{MAX_CODE_CHARS, access_header, header_text};
use super::state::AppState;
use crate::licence::LicenceStatus;
use crate::platform::{Access, CheckRequest};
use crate::store::LicenceFilter;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/licences", get(list))
        .route("/api/v1/licences/{id}", get(read))
        .route("/api/v1/licences/{id}/status", post(set_status))
        .route("/api/v1/licences/{id}/history", get(history))
        .route("/api/v1/checks", post(check))
}

/// The client with its stated purpose and basis (`X-Purpose`, `X-Authorisation-Code`,
/// `X-Matter-Code`).
pub(super) struct AccessHeaders(pub Access);

impl FromRequestParts<AppState> for AccessHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Client(client) = Client::from_request_parts(parts, state).await?;
        Ok(Self(Access {
            client,
            // The platform checks the purpose, and logs a refusal.
            purpose: header_text(&parts.headers, "x-purpose")?,
            authorisation_code: access_header(&parts.headers, "X-Authorisation-Code", MAX_CODE_CHARS)?,
            matter_code: access_header(&parts.headers, "X-Matter-Code", MAX_CODE_CHARS)?,
        }))
    }
}

#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "register", params(("id" = String, Path, description = "电子证照标识"), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "The licence", body = crate::platform::LicenceView), (status = 400, description = "No or a bad X-Purpose or X-Matter-Code", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: no legal basis for the licence the identifier names, the same whether or not it exists", body = super::error::ErrorBody), (status = 404, description = "A malformed identifier, or (to a client with a basis) no such licence", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn read(
    State(platform): State<AppState>,
    AccessHeaders(access): AccessHeaders,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = platform.register.read_licence(&access, &id, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!(view)))
}

/// Query of a listing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    holder_code: Option<String>,
    holder_code_type: Option<String>,
    type_code: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/licences", tag = "register", params(("holder_code" = Option<String>, Query), ("holder_code_type" = Option<String>, Query, description = "001 or 111"), ("type_code" = Option<String>, Query), ("status" = Option<String>, Query, description = "01–07, 99"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "A page: {items, next_cursor}"), (status = 400, description = "Invalid input", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "Not allowed for this client", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn list(
    State(platform): State<AppState>,
    AccessHeaders(access): AccessHeaders,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            LicenceStatus::from_code(s).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("status {s:?} is not a status code 01–07, 99"),
                )
            })
        })
        .transpose()?;
    let filter = LicenceFilter {
        holder_code: q.holder_code,
        holder_code_type: q.holder_code_type,
        type_code: q.type_code,
        status,
        issuer_code: None,
        after: q.cursor,
        limit: q.limit.unwrap_or(20),
    };
    let (items, next) = platform.register.list_licences(&access, filter, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

#[utoipa::path(post, path = "/api/v1/checks", tag = "register", request_body(content = crate::platform::CheckRequest, example = json!({"identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.W", "claims": {"holder_name": "上海浦江美食餐饮管理有限公司", "valid_on": "2027-01-01", "fields_contain": {"business_items": "热食类食品制售"}}})), params(("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "valid, suspended, revoked, cancelled, expired, superseded, not_found or mismatch", body = crate::platform::CheckResult, example = json!({"result": "mismatch", "mismatches": ["holder_name"], "identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.W"})), (status = 400, description = "Invalid input: the body, X-Purpose or X-Matter-Code", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: no check or query scope, or no legal basis, the same whether or not the licence exists", body = super::error::ErrorBody), (status = 413, description = "Body over 1 MiB", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn check(
    State(platform): State<AppState>,
    AccessHeaders(access): AccessHeaders,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: CheckRequest = super::json_body::parse(&body, &["/claims"])?;
    let result = platform.register.check(&access, &request, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!(result)))
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `valid` (reinstate), `suspended`, `revoked`, `cancelled`; or the code `01`…
    pub status: String,
    /// Why.
    pub reason: String,
}

/// Parses a status name or code.
pub fn parse_status(s: &str) -> Option<LicenceStatus> {
    LicenceStatus::from_code(s).or_else(|| serde_json::from_value(Value::String(s.trim().to_owned())).ok())
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/status", tag = "lifecycle", request_body(content = StatusBody, example = json!({"status": "suspended", "reason": "抽检不合格，责令整改"})), params(("id" = String, Path)), responses((status = 200, description = "The licence after the change", body = crate::platform::LicenceView), (status = 400, description = "Invalid input", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: not the issuing department's manage client (decided from the identifier)", body = super::error::ErrorBody), (status = 404, description = "A malformed identifier, or (to the issuer's manage client) no such licence", body = super::error::ErrorBody), (status = 409, description = "Not allowed from the current status", body = super::error::ErrorBody), (status = 413, description = "Body over 1 MiB", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn set_status(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: StatusBody = super::json_body::parse(&body, &[])?;
    let to = parse_status(&body.status).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "status must be valid, suspended, revoked or cancelled",
        )
    })?;
    let view =
        platform.register.set_status(Some(&client), &id, to, &body.reason, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!(view)))
}

#[utoipa::path(get, path = "/api/v1/licences/{id}/history", tag = "lifecycle", params(("id" = String, Path)), responses((status = 200, description = "{identifier, events}: every change with who, when (RFC 3339) and why", body = Object, example = json!({"identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.W", "events": [{"seq": 1, "at": "2026-11-26T02:40:00Z", "kind": "issued", "from_status": null, "to_status": "valid", "reason": "issued", "actor": "cl_gqqdyfwm"}]})), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: not the issuing department's manage or audit client (decided from the identifier)", body = super::error::ErrorBody), (status = 404, description = "A malformed identifier, or (to the issuer's manage or audit client) no such licence", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn history(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = platform.register.history(Some(&client), &id, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!({ "identifier": id, "events": events })))
}
