//! The shopper's socket: hello (token or a new visitor), resume after a
//! `seq`, send messages. It only ever carries shopper-visible events.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use protocol::{
    ConversationState, ErrorCode, REPLAY_PAGE, Seq, StatedDetails, WidgetFrame, WidgetRequest,
    check_body,
};
use tracing::Instrument;

use super::error::ApiError;
use super::extract::ClientIp;
use super::socket::{self, Endpoint};
use super::state::AppState;
use super::widget_api::{SiteQuery, authorize_site};
use crate::conversations::{Asker, PostedFrom, TranscriptRefused, for_shopper, state_for_shopper};
use crate::domain::{ClientId, ConversationId, Email, LanguageTag};
use crate::hub::{Frame, Subscriber, Topic, encode};
use crate::limits::{ClientKey, FrameLimit, OPENING_BUSY, Refused};
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::store::{Conversation, Site, StoreError, Visitor, now_ms};
use crate::{contact_token, identity};

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
        return Err(blocked_error());
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
            visitor: None,
            token: String::new(),
            language: None,
            user_agent,
            end: None,
            conversation: None,
            last_typing: None,
        };
        socket::drive(
            socket,
            &subscriber,
            outbox,
            &mut endpoint,
            shutdown,
            state.config.socket_quiet_limit(),
        )
        .instrument(span)
        .await;
        state.hub.disconnect(&subscriber);
    }))
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
    visitor: Option<Visitor>,
    /// The token this browser holds (sent back in every welcome).
    token: String,
    /// The shopper's browser language, from their hello.
    language: Option<LanguageTag>,
    /// The shopper's browser, from the upgrade request.
    user_agent: Option<String>,
    /// Set when the connection must end after the replies: this browser
    /// became another customer (the welcome carries the new token), or a
    /// limit refused its hello.
    end: Option<(u16, &'static str)>,
    /// The conversation the shopper is in (for typing signals).
    conversation: Option<Conversation>,
    /// When this socket last relayed a typing signal.
    last_typing: Option<Instant>,
}

/// A socket relays a typing signal at most this often (clients send one
/// every few seconds; more is dropped, not an error).
const TYPING_RELAY_EVERY: Duration = Duration::from_millis(1500);

/// Longest page URL kept.
const MAX_URL_BYTES: usize = 2048;
/// Longest page title kept (longer ones are cut).
const MAX_TITLE_CHARS: usize = 300;
/// Longest tracked event name.
const MAX_TRACK_NAME_CHARS: usize = 100;
/// Largest tracked event data (JSON text).
const MAX_TRACK_DATA_BYTES: usize = 4096;

/// Longest User-Agent kept.
const MAX_USER_AGENT_CHARS: usize = 300;

/// Longest stated name, email or phone kept.
const MAX_STATED_CHARS: usize = 200;

fn stated_details_are_sane(details: &StatedDetails) -> bool {
    let fields = [&details.name, &details.email, &details.phone];
    fields.iter().any(|f| f.is_some())
        && fields.iter().all(|f| {
            f.as_ref()
                .is_none_or(|v| v.chars().count() <= MAX_STATED_CHARS)
        })
}

/// What a blocked shopper is told (no more than that).
const BLOCKED: &str = "This shop no longer takes chats from you.";

fn blocked_error() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Blocked, BLOCKED)
}

fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Frame {
    encode(&WidgetFrame::Error {
        code,
        message: message.into(),
        client_id,
    })
}

impl Endpoint for WidgetSocket {
    type Request = WidgetRequest;

    fn is_ready(&self) -> bool {
        self.visitor.is_some()
    }

    fn client_id(request: &WidgetRequest) -> Option<String> {
        request.client_id().map(str::to_owned)
    }

    fn error_frame(code: ErrorCode, message: String, client_id: Option<String>) -> Frame {
        error(code, message, client_id)
    }

    fn take_frame(&mut self) -> Result<(), Refused> {
        self.frames.check()
    }

