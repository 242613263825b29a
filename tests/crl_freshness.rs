//! How fresh the CRLs are: the published CRL is re-signed once it has passed half of its
//! validity (with a moved clock), licences signed within one second share one DSS CRL (the
//! same bytes, not merely non-decreasing numbers), and offline verification takes a newer
//! CRL with `--crl` and goes offline with `--trust` alone.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use time::{Duration, OffsetDateTime};
use zhengzhao::config::{Config, Layer};
use zhengzhao::licence::LicenceInput;
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::{DEMO_DEPARTMENT, IssueRequest, IssuedLicence, Platform};

const FOOD: &str = "11100000000013338W002";

async fn platform(dir: &std::path::Path) -> (Platform, Vec<(Algorithm, String)>) {
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let platform =
        Platform::create(Config::from_layer(dir.join("data"), layer).unwrap(), None).await.unwrap();
    let seals = platform.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    // The tests issue food licences with a PDF: only the market department's seals (the
    // other demo departments issue other types) of algorithms that sign PDFs (SM2 seals
    // sign none, `Algorithm::signs_pdf`).
    let seals = seals
        .iter()
        .filter(|s| s.algorithm.signs_pdf() && s.department_code.as_str() == DEMO_DEPARTMENT.0)
        .map(|s| (s.algorithm, s.id.clone()))
        .collect();
    (platform, seals)
}

fn input() -> LicenceInput {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn issue_at(p: &Platform, seal: &str, now: OffsetDateTime) -> IssuedLicence {
    let request = IssueRequest {
        seal_id: seal.to_owned(),
        ofd_seal_id: None,
        type_code: FOOD.to_owned(),
        input: input(),
        document: zhengzhao::licence::DocumentKind::Pdf,
        client: None,
        idempotency_key: None,
        renews: None,
    };
    p.issuing.issue(request, now).await.unwrap()
}

/// The one CRL a licence PDF carries in its DSS.
fn dss_crl(pdf: &[u8]) -> Vec<u8> {
    let mut crls = zhengzhao::pdf::inspect(pdf).unwrap().dss_crls;
    assert_eq!(crls.len(), 1, "one CRL in the DSS");
    crls.remove(0)
}

/// Guarded by the `young` test (`now < this_update + half of its validity`) in `Pki::refresh_crl`.
#[tokio::test]
async fn the_published_crl_is_re_signed_at_half_life_and_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = platform(dir.path()).await;
    for alg in Algorithm::ALL {
        let first = p.pki.refresh_crl(alg, OffsetDateTime::now_utc()).await.unwrap();
        let half = (first.next_update - first.this_update) / 2;
        assert!(half >= Duration::days(1), "crl_days is days: {half}");
        // Just before half-life: the same CRL, byte for byte.
        let before = p.pki.refresh_crl(alg, first.this_update + half - Duration::seconds(1)).await.unwrap();
        assert_eq!((before.number, &before.der), (first.number, &first.der), "{alg}: re-signed too early");
        // At half-life: a new CRL, numbered next, issued at that moment, valid as long again.
        let at = first.this_update + half;
        let renewed = p.pki.refresh_crl(alg, at).await.unwrap();
        assert_eq!(renewed.number, first.number + 1, "{alg}");
        assert_eq!(renewed.this_update, at, "{alg}");
        assert_eq!(renewed.next_update - renewed.this_update, first.next_update - first.this_update, "{alg}");
        let info = pki::crl_info(&renewed.der).unwrap();
        assert_eq!(
            (info.crl_number, info.this_update),
            (Some(renewed.number), at),
            "{alg}: the DER says so too"
        );
        // Asked again a second later, the renewed CRL is young: it serves as it is.
        let again = p.pki.refresh_crl(alg, at + Duration::seconds(1)).await.unwrap();
        assert_eq!((again.number, &again.der), (renewed.number, &renewed.der), "{alg}");
    }
}

