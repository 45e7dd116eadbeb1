//! The inbox's HTTP side: sign in and out, who am I, and reading history.
//! Everything but sign-in needs a session.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{
    AgentProfile, ConversationSummary, ErrorCode, Event, LoginRequest, Seq, TeamMember,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::error::ApiError;
use super::state::AppState;
use crate::identity::{self, SESSION_AGENT_ID};
use crate::store::{Agent, Conversation};

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

pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
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
