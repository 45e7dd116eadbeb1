//! Blocking a shopper from the inbox, and the owner's list of blocks.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{BlockRequest, BlockView};

use super::agent_api::own_conversation;
use super::error::ApiError;
use super::extract::{ApiJson, CurrentAgent, CurrentOwner};
use super::state::AppState;

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
    state
        .visitors
        .block(&agent, &conversation, &request.reason, request.address)
        .await?;
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
    if state.visitors.lift_block(&owner, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("block"))
    }
}
