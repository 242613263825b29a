//! The command line's promises about how it ends: exit code 1 with one line for bad input,
//! 2 with one line for arguments it cannot use; `serve` finishing a request in flight on
//! SIGTERM; a second `serve` on an existing data directory keeping what is there, and a
//! second one on a taken address refusing to start.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

const DEPT: &str = "11310115MB2C90510L";

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
        cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE").env("ZHENGZHAO_LOG", "warn").stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Everything in the data directory: names and bytes of the files, the database as
    /// its SQL dump (its file's bytes change when SQLite merges its write-ahead log).
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(entries) = std::fs::read_dir(dir) else { return };
            for e in entries {
                let path = e.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "db") {
                    let dump = Command::new("python3")
                        .args([
                            "-c",
                            "import sqlite3,sys; print('\\n'.join(sqlite3.connect(sys.argv[1]).iterdump()))",
                        ])
                        .arg(&path)
                        .output()
                        .expect("python3 must be installed (tests/run-all.sh installs it)");
                    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
                    // The access log records refusals too (a refused `licence history` is
                    // evidence): everything else must stay as it was.
                    let kept: Vec<&[u8]> = dump
                        .stdout
                        .split(|b| *b == b'\n')
                        .filter(|l| !String::from_utf8_lossy(l).contains("\"access_log"))
                        .collect();
                    out.push((path.clone(), kept.join(&b'\n')));
                } else if !path.to_string_lossy().ends_with("-wal")
                    && !path.to_string_lossy().ends_with("-shm")
                {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = vec![];
        walk(&self.data(), &mut out);
        out.sort();
        out
    }
}

/// The exit code and the non-empty lines of stderr.
fn code_and_lines(out: &Output) -> (Option<i32>, Vec<String>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), stderr.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect())
}

#[test]
fn bad_input_exits_1_and_unusable_arguments_exit_2_each_with_one_line() {
    let env = Env::new();
    let init = env.run(&["init", "--platform-name", "测试证照平台", "--public-url", "http://127.0.0.1:9/"]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let dept =
        env.run(&["department", "add", "--code", DEPT, "--name", "演示市市场监督管理局", "--area", "310115"]);
    assert!(dept.status.success(), "{}", String::from_utf8_lossy(&dept.stderr));
    let bad_json = env.dir.path().join("bad.json");
    std::fs::write(&bad_json, "{not json").unwrap();
    let out_pdf = env.dir.path().join("x.pdf");

    // Arguments the command line cannot use: clap refuses them before anything runs.
    let unusable: &[&[&str]] = &[
        &[],
        &["no-such-command"],
        &["seal", "list", "--no-such-flag"],
        &["seal", "create", "--name", "行政审批专用章"],
        &["seal", "create", "--department", DEPT, "--name", "章", "--algorithm", "rsa"],
        &["serve", "--listen", "not-an-address"],
        &["issue", "--seal", "31011500000001"],
        &["verify"],
        &["delegation", "add", "--department", DEPT, "--client", "cl_x", "--types", "11100000000013338W002"],
    ];
    // Input the command understood but refuses: exit 1.
    let bad: Vec<Vec<&str>> = vec![
        vec!["department", "add", "--code", "11310115MB2C90510X", "--name", "某局", "--area", "310115"],
        vec!["seal", "create", "--department", "91370406L24894136J", "--name", "章"],
        vec!["seal", "cert", "99999999999999"],
        vec!["seal", "revoke", "99999999999999", "--reason", "superseded"],
        vec!["client", "revoke", "no-such-client"],
        vec!["delegation", "revoke", "dg_nothing"],
        vec![
            "delegation",
            "add",
            "--department",
            DEPT,
            "--client",
            "cl_nobody",
            "--types",
            "11100000000013338W002",
            "--seals",
            "31011500000001",
        ],
        vec!["delegation", "list", "--department", "11310115MB2C90510X"],
        vec!["licence", "history", "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"],
        vec![
            "issue",
            "--seal",
            "99999999999999",
            "--type",
            "11100000000013338W002",
            "--input",
            bad_json.to_str().unwrap(),
            "--out",
            out_pdf.to_str().unwrap(),
        ],
    ];
    let before = env.snapshot();
    for args in unusable {
        let (code, lines) = code_and_lines(&env.run(args));
        assert_eq!(code, Some(2), "{args:?} is an unusable command line: exit 2, got {code:?}: {lines:?}");
        assert_eq!(lines.len(), 1, "{args:?}: one line on stderr, got {lines:?}");
    }
    for args in &bad {
        let (code, lines) = code_and_lines(&env.run(args));
        assert_eq!(code, Some(1), "{args:?} is bad input: exit 1, got {code:?}: {lines:?}");
        assert_eq!(lines.len(), 1, "{args:?}: one line on stderr, got {lines:?}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {lines:?}");
    }
    assert!(!out_pdf.exists(), "a refused issue writes no file");
    let after = env.snapshot();
    for ((p, a), (q, b)) in before.iter().zip(&after) {
        assert_eq!(p, q, "refused commands changed the files of the data directory");
        assert!(a == b, "refused commands changed {}", p.display());
    }
    assert_eq!(before.len(), after.len(), "refused commands added or removed files");
}

/// A running `zhengzhao serve` on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    printed: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(env: &Env, port: u16) -> Server {
    let mut child = env
        .cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !printed.contains("listening on") {
        assert!(Instant::now() < deadline, "serve did not start: {printed}");
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("serve exited early: {printed}");
        }
        printed.push_str(&line);
    }
    // Keep reading stdout so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while stdout.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    Server { child, port, printed }
}

