//! `zhengzhao import` as a process: killed with SIGKILL in the middle of a run of a few
//! thousand lines and started again with the same command, it ends with every source
//! record issued exactly once and unique serials; the summary, the default error file next
//! to the input, the exit codes, and CSV through the shipped mapping.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::Platform;

/// A data directory with the demo platform; its first seal.
async fn data_dir(dir: &std::path::Path) -> String {
    let layer = Layer { public_url: Some("https://zz.example.gov.cn".into()), ..Layer::default() };
    let p = Platform::create(Config::from_layer(dir.join("data"), layer).unwrap(), None).await.unwrap();
    p.ensure_demo(OffsetDateTime::now_utc()).await.unwrap()[0].id.clone()
}

fn lines(seal: &str, n: u32) -> String {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let mut licence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = String::new();
    for i in 1..=n {
        licence["holder"]["name"] = json!(format!("第{i}号餐饮有限公司"));
        licence["fields"]["licence_no"] = json!(format!("JY2{i:013}"));
        let line = json!({"source_id": format!("K{i}"), "seal_id": seal, "type_code": "11100000000013338W002",
            "document": "none", "licence": licence});
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}?mode=ro", db.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    })
}

fn zhengzhao(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhengzhao"));
    cmd.arg("--data").arg(data).env("ZHENGZHAO_LOG", "warn");
    cmd
}

#[test]
fn killed_and_started_again_it_issues_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let seal = tokio::runtime::Runtime::new().unwrap().block_on(data_dir(dir.path()));
    let n = 3000;
    let input = dir.path().join("licences.jsonl");
    std::fs::write(&input, lines(&seal, n)).unwrap();
    let (data, db) = (dir.path().join("data"), dir.path().join("data/zhengzhao.db"));
    let mut child = zhengzhao(&data)
        .args(["import", "--batch", "50", "--input"])
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stored = 0;
    while started.elapsed() < Duration::from_secs(120) {
        stored = count(&db, "SELECT COUNT(*) FROM import_records");
        if stored >= 200 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_at = count(&db, "SELECT COUNT(*) FROM import_records");
    assert!(killed_at >= stored && killed_at > 0);
    eprintln!("killed with {killed_at} of {n} stored");
    let out = zhengzhao(&data).args(["import", "--batch", "50", "--input"]).arg(&input).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("skipped:  {killed_at} ")), "{text}");
    assert!(text.contains(&format!("issued:   {}", i64::from(n) - killed_at)), "{text}");
    assert!(text.contains("per licence"), "{text}");
    for (sql, want) in [
        ("SELECT COUNT(*) FROM licences", n),
        ("SELECT COUNT(DISTINCT source_id) FROM import_records", n),
        ("SELECT COUNT(DISTINCT licence_id) FROM import_records", n),
        ("SELECT COUNT(DISTINCT serial) FROM licences", n),
    ] {
        assert_eq!(count(&db, sql), i64::from(want), "{sql}");
    }
    // The serials run 1..=n without a hole; reservations left by the kill lapse (not
    // handed out in this test's lifetime) and are handed out again later.
    let held = count(&db, "SELECT COUNT(*) FROM serial_reservations WHERE holder IS NOT NULL");
    eprintln!("{held} reservations left by the kill, to lapse");
    assert!(std::fs::read_to_string(dir.path().join("licences.jsonl.errors.jsonl")).unwrap().is_empty());
}

#[test]
fn bad_lines_make_exit_1_and_fill_the_error_file() {
    let dir = tempfile::tempdir().unwrap();
    let seal = tokio::runtime::Runtime::new().unwrap().block_on(data_dir(dir.path()));
    let input = dir.path().join("mixed.jsonl");
    std::fs::write(&input, format!("{}{{oops\n", lines(&seal, 3))).unwrap();
    let errors = dir.path().join("errs.jsonl");
    let out = zhengzhao(&dir.path().join("data"))
        .args(["import", "--source", "reg-1", "--errors"])
        .arg(&errors)
        .arg("--input")
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("issued:   3") && text.contains("failed:   1"), "{text}");
    let error: Value = serde_json::from_str(std::fs::read_to_string(&errors).unwrap().trim()).unwrap();
    assert_eq!(error["line"], 4);
    // Plain progress lines go to stderr when it is not a terminal (every 5 s: none here),
    // and a CSV input without a mapping is refused with one line.
    let csv = format!("{}/templates/examples/import/licences.csv", env!("CARGO_MANIFEST_DIR"));
    let out = zhengzhao(&dir.path().join("data")).args(["import", "--input", &csv]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mapping"));
}

#[test]
fn csv_with_the_shipped_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let seal = tokio::runtime::Runtime::new().unwrap().block_on(data_dir(dir.path()));
    let shipped = format!("{}/templates/examples/import", env!("CARGO_MANIFEST_DIR"));
    let mapping = std::fs::read_to_string(format!("{shipped}/mapping.toml")).unwrap();
    let mapping = mapping.replace("seal_id = \"31011500000001\"", &format!("seal_id = \"{seal}\""));
    std::fs::write(dir.path().join("mapping.toml"), mapping).unwrap();
    let out = zhengzhao(&dir.path().join("data"))
        .args(["import", "--mapping"])
        .arg(dir.path().join("mapping.toml"))
        .arg("--input")
        .arg(format!("{shipped}/licences.csv"))
        .arg("--errors")
        .arg(dir.path().join("e.jsonl"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("issued:   2"), "{text}");
}
