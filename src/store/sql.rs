//! The database behind every role: [`SqlStore`] over sqlx's `Any` driver, so that the same
//! statements (with `$n` placeholders) run on SQLite and PostgreSQL and only the
//! migrations differ; the write gate; and how values cross the driver (integers, text and
//! blobs; times as Unix seconds). The role files hold the statements.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use super::error::StoreError;
use super::sqlite_file;
use crate::licence::LicenceStatus;
use crate::pki::Algorithm;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file, WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The [`super::Store`] on SQLite or PostgreSQL. Each role file implements its role
/// trait for it.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    pub(super) writer: Arc<WriteGate>,
    /// Group commit of the issuing path's writes (`combine.rs`).
    pub(super) combiner: super::combine::Combiner,
}

/// Queues this process's write transactions on SQLite. SQLite allows one writer; without
/// the gate, a second writer polls SQLite's busy handler, which sleeps in growing steps
/// (up to 100 ms) — the issuing load test showed p90 latencies of 440 ms from it. With the
/// gate, writers wait their turn in order and start the moment the previous one commits.
/// PostgreSQL needs no gate: it locks rows.
#[derive(Debug, Default)]
pub struct WriteGate(Option<tokio::sync::Mutex<()>>);

impl WriteGate {
    /// Waits for the turn to write (at once on PostgreSQL).
    pub async fn enter(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.0 {
            Some(m) => Some(m.lock().await),
            None => None,
        }
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH?mode=rwc`, `sqlite::memory:` or
    /// `postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!(
                    "unsupported database URL scheme in {:?}: use sqlite: or postgres:",
                    crate::config::redact_url(url)
                )
                .into(),
            )));
        };
        let memory = url.contains(":memory:");
        if backend == Backend::Sqlite {
            sqlite_file::prepare(url)?;
        }
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            // Each connection to an in-memory SQLite database is a database of its own.
            .max_connections(if memory { 1 } else { 8 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlite_file::SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let writer = Arc::new(WriteGate((backend == Backend::Sqlite).then(|| tokio::sync::Mutex::new(()))));
        let combiner = super::combine::Combiner::start(pool.clone(), writer.clone());
        Ok(Self { pool, backend, writer, combiner })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Times cross the `Any` driver as Unix seconds.
pub(super) fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// Reads back what [`ts`] wrote.
pub(super) fn from_ts(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {secs}: {e}")))
}

/// A stored value that cannot be read back.
pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A stored integer that must not be negative (sequence numbers, serials, counters).
pub(super) fn unsigned(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|e| corrupt(what, e))
}

/// A number to store; above `i64::MAX` it cannot be.
pub(super) fn signed(what: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|e| corrupt(what, e))
}

/// A stored licence status code (`01`…).
pub(super) fn licence_status(code: &str) -> Result<LicenceStatus, StoreError> {
    LicenceStatus::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("licence status {code:?}")))
}

/// The `algorithm` column.
pub(super) fn algorithm(row: &AnyRow) -> Result<Algorithm, StoreError> {
    let text: String = row.try_get("algorithm")?;
    Algorithm::from_str(&text).map_err(|e| corrupt("algorithm", e))
}

/// Lists (scopes, licence types, licence ids) are stored comma-separated.
pub(super) fn join_list(items: &[String]) -> String {
    items.join(",")
}

/// Reads back what [`join_list`] wrote.
pub(super) fn split_list(s: &str) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// Placeholders for `rows` rows of `cols` values each, numbered from `$1` row by row:
/// `($1, $2), ($3, $4)` for two rows of two. The VALUES of a statement that writes
/// several rows at once, so that a batch costs a statement, not a statement per row (each
/// statement is a round trip to the database, or to sqlx's SQLite thread). Only
/// placeholders are formatted into statements; the values are bound.
pub(super) fn value_rows(rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        sql.push_str(&placeholder_list(1 + row * cols, cols));
        sql.push(')');
    }
    sql
}

/// A statement of sqlx's `Any` driver with its bound values.
pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Inserts `rows` with `insert` (`INSERT INTO table (columns) VALUES`, `columns` of them),
/// `per_statement` rows a statement ([`value_rows`]); `bind` binds one row's values in
/// column order.
pub(super) async fn insert_rows<'q, T>(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    insert: &str,
    (columns, per_statement): (usize, usize),
    rows: &'q [T],
    bind: impl Fn(AnyQuery<'q>, &'q T) -> Result<AnyQuery<'q>, StoreError>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(per_statement.max(1)) {
        let sql = format!("{insert} {}", value_rows(chunk.len(), columns));
        // Only placeholders are formatted in; the values are bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = bind(query, row)?;
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `n` placeholders from `$first`, separated by commas: `$3, $4, $5` (an IN list).
pub(super) fn placeholder_list(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    list.join(", ")
}

/// Whether the statement broke a unique constraint.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Maps unique, foreign-key and check violations to [`StoreError::Conflict`].
pub(super) fn conflict(what: impl Fn() -> String) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db)
            if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() =>
        {
            StoreError::Conflict(what())
        }
        _ => StoreError::Database(e),
    }
}

/// Why a revocation (`UPDATE … WHERE id = $1 AND revoked_at IS NULL`) changed nothing:
/// not found if the row does not exist, conflict if it was revoked already.
pub(super) async fn revoke_refused(pool: &AnyPool, table: &'static str, what: &str, id: &str) -> StoreError {
    // `table` is one of the store's literals, never outside input.
    let sql = sqlx::AssertSqlSafe(format!("SELECT id FROM {table} WHERE id = $1"));
    match sqlx::query(sql).bind(id).fetch_optional(pool).await {
        Ok(Some(_)) => StoreError::Conflict(format!("{what} {id} is revoked already")),
        Ok(None) => StoreError::NotFound(format!("{what} {id}")),
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn database_wal_and_shm_are_0600_and_every_connection_syncs_fully() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("zhengzhao.db");
        let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", db.display())).await.unwrap();
        // Several connections at once: each one ran the pragmas.
        let mut conns = vec![];
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&mut **conn).await.unwrap();
            assert_eq!(sync, 2, "synchronous = FULL");
            let (journal,): (String,) =
                sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut **conn).await.unwrap();
            assert_eq!(journal, "wal");
        }
        drop(conns);
        for file in ["zhengzhao.db", "zhengzhao.db-wal", "zhengzhao.db-shm"] {
            assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
        }
        store.close().await;
    }

    #[tokio::test]
    async fn an_existing_database_readable_by_others_is_narrowed_to_0600() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("zhengzhao.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        SqlStore::connect(&url).await.unwrap().close().await;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = SqlStore::connect(&url).await.unwrap();
        assert_eq!(mode(&db), 0o600);
        store.close().await;
    }

    #[test]
    fn value_rows_number_placeholders_row_by_row() {
        assert_eq!(value_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows(1, 2), "($1, $2)");
        assert_eq!(placeholder_list(2, 3), "$2, $3, $4");
        assert_eq!(value_rows(0, 3), "");
    }
}
