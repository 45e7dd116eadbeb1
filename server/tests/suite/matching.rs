//! Matching over real sockets and real databases: capacity, the queue a
//! shopper sees, returning shoppers, and assignments racing from two
//! database pools (as two server processes would).
#![allow(clippy::unwrap_used)]

use crate::common;

/// A language tag as the edge would parse it.
fn tag(raw: &str) -> rapport_server::domain::LanguageTag {
    rapport_server::domain::LanguageTag::parse(raw).unwrap()
}

use common::{TestApp, is_assigned};
use rapport_server::store::Store;
use serde_json::{Value, json};

on_both_backends!(
    capacity_holds_and_a_freed_seat_is_filled_at_once,
    |app: TestApp| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(1))
            .await
            .unwrap();
        let (mut agent, _) = app.agent_socket().await;
        agent.go_online().await;

        let (mut first, _) = app.new_shopper().await;
        let first_id = first.say("a", "First!").await["conversation_id"].clone();
        first.until("event", is_assigned).await;

        let (mut second, _) = app.new_shopper().await;
        second.say("b", "Second").await;
        let queue = second.until("queue", |_| true).await;
        assert_eq!(queue["position"], 1);
        assert_eq!(queue["agents_online"], true);
        assert_eq!(
            queue["estimate_secs"],
            Value::Null,
            "no handling history yet"
        );

        agent
            .send(json!({"type": "close", "conversation_id": first_id}))
            .await;
        let assigned = second.until("event", is_assigned).await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_id"],
            app.agent.id
        );
    }
);

on_both_backends!(
    waiting_shoppers_see_their_place_in_line_move,
    |app: TestApp| async move {
        let mut shoppers = Vec::new();
        for i in 0..3 {
            let (mut shopper, _) = app.new_shopper().await;
            shopper.say(&format!("m{i}"), "Hello?").await;
            let queue = shopper.until("queue", |_| true).await;
            assert_eq!(queue["position"], i + 1);
            assert_eq!(queue["agents_online"], false, "nobody is online yet");
            shoppers.push(shopper);
        }
        app.store
            .set_agent_capacity(&app.agent.id, Some(1))
            .await
            .unwrap();
        let (mut agent, _) = app.agent_socket().await;
        agent.go_online().await;
        // The oldest is served; the others move up.
        shoppers[0].until("event", is_assigned).await;
        for (i, shopper) in shoppers.iter_mut().enumerate().skip(1) {
            let queue = shopper.until("queue", |f| f["agents_online"] == true).await;
            assert_eq!(queue["position"], i, "one place further");
        }
    }
);

on_both_backends!(
    a_returning_shopper_gets_the_agent_who_served_them,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let mut bob_ws = app.online_inbox_of(&bob.email).await;

        let (mut shopper, token) = app.new_shopper().await;
        let first = shopper.say("a", "About my order").await["conversation_id"].clone();
        shopper.until("event", is_assigned).await;
        bob_ws
            .send(json!({"type": "close", "conversation_id": first}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;

        // Ada comes online with nothing to do; Bob still holds another chat.
        let (mut other, _) = app.new_shopper().await;
        other.say("o", "Someone else").await;
        other.until("event", is_assigned).await;
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;

        let mut again = app.widget_socket().await;
        again.send(json!({"type": "hello", "token": token})).await;
        again.expect("welcome").await;
        again.say("b", "Me again").await;
        let assigned = again.until("event", is_assigned).await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_name"], "Bob",
            "back to the agent who knows them, though Ada is less loaded"
        );
    }
);

