//! OFD licences over HTTP, end to end: issuing `"document": "ofd"` and `"both"` with their
//! links, every refusal of a misnamed OFD seal (nothing stored, no serial used), idempotent
//! retries that include the OFD seal, `GET /api/v1/licences/{id}/ofd` under the same access
//! rules as the PDF (and logged as `ofd`), verification of uploaded OFDs by every media type
//! and form field, hostile packages (10,000 files, a zip bomb, an external entity, garbage)
//! refused with their codes, the home page form, and the OpenAPI document.
// Test scenarios here read top to bottom as one story each; the 80-line bar is for src/.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::audit::AccessEntry;
use zhengzhao::codes::{LicenceId, TypeCode, Uscc};
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::DocumentKind;
use zhengzhao::ofd::{Package, ReadLimits};
use zhengzhao::pki::{Algorithm, RevocationReason};
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::{AuthorisationRecord, LicenceFilter};
use zhengzhao::verify::Verdict;

mod common;

const DEPT: &str = "11310115MB2C90510L";
const OTHER_DEPT: &str = "11310115MB2C90512T";
const FOOD: &str = "11100000000013338W002";
const COMPANY: &str = "91310115MA1H7ABC2D";
const HOLDER: &str = "上海浦江美食餐饮管理有限公司";
const PURPOSE: (&str, &str) = ("x-purpose", "办理食品经营许可延续，核验原证");
const MATTER: (&str, &str) = ("x-matter-code", "310115-SCJG-017");
const CONTENT: &str = "Doc_0/Pages/Page_0/Content.xml";

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    /// The demo department's seals: Ed25519, P-256 and SM2.
    ed: String,
    p256: String,
    sm2: String,
    /// A second active SM2 seal of the demo department.
    sm2_b: String,
    /// A revoked SM2 seal of the demo department.
    sm2_revoked: String,
    /// An SM2 and an Ed25519 seal of another department.
    other_sm2: String,
    other_ed: String,
    keys: HashMap<&'static str, String>,
    ids: HashMap<&'static str, String>,
}

async fn fixture() -> F {
    let dir = tempfile::tempdir().unwrap();
    // The rate limit is lifted: these tests verify a dozen uploads from one address.
    let layer = Layer {
        public_url: Some("https://zz.example.gov.cn".into()),
        rate_limit: Some(1_000_000),
        ..Layer::default()
    };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    let of = |alg: Algorithm| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    let (ed, p256, sm2) = (of(Algorithm::Ed25519), of(Algorithm::P256), of(Algorithm::Sm2));
    let sm2_b = p.pki.create_seal(DEPT, "证照专用章", Algorithm::Sm2, now).await.unwrap().id;
    let sm2_revoked = p.pki.create_seal(DEPT, "合同专用章", Algorithm::Sm2, now).await.unwrap().id;
    p.pki.revoke_seal(&sm2_revoked, RevocationReason::CessationOfOperation, now).await.unwrap();
    p.pki.add_department(OTHER_DEPT, "演示市教育局", "310115", &[], now).await.unwrap();
    let other_sm2 = p.pki.create_seal(OTHER_DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap().id;
    let other_ed = p.pki.create_seal(OTHER_DEPT, "行政审批专用章", Algorithm::Ed25519, now).await.unwrap().id;
    let clients: [(&str, &str, &[Scope], Vec<String>); 5] = [
        ("issuer", DEPT, &[Scope::Issue], vec![]),
        ("manager", DEPT, &[Scope::Manage], vec![]),
        ("duty", OTHER_DEPT, &[Scope::Query, Scope::Check], vec![FOOD.to_owned()]),
        ("other_issuer", OTHER_DEPT, &[Scope::Issue], vec![]),
        ("no_basis", OTHER_DEPT, &[Scope::Check], vec![]),
    ];
    let (mut keys, mut ids) = (HashMap::new(), HashMap::new());
    for (name, dept, scopes, types) in clients {
        let (record, key) = p.clients.add_client(dept, name, scopes, &types, now).await.unwrap();
        keys.insert(name, key.expose().to_owned());
        ids.insert(name, record.id);
    }
    // A holder portal, whose authorisations the register holds.
    let signer = ed25519_dalek::SigningKey::from_bytes(&[13u8; 32]);
    let spki = [hex::decode("302a300506032b6570032100").unwrap(), signer.verifying_key().to_bytes().to_vec()]
        .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        data_encoding::BASE64.encode(&spki)
    );
    let (portal, _) = p.clients.add_portal("随申办", &pem, now).await.unwrap();
    ids.insert("portal", portal.id);
    F { _dir: dir, p: Arc::new(p), ed, p256, sm2, sm2_b, sm2_revoked, other_sm2, other_ed, keys, ids }
}

