//! Origins mean what the console says: the widget needs a page the site
//! allows (no `Origin`, no chat), an empty list means local pages only and
//! only on a local server, the inbox and every cookie change belong to the
//! server's own pages, open sockets follow a site's changes, and the
//! smaller doors (pictures of a team-only site, picture addresses).
#![allow(clippy::unwrap_used)]

use crate::common;

use std::net::SocketAddr;

use common::{SHOP_ORIGIN, TestApp};
use protocol::{AgentDisplay, SiteSettings};
use rapport_server::config::Config;
use reqwest::Method;
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// The HTTP status of a widget socket's upgrade from `origin`.
async fn widget_upgrade(addr: SocketAddr, key: &str, origin: Option<HeaderValue>) -> u16 {
    let mut request = format!("ws://{addr}/ws/widget?site={key}")
        .into_client_request()
        .unwrap();
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => 101,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
    }
}

/// The status of the widget's config request from `origin`.
async fn widget_config(addr: SocketAddr, key: &str, origin: Option<&[u8]>) -> u16 {
    let mut request =
        reqwest::Client::new().get(format!("http://{addr}/api/widget/config?site={key}"));
    if let Some(origin) = origin {
        request = request.header("origin", HeaderValue::from_bytes(origin).unwrap());
    }
    request.send().await.unwrap().status().as_u16()
}

