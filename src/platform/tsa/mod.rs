//! The platform's own RFC 3161 time-stamping authority: one current unit (key and
//! certificate under the root) per root algorithm, made at `init` and at `serve` start-up,
//! renewed once a unit has used half its certificate's validity (`units.rs`); answers to
//! other systems' requests ([`TimeStamping::reply`], `POST /tsa`), and blocks of reserved
//! serial numbers for the signers in process ([`TimeStamping::stamper`], `stamper.rs`).
//!
//! Serial numbers come from the database (`tsa_serial`, one `UPDATE … RETURNING` per
//! block), so that every node on one database hands out each serial once, and only
//! growing ones. The time is the caller's `now`: the clock is read at the edge.

mod stamper;
mod units;

use std::collections::HashMap;
use std::sync::Arc;

use ring::rand::SystemRandom;
use time::OffsetDateTime;

use crate::config::Config;
use crate::keystore::KeyStore;
use crate::pki::{self, Algorithm};
use crate::store::{MAX_TSA_SERIAL_BLOCK, Store};
use crate::tsa::{self, Authority, ImprintAlg, Outcome, Response};

use super::error::PlatformError;
use super::pki::Pki;
pub use stamper::ReservedStamper;
pub use units::TsaUnitView;
use units::Unit;

/// The time-stamping authority service.
#[derive(Debug, Clone)]
pub struct TimeStamping {
    store: Arc<dyn Store>,
    keys: KeyStore,
    config: Arc<Config>,
    pki: Pki,
    rng: SystemRandom,
    /// The unit that signs now, per algorithm, read once; the lock also keeps two tasks of
    /// this process from making the same next unit.
    current: Arc<tokio::sync::Mutex<HashMap<Algorithm, Arc<Unit>>>>,
    /// Serial numbers reserved in the database and not yet given to a stamper: the next
    /// and the last (see [`TimeStamping::stamper`]).
    pool: Arc<std::sync::Mutex<Option<(u64, u64)>>>,
}

/// Time-stamp serial numbers [`TimeStamping::stamper`] reserves in the database at a time.
/// RFC 3161 asks for unique serial numbers, not consecutive ones: what a process held
/// when it stopped is skipped, and a licence waits for no database write of its own for
/// its two time-stamps.
const TSA_SERIAL_POOL: u64 = 1024;

/// A reply to a time-stamp request, with what the log says of it.
#[derive(Debug, Clone)]
pub struct TsaReply {
    /// The DER `TimeStampResp` and whether it grants.
    pub response: Response,
    /// The algorithm of the unit that signed (`None` for a request refused unread).
    pub algorithm: Option<Algorithm>,
    /// The token's serial number (`None` for a rejection).
    pub serial: Option<u64>,
}

impl TimeStamping {
    pub(super) fn new(store: Arc<dyn Store>, keys: KeyStore, config: Arc<Config>, pki: Pki) -> Self {
        Self {
            store,
            keys,
            config,
            pki,
            rng: SystemRandom::new(),
            current: Default::default(),
            pool: Default::default(),
        }
    }

