//! Agents block a shopper from the inbox: their sockets end at once, they
//! cannot come back (nor anyone from their address, when that was blocked
//! too), nothing of theirs is stored after, and an owner lists and lifts
//! blocks.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws, is_assigned};
use protocol::Role;
use reqwest::Method;
use serde_json::{Value, json};

/// A shopper who wrote and was assigned to the default agent: (shopper's
/// socket, their token, conversation id).
async fn chatting_shopper(app: &TestApp) -> (Ws, String, String) {
    let (mut shopper, token) = app.new_shopper().await;
    let id = shopper.say("m1", "Buy cheap watches at spam.example").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    shopper.until("event", is_assigned).await;
    (shopper, token, id)
}

async fn block(app: &TestApp, cookie: &str, conversation: &str, body: Value) -> (u16, Value) {
    app.call(
        Method::POST,
        &format!("/api/conversations/{conversation}/block"),
        cookie,
        Some(&body.to_string()),
    )
    .await
}

/// A hello with `token` (or none): the first answer's frame.
async fn hello(app: &TestApp, token: Option<&str>) -> Value {
    let mut ws = app.widget_socket().await;
    ws.send(json!({"type": "hello", "token": token})).await;
    ws.next().await
}

on_both_backends!(
    a_blocked_shopper_is_cut_off_and_cannot_come_back,
    |app: TestApp| async move {
        let _inbox = app.online_inbox_of(&app.agent.email).await;
        let cookie = app.login(&app.agent.email).await;
        let (mut shopper, token, id) = chatting_shopper(&app).await;

        let (status, body) = block(&app, &cookie, &id, json!({"reason": ""})).await;
        assert_eq!(status, 400, "a reason is needed: {body}");
        let (status, _) = block(&app, &cookie, &id, json!({"reason": "Spam"})).await;
        assert_eq!(status, 204);

        // Their socket ends for good, and the chat is closed.
        assert_eq!(shopper.closed().await, Some(4003));
        let stored = app.store.conversation(&id).await.unwrap().unwrap();
        assert_eq!(stored.state, protocol::ConversationState::Closed);

        // Coming back with their token: refused, nothing stored.
        let before = app.counts().await;
        let refused = hello(&app, Some(&token)).await;
        assert_eq!(refused["code"], "blocked", "{refused}");
        assert_eq!(app.counts().await, before);

        // The address was not blocked: someone else there may chat.
        let welcome = hello(&app, None).await;
        assert_eq!(welcome["type"], "welcome");
    }
);

on_both_backends!(
    blocking_the_address_too_refuses_everyone_from_it,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let (_shopper, _token, id) = {
            let _inbox = app.online_inbox_of(&app.agent.email).await;
            chatting_shopper(&app).await
        };
        // Another shopper from the same address, already chatting.
        let (mut neighbour, _) = app.new_shopper().await;

        let (status, _) = block(
            &app,
            &cookie,
            &id,
            json!({"reason": "Abuse", "address": true}),
        )
        .await;
        assert_eq!(status, 204);
        assert_eq!(neighbour.closed().await, Some(4003));

        let before = app.count("SELECT COUNT(*) FROM visitors").await;
        let refused = app
            .widget_socket_from(&app.site.site_key, common::SHOP_ORIGIN)
            .await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403);
            }
            other => panic!("the address is blocked: {:?}", other.map(|_| ())),
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM visitors").await, before);
    }
);

on_both_backends!(
    an_owner_lists_and_lifts_blocks_and_no_one_else_can,
    |app: TestApp| async move {
        let agent_cookie = app.login(&app.agent.email).await;
        let (_shopper, token, id) = {
            let _inbox = app.online_inbox_of(&app.agent.email).await;
            chatting_shopper(&app).await
        };
        let (status, _) = block(&app, &agent_cookie, &id, json!({"reason": "Spam"})).await;
        assert_eq!(status, 204);

        // An agent may block but not list or lift.
        let (status, _) = app
            .call(Method::GET, "/api/admin/blocks", &agent_cookie, None)
            .await;
        assert_eq!(status, 403);

        // Another account's people see none of it and cannot block here.
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let mallory =
            common::add_agent(&app.store, &elsewhere, "mallory@else.test", "Mallory").await;
        app.store
            .set_agent_role(&mallory.id, Role::Owner)
            .await
            .unwrap();
        let mallory_cookie = app.login(&mallory.email).await;
        let (status, _) = block(&app, &mallory_cookie, &id, json!({"reason": "x"})).await;
        assert_eq!(status, 404);
        let (_, theirs) = app
            .call(Method::GET, "/api/admin/blocks", &mallory_cookie, None)
            .await;
        assert_eq!(theirs, json!([]));

        let owner = app.owner_cookie().await;
        let (status, list) = app
            .call(Method::GET, "/api/admin/blocks", &owner, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["reason"], "Spam");
        assert_eq!(list[0]["blocked_by"], "Ada");
        let block_id = list[0]["id"].as_str().unwrap().to_owned();

        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/admin/blocks/{block_id}"),
                &mallory_cookie,
                None,
            )
            .await;
        assert_eq!(status, 404, "not theirs to lift");
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/admin/blocks/{block_id}"),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let welcome = hello(&app, Some(&token)).await;
        assert_eq!(welcome["type"], "welcome", "welcome back: {welcome}");
    }
);
