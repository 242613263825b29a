//! `zhengzhao issue`: issues a licence, writes its signed PDF (none with `--document none`)
//! and prints its identifier (or, with `--json`, the same answer as `POST /api/v1/licences`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use time::OffsetDateTime;
use zhengzhao::http::IssuedBody;
use zhengzhao::licence::{DocumentKind, LicenceInput};
use zhengzhao::platform::{IssueRequest, Platform};

use super::output::write_json;
use super::pending_output::PendingOutput;

/// Largest licence input file accepted.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// `issue`.
#[derive(Debug, ClapArgs)]
pub struct IssueArgs {
    /// The seal to sign with.
    #[arg(long)]
    seal: String,
    /// The licence type code (see `zhengzhao types list`).
    #[arg(long = "type")]
    type_code: String,
    /// The licence content as JSON (see templates/examples/).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the signed PDF (required with `--document pdf`, refused with
    /// `--document none`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The document to issue with the licence.
    #[arg(long, value_enum, default_value_t = DocumentArg::Pdf)]
    document: DocumentArg,
    /// Print identifier, token and verification URL as JSON.
    #[arg(long)]
    json: bool,
    /// Issue a new version of this licence (renewal or change) that replaces it.
    #[arg(long)]
    renews: Option<String>,
}

/// `--document`: the API's `document` values, with their help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DocumentArg {
    /// The signed A4 PDF, written to --out (the default).
    Pdf,
    /// None: a data-only licence (register entry, record and signed QR token, no file), for
    /// systems that exchange data and for seals that cannot sign PDFs (SM2).
    None,
}

impl From<DocumentArg> for DocumentKind {
    fn from(arg: DocumentArg) -> Self {
        match arg {
            DocumentArg::Pdf => DocumentKind::Pdf,
            DocumentArg::None => DocumentKind::None,
        }
    }
}

/// Issues the licence `args` describe.
pub async fn run(
    platform: &Platform,
    args: IssueArgs,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let input = read_input(&args.input)?;
    // Everything that can fail is tried before the register is touched: the output is
    // opened now (beside the target, renamed at the end, so that a failure never leaves
    // half a PDF); seal, document, input and renewal are checked by `issue` before it stores.
    let document = DocumentKind::from(args.document);
    let pdf_out = match (document, &args.out) {
        (DocumentKind::Pdf, Some(path)) => Some(PendingOutput::open(path)?),
        (DocumentKind::Pdf, None) => {
            bail!("give --out FILE for the licence's PDF, or --document none for none")
        }
        (DocumentKind::None, Some(_)) => bail!("--document none issues no file: leave out --out"),
        (DocumentKind::None, None) => None,
    };
    let request = IssueRequest {
        seal_id: args.seal,
        type_code: args.type_code,
        input,
        document,
        client: None,
        idempotency_key: None,
        renews: args.renews,
    };
    let issued = platform.issuing.issue(request, now).await?;
    if let (Some(pdf_out), Some(pdf)) = (pdf_out, issued.pdf()) {
        pdf_out
            .finish(pdf)
            .with_context(|| format!("licence {} was issued and stored, but its PDF", issued.identifier))?;
    }
    if args.json {
        let path = args.out.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        write_json(out, &IssuedBody::new(&issued, path))?;
    } else {
        writeln!(out, "{}", issued.identifier)?;
    }
    Ok(())
}

/// The licence input file, refused when larger than [`MAX_INPUT_BYTES`].
fn read_input(path: &std::path::Path) -> Result<LicenceInput> {
    let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
    if size > MAX_INPUT_BYTES {
        bail!("{} has {size} bytes; at most {MAX_INPUT_BYTES} accepted", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid licence input", path.display()))
}
