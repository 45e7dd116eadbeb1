//! Limits at every public door, on both backends: over a limit the client
//! is told (`rate_limited`, or HTTP 429 with `Retry-After`), nothing is
//! stored, and other addresses, sites and conversations are not affected.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::{SHOP_ORIGIN, TestApp, Ws};
use futures_util::SinkExt;
use rapport_server::config::Config;
use rapport_server::limits::LimitSettings;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

/// What a hello without a token came to.
#[derive(Clone, Debug, PartialEq)]
enum Hello {
    Welcome,
    /// `rate_limited`, then the socket closed with this code.
    Refused(Option<u16>),
    /// The upgrade itself was refused with this HTTP status and Retry-After.
    NoSocket(u16, Option<String>),
}

async fn anonymous_hello(app: &TestApp) -> Hello {
    match app
        .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
        .await
    {
        Err(tungstenite::Error::Http(response)) => Hello::NoSocket(
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        ),
        Err(err) => panic!("unexpected socket error: {err}"),
        Ok(mut ws) => {
            ws.send(json!({"type": "hello"})).await;
            let frame = ws.next().await;
            match frame["type"].as_str() {
                Some("welcome") => Hello::Welcome,
                Some("error") => {
                    assert_eq!(frame["code"], "rate_limited", "{frame}");
                    assert!(frame["message"].as_str().unwrap().contains("try again"));
                    Hello::Refused(ws.closed().await)
                }
                _ => panic!("unexpected {frame}"),
            }
        }
    }
}

on_both_backends!(
    three_hundred_hellos_from_one_address_make_thirty_visitors_not_three_hundred,
    |app: TestApp| async move {
        let defaults = LimitSettings::default();
        let started = std::time::Instant::now();
        let mut outcomes = Vec::new();
        for _ in 0..300 {
            outcomes.push(anonymous_hello(&app).await);
        }
        // An allowance a minute refills as time passes: a slow machine
        // (or a busy test run) earns back one hello every two seconds.
        let refilled = |per_minute: u32| {
            (started.elapsed().as_secs_f64() * f64::from(per_minute) / 60.0).ceil() as usize
        };
        let welcomed = outcomes.iter().filter(|o| **o == Hello::Welcome).count();
        let allowed = defaults.visitors_per_ip as usize;
        assert!(
            (allowed..=allowed + refilled(defaults.visitors_per_ip)).contains(&welcomed),
            "{welcomed} welcomed in {:?}",
            started.elapsed()
        );
        assert_eq!(
            outcomes[..allowed],
            vec![Hello::Welcome; allowed][..],
            "the allowance first"
        );
        let sockets = defaults.sockets_per_ip as usize;
        assert!(
            outcomes[allowed..sockets]
                .iter()
                .all(|o| *o == Hello::Refused(Some(1008)) || *o == Hello::Welcome),
            "refused hellos close with 1008"
        );
        assert!(
            outcomes[allowed..sockets]
                .iter()
                .filter(|o| **o == Hello::Refused(Some(1008)))
                .count()
                >= sockets - allowed - refilled(defaults.visitors_per_ip)
        );
        // Past the sockets an address may open in a minute, no socket at all
        // (but for the few the minute refilled while this ran).
        let past = &outcomes[sockets..];
        let sockets_refilled = past
            .iter()
            .filter(|o| !matches!(o, Hello::NoSocket(..)))
            .count();
        assert!(
            sockets_refilled <= refilled(defaults.sockets_per_ip),
            "{sockets_refilled} sockets past the allowance in {:?}",
            started.elapsed()
        );
        let Some(Hello::NoSocket(status, retry_after)) = past.last() else {
            panic!("{:?}", past.last());
        };
        assert_eq!(*status, 429);
        let retry_after: u64 = retry_after.as_deref().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let (visitors, conversations, _) = app.counts().await;
        assert_eq!(visitors, welcomed as i64, "no more visitors than welcomed");
        assert_eq!(conversations, 0);
    }
);

fn tight(config: &mut Config) {
    config.limits = LimitSettings {
        conversations_per_ip: 3,
        messages_per_conversation: 5,
        frames_per_second: 4,
        requests_per_ip: 5,
        // Counted apart, in their own tests: these are about rates.
        open_conversations_per_ip: 0,
        after_close_secs: 0,
        ..LimitSettings::default()
    };
}

/// Sends `body` as a new message; returns the ack or the refusal.
async fn say(ws: &mut Ws, client_id: &str, body: &str) -> Value {
    ws.send(json!({"type": "send", "client_id": client_id, "body": body}))
        .await;
    loop {
        let frame = ws.next().await;
        if (frame["type"] == "ack" || frame["type"] == "error") && frame["client_id"] == client_id {
            return frame;
        }
    }
}

