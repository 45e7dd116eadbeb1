//! Public endpoints for the widget on a shop's page: which site, and whether
//! the page's origin may use it. Checked on every request and every socket.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::{AgentDisplay, Availability, Away, ErrorCode, Launcher, TopicChoice, WidgetConfig};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::Counted;
use super::state::AppState;
use crate::limits::ClientKey;
use crate::store::{Site, Visitor, now_ms};
use crate::widget_texts::{self, or_default};
use crate::{hours, identity};

const MAX_SITE_KEY_LEN: usize = 64;

/// Longest page URL kept for the console's "installed?" indicator.
const MAX_PAGE_URL_LEN: usize = 2048;

#[derive(Debug, Deserialize)]
pub(super) struct SiteQuery {
    pub site: Option<String>,
    /// The page's `navigator.language` (the loader sends it).
    pub lang: Option<String>,
    /// The page's URL, for the console's "installed on …".
    pub page: Option<String>,
    /// The shopper's IANA time zone, to tell opening times on their clock.
    pub tz: Option<String>,
}

/// The shopper behind `Authorization: Bearer VISITOR_TOKEN` on `site`,
/// unless the shop blocked them or their address.
pub(super) async fn widget_visitor(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    ip: std::net::IpAddr,
) -> Result<Visitor, ApiError> {
    let not_yours = |message: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidVisitorToken,
            message,
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            not_yours("Send the widget's visitor token as Authorization: Bearer TOKEN.")
        })?;
    let visitor = state
        .store
        .visitor_by_token_hash(
            &identity::token_hash(token),
            state.config.visitor_tokens_used_since(),
        )
        .await?
        .filter(|visitor| visitor.site_id == site.id)
        .ok_or_else(|| not_yours("This visitor token is not valid for this site."))?;
    let address = ClientKey::from(ip).to_string();
    if state
        .store
        .is_blocked(&site.account_id, Some(&visitor.id), Some(&address))
        .await?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Blocked,
            "This shop no longer takes messages from you.",
        ));
    }
    Ok(visitor)
}

/// The site named by `?site=`, if it exists and allows the request's `Origin`.
pub(super) async fn authorize_site(
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
    let own_origin = state.config.public_origin();
    let origin = page_origin(headers, &own_origin);
    if !site.allows_origin(origin.as_deref(), &own_origin, state.config.is_local()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OriginNotAllowed,
            format!(
                "This chat widget is not allowed on {}; the site owner can add this origin to the site's allowed origins.",
                origin
                    .as_deref()
                    .unwrap_or("a page without an Origin header")
            ),
        ));
    }
    Ok(site)
}

/// The origin of the page a widget request comes from. Browsers send
/// `Origin` on every cross-origin request and every WebSocket, but not on a
/// same-origin GET (the demo shop's config request): that one is known by
/// `Sec-Fetch-Site: same-origin`, which a page cannot set and which no
/// browser sends from another site's page, and it is this server's own
/// origin. A request with neither header names no page.
pub(super) fn page_origin(headers: &HeaderMap, own_origin: &str) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().ok().map(str::to_owned);
    }
    let same_origin = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"same-origin"));
    (same_origin && !own_origin.is_empty()).then(|| own_origin.to_owned())
}

/// `GET /api/widget/config?site=KEY`: what the loader needs to draw the launcher.
pub(super) async fn config(
    State(state): State<AppState>,
    _: Counted,
    Query(query): Query<SiteQuery>,
    headers: HeaderMap,
) -> Result<Json<WidgetConfig>, ApiError> {
    let site = authorize_site(&state, &query, &headers).await?;
    if let Some(origin) = page_origin(&headers, &state.config.public_origin()) {
        let origin = origin.as_str();
        // Only a page of the same origin counts as where it was seen.
        let page = query.page.as_deref().filter(|page| {
            page.len() <= MAX_PAGE_URL_LEN
                && page
                    .get(..origin.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(origin))
        });
        // The chat must work even when the note cannot be written.
        if let Err(err) = state.store.record_sighting(&site.id, origin, page).await {
            tracing::warn!(%err, site = %site.id, "cannot note where the widget loaded");
        }
    }
    let browser = query.lang.clone().unwrap_or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    });
    let topics = state.store.site_topics(&site.id).await?;
    let email_replies = state.conversations.mail().outbound && site.email_delay_secs.is_some();
    let mut config = widget_config(
        &site,
        &browser,
        query.tz.as_deref(),
        topics,
        now_ms(),
        email_replies,
    );
    config.help = !state.store.published_languages(&site.id).await?.is_empty();
    config.agents_online = state
        .dispatcher
        .statuses(&site.account_id)
        .await
        .values()
        .any(|status| *status == Availability::Online);
    Ok(Json(config))
}

