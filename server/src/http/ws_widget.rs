//! The shopper's socket. It parses frames, knows what state its connection
//! is in (waiting for hello, or ready with a visitor: nothing but a hello
//! is taken before), and calls the services: the visitors service for the
//! shopper's side (hello, identify, forget, pages, blocks) and the
//! conversation service for their chat. What either refuses comes back as
//! one `Refusal`, said in an error frame. It only ever carries
//! shopper-visible events.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use protocol::{ConversationState, ErrorCode, Seq, WidgetFrame, WidgetRequest, check_message};
use tokio::time::Instant;
use tracing::Instrument;

use super::error::ApiError;
use super::extract::ClientIp;
use super::socket::{self, Endpoint};
use super::state::AppState;
use super::widget_api::{SiteQuery, authorize_site};
use crate::conversations::{Asker, PostedFrom, TranscriptRefused};
use crate::domain::{ClientId, ConversationId, Email, LanguageTag};
use crate::hub::{Frame, Subscriber, Topic, encode};
use crate::limits::{ClientKey, FrameLimit, OPENING_BUSY};
use crate::store::{Conversation, LineExit, Site, StoreError, Visitor};
use crate::visitors::{
    Activity, Arrival, BLOCKED, Ending, Failure, Identity, Refusal, VisitorResult, Welcomed,
};

/// Longest User-Agent kept.
const MAX_USER_AGENT_CHARS: usize = 300;

/// A socket relays a typing signal at most this often (clients send one
/// every few seconds; more is dropped, not an error).
const TYPING_RELAY_EVERY: Duration = Duration::from_millis(1500);

/// `GET /ws/widget?site=KEY`: the site and origin are checked before upgrading.
pub(super) async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<SiteQuery>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    state.limits.socket_from(ip)?;
    // Held through the checks below (the database's answers); dropped
    // when the upgrade is answered.
    let _opening = state.limits.opening_socket()?;
    let site = authorize_site(&state, &query, &headers).await?;
    state.limits.socket_for(&site.id)?;
    let address = ClientKey::from(ip).to_string();
    if state
        .store
        .is_blocked(&site.account_id, None, Some(&address))
        .await?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Blocked,
            BLOCKED,
        ));
    }
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT_CHARS).collect());
    Ok(socket::limits(ws).on_upgrade(move |socket| async move {
        let (subscriber, outbox) = state.hub.connect();
        // A change of the site's origins or identity rules closes this
        // socket (asking it to reconnect), so the new rules apply to it too.
        state
            .hub
            .subscribe(Topic::Site(site.id.clone()), &subscriber);
        // Blocking this address ends this socket too.
        state.hub.subscribe(
            Topic::Address(format!("{}/{address}", site.account_id)),
            &subscriber,
        );
        let span =
            tracing::info_span!("widget_socket", connection = subscriber.id(), site = %site.id);
        let shutdown = state.shutdown.clone();
        let mut endpoint = WidgetSocket {
            frames: state.limits.frames(),
            state: state.clone(),
            site,
            ip,
            address,
            language: None,
            user_agent,
            end: None,
            connection: Connection::WaitingForHello,
        };
        socket::drive(
            socket,
            &subscriber,
            outbox,
            &mut endpoint,
            shutdown,
            state.config.socket_quiet_limit(),
        )
        .instrument(span.clone())
        .await;
        state.hub.disconnect(&subscriber);
        // The shopper's last widget here closed: if they were waiting in a
        // line, they left it (for the reports).
        if let Connection::Ready(shopper) = &endpoint.connection
            && state
                .hub
                .subscriber_count(&Topic::Visitor(shopper.visitor.id.clone()))
                == 0
            && let Err(err) = state
                .visitors
                .left(&shopper.visitor, LineExit::Left)
                .instrument(span)
                .await
        {
            tracing::warn!(error = %err, "a shopper leaving the line was not recorded");
        }
    }))
}

/// Where a connection stands: only a hello (and a ping) before it is
/// ready, and then always with its visitor.
enum Connection {
    WaitingForHello,
    Ready(Box<Shopper>),
}

/// A connection that said hello.
struct Shopper {
    visitor: Visitor,
    /// The token this browser holds (sent back in every welcome).
    token: String,
    /// The conversation the shopper is in, as last seen by this socket.
    conversation: Option<Conversation>,
    /// When this socket last relayed a typing signal.
    last_typing: Option<Instant>,
}

impl Shopper {
    fn from(welcomed: Welcomed) -> (Shopper, Vec<Frame>) {
        let shopper = Shopper {
            visitor: welcomed.visitor,
            token: welcomed.token,
            conversation: welcomed.conversation,
            last_typing: None,
        };
        (shopper, welcomed.frames)
    }

