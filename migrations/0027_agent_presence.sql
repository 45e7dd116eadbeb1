-- Who was online when, for the reports (staffing beside the busiest
-- hours): spans of an agent's status ('online' or 'away'; offline is no
-- span) as one server process saw their inboxes (`node`; an agent with
-- inboxes on two processes has a span on each). `seen_at` is moved on
-- every few seconds while a span is open, so a span a stopped process left
-- open ends, for whoever reads it, where it was last seen.
CREATE TABLE agent_presence (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    node        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('online', 'away')),
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT,
    seen_at     BIGINT NOT NULL
);
CREATE INDEX agent_presence_account ON agent_presence(account_id, started_at);
CREATE INDEX agent_presence_open ON agent_presence(node, agent_id) WHERE ended_at IS NULL;
