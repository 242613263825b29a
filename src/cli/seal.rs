//! `zhengzhao seal create|list|revoke|cert|preview|export|read`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::pki::{self, Algorithm, RevocationReason};
use zhengzhao::platform::Platform;
use zhengzhao::store::{SealRecord, SealStatus};

use super::output::{rfc3339, write_json};

/// Electronic seals (电子印章).
#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// Create a seal: key, certificate, record.
    Create {
        /// The department's 统一社会信用代码.
        #[arg(long)]
        department: String,
        /// The seal's name, e.g. 行政审批专用章.
        #[arg(long)]
        name: String,
        /// Key algorithm: ed25519 (default), p256 (for NSS/OpenSSL-based validators) or sm2
        /// (SM2 with SM3, the national commercial cryptography; no PDF signatures).
        #[arg(long, default_value = "ed25519")]
        algorithm: Algorithm,
    },
    /// List seals.
    List {
        /// Only this department's.
        #[arg(long)]
        department: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a seal and publish a new CRL listing it.
    Revoke {
        /// The seal id.
        seal_id: String,
        /// unspecified, key-compromise, affiliation-changed, superseded or cessation-of-operation.
        #[arg(long)]
        reason: RevocationReason,
    },
    /// Print the seal's certificate chain (PEM, seal first).
    Cert {
        /// The seal id.
        seal_id: String,
    },
    /// Write the seal image as PNG or SVG.
    Preview(PreviewArgs),
    /// Write an SM2 seal's GB/T 38540 electronic seal (DER `SES_Seal`, signed by the
    /// platform's seal maker).
    Export {
        /// The seal id.
        seal_id: String,
        /// Output file (`.esl`).
        #[arg(long)]
        esl: PathBuf,
    },
    /// Read an electronic seal file (`.esl`) of any maker — GB/T 38540 v4, GM/T 0031 v1 or
    /// v5 — and report what it says, whether its maker's signature holds and whether this
    /// platform trusts the maker.
    Read {
        /// The seal file (DER `SES_Seal`).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `seal preview`.
#[derive(Debug, ClapArgs)]
pub struct PreviewArgs {
    /// The seal id.
    seal_id: String,
    /// Output file, .png or .svg.
    #[arg(long)]
    out: PathBuf,
    /// PNG width and height in pixels.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(32..=4096))]
    size: u32,
}

/// A seal in `seal list --json`.
#[derive(Debug, Serialize)]
struct SealView<'a> {
    id: &'a str,
    department_code: &'a str,
    name: &'a str,
    algorithm: Algorithm,
    status: SealStatus,
    created_at: String,
    revoked_at: Option<String>,
    revocation_reason: Option<String>,
    certificate: CertificateView<'a>,
}

/// A seal's certificate in `seal list --json`.
#[derive(Debug, Serialize)]
struct CertificateView<'a> {
    serial: &'a str,
    subject: String,
    not_before: String,
    not_after: String,
    key_id: String,
}

impl<'a> SealView<'a> {
    fn new(s: &'a SealRecord) -> Result<Self> {
        let info = pki::cert_info(&s.cert_der)?;
        Ok(Self {
            id: &s.id,
            department_code: s.department_code.as_str(),
            name: &s.name,
            algorithm: s.algorithm,
            status: s.status,
            created_at: rfc3339(s.created_at),
            revoked_at: s.revocation.map(|(at, _)| rfc3339(at)),
            revocation_reason: s.revocation.map(|(_, r)| r.to_string()),
            certificate: CertificateView {
                serial: &s.serial_hex,
                subject: info.subject,
                not_before: rfc3339(info.not_before),
                not_after: rfc3339(info.not_after),
                key_id: info.key_id,
            },
        })
    }
}

/// Runs a `seal` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: SealCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        SealCommand::Create { department, name, algorithm } => {
            let seal = platform.pki.create_seal(&department, &name, algorithm, now).await?;
            writeln!(out, "{}", seal.id)?;
        }
        SealCommand::List { department, json } => {
            let seals = platform.pki.seals(department.as_deref()).await?;
            if json {
                write_json(out, &seals.iter().map(SealView::new).collect::<Result<Vec<_>>>()?)?;
            } else {
                for s in seals {
                    writeln!(
                        out,
                        "{}  {}  {:<7}  {:<7}  {}",
                        s.id,
                        s.department_code,
                        s.algorithm,
                        status(&s),
                        s.name
                    )?;
                }
            }
        }
        SealCommand::Revoke { seal_id, reason } => {
            let (seal, crl) = platform.pki.revoke_seal(&seal_id, reason, now).await?;
            writeln!(
                out,
                "revoked seal {} ({reason}); {} CRL number {} published",
                seal.id, seal.algorithm, crl.number
            )?;
        }
        SealCommand::Cert { seal_id } => write!(out, "{}", platform.pki.seal_chain_pem(&seal_id).await?)?,
        SealCommand::Preview(args) => preview(platform, args, out).await?,
        SealCommand::Export { seal_id, esl } => {
            let der = platform.pki.ses_seal(&seal_id, now).await?;
            std::fs::write(&esl, der).with_context(|| format!("cannot write {}", esl.display()))?;
            writeln!(out, "wrote {}", esl.display())?;
        }
        SealCommand::Read { file, json } => super::esl::read(platform, &file, json, now, out).await?,
    }
    Ok(())
}

/// Writes the seal image as PNG or SVG, by the extension of `--out`.
async fn preview(platform: &Platform, args: PreviewArgs, out: &mut impl Write) -> Result<()> {
    let drawing = platform.pki.seal_drawing(&args.seal_id).await?;
    let bytes = match extension(&args.out).as_deref() {
        Some("png") => drawing.to_png(args.size)?,
        Some("svg") => drawing.to_svg().into_bytes(),
        _ => bail!("--out {} must end in .png or .svg", args.out.display()),
    };
    std::fs::write(&args.out, bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(())
}

fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

fn status(seal: &SealRecord) -> &'static str {
    match seal.status {
        SealStatus::Active => "active",
        SealStatus::Revoked => "revoked",
    }
}
