-- Mail is a public door: what a stranger can cause goes only to an address
-- its shopper proved, within allowances per recipient, site and day, and
-- refusals are kept for the site's owner to see.

-- The outbox takes a confirmation mail too, and says what caused each mail
-- ('reply': an agent's unseen reply; 'agent': an agent asked; 'shopper': a
-- shopper asked). Its kinds are checked by the code that reads them; the
-- table is rebuilt because SQLite cannot drop a CHECK in place.
CREATE TABLE mail_outbox_next (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id  TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    cause            TEXT NOT NULL,
    envelope_from    TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    message          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
INSERT INTO mail_outbox_next (id, site_id, conversation_id, kind, cause, envelope_from, recipient,
    message_id, message, status, attempts, next_attempt_at, last_error, created_at, sent_at)
SELECT id, site_id, conversation_id, kind, CASE kind WHEN 'unseen' THEN 'reply' ELSE 'agent' END,
    envelope_from, recipient, message_id, message, status, attempts, next_attempt_at, last_error,
    created_at, sent_at
FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_next RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
CREATE INDEX mail_outbox_site ON mail_outbox(site_id, status, created_at);
CREATE INDEX mail_outbox_recipient ON mail_outbox(recipient, created_at);

-- A shopper proves an address by following the link mailed to it; until
-- then a transcript they ask for waits for that proof.
CREATE TABLE email_confirmations (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor_id       TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    conversation_id  TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    confirmed_at     BIGINT
);
CREATE INDEX email_confirmations_email ON email_confirmations(email, created_at);
-- The address this shopper proved (the verified customer's own needs no proof).
ALTER TABLE visitors ADD COLUMN confirmed_email TEXT;

-- Mail refused (over an allowance, opted out, not proved), for the console.
CREATE TABLE mail_refusals (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX mail_refusals_site ON mail_refusals(site_id, created_at);

-- A block holds for the verified customer on any browser, and by email.
ALTER TABLE blocks ADD COLUMN contact_id TEXT REFERENCES contacts(id) ON DELETE CASCADE;
CREATE INDEX blocks_contact ON blocks(contact_id);

-- Seats: how many chats one address holds open is counted by it.
CREATE INDEX visitors_last_address ON visitors(last_address);

-- Wrong passwords tried since the person last signed in (told to them then).
ALTER TABLE agents ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
