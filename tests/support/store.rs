//! The store matrix: every end-to-end test runs on SQLite by default and on PostgreSQL when
//! `HINTD_TEST_STORE=postgres`. Each PostgreSQL test gets a schema of its own, so runs and
//! parallel tests never see each other's rows.

use std::path::Path;

/// The PostgreSQL server tests use: `HINTD_TEST_POSTGRES_URL`, or the local default.
pub fn postgres_base_url() -> String {
    std::env::var("HINTD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Whether this run targets PostgreSQL.
pub fn is_postgres() -> bool {
    std::env::var("HINTD_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// A fresh store URL for one test: an SQLite file in `dir`, or a new PostgreSQL schema.
pub fn fresh_store_url(dir: &Path) -> String {
    if is_postgres() {
        fresh_postgres_schema()
    } else {
        format!("sqlite://{}", dir.join("hintd.db").display())
    }
}

/// Creates an empty schema `hintd_t_<random>` and returns a URL whose connections use it.
pub fn fresh_postgres_schema() -> String {
    let base = postgres_base_url();
    let schema = format!("hintd_t_{}", uuid_like());
    let create = format!("CREATE SCHEMA {schema}");
    let url = base.clone();
    // Tests call this from inside their own runtime; the schema is made on a separate thread
    // with a runtime of its own so no runtime is ever blocked on.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {url} (set HINTD_TEST_POSTGRES_URL): {e}")
            });
            sqlx::query(&create).execute(&mut conn).await.unwrap();
        })
    })
    .join()
    .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}
