//! The HTTP service: `pub fn app(state) -> Router`. Handlers are thin: extract, call a
//! platform service, `?`; [`ApiError`] decides what a client sees.

mod audit;
mod auth;
mod bundle_page;
mod bundles;
mod capacity;
mod client_ip;
mod delegations;
mod error;
mod headers;
mod health;
mod holder;
mod home;
mod imports;
mod json_body;
mod licences;
mod openapi;
mod pki;
mod register;
mod report_page;
mod state;
mod tsa;
mod verify;

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::Authenticated;
pub use capacity::{Gate, LowPriorityPool};
pub use client_ip::{ClientIp, client_ip};
pub use error::{ApiError, ErrorBody, MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_URI_BYTES};
pub use licences::IssuedBody;
pub use openapi::ApiDoc;
pub use report_page::render_page;
pub use state::AppState;
pub use tsa::{TIMESTAMP_QUERY, TIMESTAMP_REPLY};
pub use verify::MAX_UPLOAD_BYTES;

/// Largest request body accepted anywhere (later endpoints set tighter limits).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Time limit for one request by default (`request_timeout` sets it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a request waits at a full gate (public or API capacity) before 503 `busy`.
pub const GATE_WAIT: Duration = Duration::from_secs(2);

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Public and authenticated traffic each pass their own gate; `/healthz` passes none.
    // Public work runs at a lower priority, and its refusals are paced (see capacity.rs).
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let public = Gate::paced(
        "public",
        state.config.public_concurrency,
        GATE_WAIT,
        Duration::from_millis(u64::from(state.config.refusal_delay_ms)),
        capacity::LowPriorityPool::shared(cores, state.config.public_nice),
    );
    let authenticated = Gate::new("api", state.config.api_concurrency, GATE_WAIT);
    // Import jobs take JSONL bodies up to their own limit, past the API's.
    let import_routes = imports::routes()
        .route_layer(axum::middleware::from_fn_with_state(authenticated.clone(), capacity::gated))
        .route_layer(axum::middleware::from_fn(auth::mark_authenticated))
        .layer(RequestBodyLimitLayer::new(crate::platform::import::MAX_IMPORT_UPLOAD));
    let public_routes = Router::new()
        .merge(pki::routes())
        .merge(openapi::routes())
        .merge(audit::routes())
        .route_layer(axum::middleware::from_fn_with_state(public.clone(), capacity::gated));
    let api_routes = Router::new()
        .merge(licences::routes())
        .merge(bundles::routes())
        .merge(delegations::routes())
        .merge(register::routes())
        .merge(holder::routes())
        .merge(tsa::routes())
        .route_layer(axum::middleware::from_fn_with_state(authenticated, capacity::gated))
        .route_layer(axum::middleware::from_fn(auth::mark_authenticated));
    // Verification is rate limited per client address and its body read before it queues
    // for the gate (a slow upload holds no slot).
    let verify_routes = verify::routes()
        .merge(home::routes())
        .route_layer(axum::middleware::from_fn_with_state(public, capacity::gated))
        .route_layer(axum::middleware::from_fn_with_state(MAX_UPLOAD_BYTES, capacity::read_body_first))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), client_ip::limit_by_address));
    // Every endpoint takes at most MAX_BODY_BYTES, but verification, which takes PDFs, and
    // import jobs.
    let api = Router::new()
        .route("/healthz", get(health::healthz))
        .merge(public_routes)
        .merge(api_routes)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    let request_timeout = Duration::from_secs(u64::from(state.config.request_timeout));
    Router::new()
        .merge(api)
        .merge(import_routes)
        .merge(verify_routes)
        .fallback(not_found)
        .with_state(state)
        // The timeout's 408 is turned into JSON too: it sits inside error_form.
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(axum::middleware::from_fn(error::error_form))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// The span of a request, without what could identify a person: the token of a
/// verification page (it carries the holder's name), a holder's code and any query
/// string are left out.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let path = if path.starts_with("/v/") {
        "/v/{token}"
    } else if path.starts_with("/b/") {
        "/b/{token}"
    } else if path.starts_with("/api/v1/holders/") {
        "/api/v1/holders/{code}/…"
    } else {
        path
    };
    tracing::debug_span!("request", method = %request.method(), path = %path)
}

async fn not_found() -> ApiError {
    ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
