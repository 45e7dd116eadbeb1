//! Search over real sockets on both backends: a labelled query set in the
//! widget's four languages (a stemmed form in English, Dutch and Russian, a
//! word as written in Bengali), notes and customers found, the words
//! highlighted, nothing of another account, nothing erased, and an index
//! built from the log when it is new.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, add_agent, is_assigned};
use reqwest::Method;
use serde_json::{Value, json};

async fn search(app: &TestApp, cookie: &str, q: &str) -> Value {
    let path = format!("/api/search?q={}", urlencode(q));
    let (status, body) = app.call(Method::GET, &path, cookie, None).await;
    assert_eq!(status, 200, "{q}: {body}");
    body
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The texts of the messages a search found.
fn found(results: &Value) -> Vec<String> {
    results["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| {
            let body = &hit["event"]["body"];
            body["message"]["text"]
                .as_str()
                .or(body["note"]["text"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// (query, the message it must find first) per language.
const LABELLED: [(&str, &str); 8] = [
    ("returning shoes", "I returned the blue shoes last week"),
    ("refunds", "When will my refund arrive?"),
    ("bestelling", "Waar blijven mijn bestellingen?"),
    ("retourneren", "Ik wil deze jas retourneren"),
    ("заказа", "Где мой заказ? Жду уже неделю"),
    ("доставкой", "Проблема с доставкой в Казань"),
    ("অর্ডার", "আমার অর্ডার এখনও আসেনি"),
    ("ফেরত", "জুতা ফেরত দিতে চাই"),
];

on_both_backends!(
    words_are_found_in_four_languages_highlighted_and_only_in_their_account,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let mut conversations = Vec::new();
        for (i, (_, text)) in LABELLED.iter().enumerate() {
            let (mut shopper, _) = app.new_shopper().await;
            let id = shopper.say(&format!("s{i}"), text).await["conversation_id"]
                .as_str()
                .unwrap()
                .to_owned();
            shopper.until("event", is_assigned).await;
            ada.send(json!({"type": "close", "conversation_id": id}))
                .await;
            conversations.push(id);
        }
        for (query, text) in LABELLED {
            let results = search(&app, &cookie, query).await;
            assert_eq!(
                found(&results).first().map(String::as_str),
                Some(text),
                "{query}: {results}"
            );
        }
        // Every word must match; one that is nowhere finds nothing.
        assert!(found(&search(&app, &cookie, "returning boots").await).is_empty());
        // The hit opens its conversation at its message, the words marked.
        let hit = &search(&app, &cookie, "RETURNING").await["messages"][0];
        assert_eq!(hit["conversation"]["id"], conversations[0].as_str());
        assert_eq!(hit["event"]["seq"], 1);
        let text = hit["event"]["body"]["message"]["text"].as_str().unwrap();
        let marked: Vec<&str> = hit["highlights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &text[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize])
            .collect();
        assert_eq!(marked, ["returned"]);
        let hit = &search(&app, &cookie, "অর্ডার").await["messages"][0];
        let text = hit["event"]["body"]["message"]["text"].as_str().unwrap();
        let r = &hit["highlights"][0];
        assert_eq!(
            &text[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize],
            "অর্ডার"
        );
        // Agents' notes and replies are found too, newest first.
        let live = app
            .store
            .conversation(&conversations[1])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(live.state, protocol::ConversationState::Closed);
        ada.send(json!({"type": "note", "conversation_id": conversations[1], "client_id": "n1", "body": "Refund approved by finance"}))
            .await;
        ada.until("ack", |f| f["client_id"] == "n1").await;
        let refunds = found(&search(&app, &cookie, "refund").await);
        assert_eq!(
            refunds,
            ["Refund approved by finance", "When will my refund arrive?"]
        );

        // Another account never sees this one's words, nor this one theirs.
        let other = app.store.create_account("Other shop").await.unwrap();
        let other_site = app
            .store
            .create_site(&other, "Other", &[common::SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        add_agent(&app.store, &other, "eve@other.test", "Eve").await;
        let eve = app.login("eve@other.test").await;
        assert!(found(&search(&app, &eve, "returned").await).is_empty());
        let mut stranger = app
            .widget_socket_from(&other_site.site_key, common::SHOP_ORIGIN)
            .await
            .unwrap();
        stranger.send(json!({"type": "hello"})).await;
        stranger.expect("welcome").await;
        stranger.say("o1", "I returned it too").await;
        assert_eq!(
            found(&search(&app, &eve, "returned").await),
            ["I returned it too"]
        );
        assert_eq!(
            found(&search(&app, &cookie, "returned").await),
            ["I returned the blue shoes last week"]
        );

        // Bad searches are told why.
        for (q, status) in [("", 400), ("?!", 400), (&"a".repeat(201)[..], 400)] {
            let path = format!("/api/search?q={}", urlencode(q));
            let (got, body) = app.call(Method::GET, &path, &cookie, None).await;
            assert_eq!(got, status, "{q}: {body}");
        }
    }
);

on_both_backends!(
    customers_are_found_and_the_erased_are_forgotten_by_the_index,
    |app: TestApp| async move {
        let cookie = app.owner_cookie().await;
        let insert = format!(
            "INSERT INTO contacts (id, site_id, account_id, external_id, name, email, created_at, updated_at) \
             VALUES ('contact-7', '{}', '{}', 'cust-7', 'Grace Hopper', 'grace@example.com', 0, 0)",
            app.site.id, app.agent.account_id
        );
        app.sql(&insert, &insert).await;
        let (mut shopper, _) = app.new_shopper().await;
        let ack = shopper
            .say("e1", "Please delete everything about my parcel")
            .await;
        let visitor = app
            .store
            .conversation(ack["conversation_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap()
            .visitor_id;
        let tie = format!("UPDATE visitors SET contact_id = 'contact-7' WHERE id = '{visitor}'");
        app.sql(&tie, &tie).await;
        for q in ["hopper", "GRACE@example", "cust-7"] {
            let results = search(&app, &cookie, q).await;
            assert_eq!(
                results["customers"][0]["name"], "Grace Hopper",
                "{q}: {results}"
            );
        }
        assert_eq!(found(&search(&app, &cookie, "parcel").await).len(), 1);
        // The owner erases the contact: their words leave the index too.
        let (status, body) = app
            .call(Method::DELETE, "/api/contacts/contact-7", &cookie, None)
            .await;
        assert!(status == 200 || status == 204, "{status}: {body}");
        assert!(found(&search(&app, &cookie, "parcel").await).is_empty());
        assert!(
            search(&app, &cookie, "hopper").await["customers"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM search_entries").await, 0);

        // An index made after messages were stored is built from the log.
        let (mut shopper, _) = app.new_shopper().await;
        shopper.say("e2", "Where is my umbrella?").await;
        app.sql(
            "DELETE FROM search_entries; DELETE FROM search_index_state",
            "DELETE FROM search_entries; DELETE FROM search_index_state",
        )
        .await;
        assert!(found(&search(&app, &cookie, "umbrella").await).is_empty());
        rapport_server::store::Store::connect(&app.database_url)
            .await
            .unwrap();
        assert_eq!(
            found(&search(&app, &cookie, "umbrellas").await),
            ["Where is my umbrella?"]
        );
    }
);

on_both_backends!(
    a_rare_word_and_a_common_one_both_come_newest_first,
    |app: TestApp| async move {
        let cookie = app.owner_cookie().await;
        let (mut shopper, _) = app.new_shopper().await;
        let ack = shopper.say("s1", "Hello").await;
        let visitor = app
            .store
            .conversation(ack["conversation_id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap()
            .visitor_id;
        // A long history: "parcel" in 2,100 messages (more than PostgreSQL
        // gathers by its word index, so it walks newest first), "zeppelin"
        // in three old ones (gathered, then sorted).
        let history = format!(
            "INSERT INTO conversations (id, site_id, account_id, visitor_id, state, created_at, updated_at, closed_at) \
             VALUES ('bulk', '{site}', '{account}', '{visitor}', 'closed', 1000, 2100000, 2100000); \
             WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2100) \
             INSERT INTO events (conversation_id, seq, kind, author_kind, body, created_at) \
             SELECT 'bulk', n, 'message', 'visitor', \
             CASE WHEN n IN (5, 17, 1999) THEN 'zeppelin parcel ' || n ELSE 'parcel update ' || n END, \
             n * 1000 FROM g; \
             DELETE FROM search_index_state; DELETE FROM search_entries;",
            site = app.site.id,
            account = app.agent.account_id,
        );
        app.sql(&history, &history).await;
        // A server starting on this database builds the index from the log.
        rapport_server::store::Store::connect(&app.database_url)
            .await
            .unwrap();

        let newest: Vec<String> = (2081..=2100)
            .rev()
            .map(|n| format!("parcel update {n}"))
            .collect();
        assert_eq!(found(&search(&app, &cookie, "parcels").await), newest);
        assert_eq!(
            found(&search(&app, &cookie, "zeppelin").await),
            [
                "zeppelin parcel 1999",
                "zeppelin parcel 17",
                "zeppelin parcel 5"
            ]
        );
        assert_eq!(
            found(&search(&app, &cookie, "zeppelin parcel").await).len(),
            3,
            "every word must match"
        );
    }
);
