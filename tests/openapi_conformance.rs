//! The API document matches the API: schemathesis (PyPI) runs against the live
//! `/api/openapi.json` of a server on loopback, once with a key of each scope, with every
//! check and 0 failures allowed; plus the error forms its document promises (JSON
//! `{code, message}` everywhere, the HTML page under `/v/`).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;
use common::app;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::{DEMO_DEPARTMENT, Platform, Scope};

/// Examples per operation and phase (issue 9: "about 25").
const MAX_EXAMPLES: &str = "25";

async fn demo_platform(dir: &std::path::Path, public_url: &str) -> Arc<Platform> {
    // The rate limit is lifted so that schemathesis' burst is tested, not the limiter.
    let layer =
        Layer { public_url: Some(public_url.into()), rate_limit: Some(1_000_000), ..Layer::default() };
    let config = Config::from_layer(dir.join("data"), layer).unwrap();
    let platform = Platform::create(config, None).await.unwrap();
    platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    Arc::new(platform)
}

/// The schemathesis executable, or `None` (loudly) when it is missing and `CI` is unset.
fn schemathesis() -> Option<String> {
    match std::env::var("ZHENGZHAO_TEST_SCHEMATHESIS") {
        Ok(path) if std::path::Path::new(&path).exists() => Some(path),
        _ => {
            common::skip::skip(
                "the schemathesis run",
                "ZHENGZHAO_TEST_SCHEMATHESIS unset (tests/run-all.sh sets it)",
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_with_a_key_of_each_scope() {
    let Some(st) = schemathesis() else { return };
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let platform = demo_platform(dir.path(), &base).await;
    let now = OffsetDateTime::now_utc();
    let mut keys = vec![];
    for scope in Scope::ALL {
        // holder-proxy belongs to holder portals, which the operator registers.
        let key = if scope == Scope::HolderProxy {
            let spki = [
                hex::decode("302a300506032b6570032100").unwrap(),
                ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]).verifying_key().to_bytes().to_vec(),
            ]
            .concat();
            let pem = format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                data_encoding::BASE64.encode(&spki)
            );
            platform.clients.add_portal("st-portal", &pem, now).await.unwrap().1
        } else {
            platform
                .clients
                .add_client(DEMO_DEPARTMENT.0, &format!("st-{scope}"), &[scope], &[], now)
                .await
                .unwrap()
                .1
        };
        keys.push((scope, key.expose().to_owned()));
    }
    let server = tokio::spawn(async move {
        zhengzhao::server::run(platform, listener, std::future::pending()).await.unwrap();
    });
    // Two schemathesis processes at a time, each with one worker: its threads trip a
    // CPython 3.11 `ast` bug ("AST constructor recursion depth mismatch") in hypothesis.
    let mut failed = vec![];
    for pair in keys.chunks(2) {
        let runs: Vec<_> = pair
            .iter()
            .map(|(scope, key)| {
                let (st, base, key, dir) = (st.clone(), base.clone(), key.clone(), dir.path().to_owned());
                let scope = *scope;
                tokio::spawn(async move { run_schemathesis(&st, &base, scope, &key, &dir).await })
            })
            .collect();
        for run in runs {
            let (scope, ok, output) = run.await.unwrap();
            if !ok {
                println!("{output}");
                failed.push(scope.to_string());
            }
        }
    }
    server.abort();
    assert!(failed.is_empty(), "schemathesis failed with the keys of {failed:?} (output above)");
}

/// Runs schemathesis with one key against the live document; prints its summary line and
/// answers whether it passed, and its output.
async fn run_schemathesis(
    st: &str,
    base: &str,
    scope: Scope,
    key: &str,
    dir: &std::path::Path,
) -> (Scope, bool, String) {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
    // Serializes `application/timestamp-query` bodies (POST /tsa) as raw bytes.
    let hooks = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis_hooks.py");
    let seed = 20_261_126 + Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
    let output = tokio::process::Command::new(st)
        .env("SCHEMATHESIS_HOOKS", hooks)
        .args(["--config-file", config, "run", &format!("{base}/api/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .args(["--max-examples", MAX_EXAMPLES, "--checks", "all", "--workers", "1"])
        .args(["--seed", &seed.to_string(), "--no-color"])
        .arg("--report-dir")
        .arg(dir.join(format!("st-{scope}")))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("schemathesis with the {scope} key: {}", stdout.lines().last().unwrap_or_default());
    (scope, output.status.success(), format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr)))
}

async fn send(platform: &Arc<Platform>, request: Request<Body>) -> (StatusCode, Option<String>, Vec<u8>) {
    let response = app(platform.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    (status, content_type, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Asserts a JSON `{code, message}` error with this status and code.
fn assert_json_error(
    what: &str,
    got: &(StatusCode, Option<String>, Vec<u8>),
    status: StatusCode,
    code: &str,
) {
    assert_eq!(got.0, status, "{what}: {}", String::from_utf8_lossy(&got.2));
    assert_eq!(got.1.as_deref(), Some("application/json"), "{what}");
    let body: Value = serde_json::from_slice(&got.2).unwrap();
    assert_eq!(body["code"], code, "{what}: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn every_error_is_json_and_html_under_v() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path(), "http://127.0.0.1:9").await;
    // 404, 405 (with Allow), 415, 413 and rejections of extractors: JSON with a code.
    assert_json_error(
        "unknown path",
        &send(&platform, get("/nope")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let response = app(platform.clone())
        .oneshot(Request::delete("/api/openapi.json").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(response.headers().contains_key(header::ALLOW), "405 keeps its Allow header");
    let got = send(&platform, Request::delete("/healthz").body(Body::empty()).unwrap()).await;
    assert_json_error("wrong method", &got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let got = send(&platform, Request::post("/api/v1/verify").body(Body::from("x")).unwrap()).await;
    assert_json_error("no content type", &got, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let big = vec![b'{'; zhengzhao::http::MAX_BODY_BYTES + 10];
    let got = send(
        &platform,
        Request::post("/api/v1/checks")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big))
            .unwrap(),
    )
    .await;
    assert_json_error("body too large", &got, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let got = send(&platform, get("/api/v1/holders/x/licences?code_type=001&bogus=1")).await;
    assert_json_error("no key first", &got, StatusCode::UNAUTHORIZED, "unauthorised");
    let got = send(&platform, get("/pki/%FF")).await;
    assert_json_error("path not UTF-8", &got, StatusCode::BAD_REQUEST, "bad_request");
    // 414 and 431 are answered by the service in its own form, not by hyper with no body.
    let long = format!("/pki/{}", "a".repeat(zhengzhao::http::MAX_URI_BYTES));
    assert_json_error(
        "long target",
        &send(&platform, get(&long)).await,
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
    );
    let mut many = Request::get("/healthz");
    for i in 0..=zhengzhao::http::MAX_HEADER_COUNT {
        many = many.header(format!("x-h{i}"), "1");
    }
    let got = send(&platform, many.body(Body::empty()).unwrap()).await;
    assert_json_error("many headers", &got, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");
    let got = send(
        &platform,
        Request::get("/healthz").header("x-big", "b".repeat(40_000)).body(Body::empty()).unwrap(),
    )
    .await;
    assert_json_error("large header", &got, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");

    // Under /v/: the HTML page, for a token that is not UTF-8 too.
    let long = format!("/v/{}", "A".repeat(zhengzhao::http::MAX_URI_BYTES));
    for (uri, status) in [
        ("/v/%FF", StatusCode::BAD_REQUEST),
        ("/v/%FF%FE", StatusCode::BAD_REQUEST),
        ("/v/not-a-token", StatusCode::BAD_REQUEST),
        ("/v/a/b", StatusCode::NOT_FOUND),
        (long.as_str(), StatusCode::URI_TOO_LONG),
    ] {
        let (got, content_type, body) = send(&platform, get(uri)).await;
        assert_eq!(got, status, "{uri}");
        assert!(
            content_type.as_deref().is_some_and(|c| c.starts_with("text/html")),
            "{uri}: {content_type:?}"
        );
        let html = String::from_utf8(body).unwrap();
        assert!(html.starts_with("<!doctype html>"), "{uri}");
    }
    let (got, content_type, _) = send(&platform, Request::post("/v/abc").body(Body::empty()).unwrap()).await;
    assert_eq!(got, StatusCode::METHOD_NOT_ALLOWED);
    assert!(content_type.unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn bodies_and_headers_are_read_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path(), "http://127.0.0.1:9").await;
    let now = OffsetDateTime::now_utc();
    let scopes = [Scope::Issue, Scope::Query, Scope::Check, Scope::Manage];
    let (_, key) = platform.clients.add_client(DEMO_DEPARTMENT.0, "doc", &scopes, &[], now).await.unwrap();
    let key = format!("Bearer {}", key.expose());
    let post = |uri: &str, body: &str| {
        Request::post(uri)
            .header(header::AUTHORIZATION, &key)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-purpose", "核验")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    // `claims` as an array (serde would take its fields by position) and bodies as arrays.
    let id = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
    let got = send(
        &platform,
        post("/api/v1/checks", &format!(r#"{{"identifier": "{id}", "claims": [null, null]}}"#)),
    )
    .await;
    assert_json_error("claims array", &got, StatusCode::BAD_REQUEST, "invalid_json");
    let got = send(&platform, post("/api/v1/licences/x/status", r#"["suspended", "reason"]"#)).await;
    assert_json_error("status array", &got, StatusCode::BAD_REQUEST, "invalid_json");
    // A check of the client's own department's licence (the issuer's basis): not found.
    let own = zhengzhao::codes::LicenceId::new(
        &zhengzhao::codes::TypeCode::parse("11100000000013338W002").unwrap(),
        &zhengzhao::codes::Uscc::parse(DEMO_DEPARTMENT.0).unwrap(),
        "20269999999",
        1,
    )
    .unwrap();
    let got =
        send(&platform, post("/api/v1/checks", &format!(r#"{{"identifier": "{}"}}"#, own.as_str()))).await;
    assert_eq!(got.0, StatusCode::OK, "{}", String::from_utf8_lossy(&got.2));

    // Issuing needs an Idempotency-Key (checked before anything is issued).
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/templates/examples/food-business-licence.json"
    ))
    .unwrap();
    let issue = format!(
        r#"{{"seal_id": "31011500000001", "type_code": "11100000000013338W002", "licence": {example}}}"#
    );
    let got = send(&platform, post("/api/v1/licences", &issue)).await;
    assert_json_error("no key", &got, StatusCode::BAD_REQUEST, "idempotency_key_required");
    let mut with_key = post("/api/v1/licences", &issue);
    with_key.headers_mut().insert("idempotency-key", "k\tx".parse().unwrap());
    assert_json_error(
        "tab in key",
        &send(&platform, with_key).await,
        StatusCode::BAD_REQUEST,
        "invalid_input",
    );
    let mut with_key = post("/api/v1/licences", &issue);
    with_key.headers_mut().insert("idempotency-key", "order-1".parse().unwrap());
    assert_eq!(send(&platform, with_key).await.0, StatusCode::CREATED);

    // A blank access header is refused, not taken as absent.
    let long = "m".repeat(65);
    for (name, value) in [("x-matter-code", " "), ("x-matter-code", long.as_str()), ("x-purpose", "")] {
        let mut request = Request::get("/api/v1/licences").header(header::AUTHORIZATION, &key);
        if name != "x-purpose" {
            request = request.header("x-purpose", "核验");
        }
        let got = send(&platform, request.header(name, value).body(Body::empty()).unwrap()).await;
        assert_json_error(name, &got, StatusCode::BAD_REQUEST, "invalid_input");
    }
}

#[tokio::test]
async fn the_documents_examples_are_accepted_and_its_statuses_listed() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path(), "http://127.0.0.1:9").await;
    let (status, _, body) = send(&platform, get("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let verify = &doc["paths"]["/api/v1/verify"]["post"];
    let example = &verify["requestBody"]["content"]["application/json"]["example"];
    let request = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(example.to_string()))
        .unwrap();
    let (status, _, body) = send(&platform, request).await;
    assert_eq!(status, StatusCode::OK, "the verify example: {}", String::from_utf8_lossy(&body));
    let issue = &doc["paths"]["/api/v1/licences"]["post"];
    for status in ["201", "400", "401", "403", "404", "409", "413", "414", "415", "422", "429", "431"] {
        assert!(issue["responses"].get(status).is_some(), "POST /api/v1/licences documents {status}");
    }
    let key =
        issue["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "Idempotency-Key").unwrap();
    assert_eq!(key["required"], true);
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for status in ["414", "431"] {
                assert!(op["responses"].get(status).is_some(), "{method} {path} documents {status}");
            }
        }
    }
}
