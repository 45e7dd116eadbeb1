//! The public help center: each site's published articles as plain HTML
//! pages, rendered here, with no script (a strict CSP says so), in the
//! site's name and accent. `/help/{site_key}` picks a language from the
//! browser's; each language has its index by collection, a search page and
//! one page per article, with titles, descriptions, canonical links,
//! links to the article in its other languages, and a sitemap for search
//! engines. Drafts are never served. Each request counts against the
//! address's request limit.

use std::fmt::Write;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use protocol::{ArticleSummary, WIDGET_LANGUAGES};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::ClientIp;
use super::state::AppState;
use crate::articles::{LIST_LENGTH, MAX_QUERY_CHARS};
use crate::mail::compose::escape_html as esc;
use crate::store::{PublishedPage, Site};

/// Scripts, frames and forms to other places are refused by the browser
/// too, whatever an article holds.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: 'self'; \
                      form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The words of the pages themselves, per language.
struct Words {
    help: &'static str,
    search: &'static str,
    found: &'static str,
    none: &'static str,
    other: &'static str,
    updated: &'static str,
    languages: &'static str,
}

fn words(language: &str) -> Words {
    match language {
        "nl" => Words {
            help: "Hulp",
            search: "Zoeken",
            found: "Gevonden voor",
            none: "Geen artikelen gevonden.",
            other: "Overige",
            updated: "Bijgewerkt",
            languages: "Ook in",
        },
        "ru" => Words {
            help: "Помощь",
            search: "Поиск",
            found: "Найдено по запросу",
            none: "Статьи не найдены.",
            other: "Другое",
            updated: "Обновлено",
            languages: "Также на",
        },
        "bn" => Words {
            help: "সাহায্য",
            search: "খুঁজুন",
            found: "যা পাওয়া গেছে",
            none: "কোনো নিবন্ধ পাওয়া যায়নি।",
            other: "অন্যান্য",
            updated: "হালনাগাদ",
            languages: "অন্য ভাষায়",
        },
        _ => Words {
            help: "Help",
            search: "Search",
            found: "Found for",
            none: "No articles found.",
            other: "Other",
            updated: "Updated",
            languages: "Also in",
        },
    }
}

/// A page of the help center, or a plain "not found".
async fn site_of(state: &AppState, ip: std::net::IpAddr, key: &str) -> Result<Site, ApiError> {
    state.limits.request(ip)?;
    if key.len() > 64 {
        return Err(ApiError::not_found("help center"));
    }
    state
        .store
        .site_by_key(key)
        .await?
        .ok_or_else(|| ApiError::not_found("help center"))
}

fn checked_language(language: &str) -> Result<&str, ApiError> {
    WIDGET_LANGUAGES
        .iter()
        .find(|l| **l == language)
        .copied()
        .ok_or_else(|| ApiError::not_found("help center"))
}

