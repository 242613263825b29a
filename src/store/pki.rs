//! The PKI role: the platform row, root certificates and their CRLs, departments, their
//! seals, and the counters that number seals.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{
    SqlStore, algorithm, conflict, corrupt, from_ts, join_list, signed, split_list, ts, unsigned,
};
use crate::codes::{AreaCode, Uscc};
use crate::pki::{Algorithm, RevocationReason};

/// The platform itself (one row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRecord {
    /// The platform's name, as in its root certificates.
    pub name: String,
    /// When `init` ran.
    pub created_at: OffsetDateTime,
}

/// A root CA certificate and the name of its key in the key store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRecord {
    /// The root's (and its chain's) algorithm.
    pub algorithm: Algorithm,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The key's name in the key store.
    pub key_name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// A CRL signed by a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    /// Which root signed it.
    pub algorithm: Algorithm,
    /// Its CRL number; strictly increasing per root.
    pub number: u64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// The CRL, DER.
    pub der: Vec<u8>,
}

/// A department that may hold seals and issue licences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Its 统一社会信用代码.
    pub code: Uscc,
    /// Its official name.
    pub name: String,
    /// 行政区划代码 of its jurisdiction.
    pub area: AreaCode,
    /// Licence type codes it may issue; `*` means any.
    pub type_codes: Vec<String>,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

impl Department {
    /// Whether the department may issue licences of `type_code`.
    pub fn may_issue(&self, type_code: &str) -> bool {
        crate::licence::TypeScope::new(&self.type_codes).covers(type_code)
    }
}

/// Whether a seal may still sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SealStatus {
    /// In use.
    Active,
    /// Its certificate is on the CRL; it signs nothing more.
    Revoked,
}

impl SealStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }
}

/// An electronic seal: key, certificate and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRecord {
    /// The seal's identifier (area code + sequence), also in its certificate.
    pub id: String,
    /// The department that owns it.
    pub department_code: Uscc,
    /// The seal's name, e.g. 行政审批专用章.
    pub name: String,
    /// Key and chain algorithm.
    pub algorithm: Algorithm,
    /// The seal certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certificate serial number, hex.
    pub serial_hex: String,
    /// The key's name in the key store.
    pub key_name: String,
    /// Active or revoked.
    pub status: SealStatus,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked, and why.
    pub revocation: Option<(OffsetDateTime, RevocationReason)>,
}

/// The platform's GB/T 38540 seal maker (制章者): its certificate under the SM2 root and
/// the name of its key in the key store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealMakerRecord {
    /// The maker certificate, DER.
    pub cert_der: Vec<u8>,
    /// The key's name in the key store.
    pub key_name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// The platform, its roots and CRLs, departments and seals. Each method is atomic.
#[async_trait]
pub trait PkiStore: Send + Sync {
    /// The platform row, if `init` has run.
    async fn platform(&self) -> Result<Option<PlatformRecord>, StoreError>;
    /// Records the platform; [`StoreError::Conflict`] if it exists.
    async fn insert_platform(&self, platform: &PlatformRecord) -> Result<(), StoreError>;

    /// All roots.
    async fn roots(&self) -> Result<Vec<RootRecord>, StoreError>;
    /// Records a root together with its first CRL; conflict if that algorithm has one.
    async fn insert_root(&self, root: &RootRecord, first_crl: &CrlRecord) -> Result<(), StoreError>;

    /// The newest CRL of a root.
    async fn latest_crl(&self, algorithm: Algorithm) -> Result<Option<CrlRecord>, StoreError>;
    /// Records a newer CRL; conflict unless its number is above the latest.
    async fn insert_crl(&self, crl: &CrlRecord) -> Result<(), StoreError>;

    /// Registers a department; conflict if the code is taken.
    async fn insert_department(&self, department: &Department) -> Result<(), StoreError>;
    /// One department.
    async fn department(&self, code: &Uscc) -> Result<Option<Department>, StoreError>;
    /// All departments, by code.
    async fn departments(&self) -> Result<Vec<Department>, StoreError>;

    /// Atomically increments the named counter and returns its new value (first: 1).
    async fn next_counter(&self, name: &str) -> Result<u64, StoreError>;