    /// The conversation messages go into, unless it is closed.
    fn open_conversation(&self) -> Option<&Conversation> {
        self.conversation
            .as_ref()
            .filter(|c| c.state != ConversationState::Closed)
    }
}

struct WidgetSocket {
    state: AppState,
    site: Site,
    /// The client's address, for the limits counted per address.
    ip: IpAddr,
    /// `ip` as blocks and limits count it.
    address: String,
    /// How fast this socket's frames may come.
    frames: FrameLimit,
    /// The shopper's browser language, from their hello.
    language: Option<LanguageTag>,
    /// The shopper's browser, from the upgrade request.
    user_agent: Option<String>,
    /// Set when the connection must end once the replies are sent.
    end: Option<Ending>,
    connection: Connection,
}

fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Frame {
    encode(&WidgetFrame::Error {
        code,
        message: message.into(),
        client_id,
    })
}

/// The close code and reason a connection ends with.
fn close_of(ending: Ending) -> (u16, &'static str) {
    match ending {
        Ending::SessionEnded => (socket::CLOSE_SESSION_ENDED, "session ended"),
        Ending::IdentityChanged => (
            socket::CLOSE_IDENTITY_CHANGED,
            "identity changed; reconnect",
        ),
        Ending::Policy => (socket::CLOSE_POLICY, "rate limited; come back later"),
        Ending::TryAgain => (socket::CLOSE_TRY_AGAIN, "busy; reconnect in a second"),
    }
}

impl Endpoint for WidgetSocket {
    type Request = WidgetRequest;

    fn is_ready(&self) -> bool {
        matches!(self.connection, Connection::Ready(_))
    }

    fn client_id(request: &WidgetRequest) -> Option<String> {
        request.client_id().map(str::to_owned)
    }

    fn error_frame(code: ErrorCode, message: String, client_id: Option<String>) -> Frame {
        error(code, message, client_id)
    }

    fn take_frame(&mut self) -> Result<(), crate::limits::Refused> {
        self.frames.check()
    }

    fn must_end(&self) -> Option<(u16, &'static str)> {
        self.end.map(close_of)
    }

    /// A message goes to the writer, which stores and publishes it whether
    /// or not this socket still waits; its sender, unanswered, sends it
    /// again and the duplicate is recognised.
    fn may_abandon(request: &WidgetRequest) -> bool {
        matches!(request, WidgetRequest::Send { .. })
    }

    async fn handle(
        &mut self,
        request: WidgetRequest,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let client_id = request.client_id().map(str::to_owned);
        match self.take(request, subscriber, replies).await {
            Ok(()) => Ok(()),
            Err(Failure::Refused(refusal)) => {
                // Said against the message refused (the widget offers
                // Retry), unless its id itself was what was wrong.
                let about = refusal
                    .client_id
                    .or(client_id.filter(|_| refusal.code != ErrorCode::BadClientId));
                replies.push(error(refusal.code, refusal.message, about));
                if refusal.ending.is_some() {
                    self.end = refusal.ending;
                }
                Ok(())
            }
            Err(Failure::Store(err)) => Err(err),
        }
    }
}

