//! SQL for plugins' key-value data. Keys are stored as the bytes of their UTF-8 (BLOB on
//! SQLite, BYTEA on PostgreSQL): TEXT on PostgreSQL cannot hold NUL and orders by the
//! database's collation, and SQLite's text functions stop at NUL (`substr('\0', 1, 1)` is
//! empty, which once hid key `"\0"` from a scan for it). As bytes, equality, order and a
//! prefix scan — the key range `prefix <= key < prefix_upper_bound(prefix)`, a range of the
//! primary key — are the same on both engines for every character.
//!
//! Each plugin's usage lives in `plugin_kv_usage`, updated in the transaction of every write;
//! on PostgreSQL that row's lock also queues the writers of one plugin (every writer locks it
//! before it touches an entry, so they never deadlock).

mod sqlite;

use crate::store::sql::SqlStore;
use crate::store::{KvQuotaRefusals, KvStore, KvWrite, StoreError};
use sqlx::Row;

/// A plugin's usage row (absent: the plugin never wrote).
pub(crate) const USAGE: &str = "SELECT bytes FROM plugin_kv_usage WHERE plugin = $1";

/// PostgreSQL: locks the plugin's usage row until commit, creating it at zero, and reads it.
const LOCK_USAGE: &str = "INSERT INTO plugin_kv_usage (plugin, bytes) VALUES ($1, 0) \
     ON CONFLICT (plugin) DO UPDATE SET bytes = plugin_kv_usage.bytes RETURNING bytes";

/// The size (key + value) of one entry.
pub(crate) const ENTRY_BYTES: &str = "SELECT bytes FROM plugin_kv WHERE plugin = $1 AND key = $2";

/// Writes one entry, replacing the key's old value.
pub(crate) const UPSERT_KV: &str = "INSERT INTO plugin_kv (plugin, key, value, bytes, updated_at_ms) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value, bytes = excluded.bytes, \
     updated_at_ms = excluded.updated_at_ms";

/// Adds `$2` (negative: frees) to a plugin's usage.
pub(crate) const ADD_USAGE: &str = "INSERT INTO plugin_kv_usage (plugin, bytes) VALUES ($1, $2) \
     ON CONFLICT (plugin) DO UPDATE SET bytes = plugin_kv_usage.bytes + excluded.bytes";

/// Counts one write the quota refused, at `$2` ms.
pub(crate) const RECORD_REFUSAL: &str = "INSERT INTO plugin_kv_usage (plugin, bytes, quota_refusals, last_quota_refusal_ms) \
     VALUES ($1, 0, 1, $2) ON CONFLICT (plugin) DO UPDATE SET \
     quota_refusals = plugin_kv_usage.quota_refusals + 1, \
     last_quota_refusal_ms = excluded.last_quota_refusal_ms";

/// Removes one entry, answering its size.
pub(crate) const DELETE_KV: &str =
    "DELETE FROM plugin_kv WHERE plugin = $1 AND key = $2 RETURNING bytes";

/// Whether a write of an entry of `bytes` that replaces one of `replaced` (0: a new key) must
/// be refused when the plugin uses `used`: when it grows the usage beyond the quota. A write
/// that does not grow it passes even over the quota (which may have been lowered), so a
/// plugin can always shrink its data.
pub(crate) fn exceeds_quota(used: i64, replaced: i64, bytes: i64, quota_bytes: u64) -> bool {
    bytes > replaced && (used - replaced + bytes).max(0) as u64 > quota_bytes
}

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (the empty prefix, or one of only `0xFF` bytes): a prefix scan is the
/// range `prefix <= key < upper`. UTF-8 never holds `0xFF`, so for a key's prefix this is the
/// prefix with its last byte plus one.
pub(crate) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < u8::MAX {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

/// A stored key as text; keys are written from strings only, so anything else is damage.
fn key_text(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes)
        .map_err(|e| StoreError::Database(format!("a stored kv key is not UTF-8: {e}")))
}