on_both_backends!(
    racing_assignments_never_exceed_capacity_or_double_assign,
    |app: TestApp| async move {
        const SHOPPERS: usize = 24;
        const CAPACITY: i64 = 3;
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let mut conversations = Vec::new();
        for i in 0..SHOPPERS {
            let visitor = app
                .store
                .visitor_book()
                .create_visitor(&app.site.id, &format!("hash-{i}"))
                .await
                .unwrap();
            let posted = app
                .store
                .conversation_book()
                .post_visitor_message(
                    &app.site.id,
                    &visitor.id,
                    Default::default(),
                    rapport_server::store::NewMessage {
                        client_id: "c",
                        body: "hi",
                        via: protocol::Channel::Chat,
                    },
                )
                .await
                .unwrap();
            conversations.push(posted.conversation);
        }
        // A second, independent pool on the same database: another process.
        let other_process = Store::connect(&app.database_url).await.unwrap();
        // Every conversation is tried three times at once: for Ada from
        // each process, and for Bob.
        let mut tasks = Vec::new();
        for conversation in &conversations {
            for (store, agent) in [
                (&app.store, &app.agent),
                (&other_process, &app.agent),
                (&other_process, &bob),
            ] {
                let (store, agent, conversation) =
                    (store.clone(), agent.clone(), conversation.clone());
                tasks.push(tokio::spawn(async move {
                    store
                        .conversation_book()
                        .assign(&conversation, &agent, CAPACITY)
                        .await
                        .unwrap()
                        .is_some()
                }));
            }
        }
        let mut wins = 0;
        for task in tasks {
            wins += usize::from(task.await.unwrap());
        }
        let loads = app.store.agent_loads(&app.agent.account_id).await.unwrap();
        let total: i64 = loads.iter().map(|(_, open)| open).sum();
        assert_eq!(
            total,
            2 * CAPACITY,
            "both agents filled exactly to capacity: {loads:?}"
        );
        assert!(loads.iter().all(|(_, open)| *open <= CAPACITY), "{loads:?}");
        assert_eq!(
            wins,
            2 * usize::try_from(CAPACITY).unwrap(),
            "one win per assigned conversation"
        );
        for conversation in &conversations {
            let conversation = &conversation.id;
            let events = app.store.events_after(conversation, 0, 100).await.unwrap();
            let assigned = events
                .iter()
                .filter(|e| matches!(e.body, protocol::EventBody::Assigned { .. }))
                .count();
            assert!(
                assigned <= 1,
                "conversation {conversation} assigned {assigned} times"
            );
        }
        other_process.close().await;
    }
);

on_both_backends!(
    the_roster_shows_who_is_online_and_how_loaded,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        app.store
            .set_agent_capacity(&bob.id, Some(2))
            .await
            .unwrap();
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        common::add_agent(&app.store, &elsewhere, "eve@else.test", "Eve").await;
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let (mut shopper, _) = app.new_shopper().await;
        shopper.say("a", "Hi").await;
        shopper.until("event", is_assigned).await;

        let cookie = app.login(&bob.email).await;
        let roster: Value = reqwest::Client::new()
            .get(app.url("/api/agents"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let people = roster.as_array().unwrap();
        assert_eq!(people.len(), 2, "only this account's agents: {roster}");
        let ada_row = people.iter().find(|p| p["name"] == "Ada").unwrap();
        assert_eq!(ada_row["status"], "online");
        assert_eq!(ada_row["open"], 1);
        let bob_row = people.iter().find(|p| p["name"] == "Bob").unwrap();
        assert_eq!(bob_row["status"], "offline");
        assert_eq!(bob_row["open"], 0);
        assert_eq!(bob_row["capacity"], 2);
    }
);

on_both_backends!(
    an_away_agent_keeps_their_chats_and_gets_no_new_ones,
    |app: TestApp| async move {
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let (mut first, _) = app.new_shopper().await;
        let first_id = first.say("a", "Before the break").await["conversation_id"].clone();
        first.until("event", is_assigned).await;

        ada.send(json!({"type": "set_status", "status": "away"}))
            .await;
        ada.until("status", |f| f["status"] == "away").await;
        let (mut second, _) = app.new_shopper().await;
        second.say("b", "During the break").await;
        let queue = second.until("queue", |_| true).await;
        assert_eq!(queue["agents_online"], false, "nobody is taking chats");
        let held = app
            .store
            .conversation(first_id.as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            held.assigned_agent_id(),
            Some(app.agent.id.as_str()),
            "still Ada's"
        );

        ada.go_online().await;
        second.until("event", is_assigned).await;
    }
);

on_both_backends!(
    a_shopper_is_offered_to_an_agent_who_speaks_their_language,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        app.store
            .set_agent_languages(&app.agent.id, &[tag("en")])
            .await
            .unwrap();
        app.store
            .set_agent_languages(&bob.id, &[tag("NL"), tag("en-GB")])
            .await
            .unwrap();
        // Bob already has a chat; Ada has none.
        let _bob_online = app.online_inbox_of(&bob.email).await;
        let (mut busy, _) = app.new_shopper().await;
        busy.say("x", "First").await;
        busy.until("event", is_assigned).await;
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;

        let mut dutch = app.widget_socket().await;
        dutch
            .send(json!({"type": "hello", "language": "nl-BE"}))
            .await;
        dutch.expect("welcome").await;
        dutch.say("d", "Goedemiddag!").await;
        let assigned = dutch.until("event", is_assigned).await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_name"], "Bob",
            "Bob speaks Dutch, though Ada is less loaded"
        );

        let mut english = app.widget_socket().await;
        english
            .send(json!({"type": "hello", "language": "en-US"}))
            .await;
        english.expect("welcome").await;
        english.say("e", "Hello!").await;
        let assigned = english.until("event", is_assigned).await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_name"], "Ada",
            "both speak English: the less loaded one"
        );
    }
);

