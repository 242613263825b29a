//! Holder portals: registered by the operator (never by a department) with the public key
//! that signs their holder assertions, and a bearer key shown once. Only a portal acts for
//! holders (the `holder-proxy` scope is theirs alone).

use data_encoding::BASE32_NOPAD;
use ring::rand::SecureRandom;
use time::OffsetDateTime;

use super::clients::{ClientKey, key_hash};
use super::{Platform, PlatformError};
use crate::signing::SealVerifier;
use crate::store::PortalRecord;

/// Prefix of a portal's API key (a department client's key starts `zz_`).
pub const PORTAL_KEY_PREFIX: &str = "zzp_";
/// Largest public key file accepted, in bytes.
const MAX_PUBLIC_KEY_PEM: usize = 16 * 1024;

/// Reads a portal's assertion key: one PEM `PUBLIC KEY` block (SubjectPublicKeyInfo) of
/// an Ed25519 or P-256 key.
pub fn parse_portal_public_key(pem: &str) -> Result<SealVerifier, PlatformError> {
    let invalid = |message: String| PlatformError::InvalidInput { field: "public-key", message };
    if pem.len() > MAX_PUBLIC_KEY_PEM {
        return Err(invalid(format!("larger than {MAX_PUBLIC_KEY_PEM} bytes")));
    }
    let blocks = crate::pki::pem_decode_all(pem, "PUBLIC KEY").map_err(|e| {
        invalid(format!(
            "expected one PEM \"PUBLIC KEY\" block (SubjectPublicKeyInfo of an Ed25519 or P-256 key): {e}"
        ))
    })?;
    let [der] = blocks.as_slice() else {
        return Err(invalid(format!("expected one PUBLIC KEY block, found {}", blocks.len())));
    };
    SealVerifier::from_spki_der(der).map_err(|e| invalid(format!("{e} (use an Ed25519 or P-256 key)")))
}

impl Platform {
    /// Registers a holder portal with its assertion key (PEM SPKI); returns it and its API
    /// key (shown once, never stored).
    pub async fn add_portal(
        &self,
        name: &str,
        public_key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<(PortalRecord, ClientKey), PlatformError> {
        let name = super::checked_name("name", name, 60)?;
        let verifier = parse_portal_public_key(public_key_pem)?;
        let mut random = [0u8; 40];
        self.rng.fill(&mut random).map_err(|_| PlatformError::Rng)?;
        let id = format!("pt_{}", BASE32_NOPAD.encode(&random[..5]).to_ascii_lowercase());
        let key = ClientKey::new(format!(
            "{PORTAL_KEY_PREFIX}{}",
            BASE32_NOPAD.encode(&random[8..]).to_ascii_lowercase()
        ));
        let portal = PortalRecord {
            id,
            name: name.to_owned(),
            algorithm: verifier.algorithm().to_string(),
            public_key: verifier.to_spki_der(),
            key_hash: key_hash(key.expose()),
            created_at: now,
            revoked_at: None,
        };
        self.store.insert_portal(&portal).await?;
        Ok((portal, key))
    }

    /// All holder portals.
    pub async fn portals(&self) -> Result<Vec<PortalRecord>, PlatformError> {
        Ok(self.store.portals().await?)
    }

    /// Revokes a portal: its key stops working at once.
    pub async fn revoke_portal(&self, id: &str, now: OffsetDateTime) -> Result<(), PlatformError> {
        Ok(self.store.revoke_portal(id.trim(), now).await?)
    }

    /// The active portal a bearer key (`zzp_…`) belongs to; rate limited like a client.
    pub async fn authenticate_portal(&self, key: &str) -> Result<PortalRecord, PlatformError> {
        let key = key.trim();
        if !key.starts_with(PORTAL_KEY_PREFIX) || key.len() > 128 {
            return Err(PlatformError::Unauthorised("malformed API key".into()));
        }
        match self.store.portal_by_key_hash(&key_hash(key)).await? {
            Some(p) if p.revoked_at.is_none() => {
                if let Err(wait) = self.rate.take(&p.id) {
                    return Err(PlatformError::RateLimited { retry_after_secs: wait.as_secs() + 1 });
                }
                Ok(p)
            }
            Some(_) => Err(PlatformError::Unauthorised("this API key has been revoked".into())),
            None => Err(PlatformError::Unauthorised("unknown API key".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_must_be_one_ed25519_or_p256_spki() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let signer = crate::signing::SealSigner::from_pkcs8_der(pkcs8.as_ref()).unwrap();
        let pem = crate::pki::pem_encode("PUBLIC KEY", &signer.public_key_spki_der());
        assert!(matches!(parse_portal_public_key(&pem), Ok(SealVerifier::Ed25519(_))));
        for bad in [
            String::new(),
            "not a key".to_owned(),
            crate::pki::pem_encode("PRIVATE KEY", pkcs8.as_ref()),
            crate::pki::pem_encode("PUBLIC KEY", b"\x30\x03\x02\x01\x01"),
            format!("{pem}{pem}"),
            "x".repeat(MAX_PUBLIC_KEY_PEM + 1),
        ] {
            let e = parse_portal_public_key(&bad).err().map(|e| e.code());
            assert_eq!(e, Some("invalid_input"), "{bad:?}");
        }
    }
}
