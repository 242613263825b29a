//! `GET /api/v1/audit/checkpoint`: the newest signed checkpoint of the access log, public
//! so that anyone (a holder, a relying department, a peer platform) can keep copies outside
//! the platform's database and later hold the log to them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::error::ApiError;
use super::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit/checkpoint", get(checkpoint))
}

/// The newest checkpoint: the access log's head (sequence number and hash) and the time,
/// signed by the platform's checkpoint signer, whose certificate (inside) the Ed25519 root
/// issued. It tells how many entries the log has, nothing about them. Check a log against
/// it with `zhengzhao audit verify --checkpoint FILE`.
#[utoipa::path(get, path = "/api/v1/audit/checkpoint", tag = "audit", responses((status = 200, description = "The newest signed checkpoint", body = crate::audit_checkpoint::Checkpoint), (status = 404, description = "No checkpoint signed yet (no_checkpoint)", body = super::error::ErrorBody)))]
async fn checkpoint(State(platform): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let checkpoint = platform.audit.latest_checkpoint()?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "no_checkpoint", "no access log checkpoint has been signed yet")
    })?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(checkpoint)))
}
