//! The import pipeline: a reader thread parses lines into chunks; the prepare stage asks
//! the store which source ids were imported before and prepares the others (checks,
//! serials, time-stamp serials); a pool of build threads renders and signs; the writer
//! stores built licences in batches (one transaction each) and records failed lines.
//! Every queue between stages is bounded, so memory stays bounded whatever the input's
//! size, and a slow stage holds the ones before it back.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::store::{
    BatchOutcome, ImportErrorLine, ImportOrigin, ImportedLicence, PriorImport, SerialReservation, Store,
    StoreError,
};

use super::super::Platform;
use super::super::error::PlatformError;
use super::super::issuing::{BulkIssuer, BulkJob, is_item_error};
use super::reader::{Line, LineReader};
use super::record::{CsvPlan, SourceRecord, parse_json_line};
use super::{ErrorSink, ImportError, ImportOptions, ImportProgress, ImportSummary, InputFormat};

/// Lines per chunk from the reader.
const CHUNK: usize = 256;
/// A batch not yet full is stored after this long.
const FLUSH_AFTER: Duration = Duration::from_millis(500);
/// Build jobs handed to a build thread at a time, and so results handed to the writer at a
/// time: one wake-up of a thread per eight licences, not per licence (a thread hand-off
/// costs microseconds of kernel time on each side).
const JOBS_PER_HANDOFF: usize = 8;

/// What the reader hands on.
enum ReadMsg {
    Records(Vec<Result<SourceRecord, ImportErrorLine>>),
    Fatal(String),
}

/// What reaches the writer for each record.
enum Done {
    Built(Box<ImportedLicence>),
    Failed(ImportErrorLine, Option<SerialReservation>),
    Skipped,
}

/// Who a build job is for.
struct Meta {
    line: u64,
    source_id: String,
}

/// Build jobs handed over together (at most [`JOBS_PER_HANDOFF`]).
type Jobs = Vec<(Meta, BulkJob)>;

fn store_err(e: StoreError) -> ImportError {
    ImportError::Platform(PlatformError::from(e))
}

fn stopped(what: &str) -> ImportError {
    ImportError::Stage(format!("the {what} stage stopped"))
}

/// Imports `input` (see the module documentation), counting in `progress` and sending
/// failed lines to `errors`. Stops only when the platform fails or the input cannot be
/// read; a bad line is recorded and passed over.
pub async fn run_import(
    platform: &Platform,
    input: Box<dyn BufRead + Send>,
    options: &ImportOptions,
    progress: Arc<ImportProgress>,
    errors: Box<dyn ErrorSink>,
) -> Result<ImportSummary, ImportError> {
    if !(1..=10_000).contains(&options.batch) {
        return Err(ImportError::Input(format!("a batch of {}: use 1 to 10000", options.batch)));
    }
    let started = Instant::now();
    let store = platform.store.clone();
    let before = store.database_bytes().await.map_err(store_err)?;
    let threads = options.threads.max(1);
    let (read_tx, read_rx) = mpsc::channel(4);
    let (job_tx, job_rx) = mpsc::channel::<Jobs>(threads * 2);
    let (done_tx, done_rx) = mpsc::channel((options.batch * 2).div_ceil(JOBS_PER_HANDOFF));
    let reader = {
        let (format, max_line, progress) = (options.format.clone(), options.max_line, progress.clone());
        std::thread::spawn(move || read_stage(input, &format, max_line, &progress, &read_tx))
    };
    let builders = spawn_builders(threads, job_rx, &done_tx);
    let writer = tokio::spawn(write_stage(
        store.clone(),
        options.origin.clone(),
        done_rx,
        options.batch,
        progress.clone(),
        errors,
    ));
    let bulk = platform.issuing.bulk(options.batch as u64).deferred(options.deferred);
    let prepared = prepare_stage(bulk, store.as_ref(), &options.origin, read_rx, job_tx, done_tx).await;
    let joined = tokio::task::spawn_blocking(move || builders.into_iter().all(|b| b.join().is_ok())).await;
    let written = writer.await.map_err(|e| ImportError::Stage(format!("writer: {e}")))?;
    let _ = reader.join();
    // A writer that failed stopped the stages before it: its error is the cause.
    let document_bytes = match (prepared, written) {
        (_, Err(e)) | (Err(e), _) => return Err(e),
        (Ok(()), Ok(bytes)) => bytes,
    };
    if !matches!(joined, Ok(true)) {
        return Err(stopped("build"));
    }
    let after = store.database_bytes().await.map_err(store_err)?;
    Ok(ImportSummary {
        counts: progress.counts(),
        elapsed: started.elapsed(),
        database_growth: i64::try_from(after).unwrap_or(i64::MAX) - i64::try_from(before).unwrap_or(i64::MAX),
        document_bytes,
    })
}

