//! The platform as GB/T 38540 seal maker (制章者): its SM2 key and certificate under the
//! SM2 root, the `SES_Seal` of each SM2 seal (made when the seal is created, or on first
//! need for seals made before, and stored with the seal), and seal signatures.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::pki::{self, Algorithm, PrivateKey};
use crate::seal;
use crate::ses;
use crate::signing::SealSigner;
use crate::store::{Department, SealMakerRecord, SealRecord};

use super::super::error::PlatformError;
use super::super::lookup;
use super::{BACKDATE, Pki};

/// The seal maker's key name in the key store.
const MAKER_KEY: &str = "seal-maker-sm2";

/// The seal maker: its key and certificate.
#[derive(Debug)]
pub struct SealMaker {
    signer: SealSigner,
    /// The maker certificate, DER (issued by the SM2 root).
    pub cert_der: Vec<u8>,
}

impl Pki {
    /// The seal maker, made now if there is none: a new SM2 key in the key store (0600,
    /// encrypted with the passphrase if one is set), a certificate from the SM2 root valid
    /// as long as the root, and its record. `init` and `serve` call it; it needs the SM2
    /// root (else [`PlatformError::NotFound`]).
    pub async fn seal_maker(&self, now: OffsetDateTime) -> Result<Arc<SealMaker>, PlatformError> {
        if let Some(m) = self.seal_maker.lock().ok().and_then(|m| m.clone()) {
            return Ok(m);
        }
        let record = match self.store.seal_maker().await? {
            Some(record) => record,
            None => self.make_seal_maker(now).await?,
        };
        let key = self.keys.read(&record.key_name)?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|error| PlatformError::Signing { key: "seal maker".into(), error })?;
        let maker = Arc::new(SealMaker { signer, cert_der: record.cert_der });
        if let Ok(mut cache) = self.seal_maker.lock() {
            *cache = Some(maker.clone());
        }
        Ok(maker)
    }

    /// Whether the seal maker exists (a data directory made before it needs `init` or a
    /// start of `serve` to make it).
    pub async fn has_seal_maker(&self) -> Result<bool, PlatformError> {
        Ok(self.store.seal_maker().await?.is_some())
    }

    async fn make_seal_maker(&self, now: OffsetDateTime) -> Result<SealMakerRecord, PlatformError> {
        let root = self.root_with_key(Algorithm::Sm2).await?;
        // A key left by an interrupted start is reused, never replaced.
        let (key, fresh) = if self.keys.exists(MAKER_KEY)? {
            (self.keys.read(MAKER_KEY)?, false)
        } else {
            let key = PrivateKey::generate(Algorithm::Sm2, &self.rng)?;
            self.keys.write_new(MAKER_KEY, &key)?;
            (key, true)
        };
        let result = async {
            let platform = self.platform().await?;
            let root_info = pki::cert_info(&root.0.cert_der)?;
            let cert_der = pki::issue_seal_maker_cert(
                &platform.name,
                &key.public_key_spki_der(),
                &root.0.cert_der,
                &root.1,
                now - BACKDATE,
                root_info.not_after,
                pki::random_serial(&self.rng)?,
            )?;
            let record = SealMakerRecord { cert_der, key_name: MAKER_KEY.to_owned(), created_at: now };
            match self.store.insert_seal_maker(&record).await {
                Ok(()) => Ok(record),
                // Another process made it first: theirs stands.
                Err(crate::store::StoreError::Conflict(_)) => {
                    self.store.seal_maker().await?.ok_or_else(|| PlatformError::Conflict("seal maker".into()))
                }
                Err(e) => Err(e.into()),
            }
        }
        .await;
        if result.is_err() && fresh {
            self.keys.discard(MAKER_KEY);
        }
        result
    }

    /// The `SES_Seal` (DER, GB/T 38540 v4) of an SM2 seal: the stored one, or made now by
    /// the seal maker and stored. A seal of another algorithm is
    /// [`PlatformError::InvalidInput`] (GB/T 38540 is SM2 only).
    pub async fn ses_seal(&self, seal_id: &str, now: OffsetDateTime) -> Result<Vec<u8>, PlatformError> {
        let seal = self.seal(seal_id).await?;
        if seal.algorithm != Algorithm::Sm2 {
            return Err(PlatformError::InvalidInput {
                field: "seal",
                message: format!(
                    "seal {} uses {}; GB/T 38540 electronic seals are SM2 only",
                    seal.id,
                    seal.algorithm.label()
                ),
            });
        }
        if let Some(der) = self.store.ses_seal(&seal.id).await? {
            return Ok(der);
        }
        let department = lookup::department(self.store.as_ref(), seal.department_code.as_str()).await?;
        let der = self.make_ses_seal(&seal, &department, now).await?;
        Ok(self.store.keep_ses_seal(&seal.id, &der).await?)
    }

    /// Makes (does not store) the `SES_Seal` of an SM2 seal: id = the seal id, type
    /// 单位印章, name = department name and seal name, the seal certificate in the list,
    /// created at the seal's creation, valid as its certificate, the drawn seal as PNG.
    pub(super) async fn make_ses_seal(
        &self,
        seal: &SealRecord,
        department: &Department,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, PlatformError> {
        let maker = self.seal_maker(now).await?;
        let info = pki::cert_info(&seal.cert_der)?;
        let picture = ses::picture_of(&seal::draw(&department.name, &seal.name)?)?;
        let name = format!("{}{}", department.name, seal.name);
        let spec = ses::SealSpec {
            es_id: &seal.id,
            seal_type: ses::SEAL_TYPE_ORGANISATION,
            name: &name,
            seal_cert_der: &seal.cert_der,
            create_date: seal.created_at,
            valid_start: info.not_before,
            valid_end: info.not_after,
            picture: &picture,
        };
        Ok(ses::make_seal(&spec, &maker.signer, &maker.cert_der)?)
    }

    /// A seal signature (`SES_Signature`, DER, GB/T 38540 v4) by an SM2 seal: its
    /// `SES_Seal` ([`Pki::ses_seal`]), `time`, `data_hash` (for OFD: SM3 of `Signature.xml`
    /// as stored) and `property_info` (its path), signed with the seal's key; the signer
    /// certificate is the seal's. With a `stamper`, the signature value is time-stamped
    /// ([`ses::sign`]).
    pub async fn ses_sign(
        &self,
        seal_id: &str,
        data_hash: &[u8],
        property_info: &str,
        time: OffsetDateTime,
        stamper: Option<&dyn crate::tsa::Stamper>,
    ) -> Result<Vec<u8>, PlatformError> {
        let seal_der = self.ses_seal(seal_id, time).await?;
        let ctx = self.seal_context(seal_id).await?;
        let cert = ctx
            .chain
            .first()
            .ok_or_else(|| PlatformError::NotFound(format!("certificate of seal {seal_id}")))?;
        Ok(ses::sign(&seal_der, time, data_hash, property_info, cert, &ctx.signer, stamper)?)
    }
}
