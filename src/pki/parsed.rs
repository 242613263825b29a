//! The certificates the platform signs with (seal chains, the time-stamp unit's), parsed
//! once per process: every licence's CMS names its seal certificate and carries its chain,
//! every time-stamp token names its unit, and parsing the same few certificates with
//! x509-cert for each licence was some 3 % of bulk issuing. Only for the platform's own
//! certificates: what a verifier reads is parsed where it is read.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use der::Decode as _;
use x509_cert::Certificate;

/// Certificates kept at most; the cache starts over when it is full (a platform signs
/// with a few dozen seals, each chain two or three certificates long).
const MAX_CACHED: usize = 256;

/// `der` parsed, from the cache if it was parsed before.
pub(crate) fn signing_cert(der: &[u8]) -> Result<Arc<Certificate>, der::Error> {
    static CACHE: RwLock<Option<HashMap<Vec<u8>, Arc<Certificate>>>> = RwLock::new(None);
    if let Some(cert) = CACHE.read().unwrap_or_else(PoisonError::into_inner).as_ref().and_then(|m| m.get(der))
    {
        return Ok(cert.clone());
    }
    let cert = Arc::new(Certificate::from_der(der)?);
    let mut cache = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= MAX_CACHED {
        map.clear();
    }
    map.insert(der.to_vec(), cert.clone());
    Ok(cert)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use der::Encode as _;

    use super::*;

    #[test]
    fn parses_once_and_answers_the_same_certificate() {
        let root = crate::pki::test_support::TestRoot::new(crate::pki::Algorithm::Ed25519);
        let first = signing_cert(&root.der).unwrap();
        let again = signing_cert(&root.der).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(again.to_der().unwrap(), root.der);
        assert!(signing_cert(b"\x30\x03\x02\x01\x01").is_err());
        assert!(signing_cert(b"").is_err());
    }
}
