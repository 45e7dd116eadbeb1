//! Limits at every public door: how many sockets, new visitors, new
//! conversations and requests one address (and one site, and one
//! conversation) may open in a while. Every shop's page carries its site
//! key, so anyone can speak the widget protocol; these make an attacker's
//! cost grow with the harm while a tenant's real shoppers are served.
//!
//! The counting is `governor`'s (GCRA: one timestamp per key, lock-free,
//! with `retain_recent` to forget quiet keys), not ours: it is well kept,
//! answers "when may I try again" exactly (for `Retry-After`), and its
//! keyed state stays small under a flood of keys.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the limits are. Every one is per minute, except frames (per
/// second); 0 turns a limit off (for load tests on one address).
#[derive(Debug, Clone, Args)]
pub struct LimitSettings {
    /// Widget WebSocket upgrades per client address per minute.
    #[arg(
        long = "limit-sockets-per-ip",
        env = "RAPPORT_LIMIT_SOCKETS_PER_IP",
        default_value_t = 60
    )]
    pub sockets_per_ip: u32,
    /// Widget WebSocket upgrades per site per minute.
    #[arg(
        long = "limit-sockets-per-site",
        env = "RAPPORT_LIMIT_SOCKETS_PER_SITE",
        default_value_t = 6000
    )]
    pub sockets_per_site: u32,
    /// New visitors (a hello without a token) per client address per minute.
    #[arg(
        long = "limit-visitors-per-ip",
        env = "RAPPORT_LIMIT_VISITORS_PER_IP",
        default_value_t = 30
    )]
    pub visitors_per_ip: u32,
    /// New visitors per site per minute.
    #[arg(
        long = "limit-visitors-per-site",
        env = "RAPPORT_LIMIT_VISITORS_PER_SITE",
        default_value_t = 1200
    )]
    pub visitors_per_site: u32,
    /// New conversations per client address per minute.
    #[arg(
        long = "limit-conversations-per-ip",
        env = "RAPPORT_LIMIT_CONVERSATIONS_PER_IP",
        default_value_t = 20
    )]
    pub conversations_per_ip: u32,
    /// New conversations per site per minute.
    #[arg(
        long = "limit-conversations-per-site",
        env = "RAPPORT_LIMIT_CONVERSATIONS_PER_SITE",
        default_value_t = 600
    )]
    pub conversations_per_site: u32,
    /// A shopper's messages per conversation per minute.
    #[arg(
        long = "limit-messages-per-conversation",
        env = "RAPPORT_LIMIT_MESSAGES_PER_CONVERSATION",
        default_value_t = 30
    )]
    pub messages_per_conversation: u32,
    /// Frames per widget socket per second (twice that in a burst).
    #[arg(
        long = "limit-frames-per-second",
        env = "RAPPORT_LIMIT_FRAMES_PER_SECOND",
        default_value_t = 10
    )]
    pub frames_per_second: u32,
    /// Public HTTP requests (widget config, pictures, invitations, password
    /// resets, unsubscribe) per client address per minute.
    #[arg(
        long = "limit-requests-per-ip",
        env = "RAPPORT_LIMIT_REQUESTS_PER_IP",
        default_value_t = 300
    )]
    pub requests_per_ip: u32,
    /// Open TCP connections per client address (not applied behind a proxy
    /// named by `RAPPORT_CLIENT_IP_HEADER`: the proxy holds the connections).
    #[arg(
        long = "limit-connections-per-ip",
        env = "RAPPORT_LIMIT_CONNECTIONS_PER_IP",
        default_value_t = 200
    )]
    pub connections_per_ip: u32,
    /// Widget sockets being opened at once in this process (the checks
    /// before the upgrade, then the hello): past them a new one is told to
    /// come back in a second, so a reconnecting crowd (after a restart, a
    /// network blip) queues in the clients, not in the server.
    #[arg(
        long = "limit-opening-sockets",
        env = "RAPPORT_LIMIT_OPENING_SOCKETS",
        default_value_t = 256
    )]
    pub opening_sockets: u32,
    /// Open or waiting conversations the shoppers of one client address may
    /// hold at once in an account (a visitor holds one at most anyway).
    #[arg(
        long = "limit-open-conversations-per-ip",
        env = "RAPPORT_LIMIT_OPEN_CONVERSATIONS_PER_IP",
        default_value_t = 2
    )]
    pub open_conversations_per_ip: u32,
    /// Seconds a shopper (or their address) waits for a new conversation
    /// after an agent closed their last one.
    #[arg(
        long = "limit-after-close-secs",
        env = "RAPPORT_LIMIT_AFTER_CLOSE_SECS",
        default_value_t = 60
    )]
    pub after_close_secs: u32,
    /// Mail a widget may ask for (a transcript, an address to confirm) per
    /// client address per hour.
    #[arg(
        long = "limit-mail-asks-per-ip",
        env = "RAPPORT_LIMIT_MAIL_ASKS_PER_IP",
        default_value_t = 10
    )]
    pub mail_asks_per_ip: u32,
    /// Mail one site sends one recipient per day, whatever its kind.
    #[arg(
        long = "limit-mail-per-recipient-per-day",
        env = "RAPPORT_LIMIT_MAIL_PER_RECIPIENT_PER_DAY",
        default_value_t = 10
    )]
    pub mail_per_recipient_per_day: u32,
    /// Mail the shoppers of one site may ask for per day (transcripts and
    /// confirmations).
    #[arg(
        long = "limit-shopper-mail-per-site-per-day",
        env = "RAPPORT_LIMIT_SHOPPER_MAIL_PER_SITE_PER_DAY",
        default_value_t = 500
    )]
    pub shopper_mail_per_site_per_day: u32,
    /// Inbound SMTP connections open at once from one client address.
    #[arg(
        long = "limit-smtp-connections-per-ip",
        env = "RAPPORT_LIMIT_SMTP_CONNECTIONS_PER_IP",
        default_value_t = 4
    )]
    pub smtp_connections_per_ip: u32,
    /// Files uploaded per client address per minute (shoppers' and agents').
    #[arg(
        long = "limit-uploads-per-ip",
        env = "RAPPORT_LIMIT_UPLOADS_PER_IP",
        default_value_t = 20
    )]
    pub uploads_per_ip: u32,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            sockets_per_ip: 60,
            sockets_per_site: 6000,
            visitors_per_ip: 30,
            visitors_per_site: 1200,
            conversations_per_ip: 20,
            conversations_per_site: 600,
            messages_per_conversation: 30,
            frames_per_second: 10,
            requests_per_ip: 300,
            connections_per_ip: 200,
            opening_sockets: 256,
            open_conversations_per_ip: 2,
            after_close_secs: 60,
            mail_asks_per_ip: 10,
            mail_per_recipient_per_day: 10,
            shopper_mail_per_site_per_day: 500,
            smtp_connections_per_ip: 4,
            uploads_per_ip: 20,
        }
    }
}

