//! The bundles of 一件事一次办: a bundle and all its licences are stored in ONE
//! transaction (every licence or none), with the receipt and the idempotency key of the
//! request that issued them.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};
use time::OffsetDateTime;

use super::error::StoreError;
use super::issuing::{IdempotencyClaim, SerialReservation, end_reservation, insert_licence};
use super::licences::NewLicence;
use super::sql::{SqlStore, from_ts, is_unique_violation, ts};

/// What a bundle states, as issued and as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRecord {
    /// The bundle identifier.
    pub id: String,
    /// The matter (一件事) code.
    pub matter_code: String,
    /// The matter name.
    pub matter_name: String,
    /// The applicant.
    pub applicant_name: String,
    /// The applicant's code.
    pub applicant_code: String,
    /// The seal that signed the receipt and its token.
    pub receipt_seal_id: String,
    /// When it was issued.
    pub created_at: OffsetDateTime,
    /// The receipt's QR token.
    pub token: Vec<u8>,
}

/// A bundle about to be stored, with its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBundle {
    /// What it states.
    pub record: BundleRecord,
    /// The request's client, key and request hash.
    pub idempotency: IdempotencyClaim,
    /// The signed receipt PDF.
    pub receipt_pdf: Vec<u8>,
}

/// A stored bundle (without its receipt PDF: [`BundleStore::bundle_receipt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleRow {
    /// What it states.
    pub record: BundleRecord,
    /// The one-window client that issued it.
    pub client_id: String,
    /// Its licences' identifiers, in the request's order.
    pub licence_ids: Vec<String>,
}

/// What [`BundleStore::store_bundle`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleOutcome {
    /// Stored now.
    Stored(BundleRow),
    /// A concurrent request with the same idempotency key stored first: its bundle.
    Replayed(BundleRow),
}

/// Bundles and their receipts.
#[async_trait]
pub trait BundleStore: Send + Sync {
    /// The bundle an idempotency key issued: `Some` for the same request hash, `None` if
    /// the key is unused by bundles, [`StoreError::Conflict`] for another request.
    async fn replay_bundle(&self, claim: &IdempotencyClaim) -> Result<Option<BundleRow>, StoreError>;
    /// Stores the bundle and every licence in one transaction: each licence's serial
    /// reservation ended, the licence and its issue event inserted, then the bundle, its
    /// licence list and its key. Any failure stores nothing (the reservations stay held:
    /// release them). A concurrent request with the same key that stored first gives
    /// [`BundleOutcome::Replayed`].
    async fn store_bundle(
        &self,
        bundle: NewBundle,
        licences: Vec<(SerialReservation, NewLicence)>,
    ) -> Result<BundleOutcome, StoreError>;
    /// A bundle by identifier.
    async fn bundle(&self, id: &str) -> Result<Option<BundleRow>, StoreError>;
    /// A bundle's signed receipt PDF.
    async fn bundle_receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

macro_rules! bundle_columns {
    () => {
        "id, client_id, matter_code, matter_name, applicant_name, applicant_code, receipt_seal_id, created_at, token"
    };
}

fn bundle_from_row(row: &AnyRow, licence_ids: Vec<String>) -> Result<BundleRow, StoreError> {
    Ok(BundleRow {
        record: BundleRecord {
            id: row.try_get("id")?,
            matter_code: row.try_get("matter_code")?,
            matter_name: row.try_get("matter_name")?,
            applicant_name: row.try_get("applicant_name")?,
            applicant_code: row.try_get("applicant_code")?,
            receipt_seal_id: row.try_get("receipt_seal_id")?,
            created_at: from_ts(row.try_get("created_at")?)?,
            token: row.try_get("token")?,
        },
        client_id: row.try_get("client_id")?,
        licence_ids,
    })
}

impl SqlStore {
    async fn bundle_licence_ids(&self, id: &str) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT licence_id FROM bundle_licences WHERE bundle_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| r.try_get("licence_id").map_err(StoreError::from)).collect()
    }

    async fn insert_bundle(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        b: &NewBundle,
        licence_ids: &[String],
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO bundles (id, client_id, idempotency_key, request_hash, matter_code, matter_name, \
             applicant_name, applicant_code, receipt_seal_id, created_at, token, receipt_pdf) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&b.record.id)
        .bind(&b.idempotency.client_id)
        .bind(&b.idempotency.key)
        .bind(b.idempotency.request_hash.clone())
        .bind(&b.record.matter_code)
        .bind(&b.record.matter_name)
        .bind(&b.record.applicant_name)
        .bind(&b.record.applicant_code)
        .bind(&b.record.receipt_seal_id)
        .bind(ts(b.record.created_at))
        .bind(b.record.token.clone())
        .bind(b.receipt_pdf.clone())
        .execute(&mut **tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(StoreError::Database(e)),
        }
        for (position, licence_id) in licence_ids.iter().enumerate() {
            sqlx::query("INSERT INTO bundle_licences (bundle_id, position, licence_id) VALUES ($1, $2, $3)")
                .bind(&b.record.id)
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(licence_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(true)
    }
}

#[async_trait]
impl BundleStore for SqlStore {
    async fn replay_bundle(&self, claim: &IdempotencyClaim) -> Result<Option<BundleRow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT request_hash, ",
            bundle_columns!(),
            " FROM bundles WHERE client_id = $1 AND idempotency_key = $2"
        ))
        .bind(&claim.client_id)
        .bind(&claim.key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        claim.matches(&row, "bundle request")?;
        let id: String = row.try_get("id")?;
        Ok(Some(bundle_from_row(&row, self.bundle_licence_ids(&id).await?)?))
    }

    async fn store_bundle(
        &self,
        bundle: NewBundle,
        licences: Vec<(SerialReservation, NewLicence)>,
    ) -> Result<BundleOutcome, StoreError> {
        let licence_ids: Vec<String> = licences.iter().map(|(_, l)| l.id.clone()).collect();
        let _turn = self.writer.enter().await;
        let mut tx = self.pool.begin().await?;
        for (reservation, licence) in &licences {
            end_reservation(&mut tx, reservation).await?;
            insert_licence(&mut tx, licence).await?;
        }
        if !Self::insert_bundle(&mut tx, &bundle, &licence_ids).await? {
            tx.rollback().await?;
            return match self.replay_bundle(&bundle.idempotency).await? {
                Some(row) => Ok(BundleOutcome::Replayed(row)),
                None => Err(StoreError::Conflict(format!("bundle {} exists already", bundle.record.id))),
            };
        }
        tx.commit().await?;
        let mut record = bundle.record;
        record.created_at = from_ts(ts(record.created_at))?;
        Ok(BundleOutcome::Stored(BundleRow { record, client_id: bundle.idempotency.client_id, licence_ids }))
    }

    async fn bundle(&self, id: &str) -> Result<Option<BundleRow>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", bundle_columns!(), " FROM bundles WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(bundle_from_row(&row, self.bundle_licence_ids(id).await?)?)),
            None => Ok(None),
        }
    }

    async fn bundle_receipt(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT receipt_pdf FROM bundles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("receipt_pdf").map_err(StoreError::from)).transpose()
    }
}
