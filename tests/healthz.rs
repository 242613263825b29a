//! `/healthz` tells the truth about the database: 200 while it answers, 503
//! `store_unavailable` (without naming the database) once it does not. The database sits
//! behind a TCP relay in the test, so that it can be made to stop answering.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::app;
use zhengzhao::platform::Platform;

/// A TCP relay to `upstream` that can be cut: afterwards nothing listens on its port and
/// every relayed connection is closed.
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let spawned = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                spawned.lock().unwrap().push(relay.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Self { port, tasks }
    }

    fn cut(&self) {
        self.tasks.lock().unwrap().iter().for_each(AbortHandle::abort);
    }
}

/// `url` with its host and port replaced by 127.0.0.1:`port`; and the host:port it named.
fn via(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = if host.contains(':') { host.to_owned() } else { format!("{host}:5432") };
    (format!("{scheme}://{user}127.0.0.1:{port}{tail}"), host)
}

async fn healthz(platform: &Arc<Platform>) -> (StatusCode, Value) {
    let request = Request::get("/healthz").body(Body::empty()).unwrap();
    let response = app(platform.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_else(|_| panic!("not JSON: {body:?}")))
}

/// Guarded by `platform.store.ping()` in the `/healthz` handler (`src/http/mod.rs`).
#[tokio::test]
async fn healthz_reports_a_database_that_stops_answering() {
    let Some((url, schema)) = common::postgres_schema_url().await else { return };
    let (_, upstream) = via(&url, 0);
    let relay = Relay::start(upstream).await;
    let (relayed, _) = via(&url, relay.port);
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { database_url: Some(relayed.clone()), ..Layer::default() };
    let platform = Arc::new(
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap(),
    );

    let (status, body) = healthz(&platform).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, serde_json::json!({"status": "ok", "database": "ok"}));

    relay.cut();
    let started = Instant::now();
    let (status, body) = healthz(&platform).await;
    let took = started.elapsed();
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("store_unavailable")),
        "{body}"
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let text = body.to_string();
    assert!(!text.contains("127.0.0.1") && !text.contains(&schema), "internals leak: {text}");
    // Within the pool's acquire timeout, well before the request timeout.
    assert!(took < Duration::from_secs(25), "took {took:?}");
    common::drop_schema(&schema).await;
}
