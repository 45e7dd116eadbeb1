//! Agent-only notes and handing a conversation over, on both backends.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws, is_assigned};
use serde_json::{Value, json};

/// An online agent (Ada) holding a new shopper's chat: (agent, shopper,
/// conversation id, the shopper's visitor token).
async fn online_agent_with_a_chat(app: &TestApp) -> (Ws, Ws, String, String) {
    let mut agent = app.online_inbox_of(&app.agent.email).await;
    let (mut shopper, token) = app.new_shopper().await;
    shopper
        .send(json!({"type": "send", "client_id": "m1", "body": "I want a refund"}))
        .await;
    let assigned = shopper.until("event", is_assigned).await;
    let id = assigned["event"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    agent
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    (agent, shopper, id, token)
}

/// A "Billing" team of these agents; returns its id.
async fn billing_of(app: &TestApp, members: &[&str]) -> String {
    let billing = app
        .store
        .create_team(&app.agent.account_id, "Billing")
        .await
        .unwrap();
    for member in members {
        app.store.add_team_member(&billing, member).await.unwrap();
    }
    billing
}

/// The receiving agent opens the conversation: the shopper's first message
/// and the handover note are both there.
async fn sees_history_and_note(receiver: &mut Ws, conversation_id: &str, note: &str) {
    receiver
        .send(json!({"type": "open", "conversation_id": conversation_id}))
        .await;
    let texts: Vec<String> = receiver
        .drain()
        .await
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["event"]["body"].to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("I want a refund")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains(note)), "{texts:?}");
}

fn is_note(frame: &Value) -> bool {
    frame["event"]["body"]["note"].is_object()
}

on_both_backends!(notes_never_reach_the_shopper, |app: TestApp| async move {
    let (mut agent, mut shopper, id, _) = online_agent_with_a_chat(&app).await;
    agent
        .send(json!({"type": "note", "conversation_id": id, "client_id": "n1", "body": "Ordered twice last year; be kind"}))
        .await;
    agent.until("ack", |f| f["client_id"] == "n1").await;
    let note = agent.until("event", is_note).await;
    assert_eq!(
        note["event"]["body"]["note"]["text"],
        "Ordered twice last year; be kind"
    );
    agent
        .send(
            json!({"type": "send", "conversation_id": id, "client_id": "r1", "body": "Of course."}),
        )
        .await;
    agent.until("ack", |f| f["client_id"] == "r1").await;

    // Live: the shopper gets the reply and never the note.
    let seen = shopper
        .until("event", |f| {
            f["event"]["body"]["message"]["text"] == "Of course."
        })
        .await;
    assert_eq!(
        seen["event"]["seq"], 4,
        "the note took seq 3 on the agents' side"
    );
    assert!(shopper.drain().await.iter().all(|f| !is_note(f)));

    let stored = app.store.events_after(&id, 0, 100).await.unwrap();
    assert!(
        stored
            .iter()
            .any(|e| matches!(e.body, protocol::EventBody::Note { .. }))
    );
});

on_both_backends!(
    a_replayed_conversation_leaves_notes_out,
    |app: TestApp| async move {
        let (mut agent, shopper, id, token) = online_agent_with_a_chat(&app).await;
        agent
            .send(
                json!({"type": "note", "conversation_id": id, "client_id": "n1", "body": "secret"}),
            )
            .await;
        agent.until("ack", |f| f["client_id"] == "n1").await;
        drop(shopper);
        // A reload: everything from the start, except the note.
        let mut again = app.widget_socket().await;
        again.send(json!({"type": "hello", "token": token})).await;
        let welcome = again.expect("welcome").await;
        assert_eq!(welcome["conversation_id"], id.as_str());
        let replayed = again.drain_events().await;
        assert_eq!(
            replayed.len(),
            2,
            "the message and the assignment: {replayed:?}"
        );
        assert!(replayed.iter().all(|f| !is_note(f)));
        assert!(!replayed.iter().any(|f| f.to_string().contains("secret")));
    }
);

on_both_backends!(
    handing_over_moves_the_chat_with_its_history_and_a_note,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let mut bob_ws = app.inbox_of(&bob.email).await;
        let (mut ada, mut shopper, id, _) = online_agent_with_a_chat(&app).await;

        ada.send(
            json!({"type": "hand_over", "conversation_id": id, "to_agent_id": bob.id, "note": ""}),
        )
        .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "empty_body");

        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_agent_id": bob.id, "note": "Refunds are Bob's"}))
        .await;
        // Bob's inbox now lists it as his.
        let update = bob_ws
            .until("conversation", |f| {
                f["conversation"]["id"] == id.as_str()
                    && f["conversation"]["state"]["assigned"]["agent_id"] == bob.id.as_str()
            })
            .await;
        assert_eq!(
            update["conversation"]["state"]["assigned"]["agent_name"],
            "Bob"
        );
        // The shopper sees who took over, not why.
        let joined = shopper
            .until("event", |f| f["event"]["body"]["assigned"].is_object())
            .await;
        assert_eq!(joined["event"]["body"]["assigned"]["agent_name"], "Bob");
        assert!(shopper.drain().await.iter().all(|f| !is_note(f)));
        // Bob opens it: the whole history and the note.
        sees_history_and_note(&mut bob_ws, &id, "Handed over to Bob: Refunds are Bob's").await;
    }
);

