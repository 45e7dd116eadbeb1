//! The end of a run: what the ledgers say against what the logs hold.

use std::collections::{HashMap, HashSet};

use protocol::Seq;
use serde::Serialize;

use super::Ledger;

/// One stored event of a conversation's log, as far as the check needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub seq: Seq,
    pub client_id: Option<String>,
    /// For an `assigned` event, to whom.
    pub assigned_to: Option<String>,
}

/// What the check found. Every count but `sent` and `acked` must be 0.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub conversations: usize,
    pub sent: usize,
    pub acked: usize,
    /// Sent and, by the end, never acknowledged (though sent again).
    pub unacked: usize,
    /// Acknowledged, and not in the log.
    pub lost: usize,
    /// Extra copies of a message in the log.
    pub duplicated: usize,
    /// Stored at another seq than its ack said.
    pub wrong_seq: usize,
    /// Stored before a message its sender sent earlier.
    pub out_of_order: usize,
    /// Acknowledged and stored, never received by the other side.
    pub undelivered: usize,
    /// Of those, agents' messages no shopper received.
    pub undelivered_to_shoppers: usize,
    /// A `client_id` acknowledged twice with different answers.
    pub conflicting_acks: u64,
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        self.unacked == 0
            && self.lost == 0
            && self.duplicated == 0
            && self.wrong_seq == 0
            && self.out_of_order == 0
            && self.undelivered == 0
            && self.conflicting_acks == 0
    }
}

/// Checks every message of every participant against the logs.
pub fn check(
    shoppers: &[Ledger],
    agents: &[Ledger],
    logs: &HashMap<String, Vec<Stored>>,
) -> Verdict {
    let mut verdict = Verdict {
        conversations: logs.len(),
        ..Verdict::default()
    };
    // Where each client_id is stored, all conversations together.
    let mut stored: HashMap<&str, Vec<(&str, Seq)>> = HashMap::new();
    for (conversation, events) in logs {
        for event in events {
            if let Some(client_id) = &event.client_id {
                stored
                    .entry(client_id)
                    .or_default()
                    .push((conversation, event.seq));
            }
        }
    }
    let (shoppers_got, agents_got) = (received_by(shoppers), received_by(agents));
    for (side, other, to_shoppers) in [
        (shoppers, &agents_got, false),
        (agents, &shoppers_got, true),
    ] {
        for ledger in side {
            verdict.conflicting_acks += ledger.conflicting_acks;
            let mut last_in: HashMap<&str, Seq> = HashMap::new();
            for client_id in &ledger.sent {
                verdict.sent += 1;
                let Some((conversation, seq)) = ledger.acked.get(client_id) else {
                    verdict.unacked += 1;
                    continue;
                };
                verdict.acked += 1;
                let copies = stored
                    .get(client_id.as_str())
                    .map_or(&[][..], Vec::as_slice);
                let Some(&(at, stored_seq)) = copies.first() else {
                    verdict.lost += 1;
                    continue;
                };
                verdict.duplicated += copies.len() - 1;
                if at != conversation || stored_seq != *seq {
                    verdict.wrong_seq += 1;
                }
                let last = last_in.entry(at).or_insert(0);
                if stored_seq <= *last {
                    verdict.out_of_order += 1;
                }
                *last = stored_seq;
                if !other.get(at).is_some_and(|seqs| seqs.contains(&stored_seq)) {
                    verdict.undelivered += 1;
                    verdict.undelivered_to_shoppers += usize::from(to_shoppers);
                }
            }
        }
    }
    verdict
}

/// What one side received, all its participants together.
fn received_by(side: &[Ledger]) -> HashMap<&str, HashSet<Seq>> {
    let mut union: HashMap<&str, HashSet<Seq>> = HashMap::new();
    for ledger in side {
        for (conversation, seqs) in &ledger.received {
            union.entry(conversation).or_default().extend(seqs.keys());
        }
    }
    union
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: Seq, client_id: &str) -> Stored {
        Stored {
            seq,
            client_id: Some(client_id.to_owned()),
            assigned_to: None,
        }
    }

    fn ledger(sent: &[(&str, Seq)], received: &[Seq]) -> Ledger {
        let mut ledger = Ledger::default();
        for (client_id, seq) in sent {
            ledger.sent.push((*client_id).to_owned());
            if *seq > 0 {
                ledger
                    .acked
                    .insert((*client_id).to_owned(), ("c".to_owned(), *seq));
            }
        }
        ledger.received.insert(
            "c".to_owned(),
            received.iter().map(|s| (*s, None)).collect(),
        );
        ledger
    }

    #[test]
    fn a_clean_run_is_clean() {
        let logs = HashMap::from([(
            "c".to_owned(),
            vec![message(1, "s1"), message(2, "a1"), message(3, "s2")],
        )]);
        let shopper = ledger(&[("s1", 1), ("s2", 3)], &[1, 2, 3]);
        let agent = ledger(&[("a1", 2)], &[1, 2, 3]);
        let verdict = check(&[shopper], &[agent], &logs);
        assert!(verdict.is_clean(), "{verdict:?}");
        assert_eq!((verdict.sent, verdict.acked), (3, 3));
    }

    #[test]
    fn each_kind_of_failure_is_counted() {
        let logs = HashMap::from([(
            "c".to_owned(),
            vec![
                message(1, "s1"),
                message(2, "s3"),
                message(3, "s2"),
                message(4, "s3"),
                message(5, "s4"),
            ],
        )]);
        // s2 was sent before s3 but stored after; s3 twice; s4 acked at
        // the wrong seq; s5 acked, not stored; s6 never acked; the agent
        // never got seq 5.
        let shopper = ledger(
            &[
                ("s1", 1),
                ("s2", 3),
                ("s3", 2),
                ("s4", 6),
                ("s5", 7),
                ("s6", 0),
            ],
            &[1, 2, 3, 4, 5],
        );
        let agent = ledger(&[], &[1, 2, 3, 4]);
        let verdict = check(&[shopper], &[agent], &logs);
        assert_eq!(verdict.unacked, 1);
        assert_eq!(verdict.lost, 1);
        assert_eq!(verdict.duplicated, 1);
        assert_eq!(verdict.wrong_seq, 1);
        assert_eq!(verdict.out_of_order, 1);
        assert_eq!(verdict.undelivered, 1);
        assert!(!verdict.is_clean());
    }
}