/// Reads and parses lines into chunks (on a thread of its own).
fn read_stage(
    input: Box<dyn BufRead + Send>,
    format: &InputFormat,
    max_line: usize,
    progress: &ImportProgress,
    tx: &mpsc::Sender<ReadMsg>,
) {
    let mut reader = LineReader::new(input, max_line);
    let mut plan: Option<CsvPlan> = None;
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        let (n, line) = match reader.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.blocking_send(ReadMsg::Fatal(format!("reading: {e}")));
                return;
            }
        };
        let error = |reason: String| Err(ImportErrorLine { line: n, source_id: None, reason });
        let parsed = match (format, &plan, line) {
            (_, _, Line::Blank) => continue,
            (InputFormat::Csv(mapping), None, line) => {
                let header = match line {
                    Line::Text(t) => CsvPlan::new(mapping.clone(), t),
                    _ => Err("the header row is too long or not UTF-8".to_owned()),
                };
                match header {
                    Ok(p) => plan = Some(p),
                    Err(e) => {
                        let _ = tx.blocking_send(ReadMsg::Fatal(format!("CSV header (line {n}): {e}")));
                        return;
                    }
                }
                continue;
            }
            (_, _, Line::TooLong) => error(format!("the line is longer than {max_line} bytes")),
            (_, _, Line::NotUtf8) => error("the line is not UTF-8 text".to_owned()),
            (InputFormat::Jsonl, _, Line::Text(t)) => parse_json_line(n, t),
            (InputFormat::Csv(_), Some(p), Line::Text(t)) => p.parse_row(n, t),
        };
        progress.read.fetch_add(1, Ordering::Relaxed);
        progress.bytes.store(reader.bytes(), Ordering::Relaxed);
        chunk.push(parsed);
        if chunk.len() >= CHUNK && tx.blocking_send(ReadMsg::Records(std::mem::take(&mut chunk))).is_err() {
            return;
        }
    }
    progress.bytes.store(reader.bytes(), Ordering::Relaxed);
    if !chunk.is_empty() {
        let _ = tx.blocking_send(ReadMsg::Records(chunk));
    }
}

/// What a record imported before means here: `Ok` imported before (skipped), or an
/// error line when the same input has it on another line (a duplicate within the input).
fn judge_prior(prior: &PriorImport, origin: &ImportOrigin, line: u64) -> Result<(), ImportErrorLine> {
    if prior.input == origin.input && prior.line_no != line {
        return Err(ImportErrorLine {
            line,
            source_id: Some(prior.source_id.clone()),
            reason: format!(
                "duplicate source_id: line {} has it already (licence {})",
                prior.line_no, prior.licence_id
            ),
        });
    }
    Ok(())
}

