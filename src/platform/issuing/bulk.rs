//! Issuing many licences at once (bulk import of existing licences): the checks of
//! [`Issuing::issue`] made once per seal, type and document (the same policy functions),
//! licence serials reserved from the store in blocks, time-stamp serials reserved in
//! blocks shared by many licences; the CPU work handed back as a [`BulkJob`] that the
//! caller runs on its own threads, and the built licences stored by the caller in
//! batches ([`crate::store::ImportStore::store_import_batch`]).
//!
//! An "epoch" is the time every licence prepared in it is signed at: it starts with fresh
//! time-stamp blocks, and ends when one of them runs out.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use time::{Date, OffsetDateTime};

use crate::codes::Uscc;
use crate::licence::{DocumentKind, LicenceInput, LicenceType};
use crate::pki::Algorithm;
use crate::store::{NewLicence, SealRecord, SerialReservation};
use crate::tsa::Stamper;

use super::super::error::PlatformError;
use super::super::lookup;
use super::super::pki::SealContext;
use super::super::tsa::ReservedStamper;
use super::build::{BuildJob, DocumentJob, PdfJob};
use super::{Issuing, policy};

/// One licence to issue in bulk: an issuing request of the operator, and the original
/// issue date of an existing licence.
#[derive(Debug, Clone)]
pub struct BulkItem {
    /// The seal that signs.
    pub seal_id: String,
    /// For `document: both`, the SM2 seal that signs the OFD.
    pub ofd_seal_id: Option<String>,
    /// The licence type code.
    pub type_code: String,
    /// The licence content.
    pub input: LicenceInput,
    /// The document to issue.
    pub document: DocumentKind,
    /// The original issue date (颁证日期), not after today; default: today. The validity's
    /// default start and the type's checks of the dates follow it.
    pub issued_on: Option<Date>,
}

/// The CPU work of one licence, prepared: run [`BulkJob::build`] on any thread.
#[derive(Debug)]
pub struct BulkJob {
    job: BuildJob,
    reservation: SerialReservation,
    issue_date: Date,
}

/// A licence that could not be built; its serial reservation is to be given back.
#[derive(Debug)]
pub struct BuildFailure {
    /// Why.
    pub message: String,
    /// The serial it had.
    pub reservation: SerialReservation,
}

impl BulkJob {
    /// Renders and signs the licence: the licence and its serial's reservation.
    pub fn build(self) -> Result<(NewLicence, SerialReservation), BuildFailure> {
        let Self { job, reservation, issue_date } = self;
        match job.build_dated(reservation.value, issue_date) {
            Ok(licence) => Ok((licence, reservation)),
            Err(e) => Err(BuildFailure { message: format!("cannot produce the licence: {e}"), reservation }),
        }
    }
}

/// What one seal, type and document need, checked once.
#[derive(Debug)]
struct Plan {
    seal: SealRecord,
    ctx: Arc<SealContext>,
    ofd_ctx: Option<Arc<SealContext>>,
    licence_type: LicenceType,
    issuer: Uscc,
    counter: String,
}

type PlanKey = (String, Option<String>, String, DocumentKind);

/// The stampers of one epoch, with the serials not yet promised to a licence.
#[derive(Debug)]
struct Epoch {
    now: OffsetDateTime,
    stampers: HashMap<Algorithm, (Arc<ReservedStamper>, u64)>,
    crls: HashMap<Algorithm, Vec<u8>>,
}

/// Prepares licences for bulk issuing (see the module documentation). Call
/// [`BulkIssuer::finish`] at the end to give back the serials reserved and not used.
#[derive(Debug)]
pub struct BulkIssuer {
    issuing: Issuing,
    block: u64,
    plans: HashMap<PlanKey, Result<Arc<Plan>, String>>,
    serials: HashMap<String, VecDeque<SerialReservation>>,
    epoch: Option<Epoch>,
    /// Documents made on first download instead ([`Issuing::issue_deferred`]).
    deferred: bool,
}

impl Issuing {
    /// A bulk issuer reserving licence serials `block` at a time (and time-stamp serials
    /// for `block` licences per algorithm and epoch).
    pub fn bulk(&self, block: u64) -> BulkIssuer {
        let block = block.clamp(1, crate::store::MAX_SERIAL_BLOCK);
        BulkIssuer {
            issuing: self.clone(),
            block,
            plans: HashMap::new(),
            serials: HashMap::new(),
            epoch: None,
            deferred: false,
        }
    }
}

