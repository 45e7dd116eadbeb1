//! Statuses over real sockets on both backends: pending and snoozed
//! conversations free their agent's seat and come back by themselves (the
//! customer writes, or the server's clock, moved by the test, passes the
//! snooze); a customer writing after a close reopens the conversation
//! within the site's window, back to the agent who had it, and after it
//! starts a new one linked to the old.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::common;

use common::{TestApp, Ws, is_assigned};
use protocol::{ConversationState, Status};
use serde_json::{Value, json};

fn status_is(frame: &Value, status: &Value) -> bool {
    frame["event"]["body"]["status"]["status"] == *status
}

async fn change_status(agent: &mut Ws, conversation_id: &str, status: Value) {
    agent
        .send(
            json!({"type": "change_status", "conversation_id": conversation_id, "status": status}),
        )
        .await;
}

/// A new shopper's first message, assigned; their socket and conversation.
async fn served_shopper(app: &TestApp, client_id: &str) -> (Ws, String) {
    let (mut shopper, _) = app.new_shopper().await;
    let id = shopper.say(client_id, "Where is my parcel?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    shopper.until("event", is_assigned).await;
    (shopper, id)
}

async fn state_of(app: &TestApp, id: &str) -> (ConversationState, Status) {
    let conversation = app.store.conversation(id).await.unwrap().unwrap();
    (conversation.state, conversation.status)
}

on_both_backends!(
    set_aside_conversations_free_a_seat_and_come_back_when_the_customer_writes,
    |app: TestApp| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(1))
            .await
            .unwrap();
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (mut first, first_id) = served_shopper(&app, "a1").await;
        // Ada is full: the second shopper waits.
        let (mut second, _) = app.new_shopper().await;
        let second_id = second.say("b1", "Hello?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            state_of(&app, &second_id).await.0,
            ConversationState::Waiting
        );
        ada.send(json!({"type": "open", "conversation_id": first_id}))
            .await;
        // Waiting on the customer: the seat goes to the second shopper.
        change_status(&mut ada, &first_id, json!("pending")).await;
        let pending = ada
            .until("event", |f| status_is(f, &json!("pending")))
            .await;
        assert_eq!(pending["event"]["author"]["agent"]["name"], "Ada");
        second.until("event", is_assigned).await;
        let (state, status) = state_of(&app, &first_id).await;
        assert!(
            matches!(state, ConversationState::Assigned { .. }),
            "{state:?}"
        );
        assert_eq!(status, Status::Pending);
        // Every inbox of the account hears of the change.
        let summary = ada
            .until("conversation", |f| {
                f["conversation"]["id"] == first_id.as_str()
                    && f["conversation"]["status"] == "pending"
            })
            .await;
        assert_eq!(summary["conversation"]["status"], "pending");
        // The shopper never hears of statuses.
        assert!(
            first
                .drain_events()
                .await
                .iter()
                .all(|f| f["event"]["body"]["status"].is_null()),
        );
        // The customer answers: open again, but Ada has no free seat now,
        // so it goes to the line, and comes back to her when one frees.
        first.say("a2", "Here is the order number: 1042").await;
        let woke = ada.until("event", |f| status_is(f, &json!("open"))).await;
        assert_eq!(woke["event"]["body"]["status"]["why"], "customer_wrote");
        assert_eq!(
            state_of(&app, &first_id).await.0,
            ConversationState::Waiting
        );
        ada.send(json!({"type": "close", "conversation_id": second_id}))
            .await;
        first.until("event", is_assigned).await;
        assert_eq!(
            app.holder_of(&first_id).await.as_deref(),
            Some(app.agent.id.as_str()),
            "back to the agent who had it"
        );
        // Snoozed until the customer writes: only their word wakes it.
        change_status(&mut ada, &first_id, json!({"snoozed": {}})).await;
        ada.until("event", |f| {
            f["event"]["body"]["status"]["status"]["snoozed"].is_object()
        })
        .await;
        app.clock.advance(Duration::from_secs(400 * 24 * 3600));
        first.say("a3", "Still there?").await;
        let woke = ada.until("event", |f| status_is(f, &json!("open"))).await;
        assert_eq!(woke["event"]["body"]["status"]["why"], "customer_wrote");
        let (state, status) = state_of(&app, &first_id).await;
        assert!(
            matches!(state, ConversationState::Assigned { .. }),
            "room: kept"
        );
        assert_eq!(status, Status::Open);
    }
);

