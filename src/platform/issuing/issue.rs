//! Issuing one licence: the checks in order (`policy.rs`), then the build on a blocking
//! thread (`build.rs`) with a serial reserved before (`serial.rs`), then one short
//! transaction that stores it.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::codes::Uscc;
use crate::licence::{CheckedInput, DocumentKind, LicenceType};
use crate::store::{IdempotencyClaim, IssueOutcome, LicenceRow, NewLicence, SealRecord};
use crate::token;
use crate::tsa::Stamper;

use super::super::delegations::delegated_issue_entry;
use super::super::error::PlatformError;
use super::super::lookup;
use super::super::pki::SealContext;
use super::build::{BuildJob, DocumentJob, PdfJob};
use super::{IssueRequest, IssuedLicence, Issuing, policy};

impl Issuing {
    /// Issues a licence. Checks, in order: the seal exists; an API client has the `issue`
    /// scope, belongs to the seal's department and may use the type; the seal is active
    /// and its algorithm can sign the document asked for; the input fits the type. Then
    /// builds, signs and stores everything atomically. The platform's time-stamping
    /// authority stamps in process: the PDF's signature (PAdES B-T) and its document
    /// time-stamp after the DSS (B-LTA) by the unit of the seal's algorithm, the OFD's seal
    /// signature (`timeStamp`) by the SM2 unit.
    pub async fn issue(
        &self,
        request: IssueRequest,
        now: OffsetDateTime,
    ) -> Result<IssuedLicence, PlatformError> {
        self.issue_with(request, now, OfdStamp::Platform, false).await
    }

    /// [`Issuing::issue`] with the documents deferred: the record and the QR token are
    /// stored now, the PDF and/or OFD are rendered and signed on first download (and their
    /// signing time is then), which keeps a bulk import's storage to the record. Nothing
    /// is time-stamped or reserved for them now.
    pub async fn issue_deferred(
        &self,
        request: IssueRequest,
        now: OffsetDateTime,
    ) -> Result<IssuedLicence, PlatformError> {
        self.issue_with(request, now, OfdStamp::Platform, true).await
    }

    /// [`Issuing::issue`] with the OFD's seal signature time-stamped by `ofd_stamper`
    /// instead of the platform's SM2 unit, or not at all with `None` (tools and tests that
    /// bring their own authority, or need a signature as older versions made it). The PDF
    /// is stamped by the platform as always.
    pub async fn issue_stamped(
        &self,
        request: IssueRequest,
        now: OffsetDateTime,
        ofd_stamper: Option<Arc<dyn Stamper>>,
    ) -> Result<IssuedLicence, PlatformError> {
        self.issue_with(request, now, OfdStamp::Given(ofd_stamper), false).await
    }

    async fn issue_with(
        &self,
        request: IssueRequest,
        now: OffsetDateTime,
        ofd_stamp: OfdStamp,
        defer: bool,
    ) -> Result<IssuedLicence, PlatformError> {
        let authorised = self.authorise(&request).await?;
        // An API client must make its request repeatable: a blind retry without a key
        // would issue a second licence (a legal document). Checked after the client's
        // rights, so that a client that may not issue learns that first.
        if request.client.is_some() && request.idempotency_key.is_none() {
            return Err(PlatformError::IdempotencyKeyRequired);
        }
        // A retry is answered before the renewal is judged: after a renewal succeeded, the
        // old version is superseded, and its retry must still get the new version back.
        let mut idempotency =
            policy::idempotency_claim(&request, &authorised.seal.id, &authorised.licence_type)?;
        // Documents now and documents on download are different requests.
        if let Some(claim) = idempotency.as_mut().filter(|_| defer) {
            use sha2::Digest as _;
            claim.request_hash = sha2::Sha256::new()
                .chain_update(&claim.request_hash)
                .chain_update(b"deferred")
                .finalize()
                .to_vec();
        }
        if let Some(claim) = &idempotency
            && let Some(row) = self.store.replay_issue(claim).await?
        {
            return self.answer(&request, authorised.delegation.as_deref(), row.licence, true, now).await;
        }
        let renewal = match &request.renews {
            None => None,
            Some(old_id) => {
                let old = lookup::licence(self.store.as_ref(), old_id).await?;
                let issuer = authorised.seal.department_code.as_str();
                policy::may_renew(&old, old_id, issuer, &authorised.licence_type)?;
                Some(old)
            }
        };
        let checked = authorised
            .licence_type
            .check(&request.input, now.date())
            .map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?;
        if let Some(old) = &renewal {
            policy::keeps_holder(old, &checked)?;
        }
        let client_id = request.client.as_ref().map(|c| c.id.clone());
        let documents = if defer { Documents::Deferred } else { Documents::Now(ofd_stamp) };
        let delegation = authorised.delegation.clone();
        let job = self.build_job(authorised, checked, renewal.as_ref(), client_id, documents, now).await?;
        let (licence, replayed) = self.build_and_store(job, renewal.as_ref(), idempotency, now).await?;
        self.answer(&request, delegation.as_deref(), licence, replayed, now).await
    }

