//! Building one licence from checked input: the record, the QR token, and its documents —
//! the page as a PDF signed with the seal and carrying the root's CRL in its DSS, the same
//! page as an OFD with a GB/T 38540 seal signature (`ofd.rs`), both, or none for a
//! data-only licence. CPU work only (no store, no clock): it runs on a blocking
//! thread.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::codes::{LicenceId, Uscc};
use crate::licence::{CheckedInput, Document, DocumentKind, LicenceRecord, LicenceType};
use crate::pdf;
use crate::store::NewLicence;
use crate::token::{self, LicenceClaims};
use crate::tsa;

use super::super::tsa::ReservedStamper;

use super::super::pki::SealContext;
use super::ofd::OfdJob;
use super::page::licence_page;

/// Why building a licence failed (a rendering, signing or identifier error); nothing
/// was stored.
pub(super) type BuildError = Box<dyn std::error::Error + Send + Sync>;

/// Everything building one licence needs, owned, so that it runs on a blocking thread.
#[derive(Debug)]
pub(super) struct BuildJob {
    pub(super) licence_type: LicenceType,
    pub(super) checked: CheckedInput,
    pub(super) ctx: Arc<SealContext>,
    pub(super) document: DocumentJob,
    pub(super) issuer: Uscc,
    pub(super) public_url: String,
    pub(super) client_id: Option<String>,
    pub(super) version: u16,
    pub(super) replaces: Option<String>,
    /// The serial a renewal keeps.
    pub(super) renewal_serial: Option<String>,
    pub(super) now: OffsetDateTime,
}

/// The documents to build beside record and token.
#[derive(Debug, Default)]
pub(super) struct DocumentJob {
    /// The signed PDF; `None`: no PDF.
    pub(super) pdf: Option<PdfJob>,
    /// The signed OFD; `None`: no OFD.
    pub(super) ofd: Option<OfdJob>,
    /// Documents of this kind made on first download instead (neither `pdf` nor `ofd`
    /// then), and the seal that will sign the OFD, if there is one.
    pub(super) deferred: Option<(DocumentKind, Option<String>)>,
}

impl DocumentJob {
    /// The seal that signs the OFD, if there is one.
    fn ofd_seal_id(&self) -> Option<String> {
        self.ofd.as_ref().map(|job| job.seal_id().to_owned())
    }
}

/// Who makes a licence's documents from its record and token: its type's page, signed with
/// the seal at `now`. At issue, or on first download for deferred documents.
pub(super) struct DocumentMaker<'a> {
    pub(super) licence_type: &'a LicenceType,
    pub(super) ctx: &'a SealContext,
    pub(super) public_url: &'a str,
    pub(super) now: OffsetDateTime,
}

impl DocumentMaker<'_> {
    /// The documents `job` asks for.
    pub(super) fn make(
        &self,
        job: &DocumentJob,
        record: &LicenceRecord,
        token: &[u8],
    ) -> Result<Document, BuildError> {
        let pdf = match &job.pdf {
            Some(pdf_job) => Some(self.signed_pdf(record, token, pdf_job)?),
            None => None,
        };
        let ofd = match &job.ofd {
            Some(ofd_job) => Some(self.signed_ofd(ofd_job, record, token)?),
            None => None,
        };
        Ok(Document::of(pdf, ofd))
    }

    /// The licence's page, rendered and signed as PAdES B-LTA ([`sign_page`]).
    fn signed_pdf(&self, record: &LicenceRecord, token: &[u8], job: &PdfJob) -> Result<Vec<u8>, BuildError> {
        let url = token::qr_url(self.public_url, token);
        let page = licence_page(self.licence_type, record, &url, self.now);
        let reason = format!("{}电子证照签发", self.licence_type.name);
        sign_page(&page, self.ctx, job, reason, self.now)
    }
}

/// What the PDF needs besides the seal: PAdES B-LTA material.
#[derive(Debug)]
pub(super) struct PdfJob {
    /// The root's CRL with thisUpdate at or after the signing time, for the DSS.
    pub(super) crl_der: Vec<u8>,
    /// The time-stamping unit of the seal's algorithm, two serials reserved: the
    /// signature time-stamp and the document time-stamp.
    pub(super) stamper: Arc<ReservedStamper>,
}

impl BuildJob {
    /// Builds record, token and document (a PDF with DSS, or none) for serial number `n`.
    pub(super) fn build(self, n: u64) -> Result<NewLicence, BuildError> {
        let issue_date = self.now.date();
        self.build_dated(n, issue_date)
    }

