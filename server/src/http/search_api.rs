//! `GET /api/search?q=`: the account's messages, notes and email replies
//! matching every word (by its stems in English, Dutch and Russian, as
//! written in Bengali), newest first, each with its conversation and where
//! the words are; and the customers whose name, email or shop id matches.
//! Any agent of the account; nothing of another account is ever found.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use protocol::{MessageHit, SEARCH_RESULTS, SearchResults};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::CurrentAgent;
use super::state::AppState;
use crate::text_search;

/// The longest search, in characters.
pub(super) const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(super) async fn search(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    if query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "A search is at most {MAX_QUERY_CHARS} characters."
        )));
    }
    let Some(words) = text_search::Query::parse(&query.q) else {
        return Err(ApiError::bad_request("Type a word to search for."));
    };
    let events = state
        .store
        .search_messages(&agent.account_id, &words, SEARCH_RESULTS)
        .await?;
    let mut conversations = HashMap::new();
    let mut messages = Vec::with_capacity(events.len());
    for event in events {
        if !conversations.contains_key(&event.conversation_id) {
            let found = state.store.conversation(&event.conversation_id).await?;
            conversations.insert(event.conversation_id.clone(), found);
        }
        let Some(Some(conversation)) = conversations.get(&event.conversation_id) else {
            continue;
        };
        if conversation.account_id != agent.account_id {
            continue;
        }
        let text = match &event.body {
            protocol::EventBody::Message { text, .. } | protocol::EventBody::Note { text } => {
                text.as_str()
            }
            _ => "",
        };
        let highlights = words
            .highlights(text)
            .into_iter()
            .map(|range| [range.start, range.end])
            .collect();
        messages.push(MessageHit {
            conversation: conversation.summary(),
            event,
            highlights,
        });
    }
    let customers = state
        .store
        .search_contacts(&agent.account_id, &query.q, 10)
        .await?;
    Ok(Json(SearchResults {
        messages,
        customers,
    }))
}
