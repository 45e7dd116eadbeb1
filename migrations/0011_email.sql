-- Email as a second channel of the same conversation: replies the shopper
-- has not seen go out by email, and their email reply comes back in.

-- What the shopper has read (a seq), the last agent message, what was
-- already emailed, and since when an agent message waits unseen (Unix ms;
-- NULL when nothing does).
ALTER TABLE conversations ADD COLUMN shopper_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_agent_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN emailed_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN unseen_since BIGINT;
CREATE INDEX conversations_unseen ON conversations(unseen_since);

-- How a message arrived: NULL for the chat, 'email' for an email reply.
ALTER TABLE events ADD COLUMN channel TEXT;

-- Seconds an agent's reply may wait unseen before it is emailed; NULL: never.
ALTER TABLE sites ADD COLUMN email_delay_secs BIGINT DEFAULT 180;

-- An email address the shopper gave (to be answered at), plain, so that
-- mail can find it; the unverified JSON keeps what else they stated.
ALTER TABLE visitors ADD COLUMN stated_email TEXT;

-- More than one browser may stand for a visitor (a "continue in the chat"
-- link from an email signs a new one in); visitors.token_hash is the first.
CREATE TABLE visitor_tokens (
    token_hash  TEXT PRIMARY KEY,
    visitor_id  TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX visitor_tokens_visitor ON visitor_tokens(visitor_id);

-- Mail waiting to go out, going, sent or given up on. `message` is the
-- whole RFC 5322 text, built when queued, so a retry sends the same bytes.
CREATE TABLE mail_outbox (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id  TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('unseen', 'transcript')),
    envelope_from    TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    message          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
CREATE INDEX mail_outbox_site ON mail_outbox(site_id, status, created_at);

-- Addresses that asked a site to stop emailing them.
CREATE TABLE mail_optouts (
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (site_id, email)
);

-- Secrets of the whole installation, shared by every process (the key that
-- signs reply addresses and links in mail).
CREATE TABLE server_keys (
    name        TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