/// `GET /help/{site_key}`: to the language the browser prefers, of those
/// the site has articles in.
pub(super) async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let languages = state.store.published_languages(&site.id).await?;
    let wanted = accepted
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(|tag| {
            tag.trim()
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .find(|tag| languages.contains(tag))
        .unwrap_or_default();
    let language = state
        .articles
        .language_for(&site, &wanted)
        .await?
        .unwrap_or_else(|| "en".to_owned());
    Ok(Redirect::to(&language_url(&state, &site, &language)).into_response())
}

/// `GET /help/{site_key}/{lang}`: the articles by collection.
pub(super) async fn index(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((key, language)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let language = checked_language(&language)?;
    let texts = state.store.published_texts(&site.id, language).await?;
    let words = words(language);
    let mut collections: Vec<(String, Vec<ArticleSummary>)> = Vec::new();
    for text in &texts {
        let summary = ArticleSummary {
            id: text.article_id.clone(),
            title: text.title.clone(),
            description: text.description.clone(),
            collection: text.collection.clone(),
        };
        match collections
            .iter_mut()
            .find(|(name, _)| *name == text.collection)
        {
            Some((_, list)) => list.push(summary),
            None => collections.push((text.collection.clone(), vec![summary])),
        }
    }
    // Named collections first, alphabetically; the unnamed last.
    collections.sort_by(|a, b| (a.0.is_empty(), &a.0).cmp(&(b.0.is_empty(), &b.0)));
    let mut body = search_form(&state, &site, language, "");
    if collections.is_empty() {
        let _ = write!(body, "<p>{}</p>", words.none);
    }
    for (name, list) in &collections {
        let name = if name.is_empty() { words.other } else { name };
        let _ = write!(body, "<section><h2>{}</h2>", esc(name));
        body.push_str(&article_list(&state, &site, language, list));
        body.push_str("</section>");
    }
    let url = language_url(&state, &site, language);
    let title = format!("{} · {}", words.help, site.name);
    Ok(page(
        &state, &site, language, &title, &title, &url, "", &body,
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchParams {
    #[serde(default)]
    q: String,
}

/// `GET /help/{site_key}/{lang}/search?q=…`.
pub(super) async fn search(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((key, language)): Path<(String, String)>,
    Query(params): Query<SearchParams>,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let language = checked_language(&language)?;
    let query: String = params.q.chars().take(MAX_QUERY_CHARS).collect();
    let found = state
        .articles
        .find(&site, language, &query, LIST_LENGTH)
        .await?
        .unwrap_or_default();
    let words = words(language);
    let mut body = search_form(&state, &site, language, &query);
    if !query.trim().is_empty() {
        let _ = write!(body, "<h2>{} “{}”</h2>", words.found, esc(&query));
        if found.is_empty() {
            let _ = write!(body, "<p>{}</p>", words.none);
        }
        body.push_str(&article_list(&state, &site, language, &found));
    }
    let url = format!("{}/{language}/search", state.articles.center_url(&site));
    let title = format!("{} · {} · {}", words.search, words.help, site.name);
    // Results pages are not for indexes.
    let head = "<meta name=\"robots\" content=\"noindex\">";
    Ok(page(
        &state, &site, language, &title, &title, &url, head, &body,
    ))
}

/// `GET /help/{site_key}/{lang}/{article_id}`: one article.
pub(super) async fn article(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((key, language, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let language = checked_language(&language)?;
    let PublishedPage {
        title,
        description,
        html,
        updated_at,
        collection,
        ..
    } = state
        .store
        .published_page(&site.id, &id, language)
        .await?
        .ok_or_else(|| ApiError::not_found("article"))?;
    let words = words(language);
    let mut others = String::new();
    let mut head = String::new();
    for other in WIDGET_LANGUAGES {
        if other != language
            && state
                .store
                .published_page(&site.id, &id, other)
                .await?
                .is_some()
        {
            let url = state.articles.page_url(&site, &id, other);
            let _ = write!(
                head,
                "<link rel=\"alternate\" hreflang=\"{other}\" href=\"{}\">",
                esc(&url)
            );
            let _ = write!(
                others,
                " <a href=\"{}\" hreflang=\"{other}\" lang=\"{other}\">{}</a>",
                esc(&url),
                protocol::language_name(other)
            );
        }
    }
    let updated = jiff::Timestamp::from_millisecond(updated_at)
        .map(|at| at.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let mut body = String::new();
    let _ = write!(
        body,
        "<nav><a href=\"{}\">{}</a>{}</nav><article><h1>{}</h1>{html}</article>\
         <p class=\"meta\">{} <time datetime=\"{updated}\">{updated}</time></p>",
        esc(&language_url(&state, &site, language)),
        esc(words.help),
        if collection.is_empty() {
            String::new()
        } else {
            format!(" › {}", esc(&collection))
        },
        esc(&title),
        words.updated,
    );
    if !others.is_empty() {
        let _ = write!(body, "<p class=\"meta\">{}:{others}</p>", words.languages);
    }
    let url = state.articles.page_url(&site, &id, language);
    let full_title = format!("{title} · {}", site.name);
    Ok(page(
        &state,
        &site,
        language,
        &full_title,
        &description,
        &url,
        &head,
        &body,
    ))
}

/// `GET /help/{site_key}/images/{file_id}`: a picture of one of the site's
/// published articles (uploaded from the editor into the attachment
/// store). Anything else is not found: a draft's picture, a chat's file.
pub(super) async fn image(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((key, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let (file, bytes) = state.files.open_article_image(&site.id, &id).await?;
    let mut response = axum::body::Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(kind) = HeaderValue::from_str(&file.content_type) {
        headers.insert(header::CONTENT_TYPE, kind);
    }
    headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(file.size.max(0) as u64),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    // Shown in the chat on the shop's pages, and by any cache: it is public.
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(response)
}

/// `GET /help/{site_key}/sitemap.xml`: every published article in every
/// language, and each language's index.
pub(super) async fn sitemap(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let site = site_of(&state, ip, &key).await?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for language in state.store.published_languages(&site.id).await? {
        let _ = writeln!(
            xml,
            "<url><loc>{}</loc></url>",
            esc(&language_url(&state, &site, &language))
        );
        for text in state.store.published_texts(&site.id, &language).await? {
            let modified = jiff::Timestamp::from_millisecond(text.updated_at)
                .map(|at| at.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let _ = writeln!(
                xml,
                "<url><loc>{}</loc><lastmod>{modified}</lastmod></url>",
                esc(&state.articles.page_url(&site, &text.article_id, &language))
            );
        }
    }
    xml.push_str("</urlset>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// A language's index page.
fn language_url(state: &AppState, site: &Site, language: &str) -> String {
    format!("{}/{language}", state.articles.center_url(site))
}

fn search_form(state: &AppState, site: &Site, language: &str, query: &str) -> String {
    let words = words(language);
    format!(
        "<form role=\"search\" action=\"{}/{language}/search\" method=\"get\">\
         <input type=\"search\" name=\"q\" value=\"{}\" aria-label=\"{}\" maxlength=\"{MAX_QUERY_CHARS}\">\
         <button type=\"submit\">{}</button></form>",
        esc(&state.articles.center_url(site)),
        esc(query),
        words.search,
        words.search
    )
}

fn article_list(state: &AppState, site: &Site, language: &str, list: &[ArticleSummary]) -> String {
    let mut out = String::from("<ul class=\"articles\">");
    for article in list {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a><p>{}</p></li>",
            esc(&state.articles.page_url(site, &article.id, language)),
            esc(&article.title),
            esc(&article.description)
        );
    }
    out.push_str("</ul>");
    out
}

/// A whole page in the site's look.
#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    site: &Site,
    language: &str,
    title: &str,
    description: &str,
    canonical: &str,
    head: &str,
    body: &str,
) -> Response {
    // The console keeps the accent to `#rrggbb`; anything else is not used.
    let accent = Some(site.settings.accent.as_str())
        .filter(|a| {
            a.len() == 7 && a.starts_with('#') && a[1..].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .unwrap_or("#2563eb");
    let html = format!(
        "<!doctype html><html lang=\"{language}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><meta name=\"description\" content=\"{}\">\
         <link rel=\"canonical\" href=\"{}\">{head}\
         <style>body{{font:16px/1.6 system-ui,sans-serif;margin:0;color:#1f2937}}\
         header{{background:{accent};color:#fff;padding:1rem 1.25rem}}\
         header a{{color:#fff;text-decoration:none;font-weight:600}}\
         main{{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 3rem}}\
         a{{color:{accent}}}form{{display:flex;gap:.5rem;margin:1rem 0}}\
         input{{flex:1;font:inherit;padding:.5rem;border:1px solid #9ca3af;border-radius:6px}}\
         button{{font:inherit;padding:.5rem 1rem;border:0;border-radius:6px;background:{accent};color:#fff}}\
         ul.articles{{list-style:none;padding:0}}ul.articles li{{margin:.75rem 0}}\
         ul.articles p,.meta{{margin:.1rem 0;color:#4b5563;font-size:.9rem}}\
         img{{max-width:100%}}table{{border-collapse:collapse}}td,th{{border:1px solid #d1d5db;padding:.25rem .5rem}}\
         </style></head><body><header><a href=\"{}\">{}</a></header><main>{body}</main></body></html>",
        esc(title),
        esc(description),
        esc(canonical),
        esc(&language_url(state, site, language)),
        esc(&site.name),
    );
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}
