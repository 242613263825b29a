//! Archive renewal (PAdES B-LTA maintenance): before the TSA certificate of a stored PDF's
//! newest document time-stamp expires, a `/DSS` update with the roots' current CRLs and
//! the time-stamping chain, then a new document time-stamp, are appended to the PDF, and
//! the register keeps the result. Every earlier revision stays byte for byte what it was,
//! so every earlier signature and time-stamp still validates; the new time-stamp carries
//! their proof of existence on to its own TSA certificate's expiry.
//!
//! Which licences are due is the store's `archive_until` (migration 0012): unknown (never
//! looked at) or before the horizon. A licence looked at and found far enough is only
//! recorded. The work goes in identifier order from a cursor and each licence commits
//! alone (compare-and-swap on `archive_until`), so an interrupted run loses nothing and
//! the next run goes on where it stopped; two runs at once never renew one PDF twice.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::error::PlatformError;
use super::pki::Pki;
use super::tsa::TimeStamping;
use crate::pdf;
use crate::pki::{self, Algorithm};
use crate::store::Store;
use crate::tsa::{self, ImprintAlg};

/// How many due licences are read per store query.
const BATCH: u32 = 64;

/// The default horizon of `archive renew` and the serve job: renew what expires within it.
pub const RENEW_AHEAD: Duration = Duration::days(365);

/// What one renewal run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewalReport {
    /// Licences looked at.
    pub examined: u64,
    /// PDFs given a new DSS revision and document time-stamp.
    pub renewed: u64,
    /// PDFs whose newest document time-stamp lasts beyond the horizon: only recorded.
    pub recorded: u64,
    /// PDFs another run renewed meanwhile (left as that run made them).
    pub raced: u64,
    /// Licences that could not be renewed, with why (the run goes on).
    pub failed: Vec<(String, String)>,
}

/// Progress of a run, after each licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalProgress<'a> {
    /// The licence just handled.
    pub id: &'a str,
    /// Licences handled so far.
    pub done: u64,
}

/// Archive renewal over the register's PDFs.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Arc<dyn Store>,
    pki: Pki,
    tsa: TimeStamping,
}

/// What became of one licence.
enum Outcome {
    Renewed,
    Recorded,
    Raced,
}

impl Archive {
    pub(super) fn new(store: Arc<dyn Store>, pki: Pki, tsa: TimeStamping) -> Self {
        Self { store, pki, tsa }
    }

