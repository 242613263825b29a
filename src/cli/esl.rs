//! `zhengzhao seal read FILE.esl`: what an electronic seal file says — any maker's, in the
//! GB/T 38540-2020 (v4), GM/T 0031-2014 (v1) or GM/T 0031-2025 (v5) layout — and whether its
//! maker's signature holds and the maker is one this platform trusts.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::platform::Platform;
use zhengzhao::ses::{self, CertList, SealFacts};

use super::output::{rfc3339, write_json};

/// `seal read --json`.
#[derive(Debug, Serialize)]
struct EslView {
    version: u32,
    vendor_id: String,
    es_id: String,
    seal_type: i64,
    name: String,
    listed_certificates: Vec<String>,
    create_date: String,
    valid_start: String,
    valid_end: String,
    picture: PictureView,
    maker: String,
    /// The maker's signature over the seal holds.
    maker_signature: CheckView,
    /// The maker chains to one of this platform's roots.
    maker_trusted: CheckView,
}

/// `{"ok": true}`, or `{"ok": false, "reason": …}`.
#[derive(Debug, Serialize)]
struct CheckView {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl CheckView {
    fn of(result: Result<(), String>) -> Self {
        Self { ok: result.is_ok(), reason: result.err() }
    }

    fn words(&self) -> String {
        self.reason.as_ref().map_or_else(|| "✓".to_owned(), |e| format!("✗ {e}"))
    }
}

#[derive(Debug, Serialize)]
struct PictureView {
    kind: String,
    bytes: usize,
    width_mm: u32,
    height_mm: u32,
}

/// Reads `path` and prints the seal, as lines or JSON.
pub async fn read(
    platform: &Platform,
    path: &Path,
    json: bool,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let len = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if len > ses::MAX_INPUT_BYTES as u64 {
        bail!(
            "{} has {len} bytes; electronic seals of at most {} bytes are read",
            path.display(),
            ses::MAX_INPUT_BYTES
        );
    }
    let der = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let facts = ses::read_seal(&der)
        .with_context(|| format!("{} is not a readable electronic seal", path.display()))?;
    let trust = platform.verification.trust_set(now).await?;
    let view = view(
        &facts,
        trust.seal_maker_chain(&facts.maker_cert_der, now).map(|_| ()).map_err(|e| e.to_string()),
    );
    if json {
        return write_json(out, &view);
    }
    writeln!(out, "电子印章 electronic seal v{} ({}), esID {}", view.version, view.vendor_id, view.es_id)?;
    writeln!(out, "名称 name: {} (type {})", view.name, view.seal_type)?;
    writeln!(out, "有效期 valid: {} – {} (made {})", view.valid_start, view.valid_end, view.create_date)?;
    writeln!(
        out,
        "印模 picture: {} {} bytes, {}×{} mm",
        view.picture.kind, view.picture.bytes, view.picture.width_mm, view.picture.height_mm
    )?;
    for cert in &view.listed_certificates {
        writeln!(out, "签章人证书 signer certificate: {cert}")?;
    }
    writeln!(out, "制章者 maker: {}", view.maker)?;
    writeln!(out, "制章者签名 maker's signature: {}", view.maker_signature.words())?;
    writeln!(out, "制章者受信任 maker trusted: {}", view.maker_trusted.words())?;
    Ok(())
}

fn subject(cert_der: &[u8]) -> String {
    zhengzhao::pki::cert_info(cert_der).map_or_else(|e| format!("unreadable certificate: {e}"), |i| i.subject)
}

fn view(facts: &SealFacts, maker_trusted: Result<(), String>) -> EslView {
    let listed_certificates = match &facts.cert_list {
        CertList::Certs(certs) => certs.iter().map(|c| subject(c)).collect(),
        CertList::Digests(digests) => {
            digests.iter().map(|d| format!("{} digest {}", d.algorithm, hex::encode(&d.value))).collect()
        }
    };
    EslView {
        version: facts.version,
        vendor_id: facts.vendor_id.clone(),
        es_id: facts.es_id.clone(),
        seal_type: facts.seal_type,
        name: facts.name.clone(),
        listed_certificates,
        create_date: rfc3339(facts.create_date),
        valid_start: rfc3339(facts.valid_start),
        valid_end: rfc3339(facts.valid_end),
        picture: PictureView {
            kind: facts.picture.kind.clone(),
            bytes: facts.picture.data.len(),
            width_mm: facts.picture.width_mm,
            height_mm: facts.picture.height_mm,
        },
        maker: subject(&facts.maker_cert_der),
        maker_signature: CheckView::of(facts.verify_maker_signature().map_err(|e| e.to_string())),
        maker_trusted: CheckView::of(maker_trusted),
    }
}
