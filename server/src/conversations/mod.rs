//! The conversation service: the only code that changes a conversation.
//!
//! Each state change is one method that stores its event(s) in one
//! transaction (through the store), then publishes them to everyone who
//! must hear (`fanout`), then nudges the dispatcher when someone waiting
//! may now be served. Sockets and HTTP handlers parse and authorise, then
//! call this; they never write a conversation or publish its events
//! themselves (`tests/architecture.rs` checks that).

mod allowance;
mod attachments;
mod confirm;
mod email;
mod fanout;
mod inbound;
mod labels;
mod rating;
mod signals;
mod status;
mod writer;

pub use allowance::{NotNow, PostedFrom};
pub use attachments::UnknownFile;
pub use confirm::{ConfirmRefused, Confirmed};
pub use email::{Asker, MailSettings, NotBuilt, TranscriptRefused, TranscriptSent, Unseen};
pub(crate) use fanout::{for_shopper, initials, state_for_shopper};
pub use inbound::{Envelope, Received, Refused};
pub use rating::{MAX_RATING_COMMENT_CHARS, RatingRefused};
pub use writer::MAX_BATCH;

use std::sync::Arc;

use protocol::RequeueReason;

use tokio::sync::{Mutex, MutexGuard, Notify, mpsc};

use self::fanout::Audience;
use crate::contact_token::Claims;
use crate::domain::{ClientId, ConversationId, LanguageTag, TeamId};
use crate::hours::{self, Availability};
use crate::hub::Hub;
use crate::store::{
    Agent, Append, AppendRefused, AppendTo, Change, Conversation, ConversationBook, Folded,
    HandOverRefused, Identified, MergeRefused, Posted, Site, StoreError, Uploader, Visitor, now_ms,
};

/// The note on a conversation opened outside business hours.
const LEFT_OUTSIDE_HOURS: &str = "Left outside business hours: the shopper is not waiting on \
     the page. Answer by email (see the customer panel).";

/// What the dispatcher hears from the service: someone waiting may be
/// served now. Nudges of one account are coalesced, so a redundant one
/// costs little.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nudge {
    /// The account's line moved, or a seat freed up.
    Serve { account_id: String },
    /// A conversation was opened and waits: served if anyone has room, and
    /// told its place in line otherwise.
    Arrived {
        account_id: String,
        conversation_id: String,
    },
}

impl Nudge {
    pub fn account_id(&self) -> &str {
        match self {
            Nudge::Serve { account_id } | Nudge::Arrived { account_id, .. } => account_id,
        }
    }
}

/// Why a change was not made. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("the conversation is closed")]
    Closed,
    #[error("{0} has no room for another conversation")]
    NoRoom(String),
    #[error("nobody holds the conversation, or the receiver already does")]
    NotHeld,
    #[error("no such conversation")]
    NotFound,
    #[error(transparent)]
    UnknownFile(#[from] UnknownFile),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Handle to the service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Conversations {
    /// Reads, and the only writer of conversations.
    store: ConversationBook,
    hub: Arc<Hub>,
    nudges: mpsc::UnboundedSender<Nudge>,
    mail: Arc<MailSettings>,
    /// The allowances a shopper's messages count against, by any channel.
    limits: Arc<crate::limits::Limits>,
    /// Rung when mail was queued, so the outbox sends it at once.
    mail_queued: Arc<Notify>,
    /// Messages go through the group-commit writer.
    writer: writer::Writer,
    /// Where an email reply's attachments are kept.
    files: crate::files::Files,
    /// Held from a change's commit until it is published, by every change
    /// of this process (see [`InOrder`]).
    order: Arc<Mutex<()>>,
}

/// Proof that the holder is publishing in commit order. Every change is
/// committed and published while holding it, so that within a process a
/// conversation's events reach its sockets in seq order (a client skips
/// an event older than one it already has). On SQLite it costs no
/// concurrency: there is one writing connection anyway.
pub(crate) struct InOrder<'a>(#[allow(dead_code)] MutexGuard<'a, ()>);

impl Conversations {
    /// The service, and the nudges for the dispatcher to take.
    pub fn new(
        store: ConversationBook,
        hub: Arc<Hub>,
        mail: MailSettings,
        limits: Arc<crate::limits::Limits>,
        files: crate::files::Files,
    ) -> (Conversations, mpsc::UnboundedReceiver<Nudge>) {
        let (nudges, receiver) = mpsc::unbounded_channel();
        let order = Arc::new(Mutex::new(()));
        let writer = writer::Writer::start(writer::Parts {
            store: store.clone(),
            hub: hub.clone(),
            order: order.clone(),
            nudges: nudges.clone(),
        });
        let conversations = Conversations {
            store,
            hub,
            nudges,
            mail: Arc::new(mail),
            limits,
            mail_queued: Arc::new(Notify::new()),
            writer,
            order,
            files,
        };
        (conversations, receiver)
    }

