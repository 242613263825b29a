//! The issuing service: check a request against the client's rights (its own department's
//! seals, or another department's under an active delegation), the seal, the document
//! asked for and the licence type (`policy.rs`), build the record, token and
//! documents — a signed PDF, a signed OFD, both or none (`build.rs`, `page.rs`) — on one of
//! the rendering threads (`builders.rs`), and store it in one short transaction with a
//! serial reserved before (`serial.rs`). Bulk issuing (`bulk.rs`) shares the checks, and reserves
//! serials and time-stamp serials in blocks for licences built on the caller's threads.

mod build;
mod builders;
mod bulk;
mod bundle;
mod deferred;
mod issue;
mod ofd;
mod page;
mod policy;
mod receipt;
mod serial;

use std::sync::Arc;

use crate::config::Config;
use crate::licence::{Catalogue, Document, DocumentKind, LicenceInput, LicenceType};
use crate::store::{ClientRecord, Store};

use super::accesslog::AccessLogWriter;
use super::error::PlatformError;
use super::pki::Pki;
use super::tsa::TimeStamping;
pub use bulk::{BuildFailure, BulkIssuer, BulkItem, BulkJob, is_item_error};
pub use bundle::{BundleContent, BundleEntry, BundleLicenceView, BundleRequest, BundleView, IssuedBundle};
pub use page::licence_page;

/// What an issuing request names.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The seal to sign with: the QR token, and the PDF or (alone) the OFD.
    pub seal_id: String,
    /// For `document: both`, the SM2 seal of the same department that signs the OFD;
    /// refused otherwise.
    pub ofd_seal_id: Option<String>,
    /// The licence type code.
    pub type_code: String,
    /// The licence content.
    pub input: LicenceInput,
    /// The document to issue: the signed PDF, the signed OFD, both, or none (a data-only
    /// licence).
    pub document: DocumentKind,
    /// The API client asking, or `None` for the operator's command line.
    pub client: Option<ClientRecord>,
    /// `Idempotency-Key` of the request, if any.
    pub idempotency_key: Option<String>,
    /// For a renewal or change: the identifier of the current version it replaces. The
    /// new version keeps type, issuer, serial and holder code, with the version number
    /// one higher.
    pub renews: Option<String>,
}

/// A licence as issued (or as issued before, for a replayed idempotent request).
#[derive(Debug, Clone)]
pub struct IssuedLicence {
    /// 电子证照标识.
    pub identifier: String,
    /// The COSE token.
    pub token: Vec<u8>,
    /// The QR URL.
    pub url: String,
    /// The signed documents: PDF, OFD, both, or none for a data-only licence.
    pub document: Document,
    /// SHA-256 of the record.
    pub record_hash: Vec<u8>,
    /// Whether an earlier request with the same idempotency key issued it.
    pub replayed: bool,
}

impl IssuedLicence {
    /// The signed PDF, if the licence has one.
    pub fn pdf(&self) -> Option<&[u8]> {
        self.document.pdf()
    }

    /// The signed OFD, if the licence has one.
    pub fn ofd(&self) -> Option<&[u8]> {
        self.document.ofd()
    }
}

/// Issues licences and their new versions.
#[derive(Debug, Clone)]
pub struct Issuing {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    catalogue: Arc<Catalogue>,
    pki: Pki,
    tsa: TimeStamping,
    /// Where licences issued under a delegation are logged.
    access_log: AccessLogWriter,
    /// Licence serials reserved and not yet handed out.
    serials: Arc<serial::SerialPool>,
    /// The threads that render and sign ([`Issuing::cpu`]), started on first use: most
    /// commands never issue.
    builders: Arc<std::sync::OnceLock<builders::Builders>>,
}

impl Issuing {
    pub(super) fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        catalogue: Arc<Catalogue>,
        pki: Pki,
        tsa: TimeStamping,
        access_log: AccessLogWriter,
    ) -> Self {
        Self {
            store,
            config,
            catalogue,
            pki,
            tsa,
            access_log,
            serials: Default::default(),
            builders: Default::default(),
        }
    }

    /// Gives the licence serials this process reserved and did not use back to the store
    /// (when a command that issued ends, when the server stops), so that the next licence
    /// of any process takes them at once, not after their lease lapsed.
    pub async fn give_back_serials(&self) -> Result<(), PlatformError> {
        let left = self.serials.drain();
        self.store.release_serials(&left).await?;
        Ok(())
    }

    /// Runs `work` (rendering, signing) on one of the rendering threads (`builders.rs`):
    /// as many as cores, so requests beyond that wait for one.
    pub(super) async fn cpu<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PlatformError> {
        let builders = self.builders.get_or_init(|| builders::Builders::start(self.config.public_nice));
        builders.run(what, work).await
    }

    /// The licence type with `code`.
    pub fn licence_type(&self, code: &str) -> Result<&LicenceType, PlatformError> {
        self.catalogue
            .get(code.trim())
            .ok_or_else(|| PlatformError::NotFound(format!("licence type {}", code.trim())))
    }
}
