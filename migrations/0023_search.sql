-- Full-text search: the index itself is an FTS5 table on SQLite and a
-- tsvector column with a GIN index on PostgreSQL (`store/search.rs` makes
-- it at start: the two have no spelling in common). This row says the
-- index holds every message and note stored before it existed; without
-- it, the server builds the index from the log before it serves.
CREATE TABLE search_index_state (
    id        INTEGER PRIMARY KEY,
    built_at  BIGINT NOT NULL
);
