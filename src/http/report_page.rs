//! The verification report as an HTML page: one rendering for `/v/{token}` and for the home
//! page's form (`/verify`). Everything shown comes from the [`Report`]; the page only
//! words it (Chinese first, English marked `lang="en"`), keeps dates whole and makes the
//! status row agree with the verdict.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use super::error::ApiError;
use crate::platform::PlatformError;
use crate::verify::{Check, Mode, Outcome, Report, Subject, Verdict};

/// The Content-Security-Policy of the report page: no script, no outside resource, no form.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// One row of the licence table; `value` is HTML this module escaped.
struct Row {
    zh: &'static str,
    en: &'static str,
    value: String,
}

/// One check as the page words it; `message_zh`/`message_en` are escaped HTML.
struct CheckLine<'a> {
    check: &'a Check,
    message_zh: String,
    message_en: String,
}

#[derive(Template)]
#[template(path = "html/verify.html")]
struct VerifyPage<'a> {
    report: &'a Report,
    verdict_class: &'static str,
    verdict_zh: &'static str,
    verdict_en: &'static str,
    headline_zh: String,
    headline_en: String,
    rows: Vec<Row>,
    fields: Vec<(String, String)>,
    seal_svg: Option<String>,
    checked_iso: String,
    checked_at: String,
    register_zh: &'static str,
    register_en: &'static str,
    failures: Vec<CheckLine<'a>>,
    checks: Vec<CheckLine<'a>>,
}

/// Escapes text for HTML.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text` and keeps every `YYYY-MM-DD` date (and `HH:MM:SS` time) on one line.
fn whole_dates(text: &str) -> String {
    static DATE: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?|\d{4}年\d{1,2}月\d{1,2}日").ok()
    });
    let escaped = esc(text);
    match DATE.as_ref() {
        Some(re) => re.replace_all(&escaped, "<span class=\"nw\">$0</span>").into_owned(),
        None => escaped,
    }
}

/// Percent-encodes a query value.
fn query_value(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn china_offset() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `2026-11-26 10:33:48`, Beijing time.
fn china_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(china_offset()).format(&f).unwrap_or_default()
}

/// An RFC 3339 time as a `<time>` element in Beijing time, or the text as it is.
fn time_element(rfc3339: &str) -> String {
    match OffsetDateTime::parse(rfc3339, &Rfc3339) {
        Ok(t) => {
            let local = t.to_offset(china_offset());
            format!(
                "<time datetime=\"{}\"><span class=\"nw\">{}</span></time>",
                esc(&local.format(&Rfc3339).unwrap_or_default()),
                esc(&china_time(t)),
            )
        }
        Err(_) => esc(rfc3339),
    }
}

fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn status_en(code: &str) -> &'static str {
    match code {
        "01" => "valid",
        "02" => "suspended",
        "03" => "revoked",
        "04" => "cancelled",
        "05" => "expired",
        "06" => "transferred out",
        "07" => "withdrawn",
        _ => "other",
    }
}

/// What the page says where a check's own words would confuse: an unreadable input is a
/// plain sentence, not a decoder message.
fn check_line(check: &Check, subject: Subject) -> CheckLine<'_> {
    let (zh, en) = if check.code == "input.read" && check.outcome == Outcome::Failed {
        let (_, zh, en) = unreadable_sentence(subject, check);
        (zh.to_owned(), en.to_owned())
    } else {
        (check.message_zh.clone(), check.message_en.clone())
    };
    CheckLine { check, message_zh: whole_dates(&zh), message_en: whole_dates(&en) }
}

