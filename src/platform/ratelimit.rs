//! Rate limiting by key (an API client, or a client address) with the `governor` crate:
//! one GCRA cell per key in a sharded map, pruned of the keys that are back at a full
//! burst, so that many distinct keys neither grow memory without bound nor slow every
//! request down.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// How many calls pass between two looks at the map's size.
const PRUNE_EVERY: u64 = 1024;
/// Below this many keys the map is not pruned (a scan would cost more than it saves).
const PRUNE_ABOVE: usize = 4096;

/// Keyed rate limiter: `per_second` on average, bursts of `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    inner: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    calls: AtomicU64,
}

impl RateLimiter {
    /// `per_second` requests a second on average, bursts up to `burst` (each at least 1).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let clock = DefaultClock::default();
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            inner: governor::RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
            calls: AtomicU64::new(0),
        }
    }

    /// Takes one request for `key`; `Err(wait)` when its budget is spent.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        self.inner.check_key(&key.to_owned()).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets the keys whose state equals a fresh one (their burst is full again).
    fn prune(&self) {
        if self.inner.len() >= PRUNE_ABOVE {
            self.inner.retain_recent();
            self.inner.shrink_to_fit();
        }
    }

    /// Keys held now.
    pub fn keys(&self) -> usize {
        self.inner.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let r = RateLimiter::new(10, 3);
        for _ in 0..3 {
            r.take("a").unwrap();
        }
        let wait = r.take("a").unwrap_err();
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO, "{wait:?}");
        r.take("b").unwrap();
        std::thread::sleep(Duration::from_millis(110));
        r.take("a").unwrap();
        assert!(r.take("a").is_err());
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let r = RateLimiter::new(1000, 2000);
        for i in 0..20_000 {
            r.take(&format!("ip:{i}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
        for _ in 0..PRUNE_EVERY {
            r.take("ip:active").unwrap();
        }
        assert!(r.keys() < PRUNE_ABOVE, "{} keys kept", r.keys());
    }
}
