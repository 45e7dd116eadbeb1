//! The first five minutes, as the README tells them: a server on an empty
//! database at the address it prints, its demo shop's widget answered from
//! the shop's own page, the setup link naming the account and signing the
//! owner in under their own name and address, and a profile that can
//! change both later (and from the command line).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::net::SocketAddr;

use common::{Backend, fresh_database};
use rapport_server::config::Config;
use rapport_server::store::Store;
use reqwest::header::{COOKIE, HeaderMap, HeaderValue, SET_COOKIE};
use serde_json::{Value, json};

/// A server on a fresh database with nothing configured but the database:
/// the first run creates the owner and the demo site. Returns its address.
async fn first_run_server(database_url: &str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::for_database(database_url);
    tokio::spawn(rapport_server::serve(
        listener,
        config,
        std::future::pending(),
    ));
    let health = format!("http://{addr}/healthz");
    while !reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    addr
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The session cookie an answer set, as a `Cookie` header.
fn session_cookie(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rapport_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

async fn post(addr: SocketAddr, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header("origin", format!("http://{addr}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn the_demo_shop_works_where_the_server_says_it_is(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let addr = first_run_server(&database.url).await;
    let store = Store::connect(&database.url).await.unwrap();
    let demo = store.first_site().await.unwrap().unwrap();

    // No public URL given: it is the address listened on, port included.
    let page = reqwest::get(format!("http://{addr}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"src="http://{addr}/widget.js""#)),
        "the snippet loads from where the server listens: {page}"
    );
    assert!(
        page.contains(&format!(r#"href="http://{addr}/app""#)),
        "the inbox link is the public URL's"
    );

    // The demo page asks for its config from its own origin: the browser
    // sends no Origin then, only Sec-Fetch-Site.
    let config = |headers: &[(&str, &str)]| {
        let mut request = reqwest::Client::new().get(format!(
            "http://{addr}/api/widget/config?site={}",
            demo.site_key
        ));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(config(&[("sec-fetch-site", "same-origin")]).await, 200);
    // A page of another site never says same-origin; without Origin it is
    // no page this server knows of.
    assert_eq!(config(&[("sec-fetch-site", "cross-site")]).await, 403);
    assert_eq!(config(&[("sec-fetch-site", "same-site")]).await, 403);
    assert_eq!(config(&[]).await, 403, "no header at all names no page");
    assert_eq!(
        config(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://evil.example")
        ])
        .await,
        403,
        "an Origin, when there is one, is what counts"
    );
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "http://{addr}/api/widget/config?site={}",
            demo.site_key
        ))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["agents_online"], false, "nobody is online yet");

    // A site restricted to its shop's origins is not this server's page.
    let restricted = store
        .create_site(
            &demo.account_id,
            "Real shop",
            &["https://shop.example".into()],
        )
        .await
        .unwrap();
    let status = reqwest::Client::new()
        .get(format!(
            "http://{addr}/api/widget/config?site={}",
            restricted.site_key
        ))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);

    // The inbox opened at another name of this machine goes to the public
    // URL, where its sign-in is accepted; the public address is served.
    let elsewhere = format!("http://localhost:{}/app?x=1", addr.port());
    let redirect = no_redirects().get(&elsewhere).send().await.unwrap();
    assert_eq!(redirect.status(), 307);
    assert_eq!(
        redirect.headers()["location"],
        format!("http://{addr}/app?x=1").as_str()
    );
    let here = no_redirects()
        .get(format!("http://{addr}/app"))
        .send()
        .await
        .unwrap();
    assert_ne!(here.status(), 307);

    // The tab's icon is there (no 404 in the console).
    let icon = reqwest::get(format!("http://{addr}/favicon.ico"))
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn the_demo_shop_works_where_the_server_says_it_is_sqlite() {
    the_demo_shop_works_where_the_server_says_it_is(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_demo_shop_works_where_the_server_says_it_is_postgres() {
    the_demo_shop_works_where_the_server_says_it_is(Backend::Postgres).await;
}

async fn the_setup_link_names_the_account_and_signs_the_owner_in(backend: Backend) {
    let Some(database) = fresh_database(backend).await else {
        return;
    };
    let addr = first_run_server(&database.url).await;
    let store = Store::connect(&database.url).await.unwrap();
    let owner = store
        .agent_by_email("owner@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.name, "", "no placeholder name");
    // The link the log prints is one of these (the log is not read here).
    let token = store
        .create_password_reset(&owner.id, 60_000)
        .await
        .unwrap();

    // Signed out: the session says so with a 200, not an error.
    let session: Value = reqwest::get(format!("http://{addr}/api/auth/session"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session, json!({ "agent": null }));

    let info = post(addr, "/api/auth/reset/info", json!({ "token": token })).await;
    assert_eq!(info.status(), 200);
    let info: Value = info.json().await.unwrap();
    assert_eq!(info["email"], "owner@example.com");
    assert_eq!(info["name"], "");
    assert_eq!(info["account_name"], "My shop");
    let made_up = post(addr, "/api/auth/reset/info", json!({ "token": "nope" })).await;
    assert_eq!(made_up.status(), 404);

    // A name is needed, and must be one line.
    let nameless = json!({ "token": token, "password": "a long test password" });
    let refused = post(addr, "/api/auth/reset/confirm", nameless).await;
    assert_eq!(refused.status(), 400);
    let broken = json!({ "token": token, "password": "a long test password", "name": "Ada\r\nBcc: x@evil.example" });
    assert_eq!(
        post(addr, "/api/auth/reset/confirm", broken).await.status(),
        400
    );
    let bad_address = json!({ "token": token, "password": "a long test password", "name": "Ada", "email": "ada..b@shop.example" });
    assert_eq!(
        post(addr, "/api/auth/reset/confirm", bad_address)
            .await
            .status(),
        400
    );

    let chosen = json!({
        "token": token,
        "password": "a long test password",
        "name": "Ada Lovelace",
        "email": "Ada@Shop.Example",
    });
    let answer = post(addr, "/api/auth/reset/confirm", chosen.clone()).await;
    assert_eq!(answer.status(), 200);
    let cookie = session_cookie(answer.headers());
    let profile: Value = answer.json().await.unwrap();
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["email"], "ada@shop.example");

    // Signed in by choosing the password: the session is theirs.
    let session: Value = reqwest::Client::new()
        .get(format!("http://{addr}/api/auth/session"))
        .header(COOKIE, HeaderValue::from_str(&cookie).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["agent"]["email"], "ada@shop.example");
    // The link worked once.
    assert_eq!(
        post(addr, "/api/auth/reset/confirm", chosen).await.status(),
        404
    );
    // The placeholder address is gone; the new one signs in.
    assert!(
        store
            .agent_by_email("owner@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let login = post(
        addr,
        "/api/auth/login",
        json!({ "email": "ada@shop.example", "password": "a long test password" }),
    )
    .await;
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn the_setup_link_names_the_account_and_signs_the_owner_in_sqlite() {
    the_setup_link_names_the_account_and_signs_the_owner_in(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_setup_link_names_the_account_and_signs_the_owner_in_postgres() {
    the_setup_link_names_the_account_and_signs_the_owner_in(Backend::Postgres).await;
}

on_both_backends!(
    a_person_renames_and_readdresses_themselves,
    |app: common::TestApp| async move {
        let cookie = app.login("ada@shop.test").await;
        let change = |body: Value| {
            let app = &app;
            let cookie = cookie.clone();
            async move {
                app.call(
                    reqwest::Method::PATCH,
                    "/api/me",
                    &cookie,
                    Some(&body.to_string()),
                )
                .await
            }
        };
        let (status, me) = change(json!({ "name": "  Ada King  " })).await;
        assert_eq!(status, 200);
        assert_eq!(me["name"], "Ada King");
        let (status, _) = change(json!({ "name": "Ada\nKing" })).await;
        assert_eq!(status, 400, "one line");
        let (status, _) = change(json!({ "name": "" })).await;
        assert_eq!(status, 400, "a name is needed");

        // A new address needs the password, right.
        let (status, _) = change(json!({ "email": "ada@king.example" })).await;
        assert_eq!(status, 403);
        let (status, _) =
            change(json!({ "email": "ada@king.example", "current_password": "wrong password!" }))
                .await;
        assert_eq!(status, 403);
        app.colleague("bob@shop.test", "Bob").await;
        let (status, _) =
            change(json!({ "email": "bob@shop.test", "current_password": common::PASSWORD })).await;
        assert_eq!(status, 409, "someone else's address");
        let (status, me) =
            change(json!({ "email": "ada@king.example", "current_password": common::PASSWORD }))
                .await;
        assert_eq!(status, 200);
        assert_eq!(me["email"], "ada@king.example");
        let agent = app.store.agent_by_id(&app.agent.id).await.unwrap().unwrap();
        assert_eq!(
            (agent.name.as_str(), agent.email.as_str()),
            ("Ada King", "ada@king.example")
        );
    }
);

/// `rapport update-user`, as the README and the first run's log show it.
#[tokio::test]
async fn the_command_line_renames_and_readdresses_a_person() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let store = Store::connect(&database.url).await.unwrap();
    let config = Config::for_database(&database.url);
    rapport_server::cli::first_run(&store, &config)
        .await
        .unwrap();
    let rapport = env!("CARGO_BIN_EXE_rapport");
    let run = |args: &[&str]| {
        std::process::Command::new(rapport)
            .args(args)
            .env("RAPPORT_DATABASE_URL", &database.url)
            .output()
            .unwrap()
    };
    let done = run(&[
        "update-user",
        "--email",
        "owner@example.com",
        "--name",
        "Grace Hopper",
        "--new-email",
        "grace@shop.example",
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let printed: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(printed["name"], "Grace Hopper");
    let grace = store
        .agent_by_email("grace@shop.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grace.name, "Grace Hopper");
    let refused = run(&[
        "update-user",
        "--email",
        "grace@shop.example",
        "--name",
        "Grace\nHopper",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line breaks"));
    let nothing = run(&["update-user", "--email", "grace@shop.example"]);
    assert!(!nothing.status.success());
}

/// Behind `--public-url` (here another name of this machine, as a proxy on
/// it would be): the demo shop's snippet and links use it, its own-origin
/// requests are taken, and the inbox opened at the listening address goes
/// there.
#[tokio::test]
async fn the_demo_shop_works_behind_a_public_url() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public = format!("http://localhost:{}", addr.port());
    let mut config = Config::for_database(&database.url);
    config.public_url = Some(format!("{public}/"));
    tokio::spawn(rapport_server::serve(
        listener,
        config,
        std::future::pending(),
    ));
    let health = format!("http://{addr}/healthz");
    while !reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let page = reqwest::get(format!("{public}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"src="{public}/widget.js""#)),
        "{page}"
    );
    assert!(page.contains(&format!(r#"href="{public}/app""#)));
    let store = Store::connect(&database.url).await.unwrap();
    let demo = store.first_site().await.unwrap().unwrap();
    let status = reqwest::Client::new()
        .get(format!("{public}/api/widget/config?site={}", demo.site_key))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let redirect = no_redirects()
        .get(format!("http://{addr}/app"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 307);
    assert_eq!(
        redirect.headers()["location"],
        format!("{public}/app").as_str()
    );
}
