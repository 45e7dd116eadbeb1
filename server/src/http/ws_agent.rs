//! The agent's socket: the inbox list live, presence, following a
//! conversation (all events, notes included) and replying.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response;
use protocol::{AgentFrame, AgentRequest, ErrorCode, REPLAY_PAGE, Seq, Status, check_message};
use tower_sessions::Session;
use tracing::Instrument;

use super::agent_api::INBOX_LIMIT;
use super::error::ApiError;
use super::extract::agent_of;
use super::same_origin::{PageOrigin, not_this_server, page_origin};
use super::socket::{self, Endpoint};
use super::state::AppState;
use crate::conversations::{Asker, ChangeError};
use crate::domain::{AgentId, ClientId, ConversationId, TeamId};
use crate::hub::{Frame, Subscriber, Topic, encode};
use crate::store::{Agent, Conversation, StoreError, now_ms, session_key};

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

/// `GET /ws/agent`: needs a session cookie and a page of this server, so
/// another site cannot open an agent's socket with the agent's cookie.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let agent = agent_of(&state, &session).await?;
    let session_topic = session.id().map(|id| Topic::Session(session_key(&id)));
    // Browsers send `Origin` with every WebSocket; no other page's, and
    // no client without one, opens an agent's socket.
    if page_origin(&headers, &state.config.public_origin()) != PageOrigin::Own {
        return Err(not_this_server(&state));
    }
    Ok(socket::limits(ws).on_upgrade(move |socket| async move {
        let (subscriber, outbox) = state.hub.connect();
        let span =
            tracing::info_span!("agent_socket", connection = subscriber.id(), agent = %agent.id);
        let mut endpoint = AgentSocket {
            state: state.clone(),
            agent,
            session_topic,
            last_typing: None,
            known_own: HashSet::new(),
        };
        async {
            if endpoint.start(&subscriber).await.is_ok() {
                let shutdown = state.shutdown.clone();
                socket::drive(
                    socket,
                    &subscriber,
                    outbox,
                    &mut endpoint,
                    shutdown,
                    state.config.socket_quiet_limit(),
                )
                .await;
            }
        }
        .instrument(span)
        .await;
        state.hub.disconnect(&subscriber);
        state
            .dispatcher
            .disconnected(&endpoint.agent, subscriber.id());
    }))
}

/// Who receives a handed-over conversation.
enum HandOverTo {
    Agent(AgentId),
    Team(TeamId),
}

struct AgentSocket {
    state: AppState,
    agent: Agent,
    /// The session this socket was opened with; signing out closes it.
    session_topic: Option<Topic>,
    /// When this socket last relayed a typing signal.
    last_typing: Option<Instant>,
    /// Conversations already found to be of the agent's account (which a
    /// conversation never leaves), so that a reply needs no read first.
    known_own: HashSet<String>,
}

/// Conversations a socket remembers as its account's, at most.
const KNOWN_OWN_LIMIT: usize = 1024;

/// A socket relays a typing signal at most this often.
const TYPING_RELAY_EVERY: Duration = Duration::from_millis(1000);

fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Frame {
    encode(&AgentFrame::Error {
        code,
        message: message.into(),
        client_id,
    })
}

impl AgentSocket {
    /// Registers presence, follows the account and sends the inbox snapshot.
    async fn start(&mut self, subscriber: &Subscriber) -> Result<(), StoreError> {
        let hub = &self.state.hub;
        hub.subscribe(Topic::Account(self.agent.account_id.clone()), subscriber);
        hub.subscribe(Topic::Agent(self.agent.id.clone()), subscriber);
        if let Some(topic) = &self.session_topic {
            hub.subscribe(topic.clone(), subscriber);
        }
        let status = self
            .state
            .dispatcher
            .connected(&self.agent, subscriber.id())
            .await;
        let conversations = self.state.store.inbox(&self.agent, INBOX_LIMIT).await?;
        subscriber.send(encode(&AgentFrame::Inbox {
            me: self.agent.profile(),
            status,
            conversations: conversations.iter().map(Conversation::summary).collect(),
        }));
        Ok(())
    }

