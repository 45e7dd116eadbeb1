//! The conversation log: events, who wrote them, and where a conversation stands.

use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoEnumIterator, IntoStaticStr};

/// Per-conversation event number; only grows, starts at 1.
pub type Seq = i64;

/// Who wrote an event: `"visitor"`, `"system"` or `{"agent": {"id", "name"}}`.
///
/// Nested enums use serde's external tagging; only frames carry a `type`
/// field. Internally tagged enums decode through a buffer that costs the
/// widget about 5 KB gzip of WASM (measured with `cargo xtask dist`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, EnumDiscriminants)]
#[serde(rename_all = "snake_case")]
#[strum_discriminants(name(AuthorKind), derive(EnumIter))]
pub enum Author {
    Visitor,
    Agent { id: String, name: String },
    System,
}

/// What happened, e.g. `{"message": {"text": "hi"}}` or `"closed"`. Stored
/// events only; typing indicators are not events.
///
/// [`EventKind`] names each variant as it is stored and travels
/// (`"message"`); matching on it exhaustively is how every reader of the
/// log is made to handle a new kind.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, EnumDiscriminants)]
#[serde(rename_all = "snake_case")]
#[strum_discriminants(
    name(EventKind),
    derive(EnumIter, IntoStaticStr, strum::EnumString),
    strum(serialize_all = "snake_case")
)]
pub enum EventBody {
    /// Text, files, or both (the text is then the files' caption).
    Message {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<crate::FileRef>,
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
    /// The shopper's rating of the chat, 1 to 5, and what they said.
    Rated {
        score: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// An open conversation set aside, or back from being set aside
    /// (agents only): see [`Status`].
    Status {
        status: Status,
        /// Why it changed.
        why: StatusWhy,
    },
    /// A closed conversation open again (agents only): the customer wrote
    /// within the site's reopen window, or an agent reopened it.
    Reopened {
        why: StatusWhy,
    },
}

/// Where an open conversation stands for its agents: `"open"`,
/// `"pending"` or `{"snoozed": {"until_ms": …}}`. A set-aside conversation
/// (pending or snoozed) stays with its agent but holds none of their seats.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being worked on.
    Open,
    /// Waiting on the customer's answer; open again when they write.
    Pending,
    /// Put aside until a time, or (without one) until the customer writes;
    /// open again by itself then, and the agent is told.
    Snoozed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<i64>,
    },
}

/// Why a conversation's status changed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum StatusWhy {
    /// An agent chose it.
    Agent,
    /// The customer wrote (by chat or by email).
    CustomerWrote,
    /// The time it was snoozed until came.
    SnoozeEnded,
}

/// Why a conversation went back to a line (kept for the reports).
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequeueReason {
    /// Its agent did not reply within the site's deadline.
    NoReply,
    /// Its agent went offline, or was connected nowhere for the grace period.
    WentOffline,
    /// Its agent was deactivated.
    Deactivated,
    /// Its agent handed it to a team's line.
    HandedBack,
}

/// What each kind of event means to the rest of the system, decided once
/// per kind by exhaustive matches: a new kind does not compile until it is
/// decided here.
impl EventKind {
    /// Whether a shopper may ever see an event of this kind.
    pub fn shopper_visible(self) -> bool {
        match self {
            EventKind::Note => false,
            EventKind::Message | EventKind::Assigned | EventKind::Closed | EventKind::Rated => true,
            EventKind::Status | EventKind::Reopened => false,
        }
    }

    /// Whether the conversation changes hands with it: every inbox of the
    /// account hears of it, and whoever waits may be served.
    pub fn changes_hands(self) -> bool {
        match self {
            // A set-aside conversation frees its agent's seat, and one
            // open again takes one (or goes to the line).
            EventKind::Assigned | EventKind::Closed | EventKind::Status | EventKind::Reopened => {
                true
            }
            EventKind::Message | EventKind::Note | EventKind::Rated => false,
        }
    }
}

impl EventBody {
    /// A message of text alone.
    pub fn message(text: impl Into<String>) -> EventBody {
        EventBody::Message {
            text: text.into(),
            files: Vec::new(),
        }
    }

    /// Whether a shopper may ever see this event (see [`EventKind`]).
    pub fn is_shopper_visible(&self) -> bool {
        EventKind::from(self).shopper_visible()
    }

    /// Whether the conversation changes hands with it (see [`EventKind`]).
    pub fn changes_hands(&self) -> bool {
        EventKind::from(self).changes_hands()
    }

    /// How this kind is stored and travels: `"message"`, `"note"`…
    pub fn kind_name(&self) -> &'static str {
        EventKind::from(self).into()
    }

    /// One body of every kind.
    pub fn examples() -> Vec<EventBody> {
        EventKind::iter()
            .map(|kind| match kind {
                EventKind::Message => EventBody::Message {
                    text: "Where is my order? \u{1F4E6} \"quoted\" <b> https://shop.example/o/1"
                        .into(),
                    files: vec![crate::FileRef {
                        id: "file-1".into(),
                        name: "parcel.jpg".into(),
                        content_type: "image/jpeg".into(),
                        size: 2_450_000,
                        url: "/files/file-1?e=1&s=x".into(),
                    }],
                },
                EventKind::Note => EventBody::Note {
                    text: "Agents only".into(),
                },
                EventKind::Assigned => EventBody::Assigned {
                    agent_id: "agent-1".into(),
                    agent_name: "Ada Lovelace".into(),
                },
                EventKind::Closed => EventBody::Closed,
                EventKind::Rated => EventBody::Rated {
                    score: 4,
                    comment: Some("Quick and kind \u{2764}".into()),
                },
                EventKind::Status => EventBody::Status {
                    status: Status::Snoozed {
                        until_ms: Some(1_764_700_000_000),
                    },
                    why: StatusWhy::Agent,
                },
                EventKind::Reopened => EventBody::Reopened {
                    why: StatusWhy::CustomerWrote,
                },
            })
            .collect()
    }
}

