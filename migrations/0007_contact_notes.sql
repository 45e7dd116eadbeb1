-- What agents know about a contact beyond what the shop sent: shared notes
-- (sales, support, marketing alike) and edits to attributes, each with who
-- made it. Agent-only: nothing here is ever sent to a shopper.
CREATE TABLE contact_notes (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id    TEXT REFERENCES agents(id) ON DELETE SET NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX contact_notes_contact ON contact_notes(contact_id, created_at);

CREATE TABLE attribute_changes (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    agent_id    TEXT REFERENCES agents(id) ON DELETE SET NULL,
    name        TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX attribute_changes_contact ON attribute_changes(contact_id, created_at);

-- The shopper's browser as last seen, for the agent's view of who they are.
ALTER TABLE visitors ADD COLUMN user_agent TEXT;
ALTER TABLE visitors ADD COLUMN language TEXT;
