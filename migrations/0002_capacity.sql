-- Matching: how many open conversations an agent may hold at once (NULL =
-- the site's default) and when each agent was last given one, so fairness
-- survives restarts and holds across server processes.
ALTER TABLE sites ADD COLUMN agent_capacity BIGINT NOT NULL DEFAULT 5;
ALTER TABLE agents ADD COLUMN capacity BIGINT;
ALTER TABLE agents ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;
-- When the current agent took the conversation, for handling-time estimates.
ALTER TABLE conversations ADD COLUMN assigned_at BIGINT;
ALTER TABLE conversations ADD COLUMN closed_at BIGINT;
