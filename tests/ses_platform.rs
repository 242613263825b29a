//! The platform as GB/T 38540 seal maker: `init` makes the maker under the SM2 root, an
//! SM2 seal gets its `SES_Seal` when it is created (stored with it), `ses_sign` makes a
//! seal signature that verifies whole, the verifier's trust set accepts our maker and
//! not a foreign one, a data directory made before gets its maker at start-up and its
//! SM2 seals their `SES_Seal` on first need (stored, so the same bytes every time), and
//! `seal export --esl` writes it (a non-SM2 seal: exit 1 and one line why).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use sm3::Digest as _;
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::pki::{self, Algorithm, ChainError};
use zhengzhao::platform::Platform;
use zhengzhao::server::Service;
use zhengzhao::ses::{self, CertList};

const DEPT: &str = "11310115MB2C90510L";

fn config(dir: &std::path::Path) -> Config {
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    Config::from_layer(dir.join("data"), layer).unwrap()
}

async fn platform(dir: &std::path::Path, now: OffsetDateTime) -> Platform {
    let p = Platform::create(config(dir), None).await.unwrap();
    let report = p.pki.init("测试证照平台", now).await.unwrap();
    assert!(report.made_seal_maker);
    p.pki.add_department(DEPT, "某某市市场监督管理局", "310115", &[], now).await.unwrap();
    p
}

#[tokio::test]
async fn an_sm2_seal_gets_a_verifiable_electronic_seal_and_signs_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let p = platform(dir.path(), now).await;
    let seal = p.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    // Made with the seal and stored.
    let stored = p.store.ses_seal(&seal.id).await.unwrap().unwrap();
    assert_eq!(p.pki.ses_seal(&seal.id, now).await.unwrap(), stored);
    let facts = ses::read_seal(&stored).unwrap();
    assert_eq!(
        (facts.version, facts.vendor_id.as_str(), facts.es_id.as_str()),
        (4, "ZHENGZHAO", seal.id.as_str())
    );
    assert_eq!((facts.seal_type, facts.name.as_str()), (1, "某某市市场监督管理局行政审批专用章"));
    assert_eq!(facts.cert_list, CertList::Certs(vec![seal.cert_der.clone()]));
    let info = pki::cert_info(&seal.cert_der).unwrap();
    assert_eq!((facts.valid_start, facts.valid_end), (info.not_before, info.not_after));
    assert_eq!(facts.create_date.unix_timestamp(), now.unix_timestamp());
    assert_eq!((facts.picture.kind.as_str(), facts.picture.width_mm), ("PNG", 46));
    facts.verify_maker_signature().unwrap();
    // The maker is ours: it chains to the SM2 root for the verifier.
    let maker = p.pki.seal_maker(now).await.unwrap();
    assert_eq!(facts.maker_cert_der, maker.cert_der);
    let trust = p.verification.trust_set(now).await.unwrap();
    let chain = trust.seal_maker_chain(&facts.maker_cert_der, now).unwrap();
    assert!(chain.leaf.subject.contains(pki::SEAL_MAKER_CN), "{}", chain.leaf.subject);
    // …and a seal certificate is no maker.
    assert_eq!(trust.seal_maker_chain(&seal.cert_der, now).unwrap_err(), ChainError::WrongExtendedKeyUsage);

    // A seal signature over an OFD's Signature.xml.
    let xml = b"<ofd:Signature xmlns:ofd=\"http://www.ofdspec.org/2016\"/>";
    let hash = sm3::Sm3::digest(xml);
    let signed =
        p.pki.ses_sign(&seal.id, &hash, "/Doc_0/Signs/Sign_0/Signature.xml", now, None).await.unwrap();
    let sig = ses::read_signature(&signed).unwrap();
    assert_eq!(sig.seal.der, stored);
    assert_eq!(sig.signer_cert_der, seal.cert_der);
    assert_eq!(sig.data_hash, hash.to_vec());
    assert_eq!(sig.time.map(|t| t.unix_timestamp()), Some(now.unix_timestamp()));
    sig.verify_signature().unwrap();
    sig.verify_maker_signature().unwrap();
    sig.signer_listed_in_seal().unwrap();
    sig.seal_valid_at_signing(now).unwrap();

    // Another algorithm's seal has none.
    let ed = p.pki.create_seal(DEPT, "专用章", Algorithm::Ed25519, now).await.unwrap();
    assert_eq!(p.store.ses_seal(&ed.id).await.unwrap(), None);
    let err = p.pki.ses_seal(&ed.id, now).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input", "{err}");
}

