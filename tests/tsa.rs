//! The platform's time-stamping authority: `POST /tsa` (granted replies that verify, the
//! algorithm chosen by the imprint or the query, rejection replies for malformed and
//! refused requests, and the HTTP errors for what is not a time-stamp request: no key, no
//! scope, another content type, an oversized body, a spent rate), the public TSA chains,
//! the in-process stamper's reserved block, rotation after half a unit's validity, and
//! serial numbers that only grow across two platforms on one database (SQLite and
//! PostgreSQL).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::{DEMO_DEPARTMENT, Platform, PlatformError, Scope};
use zhengzhao::tsa::{self, FailureInfo, ImprintAlg, Outcome, Stamper, TsaError};

const DATA: &[u8] = "证照 licence signature value".as_bytes();

fn config(dir: &std::path::Path, layer: Layer) -> Config {
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..layer };
    Config::from_layer(dir.join("data"), layer).unwrap()
}

/// A demo platform and the key of an API client with the timestamp scope.
async fn platform_with(dir: &std::path::Path, layer: Layer) -> (Arc<Platform>, String) {
    let platform = Platform::create(config(dir, layer), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    platform.ensure_demo(now).await.unwrap();
    let (_, key) = platform
        .clients
        .add_client(DEMO_DEPARTMENT.0, "时间戳客户端", &[Scope::Timestamp], &[], now)
        .await
        .unwrap();
    (Arc::new(platform), key.expose().to_owned())
}

async fn platform(dir: &std::path::Path) -> (Arc<Platform>, String) {
    platform_with(dir, Layer::default()).await
}

async fn roots(platform: &Platform) -> Vec<Vec<u8>> {
    platform.store.roots().await.unwrap().into_iter().map(|r| r.cert_der).collect()
}

/// `POST /tsa{query}` with `key`, `content_type` and `body`: status, headers, body.
async fn post(
    platform: &Arc<Platform>,
    key: Option<&str>,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::post(format!("/tsa{query}")).header(header::CONTENT_TYPE, content_type);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let response =
        common::app(platform.clone()).oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

async fn stamp_http(platform: &Arc<Platform>, key: &str, query: &str, request: Vec<u8>) -> Vec<u8> {
    let (status, headers, body) =
        post(platform, Some(key), query, "application/timestamp-query", request).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers[header::CONTENT_TYPE], "application/timestamp-reply");
    body
}

fn error_code(body: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    json["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn granted_replies_verify_and_name_the_unit_the_imprint_or_query_chose() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, key) = platform(dir.path()).await;
    let roots = roots(&platform).await;
    let cases = [
        (ImprintAlg::Sha256, "", Algorithm::P256),
        (ImprintAlg::Sha512, "", Algorithm::P256),
        (ImprintAlg::Sm3, "", Algorithm::Sm2),
        (ImprintAlg::Sha256, "?algorithm=ed25519", Algorithm::Ed25519),
        (ImprintAlg::Sm3, "?algorithm=p256", Algorithm::P256),
        (ImprintAlg::Sha384, "?algorithm=sm2", Algorithm::Sm2),
    ];
    let mut serials = vec![];
    for (imprint, query, expected) in cases {
        let request = tsa::build_request(imprint, DATA, Some(42), true, None).unwrap();
        let reply = stamp_http(&platform, &key, query, request).await;
        let info = tsa::verify_response(&reply, DATA, &roots, &[]).unwrap();
        assert_eq!((info.algorithm, info.imprint_alg), (expected, imprint), "{query}");
        assert_eq!(info.policy.to_string(), zhengzhao::config::DEFAULT_TSA_POLICY);
        assert_eq!(info.accuracy.unwrap().seconds, Some(1));
        assert!((OffsetDateTime::now_utc() - info.gen_time).abs() < Duration::minutes(1));
        serials.push(info.serial_u64().unwrap());
        // The chain the platform publishes is the one in the token.
        let pem = platform.tsa.chain_pem(Some(expected), OffsetDateTime::now_utc()).await.unwrap();
        let chain = pki::pem_decode_all(&pem, "CERTIFICATE").unwrap();
        assert_eq!(chain[0], info.tsa_cert_der);
        assert!(roots.contains(&chain[1]));
        // Without the certificate in the token, the published one serves.
        let request = tsa::build_request(imprint, DATA, None, false, None).unwrap();
        let reply = stamp_http(&platform, &key, query, request).await;
        assert!(tsa::verify_response(&reply, DATA, &roots, &[]).is_err());
        tsa::verify_response(&reply, DATA, &roots, &chain[..1]).unwrap();
    }
    assert!(serials.windows(2).all(|w| w[0] < w[1]), "{serials:?}");
}

#[tokio::test]
async fn refused_requests_get_rejection_replies_without_a_serial() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, key) = platform(dir.path()).await;
    let other_policy = der::asn1::ObjectIdentifier::new_unwrap("1.2.156.112233.9");
    let cases = [
        (b"garbage, not DER".to_vec(), FailureInfo::BadDataFormat),
        (vec![], FailureInfo::BadDataFormat),
        (
            tsa::build_request(ImprintAlg::Sha256, DATA, None, true, Some(other_policy)).unwrap(),
            FailureInfo::UnacceptedPolicy,
        ),
    ];
    for (body, fail) in cases {
        let reply = stamp_http(&platform, &key, "", body).await;
        match tsa::verify_response(&reply, DATA, &[], &[]) {
            Err(TsaError::NotGranted { status: 2, fail: Some(f) }) => assert_eq!(f, fail),
            other => panic!("{fail:?}: {other:?}"),
        }
    }
    // Garbage takes no serial number from the database.
    let before = platform.store.reserve_tsa_serials(1).await.unwrap();
    stamp_http(&platform, &key, "", b"\x30\x03\x02\x01\x07".to_vec()).await;
    assert_eq!(*platform.store.reserve_tsa_serials(1).await.unwrap().start(), before.start() + 1);
}

