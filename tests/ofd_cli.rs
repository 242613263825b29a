//! OFD licences on the command line, end to end: `zhengzhao issue --document ofd` and
//! `--document both` write signed files that verify (and `--json` names them), a refused
//! issue leaves no file, no `.partial` and no licence, and `zhengzhao verify` on an OFD
//! exits 0 valid, 2 offline (cannot tell the status), 1 tampered.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::path::PathBuf;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::ofd::{Package, ReadLimits};
use zhengzhao::pki::Algorithm;
use zhengzhao::platform::Platform;
use zhengzhao::store::LicenceFilter;

const FOOD: &str = "11100000000013338W002";
const OTHER_DEPT: &str = "11310115MB2C90512T";
const CONTENT: &str = "Doc_0/Pages/Page_0/Content.xml";

struct F {
    dir: tempfile::TempDir,
    ed: String,
    sm2: String,
    /// An SM2 seal of another department.
    other_sm2: String,
}

async fn fixture() -> F {
    let dir = tempfile::tempdir().unwrap();
    let p = Platform::create(Config::from_layer(dir.path().join("data"), Layer::default()).unwrap(), None)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let seals = p.ensure_demo(now).await.unwrap();
    let of = |alg: Algorithm| seals.iter().find(|s| s.algorithm == alg).unwrap().id.clone();
    p.pki.add_department(OTHER_DEPT, "演示市教育局", "310115", &[], now).await.unwrap();
    let other_sm2 = p.pki.create_seal(OTHER_DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap().id;
    F { ed: of(Algorithm::Ed25519), sm2: of(Algorithm::Sm2), other_sm2, dir }
}

impl F {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::cargo_bin("zhengzhao")
            .unwrap()
            .arg("--data")
            .arg(self.path("data"))
            .args(args)
            .env_remove("ZHENGZHAO_KEY_PASSPHRASE")
            .env("ZHENGZHAO_LOG", "warn")
            .output()
            .unwrap()
    }

    /// `zhengzhao issue --seal SEAL --type FOOD --input … ARGS`.
    fn issue(&self, seal: &str, args: &[&str]) -> Output {
        let input = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/examples/food-business-licence.json");
        let mut all = vec!["issue", "--seal", seal, "--type", FOOD, "--input", input];
        all.extend_from_slice(args);
        self.run(&all)
    }

    async fn licence_count(&self) -> usize {
        let p = Platform::open(Config::from_layer(self.path("data"), Layer::default()).unwrap(), None)
            .await
            .unwrap();
        p.store.licences(&LicenceFilter { limit: 100, ..Default::default() }).await.unwrap().len()
    }

    /// The files in the temporary directory besides `data`.
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "data")
            .collect();
        names.sort();
        names
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Exit 1 with one line on stderr; answers it.
fn fails(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim().to_owned()
}

