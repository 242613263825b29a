//! The OFD rendition of a licence: the same page as the PDF, written as an OFD package
//! ([`crate::ofd::render`]) and signed with a GB/T 38540 seal signature
//! ([`crate::ofd::sign`], [`crate::ses::sign`]) by an SM2 seal, whose `SES_Seal` the
//! platform's seal maker made. With a time-stamping authority ([`crate::tsa::Stamper`]) the
//! signature carries its time-stamp in `timeStamp`.

use std::sync::Arc;

use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use super::super::error::PlatformError;
use super::super::pki::SealContext;
use super::Issuing;
use super::build::{BuildError, DocumentMaker};
use super::page::licence_page;
use crate::licence::LicenceRecord;
use crate::ofd::{self, Boundary, OfdOptions, SignSpec};
use crate::tsa::Stamper;
use crate::{ses, token};

/// The signing software named in every OFD signature (`Provider/@ProviderName`).
pub const OFD_PROVIDER: &str = "Zhengzhao";

/// What signing one licence's OFD needs: the SM2 seal and its `SES_Seal`, and the
/// time-stamping authority, if the signature is to be time-stamped.
pub(super) struct OfdJob {
    ctx: Arc<SealContext>,
    /// DER of the seal's `SES_Seal`.
    ses_seal: Vec<u8>,
    /// The namespace of the metadata tags (`ofd_tag_namespace`).
    tag_namespace: String,
    /// Time-stamps the signature value (`SES_Signature.timeStamp`); `None`: no time-stamp.
    stamper: Option<Arc<dyn Stamper>>,
}

impl std::fmt::Debug for OfdJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfdJob")
            .field("seal_id", &self.ctx.seal_id)
            .field("tag_namespace", &self.tag_namespace)
            .field("time_stamped", &self.stamper.is_some())
            .finish_non_exhaustive()
    }
}

impl OfdJob {
    /// The seal that signs the OFD.
    pub(super) fn seal_id(&self) -> &str {
        &self.ctx.seal_id
    }
}

impl Issuing {
    /// The OFD job for the SM2 seal of `ctx`: its `SES_Seal`, read from the store or made
    /// by the seal maker and stored on first need; `stamper` time-stamps the signature.
    pub(super) async fn ofd_job(
        &self,
        ctx: Arc<SealContext>,
        now: OffsetDateTime,
        stamper: Option<Arc<dyn Stamper>>,
    ) -> Result<OfdJob, PlatformError> {
        let ses_seal = self.pki.ses_seal(&ctx.seal_id, now).await?;
        Ok(OfdJob { ctx, ses_seal, tag_namespace: self.config.ofd_tag_namespace.clone(), stamper })
    }
}

impl DocumentMaker<'_> {
    /// The licence's page as an OFD package signed with the job's seal: `Signature.xml`
    /// digests every file with SM3, and `SignedValue.dat` is the `SES_Signature` over it,
    /// time-stamped when the job has a stamper.
    pub(super) fn signed_ofd(
        &self,
        job: &OfdJob,
        record: &LicenceRecord,
        token: &[u8],
    ) -> Result<Vec<u8>, BuildError> {
        let url = token::qr_url(self.public_url, token);
        let page = licence_page(self.licence_type, record, &url, self.now);
        let options = OfdOptions { signed: true, tag_namespace: job.tag_namespace.clone() };
        let rendered = ofd::render(&page, &options)?;
        let stamp_annot_id = rendered.stamp_annot_id.ok_or("the OFD writer kept no StampAnnot ID")?;
        let b = rendered.seal_boundary;
        let spec = SignSpec {
            provider_name: OFD_PROVIDER.to_owned(),
            provider_version: env!("CARGO_PKG_VERSION").to_owned(),
            provider_company: String::new(),
            signature_date_time: self.now,
            page_id: u64::from(rendered.page_id),
            stamp_boundary: Boundary {
                x: f64::from(b.x),
                y: f64::from(b.y),
                width: f64::from(b.width),
                height: f64::from(b.height),
            },
            stamp_annot_id: u64::from(stamp_annot_id),
        };
        let cert = job.ctx.chain.first().ok_or("the seal has no certificate")?;
        let mut package = rendered.package;
        ofd::sign(&mut package, &spec, |tbs| {
            let data_hash = Sm3::digest(tbs.xml);
            let stamper = job.stamper.as_deref();
            ses::sign(&job.ses_seal, self.now, &data_hash, tbs.property_info, cert, &job.ctx.signer, stamper)
        })?;
        Ok(package.to_zip()?)
    }
}
