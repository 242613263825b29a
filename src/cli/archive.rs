//! `zhengzhao archive renew [--before DATE] [--all]`: archive renewal of the stored PDFs.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Subcommand;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zhengzhao::platform::{Platform, RENEW_AHEAD};

/// Long-term validation of the stored PDFs.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Append a DSS revision and a new document time-stamp to every stored PDF whose newest
    /// document time-stamp's TSA certificate expires before DATE (default: a year from
    /// now), or that has none. Resumable: run it again after an interruption; PDFs renewed
    /// already are skipped.
    Renew {
        /// Renew what expires before this moment (RFC 3339, e.g. 2030-01-01T00:00:00Z).
        #[arg(long, value_name = "DATE", value_parser = parse_moment)]
        before: Option<OffsetDateTime>,
        /// Renew every stored PDF, however long its time-stamp lasts (when an algorithm
        /// is marked weak, or a TSA key must no longer be relied on).
        #[arg(long)]
        all: bool,
    },
}

/// An RFC 3339 moment for `--before`.
pub fn parse_moment(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("not an RFC 3339 moment such as 2030-01-01T00:00:00Z: {e}"))
}

/// Runs an `archive` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: ArchiveCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    let ArchiveCommand::Renew { before, all } = cmd;
    let before = before.unwrap_or(now + RENEW_AHEAD);
    let started = std::time::Instant::now();
    let mut last_line = std::time::Instant::now();
    let report = platform
        .archive
        .renew(before, all, now, |p| {
            if last_line.elapsed().as_secs() >= 5 {
                last_line = std::time::Instant::now();
                eprintln!("archive renew: {} licences looked at, now {}", p.done, p.id);
            }
        })
        .await?;
    writeln!(
        out,
        "archive renewal up to {}: {} looked at, {} renewed, {} already lasting, {} renewed by another run, {} failed ({:.1} s)",
        before.format(&Rfc3339).unwrap_or_default(),
        report.examined,
        report.renewed,
        report.recorded,
        report.raced,
        report.failed.len(),
        started.elapsed().as_secs_f64()
    )?;
    for (id, why) in &report.failed {
        writeln!(out, "failed: {id}: {why}")?;
    }
    if !report.failed.is_empty() {
        bail!("{} licence(s) could not be renewed; run again after fixing the cause", report.failed.len());
    }
    Ok(())
}
