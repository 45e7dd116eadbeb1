//! Help articles: what a site's owners (and the agents they allow) write
//! for shoppers to read before they ask. The one place an article changes
//! and is found: texts checked and rendered to safe HTML when saved, with
//! their history; search and suggestions from a shopper's sent question;
//! readings and verdicts for the agent's view and the counts.

pub mod markdown;
pub mod search;

use std::collections::HashMap;

use protocol::{
    ArticleEdit, ArticleReading, ArticleStats, ArticleSummary, ArticleVerdict, ArticleView,
    ErrorCode, HelpList, MAX_ARTICLE_BODY_BYTES, MAX_ARTICLE_DESCRIPTION_CHARS,
    MAX_ARTICLE_TITLE_CHARS, MAX_COLLECTION_CHARS, MAX_SUGGESTED_ARTICLES, Role, SaveArticle,
    Suggestions, WIDGET_LANGUAGES,
};

use crate::store::{
    Agent, ArticleRecord, NewArticleText, PublishedText, Site, Store, StoreResult, Visitor, now_ms,
};

/// A description cut from the body is at most this long (characters).
const DESCRIPTION_FROM_BODY_CHARS: usize = 160;
/// Longest search a shopper or a help page may make (characters).
pub const MAX_QUERY_CHARS: usize = 200;
/// Articles a help list or search shows at most.
pub const LIST_LENGTH: usize = 10;
/// Suggestions follow a first question for this long; after it an agent
/// has most likely answered.
const SUGGEST_WITHIN_MS: i64 = 10 * 60 * 1000;
/// Articles a site holds at most: every search ranks them all.
pub const MAX_ARTICLES_PER_SITE: usize = 1000;
/// Days of readings the console's counts and "most useful" cover.
pub const STATS_DAYS: i64 = 90;

/// Why an article was not saved, found or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArticleRefused {
    #[error("No such article.")]
    NotFound,
    #[error("Only the site's owners, and agents they allow, write its help articles.")]
    NotAllowed,
    #[error("An article's language is one of en, nl, ru, bn.")]
    Language,
    #[error("A title is 1 to {MAX_ARTICLE_TITLE_CHARS} characters.")]
    Title,
    #[error("A description is at most {MAX_ARTICLE_DESCRIPTION_CHARS} characters.")]
    Description,
    #[error("An article's text is 1 to {MAX_ARTICLE_BODY_BYTES} bytes of Markdown.")]
    Body,
    #[error("A collection's name is at most {MAX_COLLECTION_CHARS} characters.")]
    Collection,
    #[error("An article is read from 'help', 'suggested' or 'card'.")]
    Source,
    #[error("A search is at most {MAX_QUERY_CHARS} characters.")]
    Query,
    #[error("A site holds at most {MAX_ARTICLES_PER_SITE} articles; delete one first.")]
    TooMany,
}

impl ArticleRefused {
    pub fn code(&self) -> ErrorCode {
        match self {
            ArticleRefused::NotFound => ErrorCode::NotFound,
            ArticleRefused::NotAllowed => ErrorCode::Forbidden,
            ArticleRefused::TooMany => ErrorCode::QuotaExceeded,
            _ => ErrorCode::BadRequest,
        }
    }
}

/// Either a refusal or a store failure.
pub type ArticleResult<T> = StoreResult<Result<T, ArticleRefused>>;

/// The articles service.
#[derive(Clone, Debug)]
pub struct Articles {
    store: Store,
    /// Where the public help pages are (`https://chat.example`).
    public_url: String,
}

/// A saved text, checked.
struct Checked {
    language: String,
    collection: String,
    title: String,
    description: String,
    body: String,
    published: bool,
}

