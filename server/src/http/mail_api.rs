//! Mail over HTTP: a mail provider's inbound webhook (the raw message,
//! authenticated with a shared secret), the unsubscribe link every mail
//! carries (a page with a button, and the one-click POST of RFC 8058), and
//! the link that proves an address is a shopper's (a page with a button).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Html;
use protocol::ErrorCode;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::extract::Counted;
use super::state::AppState;
use crate::conversations::{ConfirmRefused, Envelope, Received, Refused};
use crate::mail::compose::escape_html;
use crate::mail::parse::{MAX_MAIL_BYTES, Unreadable};
use crate::mail::tokens::TokenRefused;

/// The envelope, as providers pass it beside the message.
#[derive(Debug, Deserialize)]
pub(super) struct InboundQuery {
    /// The address the mail was delivered to (else read from its headers).
    to: Option<String>,
    /// The SMTP sender (empty for a bounce).
    from: Option<String>,
}

/// Whether the request carries the webhook's secret.
fn authorised(headers: &HeaderMap, secret: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Comparing digests: the time taken says nothing about the secret.
    !given.is_empty() && Sha256::digest(given.trim()) == Sha256::digest(secret.trim())
}

/// `POST /api/mail/inbound`: a raw MIME message from the provider's inbound
/// route. 202 when stored (or noted), 4xx when refused for good (the
/// provider should not retry), 503 when it should try again.
pub(super) async fn inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<InboundQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Some(secret) = state
        .config
        .inbound_webhook_secret
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    else {
        return Err(ApiError::not_found("inbound mail route"));
    };
    if !authorised(&headers, secret) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Send the inbound webhook's secret as Authorization: Bearer <secret>.",
        ));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("A mail may be at most {MAX_MAIL_BYTES} bytes."),
        )
    };
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let envelope = Envelope {
        from: query.from,
        to: query.to.into_iter().collect(),
    };
    let outcome = state
        .conversations
        .receive_email(&body, &envelope)
        .await
        .map_err(|refused| match refused {
            Refused::NoRecipient
            | Refused::Token(TokenRefused::Forged | TokenRefused::Malformed) => ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                "No reply address of ours among the recipients.",
            ),
            Refused::Token(TokenRefused::Expired) => ApiError::new(
                StatusCode::GONE,
                ErrorCode::NotFound,
                "This reply address has expired.",
            ),
            Refused::Gone => ApiError::new(
                StatusCode::GONE,
                ErrorCode::NotFound,
                "This conversation no longer exists.",
            ),
            Refused::Unreadable(Unreadable::TooLarge) => too_large(),
            Refused::Unreadable(Unreadable::Malformed) => {
                ApiError::bad_request("The body is not a MIME message.")
            }
            Refused::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Internal,
                "The mail could not be stored now; try again later.",
            ),
            // For good: the provider should not try again.
            Refused::Blocked => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Blocked,
                "The shop no longer takes messages from this shopper.",
            ),
            // For now: the provider should try again later.
            Refused::NotNow(not_now) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::RateLimited,
                not_now.message(),
            ),
        })?;
    let (status, outcome, conversation_id) = match outcome {
        Received::Message { conversation_id } => (StatusCode::ACCEPTED, "message", conversation_id),
        Received::Duplicate { conversation_id } => (StatusCode::OK, "duplicate", conversation_id),
        Received::Automatic { conversation_id } => {
            (StatusCode::ACCEPTED, "automatic", conversation_id)
        }
        Received::Empty { conversation_id } => (StatusCode::ACCEPTED, "empty", conversation_id),
    };
    Ok((
        status,
        Json(serde_json::json!({"outcome": outcome, "conversation_id": conversation_id})),
    ))
}

fn page(status: StatusCode, title: &str, body: &str) -> (StatusCode, Html<String>) {
    (
        status,
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">\
             <h1 style=\"font-size:1.3rem\">{title}</h1>{body}</body></html>",
            title = escape_html(title)
        )),
    )
}

