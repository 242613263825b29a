//! Licence OFDs (GB/T 33190) signed with GB/T 38540 electronic seals.
//!
//! Everything here works on bytes in memory, like [`crate::pdf`]: no file, network or clock.
//!
//! - [`Package`]: the files of an OFD package in zip order (paths without a leading `/`).
//! - [`render`] writes the licence page as [`crate::layout`] lays it out (the same layout
//!   as the PDF) into an unsigned [`Package`] and says where the seal goes.

mod content;
mod error;
mod font;
mod package;
mod write;
mod xml;

pub use error::OfdError;
pub use package::Package;
pub use write::{BoxMm, DEFAULT_TAG_NAMESPACE, OfdOptions, RenderedOfd, SIGNATURES_PATH, render};
