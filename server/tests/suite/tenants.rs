//! One tenant's flood does not hold up another: tenant A has thousands of
//! shoppers waiting (nobody online) and a crowd of them reconnecting over
//! and over, while tenant B's agent opens their inbox and B's shopper is
//! assigned, each within a bound. The dispatcher's work per trigger does
//! not grow with A's line.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{SHOP_ORIGIN, TestApp};
use rapport_server::config::Config;
use rapport_server::identity;
use rapport_server::limits::LimitSettings;
use rapport_server::store::NewMessage;
use serde_json::json;

/// Shoppers waiting in tenant A.
const FLOODED: usize = 2_000;
/// A's shoppers reconnecting at once, over and over.
const RECONNECTING: usize = 20;
/// Generous: a dispatcher doing work per waiting shopper on every hello
/// takes minutes here; a bounded one, well under a second.
const BOUND: Duration = Duration::from_secs(10);

on_both_backends_with!(
    a_flooded_tenant_does_not_delay_another_tenants_assignment_or_inbox,
    |config: &mut Config| config.limits = LimitSettings::off(),
    |app: TestApp| async move {
        // Tenant A: thousands waiting, written straight to the store.
        let account_a = app.store.create_account("Flooded shop").await.unwrap();
        let site_a = app
            .store
            .create_site(&account_a, "A", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let mut tokens = Vec::new();
        for n in 0..FLOODED {
            let token = identity::new_visitor_token();
            let visitor = app
                .store
                .visitor_book()
                .create_visitor(&site_a.id, &identity::token_hash(&token))
                .await
                .unwrap();
            let message = NewMessage {
                client_id: "c1",
                body: "hello?",
                via: protocol::Channel::Chat,
            };
            let posted = app
                .store
                .conversation_book()
                .post_visitor_message(&site_a.id, &visitor.id, Default::default(), message)
                .await
                .unwrap();
            if n < RECONNECTING {
                tokens.push((token, posted.conversation.id));
            }
        }

        // A crowd of A's shoppers reconnecting over and over.
        let stop = Arc::new(AtomicBool::new(false));
        let hellos = Arc::new(AtomicUsize::new(0));
        let flood: Vec<_> = tokens
            .into_iter()
            .map(|(token, conversation_id)| {
                let (stop, hellos, addr, key) =
                    (stop.clone(), hellos.clone(), app.addr, site_a.site_key.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut ws) = common::widget_socket_at(addr, &key, SHOP_ORIGIN).await else {
                            continue;
                        };
                        ws.send(json!({"type": "hello", "token": token, "conversation_id": conversation_id}))
                            .await;
                        ws.expect("welcome").await;
                        hellos.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        while hellos.load(Ordering::Relaxed) < RECONNECTING * 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Tenant B (the test app's own account) meanwhile: its agent's inbox
        // opens (signed in before: hashing a password is slow on purpose)…
        let cookie = app.login(&app.agent.email).await;
        let started = Instant::now();
        let mut inbox = app.agent_socket_with(&cookie).await.unwrap();
        inbox.expect("inbox").await;
        inbox.go_online().await;
        let inbox_open = started.elapsed();
        // …and its shopper is assigned.
        let started = Instant::now();
        let (mut shopper, _) = app.new_shopper().await;
        shopper.say("b1", "Is my order shipped?").await;
        shopper.until("event", common::is_assigned).await;
        let assigned = started.elapsed();
        inbox
            .until("conversation", |f| {
                f["conversation"]["state"]["assigned"].is_object()
            })
            .await;
        let during = hellos.load(Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        for task in flood {
            task.abort();
        }
        eprintln!(
            "B's inbox open in {inbox_open:?}, B's shopper assigned in {assigned:?}, while A's shoppers said hello {during} times"
        );
        assert!(inbox_open < BOUND, "inbox took {inbox_open:?}");
        assert!(assigned < BOUND, "assignment took {assigned:?}");
        assert!(during > RECONNECTING * 2, "the flood ran throughout");
    }
);
