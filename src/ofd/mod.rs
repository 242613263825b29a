//! Licence OFDs (GB/T 33190) signed with GB/T 38540 electronic seals.
//!
//! Everything here works on bytes in memory, like [`crate::pdf`]: no file, network or clock.
//!
//! - [`Package`]: the files of an OFD package in zip order (paths without a leading `/`).

mod error;
mod package;

pub use error::OfdError;
pub use package::Package;
