//! The register's access rules over HTTP, on SQLite and PostgreSQL: who may read a
//! licence's history, checks and reads without a legal basis that leak nothing about
//! existence, the signed PDF only for the issuer and holder-authorised readers, the exact
//! 403/404 per endpoint, and the exact access log entries every kind of access adds.
// Test scenarios here read top to bottom as one story each; the 80-line bar is for src/.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::audit::AccessEntry;
use zhengzhao::codes::{LicenceId, TypeCode, Uscc};
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::platform::{IssueRequest, Platform, Scope};
use zhengzhao::store::AuthorisationRecord;

#[macro_use]
mod common;

const ISSUER: &str = "11310115MB2C90510L";
const RELYING: &str = "11310115MB2C90512T";
const FOOD: &str = "11100000000013338W002";
const TEACHER: &str = "11100000000013338W003";
const COMPANY: &str = "91310115MA1H7ABC2D";
const PERSON: &str = "310115199003071239";
const PURPOSE: (&str, &str) = ("x-purpose", "办理食品经营许可延续，核验原证");
const MATTER: (&str, &str) = ("x-matter-code", "310115-SCJG-017");
/// Every client of the fixture.
const CLIENTS: [&str; 8] =
    ["issuer", "manager", "query", "check", "no_duty", "portal", "other_manager", "audit"];

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    food: String,
    teacher: String,
    /// A well-formed identifier of the same issuer and type as `food` that names no licence.
    unknown: String,
    keys: HashMap<&'static str, String>,
    ids: HashMap<&'static str, String>,
    /// The signing key of the holder portal registered as "portal".
    portal_key: ed25519_dalek::SigningKey,
}

/// A fresh holder assertion of the "portal" portal for the holder `(code type, code)`.
fn assertion(f: &F, holder: (&str, &str)) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let claims = json!({"iss": f.ids["portal"], "holder_code_type": holder.0, "holder_code": holder.1,
        "acr": "L3-face", "iat": now, "exp": now + 120, "jti": format!("register-access-{now}-{n}")});
    let b64 = |v: &Value| data_encoding::BASE64URL_NOPAD.encode(v.to_string().as_bytes());
    let input = format!("{}.{}", b64(&json!({"alg": "EdDSA", "typ": "holder-assertion+jwt"})), b64(&claims));
    let signature = ed25519_dalek::Signer::sign(&f.portal_key, input.as_bytes()).to_bytes();
    format!("{input}.{}", data_encoding::BASE64URL_NOPAD.encode(&signature))
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
    let (mut keys, mut ids) = (HashMap::new(), HashMap::new());
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
        let (record, key) = p.clients.add_client(dept, name, scopes, &types, now).await.unwrap();
        keys.insert(name, key.expose().to_owned());
        ids.insert(name, record.id);
    }
    // A holder portal, registered by the operator with its Ed25519 public key.
    let portal_key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let spki =
        [hex::decode("302a300506032b6570032100").unwrap(), portal_key.verifying_key().to_bytes().to_vec()]
            .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        data_encoding::BASE64.encode(&spki)
    );
    let (portal, key) = p.clients.add_portal("随申办", &pem, now).await.unwrap();
    keys.insert("portal", key.expose().to_owned());
    ids.insert("portal", portal.id);
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
    let unknown =
        LicenceId::new(&TypeCode::parse(FOOD).unwrap(), &Uscc::parse(ISSUER).unwrap(), "20269999999", 1)
            .unwrap()
            .as_str()
            .to_owned();
    assert!(p.store.licence(&unknown).await.unwrap().is_none());
    F { _dir: dir, p: Arc::new(p), food, teacher, unknown, keys, ids, portal_key }
}

/// One request; answers the status, the raw body and the `Content-Type`.
async fn raw(
    f: &F,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Vec<u8>, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(name) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.keys[name]));
    }
    for (k, v) in headers {
        req = req.header(*k, axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    };
    let response = app(f.p.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec(), content_type)
}

async fn call(
    f: &F,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, bytes, _) = raw(f, method, uri, key, headers, body).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The number of entries in the access log (the chain is checked on the way).
async fn log_len(f: &F) -> u64 {
    f.p.audit.audit_verify().await.unwrap().unwrap()
}

/// The entries appended after `after`.
async fn entries_after(f: &F, after: u64) -> Vec<AccessEntry> {
    f.p.store.access_log(after, 1000).await.unwrap().into_iter().map(|r| r.entry).collect()
}

