//! Summaries of measured durations.

use serde::Serialize;

/// p50 / p99 / max of a sample, in milliseconds, and its size.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Spread {
    /// From durations in nanoseconds (any order).
    pub fn of(mut nanos: Vec<u64>) -> Spread {
        if nanos.is_empty() {
            return Spread::default();
        }
        nanos.sort_unstable();
        let at = |percent: usize| {
            let index = (nanos.len() * percent / 100).min(nanos.len() - 1);
            ms(nanos[index])
        };
        Spread {
            count: nanos.len(),
            p50_ms: at(50),
            p99_ms: at(99),
            max_ms: ms(nanos[nanos.len() - 1]),
        }
    }
}

fn ms(nanos: u64) -> f64 {
    // Precision below a microsecond is noise here.
    (nanos / 1_000) as f64 / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn percentiles_of_a_known_sample() {
        let sample: Vec<u64> = (1..=100).map(|n| n * 1_000_000).collect();
        let spread = Spread::of(sample);
        assert_eq!(spread.count, 100);
        assert_eq!(spread.p50_ms, 51.0);
        assert_eq!(spread.p99_ms, 100.0);
        assert_eq!(spread.max_ms, 100.0);
        assert_eq!(Spread::of(Vec::new()), Spread::default());
    }
}