#[async_trait::async_trait]
impl KvStore for SqlStore {
    async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query("SELECT value FROM plugin_kv WHERE plugin = $1 AND key = $2")
            .bind(plugin)
            .bind(key.as_bytes())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn kv_set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota_bytes: u64,
    ) -> Result<KvWrite, StoreError> {
        if let Some(writer) = self.sqlite_writer() {
            let (plugin, key, value) = (plugin.to_owned(), key.to_owned(), value.to_vec());
            return writer
                .transaction(move |tx| {
                    sqlite::set(tx, &plugin, key.as_bytes(), &value, quota_bytes)
                })
                .await;
        }
        let bytes = (key.len() + value.len()) as i64;
        let mut tx = self.begin_write().await?;
        let used: i64 = sqlx::query(LOCK_USAGE)
            .bind(plugin)
            .fetch_one(&mut **tx)
            .await?
            .try_get("bytes")?;
        let replaced: i64 = match sqlx::query(ENTRY_BYTES)
            .bind(plugin)
            .bind(key.as_bytes())
            .fetch_optional(&mut **tx)
            .await?
        {
            Some(row) => row.try_get("bytes")?,
            None => 0,
        };
        if exceeds_quota(used, replaced, bytes, quota_bytes) {
            sqlx::query(RECORD_REFUSAL)
                .bind(plugin)
                .bind(crate::core::now_ms())
                .execute(&mut **tx)
                .await?;
            tx.commit().await?;
            return Ok(KvWrite::QuotaExceeded);
        }
        sqlx::query(UPSERT_KV)
            .bind(plugin)
            .bind(key.as_bytes())
            .bind(value)
            .bind(bytes)
            .bind(crate::core::now_ms())
            .execute(&mut **tx)
            .await?;
        sqlx::query(ADD_USAGE)
            .bind(plugin)
            .bind(bytes - replaced)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(KvWrite::Stored)
    }

    async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        if let Some(writer) = self.sqlite_writer() {
            let (plugin, key) = (plugin.to_owned(), key.to_owned());
            return writer
                .transaction(move |tx| sqlite::delete(tx, &plugin, key.as_bytes()))
                .await;
        }
        let mut tx = self.begin_write().await?;
        // The usage row first, as every writer of the plugin takes it: see the module's notes.
        sqlx::query("SELECT bytes FROM plugin_kv_usage WHERE plugin = $1 FOR UPDATE")
            .bind(plugin)
            .fetch_optional(&mut **tx)
            .await?;
        let freed: Option<i64> = sqlx::query(DELETE_KV)
            .bind(plugin)
            .bind(key.as_bytes())
            .fetch_optional(&mut **tx)
            .await?
            .map(|row| row.try_get("bytes"))
            .transpose()?;
        if let Some(freed) = freed {
            sqlx::query(ADD_USAGE)
                .bind(plugin)
                .bind(-freed)
                .execute(&mut **tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn kv_scan(
        &self,
        plugin: &str,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let query = match prefix_upper_bound(prefix.as_bytes()) {
            Some(upper) => sqlx::query(
                "SELECT key, value FROM plugin_kv WHERE plugin = $1 AND key >= $2 AND key < $3 \
                 ORDER BY key LIMIT $4",
            )
            .bind(plugin)
            .bind(prefix.as_bytes())
            .bind(upper),
            None => sqlx::query(
                "SELECT key, value FROM plugin_kv WHERE plugin = $1 AND key >= $2 \
                 ORDER BY key LIMIT $3",
            )
            .bind(plugin)
            .bind(prefix.as_bytes()),
        };
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| Ok((key_text(r.try_get("key")?)?, r.try_get("value")?)))
            .collect()
    }

    async fn kv_usage(&self, plugin: &str) -> Result<u64, StoreError> {
        let used: Option<i64> = sqlx::query(USAGE)
            .bind(plugin)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get("bytes"))
            .transpose()?;
        Ok(used.unwrap_or(0).max(0) as u64)
    }

    async fn kv_quota_refusals(&self, since_ms: i64) -> Result<Vec<KvQuotaRefusals>, StoreError> {
        let rows = sqlx::query(
            "SELECT plugin, bytes, quota_refusals, last_quota_refusal_ms FROM plugin_kv_usage \
             WHERE last_quota_refusal_ms >= $1 ORDER BY plugin",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(KvQuotaRefusals {
                    plugin: r.try_get("plugin")?,
                    used_bytes: r.try_get::<i64, _>("bytes")?.max(0) as u64,
                    refusals: r.try_get::<i64, _>("quota_refusals")?.max(0) as u64,
                    last_refusal_ms: r.try_get("last_quota_refusal_ms")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;
    use crate::store::sql::SqlStore;
    use crate::store::sql::test_postgres::TestSchema;
    use crate::store::{KvStore, KvWrite, StoreConfig};
    use sqlx::Row;
    use std::collections::BTreeSet;

    /// A fresh SQLite store in a temporary directory removed with it.
    async fn sqlite() -> SqlStore {
        SqlStore::connect(&StoreConfig {
            url: "sqlite::memory:".into(),
            ..StoreConfig::default()
        })
        .await
        .unwrap()
    }

    /// Two tests of `check`: on SQLite, and on PostgreSQL (skipped when none answers).
    macro_rules! on_both_engines {
        ($check:ident) => {
            mod $check {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$check(super::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(pg) = super::TestSchema::create("kv").await else {
                        return;
                    };
                    super::$check(pg.store.clone()).await;
                    pg.remove().await;
                }
            }
        };
    }

    /// The plugin's usage recomputed from its entries.
    async fn usage_of_entries(s: &SqlStore, plugin: &str) -> u64 {
        let used: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(length(key) + length(value)), 0) AS BIGINT) AS used \
             FROM plugin_kv WHERE plugin = $1",
        )
        .bind(plugin)
        .fetch_one(&s.pool)
        .await
        .unwrap()
        .get("used");
        used as u64
    }

    fn keys(entries: Vec<(String, Vec<u8>)>) -> Vec<String> {
        entries.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn upper_bound_is_the_next_prefix_of_the_same_length_or_shorter() {
        assert_eq!(prefix_upper_bound(b""), None);
        assert_eq!(prefix_upper_bound(b"\0"), Some(b"\x01".to_vec()));
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_upper_bound(b"\xff\xff"), None);
        // The last code point, F4 8F BF BF.
        assert_eq!(
            prefix_upper_bound("\u{10FFFF}".as_bytes()),
            Some(vec![0xF4, 0x8F, 0xBF, 0xC0])
        );
    }

    on_both_engines!(quota_counts_keys_and_values_and_replacements);
    async fn quota_counts_keys_and_values_and_replacements(s: SqlStore) {
        assert_eq!(
            s.kv_set("p", "a", &[0; 6], 10).await.unwrap(),
            KvWrite::Stored
        );
        assert_eq!(s.kv_usage("p").await.unwrap(), 7);
        // Replacing a key frees its old size first.
        assert_eq!(
            s.kv_set("p", "a", &[0; 9], 10).await.unwrap(),
            KvWrite::Stored
        );
        assert_eq!(
            s.kv_set("p", "b", &[0; 1], 10).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        assert_eq!(s.kv_get("p", "a").await.unwrap().unwrap().len(), 9);
        assert_eq!(s.kv_get("p", "b").await.unwrap(), None);
        // Another plugin has its own quota.
        assert_eq!(
            s.kv_set("q", "b", &[0; 1], 10).await.unwrap(),
            KvWrite::Stored
        );
    }

    on_both_engines!(scan_is_prefix_ordered_and_limited);
    async fn scan_is_prefix_ordered_and_limited(s: SqlStore) {
        for k in ["b/2", "b/1", "a/1", "b/3", "bx"] {
            s.kv_set("p", k, k.as_bytes(), 1000).await.unwrap();
        }
        let keys = keys(s.kv_scan("p", "b/", 2).await.unwrap());
        assert_eq!(keys, ["b/1", "b/2"]);
        s.kv_delete("p", "b/1").await.unwrap();
        s.kv_delete("p", "absent").await.unwrap();
        assert_eq!(s.kv_scan("p", "b/", 10).await.unwrap().len(), 2);
    }

    /// Keys that a LIKE or GLOB pattern, a text function stopping at NUL, a collation or a
    /// careless upper bound would get wrong.
    const AWKWARD_KEYS: [&str; 36] = [
        "\0",
        "\0\0",
        "\0a",
        "a\0b",
        "a",
        "ab",
        "a%b",
        "a_b",
        "aZ",
        "Z",
        "%",
        "%x",
        "_",
        "_y",
        "\\",
        "\\z",
        "\\%",
        "*",
        "*1",
        "?",
        "?q",
        "[",
        "[a]",
        "[!a]",
        "e",
        "é",
        "éa",
        "E\u{301}",
        "日本",
        "日本語",
        "\u{7F}",
        "\u{80}",
        "\u{FFFF}",
        "\u{10FFFF}",
        "\u{10FFFF}x",
        "\u{10FFFF}\u{10FFFF}",
    ];

    on_both_engines!(scan_finds_every_prefix);
    async fn scan_finds_every_prefix(s: SqlStore) {
        for k in AWKWARD_KEYS {
            assert_eq!(
                s.kv_set("p", k, k.as_bytes(), 1 << 20).await.unwrap(),
                KvWrite::Stored
            );
        }
        // Another plugin's keys never show.
        s.kv_set("q", "a", b"q's", 1 << 20).await.unwrap();
        s.kv_set("o", "a", b"o's", 1 << 20).await.unwrap();
        // Rust orders strings by their UTF-8 bytes: code-point order.
        let mut sorted: Vec<&str> = AWKWARD_KEYS.to_vec();
        sorted.sort();
        let mut prefixes: BTreeSet<String> = AWKWARD_KEYS
            .iter()
            .flat_map(|k| k.char_indices().map(|(i, _)| k[..i].to_string()))
            .chain(AWKWARD_KEYS.iter().map(|k| k.to_string()))
            .collect();
        for extra in [
            "b",
            "%%",
            "\\\\",
            "日",
            "[a",
            "\u{10FFFE}",
            "\u{10FFFF}\u{10FFFF}\u{10FFFF}",
        ] {
            prefixes.insert(extra.to_string());
        }
        for prefix in &prefixes {
            for limit in [1000, 2, 1, 0] {
                let want: Vec<&str> = sorted
                    .iter()
                    .copied()
                    .filter(|k| k.starts_with(prefix.as_str()))
                    .take(limit as usize)
                    .collect();
                let got = s.kv_scan("p", prefix, limit).await.unwrap();
                assert!(
                    got.iter().all(|(k, v)| k.as_bytes() == v.as_slice()),
                    "prefix {prefix:?}: values follow their keys"
                );
                assert_eq!(keys(got), want, "prefix {prefix:?}, limit {limit}");
            }
        }
    }

    on_both_engines!(nul_is_an_ordinary_key_character);
    async fn nul_is_an_ordinary_key_character(s: SqlStore) {
        for (k, v) in [("\0", b"nul".as_slice()), ("a\0", b"a-nul"), ("a", b"a")] {
            assert_eq!(s.kv_set("p", k, v, 1000).await.unwrap(), KvWrite::Stored);
        }
        assert_eq!(s.kv_get("p", "\0").await.unwrap().unwrap(), b"nul");
        assert_eq!(s.kv_get("p", "a\0").await.unwrap().unwrap(), b"a-nul");
        assert_eq!(s.kv_get("p", "a").await.unwrap().unwrap(), b"a");
        assert_eq!(s.kv_get("p", "\0\0").await.unwrap(), None);
        assert_eq!(keys(s.kv_scan("p", "\0", 10).await.unwrap()), ["\0"]);
        assert_eq!(keys(s.kv_scan("p", "a", 10).await.unwrap()), ["a", "a\0"]);
        assert_eq!(s.kv_usage("p").await.unwrap(), 4 + 7 + 2);
        s.kv_delete("p", "\0").await.unwrap();
        assert_eq!(s.kv_get("p", "\0").await.unwrap(), None);
        assert_eq!(s.kv_usage("p").await.unwrap(), 7 + 2);
    }

    on_both_engines!(usage_stays_in_step_with_the_entries);
    async fn usage_stays_in_step_with_the_entries(s: SqlStore) {
        assert_eq!(
            s.kv_usage("p").await.unwrap(),
            0,
            "a plugin that never wrote"
        );
        let quota = 300;
        for round in 0..3usize {
            for i in 0..12usize {
                let key = format!("k{}", i % 7);
                let value = vec![1u8; (i * 7 + round * 13) % 40];
                s.kv_set("p", &key, &value, quota).await.unwrap();
                if i % 5 == 4 {
                    s.kv_delete("p", &format!("k{}", (i + round) % 9))
                        .await
                        .unwrap();
                }
                assert_eq!(
                    s.kv_usage("p").await.unwrap(),
                    usage_of_entries(&s, "p").await,
                    "round {round}, write {i}"
                );
            }
        }
        assert!(s.kv_usage("p").await.unwrap() <= quota);
        for (k, _) in s.kv_scan("p", "", 100).await.unwrap() {
            s.kv_delete("p", &k).await.unwrap();
        }
        assert_eq!(s.kv_usage("p").await.unwrap(), 0);
    }

    on_both_engines!(concurrent_writers_never_exceed_the_quota_together);
    async fn concurrent_writers_never_exceed_the_quota_together(s: SqlStore) {
        // 40 writers of 100 bytes each (3-byte key, 97-byte value) against a 1 000-byte quota.
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.kv_set("p", &format!("k{i:02}"), &[7; 97], 1000)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut stored = 0;
        for t in tasks {
            if t.await.unwrap() == KvWrite::Stored {
                stored += 1;
            }
        }
        assert_eq!(stored, 10);
        assert_eq!(s.kv_usage("p").await.unwrap(), 1000);
        assert_eq!(usage_of_entries(&s, "p").await, 1000);
        let refused = s.kv_quota_refusals(0).await.unwrap();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].refusals, 30);
    }

    on_both_engines!(a_write_that_does_not_grow_usage_passes_over_the_quota);
    async fn a_write_that_does_not_grow_usage_passes_over_the_quota(s: SqlStore) {
        s.kv_set("p", "a", &[0; 10], 100).await.unwrap();
        s.kv_set("p", "b", &[0; 10], 100).await.unwrap();
        // The quota was lowered below what the plugin holds: it can still shrink.
        assert_eq!(
            s.kv_set("p", "a", &[0; 4], 5).await.unwrap(),
            KvWrite::Stored
        );
        assert_eq!(
            s.kv_set("p", "a", &[0; 4], 5).await.unwrap(),
            KvWrite::Stored,
            "the same size again"
        );
        assert_eq!(
            s.kv_set("p", "a", &[0; 5], 5).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        assert_eq!(
            s.kv_set("p", "c", &[], 5).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        assert_eq!(s.kv_get("p", "a").await.unwrap().unwrap().len(), 4);
        assert_eq!(s.kv_usage("p").await.unwrap(), 5 + 11);
    }

    on_both_engines!(quota_refusals_are_recorded_per_plugin);
    async fn quota_refusals_are_recorded_per_plugin(s: SqlStore) {
        assert!(s.kv_quota_refusals(0).await.unwrap().is_empty());
        let before = crate::core::now_ms();
        s.kv_set("p", "a", &[0; 5], 10).await.unwrap();
        s.kv_set("q", "a", &[0; 5], 10).await.unwrap();
        // Too large alone, and too large beside what is stored.
        assert_eq!(
            s.kv_set("p", "big", &[0; 100], 10).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        assert_eq!(
            s.kv_set("p", "b", &[0; 5], 10).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        // A plugin whose very first write is refused.
        assert_eq!(
            s.kv_set("r", "a", &[0; 50], 10).await.unwrap(),
            KvWrite::QuotaExceeded
        );
        let after = crate::core::now_ms();
        let refused = s.kv_quota_refusals(before).await.unwrap();
        let names: Vec<&str> = refused.iter().map(|r| r.plugin.as_str()).collect();
        assert_eq!(names, ["p", "r"], "q was never refused");
        assert_eq!((refused[0].refusals, refused[0].used_bytes), (2, 6));
        assert_eq!((refused[1].refusals, refused[1].used_bytes), (1, 0));
        assert!((before..=after).contains(&refused[0].last_refusal_ms));
        assert!(
            s.kv_quota_refusals(after + 1).await.unwrap().is_empty(),
            "nothing refused since"
        );
        assert_eq!(
            s.kv_get("p", "big").await.unwrap(),
            None,
            "nothing half-stored"
        );
        assert_eq!(s.kv_usage("r").await.unwrap(), 0);
    }

    /// The migrations before 0007 applied to `pool`.
    async fn migrate_to_0006(pool: &sqlx::AnyPool, mut migrator: sqlx::migrate::Migrator) {
        migrator.migrations = migrator
            .migrations
            .iter()
            .filter(|m| m.version < 7)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        migrator.run(pool).await.unwrap();
    }

    /// Entries written by a build before 0007 (keys as TEXT, no usage rows).
    async fn write_old_entries(pool: &sqlx::AnyPool, entries: &[(&str, &str, usize)]) {
        for (plugin, key, len) in entries {
            sqlx::query(
                "INSERT INTO plugin_kv (plugin, key, value, bytes, updated_at_ms) \
                 VALUES ($1, $2, $3, $4, 0)",
            )
            .bind(*plugin)
            .bind(*key)
            .bind(vec![1u8; *len])
            .bind((key.len() + len) as i64)
            .execute(pool)
            .await
            .unwrap();
        }
    }

    /// After 0007 the entries written before it read, scan and count as before.
    async fn check_migrated(s: &SqlStore, entries: &[(&str, &str, usize)]) {
        for (plugin, key, len) in entries {
            assert_eq!(
                s.kv_get(plugin, key).await.unwrap().map(|v| v.len()),
                Some(*len),
                "{plugin} {key:?}"
            );
        }
        for plugin in ["p", "q"] {
            let mut want: Vec<&str> = entries
                .iter()
                .filter(|e| e.0 == plugin)
                .map(|e| e.1)
                .collect();
            want.sort();
            assert_eq!(keys(s.kv_scan(plugin, "", 100).await.unwrap()), want);
            assert_eq!(
                s.kv_usage(plugin).await.unwrap(),
                usage_of_entries(s, plugin).await
            );
        }
        assert_eq!(s.kv_usage("p").await.unwrap(), 2 + 10 + 3 + 20 + 6 + 30);
        // The backfilled usage is what the quota checks.
        let used = s.kv_usage("p").await.unwrap();
        assert_eq!(
            s.kv_set("p", "n", &[0; 9], used + 10).await.unwrap(),
            KvWrite::Stored
        );
        assert_eq!(
            s.kv_set("p", "o", &[0; 1], used + 10).await.unwrap(),
            KvWrite::QuotaExceeded
        );
    }

    const OLD_ENTRIES: [(&str, &str, usize); 4] = [
        ("p", "k1", 10),
        ("p", "éa", 20),
        ("p", "日本", 30),
        ("q", "k1", 5),
    ];

    #[tokio::test]
    async fn migration_0007_keeps_and_counts_existing_entries_on_sqlite() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/old.db?mode=rwc", dir.path().display());
        let old = sqlx::AnyPool::connect(&url).await.unwrap();
        migrate_to_0006(&old, sqlx::migrate!("migrations/sqlite")).await;
        // SQLite's TEXT held NUL: such a key survives the move to bytes whole.
        let mut entries = OLD_ENTRIES.to_vec();
        entries.push(("q", "a\0b", 7));
        write_old_entries(&old, &entries).await;
        old.close().await;
        let s = SqlStore::connect(&StoreConfig {
            url,
            ..StoreConfig::default()
        })
        .await
        .unwrap();
        check_migrated(&s, &entries).await;
    }

    #[tokio::test]
    async fn migration_0007_keeps_and_counts_existing_entries_on_postgres() {
        let Some(pg) = TestSchema::create("kvmig").await else {
            return;
        };
        // A second store in a schema of its own, migrated only to 0006 before it opens.
        let schema = format!("t_kvold_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pg.admin)
            .await
            .unwrap();
        let base = std::env::var("HINTD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let old = sqlx::AnyPool::connect(&url).await.unwrap();
        migrate_to_0006(&old, sqlx::migrate!("migrations/postgres")).await;
        write_old_entries(&old, &OLD_ENTRIES).await;
        old.close().await;
        let s = SqlStore::connect(&StoreConfig {
            url,
            ..StoreConfig::default()
        })
        .await
        .unwrap();
        check_migrated(&s, &OLD_ENTRIES).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pg.admin)
            .await
            .unwrap();
        pg.remove().await;
    }

    /// Fills plugin `plugin` (which has no entries yet) with `rows` entries of 100-byte
    /// values in one statement, and its usage row.
    async fn fill(s: &SqlStore, plugin: &str, rows: i64) {
        let key = match s.dialect {
            crate::store::sql::Dialect::Sqlite => "CAST('fill/' || i AS BLOB)",
            crate::store::sql::Dialect::Postgres => "convert_to('fill/' || i, 'UTF8')",
        };
        let _gate = s.enter_gate().await;
        sqlx::query(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
             INSERT INTO plugin_kv (plugin, key, value, bytes, updated_at_ms) \
             SELECT $1, {key}, $3, 105 + length('' || i), 0 FROM n"
        ))
        .bind(plugin)
        .bind(rows)
        .bind(vec![7u8; 100])
        .execute(&s.writes)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO plugin_kv_usage (plugin, bytes) \
             SELECT plugin, SUM(bytes) FROM plugin_kv WHERE plugin = $1 GROUP BY plugin",
        )
        .bind(plugin)
        .execute(&s.writes)
        .await
        .unwrap();
    }

    /// Mean time of one `kv_set` of a new key (100-byte value) by a plugin that already
    /// holds `rows` entries, in ms.
    async fn mean_set_ms(s: &SqlStore, plugin: &str, rows: i64) -> f64 {
        fill(s, plugin, rows).await;
        let sets = 200;
        let started = std::time::Instant::now();
        for i in 0..sets {
            let stored = s
                .kv_set(plugin, &format!("new/{i:05}"), &[7; 100], 1 << 40)
                .await
                .unwrap();
            assert_eq!(stored, KvWrite::Stored);
        }
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(sets)
    }

    /// `cargo test -p hintd --lib kv_set_cost -- --ignored --nocapture`: per-set time at
    /// 1 000 and 40 000 rows on SQLite and (when reachable) PostgreSQL.
    #[tokio::test]
    #[ignore = "a measurement, not a check"]
    async fn kv_set_cost() {
        for rows in [1_000, 40_000] {
            let s = sqlite().await;
            let ms = mean_set_ms(&s, "bench", rows).await;
            eprintln!("sqlite: {rows} rows: {ms:.3} ms per set");
        }
        for rows in [1_000, 40_000] {
            let Some(pg) = TestSchema::create("kvbench").await else {
                return;
            };
            let ms = mean_set_ms(&pg.store, "bench", rows).await;
            eprintln!("postgres: {rows} rows: {ms:.3} ms per set");
            pg.remove().await;
        }
    }
}
