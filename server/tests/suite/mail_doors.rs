//! Every channel is a door, tried as an attacker would, on both backends:
//! names that would inject mail headers, mail a stranger asks for, email
//! replies past the chat's allowance, an address holding the SMTP listener,
//! blocked shoppers by link, email and another browser, spam conversations
//! taking seats, junk frames, and guesses at an owner's password. Each
//! refusal is checked as the client sees it, and that nothing was stored
//! or sent. Real SMTP both ways, on local ports.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::smtp::{SmtpListener, deliver, free_addr};
use common::{TestApp, Ws, is_assigned};
use futures_util::SinkExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use mail_parser::MessageParser;
use rapport_server::config::Config;
use rapport_server::store::{SiteUpdate, now_ms};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const REPLY_DOMAIN: &str = "reply.shop.test";
const GRACE: &str = "grace@example.com";

/// A server with outbound mail to `smtp`, inbound SMTP, unseen replies
/// mailed after a second, and the config adjusted by `more`.
async fn mail_app(
    backend: common::Backend,
    smtp: &SmtpListener,
    more: impl FnOnce(&mut Config) + Send + 'static,
) -> Option<(TestApp, SocketAddr)> {
    let inbound = free_addr();
    let smtp_url = smtp.url();
    let app = TestApp::start_with(backend, move |config| {
        config.offline_grace_secs = 0;
        config.smtp_url = Some(smtp_url);
        config.inbound_smtp_addr = Some(inbound);
        config.inbound_webhook_secret = Some("webhook secret".to_owned());
        config.reply_domain = Some(REPLY_DOMAIN.to_owned());
        config.mail_retry_secs = 1;
        config.mail_tick_ms = 100;
        config.mail_from = "Rapport <chat@shop.test>".to_owned();
        more(config);
    })
    .await?;
    set_delay(&app, &app.site.id).await;
    Some((app, inbound))
}

async fn set_delay(app: &TestApp, site_id: &str) {
    app.store
        .update_site(
            site_id,
            SiteUpdate {
                name: None,
                allowed_origins: None,
                settings: None,
                email_delay_secs: Some(Some(1)),
            },
        )
        .await
        .unwrap();
}

/// Runs the body once per backend with a mail server and `more` config.
macro_rules! through_the_doors {
    ($name:ident, $more:expr, $body:expr) => {
        mod $name {
            use super::*;
            async fn run(backend: common::Backend) {
                let smtp = SmtpListener::start().await;
                let Some((app, inbound)) = mail_app(backend, &smtp, $more).await else {
                    return;
                };
                ($body)(app, smtp, inbound).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(common::Backend::Postgres).await;
            }
        }
    };
}

fn unchanged(_: &mut Config) {}

/// A shopper of `site_key` who gave `email`, asked something, and was
/// given to the online agent `agent` follows: (shopper, conversation id).
async fn shopper_with_email(
    app: &TestApp,
    agent: &mut Ws,
    site_key: &str,
    email: &str,
    question: &str,
) -> (Ws, String) {
    let mut shopper = common::widget_socket_at(app.addr, site_key, common::SHOP_ORIGIN)
        .await
        .unwrap();
    shopper.send(json!({"type": "hello"})).await;
    shopper.expect("welcome").await;
    shopper
        .send(json!({"type": "email", "address": email}))
        .await;
    let id = shopper.say("m1", question).await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    shopper.until("event", is_assigned).await;
    agent
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    (shopper, id)
}

async fn reply(agent: &mut Ws, conversation_id: &str, client_id: &str, body: &str) {
    agent
        .send(json!({"type": "send", "conversation_id": conversation_id, "client_id": client_id, "body": body}))
        .await;
    agent.until("ack", |f| f["client_id"] == client_id).await;
}

async fn notes(app: &TestApp, id: &str) -> Vec<String> {
    app.store
        .events_after(id, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.body {
            protocol::EventBody::Note { text } => Some(text),
            _ => None,
        })
        .collect()
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not within 15 s: {what}");
}

