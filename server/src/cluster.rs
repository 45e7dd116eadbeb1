//! Several server processes on one PostgreSQL database act as one: what a
//! process publishes to its hub, and what its dispatcher knows about who is
//! online, reaches the others through `LISTEN`/`NOTIFY`.
//!
//! This is a transport only: a [`Link`] to send notices, and a receiver of
//! the others' notices that whoever wires the app routes (to the hub and
//! the dispatcher). It knows nothing of either.
//!
//! One task sends everything from one connection, so the others receive it
//! in the order it was published (a shopper never sees seq 5 before seq 4).
//! A notice is split into parts below PostgreSQL's 8000-byte payload limit.
//! Delivery is live only: a process that misses a notice (its listening
//! connection dropped) misses frames, which clients recover by resuming from
//! the store; presence is re-sent every few seconds, so it heals too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use protocol::Availability;
use serde::{Deserialize, Serialize};
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};
use tokio::sync::mpsc;

/// The `NOTIFY` channel every process of one database shares.
const CHANNEL: &str = "rapport_cluster";
/// Bytes of notice per `NOTIFY`, leaving room for the part header below
/// PostgreSQL's 8000-byte limit.
const PART_BYTES: usize = 7000;
/// Separates the part header's fields from each other and from the text.
const SEPARATOR: char = '\u{1f}';

/// What one process tells the others.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// A frame published to a hub topic.
    Frame { topic: String, frame: String },
    /// The sender's whole view of its agents who are not offline: (account,
    /// agent, status). Sent on every change and as a heartbeat.
    Presence {
        agents: Vec<(String, String, Availability)>,
    },
    /// An agent's stored details changed (capacity, languages…).
    AgentChanged { agent_id: String },
    /// Close these sockets for good (a session signed out).
    EndSessions { topic: String },
}

/// Handle for publishing notices to the other processes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Link {
    node: Arc<str>,
    outgoing: mpsc::UnboundedSender<Notice>,
}

/// A notice from another process.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The sending process.
    pub from: String,
    pub notice: Notice,
}

/// Why the cluster link could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot join the cluster through PostgreSQL: {0}")]
pub struct ClusterError(#[from] sqlx::Error);

/// Connects the sending and listening sides: the link to tell the others,
/// and what they tell this process.
pub async fn join(
    database_url: &str,
) -> Result<(Link, mpsc::UnboundedReceiver<Incoming>), ClusterError> {
    let node: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(CHANNEL).await?;
    let sender = PgConnection::connect(database_url).await?;
    let (outgoing, queue) = mpsc::unbounded_channel();
    let (incoming, received) = mpsc::unbounded_channel();
    tokio::spawn(send_notices(
        database_url.to_owned(),
        sender,
        node.clone(),
        queue,
    ));
    tokio::spawn(receive_notices(listener, node.clone(), incoming));
    tracing::info!(%node, "joined the cluster on PostgreSQL");
    Ok((Link { node, outgoing }, received))
}

impl Link {
    /// This process's id among the others.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn tell(&self, notice: Notice) {
        let _ = self.outgoing.send(notice);
    }
}

/// `node␟number␟part␟parts␟text`: one part of a notice.
fn split(node: &str, number: u64, notice: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = notice;
    while !rest.is_empty() || pieces.is_empty() {
        let mut end = rest.len().min(PART_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    let parts = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            format!(
                "{node}{SEPARATOR}{number}{SEPARATOR}{index}{SEPARATOR}{parts}{SEPARATOR}{text}"
            )
        })
        .collect()
}

/// Puts notices back together from their parts, per sending process.
#[derive(Debug, Default)]
struct Assembler {
    /// node → (notice number, the parts so far)
    partial: HashMap<String, (u64, String)>,
}

