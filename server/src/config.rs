//! Typed configuration from flags and `RAPPORT_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "rapport",
    version,
    about = "Rapport: live chat for online shops"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create an agent or owner in the first account (or a new account).
    AddUser(AddUser),
    /// Create a site and print its key as JSON.
    AddSite(AddSite),
    /// Create a team in the first account, with members by email.
    AddTeam(AddTeam),
    /// Offer a topic on a site, routed to a team.
    AddTopic(AddTopic),
    /// Show a site's identity secret (creating one if it has none), rotate
    /// it, or require verified identity; prints JSON.
    SiteSecret(SiteSecret),
    /// Set a person's password (read from standard input or
    /// RAPPORT_NEW_PASSWORD); their sessions end.
    SetPassword(SetPassword),
    /// Rename a person or change the address they sign in with; prints JSON.
    UpdateUser(UpdateUser),
}

#[derive(Debug, Args)]
pub struct UpdateUser {
    /// The address they sign in with now.
    #[arg(long)]
    pub email: String,
    /// Their new name, as colleagues and shoppers read it.
    #[arg(long)]
    pub name: Option<String>,
    /// The address they will sign in with (and get password links at).
    #[arg(long)]
    pub new_email: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetPassword {
    #[arg(long)]
    pub email: String,
    /// The password; read from standard input when absent.
    #[arg(long, env = "RAPPORT_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Debug, Args)]
pub struct SiteSecret {
    /// The site's key.
    #[arg(long)]
    pub site: String,
    /// Make a new secret; tokens signed with the old one work for
    /// `--grace-minutes` more.
    #[arg(long)]
    pub rotate: bool,
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..=10080))]
    pub grace_minutes: i64,
    /// Refuse `identify` without a valid signed token (`true`), or keep
    /// unsigned details as unverified (`false`).
    #[arg(long)]
    pub enforce: Option<bool>,
}

#[derive(Debug, Args)]
pub struct AddTeam {
    #[arg(long)]
    pub name: String,
    /// A member's email; repeat for more.
    #[arg(long = "member")]
    pub members: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddTopic {
    /// The site's key.
    #[arg(long)]
    pub site: String,
    /// The key the page uses: Rapport('set', {topic: "billing"}).
    #[arg(long)]
    pub topic: String,
    /// What the shopper reads, e.g. "Billing and refunds".
    #[arg(long)]
    pub label: String,
    /// The team's name.
    #[arg(long)]
    pub team: String,
}

#[derive(Debug, Args)]
pub struct AddUser {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// owner or agent
    #[arg(long, default_value = "agent")]
    pub role: String,
    /// The password; read from standard input when absent.
    #[arg(long, env = "RAPPORT_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Create a new account with this name instead of joining the first one.
    #[arg(long)]
    pub new_account: Option<String>,
    /// Most conversations this person holds at once (default: the site's).
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..=1000))]
    pub capacity: Option<i64>,
    /// Languages this person speaks, e.g. en,nl (shoppers whose browser
    /// uses one of them are offered to them first).
    #[arg(long, value_delimiter = ',')]
    pub languages: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AddSite {
    #[arg(long)]
    pub name: String,
    /// An allowed page origin, e.g. https://shop.example; repeat for more.
    #[arg(long = "origin")]
    pub origins: Vec<String>,
    /// Seconds an agent's reply may wait unseen before it is emailed to the
    /// shopper (the console sets it in minutes; default three minutes).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub email_delay_secs: Option<i64>,
}

