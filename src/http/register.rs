//! The register API: reads, listings and checks by relying departments (purpose and legal
//! basis in headers), status changes and history for issuers, holder portals' listings,
//! authorisations and access log.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::auth::Client;
use super::{ApiError, AppState};
use crate::licence::LicenceStatus;
use crate::platform::{Access, AuthorisationRequest, CheckRequest};
use crate::store::LicenceFilter;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/licences", get(list))
        .route("/api/v1/licences/{id}", get(read))
        .route("/api/v1/licences/{id}/status", post(set_status))
        .route("/api/v1/licences/{id}/history", get(history))
        .route("/api/v1/checks", post(check))
        .route("/api/v1/holders/{code}/licences", get(holder_licences))
        .route("/api/v1/holders/{code}/access-log", get(holder_access_log))
        .route("/api/v1/authorisations", post(authorise))
        .route("/api/v1/authorisations/{code}", delete(revoke_authorisation))
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    /// `valid` (reinstate), `suspended`, `revoked`, `cancelled`; or the code `01`…
    status: String,
    reason: String,
}

/// Parses a status name or code.
pub fn parse_status(s: &str) -> Option<LicenceStatus> {
    LicenceStatus::from_code(s).or_else(|| serde_json::from_value(Value::String(s.trim().to_owned())).ok())
}

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

async fn history(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = platform.history(Some(&client), &id).await?;
    Ok(Json(json!({ "identifier": id, "events": events })))
}

/// Which holder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderQuery {
    code_type: String,
    after: Option<u64>,
    limit: Option<u32>,
}

async fn holder_licences(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(code): Path<String>,
    query: Result<Query<HolderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let items = platform.holder_licences(&client, &q.code_type, &code, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!({ "items": items })))
}

async fn holder_access_log(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(code): Path<String>,
    query: Result<Query<HolderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let entries = platform
        .holder_access_log(&client, &q.code_type, &code, q.after.unwrap_or(0), q.limit.unwrap_or(50))
        .await?;
    let next = entries.last().map(|e| e.seq);
    Ok(Json(json!({ "entries": entries, "next_after": next })))
}

async fn authorise(
    State(platform): State<AppState>,
    Client(client): Client,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: AuthorisationRequest = serde_json::from_slice(&body).map_err(bad_json)?;
    let view = platform.authorise(&client, &request, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

async fn revoke_authorisation(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    platform.revoke_authorisation(&client, &code, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}
