//! The threads that render and sign licences: one per core, at a slightly lower scheduling
//! priority than the service's other threads.
//!
//! Measured under issuing load (`benches/issue_load.sh`, 8 connections, 2 cores): with
//! every request rendering on a blocking thread of its own, the cores were a quarter idle
//! while requests waited — each licence also needs short steps in order (database round
//! trips to the SQLite worker, the store's writer task, HTTP I/O), and those queued for a
//! core behind the renderers at every step. With as many renderers as cores, requests
//! beyond that wait in the queue here, and the short steps preempt a renderer when they
//! wake.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use super::super::error::PlatformError;

/// `nice` of the rendering threads: above the service's threads (0), at or below the
/// threads of public work (`public_nice`, default 10).
const BUILD_NICE: u32 = 4;

type Job = Box<dyn FnOnce() + Send>;

/// A pool of rendering threads ([`Builders::run`]); the threads end when it is dropped.
#[derive(Debug)]
pub(super) struct Builders {
    queue: mpsc::Sender<Job>,
    /// Threads started; with none (the system refused them all), work runs on Tokio's
    /// blocking threads instead of waiting forever.
    threads: usize,
}

impl Builders {
    /// One thread per core, at `nice` [`BUILD_NICE`] (never above `public_nice`).
    pub(super) fn start(public_nice: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let nice = BUILD_NICE.min(public_nice);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let mut threads = 0;
        for i in 0..cores {
            let jobs = jobs.clone();
            let spawned = std::thread::Builder::new().name(format!("zz-build-{i}")).spawn(move || {
                // At most 19, so the cast is exact.
                crate::platform::lower_thread_priority(nice as i32);
                loop {
                    let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            });
            match spawned {
                Ok(_) => threads += 1,
                Err(e) => tracing::error!(error = %e, "cannot start a rendering thread"),
            }
        }
        Self { queue, threads }
    }

    /// Runs `work` on a rendering thread once one is free; `what` names it in errors (a
    /// panic in `work` is one).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PlatformError> {
        if self.threads == 0 {
            return tokio::task::spawn_blocking(work)
                .await
                .map_err(|e| PlatformError::Task(format!("{what}: {e}")));
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
        });
        let stopped = || PlatformError::Task(format!("{what}: the rendering threads have stopped"));
        self.queue.send(job).map_err(|_| stopped())?;
        match answered.await.map_err(|_| stopped())? {
            Ok(value) => Ok(value),
            Err(_) => Err(PlatformError::Task(format!("{what}: the work panicked"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_at_a_lower_priority_and_survives_a_panic() {
        let builders = Builders::start(10);
        #[cfg(target_os = "linux")]
        {
            let nice = builders
                .run("reading the priority", || {
                    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(-1)
                })
                .await
                .unwrap();
            assert_eq!(nice, 4);
        }
        let err = builders.run("a broken job", || panic!("boom")).await.unwrap_err();
        assert!(err.to_string().contains("a broken job: the work panicked"), "{err}");
        // Every thread still serves after a panic.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let jobs: Vec<_> = (0..4 * cores).map(|i| builders.run("a job", move || i * 2)).collect();
        let mut results = vec![];
        for job in jobs {
            results.push(job.await.unwrap());
        }
        assert_eq!(results, (0..4 * cores).map(|i| i * 2).collect::<Vec<_>>());
        // Never below public work's priority.
        let lenient = Builders::start(0);
        #[cfg(target_os = "linux")]
        assert_eq!(
            lenient
                .run("reading the priority", || {
                    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(-1)
                })
                .await
                .unwrap(),
            0
        );
        drop(lenient);
    }
}
