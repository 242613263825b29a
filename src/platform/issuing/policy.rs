//! Who may issue what, and when a licence may get a new version: judgements over the
//! request, the seal, the department, the delegations (read from the store, never cached)
//! and the old version.

use sha2::{Digest, Sha256};

use crate::licence::{CheckedInput, DocumentKind, LicenceStatus, LicenceType, TypeScope};
use crate::store::{ClientRecord, Department, IdempotencyClaim, LicenceRow, SealRecord, SealStatus, Store};

use super::super::clients::{Scope, has_scope};
use super::super::delegations;
use super::super::error::PlatformError;
use super::super::limits::MAX_IDEMPOTENCY_KEY;
use super::IssueRequest;

/// An API client may issue with `seal` licences of `type_code`: it has the `issue` scope,
/// and either the seal is of its own department and its type list covers the type, or an
/// active delegation from the seal's department to it names the type and the seal. Every
/// issuing path asks this, once per seal it signs with. Answers the delegation that
/// authorised it (`None`: the client's own department), for the caller to log; refuses
/// with 403 `forbidden` (scope, own type list) or `no_delegation` (naming the type, the
/// seal, the department and what is missing). Nothing is cached: a revoked delegation
/// stops working for the next request.
pub(in crate::platform) async fn client_may_issue(
    store: &dyn Store,
    client: &ClientRecord,
    seal: &SealRecord,
    type_code: &str,
) -> Result<Option<String>, PlatformError> {
    let type_code = type_code.trim();
    if !has_scope(client, Scope::Issue) {
        return Err(PlatformError::Forbidden("this client lacks the issue scope".into()));
    }
    let department = seal.department_code.as_str();
    if client.department_code == department {
        if !TypeScope::new(&client.type_codes).covers(type_code) {
            return Err(PlatformError::Forbidden(format!(
                "this client may not issue licences of type {type_code}"
            )));
        }
        return Ok(None);
    }
    let active = store.active_delegations(department, &client.id).await?;
    match delegations::covering(&active, &seal.id, type_code) {
        Ok(delegation) => Ok(Some(delegation.id.clone())),
        Err(missing) => Err(PlatformError::NoDelegation(format!(
            "this client may not issue type {type_code} with seal {} of department {department}: {missing}",
            seal.id
        ))),
    }
}

/// `seal` signs now and can sign `document`: it is active, and of an algorithm that signs
/// it (an SM2 seal signs no PDF, only SM2 seals sign OFDs).
pub(super) fn seal_signs(seal: &SealRecord, document: DocumentKind) -> Result<(), PlatformError> {
    if seal.status != SealStatus::Active {
        return Err(PlatformError::Conflict(format!("seal {} is revoked and signs nothing more", seal.id)));
    }
    document.check_seal(seal.algorithm)?;
    Ok(())
}

/// The OFD seal of a `both` request: named exactly then (`ofd_seal_id`), active, SM2, of
/// the same department as the request's seal. For an OFD alone the request's seal signs
/// it, so `ofd_seal_id` is refused there as everywhere else.
pub(super) fn ofd_seal_fits(
    document: DocumentKind,
    seal: &SealRecord,
    ofd_seal: Option<&SealRecord>,
) -> Result<(), PlatformError> {
    let field = "ofd_seal_id";
    let Some(ofd_seal) = ofd_seal else {
        return match document {
            DocumentKind::Both => Err(PlatformError::InvalidInput {
                field,
                message: "\"document\": \"both\" needs ofd_seal_id: the SM2 seal that signs the OFD".into(),
            }),
            _ => Ok(()),
        };
    };
    if document != DocumentKind::Both {
        return Err(PlatformError::InvalidInput {
            field,
            message: format!(
                "ofd_seal_id is only for \"document\": \"both\" (an OFD alone is signed by seal_id); got {}",
                document.as_str()
            ),
        });
    }
    if ofd_seal.department_code != seal.department_code {
        return Err(PlatformError::InvalidInput {
            field,
            message: format!("seal {} belongs to another department than seal {}", ofd_seal.id, seal.id),
        });
    }
    if ofd_seal.status != SealStatus::Active {
        return Err(PlatformError::Conflict(format!(
            "seal {} is revoked and signs nothing more",
            ofd_seal.id
        )));
    }
    DocumentKind::check_ofd_seal(ofd_seal.algorithm)?;
    Ok(())
}

