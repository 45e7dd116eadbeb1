//! The owner's reports against a seeded history whose every figure is
//! worked out by hand below, on both backends: two days in New York (a
//! chat started at 23:30 on Monday there is Tuesday in UTC and counts on
//! Monday), a requeue, a reopen measured from the reopen, a shopper who
//! gave up and was answered by email, ratings, a promise kept and one
//! broken, presence on two processes at once, business hours, a second
//! site, another account that never shows, and the CSV matching the figures.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::TestApp;
use protocol::{BusinessHours, OpeningSpan, Role};
use reqwest::Method;
use serde_json::{Value, json};

const ZONE: &str = "America/New_York";
/// Monday 5 January 2026, 00:00 in New York (05:00 UTC).
const MON: i64 = 1_767_589_200_000;
const TUE: i64 = MON + DAY;
const DAY: i64 = 24 * HOUR;
const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;
const SEC: i64 = 1000;

/// One seeded conversation: its start, and its events as (kind, author,
/// seconds after the start).
struct Seed<'a> {
    id: &'a str,
    site_id: &'a str,
    account_id: &'a str,
    agent_id: &'a str,
    start: i64,
    channel: &'a str,
    events: &'a [(&'a str, &'a str, i64)],
}

async fn seed(app: &TestApp, seed: &Seed<'_>) {
    let Seed {
        id,
        site_id,
        account_id,
        agent_id,
        start,
        channel,
        events,
    } = *seed;
    let both = |sql: String| async move { app.sql(&sql, &sql).await };
    both(format!(
        "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at) \
         VALUES ('v-{id}', '{site_id}', 'hash-{id}', {start}, {start})"
    ))
    .await;
    let reopened = events
        .iter()
        .find(|(kind, _, _)| *kind == "reopened")
        .map_or("NULL".to_owned(), |(_, _, at)| {
            (start + at * SEC).to_string()
        });
    both(format!(
        "INSERT INTO conversations (id, site_id, visitor_id, state, assigned_agent_id, created_at, \
         updated_at, account_id, reopened_at, closed_at) VALUES ('{id}', '{site_id}', 'v-{id}', \
         'closed', '{agent_id}', {start}, {start}, '{account_id}', {reopened}, {start})"
    ))
    .await;
    // As the log keeps it: chat is no channel of its own.
    let channel = if channel == "email" {
        "'email'"
    } else {
        "NULL"
    };
    for (seq, (kind, author, at)) in events.iter().enumerate() {
        let payload = match *kind {
            "reopened" => "'{\"reopened\":{\"why\":\"customer_wrote\"}}'",
            _ => "NULL",
        };
        let author_id = if *author == "agent" {
            format!("'{agent_id}'")
        } else {
            "NULL".to_owned()
        };
        both(format!(
            "INSERT INTO events (conversation_id, seq, kind, author_kind, author_id, body, \
             created_at, channel, payload) VALUES ('{id}', {}, '{kind}', '{author}', {author_id}, \
             'words', {}, {channel}, {payload})",
            seq + 1,
            start + at * SEC
        ))
        .await;
    }
}

/// The report's row for conversation `id`.
fn row_of(report: &Value, id: &str) -> Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["conversation_id"] == id)
        .unwrap()
        .clone()
}

/// Seconds as the JSON's milliseconds.
fn ms(secs: i64) -> Value {
    json!(secs * SEC)
}

