//! The clients role: departments' API clients, found by the hash of their key.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, conflict, from_ts, join_list, revoke_refused, split_list, ts};

/// An API client of a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Client id (public).
    pub id: String,
    /// Its department's 统一社会信用代码.
    pub department_code: String,
    /// Human name.
    pub name: String,
    /// Scopes, e.g. `issue`.
    pub scopes: Vec<String>,
    /// Licence types it may use; `*` means all.
    pub type_codes: Vec<String>,
    /// SHA-256 of its key, hex. The key itself is never stored.
    pub key_hash: String,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Departments' API clients. Each method is atomic.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers an API client; conflict if the id or key hash is taken.
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    /// The client whose key hashes to `key_hash` (revoked ones included).
    async fn client_by_key_hash(&self, key_hash: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// The client with `id` (revoked ones included).
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// All clients, by id.
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
    /// Marks a client revoked; not found if unknown, conflict if revoked already.
    async fn revoke_client(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;
}

const CLIENT_COLUMNS: &str =
    "id, department_code, name, scopes, type_codes, key_hash, created_at, revoked_at";

fn client_from_row(row: &AnyRow) -> Result<ClientRecord, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    let types: String = row.try_get("type_codes")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(ClientRecord {
        id: row.try_get("id")?,
        department_code: row.try_get("department_code")?,
        name: row.try_get("name")?,
        scopes: split_list(&scopes),
        type_codes: split_list(&types),
        key_hash: row.try_get("key_hash")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        revoked_at: revoked_at.map(from_ts).transpose()?,
    })
}

#[async_trait]
impl ClientStore for SqlStore {
    async fn insert_client(&self, c: &ClientRecord) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ));
        sqlx::query(sql)
            .bind(&c.id)
            .bind(&c.department_code)
            .bind(&c.name)
            .bind(join_list(&c.scopes))
            .bind(join_list(&c.type_codes))
            .bind(&c.key_hash)
            .bind(ts(c.created_at))
            .bind(c.revoked_at.map(ts))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| {
                format!("client {} cannot be recorded (duplicate, or unknown department)", c.id)
            }))?;
        Ok(())
    }

    async fn client_by_key_hash(&self, key_hash: &str) -> Result<Option<ClientRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE key_hash = $1"));
        let row = sqlx::query(sql).bind(key_hash).fetch_optional(&self.pool).await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"));
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY id"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn revoke_client(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ts(at))
            .execute(&self.pool)
            .await?;
        match done.rows_affected() {
            1 => Ok(()),
            _ => Err(revoke_refused(&self.pool, "clients", "client", id).await),
        }
    }
}
