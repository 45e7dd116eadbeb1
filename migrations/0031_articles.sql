-- Help articles: what a site's owners (and the agents they allow) write
-- for shoppers to read before they ask. An article belongs to one site and
-- one collection; its text exists per language (en, nl, ru, bn), each
-- published or a draft on its own.
CREATE TABLE articles (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    -- The collection it is listed under ("Returns"); '' for none.
    collection  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX articles_site ON articles(site_id);

-- An article's text in one language as it stands: the Markdown written,
-- the safe HTML made of it when saved, and the search tokens of its title
-- and of its whole text (`text_search`), so a search reads no Markdown.
CREATE TABLE article_texts (
    article_id   TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    language     TEXT NOT NULL CHECK (language IN ('en', 'nl', 'ru', 'bn')),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    body         TEXT NOT NULL,
    html         TEXT NOT NULL,
    title_terms  TEXT NOT NULL,
    terms        TEXT NOT NULL,
    published    BOOLEAN NOT NULL,
    updated_by   TEXT REFERENCES agents(id) ON DELETE SET NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (article_id, language)
);

-- Every save of a text, as it was saved: who and when (the history).
CREATE TABLE article_edits (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    agent_id    TEXT REFERENCES agents(id) ON DELETE SET NULL,
    -- The author's name when saved: the history outlives their account.
    agent_name  TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    body        TEXT NOT NULL,
    collection  TEXT NOT NULL,
    published   BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX article_edits_article ON article_edits(article_id, created_at);

-- A shopper opening an article in the widget (from the help view, a
-- suggestion after their first question, or an agent's card), and what
-- they said of it: "This answered my question" or "Talk to a person".
-- Erased with the shopper (the visitor cascades).
CREATE TABLE article_reads (
    id               TEXT PRIMARY KEY,
    article_id       TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    visitor_id       TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    language         TEXT NOT NULL,
    -- 'help' (searched or listed), 'suggested' (after a first question),
    -- 'card' (sent by an agent).
    source           TEXT NOT NULL CHECK (source IN ('help', 'suggested', 'card')),
    -- The conversation it was suggested or sent in, if any.
    conversation_id  TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    read_at          BIGINT NOT NULL,
    -- 'answered' or 'talk', once said; when.
    verdict          TEXT CHECK (verdict IN ('answered', 'talk')),
    verdict_at       BIGINT
);
CREATE INDEX article_reads_article ON article_reads(article_id, read_at);
CREATE INDEX article_reads_site ON article_reads(site_id, read_at);
CREATE INDEX article_reads_visitor ON article_reads(visitor_id, read_at);
