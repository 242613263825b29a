//! Verification as the platform offers it: the engine of [`crate::verify`] online, over
//! this platform's roots, seals, CRLs and register (the engine reads, this service looks
//! the licence up, the engine finishes); and the signed trust list that offline verifiers
//! and peer platforms use. Reading never writes: the CRLs are the stored ones, re-signed
//! by the refresher alone ([`Pki::refresh_crl`]).

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use crate::config::Config;
use crate::keystore::KeyStore;
use crate::licence::{Catalogue, LicenceRecord};
use crate::pki::Algorithm;
use crate::seal::SealDrawing;
use crate::signing::SealSigner;
use crate::store::{CrlRecord, RootRecord, SealStatus, Store};
use crate::verify::trustlist::{
    TRUST_LIST_VERSION, TrustListBody, TrustedCrl, TrustedRoot, TrustedSealEntry, sign_trust_list,
};
use crate::verify::{
    BundleReport, Engine, Input, Lookup, Mode, RegisterEntry, Report, SealSource, Step, Subject, TrustSet,
};

use super::error::PlatformError;
use super::pki::Pki;
use super::trust_cache::TrustCache;

/// How long the online trust set (seals, departments, CRLs) is reused before it is read
/// from the store again. A seal revoked on this node is seen at once; on another node
/// within this time.
pub const TRUST_SET_TTL: Duration = Duration::seconds(5);

/// How long a trust list is meant to be used before a fresh one is fetched.
pub const TRUST_LIST_VALIDITY: Duration = Duration::days(1);

/// Largest PDF accepted for verification, in bytes.
pub const MAX_VERIFY_PDF_BYTES: usize = crate::pdf::MAX_INSPECT_BYTES;

/// The slots for uploaded PDFs verified at once.
#[derive(Debug)]
struct PdfSlots {
    permits: Arc<tokio::sync::Semaphore>,
    /// See [`Verification::hold_pdf_verifications`].
    hold_ms: std::sync::atomic::AtomicU64,
}

/// How long a signed trust list is served before it is made again.
const TRUST_LIST_REUSE: Duration = Duration::minutes(1);

/// Verification online and the signed trust list.
#[derive(Debug, Clone)]
pub struct Verification {
    store: Arc<dyn Store>,
    config: Arc<Config>,
    catalogue: Arc<Catalogue>,
    keys: KeyStore,
    pki: Pki,
    trust: Arc<TrustCache>,
    /// Slots for uploaded PDFs verified at once (`pdf_verify_concurrency`).
    pdf_slots: Arc<PdfSlots>,
}

impl Verification {
    pub(super) fn new(
        store: Arc<dyn Store>,
        config: Arc<Config>,
        catalogue: Arc<Catalogue>,
        keys: KeyStore,
        pki: Pki,
        trust: Arc<TrustCache>,
    ) -> Self {
        let pdf_slots = Arc::new(PdfSlots {
            permits: Arc::new(tokio::sync::Semaphore::new(config.pdf_verify_concurrency as usize)),
            hold_ms: Default::default(),
        });
        Self { store, config, catalogue, keys, pki, trust, pdf_slots }
    }

    /// The register's answer for a pending verification.
    async fn lookup(&self, identifier: &str) -> Lookup {
        match self.register_entry(identifier).await {
            Ok(Some(entry)) => Lookup::Found(Box::new(entry)),
            Ok(None) => Lookup::Missing,
            Err(e) => {
                tracing::warn!(error = %e, "register lookup failed during verification");
                Lookup::Unavailable
            }
        }
    }