    /// Waits for the turn to commit and publish a change.
    async fn in_order(&self) -> InOrder<'_> {
        InOrder(self.order.lock().await)
    }

    /// Resolves when mail was queued since the last call.
    pub async fn mail_queued(&self) {
        self.mail_queued.notified().await;
    }

    /// How this installation's mail works.
    pub fn mail(&self) -> &MailSettings {
        &self.mail
    }

    /// Tells everyone who must hear, after the store committed, in turn.
    fn publish(&self, change: &Change, audience: Audience, turn: &InOrder<'_>) {
        fanout::publish(
            &self.hub,
            &change.conversation,
            &change.events,
            audience,
            turn,
        );
    }

    fn nudge(&self, nudge: Nudge) {
        // Only fails once the dispatcher is gone, i.e. the server is stopping.
        let _ = self.nudges.send(nudge);
    }

    fn serve(&self, conversation: &Conversation) {
        self.nudge(Nudge::Serve {
            account_id: conversation.account_id.clone(),
        });
    }

    /// A shopper's message, into their open conversation (`current`, the
    /// one their socket shows, if still open) or, with `may_open`, a new
    /// one (routed by `topic`; outside business hours with a note that they
    /// left a message). `None` when it would have opened one without
    /// `may_open` (the conversation closed meanwhile): nothing was stored,
    /// and the caller checks the new conversation's allowance first.
    /// Idempotent on `client_id`. Stored with whatever else waits to be
    /// (group commit), published, then answered.
    #[tracing::instrument(name = "shopper_posts", skip_all, fields(site = %site.id, visitor = visitor_id))]
    #[allow(clippy::too_many_arguments)]
    pub async fn post_from_shopper(
        &self,
        site: &Site,
        visitor_id: &str,
        current: Option<&str>,
        language: Option<&LanguageTag>,
        topic: Option<&str>,
        client_id: &ClientId,
        body: &str,
        files: &[String],
        may_open: bool,
    ) -> Result<Result<Option<Posted>, UnknownFile>, StoreError> {
        let uploader = Uploader::Visitor {
            site_id: site.id.clone(),
            visitor_id: visitor_id.to_owned(),
        };
        let files = match self
            .attachable(&uploader, &site.account_id, files, client_id.as_str())
            .await?
        {
            Ok(files) => files,
            Err(unknown) => return Ok(Err(unknown)),
        };
        let away = site.settings.hours.as_ref().is_some_and(|h| {
            matches!(
                hours::availability(h, now_ms()),
                Availability::Closed { .. }
            )
        });
        let append = Append {
            to: AppendTo::Shopper {
                site_id: site.id.clone(),
                visitor_id: visitor_id.to_owned(),
                current: current.map(str::to_owned),
                language: language.map(|l| l.as_str().to_owned()),
                topic: topic.map(str::to_owned),
                note: away.then(|| LEFT_OUTSIDE_HOURS.to_owned()),
                may_open,
                reopen_days: site.settings.reopen_days,
            },
            client_id: client_id.as_str().to_owned(),
            body: body.to_owned(),
            files,
            via: protocol::Channel::Chat,
        };
        match self.writer.append(append).await? {
            Ok(posted) => {
                self.customer_wrote(&posted).await?;
                Ok(Ok(Some(posted)))
            }
            Err(AppendRefused::Closed) if !may_open => Ok(Ok(None)),
            Err(refused) => Err(StoreError::Corrupt(format!(
                "a shopper's message refused: {refused}"
            ))),
        }
    }

    /// An agent's reply; a waiting conversation is claimed by the replier.
    #[tracing::instrument(name = "agent_posts", skip_all, fields(agent = %agent.id, conversation = %conversation))]
    pub async fn post_from_agent(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        client_id: &ClientId,
        body: &str,
        files: &[String],
    ) -> Result<Posted, ChangeError> {
        let uploader = Uploader::Agent {
            agent_id: agent.id.clone(),
        };
        let files = self
            .attachable(&uploader, &agent.account_id, files, client_id.as_str())
            .await??;
        self.agent_writes(agent, conversation, client_id, body, files, false)
            .await
    }

    /// A note only agents see; also on a closed conversation.
    #[tracing::instrument(name = "agent_notes", skip_all, fields(agent = %agent.id, conversation = %conversation))]
    pub async fn note(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        client_id: &ClientId,
        body: &str,
    ) -> Result<Posted, ChangeError> {
        self.agent_writes(agent, conversation, client_id, body, Vec::new(), true)
            .await
    }

    async fn agent_writes(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        client_id: &ClientId,
        body: &str,
        files: Vec<protocol::FileRef>,
        note: bool,
    ) -> Result<Posted, ChangeError> {
        let append = Append {
            to: AppendTo::Agent {
                agent: agent.clone(),
                conversation_id: conversation.as_str().to_owned(),
                note,
            },
            client_id: client_id.as_str().to_owned(),
            body: body.to_owned(),
            files,
            via: protocol::Channel::Chat,
        };
        match self.writer.append(append).await? {
            Ok(posted) => Ok(posted),
            Err(AppendRefused::Closed) => Err(ChangeError::Closed),
            Err(AppendRefused::NoSuchConversation) => Err(ChangeError::NotFound),
        }
    }

    /// Ends the conversation; its seat goes to whoever waits. `false` if it
    /// was closed already.
    #[tracing::instrument(name = "close", skip_all, fields(agent = %agent.id, conversation = %conversation))]
    pub async fn close(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        ask_rating: bool,
    ) -> Result<bool, StoreError> {
        let turn = self.in_order().await;
        let Some(change) = self
            .store
            .close_conversation(conversation.as_str(), agent, ask_rating)
            .await?
        else {
            return Ok(false);
        };
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        self.serve(&change.conversation);
        Ok(true)
    }

    /// Gives a waiting conversation to `agent` if they have room; the
    /// dispatcher decides who. `None` if someone else was faster or the
    /// agent is full.
    #[tracing::instrument(name = "assign", skip_all, fields(agent = %agent.id, conversation = %waiting.id))]
    pub async fn assign(
        &self,
        waiting: &Conversation,
        agent: &Agent,
        capacity: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        let turn = self.in_order().await;
        let Some(change) = self.store.assign(waiting, agent, capacity).await? else {
            return Ok(None);
        };
        self.publish(&change, Audience::Everyone, &turn);
        tracing::info!("assigned");
        Ok(Some(change.conversation))
    }

    /// Takes a conversation back from `agent_id` into the line, with an
    /// agent-only note saying why. With `pass_over`, it is offered to the
    /// others first. `false` if it was no longer theirs.
    #[tracing::instrument(name = "requeue", skip_all, fields(agent = agent_id, conversation = conversation_id))]
    pub async fn requeue(
        &self,
        conversation_id: &str,
        agent_id: &str,
        (why, reason): (RequeueReason, &str),
        pass_over: bool,
    ) -> Result<bool, StoreError> {
        let turn = self.in_order().await;
        let Some(change) = self
            .store
            .requeue(conversation_id, agent_id, (why, reason), pass_over)
            .await?
        else {
            return Ok(false);
        };
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        tracing::info!(reason, why = <&'static str>::from(why), "requeued");
        self.serve(&change.conversation);
        Ok(true)
    }

    /// Hands a held conversation to a colleague, with a note only agents see.
    #[tracing::instrument(name = "hand_over", skip_all, fields(by = %by.id, to = %to.id, conversation = %conversation.id))]
    pub async fn hand_over_to_agent(
        &self,
        by: &Agent,
        conversation: &Conversation,
        to: &Agent,
        note: &str,
    ) -> Result<(), ChangeError> {
        let capacity = to.capacity.unwrap_or(conversation.site_agent_capacity);
        let turn = self.in_order().await;
        let change = match self
            .store
            .hand_over(&conversation.id, by, to, capacity, note)
            .await?
        {
            Ok(change) => change,
            Err(HandOverRefused::NoRoom) => return Err(ChangeError::NoRoom(to.name.clone())),
            Err(HandOverRefused::NotHeld) => return Err(ChangeError::NotHeld),
        };
        self.publish(&change, Audience::Everyone, &turn);
        Ok(())
    }

    /// Sends a conversation back to a team's line, with a note only agents
    /// see; whoever held it is not offered it again. `false` if it is
    /// closed or the team is not of its account.
    #[tracing::instrument(name = "hand_over_to_team", skip_all, fields(by = %by.id, team = %team, conversation = %conversation.id))]
    pub async fn hand_over_to_team(
        &self,
        by: &Agent,
        conversation: &Conversation,
        team: &TeamId,
        note: &str,
    ) -> Result<bool, StoreError> {
        let turn = self.in_order().await;
        let Some(change) = self
            .store
            .hand_over_to_team(&conversation.id, by, team.as_str(), note)
            .await?
        else {
            return Ok(false);
        };
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        self.serve(&change.conversation);
        Ok(true)
    }

    /// A shop-signed identity joins this browser to its customer. When the
    /// browser and the customer both had an open conversation, the
    /// browser's closes into the customer's (see `store::fold_in`): agents
    /// following it see it end, and the customer's gets what the shopper
    /// asked in it.
    #[tracing::instrument(name = "identify", skip_all, fields(visitor = %visitor.id))]
    pub async fn identify(
        &self,
        visitor: &Visitor,
        claims: &Claims,
    ) -> Result<Identified, StoreError> {
        let turn = self.in_order().await;
        let identified = self.store.identify_visitor(visitor, claims).await?;
        if let Some(folded) = &identified.folded {
            tracing::info!(folded = %folded.folded_id, into = %folded.continuing_id, "folded on sign-in");
            self.publish_folded(folded, &turn).await?;
        }
        Ok(identified)
    }

    /// Tells whoever follows the two conversations of a fold: the folded
    /// one's agents see it end, everyone the continuing one's news.
    async fn publish_folded(&self, folded: &Folded, turn: &InOrder<'_>) -> Result<(), StoreError> {
        let parts = [
            (&folded.folded_id, &folded.folded_events, Audience::Agents),
            (
                &folded.continuing_id,
                &folded.continuing_events,
                Audience::Everyone,
            ),
        ];
        for (id, events, audience) in parts {
            if events.is_empty() {
                continue;
            }
            let Some(conversation) = self.store.conversation(id).await? else {
                continue;
            };
            let change = Change {
                conversation,
                events: events.clone(),
            };
            self.publish(&change, audience, turn);
            if folded.freed_a_seat && audience == Audience::Agents {
                self.serve(&change.conversation);
            }
        }
        Ok(())
    }
}

