//! The load: agents and shoppers on real WebSockets speaking the real
//! protocol (or the relay's bare one), in phases:
//!
//! 1. agents sign in, connect and go online;
//! 2. shoppers connect and say hello (time to open), then the server's
//!    memory per connected shopper is read from `/proc`;
//! 3. each shopper opens a conversation and waits for an agent (time to
//!    first offer); agents follow the conversations they get;
//! 4. messages at a fixed rate for a fixed time, alternating shopper → agent
//!    and agent → shopper, each timed from send to receipt on the other side;
//! 5. throughput: shopper → agent messages with a fixed number in flight,
//!    for a fixed time.
//!
//! Every loop is bounded in count and time; only loopback is targeted.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::BenchError;
use crate::net::{self, Connection, source_address};
use crate::stats::Spread;

/// Which server is under load.
#[derive(Clone, Debug)]
pub enum Target {
    /// Rapport: agents `agent{i}@{email_domain}` share `password`.
    Rapport {
        site_key: String,
        /// The page origin shoppers claim, one the site allows.
        origin: String,
        password: String,
        email_domain: String,
    },
    /// The bare relay.
    Relay,
}

#[derive(Clone, Debug)]
pub struct Params {
    pub target: Target,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub agents: usize,
    pub shoppers: usize,
    /// Messages per second in phase 4, both directions together.
    pub rate: u32,
    pub duration: Duration,
    pub throughput_duration: Duration,
    /// Messages in flight in phase 5.
    pub window: usize,
    /// Loopback source addresses to spread connections over.
    pub sources: u8,
    /// The server's process id, to read its memory.
    pub server_pid: Option<u32>,
    /// Connections opened at once while setting up.
    pub setup_concurrency: usize,
}

#[derive(Serialize, Debug, Clone)]
pub struct Report {
    pub target: &'static str,
    pub cores: usize,
    pub agents: usize,
    pub shoppers: usize,
    pub rate: u32,
    pub duration_secs: f64,
    /// Connect and hello until the server's welcome.
    pub open: Spread,
    /// First message until an agent is assigned (Rapport only).
    pub first_offer: Spread,
    pub shopper_to_agent: Spread,
    pub agent_to_shopper: Spread,
    /// Messages sent in phase 4 that never arrived.
    pub lost: usize,
    /// Delivered messages per second in phase 5.
    pub throughput_per_sec: f64,
    pub rss_before_shoppers_kib: Option<u64>,
    pub rss_with_shoppers_kib: Option<u64>,
    pub rss_per_shopper_bytes: Option<u64>,
}

/// Send and receipt times of phase-4 messages, in ns since `start` (0: not yet).
struct Ledger {
    start: Instant,
    sent: Vec<AtomicU64>,
    received: Vec<AtomicU64>,
    /// Phase-5 deliveries, and the permits that keep the window full.
    delivered: AtomicU64,
    window: Semaphore,
    /// On the relay every agent gets every shopper frame; phase 5 counts
    /// only the copy at agent `n % agents`. `None` on Rapport, where only
    /// the serving agent gets it.
    broadcast_to: Option<usize>,
}

/// Who received a frame.
#[derive(Clone, Copy)]
enum Receiver {
    Shopper,
    Agent(usize),
}

