//! The SQL implementation of [`Store`] over sqlx's `Any` driver: the same statements
//! (with `$n` placeholders) run on SQLite and PostgreSQL; only the migrations differ.
//! Values cross as integers, text and blobs; times are Unix seconds.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use time::OffsetDateTime;

use super::licences::{
    BuildError, ClientRecord, IdempotencyClaim, IssueOutcome, LicenceRow, LicenceSql, NewLicence,
    SerialReservation,
};
use super::portals::{PortalRecord, PortalSql};
use super::register::{AccessLogRow, AuthorisationRecord, LicenceEvent, LicenceFilter, RegisterSql};
use super::{CrlRecord, Department, PlatformRecord, RootRecord, SealRecord, SealStatus, Store, StoreError};
use crate::audit::AccessEntry;
use crate::codes::{AreaCode, Uscc};
use crate::licence::LicenceStatus;
use crate::pki::{Algorithm, RevocationReason};

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

/// A [`Store`] on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    writer: Arc<WriteGate>,
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
            super::sqlite_file::prepare(url)?;
        }
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            // Each connection to an in-memory SQLite database is a database of its own.
            .max_connections(if memory { 1 } else { 8 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(super::sqlite_file::SQLITE_PRAGMAS).await?;
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
        Ok(Self { pool, backend, writer })
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

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn algorithm(row: &AnyRow) -> Result<Algorithm, StoreError> {
    let text: String = row.try_get("algorithm")?;
    Algorithm::from_str(&text).map_err(|e| corrupt("algorithm", e))
}

/// Maps unique and foreign-key violations to [`StoreError::Conflict`].
fn conflict(what: impl Fn() -> String) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db)
            if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() =>
        {
            StoreError::Conflict(what())
        }
        _ => StoreError::Database(e),
    }
}

fn crl_from_row(row: &AnyRow) -> Result<CrlRecord, StoreError> {
    let number: i64 = row.try_get("number")?;
    Ok(CrlRecord {
        algorithm: algorithm(row)?,
        number: u64::try_from(number).map_err(|e| corrupt("CRL number", e))?,
        this_update: from_ts(row.try_get("this_update")?)?,
        next_update: from_ts(row.try_get("next_update")?)?,
        der: row.try_get("der")?,
    })
}

fn department_from_row(row: &AnyRow) -> Result<Department, StoreError> {
    let code: String = row.try_get("code")?;
    let area: String = row.try_get("area_code")?;
    Ok(Department {
        code: Uscc::parse(&code).map_err(|e| corrupt("department code", e))?,
        name: row.try_get("name")?,
        area: AreaCode::parse(&area).map_err(|e| corrupt("area code", e))?,
        type_codes: super::licences::list(&row.try_get::<String, _>("type_codes")?),
        created_at: from_ts(row.try_get("created_at")?)?,
    })
}

fn seal_from_row(row: &AnyRow) -> Result<SealRecord, StoreError> {
    let code: String = row.try_get("department_code")?;
    let status: String = row.try_get("status")?;
    let status = match status.as_str() {
        "active" => SealStatus::Active,
        "revoked" => SealStatus::Revoked,
        other => return Err(corrupt("seal status", other)),
    };
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    let reason: Option<String> = row.try_get("revocation_reason")?;
    let revocation = match (status, revoked_at, reason) {
        (SealStatus::Active, None, None) => None,
        (SealStatus::Revoked, Some(at), Some(reason)) => Some((
            from_ts(at)?,
            RevocationReason::from_str(&reason).map_err(|e| corrupt("revocation reason", e))?,
        )),
        _ => return Err(corrupt("seal", "status and revocation fields disagree")),
    };
    Ok(SealRecord {
        id: row.try_get("id")?,
        department_code: Uscc::parse(&code).map_err(|e| corrupt("department code", e))?,
        name: row.try_get("name")?,
        algorithm: algorithm(row)?,
        cert_der: row.try_get("cert_der")?,
        serial_hex: row.try_get("serial_hex")?,
        key_name: row.try_get("key_name")?,
        status,
        created_at: from_ts(row.try_get("created_at")?)?,
        revocation,
    })
}

/// The seal columns, as a literal so that statements stay `&'static str`.
macro_rules! seal_columns {
    () => {
        "id, department_code, name, algorithm, cert_der, serial_hex, key_name, \
         status, created_at, revoked_at, revocation_reason"
    };
}

