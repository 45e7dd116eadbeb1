//! Email as a second channel of the same conversation, with real SMTP both
//! ways on local ports, on both backends: replies the shopper did not see
//! go out once, batched, after the site's delay (and not if they came
//! back); their email reply comes back into the same conversation (by SMTP
//! and by the webhook) without the quoted history; a mail server that is
//! down delays mail and loses none; hostile and automatic mail is refused
//! or noted as documented, and nothing lands in the wrong conversation.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use common::smtp::{Mail, SmtpListener, deliver, free_addr};
use common::{TestApp, Ws, is_assigned};
use mail_parser::MessageParser;
use rapport_server::mail::tokens::{MailKey, Purpose};
use rapport_server::store::{SiteUpdate, now_ms};
use serde_json::{Value, json};

const REPLY_DOMAIN: &str = "reply.shop.test";
const WEBHOOK_SECRET: &str = "a webhook secret for tests";
const GRACE: &str = "grace@example.com";
/// How often these servers look at mail due, in milliseconds.
const MAIL_TICK_MS: u64 = 100;

/// Long enough for mail due after `delay_secs` to have gone, had it been
/// going to: the delay and a few of the mail room's looks.
fn quiet_after(delay_secs: u64) -> Duration {
    Duration::from_secs(delay_secs) + Duration::from_millis(5 * MAIL_TICK_MS)
}

/// A server that mails through `smtp`, receives mail by SMTP on `inbound`
/// and by the webhook, with the test site emailing unseen replies after
/// `delay_secs`.
struct Mailroom {
    app: TestApp,
    smtp: SmtpListener,
    inbound: SocketAddr,
}

/// The server of a mail room: (app, inbound SMTP address).
async fn mail_app(
    backend: common::Backend,
    smtp_url: String,
    delay_secs: i64,
) -> Option<(TestApp, SocketAddr)> {
    let inbound = free_addr();
    let app = TestApp::start_with(backend, move |config| {
        config.offline_grace_secs = 0;
        config.smtp_url = Some(smtp_url);
        config.inbound_smtp_addr = Some(inbound);
        config.inbound_webhook_secret = Some(WEBHOOK_SECRET.to_owned());
        config.reply_domain = Some(REPLY_DOMAIN.to_owned());
        config.mail_retry_secs = 1;
        config.mail_tick_ms = MAIL_TICK_MS;
        config.mail_from = "Rapport <chat@shop.test>".to_owned();
    })
    .await?;
    app.store
        .update_site(
            &app.site.id,
            SiteUpdate {
                name: None,
                allowed_origins: None,
                settings: None,
                email_delay_secs: Some(Some(delay_secs)),
            },
        )
        .await
        .unwrap();
    Some((app, inbound))
}

