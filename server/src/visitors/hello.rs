//! A browser's hello: its token (if it still works and is not blocked),
//! a new visitor (within the limits of new visitors), or a "continue in
//! the chat" link from an email; then the welcome, and the replay of its
//! conversation from where the browser stands.

use std::net::IpAddr;

use protocol::{ConversationState, ErrorCode, Seq, WidgetFrame};

use super::{Ending, Refusal, VisitorResult, Visitors, blocked};
use crate::conversations::{for_shopper, state_for_shopper};
use crate::domain::LanguageTag;
use crate::hub::{Frame, Subscriber, Topic, encode};
use crate::identity;
use crate::store::{Conversation, LineExit, Site, Visitor};

/// Where a browser came from: the site its page belongs to, its address,
/// and what it says of itself.
#[derive(Clone, Debug)]
pub struct Arrival<'a> {
    pub site: &'a Site,
    pub ip: IpAddr,
    /// `ip` as blocks and limits count it (IPv6 by its /64).
    pub address: &'a str,
    pub user_agent: Option<&'a str>,
    pub language: Option<&'a LanguageTag>,
}

/// A browser welcomed: who it stands for, the token it holds from now on,
/// its current conversation, and the frames to send (the welcome, then the
/// replay of that conversation).
#[derive(Debug)]
pub struct Welcomed {
    pub visitor: Visitor,
    pub token: String,
    pub conversation: Option<Conversation>,
    pub frames: Vec<Frame>,
}

impl Visitors {
    /// Every widget of `visitor` on this process closed (`LineExit::Left`),
    /// or they closed the chat panel (`LineExit::ClosedPanel`): if their
    /// conversation waits in a line, that is kept for the reports.
    pub async fn left(&self, visitor: &Visitor, how: LineExit) -> VisitorResult<()> {
        if let Some(conversation) = self
            .book
            .current_conversation_of_visitor(&visitor.id)
            .await?
            && conversation.state == ConversationState::Waiting
            && self.book.left_the_line(&conversation.id, how).await?
        {
            tracing::info!(conversation = %conversation.id, ?how, "a shopper left the line");
        }
        Ok(())
    }

    /// A browser says hello: with a "continue in the chat" link (which
    /// signs it in as that conversation's shopper), else its token, else
    /// as a new visitor. It then follows its visitor's events.
    #[tracing::instrument(name = "hello", skip_all, fields(site = %arrival.site.id))]
    pub async fn hello(
        &self,
        arrival: &Arrival<'_>,
        token: Option<String>,
        resume: Option<String>,
        shown: Option<String>,
        after_seq: Seq,
        subscriber: &Subscriber,
    ) -> VisitorResult<Welcomed> {
        if let Some(link) = resume
            && let Some(visitor) = self.continued(arrival, &link).await?
        {
            let token = identity::new_visitor_token();
            self.book
                .add_visitor_token(&visitor.id, &identity::token_hash(&token))
                .await?;
            return self.welcome(visitor, token, None, 0, subscriber).await;
        }
        let (visitor, token) = match token {
            Some(token) => (self.holder(arrival, &token).await?, token),
            None => self.newcomer(arrival).await?,
        };
        self.welcome(visitor, token, shown, after_seq, subscriber)
            .await
    }

    /// The shopper of a "continue in the chat" link's conversation, if the
    /// link is good here; a blocked shopper is refused.
    async fn continued(&self, arrival: &Arrival<'_>, link: &str) -> VisitorResult<Option<Visitor>> {
        let conversation_id = match self.conversations.conversation_of_continue_link(link) {
            Ok(id) => id,
            Err(refused) => {
                tracing::info!(%refused, "continue link refused");
                return Ok(None);
            }
        };
        let Some(conversation) = self.book.conversation(&conversation_id).await? else {
            return Ok(None);
        };
        if conversation.site_id != arrival.site.id {
            return Ok(None);
        }
        let Some(visitor) = self.book.visitor_by_id(&conversation.visitor_id).await? else {
            return Ok(None);
        };
        // A blocked shopper does not come back through an old mail's link.
        if self
            .book
            .is_blocked(
                &arrival.site.account_id,
                Some(&visitor.id),
                Some(arrival.address),
            )
            .await?
        {
            return Err(blocked().into());
        }
        Ok(Some(visitor))
    }

