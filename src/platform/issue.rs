//! Issuing a licence: check the input against its type, allocate the serial, build the
//! record, sign the QR token, render and sign the PDF (with the CRL in a DSS), and store
//! all of it in one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use super::clients::{Scope, has_scope, may_use_type};
use super::{Platform, PlatformError};
use crate::codes::{LicenceId, Uscc};
use crate::licence::CheckedInput;
use crate::licence::{FieldKind, LicenceInput, LicenceRecord, LicenceStatus, LicenceType};
use crate::pdf::{self, DocInfo, LicencePage};
use crate::seal::SealDrawing;
use crate::signing::SealSigner;
use crate::store::{
    ClientRecord, Department, IdempotencyClaim, IssueOutcome, NewLicence, SealStatus, SerialReservation,
    Store,
};
use crate::token::{self, LicenceClaims};

/// What an issuing request names.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// The seal to sign with.
    pub seal_id: String,
    /// The licence type code.
    pub type_code: String,
    /// The licence content.
    pub input: LicenceInput,
    /// The API client asking, or `None` for the operator's command line.
    pub client: Option<ClientRecord>,
    /// `Idempotency-Key` of the request, if any.
    pub idempotency_key: Option<String>,
    /// For a renewal or change: the identifier of the current version it replaces. The
    /// new version keeps type, issuer, serial and holder code, with the version number
    /// one higher.
    pub renews: Option<String>,
}

/// A licence as issued (or as issued before, for a replayed idempotent request).
#[derive(Debug, Clone)]
pub struct IssuedLicence {
    /// 电子证照标识.
    pub identifier: String,
    /// The COSE token.
    pub token: Vec<u8>,
    /// The QR URL.
    pub url: String,
    /// The signed PDF.
    pub pdf: Vec<u8>,
    /// SHA-256 of the record.
    pub record_hash: Vec<u8>,
    /// Whether an earlier request with the same idempotency key issued it.
    pub replayed: bool,
}

/// A seal's signing material, loaded once per seal (key files may be encrypted, and
/// decrypting them is deliberately slow).
#[derive(Debug)]
pub(super) struct SealContext {
    seal_id: String,
    signer: SealSigner,
    chain: Vec<Vec<u8>>,
    kid: Vec<u8>,
    drawing: SealDrawing,
    /// The seal as a signature appearance, made at the first signature.
    appearance: std::sync::OnceLock<pdf::SealAppearance>,
    department: Department,
}

/// Cache of seal contexts by seal id.
pub(super) type SealCache = Arc<Mutex<HashMap<String, Arc<SealContext>>>>;

/// Most bytes an `Idempotency-Key` may have.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

fn cn_date(d: Date) -> String {
    format!("{}年{:02}月{:02}日", d.year(), u8::from(d.month()), d.day())
}

fn cn_date_text(s: &str) -> String {
    crate::licence::parse_date("", s).map(cn_date).unwrap_or_else(|_| s.to_owned())
}

