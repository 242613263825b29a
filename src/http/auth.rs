//! Bearer-key authentication of API clients.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::store::ClientRecord;

/// The API client that sent the request (`Authorization: Bearer KEY`).
#[derive(Debug, Clone)]
pub struct Client(pub ClientRecord);

impl FromRequestParts<AppState> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, platform: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(platform.authenticate(bearer_key(parts)?).await?))
    }
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