    fn must_end(&self) -> Option<(u16, &'static str)> {
        self.end
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
        match request {
            WidgetRequest::Ping => {
                replies.push(encode(&WidgetFrame::Pong));
                Ok(())
            }
            WidgetRequest::Forget => {
                if self.visitor.is_some() {
                    self.state
                        .store
                        .revoke_visitor_token(&identity::token_hash(&self.token))
                        .await?;
                    tracing::info!("visitor token ended by the page (logout)");
                }
                self.end = Some((socket::CLOSE_SESSION_ENDED, "signed out"));
                Ok(())
            }
            WidgetRequest::Hello {
                token,
                conversation_id,
                after_seq,
                language,
                resume,
            } => {
                let Ok(_opening) = self.state.limits.opening_socket() else {
                    replies.push(error(ErrorCode::Unavailable, OPENING_BUSY, None));
                    self.end = Some((socket::CLOSE_TRY_AGAIN, "busy; reconnect in a second"));
                    return Ok(());
                };
                // A tag we cannot read is no reason to turn the shopper away.
                self.language = language.and_then(|tag| LanguageTag::parse(&tag).ok());
                if let Some(resume) = resume
                    && self
                        .continue_from_email(&resume, subscriber, replies)
                        .await?
                {
                    return Ok(());
                }
                self.hello(token, conversation_id, after_seq, subscriber, replies)
                    .await
            }
            WidgetRequest::Read {
                conversation_id,
                seq,
            } => self.read(conversation_id, seq, replies).await,
            WidgetRequest::Earlier {
                conversation_id,
                before_seq,
            } => self.earlier(conversation_id, before_seq, replies).await,
            WidgetRequest::Email { address } => self.give_email(address, replies).await,
            WidgetRequest::Typing { draft } => self.typing(draft, replies).await,
            WidgetRequest::Transcript { email } => self.transcript(email, replies).await,
            WidgetRequest::Send {
                client_id,
                body,
                topic,
            } => {
                // A message ends a spell of typing: the next keystroke starts
                // another, told at once.
                self.last_typing = None;
                self.send(client_id, body, topic, replies).await
            }
            WidgetRequest::Identify { token, details } => {
                self.identify(token, details, subscriber, replies).await
            }
            WidgetRequest::Page {
                url,
                title,
                time_zone,
            } => self.page(url, title, time_zone, replies).await,
            WidgetRequest::Track { name, data } => self.track(name, data, replies).await,
        }
    }
}

