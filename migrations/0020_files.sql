-- Files shoppers and agents attach to messages. The bytes live in the file
-- store (a folder, this database, or a bucket) under `storage_key`; these
-- rows say what they are and whose. No foreign keys: a row must outlive
-- the conversation or site it belonged to until its bytes are erased (see
-- `file_erasures`), so erasing is done by the code, never by a cascade.
CREATE TABLE files (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    -- Known at upload for a shopper's file, at attachment for an agent's.
    site_id          TEXT,
    -- Who uploaded it: a shopper (visitor) or an agent, never both.
    visitor_id       TEXT,
    agent_id         TEXT,
    -- The message it belongs to, once one refers to it.
    conversation_id  TEXT,
    client_id        TEXT,
    attached_at      BIGINT,
    name             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    sha256           TEXT NOT NULL,
    storage_key      TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX files_conversation ON files(conversation_id);
CREATE INDEX files_visitor ON files(visitor_id, created_at);
CREATE INDEX files_site ON files(site_id);
CREATE INDEX files_unattached ON files(attached_at, created_at);

-- Bytes to erase from the file store: written in the same transaction that
-- forgets their rows, removed once the store has erased them, so a crash
-- in between leaves work to finish, never a file nobody can find.
CREATE TABLE file_erasures (
    storage_key  TEXT PRIMARY KEY,
    queued_at    BIGINT NOT NULL
);

-- The database file store (the default on PostgreSQL): each file in
-- chunks, so no request holds a whole file in memory. BYTEA is PostgreSQL's
-- bytes; SQLite keeps a blob in a column of any declared type.
CREATE TABLE file_chunks (
    storage_key  TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (storage_key, seq)
);
