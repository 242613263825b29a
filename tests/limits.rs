//! The limits as production wires them, tested through a real bound port with the
//! library's server (`zhengzhao::server::run`): connection caps, header and idle
//! timeouts, per-address and per-client rate limits, trusted proxies, body limits, the
//! request timeout and the page size.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::LicenceInput;
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, Platform, Scope};

const ISSUER: &str = "11310115MB2C90510L";
const FOOD: &str = "11100000000013338W002";

struct Server {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    platform: Arc<Platform>,
    /// The `/v/` URL path of an issued licence.
    page: String,
    /// Its whole QR URL.
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn food_input() -> LicenceInput {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn issue_request(platform_seal: &str) -> IssueRequest {
    IssueRequest {
        seal_id: platform_seal.to_owned(),
        ofd_seal_id: None,
        type_code: FOOD.into(),
        input: food_input(),
        document: zhengzhao::licence::DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews: None,
    }
}

/// A demo platform with `layer`, one issued licence, served on a free loopback port.
async fn start(layer: Layer) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..layer };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    let seal = seals.iter().find(|s| s.algorithm == Algorithm::Ed25519).unwrap().id.clone();
    let licence = platform.issuing.issue(issue_request(&seal), OffsetDateTime::now_utc()).await.unwrap();
    let url = licence.url.clone();
    let page = url.strip_prefix("https://zz.example.gov.cn").unwrap().to_owned();
    let platform = Arc::new(platform);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = platform.clone();
    let task = tokio::spawn(async move {
        zhengzhao::server::run(served, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { _dir: dir, addr, platform, page, url, stop: Some(stop), task: Some(task) }
}

/// An HTTP client whose connections come from `source` (127.0.0.x: every loopback
/// address reaches the server).
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A raw TCP connection from `source`.
async fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source.parse().unwrap(), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// How a connection ends: `Some(elapsed)` when the server closed it within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(within.saturating_sub(started.elapsed()), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            // A response (e.g. 408) before the close: keep reading until the close.
            Ok(Ok(_)) => {}
        }
    }
}

async fn json_of(response: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    (status, headers, body_of(&bytes))
}

