-- Hint answers as served (with the reply body and the context they came from), every hint
-- shown with its origin plugin, and the operators' choices.
CREATE TABLE hint_answers (
    id            TEXT    PRIMARY KEY,
    source        TEXT    NOT NULL,
    account       TEXT    NOT NULL,
    dialog_id     TEXT    NOT NULL,
    client_id     TEXT,
    message_id    TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    request_key   TEXT,
    created_at_ms BIGINT  NOT NULL,
    replay_until_ms BIGINT NOT NULL,
    hint_count    BIGINT  NOT NULL,
    body          BYTEA   NOT NULL,
    context       BYTEA   NOT NULL
);
CREATE UNIQUE INDEX hint_answers_request ON hint_answers (request_key) WHERE request_key IS NOT NULL;
CREATE INDEX hint_answers_message ON hint_answers (source, account, message_id, created_at_ms);
CREATE INDEX hint_answers_created ON hint_answers (created_at_ms);

CREATE TABLE hint_answer_hints (
    answer_id  TEXT    NOT NULL REFERENCES hint_answers (id) ON DELETE CASCADE,
    hint_id    BIGINT  NOT NULL,
    plugin     TEXT    NOT NULL,
    local_id   TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    url        TEXT,
    link       TEXT,
    relevance  BIGINT  NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    origins    BYTEA   NOT NULL,
    PRIMARY KEY (answer_id, hint_id)
);
CREATE INDEX hint_answer_hints_plugin ON hint_answer_hints (plugin);

CREATE TABLE hint_choices (
    answer_id     TEXT    NOT NULL REFERENCES hint_answers (id) ON DELETE CASCADE,
    hint_id       BIGINT  NOT NULL,
    plugin        TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    chosen_at_ms  BIGINT  NOT NULL,
    PRIMARY KEY (answer_id, hint_id)
);
