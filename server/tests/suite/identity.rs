//! Verified identity from the shop's own backend, on both backends: every
//! refusal leaves contacts untouched, unsigned details never reach a verified
//! contact, a browser that identifies brings its anonymous chat along and one
//! conversation follows the customer to another device, and two customers
//! are never merged.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws};
use jsonwebtoken::{EncodingKey, Header, encode};
use rapport_server::identity::token_hash;
use rapport_server::store::now_ms;
use serde_json::{Value, json};

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// What the shop's backend would sign for customer `sub` of `site_key`.
fn claims(site_key: &str, sub: &str, name: &str) -> Value {
    json!({
        "sub": sub,
        "aud": site_key,
        "exp": now_ms() / 1000 + 600,
        "name": name,
        "email": format!("{sub}@customers.test"),
        "attributes": {"tier": "gold", "last_order": "#1042"},
    })
}

/// Sends an identify frame; returns the answer (a welcome or an error).
async fn identify(ws: &mut Ws, frame: Value) -> Value {
    ws.send(frame).await;
    loop {
        let answer = ws.next().await;
        if answer["type"] == "welcome" || answer["type"] == "error" {
            return answer;
        }
    }
}

/// `GET /api/conversations/{id}/profile` as the agent with this cookie.
async fn profile_of(app: &TestApp, cookie: &str, conversation_id: &str) -> (u16, Value) {
    let path = format!("/api/conversations/{conversation_id}/profile");
    app.call(reqwest::Method::GET, &path, cookie, None).await
}

async fn contact_of(app: &TestApp, visitor_token: &str) -> Option<String> {
    app.store
        .visitor_by_token_hash(&token_hash(visitor_token), 0)
        .await
        .unwrap()
        .unwrap()
        .contact_id
}

on_both_backends!(
    every_bad_identify_is_refused_and_touches_nothing,
    |app: TestApp| async move {
        let key = app.site.site_key.clone();
        let retired = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let other = app
            .store
            .create_site(&app.agent.account_id, "Other shop", &[])
            .await
            .unwrap();
        let other_secret = app.store.rotate_site_secret(&other.id, 0).await.unwrap();
        let (mut shopper, token) = app.new_shopper().await;
        shopper.say("m1", "Hello").await;
        let before = app.counts().await;

        let good = claims(&key, "cust-1", "Ada");
        let mut expired = good.clone();
        expired["exp"] = json!(now_ms() / 1000 - 3600);
        let mut no_id = good.clone();
        no_id.as_object_mut().unwrap().remove("sub");
        let cases = [
            ("forged", sign(&good, "not the secret"), "signature"),
            ("expired", sign(&expired, &secret), "expired"),
            (
                "another site's token",
                sign(&claims(&other.site_key, "cust-1", "Ada"), &other_secret),
                "signature",
            ),
            (
                "addressed to another site",
                sign(&claims(&other.site_key, "cust-1", "Ada"), &secret),
                "another site",
            ),
            ("rotated-away secret", sign(&good, &retired), "signature"),
            ("no customer id", sign(&no_id, &secret), "names no customer"),
            ("not a token", "garbage".to_owned(), "not a JWT"),
        ];
        for (what, bad, reason) in cases {
            let answer = identify(&mut shopper, json!({"type": "identify", "token": bad})).await;
            assert_eq!(answer["code"], "identity_refused", "{what}: {answer}");
            assert!(
                answer["message"].as_str().unwrap().contains(reason),
                "{what}: {answer}"
            );
        }
        // A site that enforces verification refuses unsigned details, and an
        // identify with nothing at all.
        app.store
            .set_enforce_identity(&app.site.id, true)
            .await
            .unwrap();
        let mut shopper = app.widget_socket().await;
        shopper.send(json!({"type": "hello", "token": token})).await;
        shopper.expect("welcome").await;
        for frame in [
            json!({"type": "identify", "details": {"name": "Ada", "email": "ada@customers.test"}}),
            json!({"type": "identify"}),
        ] {
            let answer = identify(&mut shopper, frame).await;
            assert_eq!(answer["code"], "identity_refused", "{answer}");
        }

        assert_eq!(app.store.count_contacts().await.unwrap(), 0);
        assert_eq!(contact_of(&app, &token).await, None);
        let visitor = app
            .store
            .visitor_by_token_hash(&token_hash(&token), 0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.store.unverified_details(&visitor.id).await.unwrap(),
            None
        );
        assert_eq!(
            app.counts().await,
            before,
            "no visitor, conversation or event added"
        );

        // The same shopper with a good token is who they say they are.
        let answer = identify(
            &mut shopper,
            json!({"type": "identify", "token": sign(&good, &secret)}),
        )
        .await;
        assert_eq!(answer["type"], "welcome", "{answer}");
        assert_eq!(answer["name"], "Ada");
        let _ = token;
        let fresh = answer["visitor_token"].as_str().unwrap();
        assert!(contact_of(&app, fresh).await.is_some());
    }
);

