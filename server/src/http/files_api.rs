//! The file doors: shoppers upload from the widget (with their visitor
//! token, from an allowed page), agents from the inbox (with their
//! session); anyone with a signed link fetches. Uploads stream with a
//! deadline of their own, past the other requests' 30 s; the message that
//! carries a file goes over the socket.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::{ErrorCode, FileRef};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{ClientIp, CurrentAgent};
use super::state::AppState;
use super::widget_api::{SiteQuery, authorize_site, widget_visitor};
use crate::files::{FileError, Upload};
use crate::store::Uploader;

#[derive(Debug, Deserialize)]
pub(super) struct WidgetUploadQuery {
    site: Option<String>,
    /// The file's name as the shopper's device gave it.
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct AgentUploadQuery {
    name: Option<String>,
}

/// `POST /api/widget/files?site=KEY&name=NAME`, the file as the body and
/// `Authorization: Bearer VISITOR_TOKEN`: a shopper's file, for a message.
pub(super) async fn widget_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<WidgetUploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<FileRef>, ApiError> {
    state.limits.upload(ip)?;
    let site_query = SiteQuery {
        site: query.site,
        lang: None,
        page: None,
        tz: None,
    };
    let site = authorize_site(&state, &site_query, &headers).await?;
    if site.settings.file_kinds.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::FileTypeNotAllowed,
            "This shop does not take files in its chat.",
        ));
    }
    let visitor = widget_visitor(&state, &site, &headers, ip).await?;
    let upload = Upload {
        account_id: &site.account_id,
        uploader: Uploader::Visitor {
            site_id: site.id.clone(),
            visitor_id: visitor.id,
        },
        name: query.name.as_deref().unwrap_or_default(),
        allowed: &site.settings.file_kinds,
        declared_len: declared_len(&headers),
    };
    let file = state.files.upload(upload, body.into_data_stream()).await?;
    Ok(Json(file))
}

/// `POST /api/files?name=NAME`, the file as the body: an agent's file, for
/// a reply. Agents send what any site takes by default.
pub(super) async fn agent_upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentAgent(agent): CurrentAgent,
    Query(query): Query<AgentUploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<FileRef>, ApiError> {
    state.limits.upload(ip)?;
    let upload = Upload {
        account_id: &agent.account_id,
        uploader: Uploader::Agent {
            agent_id: agent.id.clone(),
        },
        name: query.name.as_deref().unwrap_or_default(),
        allowed: protocol::FileKind::DEFAULT,
        declared_len: declared_len(&headers),
    };
    let file = state.files.upload(upload, body.into_data_stream()).await?;
    Ok(Json(file))
}

#[derive(Debug, Deserialize)]
pub(super) struct LinkQuery {
    /// Expiry, Unix ms.
    e: Option<i64>,
    /// The link's signature.
    s: Option<String>,
}

/// `GET /files/{id}?e=…&s=…`: a file, by the signed link its readers were
/// given. Pictures are shown; anything else is a download. Nothing is
/// sniffed or run: the type is the one decided at upload, with `nosniff`
/// and a sandboxing CSP.
pub(super) async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let (Some(expires), Some(mac)) = (link.e, link.s) else {
        return Err(FileError::BadLink.into());
    };
    let (file, bytes) = state.files.open(&id, expires, &mac).await?;
    let disposition = if protocol::is_inline_image(&file.content_type) {
        "inline"
    } else {
        "attachment"
    };
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, file.content_type.clone());
    set(header::CONTENT_LENGTH, file.size.to_string());
    set(
        header::CONTENT_DISPOSITION,
        format!(
            "{disposition}; filename=\"{}\"; filename*=UTF-8''{}",
            ascii_name(&file.name),
            url::form_urlencoded::byte_serialize(file.name.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        ),
    );
    set(
        header::CONTENT_SECURITY_POLICY,
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'".to_owned(),
    );
    // The widget shows pictures on the shop's page.
    set(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "cross-origin".to_owned(),
    );
    // Private: the link is the permission; shared caches keep nothing.
    set(header::CACHE_CONTROL, "private, max-age=86400".to_owned());
    set(header::REFERRER_POLICY, "no-referrer".to_owned());
    Ok(response)
}

fn declared_len(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The name for the plain `filename=` (old clients): ASCII without quotes.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl From<FileError> for ApiError {
    fn from(err: FileError) -> ApiError {
        let message = err.to_string();
        let (status, code) = match err {
            FileError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge),
            FileError::NotTaken(_) | FileError::NotAllowedHere(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::FileTypeNotAllowed,
            ),
            FileError::OverAllowance(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::QuotaExceeded)
            }
            FileError::Busy => {
                return ApiError::Busy(crate::limits::Busy(
                    "Many files are being sent just now; please try again in a moment.",
                ));
            }
            FileError::Interrupted | FileError::Damaged(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::BadRequest)
            }
            FileError::BadLink => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            FileError::Expired => (StatusCode::GONE, ErrorCode::LinkExpired),
            FileError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            FileError::Store(err) => return err.into(),
            FileError::Blob(err) => return ApiError::Internal(err.to_string()),
            FileError::Io(err) => return ApiError::Internal(format!("file spool: {err}")),
        };
        ApiError::new(status, code, message)
    }
}
