//! Group commit for served answers and hintd's own events: one task writes everything the
//! request path hands it, many answers per transaction, so concurrent hint requests never
//! contend for the database's write lock.
//!
//! Callers wait for their own commit: an answer and its `hints.generated` event are in the
//! store before the reply leaves, so a crash right after the reply (even `kill -9`) loses
//! neither — the operator's choice of it still routes and subscribers still get the event.
//! While one batch commits, the next requests' writes queue and go in the following batch,
//! so a busy server still pays one commit for many answers.
//!
//! Used on SQLite, where one process owns the store, for answers and events; with PostgreSQL
//! answers are saved on the request path instead (replicas need the idempotency key's
//! conflict at once) and only events come here. [`AnswerWriter::flush`] waits for everything
//! queued before it; shutdown calls it so nothing queued is dropped with the runtime.

use crate::store::{AnswerRecord, IngestRecord, NewEvent, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Answers written per transaction at most.
const BATCH: usize = 256;
/// Jobs waiting at most; beyond, the request path waits (back-pressure).
const QUEUE: usize = 8192;

/// Why a write handed to the writer did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The answer's idempotency key is held by an answer that may still be replayed: the
    /// request was answered before, and nothing was stored.
    #[error("the request was answered before")]
    KeyTaken,
    /// The transaction failed; nothing of the batch was stored.
    #[error("storing failed")]
    Store(#[source] Arc<StoreError>),
    /// The writer task has ended (the server is stopping).
    #[error("the hint answer writer has stopped")]
    Stopped,
}

impl WriteError {
    /// Whether the failure is the store being unreachable (HTTP 503 rather than 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            WriteError::Store(e) => e.is_unavailable(),
            WriteError::Stopped => true,
            WriteError::KeyTaken => false,
        }
    }
}

type Done = oneshot::Sender<Result<(), WriteError>>;

enum Job {
    /// An answer with its `hints.generated` event.
    Answer {
        answer: Box<AnswerRecord>,
        event: IngestRecord,
        done: Done,
    },
    Event {
        event: IngestRecord,
        done: Done,
    },
    Flush(oneshot::Sender<()>),
}

/// The handle of the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AnswerWriter {
    tx: mpsc::Sender<Job>,
}

/// An event of hintd's own for the log; `client_id` lets a client's erasure find it.
pub fn own_event(event: NewEvent, client_id: Option<String>) -> IngestRecord {
    IngestRecord {
        event,
        client_id,
        changes: Vec::new(),
    }
}

impl AnswerWriter {
    /// Starts the writer task (must run inside tokio).
    pub fn start(store: Arc<dyn Store>) -> AnswerWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        AnswerWriter { tx }
    }

    /// Stores an answer and then its `hints.generated` event, and waits for both commits.
    /// [`WriteError::KeyTaken`]: the answer's request key is held; neither was stored.
    pub async fn answer(
        &self,
        answer: AnswerRecord,
        event: IngestRecord,
    ) -> Result<(), WriteError> {
        let (done, wait) = oneshot::channel();
        let job = Job::Answer {
            answer: Box::new(answer),
            event,
            done,
        };
        self.submit(job, wait).await
    }

    /// Appends one of hintd's own events to the event log and waits for the commit.
    pub async fn event(&self, event: IngestRecord) -> Result<(), WriteError> {
        let (done, wait) = oneshot::channel();
        self.submit(Job::Event { event, done }, wait).await
    }

    async fn submit(
        &self,
        job: Job,
        wait: oneshot::Receiver<Result<(), WriteError>>,
    ) -> Result<(), WriteError> {
        self.tx.send(job).await.map_err(|_| WriteError::Stopped)?;
        wait.await.map_err(|_| WriteError::Stopped)?
    }

    /// Waits until everything queued before this call is written (or failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    // No lingering for more jobs: every job has a caller waiting for its commit, and while a
    // batch commits the next one gathers in the queue anyway.
    while rx.recv_many(&mut jobs, BATCH).await > 0 {
        let mut answers = Vec::new();
        let mut answer_events = Vec::new();
        let mut answer_waiters = Vec::new();
        let mut events = Vec::new();
        let mut event_waiters = Vec::new();
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Answer {
                    answer,
                    event,
                    done,
                } => {
                    answers.push(*answer);
                    answer_events.push(event);
                    answer_waiters.push(done);
                }
                Job::Event { event, done } => {
                    events.push(event);
                    event_waiters.push(done);
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        // Each answer's outcome, and its event queued only when the answer was stored.
        let mut answer_results: Vec<Result<(), WriteError>> = Vec::with_capacity(answers.len());
        if !answers.is_empty() {
            let count = answers.len();
            match store.save_answers(answers).await {
                Ok(saved) => {
                    for (stored, event) in saved.into_iter().zip(answer_events) {
                        if stored {
                            events.push(event);
                            answer_results.push(Ok(()));
                        } else {
                            answer_results.push(Err(WriteError::KeyTaken));
                        }
                    }
                }
                Err(e) => {
                    metrics::counter!("hintd_hint_answer_write_failures_total")
                        .increment(count as u64);
                    tracing::error!(answers = count, error = %e, "storing hint answers failed");
                    let e = WriteError::Store(Arc::new(e));
                    answer_results.extend(std::iter::repeat_n(Err(e), count));
                }
            }
        }
        let mut event_result = Ok(());
        if !events.is_empty() {
            let count = events.len();
            if let Err(e) = store.ingest_batch(events.into()).await {
                tracing::warn!(events = count, error = %e, "could not append hintd events");
                event_result = Err(WriteError::Store(Arc::new(e)));
            }
        }
        // An answer is served once it is stored; a failed event append is logged above (the
        // answer stays replayable and its choice routes).
        for (done, result) in answer_waiters.into_iter().zip(answer_results) {
            let _ = done.send(result);
        }
        for done in event_waiters {
            let _ = done.send(event_result.clone());
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
