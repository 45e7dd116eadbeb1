-- The owner console: a site's look, words, language and business hours
-- (JSON shaped like protocol::SiteSettings), where its widget was last seen
-- loading, invitations for new agents, and canned replies.
ALTER TABLE sites ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE sites ADD COLUMN seen_origin TEXT;
ALTER TABLE sites ADD COLUMN seen_page TEXT;
ALTER TABLE sites ADD COLUMN seen_at BIGINT;

CREATE TABLE invites (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'agent')),
    invited_by   TEXT REFERENCES agents(id) ON DELETE SET NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX invites_account ON invites(account_id, created_at);

-- agent_id NULL: shared with the whole account.
CREATE TABLE canned_replies (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    agent_id    TEXT REFERENCES agents(id) ON DELETE CASCADE,
    shortcut    TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut
    ON canned_replies(account_id, COALESCE(agent_id, ''), shortcut);

-- Whose session it is, so that deactivating someone ends their sessions.
ALTER TABLE sessions ADD COLUMN agent_id TEXT;
CREATE INDEX sessions_agent ON sessions(agent_id);
