//! `/healthz`: liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::error::ApiError;
use super::state::AppState;

/// The answer of `/healthz`.
#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and readiness: answers 200 when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "The service and its database answer")))]
pub(super) async fn healthz(State(platform): State<AppState>) -> Result<Json<Health>, ApiError> {
    platform.store.ping().await.map_err(|e| ApiError::from(crate::platform::PlatformError::from(e)))?;
    Ok(Json(Health { status: "ok", database: "ok" }))
}