    /// The register entry of `identifier`, or `None` if the register has none.
    async fn register_entry(&self, identifier: &str) -> Result<Option<RegisterEntry>, String> {
        let Some(row) = self.store.licence(identifier).await.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let record = LicenceRecord::from_cbor(&row.licence.record_cbor).map_err(|e| e.to_string())?;
        let licence_type = self.catalogue.get(&row.licence.type_code);
        // Only what the type marks public: the verification page and API are public.
        let fields = licence_type.map(|t| crate::licence::public_fields(t, &record)).unwrap_or_default();
        // When it stopped being in force: the latest event of its history.
        let status_since =
            if row.status != crate::licence::LicenceStatus::Valid || row.superseded_by.is_some() {
                self.store.licence_events(identifier).await.map_err(|e| e.to_string())?.last().map(|e| e.at)
            } else {
                None
            };
        Ok(Some(RegisterEntry {
            identifier: row.licence.id.clone(),
            status: row.status,
            superseded_by: row.superseded_by.clone(),
            status_since,
            record_hash: row.licence.record_hash.clone(),
            issued_at: row.licence.issued_at,
            seal_id: row.licence.seal_id.clone(),
            ofd_seal_id: row.licence.ofd_seal_id.clone(),
            holder_name: row.licence.holder_name.clone(),
            valid_from: row.licence.valid_from.clone(),
            valid_until: row.licence.valid_until.clone(),
            token: row.licence.token.clone(),
            type_name: Some(record.type_name.clone()),
            fields,
        }))
    }
}

/// The engine over `trust` at `now`, as of `at` when given.
fn engine(trust: &TrustSet, now: OffsetDateTime, at: Option<OffsetDateTime>) -> Engine<'_> {
    let engine = Engine::new(trust, now);
    match at {
        Some(at) => engine.as_of(at),
        None => engine,
    }
}

/// What both the online trust set and the trust list are made of.
struct Material {
    roots: Vec<RootRecord>,
    crls: Vec<CrlRecord>,
    seals: Vec<SealSource>,
}

impl Verification {
    /// The roots, their current CRLs, and every seal with its department's name and
    /// licence types and its revocation as the store has it. Only reads.
    async fn trust_material(&self) -> Result<Material, PlatformError> {
        let roots = self.store.roots().await?;
        let mut crls = Vec::new();
        for root in &roots {
            crls.push(self.pki.current_crl(root.algorithm).await?);
        }
        let departments = self.store.departments().await?;
        let seals = self
            .store
            .seals(None)
            .await?
            .into_iter()
            .map(|s| {
                let department = departments.iter().find(|d| d.code == s.department_code);
                SealSource {
                    id: s.id,
                    name: s.name,
                    department_code: s.department_code.as_str().to_owned(),
                    department_name: department.map(|d| d.name.clone()).unwrap_or_default(),
                    type_codes: department.map(|d| d.type_codes.clone()).unwrap_or_default(),
                    algorithm: s.algorithm,
                    register_revocation: Some(match s.status {
                        SealStatus::Active => None,
                        SealStatus::Revoked => s.revocation,
                    }),
                    cert_der: s.cert_der,
                }
            })
            .collect();
        Ok(Material { roots, crls, seals })
    }

    /// The online trust set: this platform's roots, current CRLs and every seal with its
    /// department's licence types and its revocation as the store has it. Cached for
    /// [`TRUST_SET_TTL`].
    pub async fn trust_set(&self, now: OffsetDateTime) -> Result<Arc<TrustSet>, PlatformError> {
        if let Ok(guard) = self.trust.set.read()
            && let Some(set) = guard.as_ref()
            && now - set.built_at < TRUST_SET_TTL
            && now >= set.built_at
        {
            return Ok(set.clone());
        }
        let material = self.trust_material().await?;
        let roots = material.roots.into_iter().map(|r| r.cert_der).collect();
        let crls = material.crls.into_iter().map(|c| c.der).collect();
        let seals = material.seals;
        let set = Arc::new(TrustSet::new(Mode::Online, roots, crls, seals, now));
        if let Ok(mut guard) = self.trust.set.write() {
            *guard = Some(set.clone());
        }
        Ok(set)
    }

    /// Verifies a QR token or its URL, online.
    pub async fn verify_token_text(&self, text: &str, now: OffsetDateTime) -> Result<Report, PlatformError> {
        self.verify_token_text_at(text, now, None).await
    }