#[tokio::test]
async fn issue_writes_ofds_that_verify_and_verify_exits_by_verdict() {
    let f = fixture().await;
    // An OFD alone.
    let x = f.path("x.ofd");
    let id = ok(&f.issue(&f.sm2, &["--document", "ofd", "--out", x.to_str().unwrap()])).trim().to_owned();
    assert!(zhengzhao::codes::LicenceId::parse(&id).is_ok(), "{id}");
    let ofd = std::fs::read(&x).unwrap();
    assert!(ofd.starts_with(b"PK\x03\x04"));
    assert_eq!(f.files(), ["x.ofd"], "no .partial left");

    // Verified online: exit 0 with the report; as JSON, subject ofd.
    let out = f.run(&["verify", x.to_str().unwrap()]);
    let report = ok(&out);
    assert!(report.starts_with("有效 Valid · OFD 文件 OFD file"), "{report}");
    for code in ["ofd.references", "ofd.coverage", "ofd.data_hash", "ofd.signature", "licence.status"] {
        let line = report.lines().find(|l| l.ends_with(&format!("[{code}]"))).unwrap_or_default();
        assert!(line.starts_with("  ✓ "), "{code}: {report}");
    }
    assert!(!report.contains("  ✗ ") && !report.contains("  ? "), "{report}");
    assert!(report.contains(&id), "{report}");
    let out = f.run(&["verify", x.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        (v["subject"].as_str(), v["verdict"].as_str(), v["mode"].as_str()),
        (Some("ofd"), Some("valid"), Some("online")),
        "{v}"
    );
    assert_eq!(v["licence"]["identifier"], id.as_str());
    assert_eq!(v["seal"]["id"], f.sm2.as_str());
    let codes: Vec<&str> =
        v["checks"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"ofd.references") && codes.contains(&"ofd.signature"), "{codes:?}");

    // Offline with the signed trust list: everything but the register, exit 2.
    let trust = f.path("trust-list.json");
    ok(&f.run(&["pki", "trust-list", "--out", trust.to_str().unwrap()]));
    let out = f.run(&["verify", x.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--offline"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.starts_with("无法确定 ") || report.contains("离线核验 offline"), "{report}");
    assert!(report.contains("  ? ") && !report.contains("  ✗ "), "{report}");
    let out =
        f.run(&["verify", x.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--offline", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["subject"].as_str(), v["verdict"].as_str(), v["mode"].as_str()),
        (Some("ofd"), Some("indeterminate"), Some("offline")),
        "{v}"
    );
    for c in v["checks"].as_array().unwrap() {
        assert_ne!(c["outcome"], "failed", "offline, nothing fails: {c}");
        if c["code"].as_str().unwrap().starts_with("ofd.") {
            assert_eq!(c["outcome"], "passed", "{c}");
        }
    }

    // Tampered: one byte of the page, repacked; invalid, exit 1, naming the check.
    let mut package = Package::from_zip(&ofd, &ReadLimits::default()).unwrap();
    let mut content = package.get(CONTENT).unwrap().to_vec();
    let at = content.len() / 2;
    content[at] ^= 0x01;
    package.replace(CONTENT, content);
    let tampered = f.path("tampered.ofd");
    std::fs::write(&tampered, package.to_zip().unwrap()).unwrap();
    let out = f.run(&["verify", tampered.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.starts_with("无效 Invalid"), "{report}");
    assert!(report.contains("[ofd.references]"), "{report}");
    assert!(report.contains(CONTENT), "the report names the file: {report}");

    // A zip header and nothing behind it: read, found unreadable, judged invalid with the
    // report saying why (as a damaged PDF is; the API answers 422 unreadable_input).
    let junk = f.path("junk.ofd");
    std::fs::write(&junk, b"PK\x03\x04 but not a zip").unwrap();
    let out = f.run(&["verify", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("[input.read]"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn both_writes_a_pdf_and_an_ofd_and_json_names_them() {
    let f = fixture().await;
    let (a, b) = (f.path("a.pdf"), f.path("b.ofd"));
    let out = f.issue(
        &f.ed,
        &[
            "--document",
            "both",
            "--ofd-seal",
            &f.sm2,
            "--out-pdf",
            a.to_str().unwrap(),
            "--out-ofd",
            b.to_str().unwrap(),
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["document"], "both", "{v}");
    assert_eq!((v["pdf"].as_str(), v["ofd"].as_str()), (a.to_str(), b.to_str()), "{v}");
    let id = v["identifier"].as_str().unwrap();
    assert!(std::fs::read(&a).unwrap().starts_with(b"%PDF-"));
    assert!(std::fs::read(&b).unwrap().starts_with(b"PK\x03\x04"));
    assert_eq!(f.files(), ["a.pdf", "b.ofd"], "no .partial left");
    // Both verify valid, as one licence, each by its own seal.
    for (file, subject, seal) in [(&a, "pdf", &f.ed), (&b, "ofd", &f.sm2)] {
        let out = f.run(&["verify", file.to_str().unwrap(), "--json"]);
        let r: Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!((r["subject"].as_str(), r["verdict"].as_str()), (Some(subject), Some("valid")), "{r}");
        assert_eq!(r["licence"]["identifier"], id);
        assert_eq!(r["seal"]["id"], seal.as_str());
    }
    // Without --json: the identifier alone.
    let (c, d) = (f.path("c.pdf"), f.path("d.ofd"));
    let out = f.issue(
        &f.ed,
        &[
            "--document",
            "both",
            "--ofd-seal",
            &f.sm2,
            "--out-pdf",
            c.to_str().unwrap(),
            "--out-ofd",
            d.to_str().unwrap(),
        ],
    );
    let second = ok(&out).trim().to_owned();
    assert!(zhengzhao::codes::LicenceId::parse(&second).is_ok(), "{second}");
    assert_ne!(second, id);
    assert!(c.exists() && d.exists());
    assert_eq!(f.licence_count().await, 2);
}

#[tokio::test]
async fn a_refused_issue_leaves_no_file_and_stores_nothing() {
    let f = fixture().await;
    let (x, a, b) = (f.path("x.ofd"), f.path("a.pdf"), f.path("b.ofd"));
    let (x, a, b) = (x.to_str().unwrap(), a.to_str().unwrap(), b.to_str().unwrap());
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (f.ed.clone(), vec!["--document", "ofd", "--out", x], "Ed25519 seals cannot sign OFD documents"),
        (f.ed.clone(), vec!["--document", "both", "--out-pdf", a, "--out-ofd", b], "needs ofd_seal_id"),
        (
            f.ed.clone(),
            vec!["--document", "both", "--ofd-seal", &f.ed, "--out-pdf", a, "--out-ofd", b],
            "Ed25519 seals cannot sign OFD documents",
        ),
        (
            f.sm2.clone(),
            vec!["--document", "both", "--ofd-seal", &f.sm2, "--out-pdf", a, "--out-ofd", b],
            "SM2 seals cannot sign PDF documents",
        ),
        (
            f.ed.clone(),
            vec!["--document", "both", "--ofd-seal", &f.other_sm2, "--out-pdf", a, "--out-ofd", b],
            "belongs to another department than seal",
        ),
        (
            f.ed.clone(),
            vec!["--document", "both", "--ofd-seal", "31011599999999", "--out-pdf", a, "--out-ofd", b],
            "31011599999999",
        ),
        (
            f.sm2.clone(),
            vec!["--document", "ofd", "--ofd-seal", &f.sm2, "--out", x],
            "ofd_seal_id is only for",
        ),
        (f.sm2.clone(), vec!["--document", "ofd", "--out-pdf", a], "--document ofd issues no PDF"),
        (
            f.sm2.clone(),
            vec!["--document", "both", "--ofd-seal", &f.sm2, "--out-pdf", a, "--out-ofd", a],
            "the same file",
        ),
    ];
    for (seal, args, words) in cases {
        let line = fails(&f.issue(&seal, &args));
        assert!(line.starts_with("error: ") && line.contains(words), "{args:?}: {line}");
        assert_eq!(f.files(), Vec::<String>::new(), "{args:?}: no file, no .partial");
    }
    assert_eq!(f.licence_count().await, 0, "nothing stored");
    // No serial was used up: the next licence takes the first.
    let id = ok(&f.issue(&f.sm2, &["--document", "ofd", "--out", x])).trim().to_owned();
    let id = zhengzhao::codes::LicenceId::parse(&id).unwrap();
    assert!(id.serial().ends_with("0000001"), "{id}");
    assert_eq!(f.files(), ["x.ofd"]);
}

#[test]
fn the_help_tells_of_the_ofd() {
    let help = |cmd: &str| {
        let out = Command::cargo_bin("zhengzhao").unwrap().args([cmd, "--help"]).output().unwrap();
        assert!(out.status.success());
        text(&out.stdout)
    };
    let issue = help("issue");
    for words in ["--ofd-seal", "--out-pdf", "--out-ofd", "ofd", "both"] {
        assert!(issue.contains(words), "{words}: {issue}");
    }
    let verify = help("verify");
    assert!(verify.contains("OFD"), "{verify}");
}
