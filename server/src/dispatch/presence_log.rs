//! Who was online when, kept for the reports: at every tick the dispatcher
//! compares each agent's status on this process with what it last wrote
//! and writes the changes as spans (`store/presence.rs`); every few ticks
//! it says it is still here, so a span a stopped process left open ends
//! where it was last seen.

use std::collections::HashMap;

use protocol::Availability;

use super::actor::State;
use crate::store::StoreError;

/// Every this many ticks, the open spans are marked as still seen.
const SEEN_TICKS: u32 = 5;

/// What this process last wrote of each agent: agent id → (account, status).
#[derive(Debug)]
pub(super) struct PresenceLog {
    node: String,
    written: HashMap<String, (String, Availability)>,
}

impl PresenceLog {
    pub(super) fn new(node: String) -> PresenceLog {
        PresenceLog {
            node,
            written: HashMap::new(),
        }
    }
}

impl State {
    /// Writes the agents' status changes since the last tick.
    pub(super) async fn log_presence(&mut self) -> Result<(), StoreError> {
        let now: HashMap<String, (String, Availability)> = self
            .accounts
            .iter()
            .flat_map(|(account, agents)| {
                agents
                    .iter()
                    .map(|(agent, p)| (agent.clone(), (account.clone(), p.status())))
            })
            .filter(|(_, (_, status))| *status != Availability::Offline)
            .collect();
        let mut changes = Vec::new();
        for (agent, (account, status)) in &now {
            if self.presence_log.written.get(agent).map(|(_, s)| s) != Some(status) {
                changes.push((agent.clone(), account.clone(), *status));
            }
        }
        for (agent, (account, _)) in &self.presence_log.written {
            if !now.contains_key(agent) {
                changes.push((agent.clone(), account.clone(), Availability::Offline));
            }
        }
        for (agent, account, status) in changes {
            self.store
                .presence_changed(&self.presence_log.node, &account, &agent, status)
                .await?;
            if status == Availability::Offline {
                self.presence_log.written.remove(&agent);
            } else {
                self.presence_log.written.insert(agent, (account, status));
            }
        }
        if self.ticks.is_multiple_of(SEEN_TICKS) && !self.presence_log.written.is_empty() {
            self.store.presence_seen(&self.presence_log.node).await?;
        }
        Ok(())
    }
}
