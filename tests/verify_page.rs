//! The verification page and the home page as HTML: every defect a first user met, one
//! assertion each — the status row agrees with the verdict, a superseded licence links to
//! its successor, a revoked one says when, the check time sits in the verdict banner, a
//! forged token's seal claim does not read as a success, the register note is true, an
//! unreadable QR gets a plain sentence, dates stay whole, `<time datetime>` is RFC 3339,
//! English carries `lang="en"`, the seal picture has a name; and the home page's form.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;
use common::app;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::render_page;
use zhengzhao::licence::{LicenceInput, LicenceStatus};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};
use zhengzhao::verify::Report;

const FOOD: &str = "11100000000013338W002";

/// One form field: name, file name (for a file), value.
type Field<'a> = (&'a str, Option<&'a str>, &'a [u8]);

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    seal: String,
}

async fn fixture() -> Fixture {
    fixture_with(Layer::default()).await
}

async fn fixture_with(layer: Layer) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..layer };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    let seal = seals.iter().find(|s| s.algorithm == Algorithm::Ed25519).unwrap().id.clone();
    Fixture { _dir: dir, platform: Arc::new(platform), seal }
}

impl Fixture {
    async fn issue(&self, renews: Option<&str>) -> IssuedLicence {
        let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
        let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let request = IssueRequest {
            seal_id: self.seal.clone(),
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input,
            document: zhengzhao::licence::DocumentKind::Pdf,
            client: None,
            idempotency_key: Some(format!("page-test-{}", OffsetDateTime::now_utc().unix_timestamp_nanos())),
            renews: renews.map(str::to_owned),
        };
        self.platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap()
    }

