//! The 开办饭店 bundle of the shipped example, end to end: a one-window client of the
//! 政务服务中心, with delegations from four departments, issues five licences in one
//! request; the receipt is a PDF pyHanko validates, its QR code scans (zbarimg) to the
//! receipt URL, and that page verifies all five licences. Without one department's
//! delegation the whole bundle is refused, that entry named, nothing stored. The platform is
//! served on a port of its own (pyHanko fetches the CRLs its certificates name).

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::ffi::OsStr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::{LicenceFilter, SealRecord};

mod common;

use common::tools::{env_tool, path_tool, require, run, text};

const CENTRE: &str = "12310115MB2C90550M";

struct F {
    dir: tempfile::TempDir,
    p: Arc<Platform>,
    base: String,
    seals: Vec<SealRecord>,
    window: String,
    /// The delegations made, by department.
    delegations: Vec<(String, String)>,
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let layer = Layer { public_url: Some(base.clone()), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    let (window, key) = p.clients.add_client(CENTRE, "综合窗口", &[Scope::Issue], &[], now).await.unwrap();
    let example = example();
    // Each department delegates to the window its types of the example, with its Ed25519 seal.
    let mut delegations = vec![];
    for department in ["11310115MB2C90510L", "11310115MB2C90520M", "11310115MB2C90530N", "11310115MB2C90540P"]
    {
        let types: Vec<String> = example["licences"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["department"] == department)
            .map(|l| l["type_code"].as_str().unwrap().to_owned())
            .collect();
        let seal = seal_of(&seals, department);
        let d = p.delegations.add(department, &window.id, &types, &[seal], now).await.unwrap();
        delegations.push((department.to_owned(), d.id));
    }
    let p = Arc::new(p);
    let served = p.clone();
    tokio::spawn(async move { zhengzhao::server::run(served, listener, std::future::pending()).await });
    F { dir, p, base, seals, window: key.expose().to_owned(), delegations }
}

fn example() -> Value {
    let path = format!("{}/templates/examples/bundles/open-restaurant.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The Ed25519 seal of `department`.
fn seal_of(seals: &[SealRecord], department: &str) -> String {
    let seal =
        seals.iter().find(|s| s.department_code.as_str() == department && s.algorithm == Algorithm::Ed25519);
    seal.unwrap().id.clone()
}

/// The example with its `SEAL:<USCC>:ed25519` placeholders filled in.
fn filled(f: &F) -> Value {
    let mut text = serde_json::to_string(&example()).unwrap();
    for s in &f.seals {
        let placeholder = format!("SEAL:{}:{}", s.department_code.as_str(), s.algorithm.as_str());
        text = text.replace(&placeholder, &s.id);
    }
    assert!(!text.contains("SEAL:"), "every placeholder names a demo seal");
    serde_json::from_str(&text).unwrap()
}

async fn call(f: &F, req: axum::http::request::Builder, body: Body) -> (StatusCode, Vec<u8>) {
    let req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.window));
    let response = common::app(f.p.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn post(f: &F, key: &str, body: &Value) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/bundles")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key);
    let (status, bytes) = call(f, req, Body::from(body.to_string())).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn licence_count(f: &F) -> usize {
    f.p.store.licences(&LicenceFilter { limit: 1000, ..Default::default() }).await.unwrap().len()
}

async fn open_restaurant_through_one_window(f: F) {
    let (status, issued) = post(&f, "KBFD-2026-000001", &filled(&f)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued:#}");
    let licences = issued["licences"].as_array().unwrap();
    assert_eq!(licences.len(), 5);
    let mut issuers: Vec<&str> = licences.iter().map(|l| l["issuer_code"].as_str().unwrap()).collect();
    issuers.sort_unstable();
    issuers.dedup();
    assert_eq!(issuers.len(), 4, "five licences of four departments");
    assert_eq!(licence_count(&f).await, 5);

    // The receipt's QR page: the receipt and all five licences valid.
    let url = issued["url"].as_str().unwrap();
    let req = Request::get(url.trim_start_matches(&f.base)).header(header::ACCEPT, "application/json");
    let (status, report) = call(&f, req, Body::empty()).await;
    let report: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!((status, report["verdict"].as_str()), (StatusCode::OK, Some("valid")), "{report:#}");
    assert_eq!(report["licences"].as_array().unwrap().len(), 5);
    assert_eq!(report["seal"]["department_code"], CENTRE);

    // Without the water authority's delegation, the whole bundle is refused, that entry named.
    let water = &f.delegations.iter().find(|(d, _)| d == "11310115MB2C90530N").unwrap().1;
    f.p.delegations.revoke(water, Some("测试：撤销授权"), OffsetDateTime::now_utc()).await.unwrap();
    let (status, refused) = post(&f, "KBFD-2026-000002", &filled(&f)).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{refused:#}");
    let errors = refused["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{refused:#}");
    assert_eq!(errors[0]["entry"], 3);
    assert_eq!(errors[0]["code"], "no_delegation");
    assert_eq!(licence_count(&f).await, 5, "nothing of the refused bundle is stored");
}

/// The receipt as others see it: pyHanko validates its signature, zbarimg reads its QR code.
async fn the_receipt_validates_and_scans(f: &F) {
    let Some([pyhanko, pdftoppm, zbarimg, pdftotext]) = require(
        "the receipt with pyHanko, zbarimg and pdftotext",
        [
            env_tool("ZHENGZHAO_TEST_PYHANKO"),
            path_tool("pdftoppm"),
            path_tool("zbarimg"),
            path_tool("pdftotext"),
        ],
    ) else {
        return;
    };
    let (status, issued) = post(f, "KBFD-2026-000003", &filled(f)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued:#}");
    let req = Request::get(issued["receipt"].as_str().unwrap());
    let (status, pdf) = call(f, req, Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let file = f.dir.path().join("receipt.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let root = f.dir.path().join("root.pem");
    std::fs::write(&root, f.p.pki.roots_pem(Some(Algorithm::Ed25519)).await.unwrap()).unwrap();
    let args = [OsStr::new("sign"), OsStr::new("validate"), OsStr::new("--trust"), root.as_os_str()];
    let out = run(&pyhanko, args.into_iter().chain([OsStr::new("--trust-replace"), file.as_os_str()])).await;
    let s = text(&out);
    assert!(out.status.success() && s.contains(":INTACT:TRUSTED"), "pyHanko on the receipt:\n{s}");
    // The footer names the bundle as a case number, not as a licence identifier.
    let out = run(&pdftotext, [file.as_os_str(), OsStr::new("-")]).await;
    let words: String = text(&out).split_whitespace().collect();
    let bundle = issued["bundle_id"].as_str().unwrap();
    assert!(words.contains(&format!("办件编号：{bundle}")) && !words.contains("电子证照标识"), "{words}");

    let prefix = f.dir.path().join("receipt");
    let out = run(
        &pdftoppm,
        [OsStr::new("-r"), OsStr::new("150"), OsStr::new("-png"), file.as_os_str(), prefix.as_os_str()],
    )
    .await;
    assert!(out.status.success(), "pdftoppm: {}", text(&out));
    let png = f.dir.path().join("receipt-1.png");
    let out =
        run(&zbarimg, [OsStr::new("--raw"), OsStr::new("--nodbus"), OsStr::new("-q"), png.as_os_str()]).await;
    assert!(out.status.success(), "zbarimg finds no code on the receipt:\n{}", text(&out));
    let read = String::from_utf8(out.stdout).unwrap();
    assert_eq!(read.trim_end_matches('\n'), issued["url"].as_str().unwrap());
    let module = zhengzhao::pdf::qr_module_mm(issued["url"].as_str().unwrap()).unwrap();
    assert!(module >= 0.4, "the receipt's QR code has {module} mm modules");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_restaurant_through_one_window() {
        super::open_restaurant_through_one_window(super::fixture_on(None).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_receipt_validates_and_scans() {
        super::the_receipt_validates_and_scans(&super::fixture_on(None).await).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_restaurant_through_one_window() {
        let Some((url, schema)) = super::common::postgres_schema_url().await else { return };
        super::open_restaurant_through_one_window(super::fixture_on(Some(url)).await).await;
        super::common::drop_schema(&schema).await;
    }
}