#[tokio::test]
async fn what_is_not_a_time_stamp_request_gets_an_http_error() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, key) = platform(dir.path()).await;
    let good = tsa::build_request(ImprintAlg::Sha256, DATA, None, true, None).unwrap();
    let tsq = "application/timestamp-query";
    // No key, a bad key; a client without the timestamp scope; a holder portal's key.
    let (status, _, body) = post(&platform, None, "", tsq, good.clone()).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::UNAUTHORIZED, "unauthorised"));
    let (status, _, _) = post(&platform, Some("zz_nope"), "", tsq, good.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let now = OffsetDateTime::now_utc();
    let (_, reader) = platform
        .clients
        .add_client(DEMO_DEPARTMENT.0, "查询", &[Scope::Query, Scope::Issue], &[], now)
        .await
        .unwrap();
    let (status, _, body) = post(&platform, Some(reader.expose()), "", tsq, good.clone()).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    // Another content type, none, a bad algorithm or parameter.
    for content_type in ["application/octet-stream", "application/json", ""] {
        let (status, _, body) = post(&platform, Some(&key), "", content_type, good.clone()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
        assert_eq!(error_code(&body), "unsupported_media_type");
    }
    let (status, _, _) =
        post(&platform, Some(&key), "", "Application/TimeStamp-Query; x=1", good.clone()).await;
    assert_eq!(status, StatusCode::OK);
    for query in ["?algorithm=rsa", "?algorithm=", "?alg=p256"] {
        let (status, _, body) = post(&platform, Some(&key), query, tsq, good.clone()).await;
        assert_eq!(
            (status, error_code(&body).as_str()),
            (StatusCode::BAD_REQUEST, "invalid_query"),
            "{query}"
        );
    }
    // Over MAX_REQUEST_BYTES: 413, whatever it holds.
    let big = vec![0x30; tsa::MAX_REQUEST_BYTES + 1];
    let (status, _, body) = post(&platform, Some(&key), "", tsq, big).await;
    assert_eq!((status, error_code(&body).as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let (status, _, _) = post(&platform, Some(&key), "", tsq, vec![0x30; tsa::MAX_REQUEST_BYTES]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, key) = platform_with(dir.path(), Layer { rate_limit: Some(1), ..Layer::default() }).await;
    let good = tsa::build_request(ImprintAlg::Sha256, DATA, None, true, None).unwrap();
    let mut statuses = vec![];
    for _ in 0..4 {
        let (status, headers, body) =
            post(&platform, Some(&key), "", "application/timestamp-query", good.clone()).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(&body), "rate_limited");
            assert!(headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        }
        statuses.push(status);
    }
    // A burst of twice the rate, then refusals.
    assert_eq!(statuses[..2], [StatusCode::OK, StatusCode::OK]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_tsa_chains_are_public_and_name_the_roots_crl() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(dir.path()).await;
    let get = |uri: &'static str| {
        let app = common::app(platform.clone());
        async move {
            let response = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
            let status = response.status();
            (
                status,
                String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap(),
            )
        }
    };
    let (status, all) = get("/pki/tsa.pem").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pki::pem_decode_all(&all, "CERTIFICATE").unwrap().len(), 2 * Algorithm::ALL.len());
    for (uri, alg) in
        [("/pki/tsa-ed25519.pem", "ed25519"), ("/pki/tsa-p256.pem", "p256"), ("/pki/tsa-sm2.pem", "sm2")]
    {
        let (status, pem) = get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let chain = pki::pem_decode_all(&pem, "CERTIFICATE").unwrap();
        let info = pki::cert_info(&chain[0]).unwrap();
        assert_eq!(info.crl_urls, vec![format!("https://zz.example.gov.cn/pki/crl-{alg}.crl")]);
        assert_eq!(info.subject, "C=CN, O=证照服务平台（演示）, CN=Time-stamping authority");
        // Valid tsa_cert_days (3650) from about now.
        let days = (info.not_after - info.not_before).whole_days();
        assert!((3649..=3651).contains(&days), "{days}");
        tsa::validate_tsa_cert(&chain[0], &chain[1..], OffsetDateTime::now_utc()).unwrap();
    }
    assert_eq!(get("/pki/tsa-rsa.pem").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_stamper_uses_its_reserved_block_and_never_more() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(dir.path()).await;
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let stamper = platform.tsa.stamper(Algorithm::Sm2, 3, now).await.unwrap();
    let other = platform.tsa.stamper(Algorithm::Sm2, 1, now).await.unwrap();
    let roots = roots(&platform).await;
    let digest = ImprintAlg::Sm3.digest(DATA);
    let mut serials = vec![];
    for _ in 0..3 {
        let token = stamper.stamp(ImprintAlg::Sm3, &digest).unwrap();
        let info = tsa::verify_token(&token, DATA, &roots, &[]).unwrap();
        assert_eq!(info.gen_time, now);
        serials.push(info.serial_u64().unwrap());
    }
    assert_eq!(serials[1], serials[0] + 1);
    assert_eq!(serials[2], serials[0] + 2);
    assert_eq!(stamper.remaining(), 0);
    assert!(matches!(stamper.stamp(ImprintAlg::Sm3, &digest), Err(TsaError::InvalidArgument(_))));
    let token = other.stamp(ImprintAlg::Sm3, &digest).unwrap();
    assert_eq!(tsa::verify_token(&token, DATA, &roots, &[]).unwrap().serial_u64(), Some(serials[2] + 1));
    let chain = stamper.chain();
    assert_eq!(chain.len(), 2);
    assert_eq!(
        chain[1],
        platform
            .store
            .roots()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.algorithm == Algorithm::Sm2)
            .unwrap()
            .cert_der
    );
    assert!(matches!(
        platform.tsa.stamper(Algorithm::Sm2, 0, now).await,
        Err(PlatformError::InvalidInput { field: "count", .. })
    ));
}

#[tokio::test]
async fn a_unit_signs_for_half_its_validity_then_a_new_one_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) =
        platform_with(dir.path(), Layer { tsa_cert_days: Some(10), ..Layer::default() }).await;
    let start = OffsetDateTime::now_utc();
    let first = platform.tsa.authority(Algorithm::P256, start).await.unwrap();
    let later = platform.tsa.authority(Algorithm::P256, start + Duration::days(4)).await.unwrap();
    assert!(Arc::ptr_eq(&first, &later));
    let after_half = start + Duration::days(5) + Duration::minutes(1);
    let second = platform.tsa.authority(Algorithm::P256, after_half).await.unwrap();
    assert_ne!(first.cert_der, second.cert_der);
    let units = platform.tsa.units(after_half).await.unwrap();
    let p256: Vec<_> = units.iter().filter(|u| u.algorithm == Algorithm::P256).collect();
    assert_eq!(
        p256.iter().map(|u| (u.id.as_str(), u.current)).collect::<Vec<_>>(),
        [("p256-1", false), ("p256-2", true)]
    );
    // The old unit's tokens still verify during their certificate's validity.
    let roots = roots(&platform).await;
    let digest = ImprintAlg::Sha256.digest(DATA);
    let old = first.token(ImprintAlg::Sha256, &digest, 1, start).unwrap();
    tsa::verify_token(&old, DATA, &roots, &[]).unwrap();
    let stamper = platform.tsa.stamper(Algorithm::P256, 1, after_half).await.unwrap();
    let token = stamper.stamp(ImprintAlg::Sha256, &digest).unwrap();
    assert_eq!(tsa::verify_token(&token, DATA, &roots, &[]).unwrap().tsa_cert_der, second.cert_der);
    // Another process (a fresh platform on the same data) takes the same unit, makes none.
    let again = Platform::open(platform.config.as_ref().clone(), None).await.unwrap();
    let third = again.tsa.authority(Algorithm::P256, after_half + Duration::days(1)).await.unwrap();
    assert_eq!(third.cert_der, second.cert_der);
    assert_eq!(again.tsa.units(after_half).await.unwrap().len(), units.len());
    // Its key is checked at start-up with the others.
    let before = again.pki.check_keys().await.unwrap();
    assert!(before >= Algorithm::ALL.len() * 2, "{before}");
    // A clock before the newest unit began is refused, not answered by a new unit.
    let fresh = Platform::open(platform.config.as_ref().clone(), None).await.unwrap();
    let err = fresh.tsa.authority(Algorithm::P256, start - Duration::days(1)).await.unwrap_err();
    assert!(matches!(err, PlatformError::Tsa(TsaError::InvalidArgument(_))), "{err}");
    assert!(err.to_string().contains("is before the newest p256 time-stamping unit p256-2"), "{err}");
}

