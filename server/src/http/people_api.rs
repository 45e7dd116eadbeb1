//! The owner console's people: who is in the account, invitations by email
//! link (single use, expiring), roles, teams, languages, capacity, and
//! deactivation. Accepting an invitation is public: the link is the key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{
    AcceptInvite, AgentProfile, ErrorCode, InviteInfo, InviteToken, InviteView, NewInvite, People,
    Person, PersonChange, Role,
};
use tower_sessions::Session;

use super::error::ApiError;
use super::extract::{ApiJson, Counted, CurrentOwner};
use super::state::AppState;
use crate::domain::{Capacity, Email, LanguageTag, PersonName, TeamId};
use crate::identity::SESSION_AGENT_ID;
use crate::store::{OpenInvite, StoreError};

/// How long an invitation link works.
pub(super) const INVITE_VALID_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Shortest password a new agent may choose.
pub(super) const MIN_PASSWORD_CHARS: usize = 10;

const MAX_URL_LEN: usize = 2048;

/// An `https://` address with nothing that could break out of an attribute.
fn is_picture_url(url: &str) -> bool {
    // Visible ASCII only: it goes into a `Location` header and an `<img>`
    // as it is (control characters once made the picture answer 500).
    url.len() <= MAX_URL_LEN
        && url.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"\"'<>\\`".contains(c))
        })
}

/// `GET /api/admin/people`.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
) -> Result<Json<People>, ApiError> {
    Ok(Json(People {
        people: state.store.people_of_account(&owner.account_id).await?,
        invites: state.store.open_invites(&owner.account_id).await?,
    }))
}

/// `POST /api/admin/invites`: stores the invitation and mails its link. The
/// link also comes back, for the owner to share when no mail is configured
/// or sending failed.
pub(super) async fn invite(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    ApiJson(new): ApiJson<NewInvite>,
) -> Result<(StatusCode, Json<InviteView>), ApiError> {
    let email = Email::parse(&new.email)?;
    let email = email.as_str();
    // Whether the address has an account (here or in another account) is
    // not told: the invitation is made either way, and its link says so to
    // whoever holds the mailbox.
    let (mut invite, token) = state
        .store
        .create_invite(
            &owner.account_id,
            email,
            new.role,
            &owner.id,
            INVITE_VALID_MS,
        )
        .await?;
    let link = format!("{}/app/#invite={token}", state.config.public_url());
    let body = format!(
        "{} invited you to answer shoppers' chats with Rapport.\n\n\
         Choose your name and password here (the link works once, for 7 days):\n{link}\n",
        owner.name
    );
    invite.emailed = match state
        .mailer
        .send(email, "You are invited to Rapport", body)
        .await
    {
        Ok(sent) => sent,
        Err(err) => {
            tracing::warn!(%err, invite = %invite.id, "invitation mail not sent; the owner has the link");
            false
        }
    };
    invite.link = Some(link);
    tracing::info!(invite = %invite.id, by = %owner.id, emailed = invite.emailed, "invitation created");
    Ok((StatusCode::CREATED, Json(invite)))
}

