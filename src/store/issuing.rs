//! The issuing role: serial reservations, idempotency keys, and the one short
//! transaction that stores a built licence. Building it is the platform's
//! (`platform/issuing/`), outside any transaction.

use async_trait::async_trait;
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;

use super::error::StoreError;
use super::licences::{
    LicenceEvent, LicenceRow, LicenceStore, NewLicence, document_columns, insert_event, licence_columns,
    status_in,
};
use super::sql::{SqlStore, is_unique_violation, signed, ts, unsigned};
use crate::licence::LicenceStatus;

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

/// A serial reserved for a licence being built (see [`IssuingStore::reserve_serial`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialReservation {
    /// The counter it was taken from, e.g. `licence:<issuer>:<type>`.
    pub counter: String,
    /// The serial number.
    pub value: u64,
    /// Random text naming this reservation, so that only its holder stores or releases it.
    pub holder: String,
}

/// What [`IssuingStore::store_licence`] did.
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

/// Serials, idempotency keys and storing issued licences. Each method is atomic.
#[async_trait]
pub trait IssuingStore: Send + Sync {
    /// The licence an idempotency key issued: `Some` for the same request hash, `None` if
    /// the key is unused, [`StoreError::Conflict`] for another request hash.
    async fn replay_issue(&self, claim: &IdempotencyClaim) -> Result<Option<LicenceRow>, StoreError>;
    /// Reserves a serial of the named counter for a licence about to be built, until
    /// `now` + [`SERIAL_LEASE`]: the lowest serial given back (or whose reservation
    /// lapsed) first, else the counter's next value. The database hands it out, so
    /// concurrent reservations on several nodes never share a serial.
    async fn reserve_serial(
        &self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, StoreError>;
    /// Gives a reserved serial back (its licence was not stored), to be handed out again
    /// before the counter moves on. Does nothing if the reservation is no longer held.
    async fn release_serial(&self, reservation: &SerialReservation) -> Result<(), StoreError>;
    /// Stores a built licence in one transaction: ends its serial reservation (conflict if
    /// it lapsed and was handed out again), marks the version it replaces superseded
    /// (conflict if superseded already), records the issue event and the idempotency key.
    /// A failure stores nothing and leaves the reservation held (release it). If a
    /// concurrent request with the same idempotency key stored first, returns its licence
    /// ([`IssueOutcome::Replayed`]) and the reservation is still held.
    async fn store_licence(
        &self,
        reservation: Option<&SerialReservation>,
        idempotency: Option<&IdempotencyClaim>,
        licence: NewLicence,
    ) -> Result<IssueOutcome, StoreError>;
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

/// Who asked for a licence, in its events.
fn actor(l: &NewLicence) -> String {
    l.client_id.clone().unwrap_or_else(|| "operator".into())
}

/// Ends a serial reservation inside `tx`; conflict if it lapsed and was handed out again.
pub(super) async fn end_reservation(
    tx: &mut Transaction<'static, Any>,
    r: &SerialReservation,
) -> Result<(), StoreError> {
    let done =
        sqlx::query("DELETE FROM serial_reservations WHERE counter = $1 AND value = $2 AND holder = $3")
            .bind(&r.counter)
            .bind(signed("serial", r.value)?)
            .bind(&r.holder)
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!(
            "the reservation of serial {} lapsed before the licence was stored",
            r.value
        )));
    }
    Ok(())
}

/// Marks the version `l` replaces superseded and records that in its history, inside `tx`.
async fn supersede(tx: &mut Transaction<'static, Any>, old: &str, l: &NewLicence) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE licences SET superseded_by = $2 WHERE id = $1 AND superseded_by IS NULL")
        .bind(old)
        .bind(&l.id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict(format!("licence {old} was renewed already or does not exist")));
    }
    let status = status_in(tx, old).await?;
    let event = LicenceEvent {
        seq: 0,
        at: l.issued_at,
        kind: "renewed".into(),
        from_status: Some(status),
        to_status: status,
        reason: format!("replaced by {}", l.id),
        actor: actor(l),
    };
    insert_event(tx, old, &event).await
}

/// Inserts the licence and its first event inside `tx`.
pub(super) async fn insert_licence(
    tx: &mut Transaction<'static, Any>,
    l: &NewLicence,
) -> Result<(), StoreError> {
    let (pdf, document, ofd, deferred) = document_columns(&l.document);
    sqlx::query(concat!(
        "INSERT INTO licences (",
        licence_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
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
    .bind(pdf)
    .bind(l.replaces.clone())
    .bind(l.client_id.clone())
    .bind(document)
    .bind(ofd)
    .bind(l.ofd_seal_id.clone())
    .bind(deferred)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("licence {} exists already", l.id))
        } else {
            StoreError::Database(e)
        }
    })?;
    let event = LicenceEvent {
        seq: 1,
        at: l.issued_at,
        kind: if l.replaces.is_some() { "renewal" } else { "issued" }.into(),
        from_status: None,
        to_status: LicenceStatus::Valid,
        reason: l.replaces.as_ref().map_or_else(|| "issued".to_owned(), |old| format!("replaces {old}")),
        actor: actor(l),
    };
    insert_event(tx, &l.id, &event).await
}

