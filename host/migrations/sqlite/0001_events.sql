-- The event log: every accepted webhook, exactly as received, and hintd's own events.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    source         TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    dialog_id      TEXT,
    dedup_key      TEXT,
    received_at_ms BIGINT  NOT NULL,
    payload        BLOB    NOT NULL
);
CREATE UNIQUE INDEX events_dedup ON events (source, account, dedup_key) WHERE dedup_key IS NOT NULL;
