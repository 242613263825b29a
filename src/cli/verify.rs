//! `zhengzhao verify`: a signed PDF or OFD, a QR token or URL, or an identifier, online against
//! the local platform or offline with a trust list. Exit code 0 valid, 1 invalid, 2 cannot
//! tell; the report printed in the same bilingual words as the verification page, or as
//! the JSON `POST /api/v1/verify` answers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use time::OffsetDateTime;
use zhengzhao::config::Config;
use zhengzhao::pki;
use zhengzhao::platform::{self, Platform};
use zhengzhao::verify::{Engine, Input, Mode, Outcome, Report, Subject, TrustSet, as_of};

use super::output::is_broken_pipe;

/// `verify`.
#[derive(Debug, ClapArgs)]
pub struct VerifyArgs {
    /// A PDF or OFD file (told apart by their first bytes), a QR URL or token, or a licence
    /// identifier.
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
    /// Verify as of this moment, RFC 3339 (e.g. 2035-01-01T00:00:00Z), from 2000 to 100
    /// years ahead: what a verifier will see then. The register's status and the CRLs are
    /// as known now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

/// Verifies; any error that keeps it from a verdict exits 2, after one line on stderr.
pub async fn run(
    config: Config,
    passphrase: Option<String>,
    args: VerifyArgs,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> ExitCode {
    match verify(config, passphrase, args, now, out).await {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// What `verify` was given.
enum VerifyInput {
    Pdf(Vec<u8>),
    Ofd(Vec<u8>),
    Text(String),
    Identifier(String),
}

impl VerifyInput {
    fn as_input(&self) -> Input<'_> {
        match self {
            Self::Pdf(pdf) => Input::Pdf(pdf),
            Self::Ofd(ofd) => Input::Ofd(ofd),
            Self::Text(text) => Input::TokenText(text),
            Self::Identifier(id) => Input::Identifier(id),
        }
    }
}

fn verify_input(input: &str) -> Result<VerifyInput> {
    let path = Path::new(input);
    if path.is_file() {
        let max = platform::MAX_VERIFY_PDF_BYTES as u64;
        let len = std::fs::metadata(path).with_context(|| format!("reading {input}"))?.len();
        if len > max {
            bail!("{input} is {len} bytes; PDFs and OFDs of at most {max} bytes are verified");
        }
        let bytes = std::fs::read(path).with_context(|| format!("reading {input}"))?;
        if bytes.is_empty() {
            bail!("{input} is empty");
        }
        if bytes.starts_with(b"PK\x03\x04") {
            return Ok(VerifyInput::Ofd(bytes));
        }
        if !bytes.starts_with(b"%PDF-") {
            bail!("{input} is neither a PDF (it does not start with %PDF-) nor an OFD (a zip package)");
        }
        return Ok(VerifyInput::Pdf(bytes));
    }
    let text = input.trim();
    if text.starts_with(zhengzhao::token::LICENCE_ID_ROOT) {
        return Ok(VerifyInput::Identifier(text.to_owned()));
    }
    if text.ends_with(".pdf") || text.ends_with(".ofd") {
        bail!("{input}: no such file");
    }
    Ok(VerifyInput::Text(text.to_owned()))
}

/// A CRL file, DER or PEM (the last `X509 CRL` block).
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

/// What `verify` checks against.
enum Anchor {
    /// A signed trust list (given, or made by the local platform for `--offline`).
    TrustList(Vec<u8>),
    /// The local platform and its register.
    Platform(Box<Platform>),
}

async fn anchor(
    config: Config,
    passphrase: Option<String>,
    args: &VerifyArgs,
    now: OffsetDateTime,
) -> Result<Anchor> {
    if let Some(path) = &args.trust {
        return Ok(Anchor::TrustList(
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        ));
    }
    let platform = Platform::open(config, passphrase)
        .await
        .context("no --trust given and no usable local platform to verify against")?;
    if args.offline {
        Ok(Anchor::TrustList(platform.verification.trust_list(now).await?.as_bytes().to_vec()))
    } else {
        Ok(Anchor::Platform(Box::new(platform)))
    }
}

async fn verify(
    config: Config,
    passphrase: Option<String>,
    args: VerifyArgs,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let at = args.at.as_deref().map(|t| as_of::parse_as_of(t, now)).transpose().context("--at")?;
    let input = verify_input(&args.input)?;
    let extra_crls = args.crl.as_deref().map(read_crl).transpose()?.into_iter().collect::<Vec<_>>();
    let report = match anchor(config, passphrase, &args, now).await? {
        Anchor::TrustList(list) => {
            let what = args
                .trust
                .as_ref()
                .map_or_else(|| "the local trust list".to_owned(), |p| p.display().to_string());
            let trust = TrustSet::from_signed_trust_list(&list, extra_crls, now).with_context(|| what)?;
            let engine = Engine::new(&trust, now);
            at.map_or(engine, |at| engine.as_of(at)).verify_offline(input.as_input())
        }
        Anchor::Platform(platform) => {
            let v = &platform.verification;
            match input {
                VerifyInput::Pdf(pdf) => v.verify_document_at(pdf, Subject::Pdf, now, at).await?,
                VerifyInput::Ofd(ofd) => v.verify_document_at(ofd, Subject::Ofd, now, at).await?,
                VerifyInput::Text(text) => v.verify_token_text_at(&text, now, at).await?,
                VerifyInput::Identifier(id) => v.verify_identifier_at(&id, now, at).await?,
            }
        }
    };
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        if at.is_some() {
            let when = report.checked_at.format(&time::format_description::well_known::Rfc3339)?;
            writeln!(
                out,
                "核验时刻 As of:        {when}（证照状态与吊销列表按当前所知 register and CRLs as known now）"
            )?;
        }
        print_report(&report, out)?;
    }
    Ok(ExitCode::from(report.verdict.exit_code()))
}

fn subject_words(subject: Subject) -> &'static str {
    match subject {
        Subject::Token => "二维码 QR token",
        Subject::Pdf => "PDF 文件 PDF file",
        Subject::Ofd => "OFD 文件 OFD file",
        Subject::Identifier => "证照标识 identifier",
    }
}

fn mode_words(mode: Mode) -> &'static str {
    match mode {
        Mode::Online => "在线核验 online",
        Mode::Offline => "离线核验 offline",
    }
}

