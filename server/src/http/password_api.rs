//! Passwords after sign-up: change your own (the current one first; your
//! other sessions end), or, forgotten, ask for a single-use link by email
//! (the same answer whether or not the address has an account) and choose
//! a new one with it (every session ends).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::{
    AgentProfile, ChangePassword, ErrorCode, InviteToken, ResetConfirm, ResetInfo, ResetRequest,
};
use tower_sessions::Session;

use super::agent_api::{hash_password, verify_password};
use super::error::ApiError;
use super::extract::{ApiJson, ClientIp, Counted, CurrentAgent};
use super::state::AppState;
use crate::domain::{Email, PersonName};
use crate::hub::Topic;
use crate::identity::SESSION_AGENT_ID;
use crate::store::{StoreError, now_ms, session_key};

/// How long an emailed reset link works.
pub(super) const RESET_VALID_MS: i64 = 60 * 60 * 1000;
/// At most one reset mail per person this often.
const RESET_EVERY_MS: i64 = 2 * 60 * 1000;

/// Closes the inbox sockets of ended sessions, in every process.
fn end_sockets(state: &AppState, sessions: &[String]) {
    for key in sessions {
        state
            .hub
            .end_sessions_everywhere(&Topic::Session(key.clone()));
    }
}

/// `POST /api/auth/password`.
pub(super) async fn change(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    CurrentAgent(agent): CurrentAgent,
    session: Session,
    ApiJson(change): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    // A stolen session guessing at the password is a sign-in attempt too.
    let guesser = super::devices::guesser(&state, &headers, Some(&agent), ip);
    state.signin.check(&agent.email, ip, &guesser)?;
    let verified = verify_password(
        &state,
        change.current_password,
        Some(agent.password_hash.clone()),
    )
    .await?;
    if !verified {
        super::agent_api::wrong_password(&state, &agent.email, ip, &guesser, Some(&agent)).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::BadCredentials,
            "Your current password is not right.",
        ));
    }
    let hash = hash_password(&state, change.new_password).await?;
    let keep = session.id().map(|id| session_key(&id));
    let ended = state
        .store
        .set_password(&agent.id, &hash, keep.as_deref())
        .await?;
    end_sockets(&state, &ended);
    tracing::info!(agent = %agent.id, ended = ended.len(), "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/reset`: always 202, whether the address has an account
/// or not; the mail goes out after the answer, so that its timing does not
/// tell either.
pub(super) async fn request(
    State(state): State<AppState>,
    _: Counted,
    ApiJson(request): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    let email = request.email.trim().to_ascii_lowercase();
    if email.len() > 320 {
        return Err(ApiError::bad_request("That is not an email address."));
    }
    tokio::spawn(async move {
        if let Err(err) = send_reset(&state, &email).await {
            tracing::warn!(%err, "password reset mail not sent");
        }
    });
    Ok(StatusCode::ACCEPTED)
}

async fn send_reset(state: &AppState, email: &str) -> Result<(), ApiError> {
    let Some(agent) = state.store.agent_by_email(email).await? else {
        return Ok(());
    };
    if !state.mailer.is_configured() {
        tracing::warn!(agent = %agent.id, "a password reset was asked for, but no mail server is configured; `rapport set-password` sets one");
        return Ok(());
    }
    let last = state.store.last_password_reset(&agent.id).await?;
    if last.is_some_and(|at| now_ms() - at < RESET_EVERY_MS) {
        return Ok(());
    }
    let token = state
        .store
        .create_password_reset(&agent.id, RESET_VALID_MS)
        .await?;
    let link = format!("{}/app/#reset={token}", state.config.public_url());
    let body = format!(
        "Someone (we hope you) asked to choose a new password for Rapport.\n\n\
         Choose it here (the link works once, for an hour):\n{link}\n\n\
         If it was not you, ignore this mail: your password stays as it is.\n"
    );
    state
        .mailer
        .send(&agent.email, "Choose a new Rapport password", body)
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    tracing::info!(agent = %agent.id, "password reset link mailed");
    Ok(())
}

fn link_gone() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "This link was already used or has expired; ask for a new one.",
    )
}

/// Longest token a link can carry.
const MAX_TOKEN_LEN: usize = 128;

/// `POST /api/auth/reset/info`: whose password the link chooses (the page
/// names the account, and asks the first run's owner for their name).
pub(super) async fn info(
    State(state): State<AppState>,
    _: Counted,
    ApiJson(InviteToken { token }): ApiJson<InviteToken>,
) -> Result<Json<ResetInfo>, ApiError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(link_gone());
    }
    let (agent, account_name) = state
        .store
        .password_reset_holder(&token)
        .await?
        .ok_or_else(link_gone)?;
    Ok(Json(ResetInfo {
        email: agent.email,
        name: agent.name,
        account_name,
    }))
}

/// `POST /api/auth/reset/confirm`: the new password (and, for a person
/// without one, their name; their own address if they give one); every
/// other session ends and this browser is signed in.
pub(super) async fn confirm(
    State(state): State<AppState>,
    _: Counted,
    session: Session,
    ApiJson(confirm): ApiJson<ResetConfirm>,
) -> Result<Json<AgentProfile>, ApiError> {
    // Checked before hashing: a made-up link costs no hashing.
    if confirm.token.len() > MAX_TOKEN_LEN {
        return Err(link_gone());
    }
    let (holder, _) = state
        .store
        .password_reset_holder(&confirm.token)
        .await?
        .ok_or_else(link_gone)?;
    let name = confirm
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .map(PersonName::parse)
        .transpose()?;
    if name.is_none() && holder.name.trim().is_empty() {
        return Err(ApiError::bad_request(
            "Your name is needed: shoppers and colleagues see it.",
        ));
    }
    let email = confirm
        .email
        .as_deref()
        .filter(|email| !email.trim().is_empty())
        .map(Email::parse)
        .transpose()?
        .filter(|email| email.as_str() != holder.email);
    let hash = hash_password(&state, confirm.password).await?;
    let used = state
        .store
        .use_password_reset(
            &confirm.token,
            &hash,
            name.as_ref().map(PersonName::as_str),
            email.as_ref().map(Email::as_str),
        )
        .await;
    let (agent_id, ended) = match used {
        Ok(Some(used)) => used,
        Ok(None) => return Err(link_gone()),
        Err(StoreError::Conflict(_)) => return Err(address_taken()),
        Err(err) => return Err(err.into()),
    };
    end_sockets(&state, &ended);
    let agent = state
        .store
        .agent_by_id(&agent_id)
        .await?
        .ok_or_else(link_gone)?;
    // A fresh id at sign-in defeats session fixation.
    session.cycle_id().await?;
    session.insert(SESSION_AGENT_ID, &agent.id).await?;
    if name.is_some() || email.is_some() {
        state.dispatcher.agent_changed(&agent);
    }
    tracing::info!(agent = %agent.id, ended = ended.len(), "password chosen by link; signed in");
    Ok(Json(agent.profile()))
}

/// Another person signs in with that address.
pub(super) fn address_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::BadRequest,
        "Another person signs in with that address.",
    )
}