on_both_backends!(
    a_rotated_secret_keeps_working_for_its_grace_period,
    |app: TestApp| async move {
        let old = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let new = app
            .store
            .rotate_site_secret(&app.site.id, 3_600_000)
            .await
            .unwrap();
        assert_ne!(old, new);
        for (n, secret) in [old, new].iter().enumerate() {
            let (mut shopper, _) = app.new_shopper().await;
            let token = sign(
                &claims(&app.site.site_key, &format!("cust-{n}"), "Ada"),
                secret,
            );
            let answer = identify(&mut shopper, json!({"type": "identify", "token": token})).await;
            assert_eq!(answer["type"], "welcome", "{answer}");
        }
    }
);

on_both_backends!(
    unsigned_details_never_reach_a_verified_contact,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let (mut ada, _) = app.new_shopper().await;
        let verified = sign(
            &claims(&app.site.site_key, "cust-1", "Ada Lovelace"),
            &secret,
        );
        let welcome = identify(&mut ada, json!({"type": "identify", "token": verified})).await;
        let ada_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        ada.say("m1", "My order is late").await;

        // Someone else states Ada's email without a signature.
        let (mut mallory, mallory_token) = app.new_shopper().await;
        mallory
            .send(json!({"type": "identify", "details": {"name": "Mallory", "email": "cust-1@customers.test"}}))
            .await;
        let frames = mallory.drain().await;
        assert!(
            frames
                .iter()
                .all(|f| f["type"] != "error" && f["type"] != "welcome"),
            "{frames:?}"
        );
        assert!(
            !frames
                .iter()
                .any(|f| f.to_string().contains("My order is late")),
            "nothing of Ada's reaches Mallory"
        );

        assert_eq!(contact_of(&app, &mallory_token).await, None, "not attached");
        let mallory_visitor = app
            .store
            .visitor_by_token_hash(&token_hash(&mallory_token), 0)
            .await
            .unwrap()
            .unwrap();
        let stated: Value = serde_json::from_str(
            &app.store
                .unverified_details(&mallory_visitor.id)
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(stated["name"], "Mallory");
        let contact = contact_of(&app, &ada_token).await.unwrap();
        assert_eq!(
            app.store
                .contact(&contact)
                .await
                .unwrap()
                .unwrap()
                .name
                .as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(app.store.count_contacts().await.unwrap(), 1);

        // Oversized or empty statements are refused.
        for details in [json!({}), json!({"name": "x".repeat(201)})] {
            let answer = identify(
                &mut mallory,
                json!({"type": "identify", "details": details}),
            )
            .await;
            assert_eq!(answer["code"], "identity_refused", "{answer}");
        }
    }
);

on_both_backends!(
    one_conversation_follows_the_customer_from_anonymous_to_another_device,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let token = || sign(&claims(&app.site.site_key, "cust-7", "Grace"), &secret);
        // Anonymous first, then the shopper logs in at the shop.
        let (mut laptop, laptop_token) = app.new_shopper().await;
        let ack = laptop.say("m1", "Where is order 1042?").await;
        let conversation = ack["conversation_id"].clone();
        let welcome = identify(&mut laptop, json!({"type": "identify", "token": token()})).await;
        assert_eq!(
            welcome["conversation_id"], conversation,
            "the chat came along"
        );
        assert_eq!(welcome["name"], "Grace");
        assert_ne!(
            welcome["visitor_token"],
            laptop_token.as_str(),
            "a fresh token once the browser proved who it is"
        );

        // The phone: a new browser, identified by the shop as the same customer.
        let (mut phone, _) = app.new_shopper().await;
        phone
            .send(json!({"type": "identify", "token": token()}))
            .await;
        let welcome = phone.expect("welcome").await;
        let phone_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        assert_eq!(welcome["conversation_id"], conversation);
        let replayed = phone.drain_events().await;
        assert!(
            replayed
                .iter()
                .any(|f| f["event"]["body"]["message"]["text"] == "Where is order 1042?"),
            "{replayed:?}"
        );
        let ack = phone.say("m2", "Asking from my phone").await;
        assert_eq!(ack["conversation_id"], conversation);
        laptop
            .until("event", |f| {
                f["event"]["body"]["message"]["text"] == "Asking from my phone"
            })
            .await;

        // Next visit on the phone: its token stands for the customer.
        let mut again = app.widget_socket().await;
        again
            .send(json!({"type": "hello", "token": phone_token}))
            .await;
        let welcome = again.expect("welcome").await;
        assert_eq!(welcome["conversation_id"], conversation);
        assert_eq!(welcome["name"], "Grace");
        assert_eq!(app.store.count_contacts().await.unwrap(), 1);
    }
);

