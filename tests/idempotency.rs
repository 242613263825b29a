//! Issuing is idempotent per client and key, on SQLite and on PostgreSQL: a replay and a
//! 409 store nothing and leave the next serial as it was, exactly one of N concurrent first
//! calls with one key gets 201, the losing builds give their serials back, keys are scoped
//! per client, and a request without a key is refused.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::LicenceFilter;

#[macro_use]
mod common;

const DEPT: &str = "11310115MB2C90510L";
const FOOD: &str = "11100000000013338W002";

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    seal: String,
    /// Two issuing clients of the same department.
    a: String,
    b: String,
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer =
        Layer { public_url: Some("https://zz.example.gov.cn".into()), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seal = p.ensure_demo(now).await.unwrap()[0].id.clone();
    let (_, a) =
        p.clients.add_client(DEPT, "审批系统甲", &[Scope::Issue, Scope::Manage], &[], now).await.unwrap();
    let (_, b) = p.clients.add_client(DEPT, "审批系统乙", &[Scope::Issue], &[], now).await.unwrap();
    F { _dir: dir, p: Arc::new(p), seal, a: a.expose().to_owned(), b: b.expose().to_owned() }
}

fn body(f: &F, holder_name: &str) -> Value {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let mut licence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    licence["holder"]["name"] = json!(holder_name);
    json!({"seal_id": f.seal, "type_code": FOOD, "licence": licence})
}

/// POSTs `body` to `uri` as `key`'s client with `idempotency` (none if `None`).
async fn post(
    p: &Arc<Platform>,
    uri: &str,
    key: &str,
    idempotency: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = Request::post(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = idempotency {
        req = req.header("idempotency-key", k);
    }
    let response = app(p.clone()).oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn licence_count(f: &F) -> usize {
    f.p.store.licences(&LicenceFilter { limit: 1000, ..Default::default() }).await.unwrap().len()
}

/// The serial part (year + 7 digits) of an identifier.
fn serial(id: &Value) -> u64 {
    let id = zhengzhao::codes::LicenceId::parse(id.as_str().unwrap()).unwrap();
    id.serial()[4..].parse().unwrap()
}

/// Issues with a fresh key and answers the serial it got: the next serial.
async fn next_serial(f: &F, key: &str) -> u64 {
    let (status, v) = post(&f.p, "/api/v1/licences", &f.a, Some(key), &body(f, "探针公司")).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    serial(&v["identifier"])
}

async fn a_replay_and_a_conflict_store_nothing(f: F) {
    let (status, first) = post(&f.p, "/api/v1/licences", &f.a, Some("order-1"), &body(&f, "甲公司")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(serial(&first["identifier"]), 1);
    let (status, again) = post(&f.p, "/api/v1/licences", &f.a, Some("order-1"), &body(&f, "甲公司")).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    let (status, v) = post(&f.p, "/api/v1/licences", &f.a, Some("order-1"), &body(&f, "乙公司")).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(licence_count(&f).await, 1);
    assert_eq!(next_serial(&f, "order-2").await, 2, "neither the replay nor the 409 used a serial");

    // The same for a new version.
    let uri = format!("/api/v1/licences/{}/versions", first["identifier"].as_str().unwrap());
    let (status, renewed) = post(&f.p, &uri, &f.a, Some("renew-1"), &body(&f, "甲公司")).await;
    assert_eq!(status, StatusCode::CREATED, "{renewed}");
    let (status, again) = post(&f.p, &uri, &f.a, Some("renew-1"), &body(&f, "甲公司")).await;
    assert_eq!((status, &again), (StatusCode::OK, &renewed));
    let mut other = body(&f, "甲公司");
    other["licence"]["fields"]["premises"] = json!("上海市浦东新区张江路1号");
    let (status, _) = post(&f.p, &uri, &f.a, Some("renew-1"), &other).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A key used to issue is not a key to renew with.
    let (status, _) = post(&f.p, &uri, &f.a, Some("order-1"), &body(&f, "甲公司")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(licence_count(&f).await, 3);
    assert_eq!(next_serial(&f, "order-3").await, 3);
}

async fn exactly_one_of_n_concurrent_first_calls_is_created(f: F) {
    let f = Arc::new(f);
    let mut tasks = vec![];
    for _ in 0..8 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            post(&f.p, "/api/v1/licences", &f.a, Some("order-race"), &body(&f, "甲公司")).await
        }));
    }
    let mut created = 0;
    let mut ids = vec![];
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("{other}: {v}"),
        }
        ids.push(v["identifier"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1, "exactly one 201");
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(licence_count(&f).await, 1);
    // Every losing build reserved a serial of its own and gave it back: the next seven
    // licences fill serials 1–8 without a gap.
    for n in 0..7 {
        next_serial(&f, &format!("order-after-race-{n}")).await;
    }
    let mut serials: Vec<u64> =
        f.p.store
            .licences(&LicenceFilter { limit: 100, ..Default::default() })
            .await
            .unwrap()
            .iter()
            .map(|row| serial(&json!(row.licence.id)))
            .collect();
    serials.sort_unstable();
    assert_eq!(serials, (1..=8).collect::<Vec<u64>>());
}