on_both_backends!(
    a_snooze_ends_by_the_clock_and_the_agent_is_told,
    |app: TestApp| async move {
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (_shopper, id) = served_shopper(&app, "s1").await;
        ada.send(json!({"type": "open", "conversation_id": id}))
            .await;
        let until = app.clock.now_ms() + 3_600_000;
        change_status(&mut ada, &id, json!({"snoozed": {"until_ms": until}})).await;
        ada.until("event", |f| {
            f["event"]["body"]["status"]["status"]["snoozed"]["until_ms"] == until
        })
        .await;
        assert_eq!(
            state_of(&app, &id).await.1,
            Status::Snoozed {
                until_ms: Some(until)
            }
        );
        // Nothing happens before its time…
        let quiet = ada.frames_within(Duration::from_millis(1500)).await;
        assert!(
            quiet.iter().all(|f| !status_is(f, &json!("open"))),
            "{quiet:?}"
        );
        // …and at its time it is open again, with its agent.
        app.clock.advance(Duration::from_secs(3601));
        let woke = ada.until("event", |f| status_is(f, &json!("open"))).await;
        assert_eq!(woke["event"]["body"]["status"]["why"], "snooze_ended");
        assert_eq!(woke["event"]["author"], "system");
        let (state, status) = state_of(&app, &id).await;
        assert!(matches!(state, ConversationState::Assigned { .. }));
        assert_eq!(status, Status::Open);
    }
);

on_both_backends!(
    statuses_that_make_no_sense_are_refused_and_change_nothing,
    |app: TestApp| async move {
        let mut ada = app.inbox_of(&app.agent.email).await;
        // Ada is offline: the shopper waits in the line.
        let (mut shopper, _) = app.new_shopper().await;
        let id = shopper.say("w1", "Hi").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = |frame: &Value| frame["code"] == "bad_request";
        change_status(&mut ada, &id, json!("pending")).await;
        let error = ada.until("error", refused).await;
        assert!(error["message"].as_str().unwrap().contains("take it first"));
        // A snooze ends in the future.
        let past = app.clock.now_ms() - 1000;
        change_status(&mut ada, &id, json!({"snoozed": {"until_ms": past}})).await;
        let error = ada.until("error", refused).await;
        assert!(error["message"].as_str().unwrap().contains("future"));
        // Open is what it already is.
        change_status(&mut ada, &id, json!("open")).await;
        ada.until("error", refused).await;
        // Another account's conversation is nobody's business here.
        change_status(
            &mut ada,
            "00000000-0000-4000-8000-000000000000",
            json!("pending"),
        )
        .await;
        ada.until("error", |f| f["code"] == "not_found").await;
        let (state, status) = state_of(&app, &id).await;
        assert_eq!((state, status), (ConversationState::Waiting, Status::Open));
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM events WHERE conversation_id = '{id}' AND kind = 'status'"
            ))
            .await,
            0
        );
    }
);