/// An access log entry as the tests compare it: (client, action, licence, holder code
/// type, holder code, basis, purpose, result); `None` for an absent field.
type Seen = (
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn seen(e: &AccessEntry) -> Seen {
    (
        e.client_id.clone(),
        e.action.clone(),
        e.licence_id.clone(),
        e.holder_code_type.clone(),
        e.holder_code.clone(),
        e.basis.clone(),
        e.purpose.clone(),
        e.result.clone(),
    )
}

/// Runs `step` and answers exactly the entries it appended, as [`Seen`].
async fn logged_by<Fut: std::future::Future<Output = ()>>(f: &F, step: Fut) -> Vec<Seen> {
    let before = log_len(f).await;
    step.await;
    let after = log_len(f).await;
    let new = entries_after(f, before).await;
    assert_eq!(new.len() as u64, after - before, "the chain and the rows agree");
    new.iter().map(seen).collect()
}

/// The expected entry.
#[allow(clippy::too_many_arguments)] // One entry's fields.
fn want(
    f: &F,
    client: &str,
    action: &str,
    licence: Option<(&str, &str, &str)>,
    basis: Option<&str>,
    purpose: Option<&str>,
    result: &str,
) -> Seen {
    (
        Some(f.ids[client].clone()),
        action.to_owned(),
        licence.map(|l| l.0.to_owned()),
        licence.map(|l| l.1.to_owned()),
        licence.map(|l| l.2.to_owned()),
        basis.map(str::to_owned),
        purpose.map(str::to_owned),
        result.to_owned(),
    )
}

/// A holder authorisation for `licence`, as a holder portal creates it, put straight
/// into the register (the portal's own protocol is tested in `tests/register.rs`).
async fn authorisation(f: &F, holder: (&str, &str), licence: &str, uses: u32) -> String {
    let code = format!("TESTCODE{:08}", rand_suffix());
    let now = OffsetDateTime::now_utc();
    let record = AuthorisationRecord {
        code_hash: hex::encode(Sha256::digest(code.as_bytes())),
        holder_code_type: holder.0.to_owned(),
        holder_code: holder.1.to_owned(),
        licence_ids: vec![licence.to_owned()],
        relying_department: Some(RELYING.to_owned()),
        created_by: f.ids["portal"].clone(),
        created_at: now,
        expires_at: now + time::Duration::minutes(10),
        uses_left: uses,
        revoked_at: None,
    };
    f.p.store.insert_authorisation(&record).await.unwrap();
    code
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// (client, headers, body about a licence that exists, body about one that does not)
type BasislessPair<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, Value);

/// (method, uri, client or "" for none, headers, body, expected status, expected entries)
type LoggedCase<'a> =
    (&'a str, String, &'a str, Vec<(&'a str, &'a str)>, Option<Value>, StatusCode, Vec<Seen>);

async fn history_is_for_the_issuers_manage_and_audit_clients_in_rfc3339(f: F) {
    let uri = format!("/api/v1/licences/{}/history", f.food);
    let food = (f.food.as_str(), "001", COMPANY);
    for client in ["manager", "audit"] {
        let mut answer = None;
        let log =
            logged_by(&f, async { answer = Some(call(&f, "GET", &uri, Some(client), &[], None).await) })
                .await;
        let (status, v) = answer.unwrap();
        assert_eq!(status, StatusCode::OK, "{client}: {v}");
        assert_eq!(v["identifier"], f.food.as_str());
        let event = &v["events"][0];
        assert_eq!((event["seq"].as_u64(), event["kind"].as_str()), (Some(1), Some("issued")));
        let at = event["at"].as_str().unwrap_or_else(|| panic!("`at` is not a string: {event}"));
        let parsed = OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
        assert!((OffsetDateTime::now_utc() - parsed).abs() < time::Duration::minutes(5), "{at}");
        assert_eq!(log, vec![want(&f, client, "history", Some(food), Some("issuer"), None, "ok")]);
    }
    // Clients of the issuing department without manage or audit, and other departments'
    // clients, are refused from the identifier alone: the same for an unknown licence.
    let unknown_uri = format!("/api/v1/licences/{}/history", f.unknown);
    for client in ["issuer", "query", "check", "no_duty", "portal", "other_manager"] {
        let mut answers = vec![];
        let log = logged_by(&f, async {
            answers.push(raw(&f, "GET", &uri, Some(client), &[], None).await);
            answers.push(raw(&f, "GET", &unknown_uri, Some(client), &[], None).await);
        })
        .await;
        let (known, unknown) = (&answers[0], &answers[1]);
        assert_eq!(known.0, StatusCode::FORBIDDEN, "{client}");
        assert_eq!(known, unknown, "{client}: the refusal tells nothing about existence");
        let v: Value = serde_json::from_slice(&known.1).unwrap();
        assert_eq!(v["code"], "forbidden");
        // Every refusal is logged with the licence asked for: a department client's, and a
        // holder portal's key (which works only on the holder endpoints) too.
        let expected = vec![
            want(&f, client, "history", Some((&f.food, "", "")), None, None, "forbidden"),
            want(&f, client, "history", Some((&f.unknown, "", "")), None, None, "forbidden"),
        ];
        assert_eq!(log, expected, "{client}");
    }
    // The issuer's manager is told the truth: no such licence.
    let mut answer = None;
    let log = logged_by(&f, async {
        answer = Some(call(&f, "GET", &unknown_uri, Some("manager"), &[], None).await)
    })
    .await;
    let (status, v) = answer.unwrap();
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    assert_eq!(
        log,
        vec![want(&f, "manager", "history", Some((&f.unknown, "", "")), None, None, "not_found")]
    );
}

async fn checks_without_a_basis_answer_alike_whether_or_not_the_licence_exists(f: F) {
    // By identifier: no matter code, so no duty basis; another department, so not the issuer.
    let pairs: Vec<BasislessPair> = vec![
        (
            "check",
            vec![PURPOSE],
            json!({"identifier": f.food, "claims": {"holder_name": "上海浦江美食餐饮管理有限公司"}}),
            json!({"identifier": f.unknown, "claims": {"holder_name": "上海浦江美食餐饮管理有限公司"}}),
        ),
        // A matter, but a duty that does not cover the type.
        ("no_duty", vec![PURPOSE, MATTER], json!({"identifier": f.food}), json!({"identifier": f.unknown})),
        // By holder: a licence exists for COMPANY, none for the other company.
        (
            "no_duty",
            vec![PURPOSE, MATTER],
            json!({"holder_code": COMPANY, "holder_code_type": "001", "type_code": FOOD}),
            json!({"holder_code": "91310115MA1K4LQ20W", "holder_code_type": "001", "type_code": FOOD}),
        ),
        (
            "check",
            vec![PURPOSE],
            json!({"holder_code": COMPANY, "holder_code_type": "001", "type_code": FOOD}),
            json!({"holder_code": "91310115MA1K4LQ20W", "holder_code_type": "001", "type_code": FOOD}),
        ),
        // An authorisation code that names nothing.
        (
            "check",
            vec![PURPOSE, ("x-authorisation-code", "AAAABBBBCCCCDDDD")],
            json!({"identifier": f.food}),
            json!({"identifier": f.unknown}),
        ),
    ];
    for (client, headers, known, unknown) in pairs {
        let mut answers = vec![];
        let log = logged_by(&f, async {
            answers
                .push(raw(&f, "POST", "/api/v1/checks", Some(client), &headers, Some(known.clone())).await);
            answers
                .push(raw(&f, "POST", "/api/v1/checks", Some(client), &headers, Some(unknown.clone())).await);
        })
        .await;
        assert_eq!(answers[0].0, StatusCode::FORBIDDEN, "{client} {known}");
        assert_eq!(
            answers[0], answers[1],
            "{client}: byte-identical status and body for {known} and {unknown}"
        );
        let v: Value = serde_json::from_slice(&answers[0].1).unwrap();
        assert_eq!(v["code"], "forbidden", "{v}");
        // One entry each, the same but for what the request named, with nothing from the register.
        let named = |body: &Value| match body["identifier"].as_str() {
            Some(id) => (id.to_owned(), String::new(), String::new()),
            None => (String::new(), "001".to_owned(), body["holder_code"].as_str().unwrap().to_owned()),
        };
        let expected: Vec<Seen> = [&known, &unknown]
            .iter()
            .map(|b| {
                let (id, t, c) = named(b);
                want(&f, client, "check", Some((&id, &t, &c)), None, Some(PURPOSE.1), "forbidden")
            })
            .collect();
        assert_eq!(log, expected, "{client}");
    }
    // With a basis the truth: found or not_found.
    let (status, v) = call(
        &f,
        "POST",
        "/api/v1/checks",
        Some("check"),
        &[PURPOSE, MATTER],
        Some(json!({"identifier": f.unknown})),
    )
    .await;
    assert_eq!(
        (status, v),
        (StatusCode::OK, json!({"result": "not_found", "mismatches": [], "identifier": null}))
    );
    let (status, v) = call(
        &f,
        "POST",
        "/api/v1/checks",
        Some("check"),
        &[PURPOSE, MATTER],
        Some(json!({"holder_code": "91310115MA1K4LQ20W", "holder_code_type": "001", "type_code": FOOD})),
    )
    .await;
    assert_eq!((status, v["result"].as_str()), (StatusCode::OK, Some("not_found")));
    // Hostile holder fields are refused before anything is looked up or logged.
    let before = log_len(&f).await;
    for body in [
        json!({"holder_code": "9".repeat(100_000), "holder_code_type": "001", "type_code": FOOD}),
        json!({"holder_code": "", "holder_code_type": "001", "type_code": FOOD}),
        json!({"holder_code": "9131\u{0}0115", "holder_code_type": "001", "type_code": FOOD}),
        json!({"holder_code": COMPANY, "holder_code_type": "0'; DROP TABLE licences; --", "type_code": FOOD}),
        json!({"holder_code": COMPANY, "holder_code_type": "001", "type_code": "类型".repeat(20)}),
    ] {
        let (status, v) =
            call(&f, "POST", "/api/v1/checks", Some("check"), &[PURPOSE, MATTER], Some(body)).await;
        assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{v}");
    }
    assert_eq!(log_len(&f).await, before, "nothing of a refused body reaches the access log");
    // Checks need a purpose, like reads.
    let (status, v) =
        call(&f, "POST", "/api/v1/checks", Some("check"), &[MATTER], Some(json!({"identifier": f.food})))
            .await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_input")), "{v}");
    // A holder's authorisation is a basis for a check.
    let code = authorisation(&f, ("111", PERSON), &f.teacher, 1).await;
    let (status, v) = call(
        &f,
        "POST",
        "/api/v1/checks",
        Some("query"),
        &[PURPOSE, ("x-authorisation-code", &code)],
        Some(json!({"identifier": f.teacher})),
    )
    .await;
    assert_eq!((status, v["result"].as_str()), (StatusCode::OK, Some("valid")), "{v}");
}

async fn reads_without_a_basis_answer_alike_whether_or_not_the_licence_exists(f: F) {
    let (known, unknown) =
        (format!("/api/v1/licences/{}", f.food), format!("/api/v1/licences/{}", f.unknown));
    for (client, headers) in [
        ("query", vec![PURPOSE]),
        ("no_duty", vec![PURPOSE, MATTER]),
        ("portal", vec![PURPOSE, MATTER]),
        ("other_manager", vec![PURPOSE]),
        ("audit", vec![PURPOSE, MATTER]),
        ("query", vec![PURPOSE, ("x-authorisation-code", "AAAABBBBCCCCDDDD")]),
    ] {
        let a = raw(&f, "GET", &known, Some(client), &headers, None).await;
        let b = raw(&f, "GET", &unknown, Some(client), &headers, None).await;
        assert_eq!(a.0, StatusCode::FORBIDDEN, "{client}");
        assert_eq!(a, b, "{client} {headers:?}");
    }
    // With a basis, an unknown licence is 404.
    for (client, headers) in [("query", vec![PURPOSE, MATTER]), ("manager", vec![PURPOSE])] {
        let (status, v) = call(&f, "GET", &unknown, Some(client), &headers, None).await;
        assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{client}");
    }
    // A malformed identifier names no licence, for every client.
    let (status, v) =
        call(&f, "GET", "/api/v1/licences/not-an-identifier", Some("query"), &[PURPOSE], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

async fn the_signed_pdf_goes_only_to_the_issuer_and_holder_authorised_readers(f: F) {
    let uri = format!("/api/v1/licences/{}/pdf", f.teacher);
    let stored =
        f.p.store.licence(&f.teacher).await.unwrap().unwrap().licence.document.pdf().unwrap().to_vec();
    let teacher = (f.teacher.as_str(), "111", PERSON);
    // A duty basis reads the JSON (masked) but not the original.
    let duty = [PURPOSE, ("x-matter-code", "310115-JY-003")];
    let mut answer = None;
    let log =
        logged_by(&f, async { answer = Some(call(&f, "GET", &uri, Some("no_duty"), &duty, None).await) })
            .await;
    let (status, v) = answer.unwrap();
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("original_requires_holder_authorisation")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("X-Authorisation-Code"), "{v}");
    let refused = want(
        &f,
        "no_duty",
        "pdf",
        Some((&f.teacher, "", "")),
        None,
        Some(PURPOSE.1),
        "original_requires_holder_authorisation",
    );
    assert_eq!(log, vec![refused]);
    let (status, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}", f.teacher), Some("no_duty"), &duty, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["metadata"]["holder_code"], "310***********1239");

    // The issuer's clients get it without a purpose.
    for client in ["issuer", "manager"] {
        let mut answer = None;
        let log =
            logged_by(&f, async { answer = Some(raw(&f, "GET", &uri, Some(client), &[], None).await) }).await;
        let (status, body, content_type) = answer.unwrap();
        assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/pdf"), "{client}");
        assert_eq!(body, stored);
        assert_eq!(log, vec![want(&f, client, "pdf", Some(teacher), Some("issuer"), None, "ok")]);
    }

    // A reader with the holder's authorisation gets it, once per use.
    let code = authorisation(&f, ("111", PERSON), &f.teacher, 1).await;
    let auth = [PURPOSE, ("x-authorisation-code", code.as_str())];
    let mut answers = vec![];
    let log = logged_by(&f, async {
        answers.push(raw(&f, "GET", &uri, Some("no_duty"), &auth, None).await);
        answers.push(raw(&f, "GET", &uri, Some("no_duty"), &auth, None).await);
    })
    .await;
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(answers[0].1, stored);
    let used: Value = serde_json::from_slice(&answers[1].1).unwrap();
    assert_eq!((answers[1].0, used["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{used}");
    assert_eq!(
        log,
        vec![
            want(&f, "no_duty", "pdf", Some(teacher), Some("holder-authorisation"), Some(PURPOSE.1), "ok"),
            want(&f, "no_duty", "pdf", Some(teacher), None, Some(PURPOSE.1), "forbidden"),
        ]
    );

    // Without a basis: the same refusal whether or not the licence exists.
    let a =
        raw(&f, "GET", &format!("/api/v1/licences/{}/pdf", f.food), Some("check"), &[PURPOSE], None).await;
    let b =
        raw(&f, "GET", &format!("/api/v1/licences/{}/pdf", f.unknown), Some("check"), &[PURPOSE], None).await;
    assert_eq!(a.0, StatusCode::FORBIDDEN);
    assert_eq!(a, b);
    // The duty refusal too.
    let a =
        raw(&f, "GET", &format!("/api/v1/licences/{}/pdf", f.food), Some("query"), &[PURPOSE, MATTER], None)
            .await;
    let b = raw(
        &f,
        "GET",
        &format!("/api/v1/licences/{}/pdf", f.unknown),
        Some("query"),
        &[PURPOSE, MATTER],
        None,
    )
    .await;
    assert_eq!(a.0, StatusCode::FORBIDDEN);
    assert_eq!(a, b);
    // The issuer is told the truth.
    let (status, v) =
        call(&f, "GET", &format!("/api/v1/licences/{}/pdf", f.unknown), Some("issuer"), &[], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

async fn status_changes_refuse_other_clients_alike_whether_or_not_the_licence_exists(f: F) {
    let body = json!({"status": "suspended", "reason": "日常检查"});
    for client in CLIENTS.iter().filter(|c| **c != "manager") {
        let a = raw(
            &f,
            "POST",
            &format!("/api/v1/licences/{}/status", f.food),
            Some(client),
            &[],
            Some(body.clone()),
        )
        .await;
        let b = raw(
            &f,
            "POST",
            &format!("/api/v1/licences/{}/status", f.unknown),
            Some(client),
            &[],
            Some(body.clone()),
        )
        .await;
        assert_eq!(a.0, StatusCode::FORBIDDEN, "{client}");
        assert_eq!(a, b, "{client}");
    }
    let (status, v) =
        call(&f, "POST", &format!("/api/v1/licences/{}/status", f.unknown), Some("manager"), &[], Some(body))
            .await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

/// Every kind of access the README lists as logged adds exactly the expected entries.
async fn every_kind_of_access_adds_exactly_the_expected_entries(f: F) {
    let food = (f.food.as_str(), "001", COMPANY);
    let teacher = (f.teacher.as_str(), "111", PERSON);
    let duty = Some("duty:310115-SCJG-017");
    let p = Some(PURPOSE.1);
    let read = format!("/api/v1/licences/{}", f.food);
    let pdf = format!("/api/v1/licences/{}/pdf", f.food);

    // Reads: on a duty, refused without a basis, an unknown licence, a bad purpose.
    let cases: Vec<LoggedCase> = vec![
        (
            "GET",
            read.clone(),
            "query",
            vec![PURPOSE, MATTER],
            None,
            StatusCode::OK,
            vec![want(&f, "query", "read", Some(food), duty, p, "ok")],
        ),
        (
            "GET",
            read.clone(),
            "query",
            vec![PURPOSE],
            None,
            StatusCode::FORBIDDEN,
            vec![want(&f, "query", "read", Some((&f.food, "", "")), None, p, "forbidden")],
        ),
        (
            "GET",
            format!("/api/v1/licences/{}", f.unknown),
            "query",
            vec![PURPOSE, MATTER],
            None,
            StatusCode::NOT_FOUND,
            vec![want(&f, "query", "read", Some((&f.unknown, "", "")), None, p, "not_found")],
        ),
        (
            "GET",
            read.clone(),
            "query",
            vec![MATTER],
            None,
            StatusCode::BAD_REQUEST,
            vec![want(&f, "query", "read", None, None, None, "invalid_input")],
        ),
        // Listings: one entry per page, on a duty or the client's own.
        (
            "GET",
            format!("/api/v1/licences?holder_code={COMPANY}&holder_code_type=001&type_code={FOOD}"),
            "query",
            vec![PURPOSE, MATTER],
            None,
            StatusCode::OK,
            vec![want(&f, "query", "list", Some(("", "001", COMPANY)), duty, p, "ok")],
        ),
        (
            "GET",
            "/api/v1/licences".into(),
            "query",
            vec![PURPOSE],
            None,
            StatusCode::OK,
            vec![want(&f, "query", "list", None, Some("issuer"), p, "ok")],
        ),
        // PDF downloads: the issuer's, a duty refused.
        (
            "GET",
            pdf.clone(),
            "issuer",
            vec![],
            None,
            StatusCode::OK,
            vec![want(&f, "issuer", "pdf", Some(food), Some("issuer"), None, "ok")],
        ),
        (
            "GET",
            pdf.clone(),
            "query",
            vec![PURPOSE, MATTER],
            None,
            StatusCode::FORBIDDEN,
            vec![want(
                &f,
                "query",
                "pdf",
                Some((&f.food, "", "")),
                None,
                p,
                "original_requires_holder_authorisation",
            )],
        ),
        // Checks: on a duty, refused without a basis.
        (
            "POST",
            "/api/v1/checks".into(),
            "check",
            vec![PURPOSE, MATTER],
            Some(json!({"identifier": f.food})),
            StatusCode::OK,
            vec![want(&f, "check", "check", Some(food), duty, p, "ok")],
        ),
        (
            "POST",
            "/api/v1/checks".into(),
            "check",
            vec![PURPOSE],
            Some(json!({"identifier": f.food})),
            StatusCode::FORBIDDEN,
            vec![want(&f, "check", "check", Some((&f.food, "", "")), None, p, "forbidden")],
        ),
        // History reads: allowed and refused.
        (
            "GET",
            format!("/api/v1/licences/{}/history", f.food),
            "audit",
            vec![],
            None,
            StatusCode::OK,
            vec![want(&f, "audit", "history", Some(food), Some("issuer"), None, "ok")],
        ),
        (
            "GET",
            format!("/api/v1/licences/{}/history", f.food),
            "query",
            vec![],
            None,
            StatusCode::FORBIDDEN,
            vec![want(&f, "query", "history", Some((&f.food, "", "")), None, None, "forbidden")],
        ),
        // Status changes: refused, done.
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            "other_manager",
            vec![],
            Some(json!({"status": "suspended", "reason": "日常检查"})),
            StatusCode::FORBIDDEN,
            vec![want(&f, "other_manager", "status", Some((&f.food, "", "")), None, None, "forbidden")],
        ),
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            "manager",
            vec![],
            Some(json!({"status": "suspended", "reason": "日常检查"})),
            StatusCode::OK,
            vec![want(&f, "manager", "status", Some(food), Some("issuer"), Some("日常检查"), "02")],
        ),
        // Refused changes: a conflict, no reason, an unknown licence.
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            "manager",
            vec![],
            Some(json!({"status": "suspended", "reason": "日常检查"})),
            StatusCode::CONFLICT,
            vec![want(&f, "manager", "status", Some(food), None, None, "conflict")],
        ),
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.food),
            "manager",
            vec![],
            Some(json!({"status": "valid", "reason": " "})),
            StatusCode::BAD_REQUEST,
            vec![want(&f, "manager", "status", Some(food), None, None, "invalid_input")],
        ),
        (
            "POST",
            format!("/api/v1/licences/{}/status", f.unknown),
            "manager",
            vec![],
            Some(json!({"status": "suspended", "reason": "日常检查"})),
            StatusCode::NOT_FOUND,
            vec![want(&f, "manager", "status", Some((&f.unknown, "", "")), None, None, "not_found")],
        ),
        // Unauthenticated: nothing read, nothing logged.
        ("GET", read.clone(), "", vec![PURPOSE, MATTER], None, StatusCode::UNAUTHORIZED, vec![]),
    ];
    for (method, uri, client, headers, body, status, expected) in cases {
        let key = (!client.is_empty()).then_some(client);
        let mut answer = None;
        let log =
            logged_by(&f, async { answer = Some(call(&f, method, &uri, key, &headers, body.clone()).await) })
                .await;
        let (got, v) = answer.unwrap();
        assert_eq!(got, status, "{client} {method} {uri}: {v}");
        assert_eq!(log, expected, "{client} {method} {uri}");
    }

    // Authorisations: a use, a refused use, through the register.
    let code = authorisation(&f, ("111", PERSON), &f.teacher, 1).await;
    let auth = [PURPOSE, ("x-authorisation-code", code.as_str())];
    let uri = format!("/api/v1/licences/{}", f.teacher);
    let log = logged_by(&f, async {
        assert_eq!(call(&f, "GET", &uri, Some("query"), &auth, None).await.0, StatusCode::OK);
        assert_eq!(call(&f, "GET", &uri, Some("query"), &auth, None).await.0, StatusCode::FORBIDDEN);
    })
    .await;
    assert_eq!(
        log,
        vec![
            want(&f, "query", "read", Some(teacher), Some("holder-authorisation"), p, "ok"),
            want(&f, "query", "read", Some(teacher), None, p, "forbidden"),
        ]
    );
    // Creating and revoking one through a holder portal.
    let mut created = None;
    let log = logged_by(&f, async {
        let body = json!({"holder_code_type": "111", "holder_code": PERSON, "licence_ids": [f.teacher]});
        let a = assertion(&f, ("111", PERSON));
        let headers = [("x-holder-assertion", a.as_str())];
        created =
            Some(call(&f, "POST", "/api/v1/authorisations", Some("portal"), &headers, Some(body)).await);
    })
    .await;
    let (status, v) = created.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(
        log,
        vec![want(
            &f,
            "portal",
            "authorise",
            Some(teacher),
            Some("holder-assertion"),
            Some("持证主体授权用证"),
            "ok"
        )]
    );
    let code = v["code"].as_str().unwrap().to_owned();
    let log = logged_by(&f, async {
        let uri = format!("/api/v1/authorisations/{code}");
        let a = assertion(&f, ("111", PERSON));
        let headers = [("x-holder-assertion", a.as_str())];
        assert_eq!(call(&f, "DELETE", &uri, Some("portal"), &headers, None).await.0, StatusCode::NO_CONTENT);
    })
    .await;
    assert_eq!(
        log,
        vec![(
            Some(f.ids["portal"].clone()),
            "revoke-authorisation".to_owned(),
            None,
            Some("111".to_owned()),
            Some(PERSON.to_owned()),
            Some("holder-assertion".to_owned()),
            Some("持证主体撤回授权".to_owned()),
            "ok".to_owned(),
        )]
    );
}

on_both_backends!(
    history_is_for_the_issuers_manage_and_audit_clients_in_rfc3339,
    checks_without_a_basis_answer_alike_whether_or_not_the_licence_exists,
    reads_without_a_basis_answer_alike_whether_or_not_the_licence_exists,
    the_signed_pdf_goes_only_to_the_issuer_and_holder_authorised_readers,
    status_changes_refuse_other_clients_alike_whether_or_not_the_licence_exists,
    every_kind_of_access_adds_exactly_the_expected_entries,
);
