//! The delegations service (一件事一次办): a department lets another department's API
//! client — a one-window system (综合窗口) — issue named licence types with named seals of
//! the department. Granting and revoking are the operator's and go to the access log; the
//! issuing policy (`issuing/policy.rs`) reads the active delegations on every request, so a
//! revocation takes effect for the next one.

use std::sync::Arc;

use data_encoding::BASE32_NOPAD;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use time::OffsetDateTime;

use crate::audit::AccessEntry;
use crate::licence::Catalogue;
use crate::store::{ClientRecord, DelegationFilter, DelegationRecord, SealRecord, SealStatus, Store};

use super::accesslog::AccessLogWriter;
use super::checks::checked_name;
use super::clients::{Scope, has_scope};
use super::error::PlatformError;
use super::lookup;

/// Most licence types, and most seals, one delegation names.
pub const MAX_DELEGATION_ITEMS: usize = 64;
/// Longest revocation reason, in characters.
pub const MAX_REVOKE_REASON: usize = 200;

/// A delegation as the command line and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DelegationView {
    /// Delegation id.
    #[schema(example = "dg_k3x9q2ma")]
    pub id: String,
    /// The delegating department's 统一社会信用代码 (the issuer of licences issued under it).
    #[schema(example = "11310115MB2C90510L")]
    pub department_code: String,
    /// The client it is granted to.
    pub client_id: String,
    /// Licence type codes it covers.
    pub type_codes: Vec<String>,
    /// Seals of the department it covers.
    pub seal_ids: Vec<String>,
    /// When it was granted (RFC 3339).
    pub created_at: String,
    /// When it was revoked (RFC 3339); `null` while active.
    pub revoked_at: Option<String>,
    /// Why it was revoked, if a reason was given.
    pub revoke_reason: Option<String>,
}

impl From<&DelegationRecord> for DelegationView {
    fn from(d: &DelegationRecord) -> Self {
        let rfc3339 = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
        };
        Self {
            id: d.id.clone(),
            department_code: d.department_code.clone(),
            client_id: d.client_id.clone(),
            type_codes: d.type_codes.clone(),
            seal_ids: d.seal_ids.clone(),
            created_at: rfc3339(d.created_at),
            revoked_at: d.revoked_at.map(rfc3339),
            revoke_reason: d.revoke_reason.clone(),
        }
    }
}

/// Departments' delegations to other departments' clients.
#[derive(Debug, Clone)]
pub struct Delegations {
    store: Arc<dyn Store>,
    catalogue: Arc<Catalogue>,
    rng: SystemRandom,
    access_log: AccessLogWriter,
}

impl Delegations {
    pub(super) fn new(store: Arc<dyn Store>, catalogue: Arc<Catalogue>, access_log: AccessLogWriter) -> Self {
        Self { store, catalogue, rng: SystemRandom::new(), access_log }
    }

