//! The mail room: the tasks that move mail. One looks for agents' replies
//! that waited unseen past their site's delay and has the conversation
//! service mail them; one sends the outbox, retrying with backoff, so a
//! mail server that is down delays mail but loses none; and the inbound
//! SMTP listener hands what arrives to the service.
//!
//! Several processes may run these on one database: a mail is claimed by
//! one of them at a time (a lease), and a process that dies mid-send leaves
//! the claim to expire, so the mail goes out once the lease is up (at least
//! once, possibly twice in that rare case; never lost).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use mailin::{Action, Response, SessionBuilder};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::conversations::{Conversations, Envelope, Refused};
use crate::limits::ClientKey;
use crate::mail::Mailer;
use crate::mail::parse::{MAX_MAIL_BYTES, Unreadable};
use crate::mail::tokens::TokenRefused;
use crate::store::{Store, now_ms};

/// Mail looked at per round.
const BATCH: i64 = 20;
/// How long a process may take to send one mail before another may try.
const LEASE_MS: i64 = 60_000;
/// Attempts before a mail is given up on (about a day with the backoff).
const MAX_ATTEMPTS: i64 = 12;
/// Longest wait between attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// Starts the outbox and the unseen-reply tasks, each looking at what is
/// due every `tick`; `first_retry` is the wait after a first failed
/// attempt, doubling after each.
pub fn start(
    store: Store,
    conversations: Conversations,
    mailer: Mailer,
    first_retry: Duration,
    tick: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let first_retry_ms = i64::try_from(first_retry.as_millis())
        .unwrap_or(30_000)
        .max(1);
    let unseen = {
        let store = store.clone();
        let conversations = conversations.clone();
        let mut shutdown = shutdown.clone();
        async move {
            let mut every = tokio::time::interval(tick);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = shutdown.changed() => return,
                }
                if let Err(err) = email_unseen(&store, &conversations).await {
                    tracing::error!(%err, "emailing unseen replies failed");
                }
            }
        }
    };
    tokio::spawn(unseen);
    tokio::spawn(async move {
        loop {
            if let Err(err) = send_due(&store, &mailer, first_retry_ms).await {
                tracing::error!(%err, "sending the outbox failed");
            }
            tokio::select! {
                () = conversations.mail_queued() => {}
                () = tokio::time::sleep(tick) => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}

/// One round of unseen replies. Each conversation's mail is handled on
/// its own: whatever one does (fails to build, trips over bad data, even
/// panics) is noted on it and ends its wait, and the round goes on; only a
/// database that does not answer leaves it for the next round.
async fn email_unseen(
    store: &Store,
    conversations: &Conversations,
) -> Result<(), crate::store::StoreError> {
    for id in store.unseen_due(now_ms(), BATCH).await? {
        let mailing = {
            let conversations = conversations.clone();
            let id = id.clone();
            tokio::spawn(async move { conversations.email_unseen(&id).await })
        };
        let failure = match mailing.await {
            Ok(Ok(_)) => continue,
            Ok(Err(crate::store::StoreError::Database(err))) => {
                tracing::warn!(conversation = %id, %err, "unseen replies not mailed this round");
                continue;
            }
            Ok(Err(err)) => err.to_string(),
            Err(join) => {
                tracing::error!(conversation = %id, %join, "mailing unseen replies failed");
                "an error on our side".to_owned()
            }
        };
        if let Err(err) = conversations.give_up_unseen(&id, &failure).await {
            tracing::error!(conversation = %id, %err, "could not end the wait for a mail that failed");
        }
    }
    Ok(())
}

/// The wait after `attempts` failed attempts.
fn backoff_ms(first_retry_ms: i64, attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    first_retry_ms
        .saturating_mul(1_i64 << doublings)
        .min(MAX_BACKOFF_MS)
}

async fn send_due(
    store: &Store,
    mailer: &Mailer,
    first_retry_ms: i64,
) -> Result<(), crate::store::StoreError> {
    let now = now_ms();
    for id in store.due_mail(now, BATCH).await? {
        let Some(mail) = store.claim_mail(&id, now, now + LEASE_MS).await? else {
            continue;
        };
        match mailer
            .send_raw(
                &mail.envelope_from,
                &mail.recipient,
                mail.message.as_bytes(),
            )
            .await
        {
            Ok(()) => {
                store.mail_sent(&mail.id).await?;
                tracing::info!(mail = %mail.id, attempts = mail.attempts, "mail sent");
            }
            Err(failure) => {
                let give_up = failure.permanent || mail.attempts >= MAX_ATTEMPTS;
                let retry_at =
                    (!give_up).then(|| now_ms() + backoff_ms(first_retry_ms, mail.attempts));
                tracing::warn!(mail = %mail.id, attempts = mail.attempts, give_up, %failure, "mail not sent");
                store
                    .mail_failed(&mail.id, &failure.message, retry_at)
                    .await?;
            }
        }
    }
    Ok(())
}

/// SMTP connections served at once; more are told to come back later.
const MAX_SMTP_CONNECTIONS: usize = 32;
/// Recipients one mail may name.
const MAX_RECIPIENTS: usize = 10;
/// Longest command line (RFC 5321 says 512; data lines 1000; be generous).
const MAX_LINE_BYTES: usize = 4096;
/// A client that says nothing this long is dropped (real senders speak at
/// once; one that holds a connection idle only keeps others out).
const IDLE: Duration = Duration::from_secs(20);
/// The longest a whole SMTP session may last.
const SESSION: Duration = Duration::from_secs(300);

/// SMTP connections open per client address (IPv6 by its /64): one
/// address cannot hold every slot of the listener.
#[derive(Debug, Default)]
struct OpenPerAddress(std::sync::Mutex<std::collections::HashMap<ClientKey, u32>>);

impl OpenPerAddress {
    /// A slot for `key` if it has fewer than `max` open (0: no cap).
    fn take(self: &Arc<Self>, key: ClientKey, max: u32) -> Option<AddressSlot> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if max > 0 && *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            counts: self.clone(),
            key,
        })
    }
}

