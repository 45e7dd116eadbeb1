//! Sign-in's guards: wrong passwords lock out the one who guesses, not
//! the owner of the account; and passwords are hashed (argon2, 19 MiB and
//! tens of milliseconds each, on purpose) by a bounded pool, so that a
//! crowd of sign-ins is answered "busy" rather than queued without end or
//! run all at once.
//!
//! Failures are counted per account and guesser together: the guesser is
//! a browser that signed in to that account before (its device cookie), or
//! else the address. A browser of the account's owner that signed in
//! before is never locked out by anyone else's guesses. Browsers not known
//! to an account also count against the account as a whole (a crowd of
//! addresses guessing one password) and against their address (one address
//! guessing many accounts), with more room.
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

/// Failures allowed before the lockout starts: per account and guesser,
/// per account from unknown browsers together, per address.
pub const FREE_FAILURES_PER_GUESSER: u32 = 5;
pub const FREE_FAILURES_PER_ACCOUNT: u32 = 50;
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

    /// Failures counted for `key` now.
    fn count(&self, key: &K) -> u32 {
        self.lock().get(key).map_or(0, |f| f.count)
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

/// Who is guessing, as failures are counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Guesser {
    /// A browser that signed in to this account before (its device id).
    KnownBrowser(String),
    /// Anyone else, by their address.
    Address(ClientKey),
}

impl Guesser {
    pub fn new(known_browser: Option<String>, ip: IpAddr) -> Guesser {
        match known_browser {
            Some(device) => Guesser::KnownBrowser(device),
            None => Guesser::Address(ip.into()),
        }
    }
}

/// A lockout that just began for an account: the account's people should
/// hear of it (once an hour at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnderAttack {
    pub email: String,
    pub failures: u32,
}

/// Every sign-in guard of this process.
#[derive(Debug)]
pub struct SignInGuard {
    guessers: Counts<(String, Guesser)>,
    accounts: Counts<String>,
    addresses: Counts<ClientKey>,
    /// When each account's people were last told of an attack.
    told: Mutex<HashMap<String, Instant>>,
    hashing: std::sync::Arc<Semaphore>,
    /// How long a request waits for a hashing slot before "busy".
    wait: Duration,
}

impl SignInGuard {
    /// `slots`: passwords hashed at once (each takes 19 MiB); `wait`: how
    /// long a request waits for one before it is answered "busy".
    pub fn new(slots: usize, wait: Duration) -> SignInGuard {
        SignInGuard {
            guessers: Counts::new(FREE_FAILURES_PER_GUESSER),
            accounts: Counts::new(FREE_FAILURES_PER_ACCOUNT),
            addresses: Counts::new(FREE_FAILURES_PER_ADDRESS),
            told: Mutex::new(HashMap::new()),
            hashing: std::sync::Arc::new(Semaphore::new(slots.max(1))),
            wait,
        }
    }

    /// Whether a sign-in for `email` by `guesser` (from `ip`) may be tried
    /// now. The email counts whether or not it has an account: the answer
    /// must not tell. A browser that signed in to the account before waits
    /// only on its own failures.
    pub fn check(&self, email: &str, ip: IpAddr, guesser: &Guesser) -> Result<(), Refused> {
        let now = Instant::now();
        let email = email.to_ascii_lowercase();
        let own = self.guessers.locked(&(email.clone(), guesser.clone()), now);
        let shared = match guesser {
            Guesser::KnownBrowser(_) => None,
            Guesser::Address(_) => self
                .accounts
                .locked(&email, now)
                .into_iter()
                .chain(self.addresses.locked(&ip.into(), now))
                .max(),
        };
        match own.into_iter().chain(shared).max() {
            Some(retry_after) => Err(Refused {
                door: Door::SignIn,
                retry_after,
            }),
            None => Ok(()),
        }
    }

    /// A wrong password. Says so when it began a lockout of the account's
    /// guessers that the account's people have not heard of this hour.
    pub fn failed(&self, email: &str, ip: IpAddr, guesser: &Guesser) -> Option<UnderAttack> {
        let now = Instant::now();
        let email = email.to_ascii_lowercase();
        let key = (email.clone(), guesser.clone());
        self.guessers.fail(&key, now);
        let mut failures = self.guessers.count(&key);
        if let Guesser::Address(_) = guesser {
            self.accounts.fail(&email, now);
            self.addresses.fail(&ip.into(), now);
            failures = failures.max(self.accounts.count(&email));
        }
        if failures <= FREE_FAILURES_PER_GUESSER {
            return None;
        }
        let mut told = self
            .told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if told
            .get(&email)
            .is_some_and(|at| now.duration_since(*at) < FORGET_AFTER)
        {
            return None;
        }
        if told.len() >= MAX_TRACKED {
            told.retain(|_, at| now.duration_since(*at) < FORGET_AFTER);
        }
        told.insert(email.clone(), now);
        Some(UnderAttack { email, failures })
    }

    /// A right password clears that guesser's failures (not the address's
    /// or the account's: one good password must not hide a hundred
    /// guesses from elsewhere).
    pub fn succeeded(&self, email: &str, guesser: &Guesser) {
        self.guessers
            .clear(&(email.to_ascii_lowercase(), guesser.clone()));
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
        self.guessers.forget_quiet(now);
        self.accounts.forget_quiet(now);
        self.addresses.forget_quiet(now);
        self.told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, at| now.duration_since(*at) < FORGET_AFTER);
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
    fn someone_else_s_guesses_never_lock_the_owner_s_own_browser_out() {
        let guard = SignInGuard::new(1, Duration::from_secs(1));
        let attacker: IpAddr = "203.0.113.7"
            .parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        let owner_ip: IpAddr = "198.51.100.1".parse().unwrap_or(attacker);
        let attacking = Guesser::new(None, attacker);
        let mut told = Vec::new();
        for _ in 0..30 {
            told.extend(guard.failed("owner@shop.example", attacker, &attacking));
        }
        assert!(
            guard
                .check("owner@shop.example", attacker, &attacking)
                .is_err()
        );
        assert_eq!(told.len(), 1, "the account hears of it once");
        assert!(told[0].failures > FREE_FAILURES_PER_GUESSER);
        // The owner, from elsewhere: not locked by the attacker's guesses.
        let owner = Guesser::new(None, owner_ip);
        assert_eq!(guard.check("OWNER@shop.example", owner_ip, &owner), Ok(()));
        // Their own browser, even from the attacker's very address.
        let browser = Guesser::new(Some("device-1".into()), attacker);
        assert_eq!(
            guard.check("owner@shop.example", attacker, &browser),
            Ok(())
        );
        // A crowd of addresses: the account locks for unknown browsers only.
        for n in 0..60_u8 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, n));
            guard.failed("owner@shop.example", ip, &Guesser::new(None, ip));
        }
        assert!(guard.check("owner@shop.example", owner_ip, &owner).is_err());
        assert_eq!(
            guard.check("owner@shop.example", attacker, &browser),
            Ok(())
        );
        // A stolen device cookie gets five tries of its own.
        for _ in 0..6 {
            guard.failed("owner@shop.example", attacker, &browser);
        }
        assert!(
            guard
                .check("owner@shop.example", attacker, &browser)
                .is_err()
        );
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