through_the_doors!(
    names_never_make_headers_and_a_mail_that_cannot_be_built_fails_alone,
    unchanged,
    |app: TestApp, smtp: SmtpListener, _inbound: SocketAddr| async move {
        // The console takes one-line names only…
        let owner = app.owner_cookie().await;
        let (status, _) = app
            .call(
                reqwest::Method::PATCH,
                &format!("/api/admin/sites/{}", app.site.id),
                &owner,
                Some(&json!({"name": "Shop\r\nBcc: victim@evil.example"}).to_string()),
            )
            .await;
        assert_eq!(status, 400);
        // …and a name stored before that rule (written here directly) still
        // makes no header: a tenant who named their site and agent to inject.
        app.store
            .update_site(
                &app.site.id,
                SiteUpdate {
                    name: Some("Shop\r\nBcc: victim@evil.example"),
                    allowed_origins: None,
                    settings: None,
                    email_delay_secs: None,
                },
            )
            .await
            .unwrap();
        app.sql(
            "UPDATE agents SET name = 'Ada' || char(10) || 'To: x@evil.example'",
            "UPDATE agents SET name = 'Ada' || chr(10) || 'To: x@evil.example'",
        )
        .await;
        let other = app
            .store
            .create_site(
                &app.agent.account_id,
                "Other shop",
                &[common::SHOP_ORIGIN.to_owned()],
            )
            .await
            .unwrap();
        set_delay(&app, &other.id).await;
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (injecting, injecting_id) =
            shopper_with_email(&app, &mut agent, &app.site.site_key, GRACE, "Hello?").await;
        // A page whose URL has a character across the allowed origin's end.
        let mut teasing = injecting;
        teasing
            .send(json!({"type": "page", "url": format!("{}é/x", &common::SHOP_ORIGIN[..common::SHOP_ORIGIN.len() - 1])}))
            .await;
        // A stored address the mailer cannot write (from before it was refused at the door).
        let (broken, broken_id) = shopper_with_email(
            &app,
            &mut agent,
            &app.site.site_key,
            "bob@example.com",
            "Hi there",
        )
        .await;
        app.sql(
            "UPDATE visitors SET stated_email = 'ada..b@shop.example' WHERE stated_email = 'bob@example.com'",
            "UPDATE visitors SET stated_email = 'ada..b@shop.example' WHERE stated_email = 'bob@example.com'",
        )
        .await;
        let (fine, fine_id) = shopper_with_email(
            &app,
            &mut agent,
            &other.site_key,
            "carol@example.com",
            "Me too",
        )
        .await;
        drop((broken, fine));
        // An address the mailer could not write is refused at the door.
        teasing
            .send(json!({"type": "email", "address": "ada..b@shop.example"}))
            .await;
        let refused = teasing.until("error", |_| true).await;
        assert_eq!(refused["code"], "bad_request");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("is not an email address"),
            "{refused}"
        );
        // The teasing shopper asks for the transcript: answered, their
        // socket alive (a link to prove the typed address goes first).
        teasing.send(json!({"type": "transcript"})).await;
        let queued = teasing.until("transcript_queued", |_| true).await;
        assert_eq!(queued["email"], GRACE);
        teasing.send(json!({"type": "ping"})).await;
        teasing.expect("pong").await;
        drop(teasing);
        reply(&mut agent, &injecting_id, "r1", "It left today.").await;
        reply(&mut agent, &broken_id, "r2", "Yes.").await;
        reply(&mut agent, &fine_id, "r3", "Sure.").await;

        // Every good mail goes out: the injecting tenant's, cleaned…
        wait_for("the unseen reply", async || {
            smtp.mails_to(GRACE)
                .iter()
                .any(|m| m.data.contains("It left today."))
        })
        .await;
        let mail = smtp
            .mails_to(GRACE)
            .into_iter()
            .find(|m| m.data.contains("It left today."))
            .unwrap();
        assert_eq!(mail.to, vec![GRACE.to_owned()], "to the shopper alone");
        let parsed = MessageParser::default()
            .parse(mail.data.as_bytes())
            .unwrap();
        let header = |name: &str| {
            parsed
                .headers()
                .iter()
                .filter(|h| h.name().eq_ignore_ascii_case(name))
                .count()
        };
        assert_eq!((header("To"), header("Bcc"), header("From")), (1, 0, 1));
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("chat@shop.test"));
        let name = from.name().unwrap();
        assert!(!name.contains(['\r', '\n']), "{name:?}");
        assert!(
            name.contains("Bcc: victim@evil.example"),
            "shown as words: {name:?}"
        );
        // …and the other site's, though one conversation's could not be built.
        smtp.mail_to("carol@example.com").await;
        wait_for("the broken mail is noted", async || {
            notes(&app, &broken_id)
                .await
                .iter()
                .any(|n| n.contains("could not be emailed"))
        })
        .await;
        assert!(smtp.mails_to("ada..b@shop.example").is_empty());
        let state = app.store.mail_state(&broken_id).await.unwrap().unwrap();
        assert_eq!(state.unseen_since, None, "not first in line for ever");

        // The unseen reply of the teasing page's conversation went out too,
        // its link on the site's own origin (the page's was no URL).
        let replies: Vec<_> = smtp
            .mails_to(GRACE)
            .into_iter()
            .filter(|m| m.data.contains("It left today."))
            .collect();
        assert_eq!(replies.len(), 1);
        assert!(
            replies[0]
                .data
                .contains(&format!("{}/#rapport-continue=", common::SHOP_ORIGIN)),
            "{}",
            replies[0].data
        );
    }
);