/// A data directory made before SM2 has no SM2 root: the platform says so
/// (`Pki::missing_roots`, which `serve` warns about and the CRL refresher skips) and keeps
/// the other roots' CRLs fresh; `init` adds the missing root.
#[tokio::test]
async fn a_root_missing_from_an_older_data_directory_is_reported_and_init_adds_it() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = platform(dir.path()).await;
    assert_eq!(p.pki.missing_roots().await.unwrap(), vec![]);
    // What a version before SM2 left: no SM2 root, CRL, seal or key.
    let db = format!("sqlite://{}", dir.path().join("data/zhengzhao.db").display());
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    for table in ["seals", "crls", "roots"] {
        let delete = format!("DELETE FROM {table} WHERE algorithm = 'sm2'");
        sqlx::query(sqlx::AssertSqlSafe(delete)).execute(&pool).await.unwrap();
    }
    pool.close().await;
    std::fs::remove_file(dir.path().join("data/keys/root-sm2.key")).unwrap();
    drop(p);
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let p = Platform::open(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    assert_eq!(p.pki.missing_roots().await.unwrap(), vec![Algorithm::Sm2]);
    assert!(p.pki.refresh_crl(Algorithm::Sm2, OffsetDateTime::now_utc()).await.is_err());
    for alg in [Algorithm::Ed25519, Algorithm::P256] {
        p.pki.refresh_crl(alg, OffsetDateTime::now_utc()).await.unwrap();
    }
    let report = p.pki.init("ignored", OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!((report.created, report.kept.len()), (vec![Algorithm::Sm2], 2));
    assert_eq!(p.pki.missing_roots().await.unwrap(), vec![]);
    // The new root certifies SM2 seals whose chains validate with its CRL.
    let department = p.pki.departments().await.unwrap().remove(0).code.to_string();
    let now = OffsetDateTime::now_utc();
    let seal = p.pki.create_seal(&department, "行政审批专用章", Algorithm::Sm2, now).await.unwrap();
    let root = p.pki.roots_pem(Some(Algorithm::Sm2)).await.unwrap();
    let root = pki::pem_decode_all(&root, "CERTIFICATE").unwrap();
    let crl = p.pki.current_crl(Algorithm::Sm2).await.unwrap().der;
    let chain = pki::validate_seal_chain(&seal.cert_der, &[], &root, &[crl], now).unwrap();
    assert_eq!(chain.leaf.algorithm, Algorithm::Sm2);
}

/// Guarded by the `fresh` test of `Pki::dss_crl` (thisUpdate ≥ the signing second).
#[tokio::test]
async fn licences_signed_in_the_same_second_share_one_dss_crl_and_the_next_second_gets_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let (p, seals) = platform(dir.path()).await;
    // A whole second, some time after the demo CRLs were made.
    let second =
        OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp() + 10).unwrap();
    for (alg, seal) in &seals {
        let a = issue_at(&p, seal, second).await;
        let b = issue_at(&p, seal, second + Duration::milliseconds(900)).await;
        let (crl_a, crl_b) = (dss_crl(a.pdf().unwrap()), dss_crl(b.pdf().unwrap()));
        assert_eq!(crl_a, crl_b, "{alg}: two licences of one second carry one CRL");
        let info = pki::crl_info(&crl_a).unwrap();
        assert_eq!(info.this_update, second, "{alg}: issued at the signing second, not before");
        let c = issue_at(&p, seal, second + Duration::seconds(1)).await;
        let crl_c = dss_crl(c.pdf().unwrap());
        let next = pki::crl_info(&crl_c).unwrap();
        assert_eq!(next.this_update, second + Duration::seconds(1), "{alg}");
        assert_eq!(next.crl_number, info.crl_number.map(|n| n + 1), "{alg}: the next number");
        // The published CRL is the newest one.
        let published = p.pki.current_crl(*alg).await.unwrap();
        assert_eq!(published.der, crl_c, "{alg}");
    }
}

