//! The register other departments rely on: purpose and basis on every read, checks,
//! holder authorisations, lifecycle, and the access log — over HTTP.

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
use zhengzhao::platform::{IssueRequest, Platform, Scope};

#[macro_use]
mod common;

const ISSUER: &str = "11310115MB2C90510L";
const RELYING: &str = "11310115MB2C90512T";
const FOOD: &str = "11100000000013338W002";
const TEACHER: &str = "11100000000013338W003";
const COMPANY: &str = "91310115MA1H7ABC2D";
const PERSON: &str = "310115199003071239";

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    food: String,
    teacher: String,
    keys: std::collections::HashMap<&'static str, String>,
}

fn example(file: &str) -> Value {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A fixture on SQLite, or on PostgreSQL with `database_url` (in a schema of its own).
async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer =
        Layer { public_url: Some("https://zz.example.gov.cn".into()), database_url, ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    p.pki.add_department(RELYING, "演示市教育局", "310115", &[], now).await.unwrap();
    let mut keys = std::collections::HashMap::new();
    let clients: [(&str, &str, &[Scope], Vec<String>); 7] = [
        ("issuer", ISSUER, &[Scope::Issue], vec![]),
        ("manager", ISSUER, &[Scope::Manage], vec![]),
        ("query", RELYING, &[Scope::Query], vec![FOOD.to_owned()]),
        ("check", RELYING, &[Scope::Check], vec![FOOD.to_owned(), TEACHER.to_owned()]),
        ("no_duty", RELYING, &[Scope::Query, Scope::Check], vec![TEACHER.to_owned()]),
        ("other_manager", RELYING, &[Scope::Manage], vec![]),
        ("audit", ISSUER, &[Scope::Audit], vec![]),
    ];
    for (name, dept, scopes, types) in clients {
        let (_, key) = p.clients.add_client(dept, name, scopes, &types, now).await.unwrap();
        keys.insert(name, key.expose().to_owned());
    }
    let issue = |type_code: &str, file: &str| IssueRequest {
        seal_id: seals[0].id.clone(),
        ofd_seal_id: None,
        type_code: type_code.into(),
        input: serde_json::from_value(example(file)).unwrap(),
        document: zhengzhao::licence::DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    let food = p.issuing.issue(issue(FOOD, "food-business-licence.json"), now).await.unwrap().identifier;
    let teacher =
        p.issuing.issue(issue(TEACHER, "teacher-qualification.json"), now).await.unwrap().identifier;
    F { _dir: dir, p: Arc::new(p), food, teacher, keys }
}

async fn call(
    f: &F,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(name) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.keys[name]));
    }
    for (k, v) in headers {
        req = req.header(*k, axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    // Issuing requires an Idempotency-Key: requests that do not test keys get a fresh one.
    let issuing = method == "POST" && (uri == "/api/v1/licences" || uri.ends_with("/versions"));
    if issuing && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("idempotency-key")) {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        req = req.header("idempotency-key", format!("test-{n}"));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    };
    let response = app(f.p.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

const PURPOSE: (&str, &str) = ("x-purpose", "办理食品经营许可延续，核验原证");
const MATTER: (&str, &str) = ("x-matter-code", "310115-SCJG-017");

async fn log_len(f: &F) -> u64 {
    f.p.audit.audit_verify().await.unwrap().unwrap()
}

async fn duty_based_reads_need_purpose_matter_and_type(f: F) {
    let uri = format!("/api/v1/licences/{}", f.food);
    let (status, v) = call(&f, "GET", &uri, Some("query"), &[PURPOSE, MATTER], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["identifier"], f.food.as_str());
    assert_eq!(v["status"]["code"], "01");
    assert_eq!(v["metadata"]["holder_name"], "上海浦江美食餐饮管理有限公司");
    assert_eq!(v["metadata_labels"]["licence_number"], "证照编号");
    assert_eq!(v["fields"]["licence_no"], "JY23101150012345");
    assert_eq!(v["field_labels"]["business_items"], "经营项目");
    assert!(v["links"]["verify"].as_str().unwrap().starts_with("https://zz.example.gov.cn/v/"));

    let before = log_len(&f).await;
    let (status, v) = call(&f, "GET", &uri, Some("query"), &[MATTER], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")));
    assert!(v["message"].as_str().unwrap().contains("X-Purpose"));
    let (status, _) = call(&f, "GET", &uri, Some("query"), &[PURPOSE], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no matter code, no basis");
    let (status, _) = call(&f, "GET", &uri, Some("no_duty"), &[PURPOSE, MATTER], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "duty does not cover the type");
    let long = "用".repeat(201);
    let (status, _) = call(&f, "GET", &uri, Some("query"), &[("x-purpose", &long), MATTER], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Every refusal was logged.
    assert_eq!(log_len(&f).await, before + 4);

    // A citizen's code is masked on a duty basis.
    let uri = format!("/api/v1/licences/{}", f.teacher);
    let (status, v) =
        call(&f, "GET", &uri, Some("no_duty"), &[PURPOSE, ("x-matter-code", "310115-JY-003")], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["metadata"]["holder_code"], "310***********1239");
    // The issuer sees it whole.
    let (status, v) = call(&f, "GET", &uri, Some("issuer"), &[PURPOSE], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["metadata"]["holder_code"], PERSON);
}

async fn listings_page_with_a_cursor_and_bounded_size(f: F) {
    let now = OffsetDateTime::now_utc();
    let seal = f.p.pki.seals(None).await.unwrap()[0].id.clone();
    for _ in 0..4 {
        let req = IssueRequest {
            seal_id: seal.clone(),
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input: serde_json::from_value(example("food-business-licence.json")).unwrap(),
            document: zhengzhao::licence::DocumentKind::Pdf,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        f.p.issuing.issue(req, now).await.unwrap();
    }
    let mut cursor: Option<String> = None;
    let mut seen = vec![];
    loop {
        let mut uri =
            format!("/api/v1/licences?holder_code={COMPANY}&holder_code_type=001&type_code={FOOD}&limit=2");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let (status, v) = call(&f, "GET", &uri, Some("query"), &[PURPOSE, MATTER], None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|i| i["identifier"].as_str().unwrap().to_owned()));
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let (status, v) = call(&f, "GET", "/api/v1/licences?limit=100000", Some("query"), &[PURPOSE], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v["items"].as_array().unwrap().is_empty(),
        "no duty: only own licences, and the relying dept issued none"
    );
    let (status, v) = call(&f, "GET", "/api/v1/licences?status=42", Some("query"), &[PURPOSE], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
    let (status, _) = call(&f, "GET", "/api/v1/licences?colour=red", Some("query"), &[PURPOSE], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn checks_answer_a_result_code_and_no_data(f: F) {
    let check = |body: Value| {
        let f = &f;
        async move { call(f, "POST", "/api/v1/checks", Some("check"), &[PURPOSE, MATTER], Some(body)).await }
    };
    let (status, v) =
        check(json!({"identifier": f.food, "claims": {"holder_name": "上海浦江美食餐饮管理有限公司",
        "fields_contain": {"business_items": "热食类食品制售"}}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"result": "valid", "mismatches": [], "identifier": f.food}));
    let (_, v) = check(json!({"identifier": f.food, "claims": {"holder_name": "别家公司",
        "fields_contain": {"business_items": "药品零售"}, "fields_equal": {"licence_no": "JY23101150012345"}}}))
    .await;
    assert_eq!(v["result"], "mismatch");
    assert_eq!(v["mismatches"], json!(["holder_name", "fields_contain.business_items"]));
    assert!(v.get("metadata").is_none() && v.get("fields").is_none());
    let (_, v) = check(json!({"holder_code": COMPANY, "holder_code_type": "001", "type_code": FOOD})).await;
    assert_eq!(v["result"], "valid");
    let (_, v) =
        check(json!({"identifier": "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.1.001.Z"})).await;
    assert_eq!(v["result"], "not_found");
    let (_, v) = check(json!({"identifier": f.food, "claims": {"valid_on": "2099-01-01"}})).await;
    assert_eq!(v["result"], "expired");
    let (status, _) = check(json!({"claims": {}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A malformed claim is refused whether or not the licence exists.
    for id in [f.food.as_str(), "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.1.001.Z", "x"] {
        let (status, v) = check(json!({"identifier": id, "claims": {"valid_on": "2024-13-01"}})).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_field")),
            "{id}: {v}"
        );
    }
    let (status, _) = call(
        &f,
        "POST",
        "/api/v1/checks",
        Some("audit"),
        &[PURPOSE, MATTER],
        Some(json!({"identifier": f.food})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let now = OffsetDateTime::now_utc();
    for (to, expected) in [("suspended", "suspended"), ("valid", "valid"), ("revoked", "revoked")] {
        let (status, v) = call(
            &f,
            "POST",
            &format!("/api/v1/licences/{}/status", f.food),
            Some("manager"),
            &[],
            Some(json!({"status": to, "reason": "日常检查"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (_, v) = check(json!({"identifier": f.food})).await;
        assert_eq!(v["result"], expected);
    }
    let _ = now;
}

async fn lifecycle_changes_only_by_the_issuer_with_reasons_and_history(f: F) {
    let uri = format!("/api/v1/licences/{}/status", f.food);
    let body = |s: &str| Some(json!({"status": s, "reason": "经营场所变更未报"}));
    for wrong in ["other_manager", "issuer", "query", "audit"] {
        let (status, _) = call(&f, "POST", &uri, Some(wrong), &[], body("suspended")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{wrong}");
    }
    let (status, _) = call(&f, "POST", &uri, None, &[], body("suspended")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, v) = call(&f, "POST", &uri, Some("manager"), &[], body("02")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], json!({"code": "02", "name": "suspended", "label": "暂扣"}));
    let (status, _) = call(&f, "POST", &uri, Some("manager"), &[], body("suspended")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        call(&f, "POST", &uri, Some("manager"), &[], Some(json!({"status": "revoked", "reason": " "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&f, "POST", &uri, Some("manager"), &[], body("cancelled")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&f, "POST", &uri, Some("manager"), &[], body("valid")).await;
    assert_eq!(status, StatusCode::CONFLICT, "cancelled is final");

    let (status, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}/history", f.food), Some("manager"), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<(&str, &str)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["to_status"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("issued", "valid"), ("status", "suspended"), ("status", "cancelled")]);
    assert_eq!(v["events"][1]["reason"], "经营场所变更未报");
    let (status, _) =
        call(&f, "GET", &format!("/api/v1/licences/{}/history", f.food), Some("query"), &[], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another department: 403, decided from the identifier");
}

async fn every_endpoint_refuses_missing_or_bad_keys_and_changes_nothing(f: F) {
    let before = log_len(&f).await;
    let endpoints: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/v1/licences/{}", f.food), None),
        ("GET", "/api/v1/licences".into(), None),
        ("GET", format!("/api/v1/licences/{}/pdf", f.food), None),
        ("GET", format!("/api/v1/licences/{}/history", f.food), None),
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            Some(json!({"status": "revoked", "reason": "x"})),
        ),
        ("POST", "/api/v1/checks".into(), Some(json!({"identifier": f.food}))),
        ("POST", "/api/v1/licences".into(), Some(json!({}))),
        ("GET", format!("/api/v1/holders/{COMPANY}/licences?code_type=001"), None),
        ("GET", format!("/api/v1/holders/{COMPANY}/access-log?code_type=001"), None),
        ("POST", "/api/v1/authorisations".into(), Some(json!({}))),
        ("DELETE", "/api/v1/authorisations/ABCDEFGHIJKLMNOP".into(), None),
    ];
    for (method, uri, body) in &endpoints {
        let (status, v) = call(&f, method, uri, None, &[PURPOSE], body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(v["code"], "unauthorised");
    }
    assert_eq!(log_len(&f).await, before, "unauthenticated requests read nothing");
    let (status, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}", f.food), Some("query"), &[], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let row = f.p.store.licence(&f.food).await.unwrap().unwrap();
    assert_eq!(row.status, zhengzhao::licence::LicenceStatus::Valid, "nothing changed");
}

async fn renewal_issues_a_new_version_that_replaces_the_current_one(f: F) {
    let seal = f.p.pki.seals(None).await.unwrap()[0].id.clone();
    let mut licence = example("food-business-licence.json");
    licence["fields"]["premises"] = json!("上海市浦东新区张江路456号");
    let body = json!({"seal_id": seal, "type_code": FOOD, "licence": licence});
    let uri = format!("/api/v1/licences/{}/versions", f.food);
    let (status, v) = call(&f, "POST", &uri, Some("query"), &[], Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = call(&f, "POST", &uri, Some("issuer"), &[], Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let new = v["identifier"].as_str().unwrap().to_owned();
    let (old_id, new_id) = (
        zhengzhao::codes::LicenceId::parse(&f.food).unwrap(),
        zhengzhao::codes::LicenceId::parse(&new).unwrap(),
    );
    assert_eq!((new_id.serial(), new_id.version()), (old_id.serial(), 2));
    assert!(new.contains(".002."), "{new}");

    let (_, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}", f.food), Some("query"), &[PURPOSE, MATTER], None)
            .await;
    assert_eq!((v["current"].as_bool(), v["superseded_by"].as_str()), (Some(false), Some(new.as_str())));
    let (_, v) =
        call(&f, "GET", &format!("/api/v1/licences/{new}"), Some("query"), &[PURPOSE, MATTER], None).await;
    assert_eq!(
        (v["current"].as_bool(), v["replaces"].as_str(), v["version"].as_u64()),
        (Some(true), Some(f.food.as_str()), Some(2))
    );
    assert_eq!(v["fields"]["premises"], "上海市浦东新区张江路456号");

    let check = |body: Value| {
        let f = &f;
        async move { call(f, "POST", "/api/v1/checks", Some("check"), &[PURPOSE, MATTER], Some(body)).await.1 }
    };
    assert_eq!(check(json!({"identifier": f.food})).await["result"], "superseded");
    let v = check(json!({"holder_code": COMPANY, "holder_code_type": "001", "type_code": FOOD})).await;
    assert_eq!((v["result"].as_str(), v["identifier"].as_str()), (Some("valid"), Some(new.as_str())));

    let (status, _) = call(&f, "POST", &uri, Some("issuer"), &[], Some(body.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "an old version is renewed once");
    let mut other_holder = body.clone();
    other_holder["licence"]["holder"]["code"] = json!("91310115MA1K4LQ20W");
    let (status, v) = call(
        &f,
        "POST",
        &format!("/api/v1/licences/{new}/versions"),
        Some("issuer"),
        &[],
        Some(other_holder),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_field")));

    let (_, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}/history", f.food), Some("manager"), &[], None).await;
    let kinds: Vec<&str> =
        v["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["issued", "renewed"]);
    let (_, v) =
        call(&f, "GET", &format!("/api/v1/licences/{new}/history"), Some("manager"), &[], None).await;
    assert_eq!(v["events"][0]["kind"], "renewal");
}

#[tokio::test]
async fn clients_over_their_rate_get_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { rate_limit: Some(2), ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    p.ensure_demo(now).await.unwrap();
    let (_, key) = p.clients.add_client(ISSUER, "busy", &[Scope::Query], &[], now).await.unwrap();
    let (_, other) = p.clients.add_client(ISSUER, "calm", &[Scope::Query], &[], now).await.unwrap();
    let p = Arc::new(p);
    let get = |key: String| {
        let p = p.clone();
        async move {
            let req = Request::get("/api/v1/licences?limit=1")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header("x-purpose", "统计")
                .body(Body::empty())
                .unwrap();
            app(p).oneshot(req).await.unwrap()
        }
    };
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(get(key.expose().to_owned()).await.status());
    }
    assert!(statuses[..4].iter().all(|s| *s == StatusCode::OK), "burst of twice the rate: {statuses:?}");
    let limited = get(key.expose().to_owned()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body = limited.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["code"], "rate_limited");
    // Another client is not affected.
    assert_eq!(get(other.expose().to_owned()).await.status(), StatusCode::OK);
}

/// (method, uri, body, headers, the clients that may succeed)
type Endpoint<'a> = (&'a str, String, Option<Value>, &'a [(&'a str, &'a str)], &'a [&'a str]);

async fn every_endpoint_with_every_wrong_client_is_refused_without_side_effects(f: F) {
    let seal = f.p.pki.seals(None).await.unwrap()[0].id.clone();
    let issue_body =
        json!({"seal_id": seal, "type_code": FOOD, "licence": example("food-business-licence.json")});
    let grant = json!({"holder_code_type": "001", "holder_code": COMPANY, "licence_ids": [f.food]});
    // (method, uri, body, headers, the clients that may succeed)
    let no_basis: &[(&str, &str)] = &[PURPOSE];
    let endpoints: Vec<Endpoint> = vec![
        ("POST", "/api/v1/licences".into(), Some(issue_body.clone()), &[], &["issuer"]),
        ("POST", format!("/api/v1/licences/{}/versions", f.food), Some(issue_body.clone()), &[], &["issuer"]),
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            Some(json!({"status": "suspended", "reason": "x"})),
            &[],
            &["manager"],
        ),
        ("GET", format!("/api/v1/licences/{}", f.food), None, no_basis, &["issuer", "manager"]),
        ("GET", format!("/api/v1/licences/{}/pdf", f.food), None, no_basis, &["issuer", "manager"]),
        ("GET", format!("/api/v1/licences/{}/history", f.food), None, &[], &["manager", "audit"]),
        ("POST", "/api/v1/checks".into(), Some(json!({"identifier": f.food})), no_basis, &[]),
        // Holder endpoints: no department client acts for holders (tests/holder_portal.rs).
        ("POST", "/api/v1/authorisations".into(), Some(grant), &[], &[]),
        ("GET", format!("/api/v1/holders/{COMPANY}/licences?code_type=001"), None, &[], &[]),
        ("GET", format!("/api/v1/holders/{COMPANY}/access-log?code_type=001"), None, &[], &[]),
    ];
    let clients = ["issuer", "manager", "query", "check", "no_duty", "other_manager", "audit"];
    let licences_before =
        f.p.store
            .licences(&zhengzhao::store::LicenceFilter { limit: 100, ..Default::default() })
            .await
            .unwrap();
    for (method, uri, body, headers, allowed) in &endpoints {
        for client in clients {
            if allowed.contains(&client) {
                continue;
            }
            // The README: a client without a basis or role gets 403 `forbidden` (decided from
            // the identifier, never 404, which would tell whether the licence exists).
            let (status, v) = call(&f, method, uri, Some(client), headers, body.clone()).await;
            assert_eq!(
                (status, v["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{client} {method} {uri}: {v}"
            );
        }
    }
    let licences_after =
        f.p.store
            .licences(&zhengzhao::store::LicenceFilter { limit: 100, ..Default::default() })
            .await
            .unwrap();
    assert_eq!(licences_before, licences_after, "no licence issued, renewed or changed");
    assert_eq!(f.p.store.licence_events(&f.food).await.unwrap().len(), 1);
}

async fn the_issuer_gets_the_signed_original(f: F) {
    // A duty is not enough for the original (it carries the holder's data unmasked); the
    // holder-authorised download is tested in tests/register_access.rs.
    let uri = format!("/api/v1/licences/{}/pdf", f.food);
    let (status, v) = call(&f, "GET", &uri, Some("query"), &[PURPOSE, MATTER], None).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("original_requires_holder_authorisation")),
        "{v}"
    );
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.keys["issuer"]))
        .body(Body::empty())
        .unwrap();
    let response = app(f.p.clone()).oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/pdf");
    let pdf = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        pdf.as_ref(),
        f.p.store.licence(&f.food).await.unwrap().unwrap().licence.document.pdf().unwrap()
    );
    let info = zhengzhao::pdf::inspect(&pdf).unwrap();
    assert_eq!(info.sub_filter, "ETSI.CAdES.detached");
}

async fn concurrent_checks_are_each_logged_once_in_an_intact_chain(f: F) {
    let f = Arc::new(f);
    let before = log_len(&f).await;
    let mut tasks = vec![];
    for _ in 0..40 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"identifier": f.food});
            let (status, v) =
                call(&f, "POST", "/api/v1/checks", Some("check"), &[PURPOSE, MATTER], Some(body)).await;
            assert_eq!((status, v["result"].as_str()), (StatusCode::OK, Some("valid")));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(log_len(&f).await, before + 40);
}

on_both_backends!(
    duty_based_reads_need_purpose_matter_and_type,
    listings_page_with_a_cursor_and_bounded_size,
    checks_answer_a_result_code_and_no_data,
    lifecycle_changes_only_by_the_issuer_with_reasons_and_history,
    every_endpoint_refuses_missing_or_bad_keys_and_changes_nothing,
    renewal_issues_a_new_version_that_replaces_the_current_one,
    every_endpoint_with_every_wrong_client_is_refused_without_side_effects,
    the_issuer_gets_the_signed_original,
    concurrent_checks_are_each_logged_once_in_an_intact_chain,
);
