//! The message writer's contract (group commit), over real sockets on both
//! backends: a message is acknowledged and fanned out only after its batch
//! committed; a batch that fails acknowledges none of its messages and
//! stores nothing of them; each sender's messages keep their order in the
//! log and on every socket, however many senders write at once; and a
//! `client_id` is stored once, whether its retry comes in a later batch,
//! the same batch or (PostgreSQL) through another process. A message
//! whose sender left before the writer took it is not written (it was never
//! acknowledged): the resend is stored once.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{TestApp, Ws};
use serde_json::{Value, json};

/// A shopper whose conversation Ada holds and follows: the shopper's and
/// the agent's sockets, the shopper's token and the conversation's id.
async fn held_chat(app: &TestApp, agent: &mut Ws, n: usize) -> (Ws, String, String) {
    let (mut shopper, token) = app.new_shopper().await;
    let ack = shopper.say(&format!("hello-{n}"), "Hello").await;
    let id = ack["conversation_id"].as_str().unwrap().to_owned();
    agent
        .send(json!({"type": "send", "conversation_id": id, "client_id": format!("claim-{n}"), "body": "Hi!"}))
        .await;
    agent
        .until("ack", |f| f["client_id"] == format!("claim-{n}"))
        .await;
    shopper
        .until("event", |f| f["event"]["body"]["message"]["text"] == "Hi!")
        .await;
    (shopper, token, id)
}

/// Stored events with this `client_id`.
async fn stored(app: &TestApp, client_id: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM events WHERE client_id = '{client_id}'"
    ))
    .await
}

fn is_message(frame: &Value, text: &str) -> bool {
    frame["type"] == "event" && frame["event"]["body"]["message"]["text"] == text
}

on_both_backends!(
    a_message_is_acknowledged_and_fanned_out_only_once_its_batch_is_committed,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _, _) = held_chat(&app, &mut agent, 0).await;
        agent.drain().await;

        let held = app.hold_writes().await;
        shopper
            .send(json!({"type": "send", "client_id": "m2", "body": "Is it in stock?"}))
            .await;
        let meanwhile = shopper.frames_within(Duration::from_millis(700)).await;
        assert!(
            meanwhile.iter().all(|f| f["type"] != "ack"),
            "no ack before the commit: {meanwhile:?}"
        );
        let agent_saw = agent.frames_within(Duration::from_millis(100)).await;
        assert!(
            !agent_saw.iter().any(|f| is_message(f, "Is it in stock?")),
            "nobody hears of it before the commit"
        );
        held.release().await;

        let ack = shopper.until("ack", |f| f["client_id"] == "m2").await;
        assert_eq!(
            stored(&app, "m2").await,
            1,
            "acknowledged means stored, already when the ack arrives"
        );
        let event = agent
            .until("event", |f| is_message(f, "Is it in stock?"))
            .await;
        assert_eq!(event["event"]["seq"], ack["seq"]);
    }
);

on_both_backends!(
    a_batch_that_fails_acknowledges_none_of_its_messages_and_stores_none,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let mut shoppers = Vec::new();
        for n in 0..4 {
            shoppers.push(held_chat(&app, &mut agent, n).await.0);
        }
        app.sql(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.body = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.body = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse_poison BEFORE INSERT ON events \
             FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
        )
        .await;
        let (_, _, events_before) = app.counts().await;

        // The writer is stuck on the first message while the others queue
        // up behind it: they make the next batch together, poison and all.
        let held = app.hold_writes().await;
        shoppers[0]
            .send(json!({"type": "send", "client_id": "first", "body": "first"}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        shoppers[1]
            .send(json!({"type": "send", "client_id": "bad", "body": "poison"}))
            .await;
        for (n, shopper) in shoppers.iter_mut().enumerate().skip(2) {
            shopper
                .send(json!({"type": "send", "client_id": format!("fine-{n}"), "body": "fine"}))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.release().await;

        let answer = |frame: &Value| frame["type"] == "ack" || frame["type"] == "error";
        let first = shoppers[0].until("ack", |_| true).await;
        assert_eq!(first["client_id"], "first", "the batch before is stored");
        for (n, shopper) in shoppers.iter_mut().enumerate().skip(1) {
            let frame = loop {
                let frame = shopper.next().await;
                if answer(&frame) {
                    break frame;
                }
            };
            assert_eq!(
                frame["type"], "error",
                "shopper {n}: its batch failed, so no ack: {frame}"
            );
            assert_eq!(frame["code"], "internal");
            let expected = if n == 1 {
                "bad".to_owned()
            } else {
                format!("fine-{n}")
            };
            assert_eq!(frame["client_id"], expected.as_str());
        }
        assert_eq!(
            app.counts().await.2,
            events_before + 1,
            "only the message before the failed batch is stored"
        );
        for n in 2..4 {
            assert_eq!(stored(&app, &format!("fine-{n}")).await, 0);
        }
        assert!(
            agent
                .frames_within(Duration::from_millis(300))
                .await
                .iter()
                .all(|f| !is_message(f, "fine") && !is_message(f, "poison")),
            "nothing of the failed batch is fanned out"
        );

        // Retried as the widget does (same client_id), each is stored once.
        for (n, shopper) in shoppers.iter_mut().enumerate().skip(2) {
            let ack = shopper.say(&format!("fine-{n}"), "fine").await;
            assert!(ack["seq"].as_i64().unwrap() > 0);
            assert_eq!(stored(&app, &format!("fine-{n}")).await, 1);
        }
    }
);

/// The stamps `s3`, `a7`… of a side's messages, in the order the socket
/// got them, with their seqs; events of other conversations are skipped.
fn live_seqs(frames: &[Value], conversation_id: &str) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == "event" && f["event"]["conversation_id"] == conversation_id)
        .map(|f| f["event"]["seq"].as_i64().unwrap())
        .collect()
}

