//! Holder portals over HTTP, on SQLite and PostgreSQL: only operator-registered portals act
//! for holders, every call carries a signed, single-use holder assertion for exactly that
//! holder, refusals have precise codes, and the access log records the assertion. The
//! assertions here are built by hand from the README's description (ed25519-dalek / p256
//! signatures, base64url), not with the library's own signer.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use data_encoding::{BASE64, BASE64URL_NOPAD};
use http_body_util::BodyExt;
use ring::rand::SecureRandom;
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
const PURPOSE: (&str, &str) = ("x-purpose", "办理教师资格认定，核验证书");

enum Key {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
}

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut b).unwrap();
    b
}

impl Key {
    fn ed25519() -> Self {
        Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random32()))
    }

    fn p256() -> Self {
        Self::P256(p256::ecdsa::SigningKey::from_slice(&random32()).unwrap())
    }

    fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => "EdDSA",
            Self::P256(_) => "ES256",
        }
    }

    /// The public key as PEM SubjectPublicKeyInfo.
    fn public_pem(&self) -> String {
        let der = match self {
            // RFC 8410: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING key }.
            Self::Ed25519(k) => {
                [hex::decode("302a300506032b6570032100").unwrap(), k.verifying_key().to_bytes().to_vec()]
                    .concat()
            }
            Self::P256(k) => {
                use p256::pkcs8::EncodePublicKey;
                k.verifying_key().to_public_key_der().unwrap().into_vec()
            }
        };
        let b64 = BASE64.encode(&der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
    }

    /// RFC 7515 compact serialisation; the signature is raw (EdDSA 64 bytes, ES256 r‖s).
    fn jws(&self, header: &Value, claims: &Value) -> String {
        let h = BASE64URL_NOPAD.encode(header.to_string().as_bytes());
        let p = BASE64URL_NOPAD.encode(claims.to_string().as_bytes());
        let input = format!("{h}.{p}");
        let sig = match self {
            Self::Ed25519(k) => ed25519_dalek::Signer::sign(k, input.as_bytes()).to_bytes().to_vec(),
            Self::P256(k) => {
                let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, input.as_bytes());
                s.to_bytes().to_vec()
            }
        };
        format!("{input}.{}", BASE64URL_NOPAD.encode(&sig))
    }
}

struct Portal {
    id: String,
    api_key: String,
    key: Key,
}

