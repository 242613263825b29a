//! The stamper the signers in process use: an authority, a block of serial numbers the
//! database reserved for it, and one time. Stamping needs no database and no clock, so it
//! runs on the blocking thread that does the signing.

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

use crate::tsa::{Authority, ImprintAlg, Stamper, TsaError};

/// A [`Stamper`] over a reserved block of serial numbers, all tokens at one time (see
/// [`super::TimeStamping::stamper`]). A token beyond the block is an error: a serial is
/// never used twice.
#[derive(Debug)]
pub struct ReservedStamper {
    authority: Arc<Authority>,
    next: AtomicU64,
    last: u64,
    time: OffsetDateTime,
}

impl ReservedStamper {
    pub(super) fn new(authority: Arc<Authority>, serials: RangeInclusive<u64>, time: OffsetDateTime) -> Self {
        let (first, last) = serials.into_inner();
        Self { authority, next: AtomicU64::new(first), last, time }
    }

    /// The authority that signs.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The time of every token.
    pub fn time(&self) -> OffsetDateTime {
        self.time
    }

    /// How many serial numbers are left.
    pub fn remaining(&self) -> u64 {
        (self.last + 1).saturating_sub(self.next.load(Ordering::Acquire))
    }

    /// Takes the next serial of the block, if any is left.
    fn take(&self) -> Option<u64> {
        self.next.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n <= self.last).then(|| n + 1)).ok()
    }
}

impl Stamper for ReservedStamper {
    fn stamp(&self, alg: ImprintAlg, digest: &[u8]) -> Result<Vec<u8>, TsaError> {
        let serial = self.take().ok_or_else(|| {
            TsaError::InvalidArgument(format!(
                "the reserved time-stamp serial numbers (up to {}) are used up; reserve a larger block",
                self.last
            ))
        })?;
        self.authority.token(alg, digest, serial, self.time)
    }

    fn chain(&self) -> Vec<Vec<u8>> {
        self.authority.chain()
    }
}
