//! The command line: it parses and dispatches, and prints what the library answers. One
//! file per command group: `serve` (init, serve), `config`, `department`, `seal`, `pki`,
//! `types`, `issue`, `import`, `client`, `delegation`, `portal`, `licence`, `audit`, `verify`, `tsa`; `output` holds what
//! they all print with, `pending_output` the file `issue` writes.

mod archive;
mod audit;
mod client;
mod config;
mod delegation;
mod department;
mod esl;
mod import;
mod issue;
mod licence;
mod output;
mod pending_output;
mod pki;
mod portal;
mod seal;
mod serve;
mod tsa;
mod types;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use time::OffsetDateTime;
use tracing_subscriber::EnvFilter;
use zhengzhao::config::{Config, Layer, LogFormat};
use zhengzhao::platform::Platform;

pub use output::is_broken_pipe;

/// Zhengzhao (证照): electronic licences and electronic seals.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
pub struct Args {
    /// Data directory: database, keys, config.toml.
    #[arg(long, global = true, env = "ZHENGZHAO_DATA", default_value = "./data")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the platform: one root CA per seal algorithm, their CRLs, config.toml.
    /// Never replaces an existing root.
    Init {
        /// The platform's name, as in its root certificates.
        #[arg(long)]
        platform_name: String,
        /// Base URL under which the platform is reached; CRL and QR URLs start with it.
        #[arg(long)]
        public_url: String,
    },
    /// Run the HTTP service. On an empty data directory it first initialises a demo
    /// platform with a demo department and seals.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Departments (颁证单位 / 用证部门).
    #[command(subcommand)]
    Department(department::DepartmentCommand),
    /// Electronic seals (电子印章).
    #[command(subcommand)]
    Seal(seal::SealCommand),
    /// Root certificates and CRLs.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Show the configuration in force.
    Config,
    /// Licence types.
    #[command(subcommand)]
    Types(types::TypesCommand),
    /// Issue a licence: prints its identifier and writes the signed PDF (or, with
    /// `--document none`, issues a data-only licence without a file).
    Issue(issue::IssueArgs),
    /// Bulk import of existing licences (存量证照电子化) from JSONL or CSV: resumable,
    /// each source record issued exactly once, failed lines to an error file.
    Import(import::ImportArgs),
    /// API clients of departments.
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Delegations: a department lets another department's client (a one-window system,
    /// 综合窗口) issue named licence types with named seals of the department.
    #[command(subcommand)]
    Delegation(delegation::DelegationCommand),
    /// Holder portals (a province's citizen app), which act for holders with signed holder
    /// assertions.
    #[command(subcommand)]
    Portal(portal::PortalCommand),
    /// Licences in the register.
    #[command(subcommand)]
    Licence(licence::LicenceCommand),
    /// The access log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Verify a licence: a signed PDF, a QR token or URL, or an identifier. Exit code 0
    /// valid, 1 invalid, 2 cannot tell (offline, or unusable input).
    Verify(verify::VerifyArgs),
    /// The platform's RFC 3161 time-stamping authority: its certificates and units,
    /// stamping a file, verifying a reply.
    #[command(subcommand)]
    Tsa(tsa::TsaCommand),
    /// Long-term validation of the stored PDFs: archive renewal (a new DSS revision and
    /// document time-stamp before the newest one's TSA certificate expires).
    #[command(subcommand)]
    Archive(archive::ArchiveCommand),
}

impl Command {
    /// The configuration layer of this command's flags.
    fn flags(&self) -> Layer {
        match self {
            Self::Serve { listen } => Layer { listen: *listen, ..Layer::default() },
            Self::Init { public_url, .. } => {
                Layer { public_url: Some(public_url.clone()), ..Layer::default() }
            }
            _ => Layer::default(),
        }
    }
}

/// Runs one command; returns the exit code.
pub async fn run(args: Args) -> Result<ExitCode> {
    let flags = args.command.flags();
    let (config, warnings) = Config::load(args.data, std::env::vars(), flags).context("configuration")?;
    init_tracing(&config);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let passphrase = std::env::var("ZHENGZHAO_KEY_PASSPHRASE").ok();
    let now = OffsetDateTime::now_utc();
    let out = &mut std::io::stdout().lock();
    let open = |config, passphrase| Platform::open(config, passphrase);
    match args.command {
        Command::Init { platform_name, .. } => {
            serve::init(config, passphrase, &platform_name, now, out).await?
        }
        Command::Serve { .. } => serve::serve(config, passphrase).await?,
        Command::Config => config::show(&config, out)?,
        Command::Types(cmd) => types::run(cmd, out)?,
        Command::Verify(args) => return Ok(verify::run(config, passphrase, args, now, out).await),
        Command::Department(cmd) => department::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Seal(cmd) => seal::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Pki(cmd) => pki::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Issue(args) => issue::run(&open(config, passphrase).await?, args, now, out).await?,
        Command::Import(args) => return import::run(&open(config, passphrase).await?, args, out).await,
        Command::Client(cmd) => client::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Delegation(cmd) => delegation::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Portal(cmd) => portal::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Licence(cmd) => licence::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Audit(cmd) => audit::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Tsa(cmd) => tsa::run(&open(config, passphrase).await?, cmd, now, out).await?,
        Command::Archive(cmd) => archive::run(&open(config, passphrase).await?, cmd, now, out).await?,
    }
    Ok(ExitCode::SUCCESS)
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
