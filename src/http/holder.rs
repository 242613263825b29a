//! The holder endpoints, called only by holder portals: each request carries the portal's
//! key (`Authorization: Bearer zzp_…`) and a holder assertion the portal signed
//! (`X-Holder-Assertion`, see [`crate::holder_assertion`]).

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::ApiError;
use super::state::AppState;
use crate::holder_assertion::{ASSERTION_HEADER, MAX_ASSERTION_BYTES};
use crate::platform::{AuthorisationRequest, HolderCall, HolderCaller, PORTAL_KEY_PREFIX};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/holders/{code}/licences", get(holder_licences))
        .route("/api/v1/holders/{code}/access-log", get(holder_access_log))
        .route("/api/v1/authorisations", post(authorise))
        .route("/api/v1/authorisations/{code}", delete(revoke_authorisation))
}

/// The caller (a portal; a department client is passed on to be refused and logged) and
/// its holder assertion.
pub(super) struct Holder(HolderCall);

impl FromRequestParts<AppState> for Holder {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, platform: &AppState) -> Result<Self, Self::Rejection> {
        let key = super::auth::bearer_key(parts)?;
        let caller = if key.starts_with(PORTAL_KEY_PREFIX) {
            HolderCaller::Portal(platform.clients.authenticate_portal(key).await?)
        } else {
            HolderCaller::Department(platform.clients.authenticate(key).await?)
        };
        super::auth::note_authenticated(parts);
        let assertion = match parts.headers.get(ASSERTION_HEADER) {
            None => None,
            // Too long or not text: passed on as is (over-long), so that the refusal is
            // `holder_assertion_invalid` and logged like the others.
            Some(v) if v.len() > MAX_ASSERTION_BYTES => Some("x".repeat(MAX_ASSERTION_BYTES + 1)),
            Some(v) => Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        };
        Ok(Self(HolderCall { caller, assertion }))
    }
}

/// Which holder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolderQuery {
    code_type: String,
    after: Option<u64>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/holders/{code}/licences", tag = "holder", params(("code" = String, Path, description = "The holder's code; must be the asserted holder's"), ("code_type" = String, Query, description = "001 or 111"), ("X-Holder-Assertion" = String, Header, description = "The holder assertion: a compact JWS (EdDSA or ES256, typ holder-assertion+jwt) signed by the calling portal, used once; see the README")), responses((status = 200, description = "{items}: the holder's licences, holder code unmasked"), (status = 400, description = "Invalid input", body = super::error::ErrorBody), (status = 401, description = "No or bad portal key (unauthorised), or no usable holder assertion: holder_assertion_required, holder_assertion_invalid, holder_assertion_expired, holder_assertion_replayed", body = super::error::ErrorBody), (status = 403, description = "holder_mismatch: the assertion is for another holder; forbidden: not a holder portal's key", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn holder_licences(
    State(platform): State<AppState>,
    Holder(call): Holder,
    Path(code): Path<String>,
    query: Result<Query<HolderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let items =
        platform.holders.holder_licences(&call, &q.code_type, &code, OffsetDateTime::now_utc()).await?;
    Ok(Json(json!({ "items": items })))
}

#[utoipa::path(get, path = "/api/v1/holders/{code}/access-log", tag = "holder", params(("code" = String, Path, description = "The holder's code; must be the asserted holder's"), ("code_type" = String, Query), ("after" = Option<u64>, Query), ("limit" = Option<u32>, Query), ("X-Holder-Assertion" = String, Header, description = "The holder assertion: a compact JWS (EdDSA or ES256, typ holder-assertion+jwt) signed by the calling portal, used once; see the README")), responses((status = 200, description = "{entries, next_after}: who accessed the holder's licences, when and why"), (status = 400, description = "Invalid input", body = super::error::ErrorBody), (status = 401, description = "No or bad portal key (unauthorised), or no usable holder assertion: holder_assertion_required, holder_assertion_invalid, holder_assertion_expired, holder_assertion_replayed", body = super::error::ErrorBody), (status = 403, description = "holder_mismatch: the assertion is for another holder; forbidden: not a holder portal's key", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn holder_access_log(
    State(platform): State<AppState>,
    Holder(call): Holder,
    Path(code): Path<String>,
    query: Result<Query<HolderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let entries = platform
        .holders
        .holder_access_log(
            &call,
            &q.code_type,
            &code,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(50),
            OffsetDateTime::now_utc(),
        )
        .await?;
    let next = entries.last().map(|e| e.seq);
    Ok(Json(json!({ "entries": entries, "next_after": next })))
}

#[utoipa::path(post, path = "/api/v1/authorisations", tag = "holder", request_body(content = crate::platform::AuthorisationRequest, example = json!({"holder_code_type": "111", "holder_code": "310115199003071239", "licence_ids": ["1.2.156.3005.2.11100000000013338W003.11310115MB2C90510L.20260000001.001.I"], "relying_department": "11310115MB2C90512T", "ttl_seconds": 600, "uses": 1})), params(("X-Holder-Assertion" = String, Header, description = "The holder assertion of the holder named in the body: a compact JWS (EdDSA or ES256, typ holder-assertion+jwt) signed by the calling portal, used once; see the README")), responses((status = 201, description = "The code, shown once", body = crate::platform::AuthorisationView), (status = 400, description = "Invalid input", body = super::error::ErrorBody), (status = 401, description = "No or bad portal key (unauthorised), or no usable holder assertion: holder_assertion_required, holder_assertion_invalid, holder_assertion_expired, holder_assertion_replayed", body = super::error::ErrorBody), (status = 403, description = "holder_mismatch: the assertion is for another holder; forbidden: not a holder portal's key", body = super::error::ErrorBody), (status = 404, description = "A licence named is not the holder's", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn authorise(
    State(platform): State<AppState>,
    Holder(call): Holder,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request: AuthorisationRequest = super::json_body::parse(&body, &[])?;
    let view = platform.holders.authorise(&call, &request, OffsetDateTime::now_utc()).await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

#[utoipa::path(delete, path = "/api/v1/authorisations/{code}", tag = "holder", params(("code" = String, Path), ("X-Holder-Assertion" = String, Header, description = "The holder assertion of the authorisation's holder: a compact JWS (EdDSA or ES256, typ holder-assertion+jwt) signed by the calling portal (any portal), used once; see the README")), responses((status = 204, description = "Revoked"), (status = 404, description = "Unknown, revoked already, or another holder's", body = super::error::ErrorBody), (status = 401, description = "No or bad portal key (unauthorised), or no usable holder assertion: holder_assertion_required, holder_assertion_invalid, holder_assertion_expired, holder_assertion_replayed", body = super::error::ErrorBody), (status = 403, description = "forbidden: not a holder portal's key", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn revoke_authorisation(
    State(platform): State<AppState>,
    Holder(call): Holder,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    platform.holders.revoke_authorisation(&call, &code, OffsetDateTime::now_utc()).await?;
    Ok(StatusCode::NO_CONTENT)
}
