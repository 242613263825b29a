//! The authorisations role: holders' authorisations (用证授权), stored by the hash of
//! their code, with a count of uses left.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, from_ts, join_list, split_list, ts};

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

/// Holders' authorisations. Each method is atomic.
#[async_trait]
pub trait AuthorisationStore: Send + Sync {
    /// Records a holder authorisation.
    async fn insert_authorisation(&self, authorisation: &AuthorisationRecord) -> Result<(), StoreError>;
    /// The authorisation whose code hashes to `code_hash`.
    async fn authorisation(&self, code_hash: &str) -> Result<Option<AuthorisationRecord>, StoreError>;
    /// Takes one use of a live authorisation; conflict if used up, expired or revoked.
    async fn use_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Revokes an authorisation.
    async fn revoke_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError>;
}

const AUTHORISATION_COLUMNS: &str = "code_hash, holder_code_type, holder_code, licence_ids, \
     relying_department, created_by, created_at, expires_at, uses_left, revoked_at";

fn authorisation_from_row(row: &AnyRow) -> Result<AuthorisationRecord, StoreError> {
    let ids: String = row.try_get("licence_ids")?;
    let uses: i64 = row.try_get("uses_left")?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    Ok(AuthorisationRecord {
        code_hash: row.try_get("code_hash")?,
        holder_code_type: row.try_get("holder_code_type")?,
        holder_code: row.try_get("holder_code")?,
        licence_ids: split_list(&ids),
        relying_department: row.try_get("relying_department")?,
        created_by: row.try_get("created_by")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        expires_at: from_ts(row.try_get("expires_at")?)?,
        uses_left: u32::try_from(uses).unwrap_or(0),
        revoked_at: revoked.map(from_ts).transpose()?,
    })
}

#[async_trait]
impl AuthorisationStore for SqlStore {
    async fn insert_authorisation(&self, a: &AuthorisationRecord) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO authorisations ({AUTHORISATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ));
        sqlx::query(sql)
            .bind(&a.code_hash)
            .bind(&a.holder_code_type)
            .bind(&a.holder_code)
            .bind(join_list(&a.licence_ids))
            .bind(a.relying_department.clone())
            .bind(&a.created_by)
            .bind(ts(a.created_at))
            .bind(ts(a.expires_at))
            .bind(i64::from(a.uses_left))
            .bind(a.revoked_at.map(ts))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn authorisation(&self, code_hash: &str) -> Result<Option<AuthorisationRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {AUTHORISATION_COLUMNS} FROM authorisations WHERE code_hash = $1"
        ));
        let row = sqlx::query(sql).bind(code_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(authorisation_from_row).transpose()
    }

    async fn use_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE authorisations SET uses_left = uses_left - 1 WHERE code_hash = $1 AND uses_left > 0 \
             AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(StoreError::Conflict("the authorisation code is used up, expired or revoked".into())),
        }
    }

    async fn revoke_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE authorisations SET revoked_at = $2 WHERE code_hash = $1 AND revoked_at IS NULL",
        )
        .bind(code_hash)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(StoreError::NotFound("active authorisation".into())),
        }
    }
}
