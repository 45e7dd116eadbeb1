//! What the shopper's widget and the server say to each other, and the
//! site config the loader fetches.

use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoEnumIterator, VariantNames};

use crate::{ConversationState, ErrorCode, Event, FrameSet, Seq, WidgetPosition};

/// What a shopper's widget sends; `hello` first on every (re)connect.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, VariantNames, EnumDiscriminants)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[strum_discriminants(name(WidgetRequestKind), derive(EnumIter))]
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
        /// The signed token of a "continue in the chat" link from an email:
        /// this browser is signed in as that conversation's shopper, and
        /// `token` is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    /// A shopper's message. Retrying with the same `client_id` is safe.
    /// `topic` (a site topic key, e.g. set by the page with
    /// `Rapport('set', {topic})`) routes a new conversation to a team.
    Send {
        client_id: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// Files uploaded first (`POST /api/widget/files`), by id; the body
        /// is then their caption and may be empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
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
    /// The page of events before `before_seq` (the shopper scrolled back):
    /// answered with `earlier` frames.
    Earlier {
        conversation_id: String,
        before_seq: Seq,
    },
    /// The shopper has seen the conversation up to `seq` (the panel is
    /// open and the page visible): replies up to there are not emailed.
    Read {
        conversation_id: String,
        seq: Seq,
    },
    /// An address to be answered at, should the shopper leave.
    Email {
        address: String,
    },
    /// The shopper is typing, at most every few seconds; `draft` is what
    /// they have typed, sent only where the site lets agents see it.
    Typing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draft: Option<String>,
    },
    /// Email me this conversation, at `email` or the address already known.
    Transcript {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// The shopper rates a conversation of theirs that ended: 1 to 5, with
    /// words if they like. Once, and changeable for a day.
    Rate {
        conversation_id: String,
        score: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// `Rapport('logout')`: this browser's visitor token stops working on
    /// the server too; the widget starts afresh as a new visitor.
    Forget,
    /// The shopper closed the chat panel while waiting in the line (the
    /// page still open); kept for the reports.
    PanelClosed,
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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, VariantNames, EnumDiscriminants)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[strum_discriminants(name(WidgetFrameKind), derive(EnumIter))]
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
        /// How far the shopper has read the conversation (for the unread
        /// count), and how far the agents have ("Seen").
        #[serde(default)]
        read_seq: Seq,
        #[serde(default)]
        agent_read_seq: Seq,
        /// The events that follow this welcome start at this seq: at most
        /// one page ([`crate::REPLAY_PAGE`]) is replayed. Above the client's
        /// `after_seq + 1`, the client's lines are stale: it shows this page
        /// instead; above 1, earlier events can be asked for.
        #[serde(default)]
        replay_from: Seq,
    },
    Event {
        event: Event,
    },
    /// One event of a page of earlier ones (the page starts at
    /// `from_seq`), in order; `event` is absent when the page holds nothing
    /// the shopper may see.
    Earlier {
        conversation_id: String,
        from_seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event: Option<Event>,
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
    /// The transcript asked for is on its way to `email`; with
    /// `confirm_first`, a link to prove the address went there first, and
    /// the transcript follows once it is used.
    TranscriptQueued {
        email: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        confirm_first: bool,
    },
    /// The agent (`name`, as the site shows agents) is typing a reply; it
    /// lapses after [`crate::TYPING_EXPIRES_SECS`] without another.
    Typing {
        conversation_id: String,
        name: String,
    },
    /// The agents have seen the conversation up to `seq`.
    Seen {
        conversation_id: String,
        seq: Seq,
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

impl WidgetRequest {
    /// The message this request carries, by its `client_id`: a failure to
    /// handle it is told against that message, so the client can offer to
    /// send it again.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            WidgetRequest::Send { client_id, .. } => Some(client_id),
            _ => None,
        }
    }
}

