//! The delegations role of the store, run on SQLite and on PostgreSQL: insert (refused for
//! a taken id, an unknown department or client), the filtered listing, the lookup of the
//! active delegations from one department to one client, and revocation (once).
#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use time::OffsetDateTime;
use zhengzhao::codes::{AreaCode, Uscc};
use zhengzhao::store::prelude::*;
use zhengzhao::store::{ClientRecord, DelegationFilter, DelegationRecord, Department, StoreError};

/// The delegating department, the window's department, a third one.
const DEPT: &str = "11310115MB2C90510L";
const WINDOW_DEPT: &str = "91370406L24894136J";
const THIRD: &str = "11100000000013338W";

fn t(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000 + secs).unwrap()
}

fn client(id: &str, department: &str) -> ClientRecord {
    ClientRecord {
        id: id.into(),
        department_code: department.into(),
        name: "综合窗口".into(),
        scopes: vec!["issue".into()],
        type_codes: vec!["*".into()],
        key_hash: format!("{id:0>64}"),
        created_at: t(0),
        revoked_at: None,
    }
}

fn delegation(id: &str, department: &str, client: &str, at: i64) -> DelegationRecord {
    DelegationRecord {
        id: id.into(),
        department_code: department.into(),
        client_id: client.into(),
        type_codes: vec!["11100000000013338W001".into(), "11100000000013338W002".into()],
        seal_ids: vec!["31011500000001".into()],
        created_at: t(at),
        revoked_at: None,
        revoke_reason: None,
    }
}

async fn fixture(store: &dyn Store) {
    for code in [DEPT, WINDOW_DEPT, THIRD] {
        let d = Department {
            code: Uscc::parse(code).unwrap(),
            name: "某部门".into(),
            area: AreaCode::parse("310115").unwrap(),
            type_codes: vec!["*".into()],
            created_at: t(0),
        };
        store.insert_department(&d).await.unwrap();
    }
    store.insert_client(&client("cl_window", WINDOW_DEPT)).await.unwrap();
    store.insert_client(&client("cl_other", THIRD)).await.unwrap();
}

fn ids(list: &[DelegationRecord]) -> Vec<&str> {
    list.iter().map(|d| d.id.as_str()).collect()
}

async fn insert_refuses_duplicates_and_unknown_parties(store: Arc<dyn Store>) {
    fixture(&*store).await;
    let d = delegation("dg_1", DEPT, "cl_window", 1);
    store.insert_delegation(&d).await.unwrap();
    assert_eq!(store.delegations(&DelegationFilter::default()).await.unwrap(), vec![d.clone()]);
    let again = store.insert_delegation(&d).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let no_client = store.insert_delegation(&delegation("dg_2", DEPT, "cl_nobody", 2)).await;
    assert!(matches!(no_client, Err(StoreError::Conflict(_))), "{no_client:?}");
    let no_department =
        store.insert_delegation(&delegation("dg_3", "91310115MA1H7ABC2D", "cl_window", 3)).await;
    assert!(matches!(no_department, Err(StoreError::Conflict(_))), "{no_department:?}");
    // The refused inserts left nothing behind.
    assert_eq!(ids(&store.delegations(&DelegationFilter::default()).await.unwrap()), ["dg_1"]);
}

async fn lookup_and_listing_filter_and_revocation_counts(store: Arc<dyn Store>) {
    fixture(&*store).await;
    for d in [
        delegation("dg_b", DEPT, "cl_window", 2),
        delegation("dg_a", DEPT, "cl_window", 1),
        delegation("dg_c", THIRD, "cl_window", 3),
        delegation("dg_d", DEPT, "cl_other", 4),
    ] {
        store.insert_delegation(&d).await.unwrap();
    }
    // Oldest first; only from that department to that client.
    assert_eq!(ids(&store.active_delegations(DEPT, "cl_window").await.unwrap()), ["dg_a", "dg_b"]);
    assert_eq!(ids(&store.active_delegations(THIRD, "cl_window").await.unwrap()), ["dg_c"]);
    assert!(store.active_delegations(WINDOW_DEPT, "cl_window").await.unwrap().is_empty());
    assert!(store.active_delegations(THIRD, "cl_other").await.unwrap().is_empty());

    let revoked = store.revoke_delegation("dg_a", t(10), Some("合作终止")).await.unwrap();
    assert_eq!((revoked.revoked_at, revoked.revoke_reason.as_deref()), (Some(t(10)), Some("合作终止")));
    assert!(!revoked.is_active());
    assert_eq!(ids(&store.active_delegations(DEPT, "cl_window").await.unwrap()), ["dg_b"]);
    let twice = store.revoke_delegation("dg_a", t(11), None).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let unknown = store.revoke_delegation("dg_nope", t(11), None).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
    store.revoke_delegation("dg_d", t(12), None).await.unwrap();

    let list = |department: Option<&str>, client: Option<&str>, include_revoked: bool| DelegationFilter {
        department_code: department.map(str::to_owned),
        client_id: client.map(str::to_owned),
        include_revoked,
    };
    let cases: [(DelegationFilter, &[&str]); 6] = [
        (list(None, None, false), &["dg_b", "dg_c"]),
        (list(None, None, true), &["dg_a", "dg_b", "dg_c", "dg_d"]),
        (list(Some(DEPT), None, true), &["dg_a", "dg_b", "dg_d"]),
        (list(Some(DEPT), Some("cl_window"), false), &["dg_b"]),
        (list(None, Some("cl_other"), true), &["dg_d"]),
        (list(Some(WINDOW_DEPT), None, true), &[]),
    ];
    for (filter, want) in cases {
        assert_eq!(ids(&store.delegations(&filter).await.unwrap()), want, "{filter:?}");
    }
    let all = store.delegations(&list(None, None, true)).await.unwrap();
    // Read back as revoked: the refused second revocation kept the first one's time and reason.
    assert_eq!(all[0], revoked);
    assert_eq!((all[3].revoked_at, all[3].revoke_reason.clone()), (Some(t(12)), None));
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
    insert_refuses_duplicates_and_unknown_parties,
    lookup_and_listing_filter_and_revocation_counts
);
