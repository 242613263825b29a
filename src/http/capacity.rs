//! Capacity of its own for each kind of traffic: public requests (`/v/`, `POST
//! /api/v1/verify`, `/pki/*`, the OpenAPI document) and authenticated `/api/v1/*` work each
//! pass their own gate, so that a flood of public requests cannot take the capacity that
//! issuing needs. A gate serves so many requests at once, lets a bounded number wait for a
//! short time, and answers 503 `busy` (with `Retry-After`) to the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::ApiError;

/// Requests one gate lets wait per request it serves at once.
const WAITING_PER_PERMIT: usize = 8;

/// A concurrency limit with a bounded, short queue.
#[derive(Debug)]
pub struct Gate {
    name: &'static str,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
}

impl Gate {
    /// Serves `concurrency` requests at once; up to `WAITING_PER_PERMIT` times as many wait at
    /// most `wait` for their turn.
    pub fn new(name: &'static str, concurrency: u32, wait: Duration) -> Arc<Self> {
        let concurrency = usize::try_from(concurrency.max(1)).unwrap_or(1);
        Arc::new(Self {
            name,
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            max_waiting: concurrency.saturating_mul(WAITING_PER_PERMIT),
            wait,
        })
    }

    fn busy(&self) -> Response {
        tracing::debug!(gate = self.name, "gate full; answering 503");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "the service is busy; try again shortly")
            .with_retry_after(1)
            .into_response()
    }
}

/// Middleware: runs the request inside `gate`, or answers 503 `busy`.
pub async fn gated(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let permit = match gate.permits.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            if gate.waiting.fetch_add(1, Ordering::AcqRel) >= gate.max_waiting {
                gate.waiting.fetch_sub(1, Ordering::AcqRel);
                return gate.busy();
            }
            let waited = tokio::time::timeout(gate.wait, gate.permits.clone().acquire_owned()).await;
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
            match waited {
                Ok(Ok(permit)) => permit,
                _ => return gate.busy(),
            }
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}
