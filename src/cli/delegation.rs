//! `zhengzhao delegation add|list|revoke`: departments' delegations to other departments'
//! clients (a one-window system, 综合窗口, issuing in their names).

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use time::OffsetDateTime;
use zhengzhao::platform::{DelegationView, Platform, delegation_summary};

use super::output::write_json;

/// Delegations: a department lets another department's client issue named licence types
/// with named seals of the department.
#[derive(Debug, Subcommand)]
pub enum DelegationCommand {
    /// Grant a delegation; prints its id and what it grants.
    Add {
        /// The delegating department's 统一社会信用代码.
        #[arg(long)]
        department: String,
        /// The client (of another department) it is granted to.
        #[arg(long)]
        client: String,
        /// Comma-separated licence type codes the department issues.
        #[arg(long, value_delimiter = ',', required = true)]
        types: Vec<String>,
        /// Comma-separated ids of the department's active seals.
        #[arg(long, value_delimiter = ',', required = true)]
        seals: Vec<String>,
    },
    /// List delegations (active ones unless --include-revoked).
    List {
        /// Only those granted by this department.
        #[arg(long)]
        department: Option<String>,
        /// Only those granted to this client.
        #[arg(long)]
        client: Option<String>,
        /// Revoked ones too.
        #[arg(long)]
        include_revoked: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a delegation: the next issuing request under it is refused.
    Revoke {
        /// The delegation id.
        id: String,
        /// Why (kept with the delegation and in the access log).
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Runs a `delegation` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: DelegationCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        DelegationCommand::Add { department, client, types, seals } => {
            let d = platform.delegations.add(&department, &client, &types, &seals, now).await?;
            writeln!(out, "delegation id: {}", d.id)?;
            writeln!(out, "{}", delegation_summary(&d))?;
        }
        DelegationCommand::List { department, client, include_revoked, json } => {
            let list =
                platform.delegations.list(department.as_deref(), client.as_deref(), include_revoked).await?;
            if json {
                write_json(out, &list.iter().map(DelegationView::from).collect::<Vec<_>>())?;
            } else {
                for d in list {
                    let state = if d.is_active() { "active" } else { "revoked" };
                    writeln!(
                        out,
                        "{}  {}  {}  {:<7}  types {}  seals {}",
                        d.id,
                        d.department_code,
                        d.client_id,
                        state,
                        d.type_codes.join(","),
                        d.seal_ids.join(",")
                    )?;
                }
            }
        }
        DelegationCommand::Revoke { id, reason } => {
            let d = platform.delegations.revoke(&id, reason.as_deref(), now).await?;
            writeln!(out, "revoked delegation {} ({})", d.id, delegation_summary(&d))?;
        }
    }
    Ok(())
}
