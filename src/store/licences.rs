//! The licences role: the register's licences, their history and status changes, and
//! the listing by holder, type, status and issuer. Issuing (serials, idempotency, the
//! storing transaction) is the issuing role's, in `issuing.rs`.

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;

use super::error::StoreError;
use super::sql::{SqlStore, corrupt, from_ts, licence_status, ts};
use crate::licence::{Document, DocumentKind, LicenceStatus};

/// A licence about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLicence {
    /// 电子证照标识.
    pub id: String,
    /// Type code.
    pub type_code: String,
    /// Issuer's 统一社会信用代码.
    pub issuer_code: String,
    /// Serial.
    pub serial: String,
    /// Version.
    pub version: u16,
    /// Holder code.
    pub holder_code: String,
    /// `001` or `111`.
    pub holder_code_type: String,
    /// Holder name.
    pub holder_name: String,
    /// Seal that signed it.
    pub seal_id: String,
    /// Issue time.
    pub issued_at: OffsetDateTime,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD`, `None` for long-term.
    pub valid_until: Option<String>,
    /// Deterministic CBOR of the record.
    pub record_cbor: Vec<u8>,
    /// SHA-256 of `record_cbor`.
    pub record_hash: Vec<u8>,
    /// The COSE token.
    pub token: Vec<u8>,
    /// The signed documents: PDF, OFD, both, or none for a data-only licence.
    pub document: Document,
    /// The SM2 seal that signed the OFD, if there is one (for `ofd` alone, `seal_id`).
    pub ofd_seal_id: Option<String>,
    /// The version it replaces.
    pub replaces: Option<String>,
    /// The API client that asked for it (`None` from the command line).
    pub client_id: Option<String>,
}

/// A stored licence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRow {
    /// What was stored.
    pub licence: NewLicence,
    /// Current stored status (expiry by date is the caller's to apply).
    pub status: LicenceStatus,
    /// The newer version that replaced it.
    pub superseded_by: Option<String>,
}

/// One change in a licence's life.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LicenceEvent {
    /// Position in the licence's history, from 1.
    pub seq: u64,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `issued`, `status`, `renewed` (a new version replaced it) or `renewal` (it replaces one).
    pub kind: String,
    /// Status before.
    pub from_status: Option<LicenceStatus>,
    /// Status after.
    pub to_status: LicenceStatus,
    /// Why.
    pub reason: String,
    /// Who: a client id, or `operator`.
    pub actor: String,
}

/// Filters of a licence listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LicenceFilter {
    /// Holder code type (`001`, `111`).
    pub holder_code_type: Option<String>,
    /// Holder code.
    pub holder_code: Option<String>,
    /// Type code.
    pub type_code: Option<String>,
    /// Stored status.
    pub status: Option<LicenceStatus>,
    /// Only licences issued by this department.
    pub issuer_code: Option<String>,
    /// Continue after this identifier (cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// The register's licences and their history. Each method is atomic.
#[async_trait]
pub trait LicenceStore: Send + Sync {
    /// One licence with its PDF and token.
    async fn licence(&self, id: &str) -> Result<Option<LicenceRow>, StoreError>;
    /// Licences matching a filter, ordered by identifier, after the cursor.
    async fn licences(&self, filter: &LicenceFilter) -> Result<Vec<LicenceRow>, StoreError>;
    /// Changes a licence's status from `from` and records the event, atomically;
    /// conflict if the status is no longer `from`.
    async fn change_status(
        &self,
        id: &str,
        from: LicenceStatus,
        event: &LicenceEvent,
    ) -> Result<(), StoreError>;
    /// A licence's history, oldest first.
    async fn licence_events(&self, id: &str) -> Result<Vec<LicenceEvent>, StoreError>;
    /// Stores the documents of a licence whose documents were deferred
    /// ([`Document::Deferred`]), made now; `false` (and nothing changed) if another
    /// download stored them first or the licence has none deferred.
    async fn complete_deferred(&self, id: &str, document: &Document) -> Result<bool, StoreError>;
}

/// The columns written when a licence is issued.
macro_rules! licence_columns {
    () => {
        "id, type_code, issuer_code, serial, version, holder_code, holder_code_type, holder_name, seal_id, \
         status, issued_at, valid_from, valid_until, record_cbor, record_hash, token, pdf, replaces, client_id, \
         document, ofd, ofd_seal_id, deferred"
    };
}
/// The columns read back: the written ones and what changes later.
macro_rules! licence_select {
    () => {
        concat!(licence_columns!(), ", superseded_by")
    };
}
pub(super) use licence_columns;

pub(super) fn licence_from_row(row: &AnyRow) -> Result<LicenceRow, StoreError> {
    let version: i64 = row.try_get("version")?;
    let status: String = row.try_get("status")?;
    Ok(LicenceRow {
        licence: NewLicence {
            id: row.try_get("id")?,
            type_code: row.try_get("type_code")?,
            issuer_code: row.try_get("issuer_code")?,
            serial: row.try_get("serial")?,
            version: u16::try_from(version).map_err(|e| corrupt("version", e))?,
            holder_code: row.try_get("holder_code")?,
            holder_code_type: row.try_get("holder_code_type")?,
            holder_name: row.try_get("holder_name")?,
            seal_id: row.try_get("seal_id")?,
            issued_at: from_ts(row.try_get("issued_at")?)?,
            valid_from: row.try_get("valid_from")?,
            valid_until: row.try_get("valid_until")?,
            record_cbor: row.try_get("record_cbor")?,
            record_hash: row.try_get("record_hash")?,
            token: row.try_get("token")?,
            document: document_from_row(row)?,
            ofd_seal_id: row.try_get("ofd_seal_id")?,
            replaces: row.try_get("replaces")?,
            client_id: row.try_get("client_id")?,
        },
        status: licence_status(&status)?,
        superseded_by: row.try_get("superseded_by")?,
    })
}

/// The `document`, `pdf` and `ofd` columns as a [`Document`]: `document` says whether the
/// licence has a PDF (`pdf`, then in `pdf`, or `none`: the columns predate the OFD and stay
/// NOT NULL), `ofd` holds the OFD or is empty.
fn document_from_row(row: &AnyRow) -> Result<Document, StoreError> {
    let kind: String = row.try_get("document")?;
    let pdf: Vec<u8> = row.try_get("pdf")?;
    let ofd: Vec<u8> = row.try_get("ofd")?;
    let deferred: Option<String> = row.try_get("deferred")?;
    let has_pdf = match kind.parse::<DocumentKind>().map_err(|e| corrupt("document", e))? {
        DocumentKind::Pdf => true,
        DocumentKind::None => false,
        other => return Err(StoreError::Corrupt(format!("document column {other} (pdf or none expected)"))),
    };
    if has_pdf == pdf.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "a licence with document {kind} has {} bytes of PDF",
            pdf.len()
        )));
    }
    if let Some(deferred) = deferred {
        if has_pdf || !ofd.is_empty() {
            return Err(StoreError::Corrupt("a licence with deferred documents has documents".into()));
        }
        let kind = deferred.parse::<DocumentKind>().map_err(|e| corrupt("deferred", e))?;
        return Ok(Document::Deferred(kind));
    }
    Ok(Document::of(has_pdf.then_some(pdf), (!ofd.is_empty()).then_some(ofd)))
}

/// The `pdf`, `document`, `ofd` and `deferred` column values of `document`.
pub(super) fn document_columns(document: &Document) -> (&[u8], &'static str, &[u8], Option<&'static str>) {
    let pdf = document.pdf().unwrap_or_default();
    let has_pdf = if pdf.is_empty() { DocumentKind::None } else { DocumentKind::Pdf };
    let deferred = document.deferred().map(DocumentKind::as_str);
    (pdf, has_pdf.as_str(), document.ofd().unwrap_or_default(), deferred)
}

fn event_from_row(row: &AnyRow) -> Result<LicenceEvent, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let from: Option<String> = row.try_get("from_status")?;
    let to: String = row.try_get("to_status")?;
    Ok(LicenceEvent {
        seq: seq as u64,
        at: from_ts(row.try_get("at")?)?,
        kind: row.try_get("kind")?,
        from_status: from.as_deref().map(licence_status).transpose()?,
        to_status: licence_status(&to)?,
        reason: row.try_get("reason")?,
        actor: row.try_get("actor")?,
    })
}

/// Appends an event to a licence's history inside `tx`.
pub(super) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    licence_id: &str,
    event: &LicenceEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO licence_events (licence_id, seq, at, kind, from_status, to_status, reason, actor) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM licence_events WHERE licence_id = $1",
    )
    .bind(licence_id)
    .bind(ts(event.at))
    .bind(&event.kind)
    .bind(event.from_status.map(|s| s.code()))
    .bind(event.to_status.code())
    .bind(&event.reason)
    .bind(&event.actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The stored status of a licence, read inside `tx`.
pub(super) async fn status_in(
    tx: &mut Transaction<'static, Any>,
    id: &str,
) -> Result<LicenceStatus, StoreError> {
    let row = sqlx::query("SELECT status FROM licences WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
    licence_status(&row.try_get::<String, _>("status")?)
}

#[async_trait]
impl LicenceStore for SqlStore {
    async fn licence(&self, id: &str) -> Result<Option<LicenceRow>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", licence_select!(), " FROM licences WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(licence_from_row).transpose()
    }

    async fn licences(&self, f: &LicenceFilter) -> Result<Vec<LicenceRow>, StoreError> {
        // Only the filters given go into the statement, so that both databases can use the
        // holder index (an `$n IS NULL OR col = $n` form makes SQLite scan the table).
        // Placeholders are `$n`: the `Any` driver passes them to both databases as they are.
        let mut sql = String::from(concat!("SELECT ", licence_select!(), " FROM licences WHERE TRUE"));
        let mut values = vec![];
        let conditions = [
            ("holder_code_type = ", f.holder_code_type.clone()),
            ("holder_code = ", f.holder_code.clone()),
            ("type_code = ", f.type_code.clone()),
            ("status = ", f.status.map(|s| s.code().to_owned())),
            ("issuer_code = ", f.issuer_code.clone()),
            ("id > ", f.after.clone()),
        ];
        for (condition, value) in conditions {
            if let Some(value) = value {
                values.push(value);
                // `condition` is one of the literals above, never outside input.
                sql.push_str(&format!(" AND {condition}${}", values.len()));
            }
        }
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", values.len() + 1));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in values {
            query = query.bind(value);
        }
        let rows = query.bind(i64::from(f.limit)).fetch_all(&self.pool).await?;
        rows.iter().map(licence_from_row).collect()
    }

    async fn change_status(
        &self,
        id: &str,
        from: LicenceStatus,
        event: &LicenceEvent,
    ) -> Result<(), StoreError> {
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE licences SET status = $3 WHERE id = $1 AND status = $2")
            .bind(id)
            .bind(from.code())
            .bind(event.to_status.code())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!("licence {id} changed meanwhile; read it again")));
        }
        insert_event(&mut tx, id, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn licence_events(&self, id: &str) -> Result<Vec<LicenceEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, from_status, to_status, reason, actor FROM licence_events \
             WHERE licence_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn complete_deferred(&self, id: &str, document: &Document) -> Result<bool, StoreError> {
        if document.deferred().is_some() || document.kind() == DocumentKind::None {
            return Err(StoreError::Conflict("completing deferred documents needs the documents".into()));
        }
        let (pdf, kind, ofd, _) = document_columns(document);
        let _turn = self.writer.enter().await;
        let done = sqlx::query(
            "UPDATE licences SET pdf = $2, document = $3, ofd = $4, deferred = NULL \
             WHERE id = $1 AND deferred IS NOT NULL",
        )
        .bind(id)
        .bind(pdf)
        .bind(kind)
        .bind(ofd)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