    /// A conversation of the agent's account, or `None`: another account's
    /// does not exist as far as this agent can tell, nor does a malformed id.
    async fn own_conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        let Ok(id) = ConversationId::parse(id) else {
            return Ok(None);
        };
        Ok(self
            .state
            .store
            .conversation(id.as_str())
            .await?
            .filter(|c| c.account_id == self.agent.account_id))
    }

    async fn open(
        &self,
        conversation_id: String,
        after_seq: Seq,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        self.state
            .hub
            .subscribe(Topic::Conversation(conversation.id.clone()), subscriber);
        // At most one page: a long history is paged back on demand.
        let (from_seq, replay) = self.state.store.replay(&conversation, after_seq).await?;
        replies.push(encode(&AgentFrame::Replay {
            conversation_id: conversation.id.clone(),
            from_seq,
        }));
        replies.extend(
            replay
                .into_iter()
                .map(|event| encode(&AgentFrame::Event { event })),
        );
        Ok(())
    }

    /// A page of a conversation before `before_seq`.
    async fn earlier(
        &self,
        conversation_id: String,
        before_seq: Seq,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        let events = self
            .state
            .store
            .events_before(&conversation.id, before_seq.max(1), REPLAY_PAGE)
            .await?;
        replies.push(encode(&AgentFrame::Earlier {
            conversation_id: conversation.id,
            from_seq: events.first().map_or(1, |e| e.seq),
            events,
        }));
        Ok(())
    }

    /// A reply to the shopper, or (`as_note`) a note only agents see.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &mut self,
        conversation_id: String,
        client_id: String,
        body: String,
        files: Vec<String>,
        as_note: bool,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let client_id = match ClientId::parse(&client_id) {
            Ok(client_id) => client_id,
            Err(invalid) => {
                replies.push(error(ErrorCode::BadClientId, invalid.0, None));
                return Ok(());
            }
        };
        let answer =
            |code, message: &str| error(code, message, Some(client_id.as_str().to_owned()));
        if let Err((code, message)) = check_message(&body, &files) {
            replies.push(answer(code, &message));
            return Ok(());
        }
        let known = ConversationId::parse(&conversation_id)
            .ok()
            .filter(|id| self.known_own.contains(id.as_str()));
        let id = match known {
            Some(id) => id,
            None => {
                let Some(conversation) = self.own_conversation(&conversation_id).await? else {
                    replies.push(answer(ErrorCode::NotFound, "No such conversation."));
                    return Ok(());
                };
                if self.known_own.len() >= KNOWN_OWN_LIMIT {
                    self.known_own.clear();
                }
                self.known_own.insert(conversation.id.clone());
                stored_id(&conversation)?
            }
        };
        let conversations = &self.state.conversations;
        let posted = if as_note {
            conversations
                .note(&self.agent, &id, &client_id, &body)
                .await
        } else {
            conversations
                .post_from_agent(&self.agent, &id, &client_id, &body, &files)
                .await
        };
        let posted = match posted {
            Ok(posted) => posted,
            Err(ChangeError::Closed) => {
                replies.push(answer(
                    ErrorCode::BadRequest,
                    "This conversation is closed.",
                ));
                return Ok(());
            }
            Err(ChangeError::NotFound) => {
                replies.push(answer(ErrorCode::NotFound, "No such conversation."));
                return Ok(());
            }
            Err(ChangeError::Store(err)) => return Err(err),
            Err(ChangeError::UnknownFile(unknown)) => {
                replies.push(answer(ErrorCode::UnknownFile, &unknown.0));
                return Ok(());
            }
            Err(other) => {
                replies.push(answer(ErrorCode::BadRequest, &other.to_string()));
                return Ok(());
            }
        };
        self.state.hub.subscribe(
            Topic::Conversation(posted.conversation.id.clone()),
            subscriber,
        );
        replies.push(encode(&AgentFrame::Ack {
            client_id: client_id.as_str().to_owned(),
            conversation_id: posted.conversation.id.clone(),
            seq: posted.message.seq,
        }));
        Ok(())
    }
}