/// Two platforms on one database (two processes, or two nodes): replies to time-stamp
/// requests taken in turn get strictly growing serials, and replies taken at once never
/// share one. The in-process stampers of issuing take serials from blocks their platform
/// reserved (RFC 3161 asks for unique serial numbers, not consecutive ones): never one
/// another stamp has, and growing within each platform.
async fn serials_grow_across_two_platforms(config: Config) {
    let a = Platform::create(config.clone(), None).await.unwrap();
    let now = OffsetDateTime::now_utc();
    a.ensure_demo(now).await.unwrap();
    let b = Platform::open(config, None).await.unwrap();
    let request = tsa::build_request(ImprintAlg::Sha256, DATA, None, true, None).unwrap();
    let (mut replies, mut stamped) = (vec![], [vec![], vec![]]);
    for i in 0..6 {
        let p = if i % 2 == 0 { &a } else { &b };
        let reply = p.tsa.reply(&request, Some(Algorithm::P256), now).await.unwrap();
        assert_eq!(reply.response.outcome, Outcome::Granted);
        replies.push(reply.serial.unwrap());
        let block = p.tsa.stamper(Algorithm::Ed25519, 2, now).await.unwrap();
        for _ in 0..2 {
            let token = block.stamp(ImprintAlg::Sha512, &ImprintAlg::Sha512.digest(DATA)).unwrap();
            let roots = roots(p).await;
            stamped[i % 2].push(tsa::verify_token(&token, DATA, &roots, &[]).unwrap().serial_u64().unwrap());
        }
    }
    assert!(replies.windows(2).all(|w| w[0] < w[1]), "{replies:?}");
    for serials in &stamped {
        assert!(serials.windows(2).all(|w| w[0] < w[1]), "{stamped:?}");
    }
    let mut all: Vec<u64> = replies.iter().chain(stamped.iter().flatten()).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        replies.len() + stamped.iter().map(Vec::len).sum::<usize>(),
        "{replies:?} {stamped:?}"
    );
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = vec![];
    for i in 0..16 {
        let p = if i % 2 == 0 { a.clone() } else { b.clone() };
        let request = request.clone();
        tasks.push(tokio::spawn(
            async move { p.tsa.reply(&request, None, now).await.unwrap().serial.unwrap() },
        ));
    }
    let mut at_once = vec![];
    for task in tasks {
        at_once.push(task.await.unwrap());
    }
    at_once.sort_unstable();
    at_once.dedup();
    assert_eq!(at_once.len(), 16);
    assert!(at_once[0] > *all.last().unwrap());
}

