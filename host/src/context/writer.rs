//! Group commit: one task writes every ingested event, taking all events that are waiting
//! into one transaction. Callers wait for their own event's commit, so nothing is
//! acknowledged before it is durable, while a busy server pays one commit for many events.

use crate::store::{Appended, IngestRecord, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

struct Job {
    record: IngestRecord,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// Handle to the writer task. The task ends when every handle is dropped.
#[derive(Clone)]
pub(crate) struct EventWriter {
    jobs: mpsc::Sender<Job>,
}

impl EventWriter {
    /// Starts the writer task: at most `max_batch` events per transaction, at most `queue`
    /// events waiting (further callers wait for room).
    pub(crate) fn spawn(store: Arc<dyn Store>, max_batch: usize, queue: usize) -> EventWriter {
        let (jobs, rx) = mpsc::channel(queue.max(1));
        tokio::spawn(run(store, rx, max_batch.max(1)));
        EventWriter { jobs }
    }

    /// Stores one record and waits for its commit.
    pub(crate) async fn write(&self, record: IngestRecord) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { record, reply })
            .await
            .map_err(|_| StoreError::Unavailable("the event writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the event writer has stopped".into()))?
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let (records, replies): (Vec<_>, Vec<_>) =
            jobs.drain(..).map(|j| (j.record, j.reply)).unzip();
        metrics::histogram!("hintd_ingest_batch_size").record(records.len() as f64);
        let records: Arc<[IngestRecord]> = records.into();
        match store.ingest_batch(records.clone()).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) if records.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
            }
            Err(e) => {
                // One bad record must not fail its neighbours: retry each alone.
                tracing::debug!(
                    "batch of {} events failed ({e}); retrying one by one",
                    records.len()
                );
                for (record, reply) in records.iter().zip(replies) {
                    let _ = reply.send(
                        store
                            .ingest_batch(Arc::new([record.clone()]))
                            .await
                            .map(|mut o| o.remove(0)),
                    );
                }
            }
        }
    }
}
