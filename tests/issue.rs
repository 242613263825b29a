//! Issuing licences over HTTP and the command line: every shipped type, scope and
//! ownership rules, idempotency, field errors, and that failures leave nothing behind.

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
use zhengzhao::licence::Catalogue;
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{Platform, Scope};

const DEPT: &str = "11310115MB2C90510L";
const OTHER_DEPT: &str = "11310115MB2C90512T";
const FOOD: &str = "11100000000013338W002";

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
    seal_ed: String,
    seal_p256: String,
    key: String,
}

fn example(file: &str) -> Value {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn fixture() -> Fixture {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("zhengzhao=debug").try_init();
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = platform.ensure_demo(now).await.unwrap();
    let seal = |alg| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    let (_, key) = platform.clients.add_client(DEPT, "审批系统", &[Scope::Issue], &[], now).await.unwrap();
    Fixture {
        seal_ed: seal(Algorithm::Ed25519),
        seal_p256: seal(Algorithm::P256),
        key: key.expose().to_owned(),
        platform: Arc::new(platform),
        _dir: dir,
    }
}

async fn call(
    f: &Fixture,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
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
    let response = app(f.platform.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn issue_body(seal: &str, type_code: &str, licence: Value) -> Value {
    json!({"seal_id": seal, "type_code": type_code, "licence": licence})
}

fn error_code(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)));
    (v["code"].as_str().unwrap().to_owned(), v["message"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn every_shipped_type_issues_over_http_with_both_algorithms() {
    let f = fixture().await;
    for t in Catalogue::shipped().unwrap().iter() {
        for seal in [&f.seal_ed, &f.seal_p256] {
            let body = issue_body(seal, t.code.as_str(), example(&t.example));
            let (status, headers, bytes) =
                call(&f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{}: {}", t.name, String::from_utf8_lossy(&bytes));
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            let id = v["identifier"].as_str().unwrap();
            assert!(id.starts_with(&format!("1.2.156.3005.2.{}.{DEPT}.", t.code)), "{id}");
            zhengzhao::codes::LicenceId::parse(id).unwrap();
            assert!(v["url"].as_str().unwrap().starts_with("https://zz.example.gov.cn/v/"));
            // Location names the licence resource, not its PDF.
            assert_eq!(headers[header::LOCATION], format!("/api/v1/licences/{id}").as_str());

            let (status, headers, pdf) =
                call(&f, "GET", v["pdf"].as_str().unwrap(), Some(&f.key), &[], None).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
            assert!(pdf.starts_with(b"%PDF-"));
            let info = zhengzhao::pdf::inspect(&pdf).unwrap();
            assert_eq!(info.sub_filter, "ETSI.CAdES.detached");
            // The token in the PDF's QR URL is the one returned, and binds the record hash.
            let token = zhengzhao::token::decode_from_url(v["token"].as_str().unwrap()).unwrap();
            let parsed = zhengzhao::token::parse(&token).unwrap();
            assert_eq!(parsed.claims.licence_id, id);
            let hash = hex::decode(v["record_hash"].as_str().unwrap()).unwrap();
            assert!(parsed.claims.record_hash_matches(&hash));
        }
    }
}

#[tokio::test]
async fn serials_are_unique_under_concurrent_issuing() {
    let f = Arc::new(fixture().await);
    let mut tasks = vec![];
    for i in 0..16 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let seal = if i % 2 == 0 { f.seal_ed.clone() } else { f.seal_p256.clone() };
            let body = issue_body(&seal, FOOD, example("food-business-licence.json"));
            let (status, _, bytes) =
                call(&f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&bytes));
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            v["identifier"].as_str().unwrap().to_owned()
        }));
    }
    let mut serials = vec![];
    for t in tasks {
        let id = zhengzhao::codes::LicenceId::parse(&t.await.unwrap()).unwrap();
        serials.push(id.serial().to_owned());
    }
    serials.sort();
    let year = OffsetDateTime::now_utc().year();
    let expected: Vec<String> = (1..=16).map(|n| format!("{year}{n:07}")).collect();
    assert_eq!(serials, expected);
}