on_both_backends!(
    two_customers_on_one_browser_are_never_merged,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let sign_for =
            |sub: &str, name: &str| sign(&claims(&app.site.site_key, sub, name), &secret);
        let (mut browser, first_token) = app.new_shopper().await;
        let welcome = identify(
            &mut browser,
            json!({"type": "identify", "token": sign_for("cust-1", "Ada")}),
        )
        .await;
        let ada_browser_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        browser.say("m1", "My secret order").await;

        // Without a logout, the next customer logs in on the same computer:
        // a new token, and the connection ends so nothing queued for Ada
        // can follow.
        let welcome = identify(
            &mut browser,
            json!({"type": "identify", "token": sign_for("cust-2", "Bob")}),
        )
        .await;
        assert_eq!(welcome["name"], "Bob");
        assert_eq!(welcome["conversation_id"], Value::Null, "Bob starts afresh");
        let bob_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        assert_ne!(bob_token, first_token, "a new token for Bob");
        // The close frame can be lost to a reset when the client's last
        // frame was still unread; either way the connection is over.
        let code = browser.closed().await;
        assert!(matches!(code, Some(4009) | None), "{code:?}");

        let mut browser = app.widget_socket().await;
        browser
            .send(json!({"type": "hello", "token": bob_token}))
            .await;
        let welcome = browser.expect("welcome").await;
        assert_eq!(welcome["conversation_id"], Value::Null);
        assert_eq!(welcome["name"], "Bob");
        assert!(
            !browser
                .drain()
                .await
                .iter()
                .any(|f| f.to_string().contains("My secret order"))
        );

        // Ada writing from elsewhere does not reach Bob's browser.
        let (mut ada_elsewhere, _) = app.new_shopper().await;
        let ada_welcome = identify(
            &mut ada_elsewhere,
            json!({"type": "identify", "token": sign_for("cust-1", "Ada")}),
        )
        .await;
        ada_elsewhere.say("m2", "Only for Ada").await;
        assert!(
            !browser
                .drain()
                .await
                .iter()
                .any(|f| f.to_string().contains("Only for Ada"))
        );

        // The token the browser had as Ada ended when Bob signed in on it.
        let mut leftover = app.widget_socket().await;
        leftover
            .send(json!({"type": "hello", "token": ada_browser_token}))
            .await;
        assert_eq!(
            leftover.expect("error").await["code"],
            "invalid_visitor_token"
        );
        let ada = contact_of(&app, ada_welcome["visitor_token"].as_str().unwrap())
            .await
            .unwrap();
        let bob = contact_of(&app, &bob_token).await.unwrap();
        assert_ne!(ada, bob);
        assert_eq!(app.store.count_contacts().await.unwrap(), 2);
    }
);

/// An owner of the app's account, signed in: (agent, cookie).
async fn owner_of(app: &TestApp, email: &str, account: &str) -> String {
    let hash = common::test_password_hash().to_owned();
    app.store
        .create_agent(account, email, "Olga", protocol::Role::Owner, &hash)
        .await
        .unwrap();
    app.login(email).await
}

async fn call(app: &TestApp, method: reqwest::Method, path: &str, cookie: &str) -> (u16, Value) {
    app.call(method, path, cookie, None).await
}