/// `licence_number` → `LicenceNumber`, for PDF document-information keys.
fn camel(key: &str) -> String {
    key.split('_')
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

impl Platform {
    async fn seal_context(&self, seal_id: &str) -> Result<Arc<SealContext>, PlatformError> {
        if let Some(ctx) = self.seal_cache.lock().ok().and_then(|c| c.get(seal_id).cloned()) {
            return Ok(ctx);
        }
        let seal = self.seal(seal_id).await?;
        let root = self.root(seal.algorithm).await?;
        let key = self.keys.read(&seal.key_name)?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|error| PlatformError::Signing { key: format!("seal {seal_id}"), error })?;
        let department = self.department(seal.department_code.as_str()).await?;
        let drawing = crate::seal::draw(&department.name, &seal.name)?;
        let kid = crate::token::kid_of(&seal.cert_der);
        let ctx = Arc::new(SealContext {
            seal_id: seal.id.clone(),
            signer,
            chain: vec![seal.cert_der, root.cert_der],
            kid,
            drawing,
            appearance: std::sync::OnceLock::new(),
            department,
        });
        if let Ok(mut cache) = self.seal_cache.lock() {
            cache.insert(seal_id.to_owned(), ctx.clone());
        }
        Ok(ctx)
    }

    /// The licence type with `code`.
    pub fn licence_type(&self, code: &str) -> Result<&LicenceType, PlatformError> {
        self.catalogue
            .get(code.trim())
            .ok_or_else(|| PlatformError::NotFound(format!("licence type {}", code.trim())))
    }

    /// Issues a licence. Checks, in order: the seal exists and is active; an API client
    /// has the `issue` scope, belongs to the seal's department and may use the type; the
    /// input fits the type. Then builds, signs and stores everything atomically.
    pub async fn issue(
        &self,
        request: IssueRequest,
        now: OffsetDateTime,
    ) -> Result<IssuedLicence, PlatformError> {
        let seal = self.seal(&request.seal_id).await?;
        if let Some(client) = &request.client {
            if !has_scope(client, Scope::Issue) {
                return Err(PlatformError::Forbidden("this client lacks the issue scope".into()));
            }
            if client.department_code != seal.department_code.as_str() {
                return Err(PlatformError::Forbidden(format!(
                    "seal {} belongs to another department than this client's",
                    seal.id
                )));
            }
            if !may_use_type(client, request.type_code.trim()) {
                return Err(PlatformError::Forbidden(format!(
                    "this client may not issue licences of type {}",
                    request.type_code.trim()
                )));
            }
        }
        // An API client must make its request repeatable: a blind retry without a key
        // would issue a second licence (a legal document). Checked after the client's
        // rights, so that a client that may not issue learns that first.
        if request.client.is_some() && request.idempotency_key.is_none() {
            return Err(PlatformError::IdempotencyKeyRequired);
        }
        if seal.status != SealStatus::Active {
            return Err(PlatformError::Conflict(format!(
                "seal {} is revoked and signs nothing more",
                seal.id
            )));
        }
        let licence_type = self.licence_type(&request.type_code)?;
        // The department as the seal context keeps it (read once per seal).
        let department = &self.seal_context(&seal.id).await?.department;
        if !department.may_issue(licence_type.code.as_str()) {
            return Err(PlatformError::Forbidden(format!(
                "department {} is not authorised to issue licences of type {}",
                department.code,
                licence_type.code.as_str()
            )));
        }
        // A retry is answered before the renewal is judged: after a renewal succeeded, the
        // old version is superseded, and its retry must still get the new version back.
        let idempotency = match (&request.client, &request.idempotency_key) {
            (Some(client), Some(key)) => {
                let key = key.trim();
                if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !key.is_ascii() {
                    return Err(PlatformError::InvalidInput {
                        field: "Idempotency-Key",
                        message: format!("must be 1–{MAX_IDEMPOTENCY_KEY} ASCII characters"),
                    });
                }
                let mut h = Sha256::new();
                h.update(seal.id.as_bytes());
                h.update([0]);
                h.update(licence_type.code.as_str().as_bytes());
                h.update([0]);
                h.update(serde_json::to_vec(&request.input).unwrap_or_default());
                // A renewal of a licence and a new licence are different requests.
                if let Some(old) = &request.renews {
                    h.update([1]);
                    h.update(old.trim().as_bytes());
                }
                Some(IdempotencyClaim {
                    client_id: client.id.clone(),
                    key: key.to_owned(),
                    request_hash: h.finalize().to_vec(),
                })
            }
            _ => None,
        };
        if let Some(claim) = &idempotency
            && let Some(row) = self.store.replay_issue(claim).await?
        {
            return Ok(issued(&self.config.public_url, row.licence, true));
        }
        let today = now.date();
        let renewal = match &request.renews {
            None => None,
            Some(old_id) => {
                let old = self.row(old_id).await?;
                if old.licence.issuer_code != seal.department_code.as_str() {
                    return Err(PlatformError::NotFound(format!("licence {}", old_id.trim())));
                }
                if old.licence.type_code != licence_type.code.as_str() {
                    return Err(PlatformError::InvalidInput {
                        field: "type_code",
                        message: format!("a new version keeps the type {}", old.licence.type_code),
                    });
                }
                if let Some(newer) = &old.superseded_by {
                    return Err(PlatformError::Conflict(format!(
                        "licence {old_id} was replaced by {newer} already"
                    )));
                }
                if matches!(
                    old.status,
                    LicenceStatus::Revoked | LicenceStatus::Cancelled | LicenceStatus::Withdrawn
                ) {
                    return Err(PlatformError::Conflict(format!(
                        "licence {old_id} is {} and cannot be renewed",
                        old.status.label()
                    )));
                }
                if old.licence.version >= 999 {
                    return Err(PlatformError::Conflict(format!(
                        "licence {old_id} has no version numbers left"
                    )));
                }
                Some(old)
            }
        };
        let checked = licence_type
            .check(&request.input, today)
            .map_err(|e| PlatformError::InvalidField { field: e.field, message: e.message })?;
        if let Some(old) = &renewal
            && old.licence.holder_code != checked.holder_code
        {
            return Err(PlatformError::InvalidField {
                field: "holder.code".into(),
                message: "a new version keeps the holder; issue a new licence for another holder".into(),
            });
        }
        let ctx = self.seal_context(&seal.id).await?;
        let crl = self.dss_crl(seal.algorithm, now).await?;
        let issuer =
            Uscc::parse(ctx.department.code.as_str()).map_err(|e| PlatformError::invalid("issuer", e))?;
        let job = BuildJob {
            licence_type: licence_type.clone(),
            checked,
            ctx,
            crl_der: crl.der,
            issuer,
            public_url: self.config.public_url.clone(),
            client_id: request.client.as_ref().map(|c| c.id.clone()),
            version: renewal.as_ref().map_or(1, |old| old.licence.version + 1),
            replaces: renewal.as_ref().map(|old| old.licence.id.clone()),
            renewal_serial: renewal.as_ref().map(|old| old.licence.serial.clone()),
            now,
        };
        // The serial is reserved by the database in a short transaction of its own; the
        // licence is built outside any transaction, on a blocking thread (render and sign
        // take milliseconds of CPU), so concurrent requests build in parallel; then one short
        // transaction stores it. A failure gives the serial back.
        let reservation = match &renewal {
            None => {
                let counter = format!("licence:{}:{}", job.issuer, job.licence_type.code);
                Some(Reserved::new(self.store.clone(), self.store.reserve_serial(&counter, now).await?))
            }
            Some(_) => None,
        };
        let serial = reservation.as_ref().map_or(0, |r| r.reservation.value);
        let built = tokio::task::spawn_blocking(move || job.build(serial))
            .await
            .map_err(|e| PlatformError::Task(format!("building the licence: {e}")));
        let stored = match built {
            Ok(Ok(licence)) => self
                .store
                .store_licence(reservation.as_ref().map(|r| &r.reservation), idempotency.as_ref(), licence)
                .await
                .map_err(PlatformError::from),
            Ok(Err(e)) => Err(PlatformError::Unprocessable(e.to_string())),
            Err(e) => Err(e),
        };
        match (stored, reservation) {
            (Ok(IssueOutcome::Issued(row)), Some(r)) => {
                r.keep();
                Ok(issued(&self.config.public_url, row.licence, false))
            }
            (Ok(IssueOutcome::Issued(row)), None) => Ok(issued(&self.config.public_url, row.licence, false)),
            (Ok(IssueOutcome::Replayed(row)), r) => {
                if let Some(r) = r {
                    r.release().await;
                }
                Ok(issued(&self.config.public_url, row.licence, true))
            }
            (Err(e), r) => {
                if let Some(r) = r {
                    r.release().await;
                }
                Err(e)
            }
        }
    }
}

