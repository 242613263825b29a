//! Personal data on public surfaces: every shipped licence type is issued from its example,
//! everything the public surfaces disclose about it is collected (the page `/v/{token}`,
//! `POST /api/v1/verify` by token and by identifier, the QR token's claims), and the test
//! asserts that no combination of it rebuilds a 公民身份号码. Holder codes are checked in
//! their exact public form on every surface that shows one: those three, register reads and
//! listings on a duty basis, the holder views and the holder's access log — each against
//! the whole response, not one field.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;
use common::app;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::{Catalogue, LicenceInput};
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform, Scope};

const ISSUER: &str = "11310115MB2C90510L";
const RELYING: &str = "11310115MB2C90512T";
const PURPOSE: (&str, &str) = ("x-purpose", "核验证照");

/// One issued licence of a shipped type, with the holder as its example input gives it.
struct Issued {
    type_code: String,
    holder_code: String,
    holder_code_type: String,
    matter: String,
    licence: IssuedLicence,
}

struct F {
    _dir: tempfile::TempDir,
    p: Arc<Platform>,
    issued: Vec<Issued>,
    query_key: String,
    portal_key: String,
    portal_id: String,
    portal_signing_key: ed25519_dalek::SigningKey,
}

async fn fixture() -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    p.pki.add_department(RELYING, "演示市教育局", "310115", &[], now).await.unwrap();
    let catalogue = Catalogue::shipped().unwrap();
    let all_types: Vec<String> = catalogue.iter().map(|t| t.code.as_str().to_owned()).collect();
    let (_, query) = p.clients.add_client(RELYING, "query", &[Scope::Query], &all_types, now).await.unwrap();
    // A holder portal registered by the operator, with an Ed25519 key of its own.
    let portal_signing_key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let spki = [
        hex::decode("302a300506032b6570032100").unwrap(),
        portal_signing_key.verifying_key().to_bytes().to_vec(),
    ]
    .concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        data_encoding::BASE64.encode(&spki)
    );
    let (portal_record, portal) = p.clients.add_portal("随申办", &pem, now).await.unwrap();
    let mut issued = Vec::new();
    for t in catalogue.iter() {
        let path = format!("{}/templates/examples/{}", env!("CARGO_MANIFEST_DIR"), t.example);
        let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let input: LicenceInput = serde_json::from_value(raw.clone()).unwrap();
        let request = IssueRequest {
            seal_id: seals[0].id.clone(),
            ofd_seal_id: None,
            type_code: t.code.as_str().to_owned(),
            input,
            document: zhengzhao::licence::DocumentKind::Pdf,
            client: None,
            idempotency_key: None,
            renews: None,
        };
        let licence = p.issuing.issue(request, now).await.unwrap();
        issued.push(Issued {
            type_code: t.code.as_str().to_owned(),
            holder_code: raw["holder"]["code"].as_str().unwrap().to_owned(),
            holder_code_type: raw["holder"]["code_type"].as_str().unwrap().to_owned(),
            matter: raw["matter"]["code"].as_str().unwrap().to_owned(),
            licence,
        });
    }
    assert!(issued.iter().any(|i| i.holder_code_type == "111"), "a shipped type is held by persons");
    assert!(issued.iter().any(|i| i.holder_code_type == "001"), "a shipped type is held by organisations");
    F {
        _dir: dir,
        p: Arc::new(p),
        issued,
        query_key: query.expose().to_owned(),
        portal_key: portal.expose().to_owned(),
        portal_id: portal_record.id,
        portal_signing_key,
    }
}

/// A fresh holder assertion of the fixture's portal for `i`'s holder.
fn assertion(f: &F, i: &Issued) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"iss": f.portal_id, "holder_code_type": i.holder_code_type, "holder_code": i.holder_code,
        "acr": "L3-face", "iat": now, "exp": now + 120,
        "jti": format!("public-data-{now}-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed))});
    let b64 = |v: &Value| data_encoding::BASE64URL_NOPAD.encode(v.to_string().as_bytes());
    let input = format!("{}.{}", b64(&json!({"alg": "EdDSA", "typ": "holder-assertion+jwt"})), b64(&claims));
    let signature = ed25519_dalek::Signer::sign(&f.portal_signing_key, input.as_bytes()).to_bytes();
    format!("{input}.{}", data_encoding::BASE64URL_NOPAD.encode(&signature))
}

