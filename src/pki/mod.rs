//! Platform PKI: root CAs, seal certificates, CRLs and seal-chain validation (no I/O).
//!
//! Everything here is pure: keys, certificates and CRLs go in and out as bytes, and
//! time, serial numbers and randomness come in as arguments. Storing keys in files is the
//! caller's job ([`PrivateKey::to_pem`] / [`PrivateKey::from_pem`] give it the bytes).
//!
//! Crates doing the work: `x509-cert` (its builder) encodes certificates and CRLs, which
//! are signed through [`crate::signing`] (the one signing path per algorithm), `x509-parser`
//! reads them, their signatures are checked through [`crate::signing`] again
//! (`signature.rs`), `ring` and `sm2` generate keys, and `pkcs8` encrypts keys at rest
//! (PBES2: scrypt + AES-256-CBC). One profile (`profile.rs`) writes every certificate and
//! CRL, whatever the algorithm: Ed25519, P-256 or SM2 (GB/T conventions: `id-ecPublicKey`
//! with the SM2 curve, SM2-with-SM3 without parameters, DER `SEQUENCE { r, s }`).
//!
//! Profiles (see `DESIGN.md`, trust model):
//! - a self-signed root per [`Algorithm`] ([`make_root`]),
//! - one seal certificate per electronic seal ([`issue_seal_cert`]), always of the same
//!   algorithm as its root,
//! - the root's CRL ([`make_crl`]),
//! - validation of a seal certificate up to a trusted root ([`validate_seal_chain`]),
//! - the platform's own service certificates: the access log's checkpoint signer
//!   ([`issue_audit_cert`]) and the GB/T 38540 seal maker under the SM2 root
//!   ([`issue_seal_maker_cert`], [`validate_seal_maker`]) and the RFC 3161 time-stamping
//!   authority under any root ([`issue_tsa_cert`], [`issue_tsa_cert_with_crl`],
//!   [`validate_tsa_cert`]).

mod audit_cert;
mod cert;
mod chain;
mod chain_error;
mod crl;
mod error;
mod keys;
mod name;
mod parsed;
mod path;
mod pem;
mod profile;
mod revocation;
mod seal_maker;
mod service_cert;
mod signature;
#[cfg(test)]
mod test_support;
mod tsa_cert;
mod x509_key;

pub use crate::signing::{Algorithm, ParseEnumError};
pub use audit_cert::{AUDIT_SIGNER_CN, TIME_STAMPING_EKU, issue_audit_cert, validate_audit_signer};
pub use cert::{CertInfo, DOCUMENT_SIGNING_EKU, SealSubject, cert_info, issue_seal_cert, make_root};
pub use chain::{validate_seal_chain, validate_signature_chain};
pub use chain_error::{ChainError, ValidatedChain};
pub use crl::{CrlInfo, RevocationReason, RevokedCert, crl_info, make_crl};
pub use error::PkiError;
pub use keys::{PrivateKey, key_id, random_serial};
pub(crate) use parsed::signing_cert;
pub use path::MAX_PATH_CERTS;
pub use pem::{pem_decode_all, pem_encode};
pub use revocation::{RevocationPolicy, RevocationStatus, revocation_applies, revocation_status};
pub use seal_maker::{SEAL_MAKER_CN, issue_seal_maker_cert, validate_seal_maker};
pub use tsa_cert::{TSA_CN, issue_tsa_cert, issue_tsa_cert_with_crl, validate_tsa_cert};
