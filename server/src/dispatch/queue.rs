//! The line: each waiting shopper's place in their team's line and, when
//! there is history to base it on, about how long they will wait.

use std::collections::{HashMap, HashSet};

use protocol::{Availability, ConversationState, WidgetFrame};

use super::actor::State;
use super::assignment::{Teams, in_team};
use crate::hub::{Topic, encode};
use crate::store::{Conversation, StoreError};

/// Closed conversations the wait estimate averages over.
const HANDLING_SAMPLE: i64 = 20;

/// Conversations whose promise this process remembers having kept.
const PROMISES_REMEMBERED: usize = 10_000;

/// Waiting shoppers told their place when the line moves: the first of
/// each line. Those further back learn theirs when they arrive or come back
/// (and their place only ever improves).
const QUEUE_TOLD: i64 = 100;

impl State {
    /// Tells the first waiting shoppers of each line their place and, when
    /// there is data to base it on, about how long it will take. Returns
    /// the conversations told.
    pub(super) async fn publish_queue(
        &self,
        account_id: &str,
        teams: &Teams,
    ) -> Result<HashSet<String>, StoreError> {
        let waiting = self.store.oldest_waiting(account_id, QUEUE_TOLD).await?;
        if waiting.is_empty() {
            return Ok(HashSet::new());
        }
        let handling_ms = self.handling_ms(account_id).await?;
        // Oldest first: a line's first shoppers are all here, in order.
        let mut lines: HashMap<Option<&str>, Vec<&Conversation>> = HashMap::new();
        for conversation in &waiting {
            lines
                .entry(conversation.team_id.as_deref())
                .or_default()
                .push(conversation);
        }
        for (team, line) in lines {
            let seats = self.seats_for(
                account_id,
                team,
                teams,
                line.first().map_or(0, |c| c.site_agent_capacity),
            );
            for (index, conversation) in line.iter().enumerate() {
                let estimate = self.tell(conversation, index + 1, seats, handling_ms);
                self.keep_promise(conversation, estimate).await?;
            }
        }
        Ok(waiting.into_iter().map(|c| c.id).collect())
    }

    /// How long the account's chats take (for wait estimates).
    pub(super) async fn handling_ms(&self, account_id: &str) -> Result<Option<i64>, StoreError> {
        self.store
            .recent_handling_ms(account_id, HANDLING_SAMPLE)
            .await
    }

    /// Tells one waiting shopper their place (one count, not the whole line).
    pub(super) async fn tell_place(
        &self,
        conversation_id: &str,
        teams: &Teams,
        handling_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let Some(conversation) = self.store.conversation(conversation_id).await? else {
            return Ok(());
        };
        if conversation.state != ConversationState::Waiting {
            return Ok(());
        }
        let place = self.store.place_in_line(&conversation).await?;
        let seats = self.seats_for(
            &conversation.account_id,
            conversation.team_id.as_deref(),
            teams,
            conversation.site_agent_capacity,
        );
        let estimate = self.tell(
            &conversation,
            usize::try_from(place).unwrap_or(usize::MAX),
            seats,
            handling_ms,
        );
        self.keep_promise(&conversation, estimate).await
    }

    /// Keeps the first wait the line promised a conversation, for the
    /// reports; written once (the set spares the database a write per move
    /// of the line).
    async fn keep_promise(
        &self,
        conversation: &Conversation,
        estimate_secs: Option<u32>,
    ) -> Result<(), StoreError> {
        let Some(secs) = estimate_secs else {
            return Ok(());
        };
        let first = {
            let mut promised = self
                .promised
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Forgetting is safe: the store keeps only the first promise.
            if promised.len() >= PROMISES_REMEMBERED {
                promised.clear();
            }
            promised.insert(conversation.id.clone())
        };
        if first {
            self.store
                .keep_queue_promise(&conversation.id, i64::from(secs) * 1000)
                .await?;
        }
        Ok(())
    }

    /// Seats online for a line: their capacity summed.
    fn seats_for(
        &self,
        account_id: &str,
        team: Option<&str>,
        teams: &Teams,
        default_capacity: i64,
    ) -> i64 {
        self.seats(account_id)
            .iter()
            .filter(|(id, seat)| seat.status == Availability::Online && in_team(teams, id, team))
            .map(|(_, seat)| seat.agent.capacity.unwrap_or(default_capacity))
            .sum()
    }

    /// Tells the shopper their place; returns the wait estimated, if any.
    fn tell(
        &self,
        conversation: &Conversation,
        place: usize,
        seats: i64,
        handling_ms: Option<i64>,
    ) -> Option<u32> {
        let position = u32::try_from(place).unwrap_or(u32::MAX);
        let estimate_secs = estimate_wait_secs(position, seats, handling_ms);
        let frame = WidgetFrame::Queue {
            position,
            estimate_secs,
            agents_online: seats > 0,
        };
        self.hub.publish(
            &Topic::Visitor(conversation.visitor_id.clone()),
            encode(&frame),
        );
        estimate_secs
    }
}

/// With every seat taken, one frees about every `handling / seats`; the
/// shopper at `position` waits for that many. No seats or no history: no
/// estimate, rather than a made-up one.
pub fn estimate_wait_secs(position: u32, seats: i64, handling_ms: Option<i64>) -> Option<u32> {
    let handling_ms = handling_ms.filter(|&h| h > 0)?;
    if seats <= 0 {
        return None;
    }
    let wait_ms = i64::from(position).saturating_mul(handling_ms) / seats;
    Some(u32::try_from(wait_ms / 1000).unwrap_or(u32::MAX).max(1))
}

#[cfg(test)]
mod tests {
    use super::estimate_wait_secs;

    #[test]
    fn estimates_only_from_data() {
        assert_eq!(estimate_wait_secs(1, 2, None), None, "no history yet");
        assert_eq!(
            estimate_wait_secs(1, 0, Some(60_000)),
            None,
            "nobody online"
        );
        // Two seats, six-minute chats: one frees every three minutes.
        assert_eq!(estimate_wait_secs(2, 2, Some(360_000)), Some(360));
        assert_eq!(
            estimate_wait_secs(1, 50, Some(10)),
            Some(1),
            "never says zero"
        );
    }
}
