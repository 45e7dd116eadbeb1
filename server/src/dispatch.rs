//! The one task that owns live agent presence and hands out waiting
//! conversations. Every decision goes through its queue, so decisions never
//! race inside a process; the store's guarded updates keep them correct
//! across processes too.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use protocol::{AgentFrame, Availability, ConversationState, WidgetFrame};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::cluster::{Cluster, Notice};
use crate::fanout::{self, encode};
use crate::hub::{Hub, Topic};
use crate::matcher::{self, Candidate};
use crate::store::{Agent, Conversation, Store, StoreError, now_ms};
use std::sync::Arc;

#[derive(Debug)]
enum Command {
    Connected {
        agent: Agent,
        connection: u64,
        reply: oneshot::Sender<Availability>,
    },
    Disconnected {
        agent: Agent,
        connection: u64,
    },
    SetStatus {
        agent: Agent,
        status: Availability,
    },
    Waiting {
        account_id: String,
    },
    /// The agent's stored details (capacity, languages…) changed.
    AgentChanged {
        agent: Agent,
    },
    /// `from` handed the conversation back to a queue: not to be offered it again.
    HandedOver {
        account_id: String,
        conversation_id: String,
        from_agent_id: String,
    },
    Statuses {
        account_id: String,
        reply: oneshot::Sender<HashMap<String, Availability>>,
    },
    /// Other processes share this database: tell them about presence.
    JoinCluster(Cluster),
    /// Another process's agents who are not offline.
    RemotePresence {
        node: String,
        agents: Vec<(String, String, Availability)>,
    },
    /// The agent was deactivated: gone from matching, sockets closed,
    /// conversations back to the queue.
    Deactivated {
        agent: Agent,
    },
    /// Another process changed an agent's stored details.
    RemoteAgentChanged {
        agent_id: String,
    },
}

/// Handle to the dispatcher task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    commands: mpsc::UnboundedSender<Command>,
}

/// How long people get before the dispatcher acts for them.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// From assignment to the agent's first reply.
    pub reply: Duration,
    /// From an agent's last inbox closing to treating them as offline.
    pub offline_grace: Duration,
}

/// How often deadlines are checked.
const TICK: Duration = Duration::from_secs(1);
/// Every this many ticks, this process re-tells the others who is online here.
const HEARTBEAT_TICKS: u32 = 5;
/// Another process not heard of for this long is gone, and so is its presence.
const REMOTE_SILENCE: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
struct Presence {
    /// What the agent chose; see [`Presence::status`] for what holds.
    chosen: Availability,
    connections: HashSet<u64>,
    agent: Option<Agent>,
    /// When the last inbox closed, while the agent was not offline.
    left_at: Option<Instant>,
}

impl Presence {
    /// What holds: without an inbox open nobody is there, whatever they chose.
    fn status(&self) -> Availability {
        if self.connections.is_empty() {
            Availability::Offline
        } else {
            self.chosen
        }
    }
}

struct State {
    store: Store,
    hub: Arc<Hub>,
    deadlines: Deadlines,
    /// account id → agent id → presence
    accounts: HashMap<String, HashMap<String, Presence>>,
    /// conversation id → agents who let it lapse; it is not offered to them again.
    passed_over: HashMap<String, HashSet<String>>,
    /// agent id → when this process last gave them a conversation (Unix ms).
    last_assigned: HashMap<String, i64>,
    cluster: Option<Cluster>,
    /// node → what another process last said about its agents.
    remote: HashMap<String, RemoteNode>,
    /// Agents other processes told of, as stored.
    remote_agents: HashMap<String, Agent>,
    ticks: u32,
}

#[derive(Debug)]
struct RemoteNode {
    heard: Instant,
    /// (account, agent, status) of its agents who are not offline.
    agents: Vec<(String, String, Availability)>,
}

/// An agent as the whole cluster sees them: their best status anywhere.
struct Seat<'a> {
    agent: &'a Agent,
    status: Availability,
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

