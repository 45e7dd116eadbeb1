//! What a browser fetches directly: the demo shop at `/`, the widget loader
//! and hashed bundles, the inbox app, and `/healthz`.

use std::path::Path;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use super::state::AppState;

/// The one-line embed snippet for a site.
pub fn embed_snippet(public_url: &str, site_key: &str) -> String {
    format!(
        r#"<script async src="{}/widget.js" data-site="{site_key}"></script>"#,
        public_url.trim_end_matches('/')
    )
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `/`: a demo shop page embedding the oldest site's widget; in local mode
/// only (a real server has no business showing a shop of its own).
pub(super) async fn demo_page(State(state): State<AppState>) -> Response {
    if !state.config.is_local() {
        return Redirect::temporary("/app").into_response();
    }
    match state.store.first_site().await {
        Ok(Some(site)) => {
            let snippet = embed_snippet(&state.config.public_url, &site.site_key);
            Html(
                include_str!("demo.html")
                    .replace("{{SNIPPET_ESCAPED}}", &escape_html(&snippet))
                    .replace("{{SNIPPET}}", &snippet),
            )
            .into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "No site yet: create one with `rapport add-site`.",
        )
            .into_response(),
        Err(err) => {
            tracing::error!(%err, "demo page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(super) async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(err) => {
            tracing::error!(%err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// What the inbox page may load and who may frame it: its own scripts and
/// WASM, its own socket, agents' pictures from any https address, and no
/// framing at all (the inbox is never inside another page).
fn app_security_policy(public_origin: &str) -> String {
    let socket_origin = public_origin
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' https: data:; connect-src 'self' {socket_origin}; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// Static files from the assets folder: hashed bundles cached for a year,
/// the loader and the app's page revalidated so deploys show up.
pub(super) fn static_routes(assets_dir: &Path, public_origin: &str) -> Router<AppState> {
    let immutable = SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    let short = |value: &'static str| {
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(value))
    };
    let policy = HeaderValue::from_str(&app_security_policy(public_origin))
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
    let app_page = tower::ServiceBuilder::new()
        .layer(short("no-cache"))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .service(ServeFile::new(assets_dir.join("app/index.html")));
    Router::new()
        .nest_service(
            "/assets",
            // Shops' pages import these cross-origin (module script, WASM);
            // they are public and carry no credentials.
            tower::ServiceBuilder::new()
                .layer(immutable)
                .layer(SetResponseHeaderLayer::overriding(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                ))
                .service(
                    ServeDir::new(assets_dir.join("assets"))
                        .precompressed_br()
                        .precompressed_gzip(),
                ),
        )
        .route_service(
            "/widget.js",
            tower::ServiceBuilder::new()
                .layer(short("public, max-age=300"))
                .service(
                    ServeFile::new(assets_dir.join("widget.js"))
                        .precompressed_br()
                        .precompressed_gzip(),
                ),
        )
        .route_service("/app", app_page.clone())
        .route_service("/app/", app_page.clone())
        .route_service("/app/{*path}", app_page)
        .route("/", get(demo_page))
        .route("/healthz", get(healthz))
}
