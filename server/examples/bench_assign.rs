//! Benchmark: how long the dispatcher takes to hand out waiting
//! conversations to online agents, through the real store, against a
//! baseline measured in the same run (the pure matcher making the same
//! number of decisions with no IO). Run it with `cargo xtask bench`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::{Availability, Role};
use rapport_server::conversations::{Conversations, MailSettings};
use rapport_server::dispatch::{Deadlines, Dispatcher, Parts};
use rapport_server::hub::Hub;
use rapport_server::identity;
use rapport_server::matcher::{self, Candidate};
use rapport_server::store::{NewMessage, Store};

struct Params {
    waiting: usize,
    agents: usize,
    capacity: i64,
    database_url: Option<String>,
}

fn params() -> Params {
    let mut p = Params {
        waiting: 1000,
        agents: 100,
        capacity: 10,
        database_url: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--waiting" => p.waiting = value.parse().unwrap(),
            "--agents" => p.agents = value.parse().unwrap(),
            "--capacity" => p.capacity = value.parse().unwrap(),
            "--database-url" => p.database_url = Some(value.to_owned()),
            other => panic!(
                "unknown argument {other}; use --waiting N --agents N --capacity N --database-url URL"
            ),
        }
    }
    p
}

/// The same decisions with no IO: `waiting` picks among `agents`.
fn baseline(p: &Params) -> Duration {
    let ids: Vec<String> = (0..p.agents).map(|i| format!("agent-{i}")).collect();
    let mut open = vec![0i64; p.agents];
    let mut last = vec![0i64; p.agents];
    let started = Instant::now();
    for now in 1..=p.waiting {
        let candidates: Vec<Candidate<'_>> = (0..p.agents)
            .map(|i| Candidate {
                agent_id: &ids[i],
                open: open[i],
                capacity: p.capacity,
                last_assigned_ms: last[i],
                speaks: false,
            })
            .collect();
        let Some(chosen) = matcher::pick(&candidates, None) else {
            break;
        };
        let i = ids.iter().position(|id| id == chosen).unwrap();
        open[i] += 1;
        last[i] = i64::try_from(now).unwrap();
    }
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let p = params();
    let dir = tempfile::tempdir().unwrap();
    let url = p
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let store = Store::connect(&url).await.unwrap();
    let account = store.create_account("Bench shop").await.unwrap();
    let site = store.create_site(&account, "Bench", &[]).await.unwrap();
    let hash = identity::hash_password("bench password, not secret").unwrap();
    let mut agents = Vec::new();
    for i in 0..p.agents {
        let email = format!("agent{i}-{}@bench.test", uuid_suffix());
        let agent = store
            .create_agent(&account, &email, &format!("Agent {i}"), Role::Agent, &hash)
            .await
            .unwrap();
        store
            .set_agent_capacity(&agent.id, Some(p.capacity))
            .await
            .unwrap();
        agents.push(rapport_server::store::Agent {
            capacity: Some(p.capacity),
            ..agent
        });
    }
    // Everyone online before anything waits.
    let long = Duration::from_secs(24 * 3600);
    let hub = Arc::new(Hub::new(None));
    let (conversations, nudges) = Conversations::new(
        store.conversation_book(),
        hub.clone(),
        MailSettings::off(),
        std::sync::Arc::new(rapport_server::limits::Limits::new(
            rapport_server::limits::LimitSettings::off(),
        )),
        rapport_server::files::Files::new(
            store.clone(),
            rapport_server::files::Blobs::database(store.clone()),
            rapport_server::files::FileSettings::default(),
        ),
    );
    let dispatcher = Dispatcher::start(Parts {
        store: store.clone(),
        conversations,
        nudges,
        hub,
        peers: None,
        deadlines: Deadlines {
            reply: long,
            offline_grace: long,
            clock: rapport_server::clock::Clock::default(),
        },
    });
    for (i, agent) in agents.iter().enumerate() {
        dispatcher.connected(agent, i as u64).await;
        dispatcher.set_status(agent, Availability::Online);
    }
    dispatcher.statuses(&account).await;
    // Waiting conversations, written straight to the store (not timed).
    for i in 0..p.waiting {
        let visitor = store
            .visitor_book()
            .create_visitor(&site.id, &format!("bench-{i}-{}", uuid_suffix()))
            .await
            .unwrap();
        let message = NewMessage {
            client_id: "c",
            body: "hello",
            via: protocol::Channel::Chat,
        };
        store
            .conversation_book()
            .post_visitor_message(&site.id, &visitor.id, Default::default(), message)
            .await
            .unwrap();
    }

    let base = baseline(&p);
    let started = Instant::now();
    dispatcher.serve(&account);
    let seats = p.agents * usize::try_from(p.capacity).unwrap();
    let expected_left = p.waiting.saturating_sub(seats);
    loop {
        let left = store.waiting_conversations(&account).await.unwrap().len();
        if left <= expected_left {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let measured = started.elapsed();
    let assigned = p.waiting - expected_left;

    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let backend = if url.starts_with("sqlite") {
        "SQLite (WAL)"
    } else {
        "PostgreSQL"
    };
    println!("assignment benchmark: {cores} cores, {backend}");
    println!(
        "  parameters: {} waiting, {} agents online, capacity {} each",
        p.waiting, p.agents, p.capacity
    );
    println!(
        "  baseline (pure matcher, no IO): {} decisions in {:.3} ms, {:.2} µs each",
        assigned,
        base.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e6 / assigned.max(1) as f64
    );
    println!(
        "  dispatcher + store:             {} assignments in {:.1} ms, {:.3} ms each",
        assigned,
        measured.as_secs_f64() * 1e3,
        measured.as_secs_f64() * 1e3 / assigned.max(1) as f64
    );
    println!(
        "  ratio to baseline: {:.0}x (the store's guarded writes are the cost)",
        measured.as_secs_f64() / base.as_secs_f64().max(f64::EPSILON)
    );
    store.close().await;
}

fn uuid_suffix() -> String {
    identity::random_token(6)
}
