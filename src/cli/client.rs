//! `zhengzhao client add|list|revoke`: the API clients of departments.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::platform::{Platform, Scope};
use zhengzhao::store::ClientRecord;

use super::output::{rfc3339, write_json};

/// API clients of departments.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Add a client; prints its key once (only its hash is kept).
    Add {
        /// The department's 统一社会信用代码.
        #[arg(long)]
        department: String,
        /// A name for the client (e.g. the approval system's).
        #[arg(long)]
        name: String,
        /// Comma-separated: issue, manage, query, check, audit, timestamp, import (holder-proxy is
        /// only for holder portals: `portal add`).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<Scope>,
        /// Comma-separated licence type codes it may use (default: all).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// List clients.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a client's key.
    Revoke {
        /// The client id.
        client_id: String,
    },
}

/// A client in `client list --json` (never its key hash).
#[derive(Debug, Serialize)]
struct ClientView<'a> {
    id: &'a str,
    department_code: &'a str,
    name: &'a str,
    scopes: &'a [String],
    types: &'a [String],
    created_at: String,
    revoked_at: Option<String>,
}

impl<'a> From<&'a ClientRecord> for ClientView<'a> {
    fn from(c: &'a ClientRecord) -> Self {
        Self {
            id: &c.id,
            department_code: &c.department_code,
            name: &c.name,
            scopes: &c.scopes,
            types: &c.type_codes,
            created_at: rfc3339(c.created_at),
            revoked_at: c.revoked_at.map(rfc3339),
        }
    }
}

/// Runs a `client` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: ClientCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        ClientCommand::Add { department, name, scopes, types } => {
            let (client, key) = platform.clients.add_client(&department, &name, &scopes, &types, now).await?;
            writeln!(out, "client id: {}", client.id)?;
            writeln!(out, "key:       {}", key.expose())?;
            writeln!(out, "scopes:    {}", client.scopes.join(","))?;
            writeln!(out, "types:     {}", client.type_codes.join(","))?;
            writeln!(out, "The key is shown only now; the platform keeps only its SHA-256.")?;
        }
        ClientCommand::List { json } => {
            let clients = platform.clients.clients().await?;
            if json {
                write_json(out, &clients.iter().map(ClientView::from).collect::<Vec<_>>())?;
            } else {
                for c in clients {
                    let state = if c.revoked_at.is_some() { "revoked" } else { "active" };
                    writeln!(
                        out,
                        "{}  {}  {:<7}  {}  {}",
                        c.id,
                        c.department_code,
                        state,
                        c.scopes.join(","),
                        c.name
                    )?;
                }
            }
        }
        ClientCommand::Revoke { client_id } => {
            platform.clients.revoke_client(&client_id, now).await?;
            writeln!(out, "revoked client {}", client_id.trim())?;
        }
    }
    Ok(())
}