impl Articles {
    pub fn new(store: Store, public_url: String) -> Articles {
        Articles {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Whether `agent` may write `site`'s articles.
    pub fn may_write(agent: &Agent, site: &Site) -> bool {
        agent.account_id == site.account_id
            && (agent.role == Role::Owner || site.settings.agents_write_articles)
    }

    /// The public page of an article in a language.
    pub fn page_url(&self, site: &Site, article_id: &str, language: &str) -> String {
        format!(
            "{}/help/{}/{language}/{article_id}",
            self.public_url,
            urlencoding(&site.site_key)
        )
    }

    /// Where a site's help center starts.
    pub fn center_url(&self, site: &Site) -> String {
        format!("{}/help/{}", self.public_url, urlencoding(&site.site_key))
    }

    /// An article of the agent's account, and its site.
    pub async fn of_account(
        &self,
        agent: &Agent,
        article_id: &str,
    ) -> ArticleResult<(ArticleRecord, Site)> {
        let Some(article) = self.store.article(article_id).await? else {
            return Ok(Err(ArticleRefused::NotFound));
        };
        if article.account_id != agent.account_id {
            return Ok(Err(ArticleRefused::NotFound));
        }
        let Some(site) = self.store.site_by_id(&article.site_id).await? else {
            return Ok(Err(ArticleRefused::NotFound));
        };
        Ok(Ok((article, site)))
    }

    /// Makes an article on `site` with its first language.
    pub async fn create(
        &self,
        agent: &Agent,
        site: &Site,
        save: SaveArticle,
    ) -> ArticleResult<ArticleView> {
        if !Self::may_write(agent, site) {
            return Ok(Err(ArticleRefused::NotAllowed));
        }
        let checked = match check(save) {
            Ok(checked) => checked,
            Err(refused) => return Ok(Err(refused)),
        };
        if self.store.articles_of_site(&site.id).await?.len() >= MAX_ARTICLES_PER_SITE {
            return Ok(Err(ArticleRefused::TooMany));
        }
        let id = self
            .store
            .create_article(&site.account_id, &site.id, &checked.collection)
            .await?;
        self.write(agent, site, &id, checked).await?;
        self.view(&id, site).await.map(Ok)
    }

    /// Saves one language of an article (made or changed), kept in its history.
    pub async fn save(
        &self,
        agent: &Agent,
        article_id: &str,
        language: &str,
        mut save: SaveArticle,
    ) -> ArticleResult<ArticleView> {
        let (article, site) = match self.of_account(agent, article_id).await? {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        if !Self::may_write(agent, &site) {
            return Ok(Err(ArticleRefused::NotAllowed));
        }
        save.language = Some(language.to_owned());
        let checked = match check(save) {
            Ok(checked) => checked,
            Err(refused) => return Ok(Err(refused)),
        };
        self.write(agent, &site, &article.id, checked).await?;
        self.view(&article.id, &site).await.map(Ok)
    }

    /// Where `site`'s article pictures are served: `…/help/KEY/images/ID`.
    pub fn images_url(&self, site: &Site) -> String {
        format!("{}/images/", self.center_url(site))
    }

    async fn write(
        &self,
        agent: &Agent,
        site: &Site,
        article_id: &str,
        text: Checked,
    ) -> StoreResult<()> {
        let images = self.images_url(site);
        let html = markdown::render_with(&text.body, Some(&images));
        // Pictures uploaded for it (the attachment store) are the site's
        // from now on: kept, and served with its published articles.
        let pictures: Vec<&str> = html
            .split(images.as_str())
            .skip(1)
            .filter_map(|rest| rest.split(['"', '?', '#']).next())
            .filter(|id| !id.is_empty())
            .collect();
        self.store
            .keep_article_images(&site.account_id, &site.id, &pictures)
            .await?;
        let plain = markdown::plain_text(&text.body);
        let description = if text.description.is_empty() {
            cut(&plain, DESCRIPTION_FROM_BODY_CHARS)
        } else {
            text.description.clone()
        };
        let title_terms = search::terms(&text.title, &text.language);
        let terms = search::terms(
            &format!("{} {description} {plain}", text.title),
            &text.language,
        );
        self.store
            .save_article_text(&NewArticleText {
                article_id,
                language: &text.language,
                collection: &text.collection,
                title: &text.title,
                description: &description,
                body: &text.body,
                html: &html,
                title_terms: &title_terms,
                terms: &terms,
                published: text.published,
                agent_id: &agent.id,
                agent_name: &agent.name,
            })
            .await
    }

    pub async fn delete(&self, agent: &Agent, article_id: &str) -> ArticleResult<()> {
        let (article, site) = match self.of_account(agent, article_id).await? {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        if !Self::may_write(agent, &site) {
            return Ok(Err(ArticleRefused::NotAllowed));
        }
        self.store.delete_article(&article.id).await?;
        Ok(Ok(()))
    }

    /// An article as the console shows it, with how it did.
    pub async fn view(&self, article_id: &str, site: &Site) -> StoreResult<ArticleView> {
        let stats = self.stats(site).await?;
        let article = self.store.article(article_id).await?;
        Ok(ArticleView {
            id: article_id.to_owned(),
            site_id: site.id.clone(),
            collection: article.map(|a| a.collection).unwrap_or_default(),
            texts: self.store.article_texts(article_id).await?,
            stats: stats.get(article_id).cloned().unwrap_or_default(),
        })
    }

    /// A site's articles, as the console lists them.
    pub async fn list(&self, site: &Site) -> StoreResult<Vec<ArticleView>> {
        let stats = self.stats(site).await?;
        let mut texts = self.store.article_texts_of_site(&site.id).await?;
        let mut views = Vec::new();
        for article in self.store.articles_of_site(&site.id).await? {
            views.push(ArticleView {
                texts: texts.remove(&article.id).unwrap_or_default(),
                stats: stats.get(&article.id).cloned().unwrap_or_default(),
                id: article.id,
                site_id: site.id.clone(),
                collection: article.collection,
            });
        }
        Ok(views)
    }

    pub async fn history(
        &self,
        agent: &Agent,
        article_id: &str,
    ) -> ArticleResult<Vec<ArticleEdit>> {
        if let Err(refused) = self.of_account(agent, article_id).await? {
            return Ok(Err(refused));
        }
        self.store.article_history(article_id).await.map(Ok)
    }

    async fn stats(&self, site: &Site) -> StoreResult<HashMap<String, ArticleStats>> {
        self.store
            .article_stats(&site.id, now_ms() - STATS_DAYS * 24 * 3600 * 1000)
            .await
    }

    /// The language a shopper reads `site`'s help in: theirs if the site
    /// has articles in it, else English, else the first it has.
    pub async fn language_for(&self, site: &Site, wanted: &str) -> StoreResult<Option<String>> {
        let languages = self.store.published_languages(&site.id).await?;
        // A browser's tag ("nl-BE") by its language.
        let wanted = wanted
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let wanted = wanted.as_str();
        Ok(["", "en"]
            .iter()
            .map(|fallback| {
                if fallback.is_empty() {
                    wanted
                } else {
                    fallback
                }
            })
            .find(|language| languages.iter().any(|l| l == language))
            .map(str::to_owned)
            .or_else(|| languages.into_iter().next()))
    }

    /// The site's published articles in `language` matching `query`, best
    /// first; with no query, the most useful ones (answered most, then
    /// read most, over the last days).
    pub async fn find(
        &self,
        site: &Site,
        language: &str,
        query: &str,
        limit: usize,
    ) -> ArticleResult<Vec<ArticleSummary>> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Ok(Err(ArticleRefused::Query));
        }
        let texts = self.store.published_texts(&site.id, language).await?;
        let order: Vec<usize> = if query.trim().is_empty() {
            let stats = self.stats(site).await?;
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&at| {
                let s = stats
                    .get(&texts[at].article_id)
                    .cloned()
                    .unwrap_or_default();
                std::cmp::Reverse((s.answered, s.views))
            });
            order
        } else {
            search::rank(&texts, language, query)
                .into_iter()
                .map(|(at, _)| at)
                .collect()
        };
        Ok(Ok(order
            .into_iter()
            .take(limit)
            .map(|at| summary(&texts[at]))
            .collect()))
    }

    /// The widget's help view.
    pub async fn help_list(
        &self,
        site: &Site,
        wanted: &str,
        query: &str,
    ) -> ArticleResult<HelpList> {
        let Some(language) = self.language_for(site, wanted).await? else {
            return Ok(Ok(HelpList {
                language: wanted.to_owned(),
                articles: Vec::new(),
            }));
        };
        Ok(self
            .find(site, &language, query, LIST_LENGTH)
            .await?
            .map(|articles| HelpList { language, articles }))
    }

    /// Up to three articles for the first question the shopper sent in
    /// their conversation, read from the log (never from a draft); none
    /// once that question is old or an agent has replied.
    pub async fn suggest(
        &self,
        site: &Site,
        visitor: &Visitor,
        conversation_id: &str,
        wanted: &str,
    ) -> ArticleResult<Suggestions> {
        let empty = |language: String| Suggestions {
            conversation_id: conversation_id.to_owned(),
            language,
            articles: Vec::new(),
        };
        let Some((question, asked_at)) = self
            .store
            .first_question(&visitor.id, conversation_id)
            .await?
        else {
            return Ok(Err(ArticleRefused::NotFound));
        };
        let Some(language) = self.language_for(site, wanted).await? else {
            return Ok(Ok(empty(wanted.to_owned())));
        };
        if now_ms() - asked_at > SUGGEST_WITHIN_MS
            || self.store.agent_replied(conversation_id).await?
        {
            return Ok(Ok(empty(language)));
        }
        let texts = self.store.published_texts(&site.id, &language).await?;
        let articles = search::rank(&texts, &language, &question)
            .into_iter()
            .take(MAX_SUGGESTED_ARTICLES)
            .map(|(at, _)| summary(&texts[at]))
            .collect();
        Ok(Ok(Suggestions {
            conversation_id: conversation_id.to_owned(),
            language,
            articles,
        }))
    }

    /// A shopper opens an article in the widget: its published text (a
    /// draft, another site's or a missing language is not found), kept as
    /// a reading.
    pub async fn read(
        &self,
        site: &Site,
        visitor: &Visitor,
        article_id: &str,
        wanted: &str,
        source: &str,
        conversation_id: Option<&str>,
    ) -> ArticleResult<ArticleReading> {
        if !matches!(source, "help" | "suggested" | "card") {
            return Ok(Err(ArticleRefused::Source));
        }
        // In the shopper's language if the article has it, else in the
        // one the site's help is read in.
        let mut found = None;
        let fallback = self.language_for(site, wanted).await?;
        for language in std::iter::once(wanted).chain(fallback.as_deref()) {
            if let Some(page) = self
                .store
                .published_page(&site.id, article_id, language)
                .await?
            {
                found = Some((page, language.to_owned()));
                break;
            }
        }
        let Some((page, language)) = found else {
            return Ok(Err(ArticleRefused::NotFound));
        };
        let language = language.as_str();
        let Some(article) = self.store.article(article_id).await? else {
            return Ok(Err(ArticleRefused::NotFound));
        };
        // Only a conversation of the shopper's own is linked to.
        let conversation_id = match conversation_id {
            Some(id) if self.store.first_question(&visitor.id, id).await?.is_some() => Some(id),
            _ => None,
        };
        let read_id = self
            .store
            .record_reading(&article, &visitor.id, language, source, conversation_id)
            .await?;
        Ok(Ok(ArticleReading {
            url: self.page_url(site, article_id, language),
            id: page.article_id,
            language: language.to_owned(),
            title: page.title,
            description: page.description,
            html: page.html,
            updated_at_ms: page.updated_at,
            read_id,
        }))
    }

    /// The shopper's verdict on a reading of theirs.
    pub async fn verdict(
        &self,
        visitor: &Visitor,
        read_id: &str,
        verdict: ArticleVerdict,
    ) -> ArticleResult<()> {
        match self.store.reading(read_id).await? {
            Some(reading) if reading.visitor_id == visitor.id => {
                self.store.set_verdict(read_id, verdict).await?;
                Ok(Ok(()))
            }
            _ => Ok(Err(ArticleRefused::NotFound)),
        }
    }
}

fn summary(text: &PublishedText) -> ArticleSummary {
    ArticleSummary {
        id: text.article_id.clone(),
        title: text.title.clone(),
        description: text.description.clone(),
        collection: text.collection.clone(),
    }
}

/// A save's fields, trimmed and within bounds.
fn check(save: SaveArticle) -> Result<Checked, ArticleRefused> {
    let language = save.language.unwrap_or_default();
    if !WIDGET_LANGUAGES.contains(&language.as_str()) {
        return Err(ArticleRefused::Language);
    }
    let title = one_line(&save.title);
    if title.is_empty() || title.chars().count() > MAX_ARTICLE_TITLE_CHARS {
        return Err(ArticleRefused::Title);
    }
    let description = one_line(&save.description);
    if description.chars().count() > MAX_ARTICLE_DESCRIPTION_CHARS {
        return Err(ArticleRefused::Description);
    }
    if save.body.trim().is_empty() || save.body.len() > MAX_ARTICLE_BODY_BYTES {
        return Err(ArticleRefused::Body);
    }
    let collection = one_line(&save.collection);
    if collection.chars().count() > MAX_COLLECTION_CHARS {
        return Err(ArticleRefused::Collection);
    }
    Ok(Checked {
        language,
        collection,
        title,
        description,
        body: save.body,
        published: save.published,
    })
}

/// Text on one line: control characters and runs of space made one space.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `max` characters, cut at a word with "…".
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max).collect();
    let at = head.rfind(' ').unwrap_or(head.len());
    format!("{}…", head[..at].trim_end())
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_body_gives_a_description_cut_at_a_word() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("send the shoes back", 12), "send the…");
    }

    #[test]
    fn titles_are_one_line() {
        assert_eq!(
            one_line("  Returns\n\tand\u{0} refunds "),
            "Returns and refunds"
        );
    }
}
