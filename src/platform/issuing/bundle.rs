//! 一件事一次办: one request of a one-window client (综合窗口) issues several licences of
//! several departments at once. Every entry is checked as a single licence would be
//! (the client's right to issue — its own department's or delegated —, the seal, the
//! type, the fields) and every faulty entry is named before anything is built; then all
//! are built in parallel with the receipt (办结通知书, `receipt.rs`) and stored in ONE
//! transaction: every licence of the bundle or none.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::licence::{DocumentKind, HolderInput, LicenceInput, LicenceStatus, MatterInput};
use crate::store::{BundleOutcome, BundleRow, ClientRecord, IdempotencyClaim};
use crate::token::bundle::MAX_BUNDLE_LICENCES;

use super::super::error::{EntryProblem, PlatformError};
use super::super::limits::MAX_IDEMPOTENCY_KEY;
use super::issue::{Authorised, Documents, OfdStamp};
use super::serial::Reserved;
use super::{IssueRequest, Issuing};

/// A bundle as a one-window client asks for it.
#[derive(Debug, Clone)]
pub struct BundleRequest {
    /// The one-window client.
    pub client: ClientRecord,
    /// `Idempotency-Key` of the request.
    pub idempotency_key: Option<String>,
    /// The content of the request.
    pub content: BundleContent,
}

/// What a bundle asks for: the applicant once, the matter, the receipt's seal and one
/// entry per licence. Its JSON form is the body of `POST /api/v1/bundles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleContent {
    /// The matter (一件事), e.g. `{"code": "310115-YJS-0001", "name": "开办饭店"}`.
    pub matter: MatterInput,
    /// The applicant, the holder of every licence of the bundle.
    pub applicant: HolderInput,
    /// A seal of the one-window client's own department that signs the receipt.
    pub receipt_seal_id: String,
    /// One entry per licence, 1 to 8.
    pub licences: Vec<BundleEntry>,
}

/// One licence of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    /// The licence type code.
    pub type_code: String,
    /// The issuing department's 统一社会信用代码; the seal must be this department's.
    pub department: String,
    /// The seal that signs the licence (delegated to the client, or of its department).
    pub seal_id: String,
    /// For `"document": "both"`: the department's SM2 seal that signs the OFD.
    #[serde(default)]
    pub ofd_seal_id: Option<String>,
    /// `pdf` (default), `ofd`, `both` or `none`.
    #[serde(default)]
    pub document: DocumentKind,
    /// The licence's own matter, if it differs from the bundle's.
    #[serde(default)]
    pub matter: Option<MatterInput>,
    /// First day of validity; default: the issue date.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// Last day of validity; default from the type.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// The type's fields by key.
    pub fields: BTreeMap<String, String>,
}

/// A bundle as issued (or as issued before, for a replayed request).
#[derive(Debug, Clone)]
pub struct IssuedBundle {
    /// The bundle and its licences now.
    pub view: BundleView,
    /// Whether an earlier request with the same key issued it.
    pub replayed: bool,
}

/// A stored bundle with the state of its licences.
#[derive(Debug, Clone)]
pub struct BundleView {
    /// The stored bundle.
    pub bundle: BundleRow,
    /// The receipt's QR text (`PUBLIC_URL/b/<token>`).
    pub url: String,
    /// Its licences in order.
    pub licences: Vec<BundleLicenceView>,
}

/// One licence of a bundle, as it stands.
#[derive(Debug, Clone)]
pub struct BundleLicenceView {
    /// 电子证照标识.
    pub identifier: String,
    /// Type code.
    pub type_code: String,
    /// Type name.
    pub type_name: String,
    /// Issuing department's code.
    pub issuer_code: String,
    /// Issuing department's name.
    pub issuer_name: String,
    /// The status in force today (expired licences read as expired).
    pub status: LicenceStatus,
    /// Its documents.
    pub document: DocumentKind,
    /// SHA-256 of its record.
    pub record_hash: Vec<u8>,
}