/// A JSON body as it is; an HTML error page (the form of errors under `/v/`) as
/// `{"code": …}` with the stable code the page shows in `<code>`.
fn body_of(bytes: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice(bytes) {
        return v;
    }
    let text = String::from_utf8_lossy(bytes);
    match text.rsplit_once("<code>").and_then(|(_, rest)| rest.split_once("</code>")) {
        Some((code, _)) if text.starts_with("<!doctype html>") => json!({"code": code}),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn half_open_connections_beyond_the_caps_leave_healthz_answering() {
    let layer = Layer {
        max_connections: Some(16),
        max_connections_per_address: Some(6),
        header_timeout: Some(30),
        idle_timeout: Some(30),
        ..Layer::default()
    };
    let s = start(layer).await;
    // Far more half-open connections (headers never finished) than either cap, from two
    // addresses.
    let mut held = Vec::new();
    for i in 0..40 {
        let source = if i % 2 == 0 { "127.0.0.1" } else { "127.0.0.2" };
        let mut c = connect_from(source, s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        held.push((source, c));
    }
    // Each address keeps its first 6; the rest are closed at once.
    let mut open = std::collections::HashMap::<&str, usize>::new();
    for (source, c) in &mut held {
        if closed_within(c, Duration::from_millis(300)).await.is_none() {
            *open.entry(source).or_default() += 1;
        }
    }
    assert_eq!(open.get("127.0.0.1"), Some(&6), "{open:?}");
    assert_eq!(open.get("127.0.0.2"), Some(&6), "{open:?}");
    // /healthz still answers from a third address, at once.
    let started = Instant::now();
    let health = client_from("127.0.0.3").get(format!("http://{}/healthz", s.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // The total cap: with those closed, fill it up
    // from fresh addresses, then one more is closed at once.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut filled = Vec::new();
    for i in 0..16 {
        let mut c = connect_from(&format!("127.0.1.{}", i + 1), s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        filled.push(c);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = connect_from("127.0.2.1", s.addr).await;
    assert!(closed_within(&mut extra, Duration::from_secs(2)).await.is_some(), "over the total cap");
    drop(filled);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = client_from("127.0.2.2").get(format!("http://{}/healthz", s.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200, "slots are freed when connections close");
}

#[tokio::test]
async fn a_public_flood_cannot_lock_api_clients_out() {
    let layer = Layer {
        max_connections: Some(12),
        max_connections_per_address: Some(12),
        api_reserved_connections: Some(4),
        header_timeout: Some(30),
        idle_timeout: Some(30),
        ..Layer::default()
    };
    let s = start(layer).await;
    let now = OffsetDateTime::now_utc();
    let (_, key) =
        s.platform.clients.add_client(ISSUER, "approvals", &[Scope::Query], &[], now).await.unwrap();
    let list = |source: &'static str| {
        let c = client_from(source);
        let (url, key) = (format!("http://{}/api/v1/licences?limit=1", s.addr), key.expose().to_owned());
        async move { c.get(url).bearer_auth(key).header("x-purpose", "统计").send().await.map(|r| r.status()) }
    };
    // The approval system authenticates from 127.0.0.1 once; a wrong key from elsewhere
    // earns its address nothing.
    assert_eq!(list("127.0.0.1").await.unwrap(), 200);
    let forged = client_from("127.0.5.1")
        .get(format!("http://{}/api/v1/licences?limit=1", s.addr))
        .bearer_auth("zz_not_a_key")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A flood from many addresses fills every slot it may: 12 − 4 held back.
    let mut flood = Vec::new();
    for i in 0..12 {
        let mut c = connect_from(&format!("127.0.3.{}", i + 1), s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        flood.push(c);
    }
    let mut open = 0;
    for c in &mut flood {
        if closed_within(c, Duration::from_millis(300)).await.is_none() {
            open += 1;
        }
    }
    assert_eq!(open, 8, "the flood gets all but the reserved slots");
    // The approval system still connects and is served; neither a new public client nor
    // the address of the forged key gets in.
    assert_eq!(list("127.0.0.1").await.unwrap(), 200);
    for source in ["127.0.4.1", "127.0.5.1"] {
        let mut c = connect_from(source, s.addr).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), c.read_to_end(&mut answer)).await;
        assert!(answer.is_empty(), "{source} got {:?}", String::from_utf8_lossy(&answer));
    }
}

#[tokio::test]
async fn public_refusals_are_answered_late_and_api_refusals_at_once() {
    let layer = Layer { rate_limit: Some(1), refusal_delay_ms: Some(600), ..Layer::default() };
    let s = start(layer).await;
    let c = client_from("127.0.0.31");
    let page = format!("http://{}{}", s.addr, s.page);
    // The burst of two passes; the third is refused, 600 ms late.
    for _ in 0..2 {
        assert_eq!(c.get(&page).send().await.unwrap().status(), 200);
    }
    let started = Instant::now();
    let (status, headers, body) = json_of(c.get(&page).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(headers.contains_key("retry-after"));
    assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());
    // An API client's own rate limit is not paced: it is a known system, told at once.
    let now = OffsetDateTime::now_utc();
    let (_, key) = s.platform.clients.add_client(ISSUER, "calm", &[Scope::Query], &[], now).await.unwrap();
    let url = format!("http://{}/api/v1/licences?limit=1", s.addr);
    let mut refused_after = None;
    for _ in 0..4 {
        let started = Instant::now();
        let r = c.get(&url).bearer_auth(key.expose()).header("x-purpose", "统计").send().await.unwrap();
        if r.status() == 429 {
            refused_after = Some(started.elapsed());
            break;
        }
    }
    let refused_after = refused_after.expect("the API client's burst of two runs out");
    assert!(refused_after < Duration::from_millis(500), "{refused_after:?}");
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_idle_connections_closed() {
    let layer = Layer { header_timeout: Some(1), idle_timeout: Some(3), ..Layer::default() };
    let s = start(layer).await;

    // Slowloris: a byte of header every 300 ms never finishes; closed after ~1 s.
    let mut slow = connect_from("127.0.0.1", s.addr).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if slow.write_all(b"X").await.is_err() {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), trickle).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "slow header connection still open after {took:?}");
    assert!(took >= Duration::from_millis(900), "closed too early: {took:?}");

    // A silent connection is not cut by the header timeout, only by the idle timeout.
    let mut idle = connect_from("127.0.0.1", s.addr).await;
    assert!(closed_within(&mut idle, Duration::from_millis(1800)).await.is_none(), "idle cut as if slow");
    let closed = closed_within(&mut idle, Duration::from_secs(4)).await.expect("idle connection closed");
    assert!(closed <= Duration::from_secs(3), "{closed:?}");

    // A keep-alive connection after a complete request: idle, then closed.
    let mut kept = connect_from("127.0.0.1", s.addr).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
    assert!(closed_within(&mut kept, Duration::from_millis(1800)).await.is_none());
    assert!(closed_within(&mut kept, Duration::from_secs(4)).await.is_some());

    // A request that takes long to handle is not cut by the connection's timeouts: a
    // whole request head sent, then the body trickles in within the request timeout.
    let health = client_from("127.0.0.2").get(format!("http://{}/healthz", s.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_request_timeout_answers_408_for_a_stalled_body() {
    let s = start(Layer { request_timeout: Some(1), header_timeout: Some(10), ..Layer::default() }).await;
    let mut c = connect_from("127.0.0.1", s.addr).await;
    c.write_all(
        b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"url\":",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\"code\"") {
        match tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"timeout\""), "{text}");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3), "{took:?}");

    // Within the timeout the same request is answered.
    let ok = client_from("127.0.0.2")
        .post(format!("http://{}/api/v1/verify", s.addr))
        .header("content-type", "application/json")
        .body(json!({"url": s.url}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// Sends `n` requests at once (so that no refill falls between them); returns how many
/// answered 200 and the 429 answers' headers and bodies.
async fn burst<F, Fut>(n: usize, send: F) -> (usize, Vec<(reqwest::header::HeaderMap, Value)>)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, reqwest::header::HeaderMap, Value)> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        set.spawn(send());
    }
    let (mut ok, mut limited) = (0, Vec::new());
    while let Some(r) = set.join_next().await {
        let (status, headers, body) = r.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => limited.push((headers, body)),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    (ok, limited)
}

#[tokio::test]
async fn public_endpoints_are_limited_per_address() {
    let s = start(Layer { rate_limit: Some(2), ..Layer::default() }).await;
    for (what, source) in [("page", "127.0.0.11"), ("api", "127.0.0.12")] {
        let send = |source: &'static str| {
            let c = client_from(source);
            let (page, url, addr) = (s.page.clone(), s.url.clone(), s.addr);
            async move {
                let r = if what == "page" {
                    c.get(format!("http://{addr}{page}")).send().await.unwrap()
                } else {
                    c.post(format!("http://{addr}/api/v1/verify"))
                        .header("content-type", "application/json")
                        .body(json!({"url": url}).to_string())
                        .send()
                        .await
                        .unwrap()
                };
                json_of(r).await
            }
        };
        // A burst of twice the rate passes; the rest are limited.
        let (ok, limited) = burst(10, || send(source)).await;
        assert!((4..=6).contains(&ok), "{what}: {ok} answered");
        assert!(limited.len() >= 4, "{what}: {} limited", limited.len());
        for (headers, body) in &limited {
            let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=2).contains(&retry), "{retry}");
            assert_eq!(body["code"], "rate_limited", "{body}");
        }
        // Another address has its own budget.
        let (status, _, _) = send("127.0.0.13").await;
        assert_eq!(status, StatusCode::OK, "{what}");
    }
}

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let layer = Layer {
        rate_limit: Some(1),
        trusted_proxies: Some(vec!["127.0.0.9".parse().unwrap()]),
        // Refusals at once: the buckets must not refill while the test waits for them.
        refusal_delay_ms: Some(0),
        ..Layer::default()
    };
    let s = start(layer).await;
    let page = format!("http://{}{}", s.addr, s.page);
    let via = |source: &'static str, header: &'static str, client: String| {
        let c = client_from(source);
        let page = page.clone();
        let value = if header == "forwarded" { format!("for=\"{client}\"") } else { client };
        async move { json_of(c.get(page).header(header, value).send().await.unwrap()).await }
    };
    // Through the trusted proxy, each forwarded client has its own budget of 2.
    let (ok, limited) = burst(5, || via("127.0.0.9", "x-forwarded-for", "198.51.100.1".into())).await;
    assert!((2..=3).contains(&ok) && limited.len() >= 2, "{ok}");
    assert_eq!(via("127.0.0.9", "x-forwarded-for", "198.51.100.2".into()).await.0, StatusCode::OK);
    let (ok, limited) = burst(5, || via("127.0.0.9", "forwarded", "198.51.100.3".into())).await;
    assert!((2..=3).contains(&ok) && limited.len() >= 2, "{ok}");
    // A client cannot escape its bucket by writing addresses of its own in front.
    let (ok, _) = burst(3, || via("127.0.0.9", "x-forwarded-for", "1.2.3.4, 198.51.100.1".into())).await;
    assert!(ok <= 1, "{ok}: the spoofed leftmost address was used");
    // From an untrusted peer the headers are ignored: inventing addresses does not help.
    let n = std::sync::atomic::AtomicU32::new(0);
    let (ok, limited) = burst(5, || {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        via("127.0.0.8", "x-forwarded-for", format!("203.0.113.{i}"))
    })
    .await;
    assert!((2..=3).contains(&ok) && limited.len() >= 2, "{ok} answered from an untrusted peer");
}

#[tokio::test]
async fn a_missing_peer_address_fails_closed() {
    let s = start(Layer::default()).await;
    let app = zhengzhao::http::app(s.platform.clone());
    for request in [
        Request::get(s.page.as_str()).body(Body::empty()).unwrap(),
        Request::post("/api/v1/verify")
            .header("content-type", "application/json")
            .body(Body::from(json!({"url": s.url}).to_string()))
            .unwrap(),
    ] {
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(&response.into_body().collect().await.unwrap().to_bytes());
        assert_eq!(body["code"], "client_address_unknown", "{body}");
    }
}

#[tokio::test]
async fn api_clients_are_limited_per_client_through_the_port() {
    let s = start(Layer { rate_limit: Some(2), ..Layer::default() }).await;
    let now = OffsetDateTime::now_utc();
    let (_, busy) = s.platform.clients.add_client(ISSUER, "busy", &[Scope::Query], &[], now).await.unwrap();
    let (_, calm) = s.platform.clients.add_client(ISSUER, "calm", &[Scope::Query], &[], now).await.unwrap();
    let list = |key: String, source: &'static str| {
        let c = client_from(source);
        let url = format!("http://{}/api/v1/licences?limit=1", s.addr);
        async move {
            json_of(c.get(url).bearer_auth(key).header("x-purpose", "统计").send().await.unwrap()).await
        }
    };
    // The budget is the client's, whatever address it calls from.
    let n = std::sync::atomic::AtomicUsize::new(0);
    let (ok, limited) = burst(9, || {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        list(busy.expose().to_owned(), ["127.0.0.21", "127.0.0.22", "127.0.0.23"][i % 3])
    })
    .await;
    assert!((4..=6).contains(&ok), "{ok} answered");
    assert!(limited.len() >= 3);
    for (headers, body) in &limited {
        assert!(headers.contains_key("retry-after"));
        assert_eq!(body["code"], "rate_limited");
    }
    assert_eq!(list(calm.expose().to_owned(), "127.0.0.21").await.0, StatusCode::OK);
}

#[tokio::test]
async fn body_limits_hold_at_and_past_their_boundaries() {
    let s = start(Layer::default()).await;
    let now = OffsetDateTime::now_utc();
    let (_, issuer) =
        s.platform.clients.add_client(ISSUER, "issuer", &[Scope::Issue], &[], now).await.unwrap();
    let (_, checker) =
        s.platform.clients.add_client(ISSUER, "checker", &[Scope::Check], &[], now).await.unwrap();
    let c = client_from("127.0.0.31");
    let post = |path: &str, key: &str, size: usize, content_type: &str| {
        c.post(format!("http://{}{path}", s.addr))
            .bearer_auth(key)
            .header("content-type", content_type)
            .header("x-purpose", "统计")
            .body(vec![b' '; size])
            .send()
    };
    // 1 MiB outside issuing: a check request of exactly 1 MiB is read (and refused as JSON),
    // one byte more is 413.
    let mib = 1024 * 1024;
    let (status, _, body) =
        json_of(post("/api/v1/checks", checker.expose(), mib, "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) =
        json_of(post("/api/v1/checks", checker.expose(), mib + 1, "application/json").await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));

    // 256 KiB for issuing.
    let kib256 = 256 * 1024;
    let (status, _, body) =
        json_of(post("/api/v1/licences", issuer.expose(), kib256, "application/json").await.unwrap()).await;
    assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(status.is_client_error(), "{status} {body}");
    let (status, _, body) =
        json_of(post("/api/v1/licences", issuer.expose(), kib256 + 1, "application/json").await.unwrap())
            .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));

    // 32 MB for a PDF to verify: exactly the limit is read (and is no PDF: 422), one byte
    // more is 413.
    let pdf_limit = zhengzhao::platform::MAX_VERIFY_PDF_BYTES;
    let (status, _, body) =
        json_of(post("/api/v1/verify", "", pdf_limit, "application/pdf").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unreadable_input")),
        "{body}"
    );
    let (status, _, body) =
        json_of(post("/api/v1/verify", "", pdf_limit + 1, "application/pdf").await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, _, body) = json_of(
        post("/api/v1/verify", "", zhengzhao::http::MAX_UPLOAD_BYTES + 1, "application/pdf").await.unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")));
}

#[tokio::test]
async fn listings_are_capped_at_100_rows() {
    let s = start(Layer::default()).await;
    let now = OffsetDateTime::now_utc();
    let seal = s
        .platform
        .pki
        .seals(None)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.algorithm == Algorithm::Ed25519)
        .unwrap();
    for _ in 0..101 {
        s.platform.issuing.issue(issue_request(&seal.id), now).await.unwrap();
    }
    let (_, key) = s.platform.clients.add_client(ISSUER, "lister", &[Scope::Query], &[], now).await.unwrap();
    let c = client_from("127.0.0.41");
    let get = |limit: &str| {
        c.get(format!("http://{}/api/v1/licences?limit={limit}", s.addr))
            .bearer_auth(key.expose())
            .header("x-purpose", "统计")
            .send()
    };
    for limit in ["100", "101", "100000"] {
        let (status, _, body) = json_of(get(limit).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["items"].as_array().unwrap().len(), 100, "limit={limit}");
        assert!(body["next_cursor"].is_string(), "limit={limit}: a next page exists");
    }
}

