//! Canned replies: every agent keeps their own; owners also keep the
//! account's shared ones. Placeholders are filled in the inbox from the
//! customer's profile, so the server stores them as written.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::{CannedReply, CannedReplyDraft, ErrorCode, MAX_TEXT_CHARS, Role};

use super::error::ApiError;
use super::extract::{ApiJson, CurrentAgent};
use super::state::AppState;
use crate::store::{Agent, StoreError, StoredReply};

/// Longest shortcut, in characters (without the slash).
pub(super) const MAX_SHORTCUT_CHARS: usize = 32;

/// A checked draft: shortcut without its slash, body trimmed.
fn check(draft: &CannedReplyDraft) -> Result<(String, String), ApiError> {
    let shortcut = draft.shortcut.trim().trim_start_matches('/').to_lowercase();
    if shortcut.is_empty()
        || shortcut.chars().count() > MAX_SHORTCUT_CHARS
        || !shortcut
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request(format!(
            "A shortcut is 1 to {MAX_SHORTCUT_CHARS} letters, digits, - or _, like /refund."
        )));
    }
    let body = draft.body.trim();
    if body.is_empty() || body.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::bad_request(format!(
            "A reply is 1 to {MAX_TEXT_CHARS} characters."
        )));
    }
    Ok((shortcut, body.to_owned()))
}

fn owners_only() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        "Only an owner can change the account's shared replies.",
    )
}

fn taken(shortcut: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::BadRequest,
        format!("/{shortcut} is already a reply; pick another shortcut or edit that one."),
    )
}

/// A reply the agent may change: their own, or a shared one if an owner.
async fn changeable(state: &AppState, me: &Agent, id: &str) -> Result<StoredReply, ApiError> {
    let reply = match state.store.reply(id).await? {
        Some(reply)
            if reply.account_id == me.account_id
                && reply.agent_id.as_ref().is_none_or(|owner| owner == &me.id) =>
        {
            reply
        }
        _ => return Err(ApiError::not_found("reply")),
    };
    if reply.agent_id.is_none() && me.role != Role::Owner {
        return Err(owners_only());
    }
    Ok(reply)
}

/// `GET /api/replies`: the shared replies and the agent's own.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
) -> Result<Json<Vec<CannedReply>>, ApiError> {
    Ok(Json(state.store.replies_for(&me.account_id, &me.id).await?))
}

/// `POST /api/replies`.
pub(super) async fn create(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
    ApiJson(draft): ApiJson<CannedReplyDraft>,
) -> Result<(StatusCode, Json<CannedReply>), ApiError> {
    let (shortcut, text) = check(&draft)?;
    if draft.shared && me.role != Role::Owner {
        return Err(owners_only());
    }
    let owner = (!draft.shared).then_some(me.id.as_str());
    match state
        .store
        .create_reply(&me.account_id, owner, &shortcut, &text)
        .await
    {
        Ok(reply) => Ok((StatusCode::CREATED, Json(reply))),
        Err(StoreError::Conflict(_)) => Err(taken(&shortcut)),
        Err(err) => Err(err.into()),
    }
}

/// `PUT /api/replies/{id}`: new shortcut and text (who it is shared with stays).
pub(super) async fn update(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
    Path(id): Path<String>,
    ApiJson(draft): ApiJson<CannedReplyDraft>,
) -> Result<Json<CannedReply>, ApiError> {
    let reply = changeable(&state, &me, &id).await?;
    let (shortcut, text) = check(&draft)?;
    match state
        .store
        .update_reply(&reply.reply.id, &shortcut, &text)
        .await
    {
        Ok(()) => Ok(Json(CannedReply {
            shortcut,
            body: text,
            ..reply.reply
        })),
        Err(StoreError::Conflict(_)) => Err(taken(&shortcut)),
        Err(err) => Err(err.into()),
    }
}

/// `DELETE /api/replies/{id}`.
pub(super) async fn delete(
    State(state): State<AppState>,
    CurrentAgent(me): CurrentAgent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let reply = changeable(&state, &me, &id).await?;
    state.store.delete_reply(&reply.reply.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
