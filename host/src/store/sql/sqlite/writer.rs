//! The thread that owns SQLite's write connection and runs each write transaction whole.

use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

/// Jobs run under one hold of the write gate at most, so writers queued at the gate
/// (sqlx's cold paths) wait for a bounded time.
const JOBS_PER_GATE_HOLD: usize = 16;

/// Prepared statements kept per connection: every hot statement, with room to spare.
const STATEMENT_CACHE: usize = 64;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Handle to the write thread. The thread ends when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
    /// Held by every writer of the process for the length of its write: the thread and
    /// sqlx's writes alike ([`SqliteWriter::enter_gate`]). SQLite admits one writer at a
    /// time; a writer queued here starts the moment the previous commit ends, where one left
    /// to SQLite's busy handler sleeps up to 100 ms between retries (that sleep was the hint
    /// path's p99). FIFO, so no writer starves.
    gate: Arc<Mutex<()>>,
}

impl SqliteWriter {
    /// Opens the database file `path` (already created and migrated) for writing and starts
    /// its thread.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As sqlx's connections (`super::super::pool_options`), with checkpoints left to the
        // checkpointer (`super::super::upkeep`) instead of the commit that fills the WAL. The
        // WAL file keeps the size it grew to and is overwritten when it starts over: cutting
        // it back (`journal_size_limit`) freed hundreds of MiB inside the next write, which
        // then took over 100 ms.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; \
             PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;",
        )?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let (jobs, queue) = mpsc::channel::<Job>();
        let gate = Arc::new(Mutex::new(()));
        let held = gate.clone();
        std::thread::Builder::new()
            .name("hintd-sqlite-writer".into())
            .spawn(move || serve(conn, queue, held))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(SqliteWriter { jobs, gate })
    }

    /// Waits for the write gate, for a write that does not run on this thread (sqlx's); the
    /// guard opens it again when dropped.
    pub(crate) async fn enter_gate(&self) -> OwnedMutexGuard<()> {
        self.gate.clone().lock_owned().await
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on the write thread and commits it
    /// when `work` succeeds; on an error nothing of it is kept.
    pub(crate) async fn transaction<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = work(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Copies what is left of the WAL into the database file between two transactions, so
    /// that the next one starts the WAL over (see `super::super::upkeep`).
    pub(crate) async fn finish_checkpoint(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// Runs `work` on the write thread's connection.
    async fn run<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have given up waiting; what was done stands either way.
            let _ = reply.send(work(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Database("the SQLite write failed: it panicked".into()))?
    }
}

fn serve(mut conn: Connection, queue: mpsc::Receiver<Job>, gate: Arc<Mutex<()>>) {
    let mut run = |job: Job| {
        // A job that panics loses its own answer, not the thread: its transaction rolls
        // back as the panic unwinds, and the writes queued behind it go on.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
        if done.is_err() {
            tracing::error!("an SQLite write panicked; its transaction was rolled back");
        }
    };
    while let Ok(first) = queue.recv() {
        let _held = gate.blocking_lock();
        run(first);
        for job in queue.try_iter().take(JOBS_PER_GATE_HOLD - 1) {
            run(job);
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    C::DatabaseBusy
                        | C::DatabaseLocked
                        | C::CannotOpen
                        | C::SystemIoFailure
                        | C::DiskFull
                        | C::ReadOnly
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_that_panics_is_rolled_back_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v INTEGER);")
            .unwrap();
        let writer = SqliteWriter::open(&path).unwrap();
        let failed = writer
            .transaction(|tx| -> Result<(), StoreError> {
                tx.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("a bug in a write");
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        let count = writer
            .transaction(|tx| {
                tx.execute("INSERT INTO t VALUES (2)", [])?;
                Ok(tx.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)
            })
            .await
            .unwrap();
        assert_eq!(count, 1, "the panicked write's row was rolled back");
    }
}