through_the_doors!(
    mail_a_stranger_asks_for_goes_only_where_it_was_proved,
    |config: &mut Config| config.limits.mail_asks_per_ip = 6,
    |app: TestApp, smtp: SmtpListener, _inbound: SocketAddr| async move {
        app.store
            .set_agent_capacity(&app.agent.id, Some(20))
            .await
            .unwrap();
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let victim = "victim@example.com";
        // An address that opted out gets nothing a stranger asks for.
        app.store
            .opt_out(&app.site.id, "quiet@example.com")
            .await
            .unwrap();
        let before = app.count("SELECT COUNT(*) FROM mail_outbox").await;
        let (mut quiet, _) = shopper_with_email(
            &app,
            &mut agent,
            &app.site.site_key,
            "quiet@example.com",
            "hi",
        )
        .await;
        quiet.send(json!({"type": "transcript"})).await;
        let refused = quiet.until("error", |_| true).await;
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("asked not to be emailed")
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM mail_outbox").await, before);

        // A stranger types someone else's address and asks, again and again.
        let mut answers = Vec::new();
        for n in 0..5 {
            let (mut stranger, _) = shopper_with_email(
                &app,
                &mut agent,
                &app.site.site_key,
                victim,
                &format!("Spam with a link {n}: https://evil.example"),
            )
            .await;
            stranger.send(json!({"type": "transcript"})).await;
            loop {
                let frame = stranger.next().await;
                if frame["type"] == "transcript_queued" || frame["type"] == "error" {
                    answers.push(frame);
                    break;
                }
            }
        }
        assert!(
            answers[..3]
                .iter()
                .all(|a| a["type"] == "transcript_queued" && a["confirm_first"] == true),
            "{answers:?}"
        );
        assert!(
            answers[3..].iter().all(|a| a["code"] == "rate_limited"),
            "{answers:?}"
        );
        wait_for("three links", async || smtp.mails_to(victim).len() == 3).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mails = smtp.mails_to(victim);
        assert_eq!(mails.len(), 3, "three links a day to one address, no more");
        for mail in &mails {
            assert!(
                !mail.data.contains("evil.example") && !mail.data.contains("Spam with a link"),
                "nothing the stranger wrote: {}",
                mail.data
            );
        }
        // The network's allowance of mail asks is spent too.
        let (mut seventh, _) = shopper_with_email(
            &app,
            &mut agent,
            &app.site.site_key,
            "someone@example.com",
            "more",
        )
        .await;
        seventh.send(json!({"type": "transcript"})).await;
        let refused = seventh.until("error", |_| true).await;
        assert_eq!(refused["code"], "rate_limited");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("emails asked for"),
            "{refused}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            smtp.mails_to("someone@example.com").is_empty(),
            "nothing sent"
        );

        // The owner sees the volume and the refusals.
        let owner = app.owner_cookie().await;
        let (status, sites) = app
            .call(
                reqwest::Method::GET,
                &format!("/api/admin/sites/{}", app.site.id),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 200);
        let mail = &sites["mail"]["status"];
        assert!(mail["queued_today"].as_i64().unwrap() >= 3, "{mail}");
        assert!(
            mail["asked_by_shoppers_today"].as_i64().unwrap() >= 3,
            "{mail}"
        );
        assert!(mail["refused_today"].as_i64().unwrap() >= 2, "{mail}");
        assert!(
            mail["refusals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["recipient"] == victim && r["kind"] == "confirm"),
            "{mail}"
        );
    }
);