impl BundleEntry {
    /// The entry as the licence input of the applicant.
    fn input(&self, content: &BundleContent) -> LicenceInput {
        LicenceInput {
            holder: content.applicant.clone(),
            valid_from: self.valid_from.clone(),
            valid_until: self.valid_until.clone(),
            matter: Some(self.matter.clone().unwrap_or_else(|| content.matter.clone())),
            fields: self.fields.clone(),
        }
    }
}

/// The seal that signs a bundle's receipt, checked.
pub(super) struct ReceiptSeal {
    pub(super) seal: crate::store::SealRecord,
    pub(super) ctx: std::sync::Arc<super::super::pki::SealContext>,
}

/// An entry that passed every check.
pub(super) struct ReadyEntry {
    pub(super) authorised: Authorised,
    pub(super) checked: crate::licence::CheckedInput,
}

impl Issuing {
    /// Issues a bundle: all its licences and its receipt, or nothing. Refuses, naming
    /// every faulty entry, before anything is built; replays an earlier request with the
    /// same `Idempotency-Key` and body.
    pub async fn issue_bundle(
        &self,
        request: BundleRequest,
        now: OffsetDateTime,
    ) -> Result<IssuedBundle, PlatformError> {
        let content = &request.content;
        let count = content.licences.len();
        if count == 0 || count > MAX_BUNDLE_LICENCES {
            return Err(PlatformError::InvalidInput {
                field: "licences",
                message: format!("a bundle has 1 to {MAX_BUNDLE_LICENCES} licences, not {count}"),
            });
        }
        let (receipt, ready) = self.check_bundle(&request, now).await?;
        let claim = bundle_claim(&request)?;
        let delegations: Vec<Option<String>> =
            ready.iter().map(|r| r.authorised.delegation.clone()).collect();
        if let Some(row) = self.store.replay_bundle(&claim).await? {
            self.log_delegated(&request.client, &row, &delegations, true, now).await?;
            return Ok(IssuedBundle { view: self.bundle_view(row, now).await?, replayed: true });
        }
        let mut jobs = Vec::with_capacity(ready.len());
        for entry in ready {
            let client_id = Some(request.client.id.clone());
            jobs.push(
                self.build_job(
                    entry.authorised,
                    entry.checked,
                    None,
                    client_id,
                    Documents::Now(OfdStamp::Platform),
                    now,
                )
                .await?,
            );
        }
        let mut reserved = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let counter = format!("licence:{}:{}", job.issuer, job.licence_type.code);
            reserved.push(self.serials.take(self.store.as_ref(), &counter, now).await?);
        }
        let built = self.build_bundle(jobs, &reserved, receipt, content, &claim, now).await;
        let outcome = match built {
            Ok((bundle, licences)) => {
                let pairs = reserved.iter().map(|r| r.reservation.clone()).zip(licences).collect();
                self.store.store_bundle(bundle, pairs).await.map_err(PlatformError::from)
            }
            Err(e) => Err(e),
        };
        let (row, replayed) = match outcome {
            Ok(BundleOutcome::Stored(row)) => {
                reserved.into_iter().for_each(Reserved::keep);
                (row, false)
            }
            Ok(BundleOutcome::Replayed(row)) => {
                release_all(reserved);
                (row, true)
            }
            Err(e) => {
                release_all(reserved);
                return Err(e);
            }
        };
        self.log_delegated(&request.client, &row, &delegations, replayed, now).await?;
        Ok(IssuedBundle { view: self.bundle_view(row, now).await?, replayed })
    }

    /// Logs each licence of `row` issued under a delegation (`delegations`, in entry order),
    /// as single issuing does.
    async fn log_delegated(
        &self,
        client: &ClientRecord,
        row: &BundleRow,
        delegations: &[Option<String>],
        replayed: bool,
        now: OffsetDateTime,
    ) -> Result<(), PlatformError> {
        for (id, delegation) in row.licence_ids.iter().zip(delegations) {
            let Some(delegation) = delegation else { continue };
            let licence = super::super::lookup::licence(self.store.as_ref(), id).await?.licence;
            let subject =
                (licence.id.as_str(), licence.holder_code_type.as_str(), licence.holder_code.as_str());
            let entry =
                super::super::delegations::delegated_issue_entry(client, delegation, subject, replayed, now);
            self.access_log.append(entry).await?;
        }
        Ok(())
    }

    /// A bundle with its licences' state, to the one-window client that issued it (to
    /// anyone else it does not exist).
    pub async fn bundle(
        &self,
        id: &str,
        client: &ClientRecord,
        now: OffsetDateTime,
    ) -> Result<BundleView, PlatformError> {
        match self.store.bundle(id.trim()).await? {
            Some(row) if row.client_id == client.id => self.bundle_view(row, now).await,
            _ => Err(PlatformError::NotFound(format!("bundle {}", id.trim()))),
        }
    }

    /// A bundle's signed receipt PDF, to the client that issued it.
    pub async fn bundle_receipt(&self, id: &str, client: &ClientRecord) -> Result<Vec<u8>, PlatformError> {
        let missing = || PlatformError::NotFound(format!("bundle {}", id.trim()));
        match self.store.bundle(id.trim()).await? {
            Some(row) if row.client_id == client.id => {
                self.store.bundle_receipt(&row.record.id).await?.ok_or_else(missing)
            }
            _ => Err(missing()),
        }
    }

    async fn bundle_view(&self, bundle: BundleRow, now: OffsetDateTime) -> Result<BundleView, PlatformError> {
        let mut licences = Vec::with_capacity(bundle.licence_ids.len());
        for id in &bundle.licence_ids {
            let row = super::super::lookup::licence(self.store.as_ref(), id).await?;
            let issuer_name = self.pki.seal_context(&row.licence.seal_id).await?.department.name.clone();
            let type_name =
                self.catalogue.get(&row.licence.type_code).map_or_else(String::new, |t| t.name.clone());
            licences.push(BundleLicenceView {
                identifier: row.licence.id.clone(),
                type_code: row.licence.type_code.clone(),
                type_name,
                issuer_code: row.licence.issuer_code.clone(),
                issuer_name,
                status: super::super::register::effective_status(&row, now.date()),
                document: row.licence.document.kind(),
                record_hash: row.licence.record_hash.clone(),
            });
        }
        let url = crate::token::bundle_url(&self.config.public_url, &bundle.record.token);
        Ok(BundleView { bundle, url, licences })
    }

    /// Every check of every entry and of the receipt seal, with every problem named.
    async fn check_bundle(
        &self,
        request: &BundleRequest,
        now: OffsetDateTime,
    ) -> Result<(ReceiptSeal, Vec<ReadyEntry>), PlatformError> {
        let content = &request.content;
        let mut problems = vec![];
        let mut forbidden = false;
        let receipt = match self.receipt_seal(&request.client, &content.receipt_seal_id).await {
            Ok(receipt) => Some(receipt),
            Err(e) => {
                forbidden |= matches!(e, PlatformError::Forbidden(_) | PlatformError::NoDelegation(_));
                problems.push(problem(None, "receipt_seal_id", &e));
                None
            }
        };
        let mut ready = vec![];
        for (i, entry) in content.licences.iter().enumerate() {
            match self.check_entry(request, entry, now).await {
                Ok(r) => ready.push(r),
                Err((field, e)) => {
                    forbidden |= matches!(e, PlatformError::Forbidden(_) | PlatformError::NoDelegation(_));
                    problems.push(problem(Some(i), &field, &e));
                }
            }
        }
        match receipt {
            Some(receipt) if problems.is_empty() => Ok((receipt, ready)),
            _ => Err(PlatformError::BundleRefused { forbidden, problems }),
        }
    }

    /// One entry's checks, as single issuing makes them; the failing field on error.
    async fn check_entry(
        &self,
        request: &BundleRequest,
        entry: &BundleEntry,
        now: OffsetDateTime,
    ) -> Result<ReadyEntry, (String, PlatformError)> {
        let input = entry.input(&request.content);
        let single = IssueRequest {
            seal_id: entry.seal_id.clone(),
            ofd_seal_id: entry.ofd_seal_id.clone(),
            type_code: entry.type_code.clone(),
            input,
            document: entry.document,
            client: Some(request.client.clone()),
            idempotency_key: None,
            renews: None,
        };
        let authorised = self.authorise(&single).await.map_err(|e| (authorise_field(&e), e))?;
        if authorised.seal.department_code.as_str() != entry.department.trim() {
            let e = PlatformError::InvalidInput {
                field: "department",
                message: format!(
                    "seal {} belongs to department {}, not {}",
                    authorised.seal.id,
                    authorised.seal.department_code.as_str(),
                    entry.department.trim()
                ),
            };
            return Err(("department".into(), e));
        }
        let checked = authorised.licence_type.check(&single.input, now.date()).map_err(|e| {
            // The holder is the bundle's applicant.
            let field = match e.field.strip_prefix("holder") {
                Some(rest) => format!("/applicant{rest}"),
                None => e.field.clone(),
            };
            (field, PlatformError::InvalidField { field: e.field, message: e.message })
        })?;
        Ok(ReadyEntry { authorised, checked })
    }

    /// The receipt's seal: of the one-window client's own department, active, and able
    /// to sign a PDF.
    async fn receipt_seal(&self, client: &ClientRecord, seal_id: &str) -> Result<ReceiptSeal, PlatformError> {
        let seal = super::super::lookup::seal(self.store.as_ref(), seal_id).await?;
        if seal.department_code.as_str() != client.department_code {
            return Err(PlatformError::Forbidden(format!(
                "the receipt is signed by a seal of the client's own department ({}); seal {} is not",
                client.department_code, seal.id
            )));
        }
        if seal.status != crate::store::SealStatus::Active {
            return Err(PlatformError::Conflict(format!(
                "seal {} is revoked and signs nothing more",
                seal.id
            )));
        }
        DocumentKind::Pdf.check_seal(seal.algorithm)?;
        let ctx = self.pki.seal_context(&seal.id).await?;
        Ok(ReceiptSeal { seal, ctx })
    }
}

