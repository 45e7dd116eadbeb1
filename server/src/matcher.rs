//! Who gets a waiting conversation: pure decision logic, no IO, so it can be
//! tested exhaustively. The dispatcher feeds it the live state.

/// An agent who could take a conversation now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub agent_id: &'a str,
    /// Conversations currently assigned to the agent.
    pub open: i64,
    /// When the agent was last given a conversation (Unix ms; 0 = never).
    pub last_assigned_ms: i64,
}

/// The least-loaded candidate; ties go to whoever has waited longest since
/// their last assignment, then to the smaller id so the choice is stable.
pub fn pick<'a>(candidates: &[Candidate<'a>]) -> Option<&'a str> {
    candidates
        .iter()
        .min_by(|a, b| {
            a.open
                .cmp(&b.open)
                .then(a.last_assigned_ms.cmp(&b.last_assigned_ms))
                .then(a.agent_id.cmp(b.agent_id))
        })
        .map(|c| c.agent_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(agent_id: &str, open: i64, last_assigned_ms: i64) -> Candidate<'_> {
        Candidate {
            agent_id,
            open,
            last_assigned_ms,
        }
    }

    #[test]
    fn nobody_available_means_nobody_picked() {
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn least_loaded_wins() {
        assert_eq!(
            pick(&[c("a", 3, 0), c("b", 1, 50), c("c", 2, 0)]),
            Some("b")
        );
    }

    #[test]
    fn ties_go_to_the_longest_idle() {
        assert_eq!(pick(&[c("a", 1, 200), c("b", 1, 100)]), Some("b"));
    }

    #[test]
    fn repeated_picks_spread_evenly() {
        let ids = ["a", "b", "c"];
        let mut open = [0i64; 3];
        let mut last = [0i64; 3];
        for now in 1..=30 {
            let candidates: Vec<_> = (0..3).map(|i| c(ids[i], open[i], last[i])).collect();
            let chosen = pick(&candidates).expect("someone");
            let i = ids.iter().position(|id| *id == chosen).expect("known id");
            open[i] += 1;
            last[i] = now;
        }
        assert_eq!(open, [10, 10, 10]);
    }
}
