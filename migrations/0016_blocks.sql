-- Shoppers an account's agents blocked: a visitor, and optionally the
-- address they came from (IPv6 by its /64). A block is lifted by deleting it.
CREATE TABLE blocks (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    visitor_id  TEXT REFERENCES visitors(id) ON DELETE CASCADE,
    address     TEXT,
    reason      TEXT NOT NULL,
    blocked_by  TEXT REFERENCES agents(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX blocks_visitor ON blocks(visitor_id);
CREATE INDEX blocks_address ON blocks(account_id, address);
-- The address a visitor last came from, as blocks and limits count it.
ALTER TABLE visitors ADD COLUMN last_address TEXT;