impl Dispatcher {
    /// Starts the task; it ends when every handle is dropped.
    pub fn start(store: Store, hub: Arc<Hub>, deadlines: Deadlines) -> Dispatcher {
        let (commands, mut queue) = mpsc::unbounded_channel();
        let mut state = State {
            store,
            hub,
            deadlines,
            accounts: HashMap::new(),
            passed_over: HashMap::new(),
            last_assigned: HashMap::new(),
            cluster: None,
            remote: HashMap::new(),
            remote_agents: HashMap::new(),
            ticks: 0,
        };
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    command = queue.recv() => match command {
                        Some(command) => state.handle(command).await,
                        None => break,
                    },
                    _ = tick.tick() => {
                        state.heartbeat();
                        if let Err(err) = state.enforce_deadlines().await {
                            tracing::error!(%err, "checking deadlines failed");
                        }
                    }
                }
            }
        });
        Dispatcher { commands }
    }

    /// An inbox connected; returns the agent's status.
    pub async fn connected(&self, agent: &Agent, connection: u64) -> Availability {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::Connected {
            agent: agent.clone(),
            connection,
            reply,
        });
        answer.await.unwrap_or_default()
    }

    pub fn disconnected(&self, agent: &Agent, connection: u64) {
        let _ = self.commands.send(Command::Disconnected {
            agent: agent.clone(),
            connection,
        });
    }

    pub fn set_status(&self, agent: &Agent, status: Availability) {
        let _ = self.commands.send(Command::SetStatus {
            agent: agent.clone(),
            status,
        });
    }

    /// The status of each of the account's agents this process knows of.
    pub async fn statuses(&self, account_id: &str) -> HashMap<String, Availability> {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::Statuses {
            account_id: account_id.to_owned(),
            reply,
        });
        answer.await.unwrap_or_default()
    }

    /// An agent's stored details changed, e.g. a raised capacity: use them
    /// from now on and serve whoever waits if there is new room.
    pub fn agent_changed(&self, agent: &Agent) {
        let _ = self.commands.send(Command::AgentChanged {
            agent: agent.clone(),
        });
    }

    /// The agent was deactivated: close their inboxes everywhere and give
    /// their conversations to others.
    pub fn deactivated(&self, agent: &Agent) {
        let _ = self.commands.send(Command::Deactivated {
            agent: agent.clone(),
        });
    }

    /// `from_agent_id` sent the conversation back to a team's queue; it is
    /// offered to the others first.
    pub fn handed_over(&self, account_id: &str, conversation_id: &str, from_agent_id: &str) {
        let _ = self.commands.send(Command::HandedOver {
            account_id: account_id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            from_agent_id: from_agent_id.to_owned(),
        });
    }

    /// Shares presence with the other processes of `cluster` from now on.
    pub fn join(&self, cluster: Cluster) {
        let _ = self.commands.send(Command::JoinCluster(cluster));
    }

    /// What another process said about its agents.
    pub fn remote_presence(&self, node: String, agents: Vec<(String, String, Availability)>) {
        let _ = self.commands.send(Command::RemotePresence { node, agents });
    }

    pub fn remote_agent_changed(&self, agent_id: String) {
        let _ = self.commands.send(Command::RemoteAgentChanged { agent_id });
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
                // Read from the store as the inbox connected: the freshest copy.
                let presence = self.presence(&agent);
                presence.agent = Some(agent.clone());
                presence.connections.insert(connection);
                presence.left_at = None;
                let _ = reply.send(presence.chosen);
                self.announce();
                agent.account_id
            }
            Command::Disconnected { agent, connection } => {
                let presence = self.presence(&agent);
                presence.connections.remove(&connection);
                // Without an inbox open nobody answers; after the grace
                // period (a reload is not leaving) the agent is offline and
                // their conversations go to others. See `enforce_deadlines`.
                if presence.connections.is_empty() && presence.chosen != Availability::Offline {
                    presence.left_at = Some(Instant::now());
                }
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
            Command::Waiting { account_id } => account_id,
            Command::AgentChanged { agent } => {
                if let Some(presence) = self
                    .accounts
                    .get_mut(&agent.account_id)
                    .and_then(|agents| agents.get_mut(&agent.id))
                {
                    presence.agent = Some(agent.clone());
                }
                if self.remote_agents.contains_key(&agent.id) {
                    self.remote_agents.insert(agent.id.clone(), agent.clone());
                }
                if let Some(cluster) = &self.cluster {
                    cluster.tell(Notice::AgentChanged {
                        agent_id: agent.id.clone(),
                    });
                }
                agent.account_id
            }
            Command::HandedOver {
                account_id,
                conversation_id,
                from_agent_id,
            } => {
                self.passed_over
                    .entry(conversation_id)
                    .or_default()
                    .insert(from_agent_id);
                account_id
            }
            Command::Statuses { account_id, reply } => {
                let statuses = self
                    .seats(&account_id)
                    .into_iter()
                    .map(|(id, seat)| (id.to_owned(), seat.status))
                    .collect();
                let _ = reply.send(statuses);
                return;
            }
            Command::JoinCluster(cluster) => {
                self.cluster = Some(cluster);
                self.announce();
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
                if let Some(cluster) = &self.cluster {
                    cluster.tell(Notice::AgentChanged {
                        agent_id: agent.id.clone(),
                    });
                }
                if let Err(err) = self.requeue_all_of(&agent, "was deactivated").await {
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
                if let Some(presence) = self
                    .accounts
                    .get_mut(&agent.account_id)
                    .and_then(|agents| agents.get_mut(&agent.id))
                {
                    presence.agent = Some(agent.clone());
                }
                let account_id = agent.account_id.clone();
                if self.remote_agents.contains_key(&agent.id) {
                    self.remote_agents.insert(agent.id.clone(), agent);
                }
                account_id
            }
        };
        if let Err(err) = self.assign_waiting(&account_id).await {
            tracing::error!(%err, account_id, "assigning waiting conversations failed");
        }
    }

    /// Agents gone longer than the grace period go offline and their
    /// conversations back to the queue; so do conversations whose agent has
    /// not replied in time. Both agents see why in an agent-only note.
    async fn enforce_deadlines(&mut self) -> Result<(), StoreError> {
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
        let mut accounts = HashSet::new();
        for agent in gone {
            tracing::info!(agent = %agent.id, "offline after the grace period");
            self.requeue_all_of(&agent, "went offline").await?;
            accounts.insert(agent.account_id);
        }
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
            if self.requeue(&conversation_id, &agent_id, &reason).await? {
                self.passed_over
                    .entry(conversation_id)
                    .or_default()
                    .insert(agent_id);
            }
            accounts.insert(account_id);
        }
        for account_id in accounts {
            self.assign_waiting(&account_id).await?;
        }
        Ok(())
    }

    /// Drops an agent from this process's matching and ends their sockets here.
    fn forget_agent(&mut self, agent_id: &str) {
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

    /// Every conversation the agent holds goes back to the queue, with why.
    async fn requeue_all_of(&self, agent: &Agent, why: &str) -> Result<(), StoreError> {
        for conversation_id in self.store.conversations_held_by(&agent.id).await? {
            let reason = format!("{} {why}; offered to the next available agent.", agent.name);
            self.requeue(&conversation_id, &agent.id, &reason).await?;
        }
        Ok(())
    }

    async fn requeue(
        &self,
        conversation_id: &str,
        agent_id: &str,
        reason: &str,
    ) -> Result<bool, StoreError> {
        match self
            .store
            .requeue(conversation_id, agent_id, reason)
            .await?
        {
            Some((event, conversation)) => {
                tracing::info!(conversation = %conversation_id, agent = %agent_id, reason, "requeued");
                fanout::publish(&self.hub, &conversation, &[event]);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Tells the other processes who is not offline here.
    fn announce(&self) {
        let Some(cluster) = &self.cluster else { return };
        let agents = self
            .accounts
            .iter()
            .flat_map(|(account, agents)| {
                agents
                    .iter()
                    .filter(|(_, p)| p.status() != Availability::Offline)
                    .map(|(id, p)| (account.clone(), id.clone(), p.status()))
            })
            .collect();
        cluster.tell(Notice::Presence { agents });
    }

    /// Every few ticks: re-tell our presence, forget processes gone silent.
    fn heartbeat(&mut self) {
        if self.cluster.is_none() {
            return;
        }
        self.ticks = self.ticks.wrapping_add(1);
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

    async fn remote_presence(
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
            self.assign_waiting(&account_id).await?;
        }
        Ok(())
    }

    /// The account's agents who are not offline anywhere in the cluster.
    fn seats(&self, account_id: &str) -> HashMap<&str, Seat<'_>> {
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

    fn presence(&mut self, agent: &Agent) -> &mut Presence {
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

    /// Hands out the account's waiting conversations, oldest first, while
    /// anyone has room; then tells each shopper still waiting where they
    /// stand.
    async fn assign_waiting(&mut self, account_id: &str) -> Result<(), StoreError> {
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
                .store
                .assign(&conversation.id, &agent, capacity)
                .await?
            {
                Some((event, assigned)) => {
                    self.passed_over.remove(&assigned.id);
                    fanout::publish(&self.hub, &assigned, &[event]);
                    *loads.entry(agent.id.clone()).or_default() += 1;
                    self.last_assigned.insert(agent.id.clone(), now_ms());
                    tracing::info!(conversation = %assigned.id, agent = %agent.id, "assigned");
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

    /// Tells every waiting shopper their place in their team's line and,
    /// when there is data to base it on, about how long it will take.
    async fn publish_queue(
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

/// agent id → the teams they belong to.
type Teams = HashMap<String, HashSet<String>>;

/// Whether an agent may take a conversation routed to `team` (`None`: anyone).
fn in_team(teams: &Teams, agent_id: &str, team: Option<&str>) -> bool {
    team.is_none_or(|team| teams.get(agent_id).is_some_and(|t| t.contains(team)))
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

/// Closed conversations the wait estimate averages over.
const HANDLING_SAMPLE: i64 = 20;

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
