//! Verification from outside the process: `zhengzhao verify` (exit codes 0/1/2, online and
//! offline with a trust list), and the `/v/{token}` page in a real headless Chromium
//! against a running `zhengzhao serve`, with screenshots saved for people to look at.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

const SEAL_ED: &str = "31011500000001";
const SEAL_P256: &str = "31011500000002";
const FOOD: &str = "11100000000013338W002";

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("zhengzhao").unwrap();
        cmd.arg("--data").arg(self.dir.path().join("data")).args(args);
        cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE").env("ZHENGZHAO_LOG", "warn");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Issues the example food licence; returns (identifier, url, pdf path).
    fn issue(&self, seal: &str, name: &str) -> (String, String, PathBuf) {
        let input = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
        let pdf = self.path(name);
        let out = self.ok(&[
            "issue",
            "--seal",
            seal,
            "--type",
            FOOD,
            "--input",
            &input,
            "--out",
            pdf.to_str().unwrap(),
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["identifier"].as_str().unwrap().to_owned(), v["url"].as_str().unwrap().to_owned(), pdf)
    }
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `serve` on a fresh data directory; returns the child and its port.
fn serve(env: &Env) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = env
        .cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("ZHENGZHAO_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = String::new();
    while !printed.contains("listening on") {
        assert!(Instant::now() < deadline, "serve did not start: {printed}");
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "serve exited: {printed}");
        printed.push_str(&line);
    }
    (child, port)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

#[test]
fn verify_exits_0_valid_1_invalid_2_cannot_tell() {
    let env = Env::new();
    let (child, _) = serve(&env);
    stop(child);
    let (id, url, pdf) = env.issue(SEAL_ED, "a.pdf");
    let (_, _, pdf_p256) = env.issue(SEAL_P256, "b.pdf");

    // Online, against the local register: valid, exit 0.
    for input in [pdf.to_str().unwrap(), pdf_p256.to_str().unwrap(), url.as_str(), id.as_str()] {
        let out = env.run(&["verify", input]);
        assert_eq!(code(&out), 0, "{input}: {}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(stdout(&out).starts_with("有效 Valid · "), "{}", stdout(&out));
        assert!(!stdout(&out).contains("(Pdf") && !stdout(&out).contains("Online)"), "{}", stdout(&out));
    }
    let out = env.run(&["verify", url.as_str(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "valid");

    // Offline with an exported trust list: cannot tell the status, exit 2.
    let trust = env.path("trust-list.json");
    env.ok(&["pki", "trust-list", "--out", trust.to_str().unwrap()]);
    let out = env.run(&["verify", pdf.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--offline"]);
    assert_eq!(code(&out), 2, "{}", stdout(&out));
    assert!(stdout(&out).contains("licence.status"), "{}", stdout(&out));

    // Tampered PDF: invalid, exit 1.
    let mut bytes = std::fs::read(&pdf).unwrap();
    let at = bytes.len() / 4;
    bytes[at] ^= 0x20;
    let tampered = env.path("tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    assert_eq!(code(&env.run(&["verify", tampered.to_str().unwrap()])), 1);

    // Revoked licence: invalid online.
    env.ok(&["licence", "status", &id, "--set", "revoked", "--reason", "以欺骗手段取得"]);
    let out = env.run(&["verify", url.as_str()]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    // The same bilingual words as the page: mark, titles, both messages, the stable code.
    let text = stdout(&out);
    assert!(text.starts_with("无效 Invalid · 二维码 QR token · 在线核验 online"), "{text}");
    assert!(
        text.contains("  ✗ 证照状态 Licence status: 证照状态：撤销 / status: revoked (03)  [licence.status]"),
        "{text}"
    );
    assert!(text.contains("  ✓ 二维码签名 QR token signature: 二维码签名有效"), "{text}");
    assert!(text.contains("证照状态 Status:       撤销 (since "), "{text}");
    assert!(!text.contains("Online") && !text.contains("(Token"), "Rust enum names: {text}");

    // Unusable input: one line, exit 2.
    let empty = env.path("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    let not_pdf = env.path("photo.pdf");
    std::fs::write(&not_pdf, b"\x89PNG....").unwrap();
    for args in [
        vec!["verify", empty.to_str().unwrap()],
        vec!["verify", not_pdf.to_str().unwrap()],
        vec!["verify", "missing.pdf"],
        vec!["verify", url.as_str(), "--trust", not_pdf.to_str().unwrap()],
    ] {
        let out = env.run(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().filter(|l| !l.trim().is_empty()).count(), 1, "{args:?}: {stderr}");
    }
    // A random token is read and judged invalid.
    assert_eq!(code(&env.run(&["verify", "http://127.0.0.1/v/AAAAAAAAAAAAAAAAAAAAAAAA"])), 1);
}

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output()
            && out.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    common::skip::skip("the browser test", "no chromium (tests/run-all.sh installs it)");
    None
}

/// Runs headless Chromium on `url` with `extra` flags, with a time limit.
fn run_chromium(browser: &Path, profile: &Path, url: &str, extra: &[String]) -> String {
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
            "--window-size=412,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut dom = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut dom).unwrap();
    dom
}

#[test]
fn the_verification_page_renders_in_headless_chromium() {
    let Some(browser) = chromium() else { return };
    let env = Env::new();
    let (child, port) = serve(&env);
    let (_, valid_url, _) = env.issue(SEAL_ED, "valid.pdf");
    let (revoked_id, revoked_url, _) = env.issue(SEAL_P256, "revoked.pdf");
    env.ok(&["licence", "status", &revoked_id, "--set", "revoked", "--reason", "以欺骗手段取得"]);
    // Forged: the valid token with one signature byte changed.
    let token = valid_url.rsplit('/').next().unwrap();
    let mut bytes = zhengzhao::token::decode_from_url(token).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    let page = |token: &str| format!("http://127.0.0.1:{port}/v/{token}");
    let forged_url = page(&zhengzhao::token::encode_for_url(&bytes));
    let valid_url = page(token);
    let revoked_url = page(revoked_url.rsplit('/').next().unwrap());

    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = env.path("chromium-profile");
    for (name, url, verdict, words) in [
        (
            "valid",
            valid_url.as_str(),
            "valid",
            vec!["有效", "Valid", "上海浦江美食餐饮管理有限公司", "核验时间"],
        ),
        ("revoked", revoked_url.as_str(), "invalid", vec!["无效", "证照状态：撤销", "Why it fails"]),
        ("forged", forged_url.as_str(), "invalid", vec!["无效", "二维码签名无效", "token.signature"]),
    ] {
        let dom = run_chromium(&browser, &profile, url, &["--dump-dom".to_owned()]);
        assert!(dom.contains(&format!("data-verdict=\"{verdict}\"")), "{name}: {dom}");
        for w in words {
            assert!(dom.contains(w), "{name}: {w:?} missing from the rendered DOM");
        }
        let shot = shots.join(format!("verify-{name}.png"));
        let _ = std::fs::remove_file(&shot);
        run_chromium(&browser, &profile, url, &[format!("--screenshot={}", shot.display())]);
        let png = std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot for {name}"));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name}: screenshot of {} bytes",
            png.len()
        );
    }
    stop(child);
}
