//! No chat left hanging: a conversation moves on when its agent does not
//! reply in time or goes offline, and both agents can see why.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws, is_assigned};
use rapport_server::config::Config;
use serde_json::json;

/// A shopper who has written and been assigned: (socket, conversation id, agent name).
async fn assigned_shopper(app: &TestApp) -> (Ws, String, String) {
    let (mut shopper, _) = app.new_shopper().await;
    shopper
        .send(json!({"type": "send", "client_id": "m1", "body": "Hello, anyone?"}))
        .await;
    let assigned = shopper.until("event", is_assigned).await;
    let id = assigned["event"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let name = assigned["event"]["body"]["assigned"]["agent_name"]
        .as_str()
        .unwrap()
        .to_owned();
    (shopper, id, name)
}

fn quick_replies(config: &mut Config) {
    config.reply_timeout_secs = 1;
    config.offline_grace_secs = 0;
}

on_both_backends_with!(
    an_unanswered_chat_goes_to_the_next_agent,
    quick_replies,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let mut bob_ws = app.online_inbox_of(&bob.email).await;
        let (mut shopper, id, first) = assigned_shopper(&app).await;
        let next = if first == "Ada" { "Bob" } else { "Ada" };

        // Nobody replies: within a couple of seconds the other agent has it.
        let again = shopper.until("event", is_assigned).await;
        assert_eq!(again["event"]["body"]["assigned"]["agent_name"], next);
        let holder = if next == "Bob" { &mut bob_ws } else { &mut ada };
        holder
            .send(json!({"type": "open", "conversation_id": id}))
            .await;
        let note = holder
            .until("event", |f| f["event"]["body"]["note"].is_object())
            .await;
        let why = note["event"]["body"]["note"]["text"].as_str().unwrap();
        assert!(
            why.contains(&format!("{first} did not reply within 1 second")),
            "{why}"
        );
        // Kept for the reports: whose it was and why it went back.
        let first_id = if first == "Ada" {
            &app.agent.id
        } else {
            &bob.id
        };
        let recorded = app
            .count(&format!(
                "SELECT COUNT(*) FROM requeues WHERE conversation_id = '{id}' \
                 AND agent_id = '{first_id}' AND reason = 'no_reply'"
            ))
            .await;
        assert!(recorded >= 1, "the requeue is recorded with its reason");
        // The shopper saw who took over, never why.
        assert!(
            shopper
                .drain()
                .await
                .iter()
                .all(|f| !f["event"]["body"]["note"].is_object())
        );
    }
);

on_both_backends_with!(
    a_chat_answered_in_time_stays_put,
    quick_replies,
    |app: TestApp| async move {
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (_shopper, id, name) = assigned_shopper(&app).await;
        assert_eq!(name, "Ada");
        ada.send(json!({"type": "send", "conversation_id": id, "client_id": "r1", "body": "Hi!"}))
            .await;
        ada.until("ack", |_| true).await;
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(app.holder_of(&id).await, Some(app.agent.id.clone()));
    }
);

on_both_backends_with!(
    an_agent_who_leaves_hands_their_chats_on_after_the_grace_period,
    |config: &mut Config| config.offline_grace_secs = 2,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        app.store
            .set_agent_capacity(&bob.id, Some(0))
            .await
            .unwrap();
        let ada = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, id, name) = assigned_shopper(&app).await;
        assert_eq!(name, "Ada");

        // A reload: gone and back within the grace period changes nothing.
        drop(ada);
        let (_back, inbox) = app.agent_socket().await;
        assert_eq!(inbox["status"], "online", "still online after a reload");
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        assert_eq!(app.holder_of(&id).await, Some(app.agent.id.clone()));
        drop(_back);

        // Gone for good: after the grace period Bob (now with room) takes over.
        app.store.set_agent_capacity(&bob.id, None).await.unwrap();
        let mut bob_ws = app.online_inbox_of(&bob.email).await;
        let again = shopper.until("event", is_assigned).await;
        assert_eq!(again["event"]["body"]["assigned"]["agent_name"], "Bob");
        bob_ws
            .send(json!({"type": "open", "conversation_id": id}))
            .await;
        let note = bob_ws
            .until("event", |f| f["event"]["body"]["note"].is_object())
            .await;
        assert!(
            note["event"]["body"]["note"]["text"]
                .as_str()
                .unwrap()
                .contains("Ada went offline")
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM requeues WHERE conversation_id = '{id}' \
                 AND agent_id = '{}' AND reason = 'went_offline'",
                app.agent.id
            ))
            .await,
            1
        );
    }
);

on_both_backends!(
    chats_of_an_agent_this_process_never_saw_go_to_others_after_the_grace_period,
    |app: TestApp| async move {
        // Bob took the chat before this process started (or on a process
        // since lost), and never opened an inbox here or anywhere since.
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let (mut shopper, _) = app.new_shopper().await;
        let ack = shopper.say("m1", "Hello?").await;
        let id = ack["conversation_id"].as_str().unwrap().to_owned();
        let waiting = app.store.conversation(&id).await.unwrap().unwrap();
        app.store
            .conversation_book()
            .assign(&waiting, &bob, 5)
            .await
            .unwrap()
            .unwrap();

        // Ada is there; the chat must not wait for Bob for ever.
        let _ada = app.online_inbox_of(&app.agent.email).await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while app.holder_of(&id).await.as_deref() != Some(app.agent.id.as_str()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "Ada takes over within the absence check and the grace period"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        let again = shopper
            .until("event", |f| {
                is_assigned(f) && f["event"]["body"]["assigned"]["agent_name"] == "Ada"
            })
            .await;
        assert_eq!(again["event"]["conversation_id"], id.as_str());
        let events = app.store.events_after(&id, 0, 100).await.unwrap();
        assert!(events.iter().any(|e| matches!(
            &e.body,
            protocol::EventBody::Note { text } if text.contains("Bob is not connected")
        )));
    }
);