async fn report(app: &TestApp, cookie: &str, query: &str) -> Value {
    let (status, body) = app
        .call(Method::GET, &format!("/api/reports?{query}"), cookie, None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

on_both_backends!(
    every_figure_of_a_seeded_history_is_the_one_worked_out_by_hand,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let account = app.site.account_id.clone();
        let ada = app.agent.id.clone();
        let other_site = app
            .store
            .create_site(&account, "Second shop", &["https://second.test".to_owned()])
            .await
            .unwrap();
        let site = app.site.id.clone();
        let seeds = [
            // Monday 09:00: taken after 30 s, answered at 60 s, closed at 600 s.
            Seed {
                id: "c1",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: MON + 9 * HOUR,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 30),
                    ("message", "agent", 60),
                    ("closed", "agent", 600),
                ],
            },
            // Monday 23:30 in New York, Tuesday 04:30 UTC: Monday's.
            Seed {
                id: "c2",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: MON + 23 * HOUR + 30 * MIN,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 10),
                    ("message", "agent", 120),
                    ("closed", "agent", 900),
                ],
            },
            // Sunday 23:59: before the period.
            Seed {
                id: "c3",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: MON - MIN,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 1),
                    ("message", "agent", 2),
                    ("closed", "agent", 3),
                ],
            },
            // Tuesday 10:00: taken at 300 s, requeued (no reply), taken again, answered at 500 s.
            Seed {
                id: "c4",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: TUE + 10 * HOUR,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 300),
                    ("assigned", "system", 480),
                    ("message", "agent", 500),
                    ("closed", "agent", 1000),
                ],
            },
            // Tuesday 11:00: left the line after 120 s; taken at 600 s, answered by email.
            Seed {
                id: "c5",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: TUE + 11 * HOUR,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 600),
                    ("message", "agent", 660),
                    ("closed", "agent", 1200),
                ],
            },
            // Tuesday 12:00: closed unanswered at 60 s; reopened at 3600 s, answered 60 s later, closed at 4000 s.
            Seed {
                id: "c6",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: TUE + 12 * HOUR,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 5),
                    ("closed", "agent", 60),
                    ("reopened", "system", 3600),
                    ("message", "visitor", 3600),
                    ("message", "agent", 3660),
                    ("closed", "agent", 4000),
                ],
            },
            // Tuesday 13:00, by email, on the second site.
            Seed {
                id: "c7",
                site_id: &other_site.id,
                account_id: &account,
                agent_id: &ada,
                start: TUE + 13 * HOUR,
                channel: "email",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 20),
                    ("message", "agent", 1800),
                    ("closed", "agent", 3600),
                ],
            },
            // Wednesday 00:00: after the period.
            Seed {
                id: "c8",
                site_id: &site,
                account_id: &account,
                agent_id: &ada,
                start: TUE + DAY,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 1),
                    ("message", "agent", 2),
                    ("closed", "agent", 3),
                ],
            },
        ];
        for s in &seeds {
            seed(&app, s).await;
        }
        // Another account's conversation in the same hours never shows.
        let stranger = app.store.create_account("Other shop").await.unwrap();
        let stranger_site = app
            .store
            .create_site(&stranger, "Other", &["https://other.test".to_owned()])
            .await
            .unwrap();
        let stranger_agent = app
            .store
            .create_agent(&stranger, "zed@other.test", "Zed", Role::Owner, "x")
            .await
            .unwrap();
        seed(
            &app,
            &Seed {
                id: "x1",
                site_id: &stranger_site.id,
                account_id: &stranger,
                agent_id: &stranger_agent.id,
                start: MON + 10 * HOUR,
                channel: "chat",
                events: &[
                    ("message", "visitor", 0),
                    ("assigned", "system", 1),
                    ("message", "agent", 2),
                    ("closed", "agent", 3),
                ],
            },
        )
        .await;

        let t = |at: i64| at.to_string();
        for sql in [
            format!(
                "INSERT INTO requeues (id, conversation_id, account_id, agent_id, reason, created_at) \
                     VALUES ('q1', 'c4', '{account}', '{ada}', 'no_reply', {})",
                t(TUE + 10 * HOUR + 420 * SEC)
            ),
            format!(
                "INSERT INTO queue_exits (id, conversation_id, account_id, waiting_since, left_at) \
                     VALUES ('e1', 'c5', '{account}', {}, {})",
                t(TUE + 11 * HOUR),
                t(TUE + 11 * HOUR + 120 * SEC)
            ),
            // c4's shopper closed the panel after 100 s, the page still open.
            format!(
                "INSERT INTO queue_exits (id, conversation_id, account_id, waiting_since, left_at, how) \
                     VALUES ('e3', 'c4', '{account}', {}, {}, 'closed_panel')",
                t(TUE + 10 * HOUR),
                t(TUE + 10 * HOUR + 100 * SEC)
            ),
            // c1 came back after leaving: it did not give up.
            format!(
                "INSERT INTO queue_exits (id, conversation_id, account_id, waiting_since, left_at, returned_at) \
                     VALUES ('e2', 'c1', '{account}', {}, {}, {})",
                t(MON + 9 * HOUR),
                t(MON + 9 * HOUR + 5 * SEC),
                t(MON + 9 * HOUR + 8 * SEC)
            ),
            format!(
                "INSERT INTO mail_outbox (id, site_id, conversation_id, kind, cause, envelope_from, recipient, \
                     message_id, message, status, next_attempt_at, created_at, sent_at) VALUES ('m1', '{site}', 'c5', \
                     'unseen', 'reply', 'chat@shop.test', 'grace@example.com', '<m1@shop.test>', 'x', 'sent', 0, {}, {})",
                t(TUE + 11 * HOUR + 900 * SEC),
                t(TUE + 11 * HOUR + 901 * SEC)
            ),
            format!(
                "INSERT INTO ratings (conversation_id, account_id, score, comment, first_at, rated_at) \
                     VALUES ('c1', '{account}', 5, NULL, {0}, {0})",
                t(MON + 10 * HOUR)
            ),
            format!(
                "INSERT INTO ratings (conversation_id, account_id, score, comment, first_at, rated_at) \
                     VALUES ('c2', '{account}', 3, '=HYPERLINK(\"evil\")', {0}, {0})",
                t(TUE + 5 * HOUR)
            ),
            // Promised 20 s at 5 s, taken at 30 s: 5 s over, kept. Promised
            // 60 s at 2 s, taken at 300 s: 238 s over, broken.
            format!(
                "UPDATE conversations SET promised_wait_ms = 20000, promised_at = {} WHERE id = 'c1'",
                t(MON + 9 * HOUR + 5 * SEC)
            ),
            format!(
                "UPDATE conversations SET promised_wait_ms = 60000, promised_at = {} WHERE id = 'c4'",
                t(TUE + 10 * HOUR + 2 * SEC)
            ),
            "UPDATE conversations SET rating_asked = FALSE WHERE id = 'c7'".to_owned(),
            // Ada online Monday 09:00–17:00 on one process and 12:00–13:00 on
            // another (online once); Tuesday online 09:00–12:00, away 12:00–13:00.
            format!(
                "INSERT INTO agent_presence (id, account_id, agent_id, node, status, started_at, ended_at, seen_at) \
                     VALUES ('p1', '{account}', '{ada}', 'n1', 'online', {}, {}, {})",
                t(MON + 9 * HOUR),
                t(MON + 17 * HOUR),
                t(MON + 17 * HOUR)
            ),
            format!(
                "INSERT INTO agent_presence (id, account_id, agent_id, node, status, started_at, ended_at, seen_at) \
                     VALUES ('p2', '{account}', '{ada}', 'n2', 'online', {}, {}, {})",
                t(MON + 12 * HOUR),
                t(MON + 13 * HOUR),
                t(MON + 13 * HOUR)
            ),
            // Still open on a process that stopped: it ends where last seen.
            format!(
                "INSERT INTO agent_presence (id, account_id, agent_id, node, status, started_at, ended_at, seen_at) \
                     VALUES ('p3', '{account}', '{ada}', 'n1', 'online', {}, NULL, {})",
                t(TUE + 9 * HOUR),
                t(TUE + 12 * HOUR)
            ),
            format!(
                "INSERT INTO agent_presence (id, account_id, agent_id, node, status, started_at, ended_at, seen_at) \
                     VALUES ('p4', '{account}', '{ada}', 'n1', 'away', {}, {}, {})",
                t(TUE + 12 * HOUR),
                t(TUE + 13 * HOUR),
                t(TUE + 13 * HOUR)
            ),
        ] {
            app.sql(&sql, &sql).await;
        }

        let all = report(
            &app,
            &owner,
            &format!("from=2026-01-05&to=2026-01-06&zone={ZONE}"),
        )
        .await;
        assert_eq!(
            (
                all["from"].clone(),
                all["to"].clone(),
                all["time_zone"].clone()
            ),
            (json!("2026-01-05"), json!("2026-01-06"), json!(ZONE))
        );
        let ids: Vec<&str> = all["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["conversation_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["c1", "c2", "c4", "c5", "c6", "c7"]);
        assert_eq!(
            (
                all["started"].clone(),
                all["started_by_chat"].clone(),
                all["started_by_email"].clone()
            ),
            (json!(6), json!(5), json!(1))
        );
        // Openings: c1 60, c2 120, c4 500, c5 660, c6's reopen 60, c7 1800 s;
        // c6's first opening closed unanswered.
        assert_eq!(
            all["first_response"],
            json!({"count": 6, "median_ms": ms(120), "p90_ms": ms(1800)})
        );
        // 600, 900, 1000, 1200, 60 and 400 (c6 twice), 3600 s.
        assert_eq!(
            all["time_to_close"],
            json!({"count": 7, "median_ms": ms(900), "p90_ms": ms(3600)})
        );
        assert_eq!(all["unanswered"], 1);
        // Taken after 30, 10, 300, 600, 5, 20 s.
        assert_eq!(
            all["waited"],
            json!({"count": 6, "median_ms": ms(20), "p90_ms": ms(600)})
        );
        assert_eq!(
            all["gave_up"],
            json!({"waited": {"count": 1, "median_ms": ms(120), "p90_ms": ms(120)}, "answered_by_email": 1})
        );
        assert_eq!(
            all["requeues"],
            json!([
            {"reason": "no_reply", "count": 1}, {"reason": "went_offline", "count": 0},
            {"reason": "deactivated", "count": 0}, {"reason": "handed_back", "count": 0}])
        );
        assert_eq!(
            all["ratings"],
            json!({"by_score": [0, 0, 1, 0, 1], "average": 4.0, "asked": 5})
        );
        assert_eq!(
            all["promise"],
            json!({"count": 2, "kept": 1, "median_overrun_ms": ms(5)})
        );
        let cell = |weekday: u64, hour: u64| {
            all["hours"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["weekday"] == weekday && c["hour"] == hour)
                .unwrap()
                .clone()
        };
        assert_eq!(all["hours"].as_array().unwrap().len(), 168);
        assert_eq!(
            (
                cell(0, 9)["started"].clone(),
                cell(0, 23)["started"].clone(),
                cell(1, 4)["started"].clone()
            ),
            (json!(1), json!(1), json!(0)),
            "Monday 23:30 in New York, not Tuesday 04:30"
        );
        assert_eq!(
            cell(0, 12)["agents_online"],
            1.0,
            "online on two processes is online once"
        );
        assert_eq!(cell(0, 17)["agents_online"], 0.0);
        assert_eq!(cell(1, 11)["agents_online"], 1.0);
        assert_eq!(cell(1, 12)["agents_online"], 0.0, "away is not online");
        let row = |id: &str| row_of(&all, id);
        assert_eq!(
            all["closed_panel_waiting"],
            json!({"count": 1, "median_ms": ms(100), "p90_ms": ms(100)})
        );
        assert_eq!(row("c4")["closed_panel_after_ms"], ms(100));
        assert_eq!(
            row("c4")["gave_up_after_ms"],
            Value::Null,
            "closing the panel is not giving up"
        );
        assert_eq!(
            (
                row("c6")["reopens"].clone(),
                row("c6")["first_response_ms"].clone(),
                row("c6")["time_to_close_ms"].clone()
            ),
            (json!(1), Value::Null, ms(60)),
            "the first opening of c6 was not answered"
        );
        assert_eq!(
            (
                row("c5")["gave_up_after_ms"].clone(),
                row("c5")["answered_by_email"].clone()
            ),
            (ms(120), json!(true))
        );
        assert_eq!(row("c1")["gave_up_after_ms"], Value::Null, "came back");
        assert_eq!(row("c4")["requeues"], json!(["no_reply"]));
        assert_eq!(
            (row("c2")["weekday"].clone(), row("c2")["hour"].clone()),
            (json!(0), json!(23))
        );
        assert_eq!(row("c7")["site"], "Second shop");
        assert_eq!(row("c1")["agent"], "Ada");

        // Business hours (Monday to Friday 09:00–17:00 there): c2 is out.
        let mut settings = app.site.settings.clone();
        settings.hours = Some(BusinessHours {
            time_zone: ZONE.to_owned(),
            weekly: (0..5)
                .map(|day| OpeningSpan {
                    day,
                    opens: "09:00".into(),
                    closes: "17:00".into(),
                })
                .collect(),
            holidays: Vec::new(),
        });
        app.set_site_settings(&settings).await;
        let open = report(
            &app,
            &owner,
            &format!("from=2026-01-05&to=2026-01-06&zone={ZONE}&business_hours=true"),
        )
        .await;
        assert_eq!(open["started"], 5);
        assert_eq!(
            open["first_response"],
            json!({"count": 5, "median_ms": ms(500), "p90_ms": ms(1800)})
        );
        assert_eq!(open["ratings"]["average"], 5.0);
        // The site's zone is the report's when the query names none.
        let default_zone = report(&app, &owner, "from=2026-01-05&to=2026-01-06").await;
        assert_eq!(default_zone["time_zone"], ZONE);
        assert_eq!(default_zone["started"], 6);
        // One site; one day in UTC: Sunday 23:59 in New York is Monday
        // there, Monday 23:30 is Tuesday.
        let second = report(
            &app,
            &owner,
            &format!(
                "from=2026-01-05&to=2026-01-06&zone={ZONE}&site={}",
                other_site.id
            ),
        )
        .await;
        assert_eq!(second["started"], 1);
        let utc_monday = report(&app, &owner, "from=2026-01-05&to=2026-01-05&zone=UTC").await;
        let ids: Vec<&str> = utc_monday["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["conversation_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["c3", "c1"]);

        // The CSV: one row per conversation, its figures the report's.
        let (status, _) = app
            .call(
                Method::GET,
                "/api/reports/conversations.csv?from=2026-01-05&to=2026-01-06",
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let csv = reqwest::Client::new()
            .get(app.url(&format!(
                "/api/reports/conversations.csv?from=2026-01-05&to=2026-01-06&zone={ZONE}"
            )))
            .header("cookie", &owner)
            .send()
            .await
            .unwrap();
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[0].starts_with("conversation_id,site,team,agent,channel,started_at,"),
            "{}",
            lines[0]
        );
        assert!(
            lines[2].starts_with(
                "c2,Shop,,Ada,chat,2026-01-05 23:30,0,23,false,0,0,120,900,10,,false,,0,,3,"
            ),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains("'=HYPERLINK"),
            "a comment cannot become a formula: {}",
            lines[2]
        );
        assert!(
            lines[5].starts_with("c6,Shop,,Ada,chat,2026-01-06 12:00,1,12,true,1,1,,60,5,"),
            "{}",
            lines[5]
        );
    }
);