/// What a shop's backend signs for its customer `sub`.
fn customer_token(app: &TestApp, secret: &str, sub: &str) -> String {
    encode(
        &Header::default(),
        &json!({
            "sub": sub, "aud": app.site.site_key, "exp": now_ms() / 1000 + 600,
            "name": "Grace Hopper", "email": GRACE,
        }),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A new browser of the shop that identifies with `token`; its socket,
/// past the answer (a welcome or an error).
async fn identified(app: &TestApp, token: &str) -> (Ws, Value) {
    let mut ws = app.widget_socket().await;
    ws.send(json!({"type": "hello"})).await;
    ws.expect("welcome").await;
    ws.send(json!({"type": "identify", "token": token})).await;
    loop {
        let answer = ws.next().await;
        if answer["type"] == "welcome" || answer["type"] == "error" {
            return (ws, answer);
        }
    }
}

through_the_doors!(
    the_verified_customer_s_own_address_needs_no_proof,
    unchanged,
    |app: TestApp, smtp: SmtpListener, _inbound: SocketAddr| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let _agent = app.online_inbox_of(&app.agent.email).await;
        let (mut grace, welcome) = identified(&app, &customer_token(&app, &secret, "cust-7")).await;
        assert_eq!(welcome["type"], "welcome");
        grace.say("m1", "Where is my parcel?").await;
        grace.send(json!({"type": "transcript"})).await;
        let queued = grace.until("transcript_queued", |_| true).await;
        assert!(queued.get("confirm_first").is_none(), "{queued}");
        let mail = smtp.mail_to(GRACE).await;
        assert!(mail.data.contains("Where is my parcel?"), "{}", mail.data);
    }
);

through_the_doors!(
    email_replies_count_against_the_chat_s_allowance,
    |config: &mut Config| config.limits.messages_per_conversation = 3,
    |app: TestApp, smtp: SmtpListener, inbound: SocketAddr| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (shopper, id) =
            shopper_with_email(&app, &mut agent, &app.site.site_key, GRACE, "Hello?").await;
        drop(shopper);
        reply(&mut agent, &id, "r1", "Hi!").await;
        let mail = smtp.mail_to(GRACE).await;
        let parsed = MessageParser::default()
            .parse(mail.data.as_bytes())
            .unwrap();
        let reply_to = parsed
            .reply_to()
            .and_then(|r| r.first())
            .and_then(|a| a.address())
            .unwrap()
            .to_owned();
        let (_, _, before) = app.counts().await;
        // Three a minute, as in the chat; the chat's first message opened
        // the conversation (counted as a new conversation).
        let mut answers = Vec::new();
        for n in 0..4 {
            let raw = format!(
                "From: Grace <{GRACE}>\r\nTo: {reply_to}\r\nSubject: Re\r\nMessage-ID: <r{n}@example.com>\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\nEmail reply {n}\r\n"
            );
            let (rcpt, end) = deliver(inbound, GRACE, &[&reply_to], &raw).await;
            assert!(rcpt[0].starts_with("250"), "{rcpt:?}");
            answers.push(end.unwrap());
        }
        assert!(
            answers[..3].iter().all(|a| a.starts_with("250")),
            "{answers:?}"
        );
        assert!(
            answers[3].starts_with("451 4.7.1"),
            "over the allowance: try later, {answers:?}"
        );
        let (_, _, after) = app.counts().await;
        assert_eq!(after, before + 3, "what was refused is not stored");
    }
);

/// Opens an SMTP connection from `from` (a loopback address of this
/// machine) and reads the greeting.
async fn smtp_greeting(from: &str, to: SocketAddr) -> (tokio::net::TcpStream, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut stream = socket
        .connect(to)
        .await
        .unwrap_or_else(|e| panic!("connecting from {from} to {to}: {e}"));
    let mut line = String::new();
    let mut reader = BufReader::new(&mut stream);
    tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    (stream, line)
}

through_the_doors!(
    one_address_cannot_hold_the_smtp_listener,
    unchanged,
    |app: TestApp, _smtp: SmtpListener, inbound: SocketAddr| async move {
        // The server lives as long as this test's app.
        let _serving = app;
        let mut idle = Vec::new();
        for _ in 0..4 {
            let (stream, greeting) = smtp_greeting("127.0.0.1", inbound).await;
            assert!(greeting.starts_with("220"), "{greeting}");
            idle.push(stream);
        }
        let (_, refused) = smtp_greeting("127.0.0.1", inbound).await;
        assert!(refused.starts_with("421 4.7.0"), "{refused}");
        // Another address is served meanwhile.
        let (mut other, greeting) = smtp_greeting("127.0.0.2", inbound).await;
        assert!(greeting.starts_with("220"), "{greeting}");
        other.write_all(b"QUIT\r\n").await.unwrap();
        // The idle ones gone, the first address is served again.
        drop(idle);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (_, greeting) = smtp_greeting("127.0.0.1", inbound).await;
        assert!(greeting.starts_with("220"), "{greeting}");
    }
);

