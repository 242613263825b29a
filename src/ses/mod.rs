//! GB/T 38540 electronic seals (`SES_Seal`) and seal signatures (`SES_Signature`), SM2/SM3:
//! encoding, decoding (v4, and the GM/T 0031 v1 and v5 layouts for reading), signing and
//! verifying. No I/O.
//!
//! - Reading: [`read_seal`] and [`read_signature`] give [`SealFacts`] and
//!   [`SignatureFacts`], one read model for versions 1, 4 and 5, holding the exact input
//!   bytes each signature covers (DER(`SES_SealInfo`) for the maker, DER(`TBS_Sign`) for
//!   the signer), taken from the input, never re-encoded.
//! - Checking, each a separate result: [`SealFacts::verify_maker_signature`],
//!   [`SignatureFacts::verify_signature`], [`SignatureFacts::signer_listed_in_seal`],
//!   [`SealFacts::check_valid_at`]. Whether the maker is trusted is chain validation of
//!   [`SealFacts::maker_cert_der`] (`crate::pki::validate_seal_maker`).
//! - Making (v4 only): [`make_seal`] and [`sign`], which time-stamps the signature value
//!   when given a [`crate::tsa::Stamper`].
//!
//! Layout: `asn1.rs` the structures (`der` derives), `read.rs` the readers, `verify.rs`
//! the checks, `make.rs` the writers, `error.rs` [`SesError`].
//!
//! Structures (GB/T 38540-2020, as real files have them; see FINDINGS):
//! `SES_Seal ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING, signAlgID OID,
//! signedValue BIT STRING }`; `SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET
//! STRING, signatureAlgID OID, signature BIT STRING, timeStamp [0] EXPLICIT BIT STRING
//! OPTIONAL }`; `TBS_Sign ::= SEQUENCE { version INTEGER, eseal SES_Seal, timeInfo
//! GeneralizedTime, dataHash BIT STRING, propertyInfo IA5String, extDatas [0] EXPLICIT
//! OPTIONAL }`. Signatures are SM2-with-SM3 (user id `1234567812345678`), DER
//! `SEQUENCE { r, s }`. `timeStamp` holds a DER RFC 3161 `TimeStampToken` whose message
//! imprint is a digest (SM3 when this module makes it) of the signature value — the content
//! of the `signature` BIT STRING, as ofdrw's `TimeStampHook` is handed it.

mod asn1;
mod error;
mod make;
mod read;
mod verify;

#[cfg(test)]
mod tests;

pub use error::SesError;
pub use make::{
    PICTURE_PX, PictureSpec, SEAL_TYPE_ORGANISATION, SealSpec, VENDOR_ID, VERSION, make_seal, picture_of,
    sign,
};
pub use read::{CertDigest, CertList, SealFacts, SealPicture, SignatureFacts, read_seal, read_signature};

/// Largest `SES_Seal` or `SES_Signature` read: 1 MiB.
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// Largest certificate in a seal or signature: 16 KiB.
pub const MAX_CERT_BYTES: usize = 16 * 1024;
/// Largest seal picture: 512 KiB.
pub const MAX_PICTURE_BYTES: usize = 512 * 1024;
/// Most entries in a seal's `certList`.
pub const MAX_LISTED_CERTS: usize = 16;
/// Longest text field (names, ids, paths), in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
