//! Help articles on the wire: what the widget's help view and the public
//! help pages show, what the console edits, and what an agent sees a
//! shopper read.

use serde::{Deserialize, Serialize};

/// Longest article title (characters).
pub const MAX_ARTICLE_TITLE_CHARS: usize = 200;
/// Longest one-line description (characters), shown under the title and
/// given to search engines.
pub const MAX_ARTICLE_DESCRIPTION_CHARS: usize = 300;
/// Largest article body (Markdown bytes).
pub const MAX_ARTICLE_BODY_BYTES: usize = 100_000;
/// Longest collection name (characters).
pub const MAX_COLLECTION_CHARS: usize = 80;
/// Articles offered after a shopper's first question, at most.
pub const MAX_SUGGESTED_ARTICLES: usize = 3;

/// An article as a list or a search shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Its collection ('' for none).
    pub collection: String,
}

/// The widget's help view: the site's most useful articles in the
/// shopper's language, or what a search found.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct HelpList {
    pub language: String,
    pub articles: Vec<ArticleSummary>,
}

/// Articles offered after a shopper's first question ("This might help"),
/// found from the question they sent (never from a draft).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Suggestions {
    /// The conversation the question opened.
    pub conversation_id: String,
    pub language: String,
    pub articles: Vec<ArticleSummary>,
}

/// An article opened in the widget. `read_id` names this reading, for the
/// shopper's verdict on it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleReading {
    pub id: String,
    pub language: String,
    pub title: String,
    pub description: String,
    /// Safe HTML, rendered from the Markdown when it was saved.
    pub html: String,
    pub updated_at_ms: i64,
    pub read_id: String,
    /// The article's public page.
    pub url: String,
}

/// What the shopper said of an article they read.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArticleVerdict {
    /// "This answered my question".
    Answered,
    /// "Talk to a person".
    Talk,
}

impl ArticleVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ArticleVerdict::Answered => "answered",
            ArticleVerdict::Talk => "talk",
        }
    }

    pub fn parse(text: &str) -> Option<ArticleVerdict> {
        match text {
            "answered" => Some(ArticleVerdict::Answered),
            "talk" => Some(ArticleVerdict::Talk),
            _ => None,
        }
    }
}

/// `POST /api/widget/help/read`: the shopper opens an article.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReadArticle {
    pub article_id: String,
    /// `help`, `suggested` or `card`.
    pub source: String,
    /// The conversation it was offered or sent in, if any.
    #[serde(default)]
    pub conversation_id: Option<String>,
}

/// `POST /api/widget/help/verdict`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GiveVerdict {
    pub read_id: String,
    pub verdict: ArticleVerdict,
}

/// An article read by a shopper, for the agent's view of them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleRead {
    pub article_id: String,
    pub title: String,
    pub language: String,
    /// `help`, `suggested` or `card`.
    pub source: String,
    pub at_ms: i64,
    pub verdict: Option<ArticleVerdict>,
}

/// How an article did: shoppers who opened it, said it answered their
/// question, or still asked for a person; and of those it answered, how
/// many did not start a conversation afterwards.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ArticleStats {
    pub views: u64,
    pub answered: u64,
    pub talked: u64,
    /// Read, said "answered", and no conversation after it.
    pub self_served: u64,
}

/// One language of an article, as the console edits it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleText {
    pub language: String,
    pub title: String,
    pub description: String,
    /// Markdown.
    pub body: String,
    pub published: bool,
    pub updated_at_ms: i64,
    pub updated_by: Option<String>,
}

/// An article in the console: every language it exists in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleView {
    pub id: String,
    pub site_id: String,
    pub collection: String,
    pub texts: Vec<ArticleText>,
    pub stats: ArticleStats,
}

/// `POST /api/articles` (with `site_id`) or `PUT /api/articles/{id}/{lang}`:
/// one language of an article as saved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SaveArticle {
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub collection: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub body: String,
    #[serde(default)]
    pub published: bool,
}

/// One save in an article's history.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticleEdit {
    pub language: String,
    pub agent_name: String,
    pub title: String,
    pub published: bool,
    pub at_ms: i64,
    /// The Markdown as it was saved.
    pub body: String,
}

/// `POST /api/articles/preview`: Markdown as shoppers will see it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ArticlePreview {
    pub html: String,
}
