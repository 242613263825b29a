//! `GET /api/v1/delegations`: the active delegations granted to the calling client, so
//! that a one-window system (综合窗口) knows which licence types and seals of other
//! departments it may issue with.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;

use super::auth::Client;
use super::error::ApiError;
use super::state::AppState;
use crate::platform::DelegationView;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/delegations", get(granted))
}

/// The delegations granted to the client.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DelegationsBody {
    /// Active delegations, oldest first.
    pub items: Vec<DelegationView>,
}

#[utoipa::path(get, path = "/api/v1/delegations", tag = "issue", responses((status = 200, description = "The active delegations granted to this client: per delegating department, the licence types and seals it may issue with (POST /api/v1/licences with such a seal answers 403 `no_delegation` for anything not listed)", body = DelegationsBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "Not a department client's key", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn granted(
    State(platform): State<AppState>,
    Client(client): Client,
) -> Result<Json<DelegationsBody>, ApiError> {
    let granted = platform.delegations.granted_to(&client).await?;
    Ok(Json(DelegationsBody { items: granted.iter().map(DelegationView::from).collect() }))
}