on_both_backends!(
    a_topic_routes_to_its_team_and_never_outside_it,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        app.store
            .set_agent_capacity(&bob.id, Some(1))
            .await
            .unwrap();
        let billing = app
            .store
            .create_team(&app.agent.account_id, "Billing")
            .await
            .unwrap();
        app.store.add_team_member(&billing, &bob.id).await.unwrap();
        app.store
            .set_site_topic(&app.site.id, "billing", "Billing and refunds", &billing)
            .await
            .unwrap();
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let mut bob_ws = app.online_inbox_of(&bob.email).await;

        let on_topic = |client_id: &'static str| json!({"type": "send", "client_id": client_id, "body": "About my invoice", "topic": "billing"});
        let (mut first, _) = app.new_shopper().await;
        first.send(on_topic("a")).await;
        let assigned = first.until("event", is_assigned).await;
        assert_eq!(
            assigned["event"]["body"]["assigned"]["agent_name"], "Bob",
            "Ada is idle but not in Billing"
        );
        let first_id = assigned["event"]["conversation_id"].clone();

        let (mut second, _) = app.new_shopper().await;
        second.send(on_topic("b")).await;
        let queue = second.until("queue", |_| true).await;
        assert_eq!(queue["position"], 1, "first in Billing's line");
        assert_eq!(queue["agents_online"], true);

        // Billing's line does not hold up anyone else.
        let (mut general, _) = app.new_shopper().await;
        general.say("c", "Where is my parcel?").await;
        let assigned = general.until("event", is_assigned).await;
        assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "Ada");
        let waiting = app
            .store
            .waiting_conversations(&app.agent.account_id)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1, "the billing chat still waits for Billing");

        bob_ws
            .send(json!({"type": "close", "conversation_id": first_id}))
            .await;
        let assigned = second.until("event", is_assigned).await;
        assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "Bob");
    }
);

on_both_backends!(
    an_unknown_topic_still_reaches_someone,
    |app: TestApp| async move {
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let (mut shopper, _) = app.new_shopper().await;
        shopper
            .send(json!({"type": "send", "client_id": "a", "body": "Hi", "topic": "no-such-topic"}))
            .await;
        shopper.until("ack", |_| true).await;
        let assigned = shopper.until("event", is_assigned).await;
        assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "Ada");
    }
);

/// `PUT /api/agents/{id}/capacity` as the agent with this cookie.
async fn put_capacity(app: &TestApp, cookie: &str, agent_id: &str, body: &str) -> (u16, Value) {
    let path = format!("/api/agents/{agent_id}/capacity");
    app.call(reqwest::Method::PUT, &path, cookie, Some(body))
        .await
}

on_both_backends!(
    raising_capacity_serves_the_queue_at_once,
    |app: TestApp| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(1))
            .await
            .unwrap();
        let cookie = app.login(&app.agent.email).await;
        let mut ada = app.agent_socket_with(&cookie).await.unwrap();
        ada.expect("inbox").await;
        ada.go_online().await;
        let (mut first, _) = app.new_shopper().await;
        first.say("a", "Hello").await;
        first.until("event", is_assigned).await;
        let (mut second, _) = app.new_shopper().await;
        second.say("b", "Anyone?").await;
        assert_eq!(second.until("queue", |_| true).await["position"], 1);

        let (status, member) =
            put_capacity(&app, &cookie, &app.agent.id, r#"{"capacity":2}"#).await;
        assert_eq!(status, 200, "{member}");
        assert_eq!(member["capacity"], 2);
        // The dispatcher took the change (and served the queue) before answering.
        assert_eq!(member["open"], 2);
        let assigned = second.until("event", is_assigned).await;
        assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "Ada");
        let stored = app.store.agent_by_id(&app.agent.id).await.unwrap().unwrap();
        assert_eq!(stored.capacity, Some(2));

        // Back to the site's default.
        let (status, member) =
            put_capacity(&app, &cookie, &app.agent.id, r#"{"capacity":null}"#).await;
        assert_eq!(status, 200, "{member}");
        assert_eq!(member["capacity"], Value::Null);
        let stored = app.store.agent_by_id(&app.agent.id).await.unwrap().unwrap();
        assert_eq!(stored.capacity, None);
    }
);