/// The code and plain sentence (Chinese, English) for an input that could not be read
/// at all (`check`, the failed `input.read`): `unreadable_input`, or `pdf_too_complex` for
/// a PDF refused by the limits on its structure.
pub(super) fn unreadable_sentence(
    subject: Subject,
    check: &Check,
) -> (&'static str, &'static str, &'static str) {
    // A PDF check's English message ends with the PDF error's code in parentheses.
    let pdf_code = check.message_en.rsplit_once('(').and_then(|(_, code)| code.strip_suffix(')'));
    if subject == Subject::Pdf && pdf_code == Some("pdf_too_complex") {
        return (
            "pdf_too_complex",
            "PDF 结构过于复杂（对象、嵌套或数据流过多），不可能是电子证照，未予核验。",
            "The PDF has more structure (objects, nesting, streams) than a licence PDF could have; it was not verified.",
        );
    }
    if subject == Subject::Ofd && pdf_code.is_some_and(crate::verify::ofd_too_complex) {
        return (
            "ofd_too_complex",
            "OFD 文件包超出限制（文件过多、过大、压缩比过高或 XML 嵌套过深），不可能是电子证照，未予核验。",
            "The OFD package is beyond the limits (too many or too large files, too high a compression ratio, too deep XML) for a licence; it was not verified.",
        );
    }
    let (zh, en) = match subject {
        Subject::Token => (
            "无法识别：这不是本平台的电子证照二维码，或二维码内容不完整。请重新扫描证照上的二维码。",
            "Not recognised: this is not a licence QR code of this platform, or it is incomplete. Scan the QR code on the licence again.",
        ),
        Subject::Pdf => (
            "无法读取：这不是 PDF 文件，或文件已损坏。",
            "Not readable: this is not a PDF file, or the file is damaged.",
        ),
        Subject::Ofd => (
            "无法读取：这不是 OFD 文件，或文件已损坏。",
            "Not readable: this is not an OFD file, or the file is damaged.",
        ),
        Subject::Identifier => (
            "无法识别：这不是有效的电子证照标识。",
            "Not recognised: this is not a valid licence identifier.",
        ),
    };
    ("unreadable_input", zh, en)
}

/// The status row: the register's status, in words that agree with the verdict.
fn status_row(report: &Report) -> Option<String> {
    let l = report.licence.as_ref()?;
    let since = l.status_since.as_deref().map(time_element);
    if let Some(newer) = &l.superseded_by {
        let mut value = format!(
            "已被新版本取代 <span lang=\"en\">Superseded by a newer version</span>：<a href=\"/verify?q={}\">{}</a>",
            query_value(newer),
            esc(newer)
        );
        if let Some(since) = since {
            value.push_str(&format!("（{since} 起 <span lang=\"en\">since</span>）"));
        }
        return Some(value);
    }
    let code = l.status_code.as_deref()?;
    let label = l.status_label.as_deref().unwrap_or(code);
    let validity_failed = report.check("licence.validity").is_some_and(|c| c.outcome == Outcome::Failed);
    if code == "01" && validity_failed {
        let today = report.checked_at.to_offset(china_offset()).date();
        let not_yet = parse_date(&l.valid_from).is_some_and(|from| today < from);
        return Some(if not_yet {
            "登记有效，但尚未生效 <span lang=\"en\">Registered, not yet in force</span>".to_owned()
        } else {
            "已过有效期 <span lang=\"en\">Expired</span>".to_owned()
        });
    }
    match (code, report.verdict) {
        ("01", Verdict::Invalid) => {
            return Some(
                "证照库登记为有效，但本次核验未通过 <span lang=\"en\">Registered as valid, but this check did not pass</span>"
                    .to_owned(),
            );
        }
        ("01", Verdict::Indeterminate) => {
            return Some(
                "证照库登记为有效，但本次核验未能完全确认 <span lang=\"en\">Registered as valid, but this check could not confirm everything</span>"
                    .to_owned(),
            );
        }
        _ => {}
    }
    let mut value = format!("{} <span lang=\"en\">{}</span>", esc(label), status_en(code));
    if let (Some(since), true) = (since, code != "01") {
        value.push_str(&format!("（{since} 起 <span lang=\"en\">since</span>）"));
    }
    Some(value)
}

/// Whether the register was consulted, in words.
fn register_note(report: &Report) -> (&'static str, &'static str) {
    let consulted = report.check("register.record").is_some_and(|c| c.outcome != Outcome::NotChecked)
        || report.check("licence.status").is_some_and(|c| c.outcome != Outcome::NotChecked);
    match (consulted, report.mode) {
        (true, _) => ("已查询证照库。", "Checked against the licence register."),
        (false, Mode::Offline) => {
            ("离线核验，未查询证照库。", "Offline check: the register was not consulted.")
        }
        (false, Mode::Online) => (
            "未查询证照库：核验在此之前已终止，或证照库暂时无法访问。",
            "The register was not consulted: the check stopped earlier, or the register could not be reached.",
        ),
    }
}

/// The verdict's CSS class and the headline in Chinese and English (unescaped).
fn headline(report: &Report) -> (&'static str, String, String) {
    let unreadable = report.check("input.read").is_some_and(|c| c.outcome == Outcome::Failed);
    match report.verdict {
        Verdict::Valid => {
            ("valid", "此证照真实有效。".to_owned(), "This licence is authentic and valid.".to_owned())
        }
        Verdict::Invalid if unreadable => (
            "invalid",
            "无法识别此二维码，不能据此确认任何证照。".to_owned(),
            "This QR code could not be read; it proves no licence.".to_owned(),
        ),
        Verdict::Invalid => {
            let first = report.first_failure();
            (
                "invalid",
                format!("此证照不可信：{}", first.map_or("", |c| c.message_zh.as_str())),
                format!("Do not rely on this licence: {}", first.map_or("", |c| c.message_en.as_str())),
            )
        }
        Verdict::Indeterminate => {
            let open = report.checks.iter().find(|c| c.outcome == Outcome::NotChecked);
            (
                "indeterminate",
                format!("暂时无法确认此证照有效：{}", open.map_or("", |c| c.message_zh.as_str())),
                format!("Could not confirm this licence: {}", open.map_or("", |c| c.message_en.as_str())),
            )
        }
    }
}

