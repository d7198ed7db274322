-- Conversations: each dialog's state and its messages, kept beside the raw event log.
-- The client of an event, so that erasure can find a client's raw events.
ALTER TABLE events ADD COLUMN client_id TEXT;
CREATE INDEX events_client ON events (source, account, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX events_dialog ON events (source, account, dialog_id) WHERE dialog_id IS NOT NULL;

CREATE TABLE dialogs (
    source        TEXT    NOT NULL,
    account       TEXT    NOT NULL,
    dialog_id     TEXT    NOT NULL,
    client_id     TEXT,
    operator_id   TEXT,
    channel_id    TEXT,
    transport     TEXT,
    external_key  TEXT,
    -- 'open' or 'closed'
    status        TEXT    NOT NULL DEFAULT 'open',
    opened_at_ms  BIGINT  NOT NULL,
    closed_at_ms  BIGINT,
    updated_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (source, account, dialog_id)
);
CREATE INDEX dialogs_client ON dialogs (source, account, client_id);

CREATE TABLE messages (
    source       TEXT    NOT NULL,
    account      TEXT    NOT NULL,
    dialog_id    TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    client_id    TEXT,
    -- 'client', 'operator', 'bot' or 'system'
    role         TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    sent_at_ms   BIGINT  NOT NULL,
    -- 0/1: a private note (stored, never shown to plugins)
    private      INTEGER NOT NULL DEFAULT 0,
    media_type   TEXT,
    media_url    TEXT,
    -- 0/1: deleted on the platform (text cleared; kept so a late duplicate cannot revive it)
    deleted      INTEGER NOT NULL DEFAULT 0,
    edited_at_ms BIGINT,
    PRIMARY KEY (source, account, dialog_id, message_id)
);
-- A dialog's messages are found through the primary key's prefix; ordering them by time is a
-- small sort, cheaper than one more index to update on every message.
CREATE INDEX messages_client ON messages (source, account, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_sent ON messages (sent_at_ms);
