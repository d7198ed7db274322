//! Database upkeep that must not run inside a request's write: SQLite WAL checkpoints and
//! vacuums of PostgreSQL's outbox table. Each is started in the background by the writes
//! that make it due, and never runs twice at once in one process.
//!
//! **Checkpoints.** By default the SQLite connection whose commit pushes the WAL past 1 000
//! pages copies the whole WAL back into the database file inside that commit: every few
//! seconds one ingest batch (and every request queued behind it in the write gate) stalls
//! for milliseconds. The write connection has automatic checkpoints off instead, and a
//! write that finds the last checkpoint old enough starts a `PASSIVE` one on a read
//! connection; a passive checkpoint takes no write lock, so writers carry on meanwhile.
//!
//! **Outbox vacuum.** Every delivery updates a `webhook_messages` row, and its entry in the
//! partial index of pending messages stays behind as a dead tuple until a vacuum.
//! Autovacuum's defaults (a pass once a fifth of the table is dead, at most once a minute —
//! or never, where it is off) let a busy outbox pile up hundreds of thousands of dead index
//! entries, and the claim query, which walks that index, slows from under a millisecond to
//! half a second. So after every [`VACUUM_EVERY`] finished messages a replica starts
//! `VACUUM (ANALYZE, SKIP_LOCKED)` of the table (skipped while another replica's runs).

use sqlx::AnyPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a checkpoint may start while writes go on.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Messages finished (delivered or failed) between two vacuums of the outbox.
const VACUUM_EVERY: u64 = 20_000;

/// One upkeep statement, run in the background at most once at a time.
#[derive(Debug)]
struct Statement {
    sql: &'static str,
    running: AtomicBool,
}

impl Statement {
    fn new(sql: &'static str) -> Arc<Statement> {
        Arc::new(Statement {
            sql,
            running: AtomicBool::new(false),
        })
    }

    /// Starts the statement on `pool` unless it is running; true when it was started.
    fn start(self: &Arc<Self>, pool: &AnyPool) -> bool {
        if self.running.swap(true, Ordering::AcqRel) {
            return false;
        }
        let (this, pool) = (self.clone(), pool.clone());
        tokio::spawn(async move {
            if let Err(e) = sqlx::query(this.sql).execute(&pool).await {
                tracing::warn!(statement = this.sql, error = %e, "database upkeep did not run");
            }
            this.running.store(false, Ordering::Release);
        });
        true
    }
}

/// SQLite WAL checkpoints, started by writes at most every [`CHECKPOINT_EVERY`].
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer {
    statement: Arc<Statement>,
    epoch: Instant,
    /// When the last checkpoint started, in ms since `epoch`.
    last_ms: Arc<AtomicU64>,
}

impl Checkpointer {
    /// A checkpointer with no checkpoint run yet.
    pub(crate) fn new() -> Checkpointer {
        Checkpointer {
            statement: Statement::new("PRAGMA wal_checkpoint(PASSIVE)"),
            epoch: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Called before each write: starts a checkpoint on `reads` when one is due.
    pub(crate) fn on_write(&self, reads: &AnyPool) {
        let now = self.epoch.elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= CHECKPOINT_EVERY.as_millis() as u64
            && self.statement.start(reads)
        {
            self.last_ms.store(now, Ordering::Relaxed);
        }
    }
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
                let record = IngestRecord {
                    event: NewEvent {
                        source: "api".into(),
                        account: "a".into(),
                        event_type: "test".into(),
                        dialog_id: None,
                        dedup_key: Some(format!("e{i}")),
                        received_at_ms: i,
                        payload: b"{}".to_vec(),
                    },
                    client_id: None,
                    changes: Vec::new(),
                };
                store.ingest_batch(&[record]).await.unwrap();
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
}
