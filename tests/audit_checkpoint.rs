//! Signed checkpoints of the access log against someone with database access: a deleted
//! tail and a chain rewritten with recomputed hashes are both caught by `zhengzhao audit
//! verify`, and a checkpoint cannot be forged or altered.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::audit::{AccessEntry, entry_hash};
use zhengzhao::audit_checkpoint::Checkpoint;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::Platform;

struct F {
    dir: tempfile::TempDir,
    p: Arc<Platform>,
}

impl F {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn db_url(&self) -> String {
        format!("sqlite://{}", self.data().join("zhengzhao.db").display())
    }

    /// `zhengzhao audit …` in the data directory: (success, stdout, stderr).
    fn audit(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::cargo_bin("zhengzhao")
            .unwrap()
            .arg("--data")
            .arg(self.data())
            .arg("audit")
            .args(args)
            .env_remove("ZHENGZHAO_KEY_PASSPHRASE")
            .env("ZHENGZHAO_LOG", "warn")
            .output()
            .unwrap();
        let (stdout, stderr) =
            (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
        (out.status.success(), stdout, stderr)
    }

    /// Runs `audit verify ARGS`, expecting exit 1 with one line on stderr; returns it.
    fn verify_fails(&self, args: &[&str]) -> String {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = self.audit(&all);
        assert!(!ok, "audit verify {args:?} passed: {stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        lines[0].to_owned()
    }
}

async fn fixture(passphrase: Option<&str>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_layer(dir.path().join("data"), Layer::default()).unwrap();
    let p = Platform::create(config, passphrase.map(str::to_owned)).await.unwrap();
    p.ensure_demo(OffsetDateTime::now_utc()).await.unwrap();
    F { dir, p: Arc::new(p) }
}

fn entry(n: u64) -> AccessEntry {
    AccessEntry {
        seq: 0,
        at: 1_790_000_000 + n as i64,
        client_id: Some("cl_relying".into()),
        department_code: Some("11310115MB2C90512T".into()),
        action: "read".into(),
        purpose: Some(format!("核验经营资格 {n}")),
        basis: Some("duty:310115-SCJG-017".into()),
        licence_id: Some("1.2.156.3005.2.x".into()),
        holder_code_type: Some("001".into()),
        holder_code: Some("91310115MA1H7ABC2D".into()),
        result: "ok".into(),
        assertion_id: None,
        auth_level: None,
    }
}

async fn append(f: &F, range: std::ops::RangeInclusive<u64>) {
    for n in range {
        f.p.store.append_access(entry(n)).await.unwrap();
    }
}

async fn checkpoint_now(f: &F) -> Checkpoint {
    let signer = f.p.audit.audit_signer(OffsetDateTime::now_utc()).await.unwrap();
    f.p.audit.write_checkpoint(&signer, OffsetDateTime::now_utc()).await.unwrap().unwrap()
}

async fn sql(f: &F, statement: &str) {
    let pool = sqlx::SqlitePool::connect(&f.db_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned())).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_deleted_tail_is_caught_with_the_missing_range() {
    let f = fixture(None).await;
    append(&f, 1..=6).await;
    let cp = checkpoint_now(&f).await;
    assert_eq!(cp.seq, 6);
    // A copy kept outside the data directory, as fetched from GET /api/v1/audit/checkpoint.
    let copy = f.dir.path().join("copy.json");
    std::fs::write(&copy, serde_json::to_string(&cp).unwrap()).unwrap();
    let (ok, stdout, stderr) = f.audit(&["verify"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("6 entries; agrees with the checkpoint"), "{stdout}");

    // Behind the service's back: the newest three rows go, and the head row is made to fit.
    sql(&f, "DELETE FROM access_log WHERE seq > 3").await;
    sql(&f, "UPDATE access_log_head SET seq = 3, hash = (SELECT hash FROM access_log WHERE seq = 3)").await;
    // The chain alone is still consistent …
    assert_eq!(f.p.audit.audit_verify().await.unwrap(), Ok(3));
    // … but not with the checkpoint, in the data directory or kept elsewhere.
    for args in [vec![], vec!["--checkpoint", copy.to_str().unwrap()]] {
        let line = f.verify_fails(&args);
        assert!(line.contains("entries 4–6 are missing"), "{line}");
    }
    // The service signs no checkpoint over the shortened log.
    let signer = f.p.audit.audit_signer(OffsetDateTime::now_utc()).await.unwrap();
    let e = f.p.audit.write_checkpoint(&signer, OffsetDateTime::now_utc()).await.unwrap_err();
    assert!(e.to_string().contains("no longer holds entry 6"), "{e}");
}

/// Rewrites every row with `purpose` changed and every hash recomputed: a consistent
/// chain that is not the one that was checkpointed.
async fn rewrite_chain(f: &F) {
    let rows = f.p.store.access_log(0, 1000).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&f.db_url()).await.unwrap();
    let mut prev = zhengzhao::audit::GENESIS.to_vec();
    for r in rows {
        let mut e = r.entry.clone();
        e.purpose = Some("另一个用途".into());
        let hash = entry_hash(&prev, &e).to_vec();
        sqlx::query("UPDATE access_log SET purpose = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(e.purpose.clone())
            .bind(prev.clone())
            .bind(hash.clone())
            .bind(e.seq as i64)
            .execute(&pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE access_log_head SET hash = $1").bind(prev).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_chain_rewritten_with_recomputed_hashes_is_caught() {
    let f = fixture(None).await;
    append(&f, 1..=5).await;
    checkpoint_now(&f).await;
    append(&f, 6..=8).await;
    rewrite_chain(&f).await;
    assert_eq!(f.p.audit.audit_verify().await.unwrap(), Ok(8), "the rewritten chain is consistent in itself");
    let line = f.verify_fails(&[]);
    assert!(line.contains("entry 5 does not match the checkpoint"), "{line}");
    assert!(line.contains("rewritten"), "{line}");
}

#[tokio::test]
async fn altered_forged_and_unreadable_checkpoints_are_refused() {
    let f = fixture(None).await;
    append(&f, 1..=4).await;
    let cp = checkpoint_now(&f).await;
    let file = |name: &str, text: String| {
        let path = f.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // A smaller head, to hide deleted entries: the signature no longer holds.
    let mut lower = cp.clone();
    lower.seq = 2;
    lower.head = hex::encode(&f.p.store.access_log(1, 1).await.unwrap()[0].hash);
    let path = file("lower.json", serde_json::to_string(&lower).unwrap());
    let line = f.verify_fails(&["--checkpoint", path.to_str().unwrap()]);
    assert!(line.contains("signature does not verify"), "{line}");

    // Signed by a seal key with its certificate: not the checkpoint signer.
    let seal = &f.p.pki.seals(None).await.unwrap()[0];
    let key = f.p.keys.read(&seal.key_name).unwrap();
    let signer = zhengzhao::signing::SealSigner::from_pkcs8_der(key.pkcs8_der()).unwrap();
    let head: [u8; 32] = hex::decode(&cp.head).unwrap().try_into().unwrap();
    let forged = Checkpoint::sign(4, head, OffsetDateTime::now_utc(), &seal.cert_der, &signer);
    let path = file("forged.json", serde_json::to_string(&forged).unwrap());
    let line = f.verify_fails(&["--checkpoint", path.to_str().unwrap()]);
    assert!(line.contains("not the platform's checkpoint signer"), "{line}");

    for (name, text) in [
        ("garbage.json", "not json".to_owned()),
        ("extra.json", serde_json::to_string(&cp).unwrap().replace("{\"format\"", "{\"x\":1,\"format\"")),
        ("badcert.json", serde_json::to_string(&cp).unwrap().replace(&cp.cert, "!!")),
        ("huge.json", "x".repeat(1 << 20)),
    ] {
        let path = file(name, text);
        let line = f.verify_fails(&["--checkpoint", path.to_str().unwrap()]);
        assert!(line.contains(name), "{line}");
    }
    let line = f.verify_fails(&["--checkpoint", "/nonexistent/cp.json"]);
    assert!(line.contains("/nonexistent/cp.json"), "{line}");
    // The genuine one still passes.
    let (ok, _, stderr) = f.audit(&["verify"]);
    assert!(ok, "{stderr}");
}

async fn get_checkpoint(p: &Arc<Platform>) -> (StatusCode, serde_json::Value) {
    let response = zhengzhao::http::app(p.clone())
        .oneshot(Request::get("/api/v1/audit/checkpoint").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn serve_signs_new_heads_publishes_them_and_keeps_a_history() {
    let f = fixture(None).await;
    let (status, v) = get_checkpoint(&f.p).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::NOT_FOUND, Some("no_checkpoint")));

    let signer = f.p.audit.audit_signer(OffsetDateTime::now_utc()).await.unwrap();
    let task = tokio::spawn(f.p.audit.clone().run_checkpoints(signer, Duration::from_millis(50)));
    let wait_for = |seq: u64| {
        let p = f.p.clone();
        async move {
            for _ in 0..200 {
                if p.audit.latest_checkpoint().unwrap().is_some_and(|c| c.seq == seq) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            panic!("no checkpoint of entry {seq}");
        }
    };
    append(&f, 1..=3).await;
    wait_for(3).await;
    append(&f, 4..=9).await;
    wait_for(9).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    task.abort();

    let (status, v) = get_checkpoint(&f.p).await;
    assert_eq!(status, StatusCode::OK);
    let published: Checkpoint = serde_json::from_value(v).unwrap();
    assert_eq!(Some(&published), f.p.audit.latest_checkpoint().unwrap().as_ref());
    let roots: Vec<Vec<u8>> = f.p.store.roots().await.unwrap().into_iter().map(|r| r.cert_der).collect();
    assert_eq!(published.verify(&roots).unwrap().seq, 9);

    // The history has one line per new head (none while the head stood still), each valid.
    let history = std::fs::read_to_string(f.p.audit.checkpoint_history_path()).unwrap();
    let seqs: Vec<u64> = history
        .lines()
        .map(|l| serde_json::from_str::<Checkpoint>(l).unwrap().verify(&roots).unwrap().seq)
        .collect();
    assert!(seqs.contains(&3), "{seqs:?}");
    assert_eq!(seqs.last(), Some(&9), "{seqs:?}");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_checkpoint_key_is_a_0600_key_of_its_own_encrypted_with_the_passphrase() {
    let f = fixture(Some("口令 for tests")).await;
    let signer = f.p.audit.audit_signer(OffsetDateTime::now_utc()).await.unwrap();
    let key_file = f.data().join("keys").join(format!("{}.key", zhengzhao::platform::AUDIT_KEY));
    assert_eq!(mode(&key_file), 0o600);
    assert!(std::fs::read_to_string(&key_file).unwrap().contains("ENCRYPTED PRIVATE KEY"));
    // Issued by the Ed25519 root for a key that is not the root's.
    let roots = f.p.store.roots().await.unwrap();
    let root = roots.iter().find(|r| r.algorithm == zhengzhao::pki::Algorithm::Ed25519).unwrap();
    let info = zhengzhao::pki::cert_info(&signer.cert_der).unwrap();
    assert_eq!(info.issuer, zhengzhao::pki::cert_info(&root.cert_der).unwrap().subject);
    assert_ne!(info.key_id, zhengzhao::pki::cert_info(&root.cert_der).unwrap().key_id);
    zhengzhao::pki::validate_audit_signer(
        &signer.cert_der,
        std::slice::from_ref(&root.cert_der),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    // The same key and certificate next time.
    let again = f.p.audit.audit_signer(OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(again.cert_der, signer.cert_der);
}
