//! Mail: sending over SMTP (lettre), composing what shoppers get
//! (`compose`, in their language: `texts`), the signed tokens in reply
//! addresses and links (`tokens`), and reading what comes back (`parse`,
//! with `reply` cutting quoted history). Queueing and retrying live in the
//! outbox (`crate::mailroom`); what mail does to a conversation, in the
//! conversation service.

pub mod compose;
pub mod parse;
pub mod reply;
pub mod texts;
pub mod tokens;

use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail settings: {0}")]
    Settings(String),
    #[error("not a mail address: {0}")]
    Address(String),
    #[error("the mail could not be composed: {0}")]
    Compose(String),
    #[error("sending failed: {0}")]
    Send(String),
}

/// Why sending one mail failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendFailure {
    /// The server refused it for good (a 5xx): retrying will not help.
    pub permanent: bool,
    pub message: String,
}

/// Sends mail when an SMTP server is configured; otherwise says so.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("configured", &self.transport.is_some())
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// `smtp://host[:port]`: a relay on a trusted network (a local MTA or a
/// mail container) that takes plain SMTP; TLS and passwords belong to that
/// relay, not to every Rapport process.
fn smtp_transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let bad = || {
        MailError::Settings(format!(
            "RAPPORT_SMTP_URL {url:?} is not smtp://host[:port]"
        ))
    };
    let rest = url.trim().strip_prefix("smtp://").ok_or_else(bad)?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
        None => (rest, 25),
    };
    if host.is_empty() || host.contains(['@', '/']) {
        return Err(bad());
    }
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build(),
    )
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, MailError> {
        let from = config.mail_from.parse().map_err(|_| {
            MailError::Settings(format!("RAPPORT_MAIL_FROM {:?}", config.mail_from))
        })?;
        let transport = config
            .smtp_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(smtp_transport)
            .transpose()?;
        Ok(Mailer { transport, from })
    }

    /// Whether mail can go out at all.
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// The sender address of Rapport's mail.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends an already composed mail to `to`, with `envelope_from` as
    /// the SMTP sender (where bounces go).
    pub async fn send_raw(
        &self,
        envelope_from: &str,
        to: &str,
        message: &[u8],
    ) -> Result<(), SendFailure> {
        let failure = |permanent, message: String| SendFailure { permanent, message };
        let Some(transport) = &self.transport else {
            return Err(failure(false, "no SMTP server is configured".to_owned()));
        };
        let from = envelope_from
            .parse()
            .map_err(|_| failure(true, format!("not a sender address: {envelope_from}")))?;
        let to = to
            .parse()
            .map_err(|_| failure(true, format!("not a recipient address: {to}")))?;
        let envelope =
            Envelope::new(Some(from), vec![to]).map_err(|e| failure(true, e.to_string()))?;
        transport
            .send_raw(&envelope, message)
            .await
            .map(|_| ())
            .map_err(|e| failure(e.is_permanent(), e.to_string()))
    }

    /// Sends a plain-text mail; `Ok(false)` when no SMTP server is configured.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<bool, MailError> {
        let Some(transport) = &self.transport else {
            return Ok(false);
        };
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|e| MailError::Send(e.to_string()))?;
        transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(true)
    }
}