impl FrameSet for WidgetRequest {
    const TYPES: &'static [&'static str] = Self::VARIANTS;

    fn examples() -> Vec<WidgetRequest> {
        WidgetRequestKind::iter()
            .flat_map(|kind| match kind {
                WidgetRequestKind::Hello => vec![
                    WidgetRequest::Hello {
                        token: None,
                        conversation_id: None,
                        after_seq: 0,
                        language: None,
                        resume: None,
                    },
                    WidgetRequest::Hello {
                        token: Some("visitor-token".into()),
                        conversation_id: Some("conversation-1".into()),
                        after_seq: 7,
                        language: Some("nl-BE".into()),
                        resume: None,
                    },
                    WidgetRequest::Hello {
                        token: None,
                        conversation_id: None,
                        after_seq: 0,
                        language: None,
                        resume: Some("continue-token".into()),
                    },
                ],
                WidgetRequestKind::Send => vec![WidgetRequest::Send {
                    client_id: "client-1".into(),
                    body: "Hello".into(),
                    topic: Some("billing".into()),
                    files: vec!["file-1".into()],
                }],
                WidgetRequestKind::Page => vec![WidgetRequest::Page {
                    url: "https://shop.example/checkout".into(),
                    title: Some("Checkout".into()),
                    time_zone: Some("Europe/Amsterdam".into()),
                }],
                WidgetRequestKind::Track => vec![WidgetRequest::Track {
                    name: "added to cart".into(),
                    data: Some(r#"{"sku":"A1"}"#.into()),
                }],
                WidgetRequestKind::Identify => vec![
                    WidgetRequest::Identify {
                        token: Some("signed.jwt.token".into()),
                        details: None,
                    },
                    WidgetRequest::Identify {
                        token: None,
                        details: Some(StatedDetails {
                            name: Some("Grace".into()),
                            email: Some("grace@example.com".into()),
                            phone: None,
                        }),
                    },
                ],
                WidgetRequestKind::Earlier => vec![WidgetRequest::Earlier {
                    conversation_id: "conversation-1".into(),
                    before_seq: 201,
                }],
                WidgetRequestKind::Read => vec![WidgetRequest::Read {
                    conversation_id: "conversation-1".into(),
                    seq: 4,
                }],
                WidgetRequestKind::Email => vec![WidgetRequest::Email {
                    address: "grace@example.com".into(),
                }],
                WidgetRequestKind::Typing => vec![
                    WidgetRequest::Typing { draft: None },
                    WidgetRequest::Typing {
                        draft: Some("Where is my".into()),
                    },
                ],
                WidgetRequestKind::Transcript => vec![
                    WidgetRequest::Transcript { email: None },
                    WidgetRequest::Transcript {
                        email: Some("grace@example.com".into()),
                    },
                ],
                WidgetRequestKind::Rate => vec![
                    WidgetRequest::Rate {
                        conversation_id: "conversation-1".into(),
                        score: 5,
                        comment: Some("Thank you, \"Ada\"!".into()),
                    },
                    WidgetRequest::Rate {
                        conversation_id: "conversation-1".into(),
                        score: 2,
                        comment: None,
                    },
                ],
                WidgetRequestKind::Forget => vec![WidgetRequest::Forget],
                WidgetRequestKind::PanelClosed => vec![WidgetRequest::PanelClosed],
                WidgetRequestKind::Ping => vec![WidgetRequest::Ping],
            })
            .collect()
    }
}

