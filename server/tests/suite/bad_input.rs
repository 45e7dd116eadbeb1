//! Every bad input gets a clear error and leaves the stored data unchanged;
//! a bad frame never costs the connection. Both backends.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{SHOP_ORIGIN, TestApp};
use protocol::{MAX_BODY_CHARS, MAX_FRAME_BYTES};
use serde_json::{Value, json};

async fn error_body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

on_both_backends!(unknown_site_key_is_refused, |app: TestApp| async move {
    let before = app.counts().await;
    let (status, body) = error_body(
        reqwest::Client::new()
            .get(app.url("/api/widget/config?site=nope"))
            .header("origin", SHOP_ORIGIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_site");
    let refused = app.widget_socket_from("nope", SHOP_ORIGIN).await;
    assert!(matches!(
        refused,
        Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 404
    ));
    assert_eq!(app.counts().await, before);
});

on_both_backends!(
    a_page_origin_not_allowed_is_refused,
    |app: TestApp| async move {
        let before = app.counts().await;
        let config = |origin: &'static str| {
            reqwest::Client::new()
                .get(app.url(&format!("/api/widget/config?site={}", app.site.site_key)))
                .header("origin", origin)
                .send()
        };
        let (status, body) = error_body(config("http://evil.test").await.unwrap()).await;
        assert_eq!(status, 403);
        assert_eq!(body["error"]["code"], "origin_not_allowed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("http://evil.test")
        );
        let allowed = config(SHOP_ORIGIN).await.unwrap();
        assert_eq!(allowed.status(), 200);
        assert_eq!(
            allowed.headers()["access-control-allow-origin"],
            SHOP_ORIGIN,
            "the shop's page may read the answer"
        );
        let refused = app
            .widget_socket_from(&app.site.site_key, "http://evil.test")
            .await;
        assert!(matches!(
            refused,
            Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403
        ));
        assert_eq!(app.counts().await, before, "no visitor was created");
    }
);

on_both_backends!(
    bad_frames_get_errors_and_the_connection_survives,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        let before = app.counts().await;

        shopper.send_text("this is not json".into()).await;
        assert_eq!(shopper.expect("error").await["code"], "bad_frame");

        shopper.send(json!({"type": "dance"})).await;
        let unknown = shopper.expect("error").await;
        assert_eq!(unknown["code"], "unknown_frame");

        shopper
            .send(json!({"type": "send", "body": "no client id"}))
            .await;
        assert_eq!(shopper.expect("error").await["code"], "bad_frame");

        shopper
            .send(json!({"type": "send", "client_id": "x", "body": "y".repeat(MAX_FRAME_BYTES)}))
            .await;
        assert_eq!(shopper.expect("error").await["code"], "frame_too_large");

        // Still connected and still working.
        shopper.send(json!({"type": "ping"})).await;
        shopper.expect("pong").await;
        assert_eq!(app.counts().await, before);
    }
);

on_both_backends!(
    message_bodies_are_bounded_and_not_empty,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        let before = app.counts().await;

        shopper
        .send(json!({"type": "send", "client_id": "long", "body": "é".repeat(MAX_BODY_CHARS + 1)}))
        .await;
        let too_long = shopper.expect("error").await;
        assert_eq!(too_long["code"], "body_too_long");
        assert_eq!(too_long["client_id"], "long");
        assert!(
            too_long["message"]
                .as_str()
                .unwrap()
                .contains(&MAX_BODY_CHARS.to_string())
        );

        shopper
            .send(json!({"type": "send", "client_id": "empty", "body": "  \n "}))
            .await;
        assert_eq!(shopper.expect("error").await["code"], "empty_body");

        shopper
            .send(json!({"type": "send", "client_id": "bad id!", "body": "hi"}))
            .await;
        assert_eq!(shopper.expect("error").await["code"], "bad_client_id");

        assert_eq!(
            app.counts().await,
            before,
            "nothing stored, no conversation opened"
        );

        shopper
            .send(json!({"type": "send", "client_id": "ok", "body": "é".repeat(MAX_BODY_CHARS)}))
            .await;
        shopper.until("ack", |_| true).await;
    }
);

