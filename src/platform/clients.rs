//! The clients service: API clients (a department's systems, each with scopes, allowed
//! licence types and a bearer key that is shown once and stored only as its SHA-256),
//! holder portals (`portals.rs`), authentication and rate limits.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use ring::rand::SecureRandom;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use ring::rand::SystemRandom;
use time::OffsetDateTime;

use crate::licence::Catalogue;
use crate::store::{ClientRecord, Store};

use super::accesslog::AccessLogWriter;
use super::checks::{checked_name, checked_type_codes};
use super::error::PlatformError;
use super::lookup;
use super::ratelimit::RateLimiter;

/// Prefix of a portal's API key (a department client's key starts `zz_`).
pub const PORTAL_KEY_PREFIX: &str = "zzp_";

/// What a client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Issue licences with its department's seals.
    Issue,
    /// Change the status of its department's licences.
    Manage,
    /// Read licences.
    Query,
    /// Yes/no checks only.
    Check,
    /// A holder portal acting for an authenticated holder: held only by portals (`zhengzhao
    /// portal add`), never given to a department client.
    HolderProxy,
    /// Read the access log.
    Audit,
    /// Ask the platform's time-stamping authority for RFC 3161 time-stamps (`POST /tsa`).
    Timestamp,
    /// Run bulk imports of existing licences (`POST /api/v1/imports`) as the operator
    /// does with `zhengzhao import`: an operator's scope.
    Import,
}

impl Scope {
    /// All scopes.
    pub const ALL: [Scope; 8] = [
        Self::Issue,
        Self::Manage,
        Self::Query,
        Self::Check,
        Self::HolderProxy,
        Self::Audit,
        Self::Timestamp,
        Self::Import,
    ];

    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "issue",
            Self::Manage => "manage",
            Self::Query => "query",
            Self::Check => "check",
            Self::HolderProxy => "holder-proxy",
            Self::Audit => "audit",
            Self::Timestamp => "timestamp",
            Self::Import => "import",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim()).ok_or_else(|| {
            let allowed: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown scope {s:?}; allowed: {}", allowed.join(", "))
        })
    }
}

/// A client's key: `zz_` and 52 base32 characters (256 random bits).
pub struct ClientKey(String);

impl ClientKey {
    pub(super) fn new(key: String) -> Self {
        Self(key)
    }

    /// The key, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey(<redacted>)")
    }
}

/// SHA-256 of a presented key, hex: what the store keeps and looks up.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether the client has `scope` and is not revoked.
pub fn has_scope(client: &ClientRecord, scope: Scope) -> bool {
    client.revoked_at.is_none() && client.scopes.iter().any(|s| s == scope.as_str())
}

/// API clients and holder portals: registering, revoking, authenticating them.
#[derive(Debug, Clone)]
pub struct Clients {
    pub(super) store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    pub(super) rng: SystemRandom,
    pub(super) rate: Arc<RateLimiter>,
    /// Where refusals of portal keys on department endpoints are logged.
    pub(super) access_log: AccessLogWriter,
}

impl Clients {
    pub(super) fn new(
        store: Arc<dyn Store>,
        catalogue: Arc<Catalogue>,
        rate: Arc<RateLimiter>,
        access_log: AccessLogWriter,
    ) -> Self {
        Self { store, catalogue, rng: SystemRandom::new(), rate, access_log }
    }

    /// Adds a client of a department; returns it and its key (shown once, never stored).
    pub async fn add_client(
        &self,
        department: &str,
        name: &str,
        scopes: &[Scope],
        type_codes: &[String],
        now: OffsetDateTime,
    ) -> Result<(ClientRecord, ClientKey), PlatformError> {
        let department = lookup::department(self.store.as_ref(), department).await?;
        let name = checked_name("name", name, 60)?;
        if scopes.is_empty() {
            return Err(PlatformError::InvalidInput {
                field: "scopes",
                message: "at least one scope is needed".into(),
            });
        }
        if scopes.contains(&Scope::HolderProxy) {
            return Err(PlatformError::InvalidInput {
                field: "scopes",
                message:
                    "holder-proxy is not for department clients: only a holder portal, registered by the \
                          operator with `zhengzhao portal add`, acts for holders"
                        .into(),
            });
        }
        let type_codes = checked_type_codes(&self.catalogue, type_codes)?;
        let mut random = [0u8; 40];
        self.rng.fill(&mut random).map_err(|_| PlatformError::Rng)?;
        let id = format!("cl_{}", BASE32_NOPAD.encode(&random[..5]).to_ascii_lowercase());
        let key = ClientKey(format!("zz_{}", BASE32_NOPAD.encode(&random[8..]).to_ascii_lowercase()));
        let mut scopes: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        scopes.sort();
        scopes.dedup();
        let client = ClientRecord {
            id,
            department_code: department.code.as_str().to_owned(),
            name: name.to_owned(),
            scopes,
            type_codes,
            key_hash: key_hash(key.expose()),
            created_at: now,
            revoked_at: None,
        };
        self.store.insert_client(&client).await?;
        Ok((client, key))
    }

    /// All clients.
    pub async fn clients(&self) -> Result<Vec<ClientRecord>, PlatformError> {
        Ok(self.store.clients().await?)
    }

    /// Revokes a client: its key stops working at once.
    pub async fn revoke_client(&self, id: &str, now: OffsetDateTime) -> Result<(), PlatformError> {
        Ok(self.store.revoke_client(id.trim(), now).await?)
    }

    /// Takes one request from the public rate budget of a client address (the public
    /// verification endpoints, which need no key). IPv6 clients share one budget per
    /// /64 network, the block one subscriber usually holds.
    pub fn rate_limit_address(&self, address: std::net::IpAddr) -> Result<(), PlatformError> {
        let key = match crate::netrange::canonical(address) {
            std::net::IpAddr::V6(v6) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", std::net::Ipv6Addr::from(network))
            }
            v4 => format!("ip:{v4}"),
        };
        self.rate
            .take(&key)
            .map_err(|wait| PlatformError::RateLimited { retry_after_secs: wait.as_secs() + 1 })
    }

    /// The active client a bearer key belongs to.
    pub async fn authenticate(&self, key: &str) -> Result<ClientRecord, PlatformError> {
        let key = key.trim();
        if key.starts_with(PORTAL_KEY_PREFIX) {
            return Err(PlatformError::Forbidden(
                "a holder portal's key may call only the holder endpoints (/api/v1/holders/…, \
                 /api/v1/authorisations)"
                    .into(),
            ));
        }
        if !key.starts_with("zz_") || key.len() > 128 {
            return Err(PlatformError::Unauthorised("malformed API key".into()));
        }
        match self.store.client_by_key_hash(&key_hash(key)).await? {
            Some(c) if c.revoked_at.is_none() => {
                if let Err(wait) = self.rate.take(&c.id) {
                    return Err(PlatformError::RateLimited { retry_after_secs: wait.as_secs() + 1 });
                }
                Ok(c)
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
    fn scopes_parse_and_list_allowed_values() {
        assert_eq!("holder-proxy".parse::<Scope>().unwrap(), Scope::HolderProxy);
        let err = "admin".parse::<Scope>().unwrap_err();
        assert!(err.contains("issue, manage, query, check, holder-proxy, audit, timestamp, import"), "{err}");
        assert_eq!(format!("{:?}", ClientKey("zz_secret".into())), "ClientKey(<redacted>)");
        assert_eq!(key_hash("zz_a").len(), 64);
    }
}