    /// Renews every stored PDF whose newest document time-stamp carries its proof only
    /// until before `before` (or that has none), at `now`; with `force`, every PDF.
    /// `progress` is called after each licence. Stops early only on a store failure.
    pub async fn renew(
        &self,
        before: OffsetDateTime,
        force: bool,
        now: OffsetDateTime,
        mut progress: impl FnMut(RenewalProgress<'_>) + Send,
    ) -> Result<RenewalReport, PlatformError> {
        // Forcing renews even what lasts: every PDF is due.
        let horizon = if force { time::Date::MAX.midnight().assume_utc() } else { before };
        let roots: Arc<[Vec<u8>]> = self.store.roots().await?.into_iter().map(|r| r.cert_der).collect();
        let mut report = RenewalReport::default();
        let mut cursor = String::new();
        loop {
            let due = self.store.archive_due(horizon, &cursor, BATCH).await?;
            let Some(last) = due.last() else { break };
            cursor = last.id.clone();
            for item in due {
                report.examined += 1;
                match self.renew_one(&item.id, roots.clone(), before, force, now).await {
                    Ok(Outcome::Renewed) => report.renewed += 1,
                    Ok(Outcome::Recorded) => report.recorded += 1,
                    Ok(Outcome::Raced) => report.raced += 1,
                    Err(PlatformError::Store(e)) => return Err(PlatformError::Store(e)),
                    Err(e) => {
                        tracing::warn!(licence = %item.id, error = %e, "archive renewal failed");
                        report.failed.push((item.id.clone(), e.to_string()));
                    }
                }
                progress(RenewalProgress { id: &item.id, done: report.examined });
            }
        }
        Ok(report)
    }

    /// The job `serve` runs: a renewal run a minute after start and then once a day, with
    /// the horizon [`RENEW_AHEAD`] from the clock, logging progress every 1,000 licences
    /// and each run's summary. A failed run is logged and retried at the next round.
    pub async fn job(self) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            let now = OffsetDateTime::now_utc();
            let progress = |p: RenewalProgress<'_>| {
                if p.done.is_multiple_of(1000) {
                    tracing::info!(done = p.done, licence = p.id, "archive renewal in progress");
                }
            };
            match self.renew(now + RENEW_AHEAD, false, now, progress).await {
                Ok(r) if r.examined > 0 => tracing::info!(
                    examined = r.examined,
                    renewed = r.renewed,
                    lasting = r.recorded,
                    raced = r.raced,
                    failed = r.failed.len(),
                    "archive renewal run done"
                ),
                Ok(_) => tracing::debug!("archive renewal: nothing due"),
                Err(e) => tracing::error!(error = %e, "archive renewal run stopped"),
            }
        }
    }

    async fn renew_one(
        &self,
        id: &str,
        roots: Arc<[Vec<u8>]>,
        before: OffsetDateTime,
        force: bool,
        now: OffsetDateTime,
    ) -> Result<Outcome, PlatformError> {
        let Some((stored, version)) = self.store.archived_pdf(id).await? else { return Ok(Outcome::Raced) };
        let (bytes, state) = tokio::task::spawn_blocking(move || {
            let state = archive_state(&stored, &roots);
            (stored, state)
        })
        .await
        .map_err(|e| PlatformError::Io(format!("archive worker: {e}")))?;
        let state = state?;
        if !force && let Some(until) = state.until.filter(|u| *u >= before) {
            return Ok(if self.store.keep_archive(id, version, None, until).await? {
                Outcome::Recorded
            } else {
                Outcome::Raced
            });
        }
        let stamper = self.tsa.stamper(state.algorithm, 1, now).await?;
        let crl = self.pki.dss_crl(state.algorithm, now).await?;
        let until = pki::cert_info(&stamper.authority().cert_der)?.not_after;
        let renewed = tokio::task::spawn_blocking(move || {
            let chain = tsa::Stamper::chain(&stamper);
            let with_dss = pdf::add_dss(&bytes, &chain, std::slice::from_ref(&crl.der))?;
            pdf::add_doc_timestamp(&with_dss, &stamper, ImprintAlg::for_document(state.algorithm))
        })
        .await
        .map_err(|e| PlatformError::Io(format!("archive worker: {e}")))??;
        Ok(if self.store.keep_archive(id, version, Some(&renewed), until).await? {
            tracing::info!(licence = %id, until = %until, bytes = renewed.len(), "archive renewed");
            Outcome::Renewed
        } else {
            Outcome::Raced
        })
    }
}

/// What a stored PDF's time-stamps say: the seal's algorithm, and until when its newest
/// valid document time-stamp (by one of `roots`' TSAs) carries the proof.
#[derive(Debug, Clone, Copy)]
struct ArchiveState {
    algorithm: Algorithm,
    until: Option<OffsetDateTime>,
}

fn archive_state(pdf_bytes: &[u8], roots: &[Vec<u8>]) -> Result<ArchiveState, PlatformError> {
    let info = pdf::inspect(pdf_bytes)?;
    let until = info.doc_timestamps.last().and_then(|ts| {
        let stamp = tsa::verify_token_parts(&ts.token_der, &ts.parts(pdf_bytes), roots, &[]).ok()?;
        pki::cert_info(&stamp.tsa_cert_der).ok().map(|c| c.not_after)
    });
    Ok(ArchiveState { algorithm: info.algorithm, until })
}
