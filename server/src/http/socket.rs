//! The loop every WebSocket runs: read bounded JSON frames, answer bad ones
//! with an error frame (never a dropped connection), forward hub frames,
//! heartbeat, and close politely on shutdown.

use std::collections::VecDeque;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
#[cfg(doc)]
use protocol::APP_IDLE_TIMEOUT_SECS;
use protocol::FrameSet;
use protocol::{
    ErrorCode, HELLO_TIMEOUT_SECS, IDLE_TIMEOUT_SECS, MAX_FRAME_BYTES, PING_INTERVAL_SECS,
};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::time::{Instant, interval_at, sleep};

use crate::hub::{Farewell, Frame, Subscriber};
use crate::store::StoreError;

/// Transport limit: frames above it end the connection (the protocol limit,
/// [`MAX_FRAME_BYTES`], is checked in the loop and only earns an error frame).
pub const TRANSPORT_MAX_BYTES: usize = 4 * MAX_FRAME_BYTES;

/// Bytes read from a socket at a time. Tungstenite's default (128 KiB) is
/// allocated up front for every connection; frames are small, and a larger
/// one is still read whole, just in more reads. Measured with
/// `cargo xtask bench` (server memory per shopper).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Our limits and buffer sizes on an upgrade, for every socket kind.
pub fn limits(upgrade: axum::extract::ws::WebSocketUpgrade) -> axum::extract::ws::WebSocketUpgrade {
    upgrade
        .max_message_size(TRANSPORT_MAX_BYTES)
        .max_frame_size(TRANSPORT_MAX_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Every frame is flushed as it is sent; nothing to gather.
        .write_buffer_size(0)
}

/// A send that has not gone out after this (a client that stopped reading)
/// ends the connection: its frames must not pile up in the server.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames refused in a row for coming too fast before the socket is closed.
const REFUSALS_BEFORE_CLOSE: u32 = 50;
/// Frames that are not frames of the protocol (not JSON, binary, an
/// unknown type, the wrong shape, too large) a socket may send in all
/// before it is closed: a client of ours sends none, and each one costs an
/// answer.
const BAD_FRAMES_BEFORE_CLOSE: u32 = 10;

/// Close codes the clients know.
pub const CLOSE_LAGGING: u16 = 4008;
pub const CLOSE_HELLO_TIMEOUT: u16 = 4001;
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Too busy now: reconnect after a while (RFC 6455's "Try Again Later").
pub const CLOSE_TRY_AGAIN: u16 = 1013;
/// The browser now stands for someone else: reconnect with the new token.
pub const CLOSE_IDENTITY_CHANGED: u16 = 4009;
pub use protocol::{CLOSE_POLICY, CLOSE_SESSION_ENDED};

/// One kind of socket (widget or inbox).
pub trait Endpoint: Send {
    /// What the client sends; its `type` tags come from the protocol.
    type Request: DeserializeOwned + FrameSet + Send;
    /// Whether the client has identified itself (widget: said hello).
    fn is_ready(&self) -> bool;
    /// The `client_id` of the message a request carries, if it does.
    fn client_id(request: &Self::Request) -> Option<String>;
    fn error_frame(code: ErrorCode, message: String, client_id: Option<String>) -> Frame;
    /// Handles one valid frame; frames for this client alone go in
    /// `replies`. A store failure is logged and answered with an internal
    /// error frame by the caller; the store left nothing half-written.
    fn handle(
        &mut self,
        request: Self::Request,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
    /// Whether the work for `request` may be dropped halfway if the client
    /// leaves meanwhile: only where every step is either a read or handed
    /// to a task that finishes it anyway (the writer stores a message
    /// whether or not its sender still waits), so that nothing stored goes
    /// unpublished.
    fn may_abandon(_request: &Self::Request) -> bool {
        false
    }
    /// Whether a frame may be taken now (a limit on how fast frames come).
    fn take_frame(&mut self) -> Result<(), crate::limits::Refused> {
        Ok(())
    }
    /// Whether the connection must end once the replies are sent, with
    /// which close code and reason: e.g. frames still queued for it belong
    /// to whom it stood for before, or a limit refused its hello.
    fn must_end(&self) -> Option<(u16, &'static str)> {
        None
    }
}

/// Parses a text frame, telling apart "not JSON", "unknown type" and "bad shape".
pub fn decode<T: DeserializeOwned>(text: &str, known: &[&str]) -> Result<T, (ErrorCode, String)> {
    if text.len() > MAX_FRAME_BYTES {
        return Err((
            ErrorCode::FrameTooLarge,
            format!(
                "Frames can be at most {MAX_FRAME_BYTES} bytes; this one has {}.",
                text.len()
            ),
        ));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        (
            ErrorCode::BadFrame,
            format!("A frame must be a JSON object: {e}."),
        )
    })?;
    let kind = value
        .get("type")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            (
                ErrorCode::BadFrame,
                "A frame needs a string \"type\".".to_owned(),
            )
        })?;
    if !known.contains(&kind) {
        return Err((
            ErrorCode::UnknownFrame,
            format!(
                "Unknown frame type \"{kind}\"; this socket accepts {}.",
                known.join(", ")
            ),
        ));
    }
    let kind = kind.to_owned();
    serde_json::from_value(value).map_err(|e| {
        (
            ErrorCode::BadFrame,
            format!("Malformed \"{kind}\" frame: {e}."),
        )
    })
}

