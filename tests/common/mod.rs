//! Helpers shared by the integration tests: stores on both databases.
#![allow(clippy::unwrap_used)]
// Test helpers: a failed unwrap is a failed test.
// The schema names below are made by the tests themselves, never from outside input.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use zhengzhao::store::SqlStore;

pub mod openssl;
pub mod pdf;
pub mod skip;
pub mod tools;

/// A store on a fresh SQLite file in `dir`.
pub async fn sqlite_store(dir: &std::path::Path) -> SqlStore {
    SqlStore::connect(&format!("sqlite://{}?mode=rwc", dir.join("test.db").display())).await.unwrap()
}

/// The PostgreSQL URL for tests, or `None` when the run may skip PostgreSQL (no server
/// and `CI` unset): the skip is recorded by [`skip::skip`]. Panics in CI.
pub fn postgres_url() -> Option<String> {
    match std::env::var("ZHENGZHAO_TEST_POSTGRES_URL") {
        Ok(url) if std::env::var_os("ZHENGZHAO_TEST_POSTGRES_SKIP").is_none() => Some(url),
        _ => {
            skip::skip(
                "a PostgreSQL test",
                "ZHENGZHAO_TEST_POSTGRES_URL is unset or PostgreSQL does not answer (tests/run-all.sh checks it)",
            );
            None
        }
    }
}

/// A database URL on PostgreSQL whose search path is a fresh schema of its own (so tests
/// never see each other's rows), and the schema's name.
pub async fn postgres_schema_url() -> Option<(String, String)> {
    static N: AtomicU32 = AtomicU32::new(0);
    let url = postgres_url()?;
    let schema = format!(
        "zz_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    let admin =
        sqlx::PgPool::connect(&url).await.expect("PostgreSQL must answer at ZHENGZHAO_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.unwrap();
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some((format!("{url}{sep}options=-c%20search_path%3D{schema}"), schema))
}

/// A store on PostgreSQL in a schema of its own, and the schema's name.
pub async fn postgres_store() -> Option<(SqlStore, String)> {
    let (url, schema) = postgres_schema_url().await?;
    Some((SqlStore::connect(&url).await.unwrap(), schema))
}

/// Drops a schema made by [`postgres_store`].
pub async fn drop_schema(schema: &str) {
    if let Some(url) = postgres_url() {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    }
}

/// The HTTP app as the server wires it: every request carries its peer's address (the
/// public endpoints refuse one without, failing closed); a request that names none comes
/// from 192.0.2.1 (TEST-NET-1).
pub fn app(platform: std::sync::Arc<zhengzhao::platform::Platform>) -> axum::Router {
    use axum::extract::{ConnectInfo, Request};
    use std::net::SocketAddr;
    zhengzhao::http::app(platform).layer(axum::middleware::map_request(|mut req: Request| async move {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut().insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
        }
        req
    }))
}

/// Runs each named test, `async fn name(f: F)`, on SQLite and on PostgreSQL (in a schema of
/// its own, dropped afterwards); the test file provides `fixture_on(Option<url>) -> F`.
#[allow(unused_macros)] // Only the register, portal and idempotency suites use it.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(super::fixture_on(None).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((url, schema)) = super::common::postgres_schema_url().await else { return };
                    super::$name(super::fixture_on(Some(url)).await).await;
                    super::common::drop_schema(&schema).await;
                }
            )*
        }
    };
}
