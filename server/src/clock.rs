//! The time the dispatcher acts by (a snooze ending): the system's, which a
//! test may move forward to see what a later hour brings without waiting
//! for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::store::now_ms;

/// Cheap to clone; clones share how far ahead they are.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    ahead_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.ahead_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone) forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(by, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_move_together() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = copy.now_ms();
        clock.advance(Duration::from_secs(3600));
        assert!(copy.now_ms() >= before + 3_600_000);
        assert!(copy.now_ms() < before + 3_700_000);
    }
}
