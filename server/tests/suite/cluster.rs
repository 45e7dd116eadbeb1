//! Many shoppers arriving at once against few agents, served by real
//! `rapport` processes: one on SQLite, two sharing one PostgreSQL database
//! (agents and shoppers spread over both, so every assignment, message and
//! presence change that matters crosses from one process to the other).
//! At every point no agent is over capacity; in the end every conversation
//! was assigned exactly once.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::{Backend, Ws, add_agent, agent_socket_at, login_at, widget_socket_at};
use futures_util::future::join_all;
use protocol::EventBody;
use rapport_server::store::Store;
use serde_json::json;
use tokio::process::{Child, Command};

const AGENTS: usize = 3;
const CAPACITY: i64 = 4;
const SHOPPERS: usize = 30;

/// A `rapport serve` process, killed when dropped.
struct Server {
    addr: SocketAddr,
    _child: Child,
}

impl Server {
    async fn start(database_url: &str) -> Server {
        Server::start_with(database_url, &[]).await
    }

    /// With more environment (set after the defaults, so it wins).
    async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
        // A free port: bind, read it, let go; the server binds it next.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_rapport"))
            .env("RAPPORT_ADDR", addr.to_string())
            .env("RAPPORT_PUBLIC_URL", format!("http://{addr}"))
            .env("RAPPORT_DATABASE_URL", database_url)
            .env("RAPPORT_REPLY_TIMEOUT_SECS", "3600")
            .env("RAPPORT_OFFLINE_GRACE_SECS", "30")
            .env("RAPPORT_LOG", "warn")
            // Thirty shoppers from one address in a second: a rush to
            // serve here, not an attack to refuse.
            .env("RAPPORT_LIMIT_SOCKETS_PER_IP", "0")
            .env("RAPPORT_LIMIT_VISITORS_PER_IP", "0")
            .env("RAPPORT_LIMIT_CONVERSATIONS_PER_IP", "0")
            .env("RAPPORT_LIMIT_OPEN_CONVERSATIONS_PER_IP", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let health = format!("http://{addr}/healthz");
        for _ in 0..100 {
            if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
                return Server {
                    addr,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("rapport did not start on {addr}");
    }
}

/// An agent's inbox on the server at `addr`, signed in and online.
async fn online_inbox_at(addr: SocketAddr, email: &str) -> Ws {
    let cookie = login_at(addr, email).await;
    let mut inbox = agent_socket_at(addr, &cookie).await.unwrap();
    inbox.expect("inbox").await;
    inbox.go_online().await;
    inbox
}

/// A new shopper on the server at `addr` who has said `text`: the socket
/// and the conversation's id.
async fn chatting_shopper_at(addr: SocketAddr, site_key: &str, text: &str) -> (Ws, String) {
    let mut shopper = widget_socket_at(addr, site_key, common::SHOP_ORIGIN)
        .await
        .unwrap();
    shopper.send(json!({"type": "hello"})).await;
    shopper.expect("welcome").await;
    let id = shopper.say("m1", text).await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (shopper, id)
}

/// Open conversations per agent, straight from the database.
async fn loads(store: &Store, account_id: &str) -> HashMap<String, i64> {
    store
        .agent_loads(account_id)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

async fn assigned_events(store: &Store, conversation_id: &str) -> usize {
    store
        .events_after(conversation_id, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|e| matches!(e.body, EventBody::Assigned { .. }))
        .count()
}

/// Waits until `done` holds, checking capacity at every look.
async fn settle(store: &Store, account_id: &str, what: &str, done: impl Fn(i64, usize) -> bool) {
    for _ in 0..200 {
        let loads = loads(store, account_id).await;
        assert!(
            loads.values().all(|&open| open <= CAPACITY),
            "an agent over capacity: {loads:?}"
        );
        let held: i64 = loads.values().sum();
        let waiting = store.waiting_conversations(account_id).await.unwrap().len();
        if done(held, waiting) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never settled: {what}");
}

async fn rush(backend: Backend, processes: usize) {
    let Some(database) = common::fresh_database(backend).await else {
        return;
    };
    let database_url = database.url.clone();
    let store = Store::connect(&database_url).await.unwrap();
    let account = store.create_account("Rush shop").await.unwrap();
    let site = store
        .create_site(&account, "Shop", &[common::SHOP_ORIGIN.to_owned()])
        .await
        .unwrap();
    let mut agents = Vec::new();
    for n in 0..AGENTS {
        let agent = add_agent(
            &store,
            &account,
            &format!("agent{n}@shop.test"),
            &format!("Agent {n}"),
        )
        .await;
        store
            .set_agent_capacity(&agent.id, Some(CAPACITY))
            .await
            .unwrap();
        agents.push(agent);
    }
    let mut servers = Vec::new();
    for _ in 0..processes {
        servers.push(Server::start(&database_url).await);
    }
    let server_of = |n: usize| servers[n % servers.len()].addr;

    // Every inbox is on the first process (signed in on the last: a session
    // works on any); shoppers on the others reach them through shared presence.
    let inbox_server = server_of(0);
    let mut inboxes: Vec<Ws> = Vec::new();
    for agent in &agents {
        let cookie = login_at(server_of(processes - 1), &agent.email).await;
        let mut inbox = agent_socket_at(inbox_server, &cookie).await.unwrap();
        inbox.expect("inbox").await;
        inbox.go_online().await;
        inboxes.push(inbox);
    }

    // A first shopper on the last process is served at once by an agent
    // whose inbox is on the first.
    let mut first = widget_socket_at(
        server_of(processes - 1),
        &site.site_key,
        common::SHOP_ORIGIN,
    )
    .await
    .unwrap();
    first.send(json!({"type": "hello"})).await;
    first.expect("welcome").await;
    let first_id = first.say("m0", "Anyone there?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    first.until("event", common::is_assigned).await;
    let conversation = store.conversation(&first_id).await.unwrap().unwrap();
    let holder = agents
        .iter()
        .position(|a| Some(a.id.as_str()) == conversation.assigned_agent_id())
        .unwrap();
    // A reply from an agent on one process reaches a shopper on another
    // (on one process, it simply reaches them).
    inboxes[holder]
        .send(json!({"type": "send", "conversation_id": first_id, "client_id": "r1", "body": "Hello from the other process"}))
        .await;
    first
        .until("event", |f| {
            f["event"]["body"]["message"]["text"] == "Hello from the other process"
        })
        .await;
    inboxes[holder]
        .send(json!({"type": "close", "conversation_id": first_id}))
        .await;
    first
        .until("event", |f| f["event"]["body"] == "closed")
        .await;

    // Every shopper at once, spread over the processes.
    let shoppers = join_all((0..SHOPPERS).map(|n| {
        let addr = server_of(n);
        let key = site.site_key.clone();
        async move {
            let mut ws = widget_socket_at(addr, &key, common::SHOP_ORIGIN)
                .await
                .unwrap();
            ws.send(json!({"type": "hello"})).await;
            ws.expect("welcome").await;
            let ack = ws.say("m1", &format!("Shopper {n} here")).await;
            let id = ack["conversation_id"].as_str().unwrap().to_owned();
            (ws, id, n)
        }
    }))
    .await;
    let seats = AGENTS * usize::try_from(CAPACITY).unwrap();
    settle(&store, &account, "every seat taken", |held, waiting| {
        held == seats as i64 && waiting == SHOPPERS - seats
    })
    .await;

    // Live delivery crosses processes: every inbox heard of every
    // conversation, wherever its shopper connected.
    let all: HashSet<String> = shoppers.iter().map(|(_, id, _)| id.clone()).collect();
    for inbox in &mut inboxes {
        let mut heard = HashSet::new();
        for _ in 0..50 {
            heard.extend(
                inbox
                    .drain()
                    .await
                    .iter()
                    .filter(|f| f["type"] == "conversation")
                    .map(|f| f["conversation"]["id"].as_str().unwrap().to_owned()),
            );
            if all.is_subset(&heard) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let missed: Vec<_> = all.difference(&heard).collect();
        assert!(
            missed.is_empty(),
            "an inbox missed conversations: {missed:?}"
        );
    }
    // Agents finish chats; each freed seat goes to the next in line.
    for round in 0..SHOPPERS {
        let waiting = store.waiting_conversations(&account).await.unwrap().len();
        let held: i64 = loads(&store, &account).await.values().sum();
        if waiting == 0 && held == 0 {
            break;
        }
        for (n, agent) in agents.iter().enumerate() {
            for id in store.conversations_held_by(&agent.id).await.unwrap() {
                inboxes[n]
                    .send(json!({"type": "close", "conversation_id": id}))
                    .await;
            }
        }
        let expected_waiting = waiting.saturating_sub(seats);
        settle(&store, &account, &format!("round {round}"), |_, waiting| {
            waiting == expected_waiting
        })
        .await;
    }
    for (_, id, _) in &shoppers {
        assert_eq!(assigned_events(&store, id).await, 1, "conversation {id}");
    }
    drop(servers);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rush_on_one_process_over_sqlite() {
    rush(Backend::Sqlite, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rush_on_two_processes_over_one_postgres() {
    rush(Backend::Postgres, 2).await;
}

/// Typing and "seen" cross processes like every other frame: the agent's
/// inbox on one process, the shopper on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_and_seen_cross_processes_on_postgres() {
    let Some(database) = common::fresh_database(Backend::Postgres).await else {
        return;
    };
    let store = Store::connect(&database.url).await.unwrap();
    let account = store.create_account("Two-process shop").await.unwrap();
    let site = store
        .create_site(&account, "Shop", &[common::SHOP_ORIGIN.to_owned()])
        .await
        .unwrap();
    let agent = add_agent(&store, &account, "ada@shop.test", "Ada").await;
    let (inbox_server, shop_server) = (
        Server::start(&database.url).await,
        Server::start(&database.url).await,
    );
    let mut inbox = online_inbox_at(inbox_server.addr, &agent.email).await;
    let (mut shopper, id) = chatting_shopper_at(shop_server.addr, &site.site_key, "Anyone?").await;
    shopper.until("event", common::is_assigned).await;
    inbox
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    inbox.drain().await;

    shopper.send(json!({"type": "typing"})).await;
    inbox
        .until("typing", |f| f["typist"]["shopper"].is_object())
        .await;
    inbox
        .send(json!({"type": "typing", "conversation_id": id}))
        .await;
    assert_eq!(shopper.until("typing", |_| true).await["name"], "Ada");
    let last = store.conversation(&id).await.unwrap().unwrap().last_seq;
    inbox
        .send(json!({"type": "read", "conversation_id": id, "seq": last}))
        .await;
    assert_eq!(shopper.until("seen", |_| true).await["seq"], last);
    shopper
        .send(json!({"type": "read", "conversation_id": id, "seq": last}))
        .await;
    assert_eq!(
        inbox.until("seen", |f| f["reader"] == "shopper").await["seq"],
        last
    );
    drop((inbox_server, shop_server));
    store.close().await;
}

/// A process lost for good (`kill -9`, so it says nothing on the way out):
/// its agent does not come back, and once its presence has expired the
/// other process offers that agent's chat to whoever is there; what the
/// shopper wrote meanwhile is there for the new agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_processs_agent_leaves_their_chats_to_the_agents_still_there_on_postgres() {
    let Some(database) = common::fresh_database(Backend::Postgres).await else {
        return;
    };
    let store = Store::connect(&database.url).await.unwrap();
    let account = store.create_account("Two-process shop").await.unwrap();
    let site = store
        .create_site(&account, "Shop", &[common::SHOP_ORIGIN.to_owned()])
        .await
        .unwrap();
    let ada = add_agent(&store, &account, "ada@shop.test", "Ada").await;
    let bob = add_agent(&store, &account, "bob@shop.test", "Bob").await;
    let quick = [("RAPPORT_OFFLINE_GRACE_SECS", "1")];
    let survivor = Server::start_with(&database.url, &quick).await;
    let doomed = Server::start_with(&database.url, &quick).await;

    let bob_inbox = online_inbox_at(doomed.addr, &bob.email).await;
    let (mut shopper, id) =
        chatting_shopper_at(survivor.addr, &site.site_key, "Where is my order?").await;
    let first = shopper.until("event", common::is_assigned).await;
    assert_eq!(first["event"]["body"]["assigned"]["agent_name"], "Bob");
    let mut ada_inbox = online_inbox_at(survivor.addr, &ada.email).await;

    drop(doomed);
    drop(bob_inbox);
    shopper.say("m2", "Hello?").await;
    // The lost process's presence expires (15 s unheard), then the grace
    // period, then the chat is Ada's.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let frames = shopper.frames_within(Duration::from_secs(1)).await;
        if frames.iter().any(|f| {
            common::is_assigned(f) && f["event"]["body"]["assigned"]["agent_name"] == "Ada"
        }) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the chat was not offered to Ada"
        );
    }
    ada_inbox
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    let replayed: Vec<String> = ada_inbox
        .drain()
        .await
        .iter()
        .filter_map(|f| {
            f["event"]["body"]["message"]["text"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(replayed, ["Where is my order?", "Hello?"]);
    let events = store.events_after(&id, 0, 100).await.unwrap();
    assert!(events.iter().any(|e| matches!(
        &e.body,
        EventBody::Note { text } if text.contains("Bob is not connected")
    )));
    drop(survivor);
    store.close().await;
}
