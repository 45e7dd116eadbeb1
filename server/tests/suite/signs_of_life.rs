//! Signs of life on both backends: typing is relayed (and throttled), never
//! stored and never shown to the shopper for a note; read positions are per
//! side, only move forward and survive reconnects; unread counts are right
//! after a reconnect; the inbox names shoppers without raw ids.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, Ws};
use serde_json::{Value, json};

/// A shopper in a chat the online agent holds and follows:
/// (shopper, agent inbox, conversation id).
async fn a_chat(app: &TestApp) -> (Ws, Ws, String) {
    let mut agent = app.online_inbox_of(&app.agent.email).await;
    let (mut shopper, _) = app.new_shopper().await;
    let id = shopper.say("m1", "Hello?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    shopper.until("event", common::is_assigned).await;
    agent
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    agent.drain().await;
    shopper.drain().await;
    (shopper, agent, id)
}

fn typing_frames(frames: &[Value]) -> Vec<&Value> {
    frames.iter().filter(|f| f["type"] == "typing").collect()
}

on_both_backends!(
    typing_is_relayed_throttled_never_stored_and_never_shown_for_a_note,
    |app: TestApp| async move {
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        let (_, _, events_before) = app.counts().await;

        // The agent types a reply: the shopper sees who, as the site shows agents.
        agent
            .send(json!({"type": "typing", "conversation_id": id}))
            .await;
        let typing = shopper.until("typing", |_| true).await;
        assert_eq!(typing["name"], "Ada");
        assert_eq!(typing["conversation_id"], id.as_str());
        // A burst is relayed once.
        for _ in 0..5 {
            agent
                .send(json!({"type": "typing", "conversation_id": id}))
                .await;
        }
        assert!(
            typing_frames(&shopper.drain().await).is_empty(),
            "throttled"
        );

        // Typing a note: colleagues may know, the shopper never.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let mut colleague_agent = {
            app.colleague("bob@shop.test", "Bob").await;
            app.inbox_of("bob@shop.test").await
        };
        colleague_agent
            .send(json!({"type": "open", "conversation_id": id}))
            .await;
        colleague_agent.drain().await;
        agent
            .send(json!({"type": "typing", "conversation_id": id, "private": true}))
            .await;
        let seen = colleague_agent.until("typing", |_| true).await;
        assert_eq!(seen["typist"]["agent"]["private"], true);
        assert_eq!(seen["typist"]["agent"]["name"], "Ada");
        assert!(
            typing_frames(&shopper.drain().await).is_empty(),
            "never for a note"
        );

        // The shopper types: agents following see it, without the draft
        // unless the site allows it.
        shopper
            .send(json!({"type": "typing", "draft": "Where is my pa"}))
            .await;
        let typing = agent
            .until("typing", |f| f["typist"]["shopper"].is_object())
            .await;
        assert!(typing["typist"]["shopper"]["draft"].is_null(), "{typing}");
        let mut settings = app.site.settings.clone();
        settings.typing_preview = true;
        app.set_site_settings(&settings).await;
        // The site's choice holds for sockets opened after it.
        let mut again = app.widget_socket().await;
        let token = shopper_token(&app, &id).await;
        again.send(json!({"type": "hello", "token": token})).await;
        again.expect("welcome").await;
        again.drain().await;
        again
            .send(json!({"type": "typing", "draft": "Where is my parcel"}))
            .await;
        let typing = agent
            .until("typing", |f| f["typist"]["shopper"]["draft"].is_string())
            .await;
        assert_eq!(typing["typist"]["shopper"]["draft"], "Where is my parcel");

        // None of it is stored.
        assert_eq!(app.counts().await.2, events_before);

        // A message ends a spell of typing: the next keystroke is told at
        // once, not held back by the throttle.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        agent
            .send(json!({"type": "typing", "conversation_id": id}))
            .await;
        shopper.until("typing", |_| true).await;
        agent
            .send(json!({"type": "send", "conversation_id": id, "client_id": "r1", "body": "Let me look"}))
            .await;
        agent.until("ack", |f| f["client_id"] == "r1").await;
        agent
            .send(json!({"type": "typing", "conversation_id": id}))
            .await;
        let typing = shopper.until("typing", |_| true).await;
        assert_eq!(typing["name"], "Ada");
        // Typing before saying hello is an error frame, not a crash.
        let mut stranger = app.widget_socket().await;
        stranger.send(json!({"type": "typing"})).await;
        assert_eq!(stranger.expect("error").await["code"], "hello_required");
    }
);

