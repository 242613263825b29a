//! The command line: `init`, `serve`, `department`, `seal`, `pki`, `config`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Parser, Subcommand};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing_subscriber::EnvFilter;

use zhengzhao::config::{Config, Layer, LogFormat};
use zhengzhao::pki::{self, Algorithm, RevocationReason};
use zhengzhao::platform::{self, IssueRequest, Platform, Scope};
use zhengzhao::store::SealRecord;

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
    Department(DepartmentCommand),
    /// Electronic seals (电子印章).
    #[command(subcommand)]
    Seal(SealCommand),
    /// Root certificates and CRLs.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Show the configuration in force.
    Config,
    /// Licence types.
    #[command(subcommand)]
    Types(TypesCommand),
    /// Issue a licence: prints its identifier and writes the signed PDF.
    Issue(IssueArgs),
    /// API clients of departments.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Holder portals (a province's citizen app), which act for holders with signed holder
    /// assertions.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// Licences in the register.
    #[command(subcommand)]
    Licence(LicenceCommand),
    /// The access log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Verify a licence: a signed PDF, a QR token or URL, or an identifier. Exit code 0
    /// valid, 1 invalid, 2 cannot tell (offline, or unusable input).
    Verify(VerifyArgs),
}

#[derive(Debug, ClapArgs)]
struct VerifyArgs {
    /// A PDF file, a QR URL or token, or a licence identifier.
    input: String,
    /// The trust list (trust-list.json from /pki/trust-list.json or `pki trust-list`);
    /// verifies offline with it. Without it, the local data directory's platform is the
    /// trust anchor.
    #[arg(long)]
    trust: Option<PathBuf>,
    /// A cached CRL (DER or PEM) newer than the trust list's.
    #[arg(long)]
    crl: Option<PathBuf>,
    /// Do not consult the register: check signatures, certificates and validity only.
    #[arg(long)]
    offline: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum LicenceCommand {
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

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
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

#[derive(Debug, Subcommand)]
enum TypesCommand {
    /// List the licence types.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, ClapArgs)]
struct IssueArgs {
    /// The seal to sign with.
    #[arg(long)]
    seal: String,
    /// The licence type code (see `zhengzhao types list`).
    #[arg(long = "type")]
    type_code: String,
    /// The licence content as JSON (see templates/examples/).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the signed PDF.
    #[arg(long)]
    out: PathBuf,
    /// Print identifier, token and verification URL as JSON.
    #[arg(long)]
    json: bool,
    /// Issue a new version of this licence (renewal or change) that replaces it.
    #[arg(long)]
    renews: Option<String>,
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// Add a client; prints its key once (only its hash is kept).
    Add {
        /// The department's 统一社会信用代码.
        #[arg(long)]
        department: String,
        /// A name for the client (e.g. the approval system's).
        #[arg(long)]
        name: String,
        /// Comma-separated: issue, manage, query, check, audit (holder-proxy is only for
        /// holder portals: `portal add`).
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

#[derive(Debug, Subcommand)]
enum PortalCommand {
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

/// Largest licence input file accepted.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Subcommand)]
enum DepartmentCommand {
    /// Register a department.
    Add {
        /// 统一社会信用代码 (18 characters, with check character).
        #[arg(long)]
        code: String,
        /// Official name.
        #[arg(long)]
        name: String,
        /// 行政区划代码 (6 digits) of its jurisdiction.
        #[arg(long)]
        area: String,
        /// Comma-separated licence type codes it may issue (default: all types).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// List departments.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SealCommand {
    /// Create a seal: key, certificate, record.
    Create {
        /// The department's 统一社会信用代码.
        #[arg(long)]
        department: String,
        /// The seal's name, e.g. 行政审批专用章.
        #[arg(long)]
        name: String,
        /// Key algorithm: ed25519 (default) or p256 (for NSS/OpenSSL-based validators).
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
}

#[derive(Debug, ClapArgs)]
struct PreviewArgs {
    /// The seal id.
    seal_id: String,
    /// Output file, .png or .svg.
    #[arg(long)]
    out: PathBuf,
    /// PNG width and height in pixels.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(32..=4096))]
    size: u32,
}

#[derive(Debug, Subcommand)]
enum PkiCommand {
    /// Print root certificates (PEM): all, or one algorithm's.
    Root {
        /// ed25519 or p256.
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// Print the current CRL of each root (PEM), or of one.
    Crl {
        /// ed25519 or p256.
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

/// Runs one command; returns the exit code.
pub async fn run(args: Args) -> Result<ExitCode> {
    let flags = match &args.command {
        Command::Serve { listen } => Layer { listen: *listen, ..Layer::default() },
        Command::Init { public_url, .. } => {
            Layer { public_url: Some(public_url.clone()), ..Layer::default() }
        }
        _ => Layer::default(),
    };
    let (config, warnings) =
        Config::load(args.data.clone(), std::env::vars(), flags).context("configuration")?;
    init_tracing(&config);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let passphrase = std::env::var("ZHENGZHAO_KEY_PASSPHRASE").ok();
    let now = OffsetDateTime::now_utc();
    let out = &mut std::io::stdout().lock();
    match args.command {
        Command::Init { platform_name, .. } => {
            let platform = Platform::create(config, passphrase).await?;
            let report = platform.pki.init(&platform_name, now).await?;
            for alg in &report.created {
                writeln!(out, "created {alg} root CA")?;
            }
            for alg in &report.kept {
                writeln!(out, "kept existing {alg} root CA")?;
            }
            print_locations(out, &platform)?;
        }
        Command::Serve { .. } => serve(config, passphrase).await?,
        Command::Config => {
            writeln!(out, "# data directory: {}", config.data_dir.display())?;
            // The URL in force (the SQLite default when none is set), password redacted.
            let mut shown = config.clone();
            shown.database_url = zhengzhao::config::redact_url(&config.effective_database_url());
            writeln!(out, "{}", toml::to_string(&shown).context("printing the configuration")?)?;
        }
        Command::Department(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            match cmd {
                DepartmentCommand::Add { code, name, area, types } => {
                    let d = platform.pki.add_department(&code, &name, &area, &types, now).await?;
                    writeln!(
                        out,
                        "added department {} {} (area {}, may issue {})",
                        d.code,
                        d.name,
                        d.area,
                        d.type_codes.join(",")
                    )?;
                }
                DepartmentCommand::List { json } => {
                    let list = platform.pki.departments().await?;
                    if json {
                        let rows: Vec<_> = list
                            .iter()
                            .map(|d| json!({"code": d.code.as_str(), "name": d.name, "area": d.area.as_str(), "type_codes": d.type_codes, "created_at": rfc3339(d.created_at)}))
                            .collect();
                        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                    } else {
                        for d in list {
                            writeln!(out, "{}  {}  {}", d.code, d.area, d.name)?;
                        }
                    }
                }
            }
        }
        Command::Seal(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            seal_command(&platform, cmd, now, out).await?;
        }
        Command::Types(TypesCommand::List { json }) => {
            let catalogue = zhengzhao::licence::Catalogue::shipped()?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&crate::cli_print::types_json(&catalogue))?
                )?;
            } else {
                crate::cli_print::print_types_table(&catalogue, out)?;
            }
        }
        Command::Issue(args) => {
            let platform = Platform::open(config, passphrase).await?;
            issue_command(&platform, args, now, out).await?;
        }
        Command::Client(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            client_command(&platform, cmd, now, out).await?;
        }
        Command::Portal(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            portal_command(&platform, cmd, now, out).await?;
        }
        Command::Licence(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            match cmd {
                LicenceCommand::Status { id, status, reason } => {
                    let to = zhengzhao::licence::LicenceStatus::from_code(&status)
                        .or_else(|| serde_json::from_value(serde_json::Value::String(status.clone())).ok())
                        .with_context(|| {
                            format!("--set {status:?}: use valid, suspended, revoked or cancelled")
                        })?;
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
        }
        Command::Audit(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            crate::audit_cli::run(&platform, cmd, now, out).await?;
        }
        Command::Pki(cmd) => {
            let platform = Platform::open(config, passphrase).await?;
            match cmd {
                PkiCommand::Root { algorithm } => {
                    write!(out, "{}", platform.pki.roots_pem(algorithm).await?)?
                }
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
        }
        Command::Verify(args) => {
            return Ok(match verify_command(config, passphrase, args, now, out).await {
                Ok(code) => code,
                Err(e) if crate::cli_print::is_broken_pipe(&e) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `verify` was given.
enum VerifyInput {
    Pdf(Vec<u8>),
    Text(String),
    Identifier(String),
}

fn verify_input(input: &str) -> Result<VerifyInput> {
    let path = Path::new(input);
    if path.is_file() {
        let max = platform::MAX_VERIFY_PDF_BYTES as u64;
        let len = std::fs::metadata(path).with_context(|| format!("reading {input}"))?.len();
        if len > max {
            bail!("{input} is {len} bytes; PDFs of at most {max} bytes are verified");
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {input}"))?;
        if bytes.is_empty() {
            bail!("{input} is empty");
        }
        if !bytes.starts_with(b"%PDF-") {
            bail!("{input} is not a PDF (it does not start with %PDF-)");
        }
        return Ok(VerifyInput::Pdf(bytes));
    }
    let text = input.trim();
    if text.starts_with(zhengzhao::token::LICENCE_ID_ROOT) {
        return Ok(VerifyInput::Identifier(text.to_owned()));
    }
    if text.ends_with(".pdf") {
        bail!("{input}: no such file");
    }
    Ok(VerifyInput::Text(text.to_owned()))
}

fn read_crl(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"-----BEGIN") {
        let text = String::from_utf8_lossy(&bytes);
        let mut ders =
            pki::pem_decode_all(&text, "X509 CRL").with_context(|| format!("{}", path.display()))?;
        return ders.pop().with_context(|| format!("{}: no X509 CRL block", path.display()));
    }
    Ok(bytes)
}

async fn verify_command(
    config: Config,
    passphrase: Option<String>,
    args: VerifyArgs,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<ExitCode> {
    use zhengzhao::verify::{Engine, TrustSet, trustlist};
    let input = verify_input(&args.input)?;
    let extra_crls = args.crl.as_deref().map(read_crl).transpose()?.into_iter().collect::<Vec<_>>();
    // A trust list means offline: from --trust, or made by the local platform for --offline.
    let (list, platform) = match &args.trust {
        Some(path) => {
            (Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?), None)
        }
        None => {
            let platform = Platform::open(config, passphrase)
                .await
                .context("no --trust given and no usable local platform to verify against")?;
            if args.offline {
                (Some(platform.verification.trust_list(now).await?.as_bytes().to_vec()), None)
            } else {
                (None, Some(platform))
            }
        }
    };
    let report = match (list, platform) {
        (Some(list), _) => {
            let what = args
                .trust
                .as_ref()
                .map_or_else(|| "the local trust list".to_owned(), |p| p.display().to_string());
            let list = trustlist::verify_trust_list(&list, None).with_context(|| what.clone())?;
            let trust = TrustSet::from_trust_list(&list.body, extra_crls, now).with_context(|| what)?;
            let engine = Engine::new(&trust, now);
            match input {
                VerifyInput::Pdf(pdf) => engine.verify_pdf(&pdf),
                VerifyInput::Text(text) => engine.verify_token_text(&text),
                VerifyInput::Identifier(id) => engine.verify_identifier(&id),
            }
        }
        (None, Some(platform)) => match input {
            VerifyInput::Pdf(pdf) => platform.verification.verify_pdf(pdf, now).await?,
            VerifyInput::Text(text) => platform.verification.verify_token_text(&text, now).await?,
            VerifyInput::Identifier(id) => platform.verification.verify_identifier(&id, now).await?,
        },
        (None, None) => bail!("nothing to verify against"),
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        crate::cli_print::print_report(&report, out)?;
    }
    Ok(ExitCode::from(report.verdict.exit_code()))
}

async fn seal_command(
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
                let rows: Vec<_> = seals.iter().map(seal_json).collect::<Result<_>>()?;
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
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
        SealCommand::Preview(args) => {
            let drawing = platform.pki.seal_drawing(&args.seal_id).await?;
            let bytes = match extension(&args.out).as_deref() {
                Some("png") => drawing.to_png(args.size)?,
                Some("svg") => drawing.to_svg().into_bytes(),
                _ => bail!("--out {} must end in .png or .svg", args.out.display()),
            };
            std::fs::write(&args.out, bytes)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            writeln!(out, "wrote {}", args.out.display())?;
        }
    }
    Ok(())
}

async fn issue_command(
    platform: &Platform,
    args: IssueArgs,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let size = std::fs::metadata(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?
        .len();
    if size > MAX_INPUT_BYTES {
        bail!("{} has {size} bytes; at most {MAX_INPUT_BYTES} accepted", args.input.display());
    }
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let input = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid licence input", args.input.display()))?;
    // Everything that can fail is tried before the register is touched: the output is
    // opened now (beside the target, renamed at the end, so that a failure never leaves
    // half a PDF); seal, input and renewal are checked by `issue` before it stores.
    let pdf_out = crate::pending_output::PendingOutput::open(&args.out)?;
    let request = IssueRequest {
        seal_id: args.seal,
        type_code: args.type_code,
        input,
        client: None,
        idempotency_key: None,
        renews: args.renews,
    };
    let issued = platform.issuing.issue(request, now).await?;
    pdf_out
        .finish(&issued.pdf)
        .with_context(|| format!("licence {} was issued and stored, but its PDF", issued.identifier))?;
    if args.json {
        let value = json!({
            "identifier": issued.identifier,
            "token": zhengzhao::token::encode_for_url(&issued.token),
            "url": issued.url,
            "record_hash": hex::encode(&issued.record_hash),
            "pdf": args.out.display().to_string(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        writeln!(out, "{}", issued.identifier)?;
    }
    Ok(())
}

async fn client_command(
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
                let rows: Vec<_> = clients
                    .iter()
                    .map(|c| json!({"id": c.id, "department_code": c.department_code, "name": c.name, "scopes": c.scopes, "types": c.type_codes, "created_at": rfc3339(c.created_at), "revoked_at": c.revoked_at.map(rfc3339)}))
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
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

async fn portal_command(
    platform: &Platform,
    cmd: PortalCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        PortalCommand::Add { name, public_key } => {
            let size = std::fs::metadata(&public_key)
                .with_context(|| format!("cannot read {}", public_key.display()))?
                .len();
            anyhow::ensure!(
                size <= 16 * 1024,
                "{} is larger than 16 KiB: not a public key",
                public_key.display()
            );
            let pem = std::fs::read_to_string(&public_key)
                .with_context(|| format!("cannot read {} as PEM text", public_key.display()))?;
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
                let rows: Vec<_> = portals
                    .iter()
                    .map(|p| json!({"id": p.id, "name": p.name, "algorithm": p.algorithm, "scopes": ["holder-proxy"], "created_at": rfc3339(p.created_at), "revoked_at": p.revoked_at.map(rfc3339)}))
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
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

fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

fn status(seal: &SealRecord) -> &'static str {
    match seal.status {
        zhengzhao::store::SealStatus::Active => "active",
        zhengzhao::store::SealStatus::Revoked => "revoked",
    }
}

fn seal_json(s: &SealRecord) -> Result<serde_json::Value> {
    let info = pki::cert_info(&s.cert_der)?;
    Ok(json!({
        "id": s.id,
        "department_code": s.department_code.as_str(),
        "name": s.name,
        "algorithm": s.algorithm,
        "status": s.status,
        "created_at": rfc3339(s.created_at),
        "revoked_at": s.revocation.map(|(at, _)| rfc3339(at)),
        "revocation_reason": s.revocation.map(|(_, r)| r.to_string()),
        "certificate": {
            "serial": s.serial_hex,
            "subject": info.subject,
            "not_before": rfc3339(info.not_before),
            "not_after": rfc3339(info.not_after),
            "key_id": info.key_id,
        },
    }))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn print_locations(out: &mut impl Write, platform: &Platform) -> Result<()> {
    let c = &platform.config;
    writeln!(out, "data directory: {}", c.data_dir.display())?;
    writeln!(out, "database:       {}", zhengzhao::config::redact_url(&c.effective_database_url()))?;
    writeln!(
        out,
        "keys:           {} ({})",
        platform.keys.dir().display(),
        if platform.keys.encrypts() { "encrypted with ZHENGZHAO_KEY_PASSPHRASE" } else { "not encrypted" }
    )?;
    writeln!(out, "config:         {}", c.data_dir.join(zhengzhao::config::CONFIG_FILE).display())?;
    writeln!(out, "home page:      {}/", c.public_url)?;
    writeln!(out, "health:         {}/healthz", c.public_url)?;
    writeln!(out, "trust list:     {}/pki/trust-list.json", c.public_url)?;
    writeln!(out, "OpenAPI:        {}/api/openapi.json", c.public_url)?;
    writeln!(out, "root CAs:       {}/pki/root.pem", c.public_url)?;
    for alg in Algorithm::ALL {
        writeln!(
            out,
            "CRL ({alg}):{:>w$}{}",
            "",
            c.crl_url(&alg.to_string()),
            w = 8 - alg.to_string().len()
        )?;
    }
    Ok(())
}

async fn serve(config: Config, passphrase: Option<String>) -> Result<()> {
    let fresh = platform::is_fresh(&config.data_dir) && config.database_url.is_empty();
    let now = OffsetDateTime::now_utc();
    let platform = if fresh {
        let platform = Platform::create(config, passphrase).await?;
        let seals = platform.ensure_demo(now).await.context("initialising the demo platform")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "initialised a new demo platform")?;
        print_locations(&mut out, &platform)?;
        for s in &seals {
            writeln!(out, "demo seal:      {} ({}, {} {})", s.id, s.algorithm, s.department_code, s.name)?;
        }
        if let Some(s) = seals.first() {
            writeln!(
                out,
                "try:            zhengzhao --data {} issue --seal {} --type 11100000000013338W002 \\\n                  --input templates/examples/food-business-licence.json --out licence.pdf",
                platform.config.data_dir.display(),
                s.id
            )?;
        }
        platform
    } else {
        let platform = Platform::open(config, passphrase).await?;
        // A later start says where everything is too (a closed stdout does not stop it).
        let _ = print_locations(&mut std::io::stdout().lock(), &platform);
        platform
    };
    // Fail now, not at the first CRL refresh or signature, if a key cannot be used.
    let keys = platform.pki.check_keys().await.context("checking the signing keys")?;
    tracing::info!(keys, "signing keys readable");
    let audit_signer =
        platform.audit.audit_signer(now).await.context("preparing the access log checkpoint signer")?;
    let listen = platform.config.listen;
    let listener =
        tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    // A server keeps serving when its stdout has gone (println! would panic on a closed pipe).
    let _ = writeln!(
        std::io::stdout(),
        "listening on http://{local} (public URL {})",
        platform.config.public_url
    );
    let platform = std::sync::Arc::new(platform);
    tokio::spawn(platform.audit.clone().run_checkpoints(audit_signer, platform::CHECKPOINT_INTERVAL));
    zhengzhao::server::serve(listener, platform, zhengzhao::server::shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("shut down");
    Ok(())
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
