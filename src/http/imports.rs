//! `POST /api/v1/imports` and `GET /api/v1/imports/{id}`: bulk import jobs for operators'
//! clients (scope `import`). A job imports an uploaded JSONL body (`application/x-ndjson`,
//! at most [`MAX_IMPORT_UPLOAD`] bytes, `?source=NAME` required) or a file named relative
//! to the configured import directory (`application/json` `{"path", "source"}`); it runs
//! in the background and its state is read by id.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::Client;
use super::error::ApiError;
use super::state::AppState;
use crate::platform::import::{ImportJobInput, ImportJobView, MAX_IMPORT_UPLOAD};
use crate::platform::{PlatformError, Scope, has_scope};
use crate::store::ClientRecord;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", post(start).layer(DefaultBodyLimit::max(MAX_IMPORT_UPLOAD)))
        .route("/api/v1/imports/{id}", get(job))
}

/// The query of an upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    source: Option<String>,
}

/// A job over a file in the import directory.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportPathBody {
    /// The JSONL file, relative to the import directory (no `..`, no absolute path).
    pub path: String,
    /// The import source: the namespace in which each source_id is imported once
    /// (default: the file name without extension).
    #[serde(default)]
    pub source: Option<String>,
}

/// The answer to a started job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportStarted {
    /// The job id.
    pub id: String,
    /// `running`.
    pub status: String,
    /// Where its state is read.
    pub location: String,
}

fn may_import(client: &ClientRecord) -> Result<(), ApiError> {
    if has_scope(client, Scope::Import) {
        return Ok(());
    }
    Err(PlatformError::Forbidden("imports need an API client with the import scope".into()).into())
}

/// The media type without parameters, lower case.
fn media_type(request: &Request) -> String {
    let value = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Starts an import job: an uploaded JSONL body, or a file in the import directory.
#[utoipa::path(
    post,
    path = "/api/v1/imports",
    tag = "imports",
    params(("source" = Option<String>, Query, description = "For an upload (required): the import source, 1–64 of A-Z a-z 0-9 . _ : -; each source_id is imported once per source")),
    request_body(
        description = "Either a JSONL body (application/x-ndjson, at most 64 MiB): one licence per line, the issuing API's body plus source_id and optionally issued_on; or application/json {\"path\", \"source\"} naming a file under the import directory",
        content((String = "application/x-ndjson"), (ImportPathBody = "application/json")),
    ),
    responses(
        (status = 202, description = "The job started", body = ImportStarted),
        (status = 400, description = "No source for an upload, a bad source, a path outside the import directory or missing (invalid_input)", body = super::error::ErrorBody),
        (status = 401, description = "No or bad API key", body = super::error::ErrorBody),
        (status = 403, description = "The client has no import scope (forbidden)", body = super::error::ErrorBody),
        (status = 413, description = "Body over 64 MiB (payload_too_large)", body = super::error::ErrorBody),
        (status = 415, description = "Neither application/x-ndjson nor application/json (unsupported_media_type)", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn start(
    State(platform): State<AppState>,
    Client(client): Client,
    query: Result<Query<UploadQuery>, QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    may_import(&client)?;
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let (input, source) = match media_type(&request).as_str() {
        "application/x-ndjson" | "application/jsonl" => {
            let body = Bytes::from_request(request, &platform).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    let message = format!("an uploaded import has at most {MAX_IMPORT_UPLOAD} bytes; put larger files in the import directory");
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
                }
            })?;
            (ImportJobInput::Upload(body.to_vec()), query.source)
        }
        "application/json" => {
            let Json(body) = Json::<ImportPathBody>::from_request(request, &platform)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text()))?;
            (ImportJobInput::Path(body.path), body.source.or(query.source))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send JSONL as application/x-ndjson, or {\"path\", \"source\"} as application/json",
            ));
        }
    };
    let id = platform.start_import(Some(client.id.clone()), source, input, OffsetDateTime::now_utc()).await?;
    tracing::info!(job = %id, client = %client.id, "import job started");
    let location = format!("/api/v1/imports/{id}");
    let started = ImportStarted { id, status: "running".into(), location: location.clone() };
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(started)).into_response())
}

/// An import job's status, counts and first error lines (the client's own jobs only).
#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    tag = "imports",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job", body = ImportJobView),
        (status = 401, description = "No or bad API key", body = super::error::ErrorBody),
        (status = 403, description = "The client has no import scope (forbidden)", body = super::error::ErrorBody),
        (status = 404, description = "No such job of this client (not_found)", body = super::error::ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn job(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<ImportJobView>, ApiError> {
    may_import(&client)?;
    if id.len() > 64 {
        return Err(
            PlatformError::NotFound(format!("import job {}", &id[..id.floor_char_boundary(64)])).into()
        );
    }
    Ok(Json(platform.import_job(&id, Some(&client.id)).await?))
}
