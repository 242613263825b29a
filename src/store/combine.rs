//! Group commit for the issuing path's writes: serial reservations (licence and
//! time-stamp), and storing a built licence. Each is a short transaction whose cost is its
//! commit — a disk sync on SQLite (`synchronous = FULL`) and on PostgreSQL — so concurrent
//! requests, one sync each, were bound by the disk, not the CPU. Here one writer task per
//! store takes whatever writes have queued up and runs them in ONE transaction, each inside
//! a savepoint of its own: a write that fails is rolled back to its savepoint and answers its
//! error, the others go on; each caller is answered only once the whole transaction has
//! committed (or with the commit's error). Every write keeps its own atomicity; the
//! database sees one commit per batch. Built licences are a write of their own kind: a
//! batch stores them together, a few statements for all (`issuing::store_many`), and
//! each alone in its savepoint only when that fails.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::error::StoreError;
use super::issuing::{IdempotencyClaim, SerialReservation, store_in, store_many};
use super::licences::NewLicence;

/// Most writes in one transaction.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer before callers wait too.
const QUEUE: usize = 4096;

/// A future borrowing the batch's transaction.
pub(super) type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 't>>;

/// One write, type-erased: runs inside the batch's transaction and keeps its result.
type Job = Box<dyn for<'t> FnOnce(&'t mut Transaction<'static, Any>) -> TxFuture<'t, ()> + Send>;
type Reply = oneshot::Sender<Result<(), StoreError>>;

/// A built licence to store (see [`super::IssuingStore::store_licence`]). The licences of a
/// batch are stored together, a few statements for all of them, and each alone only when
/// that fails: issuing's writes were four or five statements a licence, each a round trip
/// to the database while every other write waits.
#[derive(Debug)]
pub(super) struct LicenceWrite {
    /// Its serial's reservation, ended as it is stored.
    pub reservation: Option<SerialReservation>,
    /// Its idempotency key.
    pub claim: Option<IdempotencyClaim>,
    /// The licence.
    pub licence: NewLicence,
}

type LicenceReply = oneshot::Sender<Result<NewLicence, StoreError>>;

/// What the writer task is handed.
enum Write {
    Job(Job, Reply),
    Licence(Box<LicenceWrite>, LicenceReply),
}

/// The handle writers queue their writes on.
#[derive(Debug, Clone)]
pub(super) struct Combiner {
    queue: mpsc::Sender<Write>,
}

