-- Shops' own customers. A site's backend signs a short-lived token (HS256)
-- with one of the site's secrets; a verified token makes the browser's
-- visitor a contact. A contact has one primary visitor; another browser that
-- identifies as the same contact is merged into it (its token then stands
-- for the primary), so one conversation follows the shopper everywhere.
CREATE TABLE site_secrets (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- Unix ms from which tokens signed with it are refused; NULL while current.
    retires_at  BIGINT
);
CREATE INDEX site_secrets_site ON site_secrets(site_id);

-- 1: an identify without a valid signed token is refused.
ALTER TABLE sites ADD COLUMN enforce_identity BIGINT NOT NULL DEFAULT 0;

CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    site_id      TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    -- The shop's own id for this customer (the token's `sub`).
    external_id  TEXT NOT NULL,
    name         TEXT,
    email        TEXT,
    phone        TEXT,
    language     TEXT,
    -- JSON object of what else the shop knows (tier, last order, …).
    attributes   TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (site_id, external_id)
);

ALTER TABLE visitors ADD COLUMN contact_id TEXT REFERENCES contacts(id) ON DELETE CASCADE;
ALTER TABLE visitors ADD COLUMN merged_into TEXT REFERENCES visitors(id) ON DELETE CASCADE;
-- What an unsigned identify said (JSON), shown to agents as unverified and
-- never copied into a contact.
ALTER TABLE visitors ADD COLUMN unverified TEXT;
CREATE INDEX visitors_contact ON visitors(contact_id);
