//! Bulk import of existing licences (migration 0015): which licence each source record
//! became, stored with the licence in one transaction per batch, and the import jobs
//! started over HTTP with their first error lines.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;

use super::error::StoreError;
use super::issuing::{SerialReservation, end_reservations, give_back, insert_licences};
use super::licences::NewLicence;
use super::sql::{Backend, SqlStore, from_ts, insert_rows, placeholder_list, signed, ts, unsigned};

/// Most error lines kept per import job.
pub const MAX_JOB_ERRORS: usize = 1000;

/// A built licence of an import, with what it came from.
#[derive(Debug, Clone)]
pub struct ImportedLicence {
    /// The licence.
    pub licence: NewLicence,
    /// Its serial's reservation, ended when it is stored, given back when it is not.
    pub reservation: SerialReservation,
    /// The source system's record id.
    pub source_id: String,
    /// The line (or CSV record) it was read from, from 1.
    pub line_no: u64,
}

/// Where an import reads: the idempotency namespace and the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOrigin {
    /// The import source namespace: a source id is imported once per source.
    pub source: String,
    /// The input read (a file's path, or `job:<id>`).
    pub input: String,
}

/// A source record imported before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorImport {
    /// The source system's record id.
    pub source_id: String,
    /// The licence it became.
    pub licence_id: String,
    /// The input it was read from.
    pub input: String,
    /// Its line there.
    pub line_no: u64,
}

/// What storing one licence of a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Stored, with its source record.
    Issued,
    /// The source id was imported before (by this batch, this run or another): nothing
    /// stored, the serial given back.
    Present(PriorImport),
}

/// An import job's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobRecord {
    /// The job id.
    pub id: String,
    /// The API client that started it.
    pub client_id: Option<String>,
    /// The import source namespace.
    pub source: String,
    /// The input file (under the import directory).
    pub input: String,
    /// `running`, `done`, `failed` or `interrupted`.
    pub status: String,
    /// Lines read, licences issued, records imported before, lines failed.
    pub counts: ImportCounts,
    /// Why it failed or stopped.
    pub message: Option<String>,
    /// When it was started.
    pub created_at: OffsetDateTime,
    /// When its state was last written.
    pub updated_at: OffsetDateTime,
}

/// The counts of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    /// Lines (records) read.
    pub read: u64,
    /// Licences issued.
    pub issued: u64,
    /// Records imported before (skipped).
    pub skipped: u64,
    /// Lines that failed.
    pub failed: u64,
}

/// One failed line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportErrorLine {
    /// Its line number (a CSV record's line), from 1.
    pub line: u64,
    /// Its source id, if it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Why it failed.
    pub reason: String,
}

/// Import records and jobs. Each method is atomic.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Which of `source_ids` were imported before under `source`.
    async fn imported(&self, source: &str, source_ids: &[String]) -> Result<Vec<PriorImport>, StoreError>;
    /// Stores a batch of built licences in one transaction: for each, unless its source
    /// id is present already, ends its serial reservation, inserts the licence and its
    /// first event, and records its source id; a present one stores nothing and gives its
    /// serial back. Any failure stores nothing of the batch (reservations still held).
    async fn store_import_batch(
        &self,
        origin: &ImportOrigin,
        batch: &[ImportedLicence],
        now: OffsetDateTime,
    ) -> Result<Vec<BatchOutcome>, StoreError>;
    /// The database's size in bytes, to measure what licences cost to keep.
    async fn database_bytes(&self) -> Result<u64, StoreError>;
    /// Records a new import job.
    async fn insert_import_job(&self, job: &ImportJobRecord) -> Result<(), StoreError>;
    /// Writes a job's status, counts and message.
    async fn update_import_job(&self, job: &ImportJobRecord) -> Result<(), StoreError>;
    /// Adds error lines to a job, up to [`MAX_JOB_ERRORS`] in all (a line recorded before
    /// is kept as it was).
    async fn add_import_errors(&self, job_id: &str, errors: &[ImportErrorLine]) -> Result<(), StoreError>;
    /// A job.
    async fn import_job(&self, id: &str) -> Result<Option<ImportJobRecord>, StoreError>;
    /// A job's error lines, by line number.
    async fn import_errors(&self, id: &str) -> Result<Vec<ImportErrorLine>, StoreError>;
    /// Marks every running job interrupted (at start-up: no job runs before); returns how
    /// many.
    async fn interrupt_import_jobs(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

fn prior_from_row(row: &AnyRow) -> Result<PriorImport, StoreError> {
    Ok(PriorImport {
        source_id: row.try_get("source_id")?,
        licence_id: row.try_get("licence_id")?,
        input: row.try_get("input")?,
        line_no: unsigned("line", row.try_get("line_no")?)?,
    })
}

/// Rows per multi-row insert of import records (6 parameters each).
const RECORDS_PER_INSERT: usize = 500;

/// Source ids one lookup asks for at most: well under either database's limit of
/// parameters per statement.
const IMPORTED_PER_QUERY: usize = 500;

/// The import records of `source_ids` (at most [`IMPORTED_PER_QUERY`]) under `source`.
async fn imported_rows<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    source: &str,
    source_ids: &[String],
) -> Result<Vec<AnyRow>, StoreError> {
    // Only placeholders are formatted in; the values are bound.
    let mut query = sqlx::query(sqlx::AssertSqlSafe(imported_query(source_ids.len()))).bind(source);
    for id in source_ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(executor).await?)
}

