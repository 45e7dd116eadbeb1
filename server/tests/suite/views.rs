//! The inbox's views over HTTP on both backends: what each view holds and
//! its count as statuses change, filters, keyset pages that neither skip
//! nor repeat, labels on conversations and contacts, and nothing of another
//! account.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws, add_agent, is_assigned};
use reqwest::Method;
use serde_json::{Value, json};

/// A new shopper's first message; their socket and conversation.
async fn shopper_asks(app: &TestApp, client_id: &str, text: &str) -> (Ws, String) {
    let (mut shopper, _) = app.new_shopper().await;
    let id = shopper.say(client_id, text).await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (shopper, id)
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> Value {
    let (status, body) = app.call(Method::GET, path, cookie, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

on_both_backends!(
    every_view_holds_what_its_name_says_and_counts_it,
    |app: TestApp| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(2))
            .await
            .unwrap();
        let cookie = app.login(&app.agent.email).await;
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (mut s1, c1) = shopper_asks(&app, "v1", "one").await;
        s1.until("event", is_assigned).await;
        let (mut s2, c2) = shopper_asks(&app, "v2", "two").await;
        s2.until("event", is_assigned).await;
        let (mut s3, c3) = shopper_asks(&app, "v3", "three").await;
        // Pending frees a seat: the third shopper gets it.
        ada.send(json!({"type": "change_status", "conversation_id": c1, "status": "pending"}))
            .await;
        s3.until("event", is_assigned).await;
        let (mut s4, c4) = shopper_asks(&app, "v4", "four").await;
        // Snoozed until the customer writes: a seat for the fourth.
        ada.send(
            json!({"type": "change_status", "conversation_id": c2, "status": {"snoozed": {}}}),
        )
        .await;
        s4.until("event", is_assigned).await;
        ada.send(json!({"type": "close", "conversation_id": c3}))
            .await;
        s3.until("event", |f| f["event"]["body"] == "closed").await;
        // Ada steps away: the fifth waits in the line.
        ada.send(json!({"type": "set_status", "status": "away"}))
            .await;
        ada.until("status", |f| f["status"] == "away").await;
        let (_s5, c5) = shopper_asks(&app, "v5", "five").await;

        let counts = get(&app, &cookie, "/api/views").await;
        assert_eq!(
            (
                &counts["mine"],
                &counts["unassigned"],
                &counts["all_open"],
                &counts["pending"],
                &counts["snoozed"],
                &counts["closed"]
            ),
            (
                &json!(1),
                &json!(1),
                &json!(2),
                &json!(1),
                &json!(1),
                &json!(1)
            ),
            "{counts}"
        );
        assert_eq!(counts["lines"], json!([{"team": null, "count": 1}]));
        for (view, expected) in [
            ("mine", vec![c4.clone()]),
            ("unassigned", vec![c5.clone()]),
            ("all_open", vec![c4.clone(), c5.clone()]),
            ("pending", vec![c1.clone()]),
            ("snoozed", vec![c2.clone()]),
            ("closed", vec![c3.clone()]),
        ] {
            let page = get(&app, &cookie, &format!("/api/views/{view}")).await;
            assert_eq!(sorted(ids(&page)), sorted(expected), "{view}: {page}");
            assert!(page["next"].is_null(), "{view}: one page");
        }
        let pending = get(&app, &cookie, "/api/views/pending").await;
        assert_eq!(pending["conversations"][0]["status"], "pending");
        // A colleague sees the account's views, and nothing of theirs is Ada's.
        add_agent(&app.store, &app.agent.account_id, "bob@shop.test", "Bob").await;
        let bob = app.login("bob@shop.test").await;
        let theirs = get(&app, &bob, "/api/views").await;
        assert_eq!(
            (&theirs["mine"], &theirs["all_open"]),
            (&json!(0), &json!(2))
        );
        // Filters: by agent, by site, by period.
        let by_ada = get(
            &app,
            &cookie,
            &format!("/api/views/all_open?agent={}", app.agent.id),
        )
        .await;
        assert_eq!(ids(&by_ada), vec![c4.clone()]);
        let nowhere = get(&app, &cookie, "/api/views?site=no-such-site").await;
        assert_eq!(
            (&nowhere["all_open"], &nowhere["closed"]),
            (&json!(0), &json!(0))
        );
        let future = get(
            &app,
            &cookie,
            &format!("/api/views?from_ms={}", common_now() + 60_000),
        )
        .await;
        assert_eq!(future["all_open"], 0);
        let past = get(
            &app,
            &cookie,
            &format!("/api/views?to_ms={}", common_now() + 60_000),
        )
        .await;
        assert_eq!(past["all_open"], 2);
        // Bad asks are told why, and an unknown view does not exist.
        for (path, status) in [
            ("/api/views/everything", 404),
            ("/api/views/closed?after=not-a-cursor", 400),
            ("/api/views/closed?limit=0", 400),
            ("/api/views/closed?limit=51", 400),
            ("/api/views?from_ms=5&to_ms=5", 400),
        ] {
            let (got, body) = app.call(Method::GET, path, &cookie, None).await;
            assert_eq!(got, status, "{path}: {body}");
        }
        // Another account sees none of it.
        let other = app.store.create_account("Other shop").await.unwrap();
        add_agent(&app.store, &other, "eve@other.test", "Eve").await;
        let eve = app.login("eve@other.test").await;
        let none = get(&app, &eve, "/api/views").await;
        assert_eq!(
            (
                &none["unassigned"],
                &none["all_open"],
                &none["pending"],
                &none["closed"]
            ),
            (&json!(0), &json!(0), &json!(0), &json!(0))
        );
        assert!(ids(&get(&app, &eve, "/api/views/closed").await).is_empty());
    }
);

fn common_now() -> i64 {
    rapport_server::store::now_ms()
}

on_both_backends!(
    keyset_pages_neither_skip_nor_repeat_while_conversations_move,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let book = app.store.conversation_book();
        let mut closed = Vec::new();
        for i in 0..7 {
            let (_shopper, id) = shopper_asks(&app, &format!("k{i}"), "hello").await;
            book.close_conversation(&id, &app.agent, true)
                .await
                .unwrap();
            closed.push(id);
        }
        let mut seen = Vec::new();
        let mut path = "/api/views/closed?limit=3".to_owned();
        let mut pages = 0;
        loop {
            let page = get(&app, &cookie, &path).await;
            pages += 1;
            let page_ids = ids(&page);
            assert!(page_ids.len() <= 3);
            seen.extend(page_ids);
            match page["next"].as_str() {
                Some(next) => path = format!("/api/views/closed?limit=3&after={next}"),
                None => break,
            }
            if pages == 1 {
                // A conversation seen on the first page moves to the top
                // meanwhile: the pages after are not shifted by it.
                app.sql(
                    &format!(
                        "UPDATE conversations SET updated_at = updated_at + 100000 WHERE id = '{}'",
                        seen[0]
                    ),
                    &format!(
                        "UPDATE conversations SET updated_at = updated_at + 100000 WHERE id = '{}'",
                        seen[0]
                    ),
                )
                .await;
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(
            sorted(seen.clone()),
            sorted(closed.clone()),
            "each once: {seen:?}"
        );
        // Newest activity first.
        let all = get(&app, &cookie, "/api/views/closed").await;
        let times: Vec<i64> = all["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["updated_at_ms"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    }
);

on_both_backends!(
    labels_tag_conversations_and_contacts_and_filter_the_views,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let mut ada = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, id) = shopper_asks(&app, "l1", "I want my money back").await;
        shopper.until("event", is_assigned).await;
        let (_other, other_id) = shopper_asks(&app, "l2", "Just browsing").await;
        let put = |path: String| {
            let app = &app;
            let cookie = cookie.clone();
            async move { app.call(Method::PUT, &path, &cookie, None).await }
        };
        let (status, summary) = put(format!("/api/conversations/{id}/labels/%20Refund%20")).await;
        assert_eq!(status, 200, "{summary}");
        assert_eq!(summary["labels"], json!(["refund"]));
        let (_, summary) = put(format!("/api/conversations/{id}/labels/vip")).await;
        assert_eq!(summary["labels"], json!(["refund", "vip"]));
        // Twice is once.
        let (_, summary) = put(format!("/api/conversations/{id}/labels/vip")).await;
        assert_eq!(summary["labels"], json!(["refund", "vip"]));
        // The holder's inbox hears of it.
        ada.until("conversation", |f| {
            f["conversation"]["id"] == id.as_str()
                && f["conversation"]["labels"] == json!(["refund", "vip"])
        })
        .await;
        // Views filter by label.
        let refunds = get(&app, &cookie, "/api/views/all_open?label=REFUND").await;
        assert_eq!(ids(&refunds), vec![id.clone()]);
        let counts = get(&app, &cookie, "/api/views?label=refund").await;
        assert_eq!(counts["all_open"], 1);
        assert!(
            ids(&get(&app, &cookie, "/api/views/all_open").await).contains(&other_id),
            "unfiltered, both"
        );
        // Off again.
        let (status, summary) = app
            .call(
                Method::DELETE,
                &format!("/api/conversations/{id}/labels/vip"),
                &cookie,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(summary["labels"], json!(["refund"]));
        // Contacts carry labels too.
        let insert = format!(
            "INSERT INTO contacts (id, site_id, account_id, external_id, name, created_at, updated_at) \
             VALUES ('contact-9', '{}', '{}', 'cust-9', 'Grace', 0, 0)",
            app.site.id, app.agent.account_id
        );
        app.sql(&insert, &insert).await;
        let contact = "contact-9";
        let (status, labels) = put(format!("/api/contacts/{contact}/labels/vip")).await;
        assert_eq!(status, 200, "{labels}");
        assert_eq!(labels, json!(["vip"]));
        let listed = get(&app, &cookie, "/api/labels").await;
        assert_eq!(
            listed,
            json!([
                {"name": "refund", "conversations": 1, "contacts": 0},
                {"name": "vip", "conversations": 0, "contacts": 1}
            ])
        );
        // Bad names are told why; other accounts' things do not exist.
        let long = "x".repeat(41);
        for (path, status) in [
            (format!("/api/conversations/{id}/labels/{long}"), 400),
            (format!("/api/conversations/{id}/labels/a%0Ab"), 400),
            (
                "/api/conversations/00000000-0000-4000-8000-000000000000/labels/vip".to_owned(),
                404,
            ),
            ("/api/contacts/no-such-contact/labels/vip".to_owned(), 404),
        ] {
            let (got, body) = put(path.clone()).await;
            assert_eq!(got, status, "{path}: {body}");
        }
        let other = app.store.create_account("Other shop").await.unwrap();
        add_agent(&app.store, &other, "eve@other.test", "Eve").await;
        let eve = app.login("eve@other.test").await;
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/conversations/{id}/labels/mine"),
                &eve,
                None,
            )
            .await;
        assert_eq!(status, 404);
        assert_eq!(get(&app, &eve, "/api/labels").await, json!([]));
    }
);

on_both_backends!(
    the_closed_pile_is_counted_up_to_its_cap,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let pile = |n: i64, prefix: &str| {
            format!(
                "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at) \
                 VALUES ('{prefix}-v', '{site}', '{prefix}-h', 1, 1); \
                 WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
                 INSERT INTO conversations (id, site_id, account_id, visitor_id, state, created_at, updated_at, closed_at) \
                 SELECT '{prefix}-' || n, '{site}', '{account}', '{prefix}-v', 'closed', n, n, n FROM g;",
                site = app.site.id,
                account = app.agent.account_id,
            )
        };
        let first = pile(protocol::CLOSED_COUNT_CAP, "a");
        app.sql(&first, &first).await;
        let counts = get(&app, &cookie, "/api/views").await;
        assert_eq!(
            counts["closed"],
            protocol::CLOSED_COUNT_CAP,
            "exact up to the cap"
        );
        let more = pile(50, "b");
        app.sql(&more, &more).await;
        let counts = get(&app, &cookie, "/api/views").await;
        assert_eq!(
            counts["closed"],
            protocol::CLOSED_COUNT_CAP + 1,
            "past it: more than the cap"
        );
        let counts: protocol::ViewCounts = serde_json::from_value(counts).unwrap();
        assert_eq!(counts.shown(protocol::View::Closed), "10000+");
        assert_eq!(counts.shown(protocol::View::Mine), "0");
    }
);
