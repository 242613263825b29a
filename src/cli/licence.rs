//! `zhengzhao licence status|history`: licences in the register.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Subcommand;
use time::OffsetDateTime;
use zhengzhao::licence::LicenceStatus;
use zhengzhao::platform::Platform;

use super::output::rfc3339;

/// Licences in the register.
#[derive(Debug, Subcommand)]
pub enum LicenceCommand {
    /// Change a licence's status: valid (reinstate), suspended, revoked, cancelled.
    Status {
        /// The licence identifier.
        id: String,
        /// The new status (name or code 01–04).
        #[arg(long = "set")]
        status: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show a licence's history.
    History {
        /// The licence identifier.
        id: String,
    },
}

/// Runs a `licence` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: LicenceCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        LicenceCommand::Status { id, status, reason } => {
            let to = LicenceStatus::from_code(&status)
                .or_else(|| serde_json::from_value(serde_json::Value::String(status.clone())).ok())
                .with_context(|| format!("--set {status:?}: use valid, suspended, revoked or cancelled"))?;
            let view = platform.register.set_status(None, &id, to, &reason, now).await?;
            writeln!(out, "{} is now {} ({})", view.identifier, view.status.label, view.status.code)?;
        }
        LicenceCommand::History { id } => {
            for e in platform.register.history(None, &id, now).await? {
                let from = e.from_status.map_or("—", |s| s.code());
                writeln!(
                    out,
                    "{}  {}  {:<8} {} → {}  {}  ({})",
                    e.seq,
                    rfc3339(e.at),
                    e.kind,
                    from,
                    e.to_status.code(),
                    e.reason,
                    e.actor
                )?;
            }
        }
    }
    Ok(())
}
