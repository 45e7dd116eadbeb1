//! Benchmark: the owner's reports on a large history, through the real
//! store and the real report code (`cargo xtask bench-reports`). Seeds
//! `--events` events (default 1,000,000) in conversations of ten over 90
//! days, handled by ten agents online 09:00–17:00 each day: one in twenty
//! reopened, one in fifty requeued, one in thirty left the line, one in
//! three rated, one in two promised a wait. Then times each report (p50
//! and p95 of `--runs` runs) against a baseline measured in the same run:
//! reading one event by its key.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[path = "shared/timing.rs"]
mod timing;

use std::time::Instant;

use protocol::Role;
use rapport_server::reports::{self, ReportRequest};
use rapport_server::store::Store;
use timing::{ms, time};

const DAY_MS: i64 = 24 * 3_600_000;
const DAYS: i64 = 90;
const AGENTS: usize = 10;
const PER_CONVERSATION: usize = 10;
/// Rows per INSERT while seeding.
const CHUNK: usize = 1000;

struct Params {
    events: usize,
    runs: usize,
    database_url: Option<String>,
}

fn params() -> Params {
    let mut p = Params {
        events: 1_000_000,
        runs: 10,
        database_url: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--events" => p.events = value.parse().unwrap(),
            "--runs" => p.runs = value.parse().unwrap(),
            "--database-url" => p.database_url = Some(value.to_owned()),
            other => panic!("unknown argument {other}; use --events N --runs N --database-url URL"),
        }
    }
    p
}

/// Runs `rows` as INSERTs of [`CHUNK`] rows each into `table (columns)`.
async fn insert(pool: &sqlx::AnyPool, table: &str, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(CHUNK) {
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", chunk.join(","));
        sqlx::query(&sql).execute(pool).await.unwrap();
    }
}

struct Seeded {
    account: String,
    agent: String,
    first_event: String,
    conversations: usize,
    events: usize,
    start_ms: i64,
}