through_the_doors!(
    a_block_holds_on_every_channel_until_it_is_lifted,
    unchanged,
    |app: TestApp, smtp: SmtpListener, inbound: SocketAddr| async move {
        let secret = app.store.rotate_site_secret(&app.site.id, 0).await.unwrap();
        let token = customer_token(&app, &secret, "cust-9");
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut laptop, _) = identified(&app, &token).await;
        let id = laptop.say("m1", "Buy cheap watches").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        laptop.until("event", is_assigned).await;
        agent
            .send(json!({"type": "open", "conversation_id": id}))
            .await;
        laptop.send(json!({"type": "transcript"})).await;
        let letter = smtp.mail_to(GRACE).await;
        let text = MessageParser::default()
            .parse(letter.data.as_bytes())
            .unwrap()
            .body_text(0)
            .unwrap()
            .into_owned();
        let resume = text
            .split_whitespace()
            .find_map(|w| {
                w.split_once("#rapport-continue=")
                    .map(|(_, t)| t.to_owned())
            })
            .unwrap();
        let reply_to = MessageParser::default()
            .parse(letter.data.as_bytes())
            .unwrap()
            .reply_to()
            .and_then(|r| r.first())
            .and_then(|a| a.address())
            .unwrap()
            .to_owned();

        let cookie = app.login(&app.agent.email).await;
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                &format!("/api/conversations/{id}/block"),
                &cookie,
                Some(&json!({"reason": "Spam"}).to_string()),
            )
            .await;
        assert_eq!(status, 204);
        let (_, _, events) = app.counts().await;

        // The link of the earlier mail: refused, and the socket ends.
        let mut phone = app.widget_socket().await;
        phone.send(json!({"type": "hello", "resume": resume})).await;
        assert_eq!(phone.next().await["code"], "blocked");
        // The same customer on another browser: refused, and it ends.
        let (mut other, answer) = identified(&app, &token).await;
        assert_eq!(answer["code"], "blocked");
        assert!(other.closed().await.is_some());
        // An email reply to the earlier mail: refused at RCPT, for good.
        let raw = format!(
            "From: {GRACE}\r\nTo: {reply_to}\r\nSubject: Re\r\nMessage-ID: <b1@example.com>\r\n\r\nLet me back\r\n"
        );
        let (rcpt, end) = deliver(inbound, GRACE, &[&reply_to], &raw).await;
        assert!(rcpt[0].starts_with("550 5.7.1"), "{rcpt:?}");
        assert!(end.is_none());
        // And by the provider's webhook.
        let hook = reqwest::Client::new()
            .post(app.url(&format!("/api/mail/inbound?to={reply_to}")))
            .header("authorization", "Bearer webhook secret")
            .body(raw.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(hook.status(), 403);
        assert_eq!(app.counts().await.2, events, "nothing stored");

        // Lifted: every door opens again.
        let owner = app.owner_cookie().await;
        let (_, blocks) = app
            .call(reqwest::Method::GET, "/api/admin/blocks", &owner, None)
            .await;
        let block_id = blocks[0]["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/admin/blocks/{block_id}"),
                &owner,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let (rcpt, end) = deliver(inbound, GRACE, &[&reply_to], &raw).await;
        assert!(rcpt[0].starts_with("250"), "{rcpt:?}");
        assert!(end.unwrap().starts_with("250"));
        let (_, answer) = identified(&app, &token).await;
        assert_eq!(answer["type"], "welcome");
        let mut phone = app.widget_socket().await;
        phone.send(json!({"type": "hello", "resume": resume})).await;
        assert_eq!(phone.next().await["type"], "welcome");
    }
);

