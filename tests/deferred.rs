//! Deferred documents (render on first download): the record and QR token are stored at
//! issue, the PDF or OFD is made, signed and stored on first download, every later
//! download answers the same bytes, the documents verify (our engine and pyHanko), and a
//! seal revoked in between signs nothing more. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{Document, DocumentKind};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::verify::Verdict;

mod common;

use common::tools::{env_tool, require, run, text};

const DEPT: &str = "11310115MB2C90510L";
const FOOD: &str = "11100000000013338W002";

struct F {
    dir: tempfile::TempDir,
    p: Arc<Platform>,
    /// The demo seals: Ed25519 and SM2.
    ed25519: String,
    sm2: String,
    key: String,
}

/// A platform served on a port of its own: pyHanko fetches the CRLs its certificates name
/// (at the public URL).
async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let layer =
        Layer { public_url: Some(format!("http://127.0.0.1:{port}")), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    let by = |alg| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    let (ed25519, sm2) = (by(Algorithm::Ed25519), by(Algorithm::Sm2));
    let (_, key) = p.clients.add_client(DEPT, "存量证照电子化", &[Scope::Issue], &[], now).await.unwrap();
    let p = Arc::new(p);
    let served = p.clone();
    tokio::spawn(async move { zhengzhao::server::run(served, listener, std::future::pending()).await });
    F { dir, p, ed25519, sm2, key: key.expose().to_owned() }
}

fn body(seal: &str, document: &str, render: &str) -> Value {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let licence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json!({"seal_id": seal, "type_code": FOOD, "document": document, "render": render, "licence": licence})
}

async fn call(f: &F, req: axum::http::request::Builder, body: Body) -> (StatusCode, Vec<u8>) {
    let req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.key));
    let response = common::app(f.p.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn issue(f: &F, key: &str, body: &Value) -> Value {
    let req = Request::post("/api/v1/licences")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key);
    let (status, bytes) = call(f, req, Body::from(body.to_string())).await;
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

async fn download(f: &F, path: &str) -> (StatusCode, Vec<u8>) {
    call(f, Request::get(path), Body::empty()).await
}

async fn a_deferred_pdf_is_made_once_on_first_download(f: F) {
    let issued = issue(&f, "lazy-1", &body(&f.ed25519, "pdf", "on_download")).await;
    let id = issued["identifier"].as_str().unwrap().to_owned();
    assert_eq!(issued["document"], "pdf");
    assert_eq!(issued["pdf"], format!("/api/v1/licences/{id}/pdf"));
    // Stored: record and token, no PDF yet.
    let row = f.p.store.licence(&id).await.unwrap().unwrap();
    assert_eq!(row.licence.document, Document::Deferred(DocumentKind::Pdf));
    // Verifiable already, by identifier (the register's token).
    let now = OffsetDateTime::now_utc();
    let report = f.p.verification.verify_identifier(&id, now).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");

    // The same key with documents now is another request.
    let req = Request::post("/api/v1/licences")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "lazy-1");
    let (status, _) = call(&f, req, Body::from(body(&f.ed25519, "pdf", "now").to_string())).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let (status, pdf) = download(&f, &format!("/api/v1/licences/{id}/pdf")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    assert!(pdf.starts_with(b"%PDF-"));
    let row = f.p.store.licence(&id).await.unwrap().unwrap();
    assert_eq!(row.licence.document, Document::Pdf(pdf.clone()), "stored on first download");
    let (_, again) = download(&f, &format!("/api/v1/licences/{id}/pdf")).await;
    assert_eq!(again, pdf, "every later download answers the stored bytes");
    let report = f.p.verification.verify_pdf(pdf.clone(), OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(report.licence.as_ref().unwrap().identifier, id);

    if let Some([pyhanko]) = require("pyHanko on a deferred PDF", [env_tool("ZHENGZHAO_TEST_PYHANKO")]) {
        let root = f.dir.path().join("root.pem");
        std::fs::write(&root, f.p.pki.roots_pem(Some(Algorithm::Ed25519)).await.unwrap()).unwrap();
        let file = f.dir.path().join("deferred.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let args = [
            "sign",
            "validate",
            "--trust",
            root.to_str().unwrap(),
            "--trust-replace",
            file.to_str().unwrap(),
        ];
        let out = run(&pyhanko, args).await;
        let s = text(&out);
        assert!(out.status.success() && s.contains(":INTACT:TRUSTED"), "pyHanko:\n{s}");
    }
}

async fn a_deferred_ofd_and_a_revoked_seal(f: F) {
    let issued = issue(&f, "lazy-ofd", &body(&f.sm2, "ofd", "on_download")).await;
    let id = issued["identifier"].as_str().unwrap().to_owned();
    assert_eq!((issued["document"].as_str(), issued["pdf"].as_str()), (Some("ofd"), None));
    let (status, ofd) = download(&f, &format!("/api/v1/licences/{id}/ofd")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&ofd));
    let report = f.p.verification.verify_ofd(ofd, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    // A deferred OFD has no PDF.
    let (status, _) = download(&f, &format!("/api/v1/licences/{id}/pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A seal revoked before the first download signs nothing: 409, nothing stored.
    let later = issue(&f, "lazy-2", &body(&f.ed25519, "pdf", "on_download")).await;
    let later = later["identifier"].as_str().unwrap().to_owned();
    f.p.pki
        .revoke_seal(&f.ed25519, zhengzhao::pki::RevocationReason::KeyCompromise, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (status, answer) = download(&f, &format!("/api/v1/licences/{later}/pdf")).await;
    let v: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!((status, v["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    let row = f.p.store.licence(&later).await.unwrap().unwrap();
    assert_eq!(row.licence.document, Document::Deferred(DocumentKind::Pdf));
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deferred_pdf_is_made_once_on_first_download() {
        super::a_deferred_pdf_is_made_once_on_first_download(super::fixture_on(None).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deferred_ofd_and_a_revoked_seal() {
        super::a_deferred_ofd_and_a_revoked_seal(super::fixture_on(None).await).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deferred_pdf_is_made_once_on_first_download() {
        let Some((url, schema)) = super::common::postgres_schema_url().await else { return };
        super::a_deferred_pdf_is_made_once_on_first_download(super::fixture_on(Some(url)).await).await;
        super::common::drop_schema(&schema).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deferred_ofd_and_a_revoked_seal() {
        let Some((url, schema)) = super::common::postgres_schema_url().await else { return };
        super::a_deferred_ofd_and_a_revoked_seal(super::fixture_on(Some(url)).await).await;
        super::common::drop_schema(&schema).await;
    }
}
