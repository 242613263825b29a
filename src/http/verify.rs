//! Public verification: the page a phone camera opens (`GET /v/{token}`), the JSON API
//! (`POST /api/v1/verify`: a token, a URL, an identifier, or a PDF upload) and nothing
//! else. No key is needed; requests are rate-limited per client address, and nothing
//! personal is logged (only the verdict and the failed check's code).

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use time::OffsetDateTime;
use tower_http::limit::RequestBodyLimitLayer;

use super::error::ApiError;
use super::report_page::{report_response, unreadable_sentence};
use super::state::AppState;
use crate::platform::PlatformError;
use crate::verify::{Check, Outcome, Report, Subject, Verdict};

/// Largest upload `POST /api/v1/verify` accepts (the PDF plus multipart framing).
pub const MAX_UPLOAD_BYTES: usize = crate::platform::MAX_VERIFY_PDF_BYTES + 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v/{token}", get(page))
        .route("/api/v1/verify", post(verify))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
}

pub(super) fn log_report(report: &Report, via: &'static str) {
    tracing::info!(
        via,
        subject = ?report.subject,
        verdict = ?report.verdict,
        failed = report.first_failure().map_or("", |c| c.code),
        "verified"
    );
}

/// What `POST /api/v1/verify` takes as JSON: exactly one of the three.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The QR token (base32) …
    #[serde(default)]
    pub token: Option<String>,
    /// … or the whole QR URL …
    #[serde(default)]
    pub url: Option<String>,
    /// … or a licence identifier (looked up in the register).
    #[serde(default)]
    pub identifier: Option<String>,
}

/// Verifies a token, URL, identifier, PDF or OFD and answers the report. Unreadable input
/// (not a token, not a PDF or OFD) answers 422 with code `unreadable_input`.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verify",
    request_body(
        description = "JSON {token} | {url} | {identifier}; or the PDF or OFD as multipart/form-data field `pdf`, `ofd` or `file` (told apart by their first bytes); or the raw PDF as application/pdf, the raw OFD as application/ofd. At most 32 MB.",
        content(
            (VerifyRequest = "application/json", example = json!({"identifier": "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"})),
            (String = "application/pdf"),
            (String = "application/ofd"),
        )
    ),
    responses(
        (status = 200, description = "The verification report (whatever its verdict)", body = Report),
        (status = 400, description = "Neither token, url nor identifier; or a malformed upload", body = super::error::ErrorBody),
        (status = 413, description = "Larger than 32 MB", body = super::error::ErrorBody),
        (status = 415, description = "Not JSON, multipart, PDF or OFD", body = super::error::ErrorBody),
        (status = 422, description = "Not a token, PDF or OFD (code unreadable_input), a PDF with more structure than a licence could have (pdf_too_complex), an OFD beyond the package limits (ofd_too_complex), or the document took too long (verification_timeout)", body = super::error::ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody),
        (status = 503, description = "Too many document verifications at once (busy)", body = super::error::ErrorBody)
    )
)]
async fn verify(State(platform): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let report = if content_type.starts_with("application/json") {
        let bytes = axum::body::Bytes::from_request(request, &platform)
            .await
            .map_err(|e| body_error(e.status(), "invalid_body", e.body_text()))?;
        let body: VerifyRequest = super::json_body::parse(&bytes, &[])?;
        match (body.token, body.url, body.identifier) {
            (Some(text), None, None) | (None, Some(text), None) => {
                platform.verification.verify_token_text(&text, now).await?
            }
            (None, None, Some(id)) => platform.verification.verify_identifier(&id, now).await?,
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    "give exactly one of token, url or identifier",
                ));
            }
        }
    } else if content_type.starts_with("multipart/form-data") {
        let file = multipart_file(
            Multipart::from_request(request, &platform)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text()))?,
        )
        .await?;
        verify_document(&platform, file, None, now).await?
    } else if let Some(declared) = raw_document_type(&content_type) {
        let bytes = axum::body::Bytes::from_request(request, &platform)
            .await
            .map_err(|e| body_error(e.status(), "invalid_body", e.body_text()))?;
        verify_document(&platform, bytes.to_vec(), declared, now).await?
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json, multipart/form-data (field pdf, ofd or file), application/pdf or application/ofd",
        ));
    };
    log_report(&report, "api");
    if let Some(unreadable) = report.check("input.read").filter(|c| c.outcome == Outcome::Failed) {
        return Err(unreadable_error(report.subject, unreadable));
    }
    Ok(Json(report).into_response())
}

/// The 422 for an input that could not be read: a plain sentence in both languages, not
/// the decoder's words; a PDF refused by a limit on its structure says so, with its code.
fn unreadable_error(subject: Subject, check: &Check) -> ApiError {
    let (code, zh, en) = unreadable_sentence(subject, check);
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, format!("{zh} {en}"))
}

