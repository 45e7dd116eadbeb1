//! Limits both sides enforce, and the checks of what a client sends.

use crate::ErrorCode;

/// Longest message body accepted, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 4000;
/// Largest frame the server reads as a protocol frame, in bytes. Larger frames
/// get an error frame; the connection stays open.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Longest client-generated id, in bytes.
pub const MAX_CLIENT_ID_LEN: usize = 64;
/// How often a client sends `ping` while connected, in seconds.
pub const PING_INTERVAL_SECS: u32 = 20;
/// A side that hears nothing for this long treats the connection as dead.
pub const IDLE_TIMEOUT_SECS: u32 = 60;
/// A socket whose client sends no frame of its own (WebSocket pongs do not
/// count) for this long is closed. Longer than the idle timeout: browsers
/// run a hidden tab's timers about once a minute.
pub const APP_IDLE_TIMEOUT_SECS: u32 = 300;
/// The first frame on a widget socket must be `hello` within this many seconds.
pub const HELLO_TIMEOUT_SECS: u32 = 10;

/// Events a (re)connecting client is sent at most at once, and per page
/// when it asks for earlier ones.
pub const REPLAY_PAGE: i64 = 200;

/// WebSocket close code (RFC 6455 "policy violation"): refused by a limit
/// or a block; the client may come back later, after backing off.
pub const CLOSE_POLICY: u16 = 1008;

/// WebSocket close code: the session ended for good (signed out or the
/// agent deactivated); reconnecting is pointless, sign in again.
pub const CLOSE_SESSION_ENDED: u16 = 4003;

/// Smallest and largest capacity an agent can be given.
pub const CAPACITY_RANGE: std::ops::RangeInclusive<i64> = 1..=50;

/// Longest attribute name an agent may set.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;

/// Checks a client-generated id: 1 to [`MAX_CLIENT_ID_LEN`] bytes of `[A-Za-z0-9_-]`.
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CLIENT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a message body cannot be sent, if it cannot.
pub fn check_body(body: &str) -> Result<(), (ErrorCode, String)> {
    if body.trim().is_empty() {
        return Err((ErrorCode::EmptyBody, "A message cannot be empty.".into()));
    }
    check_caption(body)
}

/// Why a message of `files` (ids) with `body` as its caption cannot be
/// sent, if it cannot: with files, the text may be empty.
pub fn check_message(body: &str, files: &[String]) -> Result<(), (ErrorCode, String)> {
    if files.is_empty() {
        return check_body(body);
    }
    if files.len() > crate::MAX_FILES_PER_MESSAGE {
        return Err((
            ErrorCode::TooManyFiles,
            format!(
                "A message can carry at most {} files; this one has {}.",
                crate::MAX_FILES_PER_MESSAGE,
                files.len()
            ),
        ));
    }
    check_caption(body)
}

fn check_caption(body: &str) -> Result<(), (ErrorCode, String)> {
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err((
            ErrorCode::BodyTooLong,
            format!("A message can be at most {MAX_BODY_CHARS} characters; this one has {chars}."),
        ));
    }
    Ok(())
}
