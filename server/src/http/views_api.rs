//! The inbox's views over HTTP, for any agent of the account: every view's
//! count and one keyset page of a view, under the same filters; and labels
//! on conversations and contacts. Other accounts' conversations, contacts
//! and labels do not exist here.

use axum::Json;
use axum::extract::{Path, Query, State};
use protocol::{ConversationSummary, Label, VIEW_PAGE, View, ViewCounts, ViewFilter, ViewPage};
use serde::Deserialize;

use super::agent_api::own_conversation;
use super::error::ApiError;
use super::extract::CurrentAgent;
use super::state::AppState;
use crate::store::{Conversation, LabelName, LabelRefused, ViewCursor};

/// The filters of a view, as query parameters.
#[derive(Debug, Default, Deserialize)]
pub(super) struct FilterQuery {
    site: Option<String>,
    team: Option<String>,
    agent: Option<String>,
    label: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    /// Where the page starts: the `next` of the page before.
    after: Option<String>,
    limit: Option<i64>,
}

impl FilterQuery {
    fn filter(&self) -> Result<ViewFilter, ApiError> {
        let label = self
            .label
            .as_deref()
            .map(LabelName::parse)
            .transpose()
            .map_err(ApiError::bad_request)?;
        if let (Some(from), Some(to)) = (self.from_ms, self.to_ms)
            && from >= to
        {
            return Err(ApiError::bad_request(
                "The period's start (from_ms) must come before its end (to_ms).",
            ));
        }
        Ok(ViewFilter {
            site: self.site.clone(),
            team: self.team.clone(),
            agent: self.agent.clone(),
            label: label.map(|l| l.as_str().to_owned()),
            from_ms: self.from_ms,
            to_ms: self.to_ms,
        })
    }
}

/// `GET /api/views`: how many conversations each view holds.
pub(super) async fn counts(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<FilterQuery>,
) -> Result<Json<ViewCounts>, ApiError> {
    let filter = query.filter()?;
    let counts = state
        .store
        .view_counts(&agent.account_id, &agent.id, &filter)
        .await?;
    Ok(Json(counts))
}

/// `GET /api/views/{view}`: one page of a view, newest activity first.
pub(super) async fn page(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(view): Path<String>,
    Query(query): Query<FilterQuery>,
) -> Result<Json<ViewPage>, ApiError> {
    let Some(view) = View::named(&view) else {
        return Err(ApiError::not_found("view"));
    };
    let filter = query.filter()?;
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => Some(ViewCursor::parse(text).ok_or_else(|| {
            ApiError::bad_request("`after` is the `next` of an earlier page, as it came.")
        })?),
    };
    let limit = query.limit.unwrap_or(VIEW_PAGE);
    if !(1..=VIEW_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "A page holds 1 to {VIEW_PAGE} conversations."
        )));
    }
    let (conversations, next) = state
        .store
        .view_page(
            &agent.account_id,
            &agent.id,
            view,
            &filter,
            after.as_ref(),
            limit,
        )
        .await?;
    Ok(Json(ViewPage {
        conversations: conversations.iter().map(Conversation::summary).collect(),
        next: next.map(|cursor| cursor.to_string()),
    }))
}

/// `GET /api/labels`: the account's labels.
pub(super) async fn labels(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
) -> Result<Json<Vec<Label>>, ApiError> {
    Ok(Json(
        state.store.labels_of_account(&agent.account_id).await?,
    ))
}

/// `PUT` (on) or `DELETE` (off) `/api/conversations/{id}/labels/{name}`.
async fn label_conversation(
    state: AppState,
    agent: crate::store::Agent,
    id: &str,
    name: &str,
    on: bool,
) -> Result<Json<ConversationSummary>, ApiError> {
    let conversation = own_conversation(&state, &agent, id).await?;
    let name = LabelName::parse(name).map_err(ApiError::bad_request)?;
    let id = crate::domain::ConversationId::parse(&conversation.id)
        .map_err(|_| ApiError::not_found("conversation"))?;
    match state.conversations.label(&agent, &id, &name, on).await? {
        Ok(summary) => Ok(Json(summary)),
        Err(LabelRefused::NoSuchConversation | LabelRefused::NoSuchContact) => {
            Err(ApiError::not_found("conversation"))
        }
    }
}

pub(super) async fn put_conversation_label(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<ConversationSummary>, ApiError> {
    label_conversation(state, agent, &id, &name, true).await
}

pub(super) async fn delete_conversation_label(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<ConversationSummary>, ApiError> {
    label_conversation(state, agent, &id, &name, false).await
}

/// `PUT` (on) or `DELETE` (off) `/api/contacts/{id}/labels/{name}`: the
/// contact's labels as they now stand.
async fn label_contact(
    state: AppState,
    agent: crate::store::Agent,
    id: &str,
    name: &str,
    on: bool,
) -> Result<Json<Vec<String>>, ApiError> {
    let name = LabelName::parse(name).map_err(ApiError::bad_request)?;
    match state
        .store
        .label_contact(&agent.account_id, id, &name, &agent.id, on)
        .await?
    {
        Ok(labels) => Ok(Json(labels)),
        Err(_) => Err(ApiError::not_found("contact")),
    }
}

pub(super) async fn put_contact_label(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Vec<String>>, ApiError> {
    label_contact(state, agent, &id, &name, true).await
}

pub(super) async fn delete_contact_label(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Vec<String>>, ApiError> {
    label_contact(state, agent, &id, &name, false).await
}