async fn insert_crl_in<'c, E>(executor: E, crl: &CrlRecord) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let number = i64::try_from(crl.number).map_err(|e| corrupt("CRL number", e))?;
    sqlx::query(
        "INSERT INTO crls (algorithm, number, this_update, next_update, der) \
         SELECT $1, $2, $3, $4, $5 \
         WHERE $2 > (SELECT COALESCE(MAX(number), 0) FROM crls WHERE algorithm = $1)",
    )
    .bind(crl.algorithm.to_string())
    .bind(number)
    .bind(ts(crl.this_update))
    .bind(ts(crl.next_update))
    .bind(crl.der.clone())
    .execute(executor)
    .await
    .map_err(conflict(|| format!("CRL number {} of the {} root exists", crl.number, crl.algorithm)))
    .and_then(|done| match done.rows_affected() {
        1 => Ok(()),
        _ => Err(StoreError::Conflict(format!(
            "CRL number {} of the {} root is not above the latest",
            crl.number, crl.algorithm
        ))),
    })
}

impl LicenceSql for SqlStore {
    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn gate(&self) -> &WriteGate {
        &self.writer
    }
}

impl PortalSql for SqlStore {
    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn gate(&self) -> &WriteGate {
        &self.writer
    }
}

impl RegisterSql for SqlStore {
    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn gate(&self) -> &WriteGate {
        &self.writer
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn platform(&self) -> Result<Option<PlatformRecord>, StoreError> {
        let row = sqlx::query("SELECT name, created_at FROM platform WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(PlatformRecord {
                name: row.try_get("name")?,
                created_at: from_ts(row.try_get("created_at")?)?,
            })
        })
        .transpose()
    }

    async fn insert_platform(&self, platform: &PlatformRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO platform (id, name, created_at) VALUES (1, $1, $2)")
            .bind(&platform.name)
            .bind(ts(platform.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| "the platform is initialised already".to_owned()))?;
        Ok(())
    }

    async fn roots(&self) -> Result<Vec<RootRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT algorithm, cert_der, key_name, created_at FROM roots ORDER BY algorithm")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(RootRecord {
                    algorithm: algorithm(row)?,
                    cert_der: row.try_get("cert_der")?,
                    key_name: row.try_get("key_name")?,
                    created_at: from_ts(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }

    async fn insert_root(&self, root: &RootRecord, first_crl: &CrlRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO roots (algorithm, cert_der, key_name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(root.algorithm.to_string())
            .bind(root.cert_der.clone())
            .bind(&root.key_name)
            .bind(ts(root.created_at))
            .execute(&mut *tx)
            .await
            .map_err(conflict(|| format!("a {} root exists already", root.algorithm)))?;
        insert_crl_in(&mut *tx, first_crl).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn latest_crl(&self, algorithm: Algorithm) -> Result<Option<CrlRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT algorithm, number, this_update, next_update, der FROM crls \
             WHERE algorithm = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(algorithm.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(crl_from_row).transpose()
    }

    async fn insert_crl(&self, crl: &CrlRecord) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        insert_crl_in(&self.pool, crl).await
    }

    async fn insert_department(&self, d: &Department) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO departments (code, name, area_code, type_codes, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(d.code.as_str())
        .bind(&d.name)
        .bind(d.area.as_str())
        .bind(d.type_codes.join(","))
        .bind(ts(d.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| format!("department {} exists already", d.code)))?;
        Ok(())
    }

    async fn department(&self, code: &Uscc) -> Result<Option<Department>, StoreError> {
        let row = sqlx::query(
            "SELECT code, name, area_code, type_codes, created_at FROM departments WHERE code = $1",
        )
        .bind(code.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(department_from_row).transpose()
    }

    async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, name, area_code, type_codes, created_at FROM departments ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(department_from_row).collect()
    }

    async fn next_counter(&self, name: &str) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        )
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        let value: i64 = row.try_get("value")?;
        u64::try_from(value).map_err(|e| corrupt("counter", e))
    }

    async fn insert_seal(&self, s: &SealRecord) -> Result<(), StoreError> {
        let (revoked_at, reason) = match &s.revocation {
            Some((at, reason)) => (Some(ts(*at)), Some(reason.to_string())),
            None => (None, None),
        };
        sqlx::query(concat!(
            "INSERT INTO seals (",
            seal_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&s.id)
        .bind(s.department_code.as_str())
        .bind(&s.name)
        .bind(s.algorithm.to_string())
        .bind(s.cert_der.clone())
        .bind(&s.serial_hex)
        .bind(&s.key_name)
        .bind(s.status.as_str())
        .bind(ts(s.created_at))
        .bind(revoked_at)
        .bind(reason)
        .execute(&self.pool)
        .await
        .map_err(conflict(|| {
            format!("seal {} cannot be recorded (duplicate id or serial, or unknown department)", s.id)
        }))?;
        Ok(())
    }

    async fn seal(&self, id: &str) -> Result<Option<SealRecord>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", seal_columns!(), " FROM seals WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(seal_from_row).transpose()
    }

    async fn seals(&self, department: Option<&Uscc>) -> Result<Vec<SealRecord>, StoreError> {
        let rows = match department {
            Some(code) => {
                sqlx::query(concat!(
                    "SELECT ",
                    seal_columns!(),
                    " FROM seals WHERE department_code = $1 ORDER BY id"
                ))
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!("SELECT ", seal_columns!(), " FROM seals ORDER BY id"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(seal_from_row).collect()
    }

    async fn revoked_seals(&self, algorithm: Algorithm) -> Result<Vec<SealRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            seal_columns!(),
            " FROM seals WHERE algorithm = $1 AND status = 'revoked' ORDER BY id"
        ))
        .bind(algorithm.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(seal_from_row).collect()
    }

    async fn revoke_seal(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: RevocationReason,
        crl: &CrlRecord,
    ) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE seals SET status = 'revoked', revoked_at = $2, revocation_reason = $3 \
             WHERE id = $1 AND status = 'active'",
        )
        .bind(id)
        .bind(ts(at))
        .bind(reason.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return match self.seal(id).await? {
                None => Err(StoreError::NotFound(format!("seal {id}"))),
                Some(_) => Err(StoreError::Conflict(format!("seal {id} is revoked already"))),
            };
        }
        insert_crl_in(&mut *tx, crl).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError> {
        self.insert_client_sql(client).await
    }

    async fn client_by_key_hash(&self, key_hash: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.client_by_key_hash_sql(key_hash).await
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.clients_sql().await
    }

    async fn revoke_client(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.revoke_client_sql(id, at).await
    }

    async fn issue_licence(
        &self,
        counter: Option<&str>,
        idempotency: Option<&IdempotencyClaim>,
        build: &(dyn Fn(u64) -> Result<NewLicence, BuildError> + Send + Sync),
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, StoreError> {
        self.issue_licence_sql(counter, idempotency, build, now).await
    }

    async fn replay_issue(&self, claim: &IdempotencyClaim) -> Result<Option<LicenceRow>, StoreError> {
        self.replay(claim).await
    }

    async fn reserve_serial(
        &self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, StoreError> {
        self.reserve_serial_sql(counter, now).await
    }

    async fn release_serial(&self, reservation: &SerialReservation) -> Result<(), StoreError> {
        self.release_serial_sql(reservation).await
    }

    async fn store_licence(
        &self,
        reservation: Option<&SerialReservation>,
        idempotency: Option<&IdempotencyClaim>,
        licence: NewLicence,
    ) -> Result<IssueOutcome, StoreError> {
        self.store_licence_sql(reservation, idempotency, licence).await
    }

    async fn licence(&self, id: &str) -> Result<Option<LicenceRow>, StoreError> {
        self.licence_sql(id).await
    }

    async fn licences(&self, filter: &LicenceFilter) -> Result<Vec<LicenceRow>, StoreError> {
        self.licences_sql(filter).await
    }

    async fn change_status(
        &self,
        id: &str,
        from: LicenceStatus,
        event: &LicenceEvent,
    ) -> Result<(), StoreError> {
        self.change_status_sql(id, from, event).await
    }

    async fn licence_events(&self, id: &str) -> Result<Vec<LicenceEvent>, StoreError> {
        self.licence_events_sql(id).await
    }

    async fn append_access_batch(&self, entries: Vec<AccessEntry>) -> Result<Vec<u64>, StoreError> {
        self.append_access_sql(entries).await
    }

    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessLogRow>, StoreError> {
        self.access_log_sql(after, limit).await
    }

    async fn holder_access_log(
        &self,
        holder_code_type: &str,
        holder_code: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccessLogRow>, StoreError> {
        self.holder_access_log_sql(holder_code_type, holder_code, after, limit).await
    }

    async fn insert_authorisation(&self, authorisation: &AuthorisationRecord) -> Result<(), StoreError> {
        self.insert_authorisation_sql(authorisation).await
    }

    async fn authorisation(&self, code_hash: &str) -> Result<Option<AuthorisationRecord>, StoreError> {
        self.authorisation_sql(code_hash).await
    }

    async fn use_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.use_authorisation_sql(code_hash, now).await
    }

    async fn revoke_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        self.revoke_authorisation_sql(code_hash, now).await
    }

    async fn insert_portal(&self, portal: &PortalRecord) -> Result<(), StoreError> {
        self.insert_portal_sql(portal).await
    }

    async fn portal_by_key_hash(&self, key_hash: &str) -> Result<Option<PortalRecord>, StoreError> {
        self.portal_by_key_hash_sql(key_hash).await
    }

    async fn portals(&self) -> Result<Vec<PortalRecord>, StoreError> {
        self.portals_sql().await
    }

    async fn revoke_portal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.revoke_portal_sql(id, at).await
    }

    async fn use_holder_assertion(
        &self,
        portal_id: &str,
        jti: &str,
        expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.use_assertion_sql(portal_id, jti, expires_at, now).await
    }
}
