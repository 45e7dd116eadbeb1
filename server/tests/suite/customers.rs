//! Customers belong to the account, on both backends: one shop id on two of
//! its sites is one person with one history; contacts that shared a shop id
//! before are merged at start, with an audit entry; an owner merges two by
//! hand; the customer list searches and pages; a contact's page opens
//! without a conversation; erasing a contact or an anonymous visitor who
//! left an email erases their conversations, files and mail addresses.
#![allow(clippy::unwrap_used)]

use crate::common;
use crate::files::{files_of, shopper_upload, stored_blobs};

use common::{SHOP_ORIGIN, TestApp, Ws};
use jsonwebtoken::{EncodingKey, Header, encode};
use rapport_server::store::{Site, now_ms};
use reqwest::Method;
use serde_json::{Value, json};

/// A token the shop's backend signs for customer `sub` of `site`.
fn token_for(site: &Site, secret: &str, sub: &str, name: &str) -> String {
    encode(
        &Header::default(),
        &json!({
            "sub": sub,
            "aud": site.site_key,
            "exp": now_ms() / 1000 + 600,
            "name": name,
            "email": format!("{sub}@customers.test"),
        }),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A shopper on `site` who identifies with `token` and writes `text`;
/// returns their socket, visitor token and conversation id.
async fn signed_in_shopper(
    app: &TestApp,
    site: &Site,
    token: &str,
    text: &str,
) -> (Ws, String, String) {
    let mut ws = app
        .widget_socket_from(&site.site_key, SHOP_ORIGIN)
        .await
        .unwrap();
    ws.send(json!({"type": "hello"})).await;
    ws.expect("welcome").await;
    ws.send(json!({"type": "identify", "token": token})).await;
    let welcome = ws.until("welcome", |_| true).await;
    let visitor_token = welcome["visitor_token"].as_str().unwrap().to_owned();
    let ack = ws.say(&format!("c-{}", now_ms()), text).await;
    let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
    (ws, visitor_token, conversation)
}

async fn owner(app: &TestApp, email: &str, account: &str) -> String {
    let hash = common::test_password_hash().to_owned();
    app.store
        .create_agent(account, email, "Olga", protocol::Role::Owner, &hash)
        .await
        .unwrap();
    app.login(email).await
}

async fn contact_id(app: &TestApp, cookie: &str, external_id: &str) -> String {
    let (status, found) = app
        .call(
            Method::GET,
            &format!("/api/contacts?external_id={external_id}"),
            cookie,
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    found[0]["id"].as_str().unwrap().to_owned()
}

fn conversation_ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

on_both_backends!(
    one_shop_id_on_two_sites_is_one_person_with_one_history,
    |app: TestApp| async move {
        let account = app.agent.account_id.clone();
        let outlet = app
            .store
            .create_site(&account, "Outlet", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let main_secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let outlet_secret = app.store.rotate_site_secret(&outlet.id, 0).await.unwrap();
        let (_main, _, on_main) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &main_secret, "cust-1", "Grace"),
            "Bought boots in the shop",
        )
        .await;
        let (_outlet, _, on_outlet) = signed_in_shopper(
            &app,
            &outlet,
            &token_for(&outlet, &outlet_secret, "cust-1", "Grace H."),
            "And a coat in the outlet",
        )
        .await;
        assert_ne!(on_main, on_outlet, "each site keeps its own chat");
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);

        // Another account's customer with the same shop id is someone else.
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let far = app
            .store
            .create_site(&elsewhere, "Far", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let far_secret = app.store.rotate_site_secret(&far.id, 0).await.unwrap();
        let (_far, _, on_far) = signed_in_shopper(
            &app,
            &far,
            &token_for(&far, &far_secret, "cust-1", "Someone Else"),
            "Hello from elsewhere",
        )
        .await;
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 2);

        let ada = app.login(&app.agent.email).await;
        let (status, profile) = app
            .call(
                Method::GET,
                &format!("/api/conversations/{on_outlet}/profile"),
                &ada,
                None,
            )
            .await;
        assert_eq!(status, 200, "{profile}");
        let mut both = vec![on_main.clone(), on_outlet.clone()];
        both.sort();
        assert_eq!(conversation_ids(&profile), both, "one history: {profile}");
        assert_eq!(profile["contact"]["name"], "Grace H.", "the latest word");

        // The contact's page, without a conversation open.
        let id = profile["contact"]["id"].as_str().unwrap().to_owned();
        let (status, page) = app
            .call(Method::GET, &format!("/api/contacts/{id}"), &ada, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(conversation_ids(&page), both);
        assert!(!page.to_string().contains(&on_far));
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/contacts/{id}/labels/vip"),
                &ada,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let (status, list) = app
            .call(Method::GET, "/api/customers?q=grace", &ada, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(list["customers"].as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list["customers"][0]["contact_id"], id.as_str());
        assert_eq!(list["customers"][0]["conversations"], 2);
        assert_eq!(list["customers"][0]["labels"], json!(["vip"]));
        assert!(list["customers"][0]["last_active_ms"].as_i64().unwrap() > 0);

        // Nobody of another account reaches it.
        let stranger = owner(&app, "owner@else.test", &elsewhere).await;
        let (status, _) = app
            .call(Method::GET, &format!("/api/contacts/{id}"), &stranger, None)
            .await;
        assert_eq!(status, 404);
        let (_, theirs) = app
            .call(Method::GET, "/api/customers?q=grace", &stranger, None)
            .await;
        assert_eq!(theirs["customers"], json!([]));

        // A block of the person holds on both sites.
        let olga = owner(&app, "olga@shop.test", &account).await;
        let (status, body) = app
            .call(
                Method::POST,
                &format!("/api/conversations/{on_main}/block"),
                &olga,
                Some(&json!({"reason": "abuse"}).to_string()),
            )
            .await;
        assert_eq!(status, 204, "{body}");
        let mut again = app
            .widget_socket_from(&outlet.site_key, SHOP_ORIGIN)
            .await
            .unwrap();
        again.send(json!({"type": "hello"})).await;
        again.expect("welcome").await;
        again
            .send(json!({"type": "identify", "token": token_for(&outlet, &outlet_secret, "cust-1", "Grace")}))
            .await;
        let answer = again.until("error", |_| true).await;
        assert_eq!(answer["code"], "blocked", "{answer}");

        // The site the contact was first seen on goes; they stay, with
        // the other site's history.
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/admin/sites/{}", app.site.id),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (status, page) = app
            .call(Method::GET, &format!("/api/contacts/{id}"), &ada, None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(conversation_ids(&page), vec![on_outlet.clone()]);
    }
);

on_both_backends!(
    contacts_that_shared_a_shop_id_are_merged_at_start_with_an_audit_entry,
    |app: TestApp| async move {
        let account = app.agent.account_id.clone();
        let outlet = app
            .store
            .create_site(&account, "Outlet", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let (_grace, _, on_main) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &secret, "cust-2", "Grace"),
            "From before the change",
        )
        .await;
        // As contacts were per site: a second Grace on the outlet, with a
        // browser, a conversation and a note; and an anonymous visitor of
        // the outlet who gave an address (never merged).
        let old = now_ms() - 86_400_000;
        let statements = format!(
            "DROP INDEX contacts_account_external; \
             INSERT INTO contacts (id, site_id, account_id, external_id, name, phone, attributes, created_at, updated_at) \
             VALUES ('dup', '{outlet}', '{account}', 'cust-2', 'Grace (outlet)', '+31 6 1234', '{{\"tier\":\"gold\"}}', {later}, {later}); \
             INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at, contact_id) \
             VALUES ('dup-browser', '{outlet}', 'h1', {old}, {old}, 'dup'); \
             INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at, stated_email) \
             VALUES ('anon', '{outlet}', 'h2', {old}, {old}, 'cust-2@customers.test'); \
             INSERT INTO conversations (id, site_id, account_id, visitor_id, state, created_at, updated_at, closed_at) \
             VALUES ('dup-chat', '{outlet}', '{account}', 'dup-browser', 'closed', {old}, {old}, {old}); \
             INSERT INTO contact_notes (id, contact_id, body, created_at) VALUES ('n1', 'dup', 'Prefers the outlet', {old});",
            outlet = outlet.id,
            later = now_ms() + 1,
        );
        app.sql(&statements, &statements).await;
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 2);

        assert_eq!(
            app.store.merge_contacts_sharing_a_shop_id().await.unwrap(),
            1
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM visitors WHERE contact_id IS NULL")
                .await,
            1,
            "the anonymous visitor is nobody's"
        );
        let olga = owner(&app, "olga@shop.test", &account).await;
        let id = contact_id(&app, &olga, "cust-2").await;
        assert_ne!(id, "dup", "the older one is kept");
        let (_, page) = app
            .call(Method::GET, &format!("/api/contacts/{id}"), &olga, None)
            .await;
        let mut both = vec![on_main.clone(), "dup-chat".to_owned()];
        both.sort();
        assert_eq!(conversation_ids(&page), both);
        assert_eq!(
            page["contact"]["name"], "Grace",
            "the kept one's own details win"
        );
        assert_eq!(
            page["contact"]["phone"], "+31 6 1234",
            "the other's fill the gaps"
        );
        assert_eq!(page["contact"]["attributes"]["tier"], "gold");
        assert_eq!(page["notes"][0]["body"], "Prefers the outlet");
        assert_eq!(page["merges"][0]["reason"], "same_shop_id");
        assert_eq!(page["merges"][0]["merged_name"], "Grace (outlet)");

        // Once merged, no two can share a shop id again.
        let again = format!(
            "INSERT INTO contacts (id, site_id, account_id, external_id, attributes, created_at, updated_at) \
             VALUES ('dup2', '{}', '{account}', 'cust-2', '{{}}', 1, 1)",
            outlet.id
        );
        let refused = if app.database_url.starts_with("sqlite") {
            use sqlx::Connection;
            let mut db = sqlx::SqliteConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query(&again).execute(&mut db).await.is_err()
        } else {
            use sqlx::Connection;
            let mut db = sqlx::PgConnection::connect(&app.database_url)
                .await
                .unwrap();
            sqlx::query(&again).execute(&mut db).await.is_err()
        };
        assert!(refused, "(account, shop id) is unique");
    }
);

on_both_backends!(
    an_owner_merges_two_contacts_by_hand_and_the_audit_says_who,
    |app: TestApp| async move {
        let account = app.agent.account_id.clone();
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let mut inbox = app.online_inbox_of(&app.agent.email).await;
        let (_guest, _, guest_chat) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &secret, "guest-77", "G. Hopper"),
            "I ordered as a guest",
        )
        .await;
        let (_member, _, member_chat) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &secret, "member-5", "Grace Hopper"),
            "And now with my account",
        )
        .await;
        inbox.drain().await;
        let olga = owner(&app, "olga@shop.test", &account).await;
        let kept = contact_id(&app, &olga, "member-5").await;
        let merged = contact_id(&app, &olga, "guest-77").await;

        // Only an owner of the account, and never one into itself.
        let ada = app.login(&app.agent.email).await;
        let path = format!("/api/contacts/{kept}/merge");
        let body = json!({"merged_contact_id": merged});
        let (status, _) = app
            .call(Method::POST, &path, &ada, Some(&body.to_string()))
            .await;
        assert_eq!(status, 403);
        let elsewhere = app.store.create_account("Elsewhere").await.unwrap();
        let stranger = owner(&app, "owner@else.test", &elsewhere).await;
        let (status, _) = app
            .call(Method::POST, &path, &stranger, Some(&body.to_string()))
            .await;
        assert_eq!(status, 404);
        let (status, refusal) = app
            .call(
                Method::POST,
                &path,
                &olga,
                Some(&json!({"merged_contact_id": kept}).to_string()),
            )
            .await;
        assert_eq!(
            (status, refusal["error"]["code"].as_str()),
            (400, Some("bad_request"))
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 2);

        let (status, page) = app
            .call(Method::POST, &path, &olga, Some(&body.to_string()))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
        let mut both = vec![guest_chat.clone(), member_chat.clone()];
        both.sort();
        assert_eq!(conversation_ids(&page), both);
        assert_eq!(page["merges"][0]["reason"], "by_hand");
        assert_eq!(page["merges"][0]["agent_name"], "Olga");
        assert_eq!(page["merges"][0]["merged_external_id"], "guest-77");
        // Both were chatting on the same site: the guest's chat folded into
        // the member's, and the agents saw it end.
        let ended = inbox
            .until("conversation", |f| {
                f["conversation"]["id"] == guest_chat.as_str()
                    && f["conversation"]["state"] == "closed"
            })
            .await;
        assert_eq!(
            ended["conversation"]["last_message"],
            "I ordered as a guest"
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM conversations WHERE state <> 'closed' AND id = '{member_chat}'"
            ))
            .await,
            1
        );

        // The guest id now names the kept contact: signing in with it
        // makes nobody new.
        let (_again, _, chat) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &secret, "guest-77", "G. Hopper"),
            "Me again",
        )
        .await;
        assert_eq!(app.count("SELECT COUNT(*) FROM contacts").await, 1);
        assert_eq!(chat, member_chat, "the same person's open chat goes on");
    }
);

