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
use tokio::time::Instant;

use crate::net;

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

/// A refused message (a failed batch, a limit) is sent again after this.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// What was sent and not yet acknowledged, oldest first: sent again, in
/// order, on every new connection, and on its own shortly after the server
/// refused it.
#[derive(Debug, Default)]
pub struct Pending {
    queue: VecDeque<(String, String)>,
    retries: Vec<(Instant, String)>,
}

impl Pending {
    /// Sends a new message; `false` if the connection is gone.
    pub fn send_new(
        &mut self,
        client_id: String,
        frame: String,
        connection: &net::Connection,
        ledger: &Shared,
    ) -> bool {
        self.queue.push_back((client_id.clone(), frame.clone()));
        lock(ledger).sent.push(client_id);
        connection.outgoing.send(frame).is_ok()
    }

    pub fn acked(&mut self, client_id: &str) {
        self.queue.retain(|(c, _)| c != client_id);
    }

    /// The server refused it for now: again soon.
    pub fn refused(&mut self, client_id: String) {
        self.retries.push((Instant::now() + RETRY_AFTER, client_id));
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Everything unacknowledged, in order, on a new connection.
    pub fn send_all(&mut self, connection: &net::Connection, ledger: &Shared) {
        self.retries.clear();
        for (_, frame) in &self.queue {
            let _ = connection.outgoing.send(frame.clone());
        }
        lock(ledger).resent += self.queue.len() as u64;
    }

    /// When the next refused message is due (far away if none is).
    pub fn next_retry(&self) -> Instant {
        self.retries
            .iter()
            .map(|(at, _)| *at)
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400))
    }

    /// Sends again the refused messages that are due and still unacknowledged.
    pub fn send_due(&mut self, connection: &net::Connection, ledger: &Shared) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = self.retries.drain(..).partition(|(at, _)| *at <= now);
        self.retries = later;
        for (_, client_id) in due {
            if let Some((_, frame)) = self.queue.iter().find(|(c, _)| *c == client_id) {
                lock(ledger).resent += 1;
                let _ = connection.outgoing.send(frame.clone());
            }
        }
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
        for client_id in ["a", "b", "c"] {
            pending
                .queue
                .push_back((client_id.into(), client_id.to_uppercase()));
        }
        pending.acked("b");
        let left: Vec<&str> = pending.queue.iter().map(|(_, f)| f.as_str()).collect();
        assert_eq!(left, ["A", "C"]);
        assert_eq!(pending.len(), 2);
        pending.refused("c".into());
        assert!(pending.next_retry() <= Instant::now() + RETRY_AFTER);
    }
}
