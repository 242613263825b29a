//! Group commit for the access log: requests hand their entries to one writer task, which
//! appends whatever has queued up in one transaction and answers each request once its
//! entry is committed. The chain stays in one order; a request is answered only after its
//! entry is durable; and the database sees one write transaction per batch instead of one
//! per request (the scale run measured ~3,800 single appends/s on SQLite, ~400 on
//! PostgreSQL, where every commit waits for a disk sync).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::error::PlatformError;
use crate::audit::AccessEntry;
use crate::store::Store;

/// Largest batch written in one transaction.
const MAX_BATCH: usize = 512;
/// Entries waiting for the writer before senders wait too.
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<u64, String>>;

/// The handle requests use to append to the access log.
#[derive(Debug, Clone)]
pub struct AccessLogWriter {
    queue: mpsc::Sender<(AccessEntry, Reply)>,
}

impl AccessLogWriter {
    /// Starts the writer task on the current Tokio runtime; it ends when every handle is
    /// dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (queue, mut incoming) = mpsc::channel::<(AccessEntry, Reply)>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (entries, replies): (Vec<AccessEntry>, Vec<Reply>) = batch.into_iter().unzip();
                match store.append_access_batch(entries).await {
                    Ok(seqs) => {
                        for (reply, seq) in replies.into_iter().zip(seqs) {
                            let _ = reply.send(Ok(seq));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot append to the access log");
                        for reply in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    /// Appends an entry; returns once it is committed, with its sequence number.
    pub async fn append(&self, entry: AccessEntry) -> Result<u64, PlatformError> {
        let stopped = || PlatformError::Task("the access log writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.queue.send((entry, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?.map_err(|e| PlatformError::Io(format!("access log: {e}")))
    }
}
