//! Holder portals (registered by the operator) and the holder assertion ids they have
//! used, and their SQL.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use super::StoreError;
use super::sql::{WriteGate, from_ts, ts};

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

/// The SQL behind the portal methods of [`super::Store`].
#[async_trait]
pub(super) trait PortalSql {
    fn pool(&self) -> &AnyPool;
    fn gate(&self) -> &WriteGate;

    async fn insert_portal_sql(&self, p: &PortalRecord) -> Result<(), StoreError> {
        let _turn = self.gate().enter().await;
        sqlx::query(
            "INSERT INTO portals (id, name, algorithm, public_key, key_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(&p.algorithm)
        .bind(p.public_key.clone())
        .bind(&p.key_hash)
        .bind(ts(p.created_at))
        .bind(p.revoked_at.map(ts))
        .execute(self.pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("portal {} exists already", p.id))
            }
            _ => StoreError::Database(e),
        })?;
        Ok(())
    }

    async fn portal_by_key_hash_sql(&self, key_hash: &str) -> Result<Option<PortalRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals WHERE key_hash = $1"));
        let row = sqlx::query(sql).bind(key_hash).fetch_optional(self.pool()).await?;
        row.as_ref().map(portal_from_row).transpose()
    }

    async fn portals_sql(&self) -> Result<Vec<PortalRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals ORDER BY id"));
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter().map(portal_from_row).collect()
    }

    async fn revoke_portal_sql(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let _turn = self.gate().enter().await;
        let done = sqlx::query("UPDATE portals SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ts(at))
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let known =
            sqlx::query("SELECT id FROM portals WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        Err(match known {
            Some(_) => StoreError::Conflict(format!("portal {id} is revoked already")),
            None => StoreError::NotFound(format!("portal {id}")),
        })
    }

    async fn use_assertion_sql(
        &self,
        portal_id: &str,
        jti: &str,
        expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let _turn = self.gate().enter().await;
        let mut tx = self.pool().begin().await?;
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
