//! Benchmark: search and the inbox's views on a large history, through the
//! real store (`cargo xtask bench-search`). Seeds `--messages` messages
//! (default 1,000,000) in conversations of ten, in English, Dutch, Russian
//! and Bengali words with a skewed (Zipf-like) frequency, closes nine in
//! ten, then times each labelled query and view page (p50 and p95 of
//! `--runs` runs) against a baseline measured in the same run: reading one
//! event by its key.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[path = "shared/timing.rs"]
mod timing;

use std::time::{Duration, Instant};

use protocol::{Channel, View, ViewFilter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_server::store::{Append, AppendTo, Store, ViewCursor};
use rapport_server::text_search::Query;
use timing::{ms, time};

const ENGLISH: &[&str] = &[
    "please",
    "order",
    "where",
    "thanks",
    "my",
    "the",
    "is",
    "delivery",
    "parcel",
    "size",
    "shoes",
    "return",
    "refund",
    "tracking",
    "invoice",
    "discount",
    "broken",
    "jacket",
    "colour",
    "payment",
    "address",
    "week",
    "today",
    "help",
    "cancel",
    "exchange",
    "ordered",
    "returns",
    "refunded",
    "returning",
    "delivered",
    "warranty",
    "umbrella",
    "receipt",
];
const DUTCH: &[&str] = &[
    "graag",
    "mijn",
    "bestelling",
    "waar",
    "bedankt",
    "levering",
    "pakket",
    "maat",
    "schoenen",
    "betaling",
    "korting",
    "adres",
    "week",
    "retourneren",
    "bestellingen",
    "geleverd",
    "factuur",
];
const RUSSIAN: &[&str] = &[
    "спасибо",
    "мой",
    "заказ",
    "где",
    "доставка",
    "заказа",
    "возврат",
    "размер",
    "посылка",
    "оплата",
    "скидка",
    "адрес",
    "неделю",
    "доставкой",
    "чек",
];
const BENGALI: &[&str] = &[
    "ধন্যবাদ",
    "আমার",
    "অর্ডার",
    "কোথায়",
    "ফেরত",
    "ডেলিভারি",
    "জুতা",
    "আকার",
    "পেমেন্ট",
    "ঠিকানা",
];

/// Queries as agents type them: common, stemmed, two words, rare, per language.
const QUERIES: &[&str] = &[
    "refund",
    "returning shoes",
    "tracking invoice",
    "zeppelin",
    "bestelling",
    "заказа",
    "অর্ডার",
    "warranty umbrella receipt",
];

struct Params {
    messages: usize,
    runs: usize,
    database_url: Option<String>,
    /// Time the history an earlier run seeded in `database_url`.
    existing: bool,
}

fn params() -> Params {
    let mut p = Params {
        messages: 1_000_000,
        runs: 30,
        database_url: None,
        existing: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut args = args.as_slice();
    if let Some((first, rest)) = args.split_first()
        && first == "--existing"
    {
        p.existing = true;
        args = rest;
    }
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--messages" => p.messages = value.parse().unwrap(),
            "--runs" => p.runs = value.parse().unwrap(),
            "--database-url" => p.database_url = Some(value.to_owned()),
            other => {
                panic!("unknown argument {other}; use --messages N --runs N --database-url URL")
            }
        }
    }
    p
}

/// A skewed pick: the first words of a list come up far more often.
fn word<'a>(rng: &mut StdRng, words: &[&'a str]) -> &'a str {
    let u: f64 = rng.r#gen();
    words[((u * u * u) * words.len() as f64) as usize]
}

