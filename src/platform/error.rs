//! The one error type of the platform services, with a stable machine-readable code
//! that the HTTP API and the command line show.

use std::path::PathBuf;

use crate::codes::CodeError;
use crate::keystore::KeyStoreError;
use crate::licence::DocumentUnsupported;
use crate::pki::PkiError;
use crate::seal::SealError;
use crate::signing::SigningError;
use crate::store::StoreError;

/// Why a platform operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The data directory has no platform yet.
    #[error("data directory {} is not initialised: run `zhengzhao init --platform-name NAME --public-url URL` (or `zhengzhao serve` on an empty directory)", .0.display())]
    NotInitialised(PathBuf),
    /// An input value is invalid.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The input field or flag.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An input field (named by its path, e.g. `fields.licence_no`) is invalid.
    #[error("invalid {field}: {message}")]
    InvalidField {
        /// The field path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// An API client issued without an `Idempotency-Key`: a blind retry would issue a
    /// second licence.
    #[error("send an Idempotency-Key header (1–{max} ASCII characters) with every issuing request, and the same key when retrying it", max = super::limits::MAX_IDEMPOTENCY_KEY)]
    IdempotencyKeyRequired,
    /// No or a bad credential.
    #[error("{0}")]
    Unauthorised(String),
    /// The credential is good but does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// A client asked to issue with another department's seal, and no active delegation of
    /// that department names the type and the seal (403 `no_delegation`).
    #[error("{0}")]
    NoDelegation(String),
    /// The licence could not be rendered or signed from valid-looking input (e.g. the
    /// text does not fit on the page).
    #[error("cannot produce the licence: {0}")]
    Unprocessable(String),
    /// The seal's algorithm cannot sign the document asked for (an SM2 seal and a PDF).
    #[error(transparent)]
    DocumentUnsupportedForSeal(#[from] DocumentUnsupported),
    /// Too many requests from this client.
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// A holder-proxy call without a usable holder assertion (401): its code is
    /// `holder_assertion_required`, `holder_assertion_invalid`, `holder_assertion_expired`
    /// or `holder_assertion_replayed`.
    #[error("{message}")]
    HolderAssertion {
        /// The stable code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The holder assertion is for another holder than the one the call is about (403).
    #[error("{0}")]
    HolderMismatch(String),
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The signed original carries the holder's data unmasked: only the issuer and readers
    /// with the holder's authorisation may have it, not a reader on a duty basis.
    #[error(
        "the signed original carries the holder's full data: it goes only to the issuer and to readers with the \
         holder's X-Authorisation-Code; on a duty basis read the licence as JSON (GET /api/v1/licences/{{id}})"
    )]
    OriginalRequiresHolderAuthorisation,
    /// A data-only licence has no document to fetch.
    #[error(
        "licence {0} is a data-only licence, issued without a document (\"document\": \"none\"): there is no \
         PDF; read it as JSON (GET /api/v1/licences/{{id}}) or verify its QR token"
    )]
    NoDocument(String),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The register.
    #[error(transparent)]
    Store(StoreError),
    /// A key file.
    #[error(transparent)]
    Key(#[from] KeyStoreError),
    /// Certificate work.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// The seal image.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A seal, root or checkpoint key that does not load as a signer.
    #[error("{key} key: {error}")]
    Signing {
        /// Which key ("seal S-…", "checkpoint signer", a root's key name).
        key: String,
        /// Why it does not load.
        #[source]
        error: SigningError,
    },
    /// The operating system's random number generator failed.
    #[error("no randomness available")]
    Rng,
    /// A GB/T 38540 electronic seal or seal signature could not be made.
    #[error("electronic seal: {0}")]
    Ses(#[from] crate::ses::SesError),
    /// The time-stamping authority could not answer (its key or certificate, an encoding).
    #[error("time-stamping: {0}")]
    Tsa(crate::tsa::TsaError),
    /// A stored PDF could not be read or extended (archive renewal).
    #[error("PDF: {0}")]
    Pdf(#[from] crate::pdf::PdfError),
    /// A background task (a blocking job, the access-log writer) stopped or panicked.
    #[error("{0}")]
    Task(String),
    /// A page template could not be rendered.
    #[error("{0}")]
    Render(String),
    /// The file system.
    #[error("{0}")]
    Io(String),
    /// A bundle refused before anything was built: every faulty entry named. `forbidden`:
    /// the client may not issue some entry (403), else some entry is invalid (400).
    #[error("{}", EntryProblem::summary(.problems))]
    BundleRefused {
        /// Whether an entry is forbidden to this client (rather than invalid).
        forbidden: bool,
        /// What is wrong, entry by entry.
        problems: Vec<EntryProblem>,
    },
}

/// What is wrong with one entry of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EntryProblem {
    /// The entry's position in `licences` (from 0); `null` for the bundle's own fields.
    pub entry: Option<usize>,
    /// The field path, e.g. `licences[2].fields.licence_no`.
    pub field: String,
    /// The stable code of the problem (`invalid_field`, `forbidden`, `not_found`, …).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl EntryProblem {
    /// One line naming every problem.
    pub fn summary(problems: &[Self]) -> String {
        let parts: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.field, p.message)).collect();
        format!("the bundle is refused ({} problem(s)): {}", problems.len(), parts.join("; "))
    }
}

