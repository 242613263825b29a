//! Delegations (一件事一次办): a department lets a one-window client of another department
//! issue named types with named seals. On SQLite and PostgreSQL: what `add` refuses, and
//! issuing over HTTP with and without a delegation (403 `no_delegation` naming what is
//! missing, 201 under it, refused again after revocation), `GET /api/v1/delegations` and
//! the access log. On SQLite also end to end with the `zhengzhao delegation` commands.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.
#![allow(clippy::too_many_lines)] // Test scenarios read top to bottom.

use std::process::Command;
use std::sync::Arc;

use assert_cmd::cargo::CommandCargoExt;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::audit::AccessEntry;
use zhengzhao::config::{Config, Layer};
use zhengzhao::pki::{Algorithm, RevocationReason};
use zhengzhao::platform::{DEMO_DEPARTMENT, Platform, PlatformError, Scope};

#[macro_use]
mod common;

/// The window's department (政务服务中心).
const WINDOW_DEPT: &str = "91370406L24894136J";
const BUSINESS: &str = "11100000000013338W001";
const FOOD: &str = "11100000000013338W002";
const TEACHER: &str = "11100000000013338W003";

struct F {
    dir: tempfile::TempDir,
    p: Arc<Platform>,
    /// Department A's seals: Ed25519 and P-256.
    seal: String,
    other_seal: String,
    /// The window client's id and key (department W).
    window: String,
    window_key: String,
    /// A client of department A itself.
    own: String,
    own_key: String,
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer =
        Layer { public_url: Some("https://zz.example.gov.cn".into()), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    p.pki.add_department(WINDOW_DEPT, "演示市政务服务中心", "310115", &[], now).await.unwrap();
    let (window, window_key) =
        p.clients.add_client(WINDOW_DEPT, "综合窗口", &[Scope::Issue], &[], now).await.unwrap();
    let (own, own_key) =
        p.clients.add_client(DEMO_DEPARTMENT.0, "审批系统", &[Scope::Issue], &[], now).await.unwrap();
    let find = |alg| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    F {
        p: Arc::new(p),
        seal: find(Algorithm::Ed25519),
        other_seal: find(Algorithm::P256),
        window: window.id,
        window_key: window_key.expose().to_owned(),
        own: own.id,
        own_key: own_key.expose().to_owned(),
        dir,
    }
}

fn v(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn example(file: &str) -> Value {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An issuing request body for `type_code` with `seal`.
fn issue_body(seal: &str, type_code: &str) -> Value {
    let file = match type_code {
        FOOD => "food-business-licence.json",
        BUSINESS => "business-licence.json",
        _ => "teacher-qualification.json",
    };
    json!({"seal_id": seal, "type_code": type_code, "licence": example(file), "document": "none"})
}

/// Sends `method uri` as the client with `key`, with `body` and a fresh Idempotency-Key.
async fn call(
    p: &Arc<Platform>,
    method: &str,
    uri: &str,
    key: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    send(p, method, uri, key, body, &format!("order-{n}")).await
}

/// [`call`] with the Idempotency-Key `idempotency`.
async fn send(
    p: &Arc<Platform>,
    method: &str,
    uri: &str,
    key: &str,
    body: Option<&Value>,
    idempotency: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", idempotency);
    let body = body.map_or(Body::empty(), |b| Body::from(b.to_string()));
    let response = common::app(p.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn issue(f: &F, key: &str, seal: &str, type_code: &str) -> (StatusCode, Value) {
    call(&f.p, "POST", "/api/v1/licences", key, Some(&issue_body(seal, type_code))).await
}

/// Asserts a 403 `no_delegation` whose message names the type, the seal, the department and
/// ends with `missing`.
fn assert_no_delegation((status, v): &(StatusCode, Value), type_code: &str, seal: &str, missing: &str) {
    assert_eq!((*status, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("no_delegation")), "{v}");
    let want = format!(
        "this client may not issue type {type_code} with seal {seal} of department {}: {missing}",
        DEMO_DEPARTMENT.0
    );
    assert_eq!(v["message"].as_str(), Some(want.as_str()));
}

async fn log(f: &F) -> Vec<AccessEntry> {
    f.p.store.access_log(0, 1000).await.unwrap().into_iter().map(|r| r.entry).collect()
}

async fn granted(f: &F, key: &str) -> Vec<Value> {
    let (status, v) = call(&f.p, "GET", "/api/v1/delegations", key, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

async fn add_checks_everything_and_stores_nothing_on_refusal(f: F) {
    let now = OffsetDateTime::now_utc();
    let d = &f.p.delegations;
    let dept = DEMO_DEPARTMENT.0;
    let (seal, window) = (f.seal.as_str(), f.window.as_str());
    // A department with one type of its own, a revoked seal, clients that cannot take one.
    f.p.pki.add_department("91310115MA1H7ABC2D", "某教育局", "310115", &v(&[TEACHER]), now).await.unwrap();
    let foreign_seal =
        f.p.pki.create_seal("91310115MA1H7ABC2D", "专用章", Algorithm::Ed25519, now).await.unwrap();
    let revoked_seal = f.p.pki.create_seal(dept, "旧章", Algorithm::Ed25519, now).await.unwrap();
    f.p.pki.revoke_seal(&revoked_seal.id, RevocationReason::Superseded, now).await.unwrap();
    let (reader, _) =
        f.p.clients.add_client(WINDOW_DEPT, "查询系统", &[Scope::Query], &[], now).await.unwrap();
    let (gone, _) = f.p.clients.add_client(WINDOW_DEPT, "旧窗口", &[Scope::Issue], &[], now).await.unwrap();
    f.p.clients.revoke_client(&gone.id, now).await.unwrap();

    let refusals: Vec<(&str, Result<_, PlatformError>, &str, &str)> = vec![
        (
            "malformed department",
            d.add("11100000000013338X", window, &v(&[FOOD]), &v(&[seal]), now).await,
            "invalid_input",
            "invalid department",
        ),
        (
            "unknown department",
            d.add("11100000000013338W", window, &v(&[FOOD]), &v(&[seal]), now).await,
            "not_found",
            "department 11100000000013338W not found",
        ),
        (
            "unknown client",
            d.add(dept, "cl_nobody", &v(&[FOOD]), &v(&[seal]), now).await,
            "not_found",
            "client cl_nobody not found",
        ),
        (
            "revoked client",
            d.add(dept, &gone.id, &v(&[FOOD]), &v(&[seal]), now).await,
            "conflict",
            "is revoked",
        ),
        (
            "own client",
            d.add(dept, &f.own, &v(&[FOOD]), &v(&[seal]), now).await,
            "invalid_input",
            "belongs to department 11310115MB2C90510L itself",
        ),
        (
            "no issue scope",
            d.add(dept, &reader.id, &v(&[FOOD]), &v(&[seal]), now).await,
            "invalid_input",
            "lacks the issue scope",
        ),
        (
            "no types",
            d.add(dept, window, &[], &v(&[seal]), now).await,
            "invalid_input",
            "invalid types: name at least one",
        ),
        (
            "any type",
            d.add(dept, window, &v(&["*"]), &v(&[seal]), now).await,
            "invalid_input",
            "`*` is not allowed",
        ),
        (
            "unknown type",
            d.add(dept, window, &v(&["11100000000013338W999"]), &v(&[seal]), now).await,
            "invalid_input",
            "unknown licence type",
        ),
        (
            "type the department does not issue",
            d.add("91310115MA1H7ABC2D", window, &v(&[FOOD]), &v(&[&foreign_seal.id]), now).await,
            "forbidden",
            "is not authorised to issue licences of type 11100000000013338W002",
        ),
        (
            "no seals",
            d.add(dept, window, &v(&[FOOD]), &[], now).await,
            "invalid_input",
            "invalid seals: name at least one",
        ),
        (
            "unknown seal",
            d.add(dept, window, &v(&[FOOD]), &v(&["31011599999999"]), now).await,
            "not_found",
            "seal 31011599999999 not found",
        ),
        (
            "another department's seal",
            d.add(dept, window, &v(&[FOOD]), &v(&[seal, &foreign_seal.id]), now).await,
            "invalid_input",
            "belongs to department 91310115MA1H7ABC2D, not to 11310115MB2C90510L",
        ),
        (
            "revoked seal",
            d.add(dept, window, &v(&[FOOD]), &v(&[&revoked_seal.id]), now).await,
            "conflict",
            "is revoked",
        ),
    ];
    for (case, result, code, text) in refusals {
        let e = result.expect_err(case);
        assert_eq!(e.code(), code, "{case}: {e}");
        assert!(e.to_string().contains(text), "{case}: {e}");
    }
    assert!(d.list(None, None, true).await.unwrap().is_empty(), "a refusal stores nothing");

    // Duplicates are dropped; the operator's grant is logged.
    let ok = d
        .add(dept, &format!(" {window} "), &v(&[FOOD, BUSINESS, FOOD]), &v(&[seal, seal]), now)
        .await
        .unwrap();
    assert!(ok.id.starts_with("dg_") && ok.id.len() == 11, "{}", ok.id);
    assert_eq!((ok.type_codes.clone(), ok.seal_ids.clone()), (v(&[FOOD, BUSINESS]), v(&[seal])));
    assert_eq!(d.list(Some(dept), None, false).await.unwrap(), vec![ok.clone()]);
    assert_eq!(d.list(None, Some(window), false).await.unwrap(), vec![ok.clone()]);
    assert!(d.list(Some(WINDOW_DEPT), None, true).await.unwrap().is_empty());
    let e = d.list(Some("nonsense"), None, true).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");

    let revoked = d.revoke(&ok.id, Some("合作终止"), now).await.unwrap();
    assert_eq!(revoked.revoke_reason.as_deref(), Some("合作终止"));
    let twice = d.revoke(&ok.id, None, now).await.unwrap_err();
    assert_eq!(
        (twice.code(), twice.to_string()),
        ("conflict", format!("delegation {} is revoked already", ok.id))
    );
    assert_eq!(d.revoke("dg_nothing", None, now).await.unwrap_err().code(), "not_found");
    assert_eq!(d.revoke(&ok.id, Some("\u{7}"), now).await.unwrap_err().code(), "invalid_input");
    assert!(d.list(None, None, false).await.unwrap().is_empty());
    assert_eq!(d.list(None, None, true).await.unwrap(), vec![revoked]);

    // Action, client, department, basis.
    type Logged = (String, Option<String>, Option<String>, Option<String>);
    let entries: Vec<Logged> = log(&f)
        .await
        .into_iter()
        .filter(|e| e.action.starts_with("delegation"))
        .map(|e| (e.action, e.client_id, e.department_code, e.basis))
        .collect();
    let basis = Some(format!("delegation:{}", ok.id));
    assert_eq!(
        entries,
        vec![
            ("delegation-add".into(), None, Some(dept.to_owned()), basis.clone()),
            ("delegation-revoke".into(), None, Some(dept.to_owned()), basis),
        ]
    );
}

async fn issuing_follows_the_active_delegations(f: F) {
    let now = OffsetDateTime::now_utc();
    let key = f.window_key.clone();
    assert!(granted(&f, &key).await.is_empty());
    assert_no_delegation(&issue(&f, &key, &f.seal, FOOD).await, FOOD, &f.seal, "no active delegation");

    let d =
        f.p.delegations.add(DEMO_DEPARTMENT.0, &f.window, &v(&[FOOD]), &v(&[&f.seal]), now).await.unwrap();
    let body = issue_body(&f.seal, FOOD);
    let (status, issued) = send(&f.p, "POST", "/api/v1/licences", &key, Some(&body), "window-1").await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    // A retry with the same key answers the same licence, and is logged as a replay.
    let again = send(&f.p, "POST", "/api/v1/licences", &key, Some(&body), "window-1").await;
    assert_eq!(again, (StatusCode::OK, issued.clone()));
    let id = issued["identifier"].as_str().unwrap().to_owned();
    // The licence is the delegating department's; the register keeps the window as its client.
    assert!(id.contains(&format!(".{}.", DEMO_DEPARTMENT.0)), "{id}");
    let row = f.p.store.licence(&id).await.unwrap().unwrap();
    assert_eq!(
        (row.licence.issuer_code.as_str(), row.licence.client_id.as_deref()),
        (DEMO_DEPARTMENT.0, Some(f.window.as_str()))
    );

    let missing_type = issue(&f, &key, &f.seal, BUSINESS).await;
    assert_no_delegation(&missing_type, BUSINESS, &f.seal, "no active delegation names this licence type");
    let missing_seal = issue(&f, &key, &f.other_seal, FOOD).await;
    assert_no_delegation(&missing_seal, FOOD, &f.other_seal, "no active delegation names this seal");
    // The department's own client needs none, and is not logged as delegated.
    let (status, own) = issue(&f, &f.own_key, &f.other_seal, BUSINESS).await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert!(granted(&f, &f.own_key).await.is_empty());

    let listed = granted(&f, &key).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], json!(d.id));
    assert_eq!(listed[0]["department_code"], json!(DEMO_DEPARTMENT.0));
    assert_eq!(
        (listed[0]["type_codes"].clone(), listed[0]["seal_ids"].clone()),
        (json!([FOOD]), json!([f.seal]))
    );
    assert_eq!(listed[0]["revoked_at"], Value::Null);

    f.p.delegations.revoke(&d.id, Some("合作终止"), now).await.unwrap();
    assert_no_delegation(&issue(&f, &key, &f.seal, FOOD).await, FOOD, &f.seal, "no active delegation");
    assert!(granted(&f, &key).await.is_empty());

    let issues: Vec<AccessEntry> = log(&f).await.into_iter().filter(|e| e.action == "issue").collect();
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert_eq!((issues[1].licence_id.as_deref(), issues[1].result.as_str()), (Some(id.as_str()), "replayed"));
    let e = &issues[0];
    assert_eq!(e.client_id.as_deref(), Some(f.window.as_str()));
    assert_eq!(e.department_code.as_deref(), Some(WINDOW_DEPT));
    assert_eq!(e.basis, Some(format!("delegation:{}", d.id)));
    assert_eq!((e.licence_id.as_deref(), e.result.as_str()), (Some(id.as_str()), "ok"));
    assert_eq!(e.holder_code.as_deref(), Some(row.licence.holder_code.as_str()));
    assert!(matches!(f.p.audit.audit_verify().await.unwrap(), Ok(n) if n >= 3), "the chain holds");
}

on_both_backends!(
    add_checks_everything_and_stores_nothing_on_refusal,
    issuing_follows_the_active_delegations
);

/// Runs `zhengzhao --data DIR args…` on the fixture's data directory.
fn cli(f: &F, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("zhengzhao").unwrap();
    cmd.arg("--data").arg(f.dir.path().join("data")).args(args);
    cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE")
        .env_remove("ZHENGZHAO_DATABASE_URL")
        .env("ZHENGZHAO_LOG", "warn");
    cmd.output().unwrap()
}

fn cli_ok(f: &F, args: &[&str]) -> String {
    let out = cli(f, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs and expects exit code 1 with one line on stderr; returns it.
fn cli_fails(f: &F, args: &[&str]) -> String {
    let out = cli(f, args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
    lines[0].to_owned()
}

/// A department A with seals, a window client of department W: issuing with A's seal is
/// refused until `zhengzhao delegation add`, then only for what it names, and again after
/// `zhengzhao delegation revoke`; the access log shows all of it.
#[tokio::test]
async fn end_to_end_with_the_command_line() {
    let f = fixture_on(None).await;
    let (dept, key) = (DEMO_DEPARTMENT.0, f.window_key.clone());
    assert_no_delegation(&issue(&f, &key, &f.seal, FOOD).await, FOOD, &f.seal, "no active delegation");

    let types = format!("{FOOD},{FOOD}");
    let own = cli_fails(
        &f,
        &["delegation", "add", "--department", dept, "--client", &f.own, "--types", FOOD, "--seals", &f.seal],
    );
    assert!(own.contains("itself") && own.contains(&f.own), "{own}");
    let none = cli_fails(
        &f,
        &["delegation", "add", "--department", dept, "--client", &f.window, "--types", FOOD, "--seals", ""],
    );
    assert!(none.contains("invalid seals"), "{none}");
    let out = cli_ok(
        &f,
        &[
            "delegation",
            "add",
            "--department",
            dept,
            "--client",
            &f.window,
            "--types",
            &types,
            "--seals",
            &f.seal,
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    let id = lines[0].strip_prefix("delegation id: ").unwrap().to_owned();
    assert_eq!(
        lines[1],
        format!("department {dept} delegates to client {}: types {FOOD}; seals {}", f.window, f.seal)
    );

    let (status, issued) = issue(&f, &key, &f.seal, FOOD).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_no_delegation(
        &issue(&f, &key, &f.seal, BUSINESS).await,
        BUSINESS,
        &f.seal,
        "no active delegation names this licence type",
    );
    assert_no_delegation(
        &issue(&f, &key, &f.other_seal, FOOD).await,
        FOOD,
        &f.other_seal,
        "no active delegation names this seal",
    );

    let listed: Value =
        serde_json::from_str(&cli_ok(&f, &["delegation", "list", "--client", &f.window, "--json"])).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!((listed[0]["id"].as_str(), listed[0]["revoked_at"].clone()), (Some(id.as_str()), Value::Null));
    let text = cli_ok(&f, &["delegation", "list", "--department", dept]);
    assert!(text.starts_with(&id) && text.contains("active"), "{text}");

    let out = cli_ok(&f, &["delegation", "revoke", &id, "--reason", "合作终止"]);
    assert!(out.starts_with(&format!("revoked delegation {id}")), "{out}");
    assert_no_delegation(&issue(&f, &key, &f.seal, FOOD).await, FOOD, &f.seal, "no active delegation");
    let twice = cli_fails(&f, &["delegation", "revoke", &id]);
    assert_eq!(twice, format!("error: delegation {id} is revoked already"));
    assert!(cli_ok(&f, &["delegation", "list"]).is_empty());
    let all: Value =
        serde_json::from_str(&cli_ok(&f, &["delegation", "list", "--include-revoked", "--json"])).unwrap();
    assert_eq!(all[0]["revoke_reason"], json!("合作终止"));

    let basis = Some(format!("delegation:{id}"));
    let ours: Vec<(String, Option<String>, Option<String>, String)> = log(&f)
        .await
        .into_iter()
        .filter(|e| e.basis == basis)
        .map(|e| (e.action, e.client_id, e.licence_id, e.result))
        .collect();
    let licence = issued["identifier"].as_str().map(str::to_owned);
    assert_eq!(
        ours,
        vec![
            ("delegation-add".into(), None, None, "ok".into()),
            ("issue".into(), Some(f.window.clone()), licence, "ok".into()),
            ("delegation-revoke".into(), None, None, "ok".into()),
        ]
    );
    let verified = cli_ok(&f, &["audit", "verify"]);
    assert!(verified.starts_with("access log intact"), "{verified}");
}
