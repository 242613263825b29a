//! One store test suite, run on SQLite and on PostgreSQL: both backends must behave
//! the same, including atomicity and conflicts.
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use zhengzhao::codes::{AreaCode, Uscc};
use zhengzhao::pki::{Algorithm, RevocationReason};
use zhengzhao::store::{
    CrlRecord, Department, PlatformRecord, RootRecord, SealRecord, SealStatus, Store, StoreError,
};

fn t(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000 + secs).unwrap()
}

fn crl(algorithm: Algorithm, number: u64) -> CrlRecord {
    CrlRecord {
        algorithm,
        number,
        this_update: t(number as i64),
        next_update: t(number as i64) + Duration::days(7),
        der: vec![0x30, number as u8],
    }
}

fn department(code: &str) -> Department {
    Department {
        code: Uscc::parse(code).unwrap(),
        name: "上海市浦东新区市场监督管理局".into(),
        area: AreaCode::parse("310115").unwrap(),
        created_at: t(0),
    }
}

fn seal(id: &str, code: &str, algorithm: Algorithm, serial: &str) -> SealRecord {
    SealRecord {
        id: id.into(),
        department_code: Uscc::parse(code).unwrap(),
        name: "行政审批专用章".into(),
        algorithm,
        cert_der: vec![0x30, 0x82, 1, 2],
        serial_hex: serial.into(),
        key_name: format!("seal-{id}"),
        status: SealStatus::Active,
        created_at: t(5),
        revocation: None,
    }
}

const DEPT: &str = "11310115MB2C90510L";
const OTHER: &str = "91370406L24894136J";

async fn with_roots(store: &dyn Store) {
    for alg in Algorithm::ALL {
        let root = RootRecord {
            algorithm: alg,
            cert_der: vec![1, 2, 3],
            key_name: format!("root-{alg}"),
            created_at: t(0),
        };
        store.insert_root(&root, &crl(alg, 1)).await.unwrap();
    }
}

async fn platform_and_roots(store: Arc<dyn Store>) {
    assert_eq!(store.platform().await.unwrap(), None);
    let p = PlatformRecord { name: "证照平台".into(), created_at: t(0) };
    store.insert_platform(&p).await.unwrap();
    assert_eq!(store.platform().await.unwrap(), Some(p.clone()));
    assert!(matches!(store.insert_platform(&p).await, Err(StoreError::Conflict(_))));

    with_roots(&*store).await;
    let roots = store.roots().await.unwrap();
    assert_eq!(
        roots.iter().map(|r| r.algorithm).collect::<Vec<_>>(),
        vec![Algorithm::Ed25519, Algorithm::P256]
    );
    let again =
        RootRecord { algorithm: Algorithm::P256, cert_der: vec![9], key_name: "x".into(), created_at: t(1) };
    assert!(matches!(
        store.insert_root(&again, &crl(Algorithm::P256, 2)).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed root insert left no CRL behind.
    assert_eq!(store.latest_crl(Algorithm::P256).await.unwrap().unwrap().number, 1);
    assert_eq!(store.roots().await.unwrap()[1].cert_der, vec![1, 2, 3]);
}

async fn crl_numbers_only_increase(store: Arc<dyn Store>) {
    with_roots(&*store).await;
    store.insert_crl(&crl(Algorithm::Ed25519, 2)).await.unwrap();
    store.insert_crl(&crl(Algorithm::Ed25519, 5)).await.unwrap();
    for stale in [1, 2, 4, 5] {
        let err = store.insert_crl(&crl(Algorithm::Ed25519, stale)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{stale}: {err}");
    }
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap(), Some(crl(Algorithm::Ed25519, 5)));
    assert_eq!(store.latest_crl(Algorithm::P256).await.unwrap().unwrap().number, 1);
}

async fn departments(store: Arc<dyn Store>) {
    let d = department(DEPT);
    store.insert_department(&d).await.unwrap();
    store.insert_department(&department(OTHER)).await.unwrap();
    assert!(matches!(store.insert_department(&d).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.department(&d.code).await.unwrap(), Some(d.clone()));
    let listed = store.departments().await.unwrap();
    assert_eq!(listed.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), vec![DEPT, OTHER]);
    assert_eq!(store.department(&Uscc::parse("11100000000013338W").unwrap()).await.unwrap(), None);
}

async fn counters_are_unique_under_concurrency(store: Arc<dyn Store>) {
    let mut tasks = vec![];
    for _ in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.next_counter("seal:310115").await.unwrap() }));
    }
    let mut got = vec![];
    for task in tasks {
        got.push(task.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (1..=40).collect::<Vec<u64>>());
    assert_eq!(store.next_counter("seal:110000").await.unwrap(), 1);
}