impl Assembler {
    /// Takes one payload; returns the sender and the notice once complete.
    fn take(&mut self, payload: &str) -> Option<(String, String)> {
        let mut fields = payload.splitn(5, SEPARATOR);
        let node = fields.next()?;
        let number: u64 = fields.next()?.parse().ok()?;
        let index: usize = fields.next()?.parse().ok()?;
        let parts: usize = fields.next()?.parse().ok()?;
        let text = fields.next()?;
        if index == 0 {
            self.partial
                .insert(node.to_owned(), (number, String::new()));
        }
        let (expected, buffer) = self.partial.get_mut(node)?;
        if *expected != number {
            // A part went missing (a reconnect); drop the notice, not the next.
            self.partial.remove(node);
            return None;
        }
        buffer.push_str(text);
        if index + 1 < parts {
            return None;
        }
        let (_, whole) = self.partial.remove(node)?;
        Some((node.to_owned(), whole))
    }
}

async fn send_notices(
    database_url: String,
    mut connection: PgConnection,
    node: Arc<str>,
    mut queue: mpsc::UnboundedReceiver<Notice>,
) {
    let mut number = 0_u64;
    while let Some(notice) = queue.recv().await {
        let text = match serde_json::to_string(&notice) {
            Ok(text) => text,
            Err(err) => {
                tracing::error!(%err, "cluster notice failed to serialise");
                continue;
            }
        };
        number += 1;
        for part in split(&node, number, &text) {
            let mut attempts = 0;
            loop {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(&part)
                    .execute(&mut connection)
                    .await;
                match sent {
                    Ok(_) => break,
                    Err(err) if attempts < 3 => {
                        attempts += 1;
                        tracing::warn!(%err, "cluster notice not sent; reconnecting");
                        tokio::time::sleep(Duration::from_millis(200 * attempts)).await;
                        if let Ok(fresh) = PgConnection::connect(&database_url).await {
                            connection = fresh;
                        }
                    }
                    Err(err) => {
                        tracing::error!(%err, "cluster notice dropped; other processes miss it");
                        break;
                    }
                }
            }
        }
    }
    let _ = connection.close().await;
}

async fn receive_notices(
    mut listener: PgListener,
    node: Arc<str>,
    incoming: mpsc::UnboundedSender<Incoming>,
) {
    let mut assembler = Assembler::default();
    loop {
        // `recv` reconnects by itself after a lost connection.
        let notification = match listener.recv().await {
            Ok(notification) => notification,
            Err(err) => {
                tracing::warn!(%err, "cluster listener error");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some((from, text)) = assembler.take(notification.payload()) else {
            continue;
        };
        if *from == *node {
            continue;
        }
        match serde_json::from_str::<Notice>(&text) {
            Ok(notice) => {
                if incoming.send(Incoming { from, notice }).is_err() {
                    // Whoever took the notices is gone: the process is stopping.
                    return;
                }
            }
            Err(err) => tracing::warn!(%err, "unreadable cluster notice"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_survive_splitting_on_character_boundaries() {
        let long = "é€😀x".repeat(3000);
        let parts = split("n1", 7, &long);
        assert!(parts.len() > 1);
        assert!(
            parts.iter().all(|p| p.len() < 8000),
            "under the payload limit"
        );
        let mut assembler = Assembler::default();
        let mut whole = None;
        for part in &parts {
            whole = assembler.take(part);
        }
        assert_eq!(whole, Some(("n1".to_owned(), long)));
        assert_eq!(
            assembler.take(&split("n1", 8, "")[0]),
            Some(("n1".to_owned(), String::new()))
        );
    }

    #[test]
    fn a_notice_missing_a_part_is_dropped_not_mixed_into_the_next() {
        let first = split("n1", 1, &"a".repeat(PART_BYTES * 2));
        let second = split("n1", 2, "short");
        let mut assembler = Assembler::default();
        assert_eq!(assembler.take(&first[0]), None);
        // first[1] is lost.
        assert_eq!(
            assembler.take(&second[0]),
            Some(("n1".to_owned(), "short".to_owned()))
        );
        assert_eq!(assembler.take(&first[1]), None);
    }
}
