//! The line: each waiting shopper's place in their team's line and, when
//! there is history to base it on, about how long they will wait.

use std::collections::HashMap;

use protocol::{Availability, WidgetFrame};

use super::actor::State;
use super::assignment::{Teams, in_team};
use crate::hub::{Topic, encode};
use crate::store::{Conversation, StoreError};

/// Closed conversations the wait estimate averages over.
const HANDLING_SAMPLE: i64 = 20;

impl State {
    /// Tells every waiting shopper their place in their team's line and,
    /// when there is data to base it on, about how long it will take.
    pub(super) async fn publish_queue(
        &self,
        account_id: &str,
        waiting: &[Conversation],
        teams: &Teams,
    ) -> Result<(), StoreError> {
        if waiting.is_empty() {
            return Ok(());
        }
        let handling_ms = self
            .store
            .recent_handling_ms(account_id, HANDLING_SAMPLE)
            .await?;
        let mut lines: HashMap<Option<&str>, Vec<&Conversation>> = HashMap::new();
        for conversation in waiting {
            lines
                .entry(conversation.team_id.as_deref())
                .or_default()
                .push(conversation);
        }
        for (team, line) in lines {
            let default_capacity = line.first().map_or(0, |c| c.site_agent_capacity);
            let seats: i64 = self
                .seats(account_id)
                .iter()
                .filter(|(id, seat)| {
                    seat.status == Availability::Online && in_team(teams, id, team)
                })
                .map(|(_, seat)| seat.agent.capacity.unwrap_or(default_capacity))
                .sum();
            for (index, conversation) in line.iter().enumerate() {
                let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
                let frame = WidgetFrame::Queue {
                    position,
                    estimate_secs: estimate_wait_secs(position, seats, handling_ms),
                    agents_online: seats > 0,
                };
                self.hub.publish(
                    &Topic::Visitor(conversation.visitor_id.clone()),
                    encode(&frame),
                );
            }
        }
        Ok(())
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