/// One open connection of an address; counted until dropped.
struct AddressSlot {
    counts: Arc<OpenPerAddress>,
    key: ClientKey,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .counts
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves inbound SMTP on `listener` until shutdown: every mail for a reply
/// address goes to the conversation service.
pub async fn listen_smtp(
    listener: TcpListener,
    conversations: Conversations,
    smtp_connections_per_ip: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_SMTP_CONNECTIONS));
    let per_address = Arc::new(OpenPerAddress::default());
    let name = conversations.mail().reply_domain.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(%err, "inbound SMTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(address_slot) =
            per_address.take(ClientKey::from(peer.ip()), smtp_connections_per_ip)
        else {
            refuse_connection(
                stream,
                b"421 4.7.0 Too many connections from your address, try again later\r\n",
            );
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            refuse_connection(stream, b"421 4.3.2 Too busy, try again later\r\n");
            continue;
        };
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(err) => {
                tracing::warn!(%err, "inbound SMTP socket");
                continue;
            }
        };
        let conversations = conversations.clone();
        let name = name.clone();
        let runtime = tokio::runtime::Handle::current();
        // mailin is a synchronous protocol machine (and not Send): each
        // session runs on a blocking thread of its own, bounded by `slots`.
        tokio::task::spawn_blocking(move || {
            let inbox = Inbox {
                conversations,
                runtime,
                from: None,
                to: Vec::new(),
                data: Vec::new(),
                too_big: false,
            };
            if let Err(err) = session(stream, peer.ip(), &name, inbox) {
                tracing::debug!(%err, "inbound SMTP session ended");
            }
            drop(permit);
            drop(address_slot);
        });
    }
}

/// Says why to a connection that is not served, without waiting on it.
fn refuse_connection(stream: tokio::net::TcpStream, answer: &'static [u8]) {
    tokio::spawn(async move {
        let mut stream = stream;
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::io::AsyncWriteExt::write_all(&mut stream, answer),
        )
        .await;
    });
}

fn session(stream: TcpStream, ip: IpAddr, name: &str, inbox: Inbox) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IDLE))?;
    stream.set_write_timeout(Some(IDLE))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut session = SessionBuilder::new(name).build(ip, inbox);
    session.greeting().write_to(&mut writer)?;
    let mut line = Vec::with_capacity(256);
    let started = std::time::Instant::now();
    loop {
        if started.elapsed() > SESSION {
            Response::custom(421, "4.4.2 Session too long, closing".to_owned())
                .write_to(&mut writer)?;
            return Ok(());
        }
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") && line.len() >= MAX_LINE_BYTES {
            Response::custom(500, "5.5.2 Line too long".to_owned()).write_to(&mut writer)?;
            return Ok(());
        }
        // mailin reads lines with CRLF; some clients end them with LF alone.
        if !line.ends_with(b"\r\n") && line.ends_with(b"\n") {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
        // mailin's parser refuses the null sender of bounces (`MAIL
        // FROM:<>`); it takes `<@>`, which `Inbox::mail` reads as null.
        if line.len() >= 12 && line[..12].eq_ignore_ascii_case(b"MAIL FROM:<>") {
            line.splice(11..11, *NULL_SENDER);
        }
        let response = session.process(&line);
        match response.action {
            Action::Reply => response.write_to(&mut writer)?,
            Action::Close => {
                response.write_to(&mut writer)?;
                writer.flush()?;
                return Ok(());
            }
            Action::NoReply => {}
            Action::UpgradeTls => {
                Response::custom(454, "4.7.0 TLS not available".to_owned())
                    .write_to(&mut writer)?;
            }
        }
        writer.flush()?;
    }
}