async fn seed(store: &Store, pool: &sqlx::AnyPool, p: &Params) -> Seeded {
    let account = store.create_account("Reports bench").await.unwrap();
    let site = store.create_site(&account, "Bench", &[]).await.unwrap();
    let mut agents = Vec::new();
    for a in 0..AGENTS {
        let agent = store
            .create_agent(
                &account,
                &format!("agent{a}@bench.test"),
                &format!("Agent {a}"),
                Role::Agent,
                "x",
            )
            .await
            .unwrap();
        agents.push(agent.id);
    }
    let conversations = p.events / PER_CONVERSATION;
    // Ninety whole days ending at the last midnight (UTC).
    let now = rapport_server::store::now_ms();
    let start_ms = (now.div_euclid(DAY_MS) - DAYS) * DAY_MS;
    let step = DAYS * DAY_MS / conversations.max(1) as i64;
    let (mut visitors, mut rows, mut events) = (Vec::new(), Vec::new(), Vec::new());
    let (mut requeues, mut exits, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
    let site_id = &site.id;
    let mut written = 0;
    for c in 0..conversations {
        let id = format!("c{c:07}");
        let at = start_ms + c as i64 * step;
        let agent = &agents[c % AGENTS];
        let reopened = c % 20 == 0;
        visitors.push(format!("('v{c:07}', '{site_id}', 'h{c:07}', {at}, {at})"));
        let (promised, promised_at) = if c % 2 == 0 {
            ("30000".to_owned(), (at + 2000).to_string())
        } else {
            ("NULL".to_owned(), "NULL".to_owned())
        };
        rows.push(format!(
            "('{id}', '{site_id}', 'v{c:07}', 'closed', '{agent}', {at}, {at}, '{account}', {}, {}, {promised}, {promised_at})",
            if reopened { (at + 3_600_000).to_string() } else { "NULL".to_owned() },
            at + 7_200_000,
        ));
        let kinds: [(&str, &str); PER_CONVERSATION] = if reopened {
            [
                ("message", "visitor"),
                ("assigned", "system"),
                ("closed", "agent"),
                ("reopened", "system"),
                ("message", "visitor"),
                ("message", "agent"),
                ("message", "visitor"),
                ("message", "agent"),
                ("message", "visitor"),
                ("closed", "agent"),
            ]
        } else {
            [
                ("message", "visitor"),
                ("assigned", "system"),
                ("message", "agent"),
                ("message", "visitor"),
                ("message", "agent"),
                ("message", "visitor"),
                ("message", "agent"),
                ("message", "visitor"),
                ("message", "agent"),
                ("closed", "agent"),
            ]
        };
        for (seq, (kind, author)) in kinds.iter().enumerate() {
            // Minutes apart, a reopen an hour in.
            let offset = if reopened && seq >= 3 {
                3_600_000 + seq as i64 * 60_000
            } else {
                seq as i64 * 60_000 + (c % 7) as i64 * 1000
            };
            let author_id = if *author == "agent" {
                format!("'{agent}'")
            } else {
                "NULL".to_owned()
            };
            events.push(format!(
                "('{id}', {}, '{kind}', '{author}', {author_id}, 'words', {}, NULL)",
                seq + 1,
                at + offset
            ));
            written += 1;
        }
        if c % 50 == 0 {
            requeues.push(format!(
                "('q{c}', '{id}', '{account}', '{agent}', 'no_reply', {})",
                at + 30_000
            ));
        }
        if c % 30 == 0 {
            exits.push(format!(
                "('x{c}', '{id}', '{account}', {at}, {}, NULL)",
                at + 20_000
            ));
        }
        if c % 3 == 0 {
            ratings.push(format!(
                "('{id}', '{account}', {}, NULL, {}, {})",
                1 + c % 5,
                at + 8_000_000,
                at + 8_000_000
            ));
        }
    }
    insert(
        pool,
        "visitors",
        "id, site_id, token_hash, created_at, last_seen_at",
        &visitors,
    )
    .await;
    insert(
        pool,
        "conversations",
        "id, site_id, visitor_id, state, assigned_agent_id, created_at, updated_at, \
        account_id, reopened_at, closed_at, promised_wait_ms, promised_at",
        &rows,
    )
    .await;
    insert(
        pool,
        "events",
        "conversation_id, seq, kind, author_kind, author_id, body, created_at, channel",
        &events,
    )
    .await;
    insert(
        pool,
        "requeues",
        "id, conversation_id, account_id, agent_id, reason, created_at",
        &requeues,
    )
    .await;
    insert(
        pool,
        "queue_exits",
        "id, conversation_id, account_id, waiting_since, left_at, returned_at",
        &exits,
    )
    .await;
    insert(
        pool,
        "ratings",
        "conversation_id, account_id, score, comment, first_at, rated_at",
        &ratings,
    )
    .await;
    let mut presence = Vec::new();
    for (a, agent) in agents.iter().enumerate() {
        for day in 0..DAYS {
            let opens = start_ms + day * DAY_MS + 9 * 3_600_000;
            let closes = opens + 8 * 3_600_000;
            presence.push(format!("('p{a}-{day}', '{account}', '{agent}', 'n1', 'online', {opens}, {closes}, {closes})"));
        }
    }
    insert(
        pool,
        "agent_presence",
        "id, account_id, agent_id, node, status, started_at, ended_at, seen_at",
        &presence,
    )
    .await;
    Seeded {
        account,
        agent: agents[0].clone(),
        first_event: "c0000001".to_owned(),
        conversations,
        events: written,
        start_ms,
    }
}

#[tokio::main]
async fn main() {
    let p = params();
    let dir = tempfile::tempdir().unwrap();
    let url = p
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = Store::connect(&url).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let seeding = Instant::now();
    let seeded = seed(&store, &pool, &p).await;
    if backend == "PostgreSQL" {
        // As autovacuum would after a bulk load.
        sqlx::query("VACUUM ANALYZE").execute(&pool).await.unwrap();
    }
    println!(
        "Reports benchmark on {backend}: {} events in {} conversations over {DAYS} days, seeded in {:.1} s; {} runs each",
        seeded.events,
        seeded.conversations,
        seeding.elapsed().as_secs_f64(),
        p.runs
    );
    let day = |offset: i64| {
        jiff::Timestamp::from_millisecond(seeded.start_ms + offset * DAY_MS)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string()
    };
    let (baseline50, baseline95) = time(p.runs * 10, || async {
        store.events_after(&seeded.first_event, 0, 1).await.unwrap();
    })
    .await;
    println!(
        "  baseline (one event by its key): p50 {:.3} ms, p95 {:.3} ms",
        ms(baseline50),
        ms(baseline95)
    );
    let request =
        |from: i64, to: i64, zone: &str, agent: Option<&str>, business_hours: bool| ReportRequest {
            from: Some(day(from)),
            to: Some(day(to)),
            zone: Some(zone.to_owned()),
            agent: agent.map(str::to_owned),
            business_hours,
            ..ReportRequest::default()
        };
    // The history's reading alone (SQL and decoding), for the whole period.
    let scope = rapport_server::store::ReportScope {
        account_id: seeded.account.clone(),
        from_ms: seeded.start_ms,
        to_ms: seeded.start_ms + DAYS * DAY_MS,
        ..Default::default()
    };
    let (read50, read95) = time(p.runs, || async {
        store.report_facts(&scope, &[]).await.unwrap();
    })
    .await;
    println!(
        "  reading the 90 days' history alone: p50 {:.1} ms ({:.0}× baseline), p95 {:.1} ms",
        ms(read50),
        ms(read50) / ms(baseline50).max(1e-6),
        ms(read95)
    );
    let cases = [
        (
            "all 90 days (1M events), UTC",
            request(0, DAYS - 1, "UTC", None, false),
            false,
        ),
        (
            "all 90 days, Europe/Amsterdam",
            request(0, DAYS - 1, "Europe/Amsterdam", None, false),
            false,
        ),
        (
            "all 90 days as CSV",
            request(0, DAYS - 1, "UTC", None, false),
            true,
        ),
        (
            "one agent, 90 days",
            request(0, DAYS - 1, "UTC", Some(&seeded.agent), false),
            false,
        ),
        (
            "last 7 days",
            request(DAYS - 7, DAYS - 1, "UTC", None, false),
            false,
        ),
        (
            "last 7 days, business hours",
            request(DAYS - 7, DAYS - 1, "UTC", None, true),
            false,
        ),
    ];
    for (name, request, as_csv) in cases {
        let rows = std::cell::Cell::new(0);
        let (p50, p95) = time(p.runs, || {
            let request = request.clone();
            let (store, account, rows) = (&store, &seeded.account, &rows);
            async move {
                let report = reports::build(store, account, request)
                    .await
                    .unwrap()
                    .unwrap();
                rows.set(report.rows.len());
                if as_csv {
                    reports::csv(&report).unwrap();
                }
            }
        })
        .await;
        let rows = rows.get();
        println!(
            "  {name}: {rows} conversations, p50 {:.1} ms ({:.0}× baseline), p95 {:.1} ms",
            ms(p50),
            ms(p50) / ms(baseline50).max(1e-6),
            ms(p95)
        );
    }
    store.close().await;
}