/// Server settings. Every flag can also be given as its environment variable.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "RAPPORT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Database: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(
        long,
        env = "RAPPORT_DATABASE_URL",
        default_value = "sqlite://data/rapport.db"
    )]
    pub database_url: String,
    /// The URL shoppers' browsers reach this server at (used in the embed
    /// snippet, links and origin checks); default: `http://` and the address
    /// listened on (`http://127.0.0.1:8080`).
    #[arg(long = "public-url", env = "RAPPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder with the built widget and inbox (`cargo xtask dist` writes it).
    #[arg(long, env = "RAPPORT_ASSETS_DIR", default_value = "dist")]
    pub assets_dir: PathBuf,
    /// Seconds an assigned agent has to send a first reply before the
    /// conversation is offered to someone else.
    #[arg(long, env = "RAPPORT_REPLY_TIMEOUT_SECS", default_value_t = 120)]
    pub reply_timeout_secs: u64,
    /// Seconds an agent stays online after their last inbox tab closed (a
    /// reload is not leaving); then their conversations go to others.
    #[arg(long, env = "RAPPORT_OFFLINE_GRACE_SECS", default_value_t = 30)]
    pub offline_grace_secs: u64,
    /// Outgoing mail server for invitations, e.g. smtp://mail.example:587
    /// (`?tls=required` for STARTTLS is not built in); unset: no mail, the
    /// console shows invitation links to share by hand.
    #[arg(long, env = "RAPPORT_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of Rapport's mail.
    #[arg(
        long,
        env = "RAPPORT_MAIL_FROM",
        default_value = "Rapport <rapport@localhost>"
    )]
    pub mail_from: String,
    /// Where mail for reply addresses is received by SMTP, e.g.
    /// 0.0.0.0:25 (the reply domain's MX must point here); unset: no SMTP
    /// listener.
    #[arg(long, env = "RAPPORT_INBOUND_SMTP_ADDR")]
    pub inbound_smtp_addr: Option<SocketAddr>,
    /// The shared secret a mail provider's inbound webhook sends
    /// (`Authorization: Bearer SECRET` on `POST /api/mail/inbound`); unset:
    /// no webhook.
    #[arg(long, env = "RAPPORT_INBOUND_WEBHOOK_SECRET", hide_env_values = true)]
    pub inbound_webhook_secret: Option<String>,
    /// The domain of reply addresses (`reply+TOKEN@DOMAIN`); default: the
    /// public URL's host.
    #[arg(long, env = "RAPPORT_REPLY_DOMAIN")]
    pub reply_domain: Option<String>,
    /// Seconds before a mail that could not be sent is tried again; the
    /// wait doubles after each failure, up to an hour.
    #[arg(long, env = "RAPPORT_MAIL_RETRY_SECS", default_value_t = 30)]
    pub mail_retry_secs: u64,
    /// Milliseconds between two looks at mail due (unseen replies whose
    /// delay passed, the outbox); mail queued now is sent at once anyway.
    #[arg(long, env = "RAPPORT_MAIL_TICK_MS", default_value_t = 2000)]
    pub mail_tick_ms: u64,
    /// Log filter, e.g. info or rapport_server=debug.
    #[arg(long, env = "RAPPORT_LOG", default_value = "info")]
    pub log: String,
    /// Behind a reverse proxy: the header it puts the client's address in
    /// (e.g. X-Forwarded-For, whose last entry is taken, or X-Real-IP).
    /// Unset: the connection's own address. Set it only behind a proxy that
    /// always writes it, or anyone can claim any address.
    #[arg(long, env = "RAPPORT_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Seconds a socket may stay open without its client sending a frame of
    /// its own (the clients' heartbeat counts; WebSocket pongs do not).
    #[arg(long, env = "RAPPORT_SOCKET_QUIET_SECS", default_value_t = u64::from(protocol::APP_IDLE_TIMEOUT_SECS))]
    pub socket_quiet_secs: u64,
    /// Seconds a client has to send a request's headers (and an idle kept-alive
    /// connection stays open).
    #[arg(long, env = "RAPPORT_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a request may take, reading its body included (answered 408).
    #[arg(long, env = "RAPPORT_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Passwords hashed at once (argon2, 19 MiB each); default: one per core.
    #[arg(long, env = "RAPPORT_HASHING_SLOTS")]
    pub hashing_slots: Option<usize>,
    /// Milliseconds a sign-in waits for a hashing slot before it is answered
    /// 503 (try again).
    #[arg(long, env = "RAPPORT_HASHING_WAIT_MS", default_value_t = 2000)]
    pub hashing_wait_ms: u64,
    /// The key processes on one PostgreSQL database sign their notices to
    /// each other with (the same for all of them). Unset: one kept in the
    /// database's `server_keys` table, which only the app's role should
    /// be able to read.
    #[arg(long, env = "RAPPORT_CLUSTER_KEY", hide_env_values = true)]
    pub cluster_key: Option<String>,
    /// Days a shopper's browser token may go unused before it stops
    /// working (the browser then starts as a new visitor); 0: never.
    #[arg(long, env = "RAPPORT_VISITOR_IDLE_DAYS", default_value_t = 30)]
    pub visitor_idle_days: u32,
    /// Local development: a site with no allowed origins serves pages on
    /// this machine, and the demo shop at `/` is served, even when the
    /// server listens on more than loopback. Both are on anyway when it
    /// listens on loopback only.
    #[arg(long, env = "RAPPORT_DEV", default_value_t = false)]
    pub dev: bool,
    /// SQLite only: `normal` keeps every acknowledged message through a
    /// crash of the process; `full` also through a crash of the machine
    /// or a power cut, syncing the log at every commit (one sync per batch
    /// of messages).
    #[arg(long, env = "RAPPORT_SQLITE_SYNCHRONOUS", default_value_t = crate::store::Synchronous::Normal)]
    pub sqlite_synchronous: crate::store::Synchronous,
    #[command(flatten)]
    pub limits: crate::limits::LimitSettings,
    #[command(flatten)]
    pub files: crate::files::FileConfig,
    /// The time the dispatcher acts by; tests move it forward.
    #[arg(skip)]
    pub clock: crate::clock::Clock,
}

