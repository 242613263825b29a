//! The register service that other departments rely on (电子证照互认): reads, listings
//! and yes/no checks with a stated purpose and a legal basis (`basis.rs`), status changes
//! (`status.rs`), a licence's history, and an access log entry for every one of them —
//! refusals included (`access.rs`). The API views are in `views.rs`.

mod access;
mod basis;
mod grants;
mod reads;
mod status;
mod views;

use std::sync::Arc;

use time::Duration;

use crate::config::Config;
use crate::licence::Catalogue;
use crate::store::Store;

use super::accesslog::AccessLogWriter;
pub use access::{Access, Basis};
pub(super) use basis::code_hash;
pub use views::{
    AuthorisationRequest, AuthorisationView, CheckRequest, CheckResult, LicenceView, StatusView,
    effective_status,
};

/// Which signed original a reader asks for ([`Register::read_original`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Original {
    /// The signed PDF (`GET /api/v1/licences/{id}/pdf`).
    Pdf,
    /// The signed OFD (`GET /api/v1/licences/{id}/ofd`).
    Ofd,
}

impl Original {
    /// The access log's action for reading it.
    pub fn action(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Ofd => "ofd",
        }
    }
}

/// Default lifetime of a holder authorisation.
pub const DEFAULT_AUTHORISATION_TTL: Duration = Duration::minutes(10);
/// Longest lifetime of a holder authorisation.
pub const MAX_AUTHORISATION_TTL: Duration = Duration::days(30);

/// Reads, checks and status changes of the register, each logged.
#[derive(Debug, Clone)]
pub struct Register {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    catalogue: Arc<Catalogue>,
    access_log: AccessLogWriter,
    /// Makes deferred documents on first download.
    issuing: super::Issuing,
}

impl Register {
    pub(super) fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        catalogue: Arc<Catalogue>,
        access_log: AccessLogWriter,
        issuing: super::Issuing,
    ) -> Self {
        Self { store, config, catalogue, access_log, issuing }
    }
}