on_both_backends!(
    a_widget_without_a_readable_origin_is_refused,
    |app: TestApp| async move {
        let key = app.site.site_key.clone();
        assert_eq!(widget_upgrade(app.addr, &key, None).await, 403);
        assert_eq!(widget_config(app.addr, &key, None).await, 403);
        assert_eq!(
            widget_config(app.addr, &key, Some(b"http://shop.test\xff")).await,
            403
        );
        // The site's own page still works.
        assert_eq!(
            widget_config(app.addr, &key, Some(SHOP_ORIGIN.as_bytes())).await,
            200
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM visitors").await, 0);
    }
);

/// A second server on the test database, listening on every interface
/// (so not in local mode unless `dev`); returns the address to reach it.
async fn server_on_all_interfaces(app: &TestApp, dev: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::for_database(&app.database_url);
    config.dev = dev;
    config.public_url = Some(format!("http://127.0.0.1:{port}"));
    tokio::spawn(async move {
        let _ = rapport_server::serve(listener, config, std::future::pending()).await;
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..500 {
        if reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    addr
}

on_both_backends!(
    an_empty_origin_list_means_local_pages_and_only_on_a_local_server,
    |app: TestApp| async move {
        let empty = app
            .store
            .create_site(&app.agent.account_id, "No origins yet", &[])
            .await
            .unwrap();
        let key = empty.site_key.as_str();
        let local_page = Some(&b"http://localhost:3000"[..]);
        let foreign_page = Some(&b"http://shop.test"[..]);

        // On loopback (this test server): local pages only.
        assert_eq!(widget_config(app.addr, key, local_page).await, 200);
        assert_eq!(widget_config(app.addr, key, foreign_page).await, 403);
        let demo = reqwest::get(app.url("/")).await.unwrap();
        assert_eq!(demo.status(), 200, "the demo shop in local mode");

        // Listening on every interface: nothing, and no demo shop…
        let public = server_on_all_interfaces(&app, false).await;
        assert_eq!(widget_config(public, key, local_page).await, 403);
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let demo = no_redirects
            .get(format!("http://{public}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(demo.status(), 307);
        assert_eq!(demo.headers()["location"], "/app");
        // …unless it is run as a development server.
        let dev = server_on_all_interfaces(&app, true).await;
        assert_eq!(widget_config(dev, key, local_page).await, 200);
        assert_eq!(widget_config(dev, key, foreign_page).await, 403);
    }
);

on_both_backends!(
    cookie_changes_from_another_sites_page_are_refused,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let own = format!("http://{}", app.addr);
        let path = format!("/api/agents/{}/capacity", app.agent.id);
        let set = |origin: Option<&'static str>, capacity: i64| {
            let mut request = reqwest::Client::new()
                .put(app.url(&path))
                .header("cookie", &cookie)
                .json(&json!({ "capacity": capacity }));
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            request.send()
        };
        for foreign in ["http://evil.test", "https://127.0.0.1", "null"] {
            let refused = set(Some(foreign), 2).await.unwrap();
            assert_eq!(refused.status(), 403, "{foreign}");
            let body: serde_json::Value = refused.json().await.unwrap();
            assert_eq!(body["error"]["code"], "forbidden");
        }
        let stored = app.store.agent_by_id(&app.agent.id).await.unwrap().unwrap();
        assert_eq!(stored.capacity, None, "nothing changed");

        // The server's own page, and a program without Origin, may.
        let own: &'static str = Box::leak(own.into_boxed_str());
        assert_eq!(set(Some(own), 3).await.unwrap().status(), 200);
        assert_eq!(set(None, 4).await.unwrap().status(), 200);
        let stored = app.store.agent_by_id(&app.agent.id).await.unwrap().unwrap();
        assert_eq!(stored.capacity, Some(4));

        // Signing in from another site's page is refused too.
        let login = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .header("origin", "http://evil.test")
            .json(&json!({"email": app.agent.email, "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 403);
        assert!(login.headers().get("set-cookie").is_none());
    }
);

on_both_backends!(
    the_inbox_socket_needs_the_servers_own_origin,
    |app: TestApp| async move {
        let cookie = app.login(&app.agent.email).await;
        let status = |origin: Option<String>| {
            let mut request = format!("ws://{}/ws/agent", app.addr)
                .into_client_request()
                .unwrap();
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(&cookie).unwrap());
            if let Some(origin) = origin {
                request
                    .headers_mut()
                    .insert("origin", HeaderValue::from_str(&origin).unwrap());
            }
            async move {
                match tokio_tungstenite::connect_async(request).await {
                    Ok(_) => 101,
                    Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
                    Err(other) => panic!("{other}"),
                }
            }
        };
        assert_eq!(status(None).await, 403, "no Origin");
        assert_eq!(
            status(Some(format!("https://{}", app.addr))).await,
            403,
            "another scheme"
        );
        assert_eq!(
            status(Some("http://evil.test".into())).await,
            403,
            "another site"
        );
        assert_eq!(status(Some(format!("http://{}", app.addr))).await, 101);
    }
);

on_both_backends!(
    the_inbox_page_cannot_be_framed_or_sniffed,
    |app: TestApp| async move {
        let page = reqwest::get(app.url("/app/")).await.unwrap();
        let policy = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains(" 'unsafe-eval'"), "{policy}");
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
        let loader = reqwest::get(app.url("/widget.js")).await.unwrap();
        assert_eq!(loader.headers()["x-content-type-options"], "nosniff");
    }
);

on_both_backends!(
    open_widget_sockets_follow_the_sites_changes,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let site_path = format!("/api/admin/sites/{}", app.site.id);
        let (mut shopper, _) = app.new_shopper().await;

        // Adding an origin changes nothing for open pages.
        let both = json!({"allowed_origins": [SHOP_ORIGIN, "https://other.test"]});
        let (status, _) = app
            .call(Method::PATCH, &site_path, &owner, Some(&both.to_string()))
            .await;
        assert_eq!(status, 200);
        shopper.drain().await;

        // Taking the shop's origin off closes its open sockets (asking
        // them to reconnect), and the reconnect is refused.
        let other_only = json!({"allowed_origins": ["https://other.test"]});
        let (status, _) = app
            .call(
                Method::PATCH,
                &site_path,
                &owner,
                Some(&other_only.to_string()),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(shopper.closed().await, Some(1001));
        assert!(
            app.widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
                .await
                .is_err()
        );

        // Requiring verified identity closes open sockets too; the one that
        // reconnects can no longer identify itself unsigned.
        let (status, _) = app
            .call(
                Method::PATCH,
                &site_path,
                &owner,
                Some(&json!({"allowed_origins": [SHOP_ORIGIN]}).to_string()),
            )
            .await;
        assert_eq!(status, 200);
        let (mut shopper, token) = app.new_shopper().await;
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/admin/sites/{}/identity/enforce", app.site.id),
                &owner,
                Some(&json!({"enforce": true}).to_string()),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(shopper.closed().await, Some(1001));
        let mut again = app.widget_socket().await;
        again.send(json!({"type": "hello", "token": token})).await;
        again.expect("welcome").await;
        again
            .send(json!({"type": "identify", "details": {"name": "Mallory"}}))
            .await;
        let refused = again.until("error", |_| true).await;
        assert_eq!(refused["code"], "identity_refused");
    }
);

on_both_backends!(
    a_team_only_site_shows_no_pictures_of_people,
    |app: TestApp| async move {
        let picture = format!(
            "/api/widget/avatar/{}?site={}",
            app.agent.id, app.site.site_key
        );
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let status = || async {
            no_redirects
                .get(app.url(&picture))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        app.set_site_settings(&SiteSettings {
            agent_display: AgentDisplay::Avatar,
            ..SiteSettings::default()
        })
        .await;
        assert_eq!(status().await, 200, "initials");
        app.set_site_settings(&SiteSettings {
            agent_display: AgentDisplay::TeamOnly,
            ..SiteSettings::default()
        })
        .await;
        assert_eq!(status().await, 404);
    }
);

on_both_backends!(
    a_picture_address_with_control_characters_is_refused,
    |app: TestApp| async move {
        let owner = app.owner_cookie().await;
        let path = format!("/api/admin/people/{}", app.agent.id);
        for bad in [
            "https://pics.test/a\u{1}b.png",
            "https://pics.test/a\rb.png",
            "https://pics.test/a\u{7f}.png",
            "https://pics.test/ä.png",
        ] {
            let (status, body) = app
                .call(
                    Method::PATCH,
                    &path,
                    &owner,
                    Some(&json!({ "avatar_url": bad }).to_string()),
                )
                .await;
            assert_eq!(status, 400, "{bad:?}: {body}");
        }
        let (status, _) = app
            .call(
                Method::PATCH,
                &path,
                &owner,
                Some(&json!({"avatar_url": "https://pics.test/ada.png"}).to_string()),
            )
            .await;
        assert_eq!(status, 200);
        app.set_site_settings(&SiteSettings {
            agent_display: AgentDisplay::Avatar,
            ..SiteSettings::default()
        })
        .await;
        let picture = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url(&format!(
                "/api/widget/avatar/{}?site={}",
                app.agent.id, app.site.site_key
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(picture.status(), 307);
        assert_eq!(picture.headers()["location"], "https://pics.test/ada.png");
    }
);