/// A raw upload's document type by its media type: `application/pdf` is read as a PDF,
/// `application/ofd` as an OFD, `application/octet-stream` as its first bytes say (`None`);
/// another type is no document.
fn raw_document_type(content_type: &str) -> Option<Option<Subject>> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        "application/pdf" => Some(Some(Subject::Pdf)),
        "application/ofd" => Some(Some(Subject::Ofd)),
        "application/octet-stream" => Some(None),
        _ => None,
    }
}

/// The first file field named `pdf`, `ofd` or `file`.
async fn multipart_file(mut multipart: Multipart) -> Result<Vec<u8>, ApiError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        // The body limit shows as a stream error whose cause is the length limit.
        let mut cause: Option<&dyn std::error::Error> = Some(&e);
        let mut too_large = false;
        while let Some(c) = cause {
            too_large |= c.to_string().contains("length limit exceeded");
            cause = c.source();
        }
        let status = if too_large { StatusCode::PAYLOAD_TOO_LARGE } else { e.status() };
        body_error(status, "invalid_multipart", e.body_text())
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if matches!(field.name(), Some("pdf" | "ofd" | "file")) {
            return Ok(field.bytes().await.map_err(bad)?.to_vec());
        }
    }
    Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", "no form field named pdf, ofd or file"))
}

/// A body that could not be read: too large (413 `payload_too_large`) or malformed.
fn body_error(status: StatusCode, code: &'static str, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "payload_too_large",
            format!("the upload is larger than {MAX_UPLOAD_BYTES} bytes"),
        )
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, code, text)
    }
}

/// Verifies an uploaded PDF or OFD (read on a blocking thread), with a slot limit and a
/// time limit: as `declared`, or as its first bytes say when `None`.
pub(super) async fn verify_document(
    platform: &AppState,
    file: Vec<u8>,
    declared: Option<Subject>,
    now: OffsetDateTime,
) -> Result<Report, ApiError> {
    let subject = declared.unwrap_or_else(|| crate::verify::Input::document(&file).subject());
    let what = if subject == Subject::Ofd { "OFD" } else { "PDF" };
    if file.is_empty() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable_input", "the file is empty"));
    }
    if file.len() > crate::platform::MAX_VERIFY_PDF_BYTES {
        // The body limit leaves room for multipart framing; the document itself has its own.
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the {what} is larger than {} bytes", crate::platform::MAX_VERIFY_PDF_BYTES),
        ));
    }
    // `pdf_verify_concurrency` documents at once (bounded memory: each may hold a 32 MB file);
    // the slot goes with the work, so a verification past its time limit keeps it until
    // it really ends.
    let wait = Duration::from_secs(u64::from(platform.config.pdf_verify_wait));
    let slot = tokio::time::timeout(wait, platform.verification.pdf_slots().acquire_owned())
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many document verifications at once; retry",
            )
        })?
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "shutting down"))?;
    let platform = platform.clone();
    let limit = platform.config.pdf_verify_timeout;
    // Its own task (the document is read on a blocking thread inside), so that the slot goes
    // with the work and is not freed when the time limit stops waiting for it.
    let task = tokio::spawn(async move {
        let _slot = slot;
        tokio::time::sleep(platform.verification.pdf_verification_hold()).await;
        match subject {
            Subject::Ofd => platform.verification.verify_ofd(file, now).await,
            _ => platform.verification.verify_pdf(file, now).await,
        }
    });
    match tokio::time::timeout(Duration::from_secs(u64::from(limit)), task).await {
        Err(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verification_timeout",
            format!("the {what} could not be verified within {limit} s"),
        )),
        Ok(Err(join)) => {
            tracing::error!(error = %join, document = what, "document verification task failed");
            Err(ApiError::from(PlatformError::Task(format!("the {what} could not be verified"))))
        }
        Ok(Ok(result)) => Ok(result?),
    }
}

/// The verification page for a QR token.
#[utoipa::path(get, path = "/v/{token}", tag = "verify", params(("token" = String, Path, description = "The QR token, base32 (any letter case)")), responses((status = 200, description = "HTML page with the verdict", content_type = "text/html"), (status = 400, description = "HTML page: the QR code is not a licence token", content_type = "text/html"), (status = 429, description = "HTML page: rate limited; see Retry-After", content_type = "text/html")))]
async fn page(
    State(platform): State<AppState>,
    uri: axum::http::Uri,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    // A path that is not UTF-8 once decoded (`/v/%FF`) is an unreadable token: the page
    // says so, as for any other text that is not a token.
    let token = match token {
        Ok(Path(token)) => token,
        Err(_) => uri.path().trim_start_matches("/v/").to_owned(),
    };
    let report = platform.verification.verify_token_text(&token, now).await?;
    log_report(&report, "page");
    report_response(&report, seal_svg(&platform, &report).await)
}

/// The seal's picture for the page, when the seal is the licence's authentic signer.
pub(super) async fn seal_svg(platform: &AppState, report: &Report) -> Option<String> {
    match (&report.seal, report.verdict) {
        (Some(seal), Verdict::Valid | Verdict::Indeterminate) => {
            platform.verification.seal_svg(&seal.id).await.ok().map(|s| s.as_str().to_owned())
        }
        _ => None,
    }
}
