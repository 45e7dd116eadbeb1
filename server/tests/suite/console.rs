//! The owner console over real HTTP, on both backends: sites (snippet,
//! installed indicator, origins, look and words, hours), the identity
//! secret, people (invitations by real SMTP, changes, deactivation) and
//! canned replies; and that agents and other accounts reach none of it.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::smtp::SmtpListener;
use common::{Backend, PASSWORD, SHOP_ORIGIN, TestApp, add_agent};
use protocol::Role;
use reqwest::Method;
use serde_json::{Value, json};

/// An owner's change to the test app's own site: the status and the answer.
async fn change_site(app: &TestApp, owner: &str, change: &Value) -> (u16, Value) {
    let path = format!("/api/admin/sites/{}", app.site.id);
    app.call(Method::PATCH, &path, owner, Some(&change.to_string()))
        .await
}

/// The widget's config as a page on `origin` fetches it.
async fn widget_config(app: &TestApp, site_key: &str, origin: &str, query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(app.url(&format!("/api/widget/config?site={site_key}{query}")))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

on_both_backends!(
    an_owner_creates_configures_and_deletes_a_site,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let (status, site) = app
            .call(
                Method::POST,
                "/api/admin/sites",
                &owner,
                Some(r#"{"name":"  Tea shop ","allowed_origins":["https://Tea.Example/"]}"#),
            )
            .await;
        assert_eq!(status, 201, "{site}");
        assert_eq!(site["name"], "Tea shop");
        assert_eq!(site["allowed_origins"], json!(["https://tea.example"]));
        let key = site["site_key"].as_str().unwrap();
        let snippet = site["snippet"].as_str().unwrap();
        assert_eq!(
            snippet,
            format!(
                r#"<script async src="http://{}/widget.js" data-site="{key}"></script>"#,
                app.addr
            )
        );
        assert!(site["seen"].is_null(), "not installed anywhere yet");
        let id = site["id"].as_str().unwrap().to_owned();

        // The widget loads on a page of the allowed origin: the console sees where.
        let (status, config) = widget_config(
            &app,
            key,
            "https://tea.example",
            "&page=https://tea.example/cart",
        )
        .await;
        assert_eq!(status, 200, "{config}");
        assert_eq!(config["language"], "en");
        let (_, site) = app
            .call(Method::GET, &format!("/api/admin/sites/{id}"), &owner, None)
            .await;
        assert_eq!(site["seen"]["origin"], "https://tea.example");
        assert_eq!(site["seen"]["page"], "https://tea.example/cart");

        // Rename, recolour, reword, fix the language: the next load shows it.
        let change = json!({
            "name": "Tea & more",
            "settings": {
                "accent": "#aa3300", "position": "left", "launcher_label": "Vragen?",
                "greeting": "Welkom bij de theewinkel!", "greeting_known": "Dag {first_name}!",
                "language": "nl", "launcher_offset": 72, "file_kinds": ["images", "pdf"]
            }
        });
        let (status, site) = app
            .call(
                Method::PATCH,
                &format!("/api/admin/sites/{id}"),
                &owner,
                Some(&change.to_string()),
            )
            .await;
        assert_eq!(status, 200, "{site}");
        assert_eq!(site["name"], "Tea & more");
        let (_, config) = widget_config(&app, key, "https://tea.example", "&lang=ru-RU").await;
        assert_eq!(config["site_name"], "Tea & more");
        assert_eq!(
            config["language"], "nl",
            "a fixed language beats the browser's"
        );
        assert_eq!(config["greeting"], "Welkom bij de theewinkel!");
        assert_eq!(config["greeting_known"], "Dag {first_name}!");
        assert_eq!(
            config["launcher"],
            json!({"accent": "#aa3300", "position": "left", "label": "Vragen?", "offset": 72})
        );
        assert_eq!(config["files"], true, "pictures and PDFs are taken");
        assert_eq!(config["texts"][11], "Versturen");

        // Following the browser: Russian and Bengali shoppers get their own words.
        let back = json!({"settings": {"accent": "#aa3300"}});
        app.call(
            Method::PATCH,
            &format!("/api/admin/sites/{id}"),
            &owner,
            Some(&back.to_string()),
        )
        .await;
        let (_, config) = widget_config(&app, key, "https://tea.example", "&lang=ru-RU").await;
        assert_eq!(config["language"], "ru");
        assert_eq!(config["texts"][11], "Отправить");
        let (_, config) = widget_config(&app, key, "https://tea.example", "&lang=bn").await;
        assert_eq!(config["language"], "bn");

        let (status, _) = app
            .call(
                Method::DELETE,
                &format!("/api/admin/sites/{id}"),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (status, _) = app
            .call(Method::GET, &format!("/api/admin/sites/{id}"), &owner, None)
            .await;
        assert_eq!(status, 404);
        let (status, _) = widget_config(&app, key, "https://tea.example", "").await;
        assert_eq!(status, 404, "a deleted site's snippet does nothing");
        assert!(app.store.site_by_id(&id).await.unwrap().is_none());
    }
);

on_both_backends!(
    bad_site_input_is_refused_and_changes_nothing,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let path = format!("/api/admin/sites/{}", app.site.id);
        let before = app.store.site_by_id(&app.site.id).await.unwrap().unwrap();
        for (body, says) in [
            (json!({"name": "  "}), "name"),
            (
                json!({"allowed_origins": ["https://shop.example/path"]}),
                "not an origin",
            ),
            (
                json!({"allowed_origins": ["shop.example"]}),
                "not an origin",
            ),
            (json!({"settings": {"accent": "red"}}), "accent"),
            (json!({"settings": {"language": "de"}}), "\"de\""),
            (
                json!({"settings": {"launcher_label": "x".repeat(81)}}),
                "launcher label",
            ),
            (
                json!({"settings": {"hours": {"time_zone": "Mars/Base", "weekly": []}}}),
                "time zone",
            ),
            (
                json!({"settings": {"hours": {"time_zone": "UTC", "weekly": [{"day": 0, "opens": "17:00", "closes": "09:00"}]}}}),
                "close after",
            ),
            (json!({"name": "ok", "settings": {"position": "top"}}), ""),
        ] {
            let (status, answer) = app
                .call(Method::PATCH, &path, &owner, Some(&body.to_string()))
                .await;
            assert_eq!(status, 400, "{body} → {answer}");
            assert_eq!(answer["error"]["code"], "bad_request");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message} should mention {says}");
        }
        let (status, _) = app
            .call(
                Method::POST,
                "/api/admin/sites",
                &owner,
                Some(r#"{"name":""}"#),
            )
            .await;
        assert_eq!(status, 400);
        let (status, _) = app
            .call(Method::POST, "/api/admin/sites", &owner, Some("not json"))
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            app.store.site_by_id(&app.site.id).await.unwrap().unwrap(),
            before
        );
        assert_eq!(
            app.store
                .sites_of_account(&app.agent.account_id)
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

/// Every console route, as (method, path, body).
fn console_routes(
    site_id: &str,
    person_id: &str,
    reply_id: &str,
) -> Vec<(Method, String, Option<String>)> {
    vec![
        (Method::GET, "/api/admin/sites".into(), None),
        (
            Method::POST,
            "/api/admin/sites".into(),
            Some(r#"{"name":"Mine now"}"#.into()),
        ),
        (Method::GET, format!("/api/admin/sites/{site_id}"), None),
        (
            Method::PATCH,
            format!("/api/admin/sites/{site_id}"),
            Some(r#"{"name":"Taken"}"#.into()),
        ),
        (Method::DELETE, format!("/api/admin/sites/{site_id}"), None),
        (
            Method::GET,
            format!("/api/admin/sites/{site_id}/identity"),
            None,
        ),
        (
            Method::POST,
            format!("/api/admin/sites/{site_id}/identity/rotate"),
            Some(r#"{"grace_minutes":0}"#.into()),
        ),
        (
            Method::PUT,
            format!("/api/admin/sites/{site_id}/identity/enforce"),
            Some(r#"{"enforce":true}"#.into()),
        ),
        (Method::GET, "/api/admin/people".into(), None),
        (
            Method::PATCH,
            format!("/api/admin/people/{person_id}"),
            Some(r#"{"active":false}"#.into()),
        ),
        (
            Method::POST,
            "/api/admin/invites".into(),
            Some(r#"{"email":"mole@evil.test","role":"owner"}"#.into()),
        ),
        (
            Method::PUT,
            format!("/api/replies/{reply_id}"),
            Some(r#"{"shortcut":"x","body":"y"}"#.into()),
        ),
        (Method::DELETE, format!("/api/replies/{reply_id}"), None),
    ]
}

on_both_backends!(
    agents_and_other_accounts_reach_none_of_it,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let colleague = app.colleague("bob@shop.test", "Bob").await;
        let (_, reply) = app
            .call(
                Method::POST,
                "/api/replies",
                &owner,
                Some(r#"{"shortcut":"refund","body":"Refunded!","shared":true}"#),
            )
            .await;
        let reply_id = reply["id"].as_str().unwrap().to_owned();
        let (mut shopper, _) = app.new_shopper().await;
        let ack = shopper.say("m1", "Private question").await;
        let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
        let routes = console_routes(&app.site.id, &colleague.id, &reply_id);
        let before = app.counts().await;
        let site_before = app.store.site_by_id(&app.site.id).await.unwrap().unwrap();

        // An agent of the same account: forbidden (the shared reply too).
        let agent = app.login("bob@shop.test").await;
        for (method, path, body) in &routes {
            let (status, answer) = app
                .call(method.clone(), path, &agent, body.as_deref())
                .await;
            assert_eq!(status, 403, "{method} {path} as an agent: {answer}");
            assert_eq!(answer["error"]["code"], "forbidden");
        }

        // The owner of another account: nothing of this account exists.
        let other_account = app.store.create_account("Rival").await.unwrap();
        let rival = add_agent(&app.store, &other_account, "eve@rival.test", "Eve").await;
        app.store
            .set_agent_role(&rival.id, Role::Owner)
            .await
            .unwrap();
        let rival_cookie = app.login("eve@rival.test").await;
        for (method, path, body) in &routes {
            let (status, answer) = app
                .call(method.clone(), path, &rival_cookie, body.as_deref())
                .await;
            match (method.as_str(), path.as_str()) {
                // Their own lists and creations are theirs, and show none of ours.
                ("GET", "/api/admin/sites") => assert_eq!(answer, json!([])),
                ("GET", "/api/admin/people") => {
                    let emails: Vec<&str> = answer["people"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["email"].as_str().unwrap())
                        .collect();
                    assert_eq!(emails, ["eve@rival.test"]);
                }
                ("POST", "/api/admin/sites" | "/api/admin/invites") => assert_eq!(status, 201),
                _ => assert_eq!(
                    status, 404,
                    "{method} {path} from another account: {answer}"
                ),
            }
        }
        // Nor its conversations.
        for path in [
            format!("/api/conversations/{conversation}/events"),
            format!("/api/conversations/{conversation}/profile"),
        ] {
            let (status, _) = app.call(Method::GET, &path, &rival_cookie, None).await;
            assert_eq!(status, 404, "{path}");
        }
        let (_, replies) = app
            .call(Method::GET, "/api/replies", &rival_cookie, None)
            .await;
        assert_eq!(replies, json!([]));
        assert_eq!(app.counts().await, before);
        assert_eq!(
            app.store.site_by_id(&app.site.id).await.unwrap().unwrap(),
            site_before
        );
        assert!(
            app.store
                .agent_by_id(&colleague.id)
                .await
                .unwrap()
                .is_some(),
            "still active"
        );
        assert_eq!(
            app.store
                .sites_of_account(&app.agent.account_id)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(app.store.reply(&reply_id).await.unwrap().is_some());

        // Not signed in at all.
        let (status, _) = app.call(Method::GET, "/api/admin/sites", "", None).await;
        assert_eq!(status, 401);
    }
);

on_both_backends!(
    only_allowed_origins_may_use_a_site_checked_on_every_connection,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let key = app.site.site_key.clone();
        let stranger = "http://stranger.test:4000";
        assert_eq!(widget_config(&app, &key, SHOP_ORIGIN, "").await.0, 200);
        let (status, answer) = widget_config(&app, &key, stranger, "").await;
        assert_eq!(status, 403);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(stranger)
        );
        assert!(
            app.widget_socket_from(&key, stranger).await.is_err(),
            "socket from a stranger"
        );

        // A shopper connected; the owner then takes the origin off the list.
        let mut shopper = app.widget_socket().await;
        shopper.send(json!({"type": "hello"})).await;
        shopper.expect("welcome").await;
        let path = format!("/api/admin/sites/{}", app.site.id);
        app.call(
            Method::PATCH,
            &path,
            &owner,
            Some(r#"{"allowed_origins":["https://elsewhere.test"]}"#),
        )
        .await;
        assert!(
            app.widget_socket_from(&key, SHOP_ORIGIN).await.is_err(),
            "the next connection is refused"
        );
        assert_eq!(widget_config(&app, &key, SHOP_ORIGIN, "").await.0, 403);

        // An empty list is the local setup: pages on this machine only.
        app.call(
            Method::PATCH,
            &path,
            &owner,
            Some(r#"{"allowed_origins":[]}"#),
        )
        .await;
        assert_eq!(
            widget_config(&app, &key, "http://localhost:5173", "")
                .await
                .0,
            200
        );
        assert_eq!(
            widget_config(&app, &key, "http://127.0.0.1:3000", "")
                .await
                .0,
            200
        );
        assert_eq!(widget_config(&app, &key, stranger, "").await.0, 403);
        assert!(app.widget_socket_from(&key, stranger).await.is_err());
        assert!(
            app.widget_socket_from(&key, "http://localhost:5173")
                .await
                .is_ok()
        );
    }
);

on_both_backends!(
    the_identity_secret_is_shown_rotated_with_grace_and_enforced,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let base = format!("/api/admin/sites/{}/identity", app.site.id);
        let (status, first) = app
            .call(
                Method::POST,
                &format!("{base}/rotate"),
                &owner,
                Some(r#"{"grace_minutes":0}"#),
            )
            .await;
        assert_eq!(status, 200, "{first}");
        let first_secret = first["secrets"][0]["secret"].as_str().unwrap().to_owned();
        assert!(first_secret.len() >= 32);
        let (_, second) = app
            .call(
                Method::POST,
                &format!("{base}/rotate"),
                &owner,
                Some(r#"{"grace_minutes":30}"#),
            )
            .await;
        let secrets = second["secrets"].as_array().unwrap();
        assert_eq!(
            secrets.len(),
            2,
            "the old one works during its grace: {second}"
        );
        assert!(secrets[0]["expires_at_ms"].is_null());
        assert_eq!(secrets[1]["secret"], first_secret.as_str());
        let expires = secrets[1]["expires_at_ms"].as_i64().unwrap();
        let in_30_min = rapport_server::store::now_ms() + 30 * 60_000;
        assert!(
            (in_30_min - expires).abs() < 60_000,
            "expires in 30 minutes"
        );
        assert_eq!(
            app.store
                .usable_site_secrets(&app.site.id)
                .await
                .unwrap()
                .len(),
            2
        );
        // With no grace the old secrets stop at once.
        app.call(
            Method::POST,
            &format!("{base}/rotate"),
            &owner,
            Some(r#"{"grace_minutes":0}"#),
        )
        .await;
        assert_eq!(
            app.store
                .usable_site_secrets(&app.site.id)
                .await
                .unwrap()
                .len(),
            1
        );
        for bad in [
            r#"{"grace_minutes":-1}"#,
            r#"{"grace_minutes":10081}"#,
            r#"{}"#,
        ] {
            let (status, _) = app
                .call(Method::POST, &format!("{base}/rotate"), &owner, Some(bad))
                .await;
            assert_eq!(status, 400, "{bad}");
        }
        assert_eq!(
            app.store
                .usable_site_secrets(&app.site.id)
                .await
                .unwrap()
                .len(),
            1
        );

        let (status, answer) = app
            .call(
                Method::PUT,
                &format!("{base}/enforce"),
                &owner,
                Some(r#"{"enforce":true}"#),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(answer["enforce"], true);
        assert!(
            app.store
                .site_by_id(&app.site.id)
                .await
                .unwrap()
                .unwrap()
                .enforce_identity
        );
    }
);

async fn invitations_case(backend: Backend) {
    let smtp = SmtpListener::start().await;
    let url = smtp.url();
    let Some(app) = TestApp::start_with(backend, |config| config.smtp_url = Some(url)).await else {
        return;
    };
    let owner = app.owner_cookie().await;
    let (status, invite) = app
        .call(
            Method::POST,
            "/api/admin/invites",
            &owner,
            Some(r#"{"email":" Grace@Shop.test ","role":"agent"}"#),
        )
        .await;
    assert_eq!(status, 201, "{invite}");
    assert_eq!(invite["email"], "grace@shop.test");
    assert_eq!(invite["emailed"], true);
    let link = invite["link"].as_str().unwrap();
    let token = link.split("#invite=").nth(1).unwrap();

    // The mail went out through a real SMTP exchange, with the link in it.
    let mail = smtp.mail_to("grace@shop.test").await;
    // As a mail client reads it: quoted-printable soft breaks and `=` undone.
    let text = mail.data.replace("=\n", "").replace("=3D", "=");
    assert!(text.contains(token), "{}", mail.data);
    assert!(mail.data.contains("Subject: You are invited to Rapport"));

    let (_, people) = app
        .call(Method::GET, "/api/admin/people", &owner, None)
        .await;
    assert_eq!(people["invites"][0]["email"], "grace@shop.test");
    assert!(
        people["invites"][0]["link"].is_null(),
        "the link is shown once only"
    );
    // The token travels in request bodies, never in a URL.
    let token_body = json!({ "token": token }).to_string();
    let (status, info) = app
        .call(Method::POST, "/api/invites/info", "", Some(&token_body))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        info,
        json!({"email": "grace@shop.test", "account_name": "Test shop"})
    );
    let (status, _) = app
        .call(Method::GET, &format!("/api/invites/{token}"), "", None)
        .await;
    assert_ne!(status, 200, "not readable from a URL");

    let accept = "/api/invites/accept";
    let (status, _) = app
        .call(
            Method::POST,
            accept,
            "",
            Some(&json!({"token": token, "name": "Grace", "password": "short"}).to_string()),
        )
        .await;
    assert_eq!(
        status, 400,
        "a short password is refused and the link still works"
    );
    let body = json!({"token": token, "name": "Grace Hopper", "password": PASSWORD}).to_string();
    let (status, profile) = app.call(Method::POST, accept, "", Some(&body)).await;
    assert_eq!(status, 201, "{profile}");
    assert_eq!(profile["role"], "agent");
    app.login("grace@shop.test").await;
    let (status, _) = app.call(Method::POST, accept, "", Some(&body)).await;
    assert_eq!(status, 404, "single use");
    let (status, _) = app
        .call(Method::POST, "/api/invites/info", "", Some(&token_body))
        .await;
    assert_eq!(status, 404);

    // An expired invitation does nothing.
    let (_, expired) = app
        .store
        .create_invite(
            &app.agent.account_id,
            "late@shop.test",
            Role::Agent,
            &app.agent.id,
            -1,
        )
        .await
        .unwrap();
    let late = json!({"token": expired, "name": "Late", "password": PASSWORD}).to_string();
    let (status, _) = app.call(Method::POST, accept, "", Some(&late)).await;
    assert_eq!(status, 404);
    assert!(
        app.store
            .agent_by_email("late@shop.test")
            .await
            .unwrap()
            .is_none()
    );

    // Inviting someone who has an account (here Ada; in another shop's
    // account alike) answers as for anyone: nothing is revealed.
    let other = app.store.create_account("Other shop").await.unwrap();
    common::add_agent(&app.store, &other, "eve@other.test", "Eve").await;
    for known in ["ada@shop.test", "eve@other.test", "nobody@new.test"] {
        let (status, invite) = app
            .call(
                Method::POST,
                "/api/admin/invites",
                &owner,
                Some(&json!({"email": known, "role": "agent"}).to_string()),
            )
            .await;
        assert_eq!(status, 201, "{known}: {invite}");
        assert_eq!(invite["emailed"], true, "{known}");
    }
    // Bad input: not an email, not a role.
    for bad in [
        r#"{"email":"nope","role":"agent"}"#,
        r#"{"email":"x@y.test","role":"boss"}"#,
    ] {
        let (status, _) = app
            .call(Method::POST, "/api/admin/invites", &owner, Some(bad))
            .await;
        assert_eq!(status, 400, "{bad}");
    }

    // The owner withdraws the open invitations: their links stop working.
    let (_, people) = app
        .call(Method::GET, "/api/admin/people", &owner, None)
        .await;
    let open = people["invites"].as_array().unwrap().clone();
    assert_eq!(open.len(), 3);
    for invite in &open {
        let id = invite["id"].as_str().unwrap();
        let path = format!("/api/admin/invites/{id}");
        let (status, _) = app.call(Method::DELETE, &path, &owner, None).await;
        assert_eq!(status, 204);
        let (status, _) = app.call(Method::DELETE, &path, &owner, None).await;
        assert_eq!(status, 404, "gone");
    }
    let (_, people) = app
        .call(Method::GET, "/api/admin/people", &owner, None)
        .await;
    assert_eq!(people["invites"].as_array().unwrap().len(), 0);
    let nobody = smtp.mail_to("nobody@new.test").await;
    let nobody_token = nobody
        .data
        .replace("=\n", "")
        .replace("=3D", "=")
        .split("#invite=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call(
            Method::POST,
            "/api/invites/info",
            "",
            Some(&json!({ "token": nobody_token }).to_string()),
        )
        .await;
    assert_eq!(status, 404, "a withdrawn link does nothing");
    // Another account's owner cannot withdraw this account's invitations.
    let (_, mine) = app
        .store
        .create_invite(
            &app.agent.account_id,
            "kept@shop.test",
            Role::Agent,
            &app.agent.id,
            60_000,
        )
        .await
        .unwrap();
    let _ = mine;
    let kept = app.store.open_invites(&app.agent.account_id).await.unwrap();
    let eve_owner = {
        let hash = common::test_password_hash().to_owned();
        app.store
            .create_agent(
                &other,
                "owner@other.test",
                "Other owner",
                Role::Owner,
                &hash,
            )
            .await
            .unwrap();
        app.login("owner@other.test").await
    };
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/admin/invites/{}", kept[0].id),
            &eve_owner,
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_go_out_by_mail_and_work_once_sqlite() {
    invitations_case(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_go_out_by_mail_and_work_once_postgres() {
    invitations_case(Backend::Postgres).await;
}

on_both_backends!(
    an_owner_sets_roles_teams_languages_and_capacity,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let bob = app.colleague("bob@shop.test", "Bob").await;
        let team = app
            .store
            .create_team(&app.agent.account_id, "Billing")
            .await
            .unwrap();
        let path = format!("/api/admin/people/{}", bob.id);
        let change =
            json!({"role": "owner", "teams": [team], "languages": ["nl-BE", "en"], "capacity": 7});
        let (status, person) = app
            .call(Method::PATCH, &path, &owner, Some(&change.to_string()))
            .await;
        assert_eq!(status, 200, "{person}");
        assert_eq!(person["role"], "owner");
        assert_eq!(person["teams"], json!([team]));
        assert_eq!(person["languages"], json!(["en", "nl"]));
        assert_eq!(person["capacity"], 7);
        let (_, person) = app
            .call(Method::PATCH, &path, &owner, Some(r#"{"capacity":null}"#))
            .await;
        assert!(person["capacity"].is_null(), "back to the site default");

        let stored = app.store.agent_by_id(&bob.id).await.unwrap().unwrap();
        for (bad, says) in [
            (json!({"teams": ["no-such-team"]}), "team"),
            (json!({"capacity": 0}), "Capacity"),
            (json!({"languages": ["english!"]}), "language"),
            (json!({"role": "king"}), ""),
        ] {
            let (status, answer) = app
                .call(Method::PATCH, &path, &owner, Some(&bad.to_string()))
                .await;
            assert_eq!(status, 400, "{bad}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(says));
        }
        assert_eq!(
            app.store.agent_by_id(&bob.id).await.unwrap().unwrap(),
            stored
        );
        let me = format!("/api/admin/people/{}", app.agent.id);
        for bad in [r#"{"active":false}"#, r#"{"role":"agent"}"#] {
            let (status, _) = app.call(Method::PATCH, &me, &owner, Some(bad)).await;
            assert_eq!(status, 400, "an owner cannot lock themselves out: {bad}");
        }
    }
);

on_both_backends!(
    a_deactivated_agent_is_out_at_once_and_their_chats_go_back,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        app.colleague("bob@shop.test", "Bob").await;
        let bob_cookie = app.login("bob@shop.test").await;
        let mut bob = app.agent_socket_with(&bob_cookie).await.unwrap();
        bob.expect("inbox").await;
        bob.go_online().await;
        let (mut shopper, _) = app.new_shopper().await;
        let ack = shopper.say("m1", "Where is my parcel?").await;
        let conversation = ack["conversation_id"].as_str().unwrap().to_owned();
        shopper.until("event", common::is_assigned).await;
        let bob_id = app
            .store
            .agent_by_email("bob@shop.test")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert_eq!(
            app.holder_of(&conversation).await.as_deref(),
            Some(bob_id.as_str())
        );

        let (status, person) = app
            .call(
                Method::PATCH,
                &format!("/api/admin/people/{bob_id}"),
                &owner,
                Some(r#"{"active":false}"#),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(person["active"], false);
        assert_eq!(
            bob.closed().await,
            Some(4003),
            "the open inbox is closed for good"
        );
        let (status, _) = app.call(Method::GET, "/api/me", &bob_cookie, None).await;
        assert_eq!(status, 401, "the session ended");
        assert!(app.agent_socket_with(&bob_cookie).await.is_err());
        let refused = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": "bob@shop.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);

        // Back in the queue, and Ada, coming online, is given it.
        let _ada = app.online_inbox_of(&app.agent.email).await;
        shopper.until("event", common::is_assigned).await;
        assert_eq!(
            app.holder_of(&conversation).await.as_deref(),
            Some(app.agent.id.as_str())
        );
        let (_, people) = app
            .call(Method::GET, "/api/admin/people", &owner, None)
            .await;
        let bob_row = people["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == bob_id.as_str())
            .unwrap()
            .clone();
        assert_eq!(
            bob_row["active"], false,
            "shown, not deleted: their history stays"
        );
    }
);

on_both_backends!(
    canned_replies_are_personal_or_shared_by_owners,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        app.colleague("bob@shop.test", "Bob").await;
        app.colleague("cy@shop.test", "Cy").await;
        let bob = app.login("bob@shop.test").await;
        let cy = app.login("cy@shop.test").await;
        let (status, shared) = app
            .call(Method::POST, "/api/replies", &owner, Some(r#"{"shortcut":"/Refund","body":"Hi {first_name}, your refund for {order_number} is on its way.","shared":true}"#))
            .await;
        assert_eq!(status, 201, "{shared}");
        assert_eq!(shared["shortcut"], "refund");
        let (status, own) = app
            .call(
                Method::POST,
                "/api/replies",
                &bob,
                Some(r#"{"shortcut":"hi","body":"Hello from Bob"}"#),
            )
            .await;
        assert_eq!(status, 201);
        let (_, bobs) = app.call(Method::GET, "/api/replies", &bob, None).await;
        let shortcuts: Vec<&str> = bobs
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["shortcut"].as_str().unwrap())
            .collect();
        assert_eq!(shortcuts, ["hi", "refund"]);
        let (_, cys) = app.call(Method::GET, "/api/replies", &cy, None).await;
        assert_eq!(
            cys.as_array().unwrap().len(),
            1,
            "Bob's own reply is his: {cys}"
        );

        let shared_path = format!("/api/replies/{}", shared["id"].as_str().unwrap());
        let own_path = format!("/api/replies/{}", own["id"].as_str().unwrap());
        for (cookie, method, path, body, expected) in [
            (
                &bob,
                Method::POST,
                "/api/replies".to_owned(),
                Some(r#"{"shortcut":"x","body":"y","shared":true}"#),
                403,
            ),
            (&bob, Method::DELETE, shared_path.clone(), None, 403),
            (&cy, Method::DELETE, own_path.clone(), None, 404),
            (
                &bob,
                Method::POST,
                "/api/replies".to_owned(),
                Some(r#"{"shortcut":"hi","body":"again"}"#),
                409,
            ),
            (
                &bob,
                Method::POST,
                "/api/replies".to_owned(),
                Some(r#"{"shortcut":"two words","body":"y"}"#),
                400,
            ),
            (
                &bob,
                Method::POST,
                "/api/replies".to_owned(),
                Some(r#"{"shortcut":"ok","body":"  "}"#),
                400,
            ),
        ] {
            let (status, answer) = app.call(method.clone(), &path, cookie, body).await;
            assert_eq!(status, expected, "{method} {path} {body:?}: {answer}");
        }
        let (status, edited) = app
            .call(
                Method::PUT,
                &own_path,
                &bob,
                Some(r#"{"shortcut":"hello","body":"Hello again"}"#),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(edited["shortcut"], "hello");
        let (status, _) = app.call(Method::DELETE, &shared_path, &owner, None).await;
        assert_eq!(status, 204);
        let (_, bobs) = app.call(Method::GET, "/api/replies", &bob, None).await;
        assert_eq!(bobs.as_array().unwrap().len(), 1);
    }
);

on_both_backends!(
    away_tells_when_the_team_is_back_on_the_shoppers_clock,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        // Open one hour, three days from now (UTC): certainly closed now.
        let day_ms = 24 * 60 * 60 * 1000;
        let now = rapport_server::store::now_ms();
        let in_three_days = now / day_ms * day_ms + 3 * day_ms;
        let weekday = ((in_three_days / day_ms + 3) % 7) as u8; // 1970-01-01 was a Thursday
        let hours = json!({"settings": {"accent": "#2f6fed", "hours": {"time_zone": "UTC",
            "weekly": [{"day": weekday, "opens": "10:00", "closes": "11:00"}]}}});
        let (status, _) = change_site(&app, &owner, &hours).await;
        assert_eq!(status, 200);
        let opens = in_three_days + 10 * 60 * 60 * 1000;
        let days = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let (_, config) = widget_config(
            &app,
            &app.site.site_key,
            SHOP_ORIGIN,
            "&lang=en&tz=Asia/Tokyo",
        )
        .await;
        assert_eq!(config["away"]["back_at_ms"], opens);
        assert_eq!(
            config["away"]["back_at"],
            format!("{} 19:00", days[usize::from(weekday)]),
            "10:00 UTC is 19:00 in Tokyo"
        );
        let (_, config) = widget_config(&app, &app.site.site_key, SHOP_ORIGIN, "&lang=nl").await;
        assert_eq!(
            config["away"]["back_at"]
                .as_str()
                .unwrap()
                .split(' ')
                .nth(1),
            Some("10:00")
        );
        assert!(
            config["away"]["back_at"]
                .as_str()
                .unwrap()
                .ends_with("(UTC)"),
            "no zone from the page: the site's, named"
        );
        assert_eq!(
            config["away"]["message"],
            "We zijn er nu niet. Laat een bericht achter, dan antwoorden we per e-mail."
        );
    }
);

on_both_backends!(
    outside_business_hours_a_shopper_leaves_a_message_for_the_agents,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        // Closed every day: no spans at all.
        let closed = json!({"settings": {"accent": "#2f6fed", "away_message": "Back soon!",
            "hours": {"time_zone": "Europe/Amsterdam", "weekly": [], "holidays": []}}});
        change_site(&app, &owner, &closed).await;
        let (_, config) = widget_config(&app, &app.site.site_key, SHOP_ORIGIN, "").await;
        assert_eq!(
            config["away"],
            json!({"message": "Back soon!", "back_at_ms": null, "back_at": null})
        );

        let mut shopper = app
            .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
            .await
            .unwrap();
        shopper.send(json!({"type": "hello"})).await;
        let welcome = shopper.expect("welcome").await;
        assert_eq!(welcome["email_known"], Value::Null);
        let token = welcome["visitor_token"].as_str().unwrap().to_owned();
        shopper
            .send(json!({"type": "identify", "details": {"email": "late@night.test"}}))
            .await;
        let ack = shopper.say("m1", "Do you ship to Norway?").await;
        let conversation = ack["conversation_id"].as_str().unwrap();
        let stored = app.store.events_after(conversation, 0, 10).await.unwrap();
        let note = stored.iter().find_map(|e| match &e.body {
            protocol::EventBody::Note { text } => Some(text.clone()),
            _ => None,
        });
        assert!(note.unwrap().contains("outside business hours"));
        assert!(
            shopper
                .drain_events()
                .await
                .iter()
                .all(|f| f["event"]["body"]["note"].is_null()),
            "the note is for agents only"
        );
        // A returning shopper is not asked for their email again.
        let mut again = app
            .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
            .await
            .unwrap();
        again.send(json!({"type": "hello", "token": token})).await;
        assert_eq!(again.expect("welcome").await["email_known"], true);
    }
);

on_both_backends!(
    shoppers_see_agents_as_the_site_chose,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let change = json!({"settings": {"accent": "#2563eb", "agent_display": "initials"}});
        change_site(&app, &owner, &change).await;
        app.colleague("grace@shop.test", "Grace Hopper").await;
        let _grace = app.online_inbox_of("grace@shop.test").await;
        let mut shopper = app.widget_socket().await;
        shopper.send(json!({"type": "hello"})).await;
        let token = shopper.expect("welcome").await["visitor_token"]
            .as_str()
            .unwrap()
            .to_owned();
        shopper.say("m1", "Hello?").await;
        let assigned = shopper.until("event", common::is_assigned).await;
        assert_eq!(assigned["event"]["body"]["assigned"]["agent_name"], "GH");

        // After a reconnect too, and the name stays whole for agents.
        let mut again = app.widget_socket().await;
        again.send(json!({"type": "hello", "token": token})).await;
        let welcome = again.expect("welcome").await;
        assert_eq!(welcome["state"]["assigned"]["agent_name"], "GH");
        let replayed = again.drain_events().await;
        assert!(
            replayed
                .iter()
                .any(|f| f["event"]["body"]["assigned"]["agent_name"] == "GH")
        );
        assert!(
            !replayed
                .iter()
                .any(|f| f.to_string().contains("Grace Hopper"))
        );
        let conversation = welcome["conversation_id"].as_str().unwrap();
        let stored = app.store.conversation(conversation).await.unwrap().unwrap();
        assert_eq!(
            stored.state,
            protocol::ConversationState::Assigned {
                agent_id: app
                    .store
                    .agent_by_email("grace@shop.test")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                agent_name: "Grace Hopper".to_owned()
            }
        );
    }
);

on_both_backends!(
    sites_can_show_agents_pictures_or_their_initials,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let change = json!({"settings": {"accent": "#aa3300", "agent_display": "avatar"}});
        change_site(&app, &owner, &change).await;
        let (_, config) = widget_config(&app, &app.site.site_key, SHOP_ORIGIN, "").await;
        assert_eq!(config["agent_avatars"], true);

        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let avatar = |agent: &str, key: &str| {
            no_redirects
                .get(app.url(&format!("/api/widget/avatar/{agent}?site={key}")))
                .send()
        };
        // Without a picture: the initials on the site's colour.
        let response = avatar(&app.agent.id, &app.site.site_key).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        let svg = response.text().await.unwrap();
        assert!(
            svg.contains(r##"fill="#aa3300""##) && svg.contains(">A</text>"),
            "{svg}"
        );

        let person = format!("/api/admin/people/{}", app.agent.id);
        for bad in [
            "javascript:alert(1)",
            "http://cdn.shop.test/ada.png",
            "https://x\" onerror=\"y",
        ] {
            let body = json!({"avatar_url": bad}).to_string();
            let (status, _) = app.call(Method::PATCH, &person, &owner, Some(&body)).await;
            assert_eq!(status, 400, "{bad}");
        }
        let body = json!({"avatar_url": "https://cdn.shop.test/ada.png"}).to_string();
        let (status, answer) = app.call(Method::PATCH, &person, &owner, Some(&body)).await;
        assert_eq!(status, 200);
        assert_eq!(answer["avatar_url"], "https://cdn.shop.test/ada.png");
        let response = avatar(&app.agent.id, &app.site.site_key).await.unwrap();
        assert_eq!(response.status(), 307);
        assert_eq!(
            response.headers()["location"],
            "https://cdn.shop.test/ada.png"
        );

        // Another account's agent is not found through this site, nor anyone without a site.
        let other = app.store.create_account("Rival").await.unwrap();
        let eve = add_agent(&app.store, &other, "eve@rival.test", "Eve").await;
        assert_eq!(
            avatar(&eve.id, &app.site.site_key).await.unwrap().status(),
            404
        );
        assert_eq!(avatar(&app.agent.id, "nope").await.unwrap().status(), 404);
        let (_, answer) = app
            .call(
                Method::PATCH,
                &person,
                &owner,
                Some(r#"{"avatar_url":null}"#),
            )
            .await;
        assert!(answer["avatar_url"].is_null(), "back to initials");
    }
);

on_both_backends!(
    signing_out_ends_that_sessions_inbox_and_no_other,
    |app: TestApp| async move {
        let laptop = app.login(&app.agent.email).await;
        let phone = app.login(&app.agent.email).await;
        let mut laptop_inbox = app.agent_socket_with(&laptop).await.unwrap();
        laptop_inbox.expect("inbox").await;
        let mut phone_inbox = app.agent_socket_with(&phone).await.unwrap();
        phone_inbox.expect("inbox").await;

        let (status, _) = app
            .call(Method::POST, "/api/auth/logout", &laptop, None)
            .await;
        assert_eq!(status, 204);
        assert_eq!(
            laptop_inbox.closed().await,
            Some(4003),
            "the signed-out session's socket ends"
        );
        assert!(
            app.agent_socket_with(&laptop).await.is_err(),
            "and cannot come back"
        );
        phone_inbox.send(json!({"type": "ping"})).await;
        phone_inbox.expect("pong").await;
        let (status, _) = app.call(Method::GET, "/api/me", &phone, None).await;
        assert_eq!(status, 200, "the other session goes on");
    }
);
