//! Bulk import (存量证照电子化) on SQLite and PostgreSQL: JSONL and CSV happy paths, bad
//! and hostile lines going to the error sink with their numbers while the run goes on,
//! exactly once across an interrupted run (a prefix, then the whole file), the storage
//! figures, and the HTTP jobs (upload, path under the import directory, scope, restart).
// Test scenarios here read top to bottom as one story each; the 80-line bar is for src/.
#![allow(clippy::too_many_lines)]
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::Row;
use time::OffsetDateTime;
use tower::ServiceExt;
use zhengzhao::config::{Config, Layer};
use zhengzhao::platform::import::{
    CsvMapping, ErrorSink, ImportError, ImportOptions, ImportProgress, ImportSummary, InputFormat, run_import,
};
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::{ImportErrorLine, ImportOrigin};

#[macro_use]
mod common;

const DEPT: &str = "11310115MB2C90510L";
const FOOD: &str = "11100000000013338W002";

struct F {
    dir: tempfile::TempDir,
    p: Arc<Platform>,
    seal: String,
    url: Option<String>,
}

async fn fixture_on(database_url: Option<String>) -> F {
    let dir = tempfile::tempdir().unwrap();
    let layer = Layer {
        public_url: Some("https://zz.example.gov.cn".into()),
        database_url: database_url.clone(),
        import_dir: Some(dir.path().join("imports").display().to_string()),
        ..Layer::default()
    };
    let p =
        Platform::create(Config::from_layer(dir.path().join("data"), layer).unwrap(), None).await.unwrap();
    let seal = p.ensure_demo(OffsetDateTime::now_utc()).await.unwrap()[0].id.clone();
    F { dir, p: Arc::new(p), seal, url: database_url }
}

/// Line `i`: the shipped food business licence with its own source id, holder name and
/// licence number; `document` as given.
fn line(seal: &str, i: u32, document: &str) -> String {
    let path = format!("{}/templates/examples/food-business-licence.json", env!("CARGO_MANIFEST_DIR"));
    let mut licence: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    licence["holder"]["name"] = json!(format!("上海第{i}餐饮管理有限公司"));
    licence["fields"]["licence_no"] = json!(format!("JY2310115{i:07}"));
    json!({
        "source_id": format!("SRC-{i:06}"),
        "seal_id": seal,
        "type_code": FOOD,
        "document": document,
        "issued_on": "2020-06-01",
        "licence": licence,
    })
    .to_string()
}

/// Error lines gathered in memory.
#[derive(Clone, Default)]
struct Errors(Arc<Mutex<Vec<ImportErrorLine>>>);

impl ErrorSink for Errors {
    fn record(&mut self, error: &ImportErrorLine) -> Result<(), ImportError> {
        self.0.lock().unwrap().push(error.clone());
        Ok(())
    }
}

async fn import(
    f: &F,
    input: &str,
    text: String,
    format: InputFormat,
) -> (ImportSummary, Vec<ImportErrorLine>) {
    import_with(f, input, text, format, false).await
}

async fn import_with(
    f: &F,
    input: &str,
    text: String,
    format: InputFormat,
    deferred: bool,
) -> (ImportSummary, Vec<ImportErrorLine>) {
    let origin = ImportOrigin { source: "registry".into(), input: input.into() };
    let mut options = ImportOptions::new(origin, format);
    options.deferred = deferred;
    options.batch = 7;
    options.max_line = 64 * 1024;
    let errors = Errors::default();
    let summary = run_import(
        &f.p,
        Box::new(Cursor::new(text.into_bytes())),
        &options,
        Arc::new(ImportProgress::default()),
        Box::new(errors.clone()),
    )
    .await
    .unwrap();
    let lines = errors.0.lock().unwrap().clone();
    (summary, lines)
}

/// (licences, import records, distinct source ids, distinct serials) in the register.
async fn register_counts(f: &F) -> (i64, i64, i64, i64) {
    let url = f
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", f.dir.path().join("data/zhengzhao.db").display()));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM licences) AS l, (SELECT COUNT(*) FROM import_records) AS r, \
         (SELECT COUNT(DISTINCT source_id) FROM import_records) AS s, \
         (SELECT COUNT(DISTINCT serial) FROM licences) AS n",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let counts = (row.get("l"), row.get("r"), row.get("s"), row.get("n"));
    pool.close().await;
    counts
}