impl Author {
    /// One author of every kind.
    pub fn examples() -> Vec<Author> {
        AuthorKind::iter()
            .map(|kind| match kind {
                AuthorKind::Visitor => Author::Visitor,
                AuthorKind::Agent => Author::Agent {
                    id: "agent-1".into(),
                    name: "Ada Lovelace".into(),
                },
                AuthorKind::System => Author::System,
            })
            .collect()
    }
}

impl Event {
    /// Events of every body kind, by every kind of author, with and
    /// without a `client_id`, a shopper's message by email among them.
    pub fn examples() -> Vec<Event> {
        let mut events = Vec::new();
        for (index, body) in EventBody::examples().into_iter().enumerate() {
            for author in Author::examples() {
                let seq = i64::try_from(events.len()).unwrap_or(0) + 1;
                let by_email =
                    matches!(body, EventBody::Message { .. }) && author == Author::Visitor;
                events.push(Event {
                    conversation_id: "conversation-1".into(),
                    seq,
                    author,
                    body: body.clone(),
                    client_id: (index % 2 == 0).then(|| format!("client-{seq}")),
                    created_at_ms: 1_764_600_000_000 + seq,
                    via: if by_email {
                        Channel::Email
                    } else {
                        Channel::Chat
                    },
                });
            }
        }
        events
    }
}

impl ConversationState {
    /// One state of every kind.
    pub fn examples() -> Vec<ConversationState> {
        ConversationStateKind::iter()
            .map(|kind| match kind {
                ConversationStateKind::Waiting => ConversationState::Waiting,
                ConversationStateKind::Assigned => ConversationState::Assigned {
                    agent_id: "agent-1".into(),
                    agent_name: "Ada".into(),
                },
                ConversationStateKind::Closed => ConversationState::Closed,
            })
            .collect()
    }
}

/// How a message reached the conversation.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Typed in the widget or the inbox.
    #[default]
    Chat,
    /// An email reply from the shopper.
    Email,
}

impl Channel {
    pub fn is_chat(&self) -> bool {
        *self == Channel::Chat
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
    /// How a message came in; absent for the chat.
    #[serde(default, skip_serializing_if = "Channel::is_chat")]
    pub via: Channel,
}

/// Where a conversation stands: `"waiting"`, `"closed"` or
/// `{"assigned": {"agent_id", "agent_name"}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, EnumDiscriminants)]
#[serde(rename_all = "snake_case")]
#[strum_discriminants(name(ConversationStateKind), derive(EnumIter))]
pub enum ConversationState {
    Waiting,
    Assigned {
        agent_id: String,
        agent_name: String,
    },
    Closed,
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
    /// The shopper's messages no agent has read yet.
    #[serde(default)]
    pub unread: i64,
    /// How far each side has read.
    #[serde(default)]
    pub shopper_read_seq: Seq,
    #[serde(default)]
    pub agent_read_seq: Seq,
    /// Who the shopper is, as far as agents can tell.
    #[serde(default)]
    pub customer: CustomerLabel,
    /// Open, pending or snoozed (a closed one is `Open` here: its state
    /// says it is closed).
    #[serde(default = "Status::open")]
    pub status: Status,
    /// The conversation this one follows: the customer wrote again after
    /// the previous one had been closed longer than the reopen window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    /// Its labels, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

impl Status {
    pub fn open() -> Status {
        Status::Open
    }

    /// Set aside: pending or snoozed.
    pub fn is_set_aside(&self) -> bool {
        !matches!(self, Status::Open)
    }
}

/// What the inbox calls a shopper: their name if known (verified or only
/// stated), else where they are and with what.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CustomerLabel {
    pub name: Option<String>,
    /// The name comes from the shop's signed token (else the page stated it).
    pub verified: bool,
    /// The path of the page they are on, e.g. `/checkout`.
    pub page: Option<String>,
    /// Their browser, e.g. `Chrome`.
    pub browser: Option<String>,
    /// Their IANA time zone, for "14:02 their time".
    pub time_zone: Option<String>,
    /// Their number in the site, for a shopper with no name: "Visitor 1042"
    /// (distinct and stable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
}

/// Who is typing in a conversation, as agents are told.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Typist {
    /// The shopper; `draft` is what they have typed so far, where the site
    /// lets agents see it.
    Shopper {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draft: Option<String>,
    },
    /// A colleague; `private` while they write a note.
    Agent {
        id: String,
        name: String,
        private: bool,
    },
}

/// Whose reading a `seen` frame reports.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    Shopper,
    Agents,
}

/// How long a typing signal lasts without a fresh one, in seconds.
pub const TYPING_EXPIRES_SECS: u32 = 6;
/// A client sends a typing signal at most this often, in seconds.
pub const TYPING_EVERY_SECS: u32 = 3;

/// A team as lists show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TeamRef {
    pub id: String,
    pub name: String,
}