#[tokio::test]
async fn a_data_directory_from_before_gets_its_maker_at_start_and_seals_on_first_need() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let p = platform(dir.path(), now).await;
    let seal = p.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    drop(p);
    // Back to what a data directory made before had: no maker, no SES_Seal, no maker key.
    let db = dir.path().join("data/zhengzhao.db");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query("DELETE FROM seal_maker").execute(&pool).await.unwrap();
    sqlx::query("UPDATE seals SET ses_seal = NULL").execute(&pool).await.unwrap();
    pool.close().await;
    let key = dir.path().join("data/keys/seal-maker-sm2.key");
    std::fs::remove_file(&key).unwrap();

    let p = Platform::open(config(dir.path()), None).await.unwrap();
    assert!(!p.pki.has_seal_maker().await.unwrap());
    let service = Service::prepare(p, now).await.unwrap();
    let p = service.platform();
    assert!(p.pki.has_seal_maker().await.unwrap());
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(p.store.ses_seal(&seal.id).await.unwrap(), None);
    let first = p.pki.ses_seal(&seal.id, now).await.unwrap();
    // Stored: asked again, the same bytes (a new one would carry a new SM2 signature).
    assert_eq!(p.pki.ses_seal(&seal.id, now).await.unwrap(), first);
    assert_eq!(p.store.ses_seal(&seal.id).await.unwrap(), Some(first.clone()));
    let facts = ses::read_seal(&first).unwrap();
    facts.verify_maker_signature().unwrap();
    let trust = p.verification.trust_set(now).await.unwrap();
    trust.seal_maker_chain(&facts.maker_cert_der, now).unwrap();
}

#[tokio::test]
async fn a_seal_made_by_a_foreign_maker_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let p = platform(dir.path(), now).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = platform(other_dir.path(), now).await;
    let seal = other.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    let foreign = ses::read_seal(&other.pki.ses_seal(&seal.id, now).await.unwrap()).unwrap();
    foreign.verify_maker_signature().unwrap();
    let trust = p.verification.trust_set(now).await.unwrap();
    assert_eq!(trust.seal_maker_chain(&foreign.maker_cert_der, now).unwrap_err(), ChainError::UnknownIssuer);
}

#[tokio::test]
async fn seal_export_writes_the_esl_of_an_sm2_seal_only() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let p = platform(dir.path(), now).await;
    let sm2 = p.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    let p256 = p.pki.create_seal(DEPT, "专用章", Algorithm::P256, now).await.unwrap();
    let stored = p.store.ses_seal(&sm2.id).await.unwrap().unwrap();
    drop(p);
    let run = |id: &str, out: &str| {
        Command::cargo_bin("zhengzhao")
            .unwrap()
            .arg("--data")
            .arg(dir.path().join("data"))
            .args(["seal", "export", id, "--esl"])
            .arg(dir.path().join(out))
            .env("ZHENGZHAO_LOG", "warn")
            .output()
            .unwrap()
    };
    let ok = run(&sm2.id, "seal.esl");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(std::fs::read(dir.path().join("seal.esl")).unwrap(), stored);
    let refused = run(&p256.id, "p256.esl");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("SM2 only") && stderr.contains(&p256.id), "{stderr}");
    assert!(!dir.path().join("p256.esl").exists());
}

/// `seal read` reports any maker's seal file — ours trusted, the v1, v4 and v5 interop
/// seals intact but untrusted — and refuses a file that is no seal with one line.
#[tokio::test]
async fn seal_read_reports_ours_and_foreign_seals_of_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let now = OffsetDateTime::now_utc();
    let p = platform(dir.path(), now).await;
    let sm2 = p.pki.create_seal(DEPT, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    std::fs::write(dir.path().join("ours.esl"), p.store.ses_seal(&sm2.id).await.unwrap().unwrap()).unwrap();
    drop(p);
    let read = |file: &std::path::Path| {
        let out = Command::cargo_bin("zhengzhao")
            .unwrap()
            .arg("--data")
            .arg(dir.path().join("data"))
            .args(["seal", "read", "--json"])
            .arg(file)
            .env("ZHENGZHAO_LOG", "warn")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, json, stderr) = read(&dir.path().join("ours.esl"));
    assert_eq!(code, Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (v["version"].as_u64(), v["vendor_id"].as_str(), v["es_id"].as_str()),
        (Some(4), Some("ZHENGZHAO"), Some(sm2.id.as_str()))
    );
    assert_eq!(
        (v["maker_signature"]["ok"].as_bool(), v["maker_trusted"]["ok"].as_bool()),
        (Some(true), Some(true)),
        "{json}"
    );
    let data = format!("{}/tests/data/ses", env!("CARGO_MANIFEST_DIR"));
    for (file, version) in [("UserV1.esl", 1), ("UserV4.esl", 4), ("UserV5.esl", 5)] {
        let (code, json, stderr) = read(&std::path::Path::new(&data).join(file));
        assert_eq!(code, Some(0), "{file}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["version"].as_u64(), Some(version), "{file}");
        assert_eq!(v["maker_signature"]["ok"].as_bool(), Some(true), "{file}: {json}");
        assert_eq!(v["maker_trusted"]["ok"].as_bool(), Some(false), "{file}: {json}");
        assert!(v["maker_trusted"]["reason"].as_str().unwrap().contains("trusted root"), "{json}");
    }
    let (code, _, stderr) = read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("not a readable electronic seal"), "{stderr}");
}
