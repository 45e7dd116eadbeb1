//! A rating after a chat, as a kind of event like any other, on both
//! backends: only the conversation's shopper rates it, once it ended, 1 to
//! 5; they may change it for a day; agents following it see it live; it is
//! stored and read back whole.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{SHOP_ORIGIN, TestApp, Ws, is_assigned};
use protocol::{EventBody, RatingScale};
use serde_json::{Value, json};

on_both_backends!(
    the_shopper_rates_an_ended_chat_and_the_agent_sees_it,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _, id) = served(&app, &mut agent).await;
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
            "UPDATE ratings SET first_at = first_at - 90000000",
            "UPDATE ratings SET first_at = first_at - 90000000",
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

/// The widget's rating door as the shopper holding `token` (`body`: a
/// rating to give; none: ask where it stands).
async fn rating_door(app: &TestApp, token: &str, id: &str, body: Option<Value>) -> (u16, Value) {
    let url = app.url(&format!(
        "/api/widget/rating?site={}&conversation={id}",
        app.site.site_key
    ));
    let client = reqwest::Client::new();
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.get(url),
    };
    let response = request
        .header("origin", SHOP_ORIGIN)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A shopper served by the online agent, and the conversation's id.
async fn served(app: &TestApp, agent: &mut Ws) -> (Ws, String, String) {
    let (mut shopper, token) = app.new_shopper().await;
    let id = shopper.say("s1", "Where is my parcel?").await["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    shopper.until("event", is_assigned).await;
    agent
        .send(json!({"type": "open", "conversation_id": id}))
        .await;
    (shopper, token, id)
}

async fn close(agent: &mut Ws, shopper: &mut Ws, id: &str, skip_rating: bool) {
    agent
        .send(json!({"type": "close", "conversation_id": id, "skip_rating": skip_rating}))
        .await;
    shopper
        .until("event", |f| f["event"]["body"] == "closed")
        .await;
}

on_both_backends!(
    the_rating_prompt_asks_after_a_close_and_takes_the_rating_by_http,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, token, id) = served(&app, &mut agent).await;
        // While it is open it is not asked for, nor taken.
        let (status, open) = rating_door(&app, &token, &id, None).await;
        assert_eq!((status, open["asked"].clone()), (200, json!(false)));
        let (status, early) = rating_door(&app, &token, &id, Some(json!({"score": 5}))).await;
        assert_eq!(
            (status, early["error"]["code"].clone()),
            (400, json!("bad_request"))
        );

        close(&mut agent, &mut shopper, &id, false).await;
        let (status, asked) = rating_door(&app, &token, &id, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            asked,
            json!({"scale": "faces", "asked": true, "changeable": true})
        );
        // Bad input is refused with its reason, and nothing is stored.
        for (body, code) in [
            (json!({"score": 0}), 400),
            (json!({"score": 6}), 400),
            (json!({"score": 3, "comment": "x".repeat(1001)}), 400),
            (json!({"comment": "no score"}), 422),
        ] {
            let (status, _) = rating_door(&app, &token, &id, Some(body.clone())).await;
            assert_eq!(status, code, "{body}");
        }
        assert_eq!(app.count("SELECT COUNT(*) FROM ratings").await, 0);
        // Another shopper's token, no token, and another site's page are turned away.
        let (_, stranger) = app.new_shopper().await;
        let (status, refused) = rating_door(&app, &stranger, &id, Some(json!({"score": 1}))).await;
        assert_eq!(
            (status, refused["error"]["code"].clone()),
            (404, json!("not_found"))
        );
        let (status, _) = rating_door(&app, "nonsense", &id, None).await;
        assert_eq!(status, 401);
        let foreign = reqwest::Client::new()
            .get(app.url(&format!(
                "/api/widget/rating?site={}&conversation={id}",
                app.site.site_key
            )))
            .header("origin", "https://evil.example")
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status().as_u16(), 403);

        let (status, given) = rating_door(
            &app,
            &token,
            &id,
            Some(json!({"score": 2, "comment": " Slow "})),
        )
        .await;
        assert_eq!(status, 200, "{given}");
        assert_eq!(
            (given["score"].clone(), given["comment"].clone()),
            (json!(2), json!("Slow"))
        );
        let seen = agent
            .until("event", |f| f["event"]["body"]["rated"].is_object())
            .await;
        assert_eq!(seen["event"]["body"]["rated"]["score"], 2);
        // Changed: the last one stands, the first time it was given is kept.
        let first_at = app.count("SELECT first_at FROM ratings").await;
        let (status, _) = rating_door(&app, &token, &id, Some(json!({"score": 4}))).await;
        assert_eq!(status, 200);
        let (_, now) = rating_door(&app, &token, &id, None).await;
        assert_eq!(
            (now["score"].clone(), now["comment"].clone()),
            (json!(4), Value::Null)
        );
        assert_eq!(app.count("SELECT first_at FROM ratings").await, first_at);
        assert_eq!(
            app.count("SELECT COUNT(*) FROM events WHERE kind = 'rated'")
                .await,
            2
        );
        // A day after the first, it stands.
        app.sql(
            "UPDATE ratings SET first_at = first_at - 90000000",
            "UPDATE ratings SET first_at = first_at - 90000000",
        )
        .await;
        let (_, settled) = rating_door(&app, &token, &id, None).await;
        assert_eq!(settled["changeable"], false);
        let (status, refused) = rating_door(&app, &token, &id, Some(json!({"score": 1}))).await;
        assert_eq!(
            (status, refused["error"]["code"].clone()),
            (403, json!("forbidden"))
        );
        assert_eq!(
            app.count("SELECT CAST(score AS BIGINT) FROM ratings").await,
            4
        );
    }
);

