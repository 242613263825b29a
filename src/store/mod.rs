//! The register's storage: one role trait per concern, combined into one [`Store`], and
//! one SQL implementation, [`SqlStore`], that runs on SQLite (the embedded default, WAL
//! mode) and on PostgreSQL, each with its own migration set. HTTP and CLI code hold an
//! `Arc<dyn Store>` and never know which database is behind it; a method of any role can
//! be called on it without importing that role.
//!
//! | Role | File | What it keeps |
//! |---|---|---|
//! | [`PkiStore`] | `pki.rs` | the platform row, roots and CRLs, departments, seals, counters |
//! | [`LicenceStore`] | `licences.rs` | licences, their history and status changes, listings |
//! | [`IssuingStore`] | `issuing.rs` | serial reservations, idempotency keys, storing a licence |
//! | [`BundleStore`] | `bundles.rs` | 一件事一次办 bundles: their licences stored at once, receipts |
//! | [`ClientStore`] | `clients.rs` | departments' API clients |
//! | [`DelegationStore`] | `delegations.rs` | departments' delegations to other departments' clients |
//! | [`AccessLogStore`] | `access_log.rs` | the hash-chained access log |
//! | [`AuthorisationStore`] | `authorisations.rs` | holders' authorisations |
//! | [`PortalStore`] | `portals.rs` | holder portals and the assertion ids they used |
//! | [`ArchiveStore`] | `archive.rs` | which PDFs need archive renewal, and their renewals |
//! | [`TsaStore`] | `tsa.rs` | the time-stamping authority's units and token serial numbers |
//! | [`ImportStore`] | `imports.rs` | bulk imports: source records → licences, import jobs |
//!
//! `sql.rs` holds the connection, the write gate and how values cross the driver;
//! `sqlite_file.rs` the database file's mode and pragmas; `error.rs` [`StoreError`].
//! Role files use `sql.rs` and `error.rs` (and `issuing.rs` uses `licences.rs`, `bundles.rs` uses
//! `issuing.rs`); none uses this file. `imports.rs` stores with the statements of `issuing.rs`.

mod access_log;
mod archive;
mod authorisations;
mod bundles;
mod clients;
mod combine;
mod delegations;
mod error;
mod imports;
mod issuing;
mod licences;
mod pki;
mod portals;
mod sql;
pub mod sqlite_file;
mod tsa;

use async_trait::async_trait;

pub use access_log::{AccessLogRow, AccessLogStore};
pub use archive::{ArchiveDue, ArchiveStore};
pub use authorisations::{AuthorisationRecord, AuthorisationStore};
pub use bundles::{BundleOutcome, BundleRecord, BundleRow, BundleStore, NewBundle};
pub use clients::{ClientRecord, ClientStore};
pub use delegations::{DelegationFilter, DelegationRecord, DelegationStore};
pub use error::StoreError;
pub use imports::{
    BatchOutcome, ImportCounts, ImportErrorLine, ImportJobRecord, ImportOrigin, ImportStore, ImportedLicence,
    MAX_JOB_ERRORS, PriorImport, imported_query,
};
pub use issuing::{
    IdempotencyClaim, IssueOutcome, IssuingStore, MAX_SERIAL_BLOCK, SERIAL_LEASE, SerialReservation,
};
pub use licences::{LicenceEvent, LicenceFilter, LicenceRow, LicenceStore, NewLicence};
pub use pki::{
    CrlRecord, Department, PkiStore, PlatformRecord, RootRecord, SealMakerRecord, SealRecord, SealStatus,
};
pub use portals::{PortalRecord, PortalStore};
pub use sql::{Backend, SqlStore};
pub use tsa::{MAX_TSA_SERIAL_BLOCK, TsaStore, TsaUnitRecord};

/// Everything the service keeps: every role, and the database's health. Implementations
/// must make each method atomic.
#[async_trait]
pub trait Store:
    PkiStore
    + LicenceStore
    + ArchiveStore
    + IssuingStore
    + BundleStore
    + ClientStore
    + DelegationStore
    + AccessLogStore
    + AuthorisationStore
    + PortalStore
    + TsaStore
    + ImportStore
    + Send
    + Sync
    + std::fmt::Debug
{
    /// Which database is behind the store.
    fn backend(&self) -> Backend;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The store's traits, for code that calls role methods on a concrete store
/// (`use zhengzhao::store::prelude::*`); an `Arc<dyn Store>` needs none of them.
pub mod prelude {
    pub use super::{
        AccessLogStore, ArchiveStore, AuthorisationStore, BundleStore, ClientStore, DelegationStore,
        ImportStore, IssuingStore, LicenceStore, PkiStore, PortalStore, Store, TsaStore,
    };
}
