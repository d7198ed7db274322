-- Plugins' key-value data, one namespace per plugin. `bytes` = length of key + value, summed
-- for the quota check.
CREATE TABLE plugin_kv (
    plugin        TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    value         BLOB    NOT NULL,
    bytes         INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (plugin, key)
);