/// One request as client `key` (a name in `f.keys`, or none); answers the status, the
/// headers and the raw body. An issuing request without an `Idempotency-Key` gets a fresh one.
async fn raw(
    f: &F,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {}", f.keys[key]));
    }
    for (k, v) in headers {
        req = req.header(*k, axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    if method == "POST" && uri == "/api/v1/licences" && !headers.iter().any(|(k, _)| *k == "idempotency-key")
    {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        req = req.header("idempotency-key", format!("ofd-http-{n}"));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    };
    send(f, req.unwrap()).await
}

async fn send(f: &F, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = common::app(f.p.clone()).oneshot(req).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// [`raw`], the body read as JSON.
async fn call(
    f: &F,
    method: &str,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = raw(f, method, uri, key, headers, body).await;
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, value)
}

/// An issuing body for the food business licence.
fn issue_body(seal: &str, document: &str, ofd_seal: Option<&str>) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/examples/food-business-licence.json");
    let licence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut body = json!({"seal_id": seal, "type_code": FOOD, "licence": licence, "document": document});
    if let Some(ofd_seal) = ofd_seal {
        body["ofd_seal_id"] = json!(ofd_seal);
    }
    body
}

/// Issues as the issuer client, expecting 201; answers the issuing body.
async fn issue(f: &F, seal: &str, document: &str, ofd_seal: Option<&str>) -> Value {
    let body = issue_body(seal, document, ofd_seal);
    let (status, headers, v) = call(f, "POST", "/api/v1/licences", Some("issuer"), &[], Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{document}: {v}");
    let id = v["identifier"].as_str().unwrap();
    assert_eq!(headers[header::LOCATION], format!("/api/v1/licences/{id}").as_str());
    v
}

async fn licence_count(f: &F) -> usize {
    f.p.store.licences(&LicenceFilter { limit: 100, ..Default::default() }).await.unwrap().len()
}

async fn verify_ofd(f: &F, ofd: Vec<u8>) -> zhengzhao::verify::Report {
    f.p.verification.verify_ofd(ofd, OffsetDateTime::now_utc()).await.unwrap()
}

/// What a report says, one line per check, for failure messages.
fn lines(report: &Value) -> String {
    report["checks"]
        .as_array()
        .map(|c| c.iter().map(|c| format!("{} {}: {}\n", c["code"], c["outcome"], c["message_en"])).collect())
        .unwrap_or_else(|| report.to_string())
}

#[tokio::test]
async fn ofd_and_both_issue_with_their_links_and_documents() {
    let f = fixture().await;
    // An OFD alone, signed by the SM2 seal.
    let v = issue(&f, &f.sm2, "ofd", None).await;
    let id = v["identifier"].as_str().unwrap();
    assert_eq!(v["document"], "ofd", "{v}");
    assert_eq!(v["pdf"], Value::Null, "{v}");
    assert_eq!(v["ofd"], format!("/api/v1/licences/{id}/ofd").as_str(), "{v}");
    let (status, headers, ofd) = raw(&f, "GET", v["ofd"].as_str().unwrap(), Some("issuer"), &[], None).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "application/ofd")
    );
    assert!(ofd.starts_with(b"PK\x03\x04"));
    let report = verify_ofd(&f, ofd.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    assert_eq!(report.licence.as_ref().unwrap().identifier, id);
    assert_eq!(report.seal.as_ref().unwrap().id, f.sm2);
    let row = f.p.store.licence(id).await.unwrap().unwrap();
    assert_eq!(
        (row.licence.document.kind(), row.licence.seal_id.as_str()),
        (DocumentKind::Ofd, f.sm2.as_str())
    );
    assert_eq!(row.licence.document.ofd(), Some(&ofd[..]), "the bytes served are the bytes stored");
    assert_eq!(v["token"].as_str().unwrap(), zhengzhao::token::encode_for_url(&row.licence.token));
    // Its PDF is a clear 404.
    let (status, _, e) =
        call(&f, "GET", &format!("/api/v1/licences/{id}/pdf"), Some("issuer"), &[], None).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("no_document")), "{e}");

    // Both: the PDF by the Ed25519 seal, the OFD by the SM2 seal, one record.
    let v = issue(&f, &f.ed, "both", Some(&f.sm2)).await;
    let id = v["identifier"].as_str().unwrap();
    assert_eq!(v["document"], "both", "{v}");
    assert_eq!(v["pdf"], format!("/api/v1/licences/{id}/pdf").as_str(), "{v}");
    assert_eq!(v["ofd"], format!("/api/v1/licences/{id}/ofd").as_str(), "{v}");
    let (status, headers, pdf) = raw(&f, "GET", v["pdf"].as_str().unwrap(), Some("issuer"), &[], None).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "application/pdf")
    );
    let (status, headers, ofd) = raw(&f, "GET", v["ofd"].as_str().unwrap(), Some("issuer"), &[], None).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "application/ofd")
    );
    let now = OffsetDateTime::now_utc();
    let pdf_report = f.p.verification.verify_pdf(pdf, now).await.unwrap();
    let ofd_report = verify_ofd(&f, ofd).await;
    assert_eq!((pdf_report.verdict, ofd_report.verdict), (Verdict::Valid, Verdict::Valid), "{ofd_report:#?}");
    assert_eq!(pdf_report.licence, ofd_report.licence, "one record");
    assert_eq!(pdf_report.licence.as_ref().unwrap().identifier, id);
    assert_eq!(
        (pdf_report.seal.unwrap().id, ofd_report.seal.unwrap().id),
        (f.ed.clone(), f.sm2.clone()),
        "each format names its own seal"
    );
    let row = f.p.store.licence(id).await.unwrap().unwrap();
    assert_eq!(row.licence.ofd_seal_id.as_deref(), Some(f.sm2.as_str()));

    // The licence view links what it has.
    for (document, id) in [("ofd", issue(&f, &f.sm2, "ofd", None).await), ("both", v.clone())] {
        let id = id["identifier"].as_str().unwrap().to_owned();
        let uri = format!("/api/v1/licences/{id}");
        let (status, _, view) = call(&f, "GET", &uri, Some("duty"), &[PURPOSE, MATTER], None).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["document"], document);
        let links = view["links"].as_object().unwrap();
        assert_eq!(links.get("ofd").and_then(Value::as_str), Some(format!("{uri}/ofd").as_str()), "{view}");
        let pdf = links.get("pdf").and_then(Value::as_str);
        assert_eq!(pdf, (document == "both").then(|| format!("{uri}/pdf")).as_deref(), "{document}: {view}");
    }
}

