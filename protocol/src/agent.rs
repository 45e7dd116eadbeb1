//! What the agent's inbox and the server say to each other.

use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoEnumIterator, VariantNames};

use crate::{
    ConversationState, ConversationSummary, CustomerLabel, ErrorCode, Event, FrameSet, Reader, Seq,
    TeamRef, Typist,
};

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
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, VariantNames, EnumDiscriminants)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[strum_discriminants(name(AgentRequestKind), derive(EnumIter))]
pub enum AgentRequest {
    /// Online (offered new conversations), away (keeps current ones, gets
    /// no new ones) or offline.
    SetStatus {
        status: Availability,
    },
    /// Follow one conversation: `replay` (where the replay starts), its
    /// events after `after_seq` (at most [`crate::REPLAY_PAGE`]: the newest
    /// page when more are missing), then live ones.
    Open {
        conversation_id: String,
        #[serde(default)]
        after_seq: Seq,
    },
    /// The page of events before `before_seq`: answered with `earlier`.
    Earlier {
        conversation_id: String,
        before_seq: Seq,
    },
    /// Reply to the shopper. A waiting conversation is claimed by the sender.
    Send {
        conversation_id: String,
        client_id: String,
        body: String,
        /// Files uploaded first (`POST /api/files`), by id; the body is
        /// then their caption and may be empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
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
    /// The agent is typing in the conversation (`private`: a note), at
    /// most every few seconds; the shopper sees it unless it is a note.
    Typing {
        conversation_id: String,
        #[serde(default)]
        private: bool,
    },
    /// The agent has seen the conversation up to `seq` (it is open in a
    /// focused inbox).
    Read {
        conversation_id: String,
        seq: Seq,
    },
    /// Email the shopper the conversation so far, at the address known for
    /// them.
    SendTranscript {
        conversation_id: String,
    },
    /// End the conversation; the shopper sees it ended. A message from
    /// them within the site's reopen window opens it again. Closing a
    /// closed conversation does nothing.
    Close {
        conversation_id: String,
        /// Close without asking the shopper to rate the chat (spam, an
        /// "ok thanks").
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        skip_rating: bool,
    },
    /// Set a conversation aside (pending: waiting on the customer; snoozed:
    /// until a time, or until the customer writes) or open it again
    /// (`open`: also a closed one, which goes back to the line).
    ChangeStatus {
        conversation_id: String,
        status: crate::Status,
    },
    Ping,
}

/// Frames the server sends to an agent's inbox.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, VariantNames, EnumDiscriminants)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[strum_discriminants(name(AgentFrameKind), derive(EnumIter))]
pub enum AgentFrame {
    /// Sent once per connection: who you are, your presence, and the
    /// conversations you may work on (waiting ones and your own).
    Inbox {
        me: AgentProfile,
        status: Availability,
        conversations: Vec<ConversationSummary>,
    },
    /// A conversation of your account was created or changed (boxed: the
    /// largest frame, and the most frequent).
    Conversation {
        conversation: Box<ConversationSummary>,
    },
    /// The agent's status changed (from any of their tabs).
    Status {
        status: Availability,
    },
    Event {
        event: Event,
    },
    /// Sent on `open` before the replay: its events start at `from_seq`
    /// (above the `after_seq + 1` asked for, the client's copy is stale and
    /// this page replaces it; above 1, earlier pages can be asked for).
    Replay {
        conversation_id: String,
        from_seq: Seq,
    },
    /// A page of earlier events, oldest first, starting at `from_seq`.
    Earlier {
        conversation_id: String,
        from_seq: Seq,
        events: Vec<Event>,
    },
    /// Someone is typing in a conversation you follow; it lapses after
    /// [`crate::TYPING_EXPIRES_SECS`] without another.
    Typing {
        conversation_id: String,
        typist: Typist,
    },
    /// The shopper, or the agents, have seen the conversation up to `seq`.
    Seen {
        conversation_id: String,
        reader: Reader,
        seq: Seq,
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
    /// At sign-in: wrong passwords tried for this person since they last
    /// signed in (someone may be guessing).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_sign_ins: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
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

impl AgentRequest {
    /// The message this request carries, by its `client_id`: a failure to
    /// handle it is told against that message, so the client can offer to
    /// send it again.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            AgentRequest::Send { client_id, .. } | AgentRequest::Note { client_id, .. } => {
                Some(client_id)
            }
            _ => None,
        }
    }
}

