//! A licence serial reserved in the store for the licence being built.

use std::sync::Arc;

use crate::store::{SerialReservation, Store};

/// A reserved serial that goes back to the store unless its licence was stored: explicitly
/// on failure ([`Reserved::release`]), or, if the request is dropped half-way (client gone),
/// from a task spawned on drop.
#[derive(Debug)]
pub(super) struct Reserved {
    store: Arc<dyn Store>,
    pub(super) reservation: SerialReservation,
    armed: bool,
}

impl Reserved {
    pub(super) fn new(store: Arc<dyn Store>, reservation: SerialReservation) -> Self {
        Self { store, reservation, armed: true }
    }

    /// The licence was stored with this serial.
    pub(super) fn keep(mut self) {
        self.armed = false;
    }

    /// Gives the serial back now, so the next licence takes it. If the store cannot be
    /// reached, the reservation lapses and the serial is handed out again then.
    pub(super) async fn release(mut self) {
        self.armed = false;
        if let Err(e) = self.store.release_serial(&self.reservation).await {
            tracing::warn!(serial = self.reservation.value, "could not give back a serial: {e}");
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Without a runtime the lease lapses and the serial is handed out again then.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (store, reservation) = (self.store.clone(), self.reservation.clone());
            rt.spawn(async move {
                if let Err(e) = store.release_serial(&reservation).await {
                    tracing::warn!(serial = reservation.value, "could not give back a serial: {e}");
                }
            });
        }
    }
}
