//! What a browser fetches directly: the demo shop at `/`, the widget loader
//! and hashed bundles, the inbox app, and `/healthz`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
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
            let public_url = state.config.public_url();
            let snippet = embed_snippet(&public_url, &site.site_key);
            Html(
                include_str!("demo.html")
                    // At the public URL whatever this page was opened at:
                    // the inbox signs in from there only.
                    .replace("{{INBOX}}", &escape_html(&format!("{public_url}/app")))
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

/// The tab's icon: a speech bubble, so that no visit logs a 404 for it.
async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("favicon.svg"),
    )
        .into_response()
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

/// The inbox opened on this machine at another name than the public URL's
/// (`localhost` for `127.0.0.1`) is sent there: from another origin its
/// sign-in would be refused. Loopback names only, so that no proxy's
/// rewritten `Host` can make a redirect loop.
async fn inbox_at_public_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let public_origin = state.config.public_origin();
    let public_host = public_origin.split_once("://").map_or("", |(_, host)| host);
    let asked_host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let elsewhere_on_this_machine = state.config.is_local()
        && !asked_host.is_empty()
        && asked_host != public_host
        && crate::domain::is_local_origin(&format!("http://{asked_host}"))
        && crate::domain::is_local_origin(&public_origin);
    if elsewhere_on_this_machine {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/app", |path| path.as_str());
        // The browser keeps the fragment (`#reset=…`) across the redirect.
        return Redirect::temporary(&format!("{public_origin}{path}")).into_response();
    }
    next.run(request).await
}

/// Static files from the assets folder: hashed bundles cached for a year,
/// the loader and the app's page revalidated so deploys show up.
pub(super) fn static_routes(state: &AppState) -> Router<AppState> {
    let assets_dir = state.config.assets_dir.as_path();
    let public_origin = state.config.public_origin();
    let public_origin = public_origin.as_str();
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
        .merge(
            Router::new()
                .route_service("/app", app_page.clone())
                .route_service("/app/", app_page.clone())
                .route_service("/app/{*path}", app_page)
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    inbox_at_public_address,
                )),
        )
        .route("/", get(demo_page))
        .route("/favicon.ico", get(favicon))
        .route("/favicon.svg", get(favicon))
        .route("/healthz", get(healthz))
}