/// What stands for the null sender (`<>`) inside mailin.
const NULL_SENDER: &[u8; 1] = b"@";

/// One SMTP session's mail, and where it goes.
struct Inbox {
    conversations: Conversations,
    runtime: tokio::runtime::Handle,
    from: Option<String>,
    to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
}

impl mailin::Handler for Inbox {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let null = from.as_bytes() == NULL_SENDER;
        self.from = Some(if null { String::new() } else { from.to_owned() });
        self.to.clear();
        self.data.clear();
        self.too_big = false;
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.to.len() >= MAX_RECIPIENTS {
            return Response::custom(452, "4.5.3 Too many recipients".to_owned());
        }
        match self.conversations.conversation_of_reply_address(to) {
            Ok(conversation_id) => {
                // A blocked shopper's mail is refused before it is sent.
                match self
                    .runtime
                    .block_on(self.conversations.may_write_by_email(&conversation_id))
                {
                    Ok(()) => {}
                    Err(Refused::Blocked) => return blocked(),
                    Err(Refused::Gone) => {
                        return Response::custom(
                            550,
                            "5.1.1 This conversation no longer exists".to_owned(),
                        );
                    }
                    Err(_) => {
                        return Response::custom(451, "4.3.0 Please try again later".to_owned());
                    }
                }
                self.to.push(to.to_owned());
                mailin::response::OK
            }
            Err(Refused::Token(TokenRefused::Expired)) => Response::custom(
                550,
                "5.1.1 This reply address has expired; please continue in the chat".to_owned(),
            ),
            Err(_) => Response::custom(550, "5.1.1 No such reply address".to_owned()),
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        self.too_big = false;
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.data.len() + buf.len() > MAX_MAIL_BYTES {
            self.too_big = true;
        } else if !self.too_big {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.too_big) {
            return Response::custom(552, "5.3.4 Message too big".to_owned());
        }
        let envelope = Envelope {
            from: self.from.clone(),
            to: self.to.clone(),
        };
        let received = self
            .runtime
            .block_on(self.conversations.receive_email(&data, &envelope));
        match received {
            Ok(_) => Response::custom(250, "2.0.0 Received, thank you".to_owned()),
            Err(Refused::Unavailable) => {
                Response::custom(451, "4.3.0 Please try again later".to_owned())
            }
            Err(Refused::Unreadable(Unreadable::TooLarge)) => {
                Response::custom(552, "5.3.4 Message too big".to_owned())
            }
            Err(Refused::Unreadable(Unreadable::Malformed)) => {
                Response::custom(554, "5.6.0 Not a readable MIME message".to_owned())
            }
            Err(Refused::Gone) => {
                Response::custom(550, "5.1.1 This conversation no longer exists".to_owned())
            }
            Err(Refused::Token(TokenRefused::Expired)) => Response::custom(
                550,
                "5.1.1 This reply address has expired; please continue in the chat".to_owned(),
            ),
            Err(Refused::NoRecipient | Refused::Token(_)) => {
                Response::custom(550, "5.1.1 No such reply address".to_owned())
            }
            Err(Refused::Blocked) => blocked(),
            // Over the shopper's allowance for now: the sender's server
            // keeps the mail and tries again later.
            Err(Refused::NotNow(not_now)) => {
                Response::custom(451, format!("4.7.1 {}", not_now.message()))
            }
        }
    }
}

/// A blocked shopper's mail: refused for good, nothing stored.
fn blocked() -> Response {
    Response::custom(
        550,
        "5.7.1 The shop no longer takes messages from you".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn retries_back_off_and_stop_growing() {
        assert_eq!(backoff_ms(30_000, 1), 30_000);
        assert_eq!(backoff_ms(30_000, 2), 60_000);
        assert_eq!(backoff_ms(30_000, 4), 240_000);
        assert_eq!(backoff_ms(30_000, 30), 3_600_000);
    }
}