#[tokio::test]
async fn a_slow_upload_holds_no_public_slot_and_the_api_has_its_own() {
    let s = start(Layer { public_concurrency: Some(1), ..Layer::default() }).await;
    // Two uploads whose bodies never finish.
    let mut stalled = Vec::new();
    for source in ["127.0.0.51", "127.0.0.52"] {
        let mut c = connect_from(source, s.addr).await;
        c.write_all(b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\nContent-Length: 100000\r\n\r\n%PDF-")
            .await
            .unwrap();
        stalled.push(c);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let page = client_from("127.0.0.53").get(format!("http://{}{}", s.addr, s.page)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2), "the page waited {:?}", started.elapsed());
    let now = OffsetDateTime::now_utc();
    let (_, key) = s.platform.clients.add_client(ISSUER, "api", &[Scope::Query], &[], now).await.unwrap();
    let listed = client_from("127.0.0.54")
        .get(format!("http://{}/api/v1/licences?limit=1", s.addr))
        .bearer_auth(key.expose())
        .header("x-purpose", "统计")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}

/// Sends `head` (a whole request head, `Connection: close`) on a raw connection and reads
/// the answer to its end: the status and the body.
async fn raw_request(addr: SocketAddr, head: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = connect_from("127.0.0.1", addr).await;
    stream.write_all(head).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = match answer.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => answer[at + 4..].to_vec(),
        None => Vec::new(),
    };
    (status, body)
}