impl AgentSocket {
    async fn hand_over(
        &self,
        conversation_id: String,
        to: HandOverTo,
        note: String,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        if let Err((code, message)) = protocol::check_body(&note) {
            let message = if code == ErrorCode::EmptyBody {
                "Say why you hand it over; the receiving agent sees this note.".to_owned()
            } else {
                message
            };
            replies.push(error(code, message, None));
            return Ok(());
        }
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        match to {
            HandOverTo::Agent(to_agent_id) => {
                self.hand_over_to_agent(&conversation, &to_agent_id, note.trim(), replies)
                    .await
            }
            HandOverTo::Team(team_id) => {
                self.hand_over_to_team(&conversation, &team_id, note.trim(), replies)
                    .await
            }
        }
    }

    async fn hand_over_to_agent(
        &self,
        conversation: &Conversation,
        to: &AgentId,
        note: &str,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let receiver = self
            .state
            .store
            .agent_by_id(to.as_str())
            .await?
            .filter(|a| a.account_id == self.agent.account_id);
        let Some(receiver) = receiver else {
            replies.push(error(ErrorCode::NotFound, "No such agent.", None));
            return Ok(());
        };
        let handed = self
            .state
            .conversations
            .hand_over_to_agent(&self.agent, conversation, &receiver, note)
            .await;
        match handed {
            Ok(()) => {}
            Err(ChangeError::NotHeld | ChangeError::Closed | ChangeError::NotFound) => replies.push(error(
                ErrorCode::BadRequest,
                format!(
                    "Only a conversation someone holds can be handed over, and not to {} who holds it.",
                    receiver.name
                ),
                None,
            )),
            Err(ChangeError::NoRoom(name)) => replies.push(error(
                ErrorCode::BadRequest,
                format!("{name} has no room for another conversation right now."),
                None,
            )),
            Err(ChangeError::UnknownFile(unknown)) => {
                replies.push(error(ErrorCode::UnknownFile, unknown.0, None));
            }
            Err(ChangeError::Store(err)) => return Err(err),
        }
        Ok(())
    }

    /// Back to the line, for the team's agents only; whoever handed it
    /// over is not offered it again.
    async fn hand_over_to_team(
        &self,
        conversation: &Conversation,
        team: &TeamId,
        note: &str,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let moved = self
            .state
            .conversations
            .hand_over_to_team(&self.agent, conversation, team, note)
            .await?;
        if !moved {
            let known = self
                .state
                .store
                .teams_of_account(&self.agent.account_id)
                .await?
                .into_iter()
                .any(|known| known.id == team.as_str());
            replies.push(if known {
                error(ErrorCode::BadRequest, "This conversation is closed.", None)
            } else {
                error(ErrorCode::NotFound, "No such team.", None)
            });
        }
        Ok(())
    }

    async fn close(
        &self,
        conversation_id: String,
        ask_rating: bool,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        self.state
            .conversations
            .close(&self.agent, &stored_id(&conversation)?, ask_rating)
            .await?;
        Ok(())
    }
}

impl AgentSocket {
    /// Sets a conversation aside or opens it again; a snooze ends in the
    /// future, within a year.
    async fn change_status(
        &self,
        conversation_id: String,
        status: Status,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        if let Status::Snoozed {
            until_ms: Some(until),
        } = status
        {
            let now = now_ms();
            if until <= now || until > now + MAX_SNOOZE_MS {
                replies.push(error(
                    ErrorCode::BadRequest,
                    "A snooze ends in the future, within a year.",
                    None,
                ));
                return Ok(());
            }
        }
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        if let Err(refused) = self
            .state
            .conversations
            .change_status(&self.agent, &stored_id(&conversation)?, &status)
            .await?
        {
            replies.push(error(ErrorCode::BadRequest, refused.to_string(), None));
        }
        Ok(())
    }
}

/// A snooze lasts at most a year.
const MAX_SNOOZE_MS: i64 = 366 * 24 * 60 * 60 * 1000;

impl AgentSocket {
    /// The agent is typing: relayed (not stored) at most every second or so.
    async fn typing(&mut self, conversation_id: String, private: bool) -> Result<(), StoreError> {
        if self
            .last_typing
            .is_some_and(|at| at.elapsed() < TYPING_RELAY_EVERY)
        {
            return Ok(());
        }
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            return Ok(());
        };
        self.last_typing = Some(Instant::now());
        self.state
            .conversations
            .agent_typing(&self.agent, &conversation, private);
        Ok(())
    }

    /// Emails the shopper the conversation so far; the note in the
    /// conversation says it went (or the error frame why not).
    async fn send_transcript(
        &self,
        conversation_id: String,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(conversation) = self.own_conversation(&conversation_id).await? else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        let sent = self
            .state
            .conversations
            .email_transcript(&conversation, None, Asker::Agent(&self.agent))
            .await?;
        if let Err(refused) = sent {
            replies.push(error(
                ErrorCode::BadRequest,
                format!("The transcript was not sent: {refused}."),
                None,
            ));
        }
        Ok(())
    }
}

