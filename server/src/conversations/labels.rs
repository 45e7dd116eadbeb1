//! Labels on conversations ("refund", "vip"), put on and taken off by the
//! account's agents; every inbox following it hears of the change.

use super::Conversations;
use super::fanout::Audience;
use crate::domain::ConversationId;
use crate::store::{Agent, Change, LabelName, LabelRefused, StoreError};

impl Conversations {
    /// Puts a label on a conversation of the agent's account, or takes it
    /// off; inboxes hear of the conversation as it now stands.
    #[tracing::instrument(name = "label", skip_all, fields(agent = %agent.id, conversation = %conversation))]
    pub async fn label(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        name: &LabelName,
        on: bool,
    ) -> Result<Result<protocol::ConversationSummary, LabelRefused>, StoreError> {
        let turn = self.in_order().await;
        let labelled = match self
            .store
            .label_conversation(
                &agent.account_id,
                conversation.as_str(),
                name,
                &agent.id,
                on,
            )
            .await?
        {
            Ok(labelled) => labelled,
            Err(refused) => return Ok(Err(refused)),
        };
        let change = Change {
            conversation: labelled,
            events: Vec::new(),
        };
        self.publish(&change, Audience::Everyone, &turn);
        Ok(Ok(change.conversation.summary()))
    }
}
