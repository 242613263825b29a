//! `POST /tsa`: the platform's RFC 3161 time-stamping authority for the departments' other
//! systems (RFC 3161 §3.4, time-stamp protocol via HTTP). API clients with the `timestamp`
//! scope send a DER `TimeStampReq` as `application/timestamp-query` and get a DER
//! `TimeStampResp` as `application/timestamp-reply`, granted or a rejection: a request
//! the TSA refuses is answered 200 with a rejection reply, as RFC 3161 answers it. HTTP
//! errors (JSON) are for what is not a time-stamp request at all: no key, no scope, another
//! content type, a body over [`tsa::MAX_REQUEST_BYTES`], the client's rate spent.
//!
//! The TSA's certificate chains are public, at `/pki/tsa.pem` and `/pki/tsa-ALG.pem`
//! (`pki.rs`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::Client;
use super::error::ApiError;
use super::state::AppState;
use crate::pki::Algorithm;
use crate::platform::{PlatformError, Scope, has_scope};
use crate::tsa::{self, Outcome};

/// The media type of a time-stamp request (RFC 3161 §3.4).
pub const TIMESTAMP_QUERY: &str = "application/timestamp-query";
/// The media type of a time-stamp reply (RFC 3161 §3.4).
pub const TIMESTAMP_REPLY: &str = "application/timestamp-reply";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/tsa", post(stamp).layer(DefaultBodyLimit::max(tsa::MAX_REQUEST_BYTES)))
}

/// The query of `POST /tsa`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TsaQuery {
    algorithm: Option<String>,
}

/// Time-stamps the message imprint of a DER `TimeStampReq` (RFC 3161). The unit of
/// `algorithm` signs; without it, SM2 for an SM3 imprint and P-256 for any other.
#[utoipa::path(
    post,
    path = "/tsa",
    tag = "tsa",
    params(("algorithm" = Option<String>, Query, description = "ed25519, p256 or sm2: which of the platform's time-stamping units signs. Default: sm2 for an SM3 imprint, else p256. OpenSSL 3 verifies p256 replies (openssl ts -verify); Ed25519 it cannot verify")),
    request_body(
        description = "A DER TimeStampReq (RFC 3161 §2.4.1), at most 2048 bytes: message imprint SHA-256, SHA-384, SHA-512 or SM3; no extensions; a reqPolicy only if it is the platform's",
        content((String = "application/timestamp-query")),
    ),
    responses(
        (status = 200, description = "A DER TimeStampResp: granted with a token, or a rejection (PKIStatus 2 with a PKIFailureInfo: badAlg, badDataFormat, unacceptedPolicy, unacceptedExtension) for a request the TSA refuses, malformed ones included", content_type = "application/timestamp-reply"),
        (status = 400, description = "An unknown algorithm or query parameter (invalid_query)", body = super::error::ErrorBody),
        (status = 401, description = "No or bad API key", body = super::error::ErrorBody),
        (status = 403, description = "The client has no timestamp scope (forbidden)", body = super::error::ErrorBody),
        (status = 413, description = "Body over 2048 bytes (payload_too_large)", body = super::error::ErrorBody),
        (status = 415, description = "Not application/timestamp-query (unsupported_media_type)", body = super::error::ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody),
        (status = 503, description = "The time-stamping authority cannot answer now", body = super::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
async fn stamp(
    State(platform): State<AppState>,
    Client(client): Client,
    query: Result<Query<TsaQuery>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    if !has_scope(&client, Scope::Timestamp) {
        return Err(PlatformError::Forbidden(
            "time-stamps need an API client with the timestamp scope".into(),
        )
        .into());
    }
    let algorithm = algorithm(query)?;
    if !is_timestamp_query(&request) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the DER TimeStampReq as {TIMESTAMP_QUERY}"),
        ));
    }
    let body = Bytes::from_request(request, &platform).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let message = format!("a time-stamp request has at most {} bytes", tsa::MAX_REQUEST_BYTES);
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
        }
    })?;
    let reply = platform.tsa.reply(&body, algorithm, OffsetDateTime::now_utc()).await?;
    match (&reply.response.outcome, reply.serial, reply.algorithm) {
        (Outcome::Granted, Some(serial), Some(alg)) => {
            tracing::info!(serial, algorithm = %alg, client = %client.id, "time-stamp granted");
        }
        (Outcome::Rejected(refusal), ..) => {
            tracing::info!(fail = refusal.fail.code(), client = %client.id, "time-stamp request refused");
        }
        _ => {}
    }
    Ok(([(header::CONTENT_TYPE, TIMESTAMP_REPLY), (header::CACHE_CONTROL, "no-store")], reply.response.der)
        .into_response())
}

/// The `algorithm` query parameter; 400 `invalid_query` for another parameter or name.
fn algorithm(query: Result<Query<TsaQuery>, QueryRejection>) -> Result<Option<Algorithm>, ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    query
        .algorithm
        .map(|a| {
            a.parse::<Algorithm>()
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))
        })
        .transpose()
}

/// Whether the request's content type is `application/timestamp-query` (any letter case,
/// parameters allowed).
fn is_timestamp_query(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(TIMESTAMP_QUERY))
}
