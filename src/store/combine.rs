//! Group commit for the issuing path's writes: serial reservations (licence and
//! time-stamp), and storing a built licence. Each is a short transaction whose cost is its
//! commit — a disk sync on SQLite (`synchronous = FULL`) and on PostgreSQL — so concurrent
//! requests, one sync each, were bound by the disk, not the CPU. Here one writer task per
//! store takes whatever writes have queued up and runs them in ONE transaction, each inside
//! a savepoint of its own: a write that fails is rolled back to its savepoint and answers its
//! error, the others go on; each caller is answered only once the whole transaction has
//! committed (or with the commit's error). Every write keeps its own atomicity and the
//! order in which the database saw them; the database sees one commit per batch.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::error::StoreError;

/// Most writes in one transaction.
const MAX_BATCH: usize = 128;
/// Writes waiting for the writer before callers wait too.
const QUEUE: usize = 4096;

/// A future borrowing the batch's transaction.
pub(super) type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 't>>;

/// One write, type-erased: runs inside the batch's transaction and keeps its result.
type Job = Box<dyn for<'t> FnOnce(&'t mut Transaction<'static, Any>) -> TxFuture<'t, ()> + Send>;
type Reply = oneshot::Sender<Result<(), StoreError>>;

/// The handle writers queue their writes on.
#[derive(Debug, Clone)]
pub(super) struct Combiner {
    queue: mpsc::Sender<(Job, Reply)>,
}

impl Combiner {
    /// Starts the writer task on the current Tokio runtime; it ends when every handle is
    /// dropped. `gate` is held while a batch runs (SQLite's one writer: the store's other
    /// writes queue on the same gate).
    pub(super) fn start(pool: AnyPool, gate: Arc<super::sql::WriteGate>) -> Self {
        let (queue, mut incoming) = mpsc::channel::<(Job, Reply)>(QUEUE);
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
        self.queue.send((job, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())??;
        let value = slot.lock().ok().and_then(|mut s| s.take());
        value.ok_or_else(|| StoreError::Corrupt("a combined write kept no result".into()))
    }
}

fn gone() -> StoreError {
    db_error("the store's writer task has stopped")
}

/// A database error for each caller of a batch that failed as a whole.
fn db_error(message: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("the batched write transaction failed: {message}")))
}

/// One transaction for the batch: each write in a savepoint, then one commit.
async fn run_batch(pool: &AnyPool, batch: Vec<(Job, Reply)>) {
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err(db_error(&message)));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    if batch.len() == 1 {
        // Alone in its transaction, a write needs no savepoint: if it fails, the whole
        // transaction is rolled back (two round trips to the database fewer).
        for (job, reply) in batch {
            if let Err(e) = job(&mut tx).await {
                let _ = tx.rollback().await;
                let _ = reply.send(Err(e));
                return;
            }
            replies.push(reply);
            results.push(Ok(()));
        }
    } else {
        // Each write in a savepoint of its own; the statement that ends one savepoint also
        // opens the next (one round trip between writes, not two).
        let mut opened = sqlx::raw_sql(SAVEPOINT).execute(&mut *tx).await.map(|_| ());
        let last = batch.len() - 1;
        for (i, (job, reply)) in batch.into_iter().enumerate() {
            if let Err(e) = opened {
                // The transaction cannot go on: every write of the batch fails with it.
                let message = e.to_string();
                let _ = reply.send(Err(db_error(&message)));
                for reply in replies {
                    let _ = reply.send(Err(db_error(&message)));
                }
                return;
            }
            let result = job(&mut tx).await;
            let end = if result.is_ok() { RELEASE } else { ROLL_BACK };
            let next = if i < last { format!("{end}; {SAVEPOINT}") } else { end.to_owned() };
            // Only fixed statements are formatted in.
            opened = sqlx::raw_sql(sqlx::AssertSqlSafe(next)).execute(&mut *tx).await.map(|_| ());
            results.push(result);
            replies.push(reply);
        }
        if let Err(e) = opened {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(db_error(&message)));
            }
            return;
        }
    }
    if let Err(e) = tx.commit().await {
        let message = e.to_string();
        for reply in replies {
            let _ = reply.send(Err(db_error(&message)));
        }
        return;
    }
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
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
