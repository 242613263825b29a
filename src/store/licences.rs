//! Records of the licence register and API clients, and the SQL that stores them.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use super::StoreError;
use super::sql::{from_ts, ts};
use crate::licence::LicenceStatus;

/// The error a licence builder returns; boxed so the store stays independent of it.
pub type BuildError = Box<dyn std::error::Error + Send + Sync>;

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

/// A licence about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLicence {
    /// 电子证照标识.
    pub id: String,
    /// Type code.
    pub type_code: String,
    /// Issuer's 统一社会信用代码.
    pub issuer_code: String,
    /// Serial.
    pub serial: String,
    /// Version.
    pub version: u16,
    /// Holder code.
    pub holder_code: String,
    /// `001` or `111`.
    pub holder_code_type: String,
    /// Holder name.
    pub holder_name: String,
    /// Seal that signed it.
    pub seal_id: String,
    /// Issue time.
    pub issued_at: OffsetDateTime,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`, `None` for long-term.
    pub valid_until: Option<String>,
    /// Deterministic CBOR of the record.
    pub record_cbor: Vec<u8>,
    /// SHA-256 of `record_cbor`.
    pub record_hash: Vec<u8>,
    /// The COSE token.
    pub token: Vec<u8>,
    /// The signed PDF.
    pub pdf: Vec<u8>,
    /// The version it replaces.
    pub replaces: Option<String>,
    /// The API client that asked for it (`None` from the command line).
    pub client_id: Option<String>,
}

/// A stored licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRow {
    /// What was stored.
    pub licence: NewLicence,
    /// Current stored status (expiry by date is the caller's to apply).
    pub status: LicenceStatus,
    /// The newer version that replaced it.
    pub superseded_by: Option<String>,
}

/// An idempotency key presented with an issuing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The client presenting it.
    pub client_id: String,
    /// The key (`Idempotency-Key` header).
    pub key: String,
    /// SHA-256 of the request, to tell a retry from a different request.
    pub request_hash: Vec<u8>,
}

/// How long a reserved serial stays reserved. A licence is built in milliseconds; a
/// reservation left by a process that died mid-build is handed out again after this.
pub const SERIAL_LEASE: time::Duration = time::Duration::minutes(10);

/// A serial reserved for a licence being built (see [`super::Store::reserve_serial`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialReservation {
    /// The counter it was taken from, e.g. `licence:<issuer>:<type>`.
    pub counter: String,
    /// The serial number.
    pub value: u64,
    /// Random text naming this reservation, so that only its holder stores or releases it.
    pub holder: String,
}

/// A fresh random reservation holder name.
fn reservation_holder() -> Result<String, StoreError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StoreError::Corrupt("the system random generator failed".into()))?;
    Ok(hex::encode(bytes))
}

/// What [`super::Store::issue_licence`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new licence was issued.
    Issued(LicenceRow),
    /// The idempotency key was used before for the same request: its licence.
    Replayed(LicenceRow),
}

impl IssueOutcome {
    /// The licence either way.
    pub fn row(&self) -> &LicenceRow {
        match self {
            Self::Issued(row) | Self::Replayed(row) => row,
        }
    }
}

pub(super) fn list(s: &str) -> Vec<String> {
    s.split(',').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

pub(super) fn client_from_row(row: &AnyRow) -> Result<ClientRecord, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    let types: String = row.try_get("type_codes")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(ClientRecord {
        id: row.try_get("id")?,
        department_code: row.try_get("department_code")?,
        name: row.try_get("name")?,
        scopes: list(&scopes),
        type_codes: list(&types),
        key_hash: row.try_get("key_hash")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        revoked_at: revoked_at.map(from_ts).transpose()?,
    })
}

const CLIENT_COLUMNS: &str =
    "id, department_code, name, scopes, type_codes, key_hash, created_at, revoked_at";

/// The columns written when a licence is issued.
macro_rules! licence_columns {
    () => {
        "id, type_code, issuer_code, serial, version, holder_code, holder_code_type, holder_name, seal_id, \
         status, issued_at, valid_from, valid_until, record_cbor, record_hash, token, pdf, replaces, client_id"
    };
}
/// The columns read back: the written ones and what changes later.
macro_rules! licence_select {
    () => {
        concat!($crate::store::licences::licence_columns!(), ", superseded_by")
    };
}
pub(crate) use {licence_columns, licence_select};

pub(super) fn licence_from_row(row: &AnyRow) -> Result<LicenceRow, StoreError> {
    let version: i64 = row.try_get("version")?;
    let status: String = row.try_get("status")?;
    Ok(LicenceRow {
        licence: NewLicence {
            id: row.try_get("id")?,
            type_code: row.try_get("type_code")?,
            issuer_code: row.try_get("issuer_code")?,
            serial: row.try_get("serial")?,
            version: u16::try_from(version).map_err(|e| StoreError::Corrupt(format!("version: {e}")))?,
            holder_code: row.try_get("holder_code")?,
            holder_code_type: row.try_get("holder_code_type")?,
            holder_name: row.try_get("holder_name")?,
            seal_id: row.try_get("seal_id")?,
            issued_at: from_ts(row.try_get("issued_at")?)?,
            valid_from: row.try_get("valid_from")?,
            valid_until: row.try_get("valid_until")?,
            record_cbor: row.try_get("record_cbor")?,
            record_hash: row.try_get("record_hash")?,
            token: row.try_get("token")?,
            pdf: row.try_get("pdf")?,
            replaces: row.try_get("replaces")?,
            client_id: row.try_get("client_id")?,
        },
        status: LicenceStatus::from_code(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("licence status {status:?}")))?,
        superseded_by: row.try_get("superseded_by")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The SQL behind the licence and client methods of [`super::Store`].
#[async_trait]
pub(super) trait LicenceSql {
    fn pool(&self) -> &AnyPool;
    fn gate(&self) -> &super::sql::WriteGate;

    async fn insert_client_sql(&self, c: &ClientRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, department_code, name, scopes, type_codes, key_hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(&c.department_code)
        .bind(&c.name)
        .bind(c.scopes.join(","))
        .bind(c.type_codes.join(","))
        .bind(&c.key_hash)
        .bind(ts(c.created_at))
        .bind(c.revoked_at.map(ts))
        .execute(self.pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation() => {
                StoreError::Conflict(format!("client {} cannot be recorded (duplicate, or unknown department)", c.id))
            }
            _ => StoreError::Database(e),
        })?;
        Ok(())
    }

    async fn client_by_key_hash_sql(&self, key_hash: &str) -> Result<Option<ClientRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE key_hash = $1"));
        let row = sqlx::query(sql).bind(key_hash).fetch_optional(self.pool()).await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn clients_sql(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY id"));
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter().map(client_from_row).collect()
    }

    async fn revoke_client_sql(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ts(at))
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let exists =
            sqlx::query("SELECT id FROM clients WHERE id = $1").bind(id).fetch_optional(self.pool()).await?;
        Err(match exists {
            Some(_) => StoreError::Conflict(format!("client {id} is revoked already")),
            None => StoreError::NotFound(format!("client {id}")),
        })
    }

    async fn licence_sql(&self, id: &str) -> Result<Option<LicenceRow>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", licence_select!(), " FROM licences WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(licence_from_row).transpose()
    }

    /// The licence an idempotency key issued, if the key was used: `Ok(Some)` for the same
    /// request, conflict for another.
    async fn replay(&self, claim: &IdempotencyClaim) -> Result<Option<LicenceRow>, StoreError> {
        let row =
            sqlx::query("SELECT request_hash, licence_id FROM idempotency WHERE client_id = $1 AND key = $2")
                .bind(&claim.client_id)
                .bind(&claim.key)
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: Vec<u8> = row.try_get("request_hash")?;
        if hash != claim.request_hash {
            return Err(StoreError::Conflict(format!(
                "Idempotency-Key {:?} was used for a different request",
                claim.key
            )));
        }
        let id: String = row.try_get("licence_id")?;
        self.licence_sql(&id)
            .await?
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("licence {id} missing")))
    }

    async fn issue_licence_sql(
        &self,
        counter: Option<&str>,
        idempotency: Option<&IdempotencyClaim>,
        build: &(dyn Fn(u64) -> Result<NewLicence, BuildError> + Send + Sync),
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, StoreError> {
        if let Some(claim) = idempotency
            && let Some(row) = self.replay(claim).await?
        {
            return Ok(IssueOutcome::Replayed(row));
        }
        let reservation = match counter {
            Some(counter) => Some(self.reserve_serial_sql(counter, now).await?),
            None => None,
        };
        let outcome = match build(reservation.as_ref().map_or(0, |r| r.value)) {
            Ok(l) => self.store_licence_sql(reservation.as_ref(), idempotency, l).await,
            Err(e) => Err(StoreError::Build(e)),
        };
        if let Some(r) = &reservation
            && !matches!(outcome, Ok(IssueOutcome::Issued(_)))
        {
            let released = self.release_serial_sql(r).await;
            // The first failure is the one to report; a failed release lapses later.
            if outcome.is_ok() {
                released?;
            }
        }
        outcome
    }

    /// Hands out a serial of `counter`: the lowest one given back or lapsed, else the
    /// counter's next value, reserved for [`SERIAL_LEASE`].
    async fn reserve_serial_sql(
        &self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, StoreError> {
        let holder = reservation_holder()?;
        let until = ts(now + SERIAL_LEASE);
        let _turn = self.gate().enter().await;
        // A concurrent reserver (another node) may take the lowest free serial between the
        // subquery and the update; the update then re-checks the row, changes nothing and
        // this loop looks again.
        for _ in 0..8 {
            let taken = sqlx::query(
                "UPDATE serial_reservations SET holder = $2, reserved_until = $3 \
                 WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4) AND value = \
                 (SELECT MIN(value) FROM serial_reservations \
                  WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4)) \
                 RETURNING value",
            )
            .bind(counter)
            .bind(&holder)
            .bind(until)
            .bind(ts(now))
            .fetch_optional(self.pool())
            .await?;
            if let Some(row) = taken {
                let value: i64 = row.try_get("value")?;
                let value = u64::try_from(value).map_err(|e| StoreError::Corrupt(format!("serial: {e}")))?;
                return Ok(SerialReservation { counter: counter.to_owned(), value, holder });
            }
            let free = sqlx::query(
                "SELECT value FROM serial_reservations \
                 WHERE counter = $1 AND (holder IS NULL OR reserved_until < $2) LIMIT 1",
            )
            .bind(counter)
            .bind(ts(now))
            .fetch_optional(self.pool())
            .await?;
            if free.is_none() {
                break;
            }
        }
        let mut tx = self.pool().begin().await?;
        let row = sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
        )
        .bind(counter)
        .fetch_one(&mut *tx)
        .await?;
        let value: i64 = row.try_get("value")?;
        sqlx::query(
            "INSERT INTO serial_reservations (counter, value, holder, reserved_until) VALUES ($1, $2, $3, $4)",
        )
        .bind(counter)
        .bind(value)
        .bind(&holder)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let value = u64::try_from(value).map_err(|e| StoreError::Corrupt(format!("counter: {e}")))?;
        Ok(SerialReservation { counter: counter.to_owned(), value, holder })
    }

    /// Gives a reserved serial back, to be handed out again first.
    async fn release_serial_sql(&self, r: &SerialReservation) -> Result<(), StoreError> {
        let value = i64::try_from(r.value).map_err(|e| StoreError::Corrupt(format!("serial: {e}")))?;
        let _turn = self.gate().enter().await;
        sqlx::query(
            "UPDATE serial_reservations SET holder = NULL, reserved_until = NULL \
             WHERE counter = $1 AND value = $2 AND holder = $3",
        )
        .bind(&r.counter)
        .bind(value)
        .bind(&r.holder)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stores a built licence in one short transaction (see [`super::Store::store_licence`]).
    async fn store_licence_sql(
        &self,
        reservation: Option<&SerialReservation>,
        idempotency: Option<&IdempotencyClaim>,
        l: NewLicence,
    ) -> Result<IssueOutcome, StoreError> {
        let _turn = self.gate().enter().await;
        let mut tx = self.pool().begin().await?;
        if let Some(r) = reservation {
            let value = i64::try_from(r.value).map_err(|e| StoreError::Corrupt(format!("serial: {e}")))?;
            let done = sqlx::query(
                "DELETE FROM serial_reservations WHERE counter = $1 AND value = $2 AND holder = $3",
            )
            .bind(&r.counter)
            .bind(value)
            .bind(&r.holder)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!(
                    "the reservation of serial {} lapsed before the licence was stored",
                    r.value
                )));
            }
        }
        if let Some(old) = &l.replaces {
            let done =
                sqlx::query("UPDATE licences SET superseded_by = $2 WHERE id = $1 AND superseded_by IS NULL")
                    .bind(old)
                    .bind(&l.id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict(format!(
                    "licence {old} was renewed already or does not exist"
                )));
            }
            let status: String = sqlx::query("SELECT status FROM licences WHERE id = $1")
                .bind(old)
                .fetch_one(&mut *tx)
                .await?
                .try_get("status")?;
            let status = LicenceStatus::from_code(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("licence status {status:?}")))?;
            let event = super::register::LicenceEvent {
                seq: 0,
                at: l.issued_at,
                kind: "renewed".into(),
                from_status: Some(status),
                to_status: status,
                reason: format!("replaced by {}", l.id),
                actor: l.client_id.clone().unwrap_or_else(|| "operator".into()),
            };
            super::register::insert_event(&mut tx, old, &event).await?;
        }
        let inserted = sqlx::query(concat!(
            "INSERT INTO licences (",
            licence_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ))
        .bind(&l.id)
        .bind(&l.type_code)
        .bind(&l.issuer_code)
        .bind(&l.serial)
        .bind(i64::from(l.version))
        .bind(&l.holder_code)
        .bind(&l.holder_code_type)
        .bind(&l.holder_name)
        .bind(&l.seal_id)
        .bind(LicenceStatus::Valid.code())
        .bind(ts(l.issued_at))
        .bind(&l.valid_from)
        .bind(l.valid_until.clone())
        .bind(l.record_cbor.clone())
        .bind(l.record_hash.clone())
        .bind(l.token.clone())
        .bind(l.pdf.clone())
        .bind(l.replaces.clone())
        .bind(l.client_id.clone())
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return Err(if is_unique_violation(&e) {
                StoreError::Conflict(format!("licence {} exists already", l.id))
            } else {
                StoreError::Database(e)
            });
        }
        let event = super::register::LicenceEvent {
            seq: 1,
            at: l.issued_at,
            kind: if l.replaces.is_some() { "renewal" } else { "issued" }.into(),
            from_status: None,
            to_status: LicenceStatus::Valid,
            reason: l.replaces.as_ref().map_or_else(|| "issued".to_owned(), |old| format!("replaces {old}")),
            actor: l.client_id.clone().unwrap_or_else(|| "operator".into()),
        };
        super::register::insert_event(&mut tx, &l.id, &event).await?;
        if let Some(claim) = idempotency {
            let claimed = sqlx::query(
                "INSERT INTO idempotency (client_id, key, request_hash, licence_id, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&claim.client_id)
            .bind(&claim.key)
            .bind(claim.request_hash.clone())
            .bind(&l.id)
            .bind(ts(l.issued_at))
            .execute(&mut *tx)
            .await;
            match claimed {
                Ok(_) => {}
                // A concurrent retry with the same key won: answer with its licence.
                Err(e) if is_unique_violation(&e) => {
                    tx.rollback().await?;
                    return match self.replay(claim).await? {
                        Some(row) => Ok(IssueOutcome::Replayed(row)),
                        None => Err(StoreError::Conflict(
                            "concurrent request with the same Idempotency-Key".into(),
                        )),
                    };
                }
                Err(e) => return Err(StoreError::Database(e)),
            }
        }
        tx.commit().await?;
        Ok(IssueOutcome::Issued(LicenceRow { licence: l, status: LicenceStatus::Valid, superseded_by: None }))
    }
}
