//! Verifying as of another moment: `zhengzhao verify … --at TIME` and `"at"` of `POST
//! /api/v1/verify` (JSON member, multipart field, or query for any body). A PDF and an OFD
//! verified at a moment after their seal certificate's end (`seal_cert_days` 1095) and the
//! licence's own last day are invalid for the licence's validity alone — they were signed
//! while the seal was valid — with `checked_at` that moment and the register's answers
//! marked as known now; a moment before those ends is valid. Malformed or out-of-bounds
//! moments are refused: one line and exit 2 on the command line, 400 `invalid_at` over HTTP.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use assert_cmd::cargo::CommandCargoExt;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};

const FOOD: &str = "11100000000013338W002";

struct Fixture {
    dir: tempfile::TempDir,
    platform: Arc<Platform>,
    pdf: IssuedLicence,
    ofd: IssuedLicence,
    /// After the seal certificates' end and the licences' last day.
    later: OffsetDateTime,
    /// Before both.
    sooner: OffsetDateTime,
}

async fn fixture() -> Fixture {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(now).await.unwrap();
    assert_eq!(platform.config.seal_cert_days, 1095);
    let seal = |alg: Algorithm| seals.iter().find(|s| s.algorithm == alg).unwrap().clone();
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut issued = vec![];
    for (document, alg) in [(DocumentKind::Pdf, Algorithm::Ed25519), (DocumentKind::Ofd, Algorithm::Sm2)] {
        let request = IssueRequest {
            seal_id: seal(alg).id,
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input: input.clone(),
            document,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        issued.push(platform.issuing.issue(request, now).await.unwrap());
    }
    let (ofd, pdf) = (issued.pop().unwrap(), issued.pop().unwrap());
    let seal_end = [Algorithm::Ed25519, Algorithm::Sm2]
        .map(|alg| zhengzhao::pki::cert_info(&seal(alg).cert_der).unwrap().not_after)
        .into_iter()
        .max()
        .unwrap();
    let row = platform.store.licence(&pdf.identifier).await.unwrap().unwrap();
    let last_day = row.licence.valid_until.unwrap();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let licence_end = time::Date::parse(&last_day, &format).unwrap().midnight().assume_utc();
    // Seal certificates of three years, a licence of five: the seal ends first.
    assert!(seal_end < licence_end && seal_end < now + Duration::days(1100), "{seal_end} {licence_end}");
    let later = licence_end + Duration::days(30);
    let sooner = now + Duration::days(30);
    Fixture { dir, platform: Arc::new(platform), pdf, ofd, later, sooner }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn outcome<'a>(report: &'a Value, code: &str) -> &'a str {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["code"] == code).unwrap_or_else(|| panic!("no {code}: {report}"))["outcome"]
        .as_str()
        .unwrap()
}

fn message<'a>(report: &'a Value, code: &str) -> &'a str {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["code"] == code).unwrap()["message_en"].as_str().unwrap()
}

/// What a report as of `later` says of a licence signed while its seal was valid: invalid
/// for its validity alone, the register's answers marked as known now.
fn assert_later(report: &Value, later: OffsetDateTime) {
    assert_eq!(report["checked_at"], rfc3339(later), "{report}");
    assert_eq!(report["verdict"], "invalid", "{report}");
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["licence.validity"], "{report}");
    assert!(message(report, "licence.validity").contains("expired"), "{report}");
    assert_eq!(outcome(report, "seal.chain"), "passed", "{report}");
    if report["mode"] == "online" {
        assert!(message(report, "licence.status").contains("as known at"), "{report}");
    }
}

// --- HTTP -------------------------------------------------------------------------------

async fn send(f: &Fixture, mut req: Request<Body>) -> (StatusCode, Value) {
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
    let response = app(f.platform.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&bytes))))
}

async fn post_json(f: &Fixture, uri: &str, body: Value) -> (StatusCode, Value) {
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(f, req).await
}

async fn post_raw(f: &Fixture, uri: &str, media: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let req =
        Request::post(uri).header(header::CONTENT_TYPE, media).body(Body::from(bytes.to_vec())).unwrap();
    send(f, req).await
}

