//! Customers over HTTP. Any agent of the account: the customer list, a
//! contact's or an anonymous visitor's page, the customer profile of a
//! conversation, shared notes, attribute edits (audited). Owners only: find
//! a contact by the shop's own id, merge two contacts (audited), export
//! everything stored about one, erase one for good. Other accounts'
//! customers do not exist (404).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{
    AttributeEdit, ContactNote, CustomerList, CustomerProfile, MAX_ATTRIBUTE_NAME_CHARS,
    MergeRequest, NewContactNote, check_body,
};
use serde::Deserialize;

use super::agent_api::own_conversation;
use super::error::ApiError;
use super::extract::{ApiJson, CurrentAgent, CurrentOwner};
use super::search_api::MAX_QUERY_CHARS;
use super::state::AppState;
use crate::store::{Agent, ContactRecord, MergeRefused};

/// A contact of the agent's own account, or 404.
async fn own_contact(state: &AppState, agent: &Agent, id: &str) -> Result<ContactRecord, ApiError> {
    match state.store.contact(id).await? {
        Some(contact) if contact.account_id == agent.account_id => Ok(contact),
        _ => Err(ApiError::not_found("contact")),
    }
}

/// An anonymous visitor of the agent's own account, or 404.
async fn own_visitor(state: &AppState, agent: &Agent, id: &str) -> Result<(), ApiError> {
    match state.store.anonymous_visitor_account(id).await? {
        Some(account) if account == agent.account_id => Ok(()),
        _ => Err(ApiError::not_found("visitor")),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
}

/// `GET /api/customers?q=&after=`: the account's contacts and anonymous
/// visitors who left an email, most recently seen first.
pub(super) async fn list(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<ListQuery>,
) -> Result<Json<CustomerList>, ApiError> {
    if query.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(format!(
            "A search is at most {MAX_QUERY_CHARS} characters."
        )));
    }
    if let Some(after) = &query.after
        && crate::store::parse_customer_cursor(after).is_none()
    {
        return Err(ApiError::bad_request(
            "`after` is the `next` of the page before.",
        ));
    }
    Ok(Json(
        state
            .store
            .customers_of_account(&agent.account_id, &query.q, query.after.as_deref())
            .await?,
    ))
}

/// `GET /api/contacts/{id}`: the contact's page (every conversation on
/// every site, notes, labels, merges).
pub(super) async fn page(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<Json<CustomerProfile>, ApiError> {
    let contact = own_contact(&state, &agent, &id).await?;
    Ok(Json(state.store.contact_profile(&contact.id).await?))
}

/// `GET /api/visitors/{id}`: an anonymous visitor's page.
pub(super) async fn visitor_page(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<Json<CustomerProfile>, ApiError> {
    own_visitor(&state, &agent, &id).await?;
    Ok(Json(state.store.visitor_profile(&id).await?))
}

/// `DELETE /api/visitors/{id}`: an anonymous visitor and everything of
/// theirs (conversations, files, their email address in the mail records).
pub(super) async fn delete_visitor(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    own_visitor(&state, &owner, &id).await?;
    if !state.conversations.erase_visitor(&owner, &id).await? {
        return Err(ApiError::not_found("visitor"));
    }
    tracing::info!(visitor = %id, by = %owner.id, "visitor erased");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/contacts/{id}/merge`: the contact named in the body becomes
/// part of this one; returns this one's page.
pub(super) async fn merge(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MergeRequest>,
) -> Result<Json<CustomerProfile>, ApiError> {
    let kept = own_contact(&state, &owner, &id).await?;
    let merged = own_contact(&state, &owner, request.merged_contact_id.trim()).await?;
    match state
        .conversations
        .merge_contacts(&owner, &kept.id, &merged.id)
        .await?
    {
        Ok(()) => {}
        Err(MergeRefused::SameContact) => {
            return Err(ApiError::bad_request(
                "A contact cannot be merged into itself.",
            ));
        }
        Err(MergeRefused::NoSuchContact) => return Err(ApiError::not_found("contact")),
    }
    tracing::info!(kept = %kept.id, merged = %merged.id, by = %owner.id, "contacts merged");
    Ok(Json(state.store.contact_profile(&kept.id).await?))
}

#[derive(Debug, Deserialize)]
pub(super) struct Lookup {
    external_id: Option<String>,
}

/// `GET /api/contacts?external_id=ID`: the contact(s) with the shop's id.
pub(super) async fn find(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Query(lookup): Query<Lookup>,
) -> Result<Json<Vec<ContactRecord>>, ApiError> {
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
pub(super) async fn export(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let contact = own_contact(&state, &owner, &id).await?;
    tracing::info!(contact = %contact.id, by = %owner.id, "contact exported");
    Ok(Json(state.store.export_contact(&contact).await?))
}

/// `DELETE /api/contacts/{id}`: the contact and all their conversations.
pub(super) async fn delete(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let contact = own_contact(&state, &owner, &id).await?;
    state
        .conversations
        .erase_contact(&owner, &contact.id)
        .await?;
    tracing::info!(contact = %contact.id, by = %owner.id, "contact deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/conversations/{id}/profile`: who the shopper is.
pub(super) async fn profile(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
) -> Result<Json<CustomerProfile>, ApiError> {
    let conversation = own_conversation(&state, &agent, &id).await?;
    Ok(Json(state.store.customer_profile(&conversation).await?))
}

/// `POST /api/contacts/{id}/notes`: a note every agent of the account sees.
pub(super) async fn add_note(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
    ApiJson(note): ApiJson<NewContactNote>,
) -> Result<(StatusCode, Json<ContactNote>), ApiError> {
    let contact = own_contact(&state, &agent, &id).await?;
    if let Err((code, message)) = check_body(&note.body) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, code, message));
    }
    let note = state
        .store
        .add_contact_note(&contact.id, &agent, &note.body)
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// `PUT /api/contacts/{id}/attributes`: set or remove one attribute; who
/// changed what is kept.
pub(super) async fn edit_attribute(
    State(state): State<AppState>,
    CurrentAgent(agent): CurrentAgent,
    Path(id): Path<String>,
    ApiJson(edit): ApiJson<AttributeEdit>,
) -> Result<Json<std::collections::BTreeMap<String, String>>, ApiError> {
    let contact = own_contact(&state, &agent, &id).await?;
    let name = edit.name.trim();
    if name.is_empty() || name.chars().count() > MAX_ATTRIBUTE_NAME_CHARS {
        return Err(ApiError::bad_request(format!(
            "An attribute name is 1 to {MAX_ATTRIBUTE_NAME_CHARS} characters."
        )));
    }
    if let Some(value) = &edit.value
        && let Err((code, message)) = check_body(value)
    {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, code, message));
    }
    let attributes = state
        .store
        .edit_contact_attribute(&contact.id, &agent, name, edit.value.as_deref())
        .await?;
    tracing::info!(contact = %contact.id, by = %agent.id, attribute = name, "attribute edited");
    Ok(Json(attributes))
}