impl FrameSet for AgentRequest {
    const TYPES: &'static [&'static str] = Self::VARIANTS;

    fn examples() -> Vec<AgentRequest> {
        let conversation_id = || "conversation-1".to_owned();
        AgentRequestKind::iter()
            .flat_map(|kind| match kind {
                AgentRequestKind::SetStatus => [
                    Availability::Online,
                    Availability::Away,
                    Availability::Offline,
                ]
                .into_iter()
                .map(|status| AgentRequest::SetStatus { status })
                .collect(),
                AgentRequestKind::Open => vec![AgentRequest::Open {
                    conversation_id: conversation_id(),
                    after_seq: 4,
                }],
                AgentRequestKind::Earlier => vec![AgentRequest::Earlier {
                    conversation_id: conversation_id(),
                    before_seq: 201,
                }],
                AgentRequestKind::Send => vec![AgentRequest::Send {
                    conversation_id: conversation_id(),
                    client_id: "client-1".into(),
                    body: "On its way".into(),
                    files: vec!["file-2".into()],
                }],
                AgentRequestKind::Note => vec![AgentRequest::Note {
                    conversation_id: conversation_id(),
                    client_id: "client-2".into(),
                    body: "VIP".into(),
                }],
                AgentRequestKind::HandOver => vec![
                    AgentRequest::HandOver {
                        conversation_id: conversation_id(),
                        to_agent_id: Some("agent-2".into()),
                        to_team_id: None,
                        note: "Billing question".into(),
                    },
                    AgentRequest::HandOver {
                        conversation_id: conversation_id(),
                        to_agent_id: None,
                        to_team_id: Some("team-1".into()),
                        note: "For billing".into(),
                    },
                ],
                AgentRequestKind::Typing => vec![
                    AgentRequest::Typing {
                        conversation_id: conversation_id(),
                        private: false,
                    },
                    AgentRequest::Typing {
                        conversation_id: conversation_id(),
                        private: true,
                    },
                ],
                AgentRequestKind::Read => vec![AgentRequest::Read {
                    conversation_id: conversation_id(),
                    seq: 5,
                }],
                AgentRequestKind::SendTranscript => vec![AgentRequest::SendTranscript {
                    conversation_id: conversation_id(),
                }],
                AgentRequestKind::Close => [false, true]
                    .map(|skip_rating| AgentRequest::Close {
                        conversation_id: conversation_id(),
                        skip_rating,
                    })
                    .to_vec(),
                AgentRequestKind::ChangeStatus => [
                    crate::Status::Open,
                    crate::Status::Pending,
                    crate::Status::Snoozed { until_ms: None },
                    crate::Status::Snoozed {
                        until_ms: Some(1_764_700_000_000),
                    },
                ]
                .into_iter()
                .map(|status| AgentRequest::ChangeStatus {
                    conversation_id: conversation_id(),
                    status,
                })
                .collect(),
                AgentRequestKind::Ping => vec![AgentRequest::Ping],
            })
            .collect()
    }
}

