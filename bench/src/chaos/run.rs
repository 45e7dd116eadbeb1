//! One run: servers started, participants on them, the disruption the
//! mode asks for, then quiet until everything is acknowledged and
//! delivered (or the settling time is up), the logs read back, the check.
//!
//! - `Kill`: one server, killed with `SIGKILL` at random moments and
//!   started again at once on the same port and database.
//! - `Storm`: one server; every shopper drops its own connection at random
//!   moments, `cycles` times over the run on average.
//! - `LostNode`: two servers on one PostgreSQL database, the participants
//!   spread over both; halfway through, the first is killed for good. Its
//!   clients come back through the other, except half of its agents, who
//!   stay away: their chats must be offered to the agents still there.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::agent::{self, AgentParams};
use super::check::{Verdict, check};
use super::servers::{Node, ServerCommand};
use super::shopper::{self, ShopperParams};
use super::{Ledger, Phase, Shared, jitter, lock, logs};
use crate::BenchError;
use crate::net::source_address;
use crate::stats::Spread;

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Kill { kills: u32 },
    Storm { cycles: u32 },
    LostNode,
}

#[derive(Clone, Debug)]
pub struct RunParams {
    pub mode: Mode,
    pub server: ServerCommand,
    /// One port per server (two for `LostNode`).
    pub ports: Vec<u16>,
    pub site_key: String,
    pub origin: String,
    pub password: String,
    pub email_domain: String,
    pub agents: usize,
    pub shoppers: usize,
    /// Messages per second, both ways together.
    pub rate: f64,
    /// How long messages flow (`Kill`: at least; the kills take their time).
    pub duration: Duration,
    /// How long the server lives between two kills, at most (`Kill`).
    pub max_up: Duration,
    /// How long to wait at the end for what is outstanding.
    pub settle: Duration,
    pub sources: u8,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub mode: String,
    pub agents: usize,
    pub shoppers: usize,
    pub seconds: f64,
    pub kills: u32,
    /// From a kill to the server answering again.
    pub restart: Spread,
    pub shopper_reconnects: u64,
    pub agent_reconnects: u64,
    pub resent: u64,
    /// From the quiet phase until nothing was outstanding (or the limit).
    pub settled_secs: f64,
    pub verdict: Verdict,
    /// `LostNode`: agents who did not come back, the chats they held, and
    /// how many of those another agent holds by the end.
    pub agents_gone: usize,
    pub chats_left: usize,
    pub chats_taken_over: usize,
}

impl RunReport {
    pub fn is_clean(&self) -> bool {
        self.verdict.is_clean() && self.chats_taken_over == self.chats_left
    }
}

