-- Plugins' kv keys become bytes (the UTF-8 of the key): TEXT cannot hold NUL, and orders by
-- the database's collation. As BYTEA a key holding any character is stored, compared and
-- ordered the same way on SQLite and PostgreSQL: byte order, which for UTF-8 is code-point
-- order, and a prefix scan is a range of the primary key.
ALTER TABLE plugin_kv ALTER COLUMN key TYPE BYTEA USING convert_to(key, 'UTF8');

-- Each plugin's usage (the sum of `plugin_kv.bytes`), kept up to date by every kv write in
-- the write's own transaction, so the quota check reads one row instead of summing them all
-- (the row is also the lock that queues one plugin's writers); and the writes the quota
-- refused, for metrics and health reports.
CREATE TABLE plugin_kv_usage (
    plugin                TEXT   NOT NULL PRIMARY KEY,
    bytes                 BIGINT NOT NULL,
    quota_refusals        BIGINT NOT NULL DEFAULT 0,
    last_quota_refusal_ms BIGINT
);
INSERT INTO plugin_kv_usage (plugin, bytes)
    SELECT plugin, SUM(bytes) FROM plugin_kv GROUP BY plugin;