impl FrameSet for WidgetFrame {
    const TYPES: &'static [&'static str] = Self::VARIANTS;

    /// Every variant, every event body and author, every state and every
    /// error code: what the widget's own decoder is checked against.
    fn examples() -> Vec<WidgetFrame> {
        WidgetFrameKind::iter()
            .flat_map(|kind| match kind {
                WidgetFrameKind::Welcome => {
                    let mut welcomes = vec![WidgetFrame::Welcome {
                        visitor_token: "visitor-token".into(),
                        conversation_id: None,
                        state: None,
                        name: None,
                        email_known: false,
                        read_seq: 0,
                        agent_read_seq: 0,
                        replay_from: 1,
                    }];
                    welcomes.extend(ConversationState::examples().into_iter().map(|state| {
                        WidgetFrame::Welcome {
                            visitor_token: "visitor-token".into(),
                            conversation_id: Some("conversation-1".into()),
                            state: Some(state),
                            name: Some("Grace Hopper".into()),
                            email_known: true,
                            read_seq: 3,
                            agent_read_seq: 2,
                            replay_from: 301,
                        }
                    }));
                    welcomes
                }
                // A shopper is only ever sent what a shopper may see.
                WidgetFrameKind::Event => Event::examples()
                    .into_iter()
                    .filter(|event| event.body.is_shopper_visible())
                    .map(|event| WidgetFrame::Event { event })
                    .collect(),
                WidgetFrameKind::Earlier => {
                    let mut pages: Vec<WidgetFrame> = Event::examples()
                        .into_iter()
                        .filter(|event| event.body.is_shopper_visible())
                        .map(|event| WidgetFrame::Earlier {
                            conversation_id: "conversation-1".into(),
                            from_seq: 101,
                            event: Some(event),
                        })
                        .collect();
                    pages.push(WidgetFrame::Earlier {
                        conversation_id: "conversation-1".into(),
                        from_seq: 1,
                        event: None,
                    });
                    pages
                }
                WidgetFrameKind::Ack => vec![WidgetFrame::Ack {
                    client_id: "client-1".into(),
                    conversation_id: "conversation-1".into(),
                    seq: 3,
                }],
                WidgetFrameKind::Error => ErrorCode::ALL
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(index, code)| WidgetFrame::Error {
                        code,
                        message: format!("Error {index}"),
                        client_id: (index % 2 == 0).then(|| format!("client-{index}")),
                    })
                    .collect(),
                WidgetFrameKind::Queue => vec![
                    WidgetFrame::Queue {
                        position: 2,
                        estimate_secs: Some(90),
                        agents_online: true,
                    },
                    WidgetFrame::Queue {
                        position: 1,
                        estimate_secs: None,
                        agents_online: false,
                    },
                ],
                WidgetFrameKind::TranscriptQueued => vec![
                    WidgetFrame::TranscriptQueued {
                        email: "grace@example.com".into(),
                        confirm_first: false,
                    },
                    WidgetFrame::TranscriptQueued {
                        email: "grace@example.com".into(),
                        confirm_first: true,
                    },
                ],
                WidgetFrameKind::Typing => vec![WidgetFrame::Typing {
                    conversation_id: "conversation-1".into(),
                    name: "Ada".into(),
                }],
                WidgetFrameKind::Seen => vec![WidgetFrame::Seen {
                    conversation_id: "conversation-1".into(),
                    seq: 6,
                }],
                WidgetFrameKind::Pong => vec![WidgetFrame::Pong],
            })
            .collect()
    }
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
    /// Whether agents see what the shopper types before they send it (the
    /// widget then sends its draft with its typing signal).
    #[serde(default)]
    pub typing_preview: bool,
    /// Whether replies the shopper has not seen are emailed to them (so the
    /// widget may offer to take an address, and a transcript).
    #[serde(default)]
    pub email_replies: bool,
    /// Whether the widget shows the agent's picture, from
    /// `/api/widget/avatar/{agent_id}?site=KEY`.
    #[serde(default)]
    pub agent_avatars: bool,
    /// Whether someone of the shop is online to answer now (the header
    /// says so, rather than whether the widget's socket is connected).
    #[serde(default)]
    pub agents_online: bool,
    /// Whether the shopper may attach files (`POST /api/widget/files`);
    /// the server checks each file's kind.
    #[serde(default)]
    pub files: bool,
    /// How a chat that ended is rated (read by the extras module only).
    #[serde(default)]
    pub rating: crate::RatingScale,
    /// The site has published help articles in the shopper's language:
    /// the loader offers the help view (its own module, loaded on first
    /// use). Never read by the widget's core, so not parsed by it.
    #[serde(default, skip_deserializing)]
    pub help: bool,
}

/// How the loader draws the launcher.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Launcher {
    pub accent: String,
    pub position: WidgetPosition,
    pub label: String,
    /// Pixels above the page's bottom edge (to clear the shop's own bar).
    #[serde(default)]
    pub offset: u16,
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

/// `GET /api/widget/rating?site=KEY&conversation=ID`, and the answer to a
/// rating given: whether the shopper is asked to rate this ended chat, and
/// what they gave.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RatingState {
    pub scale: crate::RatingScale,
    /// Whether the widget asks: the site rates chats, the chat ended, and
    /// its agent did not close it without asking.
    pub asked: bool,
    /// The rating given, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether a rating may still be given or changed (for a day after
    /// the first).
    pub changeable: bool,
}

/// `POST /api/widget/rating?site=KEY&conversation=ID`: the shopper's rating.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RatingGiven {
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}