    /// Who a token stands for, if it still works here and is not blocked.
    async fn holder(&self, arrival: &Arrival<'_>, token: &str) -> VisitorResult<Visitor> {
        let hash = identity::token_hash(token);
        let holder = self
            .book
            .token_holder(&hash, self.tokens_used_since())
            .await?
            .filter(|holder| holder.visitor.site_id == arrival.site.id)
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::InvalidVisitorToken,
                    "This visitor token is not valid for this site (unknown, ended or unused for too long). Say hello without a token to start as a new visitor.",
                )
            })?;
        if self
            .book
            .is_blocked(
                &arrival.site.account_id,
                Some(&holder.visitor.id),
                Some(arrival.address),
            )
            .await?
        {
            return Err(blocked().into());
        }
        self.book
            .note_hello(&holder, &hash, arrival.address)
            .await?;
        Ok(holder.visitor)
    }

    /// A new visitor, within the limits of new visitors per address and site.
    async fn newcomer(&self, arrival: &Arrival<'_>) -> VisitorResult<(Visitor, String)> {
        if let Err(refused) = self.limits.new_visitor(arrival.ip, &arrival.site.id) {
            return Err(Refusal::from(refused).ending(Ending::Policy).into());
        }
        let token = identity::new_visitor_token();
        let visitor = self
            .book
            .create_visitor(&arrival.site.id, &identity::token_hash(&token))
            .await?;
        self.book
            .record_browser(
                &visitor.id,
                arrival.user_agent,
                arrival.language.map(LanguageTag::as_str),
            )
            .await?;
        self.book
            .note_visitor_address(&visitor.id, arrival.address)
            .await?;
        Ok((visitor, token))
    }

    /// Follows `visitor`'s events, then says welcome and replays their
    /// current conversation (after `after_seq` if the browser shows it).
    pub(super) async fn welcome(
        &self,
        visitor: Visitor,
        token: String,
        shown: Option<String>,
        after_seq: Seq,
        subscriber: &Subscriber,
    ) -> VisitorResult<Welcomed> {
        // Subscribe before reading history: an event stored in between is
        // then seen twice (the client skips seqs it holds), never missed.
        self.hub
            .subscribe(Topic::Visitor(visitor.id.clone()), subscriber);
        let conversation = self
            .book
            .current_conversation_of_visitor(&visitor.id)
            .await?;
        let (name, email_known) = self.book.known_to_widget(&visitor.id).await?;
        // At most one page: a long history is paged back on demand.
        let (replay_from, replay) = match &conversation {
            Some(conversation) => {
                let after = if shown.as_deref() == Some(conversation.id.as_str()) {
                    after_seq
                } else {
                    0
                };
                self.book.replay(conversation, after).await?
            }
            None => (1, Vec::new()),
        };
        let mut frames = vec![encode(&WidgetFrame::Welcome {
            visitor_token: token.clone(),
            conversation_id: conversation.as_ref().map(|c| c.id.clone()),
            state: conversation.as_ref().map(state_for_shopper),
            name,
            email_known,
            read_seq: conversation.as_ref().map_or(0, |c| c.shopper_read_seq),
            agent_read_seq: conversation.as_ref().map_or(0, |c| c.agent_read_seq),
            replay_from,
        })];
        if let Some(conversation) = &conversation {
            if conversation.state == ConversationState::Waiting {
                // Back in the line, if they had left it.
                self.book.back_in_the_line(&conversation.id).await?;
                // Tells this shopper where they stand (or serves them).
                self.dispatcher
                    .waiting(&conversation.account_id, &conversation.id);
            }
            frames.extend(
                replay
                    .iter()
                    .filter_map(|event| for_shopper(event, conversation))
                    .map(|event| encode(&WidgetFrame::Event { event })),
            );
        }
        Ok(Welcomed {
            visitor,
            token,
            conversation,
            frames,
        })
    }

    /// `Rapport('logout')`: the browser's token stops working (the
    /// visitor's history stays for the shop).
    pub async fn forget(&self, token: &str) -> VisitorResult<()> {
        self.book
            .revoke_visitor_token(&identity::token_hash(token))
            .await?;
        tracing::info!("visitor token ended by the page (logout)");
        Ok(())
    }
}

impl Visitors {
    /// A page of one of `visitor`'s own conversations before `before_seq`,
    /// as `earlier` frames (one per event the shopper may see).
    pub async fn earlier(
        &self,
        visitor: &Visitor,
        conversation_id: &str,
        before_seq: Seq,
    ) -> VisitorResult<Vec<Frame>> {
        let conversation = match crate::domain::ConversationId::parse(conversation_id) {
            Ok(id) => self.book.conversation(id.as_str()).await?,
            Err(_) => None,
        };
        let conversation = conversation
            .filter(|c| c.visitor_id == visitor.id)
            .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "No such conversation."))?;
        let page = self
            .book
            .events_before(&conversation.id, before_seq.max(1), protocol::REPLAY_PAGE)
            .await?;
        let from_seq = page.first().map_or(1, |e| e.seq);
        let visible: Vec<_> = page
            .iter()
            .filter_map(|event| for_shopper(event, &conversation))
            .collect();
        let earlier = |event| {
            encode(&WidgetFrame::Earlier {
                conversation_id: conversation.id.clone(),
                from_seq,
                event,
            })
        };
        if visible.is_empty() {
            return Ok(vec![earlier(None)]);
        }
        Ok(visible
            .into_iter()
            .map(|event| earlier(Some(event)))
            .collect())
    }
}
