-- The line's first promise to a waiting shopper, for the reports' "was the
-- estimate honest": the wait it estimated (ms) and when it said so.
ALTER TABLE conversations ADD COLUMN promised_wait_ms BIGINT;
ALTER TABLE conversations ADD COLUMN promised_at BIGINT;

-- Reports read an account's conversations by when they started.
CREATE INDEX conversations_account_created ON conversations(account_id, created_at);

-- "Answered by email after they left": a conversation's letters.
CREATE INDEX mail_outbox_conversation ON mail_outbox(conversation_id, created_at);
