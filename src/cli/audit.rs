//! `zhengzhao audit verify [--checkpoint FILE]` and `zhengzhao audit checkpoint`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use time::OffsetDateTime;
use zhengzhao::platform::{AuditOutcome, Platform, read_checkpoint};

/// The access log.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the access log's hash chain and compare it with the newest signed
    /// checkpoint; exit 1 naming the first broken entry, the missing range or the
    /// rewritten head.
    Verify {
        /// A checkpoint file (as `GET /api/v1/audit/checkpoint` answers); default: the data
        /// directory's `audit/checkpoint-latest.json`.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Sign a checkpoint of the log's head now (`serve` does it every 30 s while entries
    /// arrive) and write it to the data directory's `audit/`.
    Checkpoint,
}

/// Runs an `audit` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: AuditCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        AuditCommand::Verify { checkpoint } => {
            let path = checkpoint.clone().unwrap_or_else(|| platform.audit.checkpoint_path());
            let cp = read_checkpoint(&path)?;
            if cp.is_none() && checkpoint.is_some() {
                bail!("cannot read {}: no such file", path.display());
            }
            match platform.audit.audit_verify_with(cp.as_ref()).await? {
                AuditOutcome::Intact { entries, checkpoint: None } => writeln!(
                    out,
                    "access log intact: {entries} entries (no checkpoint at {}: a deleted tail or a \
                     rewritten chain cannot be detected; `zhengzhao audit checkpoint` signs one)",
                    path.display()
                )?,
                AuditOutcome::Intact { entries, checkpoint: Some((seq, at)) } => writeln!(
                    out,
                    "access log intact: {entries} entries; agrees with the checkpoint of {at} (entry {seq})"
                )?,
                AuditOutcome::Broken(broken) => bail!("{broken}"),
                AuditOutcome::BadCheckpoint(e) => bail!("{}: {e}", path.display()),
                AuditOutcome::Mismatch(m) => bail!("{m}"),
            }
        }
        AuditCommand::Checkpoint => {
            let signer = platform.audit.audit_signer(now).await.context("preparing the checkpoint signer")?;
            match platform.audit.write_checkpoint(&signer, now).await? {
                Some(cp) => writeln!(out, "signed checkpoint: entry {} at {}", cp.seq, cp.at)?,
                None => writeln!(out, "the newest checkpoint is current")?,
            }
            writeln!(out, "{}", platform.audit.checkpoint_path().display())?;
        }
    }
    Ok(())
}
