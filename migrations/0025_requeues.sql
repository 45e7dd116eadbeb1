-- Why a conversation went back to a line, for the reports: its agent did
-- not reply in time ('no_reply'), went offline or was not connected
-- anywhere ('went_offline'), was deactivated ('deactivated'), or handed it
-- to a team's line ('handed_back'). Written with the requeue, in its
-- transaction.
CREATE TABLE requeues (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    account_id       TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    agent_id         TEXT REFERENCES agents(id) ON DELETE SET NULL,
    reason           TEXT NOT NULL
                     CHECK (reason IN ('no_reply', 'went_offline', 'deactivated', 'handed_back')),
    created_at       BIGINT NOT NULL
);
CREATE INDEX requeues_account ON requeues(account_id, created_at);
CREATE INDEX requeues_conversation ON requeues(conversation_id, created_at);
