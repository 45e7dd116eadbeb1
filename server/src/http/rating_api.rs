//! The rating door: a shopper rates a chat that ended from the widget's
//! rating prompt (loaded on first use), with their visitor token, from an
//! allowed page. `GET` says whether they are asked and what they gave;
//! `POST` gives or changes it. Each request counts against the address's
//! request limit; the conversation service decides the rest.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use protocol::{RatingGiven, RatingState};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::ClientIp;
use super::state::AppState;
use super::widget_api::{SiteQuery, authorize_site, widget_visitor};
use crate::conversations::RatingRefused;

#[derive(Debug, Deserialize)]
pub(super) struct RatingQuery {
    site: Option<String>,
    conversation: Option<String>,
}

/// `GET /api/widget/rating?site=KEY&conversation=ID`.
pub(super) async fn state(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<RatingQuery>,
    headers: HeaderMap,
) -> Result<Json<RatingState>, ApiError> {
    let (visitor_id, conversation_id) = shopper(&state, ip, query, &headers).await?;
    state
        .conversations
        .rating_state(&visitor_id, &conversation_id)
        .await?
        .map(Json)
        .map_err(refused)
}

/// `POST /api/widget/rating?site=KEY&conversation=ID`, `{"score": 1–5,
/// "comment": "…"}`: the shopper's rating, as it now stands.
pub(super) async fn rate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<RatingQuery>,
    headers: HeaderMap,
    Json(given): Json<RatingGiven>,
) -> Result<Json<RatingState>, ApiError> {
    let (visitor_id, conversation_id) = shopper(&state, ip, query, &headers).await?;
    state
        .conversations
        .rate(&visitor_id, &conversation_id, given.score, given.comment)
        .await?
        .map(Json)
        .map_err(refused)
}

/// The shopper asking and the conversation they name.
async fn shopper(
    state: &AppState,
    ip: std::net::IpAddr,
    query: RatingQuery,
    headers: &HeaderMap,
) -> Result<(String, String), ApiError> {
    state.limits.request(ip)?;
    let site_query = SiteQuery {
        site: query.site,
        lang: None,
        page: None,
        tz: None,
    };
    let site = authorize_site(state, &site_query, headers).await?;
    let visitor = widget_visitor(state, &site, headers, ip).await?;
    let conversation = query
        .conversation
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::bad_request("Name the conversation: ?conversation=ID."))?;
    Ok((visitor.id, conversation))
}

fn refused(refused: RatingRefused) -> ApiError {
    ApiError::refused(refused.code(), refused.to_string())
}
