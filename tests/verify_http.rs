//! Public verification over HTTP: `POST /api/v1/verify` (JSON, multipart, raw PDF), the
//! page at `/v/{token}`, the trust list, limits and rate limiting.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::licence::{LicenceInput, LicenceStatus};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};

const FOOD: &str = "11100000000013338W002";

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    licence: IssuedLicence,
}

async fn fixture_with(layer: Layer) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..layer };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    let seal = seals.iter().find(|s| s.algorithm == Algorithm::Ed25519).unwrap().id.clone();
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request = IssueRequest {
        seal_id: seal,
        ofd_seal_id: None,
        type_code: FOOD.into(),
        input,
        document: zhengzhao::licence::DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    let licence = platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap();
    Fixture { _dir: dir, platform: Arc::new(platform), licence }
}

async fn fixture() -> Fixture {
    fixture_with(Layer::default()).await
}

async fn send(f: &Fixture, mut req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    // The server records every peer address; without one public endpoints refuse to answer.
    if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
        req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
    }
    let response = app(f.platform.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn post_json(f: &Fixture, body: Value) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, bytes) = send(f, req).await;
    (status, serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&bytes))))
}

fn multipart(field: &str, pdf: &[u8]) -> (String, Vec<u8>) {
    let boundary = "zzBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"licence.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn json_requests_verify_tokens_urls_and_identifiers() {
    let f = fixture().await;
    let token = f.licence.url.rsplit('/').next().unwrap().to_owned();
    for body in
        [json!({"url": f.licence.url}), json!({"token": token}), json!({"identifier": f.licence.identifier})]
    {
        let (status, report) = post_json(&f, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}: {report}");
        assert_eq!(report["verdict"], "valid", "{report}");
        assert_eq!(report["mode"], "online");
        assert_eq!(report["licence"]["identifier"], f.licence.identifier.as_str());
        let checks = report["checks"].as_array().unwrap();
        assert!(checks.iter().all(|c| c["outcome"] == "passed"), "{report}");
        assert!(checks.iter().all(|c| !c["message_zh"].as_str().unwrap().is_empty()));
    }
    for bad in [json!({}), json!({"token": token, "identifier": f.licence.identifier}), json!({"pdf": "x"})] {
        let (status, error) = post_json(&f, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {error}");
        assert!(error["code"].is_string() && error["message"].is_string(), "{error}");
    }
    let (status, error) = post_json(&f, json!({"token": "NOT-A-TOKEN!!"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["code"], "unreadable_input");
    // A plain sentence in both languages, as on the page, not the decoder's words.
    let plain = "无法识别：这不是本平台的电子证照二维码，或二维码内容不完整。请重新扫描证照上的二维码。 \
                 Not recognised: this is not a licence QR code of this platform, or it is incomplete. \
                 Scan the QR code on the licence again.";
    for text in ["NOT-A-TOKEN!!", "https://zz.example.gov.cn/v/AAAA", "ABCDEFGH2345"] {
        let (status, error) = post_json(&f, json!({"token": text})).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input"))
        );
        assert_eq!(error["message"], plain, "{text}");
    }
}

#[tokio::test]
async fn pdfs_verify_as_multipart_or_raw_uploads() {
    let f = fixture().await;
    for field in ["pdf", "file"] {
        let (content_type, body) = multipart(field, f.licence.pdf().unwrap());
        let req = Request::post("/api/v1/verify")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let (status, _, bytes) = send(&f, req).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        let report: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(report["verdict"], "valid", "{report}");
        assert_eq!(report["subject"], "pdf");
    }
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/pdf")
        .body(Body::from(f.licence.pdf().unwrap().to_vec()))
        .unwrap();
    let (status, _, bytes) = send(&f, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap()["verdict"], "valid");
    let (content_type, body) = multipart("other", f.licence.pdf().unwrap());
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&f, req).await.0, StatusCode::BAD_REQUEST);
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("x"))
        .unwrap();
    assert_eq!(send(&f, req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn bad_uploads_get_clear_errors_in_bounded_time() {
    let f = fixture().await;
    let raw = |bytes: Vec<u8>| {
        Request::post("/api/v1/verify")
            .header(header::CONTENT_TYPE, "application/pdf")
            .body(Body::from(bytes))
            .unwrap()
    };
    let mut nested = b"%PDF-1.7\n1 0 obj\n".to_vec();
    nested.extend(std::iter::repeat_n(b'[', 200_000));
    nested.extend_from_slice(b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    let truncated = f.licence.pdf().unwrap()[..f.licence.pdf().unwrap().len() * 2 / 3].to_vec();
    // Not a PDF at all: 422 `unreadable_input`, as the README promises.
    for (what, bytes) in [("empty", vec![]), ("not a PDF", b"GIF89a not a pdf".to_vec())] {
        let (status, _, body) = send(&f, raw(bytes)).await;
        let v: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| panic!("{what}: {}", String::from_utf8_lossy(&body)));
        assert_eq!(
            (status, v["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input")),
            "{what}: {v}"
        );
        if what == "not a PDF" {
            let plain = "无法读取：这不是 PDF 文件，或文件已损坏。 \
                         Not readable: this is not a PDF file, or the file is damaged.";
            assert_eq!(v["message"], plain, "{what}: {v}");
        }
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {v}");
    }
    // A PDF whose one object nests too deep to read, and a licence cut after two thirds
    // (what is left reads as the unsigned PDF that was signed): both read as PDFs without a
    // signature, so they get a report, invalid at `pdf.signature_found`, in bounded time.
    for (what, bytes) in [("deep nesting", nested), ("truncated", truncated)] {
        let started = Instant::now();
        let (status, _, body) = send(&f, raw(bytes)).await;
        assert!(started.elapsed() < Duration::from_secs(5), "{what} took {:?}", started.elapsed());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, v["verdict"].as_str()), (StatusCode::OK, Some("invalid")), "{what}: {v}");
        let checks: Vec<(&str, &str)> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["code"].as_str().unwrap(), c["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(checks, [("input.read", "passed"), ("pdf.signature_found", "failed")], "{what}: {v}");
    }
    // 50 MB: refused by size, before anything is parsed.
    let started = Instant::now();
    let big = vec![b'%'; 50 * 1024 * 1024];
    let (status, _, body) = send(&f, raw(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", String::from_utf8_lossy(&body));
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "payload_too_large");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The same as a multipart upload.
    let (content_type, body) = multipart("pdf", &vec![b'%'; 50 * 1024 * 1024]);
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let (status, _, body) = send(&f, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{}", String::from_utf8_lossy(&body));
    // And the service still answers.
    let (status, _, _) = send(&f, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_page_shows_the_verdict_without_javascript() {
    let f = fixture().await;
    let path = format!("/v/{}", f.licence.url.rsplit('/').next().unwrap());
    let (status, headers, body) = send(&f, Request::get(&path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("data-verdict=\"valid\""), "{html}");
    assert!(html.contains("有效") && html.contains("Valid"));
    assert!(html.contains("上海浦江美食餐饮管理有限公司"), "holder name shown");
    assert!(html.contains("<svg"), "seal image shown");
    assert!(!html.contains("<script"), "no JavaScript");
    // Lowercase (as a QR reader may hand it over) works the same.
    let (status, _, _) = send(&f, Request::get(path.to_ascii_lowercase()).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);

    // Revoked: the page says invalid and why.
    f.platform
        .register
        .set_status(
            None,
            &f.licence.identifier,
            LicenceStatus::Revoked,
            "以欺骗手段取得",
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let (status, _, body) = send(&f, Request::get(&path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("data-verdict=\"invalid\""));
    assert!(html.contains("证照状态：撤销"), "{html}");

    // Garbage: an HTML page (not JSON) saying so.
    let (status, headers, body) = send(&f, Request::get("/v/NOT-A-TOKEN").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(String::from_utf8(body).unwrap().contains("data-verdict=\"invalid\""));
}

#[tokio::test]
async fn the_trust_list_is_served_and_verifies_under_the_published_root() {
    let f = fixture().await;
    let (status, headers, list) =
        send(&f, Request::get("/pki/trust-list.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let (_, _, pem) = send(&f, Request::get("/pki/root-ed25519.pem").body(Body::empty()).unwrap()).await;
    let root =
        zhengzhao::pki::pem_decode_all(&String::from_utf8(pem).unwrap(), "CERTIFICATE").unwrap().remove(0);
    let verified = zhengzhao::verify::trustlist::verify_trust_list(&list, Some(&root)).unwrap();
    assert_eq!(verified.body.public_url, "https://zz.example.gov.cn");
    // Each seal carries its department's types: the market department's every type, the
    // others' their own (the 政务服务中心's none).
    for d in zhengzhao::platform::DEMO_DEPARTMENTS {
        let types: Vec<&str> =
            d.types.iter().copied().filter(|t| *t != zhengzhao::licence::NO_TYPE).collect();
        let seals: Vec<_> = verified.body.seals.iter().filter(|s| s.department_code == d.code).collect();
        assert_eq!(seals.len(), d.algorithms.len(), "{}", d.name);
        assert!(seals.iter().all(|s| s.type_codes == types), "{}: {seals:?}", d.name);
    }
}

#[tokio::test]
async fn public_verification_is_rate_limited_per_address() {
    let f = fixture_with(Layer { rate_limit: Some(2), ..Layer::default() }).await;
    let addr: SocketAddr = "203.0.113.7:40000".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let mut req = Request::post("/api/v1/verify")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"url": f.licence.url}).to_string()))
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(addr));
        let (status, headers, _) = send(&f, req).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key(header::RETRY_AFTER));
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&StatusCode::OK));
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

#[tokio::test]
async fn the_openapi_document_describes_verification() {
    let f = fixture().await;
    let (_, _, body) = send(&f, Request::get("/api/openapi.json").body(Body::empty()).unwrap()).await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["paths"]["/api/v1/verify"]["post"].is_object());
    assert!(doc["paths"]["/v/{token}"]["get"].is_object());
    assert!(doc["paths"]["/pki/trust-list.json"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Report"].is_object());
}