#[tokio::test]
async fn serials_grow_across_two_platforms_on_one_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    serials_grow_across_two_platforms(config(dir.path(), Layer::default())).await;
}

#[tokio::test]
async fn serials_grow_across_two_platforms_on_one_postgresql_database() {
    let Some((url, schema)) = common::postgres_schema_url().await else { return };
    let dir = tempfile::tempdir().unwrap();
    serials_grow_across_two_platforms(config(
        dir.path(),
        Layer { database_url: Some(url), ..Layer::default() },
    ))
    .await;
    common::drop_schema(&schema).await;
}

#[tokio::test]
async fn a_missing_tsa_key_fails_the_start_up_key_check() {
    let dir = tempfile::tempdir().unwrap();
    let (platform, _) = platform(dir.path()).await;
    platform.pki.check_keys().await.unwrap();
    let unit = platform.store.tsa_units(Some(Algorithm::Sm2)).await.unwrap().pop().unwrap();
    std::fs::remove_file(platform.keys.path(&unit.key_name).unwrap()).unwrap();
    let err = platform.pki.check_keys().await.unwrap_err();
    assert!(err.to_string().contains(&unit.key_name), "{err}");
    let err = zhengzhao::server::Service::prepare(platform.as_ref().clone(), OffsetDateTime::now_utc()).await;
    assert!(err.is_err());
}
