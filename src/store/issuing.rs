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
use super::sql::{SqlStore, insert_rows, is_unique_violation, placeholder_list, signed, ts, unsigned};
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

impl IdempotencyClaim {
    /// Whether the stored row of this key (its `request_hash` column) is of the same request;
    /// conflict if the key was used for another `what` (a request, a bundle request).
    pub(super) fn matches(&self, row: &sqlx::any::AnyRow, what: &str) -> Result<(), StoreError> {
        let hash: Vec<u8> = row.try_get("request_hash")?;
        if hash != self.request_hash {
            return Err(StoreError::Conflict(format!(
                "Idempotency-Key {:?} was used for a different {what}",
                self.key
            )));
        }
        Ok(())
    }
}

/// How long a reserved serial stays reserved. A licence is built in milliseconds; a
/// reservation left by a process that died mid-build is handed out again after this.
pub const SERIAL_LEASE: time::Duration = time::Duration::minutes(10);

/// Most serials one [`IssuingStore::reserve_serials`] call reserves.
pub const MAX_SERIAL_BLOCK: u64 = 10_000;

/// Rows per multi-row insert of serial reservations (4 parameters each, well under
/// SQLite's limit of parameters per statement).
const RESERVATION_ROWS: usize = 500;

/// A serial reserved for a licence being built (see [`IssuingStore::reserve_serials`]).
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
    /// Reserves a block of `count` serials of the named counter (1 to
    /// [`MAX_SERIAL_BLOCK`]) in one transaction, each until `now` + [`SERIAL_LEASE`], for
    /// licences about to be built: the lowest given back (or whose reservation lapsed)
    /// first, then the counter's next values. The database hands them out, so concurrent
    /// reservations on several nodes never share a serial. Each is ended (its licence
    /// stored) or given back on its own; a process that dies leaves them to lapse and be
    /// handed out again, never a hole.
    async fn reserve_serials(
        &self,
        counter: &str,
        count: u64,
        now: OffsetDateTime,
    ) -> Result<Vec<SerialReservation>, StoreError>;
    /// Gives reserved serials back (their licences were not stored) in one transaction,
    /// to be handed out again before the counter moves on. Does nothing for a reservation
    /// no longer held.
    async fn release_serials(&self, reservations: &[SerialReservation]) -> Result<(), StoreError>;
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
    end_reservations(tx, &[r]).await
}

/// Serial reservations one statement ends at most.
const RESERVATIONS_PER_DELETE: usize = 500;

