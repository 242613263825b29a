//! Bearer-key authentication of API clients, and the mark a response carries when its
//! request was authenticated (the server holds connections back for such addresses).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use time::OffsetDateTime;

use super::error::ApiError;
use super::headers::access_header;
use super::state::AppState;
use crate::platform::{MAX_PURPOSE, PORTAL_KEY_PREFIX};
use crate::store::ClientRecord;

/// The API client that sent the request (`Authorization: Bearer KEY`).
#[derive(Debug, Clone)]
pub struct Client(pub ClientRecord);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, platform: &AppState) -> Result<Self, Self::Rejection> {
        let key = bearer_key(parts)?.to_owned();
        if key.starts_with(PORTAL_KEY_PREFIX) {
            // Refused, and logged as a department client's refusal is, with the licence named.
            let id = RawPathParams::from_request_parts(parts, platform)
                .await
                .ok()
                .and_then(|p| p.iter().find(|(name, _)| *name == "id").map(|(_, v)| v.to_owned()));
            let purpose = access_header(&parts.headers, "x-purpose", MAX_PURPOSE).ok().flatten();
            let (action, now) = (action_of(parts), OffsetDateTime::now_utc());
            let refusal =
                platform.clients.refuse_portal_key(&key, action, id.as_deref(), purpose.as_deref(), now);
            return Err(refusal.await.into());
        }
        let client = platform.clients.authenticate(&key).await?;
        note_authenticated(parts);
        Ok(Self(client))
    }
}

/// The access log's name for what a department endpoint does.
fn action_of(parts: &Parts) -> &'static str {
    let path = parts.extensions.get::<MatchedPath>().map_or("", MatchedPath::as_str);
    match (parts.method.as_str(), path) {
        ("GET", "/api/v1/licences") => "list",
        ("POST", "/api/v1/licences") => "issue",
        ("GET", "/api/v1/licences/{id}") => "read",
        ("GET", "/api/v1/licences/{id}/pdf") => "pdf",
        ("POST", "/api/v1/licences/{id}/status") => "status",
        ("GET", "/api/v1/licences/{id}/history") => "history",
        ("POST", "/api/v1/licences/{id}/versions") => "renew",
        ("POST", "/api/v1/checks") => "check",
        ("GET", "/api/v1/delegations") => "delegations",
        ("POST", "/tsa") => "timestamp",
        _ => "api",
    }
}

/// Carried by a response whose request presented a valid API key (a department client or
/// a holder portal): the server (`server.rs`) then holds connections back for the peer address
/// (`api_reserved_connections`), so that a public flood cannot lock API clients out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated;

/// Set by the extractors when a key is valid; read by [`mark_authenticated`].
#[derive(Debug, Clone, Default)]
struct KeyAccepted(Arc<AtomicBool>);

/// Records, for [`mark_authenticated`], that this request's key was valid.
pub(super) fn note_authenticated(parts: &Parts) {
    if let Some(KeyAccepted(accepted)) = parts.extensions.get::<KeyAccepted>() {
        accepted.store(true, Ordering::Release);
    }
}

/// Middleware for the authenticated routes: marks the response [`Authenticated`] when the
/// request's key was accepted.
pub(super) async fn mark_authenticated(mut request: Request, next: Next) -> Response {
    let accepted = KeyAccepted::default();
    request.extensions_mut().insert(accepted.clone());
    let mut response = next.run(request).await;
    if accepted.0.load(Ordering::Acquire) {
        response.extensions_mut().insert(Authenticated);
    }
    response
}

/// The key of `Authorization: Bearer KEY` (the scheme in either letter case), or 401.
pub(super) fn bearer_key(parts: &Parts) -> Result<&str, ApiError> {
    let unauthorised = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorised", m);
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorised("send Authorization: Bearer <API key>"))?
        .to_str()
        .map_err(|_| unauthorised("malformed Authorization header"))?;
    let key = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| unauthorised("the Authorization scheme must be Bearer"))?;
    Ok(key.trim())
}