/// The widget's config for a shopper whose browser speaks `browser`, on a
/// clock in `shopper_zone` (if known), at `now_ms`.
pub(super) fn widget_config(
    site: &Site,
    browser: &str,
    shopper_zone: Option<&str>,
    topics: Vec<TopicChoice>,
    now_ms: i64,
    email_replies: bool,
) -> WidgetConfig {
    let settings = &site.settings;
    let language = widget_texts::choose(settings, browser);
    let away = settings
        .hours
        .as_ref()
        .and_then(|hours| match hours::availability(hours, now_ms) {
            hours::Availability::Open => None,
            hours::Availability::Closed { back_at_ms } => Some(Away {
                message: or_default(&settings.away_message, language.away),
                back_at: back_at_ms.and_then(|ms| {
                    let on_shoppers_clock = shopper_zone
                        .and_then(|zone| hours::weekday_and_time(ms, zone, &language.weekdays));
                    on_shoppers_clock.or_else(|| {
                        hours::weekday_and_time(ms, &hours.time_zone, &language.weekdays)
                            .map(|at| format!("{at} ({})", hours.time_zone))
                    })
                }),
                back_at_ms,
            }),
        });
    WidgetConfig {
        site_name: site.name.clone(),
        greeting: or_default(&settings.greeting, language.greeting),
        greeting_known: or_default(&settings.greeting_known, language.greeting_known),
        topics,
        texts: language.texts.iter().map(|t| (*t).to_owned()).collect(),
        language: language.code.to_owned(),
        launcher: Launcher {
            accent: settings.accent.clone(),
            position: settings.position,
            label: or_default(&settings.launcher_label, language.launcher),
            offset: settings.launcher_offset.min(protocol::MAX_LAUNCHER_OFFSET),
        },
        away,
        email_replies,
        typing_preview: settings.typing_preview,
        agent_avatars: settings.agent_display == AgentDisplay::Avatar,
        agents_online: false,
        files: !settings.file_kinds.is_empty(),
        rating: settings.rating,
        help: false,
    }
}

/// `GET /api/widget/avatar/{agent_id}?site=KEY`: the agent's picture (a
/// redirect to it), or their initials on the site's accent colour. An
/// `<img>` sends no `Origin`, so only the site and the agent's account are
/// checked: another account's agents are not found.
pub(super) async fn avatar(
    State(state): State<AppState>,
    _: Counted,
    Path(agent_id): Path<String>,
    Query(query): Query<SiteQuery>,
) -> Result<Response, ApiError> {
    let key = query.site.as_deref().unwrap_or_default();
    let site = match state.store.site_by_key(key).await? {
        Some(site) => site,
        None => return Err(ApiError::not_found("site")),
    };
    let Some((account_id, name, url)) = state.store.agent_avatar(&agent_id).await? else {
        return Err(ApiError::not_found("agent"));
    };
    // A "team only" site never shows a person: not their picture either,
    // not even to someone who guessed an agent's id.
    if account_id != site.account_id || site.settings.agent_display == AgentDisplay::TeamOnly {
        return Err(ApiError::not_found("agent"));
    }
    let cache = (header::CACHE_CONTROL, "public, max-age=300");
    if let Some(location) = url.and_then(|url| HeaderValue::from_str(&url).ok()) {
        let headers = [
            (header::CACHE_CONTROL, HeaderValue::from_static(cache.1)),
            (header::LOCATION, location),
        ];
        return Ok((StatusCode::TEMPORARY_REDIRECT, headers).into_response());
    }
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><circle cx="32" cy="32" r="32" fill="{}"/><text x="32" y="41" font-family="system-ui,sans-serif" font-size="26" font-weight="600" fill="#fff" text-anchor="middle">{}</text></svg>"##,
        site.settings.accent,
        escape_xml(&crate::conversations::initials(&name)),
    );
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), cache], svg).into_response())
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