/// A request head for `target` with `fields` extra header fields of `value`.
fn head(target: &str, fields: usize, value: &str) -> Vec<u8> {
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..fields {
        head.push_str(&format!("X-Field-{i}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

#[tokio::test]
async fn overlong_targets_and_headers_answer_in_the_error_form_through_the_port() {
    use zhengzhao::http::{MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_URI_BYTES};
    use zhengzhao::server::{HYPER_MAX_BUF, HYPER_MAX_HEADERS};
    let s = start(Layer::default()).await;
    let json = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);

    // At the service's limits: served.
    let (status, _) = raw_request(s.addr, &head("/healthz", MAX_HEADER_COUNT - 3, "a")).await;
    assert_eq!(status, 200);
    // Past them, up to far past hyper's default of 100 fields: 431 in the API's form.
    for fields in [MAX_HEADER_COUNT, 101, 500, HYPER_MAX_HEADERS - 3] {
        let (status, body) = raw_request(s.addr, &head("/healthz", fields, "a")).await;
        assert_eq!(
            (status, json(&body)["code"].as_str()),
            (431, Some("headers_too_large")),
            "{fields} fields"
        );
    }
    let big = "b".repeat(MAX_HEADER_BYTES);
    let (status, body) = raw_request(s.addr, &head("/healthz", 8, &big)).await;
    assert_eq!((status, json(&body)["code"].as_str()), (431, Some("headers_too_large")));
    assert!(json(&body)["message"].as_str().is_some_and(|m| !m.is_empty()));
    // Past hyper's default buffer (about 400 KiB), within the raised one.
    let (status, body) = raw_request(s.addr, &head("/healthz", 14, &big)).await;
    const { assert!(14 * MAX_HEADER_BYTES > 408 * 1024 && 15 * MAX_HEADER_BYTES < HYPER_MAX_BUF) };
    assert_eq!((status, json(&body)["code"].as_str()), (431, Some("headers_too_large")));

    // A request target past the service's 8 KiB, up to hyper's own 64 KiB: 414 as JSON, and
    // as the HTML page under /v/.
    for len in [MAX_URI_BYTES + 1, 60 * 1024] {
        let (status, body) = raw_request(s.addr, &head(&format!("/pki/{}", "a".repeat(len)), 0, "")).await;
        assert_eq!((status, json(&body)["code"].as_str()), (414, Some("uri_too_long")), "{len}");
        let (status, body) = raw_request(s.addr, &head(&format!("/v/{}", "A".repeat(len)), 0, "")).await;
        let page = String::from_utf8_lossy(&body);
        assert_eq!(status, 414);
        assert!(page.starts_with("<!doctype html>") && page.contains("<code>uri_too_long</code>"), "{page}");
    }

    // Beyond hyper's absolute ceilings hyper answers itself, without a body (README,
    // "Limits"): more than HYPER_MAX_HEADERS fields, or a target past 64 KiB.
    let (status, body) = raw_request(s.addr, &head("/healthz", HYPER_MAX_HEADERS + 1, "a")).await;
    assert_eq!((status, body.len()), (431, 0));
    let (status, body) = raw_request(s.addr, &head(&format!("/pki/{}", "a".repeat(70 * 1024)), 0, "")).await;
    assert_eq!((status, body.len()), (414, 0));
    // The service still answers.
    let (status, _) = raw_request(s.addr, &head("/healthz", 0, "")).await;
    assert_eq!(status, 200);
}