impl LimitSettings {
    /// No limits at all: for load tests that come from one address.
    pub fn off() -> LimitSettings {
        LimitSettings {
            sockets_per_ip: 0,
            sockets_per_site: 0,
            visitors_per_ip: 0,
            visitors_per_site: 0,
            conversations_per_ip: 0,
            conversations_per_site: 0,
            messages_per_conversation: 0,
            frames_per_second: 0,
            requests_per_ip: 0,
            connections_per_ip: 0,
            opening_sockets: 0,
            open_conversations_per_ip: 0,
            after_close_secs: 0,
            mail_asks_per_ip: 0,
            mail_per_recipient_per_day: 0,
            shopper_mail_per_site_per_day: 0,
            smtp_connections_per_ip: 0,
            uploads_per_ip: 0,
        }
    }
}

/// Which door refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Sockets,
    Visitors,
    Conversations,
    Messages,
    Frames,
    Requests,
    SignIn,
    /// Mail asked for from a widget.
    MailAsks,
    /// A new conversation soon after an agent closed the last one.
    AfterClose,
    /// Files uploaded.
    Uploads,
}

/// Too busy for this now, whoever asks: try again in a second (503).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{0}")]
pub struct Busy(pub &'static str);

/// What a socket told "busy" hears.
pub const OPENING_BUSY: &str =
    "The server is opening many chats just now; please try again in a second.";

/// Over a limit: when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many {door:?} for now; try again in {} s", self.retry_after_secs())]
pub struct Refused {
    pub door: Door,
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds, at least one (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }

    /// What the client is told, in words.
    pub fn message(&self) -> String {
        let what = match self.door {
            Door::Sockets => "connections",
            Door::Visitors => "new chats from this network",
            Door::Conversations => "new conversations from this network",
            Door::Messages => "messages in this conversation",
            Door::Frames => "messages on this connection",
            Door::Requests => "requests from this network",
            Door::SignIn => "failed sign-ins",
            Door::MailAsks => "emails asked for from this network",
            Door::Uploads => "files sent from this network",
            Door::AfterClose => {
                return format!(
                    "Your last chat was just closed; please wait {} s before starting a new one.",
                    self.retry_after_secs()
                );
            }
        };
        format!(
            "Too many {what} just now; please wait {} s and try again.",
            self.retry_after_secs()
        )
    }
}

/// A client address as limits count it: an IPv6 address by its /64, the
/// block one subscriber usually holds (counting each address would let one
/// home spread over 2^64 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl From<IpAddr> for ClientKey {
    fn from(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(_) => ClientKey(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    ClientKey(IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl std::fmt::Display for ClientKey {
    /// `203.0.113.7`, or an IPv6 /64 as `2001:db8:1:2::`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One keyed limit; `None` when turned off.
#[derive(Debug)]
struct Keyed<K: Hash + Eq + Clone> {
    door: Door,
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(door: Door, quota: Option<Quota>) -> Keyed<K> {
        Keyed {
            door,
            limiter: quota.map(RateLimiter::keyed),
        }
    }

    fn check(&self, key: &K) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| Refused {
            door: self.door,
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    fn forget_quiet_keys(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, RateLimiter::len)
    }
}

const TWO: NonZeroU32 = NonZeroU32::MIN.saturating_add(1);

/// `n` per minute, all of them at once if need be.
fn per_minute(n: u32) -> Option<Quota> {
    NonZeroU32::new(n).map(Quota::per_minute)
}

/// Every keyed limit of this process. Shared by all requests.
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    sockets_per_ip: Keyed<ClientKey>,
    sockets_per_site: Keyed<String>,
    visitors_per_ip: Keyed<ClientKey>,
    visitors_per_site: Keyed<String>,
    conversations_per_ip: Keyed<ClientKey>,
    conversations_per_site: Keyed<String>,
    messages_per_conversation: Keyed<String>,
    requests_per_ip: Keyed<ClientKey>,
    mail_asks_per_ip: Keyed<ClientKey>,
    uploads_per_ip: Keyed<ClientKey>,
    /// Slots for sockets being opened (`None`: no limit); see
    /// [`LimitSettings::opening_sockets`].
    opening: Option<Arc<Semaphore>>,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        Limits {
            sockets_per_ip: Keyed::new(Door::Sockets, per_minute(settings.sockets_per_ip)),
            sockets_per_site: Keyed::new(Door::Sockets, per_minute(settings.sockets_per_site)),
            visitors_per_ip: Keyed::new(Door::Visitors, per_minute(settings.visitors_per_ip)),
            visitors_per_site: Keyed::new(Door::Visitors, per_minute(settings.visitors_per_site)),
            conversations_per_ip: Keyed::new(
                Door::Conversations,
                per_minute(settings.conversations_per_ip),
            ),
            conversations_per_site: Keyed::new(
                Door::Conversations,
                per_minute(settings.conversations_per_site),
            ),
            messages_per_conversation: Keyed::new(
                Door::Messages,
                per_minute(settings.messages_per_conversation),
            ),
            requests_per_ip: Keyed::new(Door::Requests, per_minute(settings.requests_per_ip)),
            mail_asks_per_ip: Keyed::new(
                Door::MailAsks,
                NonZeroU32::new(settings.mail_asks_per_ip).map(Quota::per_hour),
            ),
            uploads_per_ip: Keyed::new(Door::Uploads, per_minute(settings.uploads_per_ip)),
            opening: (settings.opening_sockets > 0)
                .then(|| Arc::new(Semaphore::new(settings.opening_sockets as usize))),
            settings,
        }
    }

    pub fn settings(&self) -> &LimitSettings {
        &self.settings
    }

    /// A widget socket from `ip` (checked before anything is looked up).
    pub fn socket_from(&self, ip: IpAddr) -> Result<(), Refused> {
        self.sockets_per_ip.check(&ip.into())
    }

    /// A slot to open a widget socket in (its checks, then its hello), or
    /// [`Busy`] at once if every one is taken: waiting would hold the
    /// client's connection while it gives up and comes back. `None` when
    /// the limit is off.
    pub fn opening_socket(&self) -> Result<Option<OwnedSemaphorePermit>, Busy> {
        match &self.opening {
            None => Ok(None),
            Some(slots) => slots
                .clone()
                .try_acquire_owned()
                .map(Some)
                .map_err(|_| Busy(OPENING_BUSY)),
        }
    }

    /// A widget socket for `site_id`.
    pub fn socket_for(&self, site_id: &str) -> Result<(), Refused> {
        self.sockets_per_site.check(&site_id.to_owned())
    }

    /// A new visitor from `ip` on `site_id`.
    pub fn new_visitor(&self, ip: IpAddr, site_id: &str) -> Result<(), Refused> {
        self.visitors_per_ip.check(&ip.into())?;
        self.visitors_per_site.check(&site_id.to_owned())
    }

    /// A new conversation from `ip` on `site_id`.
    pub fn new_conversation(&self, ip: IpAddr, site_id: &str) -> Result<(), Refused> {
        self.conversations_per_ip.check(&ip.into())?;
        self.conversations_per_site.check(&site_id.to_owned())
    }

    /// A new conversation on `site_id` whose address is not known (an
    /// email reply to a closed conversation).
    pub fn new_conversation_for_site(&self, site_id: &str) -> Result<(), Refused> {
        self.conversations_per_site.check(&site_id.to_owned())
    }

    /// A shopper's message in `conversation_id`.
    pub fn message(&self, conversation_id: &str) -> Result<(), Refused> {
        self.messages_per_conversation
            .check(&conversation_id.to_owned())
    }

    /// A public HTTP request from `ip`.
    pub fn request(&self, ip: IpAddr) -> Result<(), Refused> {
        self.requests_per_ip.check(&ip.into())
    }

    /// Mail asked for from a widget at `ip` (a transcript, a confirmation).
    pub fn mail_ask(&self, ip: IpAddr) -> Result<(), Refused> {
        self.mail_asks_per_ip.check(&ip.into())
    }

    /// A file uploaded from `ip`.
    pub fn upload(&self, ip: IpAddr) -> Result<(), Refused> {
        self.uploads_per_ip.check(&ip.into())
    }

    /// The frame limit of one new socket.
    pub fn frames(&self) -> FrameLimit {
        FrameLimit(
            NonZeroU32::new(self.settings.frames_per_second).map(|n| {
                RateLimiter::direct(Quota::per_second(n).allow_burst(n.saturating_mul(TWO)))
            }),
        )
    }

    /// Forgets addresses and sites quiet for long enough that their limit
    /// is full again; run every minute or so, so that a flood of keys does
    /// not stay in memory.
    pub fn forget_quiet_keys(&self) {
        self.sockets_per_ip.forget_quiet_keys();
        self.sockets_per_site.forget_quiet_keys();
        self.visitors_per_ip.forget_quiet_keys();
        self.visitors_per_site.forget_quiet_keys();
        self.conversations_per_ip.forget_quiet_keys();
        self.conversations_per_site.forget_quiet_keys();
        self.messages_per_conversation.forget_quiet_keys();
        self.requests_per_ip.forget_quiet_keys();
        self.mail_asks_per_ip.forget_quiet_keys();
        self.uploads_per_ip.forget_quiet_keys();
    }

    /// How many keys are counted now (for logs and tests).
    pub fn tracked_keys(&self) -> usize {
        self.sockets_per_ip.len()
            + self.sockets_per_site.len()
            + self.visitors_per_ip.len()
            + self.visitors_per_site.len()
            + self.conversations_per_ip.len()
            + self.conversations_per_site.len()
            + self.messages_per_conversation.len()
            + self.requests_per_ip.len()
            + self.mail_asks_per_ip.len()
    }
}

/// One socket's frames per second.
#[derive(Debug)]
pub struct FrameLimit(Option<DefaultDirectRateLimiter>);

impl FrameLimit {
    pub fn check(&self) -> Result<(), Refused> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| Refused {
            door: Door::Frames,
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_allowance_and_told_when_to_retry() {
        let limits = Limits::new(LimitSettings {
            visitors_per_ip: 3,
            ..LimitSettings::default()
        });
        let ip: IpAddr = "203.0.113.7"
            .parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        for _ in 0..3 {
            assert_eq!(limits.new_visitor(ip, "site"), Ok(()));
        }
        let refused = limits.new_visitor(ip, "site").err();
        assert!(refused.is_some_and(|r| r.door == Door::Visitors && r.retry_after_secs() >= 1));
        // Another address has its own allowance.
        let other: IpAddr = "203.0.113.8".parse().unwrap_or(ip);
        assert_eq!(limits.new_visitor(other, "site"), Ok(()));
    }

    #[test]
    fn one_ipv6_subscriber_is_one_key() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap_or(a);
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(a);
        assert_eq!(ClientKey::from(a), ClientKey::from(b));
        assert_ne!(ClientKey::from(a), ClientKey::from(c));
        let mapped: IpAddr = "::ffff:198.51.100.1".parse().unwrap_or(a);
        assert_eq!(
            ClientKey::from(mapped),
            ClientKey::from("198.51.100.1".parse::<IpAddr>().unwrap_or(a))
        );
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = Limits::new(LimitSettings::off());
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        for _ in 0..10_000 {
            assert_eq!(limits.new_conversation(ip, "site"), Ok(()));
        }
        assert_eq!(limits.tracked_keys(), 0);
        let frames = limits.frames();
        assert!((0..10_000).all(|_| frames.check().is_ok()));
    }

    #[test]
    fn frames_allow_a_burst_of_twice_the_rate_then_refuse() {
        let limits = Limits::new(LimitSettings {
            frames_per_second: 5,
            ..LimitSettings::default()
        });
        let frames = limits.frames();
        let allowed = (0..100).filter(|_| frames.check().is_ok()).count();
        assert!((10..=11).contains(&allowed), "{allowed}");
    }
}