/// The department is authorised for the licence type.
pub(super) fn department_may_issue(
    department: &Department,
    licence_type: &LicenceType,
) -> Result<(), PlatformError> {
    if department.may_issue(licence_type.code.as_str()) {
        return Ok(());
    }
    Err(PlatformError::Forbidden(format!(
        "department {} is not authorised to issue licences of type {}",
        department.code,
        licence_type.code.as_str()
    )))
}

/// The claim an API client's request makes on its `Idempotency-Key`: the key and a hash
/// of what the request asks for. `None` for the operator.
pub(super) fn idempotency_claim(
    request: &IssueRequest,
    seal_id: &str,
    licence_type: &LicenceType,
) -> Result<Option<IdempotencyClaim>, PlatformError> {
    let (Some(client), Some(key)) = (&request.client, &request.idempotency_key) else {
        return Ok(None);
    };
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.is_ascii() {
        return Err(PlatformError::InvalidInput {
            field: "Idempotency-Key",
            message: format!("must be 1–{MAX_IDEMPOTENCY_KEY} ASCII characters"),
        });
    }
    let mut h = Sha256::new();
    h.update(seal_id.as_bytes());
    h.update([0]);
    h.update(licence_type.code.as_str().as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&request.input).unwrap_or_default());
    // A data-only licence and a PDF are different requests. A PDF request adds nothing, so
    // that keys stored before data-only licences existed still replay.
    if request.document != DocumentKind::Pdf {
        h.update([2]);
        h.update(request.document.as_str().as_bytes());
    }
    // A `both` licence's OFD seal is part of what it asks for.
    if let Some(ofd_seal) = &request.ofd_seal_id {
        h.update([3]);
        h.update(ofd_seal.trim().as_bytes());
    }
    // A renewal of a licence and a new licence are different requests.
    if let Some(old) = &request.renews {
        h.update([1]);
        h.update(old.trim().as_bytes());
    }
    Ok(Some(IdempotencyClaim {
        client_id: client.id.clone(),
        key: key.to_owned(),
        request_hash: h.finalize().to_vec(),
    }))
}

/// `old` (asked for as `old_id`) may get a new version from department `issuer` of
/// `licence_type`: it is the department's, of the same type, current, in force or
/// suspended, and has version numbers left.
pub(super) fn may_renew(
    old: &LicenceRow,
    old_id: &str,
    issuer: &str,
    licence_type: &LicenceType,
) -> Result<(), PlatformError> {
    if old.licence.issuer_code != issuer {
        return Err(PlatformError::NotFound(format!("licence {}", old_id.trim())));
    }
    if old.licence.type_code != licence_type.code.as_str() {
        return Err(PlatformError::InvalidInput {
            field: "type_code",
            message: format!("a new version keeps the type {}", old.licence.type_code),
        });
    }
    if let Some(newer) = &old.superseded_by {
        return Err(PlatformError::Conflict(format!("licence {old_id} was replaced by {newer} already")));
    }
    if matches!(old.status, LicenceStatus::Revoked | LicenceStatus::Cancelled | LicenceStatus::Withdrawn) {
        return Err(PlatformError::Conflict(format!(
            "licence {old_id} is {} and cannot be renewed",
            old.status.label()
        )));
    }
    if old.licence.version >= 999 {
        return Err(PlatformError::Conflict(format!("licence {old_id} has no version numbers left")));
    }
    Ok(())
}

/// A new version keeps the holder.
pub(super) fn keeps_holder(old: &LicenceRow, checked: &CheckedInput) -> Result<(), PlatformError> {
    if old.licence.holder_code == checked.holder_code {
        return Ok(());
    }
    Err(PlatformError::InvalidField {
        field: "holder.code".into(),
        message: "a new version keeps the holder; issue a new licence for another holder".into(),
    })
}