/// Serials come from blocks a process reserves: what it did not use goes back when it
/// is done (a command ends, the server stops), so another process's next licence takes
/// the next serial; a process that died leaves its block to lapse, and it is handed out
/// again then — never a hole.
#[tokio::test]
async fn serials_a_process_did_not_use_go_back_or_lapse() {
    let f = fixture().await;
    let config = f.platform.config.as_ref().clone();
    let now = OffsetDateTime::now_utc();
    let issue = |p: &Platform, at: OffsetDateTime| {
        let request = zhengzhao::platform::IssueRequest {
            seal_id: f.seal_ed.clone(),
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input: serde_json::from_value(example("food-business-licence.json")).unwrap(),
            document: zhengzhao::licence::DocumentKind::None,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        let p = p.issuing.clone();
        async move {
            let id = p.issue(request, at).await.unwrap().identifier;
            zhengzhao::codes::LicenceId::parse(&id).unwrap().serial()[4..].to_owned()
        }
    };
    assert_eq!(issue(&f.platform, now).await, "0000001");
    f.platform.issuing.give_back_serials().await.unwrap();
    let second = Platform::open(config.clone(), None).await.unwrap();
    assert_eq!(issue(&second, now).await, "0000002");
    // `second` stops without giving its block back (a crash): a third process skips the
    // block while its lease holds, and takes it once the lease has lapsed.
    let third = Platform::open(config.clone(), None).await.unwrap();
    let skipped = issue(&third, now).await;
    assert!(skipped.as_str() > "0000003", "{skipped}");
    let later = now + zhengzhao::store::SERIAL_LEASE + time::Duration::minutes(1);
    let fourth = Platform::open(config, None).await.unwrap();
    assert_eq!(issue(&fourth, later).await, "0000003");
}

#[tokio::test]
async fn wrong_clients_are_refused_and_change_nothing() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let body = || issue_body(&f.seal_ed, FOOD, example("food-business-licence.json"));
    let post = |key: Option<String>| {
        let f = &f;
        async move { call(f, "POST", "/api/v1/licences", key.as_deref(), &[], Some(body())).await }
    };
    let (status, _, bytes) = post(None).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::UNAUTHORIZED, "unauthorised"));
    let (status, _, _) = post(Some("zz_not_a_real_key".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    f.platform.pki.add_department(OTHER_DEPT, "演示市教育局", "310115", &[], now).await.unwrap();
    let (_, other) =
        f.platform.clients.add_client(OTHER_DEPT, "教育审批", &[Scope::Issue], &[], now).await.unwrap();
    // Another department's seal, and no delegation of that department to this client.
    let (status, _, bytes) = post(Some(other.expose().into())).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::FORBIDDEN, "no_delegation"));

    let (_, query_only) =
        f.platform.clients.add_client(DEPT, "查询", &[Scope::Query], &[], now).await.unwrap();
    assert_eq!(post(Some(query_only.expose().into())).await.0, StatusCode::FORBIDDEN);

    let teacher = "11100000000013338W003".to_owned();
    let (_, teachers_only) =
        f.platform.clients.add_client(DEPT, "教师", &[Scope::Issue], &[teacher], now).await.unwrap();
    assert_eq!(post(Some(teachers_only.expose().into())).await.0, StatusCode::FORBIDDEN);

    let (revoked, revoked_key) =
        f.platform.clients.add_client(DEPT, "旧系统", &[Scope::Issue], &[], now).await.unwrap();
    f.platform.clients.revoke_client(&revoked.id, now).await.unwrap();
    let (status, _, bytes) = post(Some(revoked_key.expose().into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(error_code(&bytes).1.contains("revoked"));

    // Nothing was issued: the first licence the right client gets has serial 1.
    let (status, _, bytes) = post(Some(f.key.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let id = zhengzhao::codes::LicenceId::parse(v["identifier"].as_str().unwrap()).unwrap();
    assert!(id.serial().ends_with("0000001"), "{id}");

    // Another department cannot fetch the PDF without purpose and legal basis.
    let pdf = v["pdf"].as_str().unwrap();
    let (status, _, _) = call(&f, "GET", pdf, Some(other.expose()), &[], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no X-Purpose");
    let (status, _, _) = call(&f, "GET", pdf, Some(other.expose()), &[("x-purpose", "核验")], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no basis");
    let (status, _, _) = call(&f, "GET", pdf, None, &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_names_the_field_and_leaves_no_trace() {
    let f = fixture().await;
    let post = |body: Value| {
        let f = &f;
        async move { call(f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await }
    };
    let mut licence = example("food-business-licence.json");
    licence["holder"]["code"] = json!("91310115MA1H7ABC2X");
    let (status, _, bytes) = post(issue_body(&f.seal_ed, FOOD, licence)).await;
    let (code, message) = error_code(&bytes);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_field"));
    assert!(message.contains("holder.code") && message.contains("expected 'D'"), "{message}");

    let mut licence = example("food-business-licence.json");
    licence["fields"]["licence_no"] = json!("AB12");
    let (status, _, bytes) = post(issue_body(&f.seal_ed, FOOD, licence)).await;
    let (code, message) = error_code(&bytes);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_field"), "{message}");
    assert!(message.contains("fields.licence_no"), "{message}");

    let mut licence = example("food-business-licence.json");
    licence["fields"]["flavour"] = json!("sweet");
    let (status, _, bytes) = post(issue_body(&f.seal_ed, FOOD, licence)).await;
    let (code, message) = error_code(&bytes);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_field"), "{message}");
    assert!(message.contains("fields.flavour"), "{message}");

    let mut licence = example("food-business-licence.json");
    licence["holder"]["code_type"] = json!("111");
    let (status, _, bytes) = post(issue_body(&f.seal_ed, FOOD, licence)).await;
    let (code, message) = error_code(&bytes);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_field"), "{message}");
    assert!(message.contains("holder.code_type"), "{message}");

    let teacher = "11100000000013338W003";
    let mut licence = example("teacher-qualification.json");
    licence["holder"]["code"] = json!("310115199003071238");
    let (status, _, bytes) = post(issue_body(&f.seal_ed, teacher, licence)).await;
    let (code, message) = error_code(&bytes);
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_field"), "{message}");
    assert!(message.contains("holder.code"), "{message}");

    let (status, _, bytes) = post(json!({"seal_id": f.seal_ed, "type_code": FOOD})).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let (status, _, bytes) =
        post(issue_body("31011599999999", FOOD, example("food-business-licence.json"))).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let (status, _, _) =
        post(issue_body(&f.seal_ed, "11100000000013338W999", example("food-business-licence.json"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, _) = call(
        &f,
        "POST",
        "/api/v1/licences",
        Some(&f.key),
        &[(header::CONTENT_TYPE.as_str(), "text/plain")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"seal_id": f.seal_ed, "type_code": FOOD, "licence": {"pad": "x".repeat(400_000)}});
    let (status, _, bytes) = post(huge).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let (status, _, bytes) = call(&f, "DELETE", "/api/v1/licences", Some(&f.key), &[], None).await;
    assert_eq!(
        (status, error_code(&bytes).0.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );

    // A revoked seal signs nothing more.
    f.platform
        .pki
        .revoke_seal(&f.seal_p256, "superseded".parse().unwrap(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    let (status, _, bytes) =
        post(issue_body(&f.seal_p256, FOOD, example("food-business-licence.json"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&bytes));

    // None of it used up a serial.
    let (status, _, bytes) = post(issue_body(&f.seal_ed, FOOD, example("food-business-licence.json"))).await;
    assert_eq!(status, StatusCode::CREATED);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["identifier"].as_str().unwrap().contains("0000001.001."), "{v}");
}

#[tokio::test]
async fn a_licence_that_cannot_be_rendered_uses_up_no_serial() {
    let f = fixture().await;
    // Every field at its longest: more than one page can hold.
    let mut licence = example("food-business-licence.json");
    for (key, len) in [("business_items", 2000), ("domicile", 120), ("premises", 120), ("main_business", 60)]
    {
        licence["fields"][key] = json!("食".repeat(len));
    }
    let body = issue_body(&f.seal_ed, FOOD, licence);
    let (status, _, bytes) = call(&f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(error_code(&bytes).0, "unprocessable");
    let body = issue_body(&f.seal_ed, FOOD, example("food-business-licence.json"));
    let (status, _, bytes) = call(&f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["identifier"].as_str().unwrap().contains("0000001.001."), "{v}");
}

#[tokio::test]
async fn idempotency_keys_replay_the_same_licence_and_refuse_other_bodies() {
    let f = fixture().await;
    let body = issue_body(&f.seal_ed, FOOD, example("food-business-licence.json"));
    let key = [("idempotency-key", "order-2026-0001")];
    let (s1, _, b1) = call(&f, "POST", "/api/v1/licences", Some(&f.key), &key, Some(body.clone())).await;
    let (s2, h2, b2) = call(&f, "POST", "/api/v1/licences", Some(&f.key), &key, Some(body.clone())).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(h2["idempotent-replayed"], "true");
    let (v1, v2): (Value, Value) =
        (serde_json::from_slice(&b1).unwrap(), serde_json::from_slice(&b2).unwrap());
    assert_eq!(v1, v2);

    let mut other = body.clone();
    other["licence"]["holder"]["name"] = json!("另一家公司");
    let (status, _, bytes) = call(&f, "POST", "/api/v1/licences", Some(&f.key), &key, Some(other)).await;
    assert_eq!((status, error_code(&bytes).0.as_str()), (StatusCode::CONFLICT, "conflict"));

    // Concurrent retries with one key give one licence.
    let f = Arc::new(f);
    let mut tasks = vec![];
    for _ in 0..6 {
        let (f, body) = (f.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let key = [("idempotency-key", "order-2026-0002")];
            let (status, _, bytes) =
                call(&f, "POST", "/api/v1/licences", Some(&f.key), &key, Some(body)).await;
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{status}");
            serde_json::from_slice::<Value>(&bytes).unwrap()["identifier"].as_str().unwrap().to_owned()
        }));
    }
    let mut ids = vec![];
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

/// The PDF of a licence issued now with `seal`, and its QR token as in the URL.
async fn issue_pdf(f: &Fixture, seal: &str) -> (Vec<u8>, String) {
    let body = issue_body(seal, FOOD, example("food-business-licence.json"));
    let (status, _, bytes) = call(f, "POST", "/api/v1/licences", Some(&f.key), &[], Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&bytes));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let (status, _, pdf) = call(f, "GET", v["pdf"].as_str().unwrap(), Some(&f.key), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    (pdf, v["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_dss_crl_is_issued_at_or_after_the_signing_time_and_lists_revocations() {
    let f = fixture().await;
    for (seal, alg) in [(&f.seal_ed, Algorithm::Ed25519), (&f.seal_p256, Algorithm::P256)] {
        let root_pem = f.platform.pki.roots_pem(Some(alg)).await.unwrap();
        let root = zhengzhao::pki::pem_decode_all(&root_pem, "CERTIFICATE").unwrap().remove(0);
        let (_, root_cert) = x509_parser::parse_x509_certificate(&root).unwrap();
        let mut numbers = vec![];
        for _ in 0..3 {
            let (pdf, token) = issue_pdf(&f, seal).await;
            let info = zhengzhao::pdf::inspect(&pdf).unwrap();
            assert_eq!(info.later_revisions, zhengzhao::pdf::LaterRevisions::Archival { doc_timestamps: 1 });
            let signed_at = info.signing_time.unwrap();
            assert_eq!(info.dss_crls.len(), 1);
            let crl = zhengzhao::pki::crl_info(&info.dss_crls[0]).unwrap();
            assert!(crl.this_update >= signed_at, "CRL of {} before /M {signed_at}", crl.this_update);
            let (_, parsed) = x509_parser::parse_x509_crl(&info.dss_crls[0]).unwrap();
            parsed.verify_signature(root_cert.public_key()).unwrap();
            numbers.push(crl.crl_number.unwrap());
            // The published CRL is the newest one: never older than a DSS CRL.
            let published = f.platform.pki.current_crl(alg).await.unwrap();
            assert!(published.number >= crl.crl_number.unwrap());

            // The token is in the signed revision's document information, as in the URL.
            let signed = &pdf[..info.signed_revision_len];
            let doc = lopdf::Document::load_mem(signed).unwrap();
            let info_dict = doc.trailer.get(b"Info").and_then(|o| doc.dereference(o)).unwrap().1;
            let stored = info_dict.as_dict().unwrap().get(b"Token").unwrap().as_str().unwrap();
            assert_eq!(std::str::from_utf8(stored).unwrap(), token);
        }
        assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{numbers:?}");

        // A revoked seal appears at once in the CRL of the next licence.
        let now = OffsetDateTime::now_utc();
        let other = f.platform.pki.create_seal(DEPT, "合同专用章", alg, now).await.unwrap();
        let (_, revocation) = f
            .platform
            .pki
            .revoke_seal(&other.id, zhengzhao::pki::RevocationReason::KeyCompromise, now)
            .await
            .unwrap();
        let (pdf, _) = issue_pdf(&f, seal).await;
        let info = zhengzhao::pdf::inspect(&pdf).unwrap();
        let crl = zhengzhao::pki::crl_info(&info.dss_crls[0]).unwrap();
        assert!(crl.crl_number.unwrap() >= revocation.number);
        assert!(crl.this_update >= info.signing_time.unwrap());
        let serial = hex::decode(&other.serial_hex).unwrap();
        let serial: Vec<u8> = serial.into_iter().skip_while(|b| *b == 0).collect();
        assert!(crl.revoked.iter().any(|r| r.serial == serial), "revoked seal missing from the DSS CRL");
    }
}
