//! The HTTP server around [`crate::http::app`]: a tokio accept loop that caps open
//! connections (in total and per client address), closes connections that are slow to
//! send their headers or sit idle, records each peer address for the rate limits, keeps
//! CRLs fresh, and shuts down gracefully (requests in flight finish).
//!
//! [`run`] serves a platform on a listener; [`Service`] is what `zhengzhao serve` starts:
//! the platform opened (a demo one on an empty data directory), its keys checked, the
//! access log's checkpoints signed while it serves.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::config::Config;
use crate::netrange::{AddrRange, canonical};
use crate::pki::Algorithm;
use crate::platform::{self, AuditSigner, Platform, PlatformError};
use crate::store::SealRecord;

/// Most header fields hyper parses (16 times the service's own limit).
pub const HYPER_MAX_HEADERS: usize = 16 * crate::http::MAX_HEADER_COUNT;
/// Largest request head hyper buffers, in bytes (16 times the service's own limit).
pub const HYPER_MAX_BUF: usize = 16 * crate::http::MAX_HEADER_BYTES;

/// How long a graceful shutdown waits for requests in flight beyond the request timeout.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The connection limits in force.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send a request's headers, counted from its first byte.
    pub header_timeout: Duration,
    /// Time a connection may sit without a request.
    pub idle_timeout: Duration,
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections per client address.
    pub max_per_address: usize,
    /// Of `max_connections`, those held back for addresses from which an API client has
    /// authenticated recently.
    pub api_reserved: usize,
    /// Peers exempt from the per-address cap (reverse proxies).
    pub trusted_proxies: Vec<AddrRange>,
    /// How long shutdown waits for requests in flight.
    pub shutdown_wait: Duration,
}

impl Limits {
    /// The limits `config` sets.
    pub fn from_config(config: &Config) -> Self {
        let n = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        Self {
            header_timeout: Duration::from_secs(u64::from(config.header_timeout)),
            idle_timeout: Duration::from_secs(u64::from(config.idle_timeout)),
            max_connections: n(config.max_connections),
            max_per_address: n(config.max_connections_per_address),
            api_reserved: n(config.api_reserved_connections),
            trusted_proxies: config.trusted_proxies.clone(),
            shutdown_wait: Duration::from_secs(u64::from(config.request_timeout)) + SHUTDOWN_GRACE,
        }
    }
}

/// Serves `platform` on `listener` with the limits its configuration sets until
/// `shutdown` completes, then lets requests in flight finish. Keeps the CRLs fresh and
/// the stored PDFs' archive time-stamps renewed meanwhile.
pub async fn run(
    platform: Arc<Platform>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = Limits::from_config(&platform.config);
    let crls = tokio::spawn(refresh_crls(platform.clone()));
    let archive = tokio::spawn(platform.archive.clone().job());
    let app = crate::http::app(platform);
    let result = serve_app(listener, app, limits, shutdown).await;
    crls.abort();
    archive.abort();
    result
}

/// Serves `app` on `listener` with `limits` until `shutdown` completes.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let counts = Arc::new(Counts::default());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors or a connection reset before accept: wait a
                // moment instead of spinning, and go on.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = counts.admit(canonical(peer.ip()), &limits) else {
            tracing::debug!(peer = %peer.ip(), "connection cap reached; closing the new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, peer, app.clone(), limits.clone(), graceful.watcher(), slot));
        counts.forget_stale_api_peers();
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_wait, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight at the end of the shutdown wait; closing them");
    }
    Ok(())
}

