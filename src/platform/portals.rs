//! Holder portals: registered by the operator (never by a department) with the public key
//! that signs their holder assertions, and a bearer key shown once. Only a portal acts for
//! holders (the `holder-proxy` scope is theirs alone).

use data_encoding::BASE32_NOPAD;
use ring::rand::SecureRandom;
use time::OffsetDateTime;

use crate::audit::AccessEntry;
use crate::signing::SealVerifier;
use crate::store::PortalRecord;

use super::checks::checked_name;
use super::clients::{ClientKey, Clients, PORTAL_KEY_PREFIX, key_hash};
use super::error::PlatformError;

/// Largest public key file accepted, in bytes.
const MAX_PUBLIC_KEY_PEM: usize = 16 * 1024;

/// Reads a portal's assertion key: one PEM `PUBLIC KEY` block (SubjectPublicKeyInfo) of
/// an Ed25519 or P-256 key. Holder assertions are JWS, and JOSE has no SM2 algorithm, so an
/// SM2 key is refused here rather than at the first assertion.
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
    let key = SealVerifier::from_spki_der(der)
        .map_err(|e| invalid(format!("{e} (use an Ed25519 or P-256 key)")))?;
    if key.algorithm().jose().is_none() {
        return Err(invalid(format!(
            "{} keys cannot sign holder assertions (JWS has no such algorithm); use an Ed25519 or P-256 key",
            key.algorithm().label()
        )));
    }
    Ok(key)
}

impl Clients {
    /// Registers a holder portal with its assertion key (PEM SPKI); returns it and its API
    /// key (shown once, never stored).
    pub async fn add_portal(
        &self,
        name: &str,
        public_key_pem: &str,
        now: OffsetDateTime,
    ) -> Result<(PortalRecord, ClientKey), PlatformError> {
        let name = checked_name("name", name, 60)?;
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

    /// The refusal of a portal's key on a department endpoint (`action`, naming licence
    /// `licence_id` if any), logged as a department client's refusal is: the portal, the
    /// action, the purpose stated, the licence asked for and the outcome. An unknown or
    /// revoked key is 401 and, as for department keys, not logged (nobody to name).
    pub async fn refuse_portal_key(
        &self,
        key: &str,
        action: &str,
        licence_id: Option<&str>,
        purpose: Option<&str>,
        now: OffsetDateTime,
    ) -> PlatformError {
        let portal = match self.authenticate_portal(key).await {
            Ok(portal) => portal,
            Err(e) => return e,
        };
        let refusal = PlatformError::Forbidden(
            "a holder portal's key may call only the holder endpoints (/api/v1/holders/…, \
             /api/v1/authorisations)"
                .into(),
        );
        // A well-formed identifier is logged as asked; anything else names no licence.
        let asked = licence_id.and_then(|id| crate::codes::LicenceId::parse(id.trim()).ok());
        let entry = AccessEntry {
            seq: 0,
            at: now.unix_timestamp(),
            client_id: Some(portal.id),
            department_code: None,
            action: action.to_owned(),
            purpose: purpose.map(str::to_owned),
            basis: None,
            licence_id: asked.as_ref().map(|id| id.as_str().to_owned()),
            holder_code_type: asked.as_ref().map(|_| String::new()),
            holder_code: asked.as_ref().map(|_| String::new()),
            result: refusal.code().to_owned(),
            assertion_id: None,
            auth_level: None,
        };
        match self.access_log.append(entry).await {
            Ok(_) => refusal,
            Err(e) => e,
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
        // An SM2 key reads, but cannot sign a JWS holder assertion.
        let sm2 = crate::pki::PrivateKey::generate(crate::signing::Algorithm::Sm2, &rng).unwrap();
        let e = parse_portal_public_key(&crate::pki::pem_encode("PUBLIC KEY", &sm2.public_key_spki_der()))
            .unwrap_err();
        assert!(e.to_string().contains("SM2 keys cannot sign holder assertions"), "{e}");
    }
}
