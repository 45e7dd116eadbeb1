-- A shopper who left while waiting in a line: every widget of theirs on
-- this process closed while their conversation waited. `waiting_since` is
-- when it last joined the line (opened, reopened or requeued); a shopper
-- who comes back while it still waits sets `returned_at`. Who left and
-- never came back gave up (the reports also tell whether an agent answered
-- them later, by email).
CREATE TABLE queue_exits (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    waiting_since    BIGINT NOT NULL,
    left_at          BIGINT NOT NULL,
    returned_at      BIGINT
);
CREATE INDEX queue_exits_account ON queue_exits(account_id, left_at);
CREATE INDEX queue_exits_conversation ON queue_exits(conversation_id, left_at);