impl Config {
    /// A config for tests and tools: everything default but the database.
    pub fn for_database(database_url: &str) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            public_url: None,
            assets_dir: PathBuf::from("dist"),
            reply_timeout_secs: 120,
            offline_grace_secs: 30,
            smtp_url: None,
            mail_from: "Rapport <rapport@localhost>".to_owned(),
            inbound_smtp_addr: None,
            inbound_webhook_secret: None,
            reply_domain: None,
            mail_retry_secs: 30,
            mail_tick_ms: 2000,
            log: "info".to_owned(),
            client_ip_header: None,
            socket_quiet_secs: u64::from(protocol::APP_IDLE_TIMEOUT_SECS),
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            hashing_slots: None,
            hashing_wait_ms: 2000,
            limits: crate::limits::LimitSettings::default(),
            dev: false,
            visitor_idle_days: 30,
            cluster_key: None,
            sqlite_synchronous: crate::store::Synchronous::Normal,
            files: crate::files::FileConfig::default(),
            clock: crate::clock::Clock::default(),
        }
    }

    /// The URL browsers reach this server at, without a trailing slash: as
    /// configured, else the address listened on (a server listening on
    /// every interface is reached at loopback from its own machine).
    pub fn public_url(&self) -> String {
        match self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
        {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let mut addr = self.addr;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}")
            }
        }
    }

    /// `https://chat.example` from the public URL: the origin of the demo page.
    pub fn public_origin(&self) -> String {
        crate::domain::Origin::parse(&self.public_url())
            .map(crate::domain::Origin::into_string)
            .unwrap_or_default()
    }

    /// The domain of reply addresses: as configured, else the public URL's host.
    pub fn reply_domain(&self) -> String {
        self.reply_domain
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| {
                let origin = self.public_origin();
                let host = origin.split_once("://").map_or("", |(_, rest)| rest);
                host.rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(host, |(host, _)| host)
                    .trim_matches(['[', ']'])
                    .to_owned()
            })
    }

    /// Whether email replies can come back in (an SMTP listener or a webhook).
    pub fn inbound_mail(&self) -> bool {
        self.inbound_smtp_addr.is_some()
            || self
                .inbound_webhook_secret
                .as_deref()
                .is_some_and(|secret| !secret.trim().is_empty())
    }

    /// How long a socket may stay open without its client's own frames.
    pub fn socket_quiet_limit(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.socket_quiet_secs)
    }

    /// Whether cookies must be marked Secure.
    pub fn is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// The oldest last use (Unix ms) a visitor token may have and still work.
    pub fn visitor_tokens_used_since(&self) -> i64 {
        match self.visitor_idle_days {
            0 => 0,
            days => crate::store::now_ms() - i64::from(days) * 24 * 60 * 60 * 1000,
        }
    }

    /// Local mode: listening on loopback only, or `--dev`. Only then does a
    /// site without allowed origins take pages of this machine, and only
    /// then is there a demo shop.
    pub fn is_local(&self) -> bool {
        self.dev || self.addr.ip().is_loopback()
    }

    /// Listening beyond this machine over plain `http://`: session cookies
    /// would cross the network unprotected.
    pub fn exposes_plain_http(&self) -> bool {
        self.addr.ip().is_unspecified() && !self.is_https()
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn local_mode_and_plain_http_follow_what_is_listened_on() {
        let mut config = Config::for_database("sqlite::memory:");
        assert!(config.is_local(), "loopback");
        assert!(!config.exposes_plain_http());
        config.addr = std::net::SocketAddr::from(([0, 0, 0, 0], 8080));
        assert!(!config.is_local());
        assert!(config.exposes_plain_http(), "every interface over http://");
        config.public_url = Some("https://chat.shop.example".into());
        assert!(!config.exposes_plain_http());
        config.addr = std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 8080));
        config.dev = true;
        assert!(config.is_local(), "--dev");
    }
}