on_both_backends!(
    erasing_an_anonymous_visitor_or_a_contact_leaves_nothing_of_theirs,
    |app: TestApp| async move {
        let account = app.agent.account_id.clone();
        let olga = owner(&app, "olga@shop.test", &account).await;
        // An anonymous shopper who left an address, wrote, sent a file.
        let (mut anon, anon_token) = app.new_shopper().await;
        anon.send(json!({"type": "email", "address": "Lin@Example.test"}))
            .await;
        let (status, file) = shopper_upload(&app, &anon_token, "receipt.txt", b"Order 7").await;
        assert_eq!(status, 200, "{file}");
        anon.send(json!({"type": "send", "client_id": "a1", "body": "Where is my parcel zeppelin", "files": [file["id"]]}))
            .await;
        let ack = anon.until("ack", |_| true).await;
        let anon_chat = ack["conversation_id"].as_str().unwrap().to_owned();
        // A verified customer with an address, and a bystander.
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let (_grace, _, grace_chat) = signed_in_shopper(
            &app,
            &app.site,
            &token_for(&app.site, &secret, "cust-3", "Grace"),
            "Grace's zeppelin question",
        )
        .await;
        let (mut other, _) = app.new_shopper().await;
        other.say("o1", "A bystander's zeppelin").await;
        // Mail records that hold their addresses (an opt-out, a refusal,
        // a queued mail), and one of someone else's.
        let site = app.site.id.clone();
        let now = now_ms();
        let records = format!(
            "INSERT INTO mail_optouts (site_id, email, created_at) VALUES ('{site}', 'lin@example.test', {now}); \
             INSERT INTO mail_refusals (id, site_id, kind, recipient, reason, created_at) \
             VALUES ('r1', '{site}', 'transcript', 'cust-3@customers.test', 'opted_out', {now}); \
             INSERT INTO mail_refusals (id, site_id, kind, recipient, reason, created_at) \
             VALUES ('r2', '{site}', 'transcript', 'someone@else.test', 'opted_out', {now}); \
             INSERT INTO mail_outbox (id, site_id, kind, cause, envelope_from, recipient, message_id, message, status, next_attempt_at, created_at) \
             VALUES ('m1', '{site}', 'transcript', 'shopper', 'shop@x.test', 'lin@example.test', '<m1@x>', 'Dear Lin', 'failed', {now}, {now});"
        );
        app.sql(&records, &records).await;
        let addresses = "SELECT COUNT(*) FROM ( \
             SELECT recipient AS a FROM mail_outbox UNION ALL SELECT recipient FROM mail_refusals \
             UNION ALL SELECT email FROM mail_optouts) x \
             WHERE LOWER(a) IN ('lin@example.test', 'cust-3@customers.test')";
        assert_eq!(app.count(addresses).await, 3);

        // The list finds her by the address she gave.
        let (_, list) = app
            .call(Method::GET, "/api/customers?q=lin@", &olga, None)
            .await;
        assert_eq!(list["customers"].as_array().unwrap().len(), 1, "{list}");
        let visitor = list["customers"][0]["visitor_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, page) = app
            .call(
                Method::GET,
                &format!("/api/visitors/{visitor}"),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(conversation_ids(&page), vec![anon_chat.clone()]);

        // Only an owner erases, only their own account's.
        let ada = app.login(&app.agent.email).await;
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/visitors/{visitor}"),
                &ada,
                None,
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/visitors/{visitor}"),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (status, _) = app
            .call(
                Method::GET,
                &format!("/api/visitors/{visitor}"),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 404);
        let grace = contact_id(&app, &olga, "cust-3").await;
        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/contacts/{grace}"),
                &olga,
                None,
            )
            .await;
        assert_eq!(status, 204);

        files_of(&app).sweep().await.unwrap();
        assert_eq!(stored_blobs(&app).await, 0);
        assert_eq!(app.count("SELECT COUNT(*) FROM files").await, 0);
        assert_eq!(app.count(addresses).await, 0, "their addresses are gone");
        assert_eq!(
            app.count("SELECT COUNT(*) FROM mail_refusals").await,
            1,
            "someone else's stays"
        );
        for chat in [&anon_chat, &grace_chat] {
            assert_eq!(
                app.count(&format!(
                    "SELECT COUNT(*) FROM events WHERE conversation_id = '{chat}'"
                ))
                .await,
                0
            );
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM visitors WHERE stated_email IS NOT NULL")
                .await,
            0
        );
        let (_, found) = app
            .call(Method::GET, "/api/search?q=zeppelin", &olga, None)
            .await;
        assert_eq!(
            found["messages"].as_array().unwrap().len(),
            1,
            "only the bystander: {found}"
        );
    }
);

on_both_backends!(
    the_customer_list_searches_and_pages_without_gaps,
    |app: TestApp| async move {
        let account = app.agent.account_id.clone();
        let site = app.site.id.clone();
        // 120 contacts, some seen at the same moment (ties break by id),
        // and 30 anonymous visitors who left an address, seen at the same
        // moments as some contacts (and 10 who left none: not customers).
        let mut statements = String::new();
        for n in 0..120 {
            statements.push_str(&format!(
                "INSERT INTO contacts (id, site_id, account_id, external_id, name, email, attributes, created_at, updated_at) \
                 VALUES ('k{n:03}', '{site}', '{account}', 'shop-{n}', 'Customer {n}', 'c{n}@mail.test', '{{}}', 1, {});",
                1000 + n / 3
            ));
        }
        for n in 0..40 {
            let email = if n < 30 {
                format!("'w{n}@mail.test'")
            } else {
                "NULL".to_owned()
            };
            statements.push_str(&format!(
                "INSERT INTO visitors (id, site_id, token_hash, created_at, last_seen_at, stated_email) \
                 VALUES ('w{n:03}', '{site}', 'wh{n}', 1, {}, {email});",
                1000 + n
            ));
        }
        app.sql(&statements, &statements).await;
        let ada = app.login(&app.agent.email).await;
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &after {
                Some(cursor) => format!("/api/customers?after={cursor}"),
                None => "/api/customers".to_owned(),
            };
            let (status, page) = app.call(Method::GET, &path, &ada, None).await;
            assert_eq!(status, 200, "{page}");
            pages += 1;
            for line in page["customers"].as_array().unwrap() {
                let id = line["contact_id"].as_str().or(line["visitor_id"].as_str());
                seen.push(id.unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 150, "every customer once, nobody else");
        assert_eq!(seen[0], "k117", "most recently seen first");
        // Seen at 1029: contacts k087..k089 (1000 + n/3) and visitor w029,
        // in key order, however the pages fell.
        let at_1029: Vec<&str> = seen
            .iter()
            .map(String::as_str)
            .skip_while(|id| *id != "k087")
            .take(4)
            .collect();
        assert_eq!(at_1029, ["k087", "k088", "k089", "w029"]);

        for (query, expected) in [
            (
                "customer 11",
                vec![
                    "k119", "k118", "k117", "k116", "k115", "k114", "k113", "k112", "k111", "k110",
                    "k011",
                ],
            ),
            ("c42@mail", vec!["k042"]),
            ("shop-7", vec!["k007"]),
            ("100%", vec![]),
        ] {
            let (_, found) = app
                .call(
                    Method::GET,
                    &format!(
                        "/api/customers?q={}",
                        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
                    ),
                    &ada,
                    None,
                )
                .await;
            let ids: Vec<&str> = found["customers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|line| line["contact_id"].as_str().unwrap())
                .collect();
            let mut ids = ids;
            let mut expected = expected;
            ids.sort_unstable();
            expected.sort_unstable();
            assert_eq!(ids, expected, "{query}");
        }
        for cursor in ["nonsense", "12:x:1", "abc:c:1"] {
            let (status, refusal) = app
                .call(
                    Method::GET,
                    &format!("/api/customers?after={cursor}"),
                    &ada,
                    None,
                )
                .await;
            assert_eq!(
                (status, refusal["error"]["code"].as_str()),
                (400, Some("bad_request")),
                "{cursor}"
            );
        }
        let (status, refusal) = app
            .call(
                Method::GET,
                &format!("/api/customers?q={}", "x".repeat(201)),
                &ada,
                None,
            )
            .await;
        assert_eq!(
            (status, refusal["error"]["code"].as_str()),
            (400, Some("bad_request"))
        );
    }
);
