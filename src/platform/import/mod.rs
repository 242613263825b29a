//! Bulk import of existing licences (存量证照电子化): a JSONL or CSV file streamed through
//! four stages with bounded queues — read and parse (`reader.rs`, `record.rs`) on a
//! thread of its own; check against what was imported before and prepare (serials and
//! time-stamp serials reserved in blocks, [`crate::platform::BulkIssuer`]); build (render
//! and sign) on a pool of threads, one per core; store in batches, each one transaction
//! with the licences' source ids (`engine.rs`). The source id is the idempotency key: a
//! run killed at any point and started again issues every source record exactly once.
//! HTTP jobs run the same engine (`jobs.rs`).

mod engine;
mod jobs;
mod reader;
mod record;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::{ImportCounts, ImportErrorLine, ImportOrigin};

use super::error::PlatformError;
pub use engine::run_import;
pub use jobs::{ImportJobInput, ImportJobView, MAX_IMPORT_UPLOAD, check_source};
pub use reader::{Line, LineReader};
pub use record::{CsvMapping, CsvPlan, MAX_SOURCE_ID, SourceRecord, parse_json_line};

/// Licences per store transaction, by default.
pub const DEFAULT_BATCH: usize = 500;
/// Longest input line, by default (1 MiB): a longer one is an error line.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// How to run an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The source namespace and the input's name.
    pub origin: ImportOrigin,
    /// JSONL, or CSV with a mapping.
    pub format: InputFormat,
    /// Licences per store transaction (1 to 10,000).
    pub batch: usize,
    /// Build threads (default: the available cores).
    pub threads: usize,
    /// Longest line in bytes.
    pub max_line: usize,
    /// Store the record and token only; the documents are made on first download.
    pub deferred: bool,
}

impl ImportOptions {
    /// The defaults for `origin` and `format`.
    pub fn new(origin: ImportOrigin, format: InputFormat) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self { origin, format, batch: DEFAULT_BATCH, threads, max_line: DEFAULT_MAX_LINE, deferred: false }
    }
}

/// The input's format.
#[derive(Debug, Clone)]
pub enum InputFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row, one record per line, read through the mapping.
    Csv(CsvMapping),
}

/// Counters the import updates as it goes, for a progress display.
#[derive(Debug, Default)]
pub struct ImportProgress {
    bytes: AtomicU64,
    read: AtomicU64,
    issued: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

impl ImportProgress {
    /// The counts so far.
    pub fn counts(&self) -> ImportCounts {
        ImportCounts {
            read: self.read.load(Ordering::Relaxed),
            issued: self.issued.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// Input bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Where failed lines go.
pub trait ErrorSink: Send {
    /// Records one failed line.
    fn record(&mut self, error: &ImportErrorLine) -> Result<(), ImportError>;
    /// Writes out what is buffered.
    fn flush(&mut self) -> Result<(), ImportError> {
        Ok(())
    }
}

/// An error file: one JSON object per failed line (`line`, `source_id` if known, `reason`).
#[derive(Debug)]
pub struct ErrorFile(std::io::BufWriter<std::fs::File>);

impl ErrorFile {
    /// Creates (or empties) the error file at `path`.
    pub fn create(path: &Path) -> Result<Self, ImportError> {
        let file = std::fs::File::create(path)
            .map_err(|e| ImportError::Output(format!("error file {}: {e}", path.display())))?;
        Ok(Self(std::io::BufWriter::new(file)))
    }
}

impl ErrorSink for ErrorFile {
    fn record(&mut self, error: &ImportErrorLine) -> Result<(), ImportError> {
        let line = serde_json::to_string(error).map_err(|e| ImportError::Output(e.to_string()))?;
        writeln!(self.0, "{line}").map_err(|e| ImportError::Output(format!("error file: {e}")))
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        self.0.flush().map_err(|e| ImportError::Output(format!("error file: {e}")))
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    /// Lines read, licences issued, records imported before, lines failed.
    pub counts: ImportCounts,
    /// How long it took.
    pub elapsed: Duration,
    /// How much the database grew, in bytes.
    pub database_growth: i64,
    /// The issued licences' documents, in bytes.
    pub document_bytes: u64,
}

impl ImportSummary {
    /// Licences issued per second.
    pub fn rate(&self) -> f64 {
        self.counts.issued as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Database bytes grown per licence issued.
    pub fn storage_per_licence(&self) -> Option<f64> {
        (self.counts.issued > 0).then(|| self.database_growth as f64 / self.counts.issued as f64)
    }

    /// Average document bytes per licence issued.
    pub fn document_per_licence(&self) -> Option<f64> {
        (self.counts.issued > 0).then(|| self.document_bytes as f64 / self.counts.issued as f64)
    }
}

/// Why an import stopped (a bad line does not stop it).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The platform failed (database, key store).
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The input could not be read, or its header or mapping is unusable.
    #[error("input: {0}")]
    Input(String),
    /// The error file could not be written.
    #[error("{0}")]
    Output(String),
    /// A stage stopped unexpectedly.
    #[error("import stage: {0}")]
    Stage(String),
}
