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
//!
//! Anyone who can log in to the database can `NOTIFY` on the channel, so
//! every part carries an HMAC with a key only the app's processes hold
//! (configured, or kept in `server_keys`); a part that fails it is dropped
//! and counted before anything is buffered. Reassembly is bounded (parts
//! per notice, senders at once, numbers only ever growing per sender) and
//! so is the outgoing queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use protocol::Availability;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};
use tokio::sync::mpsc;

/// The `NOTIFY` channel every process of one database shares.
const CHANNEL: &str = "rapport_cluster";
/// Bytes of notice per `NOTIFY`, leaving room for the part header below
/// PostgreSQL's 8000-byte limit.
const PART_BYTES: usize = 7000;
/// Parts of one notice at most (a frame is far smaller; more is not ours).
const MAX_PARTS: usize = 64;
/// Senders whose notices may be half-assembled at once.
const MAX_SENDERS: usize = 256;
/// Notices waiting to be sent at most; more are dropped (and counted):
/// clients resume what they missed from the store.
const OUTGOING_QUEUE: usize = 10_000;
/// Characters of a part's MAC (hex of HMAC-SHA256).
const MAC_CHARS: usize = 64;

/// The key the processes of one database sign their notices with.
#[derive(Clone)]
pub struct ClusterKey(Arc<[u8]>);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(…)")
    }
}

impl ClusterKey {
    pub fn new(secret: &str) -> ClusterKey {
        ClusterKey(secret.as_bytes().into())
    }

    /// Hex HMAC-SHA256 of a part's header and text.
    fn mac(&self, signed: &str) -> String {
        // HMAC takes a key of any length.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(signed.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn verify(&self, signed: &str, claimed: &str) -> bool {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(signed.as_bytes());
        let Some(claimed) = from_hex(claimed) else {
            return false;
        };
        mac.verify_slice(&claimed).is_ok()
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != MAC_CHARS || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Notices this process dropped, counted in its log.
#[derive(Debug, Default)]
struct Dropped {
    /// Incoming parts with a bad or missing MAC, or malformed.
    forged: AtomicU64,
    /// Incoming parts over the bounds (too many parts, senders, or an old
    /// number).
    oversized: AtomicU64,
    /// Outgoing notices dropped because the queue was full.
    outgoing: AtomicU64,
}
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
    /// Close these sockets: for good (a session signed out), or, with
    /// `recheck`, asking them to reconnect (the rules they passed changed).
    EndSessions {
        topic: String,
        #[serde(default)]
        recheck: bool,
    },
}

/// Handle for publishing notices to the other processes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Link {
    node: Arc<str>,
    outgoing: mpsc::Sender<Notice>,
    dropped: Arc<Dropped>,
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
/// and what they tell this process. Every process of the database must
/// hold the same `key`.
pub async fn join(
    database_url: &str,
    key: ClusterKey,
) -> Result<(Link, mpsc::UnboundedReceiver<Incoming>), ClusterError> {
    let node: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(CHANNEL).await?;
    let sender = PgConnection::connect(database_url).await?;
    let (outgoing, queue) = mpsc::channel(OUTGOING_QUEUE);
    let (incoming, received) = mpsc::unbounded_channel();
    let dropped = Arc::new(Dropped::default());
    tokio::spawn(send_notices(
        database_url.to_owned(),
        sender,
        node.clone(),
        key.clone(),
        queue,
    ));
    tokio::spawn(receive_notices(
        listener,
        node.clone(),
        Assembler::new(key),
        dropped.clone(),
        incoming,
    ));
    tracing::info!(%node, "joined the cluster on PostgreSQL");
    Ok((
        Link {
            node,
            outgoing,
            dropped,
        },
        received,
    ))
}

impl Link {
    /// This process's id among the others.
    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn tell(&self, notice: Notice) {
        match self.outgoing.try_send(notice) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let dropped = self.dropped.outgoing.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(dropped, "cluster queue full; a notice is dropped");
            }
            // The sender task is gone: the process is stopping.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// The sending process a part names (unchecked).
fn sender_of(part: &str) -> Option<&str> {
    part.split_once(SEPARATOR).map(|(node, _)| node)
}

/// `node␟number␟part␟parts␟mac␟text`: one part of a notice, the MAC over
/// the other fields.
pub fn split(key: &ClusterKey, node: &str, number: u64, notice: &str) -> Vec<String> {
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
            let header = format!("{node}{SEPARATOR}{number}{SEPARATOR}{index}{SEPARATOR}{parts}");
            let mac = key.mac(&format!("{header}{SEPARATOR}{text}"));
            format!("{header}{SEPARATOR}{mac}{SEPARATOR}{text}")
        })
        .collect()
}