impl WidgetSocket {
    fn arrival(&self) -> Arrival<'_> {
        Arrival {
            site: &self.site,
            ip: self.ip,
            address: &self.address,
            user_agent: self.user_agent.as_deref(),
            language: self.language.as_ref(),
        }
    }

    /// One request, by the connection's state: before hello, only a hello.
    async fn take(
        &mut self,
        request: WidgetRequest,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> VisitorResult<()> {
        let ready = matches!(self.connection, Connection::Ready(_));
        match request {
            WidgetRequest::Ping => {
                replies.push(encode(&WidgetFrame::Pong));
                Ok(())
            }
            WidgetRequest::Hello { .. } if ready => {
                Err(Refusal::new(ErrorCode::BadFrame, "This socket already said hello.").into())
            }
            WidgetRequest::Hello {
                token,
                conversation_id,
                after_seq,
                language,
                resume,
            } => {
                // A tag we cannot read is no reason to turn the shopper away.
                self.language = language.and_then(|tag| LanguageTag::parse(&tag).ok());
                self.hello(
                    token,
                    resume,
                    conversation_id,
                    after_seq,
                    subscriber,
                    replies,
                )
                .await
            }
            _ if !ready => Err(Refusal::new(
                ErrorCode::HelloRequired,
                "Say hello first: the first frame is a hello.",
            )
            .into()),
            request => self.ready(request, subscriber, replies).await,
        }
    }

    /// The hello: the connection is ready from here on.
    async fn hello(
        &mut self,
        token: Option<String>,
        resume: Option<String>,
        shown: Option<String>,
        after_seq: Seq,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> VisitorResult<()> {
        let Ok(_opening) = self.state.limits.opening_socket() else {
            return Err(Refusal::new(ErrorCode::Unavailable, OPENING_BUSY)
                .ending(Ending::TryAgain)
                .into());
        };
        let welcomed = self
            .state
            .visitors
            .hello(&self.arrival(), token, resume, shown, after_seq, subscriber)
            .await?;
        let (shopper, frames) = Shopper::from(welcomed);
        replies.extend(frames);
        self.connection = Connection::Ready(Box::new(shopper));
        Ok(())
    }

    /// A request of a connection that said hello.
    async fn ready(
        &mut self,
        request: WidgetRequest,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> VisitorResult<()> {
        let arrival = Arrival {
            site: &self.site,
            ip: self.ip,
            address: &self.address,
            user_agent: self.user_agent.as_deref(),
            language: self.language.as_ref(),
        };
        let Connection::Ready(shopper) = &mut self.connection else {
            return Err(Refusal::new(ErrorCode::HelloRequired, "Say hello first.").into());
        };
        let state = &self.state;
        match request {
            WidgetRequest::Hello { .. } | WidgetRequest::Ping => Ok(()),
            WidgetRequest::PanelClosed => {
                state
                    .visitors
                    .left(&shopper.visitor, LineExit::ClosedPanel)
                    .await?;
                Ok(())
            }
            WidgetRequest::Forget => {
                state.visitors.forget(&shopper.token).await?;
                self.end = Some(Ending::SessionEnded);
                Ok(())
            }
            WidgetRequest::Identify { token, details } => {
                let identity = state
                    .visitors
                    .identify(
                        &arrival,
                        &shopper.visitor,
                        &shopper.token,
                        token,
                        details,
                        subscriber,
                    )
                    .await?;
                let ending = identity.ending();
                match identity {
                    Identity::Verified(welcomed) => {
                        let (ready, frames) = Shopper::from(*welcomed);
                        **shopper = ready;
                        replies.extend(frames);
                    }
                    Identity::Another(frame) => replies.push(frame),
                    Identity::Stated => {}
                }
                if ending.is_some() {
                    self.end = ending;
                }
                Ok(())
            }
            WidgetRequest::Page {
                url,
                title,
                time_zone,
            } => {
                let page = Activity::Page {
                    url,
                    title,
                    time_zone,
                };
                state.visitors.record(&shopper.visitor, page).await
            }
            WidgetRequest::Track { name, data } => {
                let track = Activity::Track { name, data };
                state.visitors.record(&shopper.visitor, track).await
            }
            WidgetRequest::Earlier {
                conversation_id,
                before_seq,
            } => {
                let page = state
                    .visitors
                    .earlier(&shopper.visitor, &conversation_id, before_seq)
                    .await?;
                replies.extend(page);
                Ok(())
            }
            WidgetRequest::Read {
                conversation_id,
                seq,
            } => {
                // Someone else's conversation, or a malformed id, changes nothing.
                if let Ok(id) = ConversationId::parse(&conversation_id) {
                    state
                        .conversations
                        .shopper_read(&shopper.visitor.id, id.as_str(), seq)
                        .await?;
                }
                Ok(())
            }
            WidgetRequest::Email { address } => {
                let email = Email::parse(&address)?;
                state
                    .conversations
                    .give_email(&shopper.visitor.id, &email)
                    .await?;
                Ok(())
            }
            WidgetRequest::Rate {
                conversation_id,
                score,
                comment,
            } => state
                .conversations
                .rate(&shopper.visitor.id, &conversation_id, score, comment)
                .await?
                .map(|_| ())
                .map_err(|refused| Refusal::new(refused.code(), refused.to_string()).into()),
            WidgetRequest::Typing { draft } => typing(state, &self.site, shopper, draft).await,
            WidgetRequest::Transcript { email } => {
                let sent = transcript(state, self.ip, shopper, email).await?;
                replies.push(sent);
                Ok(())
            }
            WidgetRequest::Send {
                client_id,
                body,
                topic,
                files,
            } => {
                // A message ends a spell of typing: the next keystroke
                // starts another, told at once.
                shopper.last_typing = None;
                let message = Outgoing {
                    client_id,
                    body,
                    topic,
                    files,
                };
                let ack = send(&arrival, state, shopper, message).await?;
                replies.push(ack);
                Ok(())
            }
        }
    }
}

/// The shopper is typing: agents following their open conversation see
/// it (the draft where the site allows). Not stored; extra signals are
/// dropped.
async fn typing(
    state: &AppState,
    site: &Site,
    shopper: &mut Shopper,
    draft: Option<String>,
) -> VisitorResult<()> {
    if shopper
        .last_typing
        .is_some_and(|at| at.elapsed() < TYPING_RELAY_EVERY)
    {
        return Ok(());
    }
    if shopper.open_conversation().is_none() {
        return Ok(());
    }
    shopper.last_typing = Some(Instant::now());
    let Some(conversation) = shopper.open_conversation() else {
        return Ok(());
    };
    // An agent may have closed it since this socket last looked.
    if !state.store.conversation_is_open(&conversation.id).await? {
        return Ok(());
    }
    state
        .conversations
        .shopper_typing(conversation, draft, site.settings.typing_preview);
    Ok(())
}

/// Email me this conversation: the frame that says where it goes.
async fn transcript(
    state: &AppState,
    ip: IpAddr,
    shopper: &Shopper,
    email: Option<String>,
) -> VisitorResult<Frame> {
    let email = email.as_deref().map(Email::parse).transpose()?;
    let conversation = state
        .store
        .current_conversation_of_visitor(&shopper.visitor.id)
        .await?
        .ok_or_else(|| Refusal::bad_request("There is no conversation to send yet."))?;
    // Anyone can type any address here: a network asks for so much mail.
    state.limits.mail_ask(ip)?;
    let sent = state
        .conversations
        .email_transcript(&conversation, email.as_ref(), Asker::Shopper)
        .await?
        .map_err(|refused| {
            let code = match refused {
                TranscriptRefused::TooMany
                | TranscriptRefused::RecipientAllowance
                | TranscriptRefused::SiteAllowance => ErrorCode::RateLimited,
                _ => ErrorCode::BadRequest,
            };
            Refusal::new(code, refused.to_string())
        })?;
    Ok(encode(&WidgetFrame::TranscriptQueued {
        email: sent.email,
        confirm_first: sent.confirm_first,
    }))
}

/// A shopper's message, within their allowance: the ack.
/// A shopper's message as it came over the socket.
struct Outgoing {
    client_id: String,
    body: String,
    topic: Option<String>,
    /// Ids of files uploaded first.
    files: Vec<String>,
}

async fn send(
    arrival: &Arrival<'_>,
    state: &AppState,
    shopper: &mut Shopper,
    message: Outgoing,
) -> VisitorResult<Frame> {
    let Outgoing {
        client_id,
        body,
        topic,
        files,
    } = message;
    let client_id = ClientId::parse(&client_id)
        .map_err(|invalid| Refusal::new(ErrorCode::BadClientId, invalid.0))?;
    let about = |refusal: Refusal| refusal.about(client_id.as_str());
    check_message(&body, &files).map_err(|(code, message)| about(Refusal::new(code, message)))?;
    // The same allowance whatever the channel (see the service). Into the
    // conversation this socket knows, while it is open; if an agent closed
    // it meanwhile, the writer says so (nothing stored) and the message is
    // counted as opening a new one, then sent again.
    let mut open = shopper.open_conversation().map(|c| c.id.clone());
    let posted = loop {
        state
            .conversations
            .shopper_may_post(
                arrival.site,
                &shopper.visitor.id,
                open.as_deref(),
                PostedFrom::Chat(arrival.ip),
            )
            .await?
            .map_err(|not_now| about(Refusal::new(ErrorCode::RateLimited, not_now.message())))?;
        let posted = state
            .conversations
            .post_from_shopper(
                arrival.site,
                &shopper.visitor.id,
                open.as_deref(),
                arrival.language,
                topic.as_deref(),
                &client_id,
                &body,
                &files,
                open.is_none(),
            )
            .await?
            .map_err(|unknown| about(Refusal::new(ErrorCode::UnknownFile, unknown.0)))?;
        match posted {
            Some(posted) => break posted,
            None if open.is_some() => open = None,
            None => {
                return Err(Failure::Store(StoreError::Corrupt(
                    "a message that may open a conversation was refused".into(),
                )));
            }
        }
    };
    let ack = encode(&WidgetFrame::Ack {
        client_id: client_id.as_str().to_owned(),
        conversation_id: posted.conversation.id.clone(),
        seq: posted.message.seq,
    });
    shopper.conversation = Some(posted.conversation);
    Ok(ack)
}