on_both_backends!(
    capacity_changes_are_checked_and_authorised,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let hash = common::test_password_hash().to_owned();
        let owner = app
            .store
            .create_agent(
                &app.agent.account_id,
                "owner@shop.test",
                "Olga",
                protocol::Role::Owner,
                &hash,
            )
            .await
            .unwrap();
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let mallory =
            common::add_agent(&app.store, &elsewhere, "mallory@else.test", "Mallory").await;
        let ada = app.login(&app.agent.email).await;
        let olga = app.login(&owner.email).await;

        for (body, why) in [
            (r#"{"capacity":0}"#, "zero"),
            (r#"{"capacity":51}"#, "too many"),
            (r#"{"capacity":"two"}"#, "not a number"),
            ("not json", "not JSON"),
        ] {
            let (status, error) = put_capacity(&app, &ada, &app.agent.id, body).await;
            assert_eq!(status, 400, "{why}: {error}");
            assert_eq!(error["error"]["code"], "bad_request", "{why}");
        }
        let (status, error) = put_capacity(&app, &ada, &bob.id, r#"{"capacity":3}"#).await;
        assert_eq!(
            (status, &error["error"]["code"]),
            (403, &json!("forbidden"))
        );
        let (status, error) = put_capacity(&app, &olga, &mallory.id, r#"{"capacity":3}"#).await;
        assert_eq!(
            (status, &error["error"]["code"]),
            (404, &json!("not_found")),
            "another account's agent"
        );
        let (status, _) = put_capacity(
            &app,
            "rapport_session=forged",
            &app.agent.id,
            r#"{"capacity":3}"#,
        )
        .await;
        assert_eq!(status, 401);
        for agent in [&app.agent.id, &bob.id, &mallory.id] {
            let stored = app.store.agent_by_id(agent).await.unwrap().unwrap();
            assert_eq!(stored.capacity, None, "unchanged");
        }

        // An owner sets anyone's in their account.
        let (status, member) = put_capacity(&app, &olga, &bob.id, r#"{"capacity":3}"#).await;
        assert_eq!(status, 200, "{member}");
        let stored = app.store.agent_by_id(&bob.id).await.unwrap().unwrap();
        assert_eq!(stored.capacity, Some(3));
    }
);

on_both_backends!(
    the_widget_learns_the_sites_topics,
    |app: TestApp| async move {
        let billing = app
            .store
            .create_team(&app.agent.account_id, "Billing")
            .await
            .unwrap();
        app.store
            .set_site_topic(&app.site.id, "billing", "Billing and refunds", &billing)
            .await
            .unwrap();
        let config: Value = reqwest::Client::new()
            .get(app.url(&format!("/api/widget/config?site={}", app.site.site_key)))
            .header("origin", common::SHOP_ORIGIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            config["topics"],
            json!([{"key": "billing", "label": "Billing and refunds"}])
        );
    }
);

on_both_backends!(
    inboxes_hear_of_waiting_chats_and_their_own_not_every_colleagues_message,
    |app: TestApp| async move {
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let (mut ada, _) = app.agent_socket().await;
        ada.go_online().await;
        let mut bob_ws = app.online_inbox_of(&bob.email).await;

        let (mut shopper, _) = app.new_shopper().await;
        shopper.say("a", "First question").await;
        let assigned = shopper.until("event", is_assigned).await;
        let id = assigned["event"]["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let holder = assigned["event"]["body"]["assigned"]["agent_name"].clone();
        // Both inboxes learn it is taken.
        for inbox in [&mut ada, &mut bob_ws] {
            inbox
                .until("conversation", |f| {
                    f["conversation"]["id"] == id.as_str()
                        && f["conversation"]["state"]["assigned"].is_object()
                })
                .await;
        }

        shopper.say("b", "Second question").await;
        let (mut holding, mut other) = if holder == "Ada" {
            (ada, bob_ws)
        } else {
            (bob_ws, ada)
        };
        let update = holding
            .until("conversation", |f| {
                f["conversation"]["last_message"] == "Second question"
            })
            .await;
        assert_eq!(update["conversation"]["id"], id.as_str());
        assert!(
            other
                .drain()
                .await
                .iter()
                .all(|f| f["conversation"]["last_message"] != "Second question"),
            "a colleague's inbox is not told of every message in a chat it does not hold"
        );
    }
);