/// A refused issuing request: its status, code and a word its message must contain.
type Refusal<'a> = (&'a str, Value, StatusCode, &'a str, &'a str);

#[tokio::test]
async fn a_misnamed_ofd_seal_is_refused_before_anything_is_stored() {
    let f = fixture().await;
    let cases: Vec<Refusal> = vec![
        (
            "an OFD of an Ed25519 seal",
            issue_body(&f.ed, "ofd", None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_unsupported_for_seal",
            "cannot sign OFD documents",
        ),
        (
            "an OFD of a P-256 seal",
            issue_body(&f.p256, "ofd", None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_unsupported_for_seal",
            "cannot sign OFD documents",
        ),
        (
            "both without ofd_seal_id",
            issue_body(&f.ed, "both", None),
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "ofd_seal_id",
        ),
        (
            "both with a P-256 OFD seal",
            issue_body(&f.ed, "both", Some(&f.p256)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_unsupported_for_seal",
            "cannot sign OFD documents",
        ),
        (
            "both with the SM2 seal for the PDF",
            issue_body(&f.sm2, "both", Some(&f.sm2_b)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_unsupported_for_seal",
            "cannot sign PDF documents",
        ),
        (
            "ofd_seal_id with a PDF",
            issue_body(&f.ed, "pdf", Some(&f.sm2)),
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "ofd_seal_id is only for \"document\": \"both\"",
        ),
        (
            "ofd_seal_id with an OFD",
            issue_body(&f.sm2, "ofd", Some(&f.sm2_b)),
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "ofd_seal_id is only for \"document\": \"both\"",
        ),
        (
            "ofd_seal_id with a data-only licence",
            issue_body(&f.ed, "none", Some(&f.sm2)),
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "ofd_seal_id",
        ),
        // A client names its own department's seals, or seals delegated to it: another
        // department's OFD seal without a delegation is refused as another department's
        // `seal_id` is (the operator, who has no client, gets 400 `invalid_input` from the
        // seals' mismatch: tests/ofd_cli.rs).
        (
            "an OFD seal of another department",
            issue_body(&f.ed, "both", Some(&f.other_sm2)),
            StatusCode::FORBIDDEN,
            "no_delegation",
            "no active delegation",
        ),
        (
            "a revoked OFD seal",
            issue_body(&f.ed, "both", Some(&f.sm2_revoked)),
            StatusCode::CONFLICT,
            "conflict",
            "is revoked",
        ),
        (
            "an unknown OFD seal",
            issue_body(&f.ed, "both", Some("31011599999999")),
            StatusCode::NOT_FOUND,
            "not_found",
            "31011599999999",
        ),
    ];
    for (what, body, status, code, words) in cases {
        let (got, _, e) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &[], Some(body)).await;
        assert_eq!((got, e["code"].as_str()), (status, Some(code)), "{what}: {e}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(words), "{what}: {message}");
    }
    // Another department's client with its own Ed25519 seal and the demo department's SM2
    // seal: refused too.
    let body = issue_body(&f.other_ed, "both", Some(&f.sm2));
    let (status, _, e) = call(&f, "POST", "/api/v1/licences", Some("other_issuer"), &[], Some(body)).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::FORBIDDEN, Some("no_delegation")), "{e}");

    // Nothing stored, no serial used: the next licence of the type is the first.
    assert_eq!(licence_count(&f).await, 0, "nothing stored");
    let v = issue(&f, &f.ed, "both", Some(&f.sm2)).await;
    let id = LicenceId::parse(v["identifier"].as_str().unwrap()).unwrap();
    assert!(id.serial().ends_with("0000001"), "{id}");
}

#[tokio::test]
async fn an_idempotent_retry_includes_the_ofd_seal() {
    let f = fixture().await;
    let key = [("idempotency-key", "order-2026-both")];
    let both = |ofd_seal: &str| Some(issue_body(&f.ed, "both", Some(ofd_seal)));
    let (status, _, first) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, both(&f.sm2)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, headers, again) =
        call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, both(&f.sm2)).await;
    assert_eq!((status, headers["idempotent-replayed"].to_str().unwrap()), (StatusCode::OK, "true"));
    assert_eq!(again, first, "the same answer, with both links");
    assert!(again["pdf"].is_string() && again["ofd"].is_string(), "{again}");
    // The same key with another OFD seal (active, SM2, the department's) is another request.
    let (status, _, e) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, both(&f.sm2_b)).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{e}");
    // …and so is an OFD alone, or a PDF alone, under the same key.
    for body in [issue_body(&f.sm2, "ofd", None), issue_body(&f.ed, "pdf", None)] {
        let (status, _, e) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, Some(body)).await;
        assert_eq!((status, e["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{e}");
    }
    assert_eq!(licence_count(&f).await, 1);
    // An OFD licence replays as itself.
    let key = [("idempotency-key", "order-2026-ofd")];
    let ofd = || Some(issue_body(&f.sm2, "ofd", None));
    let (status, _, first) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, ofd()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, _, again) = call(&f, "POST", "/api/v1/licences", Some("issuer"), &key, ofd()).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(licence_count(&f).await, 2);
}