/// The licence table: the rows that have a value, in the page's order.
fn licence_rows(report: &Report) -> Vec<Row> {
    let mut rows = Vec::new();
    let Some(l) = &report.licence else { return rows };
    let mut push = |zh, en, value: String| {
        if !value.is_empty() {
            rows.push(Row { zh, en, value });
        }
    };
    push("证照名称", "Licence", esc(l.type_name.as_deref().unwrap_or_default()));
    push("持证主体", "Holder", esc(&l.holder_name));
    push("持证主体代码", "Holder code", esc(&l.holder_code_masked));
    push("颁证单位", "Issued by", esc(l.issuer_name.as_deref().unwrap_or(&l.issuer_code)));
    let until = l.valid_until.as_deref().map_or_else(
        || "长期 <span lang=\"en\">no end date</span>".to_owned(),
        |u| format!("<span class=\"nw\">{}</span>", esc(u)),
    );
    push(
        "有效期",
        "Valid",
        format!("<span class=\"nw\">{}</span> 至 <span lang=\"en\">to</span> {until}", esc(&l.valid_from)),
    );
    if let Some(status) = status_row(report) {
        push("证照状态", "Status", status);
    }
    push("证照标识", "Identifier", format!("<span class=\"id\">{}</span>", esc(&l.identifier)));
    rows
}

/// Renders the page for a report.
pub fn render_page(report: &Report, seal_svg: Option<String>) -> Result<String, ApiError> {
    let failures: Vec<CheckLine<'_>> = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| check_line(c, report.subject))
        .collect();
    let (verdict_class, headline_zh, headline_en) = headline(report);
    let rows = licence_rows(report);
    let fields = report.licence.as_ref().map_or_else(Vec::new, |l| {
        l.fields.iter().map(|(label, value)| (label.clone(), whole_dates(value))).collect()
    });
    let (register_zh, register_en) = register_note(report);
    let page = VerifyPage {
        report,
        verdict_class,
        verdict_zh: report.verdict.label_zh(),
        verdict_en: report.verdict.label_en(),
        headline_zh: whole_dates(&headline_zh),
        headline_en: whole_dates(&headline_en),
        rows,
        fields,
        seal_svg,
        checked_iso: report.checked_at.to_offset(china_offset()).format(&Rfc3339).unwrap_or_default(),
        checked_at: china_time(report.checked_at),
        register_zh,
        register_en,
        failures,
        checks: report.checks.iter().map(|c| check_line(c, report.subject)).collect(),
    };
    page.render().map_err(|e| {
        tracing::error!(error = %e, "rendering the verification page");
        ApiError::from(PlatformError::Render("the page could not be rendered".into()))
    })
}

/// The report page as a response: 400 when the input could not be read, else 200, with the
/// page's security headers.
pub(super) fn report_response(report: &Report, seal_svg: Option<String>) -> Result<Response, ApiError> {
    let html = render_page(report, seal_svg)?;
    let unreadable = report.check("input.read").is_some_and(|c| c.outcome == Outcome::Failed);
    let status = if unreadable { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(html_response(status, REPORT_CSP, html))
}

/// An HTML response with the pages' security headers and `csp`.
pub(super) fn html_response(status: StatusCode, csp: &'static str, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_kept_whole_and_text_is_escaped() {
        assert_eq!(
            whole_dates("证照已于 2024-01-31 到期 <b>"),
            "证照已于 <span class=\"nw\">2024-01-31</span> 到期 &lt;b&gt;"
        );
        assert_eq!(whole_dates("2026年11月22日"), "<span class=\"nw\">2026年11月22日</span>");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(query_value("1.2.156 A/B"), "1.2.156%20A%2FB");
    }

    #[test]
    fn time_elements_carry_rfc3339_in_beijing_time() {
        assert_eq!(
            time_element("2026-11-26T02:00:00Z"),
            "<time datetime=\"2026-11-26T10:00:00+08:00\"><span class=\"nw\">2026-11-26 10:00:00</span></time>"
        );
    }
}
