-- Labels an account's agents put on conversations and contacts ("refund",
-- "vip"): one list per account, names lower-case and unique in it.
CREATE TABLE labels (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX labels_account_name ON labels(account_id, name);

CREATE TABLE conversation_labels (
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label_id         TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    added_by         TEXT,
    added_at         BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label ON conversation_labels(label_id, conversation_id);

CREATE TABLE contact_labels (
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    label_id    TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    added_by    TEXT,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (contact_id, label_id)
);
CREATE INDEX contact_labels_label ON contact_labels(label_id, contact_id);

-- A conversation's label names (a JSON array, sorted), kept with the rows
-- above in the same transaction, so every read of a conversation has them
-- without an aggregate the two backends spell differently.
ALTER TABLE conversations ADD COLUMN labels TEXT;

-- The account a conversation belongs to (its site's, which never
-- changes), so that a view of an account's conversations reads one index
-- in order, newest activity first, however many sites and conversations.
ALTER TABLE conversations ADD COLUMN account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE;
UPDATE conversations SET account_id = (SELECT s.account_id FROM sites s WHERE s.id = conversations.site_id);
CREATE INDEX conversations_account_view ON conversations(account_id, state, updated_at, id);
CREATE INDEX conversations_account_set_aside ON conversations(account_id, hold, updated_at, id)
    WHERE hold IS NOT NULL;