async fn jsonl_issues_every_line_once(f: F) {
    let mut text: Vec<String> = (1..=20).map(|i| line(&f.seal, i, "none")).collect();
    text.push(line(&f.seal, 21, "pdf"));
    text.push(line(&f.seal, 22, "pdf"));
    let (s, errors) = import(&f, "a.jsonl", text.join("\n"), InputFormat::Jsonl).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((s.counts.read, s.counts.issued, s.counts.skipped, s.counts.failed), (22, 22, 0, 0));
    assert!(s.document_bytes > 2 * 10_000, "two PDFs: {}", s.document_bytes);
    assert!(s.storage_per_licence().is_some());
    assert_eq!(register_counts(&f).await, (22, 22, 22, 22));
    // The record keeps the original issue date; the validity starts then.
    let prior = f.p.store.imported("registry", &["SRC-000021".into()]).await.unwrap();
    let row = f.p.store.licence(&prior[0].licence_id).await.unwrap().unwrap();
    assert_eq!(row.licence.valid_from, "2020-06-01");
    let record: Value = ciborium::from_reader::<ciborium::Value, _>(&row.licence.record_cbor[..])
        .map(|v| serde_json::to_value(v).unwrap())
        .unwrap();
    assert_eq!(record["issue_date"], "2020-06-01", "{record}");
    assert!(row.licence.issued_at > OffsetDateTime::now_utc() - time::Duration::hours(1));
    // Run again: all imported before.
    let (s, errors) = import(&f, "a.jsonl", text.join("\n"), InputFormat::Jsonl).await;
    assert!(errors.is_empty());
    assert_eq!((s.counts.issued, s.counts.skipped), (0, 22));
    assert_eq!(register_counts(&f).await.0, 22);
}

async fn deferred_documents_are_made_on_first_download(f: F) {
    let text: Vec<String> = (1..=3).map(|i| line(&f.seal, i, "pdf")).collect();
    let (s, errors) = import_with(&f, "lazy.jsonl", text.join("\n"), InputFormat::Jsonl, true).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((s.counts.issued, s.document_bytes), (3, 0), "records and tokens only");
    let prior = f.p.store.imported("registry", &["SRC-000002".into()]).await.unwrap();
    let row = f.p.store.licence(&prior[0].licence_id).await.unwrap().unwrap();
    let deferred = zhengzhao::licence::Document::Deferred(zhengzhao::licence::DocumentKind::Pdf);
    assert_eq!(row.licence.document, deferred);
    // The first download makes it from the stored record (the original issue date) and keeps it.
    let now = OffsetDateTime::now_utc();
    let document = f.p.issuing.documents(row.clone(), now).await.unwrap();
    let pdf = document.pdf().unwrap().to_vec();
    let stored = f.p.store.licence(&row.licence.id).await.unwrap().unwrap();
    assert_eq!(stored.licence.document.pdf(), Some(&pdf[..]));
    let report = f.p.verification.verify_pdf(pdf, now).await.unwrap();
    // The document holds; the licence itself (issued 2020-06-01 for five years) has expired.
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome != zhengzhao::verify::Outcome::Passed)
        .map(|c| c.code)
        .collect();
    assert_eq!(failed, ["licence.validity"], "{report:#?}");
    assert_eq!(report.licence.unwrap().identifier, row.licence.id);
}