/// The number of entries in the access log (the chain is checked on the way).
async fn log_len(f: &F) -> u64 {
    f.p.audit.audit_verify().await.unwrap().unwrap()
}

/// The entries after `after`, as (client, action, licence, basis, result).
async fn logged_since(f: &F, after: u64) -> Vec<(String, String, String, String, String)> {
    let entries: Vec<AccessEntry> =
        f.p.store.access_log(after, 1000).await.unwrap().into_iter().map(|r| r.entry).collect();
    entries
        .into_iter()
        .map(|e| {
            (
                e.client_id.unwrap_or_default(),
                e.action,
                e.licence_id.unwrap_or_default(),
                e.basis.unwrap_or_default(),
                e.result,
            )
        })
        .collect()
}

/// A holder authorisation of COMPANY for `licence` to the other department, with `uses`.
async fn authorisation(f: &F, licence: &str, uses: u32) -> String {
    let code = format!("OFDTESTCODE{uses:05}");
    let now = OffsetDateTime::now_utc();
    let record = AuthorisationRecord {
        code_hash: hex::encode(Sha256::digest(code.as_bytes())),
        holder_code_type: "001".to_owned(),
        holder_code: COMPANY.to_owned(),
        licence_ids: vec![licence.to_owned()],
        relying_department: Some(OTHER_DEPT.to_owned()),
        created_by: f.ids["portal"].clone(),
        created_at: now,
        expires_at: now + time::Duration::minutes(10),
        uses_left: uses,
        revoked_at: None,
    };
    f.p.store.insert_authorisation(&record).await.unwrap();
    code
}

