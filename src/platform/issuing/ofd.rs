//! The OFD rendition of a licence: the same page as the PDF, written as an OFD package
//! ([`crate::ofd`]) and signed with a GB/T 38540 seal signature ([`crate::ses`]) by an SM2
//! seal, whose `SES_Seal` the seal maker made.

use std::sync::Arc;

use super::super::error::PlatformError;
use super::super::pki::SealContext;
use super::Issuing;
use super::build::{BuildError, BuildJob};
use crate::licence::LicenceRecord;

/// What signing one licence's OFD needs: the SM2 seal and its `SES_Seal`.
#[derive(Debug)]
pub(super) struct OfdJob {
    ctx: Arc<SealContext>,
    /// DER of the seal's `SES_Seal`.
    ses_seal: Vec<u8>,
}

impl OfdJob {
    /// The seal that signs the OFD.
    pub(super) fn seal_id(&self) -> &str {
        &self.ctx.seal_id
    }
}

impl Issuing {
    /// The OFD job for the SM2 seal of `ctx` (its `SES_Seal` read or made once).
    pub(super) async fn ofd_job(&self, ctx: Arc<SealContext>) -> Result<OfdJob, PlatformError> {
        let _ = &self.pki;
        Ok(OfdJob { ses_seal: Vec::new(), ctx })
    }
}

impl BuildJob {
    /// The licence's page as an OFD, signed with the job's seal.
    pub(super) fn signed_ofd(
        &self,
        job: &OfdJob,
        _record: &LicenceRecord,
        _token: &[u8],
    ) -> Result<Vec<u8>, BuildError> {
        let _ = &job.ses_seal;
        Err("OFD issuing is being built".into())
    }
}