/// The token of the shopper of a conversation: a fresh one, as a
/// "continue" link would give, to open another socket as them.
async fn shopper_token(app: &TestApp, conversation_id: &str) -> String {
    let conversation = app
        .store
        .conversation(conversation_id)
        .await
        .unwrap()
        .unwrap();
    let token = rapport_server::identity::new_visitor_token();
    app.store
        .visitor_book()
        .add_visitor_token(
            &conversation.visitor_id,
            &rapport_server::identity::token_hash(&token),
        )
        .await
        .unwrap();
    token
}

on_both_backends!(
    read_positions_are_per_side_only_move_forward_and_survive_reconnects,
    |app: TestApp| async move {
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        let reply = |n: u32| json!({"type": "send", "conversation_id": id, "client_id": format!("a{n}"), "body": format!("Reply {n}")});
        agent.send(reply(1)).await;
        let first = agent.until("ack", |f| f["client_id"] == "a1").await["seq"]
            .as_i64()
            .unwrap();
        agent.send(reply(2)).await;
        let second = agent.until("ack", |f| f["client_id"] == "a2").await["seq"]
            .as_i64()
            .unwrap();

        // The shopper saw the second: the agent following sees "Seen".
        shopper
            .send(json!({"type": "read", "conversation_id": id, "seq": second}))
            .await;
        let seen = agent.until("seen", |_| true).await;
        assert_eq!(seen["reader"], "shopper");
        assert_eq!(seen["seq"], second);
        // Backwards does nothing, and tells nobody.
        shopper
            .send(json!({"type": "read", "conversation_id": id, "seq": first}))
            .await;
        shopper.drain().await;
        assert!(agent.drain().await.iter().all(|f| f["type"] != "seen"));
        let stored = app.store.conversation(&id).await.unwrap().unwrap();
        assert_eq!(stored.shopper_read_seq, second);
        assert_eq!(stored.agent_read_seq, 0, "per side");

        // The shopper writes twice; the inbox counts them unread.
        shopper.say("m2", "One more thing").await;
        shopper.say("m3", "And another").await;
        let summary = agent
            .until("conversation", |f| f["conversation"]["unread"] == 3)
            .await;
        assert_eq!(summary["conversation"]["id"], id.as_str());
        // The agent reads up to "One more thing": one left, and the shopper sees "Seen".
        let log = app.store.events_after(&id, 0, 100).await.unwrap();
        let m2 = log
            .iter()
            .find(|e| e.client_id.as_deref() == Some("m2"))
            .unwrap()
            .seq;
        agent
            .send(json!({"type": "read", "conversation_id": id, "seq": m2}))
            .await;
        let seen = shopper.until("seen", |_| true).await;
        assert_eq!(seen["seq"], m2);
        agent
            .until("conversation", |f| f["conversation"]["unread"] == 1)
            .await;
        agent
            .send(json!({"type": "read", "conversation_id": id, "seq": 1}))
            .await;
        assert!(
            shopper.drain().await.iter().all(|f| f["type"] != "seen"),
            "forward only"
        );

        // After reconnecting, both sides start where they were.
        let token = shopper_token(&app, &id).await;
        let mut back = app.widget_socket().await;
        back.send(json!({"type": "hello", "token": token})).await;
        let welcome = back.expect("welcome").await;
        assert_eq!(welcome["read_seq"], second);
        assert_eq!(welcome["agent_read_seq"], m2);
        let inbox = {
            let cookie = app.login(&app.agent.email).await;
            let mut ws = app.agent_socket_with(&cookie).await.unwrap();
            ws.expect("inbox").await
        };
        let listed = inbox["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap()
            .clone();
        assert_eq!(listed["unread"], 1);
        assert_eq!(listed["shopper_read_seq"], second);
        assert_eq!(listed["agent_read_seq"], m2);
        // A read of another account's conversation changes nothing.
        let other_account = app.store.create_account("Other").await.unwrap();
        let outsider = common::add_agent(&app.store, &other_account, "eve@other.test", "Eve").await;
        let mut eve = app.inbox_of(&outsider.email).await;
        eve.send(json!({"type": "read", "conversation_id": id, "seq": 99}))
            .await;
        eve.drain().await;
        assert_eq!(
            app.store
                .conversation(&id)
                .await
                .unwrap()
                .unwrap()
                .agent_read_seq,
            m2
        );
    }
);

on_both_backends!(
    the_inbox_names_shoppers_by_name_or_where_they_are_never_by_id,
    |app: TestApp| async move {
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        shopper
            .send(json!({"type": "page", "url": "https://shop.example/checkout?step=2", "title": "Checkout", "time_zone": "Europe/Amsterdam"}))
            .await;
        shopper.say("m2", "Stuck at checkout").await;
        let summary = agent
            .until("conversation", |f| {
                f["conversation"]["customer"]["page"] == "/checkout"
            })
            .await;
        let customer = &summary["conversation"]["customer"];
        assert_eq!(customer["time_zone"], "Europe/Amsterdam");
        assert!(customer["name"].is_null());
        // A stated name comes through, marked unverified.
        shopper
            .send(json!({"type": "identify", "details": {"name": "Grace"}}))
            .await;
        shopper.say("m3", "I'm Grace").await;
        let summary = agent
            .until("conversation", |f| {
                f["conversation"]["customer"]["name"] == "Grace"
            })
            .await;
        assert_eq!(summary["conversation"]["customer"]["verified"], false);
        assert_eq!(summary["conversation"]["id"], id.as_str());
    }
);

on_both_backends!(
    anonymous_shoppers_have_distinct_stable_numbers,
    |app: TestApp| async move {
        let mut agent = app.inbox_of(&app.agent.email).await;
        let mut numbers = Vec::new();
        let mut tokens = Vec::new();
        for i in 0..3 {
            let (mut shopper, token) = app.new_shopper().await;
            let id = shopper.say(&format!("m{i}"), "Hello?").await["conversation_id"]
                .as_str()
                .unwrap()
                .to_owned();
            let summary = agent
                .until("conversation", |f| f["conversation"]["id"] == id.as_str())
                .await;
            numbers.push(
                summary["conversation"]["customer"]["number"]
                    .as_i64()
                    .unwrap(),
            );
            tokens.push(token);
        }
        assert_eq!(numbers, [1, 2, 3], "one each, in the order they came");
        // The same browser comes back: the same number.
        let mut again = app.widget_socket().await;
        again
            .send(json!({"type": "hello", "token": tokens[1]}))
            .await;
        let welcome = again.expect("welcome").await;
        let id = welcome["conversation_id"].as_str().unwrap().to_owned();
        let stored = app.store.conversation(&id).await.unwrap().unwrap();
        assert_eq!(stored.customer.number, Some(2));
    }
);

on_both_backends!(
    nobody_is_told_of_typing_in_a_closed_chat,
    |app: TestApp| async move {
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        agent
            .send(json!({"type": "close", "conversation_id": id}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        tokio::time::sleep(Duration::from_millis(1600)).await;
        agent
            .send(json!({"type": "typing", "conversation_id": id}))
            .await;
        shopper.send(json!({"type": "typing"})).await;
        assert!(
            typing_frames(&shopper.frames_within(Duration::from_millis(500)).await).is_empty(),
            "the shopper sees no one typing under \"This chat has ended\""
        );
        assert!(typing_frames(&agent.frames_within(Duration::from_millis(200)).await).is_empty());
    }
);

on_both_backends!(
    a_message_the_server_failed_to_store_is_told_by_its_client_id_and_a_retry_stores_it_once,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        shopper.say("m1", "Hello?").await;
        shopper.drain().await;
        let (_, _, events_before) = app.counts().await;
        app.sql(
            "CREATE TRIGGER refuse_events BEFORE INSERT ON events \
             BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;",
            "CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'the disk is full'; END $$; \
             CREATE TRIGGER refuse_events BEFORE INSERT ON events \
             FOR EACH ROW EXECUTE FUNCTION refuse_events();",
        )
        .await;
        shopper
            .send(json!({"type": "send", "client_id": "m2", "body": "Still there?"}))
            .await;
        let error = shopper.until("error", |_| true).await;
        assert_eq!(error["code"], "internal");
        assert_eq!(
            error["client_id"], "m2",
            "the widget can mark that message and offer Retry"
        );
        assert!(
            !error["message"].as_str().unwrap().contains("disk"),
            "the internals stay inside"
        );
        assert_eq!(app.counts().await.2, events_before, "nothing half-stored");

        app.sql(
            "DROP TRIGGER refuse_events;",
            "DROP TRIGGER refuse_events ON events;",
        )
        .await;
        // Retry reuses the client id: stored once however often it is sent.
        for _ in 0..2 {
            shopper
                .send(json!({"type": "send", "client_id": "m2", "body": "Still there?"}))
                .await;
            let ack = shopper.until("ack", |_| true).await;
            assert_eq!(ack["client_id"], "m2");
        }
        assert_eq!(app.counts().await.2, events_before + 1);
    }
);