/// Runs a socket until the client leaves, goes silent, lags, stops reading,
/// or the server stops.
/// `quiet_limit`: how long the client may send no frame of its own
/// ([`APP_IDLE_TIMEOUT_SECS`] unless configured).
pub async fn drive<C: Endpoint>(
    mut socket: WebSocket,
    subscriber: &Subscriber,
    mut outbox: mpsc::Receiver<Frame>,
    endpoint: &mut C,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    quiet_limit: Duration,
) {
    // Each socket's pings at its own moment: sockets opened together (a
    // reconnecting crowd, a restart) must not all be pinged together, which
    // held every message up for a few hundred milliseconds at 10,000.
    let ping_every = Duration::from_secs(u64::from(PING_INTERVAL_SECS));
    let mut heartbeat = interval_at(
        Instant::now() + ping_every.mul_f64(rand::random::<f64>()),
        ping_every,
    );
    let idle_limit = Duration::from_secs(u64::from(IDLE_TIMEOUT_SECS));
    let hello_deadline = sleep(Duration::from_secs(u64::from(HELLO_TIMEOUT_SECS)));
    tokio::pin!(hello_deadline);
    // Anything at all (a pong too) shows the connection is alive; only the
    // client's own frames show someone is there.
    let mut last_heard = Instant::now();
    let quiet_deadline = sleep(quiet_limit);
    tokio::pin!(quiet_deadline);
    let mut refusals = 0_u32;
    let mut bad_frames = 0_u32;
    let mut replies = Vec::new();
    // What the client sent while abandonable work was handled, in order.
    let mut early = VecDeque::new();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    };
    loop {
        tokio::select! {
            incoming = next_message(&mut socket, &mut early) => {
                let Some(Ok(message)) = incoming else { break };
                last_heard = Instant::now();
                let text = match message {
                    Message::Text(text) => Some(text),
                    Message::Binary(_) => None,
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                quiet_deadline.as_mut().reset(Instant::now() + quiet_limit);
                // Every frame counts against the socket's rate, whatever it
                // holds: a flood of junk is a flood.
                if let Err(refused) = endpoint.take_frame() {
                    refusals += 1;
                    if refusals > REFUSALS_BEFORE_CLOSE {
                        goodbye(&mut socket, close(CLOSE_POLICY, "too many frames")).await;
                        break;
                    }
                    let client_id = text.as_deref().and_then(|text| {
                        decode::<C::Request>(text, <C::Request as FrameSet>::TYPES).ok().and_then(|r| C::client_id(&r))
                    });
                    replies.push(C::error_frame(ErrorCode::RateLimited, refused.message(), client_id));
                    if flush(&mut socket, &mut replies).await.is_err() { break }
                    continue;
                }
                refusals = 0;
                let decoded = match &text {
                    Some(text) => decode::<C::Request>(text.as_str(), <C::Request as FrameSet>::TYPES),
                    None => Err((ErrorCode::BadFrame, "Frames are JSON text, not binary.".to_owned())),
                };
                match decoded {
                    Ok(request) => {
                        let client_id = C::client_id(&request);
                        {
                            // Boxed: a handler's future (store queries and all) is
                            // large, and would otherwise sit inside every idle
                            // connection's task for its whole life.
                            // Work that may be dropped halfway (a hello, which
                            // changes nothing anyone else sees; see
                            // `may_abandon`) is dropped with the socket if the
                            // client leaves while it waits (a busy database, a
                            // reconnecting crowd), instead of holding the socket
                            // open (CLOSE-WAIT) until it is done.
                            let abandonable = !endpoint.is_ready() || C::may_abandon(&request);
                            let handling = Box::pin(endpoint.handle(request, subscriber, &mut replies));
                            let handled = if abandonable {
                                tokio::select! {
                                    handled = handling => handled,
                                    () = client_leaves(&mut socket, &mut early) => break,
                                }
                            } else {
                                handling.await
                            };
                            if let Err(err) = handled {
                                tracing::error!(%err, "socket frame failed");
                                replies.push(C::error_frame(
                                    ErrorCode::Internal,
                                    "Something went wrong on our side; nothing was half-saved. Please retry.".into(),
                                    client_id,
                                ));
                            }
                        }
                    }
                    Err((code, message)) => {
                        bad_frames += 1;
                        if bad_frames > BAD_FRAMES_BEFORE_CLOSE {
                            goodbye(&mut socket, close(CLOSE_POLICY, "too many malformed frames")).await;
                            break;
                        }
                        replies.push(C::error_frame(code, message, None));
                    }
                }
                if flush(&mut socket, &mut replies).await.is_err() { break }
                if let Some((code, reason)) = endpoint.must_end() {
                    goodbye(&mut socket, close(code, reason)).await;
                    break;
                }
            }
            frame = outbox.recv() => {
                let Some(frame) = frame else { break };
                if send(&mut socket, Message::Text(frame)).await.is_err() { break }
                // Everything already queued goes out now: a request can
                // queue several frames, and one frame per turn of the loop
                // would let a busy client's own outbox fill up.
                let mut failed = false;
                while let Ok(frame) = outbox.try_recv() {
                    if send(&mut socket, Message::Text(frame)).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                if failed { break }
            }
            () = subscriber.kicked() => {
                let farewell = match subscriber.farewell() {
                    Farewell::Ended => close(CLOSE_SESSION_ENDED, "session ended"),
                    Farewell::RulesChanged => close(CLOSE_GOING_AWAY, "the site's settings changed; reconnect"),
                    Farewell::Lagging => close(CLOSE_LAGGING, "too slow; reconnect and resume"),
                };
                goodbye(&mut socket, farewell).await;
                break;
            }
            () = &mut hello_deadline, if !endpoint.is_ready() => {
                goodbye(&mut socket, close(CLOSE_HELLO_TIMEOUT, "say hello first")).await;
                break;
            }
            () = &mut quiet_deadline => {
                goodbye(&mut socket, close(CLOSE_GOING_AWAY, "nothing sent for too long")).await;
                break;
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > idle_limit { break }
                if send(&mut socket, Message::Ping(Default::default())).await.is_err() { break }
            }
            _ = shutdown.changed() => {
                goodbye(&mut socket, close(CLOSE_GOING_AWAY, "server restarting")).await;
                break;
            }
        }
    }
}

/// Frames kept from a client while abandonable work is handled; beyond them the
/// socket is not read until it is (the client's sends then wait in TCP).
const EARLY_FRAMES: usize = 16;

/// What the client sent while abandonable work was handled, then the socket.
async fn next_message(
    socket: &mut WebSocket,
    early: &mut VecDeque<Message>,
) -> Option<Result<Message, axum::Error>> {
    match early.pop_front() {
        Some(message) => Some(Ok(message)),
        None => socket.recv().await,
    }
}

/// Reads the socket while abandonable work is handled, keeping what comes for
/// afterwards; ends only if the client has gone (closed, or the connection
/// dropped). Reading is cancel-safe: a frame half-read stays in the socket.
async fn client_leaves(socket: &mut WebSocket, early: &mut VecDeque<Message>) {
    while early.len() < EARLY_FRAMES {
        match socket.recv().await {
            Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            Some(Ok(message)) => early.push_back(message),
        }
    }
    std::future::pending().await
}

/// How long a closed socket waits for the client's answering close frame.
const CLOSE_HANDSHAKE: Duration = Duration::from_secs(1);

/// Sends a close frame and reads what is still coming until the client
/// answers it (briefly): dropping a socket with unread data in it resets
/// the connection, and the client may never see why it was closed.
async fn goodbye(socket: &mut WebSocket, farewell: Message) {
    if send(socket, farewell).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Sends one message, or fails if it has not gone out within [`SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, message: Message) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(()),
        Err(_) => {
            tracing::info!("a client stopped reading; closing its socket");
            Err(())
        }
    }
}

async fn flush(socket: &mut WebSocket, replies: &mut Vec<Frame>) -> Result<(), ()> {
    for frame in replies.drain(..) {
        send(socket, Message::Text(frame)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{FrameSet, WidgetRequest};

    const TYPES: &[&str] = WidgetRequest::TYPES;

    #[test]
    fn tells_bad_json_from_unknown_type_from_bad_shape() {
        let err = |text: &str| {
            decode::<WidgetRequest>(text, TYPES)
                .map(|_| ())
                .map_err(|e| e.0)
        };
        assert_eq!(err("nope"), Err(ErrorCode::BadFrame));
        assert_eq!(err(r#"{"no_type":1}"#), Err(ErrorCode::BadFrame));
        assert_eq!(err(r#"{"type":"dance"}"#), Err(ErrorCode::UnknownFrame));
        assert_eq!(
            err(r#"{"type":"send","body":"x"}"#),
            Err(ErrorCode::BadFrame)
        );
        assert_eq!(err(r#"{"type":"ping"}"#), Ok(()));
        let huge = format!(
            r#"{{"type":"ping","pad":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(err(&huge), Err(ErrorCode::FrameTooLarge));
    }
}
