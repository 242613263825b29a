//! Request headers as text: the access headers (`X-Purpose`, `X-Authorisation-Code`,
//! `X-Matter-Code`) and their limits.

use axum::http::{HeaderMap, StatusCode};

use super::error::ApiError;

pub(super) fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            String::from_utf8(v.as_bytes().to_vec()).map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", format!("{name} must be UTF-8"))
            })
        })
        .transpose()
}

/// Longest `X-Authorisation-Code` and `X-Matter-Code`, in characters.
pub(super) const MAX_CODE_CHARS: usize = 64;

/// An access header as sent: absent, or UTF-8 text of 1–`max` characters (after trimming)
/// without control characters. A header that is present but empty or blank is refused
/// (400 `invalid_input`), not taken as absent.
pub(super) fn access_header(headers: &HeaderMap, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(text) = header_text(headers, name)? else { return Ok(None) };
    let text = text.trim();
    let n = text.chars().count();
    if n == 0 || n > max || text.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("{name} must be 1–{max} characters without control characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}