/// Runs the body once per backend with a mail room whose mail server is up.
macro_rules! with_mail {
    ($name:ident, $delay:expr, $body:expr) => {
        mod $name {
            use super::*;
            async fn run(backend: common::Backend) {
                let smtp = SmtpListener::start().await;
                let Some((app, inbound)) = mail_app(backend, smtp.url(), $delay).await else {
                    return;
                };
                ($body)(Mailroom { app, smtp, inbound }).await;
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

/// A shopper who gave their email and asked something, and the online
/// agent holding the chat: (shopper, agent inbox, conversation id).
async fn a_chat(app: &TestApp) -> (Ws, Ws, String) {
    let mut agent = app.online_inbox_of(&app.agent.email).await;
    let (mut shopper, _) = app.new_shopper().await;
    shopper
        .send(json!({"type": "email", "address": GRACE}))
        .await;
    let id = shopper.say("m1", "Where is order 1042?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    agent
        .until("conversation", |f| {
            f["conversation"]["id"] == id.as_str()
                && f["conversation"]["state"]["assigned"].is_object()
        })
        .await;
    agent
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    (shopper, agent, id)
}

/// The agent replies and waits for the ack.
async fn reply(agent: &mut Ws, conversation_id: &str, client_id: &str, body: &str) -> Value {
    agent
        .send(json!({"type": "send", "conversation_id": conversation_id, "client_id": client_id, "body": body}))
        .await;
    agent.until("ack", |f| f["client_id"] == client_id).await
}

fn parse(mail: &Mail) -> mail_parser::Message<'static> {
    MessageParser::default()
        .parse(mail.data.as_bytes())
        .expect("a MIME message")
        .into_owned()
}

fn text_of(mail: &Mail) -> String {
    parse(mail).body_text(0).unwrap_or_default().into_owned()
}

fn reply_to_of(mail: &Mail) -> String {
    let message = parse(mail);
    message
        .reply_to()
        .and_then(|r| r.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_owned()
}

/// An email reply as a mail client writes it: new text above, history quoted.
fn email_reply(from: &str, to: &str, new_text: &str, message_id: &str) -> String {
    format!(
        "From: Grace <{from}>\r\nTo: {to}\r\nSubject: Re: Your conversation with Shop\r\n\
         Message-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {new_text}\r\n\r\nOn Mon, Dec 1, 2026 at 2:02 PM Shop <{to}> wrote:\r\n> It left today.\r\n"
    )
}

/// Events of the conversation, as stored.
async fn log(app: &TestApp, id: &str) -> Vec<protocol::Event> {
    app.store.events_after(id, 0, 1000).await.unwrap()
}

fn texts(events: &[protocol::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            protocol::EventBody::Message { text, .. } | protocol::EventBody::Note { text } => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

with_mail!(
    unseen_replies_go_out_once_batched_after_the_delay_and_the_email_reply_comes_back,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, inbound } = room;
        let (shopper, mut agent, id) = a_chat(&app).await;
        // The shopper leaves; two replies in a row find nobody.
        drop(shopper);
        reply(&mut agent, &id, "a1", "It left our warehouse today.").await;
        reply(&mut agent, &id, "a2", "Tracking number: 12345.").await;
        let mail = smtp.mail_to(GRACE).await;
        let text = text_of(&mail);
        assert!(text.contains("It left our warehouse today."), "{text}");
        assert!(text.contains("Tracking number: 12345."), "{text}");
        assert!(
            !text.contains("Where is order 1042?"),
            "the shopper's own words go only to an address they proved: {text}"
        );
        let message = parse(&mail);
        assert_eq!(message.subject(), Some("Your conversation with Shop"));
        assert_eq!(
            message.in_reply_to().as_text(),
            Some(format!("conversation.{id}@{REPLY_DOMAIN}").as_str())
        );
        assert!(message.header_raw("List-Unsubscribe").is_some());
        let reply_to = reply_to_of(&mail);
        assert!(
            reply_to.starts_with("reply+") && reply_to.ends_with(REPLY_DOMAIN),
            "{reply_to}"
        );
        // Agents see that it went; only once, whatever the ticks.
        agent
            .until("event", |f| {
                f["event"]["body"]["note"]["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&format!("Emailed to {GRACE}: 2 replies")))
            })
            .await;
        tokio::time::sleep(quiet_after(1)).await;
        assert_eq!(smtp.mails_to(GRACE).len(), 1, "one email for both replies");

        // The shopper answers by email, history quoted below.
        let answer = email_reply(
            GRACE,
            &reply_to,
            "The blue one, please.",
            "answer-1@example.com",
        );
        let (rcpt, end) = deliver(inbound, GRACE, &[&reply_to], &answer).await;
        assert!(rcpt[0].starts_with("250"), "{rcpt:?}");
        assert!(end.unwrap().starts_with("250"));
        let live = agent.until("event", |f| f["event"]["via"] == "email").await;
        assert_eq!(
            live["event"]["body"]["message"]["text"],
            "The blue one, please."
        );
        assert_eq!(live["event"]["via"], "email");
        assert_eq!(live["event"]["conversation_id"], id.as_str());
        // A mail server delivering it again makes no second message.
        let (_, end) = deliver(inbound, GRACE, &[&reply_to], &answer).await;
        assert!(end.unwrap().starts_with("250"));
        // The same through the provider's webhook.
        let hook = email_reply(GRACE, &reply_to, "And gift wrap?", "answer-2@example.com");
        let (status, body) = webhook(&app, &hook, Some(&reply_to)).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["outcome"], "message");
        agent
            .until("event", |f| {
                f["event"]["body"]["message"]["text"] == "And gift wrap?"
            })
            .await;
        let stored = texts(&log(&app, &id).await);
        assert_eq!(
            stored
                .iter()
                .filter(|t| t.as_str() == "The blue one, please.")
                .count(),
            1,
            "{stored:?}"
        );
        assert!(
            !stored.iter().any(|t| t.contains("It left today.")),
            "history cut: {stored:?}"
        );
        // The agent's answer to that, unseen again, is another email later.
        reply(&mut agent, &id, "a3", "Wrapped!").await;
        for _ in 0..100 {
            if smtp.mails_to(GRACE).len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mails = smtp.mails_to(GRACE);
        assert_eq!(mails.len(), 2);
        let second = text_of(&mails[1]);
        assert!(
            second.contains("Wrapped!") && !second.contains("Tracking number"),
            "{second}"
        );
    }
);

with_mail!(
    a_shopper_who_comes_back_before_the_delay_gets_no_email,
    3,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        let ack = reply(&mut agent, &id, "a1", "Here it is.").await;
        // The widget is open and visible: it tells what the shopper saw.
        shopper
            .send(json!({"type": "read", "conversation_id": id, "seq": ack["seq"]}))
            .await;
        shopper.drain().await;
        let state = app.store.mail_state(&id).await.unwrap().unwrap();
        assert_eq!(state.unseen_since, None, "nothing waits unseen");
        tokio::time::sleep(quiet_after(3)).await;
        assert!(smtp.mails_to(GRACE).is_empty(), "no email");
        // A read of someone else's conversation changes nothing.
        let (mut stranger, _) = app.new_shopper().await;
        reply(&mut agent, &id, "a2", "Anything else?").await;
        stranger
            .send(json!({"type": "read", "conversation_id": id, "seq": 99}))
            .await;
        stranger.drain().await;
        assert!(
            app.store
                .mail_state(&id)
                .await
                .unwrap()
                .unwrap()
                .unseen_since
                .is_some()
        );
    }
);

/// Posts a raw mail to the inbound webhook.
async fn webhook(app: &TestApp, raw: &str, to: Option<&str>) -> (u16, Value) {
    webhook_with(app, raw.as_bytes().to_vec(), to, Some(WEBHOOK_SECRET)).await
}

async fn webhook_with(
    app: &TestApp,
    raw: Vec<u8>,
    to: Option<&str>,
    secret: Option<&str>,
) -> (u16, Value) {
    let mut url = app.url("/api/mail/inbound");
    if let Some(to) = to {
        url.push_str(&format!("?to={}", to.replace('+', "%2B")));
    }
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "message/rfc822")
        .body(raw);
    if let Some(secret) = secret {
        request = request.header("authorization", format!("Bearer {secret}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

with_mail!(
    hostile_and_automatic_mail_is_refused_or_noted_and_never_misfiled,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, inbound } = room;
        let (shopper, mut agent, id) = a_chat(&app).await;
        drop(shopper);
        reply(&mut agent, &id, "a1", "On its way.").await;
        let reply_to = reply_to_of(&smtp.mail_to(GRACE).await);
        // Another shopper's conversation, which must stay untouched.
        let (mut other, _) = app.new_shopper().await;
        let other_id = other.say("o1", "Unrelated").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        // (It may be assigned meanwhile; what matters is what is said in it.)
        let other_before = texts(&log(&app, &other_id).await);
        let before = log(&app, &id).await.len();

        // Forged: the right shape, another installation's signature.
        let conversation = uuid::Uuid::parse_str(&id).unwrap();
        let far = u32::try_from(now_ms() / 1000 + 3600).unwrap();
        let forged = format!(
            "reply+{}@{REPLY_DOMAIN}",
            MailKey::new("not this installation's key").sign(Purpose::Reply, conversation, far)
        );
        let (rcpt, _) = deliver(inbound, GRACE, &[&forged], "Subject: x\r\n\r\nhi").await;
        assert!(rcpt[0].starts_with("550"), "{rcpt:?}");
        // Expired: signed by us, but its time is up.
        let key = MailKey::new(&app.store.server_key("mail").await.unwrap());
        let past = u32::try_from(now_ms() / 1000 - 60).unwrap();
        let expired = format!(
            "reply+{}@{REPLY_DOMAIN}",
            key.sign(Purpose::Reply, conversation, past)
        );
        let (rcpt, _) = deliver(inbound, GRACE, &[&expired], "Subject: x\r\n\r\nhi").await;
        assert!(
            rcpt[0].starts_with("550") && rcpt[0].contains("expired"),
            "{rcpt:?}"
        );
        // A continue-link token is no reply address.
        let wrong_purpose = format!(
            "reply+{}@{REPLY_DOMAIN}",
            key.sign(Purpose::Continue, conversation, far)
        );
        let (rcpt, _) = deliver(inbound, GRACE, &[&wrong_purpose], "Subject: x\r\n\r\nhi").await;
        assert!(rcpt[0].starts_with("550"), "{rcpt:?}");
        // Nobody of ours at all.
        let (rcpt, _) = deliver(
            inbound,
            GRACE,
            &["someone@elsewhere.test"],
            "Subject: x\r\n\r\nhi",
        )
        .await;
        assert!(rcpt[0].starts_with("550"), "{rcpt:?}");
        // Too large: refused whole.
        let line = format!("{}\r\n", "x".repeat(76));
        let huge = format!(
            "From: {GRACE}\r\nTo: {reply_to}\r\n\r\n{}",
            line.repeat(11 * 1024 * 1024 / line.len())
        );
        let (_, end) = deliver(inbound, GRACE, &[&reply_to], &huge).await;
        assert!(end.unwrap().starts_with("552"));
        // One byte over the limit: the server reads it all before it
        // refuses (a client still writing a larger body would see the
        // connection close under it).
        let over = huge.as_bytes()[..rapport_server::mail::parse::MAX_MAIL_BYTES + 1].to_vec();
        let (status, body) = webhook_with(&app, over, Some(&reply_to), Some(WEBHOOK_SECRET)).await;
        assert_eq!(status, 413, "{body}");
        assert_eq!(body["error"]["code"], "too_large");
        // Not MIME at all.
        let (status, _) = webhook_with(
            &app,
            vec![0xff, 0xfe, 0x00],
            Some(&reply_to),
            Some(WEBHOOK_SECRET),
        )
        .await;
        assert_eq!(status, 400);
        // The webhook without (or with a wrong) secret.
        let plain = email_reply(GRACE, &reply_to, "sneaky", "s1@example.com");
        let (status, _) =
            webhook_with(&app, plain.clone().into_bytes(), Some(&reply_to), None).await;
        assert_eq!(status, 401);
        let (status, _) =
            webhook_with(&app, plain.into_bytes(), Some(&reply_to), Some("guess")).await;
        assert_eq!(status, 401);
        assert_eq!(log(&app, &id).await.len(), before, "nothing stored so far");

        // An out-of-office reply: a note for the agents, no message, no email back.
        let auto = email_reply(
            GRACE,
            &reply_to,
            "I am away until Monday.",
            "ooo@example.com",
        )
        .replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:");
        let (_, end) = deliver(inbound, GRACE, &[&reply_to], &auto).await;
        assert!(end.unwrap().starts_with("250"));
        // A bounce: the empty sender.
        let bounce = format!(
            "From: MAILER-DAEMON@example.com\r\nTo: {reply_to}\r\nSubject: Undelivered\r\n\r\nNo such user"
        );
        let (_, end) = deliver(inbound, "", &[&reply_to], &bounce).await;
        assert!(end.unwrap().starts_with("250"));
        // From another address, with a valid token: taken, and marked.
        let stranger = email_reply(
            "someone@else.test",
            &reply_to,
            "It's her husband.",
            "h1@else.test",
        );
        let (_, end) = deliver(inbound, "someone@else.test", &[&reply_to], &stranger).await;
        assert!(end.unwrap().starts_with("250"));
        agent
            .until("event", |f| {
                f["event"]["body"]["note"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("not from grace@example.com"))
            })
            .await;
        let stored = log(&app, &id).await;
        let new: Vec<protocol::Event> = stored
            .into_iter()
            .filter(|e| e.seq > i64::try_from(before).unwrap())
            .collect();
        let messages: Vec<&protocol::Event> = new
            .iter()
            .filter(|e| matches!(e.body, protocol::EventBody::Message { .. }))
            .collect();
        assert_eq!(
            messages.len(),
            1,
            "only the person's mail is a message: {new:?}"
        );
        assert_eq!(messages[0].via, protocol::Channel::Email);
        let notes = texts(&new);
        assert!(
            notes
                .iter()
                .any(|t| t.starts_with("An automatic reply came by email")),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|t| t.contains("could not be delivered")),
            "{notes:?}"
        );
        assert!(
            !notes.iter().any(|t| t == "I am away until Monday."),
            "not a message"
        );
        assert_eq!(
            texts(&log(&app, &other_id).await),
            other_before,
            "nothing misfiled"
        );
        tokio::time::sleep(quiet_after(1)).await;
        assert_eq!(smtp.mails_to(GRACE).len(), 1, "no mail answers a machine");
        // Nothing crashed: the listener still takes a good mail.
        let good = email_reply(GRACE, &reply_to, "Thanks!", "t1@example.com");
        let (_, end) = deliver(inbound, GRACE, &[&reply_to], &good).await;
        assert!(end.unwrap().starts_with("250"));
        drop(other);
    }
);

with_mail!(
    transcripts_continue_links_and_unsubscribing,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let (mut shopper, mut agent, id) = a_chat(&app).await;
        let ack = reply(&mut agent, &id, "a1", "Hello Grace!").await;
        shopper
            .send(json!({"type": "read", "conversation_id": id, "seq": ack["seq"]}))
            .await;
        // The shopper asks for the transcript from the widget: the address
        // was only typed, so a link to prove it goes there first, with
        // nothing of the chat in it.
        shopper.send(json!({"type": "transcript"})).await;
        let queued = shopper.until("transcript_queued", |_| true).await;
        assert_eq!(queued["email"], GRACE);
        assert_eq!(queued["confirm_first"], true);
        let confirm = smtp.mail_to(GRACE).await;
        assert_eq!(
            parse(&confirm).subject(),
            Some("Confirm your email address for Shop")
        );
        let asking = text_of(&confirm);
        assert!(
            !asking.contains("Where is order 1042?") && !asking.contains("Hello Grace!"),
            "{asking}"
        );
        let path = asking
            .split_whitespace()
            .find_map(|w| {
                w.split_once("/mail/confirm/")
                    .map(|(_, t)| format!("/mail/confirm/{t}"))
            })
            .unwrap();
        // Following the link asks first (a mail scanner proves nothing)…
        let page = reqwest::get(app.url(&path)).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("<form method=\"post\">")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(smtp.mails_to(GRACE).len(), 1, "nothing sent on a look");
        // …and the button proves it: the transcript follows.
        let done = reqwest::Client::new()
            .post(app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("on its way"));
        for _ in 0..100 {
            if smtp.mails_to(GRACE).len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mail = smtp.mails_to(GRACE)[1].clone();
        let used = reqwest::Client::new()
            .post(app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(used.status(), 410, "a link proves once");
        let message = parse(&mail);
        assert_eq!(
            message.subject(),
            Some("Transcript of your conversation with Shop")
        );
        let text = text_of(&mail);
        assert!(
            text.contains("Where is order 1042?") && text.contains("Hello Grace!"),
            "{text}"
        );
        // The agent sends one too; then the day's allowance is spent.
        agent
            .send(json!({"type": "send_transcript", "conversation_id": id}))
            .await;
        agent
            .until("event", |f| {
                f["event"]["body"]["note"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("as Ada asked"))
            })
            .await;
        shopper.send(json!({"type": "transcript"})).await;
        shopper.until("transcript_queued", |_| true).await;
        shopper.send(json!({"type": "transcript"})).await;
        let refused = shopper.until("error", |_| true).await;
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("3 transcripts a day"),
            "{refused}"
        );
        // A bad address is refused with the reason.
        shopper
            .send(json!({"type": "transcript", "email": "not an address"}))
            .await;
        let refused = shopper.until("error", |_| true).await;
        assert_eq!(refused["code"], "bad_request");

        // The link in the mail brings a new browser back into this conversation.
        let link = text
            .split_whitespace()
            .find(|w| w.contains("#rapport-continue="))
            .unwrap()
            .to_owned();
        assert!(
            link.starts_with(common::SHOP_ORIGIN),
            "back on the shop's page: {link}"
        );
        let token = link.split("#rapport-continue=").nth(1).unwrap();
        let mut phone = app.widget_socket().await;
        phone.send(json!({"type": "hello", "resume": token})).await;
        let welcome = phone.expect("welcome").await;
        assert_eq!(welcome["conversation_id"], id.as_str());
        let history = phone.drain_events().await;
        assert!(
            history
                .iter()
                .any(|f| f["event"]["body"]["message"]["text"] == "Hello Grace!")
        );
        // Its token stands for the shopper from now on, next to the old one.
        let again = welcome["visitor_token"].as_str().unwrap();
        let mut later = app.widget_socket().await;
        later.send(json!({"type": "hello", "token": again})).await;
        assert_eq!(
            later.expect("welcome").await["conversation_id"],
            id.as_str()
        );
        // A forged link is no sign-in: a new visitor, nothing of Grace's.
        let mut mallory = app.widget_socket().await;
        mallory
            .send(json!({"type": "hello", "resume": "a".repeat(53)}))
            .await;
        let welcome = mallory.expect("welcome").await;
        assert!(welcome["conversation_id"].is_null(), "{welcome}");

        // Unsubscribing: a page that asks first, then no more mail.
        let unsubscribe = parse(&mail)
            .header_raw("List-Unsubscribe")
            .unwrap()
            .trim()
            .trim_matches(['<', '>'])
            .to_owned();
        let path = unsubscribe
            .split_once("/mail/")
            .map(|(_, p)| format!("/mail/{p}"))
            .unwrap();
        let page = reqwest::get(app.url(&path)).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("<form method=\"post\">")
        );
        assert!(
            !app.store.is_opted_out(&app.site.id, GRACE).await.unwrap(),
            "asking is not doing"
        );
        let done = reqwest::Client::new()
            .post(app.url(&path))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(app.store.is_opted_out(&app.site.id, GRACE).await.unwrap());
        // The link and the three transcripts went before that.
        for _ in 0..100 {
            if smtp.mails_to(GRACE).len() == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sent = smtp.mails_to(GRACE).len();
        assert_eq!(sent, 4);
        drop(shopper);
        reply(&mut agent, &id, "a2", "Anything else?").await;
        tokio::time::sleep(quiet_after(1)).await;
        assert_eq!(
            smtp.mails_to(GRACE).len(),
            sent,
            "an unsubscribed address gets nothing"
        );
        let bad = reqwest::get(app.url("/mail/unsubscribe/nonsense"))
            .await
            .unwrap();
        assert_eq!(bad.status(), 404);
    }
);

/// A mail server that is down delays the mail; when it is back, the mail
/// arrives, once.
async fn mail_survives_a_mail_server_that_was_down(backend: common::Backend) {
    let down = free_addr();
    let Some((app, _)) = mail_app(backend, format!("smtp://{down}"), 1).await else {
        return;
    };
    let app = &app;
    let (shopper, mut agent, id) = a_chat(app).await;
    drop(shopper);
    reply(
        &mut agent,
        &id,
        "a1",
        "Sent while the mail server was down.",
    )
    .await;
    // The attempt fails and is retried with backoff.
    let mut failed = false;
    for _ in 0..100 {
        let status = app.store.mail_status(&app.site.id).await.unwrap();
        if status
            .problems
            .iter()
            .any(|p| p.recipient == GRACE && !p.given_up)
        {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed, "the failure is visible");
    let smtp = SmtpListener::start_on(down).await;
    let mail = smtp.mail_to(GRACE).await;
    assert!(text_of(&mail).contains("Sent while the mail server was down."));
    tokio::time::sleep(quiet_after(1)).await;
    assert_eq!(smtp.mails_to(GRACE).len(), 1, "once");
    let status = app.store.mail_status(&app.site.id).await.unwrap();
    assert_eq!((status.waiting, status.sent, status.failed), (0, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_survives_a_mail_server_that_was_down_on_sqlite() {
    mail_survives_a_mail_server_that_was_down(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_survives_a_mail_server_that_was_down_on_postgres() {
    mail_survives_a_mail_server_that_was_down(common::Backend::Postgres).await;
}

with_mail!(
    a_team_only_site_never_names_an_agent_by_email_and_speaks_the_shoppers_language,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let settings = protocol::SiteSettings {
            agent_display: protocol::AgentDisplay::TeamOnly,
            ..protocol::SiteSettings::default()
        };
        app.set_site_settings(&settings).await;
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let mut shopper = app.widget_socket().await;
        shopper
            .send(json!({"type": "hello", "language": "nl-NL"}))
            .await;
        shopper.expect("welcome").await;
        shopper
            .send(json!({"type": "email", "address": GRACE}))
            .await;
        let id = shopper.say("m1", "Waar is mijn pakket?").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        agent
            .until("conversation", |f| f["conversation"]["id"] == id.as_str())
            .await;
        drop(shopper);
        reply(&mut agent, &id, "a1", "Het is onderweg.").await;
        let mail = smtp.mail_to(GRACE).await;
        assert!(
            !mail.data.contains("Ada"),
            "no person's name anywhere: {}",
            mail.data
        );
        let message = parse(&mail);
        assert_eq!(message.subject(), Some("Je gesprek met Shop"));
        let from = message.from().and_then(|f| f.first()).unwrap();
        assert_eq!(from.name(), Some("Shop"));
        assert_eq!(from.address(), Some("chat@shop.test"));
        assert!(text_of(&mail).contains("Het is onderweg."));
    }
);

/// A reply with files attached, as a phone's mail app sends it.
fn reply_with_files(to: &str, text: &str, files: &[(&str, &str, &[u8])]) -> String {
    use base64::Engine as _;
    let mut mail = format!(
        "From: {GRACE}\r\nTo: {to}\r\nSubject: Re: Your conversation\r\nMessage-ID: <files-1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    );
    for (name, content_type, bytes) in files {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        mail.push_str(&format!(
            "--b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        ));
    }
    mail.push_str("--b1--\r\n");
    mail
}

with_mail!(
    files_come_in_by_email_and_go_out_as_links,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let (shopper, mut agent, id) = a_chat(&app).await;
        drop(shopper);
        // The agent's reply carries a PDF; the unseen-reply mail links to it.
        let cookie = app.login(&app.agent.email).await;
        let pdf: &[u8] = b"%PDF-1.4\n%%EOF\n";
        let uploaded: Value = reqwest::Client::new()
            .post(app.url("/api/files?name=label.pdf"))
            .header("cookie", cookie)
            .body(pdf.to_vec())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        agent
            .send(json!({"type": "send", "conversation_id": id, "client_id": "a1", "body": "Your return label", "files": [uploaded["id"]]}))
            .await;
        agent.until("ack", |f| f["client_id"] == "a1").await;
        let mail = smtp.mail_to(GRACE).await;
        let text = text_of(&mail);
        let link_start = text.find("/files/").expect("a link to the file");
        assert!(text.contains("label.pdf"), "{text}");
        let link: String = text[link_start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let message = parse(&mail);
        assert_eq!(message.attachment_count(), 0, "links, never the files");
        let fetched = reqwest::get(app.url(&link)).await.unwrap();
        assert_eq!(fetched.status(), 200, "{link}");
        assert_eq!(fetched.bytes().await.unwrap().as_ref(), pdf);

        // Grace answers with a photo, a PDF and a program.
        let reply_to = reply_to_of(&mail);
        let photo = include_bytes!("../fixtures/gps-photo.jpg");
        let raw = reply_with_files(
            &reply_to,
            "Here is the parcel",
            &[
                ("parcel.jpg", "image/jpeg", photo.as_slice()),
                ("receipt.pdf", "application/pdf", pdf),
                (
                    "setup.exe",
                    "application/octet-stream",
                    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
                ),
            ],
        );
        let (status, body) = webhook(&app, &raw, Some(&reply_to)).await;
        assert_eq!(status, 202, "{body}");
        let live = agent.until("event", |f| f["event"]["via"] == "email").await;
        let message = &live["event"]["body"]["message"];
        assert_eq!(message["text"], "Here is the parcel");
        let names: Vec<&str> = message["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["parcel.jpg", "receipt.pdf"]);
        let kept = reqwest::get(app.url(message["files"][0]["url"].as_str().unwrap()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(
            !kept.windows(10).any(|w| w == b"PhoneMaker"),
            "stripped as in chat"
        );
        let note = agent
            .until("event", |f| {
                f["event"]["body"]["note"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("setup.exe"))
            })
            .await;
        assert!(
            note["event"]["body"]["note"]["text"]
                .as_str()
                .unwrap()
                .contains("not kept"),
            "{note}"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM files WHERE name = 'setup.exe'")
                .await,
            0
        );
    }
);

with_mail!(
    an_email_reply_to_a_closed_chat_reopens_it_within_the_window_and_after_it_starts_anew,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let (shopper, mut agent, id) = a_chat(&app).await;
        drop(shopper);
        reply(&mut agent, &id, "a1", "It left our warehouse today.").await;
        let reply_to = reply_to_of(&smtp.mail_to(GRACE).await);
        agent
            .send(json!({"type": "close", "conversation_id": id}))
            .await;
        agent
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        // Within the window: the same conversation, open again, back to the
        // agent who had it.
        let answer = email_reply(GRACE, &reply_to, "It never came.", "late-1@example.com");
        let (status, body) = webhook(&app, &answer, Some(&reply_to)).await;
        assert_eq!(status, 202, "{body}");
        let reopened = agent
            .until("event", |f| f["event"]["body"]["reopened"].is_object())
            .await;
        assert_eq!(reopened["event"]["conversation_id"], id.as_str());
        assert_eq!(
            reopened["event"]["body"]["reopened"]["why"],
            "customer_wrote"
        );
        let message = agent.until("event", |f| f["event"]["via"] == "email").await;
        assert_eq!(message["event"]["conversation_id"], id.as_str());
        agent
            .until("event", |f| {
                f["event"]["conversation_id"] == id.as_str() && is_assigned(f)
            })
            .await;
        assert_eq!(
            app.holder_of(&id).await.as_deref(),
            Some(app.agent.id.as_str())
        );
        // Closed longer than the window: a new conversation, linked.
        agent
            .send(json!({"type": "close", "conversation_id": id}))
            .await;
        agent
            .until("event", |f| {
                f["event"]["conversation_id"] == id.as_str() && f["event"]["body"] == "closed"
            })
            .await;
        app.sql(
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
            "UPDATE conversations SET closed_at = closed_at - 8 * 86400000",
        )
        .await;
        let later = email_reply(
            GRACE,
            &reply_to,
            "A week on: still nothing.",
            "late-2@example.com",
        );
        let (status, body) = webhook(&app, &later, Some(&reply_to)).await;
        assert_eq!(status, 202, "{body}");
        let summary = agent
            .until("conversation", |f| {
                f["conversation"]["last_message"] == "A week on: still nothing."
            })
            .await;
        assert_eq!(summary["conversation"]["previous_id"], id.as_str());
        let newer = summary["conversation"]["id"].as_str().unwrap();
        assert_ne!(newer, id);
        let newer = app.store.conversation(newer).await.unwrap().unwrap();
        assert_eq!(newer.previous_id.as_deref(), Some(id.as_str()));
        assert_eq!(
            app.store.conversation(&id).await.unwrap().unwrap().state,
            protocol::ConversationState::Closed
        );
    }
);

with_mail!(
    a_shopper_who_left_is_asked_by_mail_how_the_chat_was_unless_closed_without_asking,
    1,
    |room: Mailroom| async move {
        let Mailroom { app, smtp, .. } = room;
        let rate_ask = "How was your chat? Tell us in the chat, with one click:";
        let (shopper, mut agent, id) = a_chat(&app).await;
        // The shopper leaves; the agent answers and ends the chat.
        drop(shopper);
        reply(&mut agent, &id, "a1", "It left our warehouse today.").await;
        agent
            .send(json!({"type": "close", "conversation_id": id}))
            .await;
        let mail = smtp.mail_to(GRACE).await;
        let text = text_of(&mail);
        assert!(text.contains("It left our warehouse today."), "{text}");
        let asked = text.split_once(rate_ask).map(|(_, after)| after.trim());
        let link = asked
            .and_then(|after| after.lines().next())
            .unwrap_or_else(|| panic!("no rating asked: {text}"));
        assert!(link.contains("#rapport-continue="), "{link}");
        let html = parse(&mail).body_html(0).unwrap_or_default().into_owned();
        assert!(html.contains("Rate this chat"), "{html}");

        // Closed without asking: the letter does not ask.
        let (shopper, mut agent, other) = a_chat(&app).await;
        drop(shopper);
        reply(&mut agent, &other, "b1", "Spam, closing.").await;
        agent
            .send(json!({"type": "close", "conversation_id": other, "skip_rating": true}))
            .await;
        for _ in 0..100 {
            if smtp.mails_to(GRACE).len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let quiet = text_of(&smtp.mails_to(GRACE)[1]);
        assert!(quiet.contains("Spam, closing."), "{quiet}");
        assert!(!quiet.contains(rate_ask), "{quiet}");
    }
);
