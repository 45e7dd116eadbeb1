//! The cluster channel on PostgreSQL is open to anyone who can log in to
//! the database: a notice that is unsigned, signed with another key,
//! replayed or over the bounds is dropped; only the processes' own reach
//! the sockets.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{Backend, TestApp};
use rapport_server::cluster::{ClusterKey, Notice, split};
use rapport_server::identity::token_hash;
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const KEY: &str = "the key only the app's processes hold";

/// Sends each payload on the cluster channel, as any database login can.
async fn notify(database_url: &str, payloads: &[String]) {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    for payload in payloads {
        sqlx::query("SELECT pg_notify('rapport_cluster', $1)")
            .bind(payload)
            .execute(&mut connection)
            .await
            .unwrap();
    }
    connection.close().await.unwrap();
}

/// A notice publishing `message` (as an error frame) to a visitor's sockets.
fn frame_for(visitor_id: &str, message: &str) -> String {
    let frame = json!({"type": "error", "code": "bad_frame", "message": message}).to_string();
    serde_json::to_string(&Notice::Frame {
        topic: format!("v:{visitor_id}"),
        frame,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_signed_fresh_bounded_notices_reach_the_sockets() {
    let Some(app) = TestApp::start_with(Backend::Postgres, |config| {
        config.cluster_key = Some(KEY.to_owned());
    })
    .await
    else {
        return;
    };
    let (mut shopper, token) = app.new_shopper().await;
    let visitor = app
        .store
        .visitor_by_token_hash(&token_hash(&token), 0)
        .await
        .unwrap()
        .unwrap();
    let ours = ClusterKey::new(KEY);

    let unsigned = format!(
        "intruder\u{1f}1\u{1f}0\u{1f}1\u{1f}{}",
        frame_for(&visitor.id, "unsigned")
    );
    let guessed = split(
        &ClusterKey::new("a guess"),
        "intruder",
        1,
        &frame_for(&visitor.id, "guessed key"),
    );
    // Signed, but far larger than any notice (more parts than allowed).
    let huge = split(
        &ours,
        "big",
        1,
        &frame_for(&visitor.id, &"x".repeat(500_000)),
    );
    assert!(huge.len() > 64);
    let first = split(&ours, "peer", 1, &frame_for(&visitor.id, "first"));
    let mut payloads = vec![unsigned];
    payloads.extend(guessed);
    payloads.extend(huge);
    payloads.extend(first.clone());
    // The same signed notice again (captured and replayed).
    payloads.extend(first);
    payloads.extend(split(&ours, "peer", 2, &frame_for(&visitor.id, "last")));
    notify(&app.database_url, &payloads).await;

    // Notices are taken in order: once "last" is here, all were seen.
    let mut seen = Vec::new();
    loop {
        let frame = shopper.next().await;
        let message = frame["message"].as_str().unwrap_or_default().to_owned();
        if message == "last" {
            break;
        }
        if frame["type"] == "error" {
            seen.push(message);
        }
    }
    assert_eq!(seen, ["first"], "only the signed notice, once");
}
