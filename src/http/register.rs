//! The register API: reads, listings and checks by relying departments (purpose and legal
//! basis in headers), status changes and history for issuers. (The holder portals'
//! endpoints are in `holder.rs`.)

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::auth::Client;
use super::{ApiError, AppState};
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

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            String::from_utf8(v.as_bytes().to_vec()).map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", format!("{name} must be UTF-8"))
            })
        })
        .transpose()
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
            purpose: header_text(&parts.headers, "x-purpose")?,
            authorisation_code: header_text(&parts.headers, "x-authorisation-code")?,
            matter_code: header_text(&parts.headers, "x-matter-code")?,
        }))
    }
}

fn bad_json(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("request body: {e}"))
}

#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "register", params(("id" = String, Path, description = "电子证照标识"), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "The licence", body = crate::platform::LicenceView), (status = 404, description = "Unknown", body = crate::http::ErrorBody), (status = 400, description = "Invalid input", body = crate::http::ErrorBody), (status = 401, description = "No or bad API key", body = crate::http::ErrorBody), (status = 403, description = "Not allowed for this client", body = crate::http::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = crate::http::ErrorBody)), security(("bearer" = [])))]
async fn read(
    State(platform): State<AppState>,
    AccessHeaders(access): AccessHeaders,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = platform.read_licence(&access, &id, OffsetDateTime::now_utc()).await?;
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

#[utoipa::path(get, path = "/api/v1/licences", tag = "register", params(("holder_code" = Option<String>, Query), ("holder_code_type" = Option<String>, Query, description = "001 or 111"), ("type_code" = Option<String>, Query), ("status" = Option<String>, Query, description = "01–07, 99"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u32>, Query, description = "1–100, default 20"), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "A page: {items, next_cursor}"), (status = 400, description = "Invalid input", body = crate::http::ErrorBody), (status = 401, description = "No or bad API key", body = crate::http::ErrorBody), (status = 403, description = "Not allowed for this client", body = crate::http::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = crate::http::ErrorBody)), security(("bearer" = [])))]
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
    let (items, next) = platform.list_licences(&access, filter, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!({ "items": items, "next_cursor": next })))
}

#[utoipa::path(post, path = "/api/v1/checks", tag = "register", request_body(content = crate::platform::CheckRequest, example = json!({"identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.W", "claims": {"holder_name": "上海浦江美食餐饮管理有限公司", "valid_on": "2027-01-01", "fields_contain": {"business_items": "热食类食品制售"}}})), params(("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "valid, suspended, revoked, cancelled, expired, superseded, not_found or mismatch", body = crate::platform::CheckResult, example = json!({"result": "mismatch", "mismatches": ["holder_name"], "identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.W"})), (status = 400, description = "Invalid input", body = crate::http::ErrorBody), (status = 401, description = "No or bad API key", body = crate::http::ErrorBody), (status = 403, description = "Not allowed for this client", body = crate::http::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = crate::http::ErrorBody)), security(("bearer" = [])))]
async fn check(
    State(platform): State<AppState>,
    AccessHeaders(access): AccessHeaders,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: CheckRequest = serde_json::from_slice(&body).map_err(bad_json)?;
    let result = platform.check(&access, &request, OffsetDateTime::now_utc()).await?;
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

#[utoipa::path(post, path = "/api/v1/licences/{id}/status", tag = "lifecycle", request_body(content = StatusBody, example = json!({"status": "suspended", "reason": "抽检不合格，责令整改"})), params(("id" = String, Path)), responses((status = 200, description = "The licence after the change", body = crate::platform::LicenceView), (status = 409, description = "Not allowed from the current status", body = crate::http::ErrorBody), (status = 400, description = "Invalid input", body = crate::http::ErrorBody), (status = 401, description = "No or bad API key", body = crate::http::ErrorBody), (status = 403, description = "Not allowed for this client", body = crate::http::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = crate::http::ErrorBody)), security(("bearer" = [])))]
async fn set_status(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: StatusBody = serde_json::from_slice(&body).map_err(bad_json)?;
    let to = parse_status(&body.status).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "status must be valid, suspended, revoked or cancelled",
        )
    })?;
    let view = platform.set_status(Some(&client), &id, to, &body.reason, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!(view)))
}

#[utoipa::path(get, path = "/api/v1/licences/{id}/history", tag = "lifecycle", params(("id" = String, Path)), responses((status = 200, description = "{identifier, events}: every change with who, when, why"), (status = 404, description = "Unknown or not the client's", body = crate::http::ErrorBody), (status = 400, description = "Invalid input", body = crate::http::ErrorBody), (status = 401, description = "No or bad API key", body = crate::http::ErrorBody), (status = 403, description = "Not allowed for this client", body = crate::http::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = crate::http::ErrorBody)), security(("bearer" = [])))]
async fn history(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = platform.history(Some(&client), &id).await?;
    Ok(Json(json!({ "identifier": id, "events": events })))
}