/// Reads do not write: verifying online (token, PDF, identifier), the trust list and the
/// published CRL at a time past the CRLs' half-life and expiry sign no CRL (guarded by
/// `trust_material` reading `current_crl`, which only reads; before, it re-signed).
#[tokio::test]
async fn verification_and_the_trust_list_sign_no_crl_even_past_half_life() {
    let dir = tempfile::tempdir().unwrap();
    let (p, seals) = platform(dir.path()).await;
    let l = issue_at(&p, &seals[0].1, OffsetDateTime::now_utc()).await;
    let mut numbers = Vec::new();
    for alg in Algorithm::ALL {
        numbers.push(p.pki.current_crl(alg).await.unwrap().number);
    }
    let later = OffsetDateTime::now_utc() + Duration::days(30);
    let report = p.verification.verify_token_text(&l.url, later).await.unwrap();
    assert!(report.check("seal.revocation").is_some(), "{report:?}");
    p.verification.verify_pdf(l.pdf().unwrap().to_vec(), later).await.unwrap();
    p.verification.verify_identifier(&l.identifier, later).await.unwrap();
    p.verification.trust_list(later).await.unwrap();
    for (alg, number) in Algorithm::ALL.into_iter().zip(numbers) {
        let crl = p.pki.current_crl(alg).await.unwrap();
        assert_eq!(crl.number, number, "{alg}: a read signed a CRL");
        assert!(crl.next_update < later, "{alg}: the stored CRL is the old one");
    }
}

fn zhengzhao(data: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("zhengzhao").unwrap();
    cmd.arg("--data").arg(data).args(args);
    cmd.env_remove("ZHENGZHAO_KEY_PASSPHRASE").env("ZHENGZHAO_LOG", "warn");
    cmd.output().unwrap()
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("not JSON: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn outcome<'a>(report: &'a serde_json::Value, code: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .and_then(|c| c["outcome"].as_str())
        .unwrap_or_else(|| panic!("no {code} in {report}"))
}

/// `--trust` alone verifies offline (guarded by the `Some(path)` arm of `verify_command`);
/// `--crl newer.crl` brings a revocation the trust list predates (guarded by the CRLs
/// passed to `TrustSet::from_trust_list` there).
#[tokio::test]
async fn offline_verification_takes_a_newer_crl_and_goes_offline_with_trust_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (p, seals) = platform(dir.path()).await;
    let seal = seals.iter().find(|(a, _)| *a == Algorithm::P256).unwrap().1.clone();
    let l = issue_at(&p, &seal, OffsetDateTime::now_utc()).await;
    let data = dir.path().join("data");
    let trust = dir.path().join("trust-list.json");
    std::fs::write(&trust, p.verification.trust_list(OffsetDateTime::now_utc()).await.unwrap().as_bytes())
        .unwrap();
    drop(p);
    let (trust, url) = (trust.to_str().unwrap(), l.url.as_str());

    // `--trust` without `--offline`: offline all the same, and the seal is not revoked.
    let out = zhengzhao(&data, &["verify", url, "--trust", trust, "--json"]);
    let before = report(&out);
    assert_eq!((out.status.code(), before["mode"].as_str()), (Some(2), Some("offline")), "{before}");
    assert_eq!(before["verdict"], "indeterminate", "{before}");
    assert_eq!(outcome(&before, "licence.status"), "not_checked", "{before}");
    assert_ne!(outcome(&before, "seal.revocation"), "failed", "{before}");

    // The seal's key is compromised; its root publishes a newer CRL.
    let out = zhengzhao(&data, &["seal", "revoke", &seal, "--reason", "key-compromise"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = zhengzhao(&data, &["pki", "crl", "--algorithm", "p256"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let newer = dir.path().join("newer.crl");
    std::fs::write(&newer, &out.stdout).unwrap();
    let newer = newer.to_str().unwrap();

    // The old trust list alone does not know; with `--crl newer.crl` the revocation shows.
    let out = zhengzhao(&data, &["verify", url, "--trust", trust, "--json"]);
    assert_ne!(outcome(&report(&out), "seal.revocation"), "failed", "the trust list predates the revocation");
    for offline in [&[][..], &["--offline"][..]] {
        let mut args = vec!["verify", url, "--trust", trust, "--crl", newer, "--json"];
        args.extend_from_slice(offline);
        let out = zhengzhao(&data, &args);
        let after = report(&out);
        assert_eq!(
            (out.status.code(), after["mode"].as_str()),
            (Some(1), Some("offline")),
            "{args:?}: {after}"
        );
        assert_eq!(outcome(&after, "seal.revocation"), "failed", "{args:?}: {after}");
    }
}
