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
        zhengzhao::server::run(served, listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { _dir: dir, addr, platform, stop: Some(stop), task: Some(task) }
}

/// A well-formed, unsigned PDF of one blank page plus `extra` objects (their bodies).
fn pdf_with(extra: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let (pdf, offsets) = objects(extra);
    xref_and_trailer(pdf, &offsets)
}

/// The header and objects of [`pdf_with`], and where each object starts.
fn objects(extra: impl IntoIterator<Item = Vec<u8>>) -> (Vec<u8>, Vec<usize>) {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    let page = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
    ];
    for body in page.into_iter().chain(extra) {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(&body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    (pdf, offsets)
}

/// `pdf` with a cross-reference table of `offsets` (object 1 the catalog) and its trailer.
fn xref_and_trailer(mut pdf: Vec<u8>, offsets: &[usize]) -> Vec<u8> {
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1)
            .as_bytes(),
    );
    pdf
}

/// A small PDF of `objects` arrays of 90 small numbers.
fn numbers_pdf(objects: usize) -> Vec<u8> {
    let numbers = format!("[{}]", (0..90).map(|i| format!("{i} ")).collect::<String>());
    pdf_with((0..objects).map(|_| numbers.clone().into_bytes()))
}

/// How long each verification holds its slot in the tests that fill the slots or pass the
/// time limit: the complexity limits keep every real input fast (about a second at most,
/// debug build), so the tests hold the slots on purpose.
const HOLD: Duration = Duration::from_secs(3);

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
    let heavy = numbers_pdf(10);
    s.platform.verification.hold_pdf_verifications(HOLD);

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
    let (status, body, took) = post_pdf(s.addr, "127.0.0.2", numbers_pdf(0)).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("busy")), "{body}");
    assert!(took >= Duration::from_secs(1), "answered before the slot wait: {took:?}");
    for holder in holders {
        let (status, body, _) = holder.await.unwrap();
        assert_unsigned_report(status, &body);
    }
    // The slots are all given back: a PDF is served again at once.
    assert_eq!(s.platform.verification.pdf_slots().available_permits(), slots);
    s.platform.verification.hold_pdf_verifications(Duration::ZERO);
    let (status, body, _) = post_pdf(s.addr, "127.0.0.2", numbers_pdf(0)).await;
    assert_unsigned_report(status, &body);
}

