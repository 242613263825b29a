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
        for (job, reply) in batch {
            results.push(in_savepoint(&mut tx, job).await);
            replies.push(reply);
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

/// Runs `job` between `SAVEPOINT` and `RELEASE`, or rolls back to the savepoint on error.
async fn in_savepoint(tx: &mut Transaction<'static, Any>, job: Job) -> Result<(), StoreError> {
    sqlx::query("SAVEPOINT combined_write").execute(&mut **tx).await?;
    match job(tx).await {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT combined_write").execute(&mut **tx).await?;
            Ok(())
        }
        Err(e) => {
            sqlx::query("ROLLBACK TO SAVEPOINT combined_write").execute(&mut **tx).await?;
            sqlx::query("RELEASE SAVEPOINT combined_write").execute(&mut **tx).await?;
            Err(e)
        }
    }
}