impl WidgetSocket {
    /// A "continue in the chat" link from an email: this browser becomes
    /// that conversation's shopper (a new token of theirs, and nothing
    /// more). `false` if the link is not valid here; the hello goes on as
    /// usual then.
    async fn continue_from_email(
        &mut self,
        link: &str,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<bool, StoreError> {
        if self.visitor.is_some() {
            return Ok(false);
        }
        let conversation_id = match self.state.conversations.conversation_of_continue_link(link) {
            Ok(id) => id,
            Err(refused) => {
                tracing::info!(%refused, "continue link refused");
                return Ok(false);
            }
        };
        let store = &self.state.store;
        let Some(conversation) = store.conversation(&conversation_id).await? else {
            return Ok(false);
        };
        if conversation.site_id != self.site.id {
            return Ok(false);
        }
        let Some(visitor) = store.visitor_by_id(&conversation.visitor_id).await? else {
            return Ok(false);
        };
        // A blocked shopper does not come back through an old mail's link.
        if store
            .is_blocked(
                &self.site.account_id,
                Some(&visitor.id),
                Some(&self.address),
            )
            .await?
        {
            replies.push(error(ErrorCode::Blocked, BLOCKED, None));
            self.end = Some((socket::CLOSE_SESSION_ENDED, "blocked"));
            return Ok(true);
        }
        let token = identity::new_visitor_token();
        store
            .add_visitor_token(&visitor.id, &identity::token_hash(&token))
            .await?;
        self.token = token;
        self.welcome(visitor, None, 0, subscriber, replies).await?;
        Ok(true)
    }

    /// The shopper has seen the conversation up to `seq`.
    async fn read(
        &mut self,
        conversation_id: String,
        seq: Seq,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        // Someone else's conversation, or a malformed id, changes nothing.
        if let Ok(id) = ConversationId::parse(&conversation_id) {
            self.state
                .conversations
                .shopper_read(&visitor.id, id.as_str(), seq)
                .await?;
        }
        Ok(())
    }

    /// The shopper is typing: agents following their open conversation see
    /// it (the draft where the site allows). Not stored; extra signals are
    /// dropped.
    async fn typing(
        &mut self,
        draft: Option<String>,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        if self.visitor.is_none() {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        }
        let Some(conversation) = self
            .conversation
            .as_ref()
            .filter(|c| c.state != ConversationState::Closed)
        else {
            return Ok(());
        };
        if self
            .last_typing
            .is_some_and(|at| at.elapsed() < TYPING_RELAY_EVERY)
        {
            return Ok(());
        }
        self.last_typing = Some(Instant::now());
        // An agent may have closed it since this socket last looked.
        if !self
            .state
            .store
            .conversation_is_open(&conversation.id)
            .await?
        {
            return Ok(());
        }
        self.state.conversations.shopper_typing(
            conversation,
            draft,
            self.site.settings.typing_preview,
        );
        Ok(())
    }

    /// An address to be answered at.
    async fn give_email(
        &mut self,
        address: String,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        match Email::parse(&address) {
            Ok(email) => {
                self.state
                    .conversations
                    .give_email(&visitor.id, &email)
                    .await
            }
            Err(invalid) => {
                replies.push(error(ErrorCode::BadRequest, invalid.0, None));
                Ok(())
            }
        }
    }

    /// Email me this conversation.
    async fn transcript(
        &mut self,
        email: Option<String>,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        let email = match email.as_deref().map(Email::parse).transpose() {
            Ok(email) => email,
            Err(invalid) => {
                replies.push(error(ErrorCode::BadRequest, invalid.0, None));
                return Ok(());
            }
        };
        let store = &self.state.store;
        let Some(conversation) = store.current_conversation_of_visitor(&visitor.id).await? else {
            replies.push(error(
                ErrorCode::BadRequest,
                "There is no conversation to send yet.",
                None,
            ));
            return Ok(());
        };
        // Anyone can type any address here: a network asks for so much mail.
        if let Err(refused) = self.state.limits.mail_ask(self.ip) {
            replies.push(error(ErrorCode::RateLimited, refused.message(), None));
            return Ok(());
        }
        match self
            .state
            .conversations
            .email_transcript(&conversation, email.as_ref(), Asker::Shopper)
            .await?
        {
            Ok(sent) => replies.push(encode(&WidgetFrame::TranscriptQueued {
                email: sent.email,
                confirm_first: sent.confirm_first,
            })),
            Err(refused) => {
                let code = match refused {
                    TranscriptRefused::TooMany
                    | TranscriptRefused::RecipientAllowance
                    | TranscriptRefused::SiteAllowance => ErrorCode::RateLimited,
                    _ => ErrorCode::BadRequest,
                };
                replies.push(error(code, refused.to_string(), None));
            }
        }
        Ok(())
    }

    async fn hello(
        &mut self,
        token: Option<String>,
        conversation_id: Option<String>,
        after_seq: Seq,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        if self.visitor.is_some() {
            replies.push(error(
                ErrorCode::BadFrame,
                "This socket already said hello.",
                None,
            ));
            return Ok(());
        }
        let store = &self.state.store;
        let (visitor, token) = match token {
            Some(token) => {
                let hash = identity::token_hash(&token);
                let holder = store
                    .token_holder(&hash, self.state.config.visitor_tokens_used_since())
                    .await?
                    .filter(|holder| holder.visitor.site_id == self.site.id);
                let Some(holder) = holder else {
                    replies.push(error(
                        ErrorCode::InvalidVisitorToken,
                        "This visitor token is not valid for this site (unknown, ended or unused for too long). Say hello without a token to start as a new visitor.",
                        None,
                    ));
                    return Ok(());
                };
                if store
                    .is_blocked(
                        &self.site.account_id,
                        Some(&holder.visitor.id),
                        Some(&self.address),
                    )
                    .await?
                {
                    replies.push(error(ErrorCode::Blocked, BLOCKED, None));
                    self.end = Some((socket::CLOSE_SESSION_ENDED, "blocked"));
                    return Ok(());
                }
                store.note_hello(&holder, &hash, &self.address).await?;
                (holder.visitor, token)
            }
            None => {
                if let Err(refused) = self.state.limits.new_visitor(self.ip, &self.site.id) {
                    replies.push(error(ErrorCode::RateLimited, refused.message(), None));
                    self.end = Some((socket::CLOSE_POLICY, "rate limited; come back later"));
                    return Ok(());
                }
                let token = identity::new_visitor_token();
                let visitor = store
                    .create_visitor(&self.site.id, &identity::token_hash(&token))
                    .await?;
                store
                    .record_browser(
                        &visitor.id,
                        self.user_agent.as_deref(),
                        self.language.as_ref().map(LanguageTag::as_str),
                    )
                    .await?;
                store
                    .note_visitor_address(&visitor.id, &self.address)
                    .await?;
                (visitor, token)
            }
        };
        self.token = token;
        self.welcome(visitor, conversation_id, after_seq, subscriber, replies)
            .await
    }

    /// Follows `visitor`'s events, then says welcome and replays their
    /// latest conversation (after `after_seq` if the client names it).
    async fn welcome(
        &mut self,
        visitor: Visitor,
        conversation_id: Option<String>,
        after_seq: Seq,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let store = &self.state.store;
        // Subscribe before reading history: an event stored in between is
        // then seen twice (the client skips seqs it holds), never missed.
        self.state
            .hub
            .subscribe(Topic::Visitor(visitor.id.clone()), subscriber);
        let conversation = store.current_conversation_of_visitor(&visitor.id).await?;
        let (name, email_known) = store.known_to_widget(&visitor.id).await?;
        // At most one page: a long history is paged back on demand.
        let (replay_from, replay) = match &conversation {
            Some(conversation) => {
                let after = if conversation_id.as_deref() == Some(conversation.id.as_str()) {
                    after_seq
                } else {
                    0
                };
                store.replay(conversation, after).await?
            }
            None => (1, Vec::new()),
        };
        replies.push(encode(&WidgetFrame::Welcome {
            visitor_token: self.token.clone(),
            conversation_id: conversation.as_ref().map(|c| c.id.clone()),
            state: conversation.as_ref().map(state_for_shopper),
            name,
            email_known,
            read_seq: conversation.as_ref().map_or(0, |c| c.shopper_read_seq),
            agent_read_seq: conversation.as_ref().map_or(0, |c| c.agent_read_seq),
            replay_from,
        }));
        self.conversation.clone_from(&conversation);
        if let Some(conversation) = conversation {
            if conversation.state == ConversationState::Waiting {
                // Tells this shopper where they stand (or serves them).
                self.state
                    .dispatcher
                    .waiting(&conversation.account_id, &conversation.id);
            }
            replies.extend(
                replay
                    .iter()
                    .filter_map(|event| for_shopper(event, &conversation))
                    .map(|event| encode(&WidgetFrame::Event { event })),
            );
        }
        self.visitor = Some(visitor);
        Ok(())
    }

    /// A page of the shopper's conversation before `before_seq`, as
    /// `earlier` frames (one per event the shopper may see).
    async fn earlier(
        &mut self,
        conversation_id: String,
        before_seq: Seq,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        let store = &self.state.store;
        let conversation = match ConversationId::parse(&conversation_id) {
            Ok(id) => store.conversation(id.as_str()).await?,
            Err(_) => None,
        };
        // Only one of this shopper's own conversations.
        let Some(conversation) = conversation.filter(|c| c.visitor_id == visitor.id) else {
            replies.push(error(ErrorCode::NotFound, "No such conversation.", None));
            return Ok(());
        };
        let page = store
            .events_before(&conversation.id, before_seq.max(1), REPLAY_PAGE)
            .await?;
        let from_seq = page.first().map_or(1, |e| e.seq);
        let visible: Vec<_> = page
            .iter()
            .filter_map(|event| for_shopper(event, &conversation))
            .collect();
        if visible.is_empty() {
            replies.push(encode(&WidgetFrame::Earlier {
                conversation_id: conversation.id.clone(),
                from_seq,
                event: None,
            }));
        }
        replies.extend(visible.into_iter().map(|event| {
            encode(&WidgetFrame::Earlier {
                conversation_id: conversation.id.clone(),
                from_seq,
                event: Some(event),
            })
        }));
        Ok(())
    }

    /// The page the widget loaded on, and the browser's time zone.
    async fn page(
        &mut self,
        url: String,
        title: Option<String>,
        time_zone: Option<String>,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        if url.is_empty() || url.len() > MAX_URL_BYTES {
            replies.push(error(
                ErrorCode::BadRequest,
                format!("A page URL is 1 to {MAX_URL_BYTES} bytes."),
                None,
            ));
            return Ok(());
        }
        let title: Option<String> = title.map(|t| t.chars().take(MAX_TITLE_CHARS).collect());
        // Only a zone the tz database knows: agents' browsers format times with it.
        let time_zone =
            time_zone.filter(|tz| tz.len() <= 64 && jiff::tz::TimeZone::get(tz).is_ok());
        self.state
            .store
            .record_page(&visitor.id, &url, title.as_deref(), time_zone.as_deref())
            .await
    }

    /// `Rapport('track', name, data)`: kept for the customer's timeline.
    async fn track(
        &mut self,
        name: String,
        data: Option<String>,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(ErrorCode::HelloRequired, "Say hello first.", None));
            return Ok(());
        };
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TRACK_NAME_CHARS {
            replies.push(error(
                ErrorCode::BadRequest,
                format!("An event name is 1 to {MAX_TRACK_NAME_CHARS} characters."),
                None,
            ));
            return Ok(());
        }
        if let Some(data) = &data
            && (data.len() > MAX_TRACK_DATA_BYTES
                || serde_json::from_str::<serde::de::IgnoredAny>(data).is_err())
        {
            replies.push(error(
                ErrorCode::BadRequest,
                format!("Event data is JSON of at most {MAX_TRACK_DATA_BYTES} bytes."),
                None,
            ));
            return Ok(());
        }
        self.state
            .store
            .record_track(&visitor.id, name, data.as_deref())
            .await
    }

    /// `Rapport('identify', …)`: a signed token joins this browser to the
    /// contact it names; unsigned details stay on this visitor, unverified.
    async fn identify(
        &mut self,
        token: Option<String>,
        details: Option<StatedDetails>,
        subscriber: &Subscriber,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = self.visitor.clone() else {
            replies.push(error(
                ErrorCode::HelloRequired,
                "Say hello before identifying.",
                None,
            ));
            return Ok(());
        };
        let refuse = |reason: &str| {
            error(
                ErrorCode::IdentityRefused,
                format!("Identify refused: {reason}."),
                None,
            )
        };
        let store = &self.state.store;
        let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
            if self.site.enforce_identity {
                replies.push(refuse(
                    "this site accepts only a token signed by the shop's server",
                ));
                return Ok(());
            }
            let Some(details) = details.filter(stated_details_are_sane) else {
                replies.push(refuse(
                    "give a signed token, or details (name, email, phone) of at most 200 characters each",
                ));
                return Ok(());
            };
            let email = details.email.as_deref().and_then(|e| Email::parse(e).ok());
            let details = serde_json::to_value(&details).unwrap_or_default();
            store.set_unverified_details(&visitor.id, &details).await?;
            if let Some(email) = email {
                self.state
                    .conversations
                    .give_email(&visitor.id, &email)
                    .await?;
            }
            return Ok(());
        };
        let secrets = store.usable_site_secrets(&self.site.id).await?;
        let now = now_ms() / 1000;
        let claims = match contact_token::verify(&token, &self.site.site_key, &secrets, now) {
            Ok(claims) => claims,
            Err(refusal) => {
                tracing::info!(site = %self.site.id, %refusal, "identify refused");
                replies.push(refuse(&refusal.to_string()));
                return Ok(());
            }
        };
        // A blocked customer stays blocked on any browser: this one
        // identifying as them changes nothing, and ends.
        if store
            .is_blocked_customer(&self.site.account_id, &self.site.id, &claims.sub)
            .await?
        {
            replies.push(error(ErrorCode::Blocked, BLOCKED, None));
            self.end = Some((socket::CLOSE_SESSION_ENDED, "blocked"));
            return Ok(());
        }
        let identified = self.state.conversations.identify(&visitor, &claims).await?;
        if let Some(new_token) = identified.new_token {
            // Another customer on this browser: hand over the new token and
            // end this connection, whose queue may still hold frames of the
            // customer it stood for; the client reconnects as the new one.
            self.state
                .hub
                .unsubscribe(&Topic::Visitor(visitor.id.clone()), subscriber);
            // The token this browser had for the other customer ends.
            store
                .revoke_visitor_token(&identity::token_hash(&self.token))
                .await?;
            self.token = new_token;
            self.end = Some((
                socket::CLOSE_IDENTITY_CHANGED,
                "identity changed; reconnect",
            ));
            replies.push(encode(&WidgetFrame::Welcome {
                visitor_token: self.token.clone(),
                conversation_id: None,
                state: None,
                email_known: claims
                    .email
                    .as_deref()
                    .is_some_and(|e| !e.trim().is_empty()),
                name: claims.name,
                read_seq: 0,
                agent_read_seq: 0,
                replay_from: 1,
            }));
            return Ok(());
        }
        if identified.visitor.id != visitor.id {
            // The anonymous chat moved to the contact; follow the contact.
            self.state
                .hub
                .unsubscribe(&Topic::Visitor(visitor.id.clone()), subscriber);
        }
        // Proven who they are: a fresh token (in the welcome), and the one
        // the browser had as an anonymous visitor stops working.
        let fresh = identity::new_visitor_token();
        store
            .rotate_visitor_token(
                &identity::token_hash(&self.token),
                &identity::token_hash(&fresh),
            )
            .await?;
        self.token = fresh;
        self.welcome(identified.visitor, None, 0, subscriber, replies)
            .await
    }

    async fn send(
        &mut self,
        client_id: String,
        body: String,
        topic: Option<String>,
        replies: &mut Vec<Frame>,
    ) -> Result<(), StoreError> {
        let Some(visitor) = &self.visitor else {
            replies.push(error(
                ErrorCode::HelloRequired,
                "Say hello before sending messages.",
                Some(client_id),
            ));
            return Ok(());
        };
        let client_id = match ClientId::parse(&client_id) {
            Ok(client_id) => client_id,
            Err(invalid) => {
                replies.push(error(ErrorCode::BadClientId, invalid.0, None));
                return Ok(());
            }
        };
        if let Err((code, message)) = check_body(&body) {
            replies.push(error(code, message, Some(client_id.as_str().to_owned())));
            return Ok(());
        }
        // The same allowance whatever the channel (see the service). The
        // conversation this socket knows may have been closed by an agent
        // since: then this message opens a new one, and counts as such.
        let mut open = self
            .conversation
            .as_ref()
            .filter(|c| c.state != ConversationState::Closed);
        if let Some(conversation) = open
            && !self
                .state
                .store
                .conversation_is_open(&conversation.id)
                .await?
        {
            open = None;
        }
        let allowed = self
            .state
            .conversations
            .shopper_may_post(
                &self.site,
                &visitor.id,
                open.map(|c| c.id.as_str()),
                PostedFrom::Chat(self.ip),
            )
            .await?;
        if let Err(not_now) = allowed {
            replies.push(error(
                ErrorCode::RateLimited,
                not_now.message(),
                Some(client_id.as_str().to_owned()),
            ));
            return Ok(());
        }
        let current = open.map(|conversation| conversation.id.clone());
        let posted = self
            .state
            .conversations
            .post_from_shopper(
                &self.site,
                &visitor.id,
                current.as_deref(),
                self.language.as_ref(),
                topic.as_deref(),
                &client_id,
                &body,
            )
            .await?;
        replies.push(encode(&WidgetFrame::Ack {
            client_id: client_id.as_str().to_owned(),
            conversation_id: posted.conversation.id.clone(),
            seq: posted.message.seq,
        }));
        self.conversation = Some(posted.conversation);
        Ok(())
    }
}
