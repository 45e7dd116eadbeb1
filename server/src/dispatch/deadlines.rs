//! Acting for people who are gone or silent: an agent gone longer than the
//! grace period goes offline and their chats back to the line; so does a
//! chat whose agent did not reply in time. Both agents see why in a note.
//! And snoozes whose time came end.

use std::time::Duration;

use protocol::{Availability, RequeueReason};

use tokio::time::Instant;

use super::actor::State;
use super::presence::REMOTE_SILENCE;
use crate::store::{Agent, StoreError, now_ms};

/// Every this many ticks the holders of open conversations are looked at
/// for anyone gone from every process.
const ABSENCE_CHECK_TICKS: u32 = 5;

/// How long people get before the dispatcher acts for them.
#[derive(Clone, Debug)]
pub struct Deadlines {
    /// From assignment to the agent's first reply.
    pub reply: Duration,
    /// From an agent's last inbox closing to treating them as offline.
    pub offline_grace: Duration,
    /// What snoozes end by.
    pub clock: crate::clock::Clock,
}

impl State {
    /// What is due now. Requeued chats reach the line through the
    /// service's nudges, which the actor takes next.
    pub(super) async fn enforce_deadlines(&mut self) -> Result<(), StoreError> {
        let grace = self.deadlines.offline_grace;
        let mut gone = Vec::new();
        for agents in self.accounts.values_mut() {
            for presence in agents.values_mut() {
                if presence.left_at.is_some_and(|left| left.elapsed() >= grace) {
                    presence.left_at = None;
                    presence.chosen = Availability::Offline;
                    if let Some(agent) = presence.agent.clone() {
                        gone.push(agent);
                    }
                }
            }
        }
        if !gone.is_empty() {
            self.announce();
        }
        for agent in gone {
            tracing::info!(agent = %agent.id, "offline after the grace period");
            // An inbox still open on another process holds on to them.
            if !self.connected_elsewhere(&agent.id) {
                self.requeue_all_of(&agent, (RequeueReason::WentOffline, "went offline"))
                    .await?;
            }
        }
        if self.ticks.is_multiple_of(ABSENCE_CHECK_TICKS) {
            self.requeue_absent_holders().await?;
            self.conversations.resume_answered_holds().await?;
        }
        // Woken conversations reach their agent or the line through the
        // service's nudges.
        self.conversations
            .wake_snoozed(self.deadlines.clock.now_ms())
            .await?;
        let reply_ms = i64::try_from(self.deadlines.reply.as_millis()).unwrap_or(i64::MAX);
        for (conversation_id, agent_id, account_id) in self
            .store
            .unanswered_since(now_ms().saturating_sub(reply_ms))
            .await?
        {
            let name = self
                .accounts
                .get(&account_id)
                .and_then(|agents| agents.get(&agent_id))
                .and_then(|p| p.agent.as_ref())
                .map_or_else(|| "The assigned agent".to_owned(), |a| a.name.clone());
            let reason = format!(
                "{name} did not reply within {}; offered to the next available agent.",
                describe(self.deadlines.reply)
            );
            self.conversations
                .requeue(
                    &conversation_id,
                    &agent_id,
                    (RequeueReason::NoReply, &reason),
                    true,
                )
                .await?;
        }
        Ok(())
    }

    /// Agents who hold conversations with no inbox open on any process for
    /// longer than the grace period: they left while this process was
    /// down, or the process they were on was lost (its presence expired),
    /// or they went offline and closed the inbox. Their conversations go
    /// back to the line. A process that has peers waits until it has heard
    /// from all of them before it calls anyone absent.
    async fn requeue_absent_holders(&mut self) -> Result<(), StoreError> {
        if self.peers.is_some() && self.started.elapsed() < REMOTE_SILENCE {
            return Ok(());
        }
        let holders = self.store.holders().await?;
        self.absent.retain(|agent_id, _| holders.contains(agent_id));
        let grace = self.deadlines.offline_grace;
        for agent_id in holders {
            // Left from here: the grace period above is theirs.
            let leaving_here = self
                .accounts
                .values()
                .any(|agents| agents.get(&agent_id).is_some_and(|p| p.left_at.is_some()));
            if leaving_here || self.connected_here(&agent_id) || self.connected_elsewhere(&agent_id)
            {
                self.absent.remove(&agent_id);
                continue;
            }
            let since = *self
                .absent
                .entry(agent_id.clone())
                .or_insert_with(Instant::now);
            if since.elapsed() < grace {
                continue;
            }
            self.absent.remove(&agent_id);
            if let Some(agent) = self.store.agent_by_id(&agent_id).await? {
                tracing::info!(agent = %agent.id, "not connected anywhere after the grace period");
                self.requeue_all_of(&agent, (RequeueReason::WentOffline, "is not connected"))
                    .await?;
            }
        }
        Ok(())
    }

    /// Every conversation the agent holds goes back to the line, with why.
    pub(super) async fn requeue_all_of(
        &self,
        agent: &Agent,
        (why, what): (RequeueReason, &str),
    ) -> Result<(), StoreError> {
        for conversation_id in self.store.conversations_held_by(&agent.id).await? {
            let reason = format!(
                "{} {what}; offered to the next available agent.",
                agent.name
            );
            self.conversations
                .requeue(&conversation_id, &agent.id, (why, &reason), false)
                .await?;
        }
        Ok(())
    }
}

/// "2 minutes", "90 seconds": a deadline as people say it.
fn describe(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 120 && secs.is_multiple_of(60) {
        format!("{} minutes", secs / 60)
    } else if secs == 1 {
        "1 second".to_owned()
    } else {
        format!("{secs} seconds")
    }
}
