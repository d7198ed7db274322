-- Plugins' kv keys become bytes (the UTF-8 of the key), so that a key holding any character,
-- NUL included, is stored, compared and ordered the same way on SQLite and PostgreSQL: byte
-- order, which for UTF-8 is code-point order, and a prefix scan is a range of the primary key.
-- SQLite cannot change a column's type in place: the table is rebuilt.
CREATE TABLE plugin_kv_bytes (
    plugin        TEXT    NOT NULL,
    key           BLOB    NOT NULL,
    value         BLOB    NOT NULL,
    bytes         INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (plugin, key)
);
INSERT INTO plugin_kv_bytes (plugin, key, value, bytes, updated_at_ms)
    SELECT plugin, CAST(key AS BLOB), value, bytes, updated_at_ms FROM plugin_kv;
DROP TABLE plugin_kv;
ALTER TABLE plugin_kv_bytes RENAME TO plugin_kv;

-- Each plugin's usage (the sum of `plugin_kv.bytes`), kept up to date by every kv write in
-- the write's own transaction, so the quota check reads one row instead of summing them all;
-- and the writes the quota refused, for metrics and health reports.
CREATE TABLE plugin_kv_usage (
    plugin                TEXT    NOT NULL PRIMARY KEY,
    bytes                 INTEGER NOT NULL,
    quota_refusals        INTEGER NOT NULL DEFAULT 0,
    last_quota_refusal_ms INTEGER
);
INSERT INTO plugin_kv_usage (plugin, bytes)
    SELECT plugin, SUM(bytes) FROM plugin_kv GROUP BY plugin;
