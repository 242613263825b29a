//! The home page (`GET /`): what the service is, in Chinese and English, and a form that
//! verifies an uploaded PDF or a pasted QR text (URL, token or identifier) and answers the
//! same report page as `/v/{token}` (`POST /verify`, or `GET /verify?q=` for text). No
//! JavaScript; the same strict Content-Security-Policy as the report page, but for the
//! form's own target.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use time::OffsetDateTime;
use tower_http::limit::RequestBodyLimitLayer;

use super::error::ApiError;
use super::report_page::{html_response, report_response};
use super::state::AppState;
use super::verify::{MAX_UPLOAD_BYTES, log_report, seal_svg, verify_document};
use crate::verify::Report;

/// The home page's Content-Security-Policy: as the report page's, but its form may post
/// to this origin.
const HOME_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Longest pasted QR text taken (a QR code holds at most 4,296 characters).
pub const MAX_QR_TEXT_CHARS: usize = 4296;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/verify", get(verify_text).post(verify_form))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_UPLOAD_BYTES))
}

#[derive(Template)]
#[template(path = "html/home.html")]
struct HomePage<'a> {
    error: Option<&'a str>,
    text: &'a str,
}

fn home_page(status: StatusCode, error: Option<&str>, text: &str) -> Response {
    match (HomePage { error, text }).render() {
        Ok(html) => html_response(status, HOME_CSP, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering the home page");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                HOME_CSP,
                "<!doctype html><title>Error</title><p>页面暂时无法显示。The page cannot be shown now.</p>"
                    .into(),
            )
        }
    }
}

/// An error of the form, as the home page with the message above the form.
fn form_error(error: &ApiError, text: &str) -> Response {
    home_page(error.status(), Some(error.message()), text)
}

/// The home page with the verification form.
#[utoipa::path(get, path = "/", tag = "verify", responses((status = 200, description = "HTML home page with a verification form", content_type = "text/html")))]
async fn home() -> Response {
    home_page(StatusCode::OK, None, "")
}

#[derive(serde::Deserialize)]
struct TextQuery {
    #[serde(default)]
    q: String,
}

/// The report page for pasted QR text or an identifier (`GET /verify?q=…`).
#[utoipa::path(get, path = "/verify", tag = "verify", params(("q" = String, Query, description = "The QR text: URL, token or licence identifier")), responses((status = 200, description = "HTML report page", content_type = "text/html"), (status = 400, description = "HTML: nothing given, or not a licence QR code", content_type = "text/html"), (status = 429, description = "HTML: rate limited", content_type = "text/html")))]
async fn verify_text(
    State(platform): State<AppState>,
    query: Result<Query<TextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let text = query.map(|Query(q)| q.q).unwrap_or_default();
    match report_for_text(&platform, &text).await {
        Ok(report) => page_for(&platform, &report, &text).await,
        Err(e) => form_error(&e, &text),
    }
}

/// The report page for the home page's form: a PDF or OFD (file field `pdf`, or `ofd` or
/// `file`; told apart by their first bytes) or QR text (field `q`).
#[utoipa::path(post, path = "/verify", tag = "verify", request_body(content_type = "multipart/form-data", description = "Field `pdf` (a PDF or OFD file; `ofd` and `file` are accepted too) or field `q` (QR text: URL, token or licence identifier)"), responses((status = 200, description = "HTML report page", content_type = "text/html"), (status = 400, description = "HTML: nothing given, a malformed form, or unreadable input", content_type = "text/html"), (status = 413, description = "HTML: larger than 32 MB", content_type = "text/html"), (status = 422, description = "HTML: the document could not be verified within 10 s", content_type = "text/html"), (status = 429, description = "HTML: rate limited", content_type = "text/html"), (status = 503, description = "HTML: too many document verifications at once", content_type = "text/html")))]
async fn verify_form(State(platform): State<AppState>, request: Request) -> Response {
    let (pdf, text) = match read_form(&platform, request).await {
        Ok(form) => form,
        Err(e) => return form_error(&e, ""),
    };
    let result = match pdf {
        Some(file) => verify_document(&platform, file, None, OffsetDateTime::now_utc(), None).await,
        None => report_for_text(&platform, &text).await,
    };
    match result {
        Ok(report) => page_for(&platform, &report, &text).await,
        Err(e) => form_error(&e, &text),
    }
}

/// The form's fields: a non-empty file (`pdf`, `ofd` or `file`), and the `q` text.
async fn read_form(platform: &AppState, request: Request) -> Result<(Option<Vec<u8>>, String), ApiError> {
    let bad_form = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_multipart",
            "表单无法读取。The form could not be read.",
        )
    };
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "文件过大（最大 32 MB）。The file is too large (at most 32 MB).",
        )
    };
    let mut multipart = Multipart::from_request(request, platform).await.map_err(|_| bad_form())?;
    let (mut pdf, mut text) = (None, String::new());
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if too_large_error(&e) => return Err(too_large()),
            Err(_) => return Err(bad_form()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes =
            field.bytes().await.map_err(|e| if too_large_error(&e) { too_large() } else { bad_form() })?;
        match name.as_str() {
            "pdf" | "ofd" | "file" if !bytes.is_empty() => pdf = Some(bytes.to_vec()),
            "q" => text = String::from_utf8(bytes.to_vec()).map_err(|_| bad_form())?,
            _ => {}
        }
    }
    Ok((pdf, text))
}

/// Whether a multipart error is the body limit (it shows as a stream error whose cause is
/// the length limit).
fn too_large_error(e: &axum::extract::multipart::MultipartError) -> bool {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return true;
    }
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        if c.to_string().contains("length limit exceeded") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Verifies pasted text: a licence identifier against the register, else a QR URL or token.
async fn report_for_text(platform: &AppState, text: &str) -> Result<Report, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "请选择 PDF 文件，或粘贴二维码内容。Choose a PDF file, or paste the QR code's text.",
        ));
    }
    if text.chars().count() > MAX_QR_TEXT_CHARS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!(
                "内容过长，不是证照二维码。The text is longer than a QR code holds ({MAX_QR_TEXT_CHARS} characters)."
            ),
        ));
    }
    let now = OffsetDateTime::now_utc();
    let report = if text.starts_with(crate::token::LICENCE_ID_ROOT) {
        platform.verification.verify_identifier(text, now).await?
    } else {
        platform.verification.verify_token_text(text, now).await?
    };
    Ok(report)
}

async fn page_for(platform: &AppState, report: &Report, text: &str) -> Response {
    log_report(report, "form");
    match report_response(report, seal_svg(platform, report).await) {
        Ok(response) => response,
        Err(e) => form_error(&e, text),
    }
}