on_both_backends_with!(
    new_conversations_and_messages_are_limited_and_what_is_refused_is_not_stored,
    tight,
    |app: TestApp| async move {
        // Four shoppers from one address: three conversations, then no more.
        let mut shoppers = Vec::new();
        let mut answers = Vec::new();
        for n in 0..4 {
            let (mut shopper, _) = app.new_shopper().await;
            answers.push(say(&mut shopper, &format!("first{n}"), "Hello").await);
            shoppers.push(shopper);
        }
        assert!(
            answers[..3].iter().all(|a| a["type"] == "ack"),
            "{answers:?}"
        );
        assert_eq!(answers[3]["type"], "error");
        assert_eq!(answers[3]["code"], "rate_limited");
        assert_eq!(
            answers[3]["client_id"], "first3",
            "the widget marks that message"
        );
        let (_, conversations, events) = app.counts().await;
        assert_eq!((conversations, events), (3, 3), "the fourth opened nothing");

        // In one conversation, five messages a minute; the sixth is refused.
        let mut answers = Vec::new();
        for n in 0..6 {
            // Well within the socket's frames per second.
            tokio::time::sleep(Duration::from_millis(300)).await;
            answers.push(say(&mut shoppers[0], &format!("more{n}"), "And another thing").await);
        }
        assert!(
            answers[..5].iter().all(|a| a["type"] == "ack"),
            "{answers:?}"
        );
        assert_eq!(answers[5]["code"], "rate_limited");
        assert_eq!(answers[5]["client_id"], "more5");
        assert_eq!(app.counts().await.2, 3 + 5);
        // Another conversation has its own allowance.
        assert_eq!(
            say(&mut shoppers[1], "other", "Hi again").await["type"],
            "ack"
        );
    }
);

on_both_backends_with!(
    a_socket_that_sends_too_fast_is_told_then_closed,
    tight,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        for _ in 0..20 {
            shopper.send(json!({"type": "ping"})).await;
        }
        let mut pongs = 0;
        let mut refused = 0;
        for _ in 0..20 {
            let frame = shopper.next().await;
            match frame["type"].as_str() {
                Some("pong") => pongs += 1,
                Some("error") if frame["code"] == "rate_limited" => refused += 1,
                _ => panic!("{frame}"),
            }
        }
        assert_eq!(pongs + refused, 20);
        assert!(
            (8..=9).contains(&pongs),
            "a burst of twice the rate: {pongs}"
        );
        // Still open; a sustained flood ends it.
        for _ in 0..200 {
            if shopper
                .0
                .send(tungstenite::Message::text(r#"{"type":"ping"}"#))
                .await
                .is_err()
            {
                break;
            }
        }
        assert_eq!(shopper.closed().await, Some(1008));
    }
);

on_both_backends_with!(
    public_http_requests_are_limited_per_address_with_retry_after,
    tight,
    |app: TestApp| async move {
        let client = reqwest::Client::new();
        let url = app.url(&format!("/api/widget/config?site={}", app.site.site_key));
        for _ in 0..5 {
            let response = client
                .get(&url)
                .header("origin", SHOP_ORIGIN)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        let refused = client
            .get(&url)
            .header("origin", SHOP_ORIGIN)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 429);
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after >= 1);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }
);

on_both_backends_with!(
    a_visitor_keeps_only_their_newest_pages_and_tracked_events,
    |config: &mut Config| config.limits.frames_per_second = 0,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        for n in 0..130 {
            shopper
                .send(json!({"type": "page", "url": format!("https://shop.example/p{n}")}))
                .await;
            shopper
                .send(json!({"type": "track", "name": "viewed", "data": format!("{n}")}))
                .await;
        }
        for n in 0..100 {
            shopper
                .send(json!({"type": "track", "name": "viewed", "data": format!("{}", 130 + n)}))
                .await;
        }
        shopper.drain().await;
        let max_pages = rapport_server::store::MAX_PAGES_PER_VISITOR;
        let max_tracks = rapport_server::store::MAX_TRACKS_PER_VISITOR;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM page_views").await,
            max_pages
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM tracked_events").await,
            max_tracks
        );
        // The newest are the ones kept.
        assert_eq!(
            app.count("SELECT COUNT(*) FROM page_views WHERE url = 'https://shop.example/p129'")
                .await,
            1
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM page_views WHERE url = 'https://shop.example/p29'")
                .await,
            0
        );
    }
);

on_both_backends_with!(
    one_address_holds_only_so_many_connections_open,
    |config: &mut Config| config.limits.connections_per_ip = 3,
    |app: TestApp| async move {
        let mut open = Vec::new();
        for _ in 0..3 {
            open.push(socket_once_the_address_is_free(&app).await);
        }
        let fourth = app
            .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
            .await;
        assert!(fourth.is_err(), "the fourth connection is closed at once");
        // One leaves: room for another.
        drop(open.pop());
        socket_once_the_address_is_free(&app).await;
    }
);