    async fn answer(
        &self,
        request: &IssueRequest,
        delegation: Option<&str>,
        licence: NewLicence,
        replayed: bool,
        now: OffsetDateTime,
    ) -> Result<IssuedLicence, PlatformError> {
        if let (Some(client), Some(delegation)) = (&request.client, delegation) {
            let subject =
                (licence.id.as_str(), licence.holder_code_type.as_str(), licence.holder_code.as_str());
            let entry = delegated_issue_entry(client, delegation, subject, replayed, now);
            self.access_log.append(entry).await?;
        }
        Ok(issued(&self.config.public_url, licence, replayed))
    }

    /// The checks of a request that need no input but its names, in order: the seal
    /// exists; an API client may issue the type with it; the seal is active and its
    /// algorithm can sign the document asked for; the OFD seal fits; the type exists and
    /// the department may issue it. Reads only.
    pub(super) async fn authorise(&self, request: &IssueRequest) -> Result<Authorised, PlatformError> {
        let seal = lookup::seal(self.store.as_ref(), &request.seal_id).await?;
        // The delegation the client issues under (`None`: its own department's seal, or the operator).
        let delegation = match &request.client {
            Some(client) => {
                policy::client_may_issue(self.store.as_ref(), client, &seal, &request.type_code).await?
            }
            None => None,
        };
        // Before anything is built or stored: an SM2 seal signs no PDF, only SM2 seals sign
        // OFDs, and a `both` licence names its OFD seal.
        policy::seal_signs(&seal, request.document)?;
        let ofd_seal = match &request.ofd_seal_id {
            Some(id) => Some(lookup::seal(self.store.as_ref(), id).await?),
            None => None,
        };
        if let (Some(client), Some(ofd_seal)) = (&request.client, &ofd_seal) {
            policy::client_may_issue(self.store.as_ref(), client, ofd_seal, &request.type_code).await?;
        }
        policy::ofd_seal_fits(request.document, &seal, ofd_seal.as_ref())?;
        let (licence_type, ctx) = self.issuable_type(&request.type_code, &seal).await?;
        let licence_type = licence_type.clone();
        Ok(Authorised { seal, ofd_seal, licence_type, ctx, document: request.document, delegation })
    }

    /// The licence type `code` and the context of `seal`, whose department (as the seal
    /// context keeps it, read once per seal) must be authorised for the type.
    pub(super) async fn issuable_type(
        &self,
        code: &str,
        seal: &SealRecord,
    ) -> Result<(&LicenceType, Arc<SealContext>), PlatformError> {
        let licence_type = self.licence_type(code)?;
        let ctx = self.pki.seal_context(&seal.id).await?;
        policy::department_may_issue(&ctx.department, licence_type)?;
        Ok((licence_type, ctx))
    }

    /// The build of an authorised request with checked input: its documents' material
    /// reserved (time-stamp serials, the DSS CRL).
    pub(super) async fn build_job(
        &self,
        authorised: Authorised,
        checked: CheckedInput,
        renewal: Option<&LicenceRow>,
        client_id: Option<String>,
        documents: Documents,
        now: OffsetDateTime,
    ) -> Result<BuildJob, PlatformError> {
        let Authorised { seal, ofd_seal, licence_type, ctx, document, .. } = authorised;
        let document = match documents {
            Documents::Now(ofd_stamp) => {
                self.document_job(document, &seal, ofd_seal.as_ref(), &ctx, ofd_stamp, now).await?
            }
            Documents::Deferred if document == DocumentKind::None => DocumentJob::default(),
            Documents::Deferred => {
                let ofd_seal_id = match document {
                    DocumentKind::Ofd => Some(seal.id.clone()),
                    DocumentKind::Both => ofd_seal.as_ref().map(|s| s.id.clone()),
                    _ => None,
                };
                DocumentJob { deferred: Some((document, ofd_seal_id)), ..DocumentJob::default() }
            }
        };
        let issuer =
            Uscc::parse(ctx.department.code.as_str()).map_err(|e| PlatformError::invalid("issuer", e))?;
        Ok(BuildJob {
            licence_type,
            checked,
            ctx,
            document,
            issuer,
            public_url: self.config.public_url.clone(),
            client_id,
            version: renewal.map_or(1, |old| old.licence.version + 1),
            replaces: renewal.map(|old| old.licence.id.clone()),
            renewal_serial: renewal.map(|old| old.licence.serial.clone()),
            now,
        })
    }

