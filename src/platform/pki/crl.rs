//! The roots' CRLs. Reading ([`Pki::current_crl`]) never writes; a CRL is signed
//! only by a write that needs one — `init` (the first), a seal's revocation, a licence's
//! DSS ([`Pki::dss_crl`]) and the refresher ([`Pki::refresh_crl`]) — all through
//! one path, `publish_crl`, which owns the retry when another writer takes the number.

use time::{Duration, OffsetDateTime};

use crate::pki::{self, Algorithm, PrivateKey, RevocationReason, RevokedCert};
use crate::store::{CrlRecord, SealRecord, SealStatus, StoreError};

use super::super::error::PlatformError;
use super::Pki;

/// How often a CRL is signed again when another writer keeps taking its number.
const CRL_ATTEMPTS: usize = 5;

/// What a new CRL publishes.
#[derive(Debug)]
enum CrlChange<'a> {
    /// The same entries, signed anew.
    Renewal,
    /// The entries and a seal revoked now, stored together with the revocation.
    Revocation { seal: &'a SealRecord, reason: RevocationReason },
}

impl Pki {
    /// Signs a CRL of a root with `root_key`, valid for `crl_days` from `now`.
    pub(super) fn sign_crl(
        &self,
        algorithm: Algorithm,
        root_der: &[u8],
        root_key: &PrivateKey,
        number: u64,
        now: OffsetDateTime,
        revoked: &[RevokedCert],
    ) -> Result<CrlRecord, PlatformError> {
        let next_update = now + Duration::days(i64::from(self.config.crl_days));
        let der = pki::make_crl(root_der, root_key, number, now, next_update, revoked)?;
        Ok(CrlRecord { algorithm, number, this_update: now, next_update, der })
    }

    /// The CRL of a root as verifiers see it: the newest stored one. Only reads: when it
    /// has aged, the refresher signs the next ([`Pki::refresh_crl`]).
    pub async fn current_crl(&self, algorithm: Algorithm) -> Result<CrlRecord, PlatformError> {
        self.store.latest_crl(algorithm).await?.ok_or_else(|| {
            PlatformError::NotFound(format!("no CRL of the {algorithm} root; run `zhengzhao init`"))
        })
    }

    /// Publishes the CRL that lists `seal` as revoked `now`, stored with the revocation.
    pub(super) async fn publish_revocation(
        &self,
        seal: &SealRecord,
        reason: RevocationReason,
        now: OffsetDateTime,
    ) -> Result<CrlRecord, PlatformError> {
        self.publish_crl(seal.algorithm, now, CrlChange::Revocation { seal, reason }, |_| false).await
    }

    /// The refresher's work: the newest CRL of a root, re-signed first (same entries,
    /// next number, issued `now`) when it has passed half of its validity.
    pub async fn refresh_crl(
        &self,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<CrlRecord, PlatformError> {
        let young = |c: &CrlRecord| now < c.this_update + (c.next_update - c.this_update) / 2;
        self.publish_crl(algorithm, now, CrlChange::Renewal, young).await
    }

    /// The CRL a licence signed at `now` carries in its DSS (PAdES B-LT): a CRL of the
    /// root issued at or after the signing time (thisUpdate ≥ `/M`, both to the second).
    ///
    /// The newest stored CRL serves if it is that recent; otherwise a fresh one is signed
    /// with the same entries and the next CRL number, and stored, so that the published
    /// CRL (the newest number) is always the newest one. All licences signed within the
    /// same second share it: under load that is one CRL per second and root. A seal
    /// revocation replaces it at once ([`Pki::revoke_seal`]).
    pub async fn dss_crl(
        &self,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<CrlRecord, PlatformError> {
        let second = now.unix_timestamp();
        let fresh = |c: &CrlRecord| c.this_update.unix_timestamp() >= second && c.next_update > now;
        let mut cache = self.dss_crls.lock().await;
        if let Some(c) = cache.get(&algorithm).filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let this_update = OffsetDateTime::from_unix_timestamp(second)
            .map_err(|e| PlatformError::Io(format!("signing time: {e}")))?;
        let crl = self.publish_crl(algorithm, this_update, CrlChange::Renewal, fresh).await?;
        cache.insert(algorithm, crl.clone());
        Ok(crl)
    }

    /// Signs and stores the next CRL of `algorithm`'s root, issued `this_update`, with
    /// `change` — unless the newest stored CRL passes `keep`, which then serves. When a
    /// revocation, another request's re-signing or another node takes the number first,
    /// it looks at the newest again and signs the next number.
    async fn publish_crl(
        &self,
        algorithm: Algorithm,
        this_update: OffsetDateTime,
        change: CrlChange<'_>,
        keep: impl Fn(&CrlRecord) -> bool + Send,
    ) -> Result<CrlRecord, PlatformError> {
        for _ in 0..CRL_ATTEMPTS {
            // The number is read before the revoked seals: a revocation committed in
            // between takes this number, and this insert then fails and looks again.
            let latest = self.store.latest_crl(algorithm).await?;
            if let Some(latest) = latest.as_ref().filter(|c| keep(c)) {
                return Ok(latest.clone());
            }
            let number = latest.map_or(1, |c| c.number + 1);
            let root = self.root_with_key(algorithm).await?;
            let mut revoked = self.revoked_list(algorithm).await?;
            if let CrlChange::Revocation { seal, reason } = &change {
                let serial = serial_bytes(&seal.serial_hex)?;
                revoked.push(RevokedCert { serial, revoked_at: this_update, reason: *reason });
            }
            let crl = self.sign_crl(algorithm, &root.0.cert_der, &root.1, number, this_update, &revoked)?;
            let stored = match &change {
                CrlChange::Renewal => self.store.insert_crl(&crl).await,
                CrlChange::Revocation { seal, reason } => {
                    self.store.revoke_seal(&seal.id, this_update, *reason, &crl).await
                }
            };
            match stored {
                Ok(()) => return Ok(crl),
                Err(StoreError::Conflict(what)) => {
                    // A seal revoked meanwhile by someone else is not revoked again.
                    if let CrlChange::Revocation { seal, .. } = &change
                        && self.seal(&seal.id).await?.status != SealStatus::Active
                    {
                        return Err(PlatformError::Conflict(what));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(PlatformError::Conflict(format!("the {algorithm} root's CRL keeps changing; try again")))
    }

    /// The seals of a root that are revoked, as CRL entries.
    async fn revoked_list(&self, algorithm: Algorithm) -> Result<Vec<RevokedCert>, PlatformError> {
        self.store
            .revoked_seals(algorithm)
            .await?
            .into_iter()
            .filter_map(|s| s.revocation.map(|(at, reason)| (s.serial_hex, at, reason)))
            .map(|(serial, revoked_at, reason)| {
                Ok(RevokedCert { serial: serial_bytes(&serial)?, revoked_at, reason })
            })
            .collect()
    }
}

fn serial_bytes(hex_serial: &str) -> Result<Vec<u8>, PlatformError> {
    hex::decode(hex_serial)
        .map_err(|e| StoreError::Corrupt(format!("seal serial {hex_serial:?}: {e}")).into())
}
