//! Wire types shared by the server, the shopper widget and the agent inbox.
//!
//! Every WebSocket frame is a JSON object tagged by `type`. This crate holds
//! only the shapes and the limits; it does no IO, so the widget can carry it
//! without pulling in server code.

mod console;
mod widget_text;

pub use console::*;
pub use widget_text::{WidgetText, text};

use serde::{Deserialize, Serialize};

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
/// The first frame on a widget socket must be `hello` within this many seconds.
pub const HELLO_TIMEOUT_SECS: u32 = 10;

/// WebSocket close code: the session ended for good (signed out or the
/// agent deactivated); reconnecting is pointless, sign in again.
pub const CLOSE_SESSION_ENDED: u16 = 4003;

/// Per-conversation event number; only grows, starts at 1.
pub type Seq = i64;

/// Stable, machine-readable error codes, on the wire and in HTTP error bodies.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
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
    /// Something failed on our side; nothing was half-stored.
    Internal,
}

impl ErrorCode {
    /// Every code, for clients that read codes without serde.
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::BadFrame,
        ErrorCode::UnknownFrame,
        ErrorCode::FrameTooLarge,
        ErrorCode::EmptyBody,
        ErrorCode::BodyTooLong,
        ErrorCode::BadClientId,
        ErrorCode::InvalidVisitorToken,
        ErrorCode::HelloRequired,
        ErrorCode::UnknownSite,
        ErrorCode::OriginNotAllowed,
        ErrorCode::Unauthenticated,
        ErrorCode::BadCredentials,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::BadRequest,
        ErrorCode::IdentityRefused,
        ErrorCode::Internal,
    ];

    /// The code as it travels (`"bad_frame"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::UnknownFrame => "unknown_frame",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::EmptyBody => "empty_body",
            ErrorCode::BodyTooLong => "body_too_long",
            ErrorCode::BadClientId => "bad_client_id",
            ErrorCode::InvalidVisitorToken => "invalid_visitor_token",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::UnknownSite => "unknown_site",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::IdentityRefused => "identity_refused",
            ErrorCode::Internal => "internal",
        }
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

/// Who wrote an event: `"visitor"`, `"system"` or `{"agent": {"id", "name"}}`.
///
/// Nested enums use serde's external tagging; only frames carry a `type`
/// field. Internally tagged enums decode through a buffer that costs the
/// widget about 5 KB gzip of WASM (measured with `cargo xtask dist`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Agent { id: String, name: String },
    System,
}

/// What happened, e.g. `{"message": {"text": "hi"}}` or `"closed"`. Stored
/// events only; typing indicators are not events.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventBody {
    Message {
        text: String,
    },
    /// Agent-only; never sent to a shopper.
    Note {
        text: String,
    },
    Assigned {
        agent_id: String,
        agent_name: String,
    },
    Closed,
}

impl EventBody {
    /// Whether a shopper may ever see this event.
    pub fn is_shopper_visible(&self) -> bool {
        !matches!(self, EventBody::Note { .. })
    }
}

/// One stored event of a conversation's log.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub conversation_id: String,
    pub seq: Seq,
    pub author: Author,
    /// What happened. Nested rather than `#[serde(flatten)]`ed, which would
    /// buffer every event while decoding.
    pub body: EventBody,
    /// The sender's idempotency key, when a client sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub created_at_ms: i64,
}

/// Where a conversation stands: `"waiting"`, `"closed"` or
/// `{"assigned": {"agent_id", "agent_name"}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    Waiting,
    Assigned {
        agent_id: String,
        agent_name: String,
    },
    Closed,
}