/// The answer for a stored licence.
fn issued(public_url: &str, l: NewLicence, replayed: bool) -> IssuedLicence {
    IssuedLicence {
        url: token::qr_url(public_url, &l.token),
        identifier: l.id,
        token: l.token,
        pdf: l.pdf,
        record_hash: l.record_hash,
        replayed,
    }
}

/// A reserved serial that goes back to the store unless its licence was stored: explicitly
/// on failure ([`Reserved::release`]), or, if the request is dropped half-way (client gone),
/// from a task spawned on drop.
#[derive(Debug)]
struct Reserved {
    store: Arc<dyn Store>,
    reservation: SerialReservation,
    armed: bool,
}

impl Reserved {
    fn new(store: Arc<dyn Store>, reservation: SerialReservation) -> Self {
        Self { store, reservation, armed: true }
    }

    /// The licence was stored with this serial.
    fn keep(mut self) {
        self.armed = false;
    }

    /// Gives the serial back now, so the next licence takes it. If the store cannot be
    /// reached, the reservation lapses and the serial is handed out again then.
    async fn release(mut self) {
        self.armed = false;
        if let Err(e) = self.store.release_serial(&self.reservation).await {
            tracing::warn!(serial = self.reservation.value, "could not give back a serial: {e}");
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Without a runtime the lease lapses and the serial is handed out again then.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let (store, reservation) = (self.store.clone(), self.reservation.clone());
            rt.spawn(async move {
                if let Err(e) = store.release_serial(&reservation).await {
                    tracing::warn!(serial = reservation.value, "could not give back a serial: {e}");
                }
            });
        }
    }
}