async fn keys_are_scoped_per_client(f: F) {
    let (s1, by_a) = post(&f.p, "/api/v1/licences", &f.a, Some("order-7"), &body(&f, "甲公司")).await;
    let (s2, by_b) = post(&f.p, "/api/v1/licences", &f.b, Some("order-7"), &body(&f, "甲公司")).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED), "{by_b}");
    assert_ne!(by_a["identifier"], by_b["identifier"], "another client's key is not a replay");
    // Nor a conflict with another body.
    let (s3, _) = post(&f.p, "/api/v1/licences", &f.b, Some("order-8"), &body(&f, "乙公司")).await;
    let (s4, _) = post(&f.p, "/api/v1/licences", &f.a, Some("order-8"), &body(&f, "丙公司")).await;
    assert_eq!((s3, s4), (StatusCode::CREATED, StatusCode::CREATED));
    // Each client replays its own.
    let (s5, again) = post(&f.p, "/api/v1/licences", &f.b, Some("order-7"), &body(&f, "甲公司")).await;
    assert_eq!((s5, &again), (StatusCode::OK, &by_b));
    assert_eq!(licence_count(&f).await, 4);
}

async fn a_request_without_a_key_is_refused_and_stores_nothing(f: F) {
    let (status, v) = post(&f.p, "/api/v1/licences", &f.a, None, &body(&f, "甲公司")).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_required")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("Idempotency-Key"), "{v}");
    assert_eq!(licence_count(&f).await, 0);
    let first = next_serial(&f, "order-1").await;
    assert_eq!(first, 1);
    let id = f.p.store.licences(&LicenceFilter { limit: 10, ..Default::default() }).await.unwrap()[0]
        .licence
        .id
        .clone();
    let (status, v) =
        post(&f.p, &format!("/api/v1/licences/{id}/versions"), &f.a, None, &body(&f, "探针公司")).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_required")),
        "{v}"
    );
    assert_eq!(licence_count(&f).await, 1);
    assert!(f.p.store.licence(&id).await.unwrap().unwrap().superseded_by.is_none());
    // A client that may not issue learns that first.
    let now = OffsetDateTime::now_utc();
    let (_, reader) = f.p.clients.add_client(DEPT, "只读", &[Scope::Query], &[], now).await.unwrap();
    let (status, _) = post(&f.p, "/api/v1/licences", reader.expose(), None, &body(&f, "甲公司")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(next_serial(&f, "order-2").await, 2);
}

on_both_backends!(
    a_replay_and_a_conflict_store_nothing,
    exactly_one_of_n_concurrent_first_calls_is_created,
    keys_are_scoped_per_client,
    a_request_without_a_key_is_refused_and_stores_nothing,
);
