//! The licence API: issue (`POST /api/v1/licences`, with a PDF, an OFD, both, or as a
//! data-only licence) and fetch the signed PDF or OFD.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::auth::Client;
use super::error::ApiError;
use super::state::AppState;
use crate::licence::{DocumentKind, LicenceInput};
use crate::platform::{IssueRequest, IssuedLicence, Original};

/// Largest issuing request body.
pub const MAX_ISSUE_BODY: usize = 256 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/licences", post(issue).layer(DefaultBodyLimit::max(MAX_ISSUE_BODY)))
        .route("/api/v1/licences/{id}/pdf", get(pdf))
        .route("/api/v1/licences/{id}/ofd", get(ofd))
        .route("/api/v1/licences/{id}/versions", post(renew).layer(DefaultBodyLimit::max(MAX_ISSUE_BODY)))
}

/// `POST /api/v1/licences` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// The seal to sign with (one of the client's department's, or of a department whose
    /// active delegation to the client names it and the type): it signs the QR token, and
    /// the PDF (Ed25519 or P-256 seals) or, for `"document": "ofd"`, the OFD (SM2 seals).
    pub seal_id: String,
    /// For `"document": "both"` only: the SM2 seal of the same department that signs the
    /// OFD (`seal_id` signs the PDF and the token).
    #[serde(default)]
    pub ofd_seal_id: Option<String>,
    /// The licence type code.
    pub type_code: String,
    /// The licence content, as in `templates/examples/`.
    pub licence: LicenceInput,
    /// The document to issue: `pdf` (the default: the signed A4 PDF, Ed25519 or P-256
    /// seals), `ofd` (the same page as an OFD with a GB/T 38540 seal signature, SM2 seals),
    /// `both` (PDF and OFD of one record under one identifier and one QR token; name the
    /// OFD's SM2 seal in `ofd_seal_id`) or `none` (a data-only licence: register entry,
    /// record and signed QR token, no file). Another value is refused with 422
    /// `unknown_document`.
    // Read as text, so that an unknown name gets its own answer rather than serde's 400.
    #[serde(default)]
    #[schema(value_type = Option<DocumentKind>, default = "pdf")]
    pub document: Option<String>,
    /// When the documents are made: `now` (the default) or `on_download` — the record and
    /// the QR token are stored now, the PDF and/or OFD are rendered, signed and
    /// time-stamped on first download (their signing time is then) and stored; the
    /// storage-saving mode for bulk conversion.
    #[serde(default)]
    pub render: Render,
}

/// When a licence's documents are made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Render {
    /// With the licence.
    #[default]
    Now,
    /// On first download.
    OnDownload,
}

impl IssueBody {
    /// The document asked for: `pdf` when left out; an unknown name is 422
    /// `unknown_document`.
    fn document(&self) -> Result<DocumentKind, ApiError> {
        match &self.document {
            None => Ok(DocumentKind::default()),
            Some(name) => name.parse().map_err(|e: crate::signing::ParseEnumError| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_document", e.to_string())
            }),
        }
    }
}

/// The answer to an issuing request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedBody {
    /// 电子证照标识.
    pub identifier: String,
    /// The QR token as it appears in the URL.
    pub token: String,
    /// The verification URL (the QR code's text).
    pub url: String,
    /// SHA-256 of the licence record, hex.
    pub record_hash: String,
    /// The documents it was issued with: `pdf`, `ofd`, `both`, or `none` for a data-only
    /// licence.
    pub document: DocumentKind,
    /// Where to fetch the signed PDF (the command line: where it wrote it); `null` without
    /// a PDF.
    pub pdf: Option<String>,
    /// Where to fetch the signed OFD (the command line: where it wrote it); `null` without
    /// an OFD.
    pub ofd: Option<String>,
}

