//! The cached online trust set, seal images and signed trust list: filled by the
//! verification service, dropped by the PKI service when a department or seal changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use crate::verify::TrustSet;

/// What verification reuses between requests.
#[derive(Debug, Default)]
pub(super) struct TrustCache {
    /// The online trust set.
    pub(super) set: RwLock<Option<Arc<TrustSet>>>,
    /// Seal images as SVG, by seal id.
    pub(super) seal_images: RwLock<HashMap<String, Arc<String>>>,
    /// The signed trust list and when it was made.
    pub(super) trust_list: RwLock<Option<(OffsetDateTime, Arc<String>)>>,
}

impl TrustCache {
    /// Forgets the set, so the next verification reads seals and CRLs again.
    pub(super) fn invalidate(&self) {
        if let Ok(mut set) = self.set.write() {
            *set = None;
        }
        if let Ok(mut list) = self.trust_list.write() {
            *list = None;
        }
    }
}