    /// Grants `client_id` (an active client with the `issue` scope, of another department)
    /// the right to issue `type_codes` (each in the catalogue and issued by the department)
    /// with `seal_ids` (each an active seal of the department) in the name of
    /// `department`. Duplicates are dropped; nothing is stored on any refusal. Logged as
    /// `delegation-add` by the operator.
    pub async fn add(
        &self,
        department: &str,
        client_id: &str,
        type_codes: &[String],
        seal_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<DelegationRecord, PlatformError> {
        let department = lookup::department(self.store.as_ref(), department).await?;
        let code = department.code.as_str();
        let client = self.delegate(client_id, code).await?;
        let type_codes = checked_list("types", type_codes)?;
        for type_code in &type_codes {
            if self.catalogue.get(type_code).is_none() {
                return Err(PlatformError::InvalidInput {
                    field: "types",
                    message: format!("unknown licence type {type_code:?}; see `zhengzhao types list`"),
                });
            }
            if !department.may_issue(type_code) {
                return Err(PlatformError::Forbidden(format!(
                    "department {code} is not authorised to issue licences of type {type_code}, so it cannot \
                     delegate them"
                )));
            }
        }
        let seal_ids = checked_list("seals", seal_ids)?;
        for seal_id in &seal_ids {
            seal_fits(&lookup::seal(self.store.as_ref(), seal_id).await?, code)?;
        }
        let delegation = DelegationRecord {
            id: self.new_id()?,
            department_code: code.to_owned(),
            client_id: client.id,
            type_codes,
            seal_ids,
            // As stored: whole seconds.
            created_at: now.replace_nanosecond(0).unwrap_or(now),
            revoked_at: None,
            revoke_reason: None,
        };
        self.store.insert_delegation(&delegation).await?;
        let purpose = summary(&delegation);
        self.log(&delegation, "delegation-add", Some(purpose), now).await?;
        Ok(delegation)
    }

    /// Revokes a delegation (at once: the next issuing request under it is refused);
    /// not found if unknown, conflict if revoked already. Logged as `delegation-revoke` by
    /// the operator, with the reason.
    pub async fn revoke(
        &self,
        id: &str,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<DelegationRecord, PlatformError> {
        let reason = match reason {
            Some(r) => Some(checked_name("reason", r, MAX_REVOKE_REASON)?.to_owned()),
            None => None,
        };
        let revoked = self.store.revoke_delegation(id.trim(), now, reason.as_deref()).await?;
        self.log(&revoked, "delegation-revoke", reason, now).await?;
        Ok(revoked)
    }

    /// Delegations granted by `department` and/or to `client_id` (both optional), revoked
    /// ones too if `include_revoked`.
    pub async fn list(
        &self,
        department: Option<&str>,
        client_id: Option<&str>,
        include_revoked: bool,
    ) -> Result<Vec<DelegationRecord>, PlatformError> {
        let department_code = match department {
            Some(d) => Some(lookup::department(self.store.as_ref(), d).await?.code.as_str().to_owned()),
            None => None,
        };
        let filter = DelegationFilter {
            department_code,
            client_id: client_id.map(|c| c.trim().to_owned()),
            include_revoked,
        };
        Ok(self.store.delegations(&filter).await?)
    }

    /// The active delegations granted to `client`: what it may issue in other
    /// departments' names.
    pub async fn granted_to(&self, client: &ClientRecord) -> Result<Vec<DelegationRecord>, PlatformError> {
        self.list(None, Some(&client.id), false).await
    }

    /// The client a delegation of `department` may go to: known, active, able to issue,
    /// and of another department.
    async fn delegate(&self, client_id: &str, department: &str) -> Result<ClientRecord, PlatformError> {
        let id = client_id.trim();
        let client =
            self.store.client(id).await?.ok_or_else(|| PlatformError::NotFound(format!("client {id}")))?;
        if client.revoked_at.is_some() {
            return Err(PlatformError::Conflict(format!("client {id} is revoked")));
        }
        if client.department_code == department {
            return Err(PlatformError::InvalidInput {
                field: "client",
                message: format!(
                    "client {id} belongs to department {department} itself: it issues with its own \
                     department's seals without a delegation; delegate to another department's client"
                ),
            });
        }
        if !has_scope(&client, Scope::Issue) {
            return Err(PlatformError::InvalidInput {
                field: "client",
                message: format!(
                    "client {id} lacks the issue scope: a delegation would let it issue nothing"
                ),
            });
        }
        Ok(client)
    }

    /// `dg_` and 8 base32 characters (40 random bits), as client ids are made.
    fn new_id(&self) -> Result<String, PlatformError> {
        let mut random = [0u8; 5];
        self.rng.fill(&mut random).map_err(|_| PlatformError::Rng)?;
        Ok(format!("dg_{}", BASE32_NOPAD.encode(&random).to_ascii_lowercase()))
    }

    /// The operator's access log entry for a grant or a revocation.
    async fn log(
        &self,
        d: &DelegationRecord,
        action: &str,
        purpose: Option<String>,
        now: OffsetDateTime,
    ) -> Result<u64, PlatformError> {
        self.access_log
            .append(AccessEntry {
                seq: 0,
                at: now.unix_timestamp(),
                client_id: None,
                department_code: Some(d.department_code.clone()),
                action: action.to_owned(),
                purpose,
                basis: Some(delegation_basis(&d.id)),
                licence_id: None,
                holder_code_type: None,
                holder_code: None,
                result: "ok".to_owned(),
                assertion_id: None,
                auth_level: None,
            })
            .await
    }
}

/// The access log's basis of what a delegation allowed: `delegation:<id>`.
pub(super) fn delegation_basis(id: &str) -> String {
    format!("delegation:{id}")
}

/// One line saying what a delegation grants.
pub fn summary(d: &DelegationRecord) -> String {
    format!(
        "department {} delegates to client {}: types {}; seals {}",
        d.department_code,
        d.client_id,
        d.type_codes.join(","),
        d.seal_ids.join(",")
    )
}

/// The access log entry of a licence issued under a delegation: the client that issued,
/// its department, action `issue`, basis `delegation:<id>`, the licence and its holder;
/// result `ok`, or `replayed` when an earlier request with the same key issued it.
pub(super) fn delegated_issue_entry(
    client: &ClientRecord,
    delegation_id: &str,
    licence: (&str, &str, &str),
    replayed: bool,
    now: OffsetDateTime,
) -> AccessEntry {
    AccessEntry {
        seq: 0,
        at: now.unix_timestamp(),
        client_id: Some(client.id.clone()),
        department_code: Some(client.department_code.clone()),
        action: "issue".to_owned(),
        purpose: None,
        basis: Some(delegation_basis(delegation_id)),
        licence_id: Some(licence.0.to_owned()),
        holder_code_type: Some(licence.1.to_owned()),
        holder_code: Some(licence.2.to_owned()),
        result: if replayed { "replayed" } else { "ok" }.to_owned(),
        assertion_id: None,
        auth_level: None,
    }
}

/// A list of type codes or seal ids: trimmed, without duplicates (first order kept), 1 to
/// [`MAX_DELEGATION_ITEMS`] entries, none empty or holding a comma, `*` or a control character.
fn checked_list(field: &'static str, items: &[String]) -> Result<Vec<String>, PlatformError> {
    let invalid = |message: String| PlatformError::InvalidInput { field, message };
    let mut out: Vec<String> = vec![];
    for item in items.iter().map(|i| i.trim()) {
        if item.is_empty() {
            return Err(invalid("an empty entry".into()));
        }
        if item == "*" {
            return Err(invalid("a delegation names each licence type and seal; `*` is not allowed".into()));
        }
        if item.len() > 64 || item.contains(',') || item.chars().any(char::is_control) {
            return Err(invalid(format!("{item:?} is not a licence type code or seal id")));
        }
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    if out.is_empty() {
        return Err(invalid("name at least one".into()));
    }
    if out.len() > MAX_DELEGATION_ITEMS {
        return Err(invalid(format!("{} entries, at most {MAX_DELEGATION_ITEMS}", out.len())));
    }
    Ok(out)
}

/// A seal a delegation of `department` may name: the department's own, and active.
fn seal_fits(seal: &SealRecord, department: &str) -> Result<(), PlatformError> {
    if seal.department_code.as_str() != department {
        return Err(PlatformError::InvalidInput {
            field: "seals",
            message: format!(
                "seal {} belongs to department {}, not to {department}",
                seal.id, seal.department_code
            ),
        });
    }
    if seal.status != SealStatus::Active {
        return Err(PlatformError::Conflict(format!("seal {} is revoked and signs nothing more", seal.id)));
    }
    Ok(())
}

/// Which of the active delegations of one department to one client covers issuing
/// `type_code` with `seal_id`: the first that names both. Otherwise what is missing, for
/// the refusal: no delegation at all, none naming the type, or none naming the seal.
pub(super) fn covering<'a>(
    active: &'a [DelegationRecord],
    seal_id: &str,
    type_code: &str,
) -> Result<&'a DelegationRecord, &'static str> {
    let names_type = |d: &&DelegationRecord| d.type_codes.iter().any(|t| t == type_code);
    let names_seal = |d: &&DelegationRecord| d.seal_ids.iter().any(|s| s == seal_id);
    if let Some(d) = active.iter().filter(|d| d.is_active()).find(|d| names_type(d) && names_seal(d)) {
        return Ok(d);
    }
    let active: Vec<&DelegationRecord> = active.iter().filter(|d| d.is_active()).collect();
    Err(if active.is_empty() {
        "no active delegation"
    } else if !active.iter().any(names_type) {
        "no active delegation names this licence type"
    } else if !active.iter().any(names_seal) {
        "no active delegation names this seal"
    } else {
        "no active delegation names this licence type together with this seal"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delegation(id: &str, types: &[&str], seals: &[&str], revoked: bool) -> DelegationRecord {
        let t = OffsetDateTime::UNIX_EPOCH;
        DelegationRecord {
            id: id.into(),
            department_code: "11310115MB2C90510L".into(),
            client_id: "cl_window".into(),
            type_codes: types.iter().map(|s| (*s).to_owned()).collect(),
            seal_ids: seals.iter().map(|s| (*s).to_owned()).collect(),
            created_at: t,
            revoked_at: revoked.then_some(t),
            revoke_reason: None,
        }
    }

    #[test]
    fn the_covering_delegation_names_both_type_and_seal() {
        let a = delegation("dg_a", &["T1"], &["S1"], false);
        let b = delegation("dg_b", &["T2"], &["S2"], false);
        let both = [a.clone(), b.clone()];
        assert_eq!(covering(&both, "S2", "T2").map(|d| d.id.as_str()), Ok("dg_b"));
        assert_eq!(covering(&both, "S1", "T1").map(|d| d.id.as_str()), Ok("dg_a"));
        // T1 and S2 are each delegated, but never together.
        assert_eq!(
            covering(&both, "S2", "T1").map(|d| d.id.as_str()),
            Err("no active delegation names this licence type together with this seal")
        );
        assert_eq!(covering(&both, "S1", "T3").err(), Some("no active delegation names this licence type"));
        assert_eq!(covering(&both, "S3", "T1").err(), Some("no active delegation names this seal"));
        assert_eq!(covering(&[], "S1", "T1").err(), Some("no active delegation"));
        // A revoked one, handed in by mistake, covers nothing.
        let revoked = [delegation("dg_r", &["T1"], &["S1"], true)];
        assert_eq!(covering(&revoked, "S1", "T1").err(), Some("no active delegation"));
    }

    #[test]
    fn lists_are_trimmed_deduplicated_and_bounded() {
        let v = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(checked_list("types", &v(&[" T1", "T2", "T1 "])).unwrap(), v(&["T1", "T2"]));
        for bad in [v(&[]), v(&[""]), v(&["*"]), v(&["a,b"]), v(&["x\ty"]), v(&[&"x".repeat(65)])] {
            let e = checked_list("seals", &bad).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{bad:?}");
            assert!(e.to_string().starts_with("invalid seals: "), "{e}");
        }
        let many: Vec<String> = (0..=MAX_DELEGATION_ITEMS).map(|i| format!("S{i}")).collect();
        assert!(checked_list("seals", &many).unwrap_err().to_string().contains("at most 64"));
    }
}