    /// The authority that signs with `algorithm` at `now`: the newest unit whose signing
    /// half of its validity holds `now`, or a new unit made now (a new key in the key store,
    /// a certificate from the root) when the newest has used its half. Cached.
    pub async fn authority(
        &self,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<Arc<Authority>, PlatformError> {
        Ok(self.current_unit(algorithm, now).await?.0.authority.clone())
    }

    /// The unit that signs at `now`, and whether it was made now.
    async fn current_unit(
        &self,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<(Arc<Unit>, bool), PlatformError> {
        let mut cache = self.current.lock().await;
        if let Some(unit) = cache.get(&algorithm).filter(|u| u.signs_at(now)) {
            return Ok((unit.clone(), false));
        }
        let (unit, made) = self.load_or_make(algorithm, now).await?;
        let unit = Arc::new(unit);
        cache.insert(algorithm, unit.clone());
        Ok((unit, made))
    }

    /// Makes sure every root's algorithm has a unit that signs at `now` (`init` and `serve`
    /// call it); returns the algorithms whose unit was made now.
    pub async fn prepare(&self, now: OffsetDateTime) -> Result<Vec<Algorithm>, PlatformError> {
        let mut made = vec![];
        for root in self.store.roots().await? {
            if self.current_unit(root.algorithm, now).await?.1 {
                made.push(root.algorithm);
            }
        }
        Ok(made)
    }

    /// Answers the DER `TimeStampReq` `request_der` at `now`, with the unit of `algorithm`
    /// or, if `None`, of SM2 for an SM3 imprint and of P-256 for any other. A request RFC
    /// 3161 lets a TSA refuse (malformed, an unknown hash, another policy, an extension)
    /// gets a rejection reply, not an error; a granted one takes one serial number from
    /// the database. The signature is made on a blocking thread.
    pub async fn reply(
        &self,
        request_der: &[u8],
        algorithm: Option<Algorithm>,
        now: OffsetDateTime,
    ) -> Result<TsaReply, PlatformError> {
        let request = match tsa::parse_request(request_der) {
            Ok(request) => request,
            Err(refusal) => {
                let der = tsa::rejection(&refusal)?;
                let response = Response { der, outcome: Outcome::Rejected(refusal) };
                return Ok(TsaReply { response, algorithm: None, serial: None });
            }
        };
        let algorithm = algorithm.unwrap_or(match request.imprint_alg {
            ImprintAlg::Sm3 => Algorithm::Sm2,
            _ => Algorithm::P256,
        });
        let authority = self.authority(algorithm, now).await?;
        let serial = *self.store.reserve_tsa_serials(1).await?.start();
        let request_der = request_der.to_vec();
        let response = tokio::task::spawn_blocking(move || authority.reply(&request_der, serial, now))
            .await
            .map_err(|e| PlatformError::Task(format!("time-stamping: {e}")))??;
        let serial = (response.outcome == Outcome::Granted).then_some(serial);
        Ok(TsaReply { response, algorithm: Some(algorithm), serial })
    }

    /// A stamper for the signers in process (the issuing path, archive renewal): the
    /// authority of `algorithm` at `now`, a block of `count` serial numbers (1 to
    /// [`MAX_TSA_SERIAL_BLOCK`]) reserved in the database — taken from the ones this
    /// process reserved before, [`TSA_SERIAL_POOL`] at a time —, every token stamped at
    /// `now`. Take it before the CPU work and stamp on the blocking thread; a token beyond
    /// the block is an error, never a reused serial.
    pub async fn stamper(
        &self,
        algorithm: Algorithm,
        count: u64,
        now: OffsetDateTime,
    ) -> Result<ReservedStamper, PlatformError> {
        if !(1..=MAX_TSA_SERIAL_BLOCK).contains(&count) {
            return Err(PlatformError::InvalidInput {
                field: "count",
                message: format!(
                    "reserve 1 to {MAX_TSA_SERIAL_BLOCK} time-stamp serial numbers, not {count}"
                ),
            });
        }
        let authority = self.authority(algorithm, now).await?;
        let serials = match self.take_pooled(count) {
            Some(serials) => serials,
            None => {
                let block = self.store.reserve_tsa_serials(count.max(TSA_SERIAL_POOL)).await?;
                let (start, end) = (*block.start(), *block.end());
                // What is left after this stamper's serials replaces the pool; a pool a
                // concurrent task refilled meanwhile is skipped (serials unused, not reused).
                let first_left = start + count;
                *self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    (first_left <= end).then_some((first_left, end));
                start..=start + count - 1
            }
        };
        Ok(ReservedStamper::new(authority, serials, now))
    }

    /// `count` serial numbers from the pool, if it holds as many.
    fn take_pooled(&self, count: u64) -> Option<std::ops::RangeInclusive<u64>> {
        let mut pool = self.pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (next, end) = (*pool)?;
        let last = next.checked_add(count - 1).filter(|last| *last <= end)?;
        *pool = (last < end).then_some((last + 1, end));
        Some(next..=last)
    }

    /// The certificate chain (PEM: TSA certificate, then its root) of the unit that signs
    /// at `now` with `algorithm`, or with every root's algorithm.
    pub async fn chain_pem(
        &self,
        algorithm: Option<Algorithm>,
        now: OffsetDateTime,
    ) -> Result<String, PlatformError> {
        let algorithms: Vec<Algorithm> = match algorithm {
            Some(a) => vec![a],
            None => self.store.roots().await?.into_iter().map(|r| r.algorithm).collect(),
        };
        let mut pem = String::new();
        for alg in algorithms {
            for der in self.authority(alg, now).await?.chain() {
                pem.push_str(&pki::pem_encode("CERTIFICATE", &der));
            }
        }
        if pem.is_empty() {
            return Err(PlatformError::NotFound("no root CA; run `zhengzhao init`".to_owned()));
        }
        Ok(pem)
    }

    /// The certificates of every unit, old ones included (DER): what a verifier of tokens
    /// issued without the certificate needs besides the roots.
    pub async fn all_certs(&self) -> Result<Vec<Vec<u8>>, PlatformError> {
        Ok(self.store.tsa_units(None).await?.into_iter().map(|u| u.cert_der).collect())
    }
}

impl From<tsa::TsaError> for PlatformError {
    fn from(e: tsa::TsaError) -> Self {
        Self::Tsa(e)
    }
}
