//! The command line end to end, as an operator uses it, with OpenSSL as the independent
//! checker of the certificates and CRLs it makes.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
        cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE").env("ZHENGZHAO_LOG", "warn");
        cmd
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        output_ok(self.cmd(args))
    }

    /// Runs and expects failure with exactly one line on stderr; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        output_fails(self.cmd(args))
    }

    fn init(&self) -> String {
        self.ok(&["init", "--platform-name", "测试证照平台", "--public-url", "http://127.0.0.1:9/"])
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

fn output_ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn output_fails(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "{cmd:?} should fail; stdout: {}", String::from_utf8_lossy(&out.stdout));
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    lines[0].to_owned()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out =
        Command::new("openssl").args(args).stdin(Stdio::null()).output().expect("openssl must be installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The algorithms of the platform's roots (`Algorithm::ALL`).
const ALGORITHMS: [&str; 3] = ["ed25519", "p256", "sm2"];

#[test]
fn init_makes_every_root_once_with_private_keys() {
    let env = Env::new();
    let out = env.init();
    for alg in ALGORITHMS {
        assert!(out.contains(&format!("created {alg} root CA")), "{out}");
    }
    assert!(out.contains("http://127.0.0.1:9/pki/crl-p256.crl"), "{out}");
    assert!(out.contains("http://127.0.0.1:9/pki/crl-sm2.crl"), "{out}");
    for alg in ALGORITHMS {
        assert_eq!(mode(&env.data().join(format!("keys/root-{alg}.key"))), 0o600);
    }
    assert_eq!(mode(&env.data().join("keys")), 0o700);
    let roots = env.ok(&["pki", "root"]);
    assert_eq!(roots.matches("BEGIN CERTIFICATE").count(), ALGORITHMS.len());
    let key_before = std::fs::read(env.data().join("keys/root-ed25519.key")).unwrap();

    let again = env.init();
    for alg in ALGORITHMS {
        assert!(again.contains(&format!("kept existing {alg} root CA")), "{again}");
    }
    assert_eq!(env.ok(&["pki", "root"]), roots);
    assert_eq!(std::fs::read(env.data().join("keys/root-ed25519.key")).unwrap(), key_before);

    // The roots are CA certificates with path length 0 and keyCertSign + cRLSign. (OpenSSL
    // 3.0 needs the standard SM2 distinguishing ID spelt out; tests/openssl_sm2.rs checks
    // the SM2 root's self-signature, which `openssl verify` does not.)
    for alg in ALGORITHMS {
        let pem = env.file(&format!("root-{alg}.pem"), &env.ok(&["pki", "root", "--algorithm", alg]));
        let (ok, text) = openssl(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
        assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
        let pem = pem.to_str().unwrap();
        let distid = if alg == "sm2" { &["-vfyopt", "distid:1234567812345678"][..] } else { &[] };
        let (ok, text) = openssl(&[&["verify", "-CAfile", pem][..], distid, &[pem]].concat());
        assert!(ok, "{text}");
    }
}

/// A data directory made before SM2 (roots Ed25519 and P-256 only) gains an SM2 root on
/// the next `init`, and its other roots, keys and CRLs stay as they were.
#[test]
fn init_adds_the_sm2_root_to_an_older_data_directory_and_touches_nothing_else() {
    let env = Env::new();
    env.init();
    // Back to what an older version left: no SM2 root, CRL or key.
    let db = format!("sqlite://{}", env.data().join("zhengzhao.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        sqlx::query("DELETE FROM crls WHERE algorithm = 'sm2'").execute(&pool).await.unwrap();
        sqlx::query("DELETE FROM roots WHERE algorithm = 'sm2'").execute(&pool).await.unwrap();
        pool.close().await;
    });
    std::fs::remove_file(env.data().join("keys/root-sm2.key")).unwrap();
    assert!(env.fails(&["pki", "root", "--algorithm", "sm2"]).contains("init"));
    let before: Vec<(String, String, Vec<u8>)> = ["ed25519", "p256"]
        .into_iter()
        .map(|alg| {
            let root = env.ok(&["pki", "root", "--algorithm", alg]);
            let crl = env.ok(&["pki", "crl", "--algorithm", alg]);
            (root, crl, std::fs::read(env.data().join(format!("keys/root-{alg}.key"))).unwrap())
        })
        .collect();

    let out = env.init();
    assert!(out.contains("created sm2 root CA"), "{out}");
    assert!(
        out.contains("kept existing ed25519 root CA") && out.contains("kept existing p256 root CA"),
        "{out}"
    );
    for (alg, (root, crl, key)) in ["ed25519", "p256"].into_iter().zip(&before) {
        assert_eq!(&env.ok(&["pki", "root", "--algorithm", alg]), root, "{alg}");
        assert_eq!(&env.ok(&["pki", "crl", "--algorithm", alg]), crl, "{alg}");
        assert_eq!(&std::fs::read(env.data().join(format!("keys/root-{alg}.key"))).unwrap(), key, "{alg}");
    }
    assert_eq!(mode(&env.data().join("keys/root-sm2.key")), 0o600);
    let sm2 = env.file("root-sm2.pem", &env.ok(&["pki", "root", "--algorithm", "sm2"]));
    let (ok, text) = openssl(&["x509", "-in", sm2.to_str().unwrap(), "-noout", "-text"]);
    assert!(ok && text.contains("Root CA (SM2)") && text.contains("SM2-with-SM3"), "{text}");
    assert_eq!(env.ok(&["pki", "crl"]).matches("BEGIN X509 CRL").count(), ALGORITHMS.len());
}

#[test]
fn departments_are_checked_and_bad_codes_change_nothing() {
    let env = Env::new();
    env.init();
    let line = env.fails(&[
        "department",
        "add",
        "--code",
        "11310115MB2C90510X",
        "--name",
        "测试局",
        "--area",
        "310115",
    ]);
    assert!(line.contains("expected 'L'") && line.contains("code"), "{line}");
    let line = env.fails(&["department", "add", "--code", DEPT, "--name", "测试局", "--area", "31011"]);
    assert!(line.contains("area"), "{line}");
    let line = env.fails(&["department", "add", "--code", DEPT, "--name", "  ", "--area", "310115"]);
    assert!(line.contains("name"), "{line}");
    assert_eq!(env.ok(&["department", "list"]), "");

    let out =
        env.ok(&["department", "add", "--code", DEPT, "--name", "演示市市场监督管理局", "--area", "310115"]);
    assert!(out.contains(DEPT), "{out}");
    let line = env.fails(&["department", "add", "--code", DEPT, "--name", "另一个", "--area", "310115"]);
    assert!(line.contains("exists"), "{line}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["department", "list", "--json"])).unwrap();
    assert_eq!(json[0]["code"], DEPT);
    assert_eq!(json[0]["name"], "演示市市场监督管理局");
    assert_eq!(json.as_array().unwrap().len(), 1);
}

#[test]
fn missing_data_directory_is_refused_and_not_created() {
    let env = Env::new();
    for args in [&["department", "list"][..], &["seal", "list"], &["pki", "root"], &["seal", "cert", "x"]] {
        let line = env.fails(args);
        assert!(line.contains("not initialised"), "{line}");
    }
    assert!(!env.data().exists());
}

fn with_department(env: &Env) {
    env.init();
    env.ok(&["department", "add", "--code", DEPT, "--name", "演示市市场监督管理局", "--area", "310115"]);
}

#[test]
fn seals_chain_to_their_root_for_openssl_and_revocation_reaches_the_crl() {
    let env = Env::new();
    with_department(&env);
    for alg in ["ed25519", "p256"] {
        let id =
            env.ok(&["seal", "create", "--department", DEPT, "--name", "行政审批专用章", "--algorithm", alg]);
        let id = id.trim().to_owned();
        assert!(id.starts_with("310115") && id.len() == 14, "{id}");
        assert_eq!(mode(&env.data().join(format!("keys/seal-{id}.key"))), 0o600);

        let chain = env.ok(&["seal", "cert", &id]);
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
        let seal_pem = chain.split_inclusive("-----END CERTIFICATE-----\n").next().unwrap();
        let seal = env.file(&format!("seal-{alg}.pem"), seal_pem);
        let root = env.file(&format!("root-{alg}.pem"), &env.ok(&["pki", "root", "--algorithm", alg]));
        let (seal, root) = (seal.to_str().unwrap(), root.to_str().unwrap());
        let (ok, text) = openssl(&["verify", "-CAfile", root, seal]);
        assert!(ok && text.contains(": OK"), "{alg}: {text}");

        let (_, text) = openssl(&["x509", "-in", seal, "-noout", "-text", "-nameopt", "utf8"]);
        assert!(
            text.contains("O=演示市市场监督管理局") || text.contains("O = 演示市市场监督管理局"),
            "{text}"
        );
        assert!(text.contains(&id), "seal id in subject: {text}");
        assert!(text.contains("1.3.6.1.5.5.7.3.36") || text.contains("Document Signing"), "{text}");
        assert!(text.contains(&format!("URI:http://127.0.0.1:9/pki/crl-{alg}.crl")), "{text}");
        assert!(text.contains("Digital Signature, Non Repudiation"), "{text}");

        // Before revocation the CRL check passes; after it, OpenSSL reports it revoked.
        let crl = env.file(&format!("crl-{alg}.pem"), &env.ok(&["pki", "crl", "--algorithm", alg]));
        let crl = crl.to_str().unwrap();
        let (ok, text) = openssl(&["verify", "-crl_check", "-CRLfile", crl, "-CAfile", root, seal]);
        assert!(ok, "{text}");

        let out = env.ok(&["seal", "revoke", &id, "--reason", "key-compromise"]);
        assert!(out.contains("CRL number 2"), "{out}");
        let crl = env.file(&format!("crl-{alg}-2.pem"), &env.ok(&["pki", "crl", "--algorithm", alg]));
        let crl = crl.to_str().unwrap();
        let (ok, text) = openssl(&["crl", "-in", crl, "-noout", "-text"]);
        assert!(ok, "{text}");
        assert!(text.contains("Key Compromise"), "{text}");
        let (ok, text) = openssl(&["verify", "-crl_check", "-CRLfile", crl, "-CAfile", root, seal]);
        assert!(!ok && text.contains("revoked"), "{text}");

        let line = env.fails(&["seal", "revoke", &id, "--reason", "key-compromise"]);
        assert!(line.contains("revoked already"), "{line}");
    }
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["seal", "list", "--json"])).unwrap();
    let seals = json.as_array().unwrap();
    assert_eq!(seals.len(), 2);
    assert!(seals.iter().all(|s| s["status"] == "revoked" && s["revocation_reason"] == "key-compromise"));
    // One CRL per root, SM2's too.
    assert_eq!(env.ok(&["pki", "crl"]).matches("BEGIN X509 CRL").count(), ALGORITHMS.len());
}

#[test]
fn seal_errors_are_one_line_and_change_nothing() {
    let env = Env::new();
    with_department(&env);
    let line = env.fails(&["seal", "create", "--department", "91370406L24894136J", "--name", "公章"]);
    assert!(line.contains("not found"), "{line}");
    let line = env.fails(&["seal", "create", "--department", DEPT, "--name", "公章", "--algorithm", "rsa"]);
    assert!(line.contains("rsa"), "{line}");
    let line =
        env.fails(&["seal", "create", "--department", DEPT, "--name", "这是一个名字特别特别特别长的印章"]);
    assert!(line.contains("name"), "{line}");
    let line = env.fails(&["seal", "revoke", "31011599999999", "--reason", "superseded"]);
    assert!(line.contains("not found"), "{line}");
    let line = env.fails(&["seal", "revoke", "31011599999999", "--reason", "bored"]);
    assert!(line.contains("key-compromise"), "lists the allowed reasons: {line}");
    let line = env.fails(&["seal", "cert", "nope"]);
    assert!(line.contains("not found"), "{line}");
    assert_eq!(env.ok(&["seal", "list"]), "");
    let keys: Vec<_> = std::fs::read_dir(env.data().join("keys")).unwrap().collect();
    // The roots' keys, the GB/T 38540 seal maker's and the time-stamping units', which
    // `init` makes.
    assert!(env.data().join("keys/seal-maker-sm2.key").is_file());
    let tsa_keys =
        keys.iter().filter(|k| k.as_ref().unwrap().file_name().to_string_lossy().starts_with("tsa-"));
    assert_eq!(tsa_keys.count(), ALGORITHMS.len());
    assert_eq!(
        keys.len(),
        2 * ALGORITHMS.len() + 1,
        "only the root, seal maker and TSA keys: no stray seal key"
    );
}

#[test]
fn keys_encrypted_at_rest_need_the_right_passphrase() {
    let env = Env::new();
    let mut init = env.cmd(&["init", "--platform-name", "加密平台", "--public-url", "http://127.0.0.1:9"]);
    init.env("ZHENGZHAO_KEY_PASSPHRASE", "correct horse battery");
    output_ok(init);
    let key = std::fs::read_to_string(env.data().join("keys/root-ed25519.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    env.ok(&["department", "add", "--code", DEPT, "--name", "演示市市场监督管理局", "--area", "310115"]);

    let create = ["seal", "create", "--department", DEPT, "--name", "公章"];
    let line = env.fails(&create);
    assert!(line.contains("passphrase"), "{line}");
    let mut wrong = env.cmd(&create);
    wrong.env("ZHENGZHAO_KEY_PASSPHRASE", "wrong");
    let line = output_fails(wrong);
    assert!(line.contains("wrong passphrase") || line.contains("passphrase is wrong"), "{line}");
    assert!(!line.contains("correct horse"));
    assert_eq!(env.ok(&["seal", "list"]), "");

    let mut right = env.cmd(&create);
    right.env("ZHENGZHAO_KEY_PASSPHRASE", "correct horse battery");
    let id = output_ok(right);
    let seal_key = std::fs::read_to_string(env.data().join(format!("keys/seal-{}.key", id.trim()))).unwrap();
    assert!(seal_key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
}

#[test]
fn unreadable_keys_are_reported_and_change_nothing() {
    let env = Env::new();
    with_department(&env);
    let key = env.data().join("keys/root-ed25519.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = env.fails(&["seal", "create", "--department", DEPT, "--name", "公章"]);
    assert!(line.contains("chmod 600"), "{line}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let line = env.fails(&["seal", "create", "--department", DEPT, "--name", "公章"]);
    assert!(line.contains("root-ed25519.key"), "{line}");
    assert_eq!(env.ok(&["seal", "list"]), "");
}

#[test]
fn seal_preview_writes_a_visible_png_and_svg() {
    let env = Env::new();
    with_department(&env);
    let id = env.ok(&["seal", "create", "--department", DEPT, "--name", "行政审批专用章"]);
    let png = env.dir.path().join("seal.png");
    env.ok(&["seal", "preview", id.trim(), "--out", png.to_str().unwrap(), "--size", "400"]);
    let pixmap = tiny_skia::Pixmap::load_png(&png).unwrap();
    assert_eq!((pixmap.width(), pixmap.height()), (400, 400));
    let red = pixmap.pixels().iter().filter(|p| p.alpha() > 128 && p.red() > 150 && p.green() < 80).count();
    let share = red as f64 / (400.0 * 400.0);
    assert!((0.05..0.5).contains(&share), "red share {share}");
    // A margin around the ring: 2 mm of the 46 mm image, 17 of 400 pixels on each side, is
    // transparent; the ring starts just inside it.
    for i in 0..400 {
        for j in 0..15 {
            for (x, y) in [(i, j), (i, 399 - j), (j, i), (399 - j, i)] {
                assert_eq!(pixmap.pixel(x, y).unwrap().alpha(), 0, "margin pixel ({x}, {y})");
            }
        }
    }
    for (x, y) in [(200, 22), (200, 377), (22, 200), (377, 200)] {
        assert!(pixmap.pixel(x, y).unwrap().alpha() > 128, "no ring at ({x}, {y})");
    }

    let svg = env.dir.path().join("seal.svg");
    env.ok(&["seal", "preview", id.trim(), "--out", svg.to_str().unwrap()]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("<path"), "{}", &text[..100.min(text.len())]);

    let line = env.fails(&["seal", "preview", id.trim(), "--out", "seal.gif"]);
    assert!(line.contains(".png or .svg"), "{line}");
}

#[test]
fn config_layers_show_in_config_command() {
    let env = Env::new();
    env.init();
    let out = env.ok(&["config"]);
    assert!(out.contains("public_url = \"http://127.0.0.1:9\""), "{out}");
    let mut cmd = env.cmd(&["config"]);
    cmd.env("ZHENGZHAO_PUBLIC_URL", "https://zz.example.gov.cn");
    assert!(output_ok(cmd).contains("https://zz.example.gov.cn"));
    std::fs::write(env.data().join("config.toml"), "publik_url = 1\n").unwrap();
    let line = env.fails(&["config"]);
    assert!(line.contains("publik_url"), "{line}");
}

/// The time-stamping authority for the operator: `init` makes a unit per root, `tsa list`
/// and `tsa certs` show them, `tsa stamp` writes a reply through the platform (serials from
/// the database), `tsa verify` checks it against the roots, OpenSSL verifies the P-256 one,
/// and errors are one line.
#[test]
fn tsa_stamps_and_verifies_from_the_command_line() {
    let env = Env::new();
    let out = env.init();
    for alg in ALGORITHMS {
        assert!(out.contains(&format!("created the {alg} time-stamping authority certificate")), "{out}");
    }
    assert!(!env.init().contains("time-stamping authority certificate"));
    let list = env.ok(&["tsa", "list"]);
    assert_eq!(list.lines().filter(|l| l.ends_with("current")).count(), ALGORITHMS.len(), "{list}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["tsa", "list", "--json"])).unwrap();
    assert_eq!(json[1]["id"], "p256-1");
    for key in std::fs::read_dir(env.data().join("keys")).unwrap().map(|e| e.unwrap().path()) {
        assert_eq!(mode(&key), 0o600, "{}", key.display());
    }
    assert_eq!(env.ok(&["tsa", "certs"]).matches("BEGIN CERTIFICATE").count(), 2 * ALGORITHMS.len());
    let chain = env.ok(&["tsa", "certs", "--algorithm", "p256"]);
    let (tsa_pem, root_pem) = chain.split_at(chain.find("-----END CERTIFICATE-----").unwrap() + 26);
    let (tsa_pem, root_pem) = (env.file("tsa.pem", tsa_pem), env.file("root.pem", root_pem.trim_start()));
    let (ok, text) = openssl(&["x509", "-in", tsa_pem.to_str().unwrap(), "-noout", "-text"]);
    assert!(ok && text.contains("URI:http://127.0.0.1:9/pki/crl-p256.crl"), "{text}");
    assert!(text.contains("X509v3 Extended Key Usage: critical") && text.contains("Time Stamping"), "{text}");

    let data = env.file("licence.txt", "证照 licence\n");
    let out = env.ok(&["tsa", "stamp", data.to_str().unwrap()]);
    assert!(out.starts_with("wrote ") && out.contains("(p256, serial 1,"), "{out}");
    let reply = env.dir.path().join("licence.txt.tsr");
    let sm2 = env.dir.path().join("sm2.tsr");
    let out = env.ok(&[
        "tsa",
        "stamp",
        data.to_str().unwrap(),
        "--algorithm",
        "sm2",
        "--out",
        sm2.to_str().unwrap(),
    ]);
    assert!(out.contains("(sm2, serial 2,"), "{out}");
    for (file, alg, serial) in [(&reply, "p256", "1"), (&sm2, "sm2", "2")] {
        let out = env.ok(&["tsa", "verify", file.to_str().unwrap(), "--data-file", data.to_str().unwrap()]);
        assert!(out.contains(&format!("platform's {alg} TSA")), "{out}");
        assert!(
            out.contains(&format!("serial:    {serial}\n")) && out.contains("policy:    2.5.29.32.0"),
            "{out}"
        );
        assert!(out.contains("CN=Time-stamping authority"), "{out}");
    }
    let (ok, text) = openssl(&[
        "ts",
        "-verify",
        "-in",
        reply.to_str().unwrap(),
        "-data",
        data.to_str().unwrap(),
        "-CAfile",
        root_pem.to_str().unwrap(),
        "-untrusted",
        tsa_pem.to_str().unwrap(),
    ]);
    assert!(ok && text.contains("Verification: OK"), "{text}");

    let other = env.file("other.txt", "another licence");
    let line = env.fails(&["tsa", "verify", reply.to_str().unwrap(), "--data-file", other.to_str().unwrap()]);
    assert!(line.contains("does not verify") && line.contains("imprint"), "{line}");
    let line = env.fails(&["tsa", "verify", data.to_str().unwrap(), "--data-file", data.to_str().unwrap()]);
    assert!(line.contains("does not verify"), "{line}");
    assert!(env.fails(&["tsa", "stamp", "/nonexistent/file"]).contains("cannot read"));
    assert!(env.fails(&["tsa", "certs", "--algorithm", "rsa"]).contains("rsa"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP/1.1 GET; returns status line and body.
fn http_get(port: u16, path: &str) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = vec![];
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    (head.lines().next().unwrap().to_owned(), raw[split + 4..].to_vec())
}

#[test]
fn serve_initialises_a_fresh_directory_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let env = Env::new();
    let port = free_port();
    let mut child = env
        .cmd(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !printed.contains("listening on") {
        assert!(std::time::Instant::now() < deadline, "serve did not start: {printed}");
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            panic!("serve exited early: {printed}");
        }
        printed.push_str(&line);
    }
    for expected in ["initialised a new demo platform", "data directory:", "keys:", "demo seal:", "root CAs:"]
    {
        assert!(printed.contains(expected), "{expected:?} missing from: {printed}");
    }
    // Each demo department, then its seals in the line format scripts read (benches/).
    let lines: Vec<&str> = printed.lines().collect();
    for d in zhengzhao::platform::DEMO_DEPARTMENTS {
        let at =
            lines.iter().position(|l| l.starts_with(&format!("demo department: {} {} ", d.code, d.name)));
        let at = at.unwrap_or_else(|| panic!("{} missing from: {printed}", d.name));
        for (i, alg) in d.algorithms.iter().enumerate() {
            let words: Vec<&str> = lines[at + 1 + i].split_whitespace().collect();
            assert_eq!(words[..2], ["demo", "seal:"], "{printed}");
            assert_eq!(words[3], format!("({alg},"), "{printed}");
            assert_eq!(words[4..].join(" "), format!("{} {})", d.code, d.seal_name), "{printed}");
        }
    }
    assert!(printed.contains("templates/examples/bundles/open-restaurant.json"), "{printed}");
    let (status, body) = http_get(port, "/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(String::from_utf8_lossy(&body).contains("\"ok\""));
    let (status, body) = http_get(port, "/pki/crl-p256.crl");
    assert!(status.contains("200"), "{status}");
    let crl = env.dir.path().join("served.crl");
    std::fs::write(&crl, body).unwrap();
    let (ok, text) = openssl(&["crl", "-inform", "DER", "-in", crl.to_str().unwrap(), "-noout", "-text"]);
    assert!(ok && text.contains("CRL Number"), "{text}");

    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    // The second start opens the same platform instead of initialising again.
    let out = env.ok(&["seal", "list", "--json"]);
    let seals: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The demo departments' seals: one per algorithm of each.
    let demo: usize = zhengzhao::platform::DEMO_DEPARTMENTS.iter().map(|d| d.algorithms.len()).sum();
    assert_eq!(seals.as_array().unwrap().len(), demo);
}

#[test]
fn serve_refuses_to_start_when_keys_cannot_be_read() {
    let env = Env::new();
    let mut init = env.cmd(&["init", "--platform-name", "加密平台", "--public-url", "http://127.0.0.1:9"]);
    init.env("ZHENGZHAO_KEY_PASSPHRASE", "s3cret");
    output_ok(init);
    let port = free_port().to_string();
    let line = env.fails(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
    assert!(line.contains("passphrase"), "{line}");
    let line = env.fails(&["serve", "--listen", "not-an-address"]);
    assert!(line.contains("--listen"), "{line}");
}

#[test]
fn issue_and_clients_from_the_command_line() {
    let env = Env::new();
    with_department(&env);
    let seal = env.ok(&["seal", "create", "--department", DEPT, "--name", "行政审批专用章"]);
    let types = env.ok(&["types", "list"]);
    let shipped = zhengzhao::licence::SHIPPED_TYPES.len();
    assert_eq!(types.lines().count(), shipped + 1, "a header and one line per type: {types}");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/examples");
    let pdf = env.dir.path().join("licence.pdf");
    let input = examples.join("food-business-licence.json");
    let args = [
        "issue",
        "--seal",
        seal.trim(),
        "--type",
        "11100000000013338W002",
        "--input",
        input.to_str().unwrap(),
        "--out",
        pdf.to_str().unwrap(),
    ];
    let id = env.ok(&args);
    assert!(id.trim().starts_with("1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L."), "{id}");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&with_json)).unwrap();
    assert!(v["url"].as_str().unwrap().starts_with("http://127.0.0.1:9/v/"), "{v}");
    assert_ne!(v["identifier"].as_str().unwrap(), id.trim(), "a new serial each time");
    assert!(!v["token"].as_str().unwrap().is_empty());

    // Bad input: one line, no PDF written.
    let bad = env.file("bad.json", "{\"holder\": {\"name\": \"x\", \"code\": \"1\"}, \"fields\": {}}");
    let out2 = env.dir.path().join("bad.pdf");
    let line = env.fails(&[
        "issue",
        "--seal",
        seal.trim(),
        "--type",
        "11100000000013338W002",
        "--input",
        bad.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(line.contains("holder.code"), "{line}");
    assert!(!out2.exists());
    let line = env.fails(&[
        "issue",
        "--seal",
        seal.trim(),
        "--type",
        "11100000000013338W002",
        "--input",
        "/nope.json",
        "--out",
        "x.pdf",
    ]);
    assert!(line.contains("/nope.json"), "{line}");

    let out =
        env.ok(&["client", "add", "--department", DEPT, "--name", "审批系统", "--scopes", "issue,query"]);
    let key = out.lines().find_map(|l| l.strip_prefix("key:")).unwrap().trim().to_owned();
    assert!(key.starts_with("zz_") && key.len() > 40, "{key}");
    let list = env.ok(&["client", "list"]);
    assert!(list.contains("审批系统") && !list.contains(&key), "the key is never shown again: {list}");
    let id = list.split_whitespace().next().unwrap().to_owned();
    let line = env.fails(&["client", "add", "--department", DEPT, "--name", "x", "--scopes", "admin"]);
    assert!(line.contains("holder-proxy"), "lists allowed scopes: {line}");
    env.ok(&["client", "revoke", &id]);
    assert!(env.ok(&["client", "list"]).contains("revoked"));
    let line = env.fails(&["client", "revoke", &id]);
    assert!(line.contains("revoked already"), "{line}");
}

#[test]
fn licence_status_history_and_audit_verify_catches_edits_behind_the_back() {
    let env = Env::new();
    with_department(&env);
    let seal = env.ok(&["seal", "create", "--department", DEPT, "--name", "行政审批专用章"]);
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/examples/food-business-licence.json");
    let pdf = env.dir.path().join("l.pdf");
    let id = env.ok(&[
        "issue",
        "--seal",
        seal.trim(),
        "--type",
        "11100000000013338W002",
        "--input",
        input.to_str().unwrap(),
        "--out",
        pdf.to_str().unwrap(),
    ]);
    let id = id.trim();
    let out = env.ok(&["licence", "status", id, "--set", "suspended", "--reason", "抽检不合格"]);
    assert!(out.contains("暂扣 (02)"), "{out}");
    env.ok(&["licence", "status", id, "--set", "valid", "--reason", "整改完成"]);
    env.ok(&["licence", "status", id, "--set", "03", "--reason", "以欺骗手段取得许可"]);
    let line = env.fails(&["licence", "status", id, "--set", "valid", "--reason", "x"]);
    assert!(line.contains("cannot become"), "{line}");
    let line = env.fails(&["licence", "status", id, "--set", "frozen", "--reason", "x"]);
    assert!(line.contains("frozen"), "{line}");
    let history = env.ok(&["licence", "history", id]);
    assert_eq!(history.lines().count(), 4, "{history}");
    assert!(history.contains("以欺骗手段取得许可"));
    // Three status changes, the refused one, and the history read: every attempt and every
    // read is logged, the operator's too.
    assert!(env.ok(&["audit", "verify"]).contains("intact: 5 entries"));

    // Change one logged purpose directly in the database, as an intruder would.
    let db = env.data().join("zhengzhao.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("UPDATE access_log SET purpose = '无' WHERE seq = 2").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let line = env.fails(&["audit", "verify"]);
    assert!(line.contains("entry 2 was changed"), "{line}");
}

/// `archive renew`: renews the stored PDFs due before `--before`, says what it did, and a
/// second run finds nothing due; a malformed moment is one line and exit ≠ 0.
#[test]
fn archive_renew_from_the_command_line() {
    let env = Env::new();
    with_department(&env);
    let seal = env.ok(&["seal", "create", "--department", DEPT, "--name", "行政审批专用章"]);
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/examples/food-business-licence.json");
    let pdf = env.dir.path().join("licence.pdf");
    let issue = ["issue", "--seal", seal.trim(), "--type", "11100000000013338W002"];
    let mut args = issue.to_vec();
    args.extend(["--input", input.to_str().unwrap(), "--out", pdf.to_str().unwrap()]);
    env.ok(&args);
    // Nothing expires within a year: looked at and recorded, nothing renewed.
    let out = env.ok(&["archive", "renew"]);
    assert!(out.contains("1 looked at, 0 renewed, 1 already lasting"), "{out}");
    // Everything whose proof ends before 2100: renewed, once.
    let out = env.ok(&["archive", "renew", "--before", "2100-01-01T00:00:00Z"]);
    assert!(out.contains("1 looked at, 1 renewed"), "{out}");
    let again = env.ok(&["archive", "renew", "--before", "2100-01-01T00:00:00Z"]);
    assert!(again.contains("1 looked at, 1 renewed"), "its new time-stamp also ends before 2100: {again}");
    let all = env.ok(&["archive", "renew", "--all"]);
    assert!(all.contains("1 looked at, 1 renewed"), "{all}");
    let line = env.fails(&["archive", "renew", "--before", "next year"]);
    assert!(line.contains("RFC 3339"), "{line}");
}