impl From<StoreError> for PlatformError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            other => Self::Store(other),
        }
    }
}

impl PlatformError {
    /// An invalid code in the named field.
    pub fn invalid(field: &'static str, e: CodeError) -> Self {
        Self::InvalidInput { field, message: e.to_string() }
    }

    /// A stable machine-readable code for clients and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotInitialised(_) => "not_initialised",
            Self::InvalidInput { .. } => "invalid_input",
            Self::InvalidField { .. } => "invalid_field",
            Self::IdempotencyKeyRequired => "idempotency_key_required",
            Self::Unauthorised(_) => "unauthorised",
            Self::Forbidden(_) => "forbidden",
            Self::NoDelegation(_) => "no_delegation",
            Self::OriginalRequiresHolderAuthorisation => "original_requires_holder_authorisation",
            Self::HolderAssertion { code, .. } => code,
            Self::HolderMismatch(_) => "holder_mismatch",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unprocessable(_) => "unprocessable",
            Self::DocumentUnsupportedForSeal(_) => "document_unsupported_for_seal",
            Self::NotFound(_) => "not_found",
            Self::NoDocument(_) => "no_document",
            Self::Conflict(_) => "conflict",
            Self::Store(_) => "store_unavailable",
            Self::Key(_) => "key_unavailable",
            Self::Pki(_) => "pki_error",
            Self::Seal(_) => "invalid_seal_name",
            Self::Signing { .. } => "key_unusable",
            Self::Ses(_) => "electronic_seal_failed",
            Self::Tsa(_) => "time_stamping_failed",
            Self::Pdf(e) => e.code(),
            Self::Rng => "rng_unavailable",
            Self::Task(_) => "task_failed",
            Self::Render(_) => "render_failed",
            Self::Io(_) => "io_error",
            Self::BundleRefused { forbidden: true, .. } => "forbidden",
            Self::BundleRefused { forbidden: false, .. } => "invalid_bundle",
        }
    }

    /// Whether the caller's input is at fault (a 4xx), as opposed to the service.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidInput { .. }
                | Self::InvalidField { .. }
                | Self::IdempotencyKeyRequired
                | Self::Unauthorised(_)
                | Self::Forbidden(_)
                | Self::NoDelegation(_)
                | Self::OriginalRequiresHolderAuthorisation
                | Self::HolderAssertion { .. }
                | Self::HolderMismatch(_)
                | Self::RateLimited { .. }
                | Self::Unprocessable(_)
                | Self::DocumentUnsupportedForSeal(_)
                | Self::NotFound(_)
                | Self::NoDocument(_)
                | Self::Conflict(_)
                | Self::Seal(_)
                | Self::BundleRefused { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_failures_have_their_own_codes() {
        let errors = [
            PlatformError::Signing { key: "seal S-1".into(), error: SigningError::BadSignature },
            PlatformError::Rng,
            PlatformError::Task("building the licence: panicked".into()),
            PlatformError::Render("the page could not be rendered".into()),
            PlatformError::Io("cannot write x".into()),
        ];
        let codes: Vec<&str> = errors.iter().map(PlatformError::code).collect();
        assert_eq!(codes, ["key_unusable", "rng_unavailable", "task_failed", "render_failed", "io_error"]);
        assert!(errors.iter().all(|e| !e.is_client_error()));
        assert_eq!(errors[0].to_string(), "seal S-1 key: bad signature");
    }
}