/// Checks each chunk against the store and prepares the new records' builds.
async fn prepare_stage(
    mut bulk: BulkIssuer,
    store: &dyn Store,
    origin: &ImportOrigin,
    mut rx: mpsc::Receiver<ReadMsg>,
    jobs: mpsc::Sender<Jobs>,
    done: mpsc::Sender<Vec<Done>>,
) -> Result<(), ImportError> {
    let outcome = async {
        let mut pending: Jobs = Vec::with_capacity(JOBS_PER_HANDOFF);
        while let Some(msg) = rx.recv().await {
            let chunk = match msg {
                ReadMsg::Records(chunk) => chunk,
                ReadMsg::Fatal(message) => return Err(ImportError::Input(message)),
            };
            let ids: Vec<String> =
                chunk.iter().filter_map(|r| r.as_ref().ok().map(|r| r.source_id.clone())).collect();
            let priors: HashMap<String, PriorImport> = store
                .imported(&origin.source, &ids)
                .await
                .map_err(store_err)?
                .into_iter()
                .map(|p| (p.source_id.clone(), p))
                .collect();
            let mut answered = Vec::new();
            for parsed in chunk {
                answered.push(match parsed {
                    Err(e) => Done::Failed(e, None),
                    Ok(record) => match priors.get(&record.source_id) {
                        Some(prior) => judge_prior(prior, origin, record.line)
                            .map_or_else(|e| Done::Failed(e, None), |()| Done::Skipped),
                        None => match prepare_one(&mut bulk, record, &mut pending).await? {
                            Some(failed) => failed,
                            None => {
                                if pending.len() >= JOBS_PER_HANDOFF {
                                    jobs.send(std::mem::take(&mut pending))
                                        .await
                                        .map_err(|_| stopped("build"))?;
                                }
                                continue;
                            }
                        },
                    },
                });
            }
            // The chunk's last jobs go now: the next chunk may be long in coming.
            if !pending.is_empty() {
                jobs.send(std::mem::take(&mut pending)).await.map_err(|_| stopped("build"))?;
            }
            if !answered.is_empty() {
                done.send(answered).await.map_err(|_| stopped("writer"))?;
            }
        }
        Ok(())
    }
    .await;
    // Serials reserved and not handed out go back (after a failure too).
    let finished = bulk.finish().await;
    outcome?;
    finished.map_err(ImportError::from)
}

/// Prepares one record and adds its job to `pending`: `Some` with its error line if the
/// record is refused.
async fn prepare_one(
    bulk: &mut BulkIssuer,
    record: SourceRecord,
    pending: &mut Jobs,
) -> Result<Option<Done>, ImportError> {
    let SourceRecord { line, source_id, item } = record;
    match bulk.prepare(item, OffsetDateTime::now_utc()).await {
        Ok(job) => {
            pending.push((Meta { line, source_id }, job));
            Ok(None)
        }
        Err(e) if is_item_error(&e) => Ok(Some(Done::Failed(
            ImportErrorLine { line, source_id: Some(source_id), reason: e.to_string() },
            None,
        ))),
        Err(e) => Err(e.into()),
    }
}

/// The build threads: a few jobs at a time from the shared queue, their results handed to
/// the writer together.
fn spawn_builders(
    threads: usize,
    jobs: mpsc::Receiver<Jobs>,
    done: &mpsc::Sender<Vec<Done>>,
) -> Vec<std::thread::JoinHandle<()>> {
    let jobs = Arc::new(Mutex::new(jobs));
    (0..threads)
        .map(|_| {
            let (jobs, done) = (jobs.clone(), done.clone());
            std::thread::spawn(move || {
                loop {
                    // The lock is held while waiting: the others wait for the lock instead.
                    let next = match jobs.lock() {
                        Ok(mut rx) => rx.blocking_recv(),
                        Err(_) => None,
                    };
                    let Some(batch) = next else { break };
                    let results = batch.into_iter().map(|(meta, job)| build_one(meta, job)).collect();
                    if done.blocking_send(results).is_err() {
                        break;
                    }
                }
            })
        })
        .collect()
}

/// Builds one job: what the writer is to do with it.
fn build_one(meta: Meta, job: BulkJob) -> Done {
    match job.build() {
        Ok((licence, reservation)) => Done::Built(Box::new(ImportedLicence {
            licence,
            reservation,
            source_id: meta.source_id,
            line_no: meta.line,
        })),
        Err(f) => Done::Failed(
            ImportErrorLine { line: meta.line, source_id: Some(meta.source_id), reason: f.message },
            Some(f.reservation),
        ),
    }
}

