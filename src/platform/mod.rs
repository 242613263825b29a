//! The platform: the services the command line and the HTTP API share, built in one place
//! ([`Platform::create`], [`Platform::open`]) over one store and one key store. Each
//! service is a small type holding only what it needs:
//!
//! - [`Pki`] (`pki/`): the root CAs, departments and their seals, the roots' CRLs;
//! - [`Issuing`] (`issuing/`): policy, building and storing a licence;
//! - [`Register`] (`register/`): reads, checks, status changes, the access log entries;
//! - [`Holders`] (`holders.rs`): what holders do through their portals;
//! - [`Verification`] (`verification.rs`): the verification engine online, the trust list;
//! - [`Clients`] (`clients.rs`, `portals.rs`): API clients, holder portals, rate limits;
//! - [`Delegations`] (`delegations.rs`): departments' delegations to one-window clients;
//! - [`Audit`] (`audit.rs`): the access log's checkpoints and chain checks;
//! - [`TimeStamping`] (`tsa/`): the RFC 3161 time-stamping authority;
//! - [`Archive`] (`archive.rs`): archive renewal of the stored PDFs (PAdES B-LTA);
//! - [`Platform::ensure_demo`] (`demo.rs`): the demo departments and seals of a first start;
//! - [`import`]: bulk import of existing licences, from the command line or as HTTP jobs.
//!
//! This layer does the I/O (store, key files, clock); the domain modules it calls do none.
//! Policy the services apply (legal basis aside) lives with the domain types it judges:
//! [`crate::licence::LicenceStatus::can_become`], [`crate::licence::TypeScope`],
//! [`crate::licence::CheckClaims`].

mod accesslog;
mod archive;
mod audit;
mod checks;
mod clients;
mod delegations;
mod demo;
mod error;
mod holders;
pub mod import;
mod issuing;
mod limits;
mod lookup;
mod pki;
mod portals;
mod ratelimit;
mod register;
mod trust_cache;
mod tsa;
mod verification;

use std::path::Path;
use std::sync::Arc;

use crate::config::{CONFIG_FILE, Config};
use crate::keystore::KeyStore;
use crate::licence::Catalogue;
use crate::store::{SqlStore, Store};

pub use archive::{Archive, RENEW_AHEAD, RenewalProgress, RenewalReport};
pub use audit::{
    AUDIT_KEY, Audit, AuditOutcome, AuditSigner, CHECKPOINT_INTERVAL, audit_dir, read_checkpoint,
};
pub use clients::{ClientKey, Clients, PORTAL_KEY_PREFIX, Scope, has_scope, key_hash};
pub use delegations::{
    DelegationView, Delegations, MAX_DELEGATION_ITEMS, MAX_REVOKE_REASON, summary as delegation_summary,
};
pub use demo::{DEMO_DEPARTMENT, DEMO_DEPARTMENTS, DEMO_SEAL_NAME, DemoDepartment};
pub use error::{EntryProblem, PlatformError};
pub use holders::{HOLDER_ASSERTION_BASIS, HolderCall, HolderCaller, Holders};
pub use issuing::{
    BuildFailure, BulkIssuer, BulkItem, BulkJob, BundleContent, BundleEntry, BundleLicenceView,
    BundleRequest, BundleView, IssueRequest, IssuedBundle, IssuedLicence, Issuing, is_item_error,
    licence_page,
};
pub use limits::{MAX_IDEMPOTENCY_KEY, MAX_PAGE, MAX_PURPOSE};
pub use pki::{InitReport, Pki};
pub use portals::parse_portal_public_key;
pub use ratelimit::RateLimiter;
pub use register::{
    Access, AuthorisationRequest, AuthorisationView, Basis, CheckRequest, CheckResult, LicenceView, Original,
    Register, StatusView, effective_status,
};
pub use tsa::{ReservedStamper, TimeStamping, TsaReply, TsaUnitView};
pub use verification::{MAX_VERIFY_PDF_BYTES, TRUST_LIST_VALIDITY, TRUST_SET_TTL, Verification};

pub use crate::licence::CheckClaims;