#[tokio::test]
async fn the_signed_ofd_goes_only_to_the_issuer_and_holder_authorised_readers() {
    let f = fixture().await;
    let v = issue(&f, &f.ed, "both", Some(&f.sm2)).await;
    let id = v["identifier"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/licences/{id}/ofd");
    let stored = f.p.store.licence(&id).await.unwrap().unwrap().licence.document.ofd().unwrap().to_vec();
    let client = |name: &str| f.ids[name].clone();
    let entry = |c: &str, basis: &str, result: &str| {
        (client(c), "ofd".to_owned(), id.clone(), basis.to_owned(), result.to_owned())
    };

    // The issuer's clients get it without a purpose; it verifies valid.
    for name in ["issuer", "manager"] {
        let before = log_len(&f).await;
        let (status, headers, body) = raw(&f, "GET", &uri, Some(name), &[], None).await;
        assert_eq!(
            (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
            (StatusCode::OK, "application/ofd"),
            "{name}"
        );
        assert_eq!(body, stored, "{name}");
        assert_eq!(logged_since(&f, before).await, [entry(name, "issuer", "ok")], "{name}");
        assert_eq!(verify_ofd(&f, body).await.verdict, Verdict::Valid);
    }

    // A duty basis reads the JSON but not the original.
    let before = log_len(&f).await;
    let (status, _, e) = call(&f, "GET", &uri, Some("duty"), &[PURPOSE, MATTER], None).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("original_requires_holder_authorisation")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("X-Authorisation-Code"), "{e}");
    // Logged with the licence asked for and no basis, as for the PDF.
    assert_eq!(logged_since(&f, before).await, [entry("duty", "", "original_requires_holder_authorisation")]);
    let (status, _, view) =
        call(&f, "GET", &format!("/api/v1/licences/{id}"), Some("duty"), &[PURPOSE, MATTER], None).await;
    assert_eq!(status, StatusCode::OK, "{view}");

    // A reader with the holder's authorisation gets it, once per use.
    let code = authorisation(&f, &id, 1).await;
    let auth = [PURPOSE, ("x-authorisation-code", code.as_str())];
    let before = log_len(&f).await;
    let (status, headers, body) = raw(&f, "GET", &uri, Some("duty"), &auth, None).await;
    assert_eq!(
        (status, headers[header::CONTENT_TYPE].to_str().unwrap()),
        (StatusCode::OK, "application/ofd")
    );
    assert_eq!(body, stored);
    let (status, _, used) = call(&f, "GET", &uri, Some("duty"), &auth, None).await;
    assert_eq!((status, used["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{used}");
    let logged = logged_since(&f, before).await;
    assert_eq!(logged[0], entry("duty", "holder-authorisation", "ok"));
    assert_eq!((logged[1].1.as_str(), logged[1].4.as_str()), ("ofd", "forbidden"));

    // Without a basis: the same refusal whether or not the licence exists.
    let unknown =
        LicenceId::new(&TypeCode::parse(FOOD).unwrap(), &Uscc::parse(DEPT).unwrap(), "20269999999", 1)
            .unwrap();
    let unknown_uri = format!("/api/v1/licences/{}/ofd", unknown.as_str());
    for (name, headers) in [("no_basis", vec![PURPOSE]), ("duty", vec![PURPOSE, MATTER])] {
        let a = raw(&f, "GET", &uri, Some(name), &headers, None).await;
        let b = raw(&f, "GET", &unknown_uri, Some(name), &headers, None).await;
        assert_eq!(a.0, StatusCode::FORBIDDEN, "{name}");
        assert_eq!((a.0, a.2), (b.0, b.2), "{name}: the refusal tells nothing about existence");
    }
    // The issuer is told the truth: no such licence, or a licence without an OFD.
    let (status, _, e) = call(&f, "GET", &unknown_uri, Some("issuer"), &[], None).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{e}");
    for document in ["pdf", "none"] {
        let v = issue(&f, &f.ed, document, None).await;
        let id = v["identifier"].as_str().unwrap().to_owned();
        assert_eq!(v["ofd"], Value::Null, "{v}");
        let before = log_len(&f).await;
        let (status, headers, e) =
            call(&f, "GET", &format!("/api/v1/licences/{id}/ofd"), Some("issuer"), &[], None).await;
        assert_eq!((status, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("no_document")), "{e}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
        assert!(e["message"].as_str().unwrap().contains(&id), "{e}");
        let logged = logged_since(&f, before).await;
        assert_eq!(
            logged,
            [(client("issuer"), "ofd".to_owned(), id.clone(), "issuer".to_owned(), "no_document".to_owned())]
        );
    }
}

/// A multipart body with one file field.
fn multipart(field: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "zzOfdBoundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `POST path` with `content_type` and `body`.
async fn post(f: &F, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let req = Request::post(path).header(header::CONTENT_TYPE, content_type).body(Body::from(body)).unwrap();
    send(f, req).await
}

/// The bytes of a licence OFD issued by the SM2 seal over HTTP.
async fn licence_ofd(f: &F) -> Vec<u8> {
    let v = issue(f, &f.sm2, "ofd", None).await;
    let id = v["identifier"].as_str().unwrap();
    f.p.store.licence(id).await.unwrap().unwrap().licence.document.ofd().unwrap().to_vec()
}

#[tokio::test]
async fn uploaded_ofds_verify_by_every_media_type_and_field() {
    let f = fixture().await;
    let ofd = licence_ofd(&f).await;
    let mut uploads = vec![
        ("application/ofd".to_owned(), ofd.clone()),
        ("application/octet-stream".to_owned(), ofd.clone()),
    ];
    for field in ["ofd", "file", "pdf"] {
        uploads.push(multipart(field, "licence.ofd", &ofd));
    }
    for (content_type, body) in uploads {
        let (status, _, bytes) = post(&f, "/api/v1/verify", &content_type, body).await;
        let report: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(status, StatusCode::OK, "{content_type}: {report}");
        assert_eq!(
            (report["subject"].as_str(), report["verdict"].as_str(), report["mode"].as_str()),
            (Some("ofd"), Some("valid"), Some("online")),
            "{content_type}: {}",
            lines(&report)
        );
        let codes: Vec<&str> =
            report["checks"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        for code in ["ofd.references", "ofd.coverage", "ofd.data_hash", "ofd.signature", "licence.status"] {
            assert!(codes.contains(&code), "{content_type}: no {code} in {codes:?}");
        }
        assert_eq!(report["licence"]["holder_name"], HOLDER, "{report}");
    }
    // A PDF sent as application/ofd is read as an OFD, and is no OFD.
    let v = issue(&f, &f.ed, "pdf", None).await;
    let pdf = f.p.store.licence(v["identifier"].as_str().unwrap()).await.unwrap().unwrap();
    let (status, _, bytes) =
        post(&f, "/api/v1/verify", "application/ofd", pdf.licence.document.pdf().unwrap().to_vec()).await;
    let e: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input")),
        "{e}"
    );
}

/// A package of `files`, zipped by the platform's own writer.
fn package_of(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Vec<u8> {
    let mut p = Package::new();
    for (name, bytes) in files {
        p.insert(name, bytes).unwrap();
    }
    p.to_zip().unwrap()
}

/// Posts `body` as application/ofd within 10 s; answers the status and the body as text.
async fn post_ofd(f: &F, body: Vec<u8>) -> (StatusCode, String) {
    let started = Instant::now();
    let (status, _, bytes) = post(f, "/api/v1/verify", "application/ofd", body).await;
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    (status, String::from_utf8(bytes).unwrap())
}

#[tokio::test]
async fn hostile_ofd_uploads_are_refused_with_their_codes() {
    let f = fixture().await;
    let ofd = licence_ofd(&f).await;
    let too_complex = "The OFD package is beyond the limits";

    // 10,000 tiny files.
    let many = package_of((0..10_000).map(|i| (format!("Doc_0/Res/f{i}.xml"), b"<a/>".to_vec())));
    // A zip bomb: one entry of 64 MiB of zeros in a zip of some 64 KiB.
    let bomb = package_of([("OFD.xml".to_owned(), vec![0u8; 64 << 20])]);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    for (what, body) in [("10,000 files", many), ("a zip bomb", bomb)] {
        let (status, text) = post_ofd(&f, body).await;
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("ofd_too_complex")),
            "{what}: {e}"
        );
        assert!(e["message"].as_str().unwrap().contains(too_complex), "{what}: {e}");
    }

    // The licence with an external entity in OFD.xml that names /etc/passwd: refused as
    // unreadable, and nothing of the file appears anywhere in the answer.
    let mut package = Package::from_zip(&ofd, &ReadLimits::default()).unwrap();
    let xml = String::from_utf8(package.get("OFD.xml").unwrap().to_vec()).unwrap();
    let body_at = xml.find("<ofd:OFD").unwrap();
    let xxe = format!(
        "{}<!DOCTYPE ofd:OFD [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n{}",
        &xml[..body_at],
        xml[body_at..].replacen("<ofd:DocID>", "<ofd:DocID>&xxe;", 1)
    );
    assert!(xxe.contains("&xxe;") && xxe.contains("SYSTEM"), "{xxe}");
    package.replace("OFD.xml", xxe.into_bytes());
    let hostile = package.to_zip().unwrap();
    let (status, text) = post_ofd(&f, hostile.clone()).await;
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input")),
        "{e}"
    );
    assert!(!text.contains("root:") && !text.contains("/bin/"), "{text}");
    // The report the engine makes says no more: the one failed check, without the file.
    let report = verify_ofd(&f, hostile).await;
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("root:"), "{json}");
    assert_eq!(report.checks.len(), 1, "{json}");

    // Garbage, empty, and a PDF header.
    for (what, body) in [
        ("garbage", b"GIF89a\x00\x01 not an ofd at all".to_vec()),
        ("a truncated licence", ofd[..ofd.len() / 2].to_vec()),
        ("a PDF header", b"%PDF-1.7\n%%EOF\n".to_vec()),
        ("empty", vec![]),
    ] {
        let (status, text) = post_ofd(&f, body).await;
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input")),
            "{what}: {e}"
        );
    }
    let (_, text) = post_ofd(&f, b"GIF89a".to_vec()).await;
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        e["message"],
        "无法读取：这不是 OFD 文件，或文件已损坏。 Not readable: this is not an OFD file, or the file is damaged."
    );
    // And the service still answers.
    let (status, _, _) = send(&f, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_home_page_form_verifies_an_ofd() {
    let f = fixture().await;
    let ofd = licence_ofd(&f).await;
    for field in ["pdf", "ofd", "file"] {
        let (content_type, body) = multipart(field, "licence.ofd", &ofd);
        let (status, headers, html) = post(&f, "/verify", &content_type, body).await;
        let html = String::from_utf8(html).unwrap();
        assert_eq!(status, StatusCode::OK, "{field}: {html}");
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(html.starts_with("<!doctype html>"), "{field}");
        assert!(html.contains("data-verdict=\"valid\""), "{field}: {html}");
        assert!(html.contains("有效") && html.contains(HOLDER), "{field}");
        assert!(html.contains("OFD"), "{field}: the page names what it verified");
    }
    // A tampered OFD: the page says invalid and names the check.
    let mut package = Package::from_zip(&ofd, &ReadLimits::default()).unwrap();
    let mut content = package.get(CONTENT).unwrap().to_vec();
    let at = content.len() / 2;
    content[at] ^= 0x01;
    package.replace(CONTENT, content);
    let (content_type, body) = multipart("pdf", "licence.ofd", &package.to_zip().unwrap());
    let (status, _, html) = post(&f, "/verify", &content_type, body).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-verdict=\"invalid\"") && html.contains("ofd.references"), "{html}");
    // Beyond the limits: an HTML page saying so, not a crash.
    let many = package_of((0..10_000).map(|i| (format!("Doc_0/Res/f{i}.xml"), b"<a/>".to_vec())));
    let (content_type, body) = multipart("pdf", "many.ofd", &many);
    let (status, headers, html) = post(&f, "/verify", &content_type, body).await;
    let html = String::from_utf8(html).unwrap();
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{status}");
    assert!(status.is_client_error(), "{status}: {html}");
    assert!(html.contains("data-verdict=\"invalid\"") && html.contains("OFD"), "{html}");
}

