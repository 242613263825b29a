//! Upgrading a database made before data-only licences (migration 0008), on SQLite and on
//! PostgreSQL: its licences become PDF licences with their file intact, the new `document`
//! column takes only `pdf` and `none`, and a row whose document and file disagree is
//! reported as corrupt rather than served.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use sqlx::AnyPool;
use zhengzhao::licence::Document;
use zhengzhao::store::prelude::*;
use zhengzhao::store::{SqlStore, StoreError};

const DEPT: &str = "11310115MB2C90510L";
const ID: &str = "1.2.156.3005.2.11100000000013338W002.11310115MB2C90510L.20260000001.001.X";

/// Brings the database at `url` to the migrations before 0008 of `backend`'s set.
async fn migrate_before_0008(url: &str, backend: &str, dir: &std::path::Path) {
    let old = dir.join(format!("migrations-{backend}-0007"));
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    for entry in std::fs::read_dir(&all).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < "0008" {
            std::fs::copy(&path, old.join(&name)).unwrap();
        }
    }
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
    // A licence as issued before: its root, department and seal, and its PDF.
    let statements = [
        "INSERT INTO roots (algorithm, cert_der, key_name, created_at) VALUES ('ed25519', $1, 'root-ed25519', 0)",
        "INSERT INTO departments (code, name, area_code, created_at) VALUES ($2, '演示市市场监督管理局', '310115', 0)",
        "INSERT INTO seals (id, department_code, name, algorithm, cert_der, serial_hex, key_name, status, created_at) \
         VALUES ('31011500000001', $2, '行政审批专用章', 'ed25519', $1, '0a01', 'seal-1', 'active', 0)",
        "INSERT INTO licences (id, type_code, issuer_code, serial, version, holder_code, holder_code_type, \
         holder_name, seal_id, status, issued_at, valid_from, valid_until, record_cbor, record_hash, token, pdf) \
         VALUES ($3, '11100000000013338W002', $2, '20260000001', 1, '91310115MA1H7ABC2D', '001', '某公司', \
         '31011500000001', '01', 0, '2026-01-01', NULL, $1, $1, $1, $4)",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(vec![0x30u8])
            .bind(DEPT)
            .bind(ID)
            .bind(b"%PDF-1.7 old".to_vec())
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    pool.close().await;
}

async fn upgrade(url: &str, backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    migrate_before_0008(url, backend, dir.path()).await;
    let store = SqlStore::connect(url).await.unwrap();
    let row = store.licence(ID).await.unwrap().unwrap();
    assert_eq!(row.licence.document, Document::Pdf(b"%PDF-1.7 old".to_vec()), "{backend}");
    store.close().await;

    let pool = AnyPool::connect(url).await.unwrap();
    let set = |value: &'static str| {
        sqlx::query("UPDATE licences SET document = $1 WHERE id = $2").bind(value).bind(ID)
    };
    assert!(set("ofd").execute(&pool).await.is_err(), "{backend}: the column takes pdf and none only");
    // A data-only licence with a file, or a PDF licence without one, is not served.
    set("none").execute(&pool).await.unwrap();
    let store = SqlStore::connect(url).await.unwrap();
    let read = store.licence(ID).await;
    assert!(matches!(read, Err(StoreError::Corrupt(ref m)) if m.contains("none")), "{backend}: {read:?}");
    sqlx::query("UPDATE licences SET document = 'pdf', pdf = $1 WHERE id = $2")
        .bind(Vec::<u8>::new())
        .bind(ID)
        .execute(&pool)
        .await
        .unwrap();
    assert!(matches!(store.licence(ID).await, Err(StoreError::Corrupt(_))), "{backend}");
    store.close().await;
    pool.close().await;
}

#[tokio::test]
async fn sqlite_licences_before_0008_are_pdf_licences() {
    let dir = tempfile::tempdir().unwrap();
    upgrade(&format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display()), "sqlite").await;
}

#[tokio::test]
async fn postgres_licences_before_0008_are_pdf_licences() {
    let Some((url, schema)) = common::postgres_schema_url().await else { return };
    upgrade(&url, "postgres").await;
    common::drop_schema(&schema).await;
}
