//! The portals role: holder portals (registered by the operator) and the holder
//! assertion ids they have used.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, conflict, from_ts, revoke_refused, ts};

/// A holder portal: a province's citizen app that acts for holders who authenticated at
/// it, with a bearer key (stored as its SHA-256) and the public key that signs its holder
/// assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalRecord {
    /// `pt_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Algorithm of its assertion key: `ed25519` or `p256`.
    pub algorithm: String,
    /// Its assertion key, DER `SubjectPublicKeyInfo`.
    pub public_key: Vec<u8>,
    /// SHA-256 of its API key, hex.
    pub key_hash: String,
    /// When it was registered.
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Holder portals and the assertion ids they used. Each method is atomic.
#[async_trait]
pub trait PortalStore: Send + Sync {
    /// Registers a holder portal; conflict if the id or key hash is taken.
    async fn insert_portal(&self, portal: &PortalRecord) -> Result<(), StoreError>;
    /// The portal whose API key hashes to `key_hash` (revoked ones included).
    async fn portal_by_key_hash(&self, key_hash: &str) -> Result<Option<PortalRecord>, StoreError>;
    /// All portals, by id.
    async fn portals(&self) -> Result<Vec<PortalRecord>, StoreError>;
    /// Marks a portal revoked; not found if unknown, conflict if revoked already.
    async fn revoke_portal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records that portal `portal_id` used holder assertion `jti`, remembered until
    /// `expires_at` (Unix seconds); conflict if it was used before. Forgets ids that
    /// expired before `now`. The database decides, so a replay to another node fails too.
    async fn use_holder_assertion(
        &self,
        portal_id: &str,
        jti: &str,
        expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

const PORTAL_COLUMNS: &str = "id, name, algorithm, public_key, key_hash, created_at, revoked_at";

fn portal_from_row(row: &AnyRow) -> Result<PortalRecord, StoreError> {
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(PortalRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        algorithm: row.try_get("algorithm")?,
        public_key: row.try_get("public_key")?,
        key_hash: row.try_get("key_hash")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        revoked_at: revoked_at.map(from_ts).transpose()?,
    })
}

#[async_trait]
impl PortalStore for SqlStore {
    async fn insert_portal(&self, p: &PortalRecord) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO portals ({PORTAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ));
        sqlx::query(sql)
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.algorithm)
            .bind(p.public_key.clone())
            .bind(&p.key_hash)
            .bind(ts(p.created_at))
            .bind(p.revoked_at.map(ts))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| format!("portal {} exists already", p.id)))?;
        Ok(())
    }

    async fn portal_by_key_hash(&self, key_hash: &str) -> Result<Option<PortalRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals WHERE key_hash = $1"));
        let row = sqlx::query(sql).bind(key_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(portal_from_row).transpose()
    }

    async fn portals(&self) -> Result<Vec<PortalRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals ORDER BY id"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(portal_from_row).collect()
    }

    async fn revoke_portal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let done = sqlx::query("UPDATE portals SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ts(at))
            .execute(&self.pool)
            .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(revoke_refused(&self.pool, "portals", "portal", id).await),
        }
    }

    async fn use_holder_assertion(
        &self,
        portal_id: &str,
        jti: &str,
        expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        // Ids past their expiry can no longer be presented (they are refused as expired):
        // forget them, so that the table holds at most a few minutes of calls.
        sqlx::query("DELETE FROM holder_assertions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO holder_assertions (portal_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (portal_id, jti) DO NOTHING",
        )
        .bind(portal_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        match inserted.rows_affected() {
            1 => Ok(()),
            _ => Err(StoreError::Conflict(format!("holder assertion {jti} was used already"))),
        }
    }
}
