//! The widget's help door: the help view's list and search, articles
//! suggested from the question a shopper sent, an article opened in the
//! widget and what the shopper said of it. From an allowed page only, each
//! request counted against the address's request limit; what concerns a
//! shopper (suggestions, readings, verdicts) takes their visitor token,
//! and a blocked shopper is refused.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use protocol::{ArticleReading, GiveVerdict, HelpList, ReadArticle, Suggestions};
use serde::Deserialize;

use super::articles_api::refused;
use super::error::ApiError;
use super::extract::{ApiJson, ClientIp};
use super::state::AppState;
use super::widget_api::{SiteQuery, authorize_site, widget_visitor};
use crate::store::{Site, Visitor};

#[derive(Debug, Deserialize)]
pub(super) struct HelpQuery {
    site: Option<String>,
    /// The shopper's language, as the widget's config gave it.
    #[serde(default)]
    lang: String,
    #[serde(default)]
    q: String,
    conversation: Option<String>,
}

async fn site(
    state: &AppState,
    ip: std::net::IpAddr,
    query: &HelpQuery,
    headers: &HeaderMap,
) -> Result<Site, ApiError> {
    state.limits.request(ip)?;
    let site_query = SiteQuery {
        site: query.site.clone(),
        lang: None,
        page: None,
        tz: None,
    };
    authorize_site(state, &site_query, headers).await
}

async fn shopper(
    state: &AppState,
    ip: std::net::IpAddr,
    query: &HelpQuery,
    headers: &HeaderMap,
) -> Result<(Site, Visitor), ApiError> {
    let site = site(state, ip, query, headers).await?;
    let visitor = widget_visitor(state, &site, headers, ip).await?;
    Ok((site, visitor))
}

/// `GET /api/widget/help?site=KEY&lang=en&q=…`: the most useful articles,
/// or what the search found, in the shopper's language where the site
/// has it.
pub(super) async fn list(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<HelpQuery>,
    headers: HeaderMap,
) -> Result<Json<HelpList>, ApiError> {
    let site = site(&state, ip, &query, &headers).await?;
    state
        .articles
        .help_list(&site, &query.lang, &query.q)
        .await?
        .map(Json)
        .map_err(refused)
}

/// `GET /api/widget/help/suggest?site=KEY&lang=en&conversation=ID`: up to
/// three articles for the first question the shopper sent in that
/// conversation of theirs.
pub(super) async fn suggest(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<HelpQuery>,
    headers: HeaderMap,
) -> Result<Json<Suggestions>, ApiError> {
    let (site, visitor) = shopper(&state, ip, &query, &headers).await?;
    let conversation = query
        .conversation
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("Name the conversation: ?conversation=ID."))?;
    state
        .articles
        .suggest(&site, &visitor, conversation, &query.lang)
        .await?
        .map(Json)
        .map_err(refused)
}

/// `POST /api/widget/help/read?site=KEY&lang=en`, `{"article_id", "source",
/// "conversation_id"}`: the article to show, kept as read.
pub(super) async fn read(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<HelpQuery>,
    headers: HeaderMap,
    ApiJson(read): ApiJson<ReadArticle>,
) -> Result<Json<ArticleReading>, ApiError> {
    let (site, visitor) = shopper(&state, ip, &query, &headers).await?;
    state
        .articles
        .read(
            &site,
            &visitor,
            &read.article_id,
            &query.lang,
            &read.source,
            read.conversation_id.as_deref(),
        )
        .await?
        .map(Json)
        .map_err(refused)
}

/// `POST /api/widget/help/verdict?site=KEY`, `{"read_id", "verdict":
/// "answered" | "talk"}`.
pub(super) async fn verdict(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<HelpQuery>,
    headers: HeaderMap,
    ApiJson(given): ApiJson<GiveVerdict>,
) -> Result<StatusCode, ApiError> {
    let (_, visitor) = shopper(&state, ip, &query, &headers).await?;
    state
        .articles
        .verdict(&visitor, &given.read_id, given.verdict)
        .await?
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
