//! A seal's signing material, loaded once per seal (key files may be encrypted, and
//! decrypting them is deliberately slow) and dropped when the seal is revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::pdf::SealAppearance;
use crate::seal::SealDrawing;
use crate::signing::SealSigner;
use crate::store::Department;

/// What signing with one seal needs.
#[derive(Debug)]
pub(in crate::platform) struct SealContext {
    /// The seal's id.
    pub(in crate::platform) seal_id: String,
    /// Its key.
    pub(in crate::platform) signer: SealSigner,
    /// Its certificate and the root's, DER, leaf first.
    pub(in crate::platform) chain: Vec<Vec<u8>>,
    /// The token key id of its certificate.
    pub(in crate::platform) kid: Vec<u8>,
    /// Its image.
    pub(in crate::platform) drawing: SealDrawing,
    /// The seal as a signature appearance, made at the first signature.
    pub(in crate::platform) appearance: OnceLock<SealAppearance>,
    /// Its department, as read with the seal.
    pub(in crate::platform) department: Department,
}

/// Seal contexts by seal id.
pub(super) type SealCache = Arc<Mutex<HashMap<String, Arc<SealContext>>>>;