async fn seals_and_atomic_revocation(store: Arc<dyn Store>) {
    with_roots(&*store).await;
    store.insert_department(&department(DEPT)).await.unwrap();
    store.insert_department(&department(OTHER)).await.unwrap();
    let a = seal("31011500000001", DEPT, Algorithm::Ed25519, "0a01");
    let b = seal("31011500000002", DEPT, Algorithm::P256, "0a02");
    let c = seal("37040600000001", OTHER, Algorithm::Ed25519, "0a03");
    for s in [&a, &b, &c] {
        store.insert_seal(s).await.unwrap();
    }
    assert!(matches!(store.insert_seal(&a).await, Err(StoreError::Conflict(_))));
    let same_serial = seal("31011500000009", DEPT, Algorithm::Ed25519, "0a01");
    assert!(matches!(store.insert_seal(&same_serial).await, Err(StoreError::Conflict(_))));
    let orphan = seal("11000000000001", "11100000000013338W", Algorithm::Ed25519, "0b01");
    assert!(matches!(store.insert_seal(&orphan).await, Err(StoreError::Conflict(_))));

    assert_eq!(store.seal(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.seals(Some(&a.department_code)).await.unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(store.seals(None).await.unwrap().len(), 3);

    // A revocation whose CRL cannot be recorded (stale number) changes nothing.
    let err =
        store.revoke_seal(&a.id, t(10), RevocationReason::KeyCompromise, &crl(Algorithm::Ed25519, 1)).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.seal(&a.id).await.unwrap().unwrap().status, SealStatus::Active);
    assert!(store.revoked_seals(Algorithm::Ed25519).await.unwrap().is_empty());

    store
        .revoke_seal(&a.id, t(10), RevocationReason::KeyCompromise, &crl(Algorithm::Ed25519, 2))
        .await
        .unwrap();
    let revoked = store.seal(&a.id).await.unwrap().unwrap();
    assert_eq!(revoked.status, SealStatus::Revoked);
    assert_eq!(revoked.revocation, Some((t(10), RevocationReason::KeyCompromise)));
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap().unwrap().number, 2);
    assert_eq!(store.revoked_seals(Algorithm::Ed25519).await.unwrap(), vec![revoked]);
    assert!(store.revoked_seals(Algorithm::P256).await.unwrap().is_empty());

    let twice =
        store.revoke_seal(&a.id, t(11), RevocationReason::Superseded, &crl(Algorithm::Ed25519, 3)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(store.latest_crl(Algorithm::Ed25519).await.unwrap().unwrap().number, 2);
    let unknown =
        store.revoke_seal("nope", t(11), RevocationReason::Superseded, &crl(Algorithm::Ed25519, 3)).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    super::$name(std::sync::Arc::new(super::common::sqlite_store(dir.path()).await)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((store, schema)) = super::common::postgres_store().await else { return };
                    assert_eq!(zhengzhao::store::Store::backend(&store), zhengzhao::store::Backend::Postgres);
                    super::$name(std::sync::Arc::new(store)).await;
                    super::common::drop_schema(&schema).await;
                }
            )*
        }
    };
}

on_both_backends!(
    platform_and_roots,
    crl_numbers_only_increase,
    departments,
    counters_are_unique_under_concurrency,
    seals_and_atomic_revocation,
);

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::sqlite_store(dir.path()).await;
    assert_eq!(store.backend(), zhengzhao::store::Backend::Sqlite);
    store.ping().await.unwrap();
    // The -wal file exists once a WAL-mode database has been written.
    store.next_counter("x").await.unwrap();
    assert!(dir.path().join("test.db-wal").exists());
}

#[tokio::test]
async fn refuses_unknown_database_urls() {
    let err = zhengzhao::store::SqlStore::connect("mysql://u:pw@h/db").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unsupported database URL") && !text.contains("pw"), "{text}");
}