    async fn get(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = app(self.platform.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn post_form(&self, fields: &[Field<'_>]) -> (StatusCode, String) {
        let boundary = "zzFormBoundary42";
        let mut body = Vec::new();
        for (name, filename, value) in fields {
            let filename = filename.map_or_else(String::new, |f| format!("; filename=\"{f}\""));
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = Request::post("/verify")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let response = app(self.platform.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
}

fn token_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

/// The HTML of the verdict banner: the `<div class="verdict …">` element, to its own
/// closing tag.
fn banner(html: &str) -> &str {
    let start = html.find("<div class=\"verdict").unwrap();
    let (mut depth, mut at) = (0usize, start);
    loop {
        let open = html[at..].find("<div").map(|i| at + i);
        let close = html[at..].find("</div>").map(|i| at + i).unwrap();
        match open {
            Some(o) if o < close => {
                depth += 1;
                at = o + 4;
            }
            _ => {
                depth -= 1;
                at = close + 6;
                if depth == 0 {
                    return &html[start..at];
                }
            }
        }
    }
}

/// The value cell of the licence table row labelled `zh`.
fn row<'a>(html: &'a str, zh: &str) -> &'a str {
    let start = html.find(&format!("<th>{zh}<small")).unwrap_or_else(|| panic!("no row {zh}"));
    let cell = &html[start..];
    let td = cell.find("<td>").unwrap() + 4;
    &cell[td..td + cell[td..].find("</td>").unwrap()]
}

/// Every `<time datetime="…">` value.
fn datetimes(html: &str) -> Vec<&str> {
    html.split("<time datetime=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect()
}

fn assert_common(html: &str, report: Option<&Report>) {
    // The check time is inside the verdict banner, as a valid RFC 3339 <time>.
    let banner = banner(html);
    assert!(banner.contains("核验时间") && banner.contains("<time datetime="), "{banner}");
    let times = datetimes(html);
    assert!(!times.is_empty());
    for t in times {
        OffsetDateTime::parse(t, &Rfc3339).unwrap_or_else(|e| panic!("<time datetime={t:?}>: {e}"));
    }
    // English words are marked as English.
    if let Some(report) = report {
        for c in &report.checks {
            assert!(html.contains(&format!("<small lang=\"en\">{}</small>", c.title_en)), "{}", c.code);
        }
        assert!(html.contains(&format!("<span lang=\"en\">{}</span>", report.verdict.label_en())));
    }
    for english in ["Why it fails", "Licence</small>", "Checks</small>", "Checked at"] {
        if let Some(at) = html.find(english) {
            let before = &html[..at];
            let tag = &before[before.rfind('<').unwrap()..];
            assert!(tag.contains("lang=\"en\""), "{english:?} not marked English: {tag}");
        }
    }
    assert!(!html.contains("<script"), "no JavaScript");
}

#[tokio::test]
async fn a_valid_licence_page_names_its_seal_and_keeps_dates_whole() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let (status, headers, html) = f.get(&format!("/v/{}", token_of(&licence.url))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("form-action 'none'"));
    let report =
        f.platform.verification.verify_token_text(&licence.url, OffsetDateTime::now_utc()).await.unwrap();
    assert_common(&html, Some(&report));
    assert!(html.contains("data-verdict=\"valid\""));
    let l = report.licence.as_ref().unwrap();
    // The validity dates never break inside.
    let validity = row(&html, "有效期");
    assert!(validity.contains(&format!("<span class=\"nw\">{}</span>", l.valid_from)), "{validity}");
    assert!(validity.contains(&format!("<span class=\"nw\">{}</span>", l.valid_until.as_deref().unwrap())));
    // The status agrees with the verdict.
    assert!(
        row(&html, "证照状态").starts_with("有效 <span lang=\"en\">valid</span>"),
        "{}",
        row(&html, "证照状态")
    );
    // The seal picture has an accessible name.
    let seal = report.seal.as_ref().unwrap();
    assert!(
        html.contains(&format!(
            "<figure role=\"img\" aria-label=\"电子印章：{}「{}」\"><svg",
            seal.department_name, seal.name
        )),
        "seal image without a name"
    );
    assert!(html.contains("已查询证照库"), "the register was consulted");
}

#[tokio::test]
async fn an_expired_licence_is_not_shown_as_valid() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let later = OffsetDateTime::now_utc() + Duration::days(366 * 6);
    let report = f.platform.verification.verify_token_text(&licence.url, later).await.unwrap();
    assert_eq!(report.verdict.label_zh(), "无效");
    let html = render_page(&report, None).unwrap();
    assert_common(&html, Some(&report));
    let status = row(&html, "证照状态");
    assert!(status.starts_with("已过有效期"), "{status}");
    assert!(!status.contains("有效 <span lang=\"en\">valid"), "{status}");
    // The reason's date stays whole.
    let until = report.licence.as_ref().unwrap().valid_until.clone().unwrap();
    assert!(html.contains(&format!("证照已于 <span class=\"nw\">{until}</span> 到期")), "{html}");
}

#[tokio::test]
async fn a_superseded_licence_links_to_its_successor() {
    let f = fixture().await;
    let old = f.issue(None).await;
    let new = f.issue(Some(&old.identifier)).await;
    let (status, _, html) = f.get(&format!("/v/{}", token_of(&old.url))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-verdict=\"invalid\""));
    let report =
        f.platform.verification.verify_token_text(&old.url, OffsetDateTime::now_utc()).await.unwrap();
    assert_common(&html, Some(&report));
    let status_row = row(&html, "证照状态");
    assert!(status_row.starts_with("已被新版本取代"), "{status_row}");
    let link = format!("<a href=\"/verify?q={}\">{}</a>", new.identifier, new.identifier);
    assert!(status_row.contains(&link), "{status_row}");
    assert!(status_row.contains("<time datetime="), "when it was replaced: {status_row}");
    // The link opens the successor's report, which is valid.
    let (status, _, successor) = f.get(&format!("/verify?q={}", new.identifier)).await;
    assert_eq!(status, StatusCode::OK, "{successor}");
    assert!(successor.contains("data-verdict=\"valid\""), "{successor}");
    assert!(successor.contains(&new.identifier));
}

#[tokio::test]
async fn a_revoked_licence_says_when() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let at = OffsetDateTime::now_utc();
    f.platform
        .register
        .set_status(None, &licence.identifier, LicenceStatus::Revoked, "以欺骗手段取得", at)
        .await
        .unwrap();
    let (_, _, html) = f.get(&format!("/v/{}", token_of(&licence.url))).await;
    assert!(html.contains("data-verdict=\"invalid\""));
    let status = row(&html, "证照状态");
    assert!(status.starts_with("撤销 <span lang=\"en\">revoked</span>"), "{status}");
    let times = datetimes(status);
    assert_eq!(times.len(), 1, "{status}");
    let when = OffsetDateTime::parse(times[0], &Rfc3339).unwrap();
    assert!((when - at).abs() < Duration::seconds(2), "{when} vs {at}");
}

#[tokio::test]
async fn a_forged_token_only_claims_its_seal_and_the_register_note_is_true() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let mut bytes = zhengzhao::token::decode_from_url(&licence.url).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    let forged = zhengzhao::token::encode_for_url(&bytes);
    let (_, _, html) = f.get(&format!("/v/{forged}")).await;
    assert!(html.contains("data-verdict=\"invalid\""));
    let signer = html.split("data-code=\"token.signer\"").next().unwrap();
    let class = &signer[signer.rfind("<li class=\"").unwrap()..];
    assert!(!class.contains("passed"), "the seal row reads as a success: {class}");
    assert!(html.contains("声称由"), "{html}");
    assert!(!html.contains("已查询证照库"), "the register was not consulted for a forged token");
    assert!(html.contains("未查询证照库"));
    let report = f.platform.verification.verify_token_text(&forged, OffsetDateTime::now_utc()).await.unwrap();
    assert_common(&html, Some(&report));
}

#[tokio::test]
async fn an_unreadable_qr_gets_a_plain_sentence() {
    let f = fixture().await;
    let (status, headers, html) = f.get("/v/NOT-A-TOKEN").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let report =
        f.platform.verification.verify_token_text("NOT-A-TOKEN", OffsetDateTime::now_utc()).await.unwrap();
    let decoder = &report.check("input.read").unwrap().message_en;
    assert!(!html.contains(decoder.as_str()), "decoder message shown: {decoder}");
    assert!(!html.contains("无法读取："), "decoder message shown");
    assert!(html.contains("这不是本平台的电子证照二维码"), "{html}");
    assert!(html.contains("This QR code could not be read"));
    assert_common(&html, None);
}

