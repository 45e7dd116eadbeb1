//! The HTTP error: a stable code and a clear message for the client, the
//! internals in the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::{ErrorBody, ErrorCode, ErrorDetail};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: ErrorCode,
        message: String,
    },
    /// Over a limit: 429 with `Retry-After`.
    #[error(transparent)]
    Limited(#[from] crate::limits::Refused),
    /// Too busy for this now: 503 with `Retry-After`.
    #[error(transparent)]
    Busy(#[from] crate::limits::Busy),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::Client {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Sign in to use the inbox.",
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("No such {what}."),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// A service's refusal with its code, over HTTP: the status follows
    /// the code (not found, forbidden or blocked, over a limit, else bad input).
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> ApiError {
        let status = match code {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Blocked | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, code, message)
    }
}

/// A value refused at the edge: 400 saying why.
impl From<crate::domain::Invalid> for ApiError {
    fn from(invalid: crate::domain::Invalid) -> ApiError {
        ApiError::bad_request(invalid.0)
    }
}

/// A shopper-side refusal, as HTTP says it.
impl From<crate::visitors::Failure> for ApiError {
    fn from(failure: crate::visitors::Failure) -> ApiError {
        match failure {
            crate::visitors::Failure::Refused(refusal) => {
                ApiError::refused(refusal.code, refusal.message)
            }
            crate::visitors::Failure::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::Internal(err.to_string())
    }
}

/// A request body that is not the JSON expected: 400 with serde's reason,
/// in our error shape rather than axum's plain text.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(err: tower_sessions::session::Error) -> ApiError {
        ApiError::Internal(format!("session: {err}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Busy(busy) => {
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(ErrorBody {
                        error: ErrorDetail {
                            code: ErrorCode::Unavailable,
                            message: busy.0.to_owned(),
                        },
                    }),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1_u32));
                return response;
            }
            ApiError::Limited(refused) => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(ErrorBody {
                        error: ErrorDetail {
                            code: ErrorCode::RateLimited,
                            message: refused.message(),
                        },
                    }),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(refused.retry_after_secs()),
                );
                return response;
            }
            ApiError::Client {
                status,
                code,
                message,
            } => (status, code, message),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "Something went wrong on our side. Nothing was half-saved; please try again."
                        .to_owned(),
                )
            }
        };
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response()
    }
}