/// Records the idempotency key inside `tx`: `Ok(false)` if a concurrent request with the
/// same key recorded it first.
async fn claim_key(
    tx: &mut Transaction<'static, Any>,
    claim: &IdempotencyClaim,
    l: &NewLicence,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency (client_id, key, request_hash, licence_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&claim.client_id)
    .bind(&claim.key)
    .bind(claim.request_hash.clone())
    .bind(&l.id)
    .bind(ts(l.issued_at))
    .execute(&mut **tx)
    .await;
    match claimed {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(StoreError::Database(e)),
    }
}

/// Reserves a serial of `counter` inside `tx`: the lowest one given back or lapsed, else
/// the counter's next value.
async fn reserve_in(
    tx: &mut Transaction<'static, Any>,
    counter: &str,
    holder: &str,
    until: i64,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    // On PostgreSQL another node may take the lowest free serial between the subquery and
    // the update; the update then re-checks the row, changes nothing, and this reservation
    // takes the counter's next value instead (the free one stays free for the next).
    let taken = sqlx::query(
        "UPDATE serial_reservations SET holder = $2, reserved_until = $3 \
         WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4) AND value = \
         (SELECT MIN(value) FROM serial_reservations \
          WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4)) \
         RETURNING value",
    )
    .bind(counter)
    .bind(holder)
    .bind(until)
    .bind(ts(now))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = taken {
        return unsigned("serial", row.try_get("value")?);
    }
    let row = sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
    )
    .bind(counter)
    .fetch_one(&mut **tx)
    .await?;
    let value: i64 = row.try_get("value")?;
    sqlx::query(
        "INSERT INTO serial_reservations (counter, value, holder, reserved_until) VALUES ($1, $2, $3, $4)",
    )
    .bind(counter)
    .bind(value)
    .bind(holder)
    .bind(until)
    .execute(&mut **tx)
    .await?;
    unsigned("counter", value)
}

/// What a combined store of a licence answers when a concurrent request with the same
/// idempotency key stored first (its savepoint is rolled back; the caller replays).
const KEY_TAKEN: &str = "\u{0}the idempotency key was taken by a concurrent request";

/// Stores a built licence inside `tx` (see [`IssuingStore::store_licence`]).
async fn store_in(
    tx: &mut Transaction<'static, Any>,
    reservation: Option<&SerialReservation>,
    idempotency: Option<&IdempotencyClaim>,
    l: &NewLicence,
) -> Result<(), StoreError> {
    if let Some(r) = reservation {
        end_reservation(tx, r).await?;
    }
    if let Some(old) = &l.replaces {
        supersede(tx, old, l).await?;
    }
    insert_licence(tx, l).await?;
    if let Some(claim) = idempotency
        && !claim_key(tx, claim, l).await?
    {
        return Err(StoreError::Conflict(KEY_TAKEN.into()));
    }
    Ok(())
}

#[async_trait]
impl IssuingStore for SqlStore {
    async fn replay_issue(&self, claim: &IdempotencyClaim) -> Result<Option<LicenceRow>, StoreError> {
        let row =
            sqlx::query("SELECT request_hash, licence_id FROM idempotency WHERE client_id = $1 AND key = $2")
                .bind(&claim.client_id)
                .bind(&claim.key)
                .fetch_optional(&self.pool)
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
        self.licence(&id).await?.map(Some).ok_or_else(|| StoreError::Corrupt(format!("licence {id} missing")))
    }

    async fn reserve_serial(
        &self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, StoreError> {
        let holder = reservation_holder()?;
        let until = ts(now + SERIAL_LEASE);
        let (name, who) = (counter.to_owned(), holder.clone());
        let value = self
            .combiner
            .write(move |tx| Box::pin(async move { reserve_in(tx, &name, &who, until, now).await }))
            .await?;
        Ok(SerialReservation { counter: counter.to_owned(), value, holder })
    }

    async fn release_serial(&self, r: &SerialReservation) -> Result<(), StoreError> {
        let value = signed("serial", r.value)?;
        let _turn = self.writer.enter().await;
        sqlx::query(
            "UPDATE serial_reservations SET holder = NULL, reserved_until = NULL \
             WHERE counter = $1 AND value = $2 AND holder = $3",
        )
        .bind(&r.counter)
        .bind(value)
        .bind(&r.holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn store_licence(
        &self,
        reservation: Option<&SerialReservation>,
        idempotency: Option<&IdempotencyClaim>,
        l: NewLicence,
    ) -> Result<IssueOutcome, StoreError> {
        let (r, claim) = (reservation.cloned(), idempotency.cloned());
        let stored = self
            .combiner
            .write(move |tx| {
                Box::pin(async move {
                    store_in(tx, r.as_ref(), claim.as_ref(), &l).await?;
                    Ok(l)
                })
            })
            .await;
        match (stored, idempotency) {
            (Ok(l), _) => Ok(IssueOutcome::Issued(LicenceRow {
                licence: l,
                status: LicenceStatus::Valid,
                superseded_by: None,
            })),
            // A concurrent retry with the same key won: answer with its licence.
            (Err(StoreError::Conflict(m)), Some(claim)) if m == KEY_TAKEN => match self
                .replay_issue(claim)
                .await?
            {
                Some(row) => Ok(IssueOutcome::Replayed(row)),
                None => Err(StoreError::Conflict("concurrent request with the same Idempotency-Key".into())),
            },
            (Err(e), _) => Err(e),
        }
    }
}
