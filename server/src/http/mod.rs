//! HTTP routers by audience: the widget (public, origin-checked), the agent
//! inbox (session required), their sockets, and static pages.

mod agent_api;
mod articles_api;
mod blocks_api;
pub mod connections;
mod contacts_api;
mod devices;
pub mod error;
mod extract;
mod files_api;
mod help_api;
mod help_pages;
mod mail_api;
mod pages;
mod password_api;
mod people_api;
mod rating_api;
mod replies_api;
mod reports_api;
mod same_origin;
mod search_api;
mod sites_api;
pub mod socket;
mod state;
mod views_api;
mod widget_api;
mod ws_agent;
mod ws_widget;

pub use pages::embed_snippet;
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::routing::{delete, get, patch, post, put};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::store::SessionRecords;

/// Agent sessions last this long without activity.
const SESSION_IDLE_DAYS: i64 = 7;

/// The whole application. Tests drive it directly or serve it on port 0.
pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(SessionRecords::new(state.store.clone()))
        .with_name("rapport_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.is_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )));

    // The widget runs on shops' origins. CORS only lets the browser read our
    // answer (including a refusal's reason); the real check is per site in
    // `authorize_site`.
    let widget = Router::new()
        .route("/api/widget/config", get(widget_api::config))
        .route("/api/widget/avatar/{agent_id}", get(widget_api::avatar))
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::GET]),
        )
        .route("/ws/widget", get(ws_widget::upgrade));

    // Files come in with a deadline of their own (below).
    let widget_uploads = Router::new()
        .route("/api/widget/files", post(files_api::widget_upload))
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    // The rating prompt's door, with the same check as uploads.
    let widget_ratings = Router::new()
        .route(
            "/api/widget/rating",
            get(rating_api::state).post(rating_api::rate),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    // The help view's door, with the same check.
    let widget_help = Router::new()
        .route("/api/widget/help", get(help_api::list))
        .route("/api/widget/help/suggest", get(help_api::suggest))
        .route("/api/widget/help/read", post(help_api::read))
        .route("/api/widget/help/verdict", post(help_api::verdict))
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::mirror_request())
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    // The public help center: plain pages, no session, no origin.
    let help_center = Router::new()
        .route("/help/{key}", get(help_pages::start))
        .route("/help/{key}/sitemap.xml", get(help_pages::sitemap))
        .route("/help/{key}/images/{id}", get(help_pages::image))
        .route("/help/{key}/{lang}", get(help_pages::index))
        .route("/help/{key}/{lang}/search", get(help_pages::search))
        .route("/help/{key}/{lang}/{id}", get(help_pages::article));
    let agent_uploads = Router::new()
        .route("/api/files", post(files_api::agent_upload))
        .layer(sessions.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin::changes_from_own_pages,
        ));

    let agent = Router::new()
        .route("/api/auth/login", post(agent_api::login))
        .route("/api/auth/logout", post(agent_api::logout))
        .route("/api/auth/password", post(password_api::change))
        .route("/api/auth/reset", post(password_api::request))
        .route("/api/auth/reset/info", post(password_api::info))
        .route("/api/auth/reset/confirm", post(password_api::confirm))
        .route("/api/auth/session", get(agent_api::session_info))
        .route("/api/me", get(agent_api::me).patch(agent_api::change_me))
        .route("/api/agents", get(agent_api::agents))
        .route("/api/agents/{id}/capacity", put(agent_api::set_capacity))
        .route("/api/teams", get(agent_api::teams))
        .route("/api/contacts", get(contacts_api::find))
        .route("/api/customers", get(contacts_api::list))
        .route(
            "/api/visitors/{id}",
            get(contacts_api::visitor_page).delete(contacts_api::delete_visitor),
        )
        .route("/api/contacts/{id}/export", get(contacts_api::export))
        .route("/api/contacts/{id}/merge", post(contacts_api::merge))
        .route(
            "/api/contacts/{id}",
            get(contacts_api::page).delete(contacts_api::delete),
        )
        .route("/api/contacts/{id}/notes", post(contacts_api::add_note))
        .route(
            "/api/contacts/{id}/attributes",
            put(contacts_api::edit_attribute),
        )
        .route(
            "/api/conversations/{id}/profile",
            get(contacts_api::profile),
        )
        .route(
            "/api/admin/sites",
            get(sites_api::list).post(sites_api::create),
        )
        .route(
            "/api/admin/sites/{id}",
            get(sites_api::get)
                .patch(sites_api::update)
                .delete(sites_api::delete),
        )
        .route("/api/admin/sites/{id}/identity", get(sites_api::identity))
        .route(
            "/api/admin/sites/{id}/identity/rotate",
            post(sites_api::rotate_secret),
        )
        .route(
            "/api/admin/sites/{id}/identity/enforce",
            put(sites_api::enforce_identity),
        )
        .route("/api/conversations/{id}/block", post(blocks_api::block))
        .route("/api/admin/blocks", get(blocks_api::list))
        .route("/api/admin/blocks/{id}", delete(blocks_api::lift))
        .route("/api/admin/people", get(people_api::list))
        .route("/api/admin/people/{id}", patch(people_api::change))
        .route("/api/admin/invites", post(people_api::invite))
        .route("/api/admin/invites/{id}", delete(people_api::revoke))
        .route("/api/invites/info", post(people_api::invite_info))
        .route("/api/invites/accept", post(people_api::accept))
        .route(
            "/api/replies",
            get(replies_api::list).post(replies_api::create),
        )
        .route(
            "/api/replies/{id}",
            put(replies_api::update).delete(replies_api::delete),
        )
        .route("/api/conversations", get(agent_api::conversations))
        .route("/api/views", get(views_api::counts))
        .route("/api/views/{view}", get(views_api::page))
        .route("/api/labels", get(views_api::labels))
        .route("/api/search", get(search_api::search))
        .route("/api/reports", get(reports_api::report))
        .route("/api/reports/conversations.csv", get(reports_api::csv))
        .route(
            "/api/articles",
            get(articles_api::list).post(articles_api::create),
        )
        .route("/api/articles/search", get(articles_api::search))
        .route("/api/articles/sites", get(articles_api::sites))
        .route("/api/articles/preview", post(articles_api::preview))
        .route(
            "/api/articles/{id}",
            get(articles_api::one).delete(articles_api::delete),
        )
        .route("/api/articles/{id}/history", get(articles_api::history))
        .route("/api/articles/{id}/{lang}", put(articles_api::save))
        .route(
            "/api/conversations/{id}/labels/{name}",
            put(views_api::put_conversation_label).delete(views_api::delete_conversation_label),
        )
        .route(
            "/api/contacts/{id}/labels/{name}",
            put(views_api::put_contact_label).delete(views_api::delete_contact_label),
        )
        .route("/api/conversations/{id}/events", get(agent_api::events))
        .route("/ws/agent", get(ws_agent::upgrade))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin::changes_from_own_pages,
        ));

    // Mail providers and mail clients: no session, no origin.
    let mail = Router::new()
        .route(
            "/api/mail/inbound",
            post(mail_api::inbound)
                .layer(DefaultBodyLimit::max(crate::mail::parse::MAX_MAIL_BYTES)),
        )
        .route(
            "/mail/unsubscribe/{token}",
            get(mail_api::unsubscribe_page).post(mail_api::unsubscribe),
        )
        .route(
            "/mail/confirm/{token}",
            get(mail_api::confirm_page).post(mail_api::confirm),
        );

    // A photo from a slow phone takes longer than any other request may;
    // its size is counted as it comes (the upload refused past the
    // limit), so axum's body limit is not the one that holds.
    let uploads = Router::new()
        .merge(widget_uploads)
        .merge(agent_uploads)
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.files.upload_timeout(),
        ));

    Router::new()
        .merge(widget)
        .merge(widget_ratings)
        .merge(widget_help)
        .merge(help_center)
        .merge(agent)
        .merge(mail)
        .route("/files/{id}", get(files_api::download))
        .merge(pages::static_routes(&state))
        // A request (its body too) that takes longer is answered 408; a
        // WebSocket is past this once upgraded.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(state.config.request_timeout_secs),
        ))
        .merge(uploads)
        // Every answer is what its type says; nothing is sniffed into script.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http().on_failure(log_failure))
        .with_state(state)
}

/// A 503 is the server saying "busy, come back in a second" by design (a
/// reconnecting crowd is told so thousands of times a second): not a fault
/// to log as one, each time.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass::StatusCode as Status;
    match class {
        Status(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::debug!(?latency, "busy: told to come back");
        }
        other => tracing::error!(classification = %other, ?latency, "response failed"),
    }
}
