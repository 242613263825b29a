//! `zhengzhao issue` on the command line: whatever can fail fails before the register is
//! touched (nothing stored, no serial used), `--renews` issues the new version as
//! `POST …/versions` does, and a validity already past is refused.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::Platform;
use zhengzhao::store::LicenceFilter;

const FOOD: &str = "11100000000013338W002";

struct F {
    dir: tempfile::TempDir,
    seal: String,
}

impl F {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn issue(&self, extra: &[&str]) -> std::process::Output {
        self.issue_with(&self.seal, extra)
    }

    fn issue_with(&self, seal: &str, extra: &[&str]) -> std::process::Output {
        Command::cargo_bin("zhengzhao")
            .unwrap()
            .arg("--data")
            .arg(self.data())
            .args(["issue", "--seal", seal, "--type", FOOD])
            .args(extra)
            .env_remove("ZHENGZHAO_KEY_PASSPHRASE")
            .env("ZHENGZHAO_LOG", "warn")
            .output()
            .unwrap()
    }

    /// Issues, expecting success; answers the identifier printed.
    fn issue_ok(&self, extra: &[&str]) -> String {
        let out = self.issue(extra);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Issues, expecting exit 1 with one line on stderr; answers it.
    fn issue_fails(&self, extra: &[&str]) -> String {
        fails(self.issue(extra))
    }
}

fn fails(out: std::process::Output) -> String {
    {
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr.trim().to_owned()
    }
}

impl F {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn platform(&self) -> Platform {
        Platform::open(Config::from_layer(self.data(), Layer::default()).unwrap(), None).await.unwrap()
    }

    async fn licence_count(&self) -> usize {
        let p = self.platform().await;
        p.store.licences(&LicenceFilter { limit: 100, ..Default::default() }).await.unwrap().len()
    }
}

async fn fixture() -> F {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::create(Config::from_layer(dir.path().join("data"), Layer::default()).unwrap(), None)
        .await
        .unwrap();
    let seal = p.ensure_demo(OffsetDateTime::now_utc()).await.unwrap()[0].id.clone();
    F { dir, seal }
}

fn input() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/templates/examples/food-business-licence.json")
}

fn serial(id: &str) -> String {
    zhengzhao::codes::LicenceId::parse(id).unwrap().serial().to_owned()
}

fn write_input(dir: &Path, name: &str, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(input()).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

#[tokio::test]
async fn an_unwritable_output_fails_before_the_register_is_touched() {
    let f = fixture().await;
    let line = f.issue_fails(&["--input", input(), "--out", "/nonexistent/dir/x.pdf"]);
    assert!(line.starts_with("error: cannot write /nonexistent/dir/x.pdf"), "{line}");
    std::fs::create_dir(f.path("a-directory")).unwrap();
    let dir_out = f.path("a-directory");
    let line = f.issue_fails(&["--input", input(), "--out", dir_out.to_str().unwrap()]);
    assert!(line.contains("is a directory"), "{line}");
    let line =
        f.issue_fails(&["--input", "/nonexistent/input.json", "--out", f.path("x.pdf").to_str().unwrap()]);
    assert!(line.contains("/nonexistent/input.json"), "{line}");
    let line = fails(
        f.issue_with("99999999999999", &["--input", input(), "--out", f.path("x.pdf").to_str().unwrap()]),
    );
    assert!(line.contains("99999999999999"), "{line}");
    assert_eq!(f.licence_count().await, 0, "nothing stored");
    assert!(!f.path("x.pdf").exists() && !f.path("x.pdf.partial").exists(), "no file left behind");

    // The next licence takes the first serial: no failed run used one up.
    let out = f.path("x.pdf");
    let id = f.issue_ok(&["--input", input(), "--out", out.to_str().unwrap()]);
    assert!(serial(&id).ends_with("0000001"), "{id}");
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
    assert!(!f.path("x.pdf.partial").exists());
}

#[tokio::test]
async fn renews_issues_the_new_version_that_replaces_the_old_one() {
    let f = fixture().await;
    let first = f.issue_ok(&["--input", input(), "--out", f.path("v1.pdf").to_str().unwrap()]);
    let changed = write_input(f.dir.path(), "changed.json", |v| {
        v["fields"]["premises"] = serde_json::json!("上海市浦东新区张江路456号");
    });
    let second = f.issue_ok(&[
        "--input",
        changed.to_str().unwrap(),
        "--out",
        f.path("v2.pdf").to_str().unwrap(),
        "--renews",
        &first,
    ]);
    let (old, new) = (
        zhengzhao::codes::LicenceId::parse(&first).unwrap(),
        zhengzhao::codes::LicenceId::parse(&second).unwrap(),
    );
    assert_eq!((new.serial(), new.version()), (old.serial(), 2), "{second}");
    let p = f.platform().await;
    let old_row = p.store.licence(&first).await.unwrap().unwrap();
    assert_eq!(old_row.superseded_by.as_deref(), Some(second.as_str()));
    let new_row = p.store.licence(&second).await.unwrap().unwrap();
    assert_eq!(new_row.licence.replaces.as_deref(), Some(first.as_str()));
    let kinds: Vec<String> =
        p.store.licence_events(&first).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec!["issued", "renewed"]);
    drop(p);

    // An old version is renewed once; another holder is another licence.
    let line =
        f.issue_fails(&["--input", input(), "--out", f.path("v3.pdf").to_str().unwrap(), "--renews", &first]);
    assert!(line.contains("replaced"), "{line}");
    let other = write_input(f.dir.path(), "other.json", |v| {
        v["holder"]["code"] = serde_json::json!("91310115MA1K4LQ20W")
    });
    let line = f.issue_fails(&[
        "--input",
        other.to_str().unwrap(),
        "--out",
        f.path("v3.pdf").to_str().unwrap(),
        "--renews",
        &second,
    ]);
    assert!(line.contains("holder.code"), "{line}");
    assert_eq!(f.licence_count().await, 2);
}

