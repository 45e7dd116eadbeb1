-- Teams (sales, support, billing…) and the topics a site offers, each
-- routed to one team. A conversation with a team is only ever offered to
-- that team's agents.
CREATE TABLE teams (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    agent_id  TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members(agent_id);

CREATE TABLE site_topics (
    site_id  TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    topic    TEXT NOT NULL,
    label    TEXT NOT NULL,
    team_id  TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (site_id, topic)
);

ALTER TABLE conversations ADD COLUMN team_id TEXT REFERENCES teams(id) ON DELETE SET NULL;