/// Why building a licence failed (a rendering, signing or identifier error); nothing
/// was stored.
type BuildError = Box<dyn std::error::Error + Send + Sync>;

/// Everything building one licence needs, owned, so that it runs on a blocking thread.
#[derive(Debug)]
struct BuildJob {
    licence_type: LicenceType,
    checked: CheckedInput,
    ctx: Arc<SealContext>,
    /// The root's CRL with thisUpdate at or after the signing time, for the DSS.
    crl_der: Vec<u8>,
    issuer: Uscc,
    public_url: String,
    client_id: Option<String>,
    version: u16,
    replaces: Option<String>,
    /// The serial a renewal keeps.
    renewal_serial: Option<String>,
    now: OffsetDateTime,
}

impl BuildJob {
    /// Builds record, token and signed PDF (with DSS) for serial number `n`.
    fn build(self, n: u64) -> Result<NewLicence, BuildError> {
        let Self {
            licence_type,
            checked,
            ctx,
            crl_der,
            issuer,
            public_url,
            client_id,
            version,
            replaces,
            ..
        } = &self;
        let (now, today) = (self.now, self.now.date());
        let type_code = &licence_type.code;
        let serial = match &self.renewal_serial {
            Some(serial) => serial.clone(),
            None => format!("{}{n:07}", today.year()),
        };
        let id = LicenceId::new(type_code, issuer, &serial, *version)?;
        let licence_number = match &licence_type.number_field {
            Some(key) => checked.fields.get(key).cloned().unwrap_or_else(|| serial.clone()),
            None => serial.clone(),
        };
        let record = LicenceRecord {
            identifier: id.to_string(),
            licence_name: licence_type.name.clone(),
            licence_number,
            type_code: type_code.to_string(),
            type_name: licence_type.name.clone(),
            issuer_code: issuer.to_string(),
            issuer_name: ctx.department.name.clone(),
            definer_code: licence_type.definer_code.to_string(),
            definer_name: licence_type.definer_name.clone(),
            area_code: ctx.department.area.to_string(),
            issue_date: today.to_string(),
            valid_from: checked.valid_from.to_string(),
            valid_until: checked.valid_until.map(|d| d.to_string()),
            holder_name: checked.holder_name.clone(),
            holder_code: checked.holder_code.clone(),
            holder_code_type: checked.holder_code_type.code().to_owned(),
            matter_code: checked.matter.as_ref().map(|m| m.code.clone()),
            matter_name: checked.matter.as_ref().map(|m| m.name.clone()),
            fields: checked.fields.clone(),
            seal_id: ctx.seal_id.clone(),
            version: *version,
            replaces: replaces.clone(),
        };
        let record_cbor = record.to_cbor();
        let record_hash = Sha256::digest(&record_cbor).to_vec();
        let claims = LicenceClaims {
            issuer: issuer.to_string(),
            issued_at: now.unix_timestamp(),
            expires_at: checked
                .valid_until
                .and_then(|d| d.next_day())
                .map(|d| d.midnight().assume_offset(time::macros::offset!(+8)).unix_timestamp()),
            licence_id: id.to_string(),
            holder_name: checked.holder_name.clone(),
            holder_code_masked: crate::codes::public_holder_code(
                &checked.holder_code,
                checked.holder_code_type.code(),
            ),
            valid_from: checked.valid_from.to_string(),
            valid_until: checked.valid_until.map(|d| d.to_string()),
            record_hash: record_hash.clone(),
        };
        let token = token::sign(&claims, &ctx.kid, &ctx.signer)?;
        let url = token::qr_url(public_url, &token);
        let page = licence_page(licence_type, &record, &url, now);
        let rendered = pdf::render(&page)?;
        let certs = ctx.chain.as_slice();
        let with_dss = pdf::sign_rendered(
            &rendered,
            &pdf::SignParams {
                signer: &ctx.signer,
                cert_chain_der: ctx.chain.clone(),
                signing_time: now,
                seal: &ctx.drawing,
                appearance: Some(
                    ctx.appearance
                        .get_or_init(|| pdf::SealAppearance::new(&ctx.drawing, rendered.seal_rect_mm)),
                ),
                seal_rect_mm: rendered.seal_rect_mm,
                reason: Some(format!("{}电子证照签发", licence_type.name)),
                location: None,
                name: Some(ctx.department.name.clone()),
            },
            Some(pdf::Dss { certs, crls: std::slice::from_ref(crl_der) }),
        )?;
        Ok(NewLicence {
            id: id.to_string(),
            type_code: type_code.to_string(),
            issuer_code: issuer.to_string(),
            serial,
            version: *version,
            holder_code: record.holder_code,
            holder_code_type: record.holder_code_type,
            holder_name: record.holder_name,
            seal_id: ctx.seal_id.clone(),
            issued_at: now,
            valid_from: record.valid_from,
            valid_until: record.valid_until,
            record_cbor,
            record_hash,
            token,
            pdf: with_dss,
            replaces: record.replaces,
            client_id: client_id.clone(),
        })
    }
}

