//! Group commit for served answers and hintd's own events: one task writes everything the
//! request path hands it, many answers per transaction, so concurrent hint requests never
//! contend for the database's write lock and the reply does not wait for the disk.
//!
//! Used on SQLite, where one process owns the store and the service's in-memory caches
//! answer replays and choices until the row is written; [`AnswerWriter::flush`] waits for
//! everything queued before it (a choice flushes before recording, so its answer exists).
//! With PostgreSQL answers are saved on the request path instead (replicas need them at once).

use crate::store::{AnswerRecord, IngestRecord, NewEvent, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Answers written per transaction at most.
const BATCH: usize = 256;
/// Jobs waiting at most; beyond, the request path waits (back-pressure).
const QUEUE: usize = 8192;
/// After the first job of a batch, how long the writer gathers more: SQLite has one write
/// lock for the whole process (ingest, dispatch and plugin kv write too), so fewer, larger
/// transactions mean less waiting for it. Replies never wait for the writer.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

enum Job {
    Answer(Box<AnswerRecord>),
    Event(IngestRecord),
    Flush(oneshot::Sender<()>),
}

/// The handle of the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AnswerWriter {
    tx: mpsc::Sender<Job>,
}

impl AnswerWriter {
    /// Starts the writer task (must run inside tokio).
    pub fn start(store: Arc<dyn Store>) -> AnswerWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        AnswerWriter { tx }
    }

    /// Queues an answer.
    pub async fn answer(&self, record: AnswerRecord) {
        if self.tx.send(Job::Answer(Box::new(record))).await.is_err() {
            tracing::error!("hint answer writer stopped; answer not stored");
        }
    }

    /// Queues one of hintd's own events for the event log; `client_id` lets a client's
    /// erasure find it.
    pub async fn event(&self, event: NewEvent, client_id: Option<String>) {
        let record = IngestRecord {
            event,
            client_id,
            changes: Vec::new(),
        };
        if self.tx.send(Job::Event(record)).await.is_err() {
            tracing::error!("hint answer writer stopped; event not stored");
        }
    }

    /// Waits until everything queued before this call is written (or failed and logged).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut jobs, BATCH).await > 0 {
        if jobs.len() < BATCH {
            tokio::time::sleep(LINGER).await;
            while jobs.len() < BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
        }
        let mut answers = Vec::new();
        let mut events = Vec::new();
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Answer(a) => answers.push(*a),
                Job::Event(e) => events.push(e),
                Job::Flush(done) => flushes.push(done),
            }
        }
        if !answers.is_empty() {
            let count = answers.len();
            match store.save_answers(answers).await {
                Ok(saved) => {
                    let skipped = saved.iter().filter(|s| !**s).count();
                    if skipped > 0 {
                        tracing::warn!(
                            skipped,
                            "hint answers not stored: their request was answered before"
                        );
                    }
                }
                Err(e) => {
                    metrics::counter!("hintd_hint_answer_write_failures_total")
                        .increment(count as u64);
                    tracing::error!(answers = count, error = %e, "storing hint answers failed");
                }
            }
        }
        if !events.is_empty() {
            let count = events.len();
            if let Err(e) = store.ingest_batch(events.into()).await {
                tracing::warn!(events = count, error = %e, "could not append hintd events");
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