on_both_backends!(
    an_owner_exports_and_really_deletes_a_contact,
    |app: TestApp| async move {
        use reqwest::Method;
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let token = || sign(&claims(&app.site.site_key, "cust-9", "Grace"), &secret);
        // Grace chats anonymously, logs in, then writes from a second device.
        let (mut laptop, _) = app.new_shopper().await;
        laptop.say("m1", "Before logging in").await;
        identify(&mut laptop, json!({"type": "identify", "token": token()})).await;
        let (mut phone, _) = app.new_shopper().await;
        identify(&mut phone, json!({"type": "identify", "token": token()})).await;
        phone.say("m2", "From my phone").await;
        // Someone else's chat must survive the deletion.
        let (mut other, _) = app.new_shopper().await;
        other.say("m3", "Unrelated shopper").await;

        let olga = owner_of(&app, "olga@shop.test", &app.agent.account_id).await;
        let (status, found) =
            call(&app, Method::GET, "/api/contacts?external_id=cust-9", &olga).await;
        assert_eq!(status, 200, "{found}");
        let id = found[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(found[0]["attributes"]["last_order"], "#1042");

        // Nobody but an owner of this account reaches it.
        let ada = app.login(&app.agent.email).await;
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let stranger = owner_of(&app, "owner@else.test", &elsewhere).await;
        for (who, cookie, expected) in [
            ("an agent", &ada, 403),
            ("another account's owner", &stranger, 404),
        ] {
            for (method, path) in [
                (Method::GET, format!("/api/contacts/{id}/export")),
                (Method::DELETE, format!("/api/contacts/{id}")),
            ] {
                let (status, _) = call(&app, method, &path, cookie).await;
                assert_eq!(status, expected, "{who}: {path}");
            }
        }
        let (status, none) = call(
            &app,
            Method::GET,
            "/api/contacts?external_id=cust-9",
            &stranger,
        )
        .await;
        assert_eq!((status, none), (200, json!([])));

        let (status, export) = call(
            &app,
            Method::GET,
            &format!("/api/contacts/{id}/export"),
            &olga,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(export["contact"]["name"], "Grace");
        assert_eq!(export["contact"]["email"], "cust-9@customers.test");
        assert_eq!(
            export["visitors"].as_array().unwrap().len(),
            2,
            "laptop and phone"
        );
        let text = export["conversations"].to_string();
        assert!(
            text.contains("Before logging in") && text.contains("From my phone"),
            "{text}"
        );
        assert!(!text.contains("Unrelated shopper"));

        let before = app.counts().await;
        let (status, _) = call(&app, Method::DELETE, &format!("/api/contacts/{id}"), &olga).await;
        assert_eq!(status, 204);
        assert_eq!(app.store.count_contacts().await.unwrap(), 0);
        let after = app.counts().await;
        assert_eq!(
            after.0,
            before.0 - 2,
            "both browsers' visitor rows are gone"
        );
        assert_eq!(after.1, before.1 - 1, "Grace's conversation is gone");
        assert!(after.2 < before.2, "its events are gone");
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("/api/contacts/{id}/export"),
            &olga,
        )
        .await;
        assert_eq!(status, 404);
        // The other shopper's chat is untouched.
        assert_eq!(app.store.count_conversations().await.unwrap(), 1);
        other.say("m4", "Still here").await;
    }
);

on_both_backends!(
    agents_see_the_whole_customer_and_share_notes_with_an_audit,
    |app: TestApp| async move {
        use reqwest::Method;
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let mut shopper = app.widget_socket().await;
        shopper
            .send(json!({"type": "hello", "language": "nl-BE"}))
            .await;
        shopper.expect("welcome").await;
        let verified = sign(&claims(&app.site.site_key, "cust-5", "Grace"), &secret);
        identify(&mut shopper, json!({"type": "identify", "token": verified})).await;
        let first = shopper.say("m1", "First visit").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        ada.send(json!({"type": "close", "conversation_id": first}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        // Two conversations: the first closed longer ago than the window in
        // which the customer's word reopens it.
        app.sql(
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
        )
        .await;
        let second = shopper.say("m2", "Back again").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(first, second);

        let cookie = app.login(&app.agent.email).await;
        let profile_path = format!("/api/conversations/{second}/profile");
        let (status, profile) = app.call(Method::GET, &profile_path, &cookie, None).await;
        assert_eq!(status, 200, "{profile}");
        assert_eq!(profile["contact"]["name"], "Grace");
        assert_eq!(profile["contact"]["external_id"], "cust-5");
        assert_eq!(profile["contact"]["attributes"]["last_order"], "#1042");
        assert_eq!(profile["language"], "nl-BE");
        let past: Vec<&Value> = profile["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(past.len(), 2, "{profile}");
        assert_eq!(past[1]["id"], first.as_str());
        assert_eq!(past[1]["state"], "closed");
        let contact = profile["contact"]["id"].as_str().unwrap().to_owned();

        // A note and an edit, seen by a colleague with who did what.
        let notes = format!("/api/contacts/{contact}/notes");
        let attributes = format!("/api/contacts/{contact}/attributes");
        let (status, _) = app
            .call(
                Method::POST,
                &notes,
                &cookie,
                Some(r#"{"body":"Prefers SMS"}"#),
            )
            .await;
        assert_eq!(status, 201);
        let (status, after) = app
            .call(
                Method::PUT,
                &attributes,
                &cookie,
                Some(r#"{"name":"tier","value":"platinum"}"#),
            )
            .await;
        assert_eq!(status, 200, "{after}");
        assert_eq!(after["tier"], "platinum");
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let bob_cookie = app.login(&bob.email).await;
        let (_, seen) = app
            .call(Method::GET, &profile_path, &bob_cookie, None)
            .await;
        assert_eq!(seen["notes"][0]["body"], "Prefers SMS");
        assert_eq!(seen["notes"][0]["author_name"], "Ada");
        assert_eq!(
            seen["changes"][0],
            json!({
                "name": "tier", "old_value": "gold", "new_value": "platinum",
                "agent_name": "Ada", "created_at_ms": seen["changes"][0]["created_at_ms"],
            })
        );
        assert_eq!(seen["contact"]["attributes"]["tier"], "platinum");

        // None of it ever reaches the shopper.
        let heard = shopper.drain().await;
        assert!(!heard.iter().any(|f| {
            let text = f.to_string();
            text.contains("Prefers SMS") || text.contains("platinum")
        }));

        // Bad input and strangers.
        for (body, code) in [(r#"{"body":"  "}"#, "empty_body"), ("nope", "bad_request")] {
            let (status, error) = app.call(Method::POST, &notes, &cookie, Some(body)).await;
            assert_eq!(
                (status, &error["error"]["code"]),
                (400, &json!(code)),
                "{body}"
            );
        }
        let (status, _) = app
            .call(
                Method::PUT,
                &attributes,
                &cookie,
                Some(r#"{"name":" ","value":"x"}"#),
            )
            .await;
        assert_eq!(status, 400);
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let mallory =
            common::add_agent(&app.store, &elsewhere, "mallory@else.test", "Mallory").await;
        let mallory_cookie = app.login(&mallory.email).await;
        for (method, path, body) in [
            (Method::GET, profile_path.as_str(), None),
            (Method::POST, notes.as_str(), Some(r#"{"body":"hi"}"#)),
            (
                Method::PUT,
                attributes.as_str(),
                Some(r#"{"name":"tier","value":"x"}"#),
            ),
        ] {
            let (status, _) = app.call(method.clone(), path, &mallory_cookie, body).await;
            assert_eq!(status, 404, "{method} {path}");
            let (status, _) = app.call(method, path, "rapport_session=none", body).await;
            assert_eq!(status, 401, "{path}");
        }
        let (_, unchanged) = app.call(Method::GET, &profile_path, &cookie, None).await;
        assert_eq!(unchanged["notes"].as_array().unwrap().len(), 1);
        assert_eq!(unchanged["changes"].as_array().unwrap().len(), 1);
    }
);

on_both_backends!(
    an_anonymous_shoppers_stated_details_show_as_unverified,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        shopper
            .send(json!({"type": "identify", "details": {"name": "Sam", "email": "sam@example.test"}}))
            .await;
        let id = shopper.say("m1", "Hi").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let cookie = app.login(&app.agent.email).await;
        let (status, profile) = profile_of(&app, &cookie, &id).await;
        assert_eq!(status, 200);
        assert_eq!(profile["contact"], Value::Null);
        assert_eq!(profile["unverified"]["name"], "Sam");
        assert_eq!(profile["unverified"]["email"], "sam@example.test");
    }
);

on_both_backends!(
    agents_see_where_the_shopper_is_and_what_they_did,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        shopper
            .send(json!({"type": "page", "url": "https://shop.test/shoes", "title": "Shoes", "time_zone": "Europe/Amsterdam"}))
            .await;
        shopper
            .send(json!({"type": "page", "url": "https://shop.test/cart", "title": "Your cart"}))
            .await;
        shopper
            .send(json!({"type": "track", "name": "added to cart", "data": "{\"sku\":\"A1\",\"price\":59}"}))
            .await;
        for (bad, why) in [
            (json!({"type": "track", "name": " "}), "no name"),
            (
                json!({"type": "track", "name": "x", "data": "not json"}),
                "data not JSON",
            ),
            (json!({"type": "page", "url": ""}), "no URL"),
        ] {
            shopper.send(bad).await;
            let error = shopper.until("error", |_| true).await;
            assert_eq!(error["code"], "bad_request", "{why}: {error}");
        }
        let id = shopper.say("m1", "Do these run small?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();

        let cookie = app.login(&app.agent.email).await;
        let (_, profile) = profile_of(&app, &cookie, &id).await;
        let pages = profile["pages"].as_array().unwrap();
        assert_eq!(pages.len(), 2, "{profile}");
        assert_eq!(
            pages[0]["url"], "https://shop.test/cart",
            "where they are now"
        );
        assert_eq!(pages[1]["title"], "Shoes");
        assert_eq!(profile["time_zone"], "Europe/Amsterdam");
        let timeline = profile["timeline"].as_array().unwrap();
        assert_eq!(timeline.len(), 1, "{profile}");
        assert_eq!(timeline[0]["name"], "added to cart");
        assert!(timeline[0]["data"].as_str().unwrap().contains("A1"));
    }
);

on_both_backends!(
    signing_in_folds_the_browsers_open_chat_into_the_customers_and_its_agent_sees_it_end,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let token = || sign(&claims(&app.site.site_key, "cust-9", "Grace"), &secret);
        let mut agent = app.online_inbox_of(&app.agent.email).await;

        // The customer already chats from their phone.
        let (mut phone, _) = app.new_shopper().await;
        identify(&mut phone, json!({"type": "identify", "token": token()})).await;
        let continuing = phone.say("p1", "Hi from my phone").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // On the laptop, not yet signed in, they ask something else.
        let (mut laptop, _) = app.new_shopper().await;
        let folded = laptop.say("l1", "Where is order 1042?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(folded, continuing);
        for id in [&continuing, &folded] {
            agent
                .until("conversation", |f| {
                    f["conversation"]["id"] == id.as_str()
                        && f["conversation"]["state"]["assigned"].is_object()
                })
                .await;
        }
        agent
            .send(json!({"type": "open", "conversation_id": folded}))
            .await;
        agent
            .until("event", |f| {
                f["event"]["conversation_id"] == folded.as_str()
            })
            .await;

        laptop.until("event", common::is_assigned).await;
        laptop.drain().await;

        // Signing in on the laptop: one conversation goes on, the customer's,
        // and the laptop never switches to the one that ends.
        laptop
            .send(json!({"type": "identify", "token": token()}))
            .await;
        let seen = laptop.drain().await;
        let welcome = seen.iter().find(|f| f["type"] == "welcome").unwrap();
        assert_eq!(welcome["conversation_id"], continuing.as_str());
        assert!(
            seen.iter()
                .all(|f| f["event"]["conversation_id"] != folded.as_str()),
            "{seen:?}"
        );

        // The agent holding the laptop's chat sees it end, live, and why.
        agent
            .until("event", |f| {
                f["event"]["conversation_id"] == folded.as_str()
                    && f["event"]["body"]["note"]["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("signed in"))
            })
            .await;
        agent
            .until("event", |f| {
                f["event"]["conversation_id"] == folded.as_str() && f["event"]["body"] == "closed"
            })
            .await;
        agent
            .until("conversation", |f| {
                f["conversation"]["id"] == folded.as_str() && f["conversation"]["state"] == "closed"
            })
            .await;
        // The question is not lost: it is in the customer's conversation,
        // on every device, and nobody has to ask again.
        phone
            .until("event", |f| {
                f["event"]["conversation_id"] == continuing.as_str()
                    && f["event"]["body"]["message"]["text"] == "Where is order 1042?"
                    && f["event"]["author"] == "visitor"
            })
            .await;

        // All of it is in the log: the folded chat ends with a closed event.
        let log = app.store.events_after(&folded, 0, 100).await.unwrap();
        assert_eq!(
            log.last().map(|e| &e.body),
            Some(&protocol::EventBody::Closed),
            "{log:?}"
        );
        let stored = app.store.conversation(&folded).await.unwrap().unwrap();
        assert_eq!(stored.state, protocol::ConversationState::Closed);
        assert_eq!(stored.last_seq, log.last().unwrap().seq, "last_seq kept up");
    }
);

on_both_backends!(
    deleting_a_contact_ends_their_open_chat_in_the_agents_inbox_at_once,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _) = app.new_shopper().await;
        let token = sign(&claims(&app.site.site_key, "cust-5", "Grace"), &secret);
        let welcome = identify(&mut shopper, json!({"type": "identify", "token": token})).await;
        let visitor_token = welcome["visitor_token"].as_str().unwrap().to_owned();
        let id = shopper.say("m1", "Please forget me").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        agent
            .until("conversation", |f| {
                f["conversation"]["id"] == id.as_str()
                    && f["conversation"]["state"]["assigned"].is_object()
            })
            .await;
        let owner = owner_of(&app, "olga@shop.test", &app.agent.account_id).await;
        let contact = contact_of(&app, &visitor_token).await.unwrap();
        let (status, _) = call(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/contacts/{contact}"),
            &owner,
        )
        .await;
        assert_eq!(status, 204);
        agent
            .until("conversation", |f| {
                f["conversation"]["id"] == id.as_str() && f["conversation"]["state"] == "closed"
            })
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        assert!(app.store.conversation(&id).await.unwrap().is_none(), "gone");
    }
);

on_both_backends!(
    a_browser_that_identifies_gets_a_fresh_token_and_the_old_one_ends,
    |app: TestApp| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let (mut shopper, anonymous) = app.new_shopper().await;
        shopper.say("m1", "Where is my order?").await;
        let welcome = identify(
            &mut shopper,
            json!({"type": "identify", "token": sign(&claims(&app.site.site_key, "cust-7", "Grace"), &secret)}),
        )
        .await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        let fresh = welcome["visitor_token"].as_str().unwrap().to_owned();
        assert_ne!(fresh, anonymous);

        // Whoever copied the anonymous token (a shared computer, a leaked
        // log) cannot use it any more; the fresh one is the customer.
        let mut copied = app.widget_socket().await;
        copied
            .send(json!({"type": "hello", "token": anonymous}))
            .await;
        assert_eq!(
            copied.expect("error").await["code"],
            "invalid_visitor_token"
        );
        let mut again = app.widget_socket().await;
        again.send(json!({"type": "hello", "token": fresh})).await;
        let welcome = again.expect("welcome").await;
        assert_eq!(welcome["name"], "Grace");
        assert!(
            welcome["conversation_id"].is_string(),
            "the chat came along"
        );
    }
);

on_both_backends!(
    logging_out_ends_the_token_on_the_server_and_keeps_the_history,
    |app: TestApp| async move {
        let (mut shopper, token) = app.new_shopper().await;
        shopper.say("m1", "Hello").await;
        let visitors = app.count("SELECT COUNT(*) FROM visitors").await;
        shopper.send(json!({"type": "forget"})).await;
        assert_eq!(shopper.closed().await, Some(4003));

        let mut later = app.widget_socket().await;
        later.send(json!({"type": "hello", "token": token})).await;
        assert_eq!(later.expect("error").await["code"], "invalid_visitor_token");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM visitors").await,
            visitors,
            "the shopper's history stays for the shop"
        );
        assert!(app.count("SELECT COUNT(*) FROM events").await > 0);
    }
);

on_both_backends!(
    a_token_left_unused_too_long_stops_working,
    |app: TestApp| async move {
        let (mut shopper, token) = app.new_shopper().await;
        shopper.say("m1", "Hello").await;
        drop(shopper);
        let mut fresh = app.widget_socket().await;
        fresh.send(json!({"type": "hello", "token": token})).await;
        fresh.expect("welcome").await;

        // Thirty-one days without a visit (the default allows thirty).
        let long_ago = now_ms() - 31 * 24 * 60 * 60 * 1000;
        let sql =
            format!("UPDATE visitors SET token_used_at = {long_ago}, last_seen_at = {long_ago}");
        app.sql(&sql, &sql).await;
        let mut stale = app.widget_socket().await;
        stale.send(json!({"type": "hello", "token": token})).await;
        assert_eq!(stale.expect("error").await["code"], "invalid_visitor_token");
    }
);