impl BulkIssuer {
    /// The same issuer storing the record and token only: each licence's documents are
    /// made on its first download (the storage-saving mode; their signing time is then).
    pub fn deferred(mut self, deferred: bool) -> Self {
        self.deferred = deferred;
        self
    }
}

/// Whether an error is the item's (it goes to the error file and the run goes on) rather
/// than the platform's (the database or key store failed: the run stops).
pub fn is_item_error(e: &PlatformError) -> bool {
    matches!(
        e,
        PlatformError::InvalidInput { .. }
            | PlatformError::InvalidField { .. }
            | PlatformError::Forbidden(_)
            | PlatformError::NotFound(_)
            | PlatformError::Conflict(_)
            | PlatformError::Unprocessable(_)
            | PlatformError::DocumentUnsupportedForSeal(_)
    )
}

impl BulkIssuer {
    /// Checks `item` as [`Issuing::issue`] checks an operator's request and prepares its
    /// build at `now` (or at the current epoch's time): an error of the item (see
    /// [`is_item_error`]) or of the platform.
    pub async fn prepare(&mut self, item: BulkItem, now: OffsetDateTime) -> Result<BulkJob, PlatformError> {
        let plan = self.plan(&item).await?;
        let today = now.date();
        let issue_date = match item.issued_on {
            Some(d) if d > today => {
                return Err(PlatformError::InvalidInput {
                    field: "issued_on",
                    message: format!("{d} is after today ({today})"),
                });
            }
            Some(d) => d,
            None => today,
        };
        let checked = plan
            .licence_type
            .check(&item.input, issue_date)
            .map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?;
        let document = self.document_job(&plan, item.document, now).await?;
        let reservation = self.serial(&plan.counter, now).await?;
        let signed_at = self.epoch.as_ref().map_or(now, |e| e.now);
        let job = BuildJob {
            licence_type: plan.licence_type.clone(),
            checked,
            ctx: plan.ctx.clone(),
            document,
            issuer: plan.issuer.clone(),
            public_url: self.issuing.config.public_url.clone(),
            client_id: None,
            version: 1,
            replaces: None,
            renewal_serial: None,
            now: signed_at,
        };
        Ok(BulkJob { job, reservation, issue_date })
    }

    /// Gives back every serial reserved and not handed to a job.
    pub async fn finish(&mut self) -> Result<(), PlatformError> {
        let left: Vec<SerialReservation> = self.serials.drain().flat_map(|(_, q)| q).collect();
        self.issuing.store.release_serials(&left).await?;
        Ok(())
    }

    /// The checked plan of the item's seal, type and document (cached, errors too).
    async fn plan(&mut self, item: &BulkItem) -> Result<Arc<Plan>, PlatformError> {
        let key = (
            item.seal_id.trim().to_owned(),
            item.ofd_seal_id.clone(),
            item.type_code.trim().to_owned(),
            item.document,
        );
        if let Some(cached) = self.plans.get(&key) {
            return cached.clone().map_err(PlatformError::Conflict);
        }
        let planned = self.make_plan(item).await;
        let cached = match &planned {
            Ok(plan) => Ok(plan.clone()),
            Err(e) if is_item_error(e) => Err(e.to_string()),
            Err(_) => return planned,
        };
        self.plans.insert(key, cached);
        planned
    }

    /// The checks of [`Issuing::issue`] for the operator (no client, no renewal).
    async fn make_plan(&self, item: &BulkItem) -> Result<Arc<Plan>, PlatformError> {
        let store = self.issuing.store.as_ref();
        let seal = lookup::seal(store, &item.seal_id).await?;
        policy::seal_signs(&seal, item.document)?;
        let ofd_seal = match &item.ofd_seal_id {
            Some(id) => Some(lookup::seal(store, id).await?),
            None => None,
        };
        policy::ofd_seal_fits(item.document, &seal, ofd_seal.as_ref())?;
        let (licence_type, ctx) = self.issuing.issuable_type(&item.type_code, &seal).await?;
        let ofd_ctx = match (&ofd_seal, item.document) {
            (Some(s), _) => Some(self.issuing.pki.seal_context(&s.id).await?),
            (None, DocumentKind::Ofd) => Some(ctx.clone()),
            (None, _) => None,
        };
        let issuer =
            Uscc::parse(ctx.department.code.as_str()).map_err(|e| PlatformError::invalid("issuer", e))?;
        let counter = format!("licence:{issuer}:{}", licence_type.code);
        Ok(Arc::new(Plan { licence_type: licence_type.clone(), seal, ctx, ofd_ctx, issuer, counter }))
    }

