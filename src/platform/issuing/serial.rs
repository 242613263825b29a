//! Licence serials for the licences being built: reserved in the store a block at a time
//! and kept in process ([`SerialPool`]), so that a licence waits for one database write
//! (its own) and not for a reservation of its own as well.
//!
//! Each serial is still a reservation the database holds (lease [`SERIAL_LEASE`]), so the
//! store's rules hold as before: no two nodes share a serial, a licence is stored only
//! with a reservation still held, and what a process held when it died lapses and is
//! handed out again — never a hole. A serial whose licence was not stored goes back to the
//! pool and is the next one handed out; what the pool holds when a command ends or the
//! server stops goes back to the store ([`super::Issuing::give_back_serials`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

use crate::store::{SERIAL_LEASE, SerialReservation, Store, StoreError};

/// Serials reserved at a time per counter. Small: what a process holds when it stops is
/// not handed out again until its lease lapses.
const BLOCK: u64 = 16;

/// How old a reservation the pool hands out may be: the rest of the lease is left for
/// building and storing its licence.
const HAND_OUT_WITHIN: time::Duration = time::Duration::seconds(SERIAL_LEASE.whole_seconds() / 2);

/// Reserved serials per counter, not yet handed out.
#[derive(Debug, Default)]
pub(super) struct SerialPool {
    /// Per counter: reservations and when they were made, highest serial first (the
    /// lowest is handed out first, from the end).
    queues: Mutex<HashMap<String, Vec<(SerialReservation, OffsetDateTime)>>>,
    /// Held while a block is reserved, so that concurrent requests wait for one block
    /// instead of reserving one each.
    refill: tokio::sync::Mutex<()>,
}

impl SerialPool {
    /// A serial of `counter` for a licence built at `now`: from the pool, else from a
    /// block reserved now.
    pub(super) async fn take(
        self: &Arc<Self>,
        store: &dyn Store,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<Reserved, StoreError> {
        if let Some(r) = self.pop(counter, now) {
            return Ok(r);
        }
        let _refill = self.refill.lock().await;
        if let Some(r) = self.pop(counter, now) {
            return Ok(r);
        }
        let block = store.reserve_serials(counter, BLOCK, now).await?;
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(counter.to_owned())
            .or_default()
            .extend(block.into_iter().map(|r| (r, now)));
        self.pop(counter, now).ok_or_else(|| StoreError::Corrupt("no serial reserved".into()))
    }

    /// The lowest pooled serial of `counter` reserved recently enough; older ones are
    /// dropped (their leases lapse, and the database hands them out again).
    fn pop(self: &Arc<Self>, counter: &str, now: OffsetDateTime) -> Option<Reserved> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = queues.get_mut(counter)?;
        queue.sort_by_key(|(r, _)| std::cmp::Reverse(r.value));
        while let Some((reservation, at)) = queue.pop() {
            // A block a request that started a moment later reserved is as good.
            if now - at < HAND_OUT_WITHIN {
                return Some(Reserved { pool: self.clone(), reservation, reserved_at: at, armed: true });
            }
        }
        None
    }

    /// Every pooled reservation, taken out of the pool.
    pub(super) fn drain(&self) -> Vec<SerialReservation> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        queues.drain().flat_map(|(_, queue)| queue.into_iter().map(|(r, _)| r)).collect()
    }

    fn give_back(&self, reservation: SerialReservation, reserved_at: OffsetDateTime) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        queues.entry(reservation.counter.clone()).or_default().push((reservation, reserved_at));
    }
}

/// A reserved serial that goes back to the pool unless its licence was stored: explicitly
/// on failure ([`Reserved::release`]), or when dropped half-way (client gone).
#[derive(Debug)]
pub(super) struct Reserved {
    pool: Arc<SerialPool>,
    pub(super) reservation: SerialReservation,
    reserved_at: OffsetDateTime,
    armed: bool,
}

impl Reserved {
    /// The licence was stored with this serial.
    pub(super) fn keep(mut self) {
        self.armed = false;
    }

    /// Gives the serial back, so the next licence of its counter takes it.
    pub(super) fn release(self) {
        // Dropping an armed reservation gives it back.
        drop(self);
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            self.pool.give_back(self.reservation.clone(), self.reserved_at);
        }
    }
}