/// The report: verdict, licence, seal, then one line per check with the page's mark,
/// Chinese and English title and message, and the stable code.
pub fn print_report(report: &Report, out: &mut impl Write) -> Result<()> {
    writeln!(
        out,
        "{} {} · {} · {}",
        report.verdict.label_zh(),
        report.verdict.label_en(),
        subject_words(report.subject),
        mode_words(report.mode)
    )?;
    if let Some(l) = &report.licence {
        if let Some(name) = &l.type_name {
            writeln!(out, "证照名称 Licence:      {name}")?;
        }
        writeln!(out, "证照标识 Identifier:   {}", l.identifier)?;
        writeln!(out, "持证主体 Holder:       {} ({})", l.holder_name, l.holder_code_masked)?;
        writeln!(
            out,
            "有效期 Valid:          {} 至 to {}",
            l.valid_from,
            l.valid_until.as_deref().unwrap_or("长期 no end date")
        )?;
        if let Some(status) = &l.status_label {
            let since = l.status_since.as_deref().map_or_else(String::new, |t| format!(" (since {t})"));
            let newer = l
                .superseded_by
                .as_deref()
                .map_or_else(String::new, |n| format!("; 已被取代 superseded by {n}"));
            writeln!(out, "证照状态 Status:       {status}{since}{newer}")?;
        }
    }
    if let Some(seal) = &report.seal {
        writeln!(out, "签章 Seal:             {} 「{}」 ({})", seal.department_name, seal.name, seal.id)?;
    }
    writeln!(out, "核验项目 Checks:")?;
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Passed => "✓",
            Outcome::Failed => "✗",
            Outcome::NotChecked => "?",
        };
        writeln!(
            out,
            "  {mark} {} {}: {} / {}  [{}]",
            c.title_zh, c.title_en, c.message_zh, c.message_en, c.code
        )?;
    }
    Ok(())
}
