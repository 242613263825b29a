//! Public verification: the page a phone camera opens (`GET /v/{token}`), the JSON API
//! (`POST /api/v1/verify`: a token, a URL, an identifier, or a PDF or OFD upload, as of now
//! or of another moment, `at`) and nothing else. No key is needed; requests are rate-limited per client address, and nothing
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
use crate::verify::{Check, Outcome, Report, Subject, Verdict, as_of};

/// Largest upload `POST /api/v1/verify` accepts (the PDF plus multipart framing).
pub const MAX_UPLOAD_BYTES: usize = crate::platform::MAX_VERIFY_PDF_BYTES + 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v/{token}", get(page))
        .route("/b/{token}", get(super::bundle_page::page))
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

/// What `POST /api/v1/verify` takes as JSON: exactly one of token, url and identifier,
/// and optionally the moment to verify as of.
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
    /// Verify as of this moment (RFC 3339, from 2000 to 100 years ahead), to show what a
    /// verifier will see then: the report's `checked_at`, the licence's validity and the
    /// certificates are taken at it; the register's status and the CRLs are as known now.
    #[serde(default)]
    #[schema(example = "2035-01-01T00:00:00Z")]
    pub at: Option<String>,
}

/// The query of `POST /api/v1/verify`.
#[derive(Debug, serde::Deserialize)]
struct VerifyQuery {
    /// As [`VerifyRequest::at`], for any kind of body.
    at: Option<String>,
}

/// Verifies a token, URL, identifier, PDF or OFD and answers the report. Unreadable input
/// (not a token, not a PDF or OFD) answers 422 with code `unreadable_input`.
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    tag = "verify",
    params(("at" = Option<String>, Query, description = "Verify as of this moment (RFC 3339, e.g. 2035-01-01T00:00:00Z; from 2000 to 100 years ahead): what a verifier will see then, with the register's status and the CRLs as known now. Any body kind; for JSON also the member `at`, for multipart also a form field `at` (give it once).")),
    request_body(
        description = "JSON {token} | {url} | {identifier}, each optionally with {at}; or the PDF or OFD as multipart/form-data field `pdf`, `ofd` or `file` (told apart by their first bytes), optionally with a field `at`; or the raw PDF as application/pdf, the raw OFD as application/ofd. At most 32 MB.",
        content(
            (VerifyRequest = "application/json", example = json!({"identifier": "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"})),
            (String = "application/pdf"),
            (String = "application/ofd"),
        )
    ),
    responses(
        (status = 200, description = "The verification report (whatever its verdict)", body = Report),
        (status = 400, description = "Neither token, url nor identifier; a malformed upload; or an `at` that is not an RFC 3339 time from 2000 to 100 years ahead, or given twice (code invalid_at)", body = super::error::ErrorBody),
        (status = 413, description = "Larger than 32 MB", body = super::error::ErrorBody),
        (status = 415, description = "Not JSON, multipart, PDF or OFD", body = super::error::ErrorBody),
        (status = 422, description = "Not a token, PDF or OFD (code unreadable_input), a PDF with more structure than a licence could have (pdf_too_complex), an OFD beyond the package limits (ofd_too_complex), or the document took too long (verification_timeout)", body = super::error::ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = super::error::ErrorBody),
        (status = 503, description = "Too many document verifications at once (busy)", body = super::error::ErrorBody)
    )
)]
async fn verify(State(platform): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let query_at = axum::extract::Query::<VerifyQuery>::try_from_uri(request.uri())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?
        .0
        .at;
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
        verify_json(&platform, body, query_at, now).await?
    } else if content_type.starts_with("multipart/form-data") {
        let form = multipart_form(
            Multipart::from_request(request, &platform)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text()))?,
        )
        .await?;
        let at = moment(query_at, form.at, now)?;
        verify_document(&platform, form.file, None, now, at).await?
    } else if let Some(declared) = raw_document_type(&content_type) {
        // Before the body is read: a bad moment costs no upload.
        let at = moment(query_at, None, now)?;
        let bytes = axum::body::Bytes::from_request(request, &platform)
            .await
            .map_err(|e| body_error(e.status(), "invalid_body", e.body_text()))?;
        verify_document(&platform, bytes.to_vec(), declared, now, at).await?
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

/// Verifies what a JSON body names: a token or URL, or an identifier.
async fn verify_json(
    platform: &AppState,
    body: VerifyRequest,
    query_at: Option<String>,
    now: OffsetDateTime,
) -> Result<Report, ApiError> {
    let at = moment(query_at, body.at, now)?;
    let v = &platform.verification;
    Ok(match (body.token, body.url, body.identifier) {
        (Some(text), None, None) | (None, Some(text), None) => v.verify_token_text_at(&text, now, at).await?,
        (None, None, Some(id)) => v.verify_identifier_at(&id, now, at).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "give exactly one of token, url or identifier",
            ));
        }
    })
}

/// The moment to verify as of, from the query or the body (not both): `None` for now;
/// 400 `invalid_at` when malformed, out of bounds or given twice.
fn moment(
    query: Option<String>,
    body: Option<String>,
    now: OffsetDateTime,
) -> Result<Option<OffsetDateTime>, ApiError> {
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_at", m);
    let text = match (query, body) {
        (Some(_), Some(_)) => return Err(invalid("give at once: in the query or in the body".to_owned())),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Ok(None),
    };
    as_of::parse_as_of(&text, now).map(Some).map_err(|e| invalid(format!("at: {e}")))
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

/// What a multipart upload holds: the document and, optionally, the moment.
struct Form {
    file: Vec<u8>,
    at: Option<String>,
}

/// Longest `at` form field read (an RFC 3339 time is at most 35 characters).
const MAX_AT_FIELD: usize = 256;

/// The first file field named `pdf`, `ofd` or `file`, and the field `at` if there is one
/// (before or after it; later file fields are skipped).
async fn multipart_form(mut multipart: Multipart) -> Result<Form, ApiError> {
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
    let (mut file, mut at) = (None, None);
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("pdf" | "ofd" | "file") if file.is_none() => {
                file = Some(field.bytes().await.map_err(bad)?.to_vec())
            }
            Some("at") if at.is_none() => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_AT_FIELD {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "invalid_at",
                            "at: not an RFC 3339 time",
                        ));
                    }
                }
                at = Some(String::from_utf8_lossy(&text).into_owned());
            }
            Some("at") => return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_at", "give at once")),
            _ => {}
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", "no form field named pdf, ofd or file")
    })?;
    Ok(Form { file, at })
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
/// time limit: as `declared`, or as its first bytes say when `None`; as of `at` when given.
pub(super) async fn verify_document(
    platform: &AppState,
    file: Vec<u8>,
    declared: Option<Subject>,
    now: OffsetDateTime,
    at: Option<OffsetDateTime>,
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
        let subject = if subject == Subject::Ofd { Subject::Ofd } else { Subject::Pdf };
        platform.verification.verify_document_at(file, subject, now, at).await
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
