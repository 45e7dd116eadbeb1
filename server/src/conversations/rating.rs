//! The shopper's rating of a chat that ended: 1 to 5, with words if they
//! like. Only that conversation's shopper rates it, once, and may change
//! it for a day (the log keeps every rating; the last one counts). Agents
//! see it live, as an event of the conversation. A site may ask for no
//! ratings, and an agent may close a chat without asking.

use protocol::{ConversationState, ErrorCode, EventBody, RatingScale, RatingState};

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
    #[error(
        "this chat is not rated (the shop does not ask, or its agent closed it without asking)"
    )]
    NotAsked,
    #[error("a rating is 1 to 5")]
    Score,
    #[error("a comment is at most {MAX_RATING_COMMENT_CHARS} characters")]
    Comment,
    #[error("this chat was rated more than a day ago; the rating stands")]
    Settled,
}

impl RatingRefused {
    /// The code a client reads.
    pub fn code(&self) -> ErrorCode {
        match self {
            RatingRefused::NotYours => ErrorCode::NotFound,
            RatingRefused::NotAsked | RatingRefused::Settled => ErrorCode::Forbidden,
            RatingRefused::NotEnded | RatingRefused::Score | RatingRefused::Comment => {
                ErrorCode::BadRequest
            }
        }
    }
}

impl Conversations {
    /// Where `visitor_id`'s conversation stands for a rating: asked or not,
    /// what they gave. `NotYours` for anyone else's.
    pub async fn rating_state(
        &self,
        visitor_id: &str,
        conversation_id: &str,
    ) -> Result<Result<RatingState, RatingRefused>, StoreError> {
        Ok(self
            .standing(visitor_id, conversation_id)
            .await?
            .map(|(state, _)| state))
    }

    /// The rating's state, and whether the chat ended (to tell "not ended
    /// yet" from "not asked").
    async fn standing(
        &self,
        visitor_id: &str,
        conversation_id: &str,
    ) -> Result<Result<(RatingState, bool), RatingRefused>, StoreError> {
        let Some(conversation) = self
            .store
            .conversation(conversation_id)
            .await?
            .filter(|c| c.visitor_id == visitor_id)
        else {
            return Ok(Err(RatingRefused::NotYours));
        };
        let scale = self
            .store
            .site_by_id(&conversation.site_id)
            .await?
            .map_or(RatingScale::Off, |site| site.settings.rating);
        let record = self
            .store
            .rating_record(&conversation.id)
            .await?
            .ok_or(StoreError::Corrupt("a conversation without its row".into()))?;
        let ended = conversation.state == ConversationState::Closed;
        let asked = ended && record.asked && scale != RatingScale::Off;
        let (score, comment, first_at) = match record.given {
            Some((score, comment, first_at)) => (Some(score), comment, Some(first_at)),
            None => (None, None, None),
        };
        let state = RatingState {
            scale,
            asked,
            score,
            comment,
            changeable: asked && first_at.is_none_or(|at| now_ms() - at <= CHANGEABLE_MS),
        };
        Ok(Ok((state, ended)))
    }

    /// `visitor_id` rates their conversation `conversation_id`.
    #[tracing::instrument(name = "rate", skip_all, fields(conversation = conversation_id, score))]
    pub async fn rate(
        &self,
        visitor_id: &str,
        conversation_id: &str,
        score: u8,
        comment: Option<String>,
    ) -> Result<Result<RatingState, RatingRefused>, StoreError> {
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
        let (before, ended) = match self.standing(visitor_id, conversation_id).await? {
            Ok(standing) => standing,
            Err(refused) => return Ok(Err(refused)),
        };
        if !before.asked {
            return Ok(Err(if ended {
                RatingRefused::NotAsked
            } else {
                RatingRefused::NotEnded
            }));
        }
        if !before.changeable {
            return Ok(Err(RatingRefused::Settled));
        }
        let turn = self.in_order().await;
        let change = self
            .store
            .add_rating(
                conversation_id,
                visitor_id,
                EventBody::Rated {
                    score,
                    comment: comment.clone(),
                },
            )
            .await?;
        self.publish(&change, Audience::Everyone, &turn);
        Ok(Ok(RatingState {
            score: Some(score),
            comment,
            ..before
        }))
    }
}