impl IssuedBody {
    /// The answer for `issued`, whose PDF and OFD (those it has) are at `pdf` and `ofd`.
    pub fn new(issued: &IssuedLicence, pdf: String, ofd: String) -> Self {
        Self {
            identifier: issued.identifier.clone(),
            token: crate::token::encode_for_url(&issued.token),
            url: issued.url.clone(),
            record_hash: hex::encode(&issued.record_hash),
            document: issued.document.kind(),
            // Deferred documents are made on first download from the same place.
            pdf: issued.document.kind().has_pdf().then_some(pdf),
            ofd: issued.document.kind().has_ofd().then_some(ofd),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/licences", tag = "issue", request_body(content = IssueBody, example = json!(issue_example())), params(("Idempotency-Key" = String, Header, description = "Required (1–128 ASCII characters; 400 idempotency_key_required without it): retries with the same key and body return the same licence, the same key with another body answers 409")), responses((status = 201, description = "Issued", body = IssuedBody), (status = 200, description = "Replayed for the same Idempotency-Key", body = IssuedBody), (status = 409, description = "Idempotency-Key reused with another body, or the seal is revoked", body = super::error::ErrorBody), (status = 422, description = "`unknown_document`: a `document` other than `pdf`, `ofd`, `both` or `none`; `document_unsupported_for_seal`: a PDF asked of a seal whose algorithm signs no PDF (SM2), an OFD of a seal that is not SM2; `unprocessable`: valid input that cannot be rendered (e.g. does not fit the page)", body = super::error::ErrorBody), (status = 400, description = "Invalid input, or no Idempotency-Key (idempotency_key_required)", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: not allowed for this client; `no_delegation`: another department's seal, and no active delegation of that department to this client names the type and the seal", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn issue(
    State(platform): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    issue_or_renew(platform, client, headers, body, None).await
}

/// `POST /api/v1/licences/{id}/versions`: a renewal or change as a new version that
/// replaces the current one (same body as issuing).
#[utoipa::path(post, path = "/api/v1/licences/{id}/versions", tag = "issue", request_body = IssueBody, params(("id" = String, Path, description = "The current version's identifier"), ("Idempotency-Key" = String, Header, description = "Required (1–128 ASCII characters; 400 idempotency_key_required without it): retries with the same key and body return the same new version")), responses((status = 201, description = "The new version", body = IssuedBody), (status = 200, description = "Replayed for the same Idempotency-Key", body = IssuedBody), (status = 409, description = "Already replaced, or revoked/cancelled", body = super::error::ErrorBody), (status = 422, description = "`unknown_document`, `document_unsupported_for_seal` or `unprocessable`, as for issuing", body = super::error::ErrorBody), (status = 400, description = "Invalid input, or no Idempotency-Key (idempotency_key_required)", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`forbidden`: not allowed for this client; `no_delegation`: another department's seal, and no active delegation of that department to this client names the type and the seal", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn renew(
    State(platform): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    issue_or_renew(platform, client, headers, body, Some(id)).await
}

async fn issue_or_renew(
    platform: AppState,
    client: crate::store::ClientRecord,
    headers: HeaderMap,
    body: Bytes,
    renews: Option<String>,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let body: IssueBody =
        super::json_body::parse(&body, &["/licence", "/licence/holder", "/licence/matter"])?;
    let document = body.document()?;
    let render = body.render;
    // A licence is a legal document: a blind retry must not issue a second one. A missing
    // key is refused by the platform (400 idempotency_key_required) after the client's
    // rights, so that a client that may not issue learns that first.
    let idempotency_key = idempotency_key(&headers)?;
    let request = IssueRequest {
        seal_id: body.seal_id,
        ofd_seal_id: body.ofd_seal_id,
        type_code: body.type_code,
        input: body.licence,
        document,
        client: Some(client),
        idempotency_key,
        renews,
    };
    let now = OffsetDateTime::now_utc();
    let issued = match render {
        Render::Now => platform.issuing.issue(request, now).await?,
        Render::OnDownload => platform.issuing.issue_deferred(request, now).await?,
    };
    let status = if issued.replayed { StatusCode::OK } else { StatusCode::CREATED };
    let resource = format!("/api/v1/licences/{}", issued.identifier);
    let body = IssuedBody::new(&issued, format!("{resource}/pdf"), format!("{resource}/ofd"));
    let mut response = (status, Json(body)).into_response();
    // The licence resource (`GET /api/v1/licences/{id}`), not one of its representations.
    if let Ok(location) = HeaderValue::from_str(&resource) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if issued.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// 415 unless the body is declared `application/json`.
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json",
        ));
    }
    Ok(())
}

