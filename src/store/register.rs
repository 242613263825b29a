//! The register's records beyond issuing — licence history, status changes, holder
//! authorisations, queries and the hash-chained access log — and their SQL.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};
use time::OffsetDateTime;

use super::StoreError;
use super::licences::{LicenceRow, licence_from_row};
use super::sql::{from_ts, ts};
use crate::audit::{self, AccessEntry};
use crate::licence::LicenceStatus;

/// One change in a licence's life.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LicenceEvent {
    /// Position in the licence's history, from 1.
    pub seq: u64,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `issued`, `status`, `renewed` (a new version replaced it) or `renewal` (it replaces one).
    pub kind: String,
    /// Status before.
    pub from_status: Option<LicenceStatus>,
    /// Status after.
    pub to_status: LicenceStatus,
    /// Why.
    pub reason: String,
    /// Who: a client id, or `operator`.
    pub actor: String,
}

/// A holder's authorisation (用证授权), stored by the hash of its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationRecord {
    /// SHA-256 of the code, hex.
    pub code_hash: String,
    /// The holder.
    pub holder_code_type: String,
    /// The holder.
    pub holder_code: String,
    /// The licences it covers.
    pub licence_ids: Vec<String>,
    /// The only department that may use it, if bound.
    pub relying_department: Option<String>,
    /// The holder-proxy client that created it.
    pub created_by: String,
    /// When.
    pub created_at: OffsetDateTime,
    /// Until when.
    pub expires_at: OffsetDateTime,
    /// Uses left.
    pub uses_left: u32,
    /// When revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Filters of a licence listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenceFilter {
    /// Holder code type (`001`, `111`).
    pub holder_code_type: Option<String>,
    /// Holder code.
    pub holder_code: Option<String>,
    /// Type code.
    pub type_code: Option<String>,
    /// Stored status.
    pub status: Option<LicenceStatus>,
    /// Only licences issued by this department.
    pub issuer_code: Option<String>,
    /// Continue after this identifier (cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// A stored access log row: the entry and its chain hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogRow {
    /// The entry.
    pub entry: AccessEntry,
    /// The previous entry's hash.
    pub prev_hash: Vec<u8>,
    /// This entry's hash.
    pub hash: Vec<u8>,
}

fn status(code: &str) -> Result<LicenceStatus, StoreError> {
    LicenceStatus::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("licence status {code:?}")))
}

fn event_from_row(row: &AnyRow) -> Result<LicenceEvent, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let from: Option<String> = row.try_get("from_status")?;
    let to: String = row.try_get("to_status")?;
    Ok(LicenceEvent {
        seq: seq as u64,
        at: from_ts(row.try_get("at")?)?,
        kind: row.try_get("kind")?,
        from_status: from.as_deref().map(status).transpose()?,
        to_status: status(&to)?,
        reason: row.try_get("reason")?,
        actor: row.try_get("actor")?,
    })
}

fn authorisation_from_row(row: &AnyRow) -> Result<AuthorisationRecord, StoreError> {
    let ids: String = row.try_get("licence_ids")?;
    let uses: i64 = row.try_get("uses_left")?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    Ok(AuthorisationRecord {
        code_hash: row.try_get("code_hash")?,
        holder_code_type: row.try_get("holder_code_type")?,
        holder_code: row.try_get("holder_code")?,
        licence_ids: ids.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        relying_department: row.try_get("relying_department")?,
        created_by: row.try_get("created_by")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        expires_at: from_ts(row.try_get("expires_at")?)?,
        uses_left: u32::try_from(uses).unwrap_or(0),
        revoked_at: revoked.map(from_ts).transpose()?,
    })
}