    /// Records a new seal; conflict if the id or serial is taken.
    async fn insert_seal(&self, seal: &SealRecord) -> Result<(), StoreError>;
    /// One seal.
    async fn seal(&self, id: &str) -> Result<Option<SealRecord>, StoreError>;
    /// All seals, or one department's, by id.
    async fn seals(&self, department: Option<&Uscc>) -> Result<Vec<SealRecord>, StoreError>;
    /// Revoked seals of one algorithm (the content of its root's CRL).
    async fn revoked_seals(&self, algorithm: Algorithm) -> Result<Vec<SealRecord>, StoreError>;
    /// Marks an active seal revoked and records the CRL that lists it, in one
    /// transaction: either both happen or neither.
    async fn revoke_seal(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: RevocationReason,
        crl: &CrlRecord,
    ) -> Result<(), StoreError>;

    /// The seal maker, if one was made.
    async fn seal_maker(&self) -> Result<Option<SealMakerRecord>, StoreError>;
    /// Records the seal maker; conflict if there is one.
    async fn insert_seal_maker(&self, maker: &SealMakerRecord) -> Result<(), StoreError>;
    /// A seal's `SES_Seal` (DER), if it has one.
    async fn ses_seal(&self, seal_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Records a seal's `SES_Seal` unless it has one, and returns the one it has now (so
    /// that two makers racing agree on the first). Not found if the seal is unknown.
    async fn keep_ses_seal(&self, seal_id: &str, der: &[u8]) -> Result<Vec<u8>, StoreError>;
}

fn crl_from_row(row: &AnyRow) -> Result<CrlRecord, StoreError> {
    Ok(CrlRecord {
        algorithm: algorithm(row)?,
        number: unsigned("CRL number", row.try_get("number")?)?,
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
        type_codes: split_list(&row.try_get::<String, _>("type_codes")?),
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

const DEPARTMENT_COLUMNS: &str = "code, name, area_code, type_codes, created_at";

async fn insert_crl_in<'c, E>(executor: E, crl: &CrlRecord) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO crls (algorithm, number, this_update, next_update, der) \
         SELECT $1, $2, $3, $4, $5 \
         WHERE $2 > (SELECT COALESCE(MAX(number), 0) FROM crls WHERE algorithm = $1)",
    )
    .bind(crl.algorithm.to_string())
    .bind(signed("CRL number", crl.number)?)
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

#[async_trait]
impl PkiStore for SqlStore {
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
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO departments ({DEPARTMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ));
        sqlx::query(sql)
            .bind(d.code.as_str())
            .bind(&d.name)
            .bind(d.area.as_str())
            .bind(join_list(&d.type_codes))
            .bind(ts(d.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| format!("department {} exists already", d.code)))?;
        Ok(())
    }

    async fn department(&self, code: &Uscc) -> Result<Option<Department>, StoreError> {
        let sql =
            sqlx::AssertSqlSafe(format!("SELECT {DEPARTMENT_COLUMNS} FROM departments WHERE code = $1"));
        let row = sqlx::query(sql).bind(code.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(department_from_row).transpose()
    }

    async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {DEPARTMENT_COLUMNS} FROM departments ORDER BY code"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
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
        unsigned("counter", row.try_get("value")?)
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

    async fn seal_maker(&self) -> Result<Option<SealMakerRecord>, StoreError> {
        let row = sqlx::query("SELECT cert_der, key_name, created_at FROM seal_maker WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(SealMakerRecord {
                cert_der: row.try_get("cert_der")?,
                key_name: row.try_get("key_name")?,
                created_at: from_ts(row.try_get("created_at")?)?,
            })
        })
        .transpose()
    }

    async fn insert_seal_maker(&self, maker: &SealMakerRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO seal_maker (id, cert_der, key_name, created_at) VALUES (1, $1, $2, $3)")
            .bind(maker.cert_der.clone())
            .bind(&maker.key_name)
            .bind(ts(maker.created_at))
            .execute(&self.pool)
            .await
            .map_err(conflict(|| "the seal maker exists already".to_owned()))?;
        Ok(())
    }

    async fn ses_seal(&self, seal_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT ses_seal FROM seals WHERE id = $1")
            .bind(seal_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Err(StoreError::NotFound(format!("seal {seal_id}"))),
            Some(row) => Ok(row.try_get("ses_seal")?),
        }
    }

    async fn keep_ses_seal(&self, seal_id: &str, der: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query("UPDATE seals SET ses_seal = $2 WHERE id = $1 AND ses_seal IS NULL")
            .bind(seal_id)
            .bind(der.to_vec())
            .execute(&self.pool)
            .await?;
        self.ses_seal(seal_id).await?.ok_or_else(|| corrupt("seal", "SES_Seal not kept"))
    }
}