    /// What the documents need besides the seal: for a PDF the DSS CRL and a stamper with
    /// two serials reserved; for an OFD the seal's `SES_Seal` and the OFD's stamper.
    pub(super) async fn document_job(
        &self,
        kind: DocumentKind,
        seal: &SealRecord,
        ofd_seal: Option<&SealRecord>,
        ctx: &Arc<SealContext>,
        ofd_stamp: OfdStamp,
        now: OffsetDateTime,
    ) -> Result<DocumentJob, PlatformError> {
        // Only a PDF carries a CRL (and may need a fresh one signed), and two time-stamps
        // (the signature's and the document's), whose serials are reserved now.
        let pdf = match kind.has_pdf() {
            true => Some(PdfJob {
                crl_der: self.pki.dss_crl(seal.algorithm, now).await?.der,
                stamper: Arc::new(self.tsa.stamper(seal.algorithm, 2, now).await?),
            }),
            false => None,
        };
        let ofd_stamper = match ofd_stamp {
            OfdStamp::Given(stamper) => stamper,
            OfdStamp::Platform if kind.has_ofd() => {
                Some(Arc::new(self.tsa.stamper(crate::pki::Algorithm::Sm2, 1, now).await?) as Arc<dyn Stamper>)
            }
            OfdStamp::Platform => None,
        };
        let ofd = match (kind, ofd_seal) {
            (DocumentKind::Ofd, _) => Some(self.ofd_job(ctx.clone(), now, ofd_stamper).await?),
            (DocumentKind::Both, Some(ofd_seal)) => {
                Some(self.ofd_job(self.pki.seal_context(&ofd_seal.id).await?, now, ofd_stamper).await?)
            }
            _ => None,
        };
        Ok(DocumentJob { pdf, ofd, deferred: None })
    }

    /// The serial comes from the reservations this process holds (`serial.rs`); the
    /// licence is built outside any transaction, on one of the rendering threads
    /// (`builders.rs`); then one short transaction stores it. A failure gives the serial
    /// back.
    async fn build_and_store(
        &self,
        job: BuildJob,
        renewal: Option<&LicenceRow>,
        idempotency: Option<IdempotencyClaim>,
        now: OffsetDateTime,
    ) -> Result<(NewLicence, bool), PlatformError> {
        let reservation = match renewal {
            None => {
                let counter = format!("licence:{}:{}", job.issuer, job.licence_type.code);
                Some(self.serials.take(self.store.as_ref(), &counter, now).await?)
            }
            Some(_) => None,
        };
        let serial = reservation.as_ref().map_or(0, |r| r.reservation.value);
        let built = self.cpu("building the licence", move || job.build(serial)).await;
        let stored = match built {
            Ok(Ok(licence)) => self
                .store
                .store_licence(reservation.as_ref().map(|r| &r.reservation), idempotency.as_ref(), licence)
                .await
                .map_err(PlatformError::from),
            Ok(Err(e)) => Err(PlatformError::Unprocessable(e.to_string())),
            Err(e) => Err(e),
        };
        match (stored, reservation) {
            (Ok(IssueOutcome::Issued(row)), r) => {
                if let Some(r) = r {
                    r.keep();
                }
                Ok((row.licence, false))
            }
            (Ok(IssueOutcome::Replayed(row)), r) => {
                if let Some(r) = r {
                    r.release();
                }
                Ok((row.licence, true))
            }
            (Err(e), r) => {
                if let Some(r) = r {
                    r.release();
                }
                Err(e)
            }
        }
    }
}

/// The answer for a stored licence.
pub(super) fn issued(public_url: &str, l: NewLicence, replayed: bool) -> IssuedLicence {
    IssuedLicence {
        url: token::qr_url(public_url, &l.token),
        identifier: l.id,
        token: l.token,
        document: l.document,
        record_hash: l.record_hash,
        replayed,
    }
}

/// A request whose names passed [`Issuing::authorise`].
#[derive(Debug)]
pub(super) struct Authorised {
    pub(super) seal: SealRecord,
    pub(super) ofd_seal: Option<SealRecord>,
    pub(super) licence_type: LicenceType,
    pub(super) ctx: Arc<SealContext>,
    pub(super) document: DocumentKind,
    /// The delegation an API client issues under (`None`: its own department's seal, or
    /// the operator).
    pub(super) delegation: Option<String>,
}

/// When a licence's documents are made.
pub(super) enum Documents {
    /// With the licence, the OFD's seal signature time-stamped as said.
    Now(OfdStamp),
    /// On first download.
    Deferred,
}

/// Who time-stamps the OFD's seal signature.
pub(super) enum OfdStamp {
    /// The platform's SM2 time-stamping unit.
    Platform,
    /// This stamper, or none.
    Given(Option<Arc<dyn Stamper>>),
}