/// The site and address an unsubscribe link stands for.
async fn unsubscribing(
    state: &AppState,
    token: &str,
) -> Result<Option<(String, String, String)>, ApiError> {
    let Ok(mail_id) = state.conversations.mail_of_unsubscribe_link(token) else {
        return Ok(None);
    };
    let Some((site_id, email)) = state.store.mail_recipient(&mail_id).await? else {
        return Ok(None);
    };
    let site_name = state
        .store
        .site_by_id(&site_id)
        .await?
        .map(|site| site.name)
        .unwrap_or_default();
    Ok(Some((site_id, email, site_name)))
}

fn not_valid() -> (StatusCode, Html<String>) {
    page(
        StatusCode::NOT_FOUND,
        "This link is not valid",
        "<p>It may have been copied only in part.</p>",
    )
}

/// `GET /mail/unsubscribe/{token}`: asks first, so that a mail scanner
/// following links unsubscribes nobody.
pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    _: Counted,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    let Some((_, email, site)) = unsubscribing(&state, &token).await? else {
        return Ok(not_valid());
    };
    Ok(page(
        StatusCode::OK,
        "Stop these emails?",
        &format!(
            "<p>{} will not email {} about conversations any more.</p>\
             <form method=\"post\"><button type=\"submit\">Stop the emails</button></form>",
            escape_html(&site),
            escape_html(&email)
        ),
    ))
}

/// `POST /mail/unsubscribe/{token}`: the button, or a mail client's
/// one-click unsubscribe.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    _: Counted,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    let Some((site_id, email, site)) = unsubscribing(&state, &token).await? else {
        return Ok(not_valid());
    };
    state.store.opt_out(&site_id, &email).await?;
    tracing::info!(site = %site_id, "an address unsubscribed");
    Ok(page(
        StatusCode::OK,
        "Done",
        &format!(
            "<p>{} will not email {} again. You can still chat on the shop's site.</p>",
            escape_html(&site),
            escape_html(&email)
        ),
    ))
}

/// The address a confirmation link is for, or the page that says it is not valid.
async fn confirming(
    state: &AppState,
    token: &str,
) -> Result<Result<(String, String), (StatusCode, Html<String>)>, ApiError> {
    Ok(
        match state.conversations.confirmation_of_link(token).await? {
            Ok(found) => Ok(found),
            Err(ConfirmRefused::Gone) => Err(page(
                StatusCode::GONE,
                "This link was used already or has expired",
                "<p>Ask for the transcript again in the chat if you still want it.</p>",
            )),
            Err(ConfirmRefused::Token(_)) => Err(not_valid()),
        },
    )
}

/// `GET /mail/confirm/{token}`: asks first, so that a mail scanner
/// following links proves nothing for anyone.
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    _: Counted,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    let (email, site) = match confirming(&state, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    Ok(page(
        StatusCode::OK,
        "Is this your address?",
        &format!(
            "<p>Someone asked {} to email a chat transcript to {}. If that was you, confirm it: \
             the transcript follows, and replies you have not seen may come here too.</p>\
             <form method=\"post\"><button type=\"submit\">Yes, this is my address</button></form>\
             <p>If it was not you, close this page: nothing will be sent.</p>",
            escape_html(&site),
            escape_html(&email)
        ),
    ))
}

/// `POST /mail/confirm/{token}`: the address is the shopper's.
pub(super) async fn confirm(
    State(state): State<AppState>,
    _: Counted,
    Path(token): Path<String>,
) -> Result<(StatusCode, Html<String>), ApiError> {
    if let Err(page) = confirming(&state, &token).await? {
        return Ok(page);
    }
    let confirmed = match state.conversations.confirm_address(&token).await? {
        Ok(confirmed) => confirmed,
        Err(_) => return Ok(not_valid()),
    };
    let what = if confirmed.transcript_sent {
        "The transcript is on its way."
    } else {
        "The transcript could not be sent now; ask for it again in the chat."
    };
    Ok(page(
        StatusCode::OK,
        "Thank you",
        &format!(
            "<p>{} is confirmed for {}. {what}</p>",
            escape_html(&confirmed.email),
            escape_html(&confirmed.site_name)
        ),
    ))
}
