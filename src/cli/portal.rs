//! `zhengzhao portal add|list|revoke`: holder portals, which act for holders with signed
//! holder assertions.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::platform::Platform;
use zhengzhao::store::PortalRecord;

use super::output::{rfc3339, write_json};

/// Largest public key file read.
const MAX_PUBLIC_KEY_BYTES: u64 = 16 * 1024;

/// Holder portals (a province's citizen app), which act for holders with signed holder
/// assertions.
#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Register a holder portal with the public key that signs its holder assertions;
    /// prints its id and API key once (only the key's hash is kept).
    Add {
        /// A name for the portal (e.g. the province's citizen app).
        #[arg(long)]
        name: String,
        /// Its assertion key: a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), Ed25519 or P-256.
        #[arg(long = "public-key")]
        public_key: PathBuf,
    },
    /// List portals.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a portal's key.
    Revoke {
        /// The portal id (`pt_…`).
        portal_id: String,
    },
}

/// A portal in `portal list --json` (never its key hash).
#[derive(Debug, Serialize)]
struct PortalView<'a> {
    id: &'a str,
    name: &'a str,
    algorithm: &'a str,
    scopes: [&'static str; 1],
    created_at: String,
    revoked_at: Option<String>,
}

impl<'a> From<&'a PortalRecord> for PortalView<'a> {
    fn from(p: &'a PortalRecord) -> Self {
        Self {
            id: &p.id,
            name: &p.name,
            algorithm: &p.algorithm,
            scopes: ["holder-proxy"],
            created_at: rfc3339(p.created_at),
            revoked_at: p.revoked_at.map(rfc3339),
        }
    }
}

/// Runs a `portal` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: PortalCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        PortalCommand::Add { name, public_key } => {
            let pem = read_public_key(&public_key)?;
            let (portal, key) = platform.clients.add_portal(&name, &pem, now).await?;
            writeln!(out, "portal id: {}", portal.id)?;
            writeln!(out, "key:       {}", key.expose())?;
            writeln!(out, "algorithm: {}", portal.algorithm)?;
            writeln!(out, "scopes:    holder-proxy")?;
            writeln!(out, "The key is shown only now; the platform keeps only its SHA-256.")?;
            writeln!(
                out,
                "Every call also needs an X-Holder-Assertion signed with the portal's private key."
            )?;
        }
        PortalCommand::List { json } => {
            let portals = platform.clients.portals().await?;
            if json {
                write_json(out, &portals.iter().map(PortalView::from).collect::<Vec<_>>())?;
            } else {
                for p in portals {
                    let state = if p.revoked_at.is_some() { "revoked" } else { "active" };
                    writeln!(out, "{}  {:<7}  {:<7}  {}", p.id, state, p.algorithm, p.name)?;
                }
            }
        }
        PortalCommand::Revoke { portal_id } => {
            platform.clients.revoke_portal(&portal_id, now).await?;
            writeln!(out, "revoked portal {}", portal_id.trim())?;
        }
    }
    Ok(())
}

/// The PEM text of a public key file, refused when larger than a public key can be.
fn read_public_key(path: &Path) -> Result<String> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    anyhow::ensure!(
        size <= MAX_PUBLIC_KEY_BYTES,
        "{} is larger than 16 KiB: not a public key",
        path.display()
    );
    std::fs::read_to_string(path).with_context(|| format!("cannot read {} as PEM text", path.display()))
}
