//! Who gets a waiting conversation: pure decision logic, no IO, so it can be
//! tested exhaustively. The dispatcher feeds it the live state; the store
//! re-checks capacity when it writes.

use std::cmp::Ordering;

/// An agent who is online now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub agent_id: &'a str,
    /// Conversations currently assigned to the agent.
    pub open: i64,
    /// Most conversations the agent may hold at once.
    pub capacity: i64,
    /// When the agent was last given a conversation (Unix ms; 0 = never).
    pub last_assigned_ms: i64,
    /// Speaks the shopper's language.
    pub speaks: bool,
}

impl Candidate<'_> {
    pub fn has_room(&self) -> bool {
        self.open < self.capacity
    }

    /// Compares load relative to capacity (open / capacity) without division.
    fn load_cmp(&self, other: &Candidate<'_>) -> Ordering {
        (i128::from(self.open) * i128::from(other.capacity))
            .cmp(&(i128::from(other.open) * i128::from(self.capacity)))
    }
}

/// The agent to offer a conversation to, if anyone has room:
/// 1. `returning_to`, the agent who last served this shopper, if they have room;
/// 2. otherwise, preferring agents who speak the shopper's language, the
///    lowest load relative to capacity; ties go to whoever has waited longest
///    since their last assignment, then to the smaller id so the choice is
///    stable.
pub fn pick<'a>(candidates: &[Candidate<'a>], returning_to: Option<&str>) -> Option<&'a str> {
    let mut eligible = candidates.iter().filter(|c| c.has_room());
    if let Some(previous) = returning_to
        && let Some(known) = eligible.clone().find(|c| c.agent_id == previous)
    {
        return Some(known.agent_id);
    }
    eligible
        .by_ref()
        .min_by(|a, b| {
            b.speaks
                .cmp(&a.speaks)
                .then(a.load_cmp(b))
                .then(a.last_assigned_ms.cmp(&b.last_assigned_ms))
                .then(a.agent_id.cmp(b.agent_id))
        })
        .map(|c| c.agent_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(agent_id: &str, open: i64, capacity: i64, last_assigned_ms: i64) -> Candidate<'_> {
        Candidate {
            agent_id,
            open,
            capacity,
            last_assigned_ms,
            speaks: false,
        }
    }

    #[test]
    fn speaking_the_shoppers_language_comes_before_load() {
        let dutch = Candidate {
            speaks: true,
            ..c("b", 3, 4, 0)
        };
        assert_eq!(pick(&[c("a", 0, 4, 0), dutch.clone()], None), Some("b"));
        // ...but a full agent is full, whatever they speak.
        let full = Candidate { open: 4, ..dutch };
        assert_eq!(pick(&[c("a", 0, 4, 0), full], None), Some("a"));
    }

    #[test]
    fn nobody_with_room_means_nobody_picked() {
        assert_eq!(pick(&[], None), None);
        assert_eq!(pick(&[c("a", 3, 3, 0), c("b", 5, 2, 0)], None), None);
    }

    #[test]
    fn lowest_load_relative_to_capacity_wins() {
        // a: 2/4 = 50 %, b: 1/2 = 50 %, c: 2/5 = 40 %
        assert_eq!(
            pick(&[c("a", 2, 4, 0), c("b", 1, 2, 0), c("c", 2, 5, 9)], None),
            Some("c")
        );
    }

    #[test]
    fn ties_go_to_the_longest_idle() {
        assert_eq!(
            pick(&[c("a", 1, 3, 200), c("b", 1, 3, 100)], None),
            Some("b")
        );
    }

    #[test]
    fn a_returning_shopper_gets_their_previous_agent_when_they_have_room() {
        let agents = [c("a", 0, 3, 0), c("b", 2, 3, 0)];
        assert_eq!(pick(&agents, Some("b")), Some("b"));
        let full = [c("a", 0, 3, 0), c("b", 3, 3, 0)];
        assert_eq!(pick(&full, Some("b")), Some("a"));
        assert_eq!(pick(&agents, Some("gone")), Some("a"));
    }

    fn candidates() -> impl Strategy<Value = Vec<(i64, i64, i64, bool)>> {
        prop::collection::vec((0i64..12, 0i64..8, 0i64..1000, any::<bool>()), 0..8)
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("agent-{i}")).collect()
    }

    proptest! {
        #[test]
        fn never_over_capacity_and_always_someone_with_room(raw in candidates(), sticky in 0usize..10) {
            let names = ids(raw.len());
            let list: Vec<_> = raw
                .iter()
                .zip(&names)
                .map(|(&(open, cap, last, speaks), id)| Candidate { speaks, ..c(id, open, cap, last) })
                .collect();
            let returning = names.get(sticky).map(String::as_str);
            match pick(&list, returning) {
                Some(chosen) => {
                    let chosen = list.iter().find(|c| c.agent_id == chosen).expect("a candidate");
                    prop_assert!(chosen.has_room());
                    let sticky_eligible = returning.and_then(|r| list.iter().find(|c| c.agent_id == r && c.has_room()));
                    match sticky_eligible {
                        Some(previous) => prop_assert_eq!(chosen.agent_id, previous.agent_id),
                        None => {
                            // Language first: nobody with room speaks it better.
                            let any_speaker = list.iter().any(|c| c.has_room() && c.speaks);
                            prop_assert_eq!(chosen.speaks, any_speaker);
                            for other in list.iter().filter(|c| c.has_room() && c.speaks == chosen.speaks) {
                                prop_assert_ne!(chosen.load_cmp(other), Ordering::Greater);
                            }
                        }
                    }
                }
                None => prop_assert!(list.iter().all(|c| !c.has_room())),
            }
        }

        #[test]
        fn repeated_assignments_stay_even(agents in 1usize..6, capacity in 1i64..6, rounds in 0usize..40) {
            let names = ids(agents);
            let mut open = vec![0i64; agents];
            let mut last = vec![0i64; agents];
            for now in 1..=rounds {
                let list: Vec<_> = (0..agents).map(|i| c(&names[i], open[i], capacity, last[i])).collect();
                let Some(chosen) = pick(&list, None) else {
                    prop_assert!(open.iter().all(|&o| o >= capacity));
                    continue;
                };
                let i = names.iter().position(|n| n == chosen).expect("known");
                open[i] += 1;
                last[i] = i64::try_from(now).expect("small");
                prop_assert!(open[i] <= capacity);
            }
            let (min, max) = (open.iter().min().copied().unwrap_or(0), open.iter().max().copied().unwrap_or(0));
            prop_assert!(max - min <= 1, "loads {:?}", open);
        }
    }
}
