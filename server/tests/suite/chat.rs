//! A shopper and an agent chat end to end over real sockets, on both backends.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws};
use serde_json::json;

/// Says something and returns the stored seq.
async fn send(ws: &mut Ws, client_id: &str, body: &str) -> i64 {
    ws.say(client_id, body).await["seq"].as_i64().unwrap()
}

on_both_backends!(shopper_and_agent_chat_live, |app: TestApp| async move {
    let (mut shopper, _token) = app.new_shopper().await;
    assert_eq!(send(&mut shopper, "m1", "Do you ship to Utrecht?").await, 1);

    let (mut agent, inbox) = app.agent_socket().await;
    assert_eq!(inbox["status"], "offline");
    let listed = inbox["conversations"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "the waiting conversation is in the inbox");
    assert_eq!(listed[0]["state"], "waiting");
    let conversation_id = listed[0]["id"].as_str().unwrap().to_owned();

    // Going online hands the waiting conversation to this agent; the shopper hears it.
    agent
        .send(json!({"type": "set_status", "status": "online"}))
        .await;
    agent.expect("status").await;
    let update = agent
        .until("conversation", |f| {
            f["conversation"]["state"]["assigned"].is_object()
        })
        .await;
    assert_eq!(
        update["conversation"]["state"]["assigned"]["agent_name"],
        "Ada"
    );
    let assigned = shopper
        .until("event", |f| f["event"]["body"]["assigned"].is_object())
        .await;
    assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "Ada");
    assert_eq!(assigned["event"]["seq"], 2);

    agent
        .send(json!({"type": "open", "conversation_id": conversation_id, "after_seq": 0}))
        .await;
    let replay = agent.expect("replay").await;
    assert_eq!(
        replay["from_seq"], 1,
        "a short conversation is replayed whole"
    );
    let first = agent.expect("event").await;
    assert_eq!(
        first["event"]["body"]["message"]["text"],
        "Do you ship to Utrecht?"
    );
    assert_eq!(first["event"]["author"], "visitor");

    agent
        .send(json!({"type": "send", "conversation_id": conversation_id, "client_id": "r1", "body": "Yes, in two days."}))
        .await;
    let ack = agent.until("ack", |f| f["client_id"] == "r1").await;
    assert_eq!(ack["seq"], 3);

    let reply = shopper
        .until("event", |f| f["event"]["body"]["message"].is_object())
        .await;
    assert_eq!(
        reply["event"]["body"]["message"]["text"],
        "Yes, in two days."
    );
    assert_eq!(reply["event"]["author"]["agent"]["name"], "Ada");

    // And the agent following the conversation sees the shopper's next line live.
    send(&mut shopper, "m2", "Great, thanks!").await;
    let live = agent
        .until("event", |f| {
            f["event"]["body"]["message"]["text"] == "Great, thanks!"
        })
        .await;
    assert_eq!(live["event"]["seq"], 4);
});

on_both_backends!(
    a_new_conversation_goes_to_an_online_agent_at_once,
    |app: TestApp| async move {
        let (mut agent, _) = app.agent_socket().await;
        agent
            .send(json!({"type": "set_status", "status": "online"}))
            .await;
        agent.expect("status").await;
        let (mut shopper, _) = app.new_shopper().await;
        send(&mut shopper, "m1", "Hello?").await;
        let assigned = shopper
            .until("event", |f| f["event"]["body"]["assigned"].is_object())
            .await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_id"],
            app.agent.id
        );
    }
);

on_both_backends!(
    waiting_conversations_go_to_the_least_loaded_agent,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let mut shoppers = Vec::new();
        for i in 0..4 {
            let (mut shopper, _) = app.new_shopper().await;
            send(&mut shopper, &format!("m{i}"), "Anyone there?").await;
            shoppers.push(shopper);
        }
        let (mut ada, _) = app.agent_socket().await;
        let mut bob_ws = app.inbox_of(&bob.email).await;
        // Ada goes online first and takes all four; Bob then gets new ones until even.
        ada.send(json!({"type": "set_status", "status": "online"}))
            .await;
        for shopper in &mut shoppers {
            shopper
                .until("event", |f| f["event"]["body"]["assigned"].is_object())
                .await;
        }
        bob_ws
            .send(json!({"type": "set_status", "status": "online"}))
            .await;
        bob_ws.until("status", |_| true).await;
        for i in 0..4 {
            let (mut shopper, _) = app.new_shopper().await;
            send(&mut shopper, &format!("n{i}"), "Hi").await;
            let assigned = shopper
                .until("event", |f| f["event"]["body"]["assigned"].is_object())
                .await;
            assert_eq!(
                assigned["event"]["body"]["assigned"]["agent_name"], "Bob",
                "new chat {i} goes to the less loaded agent"
            );
        }
    }
);

