//! OFD licences through the verification engine: foreign OFDs made by other e-seal systems
//! (tests/data/ofd/, see its NOTICE) verify as intact with intact seals and an untrusted
//! signer; the platform's own OFDs verify valid, and every tampering is caught by its check.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::sync::Arc;

use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::Platform;
use zhengzhao::verify::{Outcome, Report, Verdict};

struct Fixture {
    _dir: tempfile::TempDir,
    platform: Arc<Platform>,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    Fixture { platform: Arc::new(platform), _dir: dir }
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/ofd/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn outcome(report: &Report, code: &str) -> Outcome {
    report.check(code).unwrap_or_else(|| panic!("no check {code}: {report:#?}")).outcome
}

/// What the report says, one line per check, for failure messages.
fn lines(report: &Report) -> String {
    report.checks.iter().map(|c| format!("{} {:?}: {}\n", c.code, c.outcome, c.message_en)).collect()
}

#[tokio::test]
async fn foreign_ofds_are_intact_with_intact_seals_but_an_untrusted_signer() {
    let f = fixture().await;
    for name in ["ofdrw-SESV4SignDoc.ofd", "vendor-v4signed.ofd"] {
        let report = f.platform.verification.verify_ofd(data(name), OffsetDateTime::now_utc()).await.unwrap();
        let all = lines(&report);
        for code in [
            "input.read",
            "ofd.signature_found",
            "ofd.references",
            "ofd.coverage",
            "ofd.data_hash",
            "ofd.signature",
            "ofd.seal_maker",
            "ofd.seal_signer",
        ] {
            assert_eq!(outcome(&report, code), Outcome::Passed, "{name} {code}:\n{all}");
        }
        // Not ours: neither the seal maker nor the signer chains to a trusted root, and the
        // document carries no licence token — untrusted, not broken.
        assert_eq!(outcome(&report, "ofd.seal_maker_chain"), Outcome::Failed, "{name}:\n{all}");
        assert_eq!(outcome(&report, "seal.chain"), Outcome::Failed, "{name}:\n{all}");
        assert!(
            report.check("seal.chain").unwrap().message_en.contains("does not chain to a trusted root"),
            "{all}"
        );
        assert_eq!(outcome(&report, "ofd.token"), Outcome::Failed, "{name}:\n{all}");
        assert_eq!(report.verdict, Verdict::Invalid, "{name}");
        assert!(report.licence.is_none());
    }
}

#[tokio::test]
async fn an_unsigned_ofd_is_not_verified_and_garbage_is_unreadable() {
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let report = f.platform.verification.verify_ofd(data("ofdrw-helloworld.ofd"), now).await.unwrap();
    assert_eq!(outcome(&report, "input.read"), Outcome::Passed, "{}", lines(&report));
    assert_eq!(outcome(&report, "ofd.signature_found"), Outcome::Failed, "{}", lines(&report));
    assert_eq!(report.verdict, Verdict::Invalid);
    let mut truncated = data("vendor-v4signed.ofd");
    truncated.truncate(truncated.len() / 2);
    let report = f.platform.verification.verify_ofd(truncated, now).await.unwrap();
    assert_eq!(outcome(&report, "input.read"), Outcome::Failed, "{}", lines(&report));
    assert_eq!(report.checks.len(), 1);
}