    /// The next reserved serial of `counter`, reserving a block when none is left.
    async fn serial(
        &mut self,
        counter: &str,
        now: OffsetDateTime,
    ) -> Result<SerialReservation, PlatformError> {
        let queue = self.serials.entry(counter.to_owned()).or_default();
        if queue.is_empty() {
            queue.extend(self.issuing.store.reserve_serials(counter, self.block, now).await?);
        }
        queue.pop_front().ok_or_else(|| PlatformError::Conflict(format!("no serial of {counter} reserved")))
    }

    /// The documents' material for one licence, from the current epoch (a new one when a
    /// stamper has too few serials left).
    async fn document_job(
        &mut self,
        plan: &Plan,
        kind: DocumentKind,
        now: OffsetDateTime,
    ) -> Result<DocumentJob, PlatformError> {
        if self.deferred && kind != DocumentKind::None {
            let ofd_seal_id = match kind {
                DocumentKind::Ofd => Some(plan.seal.id.clone()),
                DocumentKind::Both => plan.ofd_ctx.as_ref().map(|c| c.seal_id.clone()),
                _ => None,
            };
            return Ok(DocumentJob { deferred: Some((kind, ofd_seal_id)), ..DocumentJob::default() });
        }
        let mut needs: Vec<(Algorithm, u64)> = Vec::new();
        if kind.has_pdf() {
            needs.push((plan.seal.algorithm, 2));
        }
        if kind.has_ofd() {
            needs.push((Algorithm::Sm2, 1));
        }
        let short = |epoch: &Epoch| {
            needs.iter().any(|(a, n)| epoch.stampers.get(a).is_some_and(|(_, left)| left < n))
        };
        if self.epoch.as_ref().is_none_or(short) {
            self.epoch = Some(Epoch { now, stampers: HashMap::new(), crls: HashMap::new() });
        }
        let mut stampers = HashMap::new();
        for (alg, n) in &needs {
            stampers.insert(*alg, self.stamper(*alg, *n).await?);
        }
        let epoch_now = self.epoch.as_ref().map_or(now, |e| e.now);
        let pdf = match stampers.get(&plan.seal.algorithm).filter(|_| kind.has_pdf()) {
            Some(stamper) => {
                Some(PdfJob { crl_der: self.crl(plan.seal.algorithm).await?, stamper: stamper.clone() })
            }
            None => None,
        };
        let ofd = match (&plan.ofd_ctx, stampers.get(&Algorithm::Sm2).filter(|_| kind.has_ofd())) {
            (Some(ctx), Some(stamper)) => {
                let stamper = stamper.clone() as Arc<dyn Stamper>;
                Some(self.issuing.ofd_job(ctx.clone(), epoch_now, Some(stamper)).await?)
            }
            _ => None,
        };
        Ok(DocumentJob { pdf, ofd, deferred: None })
    }

    /// The epoch's stamper of `alg`, `n` of its serials promised to one licence.
    async fn stamper(&mut self, alg: Algorithm, n: u64) -> Result<Arc<ReservedStamper>, PlatformError> {
        let Some(epoch) = self.epoch.as_mut() else {
            return Err(PlatformError::Task("no epoch".into()));
        };
        if !epoch.stampers.contains_key(&alg) {
            // Two time-stamps per PDF: enough for a block of licences.
            let count = 2 * self.block;
            let stamper = self.issuing.tsa.stamper(alg, count, epoch.now).await?;
            epoch.stampers.insert(alg, (Arc::new(stamper), count));
        }
        match epoch.stampers.get_mut(&alg) {
            Some((stamper, left)) if *left >= n => {
                *left -= n;
                Ok(stamper.clone())
            }
            _ => Err(PlatformError::Task(format!("the {alg} time-stamp block ran out"))),
        }
    }

    /// The root's CRL for the DSS of PDFs signed in this epoch.
    async fn crl(&mut self, alg: Algorithm) -> Result<Vec<u8>, PlatformError> {
        let Some(epoch) = self.epoch.as_mut() else {
            return Err(PlatformError::Task("no epoch".into()));
        };
        if let Some(der) = epoch.crls.get(&alg) {
            return Ok(der.clone());
        }
        let der = self.issuing.pki.dss_crl(alg, epoch.now).await?.der;
        epoch.crls.insert(alg, der.clone());
        Ok(der)
    }
}
