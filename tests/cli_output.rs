//! What the command line prints for people: the URLs of the service, `types list` aligned
//! by display width and as JSON a form can be built from, `config` with the database URL in
//! force, and a quiet exit when stdout is a closed pipe.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use unicode_width::UnicodeWidthStr;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("zhengzhao").unwrap();
        cmd.arg("--data").arg(self.data()).args(args);
        cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE")
            .env_remove("ZHENGZHAO_DATABASE_URL")
            .env("ZHENGZHAO_LOG", "warn");
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn init(&self) -> String {
        self.ok(&["init", "--platform-name", "测试证照平台", "--public-url", "http://127.0.0.1:9"])
    }
}

#[test]
fn init_prints_every_useful_url() {
    let env = Env::new();
    let out = env.init();
    for line in [
        "home page:      http://127.0.0.1:9/",
        "health:         http://127.0.0.1:9/healthz",
        "trust list:     http://127.0.0.1:9/pki/trust-list.json",
        "OpenAPI:        http://127.0.0.1:9/api/openapi.json",
    ] {
        assert!(out.lines().any(|l| l == line), "{line:?} missing from:\n{out}");
    }
}

/// The display column at which `needle` starts in `line`.
fn column(line: &str, needle: &str) -> usize {
    let at = line.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    line[..at].width()
}

#[test]
fn types_list_columns_line_up_in_display_width() {
    let env = Env::new();
    let out = env.ok(&["types", "list"]);
    let catalogue = zhengzhao::licence::Catalogue::shipped().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), catalogue.iter().count() + 1, "a header and one line per type:\n{out}");
    let (mut english, mut holder, mut example) = (Vec::new(), Vec::new(), Vec::new());
    for t in catalogue.iter() {
        let line = lines.iter().find(|l| l.starts_with(t.code.as_str())).unwrap();
        assert!(line.contains(&t.name), "{line}");
        english.push(column(line, &t.name_en));
        holder.push(column(line, t.holder_code_type.label()));
        example.push(column(line, "templates/examples/"));
    }
    // The names differ in length (教师资格证书 vs 食品经营许可证), the columns do not.
    for starts in [&english, &holder, &example] {
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "columns misaligned: {starts:?}\n{out}");
    }
    assert_eq!(column(lines[0], "name (en)"), english[0], "the header lines up too:\n{out}");
}

#[test]
fn types_list_json_gives_what_a_form_needs() {
    let env = Env::new();
    let out = env.ok(&["types", "list", "--json"]);
    let types: serde_json::Value = serde_json::from_str(&out).unwrap();
    let catalogue = zhengzhao::licence::Catalogue::shipped().unwrap();
    let mut choices = 0;
    for t in catalogue.iter() {
        let v = types.as_array().unwrap().iter().find(|v| v["code"] == t.code.as_str()).unwrap();
        assert!(v["input"]["valid_from"].is_string() && v["input"]["valid_until"].is_string(), "{v}");
        let fields = v["fields"].as_array().unwrap();
        assert_eq!(fields.len(), t.fields.len());
        for (f, def) in fields.iter().zip(&t.fields) {
            assert_eq!(f["key"], def.key.as_str());
            let kind = f["kind"].as_str().unwrap();
            assert!(["text", "multiline", "date", "uscc", "citizen_id", "choice"].contains(&kind), "{f}");
            let options: Vec<&str> =
                f["options"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
            assert_eq!(options, def.options.iter().map(String::as_str).collect::<Vec<_>>(), "{f}");
            if kind == "choice" {
                assert!(!options.is_empty(), "a choice lists its options: {f}");
                choices += 1;
            }
            assert!(f["max_chars"].is_u64() && f["required"].is_boolean(), "{f}");
        }
    }
    assert!(choices >= 2, "the shipped types have choice fields (性别, 类型)");
}

#[test]
fn config_prints_the_database_url_in_force() {
    let env = Env::new();
    env.init();
    let out = env.ok(&["config"]);
    let line = out.lines().find(|l| l.starts_with("database_url")).unwrap();
    assert_ne!(line, "database_url = \"\"", "{out}");
    let expected = env.data().join("zhengzhao.db");
    assert!(line.contains("sqlite://") && line.contains(expected.to_str().unwrap()), "{line}");

    // A PostgreSQL URL from the environment is shown, its password not.
    let mut cmd = env.cmd(&["config"]);
    cmd.env("ZHENGZHAO_DATABASE_URL", "postgres://zz:s3cret-pw@db.internal/zhengzhao");
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    let line = out.lines().find(|l| l.starts_with("database_url")).unwrap();
    assert!(line.contains("db.internal/zhengzhao") && line.contains("zz"), "{line}");
    assert!(!out.contains("s3cret-pw"), "{out}");
}

#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let env = Env::new();
    env.init();
    for args in [&["pki", "crl"][..], &["pki", "root"], &["types", "list", "--json"], &["config"]] {
        let mut child = env.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // The reader goes away before anything is written, as `| head -0` or a closed pager.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().is_empty(), "{args:?}: {stderr}");
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
    }
}

#[test]
fn serve_keeps_serving_when_its_stdout_is_closed() {
    use std::io::{Read, Write};
    let env = Env::new();
    env.init();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = env
        .cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut answer = String::new();
    while std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            answer.clear();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(answer.starts_with("HTTP/1.1 200"), "serve stopped answering: {answer:?} {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