/// `PATCH /api/admin/people/{id}`: everything is checked before anything
/// changes. An owner cannot demote or deactivate themselves, so an account
/// always keeps someone who can manage it.
pub(super) async fn change(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<PersonChange>,
) -> Result<Json<Person>, ApiError> {
    if state.store.person_account(&id).await?.as_deref() != Some(owner.account_id.as_str()) {
        return Err(ApiError::not_found("person"));
    }
    if id == owner.id && (change.active == Some(false) || change.role == Some(Role::Agent)) {
        return Err(ApiError::bad_request(
            "You cannot deactivate or demote yourself; another owner can.",
        ));
    }
    let capacity = change
        .capacity
        .map(|capacity| capacity.map(Capacity::parse).transpose())
        .transpose()?;
    if let Some(Some(url)) = &change.avatar_url
        && !is_picture_url(url)
    {
        return Err(ApiError::bad_request(format!(
            "\"{url}\" is not a picture's address: an https:// URL of up to {MAX_URL_LEN} characters."
        )));
    }
    let teams = change
        .teams
        .as_deref()
        .map(|teams| {
            teams
                .iter()
                .map(|t| TeamId::parse(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    if let Some(teams) = &teams {
        let known = state.store.teams_of_account(&owner.account_id).await?;
        if let Some(unknown) = teams
            .iter()
            .find(|t| !known.iter().any(|k| k.id == t.as_str()))
        {
            return Err(ApiError::bad_request(format!(
                "No team has the id \"{unknown}\"."
            )));
        }
    }
    let languages = change
        .languages
        .as_deref()
        .map(|tags| {
            tags.iter()
                .map(|t| LanguageTag::parse(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;

    if let Some(role) = change.role {
        state.store.set_agent_role(&id, role).await?;
    }
    if let Some(teams) = &teams {
        let teams: Vec<String> = teams.iter().map(|t| t.as_str().to_owned()).collect();
        state.store.set_agent_teams(&id, &teams).await?;
    }
    if let Some(languages) = &languages {
        state.store.set_agent_languages(&id, languages).await?;
    }
    if let Some(capacity) = capacity {
        state
            .store
            .set_agent_capacity(&id, capacity.map(Capacity::get))
            .await?;
    }
    if let Some(url) = &change.avatar_url {
        state.store.set_agent_avatar(&id, url.as_deref()).await?;
    }
    if let Some(active) = change.active {
        // Read before deactivating: afterwards the agent is not found as active.
        let before = state.store.agent_by_id(&id).await?;
        state.store.set_agent_active(&id, active).await?;
        if let (false, Some(agent)) = (active, before) {
            state.dispatcher.deactivated(&agent);
            tracing::info!(agent = %agent.id, by = %owner.id, "deactivated");
        }
    }
    if let Some(agent) = state.store.agent_by_id(&id).await? {
        state.dispatcher.agent_changed(&agent);
    }
    let person = state
        .store
        .people_of_account(&owner.account_id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError::not_found("person"))?;
    Ok(Json(person))
}

async fn open_invite(state: &AppState, token: &str) -> Result<OpenInvite, ApiError> {
    state.store.open_invite(token).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "This invitation link was already used or has expired; ask for a new one.",
        )
    })
}

/// `DELETE /api/admin/invites/{id}`: the link stops working.
pub(super) async fn revoke(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.revoke_invite(&owner.account_id, &id).await? {
        tracing::info!(invite = %id, by = %owner.id, "invitation revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("invitation"))
    }
}

/// `POST /api/invites/info`: whom the link is for.
pub(super) async fn invite_info(
    State(state): State<AppState>,
    _: Counted,
    ApiJson(InviteToken { token }): ApiJson<InviteToken>,
) -> Result<Json<InviteInfo>, ApiError> {
    let invite = open_invite(&state, &token).await?;
    Ok(Json(InviteInfo {
        email: invite.email,
        account_name: invite.account_name,
    }))
}

/// `POST /api/invites/accept`: creates the agent and signs them in.
pub(super) async fn accept(
    State(state): State<AppState>,
    _: Counted,
    session: Session,
    ApiJson(accept): ApiJson<AcceptInvite>,
) -> Result<(StatusCode, Json<AgentProfile>), ApiError> {
    let token = accept.token.clone();
    let invite = open_invite(&state, &token).await?;
    let name = PersonName::parse(&accept.name)?;
    if accept.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "Choose a password of at least {MIN_PASSWORD_CHARS} characters."
        )));
    }
    let hash = super::agent_api::hash_password(&state, accept.password).await?;
    let agent = match state
        .store
        .accept_invite(&invite, name.as_str(), &hash)
        .await
    {
        Ok(Some(agent)) => agent,
        Ok(None) => {
            return Err(open_invite(&state, &token)
                .await
                .err()
                .unwrap_or_else(|| ApiError::not_found("invitation")));
        }
        Err(StoreError::Conflict(_)) => {
            // The address has an account already (perhaps in another shop's):
            // sign in with it. Said only to whoever holds the link.
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::BadRequest,
                format!(
                    "{} can already sign in to Rapport; sign in instead.",
                    invite.email
                ),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    session.cycle_id().await?;
    session.insert(SESSION_AGENT_ID, &agent.id).await?;
    tracing::info!(agent = %agent.id, invite = %invite.id, "invitation accepted");
    Ok((StatusCode::CREATED, Json(agent.profile())))
}
