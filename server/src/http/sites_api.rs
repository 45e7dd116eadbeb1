//! The owner console's sites: create, rename, delete; allowed origins; the
//! widget's look, words, language and hours; the identity secret. Owners
//! only, and only their own account's sites (others' are 404).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{
    EnforceIdentity, IdentitySettings, MAX_EMAIL_DELAY_MINUTES, MAX_LABEL_CHARS, MAX_TEXT_CHARS,
    MailSetup, NewSite, SecretRotation, SiteChange, SiteSettings, SiteView, WIDGET_LANGUAGES,
};

use super::error::ApiError;
use super::extract::{ApiJson, CurrentOwner};
use super::pages::embed_snippet;
use super::state::AppState;
use crate::domain::Origin;
use crate::hub::Topic;
use crate::store::{Agent, Site, SiteUpdate};

/// Origins one site may list.
const MAX_ORIGINS: usize = 50;
/// Longest grace for a rotated secret: a week.
const MAX_GRACE_MINUTES: i64 = 7 * 24 * 60;

/// A site of the owner's account, or 404.
async fn own_site(state: &AppState, owner: &Agent, id: &str) -> Result<Site, ApiError> {
    match state.store.site_by_id(id).await? {
        Some(site) if site.account_id == owner.account_id => Ok(site),
        _ => Err(ApiError::not_found("site")),
    }
}

async fn view(state: &AppState, site: Site) -> Result<SiteView, ApiError> {
    Ok(SiteView {
        snippet: embed_snippet(&state.config.public_url(), &site.site_key),
        seen: state.store.sighting(&site.id).await?,
        email_delay_minutes: site.email_delay_secs.map(|secs| {
            u32::try_from(secs / 60)
                .unwrap_or(MAX_EMAIL_DELAY_MINUTES)
                .max(1)
        }),
        mail: mail_setup(state, &site.id).await?,
        id: site.id,
        name: site.name,
        site_key: site.site_key,
        allowed_origins: site.allowed_origins,
        settings: site.settings,
        enforce_identity: site.enforce_identity,
    })
}

/// How mail works for a site, with what the owner must set up for email
/// replies to come back.
async fn mail_setup(state: &AppState, site_id: &str) -> Result<MailSetup, ApiError> {
    let config = &state.config;
    let domain = config.reply_domain();
    let mut records = Vec::new();
    if let Some(addr) = config.inbound_smtp_addr {
        records.push(format!(
            "An MX record for {domain} pointing at this server's host name, with port 25 reaching this server's SMTP listener ({addr})."
        ));
    }
    if config.inbound_mail() {
        records.push(format!(
            "Replies go to reply+…@{domain}: that domain must receive mail (its MX), and may not be used for anything else."
        ));
    }
    if config
        .inbound_webhook_secret
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
    {
        records.push(format!(
            "Mail provider's inbound route for {domain}: POST the raw message to {}/api/mail/inbound with the header Authorization: Bearer <RAPPORT_INBOUND_WEBHOOK_SECRET>.",
            config.public_url()
        ));
    }
    Ok(MailSetup {
        outbound: state.conversations.mail().outbound,
        reply_domain: domain,
        inbound_smtp: config.inbound_smtp_addr.is_some(),
        inbound_webhook: config
            .inbound_webhook_secret
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty()),
        records,
        status: state.store.mail_status(site_id).await?,
    })
}

/// A site's name: one line, as shoppers read it in the widget and in mail.
fn site_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_LABEL_CHARS {
        return Err(ApiError::bad_request(format!(
            "A site needs a name of 1 to {MAX_LABEL_CHARS} characters."
        )));
    }
    if name.chars().any(crate::domain::is_unwritable) {
        return Err(ApiError::bad_request(
            "A site's name cannot hold line breaks or other control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// Normalised, deduplicated origins, or which one is not an origin.
fn origins(raw: &[String]) -> Result<Vec<String>, ApiError> {
    if raw.len() > MAX_ORIGINS {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_ORIGINS} allowed origins."
        )));
    }
    let mut origins = raw
        .iter()
        .map(|origin| Origin::parse(origin).map(Origin::into_string))
        .collect::<Result<Vec<_>, _>>()?;
    origins.sort();
    origins.dedup();
    Ok(origins)
}

/// Checks every field a site owner may set, with a message naming the field.
pub(super) fn check_settings(settings: &SiteSettings) -> Result<(), ApiError> {
    let accent = settings.accent.as_bytes();
    if accent.len() != 7 || accent[0] != b'#' || !accent[1..].iter().all(u8::is_ascii_hexdigit) {
        return Err(ApiError::bad_request(format!(
            "The accent colour \"{}\" is not like #2f6fed.",
            settings.accent
        )));
    }
    if settings.launcher_label.chars().count() > MAX_LABEL_CHARS {
        return Err(ApiError::bad_request(format!(
            "The launcher label is longer than {MAX_LABEL_CHARS} characters."
        )));
    }
    for (what, text) in [
        ("greeting", &settings.greeting),
        ("greeting for known shoppers", &settings.greeting_known),
        ("away message", &settings.away_message),
    ] {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::bad_request(format!(
                "The {what} is longer than {MAX_TEXT_CHARS} characters."
            )));
        }
    }
    if let Some(language) = &settings.language
        && !WIDGET_LANGUAGES.contains(&language.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "The widget speaks {}; \"{language}\" is not one of them.",
            WIDGET_LANGUAGES.join(", ")
        )));
    }
    if let Some(hours) = &settings.hours {
        crate::hours::validate(hours).map_err(ApiError::bad_request)?;
    }
    if settings.launcher_offset > protocol::MAX_LAUNCHER_OFFSET {
        return Err(ApiError::bad_request(format!(
            "The launcher can be lifted at most {} px above the page's bottom.",
            protocol::MAX_LAUNCHER_OFFSET
        )));
    }
    if settings.reopen_days > protocol::MAX_REOPEN_DAYS {
        return Err(ApiError::bad_request(format!(
            "A closed conversation reopens on the customer's word for at most {} days.",
            protocol::MAX_REOPEN_DAYS
        )));
    }
    Ok(())
}

