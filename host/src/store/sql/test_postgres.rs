//! A PostgreSQL store in a schema of its own, for unit tests (skipped when no server answers
//! at `HINTD_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

use super::SqlStore;
use crate::store::StoreConfig;

/// A migrated store in a fresh schema.
pub(crate) struct TestSchema {
    /// The store, its connections confined to the schema.
    pub store: SqlStore,
    /// The schema's name.
    pub schema: String,
    /// A pool outside the schema (for catalog queries and the final drop).
    pub admin: sqlx::PgPool,
}

impl TestSchema {
    /// Creates schema `t_<label>_<random>` and a store in it; `None` (with a note on stderr)
    /// when PostgreSQL is not reachable.
    pub(crate) async fn create(label: &str) -> Option<TestSchema> {
        let url = std::env::var("HINTD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let Ok(admin) = sqlx::PgPool::connect(&url).await else {
            eprintln!("skipped: no PostgreSQL at {url}");
            return None;
        };
        let schema = format!("t_{label}_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        let config = StoreConfig {
            url: format!("{url}{sep}options=-c%20search_path%3D{schema}"),
            ..StoreConfig::default()
        };
        let store = SqlStore::connect(&config).await.unwrap();
        Some(TestSchema {
            store,
            schema,
            admin,
        })
    }

    /// Removes the schema and everything in it.
    pub(crate) async fn remove(self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}
