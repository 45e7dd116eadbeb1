//! Full-text search over an account's messages and notes (email replies
//! among them) in each database's own engine: an FTS5 table on SQLite, a
//! `tsvector` with a GIN index on PostgreSQL. Both hold the tokens
//! [`crate::text_search`] makes of a text (its words and their stems), so
//! both find the same, with its account beside them. An entry is written
//! with its event, in the same transaction; erasing a contact or a site
//! erases theirs. Results are joined to the log, so nothing erased is ever
//! shown. Newest first: FTS5 walks its matches backwards by rowid (the
//! order entries were written) and stops at the page's end.

use protocol::{Event, EventBody, Seq};
use sqlx::{Any, Row, Transaction};

use super::conversations::{EVENT_SELECT, event_from_row};
use super::{Backend, Store, StoreResult, now_ms};
use crate::text_search::{Query, index_terms};

/// The index's table on SQLite (schema in code: FTS5 has no spelling
/// PostgreSQL accepts, and migrations are one set of files).
const SQLITE_SCHEMA: &[&str] = &[
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_entries USING fts5(\
     terms, account_id UNINDEXED, conversation_id UNINDEXED, seq UNINDEXED, \
     created_at UNINDEXED, tokenize = 'unicode61')",
];
const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS search_entries (account_id TEXT NOT NULL, \
     conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, created_at BIGINT NOT NULL, \
     terms TSVECTOR NOT NULL, PRIMARY KEY (conversation_id, seq))",
    "CREATE INDEX IF NOT EXISTS search_entries_terms ON search_entries USING GIN (terms)",
    // For a common word, walking an account's entries newest first and
    // stopping at the page's end beats reading every match.
    "CREATE INDEX IF NOT EXISTS search_entries_recent ON search_entries (account_id, created_at)",
];

/// Entries written per statement.
const INSERT_ROWS: usize = 64;
/// Events read per page while the index is first built.
const BUILD_PAGE: i64 = 2000;

/// The text an event is found by, if it is a kind that is searched.
fn searchable(body: &EventBody) -> Option<&str> {
    match body {
        EventBody::Message { text, .. } | EventBody::Note { text } => {
            (!text.trim().is_empty()).then_some(text.as_str())
        }
        EventBody::Assigned { .. }
        | EventBody::Closed
        | EventBody::Rated { .. }
        | EventBody::Status { .. }
        | EventBody::Reopened { .. } => None,
    }
}

