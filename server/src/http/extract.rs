//! Extractors at the HTTP edge: the signed-in agent, the signed-in owner,
//! and a JSON body whose rejection is our [`ApiError`] (a stable code and
//! serde's reason) rather than axum's plain text.

use std::net::IpAddr;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use protocol::{ErrorCode, Role};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::error::ApiError;
use super::state::AppState;
use crate::identity::SESSION_AGENT_ID;
use crate::store::Agent;

/// The signed-in, still active agent; 401 otherwise.
#[derive(Debug)]
pub(super) struct CurrentAgent(pub Agent);

/// The signed-in agent if they own the account; 403 otherwise.
#[derive(Debug)]
pub(super) struct CurrentOwner(pub Agent);

/// The client's address: from the header the configured reverse proxy
/// writes (its last entry: the one the proxy itself added), else the
/// connection's peer; unspecified when neither is known (a test driving
/// the router directly).
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientIp(pub IpAddr);

impl ClientIp {
    pub(super) fn of(parts: &Parts, state: &AppState) -> ClientIp {
        let from_proxy = state.config.client_ip_header.as_deref().and_then(|name| {
            let value = parts
                .headers
                .get_all(name)
                .iter()
                .next_back()?
                .to_str()
                .ok()?;
            value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
        });
        ClientIp(
            from_proxy
                .or_else(|| super::connections::peer_of(&parts.extensions).map(|peer| peer.ip()))
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        )
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(ClientIp::of(parts, state))
    }
}

/// A public HTTP request, counted against its address's allowance; 429
/// with `Retry-After` over it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counted;

impl FromRequestParts<AppState> for Counted {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::of(parts, state);
        state.limits.request(ip)?;
        Ok(Counted)
    }
}

/// A JSON request body of type `T`; 400 with the reason otherwise.
#[derive(Debug)]
pub(super) struct ApiJson<T>(pub T);

/// The session the request carries (the session layer always gives one).
pub(super) async fn session_of(parts: &mut Parts, state: &AppState) -> Result<Session, ApiError> {
    Session::from_request_parts(parts, state)
        .await
        .map_err(|(_, reason)| ApiError::Internal(format!("session: {reason}")))
}

/// The agent a session is signed in as, if still active. A session of a
/// deactivated agent is emptied.
pub(super) async fn agent_of(state: &AppState, session: &Session) -> Result<Agent, ApiError> {
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

impl FromRequestParts<AppState> for CurrentAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = session_of(parts, state).await?;
        agent_of(state, &session).await.map(CurrentAgent)
    }
}

impl FromRequestParts<AppState> for CurrentOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentAgent(agent) = CurrentAgent::from_request_parts(parts, state).await?;
        if agent.role != Role::Owner {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "Only an owner of the account can do this (sites, people, contacts and the identity secret).",
            ));
        }
        Ok(CurrentOwner(agent))
    }
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| ApiJson(value))
            .map_err(ApiError::from)
    }
}
