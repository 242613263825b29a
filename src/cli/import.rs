//! `zhengzhao import --input FILE`: bulk import of existing licences from JSONL or CSV
//! (with a column mapping), with a progress bar on a terminal (indicatif) or a plain line
//! every few seconds otherwise, an error file, and a summary. The engine is the library's
//! (`platform::import`).

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use zhengzhao::platform::Platform;
use zhengzhao::platform::import::{
    CsvMapping, DEFAULT_BATCH, DEFAULT_MAX_LINE, ErrorFile, ImportOptions, ImportProgress, ImportSummary,
    InputFormat, check_source, run_import,
};
use zhengzhao::store::ImportOrigin;

/// The input's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line: the issuing API's body plus `source_id` (and `issued_on`).
    Jsonl,
    /// CSV with a header row, read through `--mapping`.
    Csv,
}

/// Arguments of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The input file.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Its format (default: csv for a `.csv` file, else jsonl).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The column mapping of a CSV input (TOML; see templates/examples/import/).
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// The import source: the namespace in which each source_id is imported once
    /// (default: the input's file name without extension).
    #[arg(long)]
    source: Option<String>,
    /// Where failed lines go, one JSON object each (default: INPUT.errors.jsonl).
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// Licences per database transaction.
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    batch: usize,
    /// Build threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Longest line, in bytes; a longer one is an error line.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE)]
    max_line: usize,
    /// When the documents are made: `now`, or `on-download` — only the record and the QR
    /// token are stored, each licence's PDF/OFD is made, signed and stored on its first
    /// download (its signing time is then): the storage-saving mode.
    #[arg(long, value_enum, default_value_t = Render::Now)]
    render: Render,
}

/// When an imported licence's documents are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Render {
    /// With the licence.
    Now,
    /// On first download.
    OnDownload,
}

/// Runs `import`: exit 0 when every line was issued or imported before, 1 when some
/// lines failed (see the error file).
pub async fn run(platform: &Platform, args: ImportArgs, out: &mut impl Write) -> Result<ExitCode> {
    let file = std::fs::File::open(&args.input).with_context(|| format!("input {}", args.input.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input_name = args.input.canonicalize().unwrap_or_else(|_| args.input.clone()).display().to_string();
    let format = format_of(&args)?;
    let source = match &args.source {
        Some(s) => s.clone(),
        None => args.input.file_stem().and_then(|s| s.to_str()).unwrap_or("import").to_owned(),
    };
    let source = check_source(&source).context("--source")?;
    let errors_path = args.errors.clone().unwrap_or_else(|| errors_file(&args.input));
    let mut options = ImportOptions::new(ImportOrigin { source: source.clone(), input: input_name }, format);
    options.batch = args.batch;
    options.max_line = args.max_line;
    options.deferred = args.render == Render::OnDownload;
    if let Some(t) = args.threads {
        options.threads = t;
    }
    let sink = Box::new(ErrorFile::create(&errors_path)?);
    let progress = Arc::new(ImportProgress::default());
    let display = tokio::spawn(show_progress(progress.clone(), size));
    let outcome = run_import(platform, Box::new(BufReader::new(file)), &options, progress, sink).await;
    display.abort();
    let summary = outcome?;
    print_summary(out, &args.input, &source, &summary, &errors_path)?;
    Ok(if summary.counts.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn format_of(args: &ImportArgs) -> Result<InputFormat> {
    let is_csv = args.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    match (args.format.unwrap_or(if is_csv { Format::Csv } else { Format::Jsonl }), &args.mapping) {
        (Format::Jsonl, None) => Ok(InputFormat::Jsonl),
        (Format::Jsonl, Some(_)) => bail!("--mapping is for --format csv"),
        (Format::Csv, None) => bail!("a CSV input needs --mapping FILE (see templates/examples/import/)"),
        (Format::Csv, Some(path)) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("mapping {}", path.display()))?;
            let mapping: CsvMapping =
                toml::from_str(&text).with_context(|| format!("mapping {}", path.display()))?;
            Ok(InputFormat::Csv(mapping))
        }
    }
}

/// `INPUT.errors.jsonl`, next to the input.
fn errors_file(input: &Path) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(".errors.jsonl");
    input.with_file_name(name)
}

/// A progress bar on a terminal; a plain line every 5 s otherwise.
async fn show_progress(progress: Arc<ImportProgress>, size: u64) {
    let started = Instant::now();
    let rate = |issued: u64| issued as f64 / started.elapsed().as_secs_f64().max(1e-3);
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(size.max(1));
        let style = ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        loop {
            let c = progress.counts();
            bar.set_position(progress.bytes());
            bar.set_message(format!(
                "read {} issued {} skipped {} failed {} ({:.0}/s)",
                c.read,
                c.issued,
                c.skipped,
                c.failed,
                rate(c.issued)
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let c = progress.counts();
        let done = progress.bytes() as f64 / size.max(1) as f64;
        let eta = (done > 0.0).then(|| started.elapsed().as_secs_f64() * (1.0 - done) / done);
        eprintln!(
            "import: {:.0}% read {} issued {} skipped {} failed {} ({:.0} licences/s, ETA {})",
            done * 100.0,
            c.read,
            c.issued,
            c.skipped,
            c.failed,
            rate(c.issued),
            eta.map_or_else(|| "?".to_owned(), |s| format!("{s:.0} s"))
        );
    }
}

fn print_summary(
    out: &mut impl Write,
    input: &Path,
    source: &str,
    s: &ImportSummary,
    errors: &Path,
) -> Result<()> {
    let c = s.counts;
    writeln!(out, "import of {} (source {source})", input.display())?;
    writeln!(out, "  read:     {}", c.read)?;
    writeln!(out, "  issued:   {}", c.issued)?;
    writeln!(out, "  skipped:  {} (imported before)", c.skipped)?;
    writeln!(
        out,
        "  failed:   {}{}",
        c.failed,
        if c.failed > 0 { format!(" (see {})", errors.display()) } else { String::new() }
    )?;
    writeln!(out, "  elapsed:  {:.1} s", s.elapsed.as_secs_f64())?;
    writeln!(out, "  rate:     {:.0} licences/s", s.rate())?;
    match (s.storage_per_licence(), s.document_per_licence()) {
        (Some(db), Some(doc)) => writeln!(
            out,
            "  storage:  {:.1} KB per licence (database growth {:.1} MB), documents {:.1} KB on average",
            db / 1000.0,
            s.database_growth as f64 / 1e6,
            doc / 1000.0
        )?,
        _ => writeln!(out, "  storage:  nothing issued")?,
    }
    Ok(())
}
