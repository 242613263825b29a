//! The time-stamping authority's units (a key and its certificate per algorithm, several
//! over time) and the serial numbers of its tokens, reserved in blocks (migration 0011).

use std::ops::RangeInclusive;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, algorithm, conflict, from_ts, signed, ts, unsigned};
use crate::pki::Algorithm;

/// Most serial numbers one reservation may take.
pub const MAX_TSA_SERIAL_BLOCK: u64 = 1_000_000;

/// One unit of the time-stamping authority: a key and its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaUnitRecord {
    /// `<algorithm>-<n>`, n counting the algorithm's units from 1.
    pub id: String,
    /// The key's algorithm (and its root's).
    pub algorithm: Algorithm,
    /// The TSA certificate, DER.
    pub cert_der: Vec<u8>,
    /// The key's name in the key store.
    pub key_name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// The time-stamping authority's units and serial numbers. Each method is atomic.
#[async_trait]
pub trait TsaStore: Send + Sync {
    /// The units of one algorithm or of all, oldest first (by creation, then id).
    async fn tsa_units(&self, algorithm: Option<Algorithm>) -> Result<Vec<TsaUnitRecord>, StoreError>;
    /// Records a unit; conflict if its id or key name is taken.
    async fn insert_tsa_unit(&self, unit: &TsaUnitRecord) -> Result<(), StoreError>;
    /// Reserves the next `count` serial numbers (1 to [`MAX_TSA_SERIAL_BLOCK`]): a block
    /// that no other reservation, in this process or another on the same database, ever
    /// gets, and above every block reserved before it.
    async fn reserve_tsa_serials(&self, count: u64) -> Result<RangeInclusive<u64>, StoreError>;
}

fn unit_from_row(row: &AnyRow) -> Result<TsaUnitRecord, StoreError> {
    Ok(TsaUnitRecord {
        id: row.try_get("id")?,
        algorithm: algorithm(row)?,
        cert_der: row.try_get("cert_der")?,
        key_name: row.try_get("key_name")?,
        created_at: from_ts(row.try_get("created_at")?)?,
    })
}

#[async_trait]
impl TsaStore for SqlStore {
    async fn tsa_units(&self, algorithm: Option<Algorithm>) -> Result<Vec<TsaUnitRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, algorithm, cert_der, key_name, created_at FROM tsa_units \
             WHERE $1 = '' OR algorithm = $1 ORDER BY created_at, id",
        )
        .bind(algorithm.map_or("", |a| a.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unit_from_row).collect()
    }

    async fn insert_tsa_unit(&self, unit: &TsaUnitRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tsa_units (id, algorithm, cert_der, key_name, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&unit.id)
        .bind(unit.algorithm.as_str())
        .bind(unit.cert_der.clone())
        .bind(&unit.key_name)
        .bind(ts(unit.created_at))
        .execute(&self.pool)
        .await
        .map_err(conflict(|| format!("time-stamping unit {} exists already", unit.id)))?;
        Ok(())
    }

    async fn reserve_tsa_serials(&self, count: u64) -> Result<RangeInclusive<u64>, StoreError> {
        if !(1..=MAX_TSA_SERIAL_BLOCK).contains(&count) {
            return Err(StoreError::Conflict(format!(
                "a block of {count} time-stamp serial numbers: reserve 1 to {MAX_TSA_SERIAL_BLOCK}"
            )));
        }
        let by = signed("serial block", count)?;
        // One statement: the row lock (PostgreSQL) or the write lock (SQLite) makes it atomic;
        // concurrent reservations share one commit (`combine.rs`).
        let row = self
            .combiner
            .write(move |tx| {
                Box::pin(async move {
                    let row =
                        sqlx::query("UPDATE tsa_serial SET last = last + $1 WHERE id = 1 RETURNING last")
                            .bind(by)
                            .fetch_optional(&mut **tx)
                            .await?;
                    row.ok_or_else(|| {
                        StoreError::Corrupt("the time-stamp serial counter row is missing".to_owned())
                    })
                })
            })
            .await?;
        let last = unsigned("time-stamp serial", row.try_get("last")?)?;
        let first = last
            .checked_sub(count - 1)
            .filter(|f| *f >= 1)
            .ok_or_else(|| StoreError::Corrupt(format!("time-stamp serial counter at {last}")))?;
        Ok(first..=last)
    }
}
