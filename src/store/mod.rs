//! The register's storage behind one trait, [`Store`], with one SQL implementation that
//! runs on SQLite (the embedded default, WAL mode) and on PostgreSQL, each with its own
//! migration set. HTTP and CLI code hold an `Arc<dyn Store>` and never know which
//! database is behind it.

pub(crate) mod licences;
mod portals;
mod register;
mod sql;
pub mod sqlite_file;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::audit::AccessEntry;
use crate::codes::{AreaCode, Uscc};
use crate::licence::LicenceStatus;
use crate::pki::{Algorithm, RevocationReason};

pub use licences::{
    BuildError, ClientRecord, IdempotencyClaim, IssueOutcome, LicenceRow, NewLicence, SERIAL_LEASE,
    SerialReservation,
};
pub use portals::PortalRecord;
pub use register::{AccessLogRow, AuthorisationRecord, LicenceEvent, LicenceFilter};
pub use sql::{Backend, SqlStore};

/// The platform itself (one row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformRecord {
    /// The platform's name, as in its root certificates.
    pub name: String,
    /// When `init` ran.
    pub created_at: OffsetDateTime,
}

/// A root CA certificate and the name of its key in the key store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRecord {
    /// The root's (and its chain's) algorithm.
    pub algorithm: Algorithm,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The key's name in the key store.
    pub key_name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// A CRL signed by a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    /// Which root signed it.
    pub algorithm: Algorithm,
    /// Its CRL number; strictly increasing per root.
    pub number: u64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// The CRL, DER.
    pub der: Vec<u8>,
}

/// A department that may hold seals and issue licences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Its 统一社会信用代码.
    pub code: Uscc,
    /// Its official name.
    pub name: String,
    /// 行政区划代码 of its jurisdiction.
    pub area: AreaCode,
    /// Licence type codes it may issue; `*` means any.
    pub type_codes: Vec<String>,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

/// Whether a seal may still sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SealStatus {
    /// In use.
    Active,
    /// Its certificate is on the CRL; it signs nothing more.
    Revoked,
}

impl Department {
    /// Whether the department may issue licences of `type_code`.
    pub fn may_issue(&self, type_code: &str) -> bool {
        self.type_codes.iter().any(|t| t == "*" || t == type_code)
    }
}

impl SealStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }
}

