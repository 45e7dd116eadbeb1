//! Sign-in's guards: wrong passwords lock an account, and an address, out
//! for a while that doubles with each failure past a few; and passwords are
//! hashed (argon2, 19 MiB and tens of milliseconds each, on purpose) by a
//! bounded pool, so that a crowd of sign-ins is answered "busy" rather than
//! queued without end or run all at once.
//!
//! A growing lockout is not a rate: governor (which the other doors use)
//! counts requests per period, but cannot make the tenth failure cost more
//! than the fifth. This is a small map of failure counts instead, bounded
//! in size and forgetting what has been quiet for an hour.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::{Busy, ClientKey, Door, Refused};

/// Failures allowed before the lockout starts, per account and per address.
pub const FREE_FAILURES_PER_ACCOUNT: u32 = 5;
pub const FREE_FAILURES_PER_ADDRESS: u32 = 20;
/// The first lockout; each further failure doubles it, up to the longest.
const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
const LONGEST_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// A count quiet for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Counts kept at most (per kind); beyond it the quietest are dropped.
const MAX_TRACKED: usize = 100_000;

/// Longest password taken (longer ones are refused before any hashing).
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
struct Counts<K> {
    free: u32,
    map: Mutex<HashMap<K, Failures>>,
}

impl<K: Hash + Eq + Clone> Counts<K> {
    fn new(free: u32) -> Counts<K> {
        Counts {
            free,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `key` must still wait, if it is locked out.
    fn locked(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.lock().get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&self, key: &K, now: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            forget_quiet(&mut map, now);
            if map.len() >= MAX_TRACKED {
                // Still full: drop the quietest to make room.
                if let Some(quietest) = map
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&quietest);
                }
            }
        }
        let failures = map.entry(key.clone()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
        if failures.count > self.free {
            let doublings = (failures.count - self.free - 1).min(20);
            let lockout = FIRST_LOCKOUT
                .saturating_mul(1 << doublings)
                .min(LONGEST_LOCKOUT);
            failures.locked_until = Some(now + lockout);
        }
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }

    fn forget_quiet(&self, now: Instant) {
        forget_quiet(&mut self.lock(), now);
    }
}

fn forget_quiet<K>(map: &mut HashMap<K, Failures>, now: Instant) {
    map.retain(|_, failures| now.duration_since(failures.last) < FORGET_AFTER);
}

/// What a sign-in told "busy" hears.
const SIGN_INS_BUSY: &str = "Too many sign-ins at once; please try again in a moment.";

/// Every sign-in guard of this process.
#[derive(Debug)]
pub struct SignInGuard {
    accounts: Counts<String>,
    addresses: Counts<ClientKey>,
    hashing: std::sync::Arc<Semaphore>,
    /// How long a request waits for a hashing slot before "busy".
    wait: Duration,
}

impl SignInGuard {
    /// `slots`: passwords hashed at once (each takes 19 MiB); `wait`: how
    /// long a request waits for one before it is answered "busy".
    pub fn new(slots: usize, wait: Duration) -> SignInGuard {
        SignInGuard {
            accounts: Counts::new(FREE_FAILURES_PER_ACCOUNT),
            addresses: Counts::new(FREE_FAILURES_PER_ADDRESS),
            hashing: std::sync::Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    /// Whether a sign-in for `email` from `ip` may be tried now. The email
    /// counts whether or not it has an account: the answer must not tell.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), Refused> {
        let now = Instant::now();
        let wait = self
            .accounts
            .locked(&email.to_ascii_lowercase(), now)
            .into_iter()
            .chain(self.addresses.locked(&ip.into(), now))
            .max();
        match wait {
            Some(retry_after) => Err(Refused {
                door: Door::SignIn,
                retry_after,
            }),
            None => Ok(()),
        }
    }

    pub fn failed(&self, email: &str, ip: IpAddr) {
        let now = Instant::now();
        self.accounts.fail(&email.to_ascii_lowercase(), now);
        self.addresses.fail(&ip.into(), now);
    }

    /// A right password clears the account's failures (not the address's:
    /// one good password must not hide a hundred guesses at others).
    pub fn succeeded(&self, email: &str) {
        self.accounts.clear(&email.to_ascii_lowercase());
    }

    /// A slot to hash a password in, or [`Busy`] after a short wait.
    pub async fn hashing_slot(&self) -> Result<OwnedSemaphorePermit, Busy> {
        tokio::time::timeout(self.wait, self.hashing.clone().acquire_owned())
            .await
            .map_err(|_| Busy(SIGN_INS_BUSY))?
            .map_err(|_| Busy(SIGN_INS_BUSY))
    }

    pub fn forget_quiet(&self) {
        let now = Instant::now();
        self.accounts.forget_quiet(now);
        self.addresses.forget_quiet(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_starts_after_the_free_failures_and_doubles() {
        let counts: Counts<String> = Counts::new(2);
        let key = "a".to_owned();
        let now = Instant::now();
        counts.fail(&key, now);
        counts.fail(&key, now);
        assert_eq!(counts.locked(&key, now), None);
        counts.fail(&key, now);
        assert_eq!(counts.locked(&key, now), Some(Duration::from_secs(1)));
        counts.fail(&key, now);
        assert_eq!(counts.locked(&key, now), Some(Duration::from_secs(2)));
        for _ in 0..30 {
            counts.fail(&key, now);
        }
        assert_eq!(counts.locked(&key, now), Some(LONGEST_LOCKOUT));
        assert_eq!(counts.locked(&key, now + LONGEST_LOCKOUT), None);
        counts.clear(&key);
        assert_eq!(counts.locked(&key, now), None);
    }

    #[test]
    fn the_counts_stay_bounded_and_forget_what_is_quiet() {
        let counts: Counts<u32> = Counts::new(1);
        let now = Instant::now();
        for key in 0..10 {
            counts.fail(&key, now);
        }
        counts.forget_quiet(now + FORGET_AFTER);
        assert!(counts.lock().is_empty());
    }
}