#[tokio::test]
async fn the_home_page_has_a_form_and_no_script() {
    let f = fixture().await;
    let (status, headers, html) = f.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
    assert!(!html.contains("<script"));
    assert!(html.contains("<form method=\"post\" action=\"/verify\" enctype=\"multipart/form-data\">"));
    assert!(html.contains("name=\"pdf\"") && html.contains("name=\"q\""));
    assert!(
        html.contains("电子证照核验")
            && html.contains("<span lang=\"en\">Electronic licence verification</span>")
    );
    // The OpenAPI document describes the home page and the form's target.
    let (_, _, doc) = f.get("/api/openapi.json").await;
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/"]["get"].is_object(), "{}", doc["paths"]);
    assert!(doc["paths"]["/verify"]["get"].is_object() && doc["paths"]["/verify"]["post"].is_object());
}

#[tokio::test]
async fn the_home_form_verifies_a_pdf_or_pasted_text_with_the_report_page() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let (status, by_pdf) =
        f.post_form(&[("pdf", Some("licence.pdf"), licence.pdf().unwrap()), ("q", None, b"")]).await;
    assert_eq!(status, StatusCode::OK, "{by_pdf}");
    assert!(by_pdf.contains("data-verdict=\"valid\"") && by_pdf.contains("id=\"checks\""), "{by_pdf}");
    assert!(by_pdf.contains("data-code=\"pdf.signature\""), "the PDF's checks are shown");
    for text in [licence.url.as_str(), token_of(&licence.url), licence.identifier.as_str()] {
        let (status, html) = f.post_form(&[("pdf", Some(""), b""), ("q", None, text.as_bytes())]).await;
        assert_eq!(status, StatusCode::OK, "{text}: {html}");
        assert!(html.contains("data-verdict=\"valid\""), "{text}");
        assert!(html.contains(&licence.identifier));
    }
    let (status, _, html) = f.get(&format!("/verify?q={}", token_of(&licence.url))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-verdict=\"valid\""));
}

#[tokio::test]
async fn the_home_form_answers_bad_input_with_a_page() {
    let f = fixture().await;
    let licence = f.issue(None).await;
    let mut tampered = licence.pdf().unwrap().to_vec();
    let at = tampered.len() / 4;
    tampered[at] ^= 0x20;
    let long = "A".repeat(5000);
    let cases: Vec<(&str, Vec<Field<'_>>, StatusCode, &str)> = vec![
        ("nothing", vec![("q", None, b"   ")], StatusCode::BAD_REQUEST, "请选择 PDF 文件"),
        (
            "not a token",
            vec![("q", None, b"hello world")],
            StatusCode::BAD_REQUEST,
            "这不是本平台的电子证照二维码",
        ),
        ("too long", vec![("q", None, long.as_bytes())], StatusCode::BAD_REQUEST, "内容过长"),
        ("not UTF-8", vec![("q", None, b"\xff\xfe")], StatusCode::BAD_REQUEST, "表单无法读取"),
        (
            "not a PDF",
            vec![("pdf", Some("x.pdf"), b"GIF89a")],
            StatusCode::BAD_REQUEST,
            "data-verdict=\"invalid\"",
        ),
        ("tampered", vec![("pdf", Some("x.pdf"), &tampered)], StatusCode::OK, "data-verdict=\"invalid\""),
    ];
    for (what, fields, status, words) in cases {
        let (got, html) = f.post_form(&fields).await;
        assert_eq!(got, status, "{what}: {html}");
        assert!(html.starts_with("<!doctype html>"), "{what}: an HTML page");
        assert!(html.contains(words), "{what}: {words:?} missing");
    }
    // Not a form at all, and a broken form.
    for (content_type, body) in [("text/plain", "x"), ("multipart/form-data; boundary=zz", "--zz\r\nbroken")]
    {
        let request = Request::post("/verify")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let response = app(f.platform.clone()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type}");
        assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }
    // Larger than 32 MB: refused by size with a page.
    let (status, html) = f.post_form(&[("pdf", Some("big.pdf"), &vec![b'%'; 40 * 1024 * 1024])]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{html}");
    assert!(html.contains("32 MB"));
    // A query without q, or with an empty one.
    for path in ["/verify", "/verify?q=", "/verify?x=1"] {
        let (status, _, html) = f.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains("请选择 PDF 文件"), "{path}");
    }
}

#[tokio::test]
async fn the_home_form_is_rate_limited_per_address_with_a_page() {
    let f = fixture_with(Layer { rate_limit: Some(2), ..Layer::default() }).await;
    let licence = f.issue(None).await;
    let addr: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let mut request =
            Request::get(format!("/verify?q={}", token_of(&licence.url))).body(Body::empty()).unwrap();
        request.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        let response = app(f.platform.clone()).oneshot(request).await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        }
        statuses.push(response.status());
    }
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}