/// A widget socket from the test's address once it holds no other
/// connection: a connection just dropped (the harness's health check, a
/// probe) is the address's until the server has seen it hang up, which on
/// a loaded machine takes a while.
async fn socket_once_the_address_is_free(app: &TestApp) -> common::Ws {
    for _ in 0..100 {
        if let Ok(socket) = app
            .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
            .await
        {
            return socket;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the address's other connections were never let go");
}

on_both_backends_with!(
    a_shopper_who_leaves_while_their_hello_waits_frees_their_connection_at_once,
    |config: &mut Config| config.limits.connections_per_ip = 1,
    |app: TestApp| async move {
        // The database is busy: a new visitor's hello waits for it.
        let held = app.hold_new_visitors().await;
        let mut waiting = socket_once_the_address_is_free(&app).await;
        waiting.send(json!({"type": "hello"})).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The shopper gives up (their browser drops the connection): the
        // server lets go of it at once, not when the database is free again.
        drop(waiting);
        let mut freed = false;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if app
                .widget_socket_from(&app.site.site_key, SHOP_ORIGIN)
                .await
                .is_ok()
            {
                freed = true;
                break;
            }
        }
        assert!(
            freed,
            "the connection was still held while its hello waited"
        );
        held.release().await;
        // Nothing is stuck: the next shopper is welcomed.
        let mut next = socket_once_the_address_is_free(&app).await;
        next.send(json!({"type": "hello"})).await;
        let welcome = next.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
    }
);

on_both_backends_with!(
    with_every_opening_slot_taken_a_new_socket_is_told_at_once_to_come_back,
    |config: &mut Config| config.limits.opening_sockets = 1,
    |app: TestApp| async move {
        let open = || app.widget_socket_from(&app.site.site_key, SHOP_ORIGIN);
        let mut first = open().await.unwrap();
        let mut second = open().await.unwrap();
        // The database is busy: the first hello waits, holding the slot.
        let held = app.hold_new_visitors().await;
        first.send(json!({"type": "hello"})).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A second hello is told to come back, and its socket closed so.
        second.send(json!({"type": "hello"})).await;
        let busy = second.next().await;
        assert_eq!(busy["code"], "unavailable", "{busy}");
        assert!(busy["message"].as_str().unwrap().contains("try again"));
        assert_eq!(second.closed().await, Some(1013));
        // A new socket is not even upgraded: 503 with Retry-After, at once.
        let started = std::time::Instant::now();
        match open().await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), 503);
                assert_eq!(response.headers()["retry-after"], "1");
            }
            Err(err) => panic!("unexpected socket error: {err}"),
            Ok(_) => panic!("a socket was opened past the limit"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        // The one in progress is served once the database answers, and
        // then there is room again.
        held.release().await;
        assert_eq!(first.next().await["type"], "welcome");
        assert_eq!(anonymous_hello(&app).await, Hello::Welcome);
    }
);

on_both_backends_with!(
    a_socket_whose_client_sends_nothing_of_its_own_is_closed,
    |config: &mut Config| config.socket_quiet_secs = 1,
    |app: TestApp| async move {
        let (mut quiet, _) = app.new_shopper().await;
        let (mut talking, _) = app.new_shopper().await;
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            talking.send(json!({"type": "ping"})).await;
            talking.expect("pong").await;
        }
        // Only WebSocket pongs (the client library answers pings by itself).
        assert_eq!(quiet.closed().await, Some(1001));
        talking.send(json!({"type": "ping"})).await;
        talking.expect("pong").await;
    }
);

