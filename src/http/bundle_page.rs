//! The verification page of a bundle receipt's QR code (`/b/{token}`): the receipt's
//! verdict, what it states, and each licence it names with its own verdict and state.
//! With `Accept: application/json` the same report as JSON.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::error::ApiError;
use super::report_page::{REPORT_CSP, html_response};
use super::state::AppState;
use crate::platform::PlatformError;
use crate::verify::{BundleLicenceReport, BundleReport, Outcome, Verdict};

/// One licence as the page shows it.
struct LicenceLine {
    identifier: String,
    type_name: String,
    issuer_name: String,
    status: String,
    verdict: &'static str,
    class: &'static str,
    verdict_zh: &'static str,
    verdict_en: &'static str,
    problem_zh: String,
    problem_en: String,
}

#[derive(Template)]
#[template(path = "html/bundle.html")]
struct BundlePage<'a> {
    report: &'a BundleReport,
    verdict_class: &'static str,
    verdict_zh: &'static str,
    verdict_en: &'static str,
    headline_zh: String,
    headline_en: String,
    checked_at: String,
    issued_at: String,
    licences: Vec<LicenceLine>,
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Indeterminate => "indeterminate",
    }
}

fn beijing(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(time::macros::offset!(+8)).format(&f).unwrap_or_default()
}

fn line(l: &BundleLicenceReport) -> LicenceLine {
    let (report, claimed) = (&l.report, l.identifier.as_str());
    let summary = report.licence.as_ref();
    let problem = report
        .checks
        .iter()
        .find(|c| c.outcome == Outcome::Failed)
        .or_else(|| report.checks.iter().find(|c| c.outcome == Outcome::NotChecked));
    LicenceLine {
        identifier: summary.map_or_else(|| claimed.to_owned(), |s| s.identifier.clone()),
        type_name: summary.and_then(|s| s.type_name.clone()).unwrap_or_else(|| "证照".into()),
        issuer_name: summary.and_then(|s| s.issuer_name.clone()).unwrap_or_default(),
        status: summary.and_then(|s| s.status_label.clone()).unwrap_or_default(),
        verdict: verdict_word(report.verdict),
        class: match report.verdict {
            Verdict::Valid => "passed",
            Verdict::Invalid => "failed",
            Verdict::Indeterminate => "not_checked",
        },
        verdict_zh: report.verdict.label_zh(),
        verdict_en: report.verdict.label_en(),
        problem_zh: problem.map(|c| c.message_zh.clone()).unwrap_or_default(),
        problem_en: problem.map(|c| c.message_en.clone()).unwrap_or_default(),
    }
}

fn render(report: &BundleReport) -> Result<String, ApiError> {
    let n = report.licences.len();
    let (headline_zh, headline_en) = match (report.verdict, &report.bundle) {
        (Verdict::Valid, Some(b)) => (
            format!("「{}」的{n}项证照均真实有效", b.matter_name),
            format!("all {n} licences of “{}” are authentic and in force", b.matter_name),
        ),
        (Verdict::Invalid, Some(_)) => (
            "办结通知书所列证照中有无效或被更改者，请勿采信".to_owned(),
            "a licence the receipt lists is not valid or was changed: do not rely on it".to_owned(),
        ),
        (_, Some(_)) => {
            ("部分证照暂时无法确认".to_owned(), "some licences could not be confirmed now".to_owned())
        }
        (_, None) => (
            "这不是可信的办结通知书二维码".to_owned(),
            "this is not an authentic bundle receipt QR code".to_owned(),
        ),
    };
    let page = BundlePage {
        report,
        verdict_class: verdict_word(report.verdict),
        verdict_zh: report.verdict.label_zh(),
        verdict_en: report.verdict.label_en(),
        headline_zh,
        headline_en,
        checked_at: beijing(report.checked_at),
        issued_at: report.bundle.as_ref().map(|b| beijing(b.issued_at)).unwrap_or_default(),
        licences: report.licences.iter().map(line).collect(),
    };
    page.render().map_err(|e| ApiError::from(PlatformError::Render(e.to_string())))
}

/// The verification page for a bundle receipt's QR token.
#[utoipa::path(get, path = "/b/{token}", tag = "verify", params(("token" = String, Path, description = "The receipt's QR token, base32 (any letter case)")), responses((status = 200, description = "The receipt's verdict and every licence's: an HTML page, or with `Accept: application/json` the report", content((String = "text/html"), (crate::verify::BundleReport = "application/json"))), (status = 400, description = "Not a bundle receipt token (the same page or report, verdict invalid)", content((String = "text/html"), (crate::verify::BundleReport = "application/json"))), (status = 429, description = "Rate limited; see Retry-After", content_type = "text/html")))]
pub(super) async fn page(
    State(platform): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    token: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let token = match token {
        Ok(Path(token)) => token,
        Err(_) => uri.path().trim_start_matches("/b/").to_owned(),
    };
    let report = platform.verification.verify_bundle_text(&token, OffsetDateTime::now_utc()).await?;
    let unreadable = report.checks.iter().any(|c| c.code == "input.read" && c.outcome == Outcome::Failed);
    let status = if unreadable { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if json {
        return Ok((status, Json(&report)).into_response());
    }
    Ok(html_response(status, REPORT_CSP, render(&report)?))
}