/// The `Idempotency-Key` header, if sent: 1–128 printable ASCII characters. A missing key
/// is refused by the platform (400 idempotency_key_required) after the client's rights,
/// so that a client that may not issue learns that first.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    Ok(match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = String::from_utf8_lossy(v.as_bytes());
            let key = key.trim();
            if key.is_empty()
                || key.len() > crate::platform::MAX_IDEMPOTENCY_KEY
                || !key.bytes().all(|b| (0x20..0x7f).contains(&b))
            {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    "Idempotency-Key must be 1–128 printable ASCII characters",
                ));
            }
            Some(key.to_owned())
        }
    })
}

/// The request example: the food business licence of `templates/examples/`.
fn issue_example() -> serde_json::Value {
    let licence: serde_json::Value =
        serde_json::from_str(include_str!("../../templates/examples/food-business-licence.json"))
            .unwrap_or_default();
    json!({"seal_id": "31011500000001", "type_code": "11100000000013338W002", "document": "pdf", "licence": licence})
}

#[utoipa::path(get, path = "/api/v1/licences/{id}/pdf", tag = "register", params(("id" = String, Path), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "The signed PDF, to the issuer or a reader with the holder's X-Authorisation-Code", content_type = "application/pdf"), (status = 400, description = "No or a bad X-Purpose or X-Matter-Code (readers other than the issuer)", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`original_requires_holder_authorisation` on a duty basis; `forbidden` without a basis — the same whether or not the licence exists", body = super::error::ErrorBody), (status = 404, description = "`not_found`: a malformed identifier, or (to the issuer or an authorised reader) no such licence; `no_document`: (to them) a data-only licence, issued without a PDF", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn pdf(
    State(platform): State<AppState>,
    super::register::AccessHeaders(access): super::register::AccessHeaders,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bytes =
        platform.register.read_original(&access, &id, Original::Pdf, OffsetDateTime::now_utc()).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

#[utoipa::path(get, path = "/api/v1/licences/{id}/ofd", tag = "register", params(("id" = String, Path), ("X-Purpose" = String, Header, description = "Why the licence is read (1–200 characters); required"), ("X-Authorisation-Code" = Option<String>, Header, description = "The holder's authorisation code, as a legal basis"), ("X-Matter-Code" = Option<String>, Header, description = "The matter (事项编码) the client's duty covers, as a legal basis")), responses((status = 200, description = "The signed OFD (GB/T 33190 with a GB/T 38540 seal signature), to the issuer or a reader with the holder's X-Authorisation-Code — the same rules as the PDF", content_type = "application/ofd"), (status = 400, description = "No or a bad X-Purpose or X-Matter-Code (readers other than the issuer)", body = super::error::ErrorBody), (status = 401, description = "No or bad API key", body = super::error::ErrorBody), (status = 403, description = "`original_requires_holder_authorisation` on a duty basis; `forbidden` without a basis — the same whether or not the licence exists", body = super::error::ErrorBody), (status = 404, description = "`not_found`: a malformed identifier, or (to the issuer or an authorised reader) no such licence; `no_document`: (to them) a licence issued without an OFD", body = super::error::ErrorBody), (status = 408, description = "The request took too long", body = super::error::ErrorBody), (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody), (status = 503, description = "The register cannot answer now", body = super::error::ErrorBody)), security(("bearer" = [])))]
async fn ofd(
    State(platform): State<AppState>,
    super::register::AccessHeaders(access): super::register::AccessHeaders,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bytes =
        platform.register.read_original(&access, &id, Original::Ofd, OffsetDateTime::now_utc()).await?;
    Ok(([(header::CONTENT_TYPE, "application/ofd")], bytes).into_response())
}