#[tokio::test]
async fn a_validity_already_past_is_refused_naming_the_field() {
    let f = fixture().await;
    let past = write_input(f.dir.path(), "past.json", |v| {
        v["valid_from"] = serde_json::json!("2019-01-01");
        v["valid_until"] = serde_json::json!("2020-01-01");
    });
    let line =
        f.issue_fails(&["--input", past.to_str().unwrap(), "--out", f.path("x.pdf").to_str().unwrap()]);
    assert!(line.contains("invalid valid_until") && line.contains("already past"), "{line}");
    assert_eq!(f.licence_count().await, 0);
    assert!(!f.path("x.pdf").exists() && !f.path("x.pdf.partial").exists());
}

#[tokio::test]
async fn document_none_issues_a_data_only_licence_without_a_file() {
    let f = fixture().await;
    let out = f.issue(&["--input", input(), "--document", "none", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["document"].as_str(), &v["pdf"]), (Some("none"), &serde_json::Value::Null), "{v}");
    let id = v["identifier"].as_str().unwrap().to_owned();
    let p = f.platform().await;
    let row = p.store.licence(&id).await.unwrap().unwrap();
    assert_eq!(row.licence.document, zhengzhao::licence::Document::None);
    let kinds: Vec<String> = p.store.licence_events(&id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["issued"]);
    drop(p);
    let files: Vec<_> = std::fs::read_dir(f.dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["data"], "no file written");

    // A renewal can change the document; `--out` goes with a PDF and only with one.
    let renewed =
        f.issue_ok(&["--input", input(), "--renews", &id, "--out", f.path("v2.pdf").to_str().unwrap()]);
    assert!(std::fs::read(f.path("v2.pdf")).unwrap().starts_with(b"%PDF-"), "{renewed}");
    let line = f.issue_fails(&[
        "--input",
        input(),
        "--document",
        "none",
        "--out",
        f.path("x.pdf").to_str().unwrap(),
    ]);
    assert_eq!(line, "error: --document none issues no file: leave out --out, --out-pdf and --out-ofd");
    let line = f.issue_fails(&["--input", input(), "--document", "pdf"]);
    assert_eq!(line, "error: give --out FILE for the licence's PDF, or --document none for none");
    let line = f.issue_fails(&["--input", input(), "--document", "ofd"]);
    assert_eq!(line, "error: give --out FILE for the licence's OFD, or --document none for none");
    let line = f.issue_fails(&[
        "--input",
        input(),
        "--document",
        "both",
        "--out",
        f.path("x.pdf").to_str().unwrap(),
    ]);
    assert_eq!(
        line,
        "error: --document both writes two files: give --out-pdf FILE and --out-ofd FILE instead of --out"
    );
    let line = f.issue_fails(&[
        "--input",
        input(),
        "--document",
        "both",
        "--out-pdf",
        f.path("x.pdf").to_str().unwrap(),
    ]);
    assert_eq!(line, "error: --document both writes two files: give --out-pdf FILE and --out-ofd FILE");
    let line = f.issue_fails(&["--input", input(), "--out-ofd", f.path("x.ofd").to_str().unwrap()]);
    assert_eq!(line, "error: --document pdf issues no OFD: leave out --out-ofd");
    let out = f.issue(&["--input", input(), "--document", "pdf+ofd"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("'pdf+ofd'") && stderr.contains("pdf, ofd, both, none"), "{stderr}");
    assert_eq!(f.licence_count().await, 2);
    assert!(!f.path("x.pdf").exists() && !f.path("x.pdf.partial").exists());
}

#[test]
fn issue_help_documents_the_document_option() {
    let out = Command::cargo_bin("zhengzhao").unwrap().args(["issue", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--document <DOCUMENT>") && help.contains("[default: pdf]"), "{help}");
    assert!(help.contains("data-only licence") && help.contains("SM2"), "{help}");
}

/// A PDF asked of an SM2 seal (the demo platform has one) is one line and exit 1, and stores
/// nothing: the refusal is decided from the seal's algorithm before its key is read. The same
/// seal issues a data-only licence with an SM2 token (tests/data_only.rs verifies such tokens
/// online and offline).
#[tokio::test]
async fn a_pdf_with_an_sm2_seal_is_refused_on_the_command_line() {
    use zhengzhao::pki::Algorithm;
    let f = fixture().await;
    let p = f.platform().await;
    let seals = p.store.seals(None).await.unwrap();
    let seal =
        seals.iter().find(|s| s.algorithm == Algorithm::Sm2).expect("the demo has an SM2 seal").clone();
    drop(p);
    let line =
        fails(f.issue_with(&seal.id, &["--input", input(), "--out", f.path("x.pdf").to_str().unwrap()]));
    assert!(line.starts_with("error: SM2 seals cannot sign PDF documents (no PAdES validator"), "{line}");
    assert!(line.contains("--document ofd|none"), "{line}");
    assert_eq!(f.licence_count().await, 0);
    assert!(!f.path("x.pdf").exists() && !f.path("x.pdf.partial").exists());

    let out = f.issue_with(&seal.id, &["--input", input(), "--document", "none"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(f.licence_count().await, 1);
    let p = f.platform().await;
    let row = p.store.licence(&id).await.unwrap().unwrap();
    let parsed = zhengzhao::token::parse(&row.licence.token).unwrap();
    assert_eq!(parsed.algorithm, Algorithm::Sm2);
}
