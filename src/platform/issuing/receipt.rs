//! Building a bundle: its licences in parallel, each on a blocking thread, then the
//! receipt (办结通知书) — one page listing every licence with its identifier and issuing
//! department, signed by the one-window department's seal as PAdES B-LTA, with one QR
//! code whose token names every licence and its record hash (`token::bundle`).

use time::OffsetDateTime;

use crate::licence::DocumentKind;
use crate::pdf::{DocInfo, LicencePage};
use crate::store::{BundleRecord, IdempotencyClaim, NewBundle, NewLicence};
use crate::token::bundle::{BundleClaims, BundleEntryClaim, sign_bundle};

use super::super::error::PlatformError;
use super::Issuing;
use super::build::{BuildJob, sign_page};
use super::bundle::{BundleContent, ReceiptSeal};
use super::issue::OfdStamp;
use super::serial::Reserved;

/// What the receipt lists of one licence.
struct Listed {
    type_name: String,
    issuer_name: String,
}

impl Issuing {
    /// Builds every licence of a bundle (with serials `reserved`, in order) and its
    /// receipt; stores nothing.
    pub(super) async fn build_bundle(
        &self,
        jobs: Vec<BuildJob>,
        reserved: &[Reserved],
        receipt: ReceiptSeal,
        content: &BundleContent,
        claim: &IdempotencyClaim,
        now: OffsetDateTime,
    ) -> Result<(NewBundle, Vec<NewLicence>), PlatformError> {
        let listed: Vec<Listed> = jobs
            .iter()
            .map(|j| Listed {
                type_name: j.licence_type.name.clone(),
                issuer_name: j.ctx.department.name.clone(),
            })
            .collect();
        let tasks: Vec<_> = jobs
            .into_iter()
            .zip(reserved)
            .map(|(job, r)| {
                let (serial, issuing) = (r.reservation.value, self.clone());
                tokio::spawn(
                    async move { issuing.cpu("building a licence", move || job.build(serial)).await },
                )
            })
            .collect();
        let mut licences = Vec::with_capacity(tasks.len());
        for task in tasks {
            let built = task.await.map_err(|e| PlatformError::Task(format!("building a licence: {e}")))??;
            licences.push(built.map_err(|e| PlatformError::Unprocessable(e.to_string()))?);
        }
        let id = bundle_id(now)?;
        let claims = BundleClaims {
            issued_at: now.unix_timestamp(),
            bundle_id: id.clone(),
            matter_code: content.matter.code.trim().to_owned(),
            matter_name: content.matter.name.trim().to_owned(),
            applicant_name: licences[0].holder_name.clone(),
            applicant_code_masked: crate::codes::public_holder_code(
                &licences[0].holder_code,
                &licences[0].holder_code_type,
            ),
            licences: licences
                .iter()
                .map(|l| BundleEntryClaim { licence_id: l.id.clone(), record_hash: l.record_hash.clone() })
                .collect(),
        };
        let ctx = receipt.ctx.clone();
        let token = sign_bundle(&claims, &ctx.kid, &ctx.signer)
            .map_err(|e| PlatformError::Unprocessable(format!("the receipt token: {e}")))?;
        let url = crate::token::bundle_url(&self.config.public_url, &token);
        let page = receipt_page(&claims, &licences, &listed, &ctx.department.name, &url, now);
        let pdf_job = self
            .document_job(DocumentKind::Pdf, &receipt.seal, None, &ctx, OfdStamp::Given(None), now)
            .await?
            .pdf
            .ok_or_else(|| PlatformError::Task("no PDF material for the receipt".into()))?;
        let reason = format!("{}办结通知书", claims.matter_name);
        let receipt_pdf = self
            .cpu("signing the receipt", move || sign_page(&page, &ctx, &pdf_job, reason, now))
            .await?
            .map_err(|e| PlatformError::Unprocessable(format!("the receipt: {e}")))?;
        let record = BundleRecord {
            id,
            matter_code: claims.matter_code,
            matter_name: claims.matter_name,
            applicant_name: claims.applicant_name,
            applicant_code: licences[0].holder_code.clone(),
            receipt_seal_id: receipt.seal.id.clone(),
            created_at: now,
            token,
        };
        let bundle = NewBundle { record, idempotency: claim.clone(), receipt_pdf };
        Ok((bundle, licences))
    }
}

/// A new bundle identifier: `BDL-YYYYMMDD-` and ten random base32 characters.
fn bundle_id(now: OffsetDateTime) -> Result<String, PlatformError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 7];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| PlatformError::Rng)?;
    let random = data_encoding::BASE32_NOPAD.encode(&bytes);
    let d = now.date();
    Ok(format!("BDL-{:04}{:02}{:02}-{}", d.year(), u8::from(d.month()), d.day(), &random[..10]))
}

/// The receipt's page: the applicant and the matter, then one row per licence.
fn receipt_page(
    claims: &BundleClaims,
    licences: &[NewLicence],
    listed: &[Listed],
    centre: &str,
    url: &str,
    now: OffsetDateTime,
) -> LicencePage {
    let first = &licences[0];
    let mut fields = vec![
        ("申请人".to_owned(), claims.applicant_name.clone()),
        ("统一社会信用代码".to_owned(), first.holder_code.clone()),
        ("一件事".to_owned(), format!("{}（{}）", claims.matter_name, claims.matter_code)),
        ("办结结果".to_owned(), format!("共{}项证照已全部办结，均为电子证照", licences.len())),
    ];
    for (i, (l, what)) in licences.iter().zip(listed).enumerate() {
        // Labels are short (a type's name may run to 23 characters): the name leads the value.
        fields.push((
            format!("证照{}", i + 1),
            format!("{}（发证机关：{}；证照标识：{}）", what.type_name, what.issuer_name, l.id),
        ));
    }
    let d = now.to_offset(time::macros::offset!(+8)).date();
    let custom = vec![
        ("BundleId".to_owned(), claims.bundle_id.clone()),
        ("MatterCode".to_owned(), claims.matter_code.clone()),
        ("MatterName".to_owned(), claims.matter_name.clone()),
        ("LicenceCount".to_owned(), licences.len().to_string()),
        ("Token".to_owned(), url.rsplit('/').next().unwrap_or_default().to_owned()),
    ];
    LicencePage {
        title: "办结通知书".into(),
        subtitle: Some(format!("一件事一次办 · {}", claims.matter_name)),
        holder_lines: vec![],
        fields,
        issuer: centre.to_owned(),
        issue_date: format!("{}年{:02}月{:02}日", d.year(), u8::from(d.month()), d.day()),
        identifier: claims.bundle_id.clone(),
        identifier_caption: "办件编号".into(),
        qr_text: url.to_owned(),
        info: DocInfo {
            title: format!("办结通知书 {}", claims.bundle_id),
            subject: claims.matter_name.clone(),
            author: centre.to_owned(),
            keywords: Some(format!("一件事一次办; {}", claims.bundle_id)),
            creation_date: Some(now),
            custom,
        },
    }
}
