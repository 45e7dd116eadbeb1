-- Contacts belong to the account: the same shop id on two of its sites is
-- one person with one history. `site_id` stays as the site the contact was
-- first seen on; each site keeps its own browsers (visitors) of them.
ALTER TABLE contacts ADD COLUMN account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE;
UPDATE contacts SET account_id = (SELECT s.account_id FROM sites s WHERE s.id = contacts.site_id);
-- The customer list: an account's contacts, most recently seen first, and
-- its anonymous visitors who left an address (a few of all its visitors).
CREATE INDEX contacts_account_seen ON contacts(account_id, updated_at, id);
CREATE INDEX visitors_with_email ON visitors(site_id, last_seen_at, id)
    WHERE contact_id IS NULL AND merged_into IS NULL
    AND (confirmed_email IS NOT NULL OR stated_email IS NOT NULL);

-- Two contacts made one: by an owner's hand, or (reason 'same_shop_id')
-- because their shop id was the same on two sites. The kept contact
-- answers for the merged one's shop id from then on; the merged one's
-- details are kept here as they were, for the audit.
CREATE TABLE contact_merges (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kept_contact_id     TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    merged_contact_id   TEXT NOT NULL,
    merged_external_id  TEXT NOT NULL,
    merged_name         TEXT,
    merged_email        TEXT,
    agent_id            TEXT REFERENCES agents(id) ON DELETE SET NULL,
    reason              TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX contact_merges_kept ON contact_merges(kept_contact_id, created_at);
CREATE INDEX contact_merges_alias ON contact_merges(account_id, merged_external_id);

-- Changes to data the schema cannot make alone, run by the server at start
-- once each ('contacts_per_account': merge contacts sharing a shop id in
-- an account, then make (account_id, external_id) unique).
CREATE TABLE data_migrations (
    name     TEXT PRIMARY KEY,
    done_at  BIGINT
);
INSERT INTO data_migrations (name, done_at) VALUES ('contacts_per_account', NULL);