#[tokio::test]
async fn a_pdf_past_pdf_verify_timeout_gets_422_and_one_within_it_200() {
    let layer = Layer { pdf_verify_timeout: Some(1), request_timeout: Some(60), ..Layer::default() };
    let s = start(layer).await;
    // A small PDF is verified in milliseconds: within the limit, served.
    let (status, body, _) = post_pdf(s.addr, "127.0.0.1", numbers_pdf(10)).await;
    assert_unsigned_report(status, &body);
    // One that holds its slot for three times the limit.
    s.platform.verification.hold_pdf_verifications(HOLD);
    let (status, body, took) = post_pdf(s.addr, "127.0.0.1", numbers_pdf(10)).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("verification_timeout")), "{body}");
    assert_eq!(body["message"], "the PDF could not be verified within 1 s", "{body}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    // The verification past its limit keeps its slot until it really ends (about two
    // seconds later), then gives it back.
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

/// `body` between `open` and `close`.
fn wrapped(open: &[u8], body: Vec<u8>, close: &[u8]) -> Vec<u8> {
    [open.to_vec(), body, close.to_vec()].concat()
}

/// A deflated object stream holding one object, `body`.
fn object_stream(body: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let header = b"4 0 ";
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(header).unwrap();
    deflate.write_all(body).unwrap();
    let data = deflate.finish().unwrap();
    let dict = format!(
        "<< /Type /ObjStm /N 1 /First {} /Length {} /Filter /FlateDecode >>\nstream\n",
        header.len(),
        data.len()
    );
    [dict.into_bytes(), data, b"\nendstream".to_vec()].concat()
}

/// Hostile PDFs of at most 32 MB whose objects cost lopdf gigabytes without the limits.
/// Peak RSS of `zhengzhao verify` (debug build) before the limits, in the same order:
/// 9.8 GB, 7.9 GB, 2.0 GB, 0.97 GB (from a 4.5 KB file).
fn hostile_pdfs() -> Vec<(&'static str, Vec<u8>)> {
    let size = 31 * 1024 * 1024;
    let block = [b"[".repeat(99), b"]".repeat(99)].concat();
    // One object of 120,000 empty arrays (under the token limit) that 20,000 more
    // cross-reference entries name again: lopdf parses it once per entry.
    let (pdf, mut offsets) = objects([wrapped(b"[", b"[]".repeat(120_000), b"]")]);
    let last = *offsets.last().unwrap();
    offsets.extend(std::iter::repeat_n(last, 20_000));
    vec![
        ("16 million empty arrays in one array", pdf_with([wrapped(b"[", b"[]".repeat(size / 2), b"]")])),
        (
            "arrays nested 99 deep, over and over",
            pdf_with([wrapped(b"[", block.repeat(size / block.len()), b"]")]),
        ),
        ("16 million numbers", pdf_with([wrapped(b"[", b"0 ".repeat(size / 2), b"]")])),
        ("5 million empty dictionaries", pdf_with([wrapped(b"<<", b"/a<<>>".repeat(size / 6), b">>")])),
        (
            "an object stream inflating to 1.5 million empty arrays",
            pdf_with([object_stream(&wrapped(b"[", b"[]".repeat(1_500_000), b"]"))]),
        ),
        ("one big object named by 20,000 entries", xref_and_trailer(pdf, &offsets)),
    ]
}

#[tokio::test]
async fn hostile_pdfs_are_refused_as_too_complex() {
    // Refusing a 31 MB file means reading all of it, which an unoptimised test build on a
    // busy 2-core machine has taken over the default 10 s verification time: this test is
    // about the refusal's code, so it gives the work more time.
    let layer = Layer { request_timeout: Some(120), pdf_verify_timeout: Some(60), ..Layer::default() };
    let s = start(layer).await;
    for (what, pdf) in hostile_pdfs() {
        assert!(pdf.len() <= zhengzhao::platform::MAX_VERIFY_PDF_BYTES, "{what}");
        let (status, body, took) = post_pdf(s.addr, "127.0.0.1", pdf).await;
        eprintln!("{what}: {status} in {took:?}");
        assert_eq!((status, body["code"].as_str()), (422, Some("pdf_too_complex")), "{what}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("more structure")), "{body}");
    }
    // Under the limits, a PDF of many small objects still reads.
    let (status, body, _) = post_pdf(s.addr, "127.0.0.1", numbers_pdf(1000)).await;
    assert_unsigned_report(status, &body);
    // The home page's form says the same in words, not a parser's message.
    let (_, pdf) = hostile_pdfs().swap_remove(4);
    let boundary = "zz-boundary-7f3a";
    let form = [
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"x.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes(),
        pdf,
        format!("\r\n--{boundary}--\r\n").into_bytes(),
    ]
    .concat();
    let response = reqwest::Client::new()
        .post(format!("http://{}/verify", s.addr))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(form)
        .send()
        .await
        .unwrap();
    let page = response.text().await.unwrap();
    assert!(page.contains("PDF 结构过于复杂") && page.contains("more structure"), "{page}");
    assert!(!page.contains("tokens, at most"), "the parser's words: {page}");
}

/// Peak memory of `zhengzhao verify` on every hostile PDF, measured with `/usr/bin/time`:
/// refused, and under 512 MB (so that the default `pdf_verify_concurrency` of 4 fits a
/// small machine), where it was up to 9.8 GB.
#[test]
fn verifying_a_hostile_pdf_takes_bounded_memory() {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        eprintln!("SKIPPED: /usr/bin/time is not installed; memory not measured");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_zhengzhao");
    let init = std::process::Command::new(bin)
        .arg("--data")
        .arg(&data)
        .args(["init", "--platform-name", "测试平台", "--public-url", "https://zz.example.gov.cn"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    for (what, pdf) in hostile_pdfs() {
        let file = dir.path().join("hostile.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let run = std::process::Command::new(time)
            .args(["-f", "max-rss-kb %M"])
            .arg(bin)
            .arg("--data")
            .arg(&data)
            .arg("verify")
            .arg(&file)
            .output()
            .unwrap();
        let (out, err) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
        let kb: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("max-rss-kb "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{what}: no measurement in {err}"));
        eprintln!("{what}: {} bytes, peak RSS {} MB", pdf.len(), kb / 1024);
        assert_eq!(run.status.code(), Some(1), "{what}: {out}{err}");
        assert!(out.contains("pdf_too_complex"), "{what}: {out}");
        assert!(kb < 512 * 1024, "{what}: peak RSS {kb} KB");
    }
}
