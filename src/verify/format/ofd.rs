//! The signed licence OFD (GB/T 33190 with a GB/T 38540 seal signature, see [`crate::ofd`]
//! and [`crate::ses`]).

use time::OffsetDateTime;

use super::Read;
use crate::verify::report::Check;
use crate::verify::trust::TrustSet;

/// Reads a signed OFD.
pub(crate) fn read(_trust: &TrustSet, _bytes: &[u8], _now: OffsetDateTime) -> Read {
    Read::Stopped(vec![Check::unreadable("OFD verification is being built")])
}
