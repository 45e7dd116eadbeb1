//! The dispatcher's one task: takes commands, the service's nudges and a
//! clock tick, in that loop and nowhere else.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use protocol::{AgentFrame, Availability, RequeueReason};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::presence::{Presence, RemoteNode};
use super::{Command, Deadlines, Parts};
use crate::cluster::{Link, Notice};
use crate::conversations::{Conversations, Nudge};
use crate::hub::{Hub, Topic, encode};
use crate::store::{Agent, Store};

/// How often deadlines are checked.
const TICK: Duration = Duration::from_secs(1);

/// What the task owns.
pub(super) struct State {
    pub(super) store: Store,
    pub(super) conversations: Conversations,
    pub(super) hub: Arc<Hub>,
    pub(super) deadlines: Deadlines,
    /// account id → agent id → presence
    pub(super) accounts: HashMap<String, HashMap<String, Presence>>,
    /// agent id → when this process last gave them a conversation (Unix ms).
    pub(super) last_assigned: HashMap<String, i64>,
    pub(super) peers: Option<Link>,
    /// node → what another process last said about its agents.
    pub(super) remote: HashMap<String, RemoteNode>,
    /// Agents other processes told of, as stored.
    pub(super) remote_agents: HashMap<String, Agent>,
    pub(super) ticks: u32,
    /// When this process started (it may not have heard from every other
    /// process yet).
    pub(super) started: Instant,
    /// Agents who hold conversations and have no inbox open anywhere,
    /// since when.
    pub(super) absent: HashMap<String, Instant>,
    /// Who was online when, as written for the reports.
    pub(super) presence_log: super::presence_log::PresenceLog,
    /// Waiting conversations whose first promised wait is kept (see
    /// `queue.rs`).
    pub(super) promised: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Runs until every handle and the service are gone.
/// Returned shoppers taken per turn of the loop: enough to coalesce a
/// crowd, few enough that a command waits little behind them.
const RETURNS_BATCH: usize = 16;

pub(super) async fn run(
    parts: Parts,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut returns: mpsc::UnboundedReceiver<(String, String)>,
) {
    let Parts {
        store,
        conversations,
        mut nudges,
        hub,
        peers,
        deadlines,
    } = parts;
    // This process among the others, in the presence it writes.
    let node = peers
        .as_ref()
        .map_or_else(crate::store::new_id, |link| link.node().to_owned());
    let mut state = State {
        presence_log: super::presence_log::PresenceLog::new(node),
        store,
        conversations,
        hub,
        deadlines,
        accounts: HashMap::new(),
        last_assigned: HashMap::new(),
        peers,
        remote: HashMap::new(),
        remote_agents: HashMap::new(),
        ticks: 0,
        started: Instant::now(),
        absent: HashMap::new(),
        promised: std::sync::Mutex::default(),
    };
    state.announce();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // Nudges first: the service's changes are served before new
            // commands pile more on.
            biased;
            nudge = nudges.recv() => match nudge {
                Some(nudge) => state.take_nudges(nudge, &mut nudges).await,
                None => break,
            },
            command = commands.recv() => match command {
                Some(command) => state.handle(command).await,
                None => break,
            },
            Some(first) = returns.recv() => state.take_returns(first, &mut returns).await,
            _ = tick.tick() => {
                state.heartbeat();
                if let Err(err) = state.enforce_deadlines().await {
                    tracing::error!(%err, "checking deadlines failed");
                }
                if let Err(err) = state.log_presence().await {
                    tracing::warn!(%err, "writing who is online failed");
                }
            }
        }
    }
}

/// What one pass over an account is for: its line moved (or a seat
/// freed), and which newly waiting conversations must be told their place.
#[derive(Debug, Default)]
pub(super) struct Pass {
    pub(super) line_moved: bool,
    pub(super) arrived: HashSet<String>,
}

impl Pass {
    pub(super) fn moved() -> Pass {
        Pass {
            line_moved: true,
            arrived: HashSet::new(),
        }
    }
}