on_both_backends_with!(
    seats_are_not_for_spammers,
    |config: &mut Config| {
        config.limits.open_conversations_per_ip = 2;
        config.limits.after_close_secs = 2;
    },
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut first, _) = app.new_shopper().await;
        let first_id = first.say("s1", "Spam 1").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        first.until("event", is_assigned).await;
        let (mut second, _) = app.new_shopper().await;
        second.say("s2", "Spam 2").await;
        second.until("event", is_assigned).await;
        let (_, conversations, events) = app.counts().await;
        // A third chat from the same network: refused, nothing stored.
        let (mut third, _) = app.new_shopper().await;
        third
            .send(json!({"type": "send", "client_id": "s3", "body": "Spam 3"}))
            .await;
        let refused = third.until("error", |_| true).await;
        assert_eq!(refused["code"], "rate_limited");
        assert_eq!(refused["client_id"], "s3");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("already open"),
            "{refused}"
        );
        assert_eq!(app.counts().await.1, conversations);
        assert_eq!(app.counts().await.2, events);

        // The agent closes the first: a seat frees, and the first shopper's
        // next chat waits a while.
        agent
            .send(json!({"type": "close", "conversation_id": first_id}))
            .await;
        first
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        first
            .send(json!({"type": "send", "client_id": "s4", "body": "Again"}))
            .await;
        let waits = first.until("error", |_| true).await;
        assert_eq!(waits["code"], "rate_limited");
        assert!(
            waits["message"].as_str().unwrap().contains("just closed"),
            "{waits}"
        );
        // Someone else from the network takes the free seat meanwhile.
        third
            .send(json!({"type": "send", "client_id": "s5", "body": "A real question"}))
            .await;
        assert_eq!(third.until("ack", |_| true).await["client_id"], "s5");
        // After the wait, the first may chat again once a seat is free.
        agent.drain().await;
        for held in app.store.inbox(&app.agent, 100).await.unwrap() {
            agent
                .send(json!({"type": "close", "conversation_id": held.id}))
                .await;
        }
        agent.drain().await;
        second.drain().await;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        first
            .send(json!({"type": "send", "client_id": "s6", "body": "Back again"}))
            .await;
        assert_eq!(first.until("ack", |_| true).await["client_id"], "s6");
    }
);

on_both_backends!(
    junk_frames_count_and_close_the_socket,
    |app: TestApp| async move {
        let (mut shopper, _) = app.new_shopper().await;
        for junk in ["not json", r#"{"type":"dance"}"#, r#"{"type":"send"}"#] {
            shopper.send_text(junk.to_owned()).await;
            assert_eq!(shopper.next().await["type"], "error");
        }
        for _ in 0..20 {
            shopper.send_text("{{{".to_owned()).await;
        }
        assert_eq!(shopper.closed().await, Some(1008), "closed like a flood");

        // A flood of junk is stopped as soon as it floods.
        let (mut flood, _) = app.new_shopper().await;
        let started = std::time::Instant::now();
        for _ in 0..1500 {
            if flood
                .0
                .send(tokio_tungstenite::tungstenite::Message::Binary(
                    vec![0xff].into(),
                ))
                .await
                .is_err()
            {
                break;
            }
        }
        assert_eq!(flood.closed().await, Some(1008));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
);

/// A sign-in as `email` from `ip` (behind the proxy header), with the
/// cookies this browser holds: status and the response.
async fn sign_in_from(app: &TestApp, ip: &str, cookies: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .header("cookie", cookies)
        .json(&json!({"email": app.agent.email, "password": password}))
        .send()
        .await
        .unwrap()
}

through_the_doors!(
    the_lockout_keeps_attackers_out_and_owners_in,
    |config: &mut Config| config.client_ip_header = Some("X-Forwarded-For".to_owned()),
    |app: TestApp, smtp: SmtpListener, _inbound: SocketAddr| async move {
        app.owner_cookie().await;
        // The owner signed in once from their browser, which remembers it.
        let first = sign_in_from(&app, "198.51.100.1", "", common::PASSWORD).await;
        assert_eq!(first.status(), 200);
        let device = first
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("rapport_device="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        // Someone guesses, from another network: locked out after five.
        let mut statuses = Vec::new();
        for _ in 0..9 {
            statuses.push(
                sign_in_from(&app, "203.0.113.9", "", "wrong password!")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(&statuses[..6], &[401, 401, 401, 401, 401, 401]);
        assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
        // The owner's browser gets in with the right password, even from
        // the attacker's very network…
        let back = sign_in_from(&app, "203.0.113.9", &device, common::PASSWORD).await;
        assert_eq!(back.status(), 200);
        // …and is told of the guesses.
        let profile: Value = back.json().await.unwrap();
        assert_eq!(profile["failed_sign_ins"], 6, "{profile}");
        // From their usual network, a new browser gets in too.
        assert_eq!(
            sign_in_from(&app, "198.51.100.7", "", common::PASSWORD)
                .await
                .status(),
            200
        );
        // The owner heard of it by mail, once.
        let notice = smtp.mail_to(&app.agent.email).await;
        assert!(
            notice.data.contains("Wrong passwords were tried"),
            "{}",
            notice.data
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(smtp.mails_to(&app.agent.email).len(), 1);
    }
);
