//! Help articles and their readings (see `migrations/0031_articles.sql`):
//! texts per language as saved with their history, what search reads of
//! the published ones, and who opened which and what they said of it.

use std::collections::HashMap;

use protocol::{ArticleEdit, ArticleRead, ArticleStats, ArticleText, ArticleVerdict};
use sqlx::Row;

use super::{Store, StoreResult, new_id, now_ms};

/// An article's own row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleRecord {
    pub id: String,
    pub account_id: String,
    pub site_id: String,
    pub collection: String,
}

/// One language of an article as it is saved: the Markdown, the HTML and
/// search tokens made of it, who saved it.
#[derive(Clone, Debug)]
pub struct NewArticleText<'a> {
    pub article_id: &'a str,
    pub language: &'a str,
    pub collection: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub body: &'a str,
    pub html: &'a str,
    pub title_terms: &'a str,
    pub terms: &'a str,
    pub published: bool,
    pub agent_id: &'a str,
    pub agent_name: &'a str,
}

/// A published text, as search and lists read it (no body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedText {
    pub article_id: String,
    pub collection: String,
    pub title: String,
    pub description: String,
    pub title_terms: String,
    pub terms: String,
    pub updated_at: i64,
}

/// A published text to show whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPage {
    pub article_id: String,
    pub collection: String,
    pub title: String,
    pub description: String,
    pub html: String,
    pub updated_at: i64,
}

/// A shopper's reading, as the verdict door checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadingRecord {
    pub visitor_id: String,
    pub verdict: Option<ArticleVerdict>,
}

/// Readings counted: opened, said it answered, still asked for a person,
/// and answered with no conversation started after it (`r` is
/// `article_reads`).
const STATS_COLUMNS: &str = "COUNT(*) AS views, \
     SUM(CASE WHEN r.verdict = 'answered' THEN 1 ELSE 0 END) AS answered, \
     SUM(CASE WHEN r.verdict = 'talk' THEN 1 ELSE 0 END) AS talked, \
     SUM(CASE WHEN r.verdict = 'answered' AND r.conversation_id IS NULL AND NOT EXISTS \
       (SELECT 1 FROM conversations c WHERE c.visitor_id = r.visitor_id \
        AND c.created_at >= r.read_at) THEN 1 ELSE 0 END) AS self_served";

fn stats_of(row: &sqlx::any::AnyRow) -> StoreResult<ArticleStats> {
    let count = |name: &str| -> StoreResult<u64> {
        let value: Option<i64> = row.try_get(name)?;
        Ok(u64::try_from(value.unwrap_or(0)).unwrap_or(0))
    };
    Ok(ArticleStats {
        views: count("views")?,
        answered: count("answered")?,
        talked: count("talked")?,
        self_served: count("self_served")?,
    })
}

impl Store {
    /// Makes an article (no text yet).
    pub async fn create_article(
        &self,
        account_id: &str,
        site_id: &str,
        collection: &str,
    ) -> StoreResult<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO articles (id, account_id, site_id, collection, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(site_id)
        .bind(collection)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn article(&self, id: &str) -> StoreResult<Option<ArticleRecord>> {
        let row =
            sqlx::query("SELECT id, account_id, site_id, collection FROM articles WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|row| {
            Ok(ArticleRecord {
                id: row.try_get("id")?,
                account_id: row.try_get("account_id")?,
                site_id: row.try_get("site_id")?,
                collection: row.try_get("collection")?,
            })
        })
        .transpose()
    }

