//! Database upkeep that must not run inside a request's write: SQLite WAL checkpoints and
//! vacuums of PostgreSQL's outbox table. Each is started in the background by the writes
//! that make it due, and never runs twice at once in one process.
//!
//! **Checkpoints.** By default the SQLite connection whose commit pushes the WAL past 1 000
//! pages copies the whole WAL back into the database file inside that commit: every few
//! seconds one ingest batch (and every request queued behind it in the write gate) stalls
//! for milliseconds. The write connection has automatic checkpoints off instead, and a
//! write that finds the last checkpoint old enough starts a `PASSIVE` one on a read
//! connection, which copies the WAL into the database file while writes go on (it takes no
//! write lock). Only a WAL copied to its end is started over by the next write, and under
//! steady writes the passive checkpoint never gets to the end: the WAL grew by the whole
//! write volume (a gigabyte in ten seconds of ingest), every write extended the file instead
//! of overwriting it, and every page lookup searched a longer WAL index. So once the WAL
//! holds `[store] wal_restart_mib` (256 MiB), the write thread copies the frames written
//! since, between two of its transactions, and its next transaction starts the WAL over.
//! That step stalls writes for two `fsync`s (20–40 ms on this project's busy 2-core VM), so
//! it comes once per that much WAL written under steady load, not at every checkpoint.
//! (Below saturation the passive checkpoint reaches the end of the WAL by itself and the WAL
//! stays small.)
//!
//! **Outbox vacuum.** Every delivery updates a `webhook_messages` row, and its entry in the
//! partial index of pending messages stays behind as a dead tuple until a vacuum.
//! Autovacuum's defaults (a pass once a fifth of the table is dead, at most once a minute —
//! or never, where it is off) let a busy outbox pile up hundreds of thousands of dead index
//! entries, and the claim query, which walks that index, slows from under a millisecond to
//! half a second. So after every [`VACUUM_EVERY`] finished messages a replica starts
//! `VACUUM (ANALYZE, SKIP_LOCKED)` of the table (skipped while another replica's runs).

use super::sqlite::SqliteWriter;
use sqlx::AnyPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a checkpoint may start while writes go on.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// SQLite's page size (its default, which hintd keeps): the size of a WAL frame's page.
const PAGE_BYTES: i64 = 4096;
/// Messages finished (delivered or failed) between two vacuums of the outbox.
const VACUUM_EVERY: u64 = 20_000;

/// A background job that runs at most once at a time.
#[derive(Debug, Default)]
struct Exclusive(AtomicBool);

/// Marks an [`Exclusive`] job running until dropped.
struct Running(Arc<Exclusive>);

impl Exclusive {
    /// `None` while the job runs already.
    fn try_start(self: &Arc<Self>) -> Option<Running> {
        (!self.0.swap(true, Ordering::AcqRel)).then(|| Running(self.clone()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::Release);
    }
}

/// One upkeep statement, run in the background at most once at a time.
#[derive(Debug)]
struct Statement {
    sql: &'static str,
    running: Arc<Exclusive>,
}

impl Statement {
    fn new(sql: &'static str) -> Arc<Statement> {
        Arc::new(Statement {
            sql,
            running: Arc::default(),
        })
    }

