//! `zhengzhao portal add|list|revoke` end to end, with keys made by OpenSSL, and the
//! refusal of the holder-proxy scope for department clients.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::cargo_bin("zhengzhao").unwrap();
    cmd.arg("--data").arg(data).args(args);
    cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE").env("ZHENGZHAO_LOG", "warn");
    let out = cmd.output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn ok(data: &Path, args: &[&str]) -> String {
    let (success, stdout, stderr) = run(data, args);
    assert!(success, "{args:?} failed: {stderr}");
    stdout
}

/// Fails with exit code ≠ 0 and one line on stderr; returns it.
fn fails(data: &Path, args: &[&str]) -> String {
    let (success, stdout, stderr) = run(data, args);
    assert!(!success, "{args:?} should fail: {stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    lines[0].to_owned()
}

/// An OpenSSL key pair of `algorithm`; returns the public key PEM's path.
fn openssl_public_key(dir: &Path, name: &str, genpkey: &[&str]) -> PathBuf {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub.pem"));
    let status = Command::new("openssl")
        .arg("genpkey")
        .args(genpkey)
        .arg("-out")
        .arg(&private)
        .status()
        .expect("openssl must be installed");
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap();
    assert!(status.success());
    public
}

#[test]
fn the_operator_registers_lists_and_revokes_portals() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init", "--platform-name", "测试证照平台", "--public-url", "http://127.0.0.1:9/"]);
    ok(
        &data,
        &[
            "department",
            "add",
            "--code",
            "11310115MB2C90510L",
            "--name",
            "演示市市场监督管理局",
            "--area",
            "310115",
        ],
    );

    let ed = openssl_public_key(dir.path(), "ed", &["-algorithm", "ed25519"]);
    let p256 =
        openssl_public_key(dir.path(), "p256", &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    let out = ok(&data, &["portal", "add", "--name", "随申办", "--public-key", ed.to_str().unwrap()]);
    let id = out.lines().find_map(|l| l.strip_prefix("portal id:")).unwrap().trim().to_owned();
    let key = out.lines().find_map(|l| l.strip_prefix("key:")).unwrap().trim().to_owned();
    assert!(id.starts_with("pt_"), "{out}");
    assert!(key.starts_with("zzp_") && key.len() > 40, "{out}");
    assert!(out.contains("algorithm: ed25519"), "{out}");
    let out = ok(&data, &["portal", "add", "--name", "浙里办", "--public-key", p256.to_str().unwrap()]);
    assert!(out.contains("algorithm: p256"), "{out}");

    let list = ok(&data, &["portal", "list"]);
    assert!(list.contains(&id) && list.contains("随申办") && list.contains("浙里办"), "{list}");
    assert!(!list.contains(&key), "the key is never shown again: {list}");
    let json: serde_json::Value = serde_json::from_str(&ok(&data, &["portal", "list", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[0]["scopes"], serde_json::json!(["holder-proxy"]));

    ok(&data, &["portal", "revoke", &id]);
    let json: serde_json::Value = serde_json::from_str(&ok(&data, &["portal", "list", "--json"])).unwrap();
    let revoked = json.as_array().unwrap().iter().find(|p| p["id"] == id.as_str()).unwrap();
    assert!(revoked["revoked_at"].is_string(), "{json}");
    assert!(fails(&data, &["portal", "revoke", &id]).contains("revoked already"));
    assert!(fails(&data, &["portal", "revoke", "pt_nope"]).contains("not found"));

    // Bad keys: a private key, an RSA key, garbage, a missing file.
    let rsa =
        openssl_public_key(dir.path(), "rsa", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    let private = dir.path().join("ed.key");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "hello").unwrap();
    for bad in [&private, &rsa, &garbage, &dir.path().join("missing.pem")] {
        let line = fails(&data, &["portal", "add", "--name", "x", "--public-key", bad.to_str().unwrap()]);
        assert!(line.contains("public") || line.contains("PUBLIC") || line.contains("read"), "{line}");
    }
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&ok(&data, &["portal", "list", "--json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Department clients cannot get the holder-proxy scope.
    for scopes in ["holder-proxy", "query,holder-proxy"] {
        let line = fails(
            &data,
            &["client", "add", "--department", "11310115MB2C90510L", "--name", "门户", "--scopes", scopes],
        );
        assert!(line.contains("holder-proxy") && line.contains("portal add"), "{line}");
    }
    assert!(ok(&data, &["client", "list"]).trim().is_empty(), "no client was added");
}
