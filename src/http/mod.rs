//! The HTTP service: `pub fn app(state) -> Router`. Handlers are thin: extract, call a
//! platform service, `?`; [`ApiError`] decides what a client sees.

mod audit;
mod auth;
mod error;
mod licences;
mod openapi;
mod pki;
mod register;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::platform::Platform;

pub use error::{ApiError, ErrorBody};
pub use openapi::ApiDoc;
pub use verify::{MAX_UPLOAD_BYTES, PDF_TIME_LIMIT, render_page};

/// Largest request body accepted anywhere (later endpoints set tighter limits).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Time limit for one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared state of the handlers.
pub type AppState = Arc<Platform>;

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Every endpoint takes at most MAX_BODY_BYTES, but verification, which takes PDFs.
    let api = Router::new()
        .route("/healthz", get(healthz))
        .merge(pki::routes())
        .merge(licences::routes())
        .merge(register::routes())
        .merge(openapi::routes())
        .merge(audit::routes())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    Router::new()
        .merge(api)
        .merge(verify::routes())
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::map_response(json_rejections))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// The span of a request, without what could identify a person: the token of a
/// verification page (it carries the holder's name), a holder's code and any query
/// string are left out.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let path = if path.starts_with("/v/") {
        "/v/{token}"
    } else if path.starts_with("/api/v1/holders/") {
        "/api/v1/holders/{code}/…"
    } else {
        path
    };
    tracing::debug_span!("request", method = %request.method(), path = %path)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and readiness: answers 200 when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "The service and its database answer")))]
async fn healthz(State(platform): State<AppState>) -> Result<Json<Health>, ApiError> {
    platform.store.ping().await.map_err(|e| ApiError::from(crate::platform::PlatformError::from(e)))?;
    Ok(Json(Health { status: "ok", database: "ok" }))
}

/// Turns the plain-text rejections of extractors and limits (413, 415, 405…) into the
/// API's JSON error form.
async fn json_rejections(response: axum::response::Response) -> axum::response::Response {
    use axum::http::StatusCode;
    let status = response.status();
    let is_json = response.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported content type"),
        s if s.is_client_error() => ("bad_request", "the request cannot be processed"),
        _ => ("internal", "the service cannot answer this request now"),
    };
    axum::response::IntoResponse::into_response(ApiError::new(status, code, message))
}

async fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