impl State {
    /// Takes this nudge and every other already queued, then makes one
    /// pass over each account they name: a flood of one account's
    /// conversations costs one bounded pass, not one per conversation.
    async fn take_nudges(&mut self, first: Nudge, queue: &mut mpsc::UnboundedReceiver<Nudge>) {
        let mut passes: HashMap<String, Pass> = HashMap::new();
        let mut next = Some(first);
        while let Some(nudge) = next {
            let pass = passes.entry(nudge.account_id().to_owned()).or_default();
            match nudge {
                Nudge::Serve { .. } => pass.line_moved = true,
                Nudge::Arrived {
                    conversation_id, ..
                } => {
                    pass.arrived.insert(conversation_id);
                }
            }
            next = queue.try_recv().ok();
        }
        for (account_id, pass) in passes {
            self.serve(&account_id, pass).await;
        }
    }

    /// Takes a batch of returned shoppers and makes one pass per account:
    /// each is told where they stand (or served, if anyone has room).
    async fn take_returns(
        &mut self,
        first: (String, String),
        queue: &mut mpsc::UnboundedReceiver<(String, String)>,
    ) {
        let mut passes: HashMap<String, Pass> = HashMap::new();
        let mut next = Some(first);
        let mut taken = 0;
        while let Some((account_id, conversation_id)) = next {
            passes
                .entry(account_id)
                .or_default()
                .arrived
                .insert(conversation_id);
            taken += 1;
            next = if taken < RETURNS_BATCH {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        for (account_id, pass) in passes {
            self.serve(&account_id, pass).await;
        }
    }

    async fn serve(&mut self, account_id: &str, pass: Pass) {
        if let Err(err) = self.serve_account(account_id, pass).await {
            tracing::error!(%err, account_id, "assigning waiting conversations failed");
        }
    }

    async fn handle(&mut self, command: Command) {
        let account_id = match command {
            Command::Connected {
                agent,
                connection,
                reply,
            } => {
                let presence = self.presence(&agent);
                // Read from the store as the inbox connected: the freshest copy.
                presence.agent = Some(agent.clone());
                presence.connections.insert(connection);
                presence.left_at = None;
                let _ = reply.send(presence.chosen);
                self.announce();
                agent.account_id
            }
            Command::Disconnected { agent, connection } => {
                self.disconnected(&agent, connection);
                self.announce();
                if let Err(err) = self.enforce_deadlines().await {
                    tracing::error!(%err, "checking deadlines failed");
                }
                return;
            }
            Command::SetStatus { agent, status } => {
                self.presence(&agent).chosen = status;
                self.announce();
                self.hub.publish(
                    &Topic::Agent(agent.id.clone()),
                    encode(&AgentFrame::Status { status }),
                );
                agent.account_id
            }
            Command::Serve { account_id } => account_id,
            Command::AgentChanged { agent } => {
                self.agent_details(agent.clone());
                if let Some(peers) = &self.peers {
                    peers.tell(Notice::AgentChanged {
                        agent_id: agent.id.clone(),
                    });
                }
                agent.account_id
            }
            Command::Statuses { account_id, reply } => {
                let statuses = self
                    .seats(&account_id)
                    .into_iter()
                    .map(|(id, seat)| (id.to_owned(), seat.status))
                    .collect::<HashMap<_, Availability>>();
                let _ = reply.send(statuses);
                return;
            }
            Command::RemotePresence { node, agents } => {
                if let Err(err) = self.remote_presence(node, agents).await {
                    tracing::error!(%err, "taking in another process's presence failed");
                }
                return;
            }
            Command::Deactivated { agent } => {
                self.forget_agent(&agent.id);
                if let Some(peers) = &self.peers {
                    peers.tell(Notice::AgentChanged {
                        agent_id: agent.id.clone(),
                    });
                }
                if let Err(err) = self
                    .requeue_all_of(&agent, (RequeueReason::Deactivated, "was deactivated"))
                    .await
                {
                    tracing::error!(%err, agent = %agent.id, "requeueing a deactivated agent's chats failed");
                }
                agent.account_id
            }
            Command::RemoteAgentChanged { agent_id } => {
                let agent = match self.store.agent_by_id(&agent_id).await {
                    Ok(agent) => agent,
                    Err(err) => {
                        tracing::error!(%err, "reloading a changed agent failed");
                        return;
                    }
                };
                let Some(agent) = agent else {
                    // Deactivated on another process: it requeued their chats.
                    self.forget_agent(&agent_id);
                    return;
                };
                let account_id = agent.account_id.clone();
                self.agent_details(agent);
                account_id
            }
        };
        self.serve(&account_id, Pass::moved()).await;
    }
}
