//! Clients that come back, for `cargo xtask chaos`: shoppers and agents on
//! real sockets that reconnect and resume after whatever happens to their
//! connection (the server killed, a node lost, their own network dropping),
//! send again what was not acknowledged, with the same `client_id`, and
//! keep a ledger of what they sent, what was acknowledged and what they
//! received. At the end every conversation's log is read back through the
//! inbox and checked (`check`): every acknowledged message stored once, at
//! the seq its ack named, each sender's in the order sent, and received by
//! the other side.
//!
//! Every loop is bounded in time; only loopback is targeted.

pub mod agent;
pub mod check;
pub mod logs;
pub mod run;
pub mod servers;
pub mod shopper;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use protocol::Seq;
use serde::Serialize;
use tokio::sync::watch;

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Messages are sent.
    Traffic,
    /// No new messages; what is unacknowledged is still sent again.
    Quiet,
    /// Everyone leaves.
    Done,
}

/// What a participant sent, had acknowledged and received.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Ledger {
    /// `client_id`s in the order first sent.
    pub sent: Vec<String>,
    /// `client_id` → (conversation, seq), from its ack.
    pub acked: HashMap<String, (String, Seq)>,
    /// A `client_id` acknowledged twice with different seqs.
    pub conflicting_acks: u64,
    /// Events received (live, replayed or paged back), per conversation:
    /// seq → the `client_id` of the message, if it carried one.
    pub received: HashMap<String, BTreeMap<Seq, Option<String>>>,
    /// Connections after the first.
    pub reconnects: u64,
    /// Messages sent again after a disconnect or an error.
    pub resent: u64,
    /// Agents: their id, and what they hold when they leave.
    pub agent_id: Option<String>,
    pub held: HashSet<String>,
}

impl Ledger {
    /// The newest seq received of a conversation (0: none).
    pub fn last_seq(&self, conversation_id: &str) -> Seq {
        self.received
            .get(conversation_id)
            .and_then(|seqs| seqs.keys().next_back().copied())
            .unwrap_or(0)
    }

    pub fn receive(&mut self, event: &protocol::Event) {
        self.received
            .entry(event.conversation_id.clone())
            .or_default()
            .insert(event.seq, event.client_id.clone());
    }

    pub fn ack(&mut self, client_id: &str, conversation_id: &str, seq: Seq) {
        let answer = (conversation_id.to_owned(), seq);
        match self.acked.get(client_id) {
            Some(earlier) if *earlier != answer => self.conflicting_acks += 1,
            Some(_) => {}
            None => {
                self.acked.insert(client_id.to_owned(), answer);
            }
        }
    }
}

/// A participant's ledger, shared with whoever watches the run.
pub type Shared = Arc<Mutex<Ledger>>;

pub fn lock(ledger: &Shared) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(|p| p.into_inner())
}

/// Messages a participant has in flight at most (unacknowledged).
pub const WINDOW: usize = 16;

/// What was sent and not yet acknowledged, oldest first: sent again, in
/// order, on every new connection.
#[derive(Debug, Default)]
pub struct Pending {
    queue: VecDeque<(String, String)>,
}

impl Pending {
    pub fn push(&mut self, client_id: String, frame: String) {
        self.queue.push_back((client_id, frame));
    }

    pub fn acked(&mut self, client_id: &str) {
        self.queue.retain(|(c, _)| c != client_id);
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn frames(&self) -> impl Iterator<Item = &str> {
        self.queue.iter().map(|(_, frame)| frame.as_str())
    }

    pub fn frame_of(&self, client_id: &str) -> Option<&str> {
        self.queue
            .iter()
            .find(|(c, _)| c == client_id)
            .map(|(_, frame)| frame.as_str())
    }
}

/// How long to wait before connecting again after `failures` failures in
/// a row: quick at first (a restarted server is back in a few hundred
/// milliseconds), at most a second, with jitter so that a crowd spreads.
pub fn backoff(failures: u32) -> Duration {
    let base = 50_u64.saturating_mul(1 << failures.min(5)).min(1000);
    Duration::from_millis(base / 2 + jitter(base / 2 + 1))
}

/// A random number below `below`.
pub fn jitter(below: u64) -> u64 {
    rand::random::<u64>() % below.max(1)
}

/// `ws://…` from `http://…`.
pub fn ws_url(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.replacen("http://", "ws://", 1))
}

/// Watches the run's phase; `true` once it is over.
pub fn is_done(phase: &watch::Receiver<Phase>) -> bool {
    *phase.borrow() == Phase::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_short_first_and_bounded() {
        for failures in 0..20 {
            let wait = backoff(failures);
            assert!(wait <= Duration::from_millis(1000), "{wait:?}");
        }
        assert!(backoff(0) <= Duration::from_millis(50));
    }

    #[test]
    fn an_ack_that_changes_its_answer_is_counted() {
        let mut ledger = Ledger::default();
        ledger.ack("s1", "c", 3);
        ledger.ack("s1", "c", 3);
        assert_eq!(ledger.conflicting_acks, 0);
        ledger.ack("s1", "c", 4);
        assert_eq!(ledger.conflicting_acks, 1);
        assert_eq!(ledger.acked["s1"], ("c".to_owned(), 3));
    }

    #[test]
    fn pending_messages_leave_in_order_once_acknowledged() {
        let mut pending = Pending::default();
        pending.push("a".into(), "A".into());
        pending.push("b".into(), "B".into());
        pending.push("c".into(), "C".into());
        pending.acked("b");
        assert_eq!(pending.frames().collect::<Vec<_>>(), ["A", "C"]);
        assert_eq!(pending.frame_of("c"), Some("C"));
        assert_eq!(pending.len(), 2);
    }
}
