//! The delegations role: what a department lets another department's API client (a
//! one-window system, 综合窗口) issue in its name — licence types and seals — and the
//! revocations of those delegations.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, conflict, from_ts, join_list, revoke_refused, split_list, ts};

/// A department's delegation to another department's API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRecord {
    /// Delegation id (public), e.g. `dg_k3x9q2ma`.
    pub id: String,
    /// The delegating department's 统一社会信用代码.
    pub department_code: String,
    /// The client it delegates to (of another department).
    pub client_id: String,
    /// Licence type codes the client may issue in the department's name.
    pub type_codes: Vec<String>,
    /// Seals of the department the client may issue with.
    pub seal_ids: Vec<String>,
    /// When it was granted.
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked, if a reason was given.
    pub revoke_reason: Option<String>,
}

impl DelegationRecord {
    /// Whether it still authorises anything.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// Which delegations to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelegationFilter {
    /// Only those granted by this department.
    pub department_code: Option<String>,
    /// Only those granted to this client.
    pub client_id: Option<String>,
    /// Revoked ones too.
    pub include_revoked: bool,
}

/// Delegations. Each method is atomic.
#[async_trait]
pub trait DelegationStore: Send + Sync {
    /// Records a delegation; conflict if the id is taken or the department or client is
    /// unknown.
    async fn insert_delegation(&self, delegation: &DelegationRecord) -> Result<(), StoreError>;
    /// Delegations matching `filter`, oldest first.
    async fn delegations(&self, filter: &DelegationFilter) -> Result<Vec<DelegationRecord>, StoreError>;
    /// The active delegations from `department_code` to `client_id`, oldest first (one
    /// indexed read: every issuing request with another department's seal makes it).
    async fn active_delegations(
        &self,
        department_code: &str,
        client_id: &str,
    ) -> Result<Vec<DelegationRecord>, StoreError>;
    /// Marks a delegation revoked, with an optional reason, and returns it as revoked; not
    /// found if unknown, conflict if revoked already.
    async fn revoke_delegation(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<DelegationRecord, StoreError>;
}

const DELEGATION_COLUMNS: &str =
    "id, department_code, client_id, type_codes, seal_ids, created_at, revoked_at, revoke_reason";

fn delegation_from_row(row: &AnyRow) -> Result<DelegationRecord, StoreError> {
    let types: String = row.try_get("type_codes")?;
    let seals: String = row.try_get("seal_ids")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(DelegationRecord {
        id: row.try_get("id")?,
        department_code: row.try_get("department_code")?,
        client_id: row.try_get("client_id")?,
        type_codes: split_list(&types),
        seal_ids: split_list(&seals),
        created_at: from_ts(row.try_get("created_at")?)?,
        revoked_at: revoked_at.map(from_ts).transpose()?,
        revoke_reason: row.try_get("revoke_reason")?,
    })
}

#[async_trait]
impl DelegationStore for SqlStore {
    async fn insert_delegation(&self, d: &DelegationRecord) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO delegations ({DELEGATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ));
        sqlx::query(sql)
            .bind(&d.id)
            .bind(&d.department_code)
            .bind(&d.client_id)
            .bind(join_list(&d.type_codes))
            .bind(join_list(&d.seal_ids))
            .bind(ts(d.created_at))
            .bind(d.revoked_at.map(ts))
            .bind(d.revoke_reason.clone())
            .execute(&self.pool)
            .await
            .map_err(conflict(|| {
                format!(
                    "delegation {} cannot be recorded (duplicate id, or unknown department or client)",
                    d.id
                )
            }))?;
        Ok(())
    }

    async fn delegations(&self, filter: &DelegationFilter) -> Result<Vec<DelegationRecord>, StoreError> {
        // A NULL parameter leaves its condition out; the statement stays one literal.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DELEGATION_COLUMNS} FROM delegations \
             WHERE ($1 IS NULL OR department_code = $1) AND ($2 IS NULL OR client_id = $2) \
             AND ($3 = 1 OR revoked_at IS NULL) ORDER BY created_at, id"
        ));
        let rows = sqlx::query(sql)
            .bind(filter.department_code.clone())
            .bind(filter.client_id.clone())
            .bind(i64::from(filter.include_revoked))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delegation_from_row).collect()
    }

    async fn active_delegations(
        &self,
        department_code: &str,
        client_id: &str,
    ) -> Result<Vec<DelegationRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DELEGATION_COLUMNS} FROM delegations \
             WHERE client_id = $1 AND department_code = $2 AND revoked_at IS NULL ORDER BY created_at, id"
        ));
        let rows = sqlx::query(sql).bind(client_id).bind(department_code).fetch_all(&self.pool).await?;
        rows.iter().map(delegation_from_row).collect()
    }

    async fn revoke_delegation(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: Option<&str>,
    ) -> Result<DelegationRecord, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE delegations SET revoked_at = $2, revoke_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL RETURNING {DELEGATION_COLUMNS}"
        ));
        let row = sqlx::query(sql).bind(id).bind(ts(at)).bind(reason).fetch_optional(&self.pool).await?;
        match row {
            Some(row) => delegation_from_row(&row),
            None => Err(revoke_refused(&self.pool, "delegations", "delegation", id).await),
        }
    }
}
