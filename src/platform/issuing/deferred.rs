//! Deferred documents (a bulk import's storage-saving mode): a licence issued with
//! [`Issuing::issue_deferred`] keeps its record and QR token; its PDF and/or OFD are made
//! on first download, from the stored record, by the seal that signed the token (and the
//! OFD seal named at issue), time-stamped and signed at that moment, then stored so that
//! every later download gets the same bytes.

use time::OffsetDateTime;

use crate::licence::{Document, LicenceRecord};
use crate::store::{LicenceRow, SealStatus};

use super::super::error::PlatformError;
use super::super::lookup;
use super::Issuing;
use super::build::DocumentMaker;
use super::issue::OfdStamp;

impl Issuing {
    /// The documents of `row`: as stored, or — if they were deferred — made now and
    /// stored (a concurrent first download may store first: its bytes are answered then).
    /// A seal revoked since the licence was issued signs nothing more: 409.
    pub async fn documents(&self, row: LicenceRow, now: OffsetDateTime) -> Result<Document, PlatformError> {
        let Some(kind) = row.licence.document.deferred() else {
            return Ok(row.licence.document);
        };
        let l = &row.licence;
        let seal = lookup::seal(self.store.as_ref(), &l.seal_id).await?;
        let ofd_seal = match (&l.ofd_seal_id, kind) {
            (Some(id), crate::licence::DocumentKind::Both) => {
                Some(lookup::seal(self.store.as_ref(), id).await?)
            }
            _ => None,
        };
        for s in std::iter::once(&seal).chain(ofd_seal.as_ref()) {
            if s.status != SealStatus::Active {
                return Err(PlatformError::Conflict(format!(
                    "the documents of licence {} were deferred and seal {} has been revoked since: it signs \
                     nothing more (the licence's record and QR token remain verifiable)",
                    l.id, s.id
                )));
            }
        }
        let licence_type = self.licence_type(&l.type_code)?.clone();
        let record = LicenceRecord::from_cbor(&l.record_cbor)
            .map_err(|e| PlatformError::Unprocessable(format!("the stored record of {}: {e}", l.id)))?;
        let ctx = self.pki.seal_context(&seal.id).await?;
        let job = self.document_job(kind, &seal, ofd_seal.as_ref(), &ctx, OfdStamp::Platform, now).await?;
        let (public_url, token) = (self.config.public_url.clone(), l.token.clone());
        let document = self
            .cpu("making deferred documents", move || {
                let maker =
                    DocumentMaker { licence_type: &licence_type, ctx: &ctx, public_url: &public_url, now };
                maker.make(&job, &record, &token)
            })
            .await?
            .map_err(|e| PlatformError::Unprocessable(e.to_string()))?;
        if self.store.complete_deferred(&l.id, &document).await? {
            return Ok(document);
        }
        // Another download stored them first: answer what is stored.
        Ok(lookup::licence(self.store.as_ref(), &l.id).await?.licence.document)
    }
}