/// Stores a batch inside `tx` (see [`ImportStore::store_import_batch`]) in a few
/// statements for the whole batch, not a few per licence: which source ids are present
/// (stored before, by a concurrent import of the same source too), then the others'
/// reservations, licences, first events and import records, several rows a statement. A
/// source id twice in the batch is present the second time, as the first one's.
async fn store_batch(
    tx: &mut Transaction<'static, Any>,
    origin: &ImportOrigin,
    batch: &[ImportedLicence],
    now: OffsetDateTime,
) -> Result<Vec<BatchOutcome>, StoreError> {
    let ids: Vec<String> = batch.iter().map(|item| item.source_id.clone()).collect();
    let mut present: HashMap<String, PriorImport> = HashMap::with_capacity(batch.len());
    for chunk in ids.chunks(IMPORTED_PER_QUERY) {
        for row in imported_rows(&mut **tx, &origin.source, chunk).await? {
            let prior = prior_from_row(&row)?;
            present.insert(prior.source_id.clone(), prior);
        }
    }
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut new = Vec::with_capacity(batch.len());
    for item in batch {
        if let Some(prior) = present.get(&item.source_id) {
            give_back(tx, &item.reservation).await?;
            outcomes.push(BatchOutcome::Present(prior.clone()));
            continue;
        }
        let first = PriorImport {
            source_id: item.source_id.clone(),
            licence_id: item.licence.id.clone(),
            input: origin.input.clone(),
            line_no: item.line_no,
        };
        present.insert(item.source_id.clone(), first);
        new.push(item);
        outcomes.push(BatchOutcome::Issued);
    }
    let reservations: Vec<&SerialReservation> = new.iter().map(|item| &item.reservation).collect();
    end_reservations(tx, &reservations).await?;
    let licences: Vec<&NewLicence> = new.iter().map(|item| &item.licence).collect();
    insert_licences(tx, &licences).await?;
    let insert =
        "INSERT INTO import_records (source, source_id, licence_id, input, line_no, imported_at) VALUES";
    insert_rows(tx, insert, (6, RECORDS_PER_INSERT), &new, |query, item| {
        Ok(query
            .bind(&origin.source)
            .bind(&item.source_id)
            .bind(&item.licence.id)
            .bind(&origin.input)
            .bind(signed("line", item.line_no)?)
            .bind(ts(now)))
    })
    .await?;
    Ok(outcomes)
}

fn job_from_row(row: &AnyRow) -> Result<ImportJobRecord, StoreError> {
    Ok(ImportJobRecord {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        source: row.try_get("source")?,
        input: row.try_get("input")?,
        status: row.try_get("status")?,
        counts: ImportCounts {
            read: unsigned("read", row.try_get("read_count")?)?,
            issued: unsigned("issued", row.try_get("issued")?)?,
            skipped: unsigned("skipped", row.try_get("skipped")?)?,
            failed: unsigned("failed", row.try_get("failed")?)?,
        },
        message: row.try_get("message")?,
        created_at: from_ts(row.try_get("created_at")?)?,
        updated_at: from_ts(row.try_get("updated_at")?)?,
    })
}