impl Combiner {
    /// Starts the writer task on the current Tokio runtime; it ends when every handle is
    /// dropped. `gate` is held while a batch runs (SQLite's one writer: the store's other
    /// writes queue on the same gate).
    pub(super) fn start(pool: AnyPool, gate: Arc<super::sql::WriteGate>) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Write>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let _turn = gate.enter().await;
                run_batch(&pool, batch).await;
            }
        });
        Self { queue }
    }

    /// Runs `write` in the next batch's transaction, in a savepoint of its own; its result
    /// once the batch has committed.
    pub(super) async fn write<T, F>(&self, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Transaction<'static, Any>) -> TxFuture<'t, T> + Send + 'static,
    {
        let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let keep = slot.clone();
        let job: Job = Box::new(move |tx| {
            Box::pin(async move {
                let value = write(tx).await?;
                if let Ok(mut s) = keep.lock() {
                    *s = Some(value);
                }
                Ok(())
            })
        });
        let (reply, answer) = oneshot::channel();
        self.queue.send(Write::Job(job, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())??;
        let value = slot.lock().ok().and_then(|mut s| s.take());
        value.ok_or_else(|| StoreError::Corrupt("a combined write kept no result".into()))
    }

    /// Stores `write` in the next batch's transaction; the licence once the batch has
    /// committed.
    pub(super) async fn store_licence(&self, write: LicenceWrite) -> Result<NewLicence, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Write::Licence(Box::new(write), reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn gone() -> StoreError {
    db_error("the store's writer task has stopped")
}

/// A database error for each caller of a batch that failed as a whole.
fn db_error(message: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("the batched write transaction failed: {message}")))
}

/// A write's outcome, held until the batch's commit decides what its caller hears.
enum Held {
    Job(Reply, Result<(), StoreError>),
    Licence(LicenceReply, Result<Box<NewLicence>, StoreError>),
}

impl Held {
    fn failed(&self) -> bool {
        match self {
            Self::Job(_, result) => result.is_err(),
            Self::Licence(_, result) => result.is_err(),
        }
    }

    /// Answers with the write's own outcome (the batch committed, or it ran alone).
    fn answer(self) {
        match self {
            Self::Job(reply, result) => drop(reply.send(result)),
            Self::Licence(reply, result) => drop(reply.send(result.map(|l| *l))),
        }
    }

    /// Answers that the batch's transaction failed.
    fn fail(self, message: &str) {
        match self {
            Self::Job(reply, _) => drop(reply.send(Err(db_error(message)))),
            Self::Licence(reply, _) => drop(reply.send(Err(db_error(message)))),
        }
    }
}

impl Write {
    /// Not run: held only to be failed.
    fn unrun(self) -> Held {
        match self {
            Self::Job(_, reply) => Held::Job(reply, Ok(())),
            Self::Licence(_, reply) => Held::Licence(reply, Err(db_error("not run"))),
        }
    }
}

/// Stores one licence inside `tx`.
async fn store_one(
    tx: &mut Transaction<'static, Any>,
    w: Box<LicenceWrite>,
) -> Result<Box<NewLicence>, StoreError> {
    store_in(tx, w.reservation.as_ref(), w.claim.as_ref(), &w.licence).await?;
    Ok(Box::new(w.licence))
}

/// One transaction for the batch, then one commit: a write alone runs as it is; otherwise
/// each type-erased write in a savepoint of its own, then the licences together in one
/// savepoint (each in its own if that fails).
async fn run_batch(pool: &AnyPool, batch: Vec<Write>) {
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            batch.into_iter().for_each(|w| w.unrun().fail(&message));
            return;
        }
    };
    let mut held = Vec::with_capacity(batch.len());
    if batch.len() == 1 {
        // Alone in its transaction, a write needs no savepoint: if it fails, the whole
        // transaction is rolled back (two round trips to the database fewer).
        for write in batch {
            let outcome = match write {
                Write::Job(job, reply) => Held::Job(reply, job(&mut tx).await),
                Write::Licence(w, reply) => Held::Licence(reply, store_one(&mut tx, w).await),
            };
            if outcome.failed() {
                let _ = tx.rollback().await;
                outcome.answer();
                return;
            }
            held.push(outcome);
        }
    } else {
        let (mut jobs, mut licences) = (Vec::new(), Vec::new());
        for write in batch {
            match write {
                Write::Job(job, reply) => jobs.push((job, reply)),
                Write::Licence(w, reply) => licences.push((w, reply)),
            }
        }
        let ran = match run_jobs(&mut tx, jobs, &mut held).await {
            Ok(()) => run_licences(&mut tx, licences, &mut held).await,
            Err(e) => {
                held.extend(licences.into_iter().map(|(w, reply)| Write::Licence(w, reply).unrun()));
                Err(e)
            }
        };
        if let Err(e) = ran {
            // The transaction cannot go on: every write of the batch fails with it.
            let message = e.to_string();
            held.into_iter().for_each(|h| h.fail(&message));
            return;
        }
    }
    match tx.commit().await {
        Ok(()) => held.into_iter().for_each(Held::answer),
        Err(e) => {
            let message = e.to_string();
            held.into_iter().for_each(|h| h.fail(&message));
        }
    }
}

/// Runs each job in a savepoint of its own; the statement that ends one savepoint also
/// opens the next (one round trip between writes, not two). An error is the
/// transaction's (every job's outcome is in `held` then, run or not).
async fn run_jobs(
    tx: &mut Transaction<'static, Any>,
    jobs: Vec<(Job, Reply)>,
    held: &mut Vec<Held>,
) -> Result<(), sqlx::Error> {
    let Some(last) = jobs.len().checked_sub(1) else { return Ok(()) };
    let mut opened = sqlx::raw_sql(SAVEPOINT).execute(&mut **tx).await.map(|_| ());
    for (i, (job, reply)) in jobs.into_iter().enumerate() {
        if opened.is_err() {
            held.push(Held::Job(reply, Ok(())));
            continue;
        }
        let result = job(tx).await;
        let end = if result.is_ok() { RELEASE } else { ROLL_BACK };
        let next = if i < last { format!("{end}; {SAVEPOINT}") } else { end.to_owned() };
        // Only fixed statements are formatted in.
        opened = sqlx::raw_sql(sqlx::AssertSqlSafe(next)).execute(&mut **tx).await.map(|_| ());
        held.push(Held::Job(reply, result));
    }
    opened
}