#[tokio::test]
async fn the_openapi_document_describes_the_ofd() {
    let f = fixture().await;
    let (status, _, doc) = call(&f, "GET", "/api/openapi.json", None, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let get = &doc["paths"]["/api/v1/licences/{id}/ofd"]["get"];
    assert!(get.is_object(), "no GET /api/v1/licences/{{id}}/ofd");
    assert!(get["responses"]["200"]["content"]["application/ofd"].is_object(), "{get}");
    for status in ["403", "404"] {
        assert!(get["responses"][status].is_object(), "{status}: {get}");
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["IssueBody"]["properties"]["ofd_seal_id"].is_object(), "{}", schemas["IssueBody"]);
    assert!(schemas["IssuedBody"]["properties"]["ofd"].is_object(), "{}", schemas["IssuedBody"]);
    let required = |schema: &str| schemas[schema]["required"].as_array().cloned().unwrap_or_default();
    assert!(!required("IssueBody").contains(&json!("ofd_seal_id")));
    let verify = &doc["paths"]["/api/v1/verify"]["post"]["requestBody"]["content"];
    assert!(verify["application/ofd"].is_object(), "{verify}");
    let text = doc["paths"]["/api/v1/verify"]["post"]["responses"]["422"].to_string();
    assert!(text.contains("ofd_too_complex"), "{text}");
}