impl Conversations {
    /// Deletes a contact with everything of theirs (the owner asked: the
    /// rows are gone). Their open conversations end first, so the agents
    /// holding them see them end and their seats go to whoever waits.
    #[tracing::instrument(name = "erase_contact", skip_all, fields(by = %by.id, contact = contact_id))]
    pub async fn erase_contact(&self, by: &Agent, contact_id: &str) -> Result<(), StoreError> {
        let open = self.store.open_conversations_of_contact(contact_id).await?;
        self.close_before_erasing(by, &open).await?;
        self.store.delete_contact(contact_id).await?;
        Ok(())
    }

    /// Deletes an anonymous visitor with everything of theirs, their open
    /// conversations ended first; `false` if there is no such visitor.
    #[tracing::instrument(name = "erase_visitor", skip_all, fields(by = %by.id, visitor = visitor_id))]
    pub async fn erase_visitor(&self, by: &Agent, visitor_id: &str) -> Result<bool, StoreError> {
        let open = self.store.open_conversations_of_visitor(visitor_id).await?;
        self.close_before_erasing(by, &open).await?;
        self.store.delete_visitor(visitor_id).await
    }

    /// An owner makes contact `merged` part of `kept`: one person, one
    /// history. Where both were chatting on the same site, the merged
    /// one's chat folds into the kept one's, as on a sign-in.
    #[tracing::instrument(name = "merge_contacts", skip_all, fields(by = %by.id, kept, merged))]
    pub async fn merge_contacts(
        &self,
        by: &Agent,
        kept: &str,
        merged: &str,
    ) -> Result<Result<(), MergeRefused>, StoreError> {
        let turn = self.in_order().await;
        let folds = match self
            .store
            .merge_contacts(&by.account_id, kept, merged, &by.id)
            .await?
        {
            Ok(folds) => folds,
            Err(refused) => return Ok(Err(refused)),
        };
        for folded in &folds {
            self.publish_folded(folded, &turn).await?;
        }
        tracing::info!(folds = folds.len(), "contacts merged");
        Ok(Ok(()))
    }

    /// Deletes a site with its conversations, closing the open ones first.
    #[tracing::instrument(name = "erase_site", skip_all, fields(by = %by.id, site = site_id))]
    pub async fn erase_site(&self, by: &Agent, site_id: &str) -> Result<(), StoreError> {
        let open = self.store.open_conversations_of_site(site_id).await?;
        self.close_before_erasing(by, &open).await?;
        self.store.delete_site(site_id).await?;
        Ok(())
    }

    async fn close_before_erasing(&self, by: &Agent, open: &[String]) -> Result<(), StoreError> {
        for id in open {
            let turn = self.in_order().await;
            if let Some(change) = self.store.close_conversation(id, by, false).await? {
                self.publish(&change, Audience::Everyone, &turn);
            }
        }
        if !open.is_empty() {
            self.nudge(Nudge::Serve {
                account_id: by.account_id.clone(),
            });
        }
        Ok(())
    }
}