fn sigterm(child: &Child) {
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
}

/// Waits up to `limit` for the process to end; its exit status.
fn wait_for(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let env = Env::new();
    let mut server = start(&env, free_port());
    let body = br#"{"identifier": "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // Half the body now: the request has begun when the signal arrives.
    let half = body.len() / 2;
    stream.write_all(&body[..half]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&server.child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.child.try_wait().unwrap().is_none(), "the server quit with a request in flight");
    stream.write_all(&body[half..]).unwrap();
    let mut raw = vec![];
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 200"), "the request in flight got no complete answer: {text}");
    let json = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let report: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json:?}"));
    assert_eq!(report["verdict"], "invalid", "an unknown licence: {report}");
    let status = wait_for(&mut server.child, Duration::from_secs(30));
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

#[test]
fn second_serve_keeps_the_data_directory_and_a_taken_address_is_refused() {
    let env = Env::new();
    let port = free_port();
    let mut first = start(&env, port);
    assert!(first.printed.contains("initialised a new demo platform"), "{}", first.printed);
    let snapshot_of = |out: &Output| String::from_utf8(out.stdout.clone()).unwrap();

    // A second serve on the same address while the first runs: one clear line, exit 1.
    let out = env.run(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let (code, lines) = code_and_lines(&out);
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&format!("127.0.0.1:{port}")), "the line names the address: {lines:?}");

    let seals = snapshot_of(&env.run(&["seal", "list", "--json"]));
    let roots = snapshot_of(&env.run(&["pki", "root"]));
    let keys: Vec<(PathBuf, Vec<u8>)> =
        env.snapshot().into_iter().filter(|(p, _)| p.starts_with(env.data().join("keys"))).collect();
    assert!(!keys.is_empty());
    sigterm(&first.child);
    assert!(wait_for(&mut first.child, Duration::from_secs(30)).success());

    // The second start opens what is there: no new platform, the same roots, seals and keys.
    let second = start(&env, free_port());
    assert!(!second.printed.contains("initialised a new demo platform"), "{}", second.printed);
    for url in [
        "home page:",
        "health:",
        "trust list:",
        "OpenAPI:",
        "/healthz",
        "/pki/trust-list.json",
        "/api/openapi.json",
    ] {
        assert!(second.printed.contains(url), "a later start prints {url:?} too: {}", second.printed);
    }
    assert_eq!(snapshot_of(&env.run(&["seal", "list", "--json"])), seals);
    assert_eq!(snapshot_of(&env.run(&["pki", "root"])), roots);
    let keys_after: Vec<(PathBuf, Vec<u8>)> =
        env.snapshot().into_iter().filter(|(p, _)| p.starts_with(env.data().join("keys"))).collect();
    assert!(keys == keys_after, "a second serve changed the key files");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", second.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 200") && raw.contains("\"ok\""), "{raw}");
}

/// The licence serials a server reserved and did not use go back to the database when it
/// stops: a command issuing after it takes the next serial, not one past the server's block.
#[test]
fn a_stopped_server_gives_back_the_serials_it_did_not_use() {
    let env = Env::new();
    let mut server = start(&env, free_port());
    let seal = server
        .printed
        .lines()
        .find(|l| l.starts_with("demo seal:") && l.contains(&format!("(ed25519, {DEPT}")))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("no Ed25519 demo seal of {DEPT}: {}", server.printed))
        .to_owned();
    let added = env.run(&["client", "add", "--department", DEPT, "--name", "审批系统", "--scopes", "issue"]);
    let stdout = String::from_utf8(added.stdout).unwrap();
    let key = stdout.lines().find_map(|l| l.strip_prefix("key:")).unwrap().trim().to_owned();
    let example = std::fs::read_to_string(format!(
        "{}/templates/examples/food-business-licence.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let body = format!(
        r#"{{"seal_id":"{seal}","type_code":"11100000000013338W002","document":"none","licence":{example}}}"#
    );
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST /api/v1/licences HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Idempotency-Key: first\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 201"), "{raw}");
    assert!(raw.contains("0000001.001."), "the server issued serial 1: {raw}");
    sigterm(&server.child);
    assert!(wait_for(&mut server.child, Duration::from_secs(30)).success());

    let input = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let out = env.run(&[
        "issue",
        "--seal",
        &seal,
        "--type",
        "11100000000013338W002",
        "--input",
        &input,
        "--document",
        "none",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap();
    let serial = id.trim().split('.').nth(7).unwrap().to_owned();
    assert!(serial.ends_with("0000002"), "the command took {serial} ({id})");
}
