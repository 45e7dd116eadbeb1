//! A rating after a chat, as a kind of event like any other, on both
//! backends: only the conversation's shopper rates it, once it ended, 1 to
//! 5; they may change it for a day; agents following it see it live; it is
//! stored and read back whole.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{TestApp, is_assigned};
use protocol::EventBody;
use serde_json::json;

on_both_backends!(
    the_shopper_rates_an_ended_chat_and_the_agent_sees_it,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _) = app.new_shopper().await;
        let id = shopper.say("m1", "Thanks for the help").await["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        shopper.until("event", is_assigned).await;
        agent
            .send(json!({"type": "open", "conversation_id": id}))
            .await;
        let rate = |score: u8, comment: Option<&str>| json!({"type": "rate", "conversation_id": id, "score": score, "comment": comment});
        // Not before it ended.
        shopper.send(rate(5, None)).await;
        let early = shopper.until("error", |_| true).await;
        assert!(
            early["message"]
                .as_str()
                .unwrap()
                .contains("once it has ended")
        );
        agent
            .send(json!({"type": "close", "conversation_id": id}))
            .await;
        shopper
            .until("event", |f| f["event"]["body"] == "closed")
            .await;
        shopper.send(rate(6, None)).await;
        assert_eq!(
            shopper.until("error", |_| true).await["code"],
            "bad_request"
        );
        // Someone else cannot rate it.
        let (mut stranger, _) = app.new_shopper().await;
        stranger.send(rate(1, Some("bad"))).await;
        assert_eq!(stranger.until("error", |_| true).await["code"], "not_found");

        shopper.send(rate(4, Some("  Quick and kind  "))).await;
        let seen = agent
            .until("event", |f| f["event"]["body"]["rated"].is_object())
            .await;
        assert_eq!(seen["event"]["body"]["rated"]["score"], 4);
        assert_eq!(seen["event"]["body"]["rated"]["comment"], "Quick and kind");
        assert_eq!(seen["event"]["author"], "visitor");
        // The shopper's own tabs see it too.
        shopper
            .until("event", |f| f["event"]["body"]["rated"].is_object())
            .await;
        // Changed within the day: the last one counts.
        shopper.send(rate(5, None)).await;
        agent
            .until("event", |f| f["event"]["body"]["rated"]["score"] == 5)
            .await;
        let stored: Vec<_> = app
            .store
            .events_after(&id, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Rated { score, comment } => Some((score, comment)),
                _ => None,
            })
            .collect();
        assert_eq!(
            stored,
            vec![(4, Some("Quick and kind".to_owned())), (5, None)]
        );
        // A day later the rating stands.
        app.sql(
            "UPDATE events SET created_at = created_at - 90000000 WHERE kind = 'rated'",
            "UPDATE events SET created_at = created_at - 90000000 WHERE kind = 'rated'",
        )
        .await;
        shopper.send(rate(1, None)).await;
        let settled = shopper.until("error", |_| true).await;
        assert!(
            settled["message"]
                .as_str()
                .unwrap()
                .contains("rating stands"),
            "{settled}"
        );
    }
);
