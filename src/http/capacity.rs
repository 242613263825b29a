//! Capacity of its own for each kind of traffic: public requests (`/v/`, `POST
//! /api/v1/verify`, `/pki/*`, the OpenAPI document) and authenticated `/api/v1/*` work each
//! pass their own gate, so that a flood of public requests cannot take the capacity that
//! issuing needs. A gate serves so many requests at once, lets a bounded number wait for a
//! short time, and answers 503 `busy` (with `Retry-After`) to the rest. A request body is
//! read before its request queues ([`read_body_first`]), so that a client sending its body
//! slowly holds no slot.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
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

/// Middleware: reads the whole body (at most `limit` bytes, else 413 `payload_too_large`)
/// before the next layer runs.
pub async fn read_body_first(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is larger than {limit} bytes (PDFs at most {} MB) or could not be read",
                crate::platform::MAX_VERIFY_PDF_BYTES / (1024 * 1024)
            ),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_full_gate_queues_a_few_then_answers_busy() {
        let gate = Gate::new("test", 1, Duration::from_millis(1500));
        let app: Router = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_millis(400)).await }))
            .route_layer(axum::middleware::from_fn_with_state(gate, gated));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let app = app.clone();
            set.spawn(async move {
                let r = app.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
                (r.status(), r.headers().contains_key("retry-after"))
            });
        }
        let mut statuses = Vec::new();
        while let Some(r) = set.join_next().await {
            statuses.push(r.unwrap());
        }
        let ok = statuses.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        let busy: Vec<_> = statuses.iter().filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE).collect();
        // One at a time, 400 ms each: the one served, and those of the 8 waiting that get
        // their turn within 1.5 s; the 3 beyond the queue at once.
        assert!((3..=5).contains(&ok), "{statuses:?}");
        assert_eq!(ok + busy.len(), 12, "{statuses:?}");
        assert!(busy.iter().all(|(_, retry)| *retry), "{statuses:?}");
    }
}
