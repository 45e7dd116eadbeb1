//! Signs of life that are not events: someone typing (never stored, it
//! lapses by itself) and how far each side has read (stored, forward only),
//! told to whoever follows the conversation.

use protocol::{AgentFrame, ConversationState, Reader, Seq, Typist, WidgetFrame};

use super::Conversations;
use super::fanout::shown_name;
use crate::hub::{Topic, encode};
use crate::store::{Agent, Conversation, StoreError};

/// Longest draft relayed with a typing signal.
const MAX_DRAFT_CHARS: usize = 500;

impl Conversations {
    /// The shopper is typing in `conversation`; agents following it see
    /// it, and the draft only where the site lets them.
    pub fn shopper_typing(
        &self,
        conversation: &Conversation,
        draft: Option<String>,
        preview: bool,
    ) {
        if conversation.state == ConversationState::Closed {
            return;
        }
        let draft = draft
            .filter(|_| preview)
            .map(|draft| draft.chars().take(MAX_DRAFT_CHARS).collect());
        self.hub.publish(
            &Topic::Conversation(conversation.id.clone()),
            encode(&AgentFrame::Typing {
                conversation_id: conversation.id.clone(),
                typist: Typist::Shopper { draft },
            }),
        );
    }

    /// An agent is typing in `conversation`: their colleagues following it
    /// see it; the shopper too, unless it is a note (`private`).
    /// Nobody types into a closed conversation: nothing is told.
    pub fn agent_typing(&self, agent: &Agent, conversation: &Conversation, private: bool) {
        if conversation.state == ConversationState::Closed {
            return;
        }
        self.hub.publish(
            &Topic::Conversation(conversation.id.clone()),
            encode(&AgentFrame::Typing {
                conversation_id: conversation.id.clone(),
                typist: Typist::Agent {
                    id: agent.id.clone(),
                    name: agent.name.clone(),
                    private,
                },
            }),
        );
        if !private {
            self.hub.publish(
                &Topic::Visitor(conversation.visitor_id.clone()),
                encode(&WidgetFrame::Typing {
                    conversation_id: conversation.id.clone(),
                    name: shown_name(&agent.name, conversation),
                }),
            );
        }
    }

    /// The shopper has seen `conversation_id` up to `seq` (stored: a reply
    /// they saw is not emailed); agents following it see "Seen".
    #[tracing::instrument(name = "shopper_read", skip_all, fields(visitor = visitor_id, conversation = conversation_id, seq))]
    pub async fn shopper_read(
        &self,
        visitor_id: &str,
        conversation_id: &str,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        let moved = self
            .store
            .mark_shopper_read(conversation_id, visitor_id, seq)
            .await?;
        if moved {
            self.hub.publish(
                &Topic::Conversation(conversation_id.to_owned()),
                encode(&AgentFrame::Seen {
                    conversation_id: conversation_id.to_owned(),
                    reader: Reader::Shopper,
                    seq,
                }),
            );
        }
        Ok(moved)
    }

    /// The agents have seen `conversation` up to `seq` (it is open in a
    /// focused inbox): the shopper sees "Seen", and every inbox that counts
    /// its unread messages gets the new count.
    #[tracing::instrument(name = "agent_read", skip_all, fields(agent = %agent.id, conversation = %conversation.id, seq))]
    pub async fn agent_read(
        &self,
        agent: &Agent,
        conversation: &Conversation,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        let turn = self.in_order().await;
        if !self.store.mark_agent_read(&conversation.id, seq).await? {
            return Ok(false);
        }
        self.hub.publish(
            &Topic::Visitor(conversation.visitor_id.clone()),
            encode(&WidgetFrame::Seen {
                conversation_id: conversation.id.clone(),
                seq,
            }),
        );
        self.hub.publish(
            &Topic::Conversation(conversation.id.clone()),
            encode(&AgentFrame::Seen {
                conversation_id: conversation.id.clone(),
                reader: Reader::Agents,
                seq,
            }),
        );
        if let Some(now) = self.store.conversation(&conversation.id).await? {
            super::fanout::publish(&self.hub, &now, &[], super::fanout::Audience::Agents, &turn);
        }
        Ok(true)
    }
}