on_both_backends_with!(
    each_senders_messages_keep_their_order_under_many_concurrent_senders,
    |config: &mut rapport_server::config::Config| {
        // As fast as the sockets go: the limits are not what is tested.
        config.offline_grace_secs = 0;
        config.limits.frames_per_second = 0;
        config.limits.messages_per_conversation = 0;
    },
    |app: TestApp| async move {
        const CHATS: usize = 6;
        const EACH: usize = 25;
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let mut chats = Vec::new();
        for n in 0..CHATS {
            let (shopper, _, id) = held_chat(&app, &mut agent, n).await;
            chats.push((shopper, id));
        }
        agent.drain().await;
        for (shopper, _) in &mut chats {
            shopper.drain().await;
        }

        // Everyone at once, without waiting for acks: the shoppers on their
        // own sockets, the agent interleaving all six conversations.
        let agent_frames = tokio::spawn({
            let ids: Vec<String> = chats.iter().map(|(_, id)| id.clone()).collect();
            async move {
                // One message per conversation in flight (an inbox that
                // never reads would be dropped for lagging).
                let mut frames = Vec::new();
                let mut acks = 0;
                for k in 0..EACH {
                    for (n, id) in ids.iter().enumerate() {
                        agent
                            .send(json!({"type": "send", "conversation_id": id, "client_id": format!("a{n}-{k}"), "body": format!("a{k}")}))
                            .await;
                    }
                    while acks < (k + 1) * CHATS {
                        let frame = agent.next().await;
                        acks += usize::from(frame["type"] == "ack");
                        frames.push(frame);
                    }
                }
                while acks < CHATS * EACH || live_total(&frames) < 2 * CHATS * EACH {
                    let frame = agent.next().await;
                    acks += usize::from(frame["type"] == "ack");
                    frames.push(frame);
                }
                frames
            }
        });
        let mut shopper_tasks = Vec::new();
        for (n, (mut shopper, id)) in chats.into_iter().enumerate() {
            shopper_tasks.push(tokio::spawn(async move {
                for k in 0..EACH {
                    shopper
                        .send(json!({"type": "send", "client_id": format!("s{n}-{k}"), "body": format!("s{k}")}))
                        .await;
                }
                let mut frames = Vec::new();
                let mut acks = 0;
                while acks < EACH || live_seqs(&frames, &id).len() < 2 * EACH {
                    let frame = shopper.next().await;
                    acks += usize::from(frame["type"] == "ack");
                    frames.push(frame);
                }
                (id, frames)
            }));
        }
        let agent_frames = agent_frames.await.unwrap();
        for task in shopper_tasks {
            let (id, frames) = task.await.unwrap();
            let seqs = live_seqs(&frames, &id);
            assert!(
                seqs.windows(2).all(|w| w[0] < w[1]),
                "the shopper's socket gets its conversation's events in seq order: {seqs:?}"
            );
            let agent_seqs = live_seqs(&agent_frames, &id);
            assert!(
                agent_seqs.windows(2).all(|w| w[0] < w[1]),
                "the agent's socket too: {agent_seqs:?}"
            );
            // The log: seqs without gaps or repeats, each sender in order.
            let events = app.store.events_after(&id, 0, 1000).await.unwrap();
            let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
            assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
            let mut by_sender: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for event in &events {
                let (Some(client_id), protocol::EventBody::Message { text, .. }) =
                    (&event.client_id, &event.body)
                else {
                    continue;
                };
                if client_id.starts_with('s') || client_id.starts_with('a') {
                    let side = &client_id[..1];
                    by_sender
                        .entry(side)
                        .or_default()
                        .push(text[1..].parse().unwrap());
                }
            }
            for (side, order) in by_sender {
                assert_eq!(
                    order,
                    (0..EACH).collect::<Vec<_>>(),
                    "{side}'s messages of {id} are stored once each, in the order sent"
                );
            }
            // Each ack names the seq the message was stored at.
            let acked: HashMap<String, i64> = frames
                .iter()
                .filter(|f| f["type"] == "ack")
                .map(|f| {
                    (
                        f["client_id"].as_str().unwrap().to_owned(),
                        f["seq"].as_i64().unwrap(),
                    )
                })
                .collect();
            for event in &events {
                if let Some(seq) = event.client_id.as_ref().and_then(|c| acked.get(c)) {
                    assert_eq!(*seq, event.seq);
                }
            }
        }
    }
);

