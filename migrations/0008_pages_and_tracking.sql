-- Where the shopper is and what they did on the shop's pages, for the
-- agent's view: each page the widget loaded on, and events the page
-- recorded with Rapport('track', name, data).
CREATE TABLE page_views (
    id          TEXT PRIMARY KEY,
    visitor_id  TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    title       TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX page_views_visitor ON page_views(visitor_id, created_at);

CREATE TABLE tracked_events (
    id          TEXT PRIMARY KEY,
    visitor_id  TEXT NOT NULL REFERENCES visitors(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    -- JSON as the page gave it.
    data        TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tracked_events_visitor ON tracked_events(visitor_id, created_at);

-- The shopper's IANA time zone, so agents see their local time.
ALTER TABLE visitors ADD COLUMN time_zone TEXT;
