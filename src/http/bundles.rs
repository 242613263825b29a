//! 一件事一次办 over HTTP: `POST /api/v1/bundles` issues several licences of several
//! departments in one request of a one-window client, all or none; `GET
//! /api/v1/bundles/{id}` shows the bundle and its licences' state; `GET
//! /api/v1/bundles/{id}/receipt` is the signed receipt (办结通知书).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use time::OffsetDateTime;

use super::auth::Client;
use super::error::ApiError;
use super::licences::{idempotency_key, require_json};
use super::state::AppState;
use crate::licence::{DocumentKind, LicenceStatus};
use crate::platform::{BundleContent, BundleRequest, BundleView};
use crate::token::bundle::MAX_BUNDLE_LICENCES;

/// Largest bundle request body.
pub const MAX_BUNDLE_BODY: usize = 512 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bundles", post(issue).layer(DefaultBodyLimit::max(MAX_BUNDLE_BODY)))
        .route("/api/v1/bundles/{id}", get(show))
        .route("/api/v1/bundles/{id}/receipt", get(receipt))
}

/// A bundle and its licences.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleBody {
    /// The bundle identifier.
    pub bundle_id: String,
    /// The matter (一件事) code.
    pub matter_code: String,
    /// The matter name.
    pub matter_name: String,
    /// The applicant.
    pub applicant_name: String,
    /// When it was issued (RFC 3339).
    pub issued_at: String,
    /// The receipt's QR text: its verification page lists every licence's state.
    pub url: String,
    /// Where to fetch the signed receipt PDF.
    pub receipt: String,
    /// The licences, in the request's order.
    pub licences: Vec<BundleLicenceBody>,
}

/// One licence of a bundle.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleLicenceBody {
    /// 电子证照标识.
    pub identifier: String,
    /// Type code.
    pub type_code: String,
    /// Type name.
    pub type_name: String,
    /// Issuing department's code.
    pub issuer_code: String,
    /// Issuing department's name.
    pub issuer_name: String,
    /// Status today.
    pub status: LicenceStatus,
    /// Its documents.
    pub document: DocumentKind,
    /// SHA-256 of its record, hex.
    pub record_hash: String,
}

impl From<BundleView> for BundleBody {
    fn from(v: BundleView) -> Self {
        let b = v.bundle.record;
        Self {
            receipt: format!("/api/v1/bundles/{}/receipt", b.id),
            bundle_id: b.id,
            matter_code: b.matter_code,
            matter_name: b.matter_name,
            applicant_name: b.applicant_name,
            issued_at: b
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            url: v.url,
            licences: v
                .licences
                .into_iter()
                .map(|l| BundleLicenceBody {
                    identifier: l.identifier,
                    type_code: l.type_code,
                    type_name: l.type_name,
                    issuer_code: l.issuer_code,
                    issuer_name: l.issuer_name,
                    status: l.status,
                    document: l.document,
                    record_hash: hex::encode(l.record_hash),
                })
                .collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/bundles", tag = "issue", request_body = BundleContent, params(("Idempotency-Key" = String, Header, description = "Required (1–128 ASCII characters): a retry with the same key and body returns the same bundle; the same key with another body answers 409")), responses((status = 201, description = "Every licence of the bundle issued, with its receipt", body = BundleBody), (status = 200, description = "Replayed for the same Idempotency-Key", body = BundleBody), (status = 400, description = "`invalid_bundle`: entries are invalid, each named in `errors` (nothing was issued); `invalid_json`; `idempotency_key_required`", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: the client may not issue some entry (no delegation for its type or seal) or sign the receipt with that seal; each named in `errors`", body = super::error::ErrorBody), (status = 409, description = "Idempotency-Key reused with another body", body = super::error::ErrorBody), (status = 415, description = "Not application/json", body = super::error::ErrorBody), (status = 422, description = "`unprocessable`: valid input that cannot be rendered", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn issue(
    State(platform): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let mut objects = vec!["/matter".to_owned(), "/applicant".to_owned()];
    for i in 0..MAX_BUNDLE_LICENCES {
        objects.extend([
            format!("/licences/{i}"),
            format!("/licences/{i}/fields"),
            format!("/licences/{i}/matter"),
        ]);
    }
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    let content: BundleContent = super::json_body::parse(&body, &objects)?;
    let request = BundleRequest { client, idempotency_key: idempotency_key(&headers)?, content };
    let issued = platform.issuing.issue_bundle(request, OffsetDateTime::now_utc()).await?;
    let status = if issued.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let resource = format!("/api/v1/bundles/{}", issued.view.bundle.record.id);
    let mut response = (status, Json(BundleBody::from(issued.view))).into_response();
    if let Ok(location) = HeaderValue::from_str(&resource) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if issued.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/bundles/{id}", tag = "issue", params(("id" = String, Path, description = "The bundle identifier")), responses((status = 200, description = "The bundle and its licences' state, to the client that issued it", body = BundleBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "A holder portal's key (holder endpoints only)", body = super::error::ErrorBody), (status = 404, description = "No such bundle of this client", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn show(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<BundleBody>, ApiError> {
    let view = platform.issuing.bundle(&id, &client, OffsetDateTime::now_utc()).await?;
    Ok(Json(view.into()))
}

#[utoipa::path(get, path = "/api/v1/bundles/{id}/receipt", tag = "issue", params(("id" = String, Path, description = "The bundle identifier")), responses((status = 200, description = "The signed receipt (办结通知书), PAdES B-LTA", content_type = "application/pdf"), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "A holder portal's key (holder endpoints only)", body = super::error::ErrorBody), (status = 404, description = "No such bundle of this client", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn receipt(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let pdf = platform.issuing.bundle_receipt(&id, &client).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response())
}
