//! What a holder does through a holder portal — list their licences, read who accessed
//! them, grant and revoke authorisations — each call carrying a holder assertion that the
//! portal signed ([`crate::holder_assertion`]). The platform checks the assertion (key,
//! issuer, times, holder, and that its `jti` was never used) and writes its id, holder and
//! authentication level into the access log entry of the call; refusals are logged too.

use std::sync::Arc;

use data_encoding::BASE32_NOPAD;
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

use crate::audit::AccessEntry;
use crate::holder_assertion::HolderAssertion;
use crate::signing::SealVerifier;
use crate::store::{AuthorisationRecord, ClientRecord, LicenceFilter, PortalRecord, Store, StoreError};

use super::error::PlatformError;
use super::limits::MAX_PAGE;
use super::register::{
    AuthorisationRequest, AuthorisationView, Basis, DEFAULT_AUTHORISATION_TTL, LicenceView,
    MAX_AUTHORISATION_TTL, Register, code_hash,
};

/// The access log's basis label of a call made with a holder assertion.
pub const HOLDER_ASSERTION_BASIS: &str = "holder-assertion";

/// Who called a holder endpoint.
#[derive(Debug, Clone)]
pub enum HolderCaller {
    /// A holder portal (the only caller that may act for holders).
    Portal(PortalRecord),
    /// A department client: always refused, and logged.
    Department(ClientRecord),
}

/// A call to a holder endpoint: the caller and the `X-Holder-Assertion` it sent.
#[derive(Debug, Clone)]
pub struct HolderCall {
    /// The authenticated caller.
    pub caller: HolderCaller,
    /// The compact JWS, as sent.
    pub assertion: Option<String>,
}

fn assertion_error(code: &'static str, message: impl Into<String>) -> PlatformError {
    PlatformError::HolderAssertion { code, message: message.into() }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// What holders do through their portals, each call checked and logged.
#[derive(Debug, Clone)]
pub struct Holders {
    store: Arc<dyn Store>,
    /// The register's views and access log.
    register: Register,
    rng: SystemRandom,
}

/// One access log entry of a holder call.
struct HolderEntry<'a> {
    action: &'a str,
    purpose: &'a str,
    licence_id: Option<String>,
    holder: Option<(String, String)>,
    assertion: Option<&'a HolderAssertion>,
    result: &'a str,
}

impl Holders {
    pub(super) fn new(store: Arc<dyn Store>, register: Register) -> Self {
        Self { store, register, rng: SystemRandom::new() }
    }

    async fn log_holder(
        &self,
        call: &HolderCall,
        e: HolderEntry<'_>,
        now: OffsetDateTime,
    ) -> Result<(), PlatformError> {
        let (client_id, department_code) = match &call.caller {
            HolderCaller::Portal(p) => (p.id.clone(), None),
            HolderCaller::Department(c) => (c.id.clone(), Some(c.department_code.clone())),
        };
        let (holder_code_type, holder_code) = e.holder.unzip();
        self.register
            .append_entry(AccessEntry {
                seq: 0,
                at: now.unix_timestamp(),
                client_id: Some(client_id),
                department_code,
                action: e.action.to_owned(),
                purpose: Some(e.purpose.to_owned()),
                basis: e.assertion.map(|_| HOLDER_ASSERTION_BASIS.to_owned()),
                licence_id: e.licence_id,
                holder_code_type,
                holder_code,
                result: e.result.to_owned(),
                assertion_id: e.assertion.map(|a| a.claims.jti.clone()),
                auth_level: e.assertion.map(|a| a.claims.acr.clone()),
            })
            .await?;
        Ok(())
    }

