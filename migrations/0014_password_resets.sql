-- Single-use links to choose a password: a reset asked for by email, and
-- the first run's setup link (the owner's password is never logged).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_agent ON password_resets(agent_id, created_at);
