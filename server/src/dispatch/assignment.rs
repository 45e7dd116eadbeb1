//! Handing out waiting conversations: the pure decision is `matcher`'s;
//! this gathers the candidates, asks the service to assign, and retries
//! when the store says another process was faster.

use std::collections::{HashMap, HashSet};

use protocol::{Availability, ConversationState};

use super::actor::{Pass, State};
use crate::matcher::{self, Candidate};
use crate::store::{Conversation, StoreError, now_ms};

/// agent id → the teams they belong to.
pub(super) type Teams = HashMap<String, HashSet<String>>;

/// Whether an agent may take a conversation routed to `team` (`None`: anyone).
pub(super) fn in_team(teams: &Teams, agent_id: &str, team: Option<&str>) -> bool {
    team.is_none_or(|team| teams.get(agent_id).is_some_and(|t| t.contains(team)))
}

/// Waiting conversations read at a time, oldest first.
const ASSIGN_BATCH: i64 = 100;
/// Batches looked through per pass at most: a line that long, with room
/// left only for conversations further back (other teams'), is served on
/// the next pass.
const ASSIGN_BATCHES: usize = 10;

impl State {
    /// One pass over an account: hands out its oldest waiting conversations
    /// while anyone has room (none looked at when nobody has), then tells
    /// the waiting shoppers whose place changed where they stand. The work
    /// is bounded whatever the length of the line.
    pub(super) async fn serve_account(
        &mut self,
        account_id: &str,
        pass: Pass,
    ) -> Result<(), StoreError> {
        let teams = self.store.team_memberships(account_id).await?;
        let mut loads = self.loads(account_id).await?;
        let mut assigned = false;
        let mut after = None;
        for _ in 0..ASSIGN_BATCHES {
            if !self.anyone_has_room(account_id, &loads) {
                break;
            }
            let batch = self
                .store
                .waiting_after(account_id, after.as_ref(), ASSIGN_BATCH)
                .await?;
            let full = batch.len() as i64 == ASSIGN_BATCH;
            for conversation in &batch {
                if !self.anyone_has_room(account_id, &loads) {
                    break;
                }
                assigned |= self.try_assign(conversation, &mut loads, &teams).await?;
            }
            if !full {
                break;
            }
            after = batch.into_iter().last();
        }
        let told = if assigned || pass.line_moved {
            self.publish_queue(account_id, &teams).await?
        } else {
            HashSet::new()
        };
        let untold: Vec<&String> = pass.arrived.difference(&told).collect();
        if !untold.is_empty() {
            let handling_ms = self.handling_ms(account_id).await?;
            for conversation_id in untold {
                self.tell_place(conversation_id, &teams, handling_ms)
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether any online agent of the account might take one more.
    fn anyone_has_room(&self, account_id: &str, loads: &HashMap<String, i64>) -> bool {
        self.seats(account_id).iter().any(|(id, seat)| {
            seat.status == Availability::Online
                && loads.get(*id).copied().unwrap_or(0)
                    < seat
                        .agent
                        .capacity
                        .unwrap_or(*protocol::CAPACITY_RANGE.end())
        })
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
        let mut returning_to = None;
        // The store may disagree with our view (another process assigned in
        // the meantime); refresh and try again a few times.
        for _ in 0..3 {
            let seats = self.seats(&conversation.account_id);
            let candidates: Vec<Candidate<'_>> = seats
                .iter()
                .filter(|(_, seat)| seat.status == Availability::Online)
                .filter(|(id, _)| in_team(teams, id, conversation.team_id.as_deref()))
                .filter(|(id, _)| conversation.passed_over_by.as_deref() != Some(**id))
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
            if candidates.is_empty() {
                return Ok(false);
            }
            // Asked only of someone who can be served (not of every shopper
            // in a long line).
            if returning_to.is_none() {
                returning_to = Some(
                    self.store
                        .previous_agent_of_visitor(&conversation.visitor_id, &conversation.id)
                        .await?,
                );
            }
            let Some(chosen) =
                matcher::pick(&candidates, returning_to.clone().flatten().as_deref())
            else {
                return Ok(false);
            };
            let Some(agent) = seats.get(chosen).map(|seat| seat.agent.clone()) else {
                return Ok(false);
            };
            let capacity = agent.capacity.unwrap_or(conversation.site_agent_capacity);
            match self
                .conversations
                .assign(conversation, &agent, capacity)
                .await?
            {
                Some(_) => {
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
