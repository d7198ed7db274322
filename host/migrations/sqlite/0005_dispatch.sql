-- Webhook subscriptions, their durable outbox, the attempt log and the fan-out cursor.
CREATE TABLE webhooks (
    id                  TEXT    PRIMARY KEY,
    account             TEXT,               -- NULL: events of every account
    limit_key           TEXT    NOT NULL,   -- bucket of the per-account limit: account or '*'
    name                TEXT    NOT NULL,
    url                 TEXT    NOT NULL,
    events              TEXT    NOT NULL,   -- JSON array of subscription patterns
    status              TEXT    NOT NULL,   -- active | disabled
    disabled_reason     TEXT,
    disabled_at_ms      BIGINT,
    secret              BLOB    NOT NULL,   -- sealed (ChaCha20-Poly1305), never plaintext
    old_secret          BLOB,
    old_secret_until_ms BIGINT,
    created_at_ms       BIGINT  NOT NULL,
    updated_at_ms       BIGINT  NOT NULL,
    last_success_ms     BIGINT,
    failing_since_ms    BIGINT
);
CREATE INDEX webhooks_limit ON webhooks (limit_key);

CREATE TABLE webhook_messages (
    id              TEXT    PRIMARY KEY,    -- msg_...: the webhook-id header, derived from (webhook, event)
    webhook_id      TEXT    NOT NULL,
    event_seq       BIGINT  NOT NULL,
    event_type      TEXT    NOT NULL,
    order_key       TEXT,                   -- dialog the event belongs to: delivered in order
    payload         BLOB,                   -- NULL once purged by retention
    status          TEXT    NOT NULL,       -- pending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    created_at_ms   BIGINT  NOT NULL,
    finished_at_ms  BIGINT,
    last_error      TEXT
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_ms, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_messages_order ON webhook_messages (webhook_id, order_key, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_messages_webhook ON webhook_messages (webhook_id, event_seq);
CREATE INDEX webhook_messages_finished ON webhook_messages (finished_at_ms) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT    NOT NULL,
    message_id       TEXT    NOT NULL,
    attempt          INTEGER NOT NULL,
    at_ms            BIGINT  NOT NULL,
    duration_ms      BIGINT  NOT NULL,
    outcome          TEXT    NOT NULL,      -- success | failure
    http_status      INTEGER,
    error            TEXT,
    response_snippet TEXT
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at_ms);

-- How far fan-out has read the event log (SQLite commits in seq order: seq alone suffices).
CREATE TABLE dispatch_cursor (
    name          TEXT   PRIMARY KEY,
    last_tx       BIGINT NOT NULL,
    last_seq      BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
INSERT INTO dispatch_cursor (name, last_tx, last_seq, updated_at_ms) VALUES ('fanout', 0, 0, 0);