/// A multipart body with the file field and, after it, `at` if given.
fn multipart(file: &[u8], at: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "zzBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"licence\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    if let Some(at) = at {
        body.extend_from_slice(
            format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"at\"\r\n\r\n{at}").as_bytes(),
        );
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn every_input_kind_verifies_as_of_a_moment_over_http() {
    let f = fixture().await;
    let (later, sooner) = (rfc3339(f.later), rfc3339(f.sooner));
    // JSON: an identifier, a URL.
    let (status, report) =
        post_json(&f, "/api/v1/verify", json!({"identifier": f.pdf.identifier, "at": later})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_later(&report, f.later);
    let (_, report) = post_json(&f, "/api/v1/verify", json!({"url": f.ofd.url, "at": sooner})).await;
    assert_eq!(
        (report["verdict"].as_str(), report["checked_at"].as_str()),
        (Some("valid"), Some(sooner.as_str()))
    );
    // The query serves a JSON body too.
    let uri = format!("/api/v1/verify?at={}", later.replace(':', "%3A").replace('+', "%2B"));
    let (_, report) = post_json(&f, &uri, json!({"identifier": f.ofd.identifier})).await;
    assert_later(&report, f.later);
    // Multipart, `at` after the file; raw uploads with the query.
    for (doc, subject) in [(f.pdf.pdf().unwrap(), "pdf"), (f.ofd.ofd().unwrap(), "ofd")] {
        let (media, body) = multipart(doc, Some(&later));
        let (status, report) = post_raw(&f, "/api/v1/verify", &media, &body).await;
        assert_eq!((status, report["subject"].as_str()), (StatusCode::OK, Some(subject)), "{report}");
        assert_later(&report, f.later);
        let media = if subject == "pdf" { "application/pdf" } else { "application/ofd" };
        let (_, report) = post_raw(&f, &uri, media, doc).await;
        assert_later(&report, f.later);
        let (_, report) = post_raw(&f, "/api/v1/verify", media, doc).await;
        assert_eq!(report["verdict"], "valid", "without at: now\n{report}");
    }
    // An OFD at a moment between its seal certificate's end and its own last day: still
    // valid, signed when the seal was.
    let between = rfc3339(f.later - Duration::days(60));
    let (_, report) =
        post_raw(&f, &format!("/api/v1/verify?at={between}"), "application/ofd", f.ofd.ofd().unwrap()).await;
    assert_eq!(report["verdict"], "valid", "{report}");
}

#[tokio::test]
async fn malformed_moments_are_refused_with_invalid_at() {
    let f = fixture().await;
    let id = &f.pdf.identifier;
    for bad in
        ["2035-13-01T00:00:00Z", "2035-01-01", "tomorrow", "1999-12-31T23:59:59Z", "2400-01-01T00:00:00Z"]
    {
        let (status, error) = post_json(&f, "/api/v1/verify", json!({"identifier": id, "at": bad})).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_at")),
            "{bad}: {error}"
        );
        assert!(error["message"].as_str().unwrap().starts_with("at: "), "{error}");
        let (status, error) =
            post_raw(&f, &format!("/api/v1/verify?at={bad}"), "application/pdf", b"%PDF-").await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_at")), "{bad}");
        let (media, body) = multipart(f.pdf.pdf().unwrap(), Some(bad));
        let (status, error) = post_raw(&f, "/api/v1/verify", &media, &body).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_at")), "{bad}");
    }
    // Not a string; given twice; far too long a field.
    let (status, error) = post_json(&f, "/api/v1/verify", json!({"identifier": id, "at": 2035})).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")), "{error}");
    let uri = format!("/api/v1/verify?at={}", rfc3339(f.later));
    let (status, error) = post_json(&f, &uri, json!({"identifier": id, "at": rfc3339(f.later)})).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_at")), "{error}");
    let (media, body) = multipart(f.pdf.pdf().unwrap(), Some(&"9".repeat(100_000)));
    let (status, error) = post_raw(&f, "/api/v1/verify", &media, &body).await;
    assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_at")), "{error}");
}

#[tokio::test]
async fn the_openapi_document_describes_at() {
    let f = fixture().await;
    let req = Request::get("/api/openapi.json").body(Body::empty()).unwrap();
    let (status, doc) = send(&f, req).await;
    assert_eq!(status, StatusCode::OK);
    let op = &doc["paths"]["/api/v1/verify"]["post"];
    let params = op["parameters"].as_array().unwrap();
    assert!(params.iter().any(|p| p["name"] == "at" && p["in"] == "query"), "{op}");
    assert!(doc["components"]["schemas"]["VerifyRequest"]["properties"]["at"].is_object(), "{doc}");
    assert!(op["responses"]["400"]["description"].as_str().unwrap().contains("invalid_at"), "{op}");
}

// --- command line -----------------------------------------------------------------------

fn cli(f: &Fixture, args: &[&str]) -> Output {
    Command::cargo_bin("zhengzhao")
        .unwrap()
        .arg("--data")
        .arg(f.dir.path().join("data"))
        .args(args)
        .env_remove("ZHENGZHAO_KEY_PASSPHRASE")
        .env("ZHENGZHAO_LOG", "warn")
        .output()
        .unwrap()
}

fn write(f: &Fixture, name: &str, bytes: &[u8]) -> PathBuf {
    let path = f.dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn zhengzhao_verify_at_judges_as_of_the_moment() {
    let f = fixture().await;
    let pdf = write(&f, "licence.pdf", f.pdf.pdf().unwrap());
    let ofd = write(&f, "licence.ofd", f.ofd.ofd().unwrap());
    let later = rfc3339(f.later);
    for file in [&pdf, &ofd] {
        let file = file.to_str().unwrap();
        // Online, printed: invalid (exit 1), saying the moment.
        let out = cli(&f, &["verify", file, "--at", &later]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.starts_with(&format!("核验时刻 As of:        {later}")), "{text}");
        assert!(text.contains("[licence.validity]"), "{text}");
        // Online and offline, as JSON.
        for extra in [&[][..], &["--offline"][..]] {
            let mut args = vec!["verify", file, "--at", &later, "--json"];
            args.extend_from_slice(extra);
            let out = cli(&f, &args);
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(1), "{report}");
            assert_later(&report, f.later);
        }
        // Sooner: valid.
        let out = cli(&f, &["verify", file, "--at", &rfc3339(f.sooner)]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    }
    for bad in ["2035-13-01T00:00:00Z", "2035-01-01", "1999-12-31T23:59:59Z", "2400-01-01T00:00:00Z"] {
        let out = cli(&f, &["verify", pdf.to_str().unwrap(), "--at", bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert_eq!(err.lines().count(), 1, "{bad}: {err}");
        assert!(err.starts_with("error: --at: ") && err.contains(bad), "{err}");
        assert!(out.stdout.is_empty());
    }
}
