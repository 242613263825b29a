//! `zhengzhao issue`: issues a licence, writes its signed PDF, OFD or both (none with
//! `--document none`) and prints its identifier (or, with `--json`, the same answer as
//! `POST /api/v1/licences`).

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
    /// The seal to sign with: the QR token, and the PDF (Ed25519, P-256) or, with
    /// `--document ofd`, the OFD (SM2).
    #[arg(long)]
    seal: String,
    /// With `--document both`: the SM2 seal of the same department that signs the OFD.
    #[arg(long)]
    ofd_seal: Option<String>,
    /// The licence type code (see `zhengzhao types list`).
    #[arg(long = "type")]
    type_code: String,
    /// The licence content as JSON (see templates/examples/).
    #[arg(long)]
    input: PathBuf,
    /// Where to write the signed document of `--document pdf` or `--document ofd`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where to write the signed PDF (`--document both`; with `pdf`, the same as --out).
    #[arg(long)]
    out_pdf: Option<PathBuf>,
    /// Where to write the signed OFD (`--document both`; with `ofd`, the same as --out).
    #[arg(long)]
    out_ofd: Option<PathBuf>,
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
    /// The signed A4 PDF (Ed25519 or P-256 seal), written to --out (the default).
    Pdf,
    /// The same page as an OFD with a GB/T 38540 seal signature (SM2 seal), written to --out.
    Ofd,
    /// PDF and OFD of one record and one QR token: --seal signs the PDF and the token,
    /// --ofd-seal (SM2) the OFD; written to --out-pdf and --out-ofd.
    Both,
    /// None: a data-only licence (register entry, record and signed QR token, no file), for
    /// systems that exchange data and not files.
    None,
}

impl From<DocumentArg> for DocumentKind {
    fn from(arg: DocumentArg) -> Self {
        match arg {
            DocumentArg::Pdf => DocumentKind::Pdf,
            DocumentArg::Ofd => DocumentKind::Ofd,
            DocumentArg::Both => DocumentKind::Both,
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
    // Everything that can fail is tried before the register is touched: the outputs are
    // opened now (beside the targets, renamed at the end, so that a failure never leaves
    // half a file); seal, document, input and renewal are checked by `issue` before it stores.
    let document = DocumentKind::from(args.document);
    let (pdf_path, ofd_path) = output_paths(document, &args)?;
    let pdf_out = pdf_path.as_ref().map(|p| PendingOutput::open(p)).transpose()?;
    let ofd_out = ofd_path.as_ref().map(|p| PendingOutput::open(p)).transpose()?;
    let request = IssueRequest {
        seal_id: args.seal,
        ofd_seal_id: args.ofd_seal,
        type_code: args.type_code,
        input,
        document,
        client: None,
        idempotency_key: None,
        renews: args.renews,
    };
    let issued = platform.issuing.issue(request, now).await;
    // Either way: serials not given back only lapse (10 minutes), which must not hide
    // what the issue did or failed with.
    if let Err(e) = platform.issuing.give_back_serials().await {
        tracing::warn!("could not give back the licence serials reserved and not used: {e}");
    }
    let issued = issued?;
    for (pending, bytes, what) in [(pdf_out, issued.pdf(), "PDF"), (ofd_out, issued.ofd(), "OFD")] {
        if let (Some(pending), Some(bytes)) = (pending, bytes) {
            pending.finish(bytes).with_context(|| {
                format!("licence {} was issued and stored, but its {what}", issued.identifier)
            })?;
        }
    }
    if args.json {
        let shown = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        write_json(out, &IssuedBody::new(&issued, shown(&pdf_path), shown(&ofd_path)))?;
    } else {
        writeln!(out, "{}", issued.identifier)?;
    }
    Ok(())
}

/// Where the PDF and the OFD go: `--out` names the one document of `pdf` or `ofd`
/// (`--out-pdf`/`--out-ofd` too), `both` needs `--out-pdf` and `--out-ofd`, `none` none.
fn output_paths(document: DocumentKind, args: &IssueArgs) -> Result<(Option<PathBuf>, Option<PathBuf>)> {
    let (out, out_pdf, out_ofd) = (args.out.clone(), args.out_pdf.clone(), args.out_ofd.clone());
    match document {
        DocumentKind::None if out.is_some() || out_pdf.is_some() || out_ofd.is_some() => {
            bail!("--document none issues no file: leave out --out, --out-pdf and --out-ofd")
        }
        DocumentKind::None => Ok((None, None)),
        DocumentKind::Both if out.is_some() => {
            bail!("--document both writes two files: give --out-pdf FILE and --out-ofd FILE instead of --out")
        }
        DocumentKind::Both => match (out_pdf, out_ofd) {
            (Some(pdf), Some(ofd)) if pdf != ofd => Ok((Some(pdf), Some(ofd))),
            (Some(_), Some(_)) => bail!("--out-pdf and --out-ofd name the same file"),
            _ => bail!("--document both writes two files: give --out-pdf FILE and --out-ofd FILE"),
        },
        DocumentKind::Pdf if out_ofd.is_some() => bail!("--document pdf issues no OFD: leave out --out-ofd"),
        DocumentKind::Ofd if out_pdf.is_some() => bail!("--document ofd issues no PDF: leave out --out-pdf"),
        DocumentKind::Pdf | DocumentKind::Ofd => {
            let single = if document == DocumentKind::Pdf { out_pdf } else { out_ofd };
            match (out, single) {
                (Some(_), Some(_)) => bail!("give --out or --out-{document}, not both"),
                (Some(path), None) | (None, Some(path)) => {
                    Ok(if document == DocumentKind::Pdf { (Some(path), None) } else { (None, Some(path)) })
                }
                (None, None) => {
                    bail!(
                        "give --out FILE for the licence's {}, or --document none for none",
                        document.as_str().to_uppercase()
                    )
                }
            }
        }
    }
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
