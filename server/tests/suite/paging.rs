//! A long conversation is never sent whole: a (re)connecting widget or
//! inbox gets at most one page, the newest, and asks for earlier pages.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, Ws};
use rapport_server::config::Config;
use rapport_server::limits::LimitSettings;
use serde_json::{Value, json};

const PAGE: i64 = protocol::REPLAY_PAGE;

/// Frames until the pong of a ping sent now (a waiting shopper also
/// hears of their place in line).
async fn until_pong(ws: &mut Ws) -> Vec<Value> {
    let mut frames = ws.drain().await;
    frames.retain(|f| f["type"] != "queue");
    frames
}

fn seqs(frames: &[Value], kind: &str) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["type"] == kind)
        .map(|f| f["event"]["seq"].as_i64().unwrap())
        .collect()
}

on_both_backends_with!(
    a_long_conversation_is_replayed_one_page_at_a_time,
    |config: &mut Config| config.limits = LimitSettings::off(),
    |app: TestApp| async move {
        let (mut shopper, token) = app.new_shopper().await;
        let total = 2 * PAGE + 50;
        let mut id = String::new();
        for n in 0..total {
            let ack = shopper.say(&format!("m{n}"), &format!("Message {n}")).await;
            id = ack["conversation_id"].as_str().unwrap().to_owned();
        }

        // A new device: the newest page only, and where it starts.
        let mut device = app.widget_socket().await;
        device
            .send(json!({"type": "hello", "token": token, "conversation_id": id, "after_seq": 0}))
            .await;
        let welcome = device.expect("welcome").await;
        assert_eq!(welcome["replay_from"], total - PAGE + 1);
        let frames = until_pong(&mut device).await;
        let replayed = seqs(&frames, "event");
        assert_eq!(replayed, ((total - PAGE + 1)..=total).collect::<Vec<_>>());

        // A short gap is filled whole.
        let mut back = app.widget_socket().await;
        back.send(json!({"type": "hello", "token": token, "conversation_id": id, "after_seq": total - 10}))
            .await;
        assert_eq!(back.expect("welcome").await["replay_from"], total - 9);
        assert_eq!(seqs(&until_pong(&mut back).await, "event").len(), 10);

        // Earlier pages on demand, oldest first, each saying where it starts.
        device
            .send(json!({"type": "earlier", "conversation_id": id, "before_seq": total - PAGE + 1}))
            .await;
        let page = until_pong(&mut device).await;
        assert!(
            page.iter()
                .filter(|f| f["type"] == "earlier")
                .all(|f| f["from_seq"] == total - 2 * PAGE + 1)
        );
        assert_eq!(
            seqs(&page, "earlier"),
            ((total - 2 * PAGE + 1)..=(total - PAGE)).collect::<Vec<_>>()
        );
        device
            .send(json!({"type": "earlier", "conversation_id": id, "before_seq": total - 2 * PAGE + 1}))
            .await;
        let last = until_pong(&mut device).await;
        assert_eq!(
            seqs(&last, "earlier"),
            (1..=(total - 2 * PAGE)).collect::<Vec<_>>()
        );
        assert!(
            last.iter()
                .filter(|f| f["type"] == "earlier")
                .all(|f| f["from_seq"] == 1)
        );

        // Another shopper cannot page through it.
        let (mut stranger, _) = app.new_shopper().await;
        stranger
            .send(json!({"type": "earlier", "conversation_id": id, "before_seq": 100}))
            .await;
        assert_eq!(stranger.expect("error").await["code"], "not_found");

        // The inbox: the same page on open, and earlier ones as one frame.
        let (mut agent, _) = app.agent_socket().await;
        agent
            .send(json!({"type": "open", "conversation_id": id, "after_seq": 0}))
            .await;
        let replay = agent.expect("replay").await;
        assert_eq!(replay["from_seq"], total - PAGE + 1);
        let frames = agent.drain().await;
        assert_eq!(seqs(&frames, "event").len() as i64, PAGE);
        agent
            .send(json!({"type": "earlier", "conversation_id": id, "before_seq": total - PAGE + 1}))
            .await;
        let earlier = agent.expect("earlier").await;
        assert_eq!(earlier["from_seq"], total - 2 * PAGE + 1);
        let events = earlier["events"].as_array().unwrap();
        assert_eq!(events.len() as i64, PAGE);
        assert_eq!(events[0]["seq"], total - 2 * PAGE + 1);
    }
);