/// The services, over one store and one key store.
#[derive(Debug, Clone)]
pub struct Platform {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// The register.
    pub store: Arc<dyn Store>,
    /// The private keys.
    pub keys: KeyStore,
    /// The licence types.
    pub catalogue: Arc<Catalogue>,
    /// Roots, departments, seals, CRLs.
    pub pki: Pki,
    /// Issuing licences.
    pub issuing: Issuing,
    /// Reads, checks and status changes of the register.
    pub register: Register,
    /// Holders acting through their portals.
    pub holders: Holders,
    /// Verification and the trust list.
    pub verification: Verification,
    /// API clients and holder portals.
    pub clients: Clients,
    /// Departments' delegations to other departments' clients.
    pub delegations: Delegations,
    /// The access log's checkpoints.
    pub audit: Audit,
    /// The time-stamping authority.
    pub tsa: TimeStamping,
    /// Archive renewal of the stored PDFs.
    pub archive: Archive,
}

impl Platform {
    /// Opens an initialised data directory; refuses a missing or empty one.
    pub async fn open(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        if !is_initialised(&config.data_dir) && config.database_url.is_empty() {
            return Err(PlatformError::NotInitialised(config.data_dir.clone()));
        }
        let platform = Self::connect(config, passphrase).await?;
        if platform.store.platform().await?.is_none() {
            return Err(PlatformError::NotInitialised(platform.config.data_dir.clone()));
        }
        Ok(platform)
    }

    /// Opens the data directory, creating it (mode 0700) if needed, without requiring
    /// an initialised platform. For `init` and the first start of `serve`.
    pub async fn create(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| PlatformError::Io(format!("cannot create {}: {e}", config.data_dir.display())))?;
        restrict_dir(&config.data_dir)?;
        Self::connect(config, passphrase).await
    }

    /// Builds every service over the store and key store of `config`.
    async fn connect(config: Config, passphrase: Option<String>) -> Result<Self, PlatformError> {
        let store: Arc<dyn Store> = Arc::new(SqlStore::connect(&config.effective_database_url()).await?);
        let keys = KeyStore::new(config.data_dir.join("keys"), passphrase);
        let catalogue = Arc::new(Catalogue::shipped().map_err(|e| PlatformError::Io(e.to_string()))?);
        let config = Arc::new(config);
        let access_log = accesslog::AccessLogWriter::start(store.clone());
        let trust = Arc::new(trust_cache::TrustCache::default());
        let rate = Arc::new(RateLimiter::new(config.rate_limit, config.rate_limit.saturating_mul(2)));
        let (s, c) = (&store, &config);
        let pki = Pki::new(s.clone(), keys.clone(), c.clone(), catalogue.clone(), trust.clone());
        let tsa = TimeStamping::new(s.clone(), keys.clone(), c.clone(), pki.clone());
        let issuing = Issuing::new(
            s.clone(),
            c.clone(),
            catalogue.clone(),
            pki.clone(),
            tsa.clone(),
            access_log.clone(),
        );
        let register =
            Register::new(s.clone(), c.clone(), catalogue.clone(), access_log.clone(), issuing.clone());
        let delegations = Delegations::new(s.clone(), catalogue.clone(), access_log.clone());
        Ok(Self {
            issuing,
            delegations,
            holders: Holders::new(s.clone(), register.clone()),
            register,
            verification: Verification::new(
                s.clone(),
                c.clone(),
                catalogue.clone(),
                keys.clone(),
                pki.clone(),
                trust,
            ),
            clients: Clients::new(s.clone(), catalogue.clone(), rate, access_log),
            audit: Audit::new(s.clone(), keys.clone(), config.data_dir.clone(), pki.clone()),
            tsa: tsa.clone(),
            archive: Archive::new(s.clone(), pki.clone(), tsa),
            pki,
            store,
            keys,
            catalogue,
            config,
        })
    }
}

/// Whether `dir` holds an initialised platform (a database or configuration file).
pub fn is_initialised(dir: &Path) -> bool {
    dir.join("zhengzhao.db").exists() || dir.join(CONFIG_FILE).exists()
}

/// Whether `dir` is missing or empty, i.e. safe for a first-run initialisation.
pub fn is_fresh(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

fn restrict_dir(dir: &Path) -> Result<(), PlatformError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| PlatformError::Io(format!("cannot restrict {}: {e}", dir.display())))
}

/// Sets this thread's `nice` value (Linux keeps one per thread): public work and the
/// rendering threads run below the service's other threads. Elsewhere, does nothing.
pub(crate) fn lower_thread_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        tracing::warn!(error = %e, nice, "cannot lower the priority of a work thread");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