impl Ledger {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
    }

    fn steady(&self) -> usize {
        self.sent.len()
    }

    /// A frame arrived; note any stamp it carries.
    fn arrived(&self, text: &str, receiver: Receiver) {
        let Some(n) = stamp_of(text) else { return };
        let to_agent = matches!(receiver, Receiver::Agent(_));
        if n >= self.steady() {
            let counted = match (receiver, self.broadcast_to) {
                (Receiver::Shopper, _) => false,
                (Receiver::Agent(_), None) => true,
                (Receiver::Agent(i), Some(agents)) => n % agents.max(1) == i,
            };
            if counted {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                self.window.add_permits(1);
            }
            return;
        }
        // Even stamps go shopper → agent, odd ones agent → shopper; the
        // sender's own copy does not count.
        if (n.is_multiple_of(2)) == to_agent {
            let _ = self.received[n].compare_exchange(
                0,
                self.now(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }
}

/// The number in a message body `"t123"`, as it appears in any frame
/// carrying it (`"body":"t123"`, `"text":"t123"`).
pub fn stamp_of(frame: &str) -> Option<usize> {
    let mut rest = frame;
    while let Some(at) = rest.find("\":\"t") {
        let after = &rest[at + 4..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after.as_bytes().get(digits) == Some(&b'"') {
            return after[..digits].parse().ok();
        }
        rest = after;
    }
    None
}

struct Shopper {
    outgoing: mpsc::UnboundedSender<String>,
    conversation_id: String,
    /// Index of the agent serving this shopper.
    agent: usize,
}

struct Agent {
    id: String,
    outgoing: mpsc::UnboundedSender<String>,
}

pub async fn run(params: Params) -> Result<Report, BenchError> {
    let rapport = matches!(params.target, Target::Rapport { .. });
    let steady = usize::try_from(u64::from(params.rate) * params.duration.as_secs())
        .map_err(|_| BenchError::Setup("rate × duration too large".into()))?;
    let ledger = Arc::new(Ledger {
        start: Instant::now(),
        sent: (0..steady).map(|_| AtomicU64::new(0)).collect(),
        received: (0..steady).map(|_| AtomicU64::new(0)).collect(),
        delivered: AtomicU64::new(0),
        window: Semaphore::new(params.window),
        broadcast_to: (!rapport).then_some(params.agents),
    });
    let opened = Arc::new(AtomicUsize::new(0));

    // 1. Agents.
    let mut agents = Vec::new();
    for i in 0..params.agents {
        agents.push(connect_agent(&params, i, &ledger, &opened).await?);
    }
    log(format_args!("{} agents online", agents.len()));

    // 2. Shoppers connect and say hello.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = params.server_pid.and_then(rss_kib);
    let (mut connections, open_times) = connect_shoppers(&params).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_with = params.server_pid.and_then(rss_kib);
    log(format_args!("{} shoppers connected", connections.len()));

    // 3. Conversations.
    let mut offer_times = Vec::new();
    let mut shoppers = Vec::new();
    if rapport {
        let (opened_shoppers, times) =
            open_conversations(&params, &mut connections, &agents).await?;
        shoppers = opened_shoppers;
        offer_times = times;
        let deadline = Instant::now() + Duration::from_secs(60);
        while opened.load(Ordering::Relaxed) < params.shoppers {
            if Instant::now() > deadline {
                return Err(BenchError::Timeout(format!(
                    "agents followed {} of {} conversations",
                    opened.load(Ordering::Relaxed),
                    params.shoppers
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    } else {
        for (n, connection) in connections.iter().enumerate() {
            shoppers.push(Shopper {
                outgoing: connection.outgoing.clone(),
                conversation_id: String::new(),
                agent: n % params.agents.max(1),
            });
        }
    }
    for connection in connections {
        let ledger = ledger.clone();
        let mut incoming = connection.incoming;
        tokio::spawn(async move {
            while let Some(text) = net::next_text(&mut incoming).await {
                ledger.arrived(&text, Receiver::Shopper);
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    log(format_args!(
        "conversations open; steady load for {:?}",
        params.duration
    ));

    // 4. Steady rate.
    let per_tick = f64::from(params.rate) / 100.0;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut due = 0.0;
    let mut n = 0;
    while n < steady {
        tick.tick().await;
        due += per_tick;
        while due >= 1.0 && n < steady {
            due -= 1.0;
            send(&params, &shoppers, &agents, &ledger, n, n / 2);
            n += 1;
        }
    }
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle && undelivered(&ledger) > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (shopper_to_agent, agent_to_shopper, lost) = latencies(&ledger);

    // 5. Throughput with a full window.
    log(format_args!(
        "throughput for {:?}",
        params.throughput_duration
    ));
    let started = Instant::now();
    let before = ledger.delivered.load(Ordering::Relaxed);
    let mut n = steady;
    while started.elapsed() < params.throughput_duration {
        let Ok(Ok(permit)) =
            tokio::time::timeout(Duration::from_secs(1), ledger.window.acquire()).await
        else {
            continue;
        };
        permit.forget();
        let shopper = &shoppers[n % shoppers.len()];
        let _ = shopper.outgoing.send(shopper_message(&params.target, n));
        n += 1;
    }
    let delivered = ledger.delivered.load(Ordering::Relaxed) - before;
    let throughput_per_sec = delivered as f64 / started.elapsed().as_secs_f64();

    Ok(Report {
        target: if rapport { "rapport" } else { "relay" },
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        agents: params.agents,
        shoppers: params.shoppers,
        rate: params.rate,
        duration_secs: params.duration.as_secs_f64(),
        open: Spread::of(open_times),
        first_offer: Spread::of(offer_times),
        shopper_to_agent,
        agent_to_shopper,
        lost,
        throughput_per_sec,
        rss_before_shoppers_kib: rss_before,
        rss_with_shoppers_kib: rss_with,
        rss_per_shopper_bytes: rss_before.zip(rss_with).map(|(before, with)| {
            with.saturating_sub(before) * 1024 / params.shoppers.max(1) as u64
        }),
    })
}

fn log(message: std::fmt::Arguments<'_>) {
    eprintln!("loadgen: {message}");
}

fn ws_url(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.replacen("http://", "ws://", 1))
}

/// The server's resident memory, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn connect_agent(
    params: &Params,
    i: usize,
    ledger: &Arc<Ledger>,
    opened: &Arc<AtomicUsize>,
) -> Result<Agent, BenchError> {
    let source = source_address(i, params.sources);
    let (mut connection, id) = match &params.target {
        Target::Relay => (
            net::connect(&ws_url(&params.base_url, "/ws/agent"), source, &[]).await?,
            String::new(),
        ),
        Target::Rapport {
            password,
            email_domain,
            ..
        } => {
            let email = format!("agent{i}@{email_domain}");
            let response = reqwest::Client::new()
                .post(format!("{}/api/auth/login", params.base_url))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(BenchError::Setup(format!(
                    "{email} cannot sign in: {}",
                    response.status()
                )));
            }
            let cookie = response
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with("rapport_session="))
                .and_then(|v| v.split(';').next())
                .ok_or_else(|| BenchError::Setup("no session cookie".into()))?
                .to_owned();
            // As the inbox page would: from the server's own origin.
            let origin = params.base_url.trim_end_matches('/').to_owned();
            let mut connection = net::connect(
                &ws_url(&params.base_url, "/ws/agent"),
                source,
                &[("cookie", cookie), ("origin", origin)],
            )
            .await?;
            let inbox = expect(&mut connection, "inbox").await?;
            let id = inbox["me"]["id"].as_str().unwrap_or_default().to_owned();
            send_json(
                &connection,
                json!({"type": "set_status", "status": "online"}),
            );
            expect(&mut connection, "status").await?;
            (connection, id)
        }
    };
    let outgoing = connection.outgoing.clone();
    let ledger = ledger.clone();
    let opened = opened.clone();
    let me = id.clone();
    tokio::spawn(async move {
        let mut following = HashSet::new();
        while let Some(text) = connection.next_text().await {
            if text.starts_with(r#"{"type":"conversation""#) {
                follow_if_mine(&text, &me, &mut following, &connection.outgoing, &opened);
            } else {
                ledger.arrived(&text, Receiver::Agent(i));
            }
        }
    });
    Ok(Agent { id, outgoing })
}

/// Opens (follows) a conversation the first time it shows up as this agent's.
fn follow_if_mine(
    text: &str,
    me: &str,
    following: &mut HashSet<String>,
    outgoing: &mpsc::UnboundedSender<String>,
    opened: &AtomicUsize,
) {
    // Cheap check first: most summaries are of conversations already followed.
    let Some(id) = text
        .split_once(r#""conversation":{"id":""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(id, _)| id)
    else {
        return;
    };
    if following.contains(id) {
        return;
    }
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if frame["conversation"]["state"]["assigned"]["agent_id"] == me {
        following.insert(id.to_owned());
        let _ = outgoing.send(json!({"type": "open", "conversation_id": id}).to_string());
        opened.fetch_add(1, Ordering::Relaxed);
    }
}

async fn connect_shoppers(params: &Params) -> Result<(Vec<Connection>, Vec<u64>), BenchError> {
    let slots = Arc::new(Semaphore::new(params.setup_concurrency));
    let mut tasks = JoinSet::new();
    for n in 0..params.shoppers {
        let params = params.clone();
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots.acquire().await;
            let started = Instant::now();
            let source = source_address(n, params.sources);
            let connection = match &params.target {
                Target::Relay => {
                    net::connect(
                        &ws_url(&params.base_url, &format!("/ws/widget?id={n}")),
                        source,
                        &[],
                    )
                    .await?
                }
                Target::Rapport {
                    site_key, origin, ..
                } => {
                    let url = ws_url(&params.base_url, &format!("/ws/widget?site={site_key}"));
                    let mut connection =
                        net::connect(&url, source, &[("origin", origin.clone())]).await?;
                    send_json(&connection, json!({"type": "hello"}));
                    expect(&mut connection, "welcome").await?;
                    connection
                }
            };
            let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            Ok::<_, BenchError>((n, connection, took))
        });
    }
    let mut connections: Vec<Option<Connection>> = (0..params.shoppers).map(|_| None).collect();
    let mut times = Vec::with_capacity(params.shoppers);
    while let Some(joined) = tasks.join_next().await {
        let (n, connection, took) =
            joined.map_err(|e| BenchError::Setup(format!("shopper task: {e}")))??;
        connections[n] = Some(connection);
        times.push(took);
    }
    Ok((connections.into_iter().flatten().collect(), times))
}

async fn open_conversations(
    params: &Params,
    connections: &mut [Connection],
    agents: &[Agent],
) -> Result<(Vec<Shopper>, Vec<u64>), BenchError> {
    let results = Arc::new(Mutex::new(Vec::new()));
    // One wave of `setup_concurrency` shoppers at a time, each waiting for its agent.
    for (wave, chunk) in connections
        .chunks_mut(params.setup_concurrency.max(1))
        .enumerate()
    {
        let mut waits = Vec::new();
        for (offset, connection) in chunk.iter_mut().enumerate() {
            let n = wave * params.setup_concurrency.max(1) + offset;
            let results = results.clone();
            waits.push(async move {
                let started = Instant::now();
                send_json(
                    connection,
                    json!({"type": "send", "client_id": format!("o{n}"), "body": format!("Hello, about order {n}")}),
                );
                let mut conversation_id = None;
                let agent_id = loop {
                    let Some(text) = timeout_next(connection).await? else {
                        return Err(BenchError::Socket(format!("shopper {n} disconnected")));
                    };
                    let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                    if frame["type"] == "ack" {
                        conversation_id = frame["conversation_id"].as_str().map(str::to_owned);
                    }
                    if let Some(agent) = frame["event"]["body"]["assigned"]["agent_id"].as_str() {
                        break agent.to_owned();
                    }
                };
                let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let conversation_id = conversation_id
                    .ok_or_else(|| BenchError::Setup(format!("shopper {n}: no ack")))?;
                if let Ok(mut results) = results.lock() {
                    results.push((n, connection.outgoing.clone(), conversation_id, agent_id, took));
                }
                Ok::<_, BenchError>(())
            });
        }
        for outcome in futures_util::future::join_all(waits).await {
            outcome?;
        }
    }
    let mut results = std::mem::take(
        &mut *results
            .lock()
            .map_err(|_| BenchError::Setup("a shopper task panicked".into()))?,
    );
    results.sort_by_key(|r| r.0);
    let mut times = Vec::new();
    let mut shoppers = Vec::new();
    for (_, outgoing, conversation_id, agent_id, took) in results {
        let agent = agents
            .iter()
            .position(|a| a.id == agent_id)
            .ok_or_else(|| BenchError::Setup(format!("assigned to unknown agent {agent_id}")))?;
        times.push(took);
        shoppers.push(Shopper {
            outgoing,
            conversation_id,
            agent,
        });
    }
    Ok((shoppers, times))
}

async fn timeout_next(connection: &mut Connection) -> Result<Option<String>, BenchError> {
    tokio::time::timeout(Duration::from_secs(30), connection.next_text())
        .await
        .map_err(|_| BenchError::Timeout("no frame within 30 s".into()))
}

/// Reads until a frame of this type; returns it.
async fn expect(connection: &mut Connection, kind: &str) -> Result<Value, BenchError> {
    loop {
        let Some(text) = timeout_next(connection).await? else {
            return Err(BenchError::Socket(format!(
                "closed while waiting for {kind}"
            )));
        };
        let frame: Value = serde_json::from_str(&text).unwrap_or_default();
        if frame["type"] == kind {
            return Ok(frame);
        }
        if frame["type"] == "error" {
            return Err(BenchError::Setup(format!("waiting for {kind}: {frame}")));
        }
    }
}

fn send_json(connection: &Connection, frame: Value) {
    let _ = connection.outgoing.send(frame.to_string());
}

fn shopper_message(target: &Target, n: usize) -> String {
    let _ = target;
    format!(r#"{{"type":"send","client_id":"s{n}","body":"t{n}"}}"#)
}

/// Sends phase-4 message `n` through conversation `k` (round robin).
fn send(
    params: &Params,
    shoppers: &[Shopper],
    agents: &[Agent],
    ledger: &Ledger,
    n: usize,
    k: usize,
) {
    let shopper = &shoppers[k % shoppers.len()];
    ledger.sent[n].store(ledger.now(), Ordering::Relaxed);
    if n.is_multiple_of(2) {
        let _ = shopper.outgoing.send(shopper_message(&params.target, n));
        return;
    }
    let frame = match params.target {
        Target::Rapport { .. } => format!(
            r#"{{"type":"send","conversation_id":"{}","client_id":"a{n}","body":"t{n}"}}"#,
            shopper.conversation_id
        ),
        Target::Relay => format!(
            r#"{{"to":{},"type":"send","client_id":"a{n}","body":"t{n}"}}"#,
            k % shoppers.len()
        ),
    };
    let _ = agents[shopper.agent].outgoing.send(frame);
}

fn undelivered(ledger: &Ledger) -> usize {
    ledger
        .sent
        .iter()
        .zip(&ledger.received)
        .filter(|(sent, received)| {
            sent.load(Ordering::Relaxed) > 0 && received.load(Ordering::Relaxed) == 0
        })
        .count()
}

/// With `RAPPORT_LOADGEN_TIMELINE=FILE`, every steady-phase message as
/// `n,sent_ns,received_ns` (0: never): where in time the slow ones were
/// (that is how checkpoints inside commits, and pings sent to every socket
/// at once, were found).
fn write_timeline(ledger: &Ledger) {
    let Ok(path) = std::env::var("RAPPORT_LOADGEN_TIMELINE") else {
        return;
    };
    let mut text = String::new();
    for (n, (sent, received)) in ledger.sent.iter().zip(&ledger.received).enumerate() {
        let (sent, received) = (
            sent.load(Ordering::Relaxed),
            received.load(Ordering::Relaxed),
        );
        text.push_str(&format!("{n},{sent},{received}\n"));
    }
    if let Err(err) = std::fs::write(&path, text) {
        log(format_args!("cannot write {path}: {err}"));
    }
}

fn latencies(ledger: &Ledger) -> (Spread, Spread, usize) {
    write_timeline(ledger);
    let mut to_agent = Vec::new();
    let mut to_shopper = Vec::new();
    let mut lost = 0;
    for (n, (sent, received)) in ledger.sent.iter().zip(&ledger.received).enumerate() {
        let (sent, received) = (
            sent.load(Ordering::Relaxed),
            received.load(Ordering::Relaxed),
        );
        if sent == 0 {
            continue;
        }
        if received == 0 {
            lost += 1;
            continue;
        }
        let took = received.saturating_sub(sent);
        if n.is_multiple_of(2) {
            to_agent.push(took);
        } else {
            to_shopper.push(took);
        }
    }
    (Spread::of(to_agent), Spread::of(to_shopper), lost)
}

#[cfg(test)]
mod tests {
    use super::stamp_of;

    #[test]
    fn stamps_are_found_in_any_frame_that_carries_them() {
        assert_eq!(
            stamp_of(r#"{"type":"send","client_id":"s4","body":"t4"}"#),
            Some(4)
        );
        assert_eq!(
            stamp_of(r#"{"type":"event","event":{"body":{"message":{"text":"t123"}},"seq":3}}"#),
            Some(123)
        );
        assert_eq!(
            stamp_of(r#"{"type":"event","event":{"body":{"message":{"text":"thanks"}}}}"#),
            None
        );
        assert_eq!(stamp_of(r#"{"type":"ack","client_id":"s4","seq":2}"#), None);
    }
}
