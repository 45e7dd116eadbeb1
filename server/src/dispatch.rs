//! The one task that owns live agent presence and hands out waiting
//! conversations. Every decision goes through its queue, so decisions never
//! race inside a process; the store's guarded updates keep them correct
//! across processes too.

use std::collections::{HashMap, HashSet};

use protocol::AgentFrame;
use tokio::sync::{mpsc, oneshot};

use crate::fanout::{self, encode};
use crate::hub::{Hub, Topic};
use crate::matcher::{self, Candidate};
use crate::store::{Agent, Store, StoreError, now_ms};
use std::sync::Arc;

#[derive(Debug)]
enum Command {
    Connected {
        agent: Agent,
        connection: u64,
        reply: oneshot::Sender<bool>,
    },
    Disconnected {
        agent: Agent,
        connection: u64,
    },
    SetPresence {
        agent: Agent,
        online: bool,
    },
    Waiting {
        account_id: String,
    },
}

/// Handle to the dispatcher task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    commands: mpsc::UnboundedSender<Command>,
}

#[derive(Debug, Default)]
struct Presence {
    wants_online: bool,
    connections: HashSet<u64>,
    last_assigned_ms: i64,
    agent: Option<Agent>,
}

impl Presence {
    fn available(&self) -> bool {
        self.wants_online && !self.connections.is_empty()
    }
}

struct State {
    store: Store,
    hub: Arc<Hub>,
    /// account id → agent id → presence
    accounts: HashMap<String, HashMap<String, Presence>>,
}

impl Dispatcher {
    /// Starts the task; it ends when every handle is dropped.
    pub fn start(store: Store, hub: Arc<Hub>) -> Dispatcher {
        let (commands, mut queue) = mpsc::unbounded_channel();
        let mut state = State {
            store,
            hub,
            accounts: HashMap::new(),
        };
        tokio::spawn(async move {
            while let Some(command) = queue.recv().await {
                state.handle(command).await;
            }
        });
        Dispatcher { commands }
    }

    /// An inbox connected; returns whether the agent is online.
    pub async fn connected(&self, agent: &Agent, connection: u64) -> bool {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::Connected {
            agent: agent.clone(),
            connection,
            reply,
        });
        answer.await.unwrap_or(false)
    }

    pub fn disconnected(&self, agent: &Agent, connection: u64) {
        let _ = self.commands.send(Command::Disconnected {
            agent: agent.clone(),
            connection,
        });
    }

    pub fn set_presence(&self, agent: &Agent, online: bool) {
        let _ = self.commands.send(Command::SetPresence {
            agent: agent.clone(),
            online,
        });
    }

    /// A conversation of this account is waiting: try to hand it out.
    pub fn waiting(&self, account_id: &str) {
        let _ = self.commands.send(Command::Waiting {
            account_id: account_id.to_owned(),
        });
    }
}

impl State {
    async fn handle(&mut self, command: Command) {
        let account_id = match command {
            Command::Connected {
                agent,
                connection,
                reply,
            } => {
                let presence = self.presence(&agent);
                presence.connections.insert(connection);
                let _ = reply.send(presence.wants_online);
                agent.account_id
            }
            Command::Disconnected { agent, connection } => {
                let presence = self.presence(&agent);
                presence.connections.remove(&connection);
                // No inbox open, no one to answer: offline. An inbox that
                // reconnects says again that its agent wants to be online.
                if presence.connections.is_empty() {
                    presence.wants_online = false;
                }
                return;
            }
            Command::SetPresence { agent, online } => {
                self.presence(&agent).wants_online = online;
                self.hub.publish(
                    &Topic::Agent(agent.id.clone()),
                    encode(&AgentFrame::Presence { online }),
                );
                agent.account_id
            }
            Command::Waiting { account_id } => account_id,
        };
        if let Err(err) = self.assign_waiting(&account_id).await {
            tracing::error!(%err, account_id, "assigning waiting conversations failed");
        }
    }

    fn presence(&mut self, agent: &Agent) -> &mut Presence {
        let presence = self
            .accounts
            .entry(agent.account_id.clone())
            .or_default()
            .entry(agent.id.clone())
            .or_default();
        presence.agent = Some(agent.clone());
        presence
    }

    /// Hands out the account's waiting conversations, oldest first, while
    /// anyone is available.
    async fn assign_waiting(&mut self, account_id: &str) -> Result<(), StoreError> {
        let Some(agents) = self.accounts.get_mut(account_id) else {
            return Ok(());
        };
        if !agents.values().any(Presence::available) {
            return Ok(());
        }
        let waiting = self.store.waiting_conversations(account_id).await?;
        if waiting.is_empty() {
            return Ok(());
        }
        let mut loads: HashMap<String, i64> = self
            .store
            .agent_loads(account_id)
            .await?
            .into_iter()
            .collect();
        for conversation in waiting {
            let candidates: Vec<Candidate<'_>> = agents
                .iter()
                .filter(|(_, presence)| presence.available())
                .map(|(id, presence)| Candidate {
                    agent_id: id,
                    open: loads.get(id).copied().unwrap_or(0),
                    last_assigned_ms: presence.last_assigned_ms,
                })
                .collect();
            let Some(chosen) = matcher::pick(&candidates).map(str::to_owned) else {
                break;
            };
            let Some(agent) = agents.get(&chosen).and_then(|p| p.agent.clone()) else {
                break;
            };
            if let Some((event, conversation)) = self.store.assign(&conversation.id, &agent).await?
            {
                fanout::publish(&self.hub, &conversation, &[event]);
                *loads.entry(chosen.clone()).or_default() += 1;
                if let Some(presence) = agents.get_mut(&chosen) {
                    presence.last_assigned_ms = now_ms();
                }
                tracing::info!(conversation = %conversation.id, agent = %chosen, "assigned");
            }
        }
        Ok(())
    }
}
