//! `zhengzhao pki root|crl|trust-list`: what relying parties and offline verifiers need.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use time::OffsetDateTime;
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::Platform;

/// Root certificates and CRLs.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Print root certificates (PEM): all, or one algorithm's.
    Root {
        /// ed25519, p256 or sm2.
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// Print the current CRL of each root (PEM), or of one.
    Crl {
        /// ed25519, p256 or sm2.
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// Print (or write) the trust list signed by the Ed25519 root, for offline verifiers.
    TrustList {
        /// Write it to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs a `pki` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: PkiCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        PkiCommand::Root { algorithm } => write!(out, "{}", platform.pki.roots_pem(algorithm).await?)?,
        PkiCommand::Crl { algorithm } => {
            for alg in algorithm.map_or(Algorithm::ALL.to_vec(), |a| vec![a]) {
                let crl = platform.pki.current_crl(alg).await?;
                write!(out, "{}", pki::pem_encode("X509 CRL", &crl.der))?;
            }
        }
        PkiCommand::TrustList { out: None } => {
            writeln!(out, "{}", platform.verification.trust_list(now).await?)?
        }
        PkiCommand::TrustList { out: Some(path) } => {
            std::fs::write(&path, platform.verification.trust_list(now).await?.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}