on_both_backends!(
    a_visitor_token_that_is_not_theirs_is_refused,
    |app: TestApp| async move {
        // A visitor of another site of the same account.
        let other = app
            .store
            .create_site(&app.agent.account_id, "Other", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let mut elsewhere = app
            .widget_socket_from(&other.site_key, SHOP_ORIGIN)
            .await
            .unwrap();
        elsewhere.send(json!({"type": "hello"})).await;
        let foreign_token = elsewhere.expect("welcome").await["visitor_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = app.counts().await;

        let mut shopper = app.widget_socket().await;
        for token in [foreign_token.as_str(), "made-up-token"] {
            shopper.send(json!({"type": "hello", "token": token})).await;
            let refused = shopper.expect("error").await;
            assert_eq!(refused["code"], "invalid_visitor_token");
        }
        // Not attached to anyone: sending is refused until a valid hello.
        shopper
            .send(json!({"type": "send", "client_id": "c", "body": "hi"}))
            .await;
        assert_eq!(shopper.expect("error").await["code"], "hello_required");
        assert_eq!(app.counts().await, before, "nothing created or attached");

        // The connection survives and can start over as a new visitor.
        shopper.send(json!({"type": "hello"})).await;
        shopper.expect("welcome").await;
    }
);

on_both_backends!(inbox_requests_need_a_session, |app: TestApp| async move {
    let client = reqwest::Client::new();
    for path in [
        "/api/me",
        "/api/agents",
        "/api/conversations",
        "/api/conversations/x/events",
    ] {
        let (status, body) = error_body(client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    let refused = app.agent_socket_with("rapport_session=forged").await;
    assert!(matches!(
        refused,
        Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401
    ));
    let (status, body) = error_body(
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": app.agent.email, "password": "wrong password!"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "bad_credentials");

    // With a session, the same requests work; after sign-out they do not.
    let cookie = app.login(&app.agent.email).await;
    let me = client
        .get(app.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["email"], app.agent.email);
    client
        .post(app.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let after = client
        .get(app.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
});

on_both_backends!(
    agents_see_only_their_own_accounts_conversations,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        shopper
            .send(json!({"type": "send", "client_id": "c1", "body": "private question"}))
            .await;
        let ack = shopper.until("ack", |_| true).await;
        let conversation_id = ack["conversation_id"].as_str().unwrap().to_owned();

        let other_account = app.store.create_account("Another shop").await.unwrap();
        let mallory =
            common::add_agent(&app.store, &other_account, "mallory@else.test", "Mallory").await;
        let cookie = app.login(&mallory.email).await;
        let mut ws = app.agent_socket_with(&cookie).await.unwrap();
        let inbox = ws.expect("inbox").await;
        assert_eq!(
            inbox["conversations"],
            json!([]),
            "another account's chats are not listed"
        );
        let before = app.counts().await;

        ws.send(json!({"type": "open", "conversation_id": conversation_id}))
            .await;
        assert_eq!(ws.expect("error").await["code"], "not_found");
        ws.send(json!({"type": "send", "conversation_id": conversation_id, "client_id": "m", "body": "hi"}))
        .await;
        assert_eq!(ws.expect("error").await["code"], "not_found");
        let events = reqwest::Client::new()
            .get(app.url(&format!("/api/conversations/{conversation_id}/events")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(events.status(), 404);
        assert_eq!(app.counts().await, before);
        // Mallory going online does not take the other account's waiting chat.
        ws.send(json!({"type": "set_status", "status": "online"}))
            .await;
        ws.until("status", |_| true).await;
        assert!(ws.drain().await.iter().all(|f| f["type"] != "conversation"));
        let conversation = app
            .store
            .conversation(&conversation_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(conversation.state, protocol::ConversationState::Waiting);
    }
);

on_both_backends!(
    a_cross_site_page_cannot_open_the_agent_socket,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{}/ws/agent", app.addr),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        request
            .headers_mut()
            .insert("origin", "http://evil.test".parse().unwrap());
        let refused = tokio_tungstenite::connect_async(request).await;
        assert!(matches!(
            refused,
            Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 403
        ));
    }
);
