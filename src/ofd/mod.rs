//! Licence OFDs (GB/T 33190) signed with GB/T 38540 electronic seals.
//!
//! Everything here works on bytes in memory, like [`crate::pdf`]: no file, network or clock.
//!
//! - [`Package`]: the files of an OFD package in zip order (paths without a leading `/`);
//!   [`Package::to_zip`] writes it deterministically, [`Package::from_zip`] reads an upload
//!   under [`ReadLimits`].
//! - [`render`] writes the licence page as [`crate::layout`] lays it out (the same layout
//!   as the PDF) into an unsigned [`Package`] and says where the seal goes.
//! - [`sign`] adds the seal signature files (`Signatures.xml`, `Signature.xml` with an SM3
//!   reference per file, `SignedValue.dat` from the caller's `SES_Signature` callback).
//! - [`inspect`] reads any OFD, ours or foreign: metadata, pages, custom tags, and per
//!   signature its exact `Signature.xml` bytes, reference digests and coverage as
//!   [`Finding`]s with stable codes, and the `SignedValue` bytes for [`crate::ses`].
//!
//! XML is read with `roxmltree` (no DTD, bounded; see [`ReadLimits`]) and written with a
//! small escaping writer; elements are in the namespace [`OFD_NS`] with the prefix `ofd:`.

mod archive;
mod boundary;
mod content;
mod error;
mod font;
mod inspect;
mod limits;
mod package;
mod path;
mod sign;
mod write;
mod xml;

pub use boundary::Boundary;
pub use error::OfdError;
pub use inspect::{
    CustomTag, DigestOutcome, DocInfo, DocumentInfo, Finding, OfdInspection, PageEntry, Provider,
    ReferenceCheck, SignatureInspection, StampAnnot, inspect, inspect_package,
};
pub use limits::{RATIO_FLOOR, ReadLimits};
pub use package::Package;
pub use sign::{
    SIGNATURE_PATH, SIGNATURES_PATH, SIGNED_VALUE_PATH, SM2_SM3_OID, SM3_OID, SignSpec, SignatureToSign, sign,
};
pub use write::{BoxMm, DEFAULT_TAG_NAMESPACE, OfdOptions, RenderedOfd, render};
pub use xml::OFD_NS;