/// First frame a shopper's widget sends on every (re)connect.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WidgetRequest {
    /// Authenticate (or start a new visitor when `token` is absent) and resume:
    /// the server replays the current conversation's events after `after_seq`
    /// when `conversation_id` names it, or all of them otherwise.
    Hello {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        conversation_id: Option<String>,
        #[serde(default)]
        after_seq: Seq,
        /// The browser's language (`navigator.language`), to prefer an
        /// agent who speaks it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// A shopper's message. Retrying with the same `client_id` is safe.
    /// `topic` (a site topic key, e.g. set by the page with
    /// `Rapport('set', {topic})`) routes a new conversation to a team.
    Send {
        client_id: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
    /// The page the widget was loaded on, once per page load, with the
    /// browser's time zone; agents see where the shopper is and has been.
    Page {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time_zone: Option<String>,
    },
    /// `Rapport('track', name, data)`: something the shopper did (added to
    /// cart…), for the customer's timeline. `data` is JSON text.
    Track {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
    },
    /// Who the shopper is, from the page's `Rapport('identify', …)`: a token
    /// the shop's backend signed (verified), or, on sites that allow it,
    /// details the page states (kept as unverified, never merged into a
    /// contact). Answered with a fresh `welcome` naming the shopper.
    Identify {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<StatedDetails>,
    },
    Ping,
}

/// What a page says about its shopper without a signature: shown to agents
/// as unverified.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct StatedDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Frames the server sends to a shopper's widget. The widget reads them
/// with the browser's `JSON.parse` (no serde decoding in its WASM); this
/// crate's `Deserialize` serves Rust clients and tests.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WidgetFrame {
    Welcome {
        visitor_token: String,
        conversation_id: Option<String>,
        state: Option<ConversationState>,
        /// The verified contact's name, to greet them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Whether an email is known for this shopper (not to be asked again).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        email_known: bool,
    },
    Event {
        event: Event,
    },
    /// The message with this `client_id` is stored as `seq`.
    Ack {
        client_id: String,
        conversation_id: String,
        seq: Seq,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// The shopper's place in line while waiting, sent whenever it changes.
    /// `estimate_secs` is absent when there is no data to base it on.
    Queue {
        position: u32,
        estimate_secs: Option<u32>,
        agents_online: bool,
    },
    Pong,
}

/// What an agent is doing, as they set it. Without an inbox open (after a
/// grace period) an agent is offline whatever they chose.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Taking new conversations.
    Online,
    /// Keeping current conversations, taking no new ones.
    Away,
    #[default]
    Offline,
}

/// Frames an agent's inbox sends.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentRequest {
    /// Online (offered new conversations), away (keeps current ones, gets
    /// no new ones) or offline.
    SetStatus {
        status: Availability,
    },
    /// Follow one conversation: replays its events after `after_seq`, then live ones.
    Open {
        conversation_id: String,
        #[serde(default)]
        after_seq: Seq,
    },
    /// Reply to the shopper. A waiting conversation is claimed by the sender.
    Send {
        conversation_id: String,
        client_id: String,
        body: String,
    },
    /// An agent-only note on the conversation; never reaches the shopper.
    Note {
        conversation_id: String,
        client_id: String,
        body: String,
    },
    /// Hand a conversation to another agent of the account, or back to the
    /// queue of one of its teams, with a note only agents see. The receiver
    /// sees the whole history. Exactly one of `to_agent_id` and
    /// `to_team_id` must be given.
    HandOver {
        conversation_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_agent_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_team_id: Option<String>,
        note: String,
    },
    /// End the conversation; the shopper sees it ended, and a new message
    /// from them opens a new one. Closing a closed conversation does nothing.
    Close {
        conversation_id: String,
    },
    Ping,
}

/// A conversation as the inbox lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConversationSummary {
    pub id: String,
    pub site_id: String,
    pub site_name: String,
    pub visitor_id: String,
    pub state: ConversationState,
    /// The team it is routed to; only that team's agents are offered it.
    #[serde(default)]
    pub team: Option<TeamRef>,
    pub last_seq: Seq,
    pub last_message: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A team as lists show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TeamRef {
    pub id: String,
    pub name: String,
}

/// A team and who is in it: `GET /api/teams`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
}

/// `PUT /api/agents/{id}/capacity`: how many conversations the agent holds
/// at once; `null` means the site's default.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityUpdate {
    pub capacity: Option<i64>,
}

/// Smallest and largest capacity an agent can be given.
pub const CAPACITY_RANGE: std::ops::RangeInclusive<i64> = 1..=50;

/// Frames the server sends to an agent's inbox.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentFrame {
    /// Sent once per connection: who you are, your presence, and the
    /// conversations you may work on (waiting ones and your own).
    Inbox {
        me: AgentProfile,
        status: Availability,
        conversations: Vec<ConversationSummary>,
    },
    /// A conversation of your account was created or changed.
    Conversation {
        conversation: ConversationSummary,
    },
    /// The agent's status changed (from any of their tabs).
    Status {
        status: Availability,
    },
    Event {
        event: Event,
    },
    Ack {
        client_id: String,
        conversation_id: String,
        seq: Seq,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    Pong,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Agent,
}

