//! Import jobs over HTTP (`POST /api/v1/imports`): a JSONL body uploaded (kept as a file
//! under the import directory) or a file named relative to the import directory, run in
//! the background by the same engine as `zhengzhao import`, its state and first error
//! lines kept in the store. A job running when the service stops is marked interrupted
//! at the next start; posting the same file with the same source again resumes it (every
//! record already imported is skipped).

use std::io::BufReader;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::rand::SecureRandom;
use time::OffsetDateTime;

use crate::store::{ImportCounts, ImportErrorLine, ImportJobRecord, ImportOrigin, MAX_JOB_ERRORS};

use super::super::Platform;
use super::super::error::PlatformError;
use super::{ErrorSink, ImportError, ImportOptions, ImportProgress, InputFormat, run_import};

/// Largest JSONL body `POST /api/v1/imports` takes (64 MiB); larger files go in the import
/// directory and are named by path.
pub const MAX_IMPORT_UPLOAD: usize = 64 << 20;
/// How often a running job's counts are written.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// What a job imports.
#[derive(Debug)]
pub enum ImportJobInput {
    /// An uploaded JSONL body.
    Upload(Vec<u8>),
    /// A file, relative to the import directory.
    Path(String),
}

/// A job as `GET /api/v1/imports/{id}` shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportJobView {
    /// The job id.
    pub id: String,
    /// The import source namespace.
    pub source: String,
    /// `running`, `done`, `failed` or `interrupted`.
    pub status: String,
    /// Lines read, licences issued, records imported before (skipped), lines failed.
    pub counts: ImportCounts,
    /// Why it failed or stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it started (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: OffsetDateTime,
    /// When its state was last written (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub updated_at: OffsetDateTime,
    /// The first failed lines (up to 1000).
    pub errors: Vec<ImportErrorLine>,
}

/// Error lines gathered for the job's record.
#[derive(Debug, Default)]
struct JobErrors(Arc<Mutex<Vec<ImportErrorLine>>>);

impl ErrorSink for JobErrors {
    fn record(&mut self, error: &ImportErrorLine) -> Result<(), ImportError> {
        if let Ok(mut lines) = self.0.lock()
            && lines.len() < MAX_JOB_ERRORS
        {
            lines.push(error.clone());
        }
        Ok(())
    }
}

/// An import source name: 1–64 of `A-Z a-z 0-9 . _ : -`.
pub fn check_source(source: &str) -> Result<String, PlatformError> {
    let ok = !source.is_empty()
        && source.len() <= 64
        && source.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
    if !ok {
        return Err(PlatformError::InvalidInput {
            field: "source",
            message: "an import source is 1–64 of A-Z a-z 0-9 . _ : -".into(),
        });
    }
    Ok(source.to_owned())
}

/// `relative` under `dir`, refusing absolute paths, `..` and symbolic links that lead out.
fn under(dir: &Path, relative: &str) -> Result<PathBuf, PlatformError> {
    let invalid = |message: &str| PlatformError::InvalidInput { field: "path", message: message.into() };
    let rel = Path::new(relative);
    if relative.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(invalid("a path relative to the import directory, without `..`"));
    }
    let base = dir.canonicalize().map_err(|_| invalid("the import directory does not exist"))?;
    let path = base.join(rel).canonicalize().map_err(|_| invalid("no such file in the import directory"))?;
    if !path.starts_with(&base) || !path.is_file() {
        return Err(invalid("not a file in the import directory"));
    }
    Ok(path)
}

fn random_id() -> Result<String, PlatformError> {
    let mut bytes = [0u8; 12];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| PlatformError::Rng)?;
    Ok(hex::encode(bytes))
}

