//! `zhengzhao tsa certs|list|stamp|verify`: the platform's RFC 3161 time-stamping
//! authority for the operator. `stamp` goes through the platform in process (a serial
//! number from the database, no HTTP); `verify` checks a reply against the platform's roots.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::pki::{self, Algorithm};
use zhengzhao::platform::{Platform, TsaUnitView};
use zhengzhao::tsa::{self, ImprintAlg, Outcome, StampInfo};

use super::output::{rfc3339, write_json};

/// Largest file `tsa stamp` and `tsa verify --data` read (it is hashed in memory).
const MAX_DATA_BYTES: u64 = 256 * 1024 * 1024;

/// The time-stamping authority (RFC 3161).
#[derive(Debug, Subcommand)]
pub enum TsaCommand {
    /// Print the certificate chain (PEM: TSA certificate, then its root) of the unit that
    /// signs now, of every algorithm or of one.
    Certs {
        /// ed25519, p256 or sm2.
        #[arg(long)]
        algorithm: Option<Algorithm>,
    },
    /// List the time-stamping units, old ones included: algorithm, certificate serial,
    /// validity, until when it signs, whether it is current.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Time-stamp a file in process (SHA-256 imprint for p256, SHA-512 for ed25519, SM3
    /// for sm2) and write the DER reply.
    Stamp {
        /// The file to stamp (at most 256 MiB).
        file: PathBuf,
        /// The unit that signs: ed25519, p256 (default) or sm2.
        #[arg(long, default_value = "p256")]
        algorithm: Algorithm,
        /// Where to write the reply (default: FILE.tsr).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify a DER time-stamp reply against the platform's roots and the data it stamps;
    /// prints its time, serial number, policy and TSA.
    Verify {
        /// The reply (`.tsr`).
        reply: PathBuf,
        /// The stamped file (`--data` is the data directory).
        #[arg(long)]
        data_file: PathBuf,
    },
}

/// A unit in `tsa list --json`.
#[derive(Debug, Serialize)]
struct UnitJson<'a> {
    id: &'a str,
    algorithm: Algorithm,
    cert_serial: &'a str,
    not_before: String,
    not_after: String,
    signs_until: String,
    current: bool,
}

impl<'a> From<&'a TsaUnitView> for UnitJson<'a> {
    fn from(u: &'a TsaUnitView) -> Self {
        Self {
            id: &u.id,
            algorithm: u.algorithm,
            cert_serial: &u.cert_serial,
            not_before: rfc3339(u.not_before),
            not_after: rfc3339(u.not_after),
            signs_until: rfc3339(u.signs_until),
            current: u.current,
        }
    }
}

/// Runs a `tsa` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: TsaCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        TsaCommand::Certs { algorithm } => write!(out, "{}", platform.tsa.chain_pem(algorithm, now).await?)?,
        TsaCommand::List { json } => list(platform, json, now, out).await?,
        TsaCommand::Stamp { file, algorithm, out: path } => {
            stamp(platform, &file, algorithm, path, now, out).await?
        }
        TsaCommand::Verify { reply, data_file } => verify(platform, &reply, &data_file, out).await?,
    }
    Ok(())
}

async fn list(platform: &Platform, json: bool, now: OffsetDateTime, out: &mut impl Write) -> Result<()> {
    let units = platform.tsa.units(now).await?;
    if json {
        return write_json(out, &units.iter().map(UnitJson::from).collect::<Vec<_>>());
    }
    for u in &units {
        writeln!(
            out,
            "{:<10} {:<7}  serial {}  valid {} to {}  signs until {}{}",
            u.id,
            u.algorithm.as_str(),
            u.cert_serial,
            rfc3339(u.not_before),
            rfc3339(u.not_after),
            rfc3339(u.signs_until),
            if u.current { "  current" } else { "" }
        )?;
    }
    Ok(())
}

async fn stamp(
    platform: &Platform,
    file: &Path,
    algorithm: Algorithm,
    path: Option<PathBuf>,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let data = read_limited(file, MAX_DATA_BYTES)?;
    let mut nonce = [0u8; 8];
    SystemRandom::new().fill(&mut nonce).map_err(|_| anyhow::anyhow!("no randomness available"))?;
    let imprint = ImprintAlg::for_algorithm(algorithm);
    let request = tsa::build_request(imprint, &data, Some(u64::from_be_bytes(nonce) >> 1), true, None)?;
    let reply = platform.tsa.reply(&request, Some(algorithm), now).await?;
    if let Outcome::Rejected(refusal) = &reply.response.outcome {
        bail!("the time-stamping authority refused: {refusal} ({})", refusal.fail.code());
    }
    let path = path.unwrap_or_else(|| with_tsr(file));
    std::fs::write(&path, &reply.response.der).with_context(|| format!("cannot write {}", path.display()))?;
    let serial = reply.serial.map_or_else(String::new, |s| format!(", serial {s}"));
    writeln!(out, "wrote {} ({algorithm}{serial}, {})", path.display(), rfc3339(now.replace_nanosecond(0)?))?;
    Ok(())
}

async fn verify(platform: &Platform, reply: &Path, data: &Path, out: &mut impl Write) -> Result<()> {
    let reply_der = read_limited(reply, tsa::MAX_TOKEN_BYTES as u64)?;
    let data = read_limited(data, MAX_DATA_BYTES)?;
    let roots: Vec<Vec<u8>> = platform.store.roots().await?.into_iter().map(|r| r.cert_der).collect();
    let certs = platform.tsa.all_certs().await?;
    let info = tsa::verify_response(&reply_der, &data, &roots, &certs)
        .with_context(|| format!("{} does not verify", reply.display()))?;
    print_stamp(&info, out)
}

fn print_stamp(info: &StampInfo, out: &mut impl Write) -> Result<()> {
    let tsa_cert = pki::cert_info(&info.tsa_cert_der)?;
    writeln!(out, "verified:  a time-stamp of the platform's {} TSA", info.algorithm)?;
    writeln!(out, "time:      {}", rfc3339(info.gen_time))?;
    match info.serial_u64() {
        Some(serial) => writeln!(out, "serial:    {serial}")?,
        None => writeln!(out, "serial:    0x{}", hex::encode(&info.serial))?,
    }
    writeln!(out, "policy:    {}", info.policy)?;
    writeln!(out, "imprint:   {:?}", info.imprint_alg)?;
    writeln!(out, "TSA:       {} (certificate serial {})", tsa_cert.subject, tsa_cert.serial_hex)?;
    Ok(())
}

/// `file` with `.tsr` appended to its name.
fn with_tsr(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".tsr");
    PathBuf::from(name)
}

/// The whole file, refused when larger than `max` bytes.
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if len > max {
        bail!("{} has {len} bytes, more than the {max} this command reads", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