on_both_backends!(
    a_reload_resumes_exactly_after_the_last_seq,
    |app: TestApp| async move {
        let (mut shopper, token) = app.new_shopper().await;
        for (i, body) in ["one", "two", "three"].iter().enumerate() {
            send(&mut shopper, &format!("c{i}"), body).await;
        }
        let conversation_id = app
            .store
            .current_conversation_of_visitor(
                &app.store
                    .visitor_by_token_hash(&rapport_server::identity::token_hash(&token), 0)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap()
            .unwrap()
            .id;
        drop(shopper);

        // Same tab reconnecting with what it holds: only what it missed.
        let mut again = app.widget_socket().await;
        again
        .send(json!({"type": "hello", "token": token, "conversation_id": conversation_id, "after_seq": 1}))
        .await;
        let welcome = again.expect("welcome").await;
        assert_eq!(welcome["conversation_id"], conversation_id.as_str());
        assert_eq!(welcome["state"], "waiting");
        let replayed: Vec<_> = again
            .drain_events()
            .await
            .into_iter()
            .map(|f| f["event"]["body"]["message"]["text"].clone())
            .collect();
        assert_eq!(replayed, vec![json!("two"), json!("three")]);

        // A fresh page load (nothing held) gets the whole conversation.
        let mut reload = app.widget_socket().await;
        reload.send(json!({"type": "hello", "token": token})).await;
        reload.expect("welcome").await;
        let all: Vec<_> = reload
            .drain_events()
            .await
            .into_iter()
            .map(|f| f["event"]["seq"].clone())
            .collect();
        assert_eq!(all, vec![json!(1), json!(2), json!(3)]);
    }
);

on_both_backends!(a_second_tab_sees_messages_live, |app: TestApp| async move {
    let (mut first, token) = app.new_shopper().await;
    let mut second = app.widget_socket().await;
    second.send(json!({"type": "hello", "token": token})).await;
    second.expect("welcome").await;
    send(&mut first, "t1", "from tab one").await;
    let seen = second
        .until("event", |f| f["event"]["body"]["message"].is_object())
        .await;
    assert_eq!(seen["event"]["body"]["message"]["text"], "from tab one");
    assert_eq!(seen["event"]["client_id"], "t1");
});

on_both_backends!(
    a_retried_message_is_stored_once,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        let first = send(&mut shopper, "same-id", "hello").await;
        let before = app.counts().await;
        let again = send(&mut shopper, "same-id", "hello").await;
        assert_eq!(
            first, again,
            "the retry is acknowledged with the stored seq"
        );
        assert_eq!(app.counts().await, before, "nothing new stored");
    }
);

on_both_backends!(
    shutdown_closes_sockets_politely,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        app.stop_sockets();
        assert_eq!(shopper.closed().await, Some(1001));
    }
);

on_both_backends!(health_and_demo_page, |app: TestApp| async move {
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let page = reqwest::get(app.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"/widget.js" data-site="{}""#, app.site.site_key)),
        "the demo page embeds the first site's snippet"
    );
});

on_both_backends!(
    an_agent_with_no_inbox_open_is_offline,
    |app: TestApp| async move {
        let (mut agent, inbox) = app.agent_socket().await;
        assert_eq!(inbox["status"], "offline");
        agent
            .send(json!({"type": "set_status", "status": "online"}))
            .await;
        agent.until("status", |f| f["status"] == "online").await;
        // A second tab sees the agent online; closing both leaves nobody to answer.
        let (second, inbox) = app.agent_socket().await;
        assert_eq!(inbox["status"], "online");
        drop(second);
        drop(agent);
        // Wait until the server saw both inboxes close.
        let cookie = app.login(&app.agent.email).await;
        for _ in 0..200 {
            let (_, agents) = app
                .call(reqwest::Method::GET, "/api/agents", &cookie, None)
                .await;
            if agents[0]["status"] == "offline" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let (mut shopper, _) = app.new_shopper().await;
        send(&mut shopper, "m1", "Anyone?").await;
        let (_third, inbox) = app.agent_socket().await;
        assert_eq!(
            inbox["status"], "offline",
            "presence does not outlive the agent's inboxes"
        );
        let conversation = &inbox["conversations"][0];
        assert_eq!(
            conversation["state"], "waiting",
            "nobody took the chat while nobody was there"
        );
    }
);

on_both_backends!(
    closing_ends_the_chat_and_the_next_message_opens_a_new_one,
    |app: TestApp| async move {
        let settings = protocol::SiteSettings {
            reopen_days: 0,
            ..app.site.settings.clone()
        };
        app.set_site_settings(&settings).await;
        let (mut agent, _) = app.agent_socket().await;
        agent
            .send(json!({"type": "set_status", "status": "online"}))
            .await;
        agent.until("status", |_| true).await;
        let (mut shopper, _) = app.new_shopper().await;
        send(&mut shopper, "m1", "Where is my order?").await;
        let assigned = shopper
            .until("event", |f| f["event"]["body"]["assigned"].is_object())
            .await;
        let first = assigned["event"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();

        agent
            .send(json!({"type": "close", "conversation_id": first}))
            .await;
        let closed = shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        assert_eq!(closed["event"]["seq"], 3);
        let stored = app.store.conversation(&first).await.unwrap().unwrap();
        assert_eq!(stored.state, protocol::ConversationState::Closed);
        // Closing again changes nothing.
        let before = app.counts().await;
        agent
            .send(json!({"type": "close", "conversation_id": first}))
            .await;
        agent.drain().await;
        assert_eq!(app.counts().await, before);

        // The shopper writes again: on a site that never reopens a closed
        // conversation (`statuses.rs` has the reopening ones), a new
        // conversation, seqs from 1, and the agent's freed seat takes it at
        // once.
        shopper
            .send(json!({"type": "send", "client_id": "m2", "body": "One more thing"}))
            .await;
        let ack = shopper.until("ack", |f| f["client_id"] == "m2").await;
        assert_ne!(ack["conversation_id"], first.as_str());
        assert_eq!(ack["seq"], 1);
        shopper
            .until("event", |f| f["event"]["body"]["assigned"].is_object())
            .await;
    }
);