/// Stores the licences together in one savepoint; if that fails, rolls it back and stores
/// each in a savepoint of its own, so that only the faulty ones fail. An error is the
/// transaction's (every licence's outcome is in `held` then, stored or not).
async fn run_licences(
    tx: &mut Transaction<'static, Any>,
    licences: Vec<(Box<LicenceWrite>, LicenceReply)>,
    held: &mut Vec<Held>,
) -> Result<(), sqlx::Error> {
    let mut pending: VecDeque<_> = licences.into();
    let ran = store_licences(tx, &mut pending, held).await;
    if ran.is_err() {
        held.extend(pending.into_iter().map(|(w, reply)| Write::Licence(w, reply).unrun()));
    }
    ran
}

/// [`run_licences`]: moves each licence from `pending` to `held` as its outcome is known.
async fn store_licences(
    tx: &mut Transaction<'static, Any>,
    pending: &mut VecDeque<(Box<LicenceWrite>, LicenceReply)>,
    held: &mut Vec<Held>,
) -> Result<(), sqlx::Error> {
    if pending.is_empty() {
        return Ok(());
    }
    sqlx::raw_sql(SAVEPOINT).execute(&mut **tx).await?;
    let writes: Vec<&LicenceWrite> = pending.iter().map(|(w, _)| w.as_ref()).collect();
    if store_many(tx, &writes).await.is_ok() {
        sqlx::raw_sql(RELEASE).execute(&mut **tx).await?;
        held.extend(pending.drain(..).map(|(w, reply)| Held::Licence(reply, Ok(Box::new(w.licence)))));
        return Ok(());
    }
    sqlx::raw_sql(ROLL_BACK).execute(&mut **tx).await?;
    while let Some((w, reply)) = pending.pop_front() {
        if let Err(e) = sqlx::raw_sql(SAVEPOINT).execute(&mut **tx).await {
            pending.push_front((w, reply));
            return Err(e);
        }
        let result = store_one(tx, w).await;
        let ended = sqlx::raw_sql(if result.is_ok() { RELEASE } else { ROLL_BACK }).execute(&mut **tx).await;
        held.push(Held::Licence(reply, result));
        ended?;
    }
    Ok(())
}

/// Opens a write's savepoint.
const SAVEPOINT: &str = "SAVEPOINT combined_write";
/// Keeps a write that succeeded.
const RELEASE: &str = "RELEASE SAVEPOINT combined_write";
/// Undoes a write that failed (its error is its caller's answer), keeping the others.
const ROLL_BACK: &str = "ROLLBACK TO SAVEPOINT combined_write; RELEASE SAVEPOINT combined_write";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    /// Writes `v` into `t`; a write of an odd `v` then fails (a unique violation) after
    /// writing, so that only its savepoint's rollback can undo it.
    fn write(c: &Combiner, v: i64) -> tokio::task::JoinHandle<Result<i64, StoreError>> {
        let c = c.clone();
        tokio::spawn(async move {
            c.write(move |tx| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(v).execute(&mut **tx).await?;
                    if v % 2 == 1 {
                        sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(v).execute(&mut **tx).await?;
                    }
                    Ok(v)
                })
            })
            .await
        })
    }

    #[tokio::test]
    async fn a_failed_write_is_undone_alone_and_the_batch_commits() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER PRIMARY KEY)").execute(&pool).await.unwrap();
        let combiner = Combiner::start(pool.clone(), Arc::new(super::super::sql::WriteGate::default()));
        // Queued before the writer task runs (one thread): one batch of six.
        let writes: Vec<_> = (0..6).map(|v| write(&combiner, v)).collect();
        for (v, w) in (0..6).zip(writes) {
            let result = w.await.unwrap();
            assert_eq!(result.is_ok(), v % 2 == 0, "{v}: {result:?}");
        }
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT v FROM t ORDER BY v").fetch_all(&pool).await.unwrap();
        assert_eq!(rows, vec![(0,), (2,), (4,)]);
        // The last write of a batch failing leaves the others too.
        let writes: Vec<_> = [6, 7].into_iter().map(|v| write(&combiner, v)).collect();
        for w in writes {
            let _ = w.await.unwrap();
        }
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t").fetch_one(&pool).await.unwrap();
        assert_eq!(n, 4);
    }
}
