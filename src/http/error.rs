//! The one error response of the API: JSON `{code, message}` with a stable code.
//! Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::platform::PlatformError;

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

/// The error body every endpoint answers with (for the OpenAPI document).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_field`, `forbidden`, `rate_limited`.
    #[schema(example = "invalid_field")]
    pub code: String,
    /// What is wrong, for people.
    #[schema(
        example = "invalid holder.code: 统一社会信用代码 (unified social credit code) check character is wrong: expected 'D', got 'X'"
    )]
    pub message: String,
}

impl ApiError {
    /// An error with a status, stable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        let status = match &e {
            PlatformError::InvalidInput { .. }
            | PlatformError::InvalidField { .. }
            | PlatformError::IdempotencyKeyRequired
            | PlatformError::Seal(_) => StatusCode::BAD_REQUEST,
            PlatformError::Unauthorised(_) => StatusCode::UNAUTHORIZED,
            PlatformError::Forbidden(_) => StatusCode::FORBIDDEN,
            PlatformError::RateLimited { retry_after_secs } => {
                let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, e.code(), e.to_string());
                e.retry_after = Some(*retry_after_secs);
                return e;
            }
            PlatformError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PlatformError::NotFound(_) => StatusCode::NOT_FOUND,
            PlatformError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        if e.is_client_error() {
            Self::new(status, e.code(), e.to_string())
        } else {
            tracing::error!(error = %e, "request failed");
            Self::new(status, e.code(), "the service cannot answer this request now")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(Body { code: self.code, message: &self.message })).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}
