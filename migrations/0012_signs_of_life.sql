-- Signs of life: how far the agents have read a conversation and how many
-- of the shopper's messages they have not, and the page the shopper is on
-- now (the inbox names an anonymous shopper by it).
ALTER TABLE conversations ADD COLUMN agent_read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN unread_for_agents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN last_page TEXT;
