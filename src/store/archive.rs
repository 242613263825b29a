//! Archive renewal's view of the register: which licences' PDFs need a new document
//! time-stamp, their PDFs, and replacing a PDF with its renewal — only if nobody renewed
//! it meanwhile (the stored `archive_until` is the version checked).

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, from_ts, ts};

/// A licence whose PDF may need renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDue {
    /// The licence identifier.
    pub id: String,
    /// Until when its newest document time-stamp carries the proof, if known.
    pub archive_until: Option<OffsetDateTime>,
}

/// Archive renewal: see the module.
#[async_trait]
pub trait ArchiveStore {
    /// Up to `limit` licences with a PDF whose `archive_until` is unknown or before
    /// `before`, with identifiers after `after` (a cursor), in identifier order.
    async fn archive_due(
        &self,
        before: OffsetDateTime,
        after: &str,
        limit: u32,
    ) -> Result<Vec<ArchiveDue>, StoreError>;

    /// A licence's stored PDF and its `archive_until`; `None` without a PDF.
    async fn archived_pdf(&self, id: &str) -> Result<Option<(Vec<u8>, Option<OffsetDateTime>)>, StoreError>;

    /// Records `until` for licence `id`, and replaces its PDF with `pdf` when given —
    /// only if its `archive_until` is still `expected`. Whether it did (false: another
    /// renewal got there first, or the licence has no PDF).
    async fn keep_archive(
        &self,
        id: &str,
        expected: Option<OffsetDateTime>,
        pdf: Option<&[u8]>,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// `archive_until` as stored, with -1 for NULL in comparisons.
fn version(t: Option<OffsetDateTime>) -> i64 {
    t.map_or(-1, ts)
}

#[async_trait]
impl ArchiveStore for SqlStore {
    async fn archive_due(
        &self,
        before: OffsetDateTime,
        after: &str,
        limit: u32,
    ) -> Result<Vec<ArchiveDue>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, archive_until FROM licences WHERE document = 'pdf' \
             AND (archive_until IS NULL OR archive_until < $1) AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(ts(before))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let until: Option<i64> = r.try_get("archive_until")?;
                Ok(ArchiveDue { id: r.try_get("id")?, archive_until: until.map(from_ts).transpose()? })
            })
            .collect()
    }

    async fn archived_pdf(&self, id: &str) -> Result<Option<(Vec<u8>, Option<OffsetDateTime>)>, StoreError> {
        let row = sqlx::query("SELECT pdf, archive_until FROM licences WHERE id = $1 AND document = 'pdf'")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let until: Option<i64> = r.try_get("archive_until")?;
            Ok((r.try_get("pdf")?, until.map(from_ts).transpose()?))
        })
        .transpose()
    }

    async fn keep_archive(
        &self,
        id: &str,
        expected: Option<OffsetDateTime>,
        pdf: Option<&[u8]>,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _turn = self.writer.enter().await;
        // Without a new file the PDF stays as it is (COALESCE of NULL).
        let done = sqlx::query(
            "UPDATE licences SET pdf = COALESCE($1, pdf), archive_until = $2 WHERE id = $3 \
             AND document = 'pdf' AND COALESCE(archive_until, -1) = $4",
        )
        .bind(pdf)
        .bind(ts(until))
        .bind(id)
        .bind(version(expected))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
