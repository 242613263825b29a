//! The verification pages and the home page in headless Chromium at a phone's width
//! (390 CSS px): nothing wider than the screen (long identifiers of a superseded licence
//! included), and every text at a contrast of at least 4.5:1 against what is behind it.
//! Screenshots land in `target/screenshots/page-390-*.png` for people to look at.
//!
//! The pages are taken as the service answers them; for the measurement each is saved to a
//! file with a small probe script appended (the served pages forbid scripts by their
//! Content-Security-Policy header, which a file does not carry).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;
use common::app;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::http::render_page;
use zhengzhao::licence::{LicenceInput, LicenceStatus};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::{IssueRequest, IssuedLicence, Platform};

const FOOD: &str = "11100000000013338W002";
const WIDTH: u32 = 390;

fn chromium() -> Option<PathBuf> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output()
            && out.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    assert!(!ci, "CI is set: chromium must be installed (tests/run-all.sh installs it)");
    eprintln!("!!! SKIPPING the browser test: no chromium (run tests/run-all.sh to install it)");
    None
}

/// Runs headless Chromium (asking for a 390 px window) on `url` with `extra` flags; returns its stdout.
fn run_chromium(browser: &Path, profile: &Path, url: &str, height: u32, extra: &[String]) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--window-size={WIDTH},{height}"))
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    out
}

/// Measures, after layout: the page's scroll width, the viewport width, the rightmost
/// element edge, and the lowest text contrast (WCAG 2 relative luminance) with its element.
const PROBE: &str = r#"<script>
(function () {
  function rgba(s) { var p = s.match(/[\d.]+/g).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; }
  function background(el) {
    for (; el; el = el.parentElement) { var c = rgba(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; }
    return { r: 255, g: 255, b: 255, a: 1 };
  }
  function lin(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function lum(c) { return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b); }
  function ratio(fg, bg) {
    var f = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
    var a = lum(f), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  var min = 99, worst = "";
  function judge(el, style, text) {
    var op = 1; for (var e = el; e; e = e.parentElement) op *= parseFloat(getComputedStyle(e).opacity);
    var fg = rgba(style.color); fg.a *= op;
    var r = ratio(fg, background(el));
    if (r < min) { min = r; worst = el.tagName + "." + el.className + " '" + text.slice(0, 30) + "' " + style.color + " on " + getComputedStyle(el).backgroundColor; }
  }
  var walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    var n = walk.currentNode, el = n.parentElement;
    if (!n.nodeValue.trim()) continue;
    judge(el, getComputedStyle(el), n.nodeValue.trim());
  }
  document.querySelectorAll("li").forEach(function (li) {
    var before = getComputedStyle(li, "::before");
    if (before.content && before.content !== "none") judge(li, before, before.content);
  });
  var right = 0, wide = "";
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect(); if (r.right > right) { right = r.right; wide = e.tagName + "." + e.className; }
  });
  parent.postMessage(JSON.stringify({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth,
    height: document.documentElement.scrollHeight, right: right, wide: wide, contrast: min, worst: worst }), "*");
})();
</script>"#;

struct Fixture {
    dir: tempfile::TempDir,
    platform: Arc<Platform>,
    seal: String,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
        let platform = Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None)
            .await
            .unwrap();
        let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
        let seal = seals.iter().find(|s| s.algorithm == Algorithm::Ed25519).unwrap().id.clone();
        Self { dir, platform: Arc::new(platform), seal }
    }

    async fn issue(&self, renews: Option<&str>) -> IssuedLicence {
        let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
        let input: LicenceInput = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let request = IssueRequest {
            seal_id: self.seal.clone(),
            ofd_seal_id: None,
            type_code: FOOD.into(),
            input,
            document: zhengzhao::licence::DocumentKind::Pdf,
            client: None,
            idempotency_key: Some(format!("browser-{}", OffsetDateTime::now_utc().unix_timestamp_nanos())),
            renews: renews.map(str::to_owned),
        };
        self.platform.issuing.issue(request, OffsetDateTime::now_utc()).await.unwrap()
    }

    async fn get(&self, path: &str) -> String {
        let response = app(self.platform.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }
}

fn page(url: &str) -> String {
    format!("/v/{}", url.rsplit('/').next().unwrap())
}