on_both_backends!(
    reports_are_for_owners_and_refuse_bad_periods_with_reasons,
    |app: TestApp| async move {
        let agent = app.login(&app.agent.email).await;
        let (status, body) = app.call(Method::GET, "/api/reports", &agent, None).await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (403, json!("forbidden"))
        );
        let (status, _) = app
            .call(Method::GET, "/api/reports/conversations.csv", "", None)
            .await;
        assert_eq!(status, 401);
        let owner = app.owner_cookie().await;
        let (status, body) = app.call(Method::GET, "/api/reports", &owner, None).await;
        assert_eq!(status, 200, "the last week by default: {body}");
        assert_eq!(body["started"], 0);
        for (query, words) in [
            ("from=2026-01-06&to=2026-01-05", "before"),
            ("from=yesterday&to=2026-01-05", "YYYY-MM-DD"),
            ("from=2024-01-01&to=2026-01-05", "at most 366 days"),
            (
                "from=2026-01-01&to=2026-01-05&zone=Mars/Olympus",
                "not a time zone",
            ),
        ] {
            let (status, body) = app
                .call(Method::GET, &format!("/api/reports?{query}"), &owner, None)
                .await;
            assert_eq!(status, 400, "{query}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(words),
                "{query}: {body}"
            );
        }
    }
);
