//! Blocking a shopper: an agent blocks the shopper of a conversation (and,
//! if they choose, the address they last came from); their sockets end at
//! once in every process and the conversation closes. A block holds for the
//! verified customer on any browser, through links and by email, until an
//! owner lifts it.

use super::{Refusal, VisitorResult, Visitors};
use crate::domain::ConversationId;
use crate::hub::Topic;
use crate::store::{Agent, Conversation, NewBlock};

/// Longest reason kept.
const MAX_REASON_CHARS: usize = 500;

impl Visitors {
    /// `agent` blocks the shopper of `conversation` (of their account).
    #[tracing::instrument(name = "block", skip_all, fields(agent = %agent.id, conversation = %conversation.id))]
    pub async fn block(
        &self,
        agent: &Agent,
        conversation: &Conversation,
        reason: &str,
        with_address: bool,
    ) -> VisitorResult<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refusal::bad_request(format!(
                "Say why, in 1 to {MAX_REASON_CHARS} characters: the owner sees it in the list of blocks."
            ))
            .into());
        }
        let address = if with_address {
            self.book.visitor_address(&conversation.visitor_id).await?
        } else {
            None
        };
        let block = self
            .book
            .block(NewBlock {
                account_id: &agent.account_id,
                visitor_id: &conversation.visitor_id,
                address: address.as_deref(),
                reason,
                blocked_by: &agent.id,
            })
            .await?;
        tracing::info!(%block, address = address.is_some(), "shopper blocked");
        self.hub
            .end_sessions_everywhere(&Topic::Visitor(conversation.visitor_id.clone()));
        if let Some(address) = &address {
            self.hub.end_sessions_everywhere(&Topic::Address(format!(
                "{}/{address}",
                agent.account_id
            )));
        }
        if let Ok(id) = ConversationId::parse(&conversation.id) {
            self.conversations.close(agent, &id, false).await?;
        }
        Ok(())
    }

    /// An owner lifts a block of their account; `false` if there was none.
    pub async fn lift_block(&self, owner: &Agent, block_id: &str) -> VisitorResult<bool> {
        let lifted = self.book.lift_block(&owner.account_id, block_id).await?;
        if lifted {
            tracing::info!(block = %block_id, by = %owner.id, "block lifted");
        }
        Ok(lifted)
    }
}
