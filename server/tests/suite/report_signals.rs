//! What the reports will need that the log alone does not say, recorded as
//! it happens, on both backends: a shopper who leaves the line (every
//! widget of theirs closed while they waited), how long they had waited,
//! and whether they came back; who was online when, as spans; and the
//! line's first promise of a wait.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common;

use common::{TestApp, is_assigned};
use serde_json::json;

/// Waits until `query` (a `SELECT COUNT(*)`) answers `expected`.
async fn until_count(app: &TestApp, query: &str, expected: i64) {
    for _ in 0..400 {
        if app.count(query).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(app.count(query).await, expected, "{query}");
}

on_both_backends!(
    a_shopper_who_leaves_the_line_is_recorded_with_their_wait_and_their_return,
    |app: TestApp| async move {
        // Nobody is online: the shopper waits.
        let (mut tab, token) = app.new_shopper().await;
        let id = tab.say("w1", "Anyone there?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut second_tab = app.widget_socket().await;
        second_tab
            .send(json!({"type": "hello", "token": token}))
            .await;
        second_tab.expect("welcome").await;
        let exits = format!("SELECT COUNT(*) FROM queue_exits WHERE conversation_id = '{id}'");
        // One tab closing is not leaving: another is still open.
        drop(tab);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(app.count(&exits).await, 0);
        drop(second_tab);
        until_count(&app, &exits, 1).await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM queue_exits WHERE conversation_id = '{id}' \
                 AND returned_at IS NULL AND waiting_since <= left_at \
                 AND waiting_since = (SELECT created_at FROM conversations WHERE id = '{id}')"
            ))
            .await,
            1,
            "waited since the chat began, not back"
        );
        // They come back while it still waits.
        let mut back = app.widget_socket().await;
        back.send(json!({"type": "hello", "token": token})).await;
        back.expect("welcome").await;
        until_count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM queue_exits WHERE conversation_id = '{id}' \
                 AND returned_at >= left_at"
            ),
            1,
        )
        .await;

        // A shopper an agent holds is not in a line: leaving is no exit.
        let _ada = app.online_inbox_of(&app.agent.email).await;
        back.until("event", is_assigned).await;
        drop(back);
        let (mut served, _) = app.new_shopper().await;
        let served_id = served.say("s1", "Hello").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        served.until("event", is_assigned).await;
        drop(served);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM queue_exits WHERE conversation_id IN ('{id}', '{served_id}')"
            ))
            .await,
            1,
            "only the one exit from the line"
        );
    }
);

on_both_backends!(
    an_agents_statuses_are_kept_as_spans_of_time,
    |app: TestApp| async move {
        let agent = &app.agent.id;
        let spans = |status: &str, open: bool| {
            format!(
                "SELECT COUNT(*) FROM agent_presence WHERE agent_id = '{agent}' AND status = '{status}' \
                 AND ended_at IS {} NULL AND seen_at >= started_at",
                if open { "" } else { "NOT" }
            )
        };
        let mut inbox = app.online_inbox_of(&app.agent.email).await;
        until_count(&app, &spans("online", true), 1).await;
        inbox
            .send(json!({"type": "set_status", "status": "away"}))
            .await;
        until_count(&app, &spans("away", true), 1).await;
        assert_eq!(app.count(&spans("online", false)).await, 1, "online ended");
        assert_eq!(app.count(&spans("online", true)).await, 0);
        // The inbox closes: nobody is there, whatever they chose.
        drop(inbox);
        until_count(&app, &spans("away", false), 1).await;
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM agent_presence WHERE agent_id = '{agent}' AND ended_at IS NULL"
            ))
            .await,
            0
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM agent_presence a JOIN agent_presence b \
                 ON a.agent_id = b.agent_id AND a.status = 'online' AND b.status = 'away' \
                 WHERE a.agent_id = '{agent}' AND a.ended_at = b.started_at"
            ))
            .await,
            1,
            "away began where online ended"
        );
    }
);

on_both_backends!(
    the_lines_first_promise_to_a_waiting_shopper_is_kept_once,
    |app: TestApp| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(1))
            .await
            .unwrap();
        let (mut agent, _) = app.agent_socket().await;
        agent.go_online().await;
        // A chat handled and closed: the line has history to estimate from.
        let (mut first, _) = app.new_shopper().await;
        let first_id = first.say("a", "First").await["conversation_id"].clone();
        first.until("event", is_assigned).await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        agent
            .send(json!({"type": "close", "conversation_id": first_id}))
            .await;
        let (mut second, _) = app.new_shopper().await;
        second.say("b", "Second").await;
        second.until("event", is_assigned).await;
        // The seat is taken: the third waits, with an estimate.
        let (mut third, _) = app.new_shopper().await;
        let third_id = third.say("c", "Third").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let told = third
            .until("queue", |f| f["estimate_secs"].is_number())
            .await;
        let promised = told["estimate_secs"].as_i64().unwrap() * 1000;
        let stored = |column: &'static str| {
            let app = &app;
            let id = third_id.clone();
            async move {
                app.count(&format!(
                    "SELECT {column} FROM conversations WHERE id = '{id}'"
                ))
                .await
            }
        };
        let mut kept = 0;
        for _ in 0..50 {
            kept = stored("COALESCE(promised_wait_ms, -1)").await;
            if kept >= 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(kept, promised);
        let said_at = stored("promised_at").await;
        // The line moves (a fourth joins behind): the first promise stands.
        let (mut fourth, _) = app.new_shopper().await;
        fourth.say("d", "Fourth").await;
        fourth.until("queue", |_| true).await;
        assert_eq!(stored("promised_at").await, said_at);
    }
);

on_both_backends!(
    a_shopper_who_closes_the_panel_while_waiting_is_recorded_once,
    |app: TestApp| async move {
        let (mut tab, _) = app.new_shopper().await;
        let id = tab.say("p1", "Hello?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let closes = format!(
            "SELECT COUNT(*) FROM queue_exits WHERE conversation_id = '{id}' AND how = 'closed_panel'"
        );
        tab.send(json!({"type": "panel_closed"})).await;
        until_count(&app, &closes, 1).await;
        // Again: still the first close.
        tab.send(json!({"type": "panel_closed"})).await;
        tab.send(json!({"type": "ping"})).await;
        tab.until("pong", |_| true).await;
        assert_eq!(app.count(&closes).await, 1);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM queue_exits WHERE conversation_id = '{id}'"
            ))
            .await,
            1,
            "the page is still open: not left"
        );
        // Served, the panel closing is no exit from a line.
        let _ada = app.online_inbox_of(&app.agent.email).await;
        tab.until("event", is_assigned).await;
        tab.send(json!({"type": "panel_closed"})).await;
        tab.send(json!({"type": "ping"})).await;
        tab.until("pong", |_| true).await;
        assert_eq!(app.count(&closes).await, 1);
    }
);
