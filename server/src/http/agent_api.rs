//! The inbox's HTTP side: sign in and out, who am I, and reading history.
//! Everything but sign-in needs a session.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{
    AgentProfile, CAPACITY_RANGE, CapacityUpdate, ConversationSummary, ErrorCode, Event,
    LoginRequest, Role, Seq, Team, TeamMember,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::error::ApiError;
use super::state::AppState;
use crate::hub::Topic;
use crate::identity::{self, SESSION_AGENT_ID};
use crate::store::{Agent, Conversation, session_key};

/// Conversations the inbox lists at most.
pub const INBOX_LIMIT: i64 = 200;
/// Events one history request returns at most.
pub const HISTORY_PAGE: i64 = 500;

/// The signed-in, still active agent, or 401.
pub async fn current_agent(state: &AppState, session: &Session) -> Result<Agent, ApiError> {
    let id: Option<String> = session.get(SESSION_AGENT_ID).await?;
    let Some(id) = id else {
        return Err(ApiError::unauthenticated());
    };
    match state.store.agent_by_id(&id).await? {
        Some(agent) => Ok(agent),
        None => {
            session.flush().await?;
            Err(ApiError::unauthenticated())
        }
    }
}

/// The signed-in agent if they are an owner; 403 saying what only an
/// owner may `do_what` otherwise.
pub async fn current_owner(
    state: &AppState,
    session: &Session,
    do_what: &str,
) -> Result<Agent, ApiError> {
    let agent = current_agent(state, session).await?;
    if agent.role != Role::Owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("Only an owner can {do_what}."),
        ));
    }
    Ok(agent)
}

/// A conversation of the agent's own account, or 404 (never 403: other
/// accounts' conversations do not exist as far as this agent can tell).
pub async fn own_conversation(
    state: &AppState,
    agent: &Agent,
    id: &str,
) -> Result<Conversation, ApiError> {
    match state.store.conversation(id).await? {
        Some(conversation) if conversation.account_id == agent.account_id => Ok(conversation),
        _ => Err(ApiError::not_found("conversation")),
    }
}

pub async fn login(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<LoginRequest>,
) -> Result<Json<AgentProfile>, ApiError> {
    let agent = state.store.agent_by_email(&request.email).await?;
    let password = request.password;
    let stored = agent.as_ref().map(|a| a.password_hash.clone());
    // Hashing is slow on purpose; keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => identity::verify_password(&password, &hash),
        None => {
            identity::verify_password(&password, identity::dummy_hash());
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(agent) = agent.filter(|_| verified) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "That email and password do not match an active account.",
        ));
    };
    // A fresh id at sign-in defeats session fixation.
    session.cycle_id().await?;
    session.insert(SESSION_AGENT_ID, &agent.id).await?;
    tracing::info!(agent = %agent.id, "signed in");
    Ok(Json(agent.profile()))
}

/// Signs out: the session is deleted and its open inbox sockets (in every
/// process) are closed, so no client keeps a socket the session no longer backs.
pub async fn logout(
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

pub async fn me(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<AgentProfile>, ApiError> {
    Ok(Json(current_agent(&state, &session).await?.profile()))
}

pub async fn conversations(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<ConversationSummary>>, ApiError> {
    let agent = current_agent(&state, &session).await?;
    let list = state.store.inbox(&agent, INBOX_LIMIT).await?;
    Ok(Json(list.iter().map(Conversation::summary).collect()))
}

/// `GET /api/agents`: colleagues, who is online, and how loaded they are.
pub async fn agents(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<TeamMember>>, ApiError> {
    let me = current_agent(&state, &session).await?;
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
pub async fn teams(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Team>>, ApiError> {
    let me = current_agent(&state, &session).await?;
    Ok(Json(state.store.teams_of_account(&me.account_id).await?))
}

/// `PUT /api/agents/{id}/capacity`: an agent sets their own, an owner
/// anyone's in the account. Raising it serves whoever waits at once.
pub async fn set_capacity(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    body: Result<Json<CapacityUpdate>, JsonRejection>,
) -> Result<Json<TeamMember>, ApiError> {
    let me = current_agent(&state, &session).await?;
    let Json(update) = body?;
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
    if let Some(capacity) = update.capacity
        && !CAPACITY_RANGE.contains(&capacity)
    {
        return Err(ApiError::bad_request(format!(
            "Capacity must be from {} to {} conversations at once, or null for the site's default; got {capacity}.",
            CAPACITY_RANGE.start(),
            CAPACITY_RANGE.end()
        )));
    }
    state
        .store
        .set_agent_capacity(&agent.id, update.capacity)
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
pub struct AfterQuery {
    #[serde(default)]
    pub after: Seq,
}

pub async fn events(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<AfterQuery>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let agent = current_agent(&state, &session).await?;
    let conversation = own_conversation(&state, &agent, &id).await?;
    let events = state
        .store
        .events_after(&conversation.id, query.after, HISTORY_PAGE)
        .await?;
    Ok(Json(events))
}