/// Ends serial reservations inside `tx`, one statement per counter and holder (a batch's
/// serials mostly share both); conflict if one of them lapsed and was handed out again.
pub(super) async fn end_reservations(
    tx: &mut Transaction<'static, Any>,
    reservations: &[&SerialReservation],
) -> Result<(), StoreError> {
    let mut groups: Vec<((&str, &str), Vec<u64>)> = Vec::new();
    for r in reservations {
        let key = (r.counter.as_str(), r.holder.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(r.value),
            None => groups.push((key, vec![r.value])),
        }
    }
    for ((counter, holder), values) in &groups {
        for chunk in values.chunks(RESERVATIONS_PER_DELETE) {
            let sql = format!(
                "DELETE FROM serial_reservations WHERE counter = $1 AND holder = $2 AND value IN ({})",
                placeholder_list(3, chunk.len())
            );
            // Only placeholders are formatted in; the values are bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(*counter).bind(*holder);
            for value in chunk {
                query = query.bind(signed("serial", *value)?);
            }
            let done = query.execute(&mut **tx).await?;
            if done.rows_affected() != chunk.len() as u64 {
                return Err(StoreError::Conflict(match chunk {
                    [one] => format!("the reservation of serial {one} lapsed before the licence was stored"),
                    _ => format!(
                        "{} of {} serial reservations of {counter} lapsed before the licences were stored",
                        chunk.len() as u64 - done.rows_affected(),
                        chunk.len()
                    ),
                }));
            }
        }
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
    insert_licences(tx, &[l]).await
}

/// Licences one INSERT writes at most: 23 parameters each, well under either database's
/// limit of parameters per statement, and a few MB of documents.
const LICENCES_PER_INSERT: usize = 32;

/// Columns of a licence row ([`licence_columns`]).
const LICENCE_COLUMNS: usize = 23;

/// Columns of a licence event row.
const EVENT_COLUMNS: usize = 8;

/// Events one INSERT writes at most (8 parameters each).
const EVENTS_PER_INSERT: usize = 500;

/// Inserts new licences and each one's first event inside `tx`, several rows a statement;
/// conflict if one of them exists already.
pub(super) async fn insert_licences(
    tx: &mut Transaction<'static, Any>,
    licences: &[&NewLicence],
) -> Result<(), StoreError> {
    let insert = concat!("INSERT INTO licences (", licence_columns!(), ") VALUES");
    let written = insert_rows(tx, insert, (LICENCE_COLUMNS, LICENCES_PER_INSERT), licences, |query, l| {
        let (pdf, document, ofd, deferred) = document_columns(&l.document);
        Ok(query
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
            .bind(l.valid_until.as_deref())
            .bind(l.record_cbor.as_slice())
            .bind(l.record_hash.as_slice())
            .bind(l.token.as_slice())
            .bind(pdf)
            .bind(l.replaces.as_deref())
            .bind(l.client_id.as_deref())
            .bind(document)
            .bind(ofd)
            .bind(l.ofd_seal_id.as_deref())
            .bind(deferred))
    })
    .await;
    match written {
        Err(StoreError::Database(e)) if is_unique_violation(&e) => {
            let (first, last) =
                (licences.first().map_or("", |l| &l.id), licences.last().map_or("", |l| &l.id));
            return Err(StoreError::Conflict(if first == last {
                format!("licence {first} exists already")
            } else {
                format!("one of licences {first} to {last} exists already")
            }));
        }
        other => other?,
    }
    // A new licence has no events: its first is number 1.
    let insert = "INSERT INTO licence_events (licence_id, seq, at, kind, from_status, to_status, reason, actor) VALUES";
    insert_rows(tx, insert, (EVENT_COLUMNS, EVENTS_PER_INSERT), licences, |query, l| {
        let event = first_event(l);
        Ok(query
            .bind(&l.id)
            .bind(1i64)
            .bind(ts(event.at))
            .bind(event.kind)
            .bind(None::<String>)
            .bind(event.to_status.code())
            .bind(event.reason)
            .bind(event.actor))
    })
    .await
}

/// A new licence's first event: issued, or a renewal of the licence it replaces.
fn first_event(l: &NewLicence) -> LicenceEvent {
    LicenceEvent {
        seq: 1,
        at: l.issued_at,
        kind: if l.replaces.is_some() { "renewal" } else { "issued" }.into(),
        from_status: None,
        to_status: LicenceStatus::Valid,
        reason: l.replaces.as_ref().map_or_else(|| "issued".to_owned(), |old| format!("replaces {old}")),
        actor: actor(l),
    }
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

/// Gives a reserved serial back inside `tx`: it is handed out again before the counter
/// moves on. Does nothing if the reservation is no longer held.
pub(super) async fn give_back(
    tx: &mut Transaction<'static, Any>,
    r: &SerialReservation,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE serial_reservations SET holder = NULL, reserved_until = NULL \
         WHERE counter = $1 AND value = $2 AND holder = $3",
    )
    .bind(&r.counter)
    .bind(signed("serial", r.value)?)
    .bind(&r.holder)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Reserves, inside `tx`, up to `count` serials of `counter` that were given back or lapsed,
/// lowest first, for `holder` until `until`.
async fn take_free_serials(
    tx: &mut Transaction<'static, Any>,
    counter: &str,
    count: u64,
    (holder, until, now): (&str, i64, OffsetDateTime),
) -> Result<Vec<u64>, StoreError> {
    // The outer condition re-checks each row: a concurrent reserver on another node that
    // took one of them first leaves it out, and this block is then smaller.
    let rows = sqlx::query(
        "UPDATE serial_reservations SET holder = $2, reserved_until = $3 \
         WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4) AND value IN \
         (SELECT value FROM serial_reservations WHERE counter = $1 AND (holder IS NULL OR reserved_until < $4) \
          ORDER BY value LIMIT $5) RETURNING value",
    )
    .bind(counter)
    .bind(holder)
    .bind(until)
    .bind(ts(now))
    .bind(signed("serial block", count)?)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|row| unsigned("serial", row.try_get("value")?)).collect()
}

/// Moves `counter` on by `count` inside `tx` and reserves the new values for `holder`
/// until `until`; returns them.
async fn take_next_serials(
    tx: &mut Transaction<'static, Any>,
    counter: &str,
    count: u64,
    (holder, until): (&str, i64),
) -> Result<Vec<u64>, StoreError> {
    let step = signed("serial block", count)?;
    let row = sqlx::query(
        "INSERT INTO counters (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = counters.value + $2 RETURNING value",
    )
    .bind(counter)
    .bind(step)
    .fetch_one(&mut **tx)
    .await?;
    let last = unsigned("counter", row.try_get("value")?)?;
    let first = (last + 1)
        .checked_sub(count)
        .filter(|f| *f >= 1)
        .ok_or_else(|| StoreError::Corrupt(format!("counter {counter} at {last}")))?;
    let values: Vec<u64> = (first..=last).collect();
    let insert = "INSERT INTO serial_reservations (counter, value, holder, reserved_until) VALUES";
    insert_rows(tx, insert, (4, RESERVATION_ROWS), &values, |query, value| {
        Ok(query.bind(counter).bind(signed("serial", *value)?).bind(holder).bind(until))
    })
    .await?;
    Ok(values)
}

/// Reserves `count` serials of `counter` inside `tx` for `holder` until `until`: those given
/// back or lapsed first, lowest first, then the counter's next values; in ascending order.
async fn reserve_in(
    tx: &mut Transaction<'static, Any>,
    counter: &str,
    count: u64,
    (holder, until, now): (&str, i64, OffsetDateTime),
) -> Result<Vec<u64>, StoreError> {
    let mut values = take_free_serials(tx, counter, count, (holder, until, now)).await?;
    let rest = count - values.len() as u64;
    if rest > 0 {
        values.extend(take_next_serials(tx, counter, rest, (holder, until)).await?);
    }
    values.sort_unstable();
    Ok(values)
}

/// What a combined store of a licence answers when a concurrent request with the same
/// idempotency key stored first (its savepoint is rolled back; the caller replays).
const KEY_TAKEN: &str = "\u{0}the idempotency key was taken by a concurrent request";

/// Stores a built licence inside `tx` (see [`IssuingStore::store_licence`]).
pub(super) async fn store_in(
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

/// Stores several built licences inside `tx` in a few statements for all of them (see
/// [`super::combine`]): reservations ended together, licences, first events and
/// idempotency keys several rows a statement. Any failure (a key taken, a reservation
/// lapsed, a version replaced twice) fails the lot; the caller then stores each alone.
pub(super) async fn store_many(
    tx: &mut Transaction<'static, Any>,
    writes: &[&super::combine::LicenceWrite],
) -> Result<(), StoreError> {
    let reservations: Vec<&SerialReservation> =
        writes.iter().filter_map(|w| w.reservation.as_ref()).collect();
    end_reservations(tx, &reservations).await?;
    for w in writes {
        if let Some(old) = &w.licence.replaces {
            supersede(tx, old, &w.licence).await?;
        }
    }
    let licences: Vec<&NewLicence> = writes.iter().map(|w| &w.licence).collect();
    insert_licences(tx, &licences).await?;
    let claims: Vec<(&IdempotencyClaim, &NewLicence)> =
        writes.iter().filter_map(|w| w.claim.as_ref().map(|c| (c, &w.licence))).collect();
    let insert = "INSERT INTO idempotency (client_id, key, request_hash, licence_id, created_at) VALUES";
    insert_rows(tx, insert, (5, KEYS_PER_INSERT), &claims, |query, (claim, l)| {
        Ok(query
            .bind(&claim.client_id)
            .bind(&claim.key)
            .bind(claim.request_hash.as_slice())
            .bind(&l.id)
            .bind(ts(l.issued_at)))
    })
    .await
}

/// Idempotency keys one INSERT writes at most (5 parameters each).
const KEYS_PER_INSERT: usize = 500;

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
        claim.matches(&row, "request")?;
        let id: String = row.try_get("licence_id")?;
        self.licence(&id).await?.map(Some).ok_or_else(|| StoreError::Corrupt(format!("licence {id} missing")))
    }

    async fn reserve_serials(
        &self,
        counter: &str,
        count: u64,
        now: OffsetDateTime,
    ) -> Result<Vec<SerialReservation>, StoreError> {
        if !(1..=MAX_SERIAL_BLOCK).contains(&count) {
            return Err(StoreError::Conflict(format!(
                "a block of {count} serials: reserve 1 to {MAX_SERIAL_BLOCK}"
            )));
        }
        let holder = reservation_holder()?;
        let until = ts(now + SERIAL_LEASE);
        let (name, who) = (counter.to_owned(), holder.clone());
        let values = self
            .combiner
            .write(move |tx| Box::pin(async move { reserve_in(tx, &name, count, (&who, until, now)).await }))
            .await?;
        Ok(values
            .into_iter()
            .map(|value| SerialReservation { counter: counter.to_owned(), value, holder: holder.clone() })
            .collect())
    }

    async fn release_serials(&self, reservations: &[SerialReservation]) -> Result<(), StoreError> {
        if reservations.is_empty() {
            return Ok(());
        }
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        for r in reservations {
            give_back(&mut tx, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn store_licence(
        &self,
        reservation: Option<&SerialReservation>,
        idempotency: Option<&IdempotencyClaim>,
        l: NewLicence,
    ) -> Result<IssueOutcome, StoreError> {
        let write = super::combine::LicenceWrite {
            reservation: reservation.cloned(),
            claim: idempotency.cloned(),
            licence: l,
        };
        let stored = self.combiner.store_licence(write).await;
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