async fn bad_lines_go_to_the_error_sink(f: F) {
    let seal = f.seal.clone();
    let good = |i| line(&seal, i, "none");
    let mut bad_field: Value = serde_json::from_str(&good(3)).unwrap();
    bad_field["licence"]["fields"]["licence_no"] = json!("XX1");
    let mut unknown_type: Value = serde_json::from_str(&good(4)).unwrap();
    unknown_type["type_code"] = json!("11100000000013338W999");
    let mut unknown_seal: Value = serde_json::from_str(&good(5)).unwrap();
    unknown_seal["seal_id"] = json!("99999900000001");
    let mut future: Value = serde_json::from_str(&good(6)).unwrap();
    future["issued_on"] = json!("2999-01-01");
    let lines = [
        good(1),                                                                                   // 1 ok
        "{not json".to_owned(),                                                                    // 2
        bad_field.to_string(),                                                                     // 3
        unknown_type.to_string(),                                                                  // 4
        unknown_seal.to_string(),                                                                  // 5
        future.to_string(),                                                                        // 6
        good(1),            // 7 duplicate of line 1
        "x".repeat(70_000), // 8 over-long
        String::from_utf8_lossy(&[0, 1, 2, 0xef, 0xbf, 0xbd, 0x7f]).into_owned(), // 9 garbage
        format!("{{\"source_id\":\"DEEP\",\"x\":{}1{}}}", "[".repeat(20_000), "]".repeat(20_000)), // 10 deeply nested
        String::new(),                                                                             // blank
        good(12),                                                                                  // 12 ok
    ];
    let (s, errors) = import(&f, "bad.jsonl", lines.join("\n"), InputFormat::Jsonl).await;
    // A duplicate is found when it is stored, after the lines refused before building.
    let mut failed: Vec<u64> = errors.iter().map(|e| e.line).collect();
    failed.sort_unstable();
    assert_eq!(failed, [2, 3, 4, 5, 6, 7, 8, 9, 10], "{errors:#?}");
    assert_eq!((s.counts.read, s.counts.issued, s.counts.failed), (11, 2, 9));
    let reason = |l: u64| errors.iter().find(|e| e.line == l).unwrap().reason.clone();
    assert!(reason(3).contains("fields.licence_no"), "{}", reason(3));
    assert!(reason(4).contains("11100000000013338W999"), "{}", reason(4));
    assert!(reason(5).contains("99999900000001"), "{}", reason(5));
    assert!(reason(6).contains("after today"), "{}", reason(6));
    assert!(reason(7).contains("duplicate source_id: line 1"), "{}", reason(7));
    assert!(reason(8).contains("longer than"), "{}", reason(8));
    assert!(reason(10).starts_with("not a licence line"), "{}", reason(10));
    assert_eq!(errors.iter().find(|e| e.line == 3).unwrap().source_id.as_deref(), Some("SRC-000003"));
    // A binary line that is not UTF-8 at all.
    let mut bytes = good(20).into_bytes();
    bytes.extend(b"\n\xff\xfe\x00garbage\n");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (s, _) = import(&f, "bin.jsonl", text, InputFormat::Jsonl).await;
    assert_eq!((s.counts.issued, s.counts.failed), (1, 1));
    // The serials of refused lines were never taken, or were given back: no hole.
    let (licences, _, _, serials) = register_counts(&f).await;
    assert_eq!(licences, serials);
}

async fn an_interrupted_import_resumes_exactly_once(f: F) {
    let text: Vec<String> = (1..=300).map(|i| line(&f.seal, i, "none")).collect();
    // The first run stops after 120 lines (as a killed run would have stored a prefix).
    let (s, _) = import(&f, "big.jsonl", text[..120].join("\n"), InputFormat::Jsonl).await;
    assert_eq!(s.counts.issued, 120);
    let (s, errors) = import(&f, "big.jsonl", text.join("\n"), InputFormat::Jsonl).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((s.counts.skipped, s.counts.issued), (120, 180));
    assert_eq!(register_counts(&f).await, (300, 300, 300, 300));
    // The same records from another input are imported before, not duplicates.
    let (s, errors) = import(&f, "copy.jsonl", text[..10].join("\n"), InputFormat::Jsonl).await;
    assert!(errors.is_empty());
    assert_eq!(s.counts.skipped, 10);
}

async fn csv_through_a_mapping(f: F) {
    let dir = format!("{}/templates/examples/import", env!("CARGO_MANIFEST_DIR"));
    let mut mapping: CsvMapping =
        toml::from_str(&std::fs::read_to_string(format!("{dir}/mapping.toml")).unwrap()).unwrap();
    mapping.seal_id = Some(f.seal.clone());
    let mut text = std::fs::read_to_string(format!("{dir}/licences.csv")).unwrap();
    text.push_str("SCJG-CSV-000003,2019-01-01,short row\n");
    text.push_str("SCJG-CSV-000004,2019-01-01,\"unterminated\n");
    let (s, errors) = import(&f, "a.csv", text, InputFormat::Csv(mapping.clone())).await;
    assert_eq!((s.counts.issued, s.counts.failed), (2, 2), "{errors:?}");
    assert_eq!(errors[0].line, 4);
    assert!(errors[0].reason.contains("columns"), "{errors:?}");
    // A mapping naming a column the header lacks stops the run before anything is issued.
    mapping.columns.insert("fields.extra".into(), "不存在".into());
    let origin = ImportOrigin { source: "registry".into(), input: "b.csv".into() };
    let err = run_import(
        &f.p,
        Box::new(Cursor::new(b"a,b\n1,2\n".to_vec())),
        &ImportOptions::new(origin, InputFormat::Csv(mapping)),
        Arc::new(ImportProgress::default()),
        Box::new(Errors::default()),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("header"), "{err}");
}

