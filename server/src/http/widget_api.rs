//! Public endpoints for the widget on a shop's page: which site, and whether
//! the page's origin may use it. Checked on every request and every socket.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use protocol::{ErrorCode, WidgetConfig};
use serde::Deserialize;

use super::error::ApiError;
use super::state::AppState;
use crate::store::Site;

const MAX_SITE_KEY_LEN: usize = 64;

#[derive(Debug, Deserialize)]
pub struct SiteQuery {
    pub site: Option<String>,
}

/// The site named by `?site=`, if it exists and allows the request's `Origin`.
pub async fn authorize_site(
    state: &AppState,
    query: &SiteQuery,
    headers: &HeaderMap,
) -> Result<Site, ApiError> {
    let key = query.site.as_deref().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > MAX_SITE_KEY_LEN {
        return Err(ApiError::bad_request(
            "The script tag needs data-site=\"YOUR_SITE_KEY\"; copy the snippet from the console.",
        ));
    }
    let site = state.store.site_by_key(key).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSite,
            format!("No site has the key \"{key}\"; copy the snippet again from the console."),
        )
    })?;
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !site.allows_origin(origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            format!(
                "This chat widget is not allowed on {}; the site owner can add this origin to the site's allowed origins.",
                origin.unwrap_or("a page without an Origin header")
            ),
        ));
    }
    Ok(site)
}

/// `GET /api/widget/config?site=KEY`: what the loader needs to draw the launcher.
pub async fn config(
    State(state): State<AppState>,
    Query(query): Query<SiteQuery>,
    headers: HeaderMap,
) -> Result<Json<WidgetConfig>, ApiError> {
    let site = authorize_site(&state, &query, &headers).await?;
    Ok(Json(WidgetConfig {
        site_name: site.name.clone(),
        greeting: "Hi! Ask us anything. We usually answer within minutes.".to_owned(),
        topics: state.store.site_topics(&site.id).await?,
    }))
}
