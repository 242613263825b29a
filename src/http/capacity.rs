//! Capacity of its own for each kind of traffic: public requests (`/v/`, `POST
//! /api/v1/verify`, `/pki/*`, the OpenAPI document) and authenticated `/api/v1/*` work each
//! pass their own gate, so that a flood of public requests cannot take the capacity that
//! issuing needs. A gate serves so many requests at once, lets a bounded number wait for a
//! short time, and answers 503 `busy` (with `Retry-After`) to the rest. A request body is
//! read before its request queues ([`read_body_first`]), so that a client sending its body
//! slowly holds no slot.
//!
//! Two more defences keep a public flood from taking the CPU that issuing needs:
//! - public requests run on a [`LowPriorityPool`], threads of a lower scheduling priority
//!   (`public_nice`), so that the kernel serves issuing first when both want the CPU, and
//!   public work still has every core when issuing is idle;
//! - a public refusal (503 `busy`, 429 `rate_limited`) is paced: it is answered after
//!   `refusal_delay_ms`, so that a client that retries at once (a flood) waits instead of
//!   spinning the service on cheap refusals.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::error::ApiError;

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
    /// How long a refusal waits before it is answered.
    refusal_delay: Duration,
    /// Where admitted requests run; `None`: on the caller's task.
    pool: Option<&'static LowPriorityPool>,
}

impl Gate {
    /// Serves `concurrency` requests at once; up to `WAITING_PER_PERMIT` times as many wait at
    /// most `wait` for their turn. Refusals are answered at once; requests run in place.
    pub fn new(name: &'static str, concurrency: u32, wait: Duration) -> Arc<Self> {
        Self::paced(name, concurrency, wait, Duration::ZERO, None)
    }

    /// As [`Gate::new`], with refusals answered after `refusal_delay` and admitted requests
    /// run on `pool`.
    pub fn paced(
        name: &'static str,
        concurrency: u32,
        wait: Duration,
        refusal_delay: Duration,
        pool: Option<&'static LowPriorityPool>,
    ) -> Arc<Self> {
        let concurrency = usize::try_from(concurrency.max(1)).unwrap_or(1);
        Arc::new(Self {
            name,
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: AtomicUsize::new(0),
            max_waiting: concurrency.saturating_mul(WAITING_PER_PERMIT),
            wait,
            refusal_delay,
            pool,
        })
    }

    async fn busy(&self) -> Response {
        tracing::debug!(gate = self.name, "gate full; answering 503");
        tokio::time::sleep(self.refusal_delay).await;
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
                return gate.busy().await;
            }
            let waited = tokio::time::timeout(gate.wait, gate.permits.clone().acquire_owned()).await;
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
            match waited {
                Ok(Ok(permit)) => permit,
                _ => return gate.busy().await,
            }
        }
    };
    let response = match gate.pool {
        Some(pool) => pool.run(next.run(request)).await,
        None => next.run(request).await,
    };
    drop(permit);
    response
}

/// Threads at a lower scheduling priority for public work. One per process (a runtime
/// that lives as long as the process, so that database connections opened on it stay
/// usable by the rest of the service); the first caller's settings make it.
#[derive(Debug)]
pub struct LowPriorityPool {
    runtime: tokio::runtime::Runtime,
    nice: i32,
}

static POOL: OnceLock<Option<LowPriorityPool>> = OnceLock::new();

impl LowPriorityPool {
    /// The process's pool, made with `threads` threads at `nice` on first use; `None` when
    /// `nice` is 0 (public work runs in place) or the threads cannot be made.
    pub fn shared(threads: usize, nice: u32) -> Option<&'static Self> {
        POOL.get_or_init(|| {
            let nice = i32::try_from(nice).ok().filter(|n| *n > 0)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .thread_name("zz-public")
                .on_thread_start(move || crate::platform::lower_thread_priority(nice))
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => Some(Self { runtime, nice }),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the public work threads; public work runs in place");
                    None
                }
            }
        })
        .as_ref()
    }

    /// The `nice` value of the pool's threads.
    pub fn nice(&self) -> i32 {
        self.nice
    }

    /// Runs `work` on the pool; dropping the returned future cancels it there too.
    pub async fn run<F>(&self, work: F) -> Response
    where
        F: std::future::Future<Output = Response> + Send + 'static,
    {
        use tracing::Instrument;
        let task = self.runtime.spawn(work.in_current_span());
        let _cancel = AbortOnDrop(task.abort_handle());
        match task.await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "a public request's task ended without an answer");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response()
            }
        }
    }
}

/// Aborts a task when the request that waits for it is dropped (timed out, disconnected).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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

    #[tokio::test]
    async fn a_paced_gate_answers_its_refusals_late() {
        let gate = Gate::paced("test", 1, Duration::from_millis(50), Duration::from_millis(300), None);
        let app: Router = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(Duration::from_millis(2000)).await }))
            .route_layer(axum::middleware::from_fn_with_state(gate, gated));
        let held = tokio::spawn(app.clone().oneshot(Request::get("/slow").body(Body::empty()).unwrap()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let r = app.oneshot(Request::get("/slow").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        // 50 ms of waiting for a slot, then 300 ms before the refusal is sent.
        assert!(started.elapsed() >= Duration::from_millis(350), "{:?}", started.elapsed());
        held.abort();
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn public_work_runs_on_threads_of_lower_priority() {
        let Some(pool) = LowPriorityPool::shared(2, 7) else { panic!("the pool must start") };
        let nice = pool.nice();
        let seen = pool
            .run(async {
                let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
                let name = std::thread::current().name().map(str::to_owned);
                format!("{nice} {name:?}").into_response()
            })
            .await;
        let body = axum::body::to_bytes(seen.into_body(), 1024).await.unwrap();
        assert_eq!(std::str::from_utf8(&body).unwrap(), format!("{nice} Some(\"zz-public\")"));
        assert!(nice > 0);
        // This test's own thread keeps its priority.
        assert_eq!(rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap(), 0);
    }
}