/// Gives every reserved serial back.
fn release_all(reserved: Vec<Reserved>) {
    reserved.into_iter().for_each(Reserved::release);
}

/// The field a failed [`Issuing::authorise`] points at.
fn authorise_field(e: &PlatformError) -> String {
    match e {
        PlatformError::InvalidInput { field, .. } => (*field).to_owned(),
        PlatformError::DocumentUnsupportedForSeal(_) => "document".into(),
        PlatformError::NotFound(what) if what.starts_with("licence type") => "type_code".into(),
        PlatformError::Forbidden(m) if m.contains("type") && !m.contains("seal") => "type_code".into(),
        _ => "seal_id".into(),
    }
}

/// A problem of entry `entry` (or of the bundle) at `field`.
fn problem(entry: Option<usize>, field: &str, e: &PlatformError) -> EntryProblem {
    let field = match (entry, field.strip_prefix('/')) {
        (_, Some(top)) => top.to_owned(),
        (Some(i), None) => format!("licences[{i}].{field}"),
        (None, None) => field.to_owned(),
    };
    EntryProblem { entry, field, code: e.code().to_owned(), message: e.to_string() }
}

/// The claim a bundle request makes on its `Idempotency-Key`.
fn bundle_claim(request: &BundleRequest) -> Result<IdempotencyClaim, PlatformError> {
    let key =
        request.idempotency_key.as_deref().map(str::trim).ok_or(PlatformError::IdempotencyKeyRequired)?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.is_ascii() {
        return Err(PlatformError::InvalidInput {
            field: "Idempotency-Key",
            message: format!("must be 1–{MAX_IDEMPOTENCY_KEY} ASCII characters"),
        });
    }
    let body = serde_json::to_vec(&request.content).map_err(|e| PlatformError::Io(e.to_string()))?;
    Ok(IdempotencyClaim {
        client_id: request.client.id.clone(),
        key: key.to_owned(),
        request_hash: Sha256::digest(&body).to_vec(),
    })
}
