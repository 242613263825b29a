//! The one error response of the API: JSON `{code, message}` with a stable code.
//! Internal details are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::platform::PlatformError;

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
    problems: Vec<crate::platform::EntryProblem>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [crate::platform::EntryProblem],
}

/// The error body every endpoint answers with (for the OpenAPI document).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_field`, `forbidden`, `rate_limited`.
    #[schema(example = "invalid_field")]
    pub code: String,
    /// What is wrong, for people.
    #[schema(
        example = "invalid holder.code: 统一社会信用代码 (unified social credit code) check character is wrong: expected 'D', got 'X'"
    )]
    pub message: String,
    /// For a refused bundle: every faulty entry and field (left out otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<crate::platform::EntryProblem>,
}

impl ApiError {
    /// An error with a status, stable code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None, problems: vec![] }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with a `Retry-After` of `secs` seconds.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        let status = match &e {
            PlatformError::InvalidInput { .. }
            | PlatformError::InvalidField { .. }
            | PlatformError::IdempotencyKeyRequired
            | PlatformError::Seal(_) => StatusCode::BAD_REQUEST,
            PlatformError::Unauthorised(_) | PlatformError::HolderAssertion { .. } => {
                StatusCode::UNAUTHORIZED
            }
            PlatformError::Forbidden(_)
            | PlatformError::NoDelegation(_)
            | PlatformError::HolderMismatch(_)
            | PlatformError::OriginalRequiresHolderAuthorisation => StatusCode::FORBIDDEN,
            PlatformError::RateLimited { retry_after_secs } => {
                let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, e.code(), e.to_string());
                e.retry_after = Some(*retry_after_secs);
                return e;
            }
            PlatformError::Unprocessable(_) | PlatformError::DocumentUnsupportedForSeal(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            PlatformError::NotFound(_) | PlatformError::NoDocument(_) => StatusCode::NOT_FOUND,
            PlatformError::Conflict(_) => StatusCode::CONFLICT,
            PlatformError::BundleRefused { forbidden, problems } => {
                let status = if *forbidden { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST };
                let mut error = Self::new(status, e.code(), e.to_string());
                error.problems = problems.clone();
                return error;
            }
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
            (self.status, Json(Body { code: self.code, message: &self.message, errors: &self.problems }))
                .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

/// Longest request target the service reads (hyper's own limit, 64 KiB, answers 414
/// with an empty body; this one answers in the API's error form).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Most request header fields (the server sets hyper's own limit, which answers 431 with
/// an empty body, far above: `HYPER_MAX_HEADERS` in `server.rs`).
pub const MAX_HEADER_COUNT: usize = 64;
/// Largest total size of the request header fields, in bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest error body read back when an error is reshaped.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Whether `path` is a public verification page (`/v/…`, a bundle receipt's `/b/…`),
/// whose errors are HTML.
fn is_page(path: &str) -> bool {
    path == "/v" || path.starts_with("/v/") || path.starts_with("/b/") || path == "/" || path == "/verify"
}

/// Whether `path` is a page that also answers JSON when asked (`/b/…`).
fn answers_json(path: &str) -> bool {
    path.starts_with("/b/")
}

/// Middleware: refuses an overlong request target (414) or header section (431), and
/// gives every error the API's form: JSON `{code, message}`, or under `/v/` an HTML page
/// (the verification page's own answers pass through). Rejections by axum's extractors
/// and tower layers (plain text or empty) get a stable code per status; the response's
/// other headers (e.g. `Allow`, `Retry-After`) are kept.
pub(super) async fn error_form(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let page = is_page(request.uri().path());
    let page_json = answers_json(request.uri().path());
    let uri_len = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let header_bytes: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let response = if uri_len > MAX_URI_BYTES {
        ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response()
    } else if request.headers().len() > MAX_HEADER_COUNT || header_bytes > MAX_HEADER_BYTES {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("send at most {MAX_HEADER_COUNT} header fields and {MAX_HEADER_BYTES} bytes of headers"),
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| v.as_bytes().to_ascii_lowercase())
        .unwrap_or_default();
    let json = content_type.starts_with(b"application/json");
    if (json && (!page || page_json)) || (page && content_type.starts_with(b"text/html")) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (code, message) = match json {
        true => match axum::body::to_bytes(body, MAX_ERROR_BODY)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<ErrorBody>(&b).ok())
        {
            Some(e) => (e.code, e.message),
            None => status_code_and_message(status),
        },
        false => status_code_and_message(status),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = if page {
        parts.headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        axum::body::Body::from(error_page(status, &code, &message))
    } else {
        parts.headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        axum::body::Body::from(
            serde_json::to_vec(&Body { code: &code, message: &message, errors: &[] }).unwrap_or_default(),
        )
    };
    Response::from_parts(parts, body)
}

/// The stable code and message of a status whose answer carried none.
fn status_code_and_message(status: StatusCode) -> (String, String) {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported content type"),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "the request target is too long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("headers_too_large", "the request headers are too large")
        }
        s if s.is_client_error() => ("bad_request", "the request cannot be processed"),
        _ => ("internal", "the service cannot answer this request now"),
    };
    (code.to_owned(), message.to_owned())
}

/// The HTML error page of `/v/…`, bilingual, with the stable code.
#[derive(askama::Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ status }} · 电子证照核验 Licence verification</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; font-size: 17px; line-height: 1.5; color: #1f2328; background: #f6f8fa; }
  main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
  h1 { font-size: 1.6rem; margin: .5rem 0; }
  code { background: #eaeef2; padding: 0 .25rem; }
</style>
</head>
<body>
<main>
<h1>无法核验此链接 <span lang="en">· This link cannot be verified</span></h1>
<p>请重新扫描证照上的二维码，或稍后再试。</p>
<p lang="en">Scan the QR code on the licence again, or try later.</p>
<p lang="en">{{ message }} (<code>{{ code }}</code>, HTTP {{ status }})</p>
</main>
</body>
</html>
"#
)]
struct ErrorPage<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
}

fn error_page(status: StatusCode, code: &str, message: &str) -> String {
    askama::Template::render(&ErrorPage { status: status.as_u16(), code, message })
        .unwrap_or_else(|_| format!("<!doctype html><title>{}</title>", status.as_u16()))
}