/// The writer's state.
struct Writer {
    store: Arc<dyn Store>,
    origin: ImportOrigin,
    progress: Arc<ImportProgress>,
    errors: Box<dyn ErrorSink>,
    batch: Vec<ImportedLicence>,
    release: Vec<SerialReservation>,
    document_bytes: u64,
}

/// Stores built licences in batches and records the failed lines; returns the issued
/// documents' bytes.
async fn write_stage(
    store: Arc<dyn Store>,
    origin: ImportOrigin,
    mut rx: mpsc::Receiver<Vec<Done>>,
    batch_size: usize,
    progress: Arc<ImportProgress>,
    errors: Box<dyn ErrorSink>,
) -> Result<u64, ImportError> {
    let mut w =
        Writer { store, origin, progress, errors, batch: Vec::new(), release: Vec::new(), document_bytes: 0 };
    let mut deadline = tokio::time::Instant::now();
    loop {
        let next = if w.batch.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    w.flush().await?;
                    continue;
                }
            }
        };
        let Some(list) = next else { break };
        for done in list {
            match done {
                Done::Built(licence) => {
                    if w.batch.is_empty() {
                        deadline = tokio::time::Instant::now() + FLUSH_AFTER;
                    }
                    w.batch.push(*licence);
                    if w.batch.len() >= batch_size {
                        w.flush().await?;
                    }
                }
                Done::Failed(error, reservation) => {
                    w.release.extend(reservation);
                    w.fail(&error)?;
                }
                Done::Skipped => {
                    w.progress.skipped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    w.flush().await?;
    w.errors.flush()?;
    Ok(w.document_bytes)
}

impl Writer {
    fn fail(&mut self, error: &ImportErrorLine) -> Result<(), ImportError> {
        self.progress.failed.fetch_add(1, Ordering::Relaxed);
        self.errors.record(error)
    }

    /// Stores the batch; if a licence in it conflicts (its serial's reservation lapsed),
    /// stores them one by one so that only that one fails. Gives back failed builds'
    /// serials.
    async fn flush(&mut self) -> Result<(), ImportError> {
        let items = std::mem::take(&mut self.batch);
        if !items.is_empty() {
            match self.store.store_import_batch(&self.origin, &items, OffsetDateTime::now_utc()).await {
                Ok(outcomes) => self.account(&items, outcomes)?,
                Err(StoreError::Conflict(_)) => self.store_singly(items).await?,
                Err(e) => return Err(store_err(e)),
            }
        }
        let release = std::mem::take(&mut self.release);
        self.store.release_serials(&release).await.map_err(store_err)?;
        self.errors.flush()
    }

    async fn store_singly(&mut self, items: Vec<ImportedLicence>) -> Result<(), ImportError> {
        for item in items {
            let one = std::slice::from_ref(&item);
            match self.store.store_import_batch(&self.origin, one, OffsetDateTime::now_utc()).await {
                Ok(outcomes) => self.account(one, outcomes)?,
                Err(StoreError::Conflict(reason)) => {
                    let line =
                        ImportErrorLine { line: item.line_no, source_id: Some(item.source_id), reason };
                    self.release.push(item.reservation);
                    self.fail(&line)?;
                }
                Err(e) => return Err(store_err(e)),
            }
        }
        Ok(())
    }

    fn account(&mut self, items: &[ImportedLicence], outcomes: Vec<BatchOutcome>) -> Result<(), ImportError> {
        for (item, outcome) in items.iter().zip(outcomes) {
            match outcome {
                BatchOutcome::Issued => {
                    self.progress.issued.fetch_add(1, Ordering::Relaxed);
                    let doc = &item.licence.document;
                    self.document_bytes +=
                        (doc.pdf().map_or(0, <[u8]>::len) + doc.ofd().map_or(0, <[u8]>::len)) as u64;
                }
                BatchOutcome::Present(prior) => match judge_prior(&prior, &self.origin, item.line_no) {
                    Ok(()) => {
                        self.progress.skipped.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(line) => self.fail(&line)?,
                },
            }
        }
        Ok(())
    }
}
