//! The inbox's HTTP side: sign in and out, who am I, and reading history.
//! Everything but sign-in needs a session.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::{
    AgentProfile, CapacityUpdate, ConversationSummary, ErrorCode, Event, LoginRequest,
    ProfileChange, Role, Seq, SessionInfo, Team, TeamMember,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::devices;
use super::error::ApiError;
use super::extract::{ApiJson, ClientIp, CurrentAgent};
use super::state::AppState;
use crate::domain::{Capacity, Email, PersonName};
use crate::hub::Topic;
use crate::identity::{self, SESSION_AGENT_ID};
use crate::signin::MAX_PASSWORD_CHARS;
use crate::store::{Agent, Conversation, StoreError, session_key};

/// Conversations the inbox lists at most.
pub(super) const INBOX_LIMIT: i64 = 200;
/// Events one history request returns at most.
pub(super) const HISTORY_PAGE: i64 = 500;

/// A conversation of the agent's own account, or 404 (never 403: other
/// accounts' conversations do not exist as far as this agent can tell).
pub(super) async fn own_conversation(
    state: &AppState,
    agent: &Agent,
    id: &str,
) -> Result<Conversation, ApiError> {
    match state.store.conversation(id).await? {
        Some(conversation) if conversation.account_id == agent.account_id => Ok(conversation),
        _ => Err(ApiError::not_found("conversation")),
    }
}

/// Signs in. Wrong passwords lock out whoever guesses (this browser if it
/// signed in to the account before, else its address; see `signin`), for a
/// while that grows; the answer and its timing are the same whether or not
/// the email has an account. The person hears how many wrong passwords
/// were tried since they last signed in, and this browser is remembered.
pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    session: Session,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if request.password.chars().count() > MAX_PASSWORD_CHARS || request.email.len() > 320 {
        return Err(ApiError::bad_request(format!(
            "A password has at most {MAX_PASSWORD_CHARS} characters."
        )));
    }
    let agent = state.store.agent_by_email(&request.email).await?;
    let guesser = devices::guesser(&state, &headers, agent.as_ref(), ip);
    state.signin.check(&request.email, ip, &guesser)?;
    let stored = agent.as_ref().map(|a| a.password_hash.clone());
    let verified = verify_password(&state, request.password, stored).await?;
    let Some(agent) = agent.clone().filter(|_| verified) else {
        wrong_password(&state, &request.email, ip, &guesser, agent.as_ref()).await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "That email and password do not match an active account.",
        ));
    };
    state.signin.succeeded(&request.email, &guesser);
    // A fresh id at sign-in defeats session fixation.
    session.cycle_id().await?;
    session.insert(SESSION_AGENT_ID, &agent.id).await?;
    let mut profile = agent.profile();
    profile.failed_sign_ins = state.store.take_failed_sign_ins(&agent.id).await?;
    tracing::info!(agent = %agent.id, failed_before = profile.failed_sign_ins, "signed in");
    let mut response = Json(profile).into_response();
    if let Some(cookie) = devices::remember(&state, &guesser, &agent) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A wrong password: counted against whoever guessed, noted for the
/// person (if the address has an account), and an attack told of.
pub(super) async fn wrong_password(
    state: &AppState,
    email: &str,
    ip: std::net::IpAddr,
    guesser: &crate::signin::Guesser,
    agent: Option<&Agent>,
) -> Result<(), ApiError> {
    if let Some(attack) = state.signin.failed(email, ip, guesser) {
        devices::tell_of_attack(state, agent, attack);
    }
    if let Some(agent) = agent {
        state.store.note_failed_sign_in(&agent.id).await?;
    }
    Ok(())
}

