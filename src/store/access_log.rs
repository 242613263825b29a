//! The access-log role: the hash-chained log of register reads and changes (its
//! checkpoints are files, written by `platform/audit.rs` from what this returns).

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::error::StoreError;
use super::sql::{SqlStore, unsigned};
use crate::audit::{self, AccessEntry};

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

/// The hash-chained access log. Each method is atomic.
#[async_trait]
pub trait AccessLogStore: Send + Sync {
    /// Appends entries, in order, to the hash-chained access log in one transaction;
    /// returns their sequence numbers.
    async fn append_access_batch(&self, entries: Vec<AccessEntry>) -> Result<Vec<u64>, StoreError>;
    /// Appends one entry; returns its sequence number.
    async fn append_access(&self, entry: AccessEntry) -> Result<u64, StoreError> {
        let seqs = self.append_access_batch(vec![entry]).await?;
        seqs.first().copied().ok_or_else(|| StoreError::Corrupt("empty append".into()))
    }
    /// Access log rows after `after`, in order.
    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessLogRow>, StoreError>;
    /// One holder's access log rows after `after`, in order.
    async fn holder_access_log(
        &self,
        holder_code_type: &str,
        holder_code: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccessLogRow>, StoreError>;
}

const ACCESS_COLUMNS: &str = "seq, at, client_id, department_code, action, purpose, basis, licence_id, \
                              holder_code_type, holder_code, result, prev_hash, hash, assertion_id, auth_level";

fn access_from_row(row: &AnyRow) -> Result<AccessLogRow, StoreError> {
    Ok(AccessLogRow {
        entry: AccessEntry {
            seq: unsigned("seq", row.try_get("seq")?)?,
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

/// Appends entries to the access log inside `tx`, in order: takes the chain head (locking
/// it), links and stores each entry, moves the head. Returns their sequence numbers.
async fn append_in(
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
    let first = unsigned("log head", last - n + 1)?;
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

#[async_trait]
impl AccessLogStore for SqlStore {
    async fn append_access_batch(&self, entries: Vec<AccessEntry>) -> Result<Vec<u64>, StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        let seqs = append_in(&mut tx, entries).await?;
        tx.commit().await?;
        Ok(seqs)
    }

    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessLogRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_COLUMNS} FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ));
        let rows = sqlx::query(sql).bind(after as i64).bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.iter().map(access_from_row).collect()
    }

    async fn holder_access_log(
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
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(access_from_row).collect()
    }
}