/// Why a part was not taken.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// Malformed, or its MAC does not match: not from one of ours.
    Forged,
    /// Signed, but over the bounds or out of order.
    OutOfBounds,
}

/// A notice being put together.
#[derive(Debug)]
struct Partial {
    number: u64,
    parts: usize,
    next: usize,
    text: String,
}

/// Puts notices back together from their parts, per sending process.
#[derive(Debug)]
struct Assembler {
    key: ClusterKey,
    /// node → the notice being put together
    partial: HashMap<String, Partial>,
    /// node → the last notice number taken (whole or dropped): numbers
    /// only grow, so a replayed part is refused.
    last: HashMap<String, u64>,
}

impl Assembler {
    fn new(key: ClusterKey) -> Assembler {
        Assembler {
            key,
            partial: HashMap::new(),
            last: HashMap::new(),
        }
    }

    /// Takes one payload; returns the sender and the notice once complete.
    fn take(&mut self, payload: &str) -> Result<Option<(String, String)>, Refused> {
        let mut fields = payload.splitn(6, SEPARATOR);
        let (Some(node), Some(number), Some(index), Some(parts), Some(mac), Some(text)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(Refused::Forged);
        };
        let header_len = node.len() + number.len() + index.len() + parts.len() + 3;
        let signed_header = payload.get(..header_len).ok_or(Refused::Forged)?;
        if !self
            .key
            .verify(&format!("{signed_header}{SEPARATOR}{text}"), mac)
        {
            return Err(Refused::Forged);
        }
        let number: u64 = number.parse().map_err(|_| Refused::Forged)?;
        let index: usize = index.parse().map_err(|_| Refused::Forged)?;
        let parts: usize = parts.parse().map_err(|_| Refused::Forged)?;
        if parts == 0 || parts > MAX_PARTS || index >= parts || text.len() > PART_BYTES {
            return Err(Refused::OutOfBounds);
        }
        if self.last.get(node).is_some_and(|&last| number <= last) {
            return Err(Refused::OutOfBounds);
        }
        if index == 0 {
            if !self.partial.contains_key(node) && self.partial.len() >= MAX_SENDERS {
                return Err(Refused::OutOfBounds);
            }
            self.partial.insert(
                node.to_owned(),
                Partial {
                    number,
                    parts,
                    next: 0,
                    text: String::new(),
                },
            );
        }
        let Some(partial) = self.partial.get_mut(node) else {
            // The start of this notice was missed (a reconnect).
            return Ok(None);
        };
        if partial.number != number || partial.parts != parts || partial.next != index {
            // A part went missing; drop the notice, not the next.
            self.partial.remove(node);
            self.remember(node, number);
            return Ok(None);
        }
        partial.text.push_str(text);
        partial.next = index.checked_add(1).ok_or(Refused::OutOfBounds)?;
        if partial.next < partial.parts {
            return Ok(None);
        }
        let whole = self
            .partial
            .remove(node)
            .map(|p| p.text)
            .unwrap_or_default();
        self.remember(node, number);
        Ok(Some((node.to_owned(), whole)))
    }