    /// [`BuildJob::build`] for a record whose issue date (颁证日期) is `issue_date` (an
    /// imported licence's original date); documents and token are signed at `now`.
    pub(super) fn build_dated(self, n: u64, issue_date: time::Date) -> Result<NewLicence, BuildError> {
        let serial = match &self.renewal_serial {
            Some(serial) => serial.clone(),
            None => format!("{}{n:07}", self.now.date().year()),
        };
        let id = LicenceId::new(&self.licence_type.code, &self.issuer, &serial, self.version)?;
        let record = self.record(&id, &serial, issue_date);
        let record_cbor = record.to_cbor();
        let record_hash = Sha256::digest(&record_cbor).to_vec();
        let token = token::sign(&self.claims(&record, &record_hash), &self.ctx.kid, &self.ctx.signer)?;
        let (document, ofd_seal_id) = match &self.document.deferred {
            Some((kind, ofd_seal_id)) => (Document::Deferred(*kind), ofd_seal_id.clone()),
            None => (self.maker().make(&self.document, &record, &token)?, self.document.ofd_seal_id()),
        };
        Ok(NewLicence {
            id: id.to_string(),
            type_code: record.type_code,
            issuer_code: record.issuer_code,
            serial,
            version: self.version,
            holder_code: record.holder_code,
            holder_code_type: record.holder_code_type,
            holder_name: record.holder_name,
            seal_id: self.ctx.seal_id.clone(),
            issued_at: self.now,
            valid_from: record.valid_from,
            valid_until: record.valid_until,
            record_cbor,
            record_hash,
            token,
            document,
            ofd_seal_id,
            replaces: record.replaces,
            client_id: self.client_id,
        })
    }

    /// The record of licence `id`.
    fn record(&self, id: &LicenceId, serial: &str, issue_date: time::Date) -> LicenceRecord {
        let (t, checked, department) = (&self.licence_type, &self.checked, &self.ctx.department);
        let licence_number = match &t.number_field {
            Some(key) => checked.fields.get(key).cloned().unwrap_or_else(|| serial.to_owned()),
            None => serial.to_owned(),
        };
        LicenceRecord {
            identifier: id.to_string(),
            licence_name: t.name.clone(),
            licence_number,
            type_code: t.code.to_string(),
            type_name: t.name.clone(),
            issuer_code: self.issuer.to_string(),
            issuer_name: department.name.clone(),
            definer_code: t.definer_code.to_string(),
            definer_name: t.definer_name.clone(),
            area_code: department.area.to_string(),
            issue_date: issue_date.to_string(),
            valid_from: checked.valid_from.to_string(),
            valid_until: checked.valid_until.map(|d| d.to_string()),
            holder_name: checked.holder_name.clone(),
            holder_code: checked.holder_code.clone(),
            holder_code_type: checked.holder_code_type.code().to_owned(),
            matter_code: checked.matter.as_ref().map(|m| m.code.clone()),
            matter_name: checked.matter.as_ref().map(|m| m.name.clone()),
            fields: checked.fields.clone(),
            seal_id: self.ctx.seal_id.clone(),
            version: self.version,
            replaces: self.replaces.clone(),
        }
    }

    /// What the QR token says about `record`.
    fn claims(&self, record: &LicenceRecord, record_hash: &[u8]) -> LicenceClaims {
        let checked = &self.checked;
        LicenceClaims {
            issuer: self.issuer.to_string(),
            issued_at: self.now.unix_timestamp(),
            expires_at: checked
                .valid_until
                .and_then(|d| d.next_day())
                .map(|d| d.midnight().assume_offset(time::macros::offset!(+8)).unix_timestamp()),
            licence_id: record.identifier.clone(),
            holder_name: checked.holder_name.clone(),
            holder_code_masked: record.public_holder_code(),
            valid_from: checked.valid_from.to_string(),
            valid_until: checked.valid_until.map(|d| d.to_string()),
            record_hash: record_hash.to_vec(),
        }
    }

    /// The maker of this licence's documents.
    fn maker(&self) -> DocumentMaker<'_> {
        DocumentMaker {
            licence_type: &self.licence_type,
            ctx: &self.ctx,
            public_url: &self.public_url,
            now: self.now,
        }
    }
}

/// A page rendered and signed with the seal of `ctx` as PAdES B-LTA: the signature
/// time-stamped, the seal's and the time-stamping unit's chains and the CRL in the DSS,
/// then a document time-stamp over it all. Licences and bundle receipts are signed here.
pub(super) fn sign_page(
    page: &pdf::LicencePage,
    ctx: &SealContext,
    job: &PdfJob,
    reason: String,
    now: OffsetDateTime,
) -> Result<Vec<u8>, BuildError> {
    let rendered = pdf::render(page)?;
    let params = pdf::SignParams {
        signer: &ctx.signer,
        cert_chain_der: ctx.chain.clone(),
        signing_time: now,
        seal: &ctx.drawing,
        appearance: Some(
            ctx.appearance.get_or_init(|| pdf::SealAppearance::new(&ctx.drawing, rendered.seal_rect_mm)),
        ),
        seal_rect_mm: rendered.seal_rect_mm,
        reason: Some(reason),
        location: None,
        name: Some(ctx.department.name.clone()),
        stamper: Some(job.stamper.as_ref()),
    };
    // The seal's chain, then the TSA's certificate (its root is the seal's root).
    let mut certs = ctx.chain.clone();
    certs.extend(tsa::Stamper::chain(job.stamper.as_ref()).into_iter().filter(|c| !ctx.chain.contains(c)));
    let dss = pdf::Dss { certs: &certs, crls: std::slice::from_ref(&job.crl_der), doc_timestamp: true };
    Ok(pdf::sign_rendered(&rendered, &params, Some(dss))?)
}
