//! The TSA's units: which one signs at a time, making the next (key in the key store,
//! certificate from the root with the root's CRL distribution point, record in the
//! store), and what `tsa list` shows of them.
//!
//! A unit signs only during the first half of its certificate's validity, so that every
//! token it made stays within a validity whose second half is left for checking it; the
//! newest unit whose signing half holds the time is current. Old units stay, for
//! validation.

use std::sync::Arc;

use ring::rand::SecureRandom as _;
use time::{Duration, OffsetDateTime};

use crate::pki::{self, Algorithm, PrivateKey};
use crate::signing::SealSigner;
use crate::store::{StoreError, TsaUnitRecord};
use crate::tsa::{Accuracy, Authority, TsaError};

use super::super::error::PlatformError;
use super::super::lookup;
use super::super::pki::BACKDATE;
use super::TimeStamping;

/// How often the next unit is looked for again when another node made it meanwhile.
const MAKE_ATTEMPTS: usize = 3;

/// A unit ready to sign.
#[derive(Debug)]
pub(super) struct Unit {
    pub(super) authority: Arc<Authority>,
    window: Window,
}

impl Unit {
    pub(super) fn signs_at(&self, now: OffsetDateTime) -> bool {
        self.window.holds(now)
    }
}

/// The signing half of a unit's certificate validity: from its start to its middle.
#[derive(Debug, Clone, Copy)]
struct Window {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Window {
    fn of(cert_der: &[u8]) -> Result<Self, PlatformError> {
        let info = pki::cert_info(cert_der)?;
        Ok(Self { not_before: info.not_before, not_after: info.not_after })
    }

    fn signs_until(self) -> OffsetDateTime {
        self.not_before + (self.not_after - self.not_before) / 2
    }

    fn holds(self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now < self.signs_until()
    }
}

/// A unit as `zhengzhao tsa list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaUnitView {
    /// `<algorithm>-<n>`.
    pub id: String,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// The certificate's serial number, hex.
    pub cert_serial: String,
    /// Start of the certificate's validity.
    pub not_before: OffsetDateTime,
    /// End of the certificate's validity.
    pub not_after: OffsetDateTime,
    /// The end of its signing half.
    pub signs_until: OffsetDateTime,
    /// Whether it is the unit that signs now.
    pub current: bool,
}

/// The stated accuracy of `ms` milliseconds.
fn accuracy(ms: u32) -> Accuracy {
    let (seconds, millis) = (ms / 1000, ms % 1000);
    // millis < 1000 fits u16.
    Accuracy {
        seconds: (seconds > 0).then_some(seconds),
        millis: u16::try_from(millis).ok().filter(|m| *m > 0),
        micros: None,
    }
}