    fn remember(&mut self, node: &str, number: u64) {
        if !self.last.contains_key(node) && self.last.len() >= MAX_SENDERS * 4 {
            // Only signed senders get here, so this takes a thousand process
            // lifetimes: start afresh rather than grow without end.
            self.last.clear();
        }
        self.last.insert(node.to_owned(), number);
    }
}

/// The fuzz target's body (see `crate::fuzzing`): payloads one per line,
/// those starting with `!` signed first. What is half-assembled stays
/// within the bounds, and a whole notice within its parts.
#[cfg(any(test, fuzzing))]
pub fn fuzz_reassembly(input: &str) {
    let key = ClusterKey::new("fuzz");
    let mut assembler = Assembler::new(key.clone());
    for line in input.split('\n') {
        let payload = match line.strip_prefix('!') {
            Some(fields) => {
                let (header, text) = fields.rsplit_once(SEPARATOR).unwrap_or((fields, ""));
                let mac = key.mac(&format!("{header}{SEPARATOR}{text}"));
                format!("{header}{SEPARATOR}{mac}{SEPARATOR}{text}")
            }
            None => line.to_owned(),
        };
        if let Ok(Some((_, whole))) = assembler.take(&payload) {
            assert!(whole.len() <= MAX_PARTS * PART_BYTES);
        }
        assert!(assembler.partial.len() <= MAX_SENDERS);
        assert!(
            assembler
                .partial
                .values()
                .all(|p| p.parts <= MAX_PARTS && p.text.len() <= MAX_PARTS * PART_BYTES)
        );
    }
}