/// The page of a licence from its type's layout.
pub fn licence_page(t: &LicenceType, r: &LicenceRecord, url: &str, now: OffsetDateTime) -> LicencePage {
    let until = r.valid_until.as_deref().map_or_else(|| "长期".to_owned(), cn_date_text);
    let fields = t
        .layout
        .rows
        .iter()
        .filter_map(|row| {
            let (label, value) = match row.as_str() {
                "holder_name" => (t.holder_name_label.clone(), r.holder_name.clone()),
                "holder_code" => (t.holder_code_label.clone(), r.holder_code.clone()),
                "valid_from" => ("有效期起始".to_owned(), cn_date_text(&r.valid_from)),
                "valid_until" => ("有效期至".to_owned(), until.clone()),
                "validity" => {
                    ("有效期限".to_owned(), format!("自{}至{}", cn_date_text(&r.valid_from), until))
                }
                key => {
                    let def = t.field(key)?;
                    let value = r.fields.get(key)?;
                    let value = if def.kind == FieldKind::Date { cn_date_text(value) } else { value.clone() };
                    (def.label.clone(), value)
                }
            };
            Some((label, value))
        })
        .collect();
    let mut custom: Vec<(String, String)> = vec![
        ("Identifier".into(), r.identifier.clone()),
        ("LicenceNumber".into(), r.licence_number.clone()),
        ("TypeCode".into(), r.type_code.clone()),
        ("TypeName".into(), r.type_name.clone()),
        ("IssuerName".into(), r.issuer_name.clone()),
        ("IssuerCode".into(), r.issuer_code.clone()),
        ("DefinerName".into(), r.definer_name.clone()),
        ("DefinerCode".into(), r.definer_code.clone()),
        ("IssueDate".into(), r.issue_date.clone()),
        ("ValidFrom".into(), r.valid_from.clone()),
        ("ValidUntil".into(), r.valid_until.clone().unwrap_or_else(|| "长期".into())),
        ("AreaCode".into(), r.area_code.clone()),
        ("HolderName".into(), r.holder_name.clone()),
        ("HolderCode".into(), crate::codes::public_holder_code(&r.holder_code, &r.holder_code_type)),
        ("HolderCodeType".into(), r.holder_code_type.clone()),
        ("RecordHash".into(), hex::encode(r.hash())),
        // The QR token as in the URL after `/v/` (base32 has no `/`), for verifiers that
        // read the PDF rather than scan it.
        ("Token".into(), url.rsplit('/').next().unwrap_or_default().to_owned()),
    ];
    if let (Some(code), Some(name)) = (&r.matter_code, &r.matter_name) {
        custom.push((camel("matter_code"), code.clone()));
        custom.push((camel("matter_name"), name.clone()));
    }
    LicencePage {
        title: t.name.clone(),
        subtitle: Some(t.layout.subtitle.clone().unwrap_or_else(|| t.name_en.clone())),
        holder_lines: vec![],
        fields,
        issuer: r.issuer_name.clone(),
        issue_date: cn_date_text(&r.issue_date),
        identifier: r.identifier.clone(),
        qr_text: url.to_owned(),
        info: DocInfo {
            title: format!("{} {}", r.licence_name, r.licence_number),
            subject: r.type_name.clone(),
            author: r.issuer_name.clone(),
            keywords: Some(format!("电子证照; {}", r.identifier)),
            creation_date: Some(now),
            custom,
        },
    }
}
