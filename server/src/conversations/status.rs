//! Statuses: an agent sets a conversation aside (pending: waiting on the
//! customer; snoozed: until a time or until the customer writes) or opens
//! it again, also after a close; the customer's word and the clock wake a
//! set-aside conversation by themselves. A set-aside conversation keeps its
//! agent but none of their seats, so setting one aside serves the line;
//! one that wakes goes back to its agent if they have a free seat, else to
//! the line (and an agent no longer online loses it to the line at the
//! dispatcher's next look, as any of theirs).

use protocol::{Status, StatusWhy};

use super::fanout::Audience;
use super::{Conversations, Nudge};
use crate::domain::ConversationId;
use crate::store::{Agent, Posted, StatusRefused, StoreError};

/// Snoozes woken per look at the clock, at most (the rest at the next).
const WAKE_BATCH: i64 = 100;

impl Conversations {
    /// An agent's choice of status for a conversation of their account.
    #[tracing::instrument(name = "change_status", skip_all, fields(agent = %agent.id, conversation = %conversation))]
    pub async fn change_status(
        &self,
        agent: &Agent,
        conversation: &ConversationId,
        status: &Status,
    ) -> Result<Result<(), StatusRefused>, StoreError> {
        self.set_status(conversation.as_str(), Some(agent), status, StatusWhy::Agent)
            .await
    }

    async fn set_status(
        &self,
        conversation_id: &str,
        by: Option<&Agent>,
        status: &Status,
        why: StatusWhy,
    ) -> Result<Result<(), StatusRefused>, StoreError> {
        let turn = self.in_order().await;
        let change = match self
            .store
            .set_status(conversation_id, by, status, why)
            .await?
        {
            Ok(change) => change,
            Err(refused) => return Ok(Err(refused)),
        };
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        tracing::info!(?status, ?why, "status changed");
        // A seat freed, or a conversation back in the line.
        self.nudge(Nudge::Serve {
            account_id: change.conversation.account_id.clone(),
        });
        Ok(Ok(()))
    }

    /// After a customer's message is stored: a set-aside conversation they
    /// wrote into is open again.
    pub(super) async fn customer_wrote(&self, posted: &Posted) -> Result<(), StoreError> {
        if posted.is_duplicate() || !posted.conversation.status.is_set_aside() {
            return Ok(());
        }
        // Refused only if someone else opened or closed it meanwhile.
        let _ = self
            .set_status(
                &posted.conversation.id,
                None,
                &Status::Open,
                StatusWhy::CustomerWrote,
            )
            .await?;
        Ok(())
    }

    /// Opens again every set-aside conversation its customer wrote in
    /// after it was set aside, whose opening a stop between the message's
    /// commit and the status change lost; how many.
    pub async fn resume_answered_holds(&self) -> Result<usize, StoreError> {
        let answered = self.store.holds_answered(WAKE_BATCH).await?;
        let mut resumed = 0;
        for conversation_id in answered {
            let opened = self
                .set_status(
                    &conversation_id,
                    None,
                    &Status::Open,
                    StatusWhy::CustomerWrote,
                )
                .await?;
            resumed += usize::from(opened.is_ok());
        }
        if resumed > 0 {
            tracing::info!(resumed, "conversations the customer wrote in opened again");
        }
        Ok(resumed)
    }

    /// Opens again every conversation snoozed until `now_ms` or before;
    /// how many woke.
    pub async fn wake_snoozed(&self, now_ms: i64) -> Result<usize, StoreError> {
        let due = self.store.snoozes_due(now_ms, WAKE_BATCH).await?;
        let mut woken = 0;
        for conversation_id in due {
            let woke = self
                .set_status(
                    &conversation_id,
                    None,
                    &Status::Open,
                    StatusWhy::SnoozeEnded,
                )
                .await?;
            woken += usize::from(woke.is_ok());
        }
        Ok(woken)
    }
}