/// A notice as the fuzz target's input: its parts, signed lines.
#[cfg(any(test, fuzzing))]
pub fn fuzz_seed(notice: &str) -> String {
    split(&ClusterKey::new("fuzz"), "peer", 1, notice)
        .iter()
        .map(|part| {
            // `node␟number␟index␟parts␟mac␟text` → `!node␟number␟index␟parts␟text`
            let mut fields: Vec<&str> = part.splitn(6, SEPARATOR).collect();
            fields.remove(4);
            format!("!{}", fields.join(&SEPARATOR.to_string()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Notices taken from the queue at once, at most.
const NOTICES_PER_SEND: usize = 256;
/// `pg_notify` calls in one statement, at most.
const PARTS_PER_STATEMENT: usize = 16;

/// Notices as the texts that travel: JSON lists of notices, each list at
/// most a part long unless one notice alone is longer (it is then split
/// into parts on its own). Many small notices make one `NOTIFY`.
fn pack(notices: &[Notice]) -> Vec<String> {
    let mut texts = Vec::new();
    let mut current = String::new();
    for notice in notices {
        let text = match serde_json::to_string(notice) {
            Ok(text) => text,
            Err(err) => {
                tracing::error!(%err, "cluster notice failed to serialise");
                continue;
            }
        };
        if !current.is_empty() && current.len() + text.len() + 2 > PART_BYTES {
            current.push(']');
            texts.push(std::mem::take(&mut current));
        }
        current.push(if current.is_empty() { '[' } else { ',' });
        current.push_str(&text);
    }
    if !current.is_empty() {
        current.push(']');
        texts.push(current);
    }
    texts
}

/// What a text that travelled holds: one notice, or a list of them.
fn unpack(text: &str) -> Result<Vec<Notice>, serde_json::Error> {
    if text.trim_start().starts_with('[') {
        serde_json::from_str(text)
    } else {
        serde_json::from_str(text).map(|notice| vec![notice])
    }
}

/// Sends what is queued, as it comes: everything waiting goes in as few
/// `NOTIFY`s and statements as it fits (one round trip per notice made
/// the link, not the database, the limit of a process on PostgreSQL).
async fn send_notices(
    database_url: String,
    mut connection: PgConnection,
    node: Arc<str>,
    key: ClusterKey,
    mut queue: mpsc::Receiver<Notice>,
) {
    let mut number = 0_u64;
    let mut notices = Vec::with_capacity(NOTICES_PER_SEND);
    while queue.recv_many(&mut notices, NOTICES_PER_SEND).await > 0 {
        let mut parts = Vec::new();
        for text in pack(&notices) {
            number += 1;
            parts.extend(split(&key, &node, number, &text));
        }
        notices.clear();
        for chunk in parts.chunks(PARTS_PER_STATEMENT) {
            let calls: Vec<String> = (0..chunk.len())
                .map(|i| format!("pg_notify($1, ${})", i + 2))
                .collect();
            let sql = format!("SELECT {}", calls.join(", "));
            let mut attempts = 0;
            loop {
                let mut query = sqlx::query(&sql).bind(CHANNEL);
                for part in chunk {
                    query = query.bind(part);
                }
                match query.execute(&mut connection).await {
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
                        tracing::error!(%err, "cluster notices dropped; other processes miss them");
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
    mut assembler: Assembler,
    dropped: Arc<Dropped>,
    incoming: mpsc::UnboundedSender<Incoming>,
) {
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
        // Our own notices come back too: skipped before any checking (a
        // forged part that claims to be ours is skipped just the same).
        if sender_of(notification.payload()) == Some(&*node) {
            continue;
        }
        let (from, text) = match assembler.take(notification.payload()) {
            Ok(Some(whole)) => whole,
            Ok(None) => continue,
            Err(Refused::Forged) => {
                let count = dropped.forged.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(count, "cluster notice without a valid signature dropped");
                continue;
            }
            Err(Refused::OutOfBounds) => {
                let count = dropped.oversized.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(count, "cluster notice over the bounds dropped");
                continue;
            }
        };
        if *from == *node {
            continue;
        }
        match unpack(&text) {
            Ok(notices) => {
                for notice in notices {
                    let from = from.clone();
                    if incoming.send(Incoming { from, notice }).is_err() {
                        // Whoever took the notices is gone: the process is stopping.
                        return;
                    }
                }
            }
            Err(err) => tracing::warn!(%err, "unreadable cluster notice"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ClusterKey {
        ClusterKey::new("the processes' key")
    }

    fn take_all(assembler: &mut Assembler, parts: &[String]) -> Option<(String, String)> {
        let mut whole = None;
        for part in parts {
            whole = assembler.take(part).expect("ours");
        }
        whole
    }

    #[test]
    fn many_notices_travel_in_few_texts_and_come_back_in_order() {
        let frame = |n: usize| Notice::Frame {
            topic: format!("c:{n}"),
            frame: format!(
                "{{\"type\":\"event\",\"n\":{n},\"pad\":\"{}\"}}",
                "x".repeat(200)
            ),
        };
        let mut notices: Vec<Notice> = (0..100).map(frame).collect();
        // One notice longer than a part travels alone, split into parts.
        notices.insert(
            50,
            Notice::Frame {
                topic: "c:big".to_owned(),
                frame: "y".repeat(PART_BYTES * 3),
            },
        );
        let texts = pack(&notices);
        assert!(texts.len() < 10, "{} texts for 101 notices", texts.len());
        assert!(texts.iter().filter(|t| t.len() > PART_BYTES).count() == 1);
        let back: Vec<Notice> = texts
            .iter()
            .flat_map(|text| unpack(text).expect("readable"))
            .collect();
        assert_eq!(back, notices);
        // A single notice, as older senders sent it, is read too.
        let one = serde_json::to_string(&frame(7)).expect("serialisable");
        assert_eq!(unpack(&one).expect("readable"), vec![frame(7)]);
        assert_eq!(pack(&[]), Vec::<String>::new());
    }

    #[test]
    fn notices_survive_splitting_on_character_boundaries() {
        let long = "é€😀x".repeat(3000);
        let parts = split(&key(), "n1", 7, &long);
        assert!(parts.len() > 1);
        assert!(
            parts.iter().all(|p| p.len() < 8000),
            "under the payload limit"
        );
        let mut assembler = Assembler::new(key());
        assert_eq!(
            take_all(&mut assembler, &parts),
            Some(("n1".to_owned(), long))
        );
        assert_eq!(
            take_all(&mut assembler, &split(&key(), "n1", 8, "")),
            Some(("n1".to_owned(), String::new()))
        );
    }

    #[test]
    fn a_notice_missing_a_part_is_dropped_not_mixed_into_the_next() {
        let first = split(&key(), "n1", 1, &"a".repeat(PART_BYTES * 2));
        let second = split(&key(), "n1", 2, "short");
        let mut assembler = Assembler::new(key());
        assert_eq!(assembler.take(&first[0]), Ok(None));
        // first[1] is lost.
        assert_eq!(
            assembler.take(&second[0]),
            Ok(Some(("n1".to_owned(), "short".to_owned())))
        );
        assert_eq!(assembler.take(&first[1]), Err(Refused::OutOfBounds));
    }

    #[test]
    fn unsigned_forged_or_tampered_parts_are_refused() {
        let mut assembler = Assembler::new(key());
        let theirs = split(&ClusterKey::new("a guess"), "n1", 1, "{}");
        assert_eq!(assembler.take(&theirs[0]), Err(Refused::Forged));
        let ours = &split(&key(), "n1", 1, r#"{"a":1}"#)[0];
        let tampered = ours.replace(r#"{"a":1}"#, r#"{"a":2}"#);
        assert_eq!(assembler.take(&tampered), Err(Refused::Forged));
        let renumbered = ours.replacen("\u{1f}1\u{1f}", "\u{1f}2\u{1f}", 1);
        assert_eq!(assembler.take(&renumbered), Err(Refused::Forged));
        for junk in [
            "",
            "n1",
            "n1\u{1f}1\u{1f}0\u{1f}1\u{1f}zz\u{1f}{}",
            "\u{1f}\u{1f}\u{1f}\u{1f}\u{1f}",
        ] {
            assert_eq!(assembler.take(junk), Err(Refused::Forged), "{junk:?}");
        }
        assert_eq!(
            assembler.take(ours),
            Ok(Some(("n1".into(), r#"{"a":1}"#.into())))
        );
        assert_eq!(assembler.take(ours), Err(Refused::OutOfBounds), "a replay");
    }

    #[test]
    fn reassembly_is_bounded() {
        let key = key();
        let mut assembler = Assembler::new(key.clone());
        // Signed, but claiming more parts than any notice has.
        let header = format!("n1{SEPARATOR}1{SEPARATOR}0{SEPARATOR}{}", MAX_PARTS + 1);
        let mac = key.mac(&format!("{header}{SEPARATOR}x"));
        let many = format!("{header}{SEPARATOR}{mac}{SEPARATOR}x");
        assert_eq!(assembler.take(&many), Err(Refused::OutOfBounds));
        // An index past the end, and a part count that overflows.
        for (index, parts) in [("3", "2"), ("0", "18446744073709551616")] {
            let header = format!("n1{SEPARATOR}2{SEPARATOR}{index}{SEPARATOR}{parts}");
            let mac = key.mac(&format!("{header}{SEPARATOR}x"));
            let part = format!("{header}{SEPARATOR}{mac}{SEPARATOR}x");
            assert!(assembler.take(&part).is_err(), "{index}/{parts}");
        }
        // Half-finished notices from more senders than allowed.
        for sender in 0..MAX_SENDERS {
            let first = &split(&key, &format!("s{sender}"), 1, &"a".repeat(PART_BYTES + 1))[0];
            assert_eq!(assembler.take(first), Ok(None));
        }
        let one_more = &split(&key, "late", 1, &"a".repeat(PART_BYTES + 1))[0];
        assert_eq!(assembler.take(one_more), Err(Refused::OutOfBounds));
        assert_eq!(assembler.partial.len(), MAX_SENDERS);
    }
}
