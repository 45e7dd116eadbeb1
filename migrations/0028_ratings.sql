-- Whether the shopper is asked to rate a chat once it ends: an agent may
-- close without asking (spam, an "ok thanks"). Set at each close.
ALTER TABLE conversations ADD COLUMN rating_asked BOOLEAN NOT NULL DEFAULT TRUE;

-- Each conversation's rating as it stands (the log keeps every `rated`
-- event; this is the last one), for the widget and the reports. Written in
-- the rating event's transaction.
CREATE TABLE ratings (
    conversation_id  TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment          TEXT,
    -- When it was first given (it may be changed for a day after) and last.
    first_at         BIGINT NOT NULL,
    rated_at         BIGINT NOT NULL
);
CREATE INDEX ratings_account ON ratings(account_id, rated_at);

-- Ratings given before this table are read from the log at the next start.
INSERT INTO data_migrations (name, done_at) VALUES ('ratings_from_log', NULL);