on_both_backends!(
    an_agent_may_close_without_asking_and_an_owner_may_switch_ratings_off,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, token, id) = served(&app, &mut agent).await;
        close(&mut agent, &mut shopper, &id, true).await;
        let (_, quiet) = rating_door(&app, &token, &id, None).await;
        assert_eq!(quiet["asked"], false);
        let (status, refused) = rating_door(&app, &token, &id, Some(json!({"score": 5}))).await;
        assert_eq!(
            (status, refused["error"]["code"].clone()),
            (403, json!("forbidden"))
        );
        // Nor by the socket.
        shopper
            .send(json!({"type": "rate", "conversation_id": id, "score": 5}))
            .await;
        assert_eq!(shopper.until("error", |_| true).await["code"], "forbidden");

        // Stars where the owner chose them; nothing where they switched it off.
        let (mut other, other_token, other_id) = served(&app, &mut agent).await;
        close(&mut agent, &mut other, &other_id, false).await;
        let mut settings = app.site.settings.clone();
        settings.rating = RatingScale::Stars;
        app.set_site_settings(&settings).await;
        let (_, stars) = rating_door(&app, &other_token, &other_id, None).await;
        assert_eq!(
            (stars["scale"].clone(), stars["asked"].clone()),
            (json!("stars"), json!(true))
        );
        let config = reqwest::Client::new()
            .get(app.url(&format!("/api/widget/config?site={}", app.site.site_key)))
            .header("origin", SHOP_ORIGIN)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(config["rating"], "stars");
        settings.rating = RatingScale::Off;
        app.set_site_settings(&settings).await;
        let (_, off) = rating_door(&app, &other_token, &other_id, None).await;
        assert_eq!(
            (off["scale"].clone(), off["asked"].clone()),
            (json!("off"), json!(false))
        );
        let (status, _) =
            rating_door(&app, &other_token, &other_id, Some(json!({"score": 5}))).await;
        assert_eq!(status, 403);
        assert_eq!(app.count("SELECT COUNT(*) FROM ratings").await, 0);
    }
);

on_both_backends!(
    ratings_given_before_the_ratings_table_are_read_from_the_log,
    |app: TestApp| async move {
        let mut agent = app.online_inbox_of(&app.agent.email).await;
        let (mut shopper, _, id) = served(&app, &mut agent).await;
        close(&mut agent, &mut shopper, &id, false).await;
        shopper
            .send(json!({"type": "rate", "conversation_id": id, "score": 3, "comment": "fine"}))
            .await;
        agent
            .until("event", |f| f["event"]["body"]["rated"].is_object())
            .await;
        // As a database from before: the log holds the rating, the table not.
        app.sql("DELETE FROM ratings", "DELETE FROM ratings").await;
        app.sql(
            "UPDATE data_migrations SET done_at = NULL WHERE name = 'ratings_from_log'",
            "UPDATE data_migrations SET done_at = NULL WHERE name = 'ratings_from_log'",
        )
        .await;
        let reopened = rapport_server::store::Store::connect(&app.database_url)
            .await
            .unwrap();
        let record = reopened.rating_record(&id).await.unwrap().unwrap();
        assert_eq!(
            record.given.map(|(s, c, _)| (s, c)),
            Some((3, Some("fine".to_owned())))
        );
    }
);