/// `GET /api/admin/sites`.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
) -> Result<Json<Vec<SiteView>>, ApiError> {
    let mut views = Vec::new();
    for site in state.store.sites_of_account(&owner.account_id).await? {
        views.push(view(&state, site).await?);
    }
    Ok(Json(views))
}

/// `POST /api/admin/sites`.
pub(super) async fn create(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    ApiJson(new): ApiJson<NewSite>,
) -> Result<(StatusCode, Json<SiteView>), ApiError> {
    let name = site_name(&new.name)?;
    let origins = origins(&new.allowed_origins)?;
    let site = state
        .store
        .create_site(&owner.account_id, &name, &origins)
        .await?;
    tracing::info!(site = %site.id, owner = %owner.id, "site created");
    Ok((StatusCode::CREATED, Json(view(&state, site).await?)))
}

/// `GET /api/admin/sites/{id}`.
pub(super) async fn get(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<Json<SiteView>, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    Ok(Json(view(&state, site).await?))
}

/// `PATCH /api/admin/sites/{id}`: everything is checked before anything
/// is written.
pub(super) async fn update(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<SiteChange>,
) -> Result<Json<SiteView>, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    let name = change.name.as_deref().map(site_name).transpose()?;
    let origins = change.allowed_origins.as_deref().map(origins).transpose()?;
    if let Some(settings) = &change.settings {
        check_settings(settings)?;
    }
    let email_delay_secs = match change.email_delay_minutes {
        Some(Some(minutes)) if !(1..=MAX_EMAIL_DELAY_MINUTES).contains(&minutes) => {
            return Err(ApiError::bad_request(format!(
                "Unseen replies are emailed after 1 to {MAX_EMAIL_DELAY_MINUTES} minutes, or never (null); got {minutes}."
            )));
        }
        Some(minutes) => Some(minutes.map(|m| i64::from(m) * 60)),
        None => None,
    };
    state
        .store
        .update_site(
            &site.id,
            SiteUpdate {
                name: name.as_deref(),
                allowed_origins: origins.as_deref(),
                settings: change.settings.as_ref(),
                email_delay_secs,
            },
        )
        .await?;
    let updated = own_site(&state, &owner, &id).await?;
    // An origin taken off the list applies to the pages already open too.
    if site
        .allowed_origins
        .iter()
        .any(|before| !updated.allowed_origins.contains(before))
        || (site.allowed_origins.is_empty() && !updated.allowed_origins.is_empty())
    {
        state.hub.recheck_everywhere(&Topic::Site(site.id.clone()));
    }
    Ok(Json(view(&state, updated).await?))
}

/// `DELETE /api/admin/sites/{id}`: the site and everything under it.
pub(super) async fn delete(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    state.conversations.erase_site(&owner, &site.id).await?;
    // Its widgets are told the chat is gone, not to reconnect.
    state
        .hub
        .end_sessions_everywhere(&Topic::Site(site.id.clone()));
    tracing::info!(site = %site.id, owner = %owner.id, "site deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The site's secrets as stored now, with its (known) enforce switch.
async fn identity_settings(
    state: &AppState,
    site_id: &str,
    enforce: bool,
) -> Result<IdentitySettings, ApiError> {
    Ok(IdentitySettings {
        secrets: state.store.site_secrets(site_id).await?,
        enforce,
    })
}

/// `GET /api/admin/sites/{id}/identity`.
pub(super) async fn identity(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<Json<IdentitySettings>, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    Ok(Json(
        identity_settings(&state, &site.id, site.enforce_identity).await?,
    ))
}

/// `POST /api/admin/sites/{id}/identity/rotate`: a new secret; the old
/// ones keep working for the grace period chosen.
pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
    ApiJson(rotation): ApiJson<SecretRotation>,
) -> Result<Json<IdentitySettings>, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    if !(0..=MAX_GRACE_MINUTES).contains(&rotation.grace_minutes) {
        return Err(ApiError::bad_request(format!(
            "The grace period is 0 to {MAX_GRACE_MINUTES} minutes (a week)."
        )));
    }
    state
        .store
        .rotate_site_secret(&site.id, rotation.grace_minutes * 60_000)
        .await?;
    tracing::info!(site = %site.id, owner = %owner.id, grace_minutes = rotation.grace_minutes, "identity secret rotated");
    Ok(Json(
        identity_settings(&state, &site.id, site.enforce_identity).await?,
    ))
}

/// `PUT /api/admin/sites/{id}/identity/enforce`.
pub(super) async fn enforce_identity(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
    ApiJson(EnforceIdentity { enforce }): ApiJson<EnforceIdentity>,
) -> Result<Json<IdentitySettings>, ApiError> {
    let site = own_site(&state, &owner, &id).await?;
    state.store.set_enforce_identity(&site.id, enforce).await?;
    if enforce && !site.enforce_identity {
        // Open sockets were let in under the old rule: they reconnect.
        state.hub.recheck_everywhere(&Topic::Site(site.id.clone()));
    }
    Ok(Json(identity_settings(&state, &site.id, enforce).await?))
}