/// The id of a conversation read from the store, as the service takes it.
fn stored_id(conversation: &Conversation) -> Result<ConversationId, StoreError> {
    ConversationId::parse(&conversation.id)
        .map_err(|_| StoreError::Corrupt(format!("conversation id {:?}", conversation.id)))
}

impl Endpoint for AgentSocket {
    type Request = AgentRequest;

    fn is_ready(&self) -> bool {
        true
    }

    fn client_id(request: &AgentRequest) -> Option<String> {
        request.client_id().map(str::to_owned)
    }

    fn error_frame(code: ErrorCode, message: String, client_id: Option<String>) -> Frame {
        error(code, message, client_id)
    }

    async fn handle(
        &mut self,
        request: AgentRequest,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        match request {
            AgentRequest::Ping => {
                replies.push(encode(&AgentFrame::Pong));
                Ok(())
            }
            AgentRequest::SetStatus { status } => {
                self.state.dispatcher.set_status(&self.agent, status);
                Ok(())
            }
            AgentRequest::Open {
                conversation_id,
                after_seq,
            } => {
                self.open(conversation_id, after_seq, subscriber, replies)
                    .await
            }
            AgentRequest::Earlier {
                conversation_id,
                before_seq,
            } => self.earlier(conversation_id, before_seq, replies).await,
            AgentRequest::Send {
                conversation_id,
                client_id,
                body,
                files,
            } => {
                // A message ends a spell of typing: the next keystroke starts
                // another, told at once.
                self.last_typing = None;
                self.send(
                    conversation_id,
                    client_id,
                    body,
                    files,
                    false,
                    subscriber,
                    replies,
                )
                .await
            }
            AgentRequest::Note {
                conversation_id,
                client_id,
                body,
            } => {
                self.send(
                    conversation_id,
                    client_id,
                    body,
                    Vec::new(),
                    true,
                    subscriber,
                    replies,
                )
                .await
            }
            AgentRequest::HandOver {
                conversation_id,
                to_agent_id,
                to_team_id,
                note,
            } => {
                let to = match (to_agent_id, to_team_id) {
                    (Some(agent), None) => match AgentId::parse(&agent) {
                        Ok(agent) => HandOverTo::Agent(agent),
                        Err(invalid) => {
                            replies.push(error(ErrorCode::NotFound, invalid.0, None));
                            return Ok(());
                        }
                    },
                    (None, Some(team)) => match TeamId::parse(&team) {
                        Ok(team) => HandOverTo::Team(team),
                        Err(invalid) => {
                            replies.push(error(ErrorCode::NotFound, invalid.0, None));
                            return Ok(());
                        }
                    },
                    _ => {
                        replies.push(error(
                            ErrorCode::BadFrame,
                            "hand_over needs exactly one of to_agent_id and to_team_id.",
                            None,
                        ));
                        return Ok(());
                    }
                };
                self.hand_over(conversation_id, to, note, replies).await
            }
            AgentRequest::Close {
                conversation_id,
                skip_rating,
            } => self.close(conversation_id, !skip_rating, replies).await,
            AgentRequest::ChangeStatus {
                conversation_id,
                status,
            } => self.change_status(conversation_id, status, replies).await,
            AgentRequest::Typing {
                conversation_id,
                private,
            } => self.typing(conversation_id, private).await,
            AgentRequest::Read {
                conversation_id,
                seq,
            } => {
                if let Some(conversation) = self.own_conversation(&conversation_id).await? {
                    self.state
                        .conversations
                        .agent_read(&self.agent, &conversation, seq)
                        .await?;
                }
                Ok(())
            }
            AgentRequest::SendTranscript { conversation_id } => {
                self.send_transcript(conversation_id, replies).await
            }
        }
    }
}