    /// [`Self::verify_token_text`] as of `at` ([`Engine::as_of`]), when given.
    pub async fn verify_token_text_at(
        &self,
        text: &str,
        now: OffsetDateTime,
        at: Option<OffsetDateTime>,
    ) -> Result<Report, PlatformError> {
        let trust = self.trust_set(now).await?;
        let engine = engine(&trust, now, at);
        Ok(self.complete(&engine, engine.read(Input::TokenText(text))).await)
    }

    /// Verifies a bundle receipt's QR token (or its URL), online: the receipt's token and
    /// seal, then every licence it names as the register has it now.
    pub async fn verify_bundle_text(
        &self,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<BundleReport, PlatformError> {
        let trust = self.trust_set(now).await?;
        let engine = engine(&trust, now, None);
        let read = engine.read_bundle(text);
        let mut licences = Vec::with_capacity(read.licences().len());
        for claim in read.licences() {
            let lookup = self.lookup(&claim.licence_id).await;
            licences.push(engine.bundle_licence(claim, lookup));
        }
        Ok(engine.conclude_bundle(read, licences))
    }

    /// Ends a verification the engine has read: looks up what it waits for.
    async fn complete(&self, engine: &Engine<'_>, step: Step) -> Report {
        match step {
            Step::Done(report) => *report,
            Step::Lookup(pending) => {
                let lookup = self.lookup(pending.identifier()).await;
                engine.finish(pending, lookup)
            }
        }
    }

    /// Verifies a licence identifier against the register.
    pub async fn verify_identifier(
        &self,
        identifier: &str,
        now: OffsetDateTime,
    ) -> Result<Report, PlatformError> {
        self.verify_identifier_at(identifier, now, None).await
    }

    /// [`Self::verify_identifier`] as of `at` ([`Engine::as_of`]), when given.
    pub async fn verify_identifier_at(
        &self,
        identifier: &str,
        now: OffsetDateTime,
        at: Option<OffsetDateTime>,
    ) -> Result<Report, PlatformError> {
        let trust = self.trust_set(now).await?;
        let engine = engine(&trust, now, at);
        Ok(self.complete(&engine, engine.read(Input::Identifier(identifier))).await)
    }

    /// Verifies a signed licence PDF, online. Reading the PDF (the CPU work) runs on a
    /// blocking thread; the register lookup after it does not.
    pub async fn verify_pdf(&self, pdf: Vec<u8>, now: OffsetDateTime) -> Result<Report, PlatformError> {
        self.verify_document_at(pdf, Subject::Pdf, now, None).await
    }

    /// Verifies a signed licence OFD, online, as [`Self::verify_pdf`] a PDF.
    pub async fn verify_ofd(&self, ofd: Vec<u8>, now: OffsetDateTime) -> Result<Report, PlatformError> {
        self.verify_document_at(ofd, Subject::Ofd, now, None).await
    }

    /// Verifies an uploaded file as the document its first bytes say it is
    /// ([`Input::document`]: an OFD is a zip, anything else is read as a PDF).
    pub async fn verify_upload(&self, file: Vec<u8>, now: OffsetDateTime) -> Result<Report, PlatformError> {
        let subject = Input::document(&file).subject();
        self.verify_document_at(file, subject, now, None).await
    }

    /// Verifies `file` as a PDF or an OFD (`subject`), reading it on a blocking thread; as
    /// of `at` ([`Engine::as_of`]) when given.
    pub async fn verify_document_at(
        &self,
        file: Vec<u8>,
        subject: Subject,
        now: OffsetDateTime,
        at: Option<OffsetDateTime>,
    ) -> Result<Report, PlatformError> {
        let what = if subject == Subject::Ofd { "OFD" } else { "PDF" };
        if file.len() > MAX_VERIFY_PDF_BYTES {
            return Err(PlatformError::InvalidInput {
                field: if subject == Subject::Ofd { "ofd" } else { "pdf" },
                message: format!("larger than {MAX_VERIFY_PDF_BYTES} bytes"),
            });
        }
        let trust = self.trust_set(now).await?;
        let reader = trust.clone();
        let step = tokio::task::spawn_blocking(move || {
            let input = if subject == Subject::Ofd { Input::Ofd(&file) } else { Input::Pdf(&file) };
            engine(&reader, now, at).read(input)
        })
        .await
        .map_err(|e| PlatformError::Task(format!("the {what} could not be verified: {e}")))?;
        Ok(self.complete(&engine(&trust, now, at), step).await)
    }

    /// The slots for uploaded PDFs verified at once (`pdf_verify_concurrency` of them).
    pub fn pdf_slots(&self) -> Arc<tokio::sync::Semaphore> {
        self.pdf_slots.permits.clone()
    }

    /// Test support: from now on every PDF verification keeps its slot `hold` longer (it
    /// waits before its work). The PDF limits keep any real input fast, so this is how the
    /// tests reach `pdf_verify_concurrency` and `pdf_verify_timeout`. Zero by default.
    #[doc(hidden)]
    pub fn hold_pdf_verifications(&self, hold: std::time::Duration) {
        let ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX);
        self.pdf_slots.hold_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// How long each PDF verification waits before its work (see
    /// [`Verification::hold_pdf_verifications`]).
    #[doc(hidden)]
    pub fn pdf_verification_hold(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.pdf_slots.hold_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The seal image as SVG, cached per seal.
    pub async fn seal_svg(&self, seal_id: &str) -> Result<Arc<String>, PlatformError> {
        if let Some(svg) = self.trust.seal_images.read().ok().and_then(|m| m.get(seal_id).cloned()) {
            return Ok(svg);
        }
        let drawing: SealDrawing = self.pki.seal_drawing(seal_id).await?;
        let svg = Arc::new(drawing.to_svg());
        if let Ok(mut map) = self.trust.seal_images.write() {
            map.insert(seal_id.to_owned(), svg.clone());
        }
        Ok(svg)
    }

    /// The trust list, signed by the Ed25519 root: roots, every active seal (and revoked
    /// ones, which the CRLs list), the departments' licence types and the current CRLs.
    pub async fn trust_list(&self, now: OffsetDateTime) -> Result<Arc<String>, PlatformError> {
        if let Ok(guard) = self.trust.trust_list.read()
            && let Some((made, list)) = guard.as_ref()
            && now >= *made
            && now - *made < TRUST_LIST_REUSE
        {
            return Ok(list.clone());
        }
        let list = Arc::new(self.make_trust_list(now).await?);
        if let Ok(mut guard) = self.trust.trust_list.write() {
            *guard = Some((now, list.clone()));
        }
        Ok(list)
    }

    async fn make_trust_list(&self, now: OffsetDateTime) -> Result<String, PlatformError> {
        let platform = self.pki.platform().await?;
        let Material { roots, crls, seals } = self.trust_material().await?;
        let signer_root = roots
            .iter()
            .find(|r| r.algorithm == Algorithm::Ed25519)
            .ok_or_else(|| PlatformError::NotFound("no Ed25519 root; run `zhengzhao init`".into()))?;
        let crls = crls.iter().map(|c| TrustedCrl::new(c.algorithm, c.number, &c.der)).collect();
        let seals = seals
            .into_iter()
            .map(|s| {
                TrustedSealEntry::new(
                    &s.id,
                    &s.department_code,
                    &s.department_name,
                    &s.name,
                    s.algorithm,
                    &s.cert_der,
                    s.type_codes,
                )
            })
            .collect();
        let body = TrustListBody {
            version: TRUST_LIST_VERSION,
            platform: platform.name,
            public_url: self.config.public_url.clone(),
            issued_at: now,
            next_update: now + TRUST_LIST_VALIDITY,
            roots: roots.iter().map(|r| TrustedRoot::new(r.algorithm, &r.cert_der)).collect(),
            seals,
            crls,
        };
        let key = self.keys.read(&signer_root.key_name)?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|error| PlatformError::Signing { key: signer_root.key_name.clone(), error })?;
        sign_trust_list(&body, &signer_root.cert_der, &signer).map_err(|e| PlatformError::Io(e.to_string()))
    }
}