    /// Starts the statement on `pool` unless it is running; true when it was started.
    fn start(self: &Arc<Self>, pool: &AnyPool) -> bool {
        let Some(running) = self.running.try_start() else {
            return false;
        };
        let (sql, pool) = (self.sql, pool.clone());
        tokio::spawn(async move {
            if let Err(e) = sqlx::query(sql).execute(&pool).await {
                tracing::warn!(statement = sql, error = %e, "database upkeep did not run");
            }
            drop(running);
        });
        true
    }
}

/// SQLite WAL checkpoints, started by writes at most every [`CHECKPOINT_EVERY`].
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer {
    writer: Arc<SqliteWriter>,
    /// WAL frames after which the write thread finishes a checkpoint.
    restart_frames: i64,
    running: Arc<Exclusive>,
    epoch: Instant,
    /// When the last checkpoint started, in ms since `epoch`.
    last_ms: Arc<AtomicU64>,
}

impl Checkpointer {
    /// A checkpointer that finishes a checkpoint on `writer`'s thread once the WAL holds
    /// `restart_mib`.
    pub(crate) fn new(writer: Arc<SqliteWriter>, restart_mib: u32) -> Checkpointer {
        Checkpointer {
            writer,
            restart_frames: (i64::from(restart_mib) << 20) / PAGE_BYTES,
            running: Arc::default(),
            epoch: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Called before each write: starts a checkpoint when one is due.
    pub(crate) fn on_write(&self, reads: &AnyPool) {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < CHECKPOINT_EVERY.as_millis() as u64 {
            return;
        }
        let Some(running) = self.running.try_start() else {
            return;
        };
        self.last_ms.store(now, Ordering::Relaxed);
        let (writer, reads, restart_frames) =
            (self.writer.clone(), reads.clone(), self.restart_frames);
        tokio::spawn(async move {
            match passive_checkpoint(&reads).await {
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint did not run"),
                Ok(frames) if frames >= restart_frames => {
                    // A second pass takes what was written during the first: the write
                    // thread's pass then has only milliseconds of frames to sync and copy.
                    let finished = match passive_checkpoint(&reads).await {
                        Ok(_) => writer.finish_checkpoint().await,
                        Err(e) => Err(e.into()),
                    };
                    if let Err(e) = finished {
                        tracing::warn!(error = %e, "WAL checkpoint did not finish");
                    }
                }
                Ok(_) => {}
            }
            drop(running);
        });
    }
}

/// Runs a `PASSIVE` checkpoint on a read connection; the frames the WAL holds.
async fn passive_checkpoint(reads: &AnyPool) -> Result<i64, sqlx::Error> {
    // (busy, frames in the WAL, frames copied)
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(reads)
        .await?;
    Ok(frames)
}

/// PostgreSQL vacuums of the outbox, started every [`VACUUM_EVERY`] finished messages.
#[derive(Debug, Clone)]
pub(crate) struct OutboxVacuum {
    statement: Arc<Statement>,
    finished: Arc<AtomicU64>,
}

impl OutboxVacuum {
    /// A vacuum trigger with nothing counted yet.
    pub(crate) fn new() -> OutboxVacuum {
        OutboxVacuum {
            statement: Statement::new("VACUUM (ANALYZE, SKIP_LOCKED) webhook_messages"),
            finished: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Notes `n` more finished messages; starts a vacuum on `pool` when one is due.
    pub(crate) fn on_finished(&self, n: u64, pool: &AnyPool) {
        if self.finished.fetch_add(n, Ordering::Relaxed) + n >= VACUUM_EVERY
            && self.statement.start(pool)
        {
            self.finished.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VACUUM_EVERY;
    use crate::store::sql::test_postgres::TestSchema;
    use crate::store::{EventStore, IngestRecord, KvStore, NewEvent};
    use sqlx::Row;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn outbox_is_vacuumed_after_enough_finished_messages() {
        let Some(pg) = TestSchema::create("upkeep").await else {
            return;
        };
        let vacuums = || async {
            sqlx::query(
                "SELECT vacuum_count + autovacuum_count AS n FROM pg_stat_user_tables \
                 WHERE schemaname = $1 AND relname = 'webhook_messages'",
            )
            .bind(&pg.schema)
            .fetch_one(&pg.admin)
            .await
            .unwrap()
            .get::<i64, _>("n")
        };
        let before = vacuums().await;
        let trigger = pg.store.outbox_vacuum.clone().expect("PostgreSQL store");
        trigger.on_finished(VACUUM_EVERY - 1, &pg.store.pool);
        trigger.on_finished(1, &pg.store.pool);
        let mut after = before;
        for _ in 0..100 {
            after = vacuums().await;
            if after > before {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(after > before, "no vacuum of the outbox within 10 s");
        pg.remove().await;
    }

    /// Event number `i` (its own dedup key) with `payload`.
    fn event(i: i64, payload: Vec<u8>) -> IngestRecord {
        IngestRecord {
            event: NewEvent {
                source: "api".into(),
                account: "a".into(),
                event_type: "test".into(),
                dialog_id: None,
                dedup_key: Some(format!("e{i}")),
                received_at_ms: i,
                payload,
            },
            client_id: None,
            changes: Vec::new(),
        }
    }

    /// Ingest, plugin kv and checkpoints all write at once through SQLite's one-connection
    /// write gate: every write commits, none waits on another forever.
    #[tokio::test]
    async fn concurrent_writers_all_commit_through_the_write_gate() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SqlStore::connect(&crate::store::StoreConfig {
            url: format!("sqlite://{}/gate.db", dir.path().display()),
            acquire_timeout_ms: 10_000,
            ..Default::default()
        })
        .await
        .unwrap();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .kv_set("p", &format!("k{i}"), b"v", 1 << 20)
                    .await
                    .unwrap();
                store
                    .ingest_batch(Arc::new([event(i, b"{}".to_vec())]))
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            tokio::time::timeout(Duration::from_secs(20), t)
                .await
                .expect("a writer waited 20 s")
                .unwrap();
        }
        assert_eq!(store.events_after(0, 100).await.unwrap().len(), 40);
        assert_eq!(store.kv_scan("p", "k", 100).await.unwrap().len(), 40);
    }

    /// Under writes that never pause, checkpoints still start the WAL over: it holds at most
    /// about `wal_restart_mib` and a checkpoint interval of writes, not every write since the
    /// store opened.
    #[tokio::test]
    async fn wal_starts_over_under_continuous_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SqlStore::connect(&crate::store::StoreConfig {
            url: format!("sqlite://{}/wal.db", dir.path().display()),
            wal_restart_mib: 4,
            ..Default::default()
        })
        .await
        .unwrap();
        let started = std::time::Instant::now();
        let mut events = 0i64;
        while started.elapsed() < Duration::from_secs(3) {
            let batch: Vec<IngestRecord> = (0..20)
                .map(|_| {
                    events += 1;
                    event(events, vec![b'x'; 4096])
                })
                .collect();
            store.ingest_batch(batch.into()).await.unwrap();
        }
        // (busy, frames in the WAL, frames copied): each event took at least one frame.
        let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(
            frames < events,
            "the WAL holds {frames} frames after {events} events: it was never started over"
        );
    }
}
