//! Why a store operation failed.

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
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