on_both_backends!(
    a_customer_writing_after_a_close_reopens_it_within_the_window_and_after_it_starts_anew,
    |app: TestApp| async move {
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, id) = served_shopper(&app, "r1").await;
        ada.send(json!({"type": "open", "conversation_id": id}))
            .await;
        ada.say_in(&id, "ra1", "It ships tomorrow.").await;
        ada.send(json!({"type": "close", "conversation_id": id}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        // Within the window (7 days by default): the same conversation.
        let ack = shopper.say("r2", "One more thing: gift wrap?").await;
        assert_eq!(ack["conversation_id"], id.as_str());
        let reopened = ada
            .until("event", |f| f["event"]["body"]["reopened"].is_object())
            .await;
        assert_eq!(
            reopened["event"]["body"]["reopened"]["why"],
            "customer_wrote"
        );
        // Back to Ada, who is online with room; the shopper sees her join.
        shopper.until("event", is_assigned).await;
        assert_eq!(
            app.holder_of(&id).await.as_deref(),
            Some(app.agent.id.as_str())
        );
        let events = app.store.events_after(&id, 0, 100).await.unwrap();
        let texts: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.body {
                protocol::EventBody::Message { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            [
                "Where is my parcel?",
                "It ships tomorrow.",
                "One more thing: gift wrap?"
            ],
            "one conversation, its history whole"
        );
        // Closed longer than the window: a new conversation, linked.
        ada.send(json!({"type": "close", "conversation_id": id}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        app.sql(
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
        )
        .await;
        let ack = shopper.say("r3", "Hello again, a week later").await;
        let newer = ack["conversation_id"].as_str().unwrap().to_owned();
        assert_ne!(newer, id);
        let newer_row = app.store.conversation(&newer).await.unwrap().unwrap();
        assert_eq!(newer_row.previous_id.as_deref(), Some(id.as_str()));
        let summary = ada
            .until("conversation", |f| {
                f["conversation"]["id"] == newer.as_str()
            })
            .await;
        assert_eq!(summary["conversation"]["previous_id"], id.as_str());
        // An agent reopens the old one by hand: it comes to them.
        shopper.until("event", is_assigned).await;
        ada.send(json!({"type": "close", "conversation_id": newer}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        change_status(&mut ada, &id, json!("open")).await;
        let reopened = ada
            .until("event", |f| {
                f["event"]["conversation_id"] == id.as_str()
                    && f["event"]["body"]["reopened"]["why"] == "agent"
            })
            .await;
        assert_eq!(reopened["event"]["author"]["agent"]["name"], "Ada");
        ada.until("event", |f| {
            f["event"]["conversation_id"] == id.as_str() && is_assigned(f)
        })
        .await;
    }
);

on_both_backends!(
    a_site_that_never_reopens_starts_a_new_conversation_each_time,
    |app: TestApp| async move {
        let settings = protocol::SiteSettings {
            reopen_days: 0,
            ..app.site.settings.clone()
        };
        app.set_site_settings(&settings).await;
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, id) = served_shopper(&app, "n1").await;
        ada.send(json!({"type": "close", "conversation_id": id}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        let ack = shopper.say("n2", "And another question").await;
        let newer = ack["conversation_id"].as_str().unwrap();
        assert_ne!(newer, id);
        let newer_row = app.store.conversation(newer).await.unwrap().unwrap();
        assert_eq!(newer_row.previous_id.as_deref(), Some(id.as_str()));
    }
);

on_both_backends!(
    a_customer_message_whose_reopening_a_stop_lost_reopens_the_conversation_afterwards,
    |app: TestApp| async move {
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (_shopper, id) = served_shopper(&app, "c1").await;
        ada.send(json!({"type": "open", "conversation_id": id}))
            .await;
        change_status(&mut ada, &id, json!("pending")).await;
        ada.until("event", |f| status_is(f, &json!("pending")))
            .await;
        // The customer's answer was committed, then the process stopped
        // before the conversation was opened again: as the database holds
        // it after such a stop.
        let stored = format!(
            "INSERT INTO events (conversation_id, seq, kind, author_kind, body, created_at) \
             SELECT id, last_seq + 1, 'message', 'visitor', 'Found it: order 1042', {now} \
             FROM conversations WHERE id = '{id}'; \
             UPDATE conversations SET last_seq = last_seq + 1 WHERE id = '{id}';",
            now = rapport_server::store::now_ms()
        );
        app.sql(&stored, &stored).await;
        assert_eq!(state_of(&app, &id).await.1, Status::Pending);
        // Within a few of the server's ticks it is open again, said why.
        let opened = tokio::time::timeout(
            Duration::from_secs(15),
            ada.until("event", |f| {
                f["event"]["conversation_id"] == id.as_str() && status_is(f, &json!("open"))
            }),
        )
        .await
        .expect("opened again within 15 s");
        assert_eq!(opened["event"]["body"]["status"]["why"], "customer_wrote");
        assert_eq!(state_of(&app, &id).await.1, Status::Open);
    }
);