pub async fn run(params: RunParams) -> Result<RunReport, BenchError> {
    let started = Instant::now();
    let mut nodes: Vec<Node> = params
        .ports
        .iter()
        .map(|port| Node::new(*port, params.server.clone()))
        .collect();
    for node in &mut nodes {
        node.start().await?;
    }
    let urls: Vec<String> = nodes.iter().map(Node::url).collect();
    let (phase_tx, phase) = watch::channel(Phase::Traffic);
    let (lost_tx, lost) = watch::channel(None);
    let half_rate = (params.rate / 2.0).max(0.001);
    let mut tasks = JoinSet::new();

    let mut agents: Vec<(Shared, bool)> = Vec::new();
    for i in 0..params.agents {
        let ledger: Shared = Arc::new(Mutex::new(Ledger::default()));
        // In a lost node, half of its agents stay away.
        let leaves = matches!(params.mode, Mode::LostNode) && i % 4 == 0;
        let agent = AgentParams {
            i,
            urls: urls.clone(),
            email: format!("agent{i}@{}", params.email_domain),
            password: params.password.clone(),
            every: Duration::from_secs_f64(params.agents as f64 / half_rate),
            leaves_with_its_node: leaves,
            source: source_address(i, params.sources),
        };
        tasks.spawn(agent::run(
            agent,
            ledger.clone(),
            phase.clone(),
            lost.clone(),
        ));
        agents.push((ledger, leaves));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut shoppers: Vec<Shared> = Vec::new();
    let disconnect_every = match params.mode {
        Mode::Storm { cycles } if cycles > 0 => Some(params.duration / cycles),
        _ => None,
    };
    for n in 0..params.shoppers {
        let ledger: Shared = Arc::new(Mutex::new(Ledger::default()));
        let shopper = ShopperParams {
            n,
            urls: urls.clone(),
            site_key: params.site_key.clone(),
            origin: params.origin.clone(),
            every: Duration::from_secs_f64(params.shoppers as f64 / half_rate),
            disconnect_every,
            source: source_address(n, params.sources),
        };
        tasks.spawn(shopper::run(shopper, ledger.clone(), phase.clone()));
        shoppers.push(ledger);
    }
    log(format_args!(
        "{} agents and {} shoppers on {} server(s)",
        params.agents,
        params.shoppers,
        nodes.len()
    ));

    let mut kills = 0;
    let mut restarts = Vec::new();
    match params.mode {
        Mode::Kill { kills: wanted } => {
            let traffic_until = Instant::now() + params.duration;
            while kills < wanted {
                let up_ms = u64::try_from(params.max_up.as_millis()).unwrap_or(1000);
                tokio::time::sleep(Duration::from_millis(up_ms / 5 + jitter(up_ms))).await;
                let killed = Instant::now();
                nodes[0].kill().await?;
                kills += 1;
                nodes[0].start().await?;
                restarts.push(u64::try_from(killed.elapsed().as_nanos()).unwrap_or(u64::MAX));
                if kills % 10 == 0 {
                    log(format_args!("{kills} kills"));
                }
            }
            tokio::time::sleep_until(traffic_until).await;
        }
        Mode::Storm { .. } => tokio::time::sleep(params.duration).await,
        Mode::LostNode => {
            tokio::time::sleep(params.duration / 2).await;
            nodes[0].kill().await?;
            kills = 1;
            let _ = lost_tx.send(Some(0));
            log(format_args!("the first node is lost"));
            tokio::time::sleep(params.duration / 2).await;
        }
    }

    // Quiet: nothing new; wait for what is outstanding.
    let _ = phase_tx.send(Phase::Quiet);
    let quiet = Instant::now();
    let everyone = || {
        let mut all: Vec<Ledger> = shoppers.iter().map(|l| lock(l).clone()).collect();
        all.extend(agents.iter().map(|(l, leaves)| as_checked(l, *leaves)));
        all
    };
    loop {
        let outstanding = outstanding(&everyone(), params.shoppers);
        if outstanding == 0 || quiet.elapsed() > params.settle {
            log(format_args!(
                "{outstanding} outstanding after {:.1?}",
                quiet.elapsed()
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settled_secs = quiet.elapsed().as_secs_f64();

    // The logs, read back through a live node's inbox.
    let live = match params.mode {
        Mode::LostNode => &urls[1],
        _ => &urls[0],
    };
    let reader = (0..params.agents)
        .find(|i| !agents[*i].1)
        .ok_or_else(|| BenchError::Setup("no agent to read the logs".into()))?;
    let cookie = agent::sign_in(
        live,
        &format!("agent{reader}@{}", params.email_domain),
        &params.password,
    )
    .await
    .ok_or_else(|| BenchError::Setup("cannot sign in to read the logs".into()))?;
    let mut conversations: HashSet<String> = HashSet::new();
    for ledger in &shoppers {
        conversations.extend(lock(ledger).acked.values().map(|(c, _)| c.clone()));
    }
    let mut conversations: Vec<String> = conversations.into_iter().collect();
    conversations.sort();
    let _ = phase_tx.send(Phase::Done);
    let logs = logs::read(live, &cookie, &conversations).await?;
    while tokio::time::timeout(Duration::from_secs(15), tasks.join_next())
        .await
        .ok()
        .flatten()
        .is_some()
    {}
    tasks.abort_all();

    let shopper_ledgers: Vec<Ledger> = shoppers.iter().map(|l| lock(l).clone()).collect();
    let agent_ledgers: Vec<Ledger> = agents
        .iter()
        .map(|(l, leaves)| as_checked(l, *leaves))
        .collect();
    let verdict = check(&shopper_ledgers, &agent_ledgers, &logs);

    // Chats of agents who stayed away, and who holds them now.
    let gone: Vec<&Ledger> = agent_ledgers
        .iter()
        .zip(&agents)
        .filter(|(_, (_, leaves))| *leaves)
        .map(|(ledger, _)| ledger)
        .collect();
    let gone_ids: HashSet<&str> = gone.iter().filter_map(|l| l.agent_id.as_deref()).collect();
    let left: Vec<&String> = gone.iter().flat_map(|l| l.held.iter()).collect();
    let taken_over = left
        .iter()
        .filter(|id| {
            logs.get(id.as_str())
                .and_then(|events| events.iter().rev().find_map(|e| e.assigned_to.as_deref()))
                .is_some_and(|holder| !gone_ids.contains(holder))
        })
        .count();

    for node in &mut nodes {
        node.kill().await?;
    }
    Ok(RunReport {
        mode: match params.mode {
            Mode::Kill { .. } => "kill",
            Mode::Storm { .. } => "storm",
            Mode::LostNode => "lost-node",
        }
        .to_owned(),
        agents: params.agents,
        shoppers: params.shoppers,
        seconds: started.elapsed().as_secs_f64(),
        kills,
        restart: Spread::of(restarts),
        shopper_reconnects: shopper_ledgers.iter().map(|l| l.reconnects).sum(),
        agent_reconnects: agent_ledgers.iter().map(|l| l.reconnects).sum(),
        resent: shopper_ledgers
            .iter()
            .chain(&agent_ledgers)
            .map(|l| l.resent)
            .sum(),
        settled_secs,
        verdict,
        agents_gone: gone.len(),
        chats_left: left.len(),
        chats_taken_over: taken_over,
    })
}

/// A ledger as the check takes it: an agent who stayed away with its node
/// answers only for what was acknowledged to it (what it had in flight may
/// or may not have been stored, and nobody sends it again).
fn as_checked(ledger: &Shared, stayed_away: bool) -> Ledger {
    let mut ledger = lock(ledger).clone();
    if stayed_away {
        let acked = ledger.acked.clone();
        ledger
            .sent
            .retain(|client_id| acked.contains_key(client_id));
    }
    ledger
}

/// Messages not yet acknowledged, or acknowledged and not yet received by
/// the other side (the first `shoppers` ledgers are the shoppers').
fn outstanding(ledgers: &[Ledger], shoppers: usize) -> usize {
    let (shopper_side, agent_side) = ledgers.split_at(shoppers.min(ledgers.len()));
    let received = |side: &[Ledger], conversation: &str, seq: protocol::Seq| {
        side.iter().any(|l| {
            l.received
                .get(conversation)
                .is_some_and(|seqs| seqs.contains_key(&seq))
        })
    };
    let mut count = 0;
    for (side, other) in [(shopper_side, agent_side), (agent_side, shopper_side)] {
        for ledger in side {
            count += ledger.sent.len().saturating_sub(ledger.acked.len());
            count += ledger
                .acked
                .values()
                .filter(|(conversation, seq)| !received(other, conversation, *seq))
                .count();
        }
    }
    count
}

fn log(message: std::fmt::Arguments<'_>) {
    eprintln!("chaos: {message}");
}
