//! The limits on verifying uploaded PDFs (`POST /api/v1/verify`), through a real bound
//! port with the library's server: `pdf_verify_timeout` (422 `verification_timeout`) and
//! `pdf_verify_concurrency` (503 `busy`), each at and past its boundary.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::Platform;

struct Server {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    platform: Arc<Platform>,
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

/// A demo platform with `layer`, served on a free loopback port.
async fn start(layer: Layer) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..layer };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    let platform = Arc::new(platform);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = platform.clone();
    let task = tokio::spawn(async move {
        zhengzhao::server::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { _dir: dir, addr, platform, stop: Some(stop), task: Some(task) }
}

/// A well-formed, unsigned PDF of one blank page plus `objects` arrays of 90 small numbers:
/// valid syntax, under the complexity limits, that keeps the parser busy. Measured (debug
/// build, idle 2-core machine): 90,000 objects (27 MB) take 1.7–2.0 s and 1.4 GB to verify.
fn heavy_pdf(objects: usize) -> Vec<u8> {
    let numbers = format!("[{}]", (0..90).map(|i| format!("{i} ")).collect::<String>());
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(&mut pdf, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>");
    for _ in 0..objects {
        object(&mut pdf, numbers.as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in &offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1)
            .as_bytes(),
    );
    pdf
}

/// Objects in a PDF that holds a verification slot for seconds.
const HEAVY: usize = 90_000;

/// Posts `pdf` to `POST /api/v1/verify` from loopback address `source`; the status, the
/// JSON body and how long it took.
async fn post_pdf(addr: SocketAddr, source: &str, pdf: Vec<u8>) -> (u16, Value, Duration) {
    let client = reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client
        .post(format!("http://{addr}/api/v1/verify"))
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

/// The report of an unsigned PDF: served (200), read, found unsigned.
fn assert_unsigned_report(status: u16, body: &Value) {
    assert_eq!(status, 200, "{body}");
    let checks = body["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["code"] == "input.read" && c["outcome"] == "passed"), "{body}");
    assert!(checks.iter().any(|c| c["code"] == "pdf.signature_found" && c["outcome"] == "failed"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pdf_verifications_at_once_are_capped_at_pdf_verify_concurrency() {
    // The public gate is raised above the PDF slots, so the PDF slots are the limit that
    // is reached; a short slot wait keeps the test quick. The slot count is the default, 4.
    let layer = Layer {
        public_concurrency: Some(8),
        pdf_verify_wait: Some(1),
        pdf_verify_timeout: Some(300),
        request_timeout: Some(600),
        ..Layer::default()
    };
    let s = start(layer).await;
    let slots = s.platform.config.pdf_verify_concurrency as usize;
    assert_eq!(slots, 4);
    assert_eq!(s.platform.verification.pdf_slots().available_permits(), slots);
    let heavy = heavy_pdf(HEAVY);

    // Exactly `slots` heavy PDFs at once: every one is served.
    let holders =
        (0..slots).map(|_| tokio::spawn(post_pdf(s.addr, "127.0.0.1", heavy.clone()))).collect::<Vec<_>>();
    // Once all slots are taken (every holder is being verified), one more small PDF waits
    // its second for a slot, finds none and gets 503 `busy`.
    let started = Instant::now();
    while s.platform.verification.pdf_slots().available_permits() > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the heavy PDFs never took all slots");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body, took) = post_pdf(s.addr, "127.0.0.2", heavy_pdf(0)).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("busy")), "{body}");
    assert!(took >= Duration::from_secs(1), "answered before the slot wait: {took:?}");
    for holder in holders {
        let (status, body, _) = holder.await.unwrap();
        assert_unsigned_report(status, &body);
    }
    // The slots are all given back: a PDF is served again at once.
    assert_eq!(s.platform.verification.pdf_slots().available_permits(), slots);
    let (status, body, _) = post_pdf(s.addr, "127.0.0.2", heavy_pdf(0)).await;
    assert_unsigned_report(status, &body);
}

#[tokio::test]
async fn a_pdf_past_pdf_verify_timeout_gets_422_and_one_within_it_200() {
    let layer = Layer { pdf_verify_timeout: Some(1), request_timeout: Some(60), ..Layer::default() };
    let s = start(layer).await;
    // A small PDF is verified in milliseconds: within the limit, served.
    let (status, body, _) = post_pdf(s.addr, "127.0.0.1", heavy_pdf(10)).await;
    assert_unsigned_report(status, &body);
    // The heavy one needs about twice the limit even on an idle machine.
    let (status, body, took) = post_pdf(s.addr, "127.0.0.1", heavy_pdf(HEAVY)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("verification_timeout")), "{body}");
    assert_eq!(body["message"], "the PDF could not be verified within 1 s", "{body}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    // The verification past its limit keeps its slot until it really ends (it needs about
    // another second), then gives it back.
    let slots = s.platform.config.pdf_verify_concurrency as usize;
    assert_eq!(
        s.platform.verification.pdf_slots().available_permits(),
        slots - 1,
        "the slot went before the work"
    );
    let started = Instant::now();
    while s.platform.verification.pdf_slots().available_permits()
        < s.platform.config.pdf_verify_concurrency as usize
    {
        assert!(started.elapsed() < Duration::from_secs(60), "the slot was never given back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