    /// The caller must be a portal with a good, unused assertion.
    async fn verified_assertion(
        &self,
        call: &HolderCall,
        now: OffsetDateTime,
    ) -> Result<HolderAssertion, PlatformError> {
        let portal = match &call.caller {
            HolderCaller::Portal(p) => p,
            HolderCaller::Department(_) => {
                return Err(PlatformError::Forbidden(
                    "department clients cannot act for holders: these calls need a holder portal's key (the \
                     operator registers portals with `zhengzhao portal add`)"
                        .into(),
                ));
            }
        };
        let Some(text) = call.assertion.as_deref() else {
            return Err(assertion_error(
                "holder_assertion_required",
                "send the holder's assertion, signed by this portal, in X-Holder-Assertion",
            ));
        };
        let key = SealVerifier::from_spki_der(&portal.public_key).map_err(|e| {
            PlatformError::Store(StoreError::Corrupt(format!("portal {} key: {e}", portal.id)))
        })?;
        let assertion = crate::holder_assertion::verify(text, &portal.id, &key, now.unix_timestamp())
            .map_err(|e| assertion_error(e.code(), e.to_string()))?;
        match self
            .store
            .use_holder_assertion(&portal.id, &assertion.claims.jti, assertion.remember_until(), now)
            .await
        {
            Ok(()) => Ok(assertion),
            Err(StoreError::Conflict(_)) => Err(assertion_error(
                "holder_assertion_replayed",
                format!(
                    "holder assertion {} was used already: sign a new one for each call",
                    assertion.claims.jti
                ),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the call's assertion and, when the call names a holder, that it is the
    /// asserted one. Refusals are logged.
    async fn holder_checked(
        &self,
        call: &HolderCall,
        action: &str,
        purpose: &str,
        named: Option<(&str, &str)>,
        now: OffsetDateTime,
    ) -> Result<HolderAssertion, PlatformError> {
        let owned = |h: (&str, &str)| (h.0.to_owned(), h.1.to_owned());
        let assertion = match self.verified_assertion(call, now).await {
            Ok(a) => a,
            Err(e) => {
                let entry = HolderEntry {
                    action,
                    purpose,
                    licence_id: None,
                    holder: named.map(owned),
                    assertion: None,
                    result: e.code(),
                };
                self.log_holder(call, entry, now).await?;
                return Err(e);
            }
        };
        let asserted = (assertion.claims.holder_code_type.as_str(), assertion.claims.holder_code.as_str());
        if let Some(named) = named
            && named != asserted
        {
            let e = PlatformError::HolderMismatch(
                "the holder assertion is for another holder than the one this call names".into(),
            );
            let entry = HolderEntry {
                action,
                purpose,
                licence_id: None,
                holder: Some(owned(named)),
                assertion: Some(&assertion),
                result: e.code(),
            };
            self.log_holder(call, entry, now).await?;
            return Err(e);
        }
        Ok(assertion)
    }

    /// The asserted holder's licences, unmasked (the holder is the one authenticated).
    pub async fn holder_licences(
        &self,
        call: &HolderCall,
        holder_code_type: &str,
        holder_code: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<LicenceView>, PlatformError> {
        let (action, purpose) = ("holder-list", "持证主体查看本人证照");
        let a =
            self.holder_checked(call, action, purpose, Some((holder_code_type, holder_code)), now).await?;
        let filter = LicenceFilter {
            holder_code_type: Some(a.claims.holder_code_type.clone()),
            holder_code: Some(a.claims.holder_code.clone()),
            limit: MAX_PAGE,
            ..LicenceFilter::default()
        };
        let rows = self.store.licences(&filter).await?;
        let holder = Some((a.claims.holder_code_type.clone(), a.claims.holder_code.clone()));
        let entry =
            HolderEntry { action, purpose, licence_id: None, holder, assertion: Some(&a), result: "ok" };
        self.log_holder(call, entry, now).await?;
        rows.iter()
            .map(|r| {
                // Unmasked only for the asserted holder's own licences.
                let own = r.licence.holder_code_type == a.claims.holder_code_type
                    && r.licence.holder_code == a.claims.holder_code;
                self.register.licence_view(r, own.then_some(&Basis::HolderAuthorisation), now.date())
            })
            .collect()
    }

    /// Who accessed the asserted holder's licences, when and why.
    pub async fn holder_access_log(
        &self,
        call: &HolderCall,
        holder_code_type: &str,
        holder_code: &str,
        after: u64,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<Vec<AccessEntry>, PlatformError> {
        let (action, purpose) = ("holder-access-log", "持证主体查看用证记录");
        let a =
            self.holder_checked(call, action, purpose, Some((holder_code_type, holder_code)), now).await?;
        let rows = self
            .store
            .holder_access_log(
                &a.claims.holder_code_type,
                &a.claims.holder_code,
                after,
                limit.clamp(1, MAX_PAGE),
            )
            .await?;
        let holder = Some((a.claims.holder_code_type.clone(), a.claims.holder_code.clone()));
        let entry =
            HolderEntry { action, purpose, licence_id: None, holder, assertion: Some(&a), result: "ok" };
        self.log_holder(call, entry, now).await?;
        Ok(rows.into_iter().map(|r| r.entry).collect())
    }

    /// Creates an authorisation of the asserted holder; returns the code once.
    pub async fn authorise(
        &self,
        call: &HolderCall,
        request: &AuthorisationRequest,
        now: OffsetDateTime,
    ) -> Result<AuthorisationView, PlatformError> {
        let (action, purpose) = ("authorise", "持证主体授权用证");
        let named = (request.holder_code_type.as_str(), request.holder_code.as_str());
        let a = self.holder_checked(call, action, purpose, Some(named), now).await?;
        let result = self.create_authorisation(call, request, now).await;
        let licence_ids = request.licence_ids.iter().map(|s| s.trim()).collect::<Vec<_>>().join(",");
        let holder = Some((a.claims.holder_code_type.clone(), a.claims.holder_code.clone()));
        let outcome = result.as_ref().map_or_else(PlatformError::code, |_| "ok");
        let entry = HolderEntry {
            action,
            purpose,
            licence_id: Some(licence_ids).filter(|s| s.len() <= 4096),
            holder,
            assertion: Some(&a),
            result: outcome,
        };
        self.log_holder(call, entry, now).await?;
        result
    }

    async fn create_authorisation(
        &self,
        call: &HolderCall,
        request: &AuthorisationRequest,
        now: OffsetDateTime,
    ) -> Result<AuthorisationView, PlatformError> {
        if request.licence_ids.is_empty() || request.licence_ids.len() > 20 {
            return Err(PlatformError::InvalidInput {
                field: "licence_ids",
                message: "name 1–20 licences".into(),
            });
        }
        for id in &request.licence_ids {
            let row = self.store.licence(id.trim()).await?;
            let theirs = row.is_some_and(|r| {
                r.licence.holder_code == request.holder_code
                    && r.licence.holder_code_type == request.holder_code_type
            });
            if !theirs {
                return Err(PlatformError::NotFound(format!("licence {} of this holder", id.trim())));
            }
        }
        if let Some(d) = &request.relying_department {
            crate::codes::Uscc::parse(d).map_err(|e| PlatformError::invalid("relying_department", e))?;
        }
        let ttl = request.ttl_seconds.map_or(DEFAULT_AUTHORISATION_TTL, |s| Duration::seconds(i64::from(s)));
        if ttl <= Duration::ZERO || ttl > MAX_AUTHORISATION_TTL {
            return Err(PlatformError::InvalidInput {
                field: "ttl_seconds",
                message: "between 1 second and 30 days".into(),
            });
        }
        let uses = request.uses.unwrap_or(1);
        if !(1..=100).contains(&uses) {
            return Err(PlatformError::InvalidInput { field: "uses", message: "between 1 and 100".into() });
        }
        // 80 random bits as 16 base32 characters: short enough to read out, too many to guess.
        let mut random = [0u8; 10];
        self.rng.fill(&mut random).map_err(|_| PlatformError::Rng)?;
        let code = BASE32_NOPAD.encode(&random);
        let created_by = match &call.caller {
            HolderCaller::Portal(p) => p.id.clone(),
            HolderCaller::Department(c) => c.id.clone(),
        };
        let record = AuthorisationRecord {
            code_hash: code_hash(&code),
            holder_code_type: request.holder_code_type.clone(),
            holder_code: request.holder_code.clone(),
            licence_ids: request.licence_ids.iter().map(|s| s.trim().to_owned()).collect(),
            relying_department: request.relying_department.clone(),
            created_by,
            created_at: now,
            expires_at: now + ttl,
            uses_left: uses,
            revoked_at: None,
        };
        self.store.insert_authorisation(&record).await?;
        Ok(AuthorisationView {
            code,
            licence_ids: record.licence_ids,
            relying_department: record.relying_department,
            expires_at: rfc3339(record.expires_at),
            uses,
        })
    }

    /// Revokes an authorisation of the asserted holder, through any portal the holder
    /// uses. Another holder's code answers `not_found`, as an unknown one does.
    pub async fn revoke_authorisation(
        &self,
        call: &HolderCall,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<(), PlatformError> {
        let (action, purpose) = ("revoke-authorisation", "持证主体撤回授权");
        let a = self.holder_checked(call, action, purpose, None, now).await?;
        let hash = code_hash(code);
        let result = async {
            match self.store.authorisation(&hash).await? {
                Some(auth)
                    if auth.holder_code_type == a.claims.holder_code_type
                        && auth.holder_code == a.claims.holder_code =>
                {
                    Ok(self.store.revoke_authorisation(&hash, now).await?)
                }
                _ => Err(PlatformError::NotFound("active authorisation of this holder".into())),
            }
        }
        .await;
        let holder = Some((a.claims.holder_code_type.clone(), a.claims.holder_code.clone()));
        let outcome = result.as_ref().map_or_else(PlatformError::code, |_| "ok");
        let entry =
            HolderEntry { action, purpose, licence_id: None, holder, assertion: Some(&a), result: outcome };
        self.log_holder(call, entry, now).await?;
        result
    }
}
