//! Blocking a shopper from the inbox, and the owner's list of blocks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{BlockRequest, BlockView};

use super::agent_api::own_conversation;
use super::error::ApiError;
use super::extract::{ApiJson, CurrentAgent, CurrentOwner};
use super::state::AppState;
use crate::domain::ConversationId;
use crate::hub::Topic;
use crate::store::NewBlock;

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 500;

/// `POST /api/conversations/{id}/block`: any agent of the account may
/// block the shopper of one of its conversations. Their sockets end at
/// once in every process, the conversation closes, and they may not come
/// back (nor, with `address`, anyone from their address) until an owner
/// lifts the block.
pub(super) async fn block(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<BlockRequest>,
) -> Result<StatusCode, ApiError> {
    let conversation = own_conversation(&state, &agent, &id).await?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::bad_request(format!(
            "Say why, in 1 to {MAX_REASON_CHARS} characters: the owner sees it in the list of blocks."
        )));
    }
    let address = if request.address {
        state
            .store
            .visitor_address(&conversation.visitor_id)
            .await?
    } else {
        None
    };
    let block = state
        .store
        .block(NewBlock {
            account_id: &agent.account_id,
            visitor_id: &conversation.visitor_id,
            address: address.as_deref(),
            reason,
            blocked_by: &agent.id,
        })
        .await?;
    tracing::info!(%block, by = %agent.id, visitor = %conversation.visitor_id, address = address.is_some(), "shopper blocked");
    state
        .hub
        .end_sessions_everywhere(&Topic::Visitor(conversation.visitor_id.clone()));
    if let Some(address) = &address {
        state
            .hub
            .end_sessions_everywhere(&Topic::Address(format!("{}/{address}", agent.account_id)));
    }
    let id = ConversationId::parse(&conversation.id).map_err(ApiError::from)?;
    state.conversations.close(&agent, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/blocks`.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
) -> Result<Json<Vec<BlockView>>, ApiError> {
    Ok(Json(state.store.blocks_of(&owner.account_id).await?))
}

/// `DELETE /api/admin/blocks/{id}`: the shopper may chat again.
pub(super) async fn lift(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.lift_block(&owner.account_id, &id).await? {
        tracing::info!(block = %id, by = %owner.id, "block lifted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("block"))
    }
}
