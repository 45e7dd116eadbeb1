//! The owner's privacy tools for a contact: find them by the shop's own
//! customer id, export everything stored about them, delete them for good.
//! Owners only, and only within their own account (others get 404).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{ErrorCode, Role};
use serde::Deserialize;
use tower_sessions::Session;

use super::agent_api::current_agent;
use super::error::ApiError;
use super::state::AppState;
use crate::store::{Agent, ContactRecord};

async fn owner(state: &AppState, session: &Session) -> Result<Agent, ApiError> {
    let agent = current_agent(state, session).await?;
    if agent.role != Role::Owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Only an owner can look up, export or delete a contact.",
        ));
    }
    Ok(agent)
}

async fn own_contact(state: &AppState, owner: &Agent, id: &str) -> Result<ContactRecord, ApiError> {
    match state.store.contact(id).await? {
        Some(contact) if contact.account_id == owner.account_id => Ok(contact),
        _ => Err(ApiError::not_found("contact")),
    }
}

#[derive(Debug, Deserialize)]
pub struct Lookup {
    external_id: Option<String>,
}

/// `GET /api/contacts?external_id=ID`: the contact(s) with the shop's id.
pub async fn find(
    State(state): State<AppState>,
    session: Session,
    Query(lookup): Query<Lookup>,
) -> Result<Json<Vec<ContactRecord>>, ApiError> {
    let owner = owner(&state, &session).await?;
    let Some(external_id) = lookup.external_id.filter(|id| !id.trim().is_empty()) else {
        return Err(ApiError::bad_request(
            "Give the shop's customer id: /api/contacts?external_id=…",
        ));
    };
    Ok(Json(
        state
            .store
            .contacts_by_external_id(&owner.account_id, external_id.trim())
            .await?,
    ))
}

/// `GET /api/contacts/{id}/export`: everything stored about the contact.
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let owner = owner(&state, &session).await?;
    let contact = own_contact(&state, &owner, &id).await?;
    tracing::info!(contact = %contact.id, by = %owner.id, "contact exported");
    Ok(Json(state.store.export_contact(&contact).await?))
}

/// `DELETE /api/contacts/{id}`: the contact and all their conversations.
pub async fn delete(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let owner = owner(&state, &session).await?;
    let contact = own_contact(&state, &owner, &id).await?;
    state.store.delete_contact(&contact.id).await?;
    tracing::info!(contact = %contact.id, by = %owner.id, "contact deleted");
    Ok(StatusCode::NO_CONTENT)
}