/// One connection: HTTP/1.1 served by hyper, watched for slowness.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Arc<Limits>,
    watcher: hyper_util::server::graceful::Watcher,
    slot: Slot,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
    let service_activity = activity.clone();
    let counts = slot.counts.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let activity = service_activity.clone();
        activity.begin_request();
        let (app, counts) = (app.clone(), counts.clone());
        async move {
            let response = match app.oneshot(request.map(axum::body::Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<crate::http::Authenticated>().is_some() {
                counts.remember_api_peer(canonical(peer.ip()));
            }
            activity.end_request();
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog below enforces the header and idle timeouts; hyper's own header timer
    // would start while a keep-alive connection is merely idle.
    builder.timer(TokioTimer::new()).header_read_timeout(None::<Duration>);
    // hyper answers past its own limits itself, with an empty body; they sit far above the
    // service's (`crate::http::MAX_HEADER_COUNT`, `MAX_HEADER_BYTES`), which answer in the
    // API's error form. Its 64 KiB limit on the request target cannot be raised.
    builder.max_headers(HYPER_MAX_HEADERS).max_buf_size(HYPER_MAX_BUF);
    let conn = watcher.watch(builder.serve_connection(io, service));
    tokio::select! {
        result = conn => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        reason = watchdog(activity, limits.header_timeout, limits.idle_timeout) => {
            tracing::debug!(peer = %peer.ip(), reason, "closing a slow connection");
        }
    }
}

/// Resolves when the connection has been too slow sending headers or idle too long.
async fn watchdog(activity: Arc<Activity>, header_timeout: Duration, idle_timeout: Duration) -> &'static str {
    let header_ms = millis(header_timeout);
    let idle_ms = millis(idle_timeout);
    let tick = Duration::from_millis((header_ms.min(idle_ms) / 4).clamp(25, 1000));
    loop {
        tokio::time::sleep(tick).await;
        if activity.in_flight.load(Ordering::Acquire) > 0 {
            continue;
        }
        let now = activity.now();
        let head = activity.head_since.load(Ordering::Acquire);
        if head > 0 {
            if now.saturating_sub(head - 1) >= header_ms {
                return "header timeout";
            }
        } else if now.saturating_sub(activity.last.load(Ordering::Acquire)) >= idle_ms {
            return "idle timeout";
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What a connection did when, in milliseconds since it opened.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Last byte read or written.
    last: AtomicU64,
    /// 1 + when the first byte of a request head arrived; 0 when no head is pending.
    head_since: AtomicU64,
    /// Requests being answered.
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            last: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now(&self) -> u64 {
        millis(self.opened.elapsed())
    }

    fn read(&self) {
        let now = self.now();
        self.last.store(now, Ordering::Release);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self.head_since.compare_exchange(0, now + 1, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn wrote(&self) {
        self.last.store(self.now(), Ordering::Release);
    }

    fn begin_request(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
    }

    fn end_request(&self) {
        self.last.store(self.now(), Ordering::Release);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A TCP stream that reports its reads and writes to an [`Activity`].
#[derive(Debug)]
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How long an address counts as an API client's after its last authenticated request.
const API_PEER_TTL: Duration = Duration::from_secs(3600);
/// API client addresses remembered at most (the oldest is forgotten first).
const MAX_API_PEERS: usize = 4096;

/// Open connections, in all and by client address, and the addresses API clients
/// authenticated from recently.
#[derive(Debug, Default)]
struct Counts {
    by_address: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
    api_peers: Mutex<HashMap<IpAddr, Instant>>,
}

impl Counts {
    /// A slot for a connection from `address`, or `None` when a cap is reached. The last
    /// `api_reserved` slots are only for addresses API clients authenticated from.
    fn admit(self: &Arc<Self>, address: IpAddr, limits: &Limits) -> Option<Slot> {
        let ceiling = if self.is_api_peer(address) {
            limits.max_connections
        } else {
            limits.max_connections.saturating_sub(limits.api_reserved)
        };
        let Ok(mut by_address) = self.by_address.lock() else {
            // Poisoned: a panic elsewhere while holding the lock. Refuse rather than
            // count wrongly.
            return None;
        };
        if self.total.load(Ordering::Acquire) >= ceiling {
            return None;
        }
        let exempt = limits.trusted_proxies.iter().any(|r| r.contains(address));
        let open = by_address.entry(address).or_insert(0);
        if !exempt && *open >= limits.max_per_address {
            return None;
        }
        *open += 1;
        self.total.fetch_add(1, Ordering::AcqRel);
        Some(Slot { counts: self.clone(), address })
    }

    fn is_api_peer(&self, address: IpAddr) -> bool {
        self.api_peers
            .lock()
            .is_ok_and(|peers| peers.get(&address).is_some_and(|seen| seen.elapsed() < API_PEER_TTL))
    }

    /// Remembers that an API client authenticated from `address`.
    fn remember_api_peer(&self, address: IpAddr) {
        let Ok(mut peers) = self.api_peers.lock() else { return };
        if peers.len() >= MAX_API_PEERS && !peers.contains_key(&address) {
            let oldest = peers.iter().min_by_key(|(_, seen)| **seen).map(|(a, _)| *a);
            if let Some(oldest) = oldest {
                peers.remove(&oldest);
            }
        }
        peers.insert(address, Instant::now());
    }

    /// Forgets addresses not seen within [`API_PEER_TTL`] (cheap: only when many are held).
    fn forget_stale_api_peers(&self) {
        if let Ok(mut peers) = self.api_peers.lock()
            && peers.len() >= MAX_API_PEERS / 2
        {
            peers.retain(|_, seen| seen.elapsed() < API_PEER_TTL);
        }
    }
}

/// A counted open connection; dropping it frees the slot.
#[derive(Debug)]
struct Slot {
    counts: Arc<Counts>,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counts.total.fetch_sub(1, Ordering::AcqRel);
        if let Ok(mut by_address) = self.counts.by_address.lock()
            && let Some(open) = by_address.get_mut(&self.address)
        {
            *open -= 1;
            if *open == 0 {
                by_address.remove(&self.address);
            }
        }
    }
}

/// Keeps every root's CRL fresh, so that verifiers never see an expired one. A root that
/// an older data directory lacks (see [`crate::platform::Pki::missing_roots`]) has no CRL
/// to refresh: it is skipped, not reported every round.
pub async fn refresh_crls(platform: Arc<Platform>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let missing = match platform.pki.missing_roots().await {
            Ok(missing) => missing,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the roots to refresh their CRLs");
                continue;
            }
        };
        for alg in Algorithm::ALL.into_iter().filter(|a| !missing.contains(a)) {
            if let Err(e) = platform.pki.refresh_crl(alg, OffsetDateTime::now_utc()).await {
                tracing::error!(algorithm = %alg, error = %e, "cannot refresh the CRL");
            }
        }
    }
}

/// Resolves at Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

/// Why `zhengzhao serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The platform could not be opened or created.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The demo platform of an empty data directory could not be set up.
    #[error("initialising the demo platform")]
    Demo(#[source] PlatformError),
    /// A root or seal key cannot be read.
    #[error("checking the signing keys")]
    Keys(#[source] PlatformError),
    /// The GB/T 38540 seal maker cannot be prepared.
    #[error("preparing the electronic seal maker")]
    SealMaker(#[source] PlatformError),
    /// The time-stamping authority's units cannot be prepared.
    #[error("preparing the time-stamping authority")]
    Tsa(#[source] PlatformError),
    /// The access log's checkpoint signer cannot be prepared.
    #[error("preparing the access log checkpoint signer")]
    CheckpointSigner(#[source] PlatformError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {0}")]
    Listen(SocketAddr, #[source] io::Error),
}

/// The platform `zhengzhao serve` serves, and whether it was just made.
#[derive(Debug)]
pub struct Opened {
    /// The platform.
    pub platform: Platform,
    /// On an empty data directory: the demo seals of the demo platform made there
    /// (empty when the demo department existed already). `None` for an existing platform.
    pub demo_seals: Option<Vec<SealRecord>>,
}

/// Opens the platform of `config`; on an empty data directory without a database URL,
/// creates a demo platform with a demo department and seals first.
pub async fn open(
    config: Config,
    passphrase: Option<String>,
    now: OffsetDateTime,
) -> Result<Opened, StartError> {
    if platform::is_fresh(&config.data_dir) && config.database_url.is_empty() {
        let platform = Platform::create(config, passphrase).await?;
        let seals = platform.ensure_demo(now).await.map_err(StartError::Demo)?;
        Ok(Opened { platform, demo_seals: Some(seals) })
    } else {
        Ok(Opened { platform: Platform::open(config, passphrase).await?, demo_seals: None })
    }
}

/// A platform ready to serve: its signing keys readable and the access log's checkpoint
/// signer prepared, so that a broken key fails the start, not the first signature.
#[derive(Debug)]
pub struct Service {
    platform: Arc<Platform>,
    checkpoints: AuditSigner,
}

impl Service {
    /// Checks the platform's keys and prepares its checkpoint signer, its time-stamping
    /// units (made now on a data directory from before, or when the current one has used
    /// half its validity) and, with an SM2 root, its seal maker (made now on a data
    /// directory from before).
    pub async fn prepare(platform: Platform, now: OffsetDateTime) -> Result<Self, StartError> {
        let keys = platform.pki.check_keys().await.map_err(StartError::Keys)?;
        tracing::info!(keys, "signing keys readable");
        let missing = platform.pki.missing_roots().await.map_err(StartError::Keys)?;
        for alg in &missing {
            tracing::warn!(algorithm = %alg, "no {alg} root CA: run `zhengzhao init` to add it");
        }
        // A data directory made before GB/T 38540 seals gets its seal maker now.
        if !missing.contains(&Algorithm::Sm2) {
            platform.pki.seal_maker(now).await.map_err(StartError::SealMaker)?;
        }
        for algorithm in platform.tsa.prepare(now).await.map_err(StartError::Tsa)? {
            tracing::info!(algorithm = %algorithm, "made the {algorithm} time-stamping unit");
        }
        if platform.config.tsa_policy == crate::config::DEFAULT_TSA_POLICY {
            tracing::info!(
                "time-stamps name the policy anyPolicy ({}): set tsa_policy to your time-stamp policy's OID",
                crate::config::DEFAULT_TSA_POLICY
            );
        }
        // No import job runs before the service starts: one that ran is interrupted.
        match platform.store.interrupt_import_jobs(now).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                jobs = n,
                "import jobs interrupted by the last stop; post them again to resume"
            ),
            Err(e) => tracing::warn!("could not mark interrupted import jobs: {e}"),
        }
        let checkpoints = platform.audit.audit_signer(now).await.map_err(StartError::CheckpointSigner)?;
        Ok(Self { platform: Arc::new(platform), checkpoints })
    }

    /// The platform served.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Binds the configured listen address.
    pub async fn bind(&self) -> Result<TcpListener, StartError> {
        let listen = self.platform.config.listen;
        TcpListener::bind(listen).await.map_err(|e| StartError::Listen(listen, e))
    }

    /// Serves on `listener` as [`run`] does, signing a checkpoint of the access log every
    /// [`platform::CHECKPOINT_INTERVAL`] while entries arrive, until `shutdown` completes.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let checkpoints = tokio::spawn(
            self.platform.audit.clone().run_checkpoints(self.checkpoints, platform::CHECKPOINT_INTERVAL),
        );
        let result = run(self.platform, listener, shutdown).await;
        checkpoints.abort();
        result
    }
}
