//! Handing out waiting conversations: the pure decision is `matcher`'s;
//! this gathers the candidates, asks the service to assign, and retries
//! when the store says another process was faster.

use std::collections::{HashMap, HashSet};

use protocol::{Availability, ConversationState};

use super::actor::State;
use crate::matcher::{self, Candidate};
use crate::store::{Conversation, StoreError, now_ms};

/// agent id → the teams they belong to.
pub(super) type Teams = HashMap<String, HashSet<String>>;

/// Whether an agent may take a conversation routed to `team` (`None`: anyone).
pub(super) fn in_team(teams: &Teams, agent_id: &str, team: Option<&str>) -> bool {
    team.is_none_or(|team| teams.get(agent_id).is_some_and(|t| t.contains(team)))
}

impl State {
    /// Hands out the account's waiting conversations, oldest first, while
    /// anyone has room; then tells each shopper still waiting where they
    /// stand.
    pub(super) async fn assign_waiting(&mut self, account_id: &str) -> Result<(), StoreError> {
        let waiting = self.store.waiting_conversations(account_id).await?;
        if waiting.is_empty() {
            return Ok(());
        }
        let mut loads = self.loads(account_id).await?;
        let teams = self.store.team_memberships(account_id).await?;
        let mut still_waiting = Vec::new();
        for conversation in waiting {
            if !self.try_assign(&conversation, &mut loads, &teams).await? {
                still_waiting.push(conversation);
            }
        }
        self.publish_queue(account_id, &still_waiting, &teams).await
    }

    async fn loads(&self, account_id: &str) -> Result<HashMap<String, i64>, StoreError> {
        Ok(self
            .store
            .agent_loads(account_id)
            .await?
            .into_iter()
            .collect())
    }

    /// Offers one conversation; returns whether it is no longer waiting.
    async fn try_assign(
        &mut self,
        conversation: &Conversation,
        loads: &mut HashMap<String, i64>,
        teams: &Teams,
    ) -> Result<bool, StoreError> {
        let returning_to = self
            .store
            .previous_agent_of_visitor(&conversation.visitor_id, &conversation.id)
            .await?;
        // The store may disagree with our view (another process assigned in
        // the meantime); refresh and try again a few times.
        for _ in 0..3 {
            let seats = self.seats(&conversation.account_id);
            let passed_over = self.passed_over.get(&conversation.id);
            let candidates: Vec<Candidate<'_>> = seats
                .iter()
                .filter(|(_, seat)| seat.status == Availability::Online)
                .filter(|(id, _)| in_team(teams, id, conversation.team_id.as_deref()))
                .filter(|(id, _)| passed_over.is_none_or(|skip| !skip.contains(**id)))
                .map(|(id, seat)| Candidate {
                    agent_id: id,
                    open: loads.get(*id).copied().unwrap_or(0),
                    capacity: seat
                        .agent
                        .capacity
                        .unwrap_or(conversation.site_agent_capacity),
                    last_assigned_ms: self.last_assigned.get(*id).copied().unwrap_or(0),
                    speaks: conversation
                        .language
                        .as_deref()
                        .is_some_and(|language| seat.agent.speaks(language)),
                })
                .collect();
            let Some(chosen) = matcher::pick(&candidates, returning_to.as_deref()) else {
                return Ok(false);
            };
            let Some(agent) = seats.get(chosen).map(|seat| seat.agent.clone()) else {
                return Ok(false);
            };
            let capacity = agent.capacity.unwrap_or(conversation.site_agent_capacity);
            match self
                .conversations
                .assign(&conversation.id, &agent, capacity)
                .await?
            {
                Some(assigned) => {
                    self.passed_over.remove(&assigned.id);
                    *loads.entry(agent.id.clone()).or_default() += 1;
                    self.last_assigned.insert(agent.id.clone(), now_ms());
                    return Ok(true);
                }
                None => {
                    let now = self.store.conversation(&conversation.id).await?;
                    if now.is_none_or(|c| c.state != ConversationState::Waiting) {
                        return Ok(true);
                    }
                    *loads = self.loads(&conversation.account_id).await?;
                }
            }
        }
        Ok(false)
    }
}
