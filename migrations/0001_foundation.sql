-- Tenancy, people, visitors and the conversation log. Timestamps are Unix
-- milliseconds; ids are UUID text, so one set of queries serves both backends.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    site_key    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX sites_account ON sites(account_id);

CREATE TABLE site_origins (
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    PRIMARY KEY (site_id, origin)
);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
    password_hash  TEXT NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT NOT NULL
);
CREATE INDEX agents_account ON agents(account_id);

CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);

CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY,
    site_id            TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor_id         TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    state              TEXT NOT NULL CHECK (state IN ('waiting', 'assigned', 'closed')),
    assigned_agent_id  TEXT REFERENCES agents(id) ON DELETE SET NULL,
    last_seq           BIGINT NOT NULL DEFAULT 0,
    last_message       TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX conversations_site_state ON conversations(site_id, state, created_at);
CREATE INDEX conversations_agent ON conversations(assigned_agent_id, state);
CREATE INDEX conversations_visitor ON conversations(visitor_id, created_at);
-- A visitor has at most one open conversation; the store relies on it.
CREATE UNIQUE INDEX conversations_one_open_per_visitor
    ON conversations(visitor_id) WHERE state <> 'closed';

CREATE TABLE events (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('message', 'note', 'assigned', 'closed')),
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('visitor', 'agent', 'system')),
    author_id        TEXT,
    subject_id       TEXT,
    body             TEXT,
    client_id        TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
-- Idempotency: one stored event per sender and client-generated id.
CREATE UNIQUE INDEX events_client_id ON events(author_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expiry_ms  BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expiry_ms);