/// The signed-in agent, as `/api/me` and the inbox show them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AgentProfile {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A colleague as the inbox shows them: `GET /api/agents`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TeamMember {
    pub id: String,
    pub name: String,
    /// Offline unless they have an inbox open.
    pub status: Availability,
    /// Conversations they hold now.
    pub open: i64,
    /// Their own cap, if set (otherwise each site's default applies).
    pub capacity: Option<i64>,
}

/// What an agent sees about the shopper of a conversation the moment it is
/// offered: `GET /api/conversations/{id}/profile`. Agent-only.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct CustomerProfile {
    /// What the shop's signed token said; `None` for an anonymous shopper.
    pub contact: Option<ContactView>,
    /// What the page stated without a signature: shown as unverified.
    pub unverified: Option<StatedDetails>,
    /// The shopper's browser (User-Agent) and language, as last seen.
    pub browser: Option<String>,
    pub language: Option<String>,
    /// Every conversation of this shopper, newest first, with its outcome.
    pub conversations: Vec<ConversationSummary>,
    /// Notes any agent left on the contact, newest first.
    pub notes: Vec<ContactNote>,
    /// Who changed which attribute, newest first.
    pub changes: Vec<AttributeChange>,
    /// Pages the widget loaded on in the last day, newest (where the
    /// shopper is now) first.
    #[serde(default)]
    pub pages: Vec<PageVisit>,
    /// The shopper's IANA time zone, for their local time.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// What the page recorded with `Rapport('track', …)`, newest first.
    #[serde(default)]
    pub timeline: Vec<TrackedEvent>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PageVisit {
    pub url: String,
    pub title: Option<String>,
    pub at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TrackedEvent {
    pub name: String,
    /// JSON as the page gave it.
    pub data: Option<String>,
    pub at_ms: i64,
}

/// A verified contact as agents see them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ContactView {
    pub id: String,
    /// The shop's own id for the customer.
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    /// Loyalty tier, last order, lifetime value…, as text.
    pub attributes: std::collections::BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ContactNote {
    pub id: String,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at_ms: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttributeChange {
    pub name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub agent_name: Option<String>,
    pub created_at_ms: i64,
}

/// `POST /api/contacts/{id}/notes`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct NewContactNote {
    pub body: String,
}

/// `PUT /api/contacts/{id}/attributes`: set `name` to `value`, or remove it
/// when `value` is null.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttributeEdit {
    pub name: String,
    pub value: Option<String>,
}

/// Longest attribute name an agent may set.
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// What the loader and widget learn about a site before drawing anything,
/// already in the shopper's language.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WidgetConfig {
    pub site_name: String,
    /// For a shopper the shop has not identified.
    pub greeting: String,
    /// For a known shopper: `{first_name}` is theirs to fill.
    #[serde(default)]
    pub greeting_known: String,
    /// Topics the shopper may pick before their first message, each
    /// routed to a team; empty when the site offers none.
    #[serde(default)]
    pub topics: Vec<TopicChoice>,
    /// The interface's strings in order of [`WidgetText`].
    #[serde(default)]
    pub texts: Vec<String>,
    /// The language of `texts`, for formatting times.
    #[serde(default)]
    pub language: String,
    /// Read by the loader only.
    #[serde(default)]
    pub launcher: Launcher,
    /// Set while the site is outside its business hours.
    #[serde(default)]
    pub away: Option<Away>,
    /// Whether the widget shows the agent's picture, from
    /// `/api/widget/avatar/{agent_id}?site=KEY`.
    #[serde(default)]
    pub agent_avatars: bool,
}

/// How the loader draws the launcher.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Launcher {
    pub accent: String,
    pub position: WidgetPosition,
    pub label: String,
}

/// Outside business hours: what to say and when the team is back.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Away {
    pub message: String,
    /// The next opening, Unix ms; `None` when no opening is scheduled.
    pub back_at_ms: Option<i64>,
    /// The same, as the shopper reads it: "Monday 09:00" on their clock (the
    /// page's time zone), or the site's with its zone name.
    #[serde(default)]
    pub back_at: Option<String>,
}