impl TimeStamping {
    /// The unit of `algorithm` that signs at `now`, read, or made when the newest has used
    /// its signing half; and whether it was made now.
    pub(super) async fn load_or_make(
        &self,
        algorithm: Algorithm,
        now: OffsetDateTime,
    ) -> Result<(Unit, bool), PlatformError> {
        for _ in 0..MAKE_ATTEMPTS {
            let units = self.store.tsa_units(Some(algorithm)).await?;
            for record in units.iter().rev() {
                if Window::of(&record.cert_der)?.holds(now) {
                    return Ok((self.open(record).await?, false));
                }
            }
            if let Some(newest) = units.last()
                && now < Window::of(&newest.cert_der)?.not_before
            {
                // The service's clock, not the caller's request: a 503, logged.
                return Err(PlatformError::Tsa(TsaError::InvalidArgument(format!(
                    "the clock ({now}) is before the newest {algorithm} time-stamping unit {} began",
                    newest.id
                ))));
            }
            match self.make(algorithm, units.len() + 1, now).await {
                Ok(record) => return Ok((self.open(&record).await?, true)),
                // Another node made this unit first: look again.
                Err(PlatformError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(PlatformError::Conflict(format!("the {algorithm} time-stamping unit keeps changing; try again")))
    }

    /// Reads a unit's key and root into an authority.
    async fn open(&self, record: &TsaUnitRecord) -> Result<Unit, PlatformError> {
        let key = self.keys.read(&record.key_name)?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der()).map_err(|error| PlatformError::Signing {
            key: format!("time-stamping unit {}", record.id),
            error,
        })?;
        let root = lookup::root(self.store.as_ref(), record.algorithm).await?;
        let policy = der::asn1::ObjectIdentifier::new(&self.config.tsa_policy).map_err(|e| {
            PlatformError::InvalidInput {
                field: "tsa_policy",
                message: format!("{}: {e}", self.config.tsa_policy),
            }
        })?;
        let accuracy = Some(accuracy(self.config.tsa_accuracy_ms));
        let authority = Authority::new(signer, record.cert_der.clone(), root.cert_der, policy, accuracy)?;
        Ok(Unit { authority: Arc::new(authority), window: Window::of(&record.cert_der)? })
    }

    /// Makes unit number `n` of `algorithm` at `now`: a new key, a certificate from the
    /// root valid `tsa_cert_days` (cut to the root's) naming the root's CRL, and its
    /// record. Conflict if another node recorded unit `n` first (this key is then dropped).
    async fn make(
        &self,
        algorithm: Algorithm,
        n: usize,
        now: OffsetDateTime,
    ) -> Result<TsaUnitRecord, PlatformError> {
        let root = self.pki.root_with_key(algorithm).await?;
        let mut suffix = [0u8; 4];
        self.rng.fill(&mut suffix).map_err(|_| PlatformError::Rng)?;
        // A random suffix: a racing node's key file never has this name.
        let key_name = format!("tsa-{algorithm}-{n}-{}", hex::encode(suffix));
        let key = PrivateKey::generate(algorithm, &self.rng)?;
        self.keys.write_new(&key_name, &key)?;
        let result = async {
            let platform = self.pki.platform().await?;
            let root_end = pki::cert_info(&root.0.cert_der)?.not_after;
            let days = Duration::days(i64::from(self.config.tsa_cert_days));
            let cert_der = pki::issue_tsa_cert_with_crl(
                &platform.name,
                &key.public_key_spki_der(),
                &root.0.cert_der,
                &root.1,
                Some(&self.config.crl_url(algorithm.as_str())),
                now - BACKDATE,
                (now + days).min(root_end),
                pki::random_serial(&self.rng)?,
            )?;
            let id = format!("{algorithm}-{n}");
            let record =
                TsaUnitRecord { id, algorithm, cert_der, key_name: key_name.clone(), created_at: now };
            match self.store.insert_tsa_unit(&record).await {
                Ok(()) => Ok(record),
                Err(StoreError::Conflict(what)) => Err(PlatformError::Conflict(what)),
                Err(e) => Err(e.into()),
            }
        }
        .await;
        if result.is_err() {
            self.keys.discard(&key_name);
        }
        if let Ok(record) = &result {
            tracing::info!(unit = %record.id, algorithm = %algorithm, "made a time-stamping unit");
        }
        result
    }

    /// Every unit, oldest first, with its validity and whether it signs at `now`.
    pub async fn units(&self, now: OffsetDateTime) -> Result<Vec<TsaUnitView>, PlatformError> {
        let units = self.store.tsa_units(None).await?;
        let mut views = Vec::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            let info = pki::cert_info(&u.cert_der)?;
            let window = Window { not_before: info.not_before, not_after: info.not_after };
            let newer_signs = units[i + 1..]
                .iter()
                .filter(|n| n.algorithm == u.algorithm)
                .map(|n| Window::of(&n.cert_der).map(|w| w.holds(now)))
                .collect::<Result<Vec<bool>, _>>()?
                .contains(&true);
            views.push(TsaUnitView {
                id: u.id.clone(),
                algorithm: u.algorithm,
                cert_serial: info.serial_hex,
                not_before: info.not_before,
                not_after: info.not_after,
                signs_until: window.signs_until(),
                current: window.holds(now) && !newer_signs,
            });
        }
        Ok(views)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_is_stated_in_seconds_and_milliseconds() {
        let a = |s, m| Accuracy { seconds: s, millis: m, micros: None };
        assert_eq!(accuracy(1000), a(Some(1), None));
        assert_eq!(accuracy(250), a(None, Some(250)));
        assert_eq!(accuracy(60_000), a(Some(60), None));
        assert_eq!(accuracy(1_500), a(Some(1), Some(500)));
    }

    #[test]
    fn a_unit_signs_in_the_first_half_of_its_validity_only() {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let w = Window { not_before: start, not_after: start + Duration::days(10) };
        assert_eq!(w.signs_until(), start + Duration::days(5));
        assert!(!w.holds(start - Duration::seconds(1)));
        assert!(w.holds(start) && w.holds(start + Duration::days(5) - Duration::seconds(1)));
        assert!(!w.holds(start + Duration::days(5)));
    }
}
