-- A new kind of event is a new variant in the code, not a new schema: the
-- kind is checked by the code that reads it back (an unknown one is
-- refused there), and what a kind carries beyond the columns every event
-- has goes in `payload` (JSON). Rebuilt, since SQLite cannot drop a CHECK
-- in place; done while the table is small.
CREATE TABLE events_next (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'system')),
    author_id        TEXT,
    subject_id       TEXT,
    body             TEXT,
    client_id        TEXT,
    created_at       BIGINT NOT NULL,
    channel          TEXT,
    payload          TEXT,
    PRIMARY KEY (conversation_id, seq)
);
INSERT INTO events_next (conversation_id, seq, kind, author_kind, author_id, subject_id, body,
    client_id, created_at, channel)
SELECT conversation_id, seq, kind, author_kind, author_id, subject_id, body, client_id,
    created_at, channel
FROM events;
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;
-- Idempotency: one stored event per sender and client-generated id.
CREATE UNIQUE INDEX events_client_id ON events(author_id, client_id) WHERE client_id IS NOT NULL;