on_both_backends_with!(
    a_site_has_its_own_allowance_whatever_the_addresses_and_another_site_is_not_affected,
    |config: &mut Config| {
        // Behind a proxy that names the client in X-Forwarded-For.
        config.client_ip_header = Some("x-forwarded-for".to_owned());
        config.limits.visitors_per_site = 3;
        config.limits.conversations_per_site = 2;
        config.limits.sockets_per_site = 6;
    },
    |app: TestApp| async move {
        let other_site = app
            .store
            .create_site(
                &app.site.account_id,
                "Other shop",
                &[SHOP_ORIGIN.to_owned()],
            )
            .await
            .unwrap();
        let hello = |site: String, n: u32| {
            let addr = app.addr;
            async move {
                // Each from its own address; the proxy's entry is the last.
                let forwarded = format!("198.51.100.9, 203.0.113.{n}");
                let mut ws =
                    common::widget_socket_with(addr, &site, &[("x-forwarded-for", &forwarded)])
                        .await
                        .unwrap();
                ws.send(json!({"type": "hello"})).await;
                let frame = ws.next().await;
                (ws, frame)
            }
        };
        let mut welcomed = Vec::new();
        for n in 0..4 {
            let (ws, frame) = hello(app.site.site_key.clone(), n).await;
            if frame["type"] == "welcome" {
                welcomed.push(ws);
            } else {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                assert_eq!(n, 3, "the site's fourth visitor in a minute");
            }
        }
        assert_eq!(welcomed.len(), 3);
        // Another site of the same server is served.
        let (_, frame) = hello(other_site.site_key.clone(), 9).await;
        assert_eq!(frame["type"], "welcome");

        // Two conversations a minute for the site, from three addresses.
        let mut answers = Vec::new();
        for (n, ws) in welcomed.iter_mut().enumerate() {
            answers.push(say(ws, &format!("c{n}"), "Hello").await);
        }
        assert_eq!(answers.iter().filter(|a| a["type"] == "ack").count(), 2);
        assert_eq!(answers[2]["code"], "rate_limited");
        assert_eq!(app.counts().await.1, 2);

        // Sockets: four above and two more make six for the site; the
        // seventh, from yet another address, gets no socket.
        for n in 10..12 {
            assert!(
                common::widget_socket_with(
                    app.addr,
                    &app.site.site_key,
                    &[("x-forwarded-for", &format!("203.0.113.{n}"))]
                )
                .await
                .is_ok()
            );
        }
        match common::widget_socket_with(
            app.addr,
            &app.site.site_key,
            &[("x-forwarded-for", "203.0.113.12")],
        )
        .await
        {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
            other => panic!("expected 429, got {:?}", other.map(|_| ())),
        }
    }
);

on_both_backends_with!(
    a_client_that_trickles_its_headers_or_its_body_is_cut_off,
    |config: &mut Config| {
        config.header_timeout_secs = 1;
        config.request_timeout_secs = 1;
    },
    |app: TestApp| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // The whole app, not only its (copied) address: it must live on.
        let app = app;
        // Headers that never end: the connection is closed.
        let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "closed within the wait");
        assert!(answer.is_empty(), "no answer to half a request");
        // A body that never comes: 408.
        let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        slow.write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"",
        )
        .await
        .unwrap();
        let mut answer = vec![0; 1024];
        let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
);

fn no_limits(config: &mut Config) {
    config.limits = LimitSettings::off();
}

on_both_backends_with!(
    a_socket_that_does_not_take_what_it_is_sent_is_closed,
    no_limits,
    |app: TestApp| async move {
        // A long conversation (250 messages of 4,000 characters).
        let (mut writer, token) = app.new_shopper().await;
        let body = "x".repeat(protocol::MAX_BODY_CHARS);
        let mut conversation = Value::Null;
        for batch in 0..5 {
            for i in batch * 50..(batch + 1) * 50 {
                writer
                    .send(json!({"type": "send", "client_id": format!("m{i}"), "body": body}))
                    .await;
            }
            for _ in 0..50 {
                conversation = writer.until("ack", |_| true).await["conversation_id"].clone();
            }
        }

        // A reader with a tiny receive buffer resumes it from the start and
        // never reads, though it keeps saying something (so it is not quiet).
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp.connect(app.addr).await.unwrap();
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/ws/widget?site={}",
            app.addr, app.site.site_key
        ))
        .unwrap();
        request
            .headers_mut()
            .insert("origin", SHOP_ORIGIN.parse().unwrap());
        let (mut reader, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .unwrap();
        let hello = json!({"type": "hello", "token": token, "conversation_id": conversation, "after_seq": 0});
        reader
            .send(tungstenite::Message::text(hello.to_string()))
            .await
            .unwrap();
        // The conversation goes on: more than the kernel's buffers hold
        // (a few MB) is on its way to the reader.
        for batch in 5..35 {
            for i in batch * 50..(batch + 1) * 50 {
                writer
                    .send(json!({"type": "send", "client_id": format!("m{i}"), "body": body}))
                    .await;
            }
            for _ in 0..50 {
                writer.until("ack", |_| true).await;
            }
        }
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let ping = json!({"type": "ping"}).to_string();
            if reader.send(tungstenite::Message::text(ping)).await.is_err() {
                break;
            }
        }
        // The server gave up on it (a send timed out, or its outbox filled):
        // behind what the buffers held, the connection ends.
        let mut frames = 0;
        let ended = loop {
            match tokio::time::timeout(
                Duration::from_secs(3),
                futures_util::StreamExt::next(&mut reader),
            )
            .await
            {
                Err(_) => break false,
                Ok(None | Some(Err(_) | Ok(tungstenite::Message::Close(_)))) => break true,
                Ok(Some(Ok(_))) => frames += 1,
            }
        };
        assert!(ended, "still open after {frames} frames were read");
    }
);