impl ConversationSummary {
    /// A summary in each state, one of them routed to a team.
    pub fn examples() -> Vec<ConversationSummary> {
        ConversationState::examples()
            .into_iter()
            .enumerate()
            .map(|(index, state)| ConversationSummary {
                id: format!("conversation-{index}"),
                site_id: "site-1".into(),
                site_name: "Shop".into(),
                visitor_id: "visitor-1".into(),
                state,
                team: (index == 0).then(|| TeamRef {
                    id: "team-1".into(),
                    name: "Billing".into(),
                }),
                last_seq: 3,
                last_message: Some("Thanks!".into()),
                created_at_ms: 1_764_600_000_000,
                updated_at_ms: 1_764_600_060_000,
                unread: i64::try_from(index).unwrap_or(0),
                shopper_read_seq: 2,
                agent_read_seq: 1,
                customer: CustomerLabel {
                    name: (index == 1).then(|| "Grace Hopper".into()),
                    verified: index == 1,
                    page: Some("/checkout".into()),
                    browser: Some("Firefox".into()),
                    time_zone: Some("Europe/Amsterdam".into()),
                    number: Some(1042),
                },
                status: if index == 1 {
                    crate::Status::Pending
                } else {
                    crate::Status::Open
                },
                previous_id: (index == 0).then(|| "conversation-earlier".into()),
                labels: if index == 1 {
                    vec!["refund".into(), "vip".into()]
                } else {
                    Vec::new()
                },
            })
            .collect()
    }
}

impl FrameSet for AgentFrame {
    const TYPES: &'static [&'static str] = Self::VARIANTS;

    fn examples() -> Vec<AgentFrame> {
        AgentFrameKind::iter()
            .flat_map(|kind| match kind {
                AgentFrameKind::Inbox => vec![AgentFrame::Inbox {
                    me: AgentProfile {
                        id: "agent-1".into(),
                        account_id: "account-1".into(),
                        email: "ada@shop.example".into(),
                        name: "Ada".into(),
                        role: Role::Owner,
                        failed_sign_ins: 0,
                    },
                    status: Availability::Away,
                    conversations: ConversationSummary::examples(),
                }],
                AgentFrameKind::Conversation => ConversationSummary::examples()
                    .into_iter()
                    .map(|conversation| AgentFrame::Conversation {
                        conversation: Box::new(conversation),
                    })
                    .collect(),
                AgentFrameKind::Status => vec![AgentFrame::Status {
                    status: Availability::Online,
                }],
                AgentFrameKind::Event => Event::examples()
                    .into_iter()
                    .map(|event| AgentFrame::Event { event })
                    .collect(),
                AgentFrameKind::Replay => vec![AgentFrame::Replay {
                    conversation_id: "conversation-1".into(),
                    from_seq: 301,
                }],
                AgentFrameKind::Earlier => vec![AgentFrame::Earlier {
                    conversation_id: "conversation-1".into(),
                    from_seq: 101,
                    events: Event::examples(),
                }],
                AgentFrameKind::Typing => vec![
                    AgentFrame::Typing {
                        conversation_id: "conversation-1".into(),
                        typist: Typist::Shopper {
                            draft: Some("Where is my".into()),
                        },
                    },
                    AgentFrame::Typing {
                        conversation_id: "conversation-1".into(),
                        typist: Typist::Agent {
                            id: "agent-2".into(),
                            name: "Bob".into(),
                            private: true,
                        },
                    },
                ],
                AgentFrameKind::Seen => vec![
                    AgentFrame::Seen {
                        conversation_id: "conversation-1".into(),
                        reader: Reader::Shopper,
                        seq: 4,
                    },
                    AgentFrame::Seen {
                        conversation_id: "conversation-1".into(),
                        reader: Reader::Agents,
                        seq: 3,
                    },
                ],
                AgentFrameKind::Ack => vec![AgentFrame::Ack {
                    client_id: "client-1".into(),
                    conversation_id: "conversation-1".into(),
                    seq: 2,
                }],
                AgentFrameKind::Error => vec![AgentFrame::Error {
                    code: ErrorCode::NotFound,
                    message: "No such conversation.".into(),
                    client_id: Some("client-1".into()),
                }],
                AgentFrameKind::Pong => vec![AgentFrame::Pong],
            })
            .collect()
    }
}
