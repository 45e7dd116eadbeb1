//! The shopper's rating of a chat that ended: 1 to 5, with words if they
//! like. Only that conversation's shopper rates it, once, and may change
//! it for a day (the log keeps every rating; the last one counts). Agents
//! see it live, as an event of the conversation.

use protocol::{ConversationState, EventBody, EventKind};

use super::Conversations;
use super::fanout::Audience;
use crate::store::{StoreError, now_ms};

/// Longest comment kept with a rating.
pub const MAX_RATING_COMMENT_CHARS: usize = 1000;
/// How long a rating may be changed after it was first given.
const CHANGEABLE_MS: i64 = 24 * 3600 * 1000;

/// Why a rating was not taken. Nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatingRefused {
    #[error("no such conversation")]
    NotYours,
    #[error("a chat is rated once it has ended")]
    NotEnded,
    #[error("a rating is 1 to 5")]
    Score,
    #[error("a comment is at most {MAX_RATING_COMMENT_CHARS} characters")]
    Comment,
    #[error("this chat was rated more than a day ago; the rating stands")]
    Settled,
}

impl Conversations {
    /// `visitor_id` rates their conversation `conversation_id`.
    #[tracing::instrument(name = "rate", skip_all, fields(conversation = conversation_id, score))]
    pub async fn rate(
        &self,
        visitor_id: &str,
        conversation_id: &str,
        score: u8,
        comment: Option<String>,
    ) -> Result<Result<(), RatingRefused>, StoreError> {
        if !(1..=5).contains(&score) {
            return Ok(Err(RatingRefused::Score));
        }
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_RATING_COMMENT_CHARS)
        {
            return Ok(Err(RatingRefused::Comment));
        }
        let Some(conversation) = self
            .store
            .conversation(conversation_id)
            .await?
            .filter(|c| c.visitor_id == visitor_id)
        else {
            return Ok(Err(RatingRefused::NotYours));
        };
        if conversation.state != ConversationState::Closed {
            return Ok(Err(RatingRefused::NotEnded));
        }
        let first = self
            .store
            .first_event_at(&conversation.id, EventKind::Rated)
            .await?;
        if first.is_some_and(|at| now_ms() - at > CHANGEABLE_MS) {
            return Ok(Err(RatingRefused::Settled));
        }
        let turn = self.in_order().await;
        let change = self
            .store
            .add_rating(
                &conversation.id,
                visitor_id,
                EventBody::Rated { score, comment },
            )
            .await?;
        self.publish(&change, Audience::Everyone, &turn);
        Ok(Ok(()))
    }
}
