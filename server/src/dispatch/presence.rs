//! Who is online, away or offline: this process's inboxes, and what the
//! other processes on the same database say about theirs.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use protocol::Availability;
use tokio::time::Instant;

use super::actor::{Pass, State};
use crate::cluster::Notice;
use crate::hub::Topic;
use crate::store::{Agent, StoreError};

/// Every this many ticks, this process re-tells the others who is online here.
const HEARTBEAT_TICKS: u32 = 5;
/// Another process not heard of for this long is gone, and so is its presence.
pub(super) const REMOTE_SILENCE: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
pub(super) struct Presence {
    /// What the agent chose; see [`Presence::status`] for what holds.
    pub(super) chosen: Availability,
    pub(super) connections: HashSet<u64>,
    pub(super) agent: Option<Agent>,
    /// When the last inbox closed, while the agent was not offline.
    pub(super) left_at: Option<Instant>,
}

impl Presence {
    /// What holds: without an inbox open nobody is there, whatever they chose.
    pub(super) fn status(&self) -> Availability {
        if self.connections.is_empty() {
            Availability::Offline
        } else {
            self.chosen
        }
    }
}

#[derive(Debug)]
pub(super) struct RemoteNode {
    heard: Instant,
    /// (account, agent, status) of its agents who are not offline.
    agents: Vec<(String, String, Availability)>,
}

/// An agent as the whole cluster sees them: their best status anywhere.
pub(super) struct Seat<'a> {
    pub(super) agent: &'a Agent,
    pub(super) status: Availability,
}

/// Online beats away beats offline: one open, online inbox anywhere is enough.
fn best(a: Availability, b: Availability) -> Availability {
    let rank = |s| match s {
        Availability::Online => 2,
        Availability::Away => 1,
        Availability::Offline => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

impl State {
    pub(super) fn presence(&mut self, agent: &Agent) -> &mut Presence {
        let presence = self
            .accounts
            .entry(agent.account_id.clone())
            .or_default()
            .entry(agent.id.clone())
            .or_default();
        // A tab's copy of the agent may be older than one given since.
        if presence.agent.is_none() {
            presence.agent = Some(agent.clone());
        }
        presence
    }

    /// An inbox closed. Without one open nobody answers; after the grace
    /// period (a reload is not leaving) the agent is offline and their
    /// conversations go to others (see `enforce_deadlines`).
    pub(super) fn disconnected(&mut self, agent: &Agent, connection: u64) {
        let presence = self.presence(agent);
        presence.connections.remove(&connection);
        if presence.connections.is_empty() && presence.chosen != Availability::Offline {
            presence.left_at = Some(Instant::now());
        }
    }

    /// Takes an agent's freshly stored details, wherever this process knows them.
    pub(super) fn agent_details(&mut self, agent: Agent) {
        if let Some(presence) = self
            .accounts
            .get_mut(&agent.account_id)
            .and_then(|agents| agents.get_mut(&agent.id))
        {
            presence.agent = Some(agent.clone());
        }
        if self.remote_agents.contains_key(&agent.id) {
            self.remote_agents.insert(agent.id.clone(), agent);
        }
    }

    /// Drops an agent from this process's matching and ends their sockets here.
    pub(super) fn forget_agent(&mut self, agent_id: &str) {
        for agents in self.accounts.values_mut() {
            agents.remove(agent_id);
        }
        self.remote_agents.remove(agent_id);
        for node in self.remote.values_mut() {
            node.agents.retain(|(_, agent, _)| agent != agent_id);
        }
        self.last_assigned.remove(agent_id);
        self.hub.end_sessions(&Topic::Agent(agent_id.to_owned()));
        self.announce();
    }

    /// Tells the other processes who has an inbox open here, and as what.
    pub(super) fn announce(&self) {
        let Some(peers) = &self.peers else { return };
        let agents = self
            .accounts
            .iter()
            .flat_map(|(account, agents)| {
                // Offline with an inbox open is still here: holding chats.
                agents
                    .iter()
                    .filter(|(_, p)| !p.connections.is_empty())
                    .map(|(id, p)| (account.clone(), id.clone(), p.status()))
            })
            .collect();
        peers.tell(Notice::Presence { agents });
    }

    /// Every few ticks: re-tell our presence, forget processes gone silent.
    pub(super) fn heartbeat(&mut self) {
        self.ticks = self.ticks.wrapping_add(1);
        if self.peers.is_none() {
            return;
        }
        if self.ticks.is_multiple_of(HEARTBEAT_TICKS) {
            self.announce();
        }
        self.remote.retain(|node, remote| {
            let alive = remote.heard.elapsed() < REMOTE_SILENCE;
            if !alive {
                tracing::warn!(%node, "another process went silent; forgetting its agents");
            }
            alive
        });
    }

    /// What another process says about its agents; serves the accounts
    /// whose presence changed.
    pub(super) async fn remote_presence(
        &mut self,
        node: String,
        agents: Vec<(String, String, Availability)>,
    ) -> Result<(), StoreError> {
        for (_, agent_id, _) in &agents {
            if !self.remote_agents.contains_key(agent_id)
                && let Some(agent) = self.store.agent_by_id(agent_id).await?
            {
                self.remote_agents.insert(agent_id.clone(), agent);
            }
        }
        let before = self.remote.insert(
            node,
            RemoteNode {
                heard: Instant::now(),
                agents: agents.clone(),
            },
        );
        let before = before.map(|node| node.agents).unwrap_or_default();
        if before == agents {
            return Ok(());
        }
        let accounts: HashSet<String> = before
            .into_iter()
            .chain(agents)
            .map(|(account, _, _)| account)
            .collect();
        for account_id in accounts {
            self.serve_account(&account_id, Pass::moved()).await?;
        }
        Ok(())
    }

    /// Whether the agent has an inbox open on this process.
    pub(super) fn connected_here(&self, agent_id: &str) -> bool {
        self.accounts.values().any(|agents| {
            agents
                .get(agent_id)
                .is_some_and(|p| !p.connections.is_empty())
        })
    }

    /// Whether another live process says the agent has an inbox open there.
    pub(super) fn connected_elsewhere(&self, agent_id: &str) -> bool {
        self.remote
            .values()
            .any(|node| node.agents.iter().any(|(_, id, _)| id == agent_id))
    }

    /// The account's agents who are not offline anywhere in the cluster.
    pub(super) fn seats(&self, account_id: &str) -> HashMap<&str, Seat<'_>> {
        let mut seats: HashMap<&str, Seat<'_>> = HashMap::new();
        if let Some(agents) = self.accounts.get(account_id) {
            for (id, presence) in agents {
                if let Some(agent) = &presence.agent {
                    seats.insert(
                        id,
                        Seat {
                            agent,
                            status: presence.status(),
                        },
                    );
                }
            }
        }
        let remote = self
            .remote
            .values()
            .flat_map(|node| &node.agents)
            .filter(|(account, _, _)| account == account_id);
        for (_, agent_id, status) in remote {
            let Some(agent) = self.remote_agents.get(agent_id) else {
                continue;
            };
            seats
                .entry(agent_id)
                .and_modify(|seat| seat.status = best(seat.status, *status))
                .or_insert(Seat {
                    agent,
                    status: *status,
                });
        }
        seats
    }
}