/// The response body as text, after asserting status 200.
async fn get_text(f: &F, req: Request<Body>) -> String {
    let uri = req.uri().to_string();
    let response = app(f.p.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(bytes.to_vec()).unwrap();
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

async fn authed(f: &F, key: &str, uri: &str, headers: &[(&str, &str)]) -> Value {
    let mut req = Request::get(uri).header(header::AUTHORIZATION, format!("Bearer {key}"));
    for (k, v) in headers {
        req = req.header(*k, axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    serde_json::from_str(&get_text(f, req.body(Body::empty()).unwrap()).await).unwrap()
}

async fn verify_json(f: &F, body: Value) -> String {
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    get_text(f, req).await
}

/// What the public surfaces disclose about `i`: (surface name, whole response text), plus
/// the JSON reports so their holder code can be compared exactly.
async fn public_surfaces(f: &F, i: &Issued) -> (Vec<(&'static str, String)>, Vec<Value>) {
    let token = i.licence.url.rsplit('/').next().unwrap().to_owned();
    let page = get_text(f, Request::get(format!("/v/{token}")).body(Body::empty()).unwrap()).await;
    let by_token = verify_json(f, json!({ "token": token })).await;
    let by_id = verify_json(f, json!({ "identifier": i.licence.identifier })).await;
    let claims = zhengzhao::token::parse(&i.licence.token).unwrap().claims;
    let token_text = format!("{claims:?}");
    let reports: Vec<Value> =
        vec![serde_json::from_str(&by_token).unwrap(), serde_json::from_str(&by_id).unwrap()];
    for r in &reports {
        assert_eq!(r["verdict"], "valid", "{r}");
    }
    assert_eq!(claims.holder_code_masked, expected_public_code(i), "the token's holder code");
    (
        vec![
            ("/v/ page", page),
            ("verify by token", by_token),
            ("verify by identifier", by_id),
            ("token", token_text),
        ],
        reports,
    )
}

/// The exact public form of the holder code: a 统一社会信用代码 in full, a 公民身份号码 as
/// its first 3 and last 4 characters with 11 `*` between.
fn expected_public_code(i: &Issued) -> String {
    match i.holder_code_type.as_str() {
        "001" => i.holder_code.clone(),
        _ => format!("{}{}{}", &i.holder_code[..3], "*".repeat(11), &i.holder_code[14..]),
    }
}

/// Asserts that `text` (a whole response) shows the holder code of `i` only in its exact
/// public form: that form appears, the full 公民身份号码 does not, and no other masking of
/// it (a `913***…` USCC, a different number of stars) appears either.
fn assert_holder_code_form(surface: &str, text: &str, i: &Issued) {
    let public = expected_public_code(i);
    assert!(text.contains(&public), "{surface} of {} lacks the holder code {public}:\n{text}", i.type_code);
    let (head, tail) = (&i.holder_code[..3], &i.holder_code[i.holder_code.len() - 4..]);
    // Every 18-character window that starts and ends like the holder code is the public form.
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(18) {
        let s: String = w.iter().collect();
        if s.starts_with(head) && s.ends_with(tail) {
            assert_eq!(s, public, "{surface} of {} shows the holder code as {s}", i.type_code);
        }
    }
    let starred = format!("{head}***");
    if i.holder_code_type == "001" {
        assert!(!text.contains(&starred), "{surface} masks the public USCC of {}:\n{text}", i.type_code);
    } else {
        assert!(!text.contains(&i.holder_code), "{surface} shows the full 公民身份号码:\n{text}");
    }
}

/// Every way the birth date of a 公民身份号码 could be written.
fn birth_date_forms(id: &str) -> Vec<String> {
    let (y, m, d) = (&id[6..10], &id[10..12], &id[12..14]);
    let (mu, du) = (m.trim_start_matches('0'), d.trim_start_matches('0'));
    vec![
        format!("{y}{m}{d}"),
        format!("{y}-{m}-{d}"),
        format!("{y}/{m}/{d}"),
        format!("{y}.{m}.{d}"),
        format!("{y}年{m}月{d}日"),
        format!("{y}年{mu}月{du}日"),
        format!("{y}-{mu}-{du}"),
    ]
}

/// GB 11643 check character of the first 17 digits.
fn check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

#[tokio::test]
async fn public_surfaces_never_rebuild_an_identity_number() {
    let f = fixture().await;
    for i in &f.issued {
        let (surfaces, reports) = public_surfaces(&f, i).await;
        for (surface, text) in &surfaces {
            assert_holder_code_form(surface, text, i);
        }
        for r in &reports {
            assert_eq!(r["licence"]["holder_code_masked"], expected_public_code(i).as_str(), "{r}");
        }
        if i.holder_code_type != "111" {
            continue;
        }
        let id = &i.holder_code;
        let all: String = surfaces.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join("\n");
        // The masked characters do not appear, nor the birth date or the sex that fill them.
        assert!(!all.contains(&id[3..14]), "the masked digits {} are disclosed", &id[3..14]);
        for form in birth_date_forms(id) {
            assert!(!all.contains(&form), "the birth date is disclosed as {form}");
        }
        for label in ["出生日期", "性别", "birth", "Sex"] {
            assert!(!all.contains(label), "a public surface shows {label}");
        }
        // With the worst case assumed — the holder's area is the issuer's (its public
        // 统一社会信用代码 carries that area) — every birth date from 1900 until 16 years ago
        // (the holders are adults; recent dates such as the issue date and the check time are
        // on the page for their own sake) whose check character matches the shown one is
        // still a candidate, and none of those birth dates is disclosed: the number cannot
        // be derived.
        let area = &ISSUER[2..8];
        assert_eq!(&area[..3], &id[..3], "the test's worst case: the area's shown digits match");
        let (seq, check) = (&id[14..17], id.chars().last().unwrap());
        let mut candidates = Vec::new();
        let mut day = Date::from_calendar_date(1900, time::Month::January, 1).unwrap();
        let last =
            Date::from_calendar_date(OffsetDateTime::now_utc().year() - 16, time::Month::January, 1).unwrap();
        while day < last {
            let first17 = format!("{area}{:04}{:02}{:02}{seq}", day.year(), u8::from(day.month()), day.day());
            if check_char(&first17) == check {
                candidates.push(format!("{first17}{check}"));
            }
            day = day.next_day().unwrap();
        }
        assert!(candidates.contains(id), "the real number is among the candidates");
        assert!(candidates.len() >= 1000, "only {} candidates remain", candidates.len());
        let told: Vec<&String> =
            candidates.iter().filter(|c| birth_date_forms(c).iter().any(|form| all.contains(form))).collect();
        assert!(told.is_empty(), "the public surfaces single out {told:?}");
    }
}

#[tokio::test]
async fn register_reads_listings_holder_views_and_access_log_show_the_exact_public_form() {
    let f = fixture().await;
    for i in &f.issued {
        let headers = [PURPOSE, ("x-matter-code", i.matter.as_str())];
        let read =
            authed(&f, &f.query_key, &format!("/api/v1/licences/{}", i.licence.identifier), &headers).await;
        assert_eq!(read["metadata"]["holder_code"], expected_public_code(i).as_str(), "{read}");
        assert_holder_code_form("duty read", &read.to_string(), i);

        let list = format!(
            "/api/v1/licences?holder_code={}&holder_code_type={}&type_code={}",
            i.holder_code, i.holder_code_type, i.type_code
        );
        let listing = authed(&f, &f.query_key, &list, &headers).await;
        let items = listing["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{listing}");
        assert_eq!(items[0]["metadata"]["holder_code"], expected_public_code(i).as_str(), "{listing}");
        assert_holder_code_form("listing", &listing.to_string(), i);

        // The holder views show the asserted holder's own code in full: the holder is the one
        // authenticated (by the portal's signed assertion), and only their own data is listed.
        let holder = format!("/api/v1/holders/{}/licences?code_type={}", i.holder_code, i.holder_code_type);
        let a = assertion(&f, i);
        let view = authed(&f, &f.portal_key, &holder, &[("x-holder-assertion", a.as_str())]).await;
        let items = view["items"].as_array().unwrap();
        assert!(items.iter().any(|it| it["identifier"] == i.licence.identifier.as_str()), "{view}");
        for it in items {
            assert_eq!(it["metadata"]["holder_code"], i.holder_code.as_str(), "{view}");
        }

        let log = format!("/api/v1/holders/{}/access-log?code_type={}", i.holder_code, i.holder_code_type);
        let a = assertion(&f, i);
        let log = authed(&f, &f.portal_key, &log, &[("x-holder-assertion", a.as_str())]).await;
        let entries = log["entries"].as_array().unwrap();
        assert!(entries.len() >= 3, "the read, the listing and the holder view are logged: {log}");
        for e in entries {
            assert_eq!(e["holder_code"], i.holder_code.as_str(), "{e}");
        }
    }
}