/// A topic the shopper can pick: `key` goes back in `send`, `label` is shown.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicChoice {
    pub key: String,
    pub label: String,
}

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
    let chars = body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err((
            ErrorCode::BodyTooLong,
            format!("A message can be at most {MAX_BODY_CHARS} characters; this one has {chars}."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_tagged_by_type() {
        let json = serde_json::to_string(&WidgetRequest::Send {
            client_id: "c1".into(),
            body: "hi".into(),
            topic: None,
        })
        .expect("serialize");
        assert_eq!(json, r#"{"type":"send","client_id":"c1","body":"hi"}"#);
        let hello: WidgetRequest = serde_json::from_str(r#"{"type":"hello"}"#).expect("parse");
        assert_eq!(
            hello,
            WidgetRequest::Hello {
                token: None,
                conversation_id: None,
                after_seq: 0,
                language: None,
            }
        );
    }

    #[test]
    fn event_nests_its_body() {
        let event = Event {
            conversation_id: "c".into(),
            seq: 3,
            author: Author::Visitor,
            body: EventBody::Message {
                text: "hello".into(),
            },
            client_id: None,
            created_at_ms: 1,
        };
        let value = serde_json::to_value(&event).expect("serialize");
        assert_eq!(value["body"]["message"]["text"], "hello");
        assert_eq!(value["author"], "visitor");
        let back: Event = serde_json::from_value(value).expect("parse");
        assert_eq!(back, event);
    }

    #[test]
    fn error_codes_read_without_serde_match_the_wire() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_string(&code).expect("serialises"),
                format!("\"{}\"", code.as_str())
            );
        }
    }

    #[test]
    fn widget_frames_round_trip() {
        let frames = vec![
            WidgetFrame::Welcome {
                visitor_token: "t".into(),
                conversation_id: Some("c".into()),
                state: Some(ConversationState::Assigned {
                    agent_id: "a".into(),
                    agent_name: "Ada".into(),
                }),
                name: Some("Grace".into()),
                email_known: true,
            },
            WidgetFrame::Welcome {
                visitor_token: "t".into(),
                conversation_id: None,
                state: None,
                name: None,
                email_known: false,
            },
            WidgetFrame::Event {
                event: Event {
                    conversation_id: "c".into(),
                    seq: 2,
                    author: Author::Agent {
                        id: "a".into(),
                        name: "Ada".into(),
                    },
                    body: EventBody::Message { text: "hi".into() },
                    client_id: Some("k".into()),
                    created_at_ms: 5,
                },
            },
            WidgetFrame::Ack {
                client_id: "k".into(),
                conversation_id: "c".into(),
                seq: 1,
            },
            WidgetFrame::Error {
                code: ErrorCode::BodyTooLong,
                message: "too long".into(),
                client_id: Some("k".into()),
            },
            WidgetFrame::Error {
                code: ErrorCode::BadFrame,
                message: "bad".into(),
                client_id: None,
            },
            WidgetFrame::Queue {
                position: 2,
                estimate_secs: None,
                agents_online: true,
            },
            WidgetFrame::Pong,
        ];
        for frame in frames {
            let json = serde_json::to_string(&frame).expect("serialize");
            assert!(json.starts_with(r#"{"type":"#), "{json}");
            let back: WidgetFrame = serde_json::from_str(&json).expect("decode");
            assert_eq!(back, frame);
        }
    }

    #[test]
    fn widget_frames_need_their_type_first_and_known() {
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"seq":1,"type":"ack"}"#).is_err());
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<WidgetFrame>(r#"{"type":"ack","client_id":"k"}"#).is_err());
    }

    #[test]
    fn notes_are_not_shopper_visible() {
        assert!(!EventBody::Note { text: "x".into() }.is_shopper_visible());
        assert!(EventBody::Message { text: "x".into() }.is_shopper_visible());
        assert!(EventBody::Closed.is_shopper_visible());
    }

    #[test]
    fn client_ids_are_bounded() {
        assert!(is_valid_client_id("a-B_9"));
        assert!(!is_valid_client_id(""));
        assert!(!is_valid_client_id("has space"));
        assert!(!is_valid_client_id(&"x".repeat(MAX_CLIENT_ID_LEN + 1)));
    }

    #[test]
    fn bodies_are_bounded_in_characters() {
        assert_eq!(
            check_body("  \n").map_err(|e| e.0),
            Err(ErrorCode::EmptyBody)
        );
        assert!(check_body(&"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert_eq!(
            check_body(&"é".repeat(MAX_BODY_CHARS + 1)).map_err(|e| e.0),
            Err(ErrorCode::BodyTooLong)
        );
    }
}