on_both_backends!(
    handing_over_is_refused_without_room_or_outside_the_account,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        app.store
            .set_agent_capacity(&bob.id, Some(0))
            .await
            .unwrap();
        let other_account = app.store.create_account("Elsewhere").await.unwrap();
        let mallory =
            common::add_agent(&app.store, &other_account, "mallory@else.test", "Mallory").await;
        let (mut ada, _shopper, id, _) = online_agent_with_a_chat(&app).await;
        let before = app.counts().await;

        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_agent_id": bob.id, "note": "please"}))
        .await;
        let full = ada.until("error", |_| true).await;
        assert!(
            full["message"]
                .as_str()
                .unwrap()
                .contains("Bob has no room"),
            "{full}"
        );

        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_agent_id": mallory.id, "note": "please"}))
        .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "not_found");

        assert_eq!(app.counts().await, before, "nothing stored");
        assert_eq!(app.holder_of(&id).await, Some(app.agent.id.clone()));
    }
);

on_both_backends!(
    handing_over_to_a_team_queues_it_for_that_team_only,
    |app: TestApp| async move {
        // Ada is in Billing too: she handed it over, so it goes to Bob.
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let cy = app.colleague("cy@shop.test", "Cy").await;
        let billing = billing_of(&app, &[&app.agent.id, &bob.id]).await;
        let (mut ada, mut shopper, id, _) = online_agent_with_a_chat(&app).await;
        let mut cy_ws = app.online_inbox_of(&cy.email).await;

        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_team_id": billing, "note": "Invoice question"}))
            .await;
        let queued = ada
            .until("conversation", |f| {
                f["conversation"]["id"] == id.as_str()
                    && f["conversation"]["team"]["name"] == "Billing"
            })
            .await;
        assert_eq!(queued["conversation"]["state"], "waiting");
        assert_eq!(queued["conversation"]["team"]["name"], "Billing");
        // Nobody else in Billing is online: it waits, for Billing only.
        let queue = shopper.until("queue", |_| true).await;
        assert_eq!(queue["position"], 1);
        assert!(
            cy_ws
                .drain()
                .await
                .iter()
                .all(|f| f["conversation"]["state"]["assigned"]["agent_id"] != cy.id.as_str()),
            "Cy is not in Billing"
        );

        let mut bob_ws = app.online_inbox_of(&bob.email).await;
        let joined = shopper.until("event", is_assigned).await;
        assert_eq!(joined["event"]["body"]["assigned"]["agent_name"], "Bob");
        assert!(shopper.drain().await.iter().all(|f| !is_note(f)));
        sees_history_and_note(
            &mut bob_ws,
            &id,
            "Handed over to the Billing team: Invoice question",
        )
        .await;
        // Kept for the reports: Ada handed it back to a line.
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM requeues WHERE conversation_id = '{id}' \
                 AND agent_id = '{}' AND reason = 'handed_back'",
                app.agent.id
            ))
            .await,
            1
        );
    }
);

on_both_backends!(
    a_chat_let_go_is_not_offered_back_by_another_process,
    |app: TestApp| async move {
        // Ada has the inbox open on two processes; she hands the chat to
        // Billing (her and Bob) on one. The other process serves the line
        // when Cy, not in Billing, comes online there: it must not hand the
        // chat back to Ada, whatever it holds in memory.
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let cy = app.colleague("cy@shop.test", "Cy").await;
        let billing = billing_of(&app, &[&app.agent.id, &bob.id]).await;
        let other = app.another_server().await;
        let (mut ada, mut shopper, id, _) = online_agent_with_a_chat(&app).await;
        let cookie = common::login_at(other, &app.agent.email).await;
        let mut ada_elsewhere = common::agent_socket_at(other, &cookie).await.unwrap();
        ada_elsewhere.expect("inbox").await;
        ada_elsewhere.go_online().await;

        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_team_id": billing, "note": "Invoice"}))
            .await;
        ada.until("conversation", |f| {
            f["conversation"]["id"] == id.as_str() && f["conversation"]["state"] == "waiting"
        })
        .await;
        let cookie = common::login_at(other, &cy.email).await;
        let mut cy_ws = common::agent_socket_at(other, &cookie).await.unwrap();
        cy_ws.expect("inbox").await;
        cy_ws.go_online().await;
        cy_ws.drain().await;
        ada_elsewhere.drain().await;
        assert!(
            shopper.drain().await.iter().all(|f| !is_assigned(f)),
            "nobody took it"
        );
        assert_eq!(app.holder_of(&id).await, None);

        let _bob_ws = app.online_inbox_of(&bob.email).await;
        let joined = shopper.until("event", is_assigned).await;
        assert_eq!(joined["event"]["body"]["assigned"]["agent_name"], "Bob");
    }
);

on_both_backends!(
    handing_over_to_a_team_is_refused_when_malformed_or_foreign,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let billing = app
            .store
            .create_team(&app.agent.account_id, "Billing")
            .await
            .unwrap();
        let other_account = app.store.create_account("Elsewhere").await.unwrap();
        let foreign = app
            .store
            .create_team(&other_account, "Theirs")
            .await
            .unwrap();
        let (mut ada, _shopper, id, _) = online_agent_with_a_chat(&app).await;
        let before = app.counts().await;

        ada.send(json!({"type": "hand_over", "conversation_id": id, "note": "to whom?"}))
            .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "bad_frame");
        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_agent_id": bob.id, "to_team_id": billing, "note": "both"}))
            .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "bad_frame");
        ada.send(json!({"type": "hand_over", "conversation_id": id, "to_team_id": foreign, "note": "theirs"}))
            .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "not_found");
        ada.send(
            json!({"type": "hand_over", "conversation_id": id, "to_team_id": billing, "note": " "}),
        )
        .await;
        assert_eq!(ada.until("error", |_| true).await["code"], "empty_body");

        assert_eq!(app.counts().await, before, "nothing stored");
        let conversation = app.store.conversation(&id).await.unwrap().unwrap();
        assert_eq!(
            conversation.assigned_agent_id(),
            Some(app.agent.id.as_str())
        );
        assert_eq!(conversation.team_id, None);
    }
);
