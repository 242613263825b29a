//! The HTTP app: routes tested in process with `oneshot`, and once over a real port.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::Platform;

async fn demo_platform(dir: &std::path::Path) -> Arc<Platform> {
    let layer = Layer { public_url: Some("http://127.0.0.1:9".into()), ..Layer::default() };
    let config = Config::from_layer(dir.join("data"), layer).unwrap();
    let platform = Platform::create(config, None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    // One demo seal per algorithm of each demo department, the market department's first.
    let demo: usize = zhengzhao::platform::DEMO_DEPARTMENTS.iter().map(|d| d.algorithms.len()).sum();
    assert_eq!(seals.len(), demo);
    let market: Vec<Algorithm> = seals[..Algorithm::ALL.len()].iter().map(|s| s.algorithm).collect();
    assert_eq!(market, Algorithm::ALL);
    Arc::new(platform)
}

async fn get(platform: &Arc<Platform>, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let response =
        app(platform.clone()).oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, content_type, body)
}

#[tokio::test]
async fn health_and_roots() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path()).await;
    let (status, _, body) = get(&platform, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "ok");

    let (status, content_type, body) = get(&platform, "/pki/root.pem").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/x-pem-file"));
    let roots = pki::pem_decode_all(std::str::from_utf8(&body).unwrap(), "CERTIFICATE").unwrap();
    assert_eq!(roots.len(), Algorithm::ALL.len());
    let (status, _, body) = get(&platform, "/pki/root-p256.pem").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pki::pem_decode_all(std::str::from_utf8(&body).unwrap(), "CERTIFICATE").unwrap().len(), 1);
}

#[tokio::test]
async fn crls_are_served_where_seal_certificates_point() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path()).await;
    for seal in platform.pki.seals(None).await.unwrap() {
        let info = pki::cert_info(&seal.cert_der).unwrap();
        let url = &info.crl_urls[0];
        let path = url.strip_prefix("http://127.0.0.1:9").unwrap();
        let (status, content_type, der) = get(&platform, path).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_eq!(content_type.as_deref(), Some("application/pkix-crl"));
        // The CRL is signed by the seal's root, and does not list an active seal.
        let roots: Vec<Vec<u8>> =
            platform.store.roots().await.unwrap().into_iter().map(|r| r.cert_der).collect();
        let chain = pki::validate_seal_chain(&seal.cert_der, &[], &roots, &[der], OffsetDateTime::now_utc());
        assert!(chain.is_ok(), "{chain:?}");
    }
    // Revocation shows on the next fetch.
    let seal = &platform.pki.seals(None).await.unwrap()[0];
    platform
        .pki
        .revoke_seal(&seal.id, "key-compromise".parse().unwrap(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (_, _, der) = get(&platform, &format!("/pki/crl-{}.crl", seal.algorithm)).await;
    let roots: Vec<Vec<u8>> = platform.store.roots().await.unwrap().into_iter().map(|r| r.cert_der).collect();
    let err =
        pki::validate_seal_chain(&seal.cert_der, &[], &roots, &[der], OffsetDateTime::now_utc()).unwrap_err();
    assert!(matches!(err, pki::ChainError::Revoked { .. }), "{err}");
    let _ = Algorithm::ALL;
}

#[tokio::test]
async fn unknown_paths_get_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path()).await;
    for uri in ["/nope", "/pki/crl-rsa.crl", "/pki/secret.key", "/pki/root-x.pem"] {
        let (status, content_type, body) = get(&platform, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{uri}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "not_found", "{uri}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn serves_over_a_real_port() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        zhengzhao::server::run(platform, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    let health = client.get(format!("http://{addr}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let crl = client.get(format!("http://{addr}/pki/crl-ed25519.crl")).send().await.unwrap();
    assert_eq!(crl.headers()[header::CONTENT_TYPE], "application/pkix-crl");
    assert!(crl.headers()[header::CACHE_CONTROL].to_str().unwrap().starts_with("public, max-age="));
    let der = crl.bytes().await.unwrap();
    assert_eq!(der[0], 0x30, "DER SEQUENCE");
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    let platform = demo_platform(dir.path()).await;
    let (status, content_type, body) = get(&platform, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/licences", "post"),
        ("/api/v1/licences", "get"),
        ("/api/v1/licences/{id}", "get"),
        ("/api/v1/licences/{id}/pdf", "get"),
        ("/api/v1/licences/{id}/versions", "post"),
        ("/api/v1/licences/{id}/status", "post"),
        ("/api/v1/licences/{id}/history", "get"),
        ("/api/v1/checks", "post"),
        ("/api/v1/delegations", "get"),
        ("/api/v1/authorisations", "post"),
        ("/api/v1/authorisations/{code}", "delete"),
        ("/api/v1/holders/{code}/licences", "get"),
        ("/api/v1/holders/{code}/access-log", "get"),
        ("/pki/root.pem", "get"),
        ("/healthz", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing");
    }
    let issue = &paths["/api/v1/licences"]["post"];
    let example = &issue["requestBody"]["content"]["application/json"]["example"];
    assert_eq!(example["type_code"], "11100000000013338W002");
    assert_eq!(example["licence"]["fields"]["licence_no"], "JY23101150012345");
    let read = &paths["/api/v1/licences/{id}"]["get"];
    let headers: Vec<&str> =
        read["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(headers.contains(&"X-Purpose") && headers.contains(&"X-Authorisation-Code"), "{headers:?}");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "ErrorBody",
        "LicenceInput",
        "LicenceView",
        "CheckRequest",
        "CheckResult",
        "AccessEntry",
        "DelegationView",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
