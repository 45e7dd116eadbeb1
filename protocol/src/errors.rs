//! Error codes: on the wire, in error frames and in HTTP error bodies.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes, on the wire and in HTTP error bodies.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    strum::VariantArray,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON or does not match its type's shape.
    BadFrame,
    /// The frame's `type` is not one this endpoint knows.
    UnknownFrame,
    /// The frame is larger than [`MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// A message body is empty (or only whitespace).
    EmptyBody,
    /// A message body is longer than [`MAX_BODY_CHARS`].
    BodyTooLong,
    /// A `client_id` is missing, too long or has characters outside `[A-Za-z0-9_-]`.
    BadClientId,
    /// The visitor token is unknown or belongs to another site.
    InvalidVisitorToken,
    /// A widget socket must start with `hello`.
    HelloRequired,
    /// No site has this key.
    UnknownSite,
    /// The page's origin is not in the site's allowed origins.
    OriginNotAllowed,
    /// Sign in first.
    Unauthenticated,
    /// Wrong email or password.
    BadCredentials,
    /// Signed in, but this is not yours.
    Forbidden,
    /// No such thing (or not visible to you).
    NotFound,
    /// The request body or parameters are malformed.
    BadRequest,
    /// An `identify` was refused (bad or expired token, another site's,
    /// no customer id, or unsigned details where the site requires a token).
    IdentityRefused,
    /// A request body is larger than this endpoint takes.
    TooLarge,
    /// Over a limit (too many at once); nothing was stored. Try again later
    /// (HTTP: after `Retry-After` seconds).
    RateLimited,
    /// This visitor (or their address) was blocked by the shop.
    Blocked,
    /// Too busy right now; try again shortly (HTTP 503).
    Unavailable,
    /// Something failed on our side; nothing was half-stored.
    Internal,
    /// A message carries more than [`MAX_FILES_PER_MESSAGE`] files.
    TooManyFiles,
    /// A file's content (whatever its name says) is of a type this site
    /// does not take.
    FileTypeNotAllowed,
    /// Over the files allowance of this visitor or site; nothing stored.
    QuotaExceeded,
    /// A message refers to a file that is not the sender's to attach
    /// (unknown, someone else's, or already in another message).
    UnknownFile,
    /// A file link past its time; the conversation gives a fresh one.
    LinkExpired,
}

impl ErrorCode {
    /// Every code, for clients that read codes without serde (derived).
    pub const ALL: &'static [ErrorCode] = <ErrorCode as strum::VariantArray>::VARIANTS;

    /// The code as it travels (`"bad_frame"`), as serde writes it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Body of every HTTP error response: `{"error": {"code": ..., "message": ...}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}
