//! 一件事一次办 bundles over HTTP: one request of a one-window client issues several
//! licences, all or none, idempotently, with a signed receipt whose QR token names every
//! licence and its record hash; the receipt's page shows each licence's state. Bad entries
//! are named, each of them, and nothing is stored.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::LicenceFilter;

#[macro_use]
mod common;

const DEPT: &str = "11310115MB2C90510L";
const BUSINESS: &str = "11100000000013338W001";
const FOOD: &str = "11100000000013338W002";

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    /// The market supervision department's Ed25519 seal.
    seal: String,
    /// An issuing client of that department.
    key: String,
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer =
        Layer { public_url: Some("https://zz.example.gov.cn".into()), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seal = p.ensure_demo(now).await.unwrap()[0].id.clone();
    let (_, key) = p.clients.add_client(DEPT, "综合窗口", &[Scope::Issue], &[], now).await.unwrap();
    F { _dir: dir, p: Arc::new(p), seal, key: key.expose().to_owned() }
}

fn example(name: &str) -> Value {
    let path = format!("{}/templates/examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A bundle of the business licence and the food business licence, both of `DEPT`.
fn two_licences(f: &F) -> Value {
    let business = example("business-licence");
    let food = example("food-business-licence");
    json!({
        "matter": {"code": "310115-YJS-0001", "name": "开办饭店"},
        "applicant": business["holder"],
        "receipt_seal_id": f.seal,
        "licences": [
            {"type_code": BUSINESS, "department": DEPT, "seal_id": f.seal, "fields": business["fields"]},
            {"type_code": FOOD, "department": DEPT, "seal_id": f.seal, "fields": food["fields"],
             "matter": food["matter"]},
        ]
    })
}

async fn call(f: &F, req: axum::http::request::Builder, body: Body) -> (StatusCode, Vec<u8>) {
    let response = common::app(f.p.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn post_bundle(f: &F, idempotency: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = Request::post("/api/v1/bundles")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.key))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = idempotency {
        req = req.header("idempotency-key", k);
    }
    let (status, bytes) = call(f, req, Body::from(body.to_string())).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn get(f: &F, uri: &str, accept: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.key))
        .header(header::ACCEPT, accept);
    call(f, req, Body::empty()).await
}

async fn licence_count(f: &F) -> usize {
    f.p.store.licences(&LicenceFilter { limit: 1000, ..Default::default() }).await.unwrap().len()
}

/// The receipt page's JSON report for a receipt URL.
async fn receipt_report(f: &F, url: &str) -> (StatusCode, Value) {
    let path = url.trim_start_matches("https://zz.example.gov.cn");
    let (status, bytes) = get(f, path, "application/json").await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn issues_all_replays_and_verifies(f: F) {
    let body = two_licences(&f);
    let (status, issued) = post_bundle(&f, Some("bundle-1"), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let licences = issued["licences"].as_array().unwrap();
    assert_eq!(licences.len(), 2);
    assert_eq!(licences[0]["type_code"], BUSINESS);
    assert_eq!(licences[1]["type_code"], FOOD);
    assert!(licences.iter().all(|l| l["status"] == "valid"), "{issued}");
    assert_eq!(licence_count(&f).await, 2);
    let id = issued["bundle_id"].as_str().unwrap();
    assert!(id.starts_with("BDL-"), "{id}");

    // A retry answers the same bundle; the same key with another body is a conflict.
    let (status, again) = post_bundle(&f, Some("bundle-1"), &body).await;
    assert_eq!((status, &again), (StatusCode::OK, &issued));
    let mut other = body.clone();
    other["matter"]["name"] = json!("开办咖啡馆");
    let (status, v) = post_bundle(&f, Some("bundle-1"), &other).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(licence_count(&f).await, 2);

    // The bundle and its receipt, to the client that issued it.
    let (status, shown) = get(&f, &format!("/api/v1/bundles/{id}"), "application/json").await;
    assert_eq!(status, StatusCode::OK);
    let shown: Value = serde_json::from_slice(&shown).unwrap();
    assert_eq!(shown, issued);
    let (status, pdf) = get(&f, &format!("/api/v1/bundles/{id}/receipt"), "application/pdf").await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF-"));

    // The receipt's QR: valid, naming both licences, each valid and as listed.
    let url = issued["url"].as_str().unwrap();
    assert!(url.starts_with("https://zz.example.gov.cn/b/"), "{url}");
    let (status, report) = receipt_report(&f, url).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["verdict"], "valid", "{report:#}");
    assert_eq!(report["bundle"]["matter_name"], "开办饭店");
    let listed: Vec<&str> =
        report["licences"].as_array().unwrap().iter().map(|l| l["identifier"].as_str().unwrap()).collect();
    let issued_ids: Vec<&str> = licences.iter().map(|l| l["identifier"].as_str().unwrap()).collect();
    assert_eq!(listed, issued_ids);
    for l in report["licences"].as_array().unwrap() {
        assert_eq!(l["report"]["verdict"], "valid", "{l:#}");
        let record = l["report"]["checks"].as_array().unwrap().iter().find(|c| c["code"] == "bundle.record");
        assert_eq!(record.unwrap()["outcome"], "passed");
    }

    // Revoking one licence shows on the receipt's page: the receipt no longer reads valid.
    let revoked = zhengzhao::licence::LicenceStatus::Revoked;
    f.p.register
        .set_status(None, issued_ids[1], revoked, "吊销（测试）", OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (_, report) = receipt_report(&f, url).await;
    assert_eq!(report["verdict"], "invalid", "{report:#}");
    assert_eq!(report["licences"][0]["report"]["verdict"], "valid");
    assert_eq!(report["licences"][1]["report"]["verdict"], "invalid");
    let (status, html) = get(&f, url.trim_start_matches("https://zz.example.gov.cn"), "text/html").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("开办饭店") && html.contains(issued_ids[0]) && html.contains(issued_ids[1]));
    assert!(html.contains("data-verdict=\"invalid\""));
}

async fn bad_entries_are_each_named_and_nothing_is_stored(f: F) {
    let mut body = two_licences(&f);
    body["licences"][0]["fields"]["registration_no"] = json!("not a code");
    body["licences"][1]["seal_id"] = json!("S-NO-SUCH-SEAL");
    body["applicant"]["code"] = json!("91310115MA1H7ABC2X");
    let (status, v) = post_bundle(&f, Some("bad-1"), &body).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_bundle")), "{v:#}");
    let errors = v["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["applicant.code", "licences[1].seal_id"], "{v:#}");
    assert_eq!(errors[1]["entry"], 1);
    assert_eq!(licence_count(&f).await, 0);

    // A department that does not own the seal is named too.
    let mut body = two_licences(&f);
    body["licences"][1]["department"] = json!("11310115MB2C90511X");
    let (status, v) = post_bundle(&f, Some("bad-2"), &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v:#}");
    assert_eq!(v["errors"][0]["field"], "licences[1].department");

    // No key, no entries, too many entries, unknown members.
    let (status, v) = post_bundle(&f, None, &two_licences(&f)).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("idempotency_key_required")));
    let mut body = two_licences(&f);
    body["licences"] = json!([]);
    assert_eq!(post_bundle(&f, Some("bad-3"), &body).await.0, StatusCode::BAD_REQUEST);
    let one = two_licences(&f)["licences"][0].clone();
    body["licences"] = Value::Array(vec![one; 9]);
    assert_eq!(post_bundle(&f, Some("bad-4"), &body).await.0, StatusCode::BAD_REQUEST);
    let mut body = two_licences(&f);
    body["surprise"] = json!(1);
    let (status, v) = post_bundle(&f, Some("bad-5"), &body).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")));
    assert_eq!(licence_count(&f).await, 0);
    // Nothing was stored and no serial was used: the next bundle starts at serial 1.
    let (status, issued) = post_bundle(&f, Some("good"), &two_licences(&f)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    for l in issued["licences"].as_array().unwrap() {
        let id = zhengzhao::codes::LicenceId::parse(l["identifier"].as_str().unwrap()).unwrap();
        assert_eq!(&id.serial()[4..], "0000001", "{id}");
    }
}

async fn a_build_failure_stores_nothing(f: F) {
    // The second licence cannot be rendered (its business items do not fit the page): the
    // first, built fine, is not stored either, and its serial is given back.
    let mut body = two_licences(&f);
    body["licences"][1]["fields"]["business_items"] = json!("热食类食品制售，".repeat(120));
    let (status, v) = post_bundle(&f, Some("too-long"), &body).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unprocessable")),
        "{v:#}"
    );
    assert_eq!(licence_count(&f).await, 0);
    let (status, issued) = post_bundle(&f, Some("good"), &two_licences(&f)).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let id =
        zhengzhao::codes::LicenceId::parse(issued["licences"][0]["identifier"].as_str().unwrap()).unwrap();
    assert_eq!(&id.serial()[4..], "0000001");
}

async fn receipt_tokens_that_are_not_receipts_are_refused(f: F) {
    // A licence's own QR token is no receipt; nor is garbage.
    let (_, issued) = post_bundle(&f, Some("b"), &two_licences(&f)).await;
    let token = issued["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    for text in ["AAAA", "%FF", &"A".repeat(5000), &token[..token.len() - 8]] {
        let (status, report) = get(&f, &format!("/b/{text}"), "application/json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        let report: Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(report["verdict"], "invalid", "{text}: {report}");
        assert_eq!(report["checks"][0]["code"], "input.read");
        assert!(report["licences"].as_array().unwrap().is_empty());
    }
    // Someone else's bundle does not exist for this client.
    let now = OffsetDateTime::now_utc();
    let (_, other) = f.p.clients.add_client(DEPT, "另一窗口", &[Scope::Issue], &[], now).await.unwrap();
    let req = Request::get(format!("/api/v1/bundles/{}", issued["bundle_id"].as_str().unwrap()))
        .header(header::AUTHORIZATION, format!("Bearer {}", other.expose()));
    assert_eq!(call(&f, req, Body::empty()).await.0, StatusCode::NOT_FOUND);
}

on_both_backends!(
    issues_all_replays_and_verifies,
    bad_entries_are_each_named_and_nothing_is_stored,
    a_build_failure_stores_nothing,
    receipt_tokens_that_are_not_receipts_are_refused,
);