fn sentence(rng: &mut StdRng, index: usize) -> String {
    let words = match rng.gen_range(0..10) {
        0..=4 => ENGLISH,
        5..=6 => DUTCH,
        7..=8 => RUSSIAN,
        _ => BENGALI,
    };
    let length = rng.gen_range(6..13);
    let mut text: Vec<&str> = (0..length).map(|_| word(rng, words)).collect();
    // A rare word, in one message of 100,000.
    if index % 100_000 == 7 {
        text.push("zeppelin");
    }
    text.join(" ")
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
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let (account, conversations, written, seeded) = if p.existing {
        let account: String =
            sqlx::query_scalar("SELECT id FROM accounts WHERE name = 'Search bench'")
                .fetch_one(&pool)
                .await
                .unwrap();
        let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
            .fetch_one(&pool)
            .await
            .unwrap();
        let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap();
        (
            account,
            usize::try_from(conversations).unwrap(),
            usize::try_from(written).unwrap(),
            Duration::ZERO,
        )
    } else {
        seed(&store, &pool, &p).await
    };
    // What autovacuum does on a live PostgreSQL: the planner's statistics,
    // and the dead row versions of the seeding's updates (ten per
    // conversation here, in minutes; a live shop's are spread over weeks)
    // cleared from the indexes.
    if !url.starts_with("sqlite") {
        sqlx::query("VACUUM ANALYZE").execute(&pool).await.unwrap();
    }
    pool.close().await;

    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let backend = if url.starts_with("sqlite") {
        "SQLite (WAL, FTS5)"
    } else {
        "PostgreSQL (tsvector, GIN)"
    };
    println!("search benchmark: {cores} cores, {backend}");
    println!(
        "  seeded {written} messages in {conversations} conversations in {:.0} s (not timed below)",
        seeded.as_secs_f64()
    );
    let probe = store
        .view_page(&account, "", View::Closed, &ViewFilter::default(), None, 1)
        .await
        .unwrap()
        .0
        .remove(0);
    let (base50, base95) = time(p.runs, || async {
        store.events_after(&probe.id, 0, 1).await.unwrap();
    })
    .await;
    println!(
        "  baseline (one event by its key): p50 {:.2} ms, p95 {:.2} ms",
        ms(base50),
        ms(base95)
    );
    for q in QUERIES {
        let query = Query::parse(q).unwrap();
        let hits = store
            .search_messages(&account, &query, protocol::SEARCH_RESULTS)
            .await
            .unwrap()
            .len();
        let (p50, p95) = time(p.runs, || async {
            store
                .search_messages(&account, &query, protocol::SEARCH_RESULTS)
                .await
                .unwrap();
        })
        .await;
        println!(
            "  search {q:<28} {hits:>2} hits  p50 {:>7.2} ms  p95 {:>7.2} ms  ({:.0}x the baseline at p95)",
            ms(p50),
            ms(p95),
            p95.as_secs_f64() / base95.as_secs_f64().max(f64::EPSILON)
        );
    }
    // Views: counts, the first page, and a page 1,000 pages deep.
    let filter = ViewFilter::default();
    let (p50, p95) = time(p.runs, || async {
        store.view_counts(&account, "", &filter).await.unwrap();
    })
    .await;
    println!(
        "  view counts (every view)            p50 {:>7.2} ms  p95 {:>7.2} ms",
        ms(p50),
        ms(p95)
    );
    let (p50, p95) = time(p.runs, || async {
        store
            .view_page(
                &account,
                "",
                View::Closed,
                &filter,
                None,
                protocol::VIEW_PAGE,
            )
            .await
            .unwrap();
    })
    .await;
    println!(
        "  closed view, first page of 50       p50 {:>7.2} ms  p95 {:>7.2} ms",
        ms(p50),
        ms(p95)
    );
    let mut cursor: Option<ViewCursor> = None;
    let deep = (conversations * 9 / 10 / 50).min(1000);
    for _ in 0..deep {
        cursor = store
            .view_page(
                &account,
                "",
                View::Closed,
                &filter,
                cursor.as_ref(),
                protocol::VIEW_PAGE,
            )
            .await
            .unwrap()
            .1;
    }
    let (p50, p95) = time(p.runs, || async {
        store
            .view_page(
                &account,
                "",
                View::Closed,
                &filter,
                cursor.as_ref(),
                protocol::VIEW_PAGE,
            )
            .await
            .unwrap();
    })
    .await;
    println!(
        "  closed view, page {deep:<5} of 50          p50 {:>7.2} ms  p95 {:>7.2} ms",
        ms(p50),
        ms(p95)
    );
    store.close().await;
}

/// Seeds the history; (account, conversations, messages, how long it took).
async fn seed(store: &Store, pool: &sqlx::AnyPool, p: &Params) -> (String, usize, usize, Duration) {
    let account = store.create_account("Search bench").await.unwrap();
    let site = store.create_site(&account, "Bench", &[]).await.unwrap();
    let book = store.conversation_book();
    let mut rng = StdRng::seed_from_u64(7);
    let per_conversation = 10;
    let conversations = p.messages.div_ceil(per_conversation);
    let seeding = Instant::now();
    // Visitors first, then each one's first message (which opens their
    // conversation), then the rest naming it (the writer's fast way).
    let mut visitors = Vec::with_capacity(conversations);
    for c in 0..conversations {
        let visitor = store
            .visitor_book()
            .create_visitor(&site.id, &format!("bench-{c}"))
            .await
            .unwrap();
        visitors.push(visitor.id);
    }
    let shopper =
        |visitor: &str, current: Option<String>, client_id: String, body: String| Append {
            to: AppendTo::Shopper {
                site_id: site.id.clone(),
                visitor_id: visitor.to_owned(),
                current,
                language: None,
                topic: None,
                note: None,
                may_open: true,
                reopen_days: 0,
            },
            client_id,
            body,
            files: Vec::new(),
            via: Channel::Chat,
        };
    let mut written = 0;
    let mut opened = Vec::with_capacity(conversations);
    for chunk in visitors.chunks(500) {
        let batch: Vec<Append> = chunk
            .iter()
            .map(|visitor| {
                written += 1;
                shopper(
                    visitor,
                    None,
                    format!("{visitor}-0"),
                    sentence(&mut rng, written),
                )
            })
            .collect();
        for outcome in book.append_batch(&batch).await.unwrap() {
            opened.push(outcome.unwrap().conversation.id);
        }
    }
    let mut batch = Vec::new();
    'seeding: for m in 1..per_conversation {
        for (visitor, conversation) in visitors.iter().zip(&opened) {
            if written >= p.messages {
                break 'seeding;
            }
            written += 1;
            batch.push(shopper(
                visitor,
                Some(conversation.clone()),
                format!("{visitor}-{m}"),
                sentence(&mut rng, written),
            ));
            if batch.len() == 500 {
                book.append_batch(&batch).await.unwrap();
                batch.clear();
            }
        }
    }
    book.append_batch(&batch).await.unwrap();
    let seeded = seeding.elapsed();
    // Nine in ten conversations are history.
    let close = "UPDATE conversations SET state = 'closed', closed_at = updated_at \
                 WHERE id IN (SELECT id FROM conversations ORDER BY id LIMIT $1)";
    sqlx::query(close)
        .bind((conversations * 9 / 10) as i64)
        .execute(pool)
        .await
        .unwrap();
    (account, conversations, written, seeded)
}