fn access_from_row(row: &AnyRow) -> Result<AccessLogRow, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    Ok(AccessLogRow {
        entry: AccessEntry {
            seq: u64::try_from(seq).map_err(|e| StoreError::Corrupt(format!("seq: {e}")))?,
            at: row.try_get("at")?,
            client_id: row.try_get("client_id")?,
            department_code: row.try_get("department_code")?,
            action: row.try_get("action")?,
            purpose: row.try_get("purpose")?,
            basis: row.try_get("basis")?,
            licence_id: row.try_get("licence_id")?,
            holder_code_type: row.try_get("holder_code_type")?,
            holder_code: row.try_get("holder_code")?,
            result: row.try_get("result")?,
            assertion_id: row.try_get("assertion_id")?,
            auth_level: row.try_get("auth_level")?,
        },
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const ACCESS_COLUMNS: &str = "seq, at, client_id, department_code, action, purpose, basis, licence_id, \
                              holder_code_type, holder_code, result, prev_hash, hash, assertion_id, auth_level";

/// Appends an event to a licence's history inside `tx`.
pub(super) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    licence_id: &str,
    event: &LicenceEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO licence_events (licence_id, seq, at, kind, from_status, to_status, reason, actor) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM licence_events WHERE licence_id = $1",
    )
    .bind(licence_id)
    .bind(ts(event.at))
    .bind(&event.kind)
    .bind(event.from_status.map(|s| s.code()))
    .bind(event.to_status.code())
    .bind(&event.reason)
    .bind(&event.actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends entries to the access log inside `tx`, in order: takes the chain head (locking
/// it), links and stores each entry, moves the head. Returns their sequence numbers.
pub(super) async fn append_access_in(
    tx: &mut Transaction<'static, Any>,
    entries: Vec<AccessEntry>,
) -> Result<Vec<u64>, StoreError> {
    if entries.is_empty() {
        return Ok(vec![]);
    }
    let n = i64::try_from(entries.len()).map_err(|e| StoreError::Corrupt(format!("batch: {e}")))?;
    // The UPDATE takes the write lock first (SQLite) / the row lock (PostgreSQL), so
    // concurrent appends queue here instead of forking the chain.
    let head = sqlx::query("UPDATE access_log_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
    let last: i64 = head.try_get("seq")?;
    let mut prev: Vec<u8> = head.try_get("hash")?;
    let first = u64::try_from(last - n + 1).map_err(|e| StoreError::Corrupt(format!("log head: {e}")))?;
    let mut seqs = Vec::with_capacity(entries.len());
    for (i, mut entry) in entries.into_iter().enumerate() {
        entry.seq = first + i as u64;
        let hash = audit::entry_hash(&prev, &entry).to_vec();
        sqlx::query(
            "INSERT INTO access_log (seq, at, client_id, department_code, action, purpose, basis, licence_id, \
             holder_code_type, holder_code, result, prev_hash, hash, assertion_id, auth_level) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(entry.seq as i64)
        .bind(entry.at)
        .bind(entry.client_id)
        .bind(entry.department_code)
        .bind(entry.action)
        .bind(entry.purpose)
        .bind(entry.basis)
        .bind(entry.licence_id)
        .bind(entry.holder_code_type)
        .bind(entry.holder_code)
        .bind(entry.result)
        .bind(prev)
        .bind(hash.clone())
        .bind(entry.assertion_id)
        .bind(entry.auth_level)
        .execute(&mut **tx)
        .await?;
        seqs.push(entry.seq);
        prev = hash;
    }
    sqlx::query("UPDATE access_log_head SET hash = $1 WHERE id = 1").bind(prev).execute(&mut **tx).await?;
    Ok(seqs)
}

/// The SQL behind the register methods of [`super::Store`].
#[async_trait]
pub(super) trait RegisterSql {
    fn pool(&self) -> &AnyPool;
    fn gate(&self) -> &super::sql::WriteGate;

    async fn append_access_sql(&self, entries: Vec<AccessEntry>) -> Result<Vec<u64>, StoreError> {
        let _turn = self.gate().enter().await;
        let mut tx = self.pool().begin().await?;
        let seqs = append_access_in(&mut tx, entries).await?;
        tx.commit().await?;
        Ok(seqs)
    }

    async fn access_log_sql(&self, after: u64, limit: u32) -> Result<Vec<AccessLogRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ));
        let rows = sqlx::query(sql).bind(after as i64).bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter().map(access_from_row).collect()
    }

    async fn holder_access_log_sql(
        &self,
        holder_code_type: &str,
        holder_code: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccessLogRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE holder_code_type = $1 AND holder_code = $2 \
             AND seq > $3 ORDER BY seq LIMIT $4"
        ));
        let rows = sqlx::query(sql)
            .bind(holder_code_type)
            .bind(holder_code)
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(access_from_row).collect()
    }

    async fn change_status_sql(
        &self,
        id: &str,
        from: LicenceStatus,
        event: &LicenceEvent,
    ) -> Result<(), StoreError> {
        let _turn = self.gate().enter().await;
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query("UPDATE licences SET status = $3 WHERE id = $1 AND status = $2")
            .bind(id)
            .bind(from.code())
            .bind(event.to_status.code())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!("licence {id} changed meanwhile; read it again")));
        }
        insert_event(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn licence_events_sql(&self, id: &str) -> Result<Vec<LicenceEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, from_status, to_status, reason, actor FROM licence_events \
             WHERE licence_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn licences_sql(&self, f: &LicenceFilter) -> Result<Vec<LicenceRow>, StoreError> {
        // Only the filters given go into the statement, so that both databases can use the
        // holder index (an `$n IS NULL OR col = $n` form makes SQLite scan the table).
        // Placeholders are `$n`: the `Any` driver passes them to both databases as they are.
        let mut sql =
            String::from(concat!("SELECT ", super::licences::licence_select!(), " FROM licences WHERE TRUE"));
        let mut values = vec![];
        let conditions = [
            ("holder_code_type = ", f.holder_code_type.clone()),
            ("holder_code = ", f.holder_code.clone()),
            ("type_code = ", f.type_code.clone()),
            ("status = ", f.status.map(|s| s.code().to_owned())),
            ("issuer_code = ", f.issuer_code.clone()),
            ("id > ", f.after.clone()),
        ];
        for (condition, value) in conditions {
            if let Some(value) = value {
                values.push(value);
                // `condition` is one of the literals above, never outside input.
                sql.push_str(&format!(" AND {condition}${}", values.len()));
            }
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", values.len() + 1));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in values {
            query = query.bind(value);
        }
        let rows = query.bind(i64::from(f.limit)).fetch_all(self.pool()).await?;
        rows.iter().map(licence_from_row).collect()
    }

    async fn insert_authorisation_sql(&self, a: &AuthorisationRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorisations (code_hash, holder_code_type, holder_code, licence_ids, relying_department, \
             created_by, created_at, expires_at, uses_left, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&a.code_hash)
        .bind(&a.holder_code_type)
        .bind(&a.holder_code)
        .bind(a.licence_ids.join(","))
        .bind(a.relying_department.clone())
        .bind(&a.created_by)
        .bind(ts(a.created_at))
        .bind(ts(a.expires_at))
        .bind(i64::from(a.uses_left))
        .bind(a.revoked_at.map(ts))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn authorisation_sql(&self, code_hash: &str) -> Result<Option<AuthorisationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT code_hash, holder_code_type, holder_code, licence_ids, relying_department, created_by, \
             created_at, expires_at, uses_left, revoked_at FROM authorisations WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(authorisation_from_row).transpose()
    }

    /// Takes one use of a live authorisation; conflict when none is left, it expired or
    /// was revoked.
    async fn use_authorisation_sql(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE authorisations SET uses_left = uses_left - 1 WHERE code_hash = $1 AND uses_left > 0 \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(ts(now))
        .execute(self.pool())
        .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(StoreError::Conflict("the authorisation code is used up, expired or revoked".into())),
        }
    }

    async fn revoke_authorisation_sql(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE authorisations SET revoked_at = $2 WHERE code_hash = $1 AND revoked_at IS NULL",
        )
        .bind(code_hash)
        .bind(ts(now))
        .execute(self.pool())
        .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(StoreError::NotFound("active authorisation".into())),
        }
    }
}