/// The statement [`ImportStore::imported`] asks with for `ids` source ids: `$1` the source,
/// `$2`… the ids. Public so that a test can have PostgreSQL explain the very statement: its
/// key must answer each id with a probe whatever the plan (migration 0018).
pub fn imported_query(ids: usize) -> String {
    format!(
        "SELECT source_id, licence_id, input, line_no FROM import_records \
         WHERE source = $1 AND source_id IN ({})",
        placeholder_list(2, ids)
    )
}

#[async_trait]
impl ImportStore for SqlStore {
    async fn imported(&self, source: &str, source_ids: &[String]) -> Result<Vec<PriorImport>, StoreError> {
        let mut found = Vec::new();
        for chunk in source_ids.chunks(IMPORTED_PER_QUERY) {
            for row in imported_rows(&self.pool, source, chunk).await? {
                found.push(prior_from_row(&row)?);
            }
        }
        Ok(found)
    }

    async fn store_import_batch(
        &self,
        origin: &ImportOrigin,
        batch: &[ImportedLicence],
        now: OffsetDateTime,
    ) -> Result<Vec<BatchOutcome>, StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        let outcomes = store_batch(&mut tx, origin, batch, now).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn database_bytes(&self) -> Result<u64, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database()) AS bytes",
        };
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        unsigned("database size", row.try_get("bytes")?)
    }

    async fn insert_import_job(&self, job: &ImportJobRecord) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        sqlx::query(
            "INSERT INTO import_jobs (id, client_id, source, input, status, message, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&job.id)
        .bind(job.client_id.clone())
        .bind(&job.source)
        .bind(&job.input)
        .bind(&job.status)
        .bind(job.message.clone())
        .bind(ts(job.created_at))
        .bind(ts(job.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn update_import_job(&self, job: &ImportJobRecord) -> Result<(), StoreError> {
        let c = job.counts;
        let _turn = self.writer.enter().await;
        sqlx::query(
            "UPDATE import_jobs SET status = $2, read_count = $3, issued = $4, skipped = $5, failed = $6, \
             message = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(&job.id)
        .bind(&job.status)
        .bind(signed("read", c.read)?)
        .bind(signed("issued", c.issued)?)
        .bind(signed("skipped", c.skipped)?)
        .bind(signed("failed", c.failed)?)
        .bind(job.message.clone())
        .bind(ts(job.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_import_errors(&self, job_id: &str, errors: &[ImportErrorLine]) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM import_errors WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?;
        let have = usize::try_from(row.try_get::<i64, _>("n")?).unwrap_or(MAX_JOB_ERRORS);
        for e in errors.iter().take(MAX_JOB_ERRORS.saturating_sub(have)) {
            sqlx::query(
                "INSERT INTO import_errors (job_id, line_no, source_id, reason) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (job_id, line_no) DO NOTHING",
            )
            .bind(job_id)
            .bind(signed("line", e.line)?)
            .bind(e.source_id.clone())
            .bind(&e.reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn import_job(&self, id: &str) -> Result<Option<ImportJobRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, client_id, source, input, status, read_count, issued, skipped, failed, message, \
             created_at, updated_at FROM import_jobs WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn import_errors(&self, id: &str) -> Result<Vec<ImportErrorLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT line_no, source_id, reason FROM import_errors WHERE job_id = $1 ORDER BY line_no",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ImportErrorLine {
                    line: unsigned("line", row.try_get("line_no")?)?,
                    source_id: row.try_get("source_id")?,
                    reason: row.try_get("reason")?,
                })
            })
            .collect()
    }

    async fn interrupt_import_jobs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let _turn = self.writer.enter().await;
        let done = sqlx::query(
            "UPDATE import_jobs SET status = 'interrupted', message = 'the service stopped during the job; \
             start it again with the same source to resume', updated_at = $1 WHERE status = 'running'",
        )
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