/// Live events the agent's socket got, all conversations together.
fn live_total(frames: &[Value]) -> usize {
    frames
        .iter()
        .filter(|f| f["type"] == "event" && f["event"]["body"]["message"].is_object())
        .count()
}

on_both_backends!(
    a_client_id_is_stored_once_across_batches_within_one_and_across_processes,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, token, id) = held_chat(&app, &mut agent, 0).await;

        // A later batch: the same visitor, reconnected, sends it again.
        let first = shopper.say("m1", "Where is my parcel?").await;
        let mut again = app.widget_socket().await;
        again
            .send(json!({"type": "hello", "token": token, "conversation_id": id, "after_seq": 0}))
            .await;
        again.expect("welcome").await;
        let retry = again.say("m1", "Where is my parcel?").await;
        assert_eq!(retry["seq"], first["seq"], "answered with the first seq");
        assert_eq!(stored(&app, "m1").await, 1);

        // The same batch: while the writer waits on the agent's message,
        // both tabs send it, and it queues up twice behind.
        let held = app.hold_writes().await;
        agent
            .send(json!({"type": "send", "conversation_id": id, "client_id": "blocker", "body": "One moment."}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        shopper
            .send(json!({"type": "send", "client_id": "m2", "body": "Hello?"}))
            .await;
        again
            .send(json!({"type": "send", "client_id": "m2", "body": "Hello?"}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.release().await;
        let one = shopper.until("ack", |f| f["client_id"] == "m2").await;
        let other = again.until("ack", |f| f["client_id"] == "m2").await;
        assert_eq!(one["seq"], other["seq"]);
        assert_eq!(stored(&app, "m2").await, 1);

        // An agent's retry too.
        let reply = agent
            .say_in(&id, "r1", "It left the warehouse today.")
            .await;
        let reply_again = agent
            .say_in(&id, "r1", "It left the warehouse today.")
            .await;
        assert_eq!(reply["seq"], reply_again["seq"]);
        assert_eq!(stored(&app, "r1").await, 1);

        // Two processes on one PostgreSQL database, the same retries to
        // both at once: the database's unique index decides.
        if app.database_url.starts_with("postgres") {
            let other_server = app.another_server().await;
            let mut elsewhere =
                common::widget_socket_at(other_server, &app.site.site_key, common::SHOP_ORIGIN)
                    .await
                    .unwrap();
            elsewhere
                .send(
                    json!({"type": "hello", "token": token, "conversation_id": id, "after_seq": 0}),
                )
                .await;
            elsewhere.expect("welcome").await;
            for k in 0..20 {
                let client_id = format!("both-{k}");
                let frame =
                    json!({"type": "send", "client_id": client_id, "body": format!("both {k}")});
                shopper.send(frame.clone()).await;
                elsewhere.send(frame).await;
                let here = shopper.until("ack", |f| f["client_id"] == client_id).await;
                let there = elsewhere
                    .until("ack", |f| f["client_id"] == client_id)
                    .await;
                assert_eq!(here["seq"], there["seq"], "{client_id}");
                assert_eq!(stored(&app, &client_id).await, 1, "{client_id}");
            }
        }
        let events = app.store.events_after(&id, 0, 1000).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=events.len() as i64).collect::<Vec<_>>(),
            "refused retries leave no gap in the seqs"
        );
    }
);

on_both_backends!(
    a_message_whose_sender_left_before_the_writer_took_it_is_left_for_the_resend,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut first, _, _) = held_chat(&app, &mut agent, 0).await;
        let (mut second, token, id) = held_chat(&app, &mut agent, 1).await;

        let held = app.hold_writes().await;
        // The writer takes the first message and waits for the database...
        first
            .send(json!({"type": "send", "client_id": "taken", "body": "Taken"}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        // ...while the second waits for the writer, and its sender leaves.
        second
            .send(json!({"type": "send", "client_id": "left", "body": "Left"}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(second);
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.release().await;

        // What the writer had taken is stored and acknowledged; what nobody
        // waited for any more was never acknowledged, and is not written.
        first.until("ack", |f| f["client_id"] == "taken").await;
        // The writer goes in order: once a later message is acknowledged,
        // the one queued before it has been dealt with.
        first
            .send(json!({"type": "send", "client_id": "later", "body": "Later"}))
            .await;
        first.until("ack", |f| f["client_id"] == "later").await;
        assert_eq!(stored(&app, "taken").await, 1);
        assert_eq!(stored(&app, "left").await, 0);

        // The shopper comes back and sends it again, as the widget does:
        // stored once, acknowledged, and the agent gets it.
        let mut again = app.widget_socket().await;
        again
            .send(json!({"type": "hello", "token": token, "conversation_id": id, "after_seq": 0}))
            .await;
        again.expect("welcome").await;
        again
            .send(json!({"type": "send", "client_id": "left", "body": "Left"}))
            .await;
        again.until("ack", |f| f["client_id"] == "left").await;
        assert_eq!(stored(&app, "left").await, 1);
        agent.until("event", |f| is_message(f, "Left")).await;
    }
);