/// Headless Chromium windows are at least 500 px wide, so the page is shown in a 390 px
/// frame; the probe inside reports to the frame's parent, whose DOM Chromium dumps.
fn frame_page(dir: &Path, page: &Path, height: u32) -> PathBuf {
    let wrapper = dir.join(format!("frame-{}", page.file_name().unwrap().to_string_lossy()));
    let html = format!(
        "<!doctype html><html><body style=\"margin:0\"><iframe src=\"{}\" width=\"{WIDTH}\" height=\"{height}\" \
         style=\"border:0;display:block\"></iframe><pre id=\"probe\"></pre><script>window.addEventListener('message', \
         function (e) {{ document.getElementById('probe').textContent = e.data; }});</script></body></html>",
        page.file_name().unwrap().to_string_lossy()
    );
    std::fs::write(&wrapper, html).unwrap();
    wrapper
}

/// The probe's measurements of `page` in a 390 px frame.
fn measure(browser: &Path, profile: &Path, page: &Path, dir: &Path) -> serde_json::Value {
    let wrapper = frame_page(dir, page, 2400);
    let url = format!("file://{}", wrapper.display());
    let dom = run_chromium(
        browser,
        profile,
        &url,
        2400,
        &["--dump-dom".to_owned(), "--virtual-time-budget=5000".to_owned()],
    );
    let start = dom.find("<pre id=\"probe\">").unwrap_or_else(|| panic!("no probe in {dom}")) + 16;
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let json = json.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("probe {json:?}: {e}"))
}

/// A screenshot of the 390 px frame, the whole page tall, cropped to the frame.
fn screenshot(browser: &Path, profile: &Path, page: &Path, height: u32, shot: &Path) {
    let wrapper = frame_page(page.parent().unwrap(), page, height);
    let full = shot.with_extension("full.png");
    let _ = std::fs::remove_file(&full);
    let url = format!("file://{}", wrapper.display());
    run_chromium(browser, profile, &url, height, &[format!("--screenshot={}", full.display())]);
    let pixmap = tiny_skia::Pixmap::load_png(&full).unwrap();
    let frame = pixmap
        .clone_rect(tiny_skia::IntRect::from_xywh(0, 0, WIDTH, height.min(pixmap.height())).unwrap())
        .unwrap();
    frame.save_png(shot).unwrap();
    let _ = std::fs::remove_file(&full);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_fit_a_390_px_phone_with_readable_contrast() {
    let Some(browser) = chromium() else { return };
    let f = Fixture::new().await;
    let valid = f.issue(None).await;
    let old = f.issue(None).await;
    f.issue(Some(&old.identifier)).await;
    let revoked = f.issue(None).await;
    f.platform
        .register
        .set_status(
            None,
            &revoked.identifier,
            LicenceStatus::Revoked,
            "以欺骗手段取得",
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let mut forged = zhengzhao::token::decode_from_url(&valid.url).unwrap();
    let last = forged.len() - 3;
    forged[last] ^= 0x01;
    let later = OffsetDateTime::now_utc() + time::Duration::days(366 * 6);
    let expired =
        render_page(&f.platform.verification.verify_token_text(&valid.url, later).await.unwrap(), None)
            .unwrap();

    let pages = vec![
        ("home", f.get("/").await),
        ("valid", f.get(&page(&valid.url)).await),
        ("superseded", f.get(&page(&old.url)).await),
        ("revoked", f.get(&page(&revoked.url)).await),
        ("forged", f.get(&format!("/v/{}", zhengzhao::token::encode_for_url(&forged))).await),
        ("expired", expired),
        ("unreadable", f.get("/v/NOT-A-LICENCE-TOKEN").await),
        ("identifier", f.get(&format!("/verify?q={}", old.identifier)).await),
    ];
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = f.dir.path().join("chromium-profile");
    let mut problems = Vec::new();
    for (name, html) in pages {
        assert!(html.contains("</body>"), "{name}: {html}");
        let file = f.dir.path().join(format!("{name}.html"));
        std::fs::write(&file, html.replace("</body>", &format!("{PROBE}</body>"))).unwrap();
        let m = measure(&browser, &profile, &file, f.dir.path());
        eprintln!("{name}: {m}");
        let viewport = m["viewport"].as_f64().unwrap();
        assert_eq!(viewport, f64::from(WIDTH), "{name}: the frame is not a 390 px phone: {m}");
        if m["scroll"].as_f64().unwrap() > viewport || m["right"].as_f64().unwrap() > viewport + 0.5 {
            problems.push(format!("{name}: wider than the screen: {m}"));
        }
        if m["contrast"].as_f64().unwrap() < 4.5 {
            problems.push(format!("{name}: contrast below 4.5:1: {m}"));
        }
        let height = m["height"].as_u64().unwrap().clamp(400, 6000) as u32;
        let shot = shots.join(format!("page-{WIDTH}-{name}.png"));
        screenshot(&browser, &profile, &file, height, &shot);
        let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot for {name}"));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name}: screenshot of {} bytes",
            png.len()
        );
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), WIDTH, "{name}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
