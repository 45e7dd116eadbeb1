-- The dispatcher looks for assigned conversations whose agent has not
-- replied in time, every second.
CREATE INDEX conversations_assigned_at ON conversations(state, assigned_at);
