//! The baseline: a bare WebSocket relay on the same stack (axum, tokio,
//! tungstenite) with no storage, no routing rules and no auth. A shopper's
//! frame goes to every agent (as Rapport's inbox summaries do); an agent's
//! frame `{"to": N, …}` goes to shopper N. Whatever Rapport costs beyond
//! this is its own overhead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

/// Frames queued per connection before it is dropped, as in Rapport's hub.
const OUTBOX: usize = 256;

#[derive(Default)]
struct Peers {
    agents: HashMap<u64, mpsc::Sender<Utf8Bytes>>,
    shoppers: HashMap<u64, mpsc::Sender<Utf8Bytes>>,
    next_agent: u64,
}

#[derive(Clone, Default)]
pub struct Relay {
    peers: Arc<Mutex<Peers>>,
}

impl Relay {
    fn peers(&self) -> MutexGuard<'_, Peers> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Deserialize)]
struct Who {
    id: Option<u64>,
}

#[derive(Deserialize)]
struct Addressed {
    to: u64,
}

/// `/ws/widget?id=N` for shopper N, `/ws/agent` for an agent, `/healthz`.
pub fn router() -> Router {
    Router::new()
        .route("/ws/widget", get(shopper))
        .route("/ws/agent", get(agent))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Relay::default())
}

async fn shopper(
    State(relay): State<Relay>,
    Query(who): Query<Who>,
    ws: WebSocketUpgrade,
) -> Response {
    let id = who.id.unwrap_or_default();
    buffers(ws).on_upgrade(move |socket| async move {
        let (outbox, inbox) = mpsc::channel(OUTBOX);
        relay.peers().shoppers.insert(id, outbox);
        let from_shopper = relay.clone();
        pump(socket, inbox, move |text| {
            let agents: Vec<_> = from_shopper.peers().agents.values().cloned().collect();
            for agent in agents {
                let _ = agent.try_send(text.clone());
            }
        })
        .await;
        relay.peers().shoppers.remove(&id);
    })
}

async fn agent(State(relay): State<Relay>, ws: WebSocketUpgrade) -> Response {
    buffers(ws).on_upgrade(move |socket| async move {
        let (outbox, inbox) = mpsc::channel(OUTBOX);
        let id = {
            let mut peers = relay.peers();
            peers.next_agent += 1;
            let id = peers.next_agent;
            peers.agents.insert(id, outbox);
            id
        };
        let from_agent = relay.clone();
        pump(socket, inbox, move |text| {
            let Ok(addressed) = serde_json::from_str::<Addressed>(text.as_str()) else {
                return;
            };
            let shopper = from_agent.peers().shoppers.get(&addressed.to).cloned();
            if let Some(shopper) = shopper {
                let _ = shopper.try_send(text);
            }
        })
        .await;
        relay.peers().agents.remove(&id);
    })
}

/// The same buffer sizes as Rapport's sockets, so memory compares like for like.
fn buffers(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024).write_buffer_size(0)
}

/// Reads frames into `on_text` and writes the outbox, until either side ends.
async fn pump(
    socket: WebSocket,
    mut inbox: mpsc::Receiver<Utf8Bytes>,
    on_text: impl Fn(Utf8Bytes),
) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => on_text(text),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            outgoing = inbox.recv() => match outgoing {
                Some(text) => if sink.send(Message::Text(text)).await.is_err() { break },
                None => break,
            },
        }
    }
}