impl Platform {
    /// Starts an import job for `client_id` under `source` (required for an upload; for a
    /// path, default its file stem); returns its id at once.
    pub async fn start_import(
        &self,
        client_id: Option<String>,
        source: Option<String>,
        input: ImportJobInput,
        now: OffsetDateTime,
    ) -> Result<String, PlatformError> {
        let id = random_id()?;
        let dir = &self.config.import_dir;
        let (path, source) = match input {
            ImportJobInput::Path(rel) => {
                let path = under(dir, &rel)?;
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("import").to_owned();
                (path, source.unwrap_or(stem))
            }
            ImportJobInput::Upload(body) => {
                let source = source.ok_or_else(|| PlatformError::InvalidInput {
                    field: "source",
                    message:
                        "an uploaded import names its source (?source=NAME): the namespace of its source ids"
                            .into(),
                })?;
                let uploads = dir.join("uploads");
                std::fs::create_dir_all(&uploads)
                    .map_err(|e| PlatformError::Io(format!("import directory: {e}")))?;
                let path = uploads.join(format!("{id}.jsonl"));
                tokio::fs::write(&path, body).await.map_err(|e| PlatformError::Io(format!("upload: {e}")))?;
                (path, source)
            }
        };
        let source = check_source(&source)?;
        let record = ImportJobRecord {
            id: id.clone(),
            client_id,
            source: source.clone(),
            input: path.display().to_string(),
            status: "running".into(),
            counts: ImportCounts::default(),
            message: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_import_job(&record).await?;
        let platform = self.clone();
        tokio::spawn(async move { platform.run_job(record, path).await });
        Ok(id)
    }

    /// Runs a job to its end, writing its counts and error lines as it goes.
    async fn run_job(self, mut record: ImportJobRecord, path: PathBuf) {
        let origin = ImportOrigin { source: record.source.clone(), input: record.input.clone() };
        let options = ImportOptions::new(origin, InputFormat::Jsonl);
        let progress = Arc::new(ImportProgress::default());
        let errors = Arc::new(Mutex::new(Vec::new()));
        let outcome = match std::fs::File::open(&path) {
            Err(e) => Err(ImportError::Input(format!("{}: {e}", path.display()))),
            Ok(file) => {
                let input = Box::new(BufReader::new(file));
                let sink = Box::new(JobErrors(errors.clone()));
                let run = run_import(&self, input, &options, progress.clone(), sink);
                tokio::pin!(run);
                loop {
                    tokio::select! {
                        done = &mut run => break done.map(|_| ()),
                        () = tokio::time::sleep(SAVE_EVERY) => {
                            record.counts = progress.counts();
                            self.save_job(&mut record, &errors).await;
                        }
                    }
                }
            }
        };
        record.counts = progress.counts();
        (record.status, record.message) = match outcome {
            Ok(()) => ("done".into(), None),
            Err(e) => ("failed".into(), Some(e.to_string())),
        };
        self.save_job(&mut record, &errors).await;
    }

    async fn save_job(&self, record: &mut ImportJobRecord, errors: &Mutex<Vec<ImportErrorLine>>) {
        record.updated_at = OffsetDateTime::now_utc();
        let lines = errors.lock().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default();
        if let Err(e) = self.store.add_import_errors(&record.id, &lines).await {
            tracing::warn!(job = record.id, "could not record an import job's error lines: {e}");
        }
        if let Err(e) = self.store.update_import_job(record).await {
            tracing::warn!(job = record.id, "could not record an import job's state: {e}");
        }
    }

    /// An import job with its first error lines: only to the client that started it.
    pub async fn import_job(
        &self,
        id: &str,
        client_id: Option<&str>,
    ) -> Result<ImportJobView, PlatformError> {
        let job = self
            .store
            .import_job(id)
            .await?
            .filter(|j| client_id.is_none() || j.client_id.as_deref() == client_id)
            .ok_or_else(|| PlatformError::NotFound(format!("import job {id}")))?;
        let errors = self.store.import_errors(id).await?;
        Ok(ImportJobView {
            id: job.id,
            source: job.source,
            status: job.status,
            counts: job.counts,
            message: job.message,
            created_at: job.created_at,
            updated_at: job.updated_at,
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_import_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jsonl"), b"").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(under(dir.path(), "a.jsonl").is_ok());
        for bad in ["../a.jsonl", "/etc/passwd", "sub/../a.jsonl", "", "sub", "missing.jsonl", "./a.jsonl"] {
            assert!(under(dir.path(), bad).is_err(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
            assert!(under(dir.path(), "link").is_err());
        }
    }

    #[test]
    fn sources_are_short_names() {
        assert!(check_source("registry-2019:food").is_ok());
        for bad in ["", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_source(bad).is_err(), "{bad}");
        }
    }
}
