//! The console's help articles: any agent of the account lists, reads and
//! searches them (the composer's `/a` card); owners, and agents where the
//! site allows it, write, publish and delete them. Every save is kept in
//! the article's history.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{ArticleEdit, ArticlePreview, ArticleSummary, ArticleView, SaveArticle};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{ApiJson, CurrentAgent};
use super::state::AppState;
use crate::articles::{ArticleRefused, Articles, markdown};
use crate::store::{Agent, Site};

#[derive(Debug, Deserialize)]
pub(super) struct SiteParam {
    site: Option<String>,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    q: String,
}

/// An article found for the composer, with the link a card carries.
#[derive(Debug, Serialize)]
pub(super) struct ArticleCard {
    #[serde(flatten)]
    summary: ArticleSummary,
    language: String,
    url: String,
}

/// A site whose articles the agent sees, and whether they may write them.
#[derive(Debug, Serialize)]
pub(super) struct ArticleSite {
    id: String,
    name: String,
    /// Its public help center.
    help_url: String,
    may_write: bool,
}

/// `GET /api/articles/sites`: the account's sites, for the articles page.
pub(super) async fn sites(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
) -> Result<Json<Vec<ArticleSite>>, ApiError> {
    let sites = state.store.sites_of_account(&agent.account_id).await?;
    Ok(Json(
        sites
            .into_iter()
            .map(|site| ArticleSite {
                help_url: state.articles.center_url(&site),
                may_write: Articles::may_write(&agent, &site),
                id: site.id,
                name: site.name,
            })
            .collect(),
    ))
}

/// A site of the agent's account, by `?site=`.
async fn site_of(state: &AppState, agent: &Agent, site: Option<&str>) -> Result<Site, ApiError> {
    let id = site
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("Name the site: ?site=ID."))?;
    state
        .store
        .site_by_id(id)
        .await?
        .filter(|site| site.account_id == agent.account_id)
        .ok_or_else(|| ApiError::not_found("site"))
}

pub(super) fn refused(refused: ArticleRefused) -> ApiError {
    ApiError::refused(refused.code(), refused.to_string())
}

/// `GET /api/articles?site=ID`: the site's articles, every language, with
/// their counts over the last days.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<SiteParam>,
) -> Result<Json<Vec<ArticleView>>, ApiError> {
    let site = site_of(&state, &agent, query.site.as_deref()).await?;
    Ok(Json(state.articles.list(&site).await?))
}

/// `POST /api/articles`: a new article with its first language.
pub(super) async fn create(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    ApiJson(save): ApiJson<SaveArticle>,
) -> Result<(StatusCode, Json<ArticleView>), ApiError> {
    let site = site_of(&state, &agent, save.site_id.as_deref()).await?;
    let view = state
        .articles
        .create(&agent, &site, save)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/articles/{id}`.
pub(super) async fn one(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<Json<ArticleView>, ApiError> {
    let (article, site) = state
        .articles
        .of_account(&agent, &id)
        .await?
        .map_err(refused)?;
    Ok(Json(state.articles.view(&article.id, &site).await?))
}

/// `PUT /api/articles/{id}/{lang}`: saves one language (made or changed).
pub(super) async fn save(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path((id, language)): Path<(String, String)>,
    ApiJson(save): ApiJson<SaveArticle>,
) -> Result<Json<ArticleView>, ApiError> {
    state
        .articles
        .save(&agent, &id, &language, save)
        .await?
        .map(Json)
        .map_err(refused)
}

/// `DELETE /api/articles/{id}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.articles.delete(&agent, &id).await?.map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/articles/{id}/history`: every save, newest first.
pub(super) async fn history(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<Json<Vec<ArticleEdit>>, ApiError> {
    state
        .articles
        .history(&agent, &id)
        .await?
        .map(Json)
        .map_err(refused)
}

/// `POST /api/articles/preview`, `{"body": "…"}`: the Markdown as shoppers
/// will see it.
pub(super) async fn preview(
    CurrentAgent(_agent): CurrentAgent,
    ApiJson(save): ApiJson<PreviewBody>,
) -> Result<Json<ArticlePreview>, ApiError> {
    if save.body.len() > protocol::MAX_ARTICLE_BODY_BYTES {
        return Err(refused(ArticleRefused::Body));
    }
    Ok(Json(ArticlePreview {
        html: markdown::render(&save.body),
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct PreviewBody {
    body: String,
}

/// `GET /api/articles/search?site=ID&lang=en&q=…`: published articles for
/// the composer's `/a`, best first, each with its public link.
pub(super) async fn search(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<SiteParam>,
) -> Result<Json<Vec<ArticleCard>>, ApiError> {
    let site = site_of(&state, &agent, query.site.as_deref()).await?;
    let Some(language) = state.articles.language_for(&site, &query.lang).await? else {
        return Ok(Json(Vec::new()));
    };
    let found = state
        .articles
        .find(&site, &language, &query.q, crate::articles::LIST_LENGTH)
        .await?
        .map_err(refused)?;
    Ok(Json(
        found
            .into_iter()
            .map(|summary| ArticleCard {
                url: state.articles.page_url(&site, &summary.id, &language),
                language: language.clone(),
                summary,
            })
            .collect(),
    ))
}