    /// A site's articles, oldest first.
    pub async fn articles_of_site(&self, site_id: &str) -> StoreResult<Vec<ArticleRecord>> {
        let rows = sqlx::query(
            "SELECT id, account_id, site_id, collection FROM articles WHERE site_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ArticleRecord {
                    id: row.try_get("id")?,
                    account_id: row.try_get("account_id")?,
                    site_id: row.try_get("site_id")?,
                    collection: row.try_get("collection")?,
                })
            })
            .collect()
    }

    /// Every language of an article as it stands, by language code.
    pub async fn article_texts(&self, article_id: &str) -> StoreResult<Vec<ArticleText>> {
        Ok(self
            .texts_where("t.article_id = $1", article_id)
            .await?
            .into_iter()
            .map(|(_, text)| text)
            .collect())
    }

    /// Every text of every article of a site, by article id.
    pub async fn article_texts_of_site(
        &self,
        site_id: &str,
    ) -> StoreResult<HashMap<String, Vec<ArticleText>>> {
        let mut texts: HashMap<String, Vec<ArticleText>> = HashMap::new();
        let all = self
            .texts_where(
                "t.article_id IN (SELECT id FROM articles WHERE site_id = $1)",
                site_id,
            )
            .await?;
        for (article_id, text) in all {
            texts.entry(article_id).or_default().push(text);
        }
        Ok(texts)
    }

    /// Texts (with their article's id) where `condition` holds on `t`
    /// (`article_texts`), `$1` bound to `param`; by language.
    async fn texts_where(
        &self,
        condition: &str,
        param: &str,
    ) -> StoreResult<Vec<(String, ArticleText)>> {
        let rows = sqlx::query(&format!(
            "SELECT t.article_id, t.language, t.title, t.description, t.body, \
             CASE WHEN t.published THEN 1 ELSE 0 END AS published, t.updated_at, \
             a.name AS updated_by FROM article_texts t LEFT JOIN agents a ON a.id = t.updated_by \
             WHERE {condition} ORDER BY t.article_id, t.language"
        ))
        .bind(param)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("article_id")?,
                    ArticleText {
                        language: row.try_get("language")?,
                        title: row.try_get("title")?,
                        description: row.try_get("description")?,
                        body: row.try_get("body")?,
                        published: row.try_get::<i64, _>("published")? != 0,
                        updated_at_ms: row.try_get("updated_at")?,
                        updated_by: row.try_get("updated_by")?,
                    },
                ))
            })
            .collect()
    }

    /// Saves one language of an article and keeps the save in its history,
    /// in one transaction.
    pub async fn save_article_text(&self, text: &NewArticleText<'_>) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE articles SET collection = $2 WHERE id = $1")
            .bind(text.article_id)
            .bind(text.collection)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM article_texts WHERE article_id = $1 AND language = $2")
            .bind(text.article_id)
            .bind(text.language)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO article_texts (article_id, language, title, description, body, html, \
             title_terms, terms, published, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(text.article_id)
        .bind(text.language)
        .bind(text.title)
        .bind(text.description)
        .bind(text.body)
        .bind(text.html)
        .bind(text.title_terms)
        .bind(text.terms)
        .bind(text.published)
        .bind(text.agent_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO article_edits (id, article_id, language, agent_id, agent_name, title, \
             description, body, collection, published, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id())
        .bind(text.article_id)
        .bind(text.language)
        .bind(text.agent_id)
        .bind(text.agent_name)
        .bind(text.title)
        .bind(text.description)
        .bind(text.body)
        .bind(text.collection)
        .bind(text.published)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an article with its texts, history and readings.
    pub async fn delete_article(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM articles WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// An article's saves, newest first.
    pub async fn article_history(&self, article_id: &str) -> StoreResult<Vec<ArticleEdit>> {
        let rows = sqlx::query(
            "SELECT language, agent_name, title, body, \
             CASE WHEN published THEN 1 ELSE 0 END AS published, created_at \
             FROM article_edits WHERE article_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
        )
        .bind(article_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ArticleEdit {
                    language: row.try_get("language")?,
                    agent_name: row.try_get("agent_name")?,
                    title: row.try_get("title")?,
                    body: row.try_get("body")?,
                    published: row.try_get::<i64, _>("published")? != 0,
                    at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// A site's published texts in `language`, for search and lists.
    pub async fn published_texts(
        &self,
        site_id: &str,
        language: &str,
    ) -> StoreResult<Vec<PublishedText>> {
        let rows = sqlx::query(
            "SELECT a.id, a.collection, t.title, t.description, t.title_terms, t.terms, \
             t.updated_at FROM articles a JOIN article_texts t ON t.article_id = a.id \
             WHERE a.site_id = $1 AND t.language = $2 AND t.published \
             ORDER BY a.created_at, a.id",
        )
        .bind(site_id)
        .bind(language)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PublishedText {
                    article_id: row.try_get("id")?,
                    collection: row.try_get("collection")?,
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                    title_terms: row.try_get("title_terms")?,
                    terms: row.try_get("terms")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// The languages a site has published articles in.
    pub async fn published_languages(&self, site_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT t.language FROM articles a JOIN article_texts t \
             ON t.article_id = a.id WHERE a.site_id = $1 AND t.published ORDER BY t.language",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// One published text of a site's article, whole; `None` for a draft,
    /// a language it lacks, or another site's article.
    pub async fn published_page(
        &self,
        site_id: &str,
        article_id: &str,
        language: &str,
    ) -> StoreResult<Option<PublishedPage>> {
        let row = sqlx::query(
            "SELECT a.id, a.collection, t.title, t.description, t.html, t.updated_at \
             FROM articles a JOIN article_texts t ON t.article_id = a.id \
             WHERE a.site_id = $1 AND a.id = $2 AND t.language = $3 AND t.published",
        )
        .bind(site_id)
        .bind(article_id)
        .bind(language)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(PublishedPage {
                article_id: row.try_get("id")?,
                collection: row.try_get("collection")?,
                title: row.try_get("title")?,
                description: row.try_get("description")?,
                html: row.try_get("html")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Keeps that a shopper opened an article; returns the reading's id.
    pub async fn record_reading(
        &self,
        article: &ArticleRecord,
        visitor_id: &str,
        language: &str,
        source: &str,
        conversation_id: Option<&str>,
    ) -> StoreResult<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO article_reads (id, article_id, site_id, visitor_id, language, source, \
             conversation_id, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&article.id)
        .bind(&article.site_id)
        .bind(visitor_id)
        .bind(language)
        .bind(source)
        .bind(conversation_id)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn reading(&self, read_id: &str) -> StoreResult<Option<ReadingRecord>> {
        let row = sqlx::query("SELECT visitor_id, verdict FROM article_reads WHERE id = $1")
            .bind(read_id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| {
            let verdict: Option<String> = row.try_get("verdict")?;
            Ok(ReadingRecord {
                visitor_id: row.try_get("visitor_id")?,
                verdict: verdict.as_deref().and_then(ArticleVerdict::parse),
            })
        })
        .transpose()
    }

    /// The shopper's verdict on their reading (the last one stands).
    pub async fn set_verdict(&self, read_id: &str, verdict: ArticleVerdict) -> StoreResult<()> {
        sqlx::query("UPDATE article_reads SET verdict = $2, verdict_at = $3 WHERE id = $1")
            .bind(read_id)
            .bind(verdict.as_str())
            .bind(now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// How each of a site's articles did since `since` (ms), by article id.
    /// A reading "self-served" when its shopper said it answered their
    /// question and started no conversation after it.
    pub async fn article_stats(
        &self,
        site_id: &str,
        since: i64,
    ) -> StoreResult<HashMap<String, ArticleStats>> {
        let rows = sqlx::query(&format!(
            "SELECT r.article_id, {STATS_COLUMNS} FROM article_reads r \
             WHERE r.site_id = $1 AND r.read_at >= $2 GROUP BY r.article_id"
        ))
        .bind(site_id)
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("article_id")?, stats_of(row)?)))
            .collect()
    }

    /// How the account's articles did in `[from, to)` (ms), on one site or all.
    pub async fn reading_totals(
        &self,
        account_id: &str,
        site_id: Option<&str>,
        from: i64,
        to: i64,
    ) -> StoreResult<ArticleStats> {
        let row = sqlx::query(&format!(
            "SELECT {STATS_COLUMNS} FROM article_reads r JOIN sites s ON s.id = r.site_id \
             WHERE s.account_id = $1 AND r.read_at >= $2 AND r.read_at < $3 \
             AND ($4 = '' OR r.site_id = $4)"
        ))
        .bind(account_id)
        .bind(from)
        .bind(to)
        .bind(site_id.unwrap_or_default())
        .fetch_one(&self.read)
        .await?;
        stats_of(&row)
    }

    /// Articles the browsers `visitors` (an `IN (…)` list on `$1`) opened,
    /// newest first, with the title they read.
    pub(super) async fn readings_of(
        &self,
        visitors: &str,
        whose: &str,
    ) -> StoreResult<Vec<ArticleRead>> {
        let rows = sqlx::query(&format!(
            "SELECT r.article_id, r.language, r.source, r.read_at, r.verdict, \
             COALESCE(t.title, '') AS title FROM article_reads r \
             LEFT JOIN article_texts t ON t.article_id = r.article_id AND t.language = r.language \
             WHERE r.visitor_id IN ({visitors}) ORDER BY r.read_at DESC, r.id DESC LIMIT 50"
        ))
        .bind(whose)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let verdict: Option<String> = row.try_get("verdict")?;
                Ok(ArticleRead {
                    article_id: row.try_get("article_id")?,
                    title: row.try_get("title")?,
                    language: row.try_get("language")?,
                    source: row.try_get("source")?,
                    at_ms: row.try_get("read_at")?,
                    verdict: verdict.as_deref().and_then(ArticleVerdict::parse),
                })
            })
            .collect()
    }

    /// Pictures an agent of the account uploaded (and no message took),
    /// now in an article of `site_id`: marked as taken, so the sweep of
    /// unattached uploads leaves them, and as the site's.
    pub async fn keep_article_images(
        &self,
        account_id: &str,
        site_id: &str,
        ids: &[&str],
    ) -> StoreResult<()> {
        for id in ids {
            sqlx::query(
                "UPDATE files SET attached_at = COALESCE(attached_at, $4), site_id = $2 \
                 WHERE id = $3 AND account_id = $1 AND agent_id IS NOT NULL \
                 AND conversation_id IS NULL AND (site_id IS NULL OR site_id = $2)",
            )
            .bind(account_id)
            .bind(site_id)
            .bind(*id)
            .bind(now_ms())
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    /// Whether file `id` is a picture of one of `site_id`'s published
    /// articles (kept for it, and shown in one).
    pub async fn is_article_image(&self, site_id: &str, id: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM files f WHERE f.id = $1 AND f.site_id = $2 \
             AND f.conversation_id IS NULL AND f.agent_id IS NOT NULL AND f.attached_at IS NOT NULL \
             AND EXISTS (SELECT 1 FROM article_texts t JOIN articles a ON a.id = t.article_id \
               WHERE a.site_id = $2 AND t.published AND t.html LIKE '%/images/' || $1 || '%')",
        )
        .bind(id)
        .bind(site_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    /// Whether an agent has written to the shopper in the conversation.
    pub async fn agent_replied(&self, conversation_id: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM events WHERE conversation_id = $1 AND kind = 'message' \
             AND author_kind = 'agent' LIMIT 1",
        )
        .bind(conversation_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(found.is_some())
    }

    /// The first message a shopper sent in a conversation of theirs and
    /// when: what articles are suggested from (never a draft).
    pub async fn first_question(
        &self,
        visitor_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Option<(String, i64)>> {
        let row = sqlx::query(
            "SELECT e.body, e.created_at FROM events e \
             JOIN conversations c ON c.id = e.conversation_id \
             WHERE e.conversation_id = $1 AND c.visitor_id = $2 AND e.kind = 'message' \
             AND e.author_kind = 'visitor' ORDER BY e.seq LIMIT 1",
        )
        .bind(conversation_id)
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            let body: Option<String> = row.try_get("body")?;
            Ok((body.unwrap_or_default(), row.try_get("created_at")?))
        })
        .transpose()
    }
}