/// Checks `password` against `stored` (a dummy hash when there is no
/// account, so that it takes as long) in a slot of the hashing pool, off
/// the async workers: hashing is slow on purpose.
pub(super) async fn verify_password(
    state: &AppState,
    password: String,
    stored: Option<String>,
) -> Result<bool, ApiError> {
    let _slot = state.signin.hashing_slot().await?;
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => identity::verify_password(&password, &hash),
        None => {
            identity::verify_password(&password, identity::dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Hashes a new password in a slot of the hashing pool.
pub(super) async fn hash_password(state: &AppState, password: String) -> Result<String, ApiError> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::bad_request(format!(
            "A password has at most {MAX_PASSWORD_CHARS} characters."
        )));
    }
    let _slot = state.signin.hashing_slot().await?;
    tokio::task::spawn_blocking(move || identity::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Signs out: the session is deleted and its open inbox sockets (in every
/// process) are closed, so no client keeps a socket the session no longer backs.
pub(super) async fn logout(
    State(state): State<AppState>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    if let Some(id) = session.id() {
        state
            .hub
            .end_sessions_everywhere(&Topic::Session(session_key(&id)));
    }
    session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn me(CurrentAgent(agent): CurrentAgent) -> Json<AgentProfile> {
    Json(agent.profile())
}

/// `GET /api/auth/session`: who this browser is signed in as, if anyone.
pub(super) async fn session_info(
    signed_in: Result<CurrentAgent, ApiError>,
) -> Result<Json<SessionInfo>, ApiError> {
    let agent = match signed_in {
        Ok(CurrentAgent(agent)) => Some(agent.profile()),
        Err(ApiError::Client {
            status: StatusCode::UNAUTHORIZED,
            ..
        }) => None,
        Err(err) => return Err(err),
    };
    Ok(Json(SessionInfo { agent }))
}

/// `PATCH /api/me`: one's own name, and sign-in address (with the current
/// password). Colleagues, and shoppers as the site shows agents, see the
/// new name from the next thing said.
pub(super) async fn change_me(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CurrentAgent(me): CurrentAgent,
    ApiJson(change): ApiJson<ProfileChange>,
) -> Result<Json<AgentProfile>, ApiError> {
    let name = change.name.as_deref().map(PersonName::parse).transpose()?;
    let email = change
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()?
        .filter(|email| email.as_str() != me.email);
    if let Some(email) = &email {
        // Whoever holds this session must also know the password: a new
        // address would carry the account's resets elsewhere.
        let password = change.current_password.unwrap_or_default();
        let guesser = devices::guesser(&state, &headers, Some(&me), ip);
        state.signin.check(&me.email, ip, &guesser)?;
        if !verify_password(&state, password, Some(me.password_hash.clone())).await? {
            wrong_password(&state, &me.email, ip, &guesser, Some(&me)).await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::BadCredentials,
                "Your current password is needed to change your sign-in address, and that one is not right.",
            ));
        }
        match state.store.set_agent_email(&me.id, email.as_str()).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(super::password_api::address_taken()),
            Err(err) => return Err(err.into()),
        }
        tracing::info!(agent = %me.id, "sign-in address changed");
    }
    if let Some(name) = &name {
        state.store.set_agent_name(&me.id, name.as_str()).await?;
    }
    let agent = state
        .store
        .agent_by_id(&me.id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    state.dispatcher.agent_changed(&agent);
    Ok(Json(agent.profile()))
}

pub(super) async fn conversations(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
) -> Result<Json<Vec<ConversationSummary>>, ApiError> {
    let list = state.store.inbox(&agent, INBOX_LIMIT).await?;
    Ok(Json(list.iter().map(Conversation::summary).collect()))
}

/// `GET /api/agents`: colleagues, who is online, and how loaded they are.
pub(super) async fn agents(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
) -> Result<Json<Vec<TeamMember>>, ApiError> {
    let agents = state.store.agents_of_account(&me.account_id).await?;
    let loads: std::collections::HashMap<String, i64> = state
        .store
        .agent_loads(&me.account_id)
        .await?
        .into_iter()
        .collect();
    let statuses = state.dispatcher.statuses(&me.account_id).await;
    Ok(Json(
        agents
            .into_iter()
            .map(|agent| TeamMember {
                status: statuses.get(&agent.id).copied().unwrap_or_default(),
                open: loads.get(&agent.id).copied().unwrap_or(0),
                capacity: agent.capacity,
                id: agent.id,
                name: agent.name,
            })
            .collect(),
    ))
}

/// `GET /api/teams`: the account's teams and who is in each.
pub(super) async fn teams(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
) -> Result<Json<Vec<Team>>, ApiError> {
    Ok(Json(state.store.teams_of_account(&me.account_id).await?))
}

/// `PUT /api/agents/{id}/capacity`: an agent sets their own, an owner
/// anyone's in the account. Raising it serves whoever waits at once.
pub(super) async fn set_capacity(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<CapacityUpdate>,
) -> Result<Json<TeamMember>, ApiError> {
    let agent = state
        .store
        .agent_by_id(&id)
        .await?
        .filter(|agent| agent.account_id == me.account_id)
        .ok_or_else(|| ApiError::not_found("agent"))?;
    if agent.id != me.id && me.role != Role::Owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Only an owner can change another agent's capacity.",
        ));
    }
    let capacity = update.capacity.map(Capacity::parse).transpose()?;
    state
        .store
        .set_agent_capacity(&agent.id, capacity.map(Capacity::get))
        .await?;
    let agent = state
        .store
        .agent_by_id(&agent.id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    state.dispatcher.agent_changed(&agent);
    tracing::info!(agent = %agent.id, by = %me.id, capacity = ?agent.capacity, "capacity changed");
    let statuses = state.dispatcher.statuses(&me.account_id).await;
    let open = state
        .store
        .agent_loads(&me.account_id)
        .await?
        .into_iter()
        .find_map(|(id, open)| (id == agent.id).then_some(open))
        .unwrap_or(0);
    Ok(Json(TeamMember {
        status: statuses.get(&agent.id).copied().unwrap_or_default(),
        open,
        capacity: agent.capacity,
        id: agent.id,
        name: agent.name,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct AfterQuery {
    #[serde(default)]
    pub after: Seq,
}

pub(super) async fn events(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
    Query(query): Query<AfterQuery>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let conversation = own_conversation(&state, &agent, &id).await?;
    let events = state
        .store
        .events_after(&conversation.id, query.after, HISTORY_PAGE)
        .await?;
    Ok(Json(events))
}
