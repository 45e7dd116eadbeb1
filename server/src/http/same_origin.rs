//! Pages of this server only: the inbox's socket and every change made
//! with a session cookie must come from a page this server served. On top
//! of `SameSite` cookies and JSON-only bodies, so that neither a browser's
//! quirk nor a sibling subdomain can act with an agent's cookie.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;

use super::error::ApiError;
use super::state::AppState;

/// Where a request says its page is, against this server's own origin.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PageOrigin {
    /// No `Origin` (not a browser's page), or one that is not text.
    Missing,
    /// This server's, scheme and port included.
    Own,
    Foreign,
}

pub(super) fn page_origin(headers: &HeaderMap, own: &str) -> PageOrigin {
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        None | Some(Err(_)) => PageOrigin::Missing,
        Some(Ok(origin)) if !own.is_empty() && origin.eq_ignore_ascii_case(own) => PageOrigin::Own,
        Some(Ok(_)) => PageOrigin::Foreign,
    }
}

/// Refuses a state change whose page is another origin's. A request
/// without `Origin` comes from a program, not a page another site could
/// steer, and passes on its cookie alone.
pub(super) async fn changes_from_own_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let own = state.config.public_origin();
    if page_origin(request.headers(), &own) == PageOrigin::Foreign {
        return not_this_server(&state).into_response();
    }
    next.run(request).await
}

/// The refusal, saying where the inbox is (a newcomer who opened it at
/// another address than the public URL sees why).
pub(super) fn not_this_server(state: &AppState) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        format!(
            "Only pages of this server may do this: open the inbox at {}/app (the server's RAPPORT_PUBLIC_URL).",
            state.config.public_url()
        ),
    )
}
