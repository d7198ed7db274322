//! SQLite's write path. sqlx runs each SQLite connection on a thread of its own and hands it
//! every statement separately (two thread switches per statement: an ingest batch of 32
//! events was ~45 of them, all while holding the write lock). Here one connection on one
//! thread runs each write transaction whole: the hot writes (ingest batches, the outbox
//! fan-out, served answers, plugin kv) cost one hand-off per transaction. Cold writes stay on sqlx; the
//! write gate ([`SqliteWriter::enter_gate`]) keeps the two from ever waiting inside SQLite.
//! Each table's transactions on this thread live beside its shared SQL, in `<table>/sqlite.rs`.

mod writer;

pub(crate) use writer::SqliteWriter;