fn jti() -> String {
    BASE64URL_NOPAD.encode(&random32()[..18])
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl Portal {
    fn claims(&self, holder: (&str, &str)) -> Value {
        json!({"iss": self.id, "holder_code_type": holder.0, "holder_code": holder.1, "acr": "L3-face",
               "iat": now(), "exp": now() + 120, "jti": jti()})
    }

    fn sign(&self, claims: &Value) -> String {
        self.key.jws(&json!({"alg": self.key.alg(), "typ": "holder-assertion+jwt"}), claims)
    }

    /// A fresh assertion for `holder`.
    fn assert(&self, holder: (&str, &str)) -> String {
        self.sign(&self.claims(holder))
    }
}

struct F {
    _dir: tempfile::TempDir,
    config: Config,
    p: Arc<Platform>,
    food: String,
    teacher: String,
    /// Ed25519 portal.
    a: Portal,
    /// P-256 portal.
    b: Portal,
    keys: std::collections::HashMap<&'static str, String>,
}

fn example(file: &str) -> Value {
    let path = format!("{}/templates/examples/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer =
        Layer { public_url: Some("https://zz.example.gov.cn".into()), database_url, ..Layer::default() };
    let config = Config::from_layer(dir.path().join("data"), layer).unwrap();
    let p = Platform::create(config.clone(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    p.pki.add_department(RELYING, "演示市教育局", "310115", &[], now).await.unwrap();
    let mut keys = std::collections::HashMap::new();
    for (name, dept, scopes) in
        [("query", RELYING, &[Scope::Query][..]), ("issuer", ISSUER, &[Scope::Issue, Scope::Manage][..])]
    {
        let (_, key) = p.clients.add_client(dept, name, scopes, &[], now).await.unwrap();
        keys.insert(name, key.expose().to_owned());
    }
    let mut portals = vec![];
    for (name, key) in [("随申办", Key::ed25519()), ("浙里办", Key::p256())] {
        let (portal, api_key) = p.clients.add_portal(name, &key.public_pem(), now).await.unwrap();
        portals.push(Portal { id: portal.id, api_key: api_key.expose().to_owned(), key });
    }
    let b = portals.pop().unwrap();
    let a = portals.pop().unwrap();
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
    F { _dir: dir, config, p: Arc::new(p), food, teacher, a, b, keys }
}

async fn call_on(
    p: &Arc<Platform>,
    method: &str,
    uri: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req =
        Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {key}"));
    for (k, v) in headers {
        req = req.header(*k, axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    };
    let response = app(p.clone()).oneshot(req.unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn call(
    f: &F,
    method: &str,
    uri: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_on(&f.p, method, uri, key, headers, body).await
}

fn list_uri(holder: (&str, &str)) -> String {
    format!("/api/v1/holders/{}/licences?code_type={}", holder.1, holder.0)
}

fn log_uri(holder: (&str, &str)) -> String {
    format!("/api/v1/holders/{}/access-log?code_type={}", holder.1, holder.0)
}

const P: (&str, &str) = ("111", PERSON);
const C: (&str, &str) = ("001", COMPANY);

async fn last_entry(f: &F) -> zhengzhao::audit::AccessEntry {
    let n = f.p.audit.audit_verify().await.unwrap().unwrap();
    f.p.store.access_log(n - 1, 1).await.unwrap().remove(0).entry
}

async fn log_len(f: &F) -> u64 {
    f.p.audit.audit_verify().await.unwrap().unwrap()
}

/// The holder's own licences, unmasked, through either portal; the log entry carries the
/// assertion's id, holder and level.
async fn portals_list_the_asserted_holders_licences_and_log_the_assertion(f: F) {
    for portal in [&f.a, &f.b] {
        let claims = portal.claims(P);
        let (status, v) = call(
            &f,
            "GET",
            &list_uri(P),
            &portal.api_key,
            &[("x-holder-assertion", &portal.sign(&claims))],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{v}");
        assert_eq!(items[0]["identifier"], f.teacher.as_str());
        assert_eq!(items[0]["metadata"]["holder_code"], PERSON, "the holder sees their own code in full");
        let e = last_entry(&f).await;
        assert_eq!(e.action, "holder-list");
        assert_eq!(e.result, "ok");
        assert_eq!(e.client_id.as_deref(), Some(portal.id.as_str()));
        assert_eq!(e.department_code, None);
        assert_eq!(e.basis.as_deref(), Some("holder-assertion"));
        assert_eq!((e.holder_code_type.as_deref(), e.holder_code.as_deref()), (Some("111"), Some(PERSON)));
        assert_eq!(e.assertion_id.as_deref(), claims["jti"].as_str());
        assert_eq!(e.auth_level.as_deref(), Some("L3-face"));
    }
    // The company's listing and access log through portal B.
    let (status, v) =
        call(&f, "GET", &list_uri(C), &f.b.api_key, &[("x-holder-assertion", &f.b.assert(C))], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["items"][0]["identifier"], f.food.as_str());
    let (status, v) =
        call(&f, "GET", &log_uri(C), &f.b.api_key, &[("x-holder-assertion", &f.b.assert(C))], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let entries = v["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["holder_code"] == COMPANY), "only the asserted holder's entries: {v}");
    assert!(entries.iter().any(|e| e["action"] == "holder-list" && e["auth_level"] == "L3-face"), "{v}");
    let e = last_entry(&f).await;
    assert_eq!((e.action.as_str(), e.result.as_str()), ("holder-access-log", "ok"));
    assert!(e.assertion_id.is_some());
}

/// Every way an assertion can be wrong has its own status and code, reveals nothing, and
/// is logged (one entry each).
async fn bad_assertions_are_refused_with_precise_codes_and_logged(f: F) {
    let a = &f.a;
    let uri = list_uri(P);
    let c = |edit: &dyn Fn(&mut Value)| {
        let mut claims = a.claims(P);
        edit(&mut claims);
        a.sign(&claims)
    };
    let huge = format!("{}.{}.{}", "a".repeat(6000), "b".repeat(10), "c".repeat(10));
    let none = format!(
        "{}.{}.",
        BASE64URL_NOPAD.encode(br#"{"alg":"none","typ":"holder-assertion+jwt"}"#),
        BASE64URL_NOPAD.encode(a.claims(P).to_string().as_bytes())
    );
    let wrong_alg = a.key.jws(&json!({"alg": "ES256", "typ": "holder-assertion+jwt"}), &a.claims(P));
    let wrong_key = Key::ed25519().jws(&json!({"alg": "EdDSA", "typ": "holder-assertion+jwt"}), &a.claims(P));
    let other_portal = f.b.assert(P);
    let cases: Vec<(&str, Option<String>, StatusCode, &str)> = vec![
        ("missing", None, StatusCode::UNAUTHORIZED, "holder_assertion_required"),
        ("garbage", Some("garbage".into()), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        ("huge", Some(huge), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        ("alg none", Some(none), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        ("wrong alg", Some(wrong_alg), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        ("wrong key", Some(wrong_key), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        ("another portal's", Some(other_portal), StatusCode::UNAUTHORIZED, "holder_assertion_invalid"),
        (
            "expired",
            Some(c(&|v| {
                v["iat"] = json!(now() - 400);
                v["exp"] = json!(now() - 120);
            })),
            StatusCode::UNAUTHORIZED,
            "holder_assertion_expired",
        ),
        (
            "future iat",
            Some(c(&|v| {
                v["iat"] = json!(now() + 120);
                v["exp"] = json!(now() + 240);
            })),
            StatusCode::UNAUTHORIZED,
            "holder_assertion_invalid",
        ),
        (
            "lifetime over 5 min",
            Some(c(&|v| v["exp"] = json!(now() + 301))),
            StatusCode::UNAUTHORIZED,
            "holder_assertion_invalid",
        ),
        ("holder mismatch", Some(a.assert(C)), StatusCode::FORBIDDEN, "holder_mismatch"),
    ];
    for (name, assertion, status, code) in cases {
        let before = log_len(&f).await;
        let headers: Vec<(&str, &str)> =
            assertion.iter().map(|s| ("x-holder-assertion", s.as_str())).collect();
        let (got, v) = call(&f, "GET", &uri, &a.api_key, &headers, None).await;
        assert_eq!((got, v["code"].as_str()), (status, Some(code)), "{name}: {v}");
        assert!(v.get("items").is_none() && !v.to_string().contains(&f.teacher), "{name}: nothing disclosed");
        assert_eq!(log_len(&f).await, before + 1, "{name}: the refusal is logged");
        let e = last_entry(&f).await;
        assert_eq!((e.action.as_str(), e.result.as_str()), ("holder-list", code), "{name}");
        assert_eq!(e.client_id.as_deref(), Some(a.id.as_str()), "{name}");
    }
    // Replay: the same assertion twice, even for another endpoint of the same holder.
    let once = a.assert(P);
    let h = [("x-holder-assertion", once.as_str())];
    assert_eq!(call(&f, "GET", &uri, &a.api_key, &h, None).await.0, StatusCode::OK);
    let (status, v) = call(&f, "GET", &uri, &a.api_key, &h, None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("holder_assertion_replayed")));
    let (status, v) = call(&f, "GET", &log_uri(P), &a.api_key, &h, None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("holder_assertion_replayed")));
    // The same jti from another portal is that portal's own id space.
    let mut claims = f.b.claims(P);
    claims["jti"] = json!(once.split('.').nth(1).map(|p| {
        let c: Value = serde_json::from_slice(&BASE64URL_NOPAD.decode(p.as_bytes()).unwrap()).unwrap();
        c["jti"].as_str().unwrap().to_owned()
    }));
    let (status, v) =
        call(&f, "GET", &uri, &f.b.api_key, &[("x-holder-assertion", &f.b.sign(&claims))], None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// An assertion used on one node is refused on another over the same database.
async fn replays_are_refused_across_nodes(f: F) {
    let second = Arc::new(Platform::open(f.config.clone(), None).await.unwrap());
    let once = f.a.assert(P);
    let h = [("x-holder-assertion", once.as_str())];
    let (status, _) = call(&f, "GET", &list_uri(P), &f.a.api_key, &h, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = call_on(&second, "GET", &list_uri(P), &f.a.api_key, &h, None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("holder_assertion_replayed")));
}

/// Used ids are kept until they expire, then pruned.
async fn used_assertion_ids_are_pruned_after_expiry(f: F) {
    let store = &f.p.store;
    let t = OffsetDateTime::now_utc();
    let at = t.unix_timestamp();
    store.use_holder_assertion(&f.a.id, "0123456789abcdef", at + 60, t).await.unwrap();
    assert!(store.use_holder_assertion(&f.a.id, "0123456789abcdef", at + 60, t).await.is_err());
    // Another portal's id space is its own.
    store.use_holder_assertion(&f.b.id, "0123456789abcdef", at + 60, t).await.unwrap();
    // Once the remembered time has passed, the next use prunes the row: the id is free
    // again (an assertion that old is refused as expired before it reaches the store).
    let later = t + time::Duration::seconds(61);
    store.use_holder_assertion(&f.a.id, "fedcba9876543210", at + 200, later).await.unwrap();
    store.use_holder_assertion(&f.a.id, "0123456789abcdef", at + 200, later).await.unwrap();
}

/// Department clients never act for holders, whatever scopes they hold.
async fn department_clients_cannot_act_for_holders(f: F) {
    let now = OffsetDateTime::now_utc();
    let e = f.p.clients.add_client(RELYING, "旧门户", &[Scope::HolderProxy], &[], now).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("portal add"), "{e}");
    let e =
        f.p.clients
            .add_client(RELYING, "旧门户", &[Scope::Query, Scope::HolderProxy], &[], now)
            .await
            .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    // A client that holds the scope from before (stored directly, as an old database has it).
    let (mut old, _) = f.p.clients.add_client(RELYING, "old", &[Scope::Query], &[], now).await.unwrap();
    let key = "zz_legacyholderproxyclientkey0000000000000000000000000000";
    old.id = "cl_legacy".into();
    old.scopes = vec!["holder-proxy".into()];
    old.key_hash = zhengzhao::platform::key_hash(key);
    f.p.store.insert_client(&old).await.unwrap();
    let grant = json!({"holder_code_type": "111", "holder_code": PERSON, "licence_ids": [f.teacher]});
    // Even with a good assertion of a real portal attached.
    for client_key in [key, f.keys["query"].as_str()] {
        let endpoints = [
            ("GET", list_uri(P), None),
            ("GET", log_uri(P), None),
            ("POST", "/api/v1/authorisations".to_owned(), Some(grant.clone())),
            ("DELETE", "/api/v1/authorisations/ABCDEFGHIJKLMNOP".to_owned(), None),
        ];
        for (method, uri, body) in endpoints {
            let before = log_len(&f).await;
            let assertion = f.a.assert(P);
            let (status, v) =
                call(&f, method, &uri, client_key, &[("x-holder-assertion", &assertion)], body).await;
            assert_eq!(
                (status, v["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{method} {uri}: {v}"
            );
            assert_eq!(log_len(&f).await, before + 1, "the refusal is logged");
        }
    }
    // A portal's key is for the holder endpoints only; a revoked portal is out.
    let uri = format!("/api/v1/licences/{}", f.teacher);
    let before = log_len(&f).await;
    let (status, v) = call(&f, "GET", &uri, &f.a.api_key, &[PURPOSE], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{v}");
    // Refused and logged as a department client's refusal is: who, what, why, which licence.
    assert_eq!(log_len(&f).await, before + 1, "the portal's refusal is logged");
    let e = last_entry(&f).await;
    assert_eq!(
        (e.client_id.as_deref(), e.department_code.as_deref(), e.action.as_str(), e.result.as_str()),
        (Some(f.a.id.as_str()), None, "read", "forbidden")
    );
    assert_eq!((e.licence_id.as_deref(), e.purpose.as_deref()), (Some(f.teacher.as_str()), Some(PURPOSE.1)));
    // An unknown portal key names nobody: 401, not logged (as for department keys).
    let (status, v) = call(&f, "GET", &uri, "zzp_not-a-registered-key", &[PURPOSE], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorised")), "{v}");
    assert_eq!(log_len(&f).await, before + 1);
    f.p.clients.revoke_portal(&f.b.id, now).await.unwrap();
    let (status, v) =
        call(&f, "GET", &list_uri(P), &f.b.api_key, &[("x-holder-assertion", &f.b.assert(P))], None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorised")), "{v}");
    assert_eq!(f.p.clients.portals().await.unwrap().iter().filter(|p| p.revoked_at.is_some()).count(), 1);
}

/// Authorisations: created only for the asserted holder, usable by the relying
/// department, revocable only with that holder's assertion (through any portal).
async fn authorisations_belong_to_the_asserted_holder(f: F) {
    let grant = |portal: &Portal, holder: (&str, &str), body: Value| {
        let assertion = portal.assert(holder);
        let f = &f;
        let key = portal.api_key.clone();
        async move {
            call(f, "POST", "/api/v1/authorisations", &key, &[("x-holder-assertion", &assertion)], Some(body))
                .await
        }
    };
    let body = json!({"holder_code_type": "111", "holder_code": PERSON, "licence_ids": [f.teacher],
                      "relying_department": RELYING, "uses": 2});
    // Someone else's licences cannot be authorised with one's own assertion.
    let (status, v) = grant(&f.a, C, body.clone()).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("holder_mismatch")), "{v}");
    let (status, v) = grant(&f.a, P, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let code = v["code"].as_str().unwrap().to_owned();
    let e = last_entry(&f).await;
    assert_eq!((e.action.as_str(), e.result.as_str()), ("authorise", "ok"));
    assert_eq!(e.licence_id.as_deref(), Some(f.teacher.as_str()));
    assert_eq!(e.auth_level.as_deref(), Some("L3-face"));
    assert!(e.assertion_id.is_some());

    let read = format!("/api/v1/licences/{}", f.teacher);
    let with_code = [PURPOSE, ("x-authorisation-code", code.as_str())];
    let (status, v) = call(&f, "GET", &read, &f.keys["query"], &with_code, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["metadata"]["holder_code"], PERSON);

    // The company (another holder) cannot revoke the person's authorisation, through any
    // portal: answered as unknown, and the code still works.
    let revoke = |portal: &Portal, holder: (&str, &str)| {
        let assertion = portal.assert(holder);
        let (f, key, code) = (&f, portal.api_key.clone(), code.clone());
        async move {
            call(
                f,
                "DELETE",
                &format!("/api/v1/authorisations/{code}"),
                &key,
                &[("x-holder-assertion", &assertion)],
                None,
            )
            .await
        }
    };
    let (status, v) = revoke(&f.b, C).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    assert_eq!(last_entry(&f).await.result, "not_found");
    let (status, _) = revoke(&f.a, C).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) =
        call(&f, "DELETE", &format!("/api/v1/authorisations/{code}"), &f.b.api_key, &[], None).await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("holder_assertion_required"))
    );
    let (status, v) = call(&f, "GET", &read, &f.keys["query"], &with_code, None).await;
    assert_eq!(status, StatusCode::OK, "still valid after the refused revocations: {v}");

    // The person revokes it through the other portal (the holder owns it, not the portal).
    let (status, v) = revoke(&f.b, P).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let e = last_entry(&f).await;
    assert_eq!((e.action.as_str(), e.result.as_str()), ("revoke-authorisation", "ok"));
    assert_eq!(e.client_id.as_deref(), Some(f.b.id.as_str()));
    let (status, _) = call(&f, "GET", &read, &f.keys["query"], &with_code, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "revoked");
    let (status, _) = revoke(&f.b, P).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked already");

    // Validation after a good assertion still applies, and is logged.
    let (status, _) = grant(
        &f.a,
        C,
        json!({"holder_code_type": "001", "holder_code": COMPANY, "licence_ids": [f.teacher]}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not the holder's licence");
    assert_eq!(last_entry(&f).await.result, "not_found");
}

on_both_backends!(
    portals_list_the_asserted_holders_licences_and_log_the_assertion,
    bad_assertions_are_refused_with_precise_codes_and_logged,
    replays_are_refused_across_nodes,
    used_assertion_ids_are_pruned_after_expiry,
    department_clients_cannot_act_for_holders,
    authorisations_belong_to_the_asserted_holder,
);

/// Migration 0007 takes holder-proxy away from department clients of an existing
/// database: a client with only that scope is revoked, the others keep their other scopes.
#[tokio::test]
async fn the_migration_strips_holder_proxy_from_department_clients() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations-0006");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0007" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
    sqlx::query("INSERT INTO departments (code, name, area_code, created_at) VALUES ($1, '演示市教育局', '310115', 0)")
        .bind(RELYING)
        .execute(&pool)
        .await
        .unwrap();
    for (id, scopes) in [("cl_a", "holder-proxy"), ("cl_b", "check,holder-proxy,query"), ("cl_c", "query")] {
        sqlx::query(
            "INSERT INTO clients (id, department_code, name, scopes, type_codes, key_hash, created_at) \
             VALUES ($1, $2, $1, $3, '*', $1, 0)",
        )
        .bind(id)
        .bind(RELYING)
        .bind(scopes)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    let store = zhengzhao::store::SqlStore::connect(&url).await.unwrap();
    let clients = zhengzhao::store::ClientStore::clients(&store).await.unwrap();
    let got: Vec<(&str, Vec<String>, bool)> =
        clients.iter().map(|c| (c.id.as_str(), c.scopes.clone(), c.revoked_at.is_some())).collect();
    assert_eq!(
        got,
        vec![
            ("cl_a", vec![], true),
            ("cl_b", vec!["check".to_owned(), "query".to_owned()], false),
            ("cl_c", vec!["query".to_owned()], false),
        ]
    );
}

/// The fuzz seeds and regressions of `holder_assertion` fail fast against the fuzz target's
/// fixed keys; the seeds (made with Python's `cryptography`) get as far as the signature.
#[test]
fn holder_assertion_fuzz_files_are_refused_quickly() {
    use zhengzhao::holder_assertion::{AssertionError, verify};
    use zhengzhao::signing::SealVerifier;
    let ed = SealVerifier::from_spki_der(
        &hex::decode(
            "302a300506032b6570032100d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        )
        .unwrap(),
    )
    .unwrap();
    let p256 = SealVerifier::from_spki_der(
        &hex::decode(concat!(
            "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
        ))
        .unwrap(),
    )
    .unwrap();
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seeds = 0;
    for kind in ["seeds", "regressions"] {
        for entry in std::fs::read_dir(fuzz.join(kind).join("holder_assertion")).unwrap() {
            let path = entry.unwrap().path();
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            let start = std::time::Instant::now();
            let results = [
                verify(&text, "pt_fuzzport", &ed, 1_790_000_000),
                verify(&text, "pt_fuzzport", &p256, 1_790_000_000),
            ];
            assert!(start.elapsed() < std::time::Duration::from_secs(2), "{}", path.display());
            assert!(results.iter().all(Result::is_err), "{}", path.display());
            if kind == "seeds" {
                assert!(
                    results.contains(&Err(AssertionError::BadSignature)),
                    "{}: {results:?}",
                    path.display()
                );
                seeds += 1;
            }
        }
    }
    assert_eq!(seeds, 2);
}