/// Writes the entries of `events` (those searched) inside `tx`: each with
/// its conversation's account token.
pub(super) async fn index_events(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    events: &[(&str, Seq, i64, &str)],
) -> StoreResult<()> {
    for chunk in super::chunks(events.len(), INSERT_ROWS) {
        let chunk = &events[chunk];
        let terms = match backend {
            Backend::Sqlite => "v.terms",
            Backend::Postgres => "to_tsvector('simple', v.terms)",
        };
        let sql = format!(
            "WITH v (conversation_id, seq, created_at, terms) AS (VALUES {}) \
             INSERT INTO search_entries (terms, account_id, conversation_id, seq, created_at) \
             SELECT {terms}, c.account_id, v.conversation_id, v.seq, v.created_at \
             FROM v JOIN conversations c ON c.id = v.conversation_id",
            super::placeholders(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (conversation_id, seq, created_at, text) in chunk {
            query = query
                .bind(*conversation_id)
                .bind(*seq)
                .bind(*created_at)
                .bind(index_terms(text));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The searched ones of `events`, as [`index_events`] takes them.
pub(super) fn entries_of<'e>(
    events: impl IntoIterator<Item = &'e Event>,
) -> Vec<(&'e str, Seq, i64, &'e str)> {
    events
        .into_iter()
        .filter_map(|event| {
            searchable(&event.body).map(|text| {
                (
                    event.conversation_id.as_str(),
                    event.seq,
                    event.created_at_ms,
                    text,
                )
            })
        })
        .collect()
}

/// Erases the entries of the conversations `where_clause` picks (`$1`).
pub(super) async fn forget_where(
    tx: &mut Transaction<'static, Any>,
    where_clause: &str,
    id: &str,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "DELETE FROM search_entries WHERE conversation_id IN (SELECT id FROM conversations WHERE {where_clause})"
    ))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Matches PostgreSQL gathers by the GIN index and sorts itself; a word
/// matched more often is searched newest first (see `search_postgres`).
const FEW_MATCHES: i64 = 2000;

impl Store {
    /// Makes the index if it is not there, and fills it from the log if it
    /// was made after messages were stored (once, before serving).
    pub(super) async fn prepare_search(&self) -> StoreResult<()> {
        let schema = match self.backend {
            Backend::Sqlite => SQLITE_SCHEMA,
            Backend::Postgres => POSTGRES_SCHEMA,
        };
        for statement in schema {
            sqlx::query(statement).execute(&self.write).await?;
        }
        let built: Option<i64> =
            sqlx::query_scalar("SELECT built_at FROM search_index_state WHERE id = 1")
                .fetch_optional(&self.write)
                .await?;
        if built.is_some() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM search_entries")
            .execute(&mut *tx)
            .await?;
        let mut after: (String, Seq) = (String::new(), 0);
        let mut indexed = 0_usize;
        loop {
            let rows = sqlx::query(
                "SELECT conversation_id, seq, created_at, body FROM events \
                 WHERE kind IN ('message', 'note') AND body IS NOT NULL AND body <> '' \
                 AND (conversation_id > $1 OR (conversation_id = $1 AND seq > $2)) \
                 ORDER BY conversation_id, seq LIMIT $3",
            )
            .bind(&after.0)
            .bind(after.1)
            .bind(BUILD_PAGE)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = (last.try_get("conversation_id")?, last.try_get("seq")?);
            let page: Vec<(String, Seq, i64, String)> = rows
                .iter()
                .map(|row| {
                    Ok((
                        row.try_get("conversation_id")?,
                        row.try_get("seq")?,
                        row.try_get("created_at")?,
                        row.try_get("body")?,
                    ))
                })
                .collect::<StoreResult<_>>()?;
            let entries: Vec<(&str, Seq, i64, &str)> = page
                .iter()
                .map(|(c, s, at, text)| (c.as_str(), *s, *at, text.as_str()))
                .collect();
            index_events(&mut tx, self.backend, &entries).await?;
            indexed += entries.len();
        }
        sqlx::query("INSERT INTO search_index_state (id, built_at) VALUES (1, $1)")
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if indexed > 0 {
            tracing::info!(indexed, "search index built from the log");
        }
        Ok(())
    }

    /// The account's messages and notes matching `query`, newest first.
    pub async fn search_messages(
        &self,
        account_id: &str,
        query: &Query,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        // Read as the log reads its events (authors' names, files' links).
        let rows = match self.backend {
            Backend::Sqlite => {
                sqlx::query(&format!(
                    "{EVENT_SELECT} JOIN search_entries ON search_entries.conversation_id = e.conversation_id \
                     AND search_entries.seq = e.seq \
                     WHERE search_entries MATCH $1 AND search_entries.account_id = $2 \
                     ORDER BY search_entries.rowid DESC LIMIT $3"
                ))
                .bind(query.fts5())
                .bind(account_id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            Backend::Postgres => self.search_postgres(account_id, &query.tsquery(), limit).await?,
        };
        rows.iter()
            .map(|row| event_from_row(row, &self.file_links))
            .collect()
    }

    /// PostgreSQL's planner, asked for the newest matches, walks the
    /// account's entries newest first and tests each: fast for a common
    /// word, a walk through most of the history for a rare one. So the GIN
    /// index is asked first for at most [`FEW_MATCHES`]; when there are no
    /// more than that, they are sorted by time; only a word found more
    /// often (whose newest matches lie close) is searched by the walk.
    async fn search_postgres(
        &self,
        account_id: &str,
        tsquery: &str,
        limit: i64,
    ) -> StoreResult<Vec<sqlx::any::AnyRow>> {
        let few = format!(
            "WITH hits AS MATERIALIZED (SELECT conversation_id, seq, created_at FROM search_entries \
             WHERE terms @@ to_tsquery('simple', $1) AND account_id = $2 LIMIT {}) ",
            FEW_MATCHES + 1
        );
        let found: i64 = sqlx::query_scalar(&format!("{few} SELECT COUNT(*) FROM hits"))
            .bind(tsquery)
            .bind(account_id)
            .fetch_one(&self.read)
            .await?;
        let sql = if found <= FEW_MATCHES {
            format!(
                "{few}{EVENT_SELECT} JOIN hits s ON s.conversation_id = e.conversation_id \
                 AND s.seq = e.seq ORDER BY s.created_at DESC LIMIT $3"
            )
        } else {
            format!(
                "{EVENT_SELECT} JOIN search_entries s ON s.conversation_id = e.conversation_id \
                 AND s.seq = e.seq \
                 WHERE s.terms @@ to_tsquery('simple', $1) AND s.account_id = $2 \
                 ORDER BY s.created_at DESC LIMIT $3"
            )
        };
        Ok(sqlx::query(&sql)
            .bind(tsquery)
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// The account's contacts whose name or email contains `text`, or
    /// whose shop id is `text`.
    pub async fn search_contacts(
        &self,
        account_id: &str,
        text: &str,
        limit: i64,
    ) -> StoreResult<Vec<protocol::CustomerHit>> {
        let pattern = super::contains_pattern(text);
        let rows = sqlx::query(
            "SELECT ct.id, ct.name, ct.email, ct.external_id, \
             (SELECT c.id FROM visitors v JOIN conversations c ON c.visitor_id = v.id \
              WHERE v.contact_id = ct.id ORDER BY c.updated_at DESC LIMIT 1) AS latest \
             FROM contacts ct WHERE ct.account_id = $1 \
             AND (LOWER(ct.name) LIKE $2 ESCAPE '\\' OR LOWER(ct.email) LIKE $2 ESCAPE '\\' \
             OR ct.external_id = $3) ORDER BY ct.name, ct.id LIMIT $4",
        )
        .bind(account_id)
        .bind(pattern)
        .bind(text.trim())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(protocol::CustomerHit {
                    contact_id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    external_id: row.try_get("external_id")?,
                    conversation_id: row.try_get("latest")?,
                })
            })
            .collect()
    }
}