/// An electronic seal: key, certificate and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRecord {
    /// The seal's identifier (area code + sequence), also in its certificate.
    pub id: String,
    /// The department that owns it.
    pub department_code: Uscc,
    /// The seal's name, e.g. 行政审批专用章.
    pub name: String,
    /// Key and chain algorithm.
    pub algorithm: Algorithm,
    /// The seal certificate, DER.
    pub cert_der: Vec<u8>,
    /// The certificate serial number, hex.
    pub serial_hex: String,
    /// The key's name in the key store.
    pub key_name: String,
    /// Active or revoked.
    pub status: SealStatus,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked, and why.
    pub revocation: Option<(OffsetDateTime, RevocationReason)>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to change does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A row with that key exists already, or a concurrent change won.
    #[error("{0}")]
    Conflict(String),
    /// A stored value cannot be read back (changed behind the service's back?).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Building the licence inside the issuing transaction failed; nothing was stored.
    #[error("{0}")]
    Build(BuildError),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Everything the service keeps. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Which database is behind the store.
    fn backend(&self) -> Backend;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The platform row, if `init` has run.
    async fn platform(&self) -> Result<Option<PlatformRecord>, StoreError>;
    /// Records the platform; [`StoreError::Conflict`] if it exists.
    async fn insert_platform(&self, platform: &PlatformRecord) -> Result<(), StoreError>;

    /// All roots.
    async fn roots(&self) -> Result<Vec<RootRecord>, StoreError>;
    /// Records a root together with its first CRL; conflict if that algorithm has one.
    async fn insert_root(&self, root: &RootRecord, first_crl: &CrlRecord) -> Result<(), StoreError>;

    /// The newest CRL of a root.
    async fn latest_crl(&self, algorithm: Algorithm) -> Result<Option<CrlRecord>, StoreError>;
    /// Records a newer CRL; conflict unless its number is above the latest.
    async fn insert_crl(&self, crl: &CrlRecord) -> Result<(), StoreError>;

    /// Registers a department; conflict if the code is taken.
    async fn insert_department(&self, department: &Department) -> Result<(), StoreError>;
    /// One department.
    async fn department(&self, code: &Uscc) -> Result<Option<Department>, StoreError>;
    /// All departments, by code.
    async fn departments(&self) -> Result<Vec<Department>, StoreError>;

    /// Atomically increments the named counter and returns its new value (first: 1).
    async fn next_counter(&self, name: &str) -> Result<u64, StoreError>;

    /// Records a new seal; conflict if the id or serial is taken.
    async fn insert_seal(&self, seal: &SealRecord) -> Result<(), StoreError>;
    /// One seal.
    async fn seal(&self, id: &str) -> Result<Option<SealRecord>, StoreError>;
    /// All seals, or one department's, by id.
    async fn seals(&self, department: Option<&Uscc>) -> Result<Vec<SealRecord>, StoreError>;
    /// Revoked seals of one algorithm (the content of its root's CRL).
    async fn revoked_seals(&self, algorithm: Algorithm) -> Result<Vec<SealRecord>, StoreError>;
    /// Marks an active seal revoked and records the CRL that lists it, in one
    /// transaction: either both happen or neither.
    async fn revoke_seal(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: RevocationReason,
        crl: &CrlRecord,
    ) -> Result<(), StoreError>;

    /// Registers an API client; conflict if the id or key hash is taken.
    async fn insert_client(&self, client: &ClientRecord) -> Result<(), StoreError>;
    /// The client whose key hashes to `key_hash` (revoked ones included).
    async fn client_by_key_hash(&self, key_hash: &str) -> Result<Option<ClientRecord>, StoreError>;
    /// All clients, by id.
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
    /// Marks a client revoked; not found if unknown, conflict if revoked already.
    async fn revoke_client(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Issues a licence: reserves a serial of `counter` (if any; see
    /// [`Store::reserve_serial`]), calls `build` with it (0 without a counter), and stores
    /// what it returns with [`Store::store_licence`]. A failure anywhere stores nothing and
    /// gives the serial back, so it is not used up. With an idempotency key already used
    /// for the same request hash, returns the licence it issued
    /// ([`IssueOutcome::Replayed`]); for another request hash, [`StoreError::Conflict`].
    async fn issue_licence(
        &self,
        counter: Option<&str>,
        idempotency: Option<&IdempotencyClaim>,
        build: &(dyn Fn(u64) -> Result<NewLicence, BuildError> + Send + Sync),
        now: OffsetDateTime,
    ) -> Result<IssueOutcome, StoreError>;
    /// The licence an idempotency key issued: `Some` for the same request hash, `None` if
    /// the key is unused, [`StoreError::Conflict`] for another request hash.
    async fn replay_issue(&self, claim: &IdempotencyClaim) -> Result<Option<LicenceRow>, StoreError>;
    /// Reserves a serial of the named counter for a licence about to be built, until
    /// `now` + [`SERIAL_LEASE`]: the lowest serial given back (or whose reservation
    /// lapsed) first, else the counter's next value. The database hands it out, so
    /// concurrent reservations on several nodes never share a serial.
    async fn reserve_serial(
        &self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, StoreError>;
    /// Gives a reserved serial back (its licence was not stored), to be handed out again
    /// before the counter moves on. Does nothing if the reservation is no longer held.
    async fn release_serial(&self, reservation: &SerialReservation) -> Result<(), StoreError>;
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
    /// One licence with its PDF and token.
    async fn licence(&self, id: &str) -> Result<Option<LicenceRow>, StoreError>;
    /// Licences matching a filter, ordered by identifier, after the cursor.
    async fn licences(&self, filter: &LicenceFilter) -> Result<Vec<LicenceRow>, StoreError>;
    /// Changes a licence's status from `from` and records the event, atomically;
    /// conflict if the status is no longer `from`.
    async fn change_status(
        &self,
        id: &str,
        from: LicenceStatus,
        event: &LicenceEvent,
    ) -> Result<(), StoreError>;
    /// A licence's history, oldest first.
    async fn licence_events(&self, id: &str) -> Result<Vec<LicenceEvent>, StoreError>;

    /// Appends entries, in order, to the hash-chained access log in one transaction;
    /// returns their sequence numbers.
    async fn append_access_batch(&self, entries: Vec<AccessEntry>) -> Result<Vec<u64>, StoreError>;
    /// Appends one entry; returns its sequence number.
    async fn append_access(&self, entry: AccessEntry) -> Result<u64, StoreError> {
        let seqs = self.append_access_batch(vec![entry]).await?;
        seqs.first().copied().ok_or_else(|| StoreError::Corrupt("empty append".into()))
    }
    /// Access log rows after `after`, in order.
    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessLogRow>, StoreError>;
    /// One holder's access log rows after `after`, in order.
    async fn holder_access_log(
        &self,
        holder_code_type: &str,
        holder_code: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccessLogRow>, StoreError>;

    /// Records a holder authorisation.
    async fn insert_authorisation(&self, authorisation: &AuthorisationRecord) -> Result<(), StoreError>;
    /// The authorisation whose code hashes to `code_hash`.
    async fn authorisation(&self, code_hash: &str) -> Result<Option<AuthorisationRecord>, StoreError>;
    /// Takes one use of a live authorisation; conflict if used up, expired or revoked.
    async fn use_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError>;
    /// Revokes an authorisation.
    async fn revoke_authorisation(&self, code_hash: &str, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Registers a holder portal; conflict if the id or key hash is taken.
    async fn insert_portal(&self, portal: &PortalRecord) -> Result<(), StoreError>;
    /// The portal whose API key hashes to `key_hash` (revoked ones included).
    async fn portal_by_key_hash(&self, key_hash: &str) -> Result<Option<PortalRecord>, StoreError>;
    /// All portals, by id.
    async fn portals(&self) -> Result<Vec<PortalRecord>, StoreError>;
    /// Marks a portal revoked; not found if unknown, conflict if revoked already.
    async fn revoke_portal(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Records that portal `portal_id` used holder assertion `jti`, remembered until
    /// `expires_at` (Unix seconds); conflict if it was used before. Forgets ids that
    /// expired before `now`. The database decides, so a replay to another node fails too.
    async fn use_holder_assertion(
        &self,
        portal_id: &str,
        jti: &str,
        expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