async fn http_jobs(f: F) {
    let now = OffsetDateTime::now_utc();
    let (_, key) = f.p.clients.add_client(DEPT, "存量电子化", &[Scope::Import], &[], now).await.unwrap();
    let (_, other) = f.p.clients.add_client(DEPT, "审批系统", &[Scope::Issue], &[], now).await.unwrap();
    let app = common::app(f.p.clone());
    let call = |key: String, method: &str, uri: &str, ctype: &str, body: Vec<u8>| {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, ctype)
            .body(Body::from(body))
            .unwrap();
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
        }
    };
    let key = key.expose().to_owned();
    let body: Vec<String> = (1..=5).map(|i| line(&f.seal, i, "none")).chain(["{bad".to_owned()]).collect();
    let body = body.join("\n").into_bytes();
    let (status, v) = call(
        other.expose().to_owned(),
        "POST",
        "/api/v1/imports?source=s1",
        "application/x-ndjson",
        body.clone(),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (status, v) =
        call(key.clone(), "POST", "/api/v1/imports", "application/x-ndjson", body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) =
        call(key.clone(), "POST", "/api/v1/imports?source=s1", "application/x-ndjson", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let job = wait(&call, &key, &id).await;
    assert_eq!(job["counts"], json!({"read": 6, "issued": 5, "skipped": 0, "failed": 1}), "{job}");
    assert_eq!(job["errors"][0]["line"], 6);
    // A file in the import directory; paths leading out are refused.
    let dir = f.dir.path().join("imports");
    std::fs::create_dir_all(&dir).unwrap();
    let text: Vec<String> = (1..=8).map(|i| line(&f.seal, i, "none")).collect();
    std::fs::write(dir.join("batch1.jsonl"), text.join("\n")).unwrap();
    for bad in ["../data/config.toml", "/etc/passwd", "missing.jsonl"] {
        let (status, v) = call(
            key.clone(),
            "POST",
            "/api/v1/imports",
            "application/json",
            json!({"path": bad}).to_string().into_bytes(),
        )
        .await;
        assert_eq!(
            (status, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_input")),
            "{bad}: {v}"
        );
    }
    let (status, v) = call(
        key.clone(),
        "POST",
        "/api/v1/imports",
        "application/json",
        json!({"path": "batch1.jsonl", "source": "s1"}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let job = wait(&call, &key, v["id"].as_str().unwrap()).await;
    assert_eq!(job["counts"], json!({"read": 8, "issued": 3, "skipped": 5, "failed": 0}), "{job}");
    let (status, _) =
        call(other.expose().to_owned(), "GET", &format!("/api/v1/imports/{id}"), "application/json", vec![])
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(key.clone(), "GET", "/api/v1/imports/nope", "application/json", vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        call(key.clone(), "POST", "/api/v1/imports?source=s1", "text/plain", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A restart marks a running job interrupted.
    let mut record = f.p.store.import_job(&id).await.unwrap().unwrap();
    record.status = "running".into();
    f.p.store.update_import_job(&record).await.unwrap();
    assert_eq!(f.p.store.interrupt_import_jobs(now).await.unwrap(), 1);
    assert_eq!(f.p.store.import_job(&id).await.unwrap().unwrap().status, "interrupted");
}

async fn wait<C, Fut>(call: &C, key: &str, id: &str) -> Value
where
    C: Fn(String, &str, &str, &str, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    for _ in 0..300 {
        let (status, v) =
            call(key.to_owned(), "GET", &format!("/api/v1/imports/{id}"), "application/json", vec![]).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["status"] != "running" {
            assert_eq!(v["status"], "done", "{v}");
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import job did not finish");
}

async fn serials_are_reserved_in_blocks(f: F) {
    let now = OffsetDateTime::now_utc();
    let store = &f.p.store;
    let block = store.reserve_serials("licence:test", 5, now).await.unwrap();
    assert_eq!(block.iter().map(|r| r.value).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    store.release_serials(&block[1..3]).await.unwrap();
    // Given back first, lowest first, then the counter's next values.
    let next = store.reserve_serials("licence:test", 4, now).await.unwrap();
    assert_eq!(next.iter().map(|r| r.value).collect::<Vec<_>>(), [2, 3, 6, 7]);
    // A block whose lease lapsed is handed out again.
    let later = now + zhengzhao::store::SERIAL_LEASE + time::Duration::seconds(1);
    let again = store.reserve_serials("licence:test", 2, later).await.unwrap();
    assert_eq!(again.iter().map(|r| r.value).collect::<Vec<_>>(), [1, 2]);
    assert!(store.reserve_serials("licence:test", 0, now).await.is_err());
}

on_both_backends!(
    deferred_documents_are_made_on_first_download,
    serials_are_reserved_in_blocks,
    jsonl_issues_every_line_once,
    bad_lines_go_to_the_error_sink,
    an_interrupted_import_resumes_exactly_once,
    csv_through_a_mapping,
    http_jobs,
);
