//! Email as a second channel of the same conversation: agents' replies the
//! shopper has not seen go out by mail (batched, after the site's delay),
//! a transcript on request, and the shopper's email reply comes back in as
//! their message. What the shopper has read is recorded here too, since it
//! decides what is unseen.

use lettre::message::Mailbox;
use protocol::{Author, Channel, EventBody};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Conversations;
use super::fanout::{Audience, for_shopper};
use crate::domain::Email;
use crate::mail::compose::{self, Letter, LetterKind, Line};
use crate::mail::parse::{self, Automatic, Unreadable};
use crate::mail::texts::{self, MailWords};
use crate::mail::tokens::{MailKey, Purpose, TokenRefused};
use crate::store::{
    Agent, Append, AppendTo, Conversation, MailKind, NewMail, Site, StoreError, now_ms,
};

/// How long a reply address works.
const REPLY_VALID_SECS: i64 = 90 * 24 * 3600;
/// How long a "continue in the chat" link works.
const CONTINUE_VALID_SECS: i64 = 7 * 24 * 3600;
/// Transcripts one conversation may send a day: the widget lets anyone
/// type an address, so this is the most mail a stranger can cause.
const TRANSCRIPTS_PER_DAY: i64 = 3;
/// Events a transcript or a letter reads at most.
const LETTER_EVENTS: i64 = 2000;

/// How this installation's mail works, for the service.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub key: MailKey,
    /// Rapport's sender address (`RAPPORT_MAIL_FROM`).
    pub from: Mailbox,
    /// Whether mail can go out at all.
    pub outbound: bool,
    /// Whether email replies come back in (SMTP listener or webhook).
    pub inbound: bool,
    pub reply_domain: String,
    /// `https://chat.example`, no trailing slash.
    pub public_url: String,
}

impl MailSettings {
    /// No mail at all (tools and benchmarks).
    pub fn off() -> MailSettings {
        MailSettings {
            key: MailKey::new(&crate::identity::random_token(32)),
            from: Mailbox::new(
                None,
                lettre::Address::new("rapport", "localhost").unwrap_or_else(|_| unreachable!()),
            ),
            outbound: false,
            inbound: false,
            reply_domain: "localhost".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// What became of a conversation's unseen replies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unseen {
    /// Queued to this address.
    Emailed(String),
    /// Nothing to mail any more (seen meanwhile, or mailed by another process).
    Nothing,
    /// No address is known; they go out once the shopper gives one.
    NoAddress,
    /// The address asked the site not to email it.
    OptedOut,
}

/// Why a transcript was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptRefused {
    #[error("no email address is known for this shopper")]
    NoAddress,
    #[error("this address asked not to be emailed")]
    OptedOut,
    #[error("at most {TRANSCRIPTS_PER_DAY} transcripts a day per conversation")]
    TooMany,
    #[error("mail is not set up on this server")]
    NoMail,
}

/// Who asked for a transcript.
#[derive(Clone, Copy, Debug)]
pub enum Asker<'a> {
    Shopper,
    Agent(&'a Agent),
}

/// The SMTP envelope of a mail that came in, when it came by SMTP.
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// `MAIL FROM`; empty for a bounce.
    pub from: Option<String>,
    /// `RCPT TO`s.
    pub to: Vec<String>,
}

/// What an email that came in became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// The shopper's message, in this conversation.
    Message { conversation_id: String },
    /// Stored before (a mail server delivered it twice).
    Duplicate { conversation_id: String },
    /// A bounce or an automatic reply: an agent-only note, no message.
    Automatic { conversation_id: String },
    /// Nothing new was written (only quoted history).
    Empty { conversation_id: String },
}

/// Why an email that came in was refused. Nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no reply address of ours among the recipients")]
    NoRecipient,
    #[error("the reply address is not valid: {0}")]
    Token(TokenRefused),
    #[error("the conversation no longer exists")]
    Gone,
    #[error(transparent)]
    Unreadable(Unreadable),
    #[error("could not store it now; try again later")]
    Unavailable,
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Refused {
        tracing::error!(%err, "storing an email that came in failed");
        Refused::Unavailable
    }
}

fn unix_secs() -> i64 {
    now_ms() / 1000
}

fn until(valid_secs: i64) -> u32 {
    u32::try_from(unix_secs().saturating_add(valid_secs)).unwrap_or(u32::MAX)
}

impl Conversations {
    /// The address email replies to this conversation go to.
    pub fn reply_address(&self, conversation_id: &str) -> Option<String> {
        let id = Uuid::parse_str(conversation_id).ok()?;
        let token = self
            .mail
            .key
            .sign(Purpose::Reply, id, until(REPLY_VALID_SECS));
        Some(format!("reply+{token}@{}", self.mail.reply_domain))
    }

    /// The conversation a reply address names; refusals say why.
    pub fn conversation_of_reply_address(&self, address: &str) -> Result<String, Refused> {
        let address = address.trim().trim_matches(['<', '>']).to_lowercase();
        let (local, domain) = address.rsplit_once('@').ok_or(Refused::NoRecipient)?;
        let token = local.strip_prefix("reply+").ok_or(Refused::NoRecipient)?;
        if domain != self.mail.reply_domain {
            return Err(Refused::NoRecipient);
        }
        self.mail
            .key
            .verify(Purpose::Reply, token, unix_secs())
            .map(|id| id.to_string())
            .map_err(Refused::Token)
    }

    /// The conversation a "continue in the chat" link names.
    pub fn conversation_of_continue_link(&self, token: &str) -> Result<String, TokenRefused> {
        self.mail
            .key
            .verify(Purpose::Continue, token, unix_secs())
            .map(|id| id.to_string())
    }

    /// The outbox mail an unsubscribe link names.
    pub fn mail_of_unsubscribe_link(&self, token: &str) -> Result<String, TokenRefused> {
        self.mail
            .key
            .verify(Purpose::Unsubscribe, token, unix_secs())
            .map(|id| id.to_string())
    }

    /// The shopper gave an address to be answered at; unseen replies that
    /// could not be mailed before now wait for their mail.
    #[tracing::instrument(name = "give_email", skip_all, fields(visitor = visitor_id))]
    pub async fn give_email(&self, visitor_id: &str, email: &Email) -> Result<(), StoreError> {
        self.store
            .set_stated_email(visitor_id, email.as_str())
            .await
    }

    /// Mails the replies of `conversation_id` the shopper has not seen, if
    /// they still have not and an address is known.
    #[tracing::instrument(name = "email_unseen", skip_all, fields(conversation = conversation_id))]
    pub async fn email_unseen(&self, conversation_id: &str) -> Result<Unseen, StoreError> {
        let Some(state) = self.store.mail_state(conversation_id).await? else {
            return Ok(Unseen::Nothing);
        };
        let Some(since) = state.unseen_since else {
            return Ok(Unseen::Nothing);
        };
        let Some(conversation) = self.store.conversation(conversation_id).await? else {
            return Ok(Unseen::Nothing);
        };
        let Some(site) = self.store.site_by_id(&conversation.site_id).await? else {
            return Ok(Unseen::Nothing);
        };
        let Some(email) = self.store.shopper_email(&conversation.visitor_id).await? else {
            self.store
                .stop_waiting_unseen(conversation_id, since)
                .await?;
            return Ok(Unseen::NoAddress);
        };
        if self.store.is_opted_out(&site.id, &email).await? {
            self.store
                .stop_waiting_unseen(conversation_id, since)
                .await?;
            return Ok(Unseen::OptedOut);
        }
        let events = self
            .store
            .events_after(conversation_id, 0, LETTER_EVENTS)
            .await?;
        let unseen_after = state.unseen_after();
        let replies: Vec<&protocol::Event> = events
            .iter()
            .filter(|e| e.seq > unseen_after && is_agent_reply(e))
            .collect();
        let (Some(first), Some(last)) = (replies.first(), replies.last()) else {
            self.store
                .stop_waiting_unseen(conversation_id, since)
                .await?;
            return Ok(Unseen::Nothing);
        };
        let (page, zone) = self.store.last_page(&conversation.visitor_id).await?;
        let zone = zone.as_deref();
        let earlier = events
            .iter()
            .filter(|e| e.seq < first.seq && e.author == Author::Visitor)
            .rev()
            .find_map(|e| message_text(e).map(|text| (e, text)))
            .map(|(e, text)| Line {
                who: String::new(),
                when: compose::clock(e.created_at_ms, zone),
                text,
            });
        let words = words_for(&site, &conversation);
        let lines = replies
            .iter()
            .filter_map(|e| shopper_line(e, &conversation, words, zone))
            .collect::<Vec<_>>();
        let sender = lines.first().map(|line| line.who.clone());
        let count = replies.len();
        let mail_id = Uuid::new_v4();
        let letter = self.letter(
            LetterKind::Unseen,
            &site,
            &conversation,
            &email,
            mail_id,
            page,
            sender,
            earlier,
            lines,
        )?;
        let message = compose::compose(&letter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let envelope_from = self.envelope_from(&letter);
        let note = format!(
            "Emailed to {email}: {count} {} the shopper had not seen in the chat.",
            if count == 1 { "reply" } else { "replies" }
        );
        let turn = self.in_order().await;
        let recorded = self
            .store
            .record_emailed(
                conversation_id,
                &state,
                last.seq,
                &NewMail {
                    id: &mail_id.to_string(),
                    site_id: &site.id,
                    conversation_id: Some(conversation_id),
                    kind: MailKind::Unseen,
                    envelope_from: &envelope_from,
                    recipient: &email,
                    message_id: &letter.message_id,
                    message: &String::from_utf8_lossy(&message),
                },
                &note,
            )
            .await?;
        let Some(change) = recorded else {
            return Ok(Unseen::Nothing);
        };
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        self.mail_queued.notify_one();
        tracing::info!(count, "unseen replies emailed");
        Ok(Unseen::Emailed(email))
    }

    /// Emails the conversation so far, to `to` or the address known. A
    /// shopper's new address is kept for replies too.
    #[tracing::instrument(name = "email_transcript", skip_all, fields(conversation = %conversation.id))]
    pub async fn email_transcript(
        &self,
        conversation: &Conversation,
        to: Option<&Email>,
        asker: Asker<'_>,
    ) -> Result<Result<String, TranscriptRefused>, StoreError> {
        if !self.mail.outbound {
            return Ok(Err(TranscriptRefused::NoMail));
        }
        let email = match to {
            Some(email) => email.as_str().to_owned(),
            None => match self.store.shopper_email(&conversation.visitor_id).await? {
                Some(email) => email,
                None => return Ok(Err(TranscriptRefused::NoAddress)),
            },
        };
        let Some(site) = self.store.site_by_id(&conversation.site_id).await? else {
            return Ok(Err(TranscriptRefused::NoAddress));
        };
        if matches!(asker, Asker::Agent(_)) && self.store.is_opted_out(&site.id, &email).await? {
            return Ok(Err(TranscriptRefused::OptedOut));
        }
        let day_ago = now_ms() - 24 * 3600 * 1000;
        if self
            .store
            .transcripts_since(&conversation.id, day_ago)
            .await?
            >= TRANSCRIPTS_PER_DAY
        {
            return Ok(Err(TranscriptRefused::TooMany));
        }
        if let (Asker::Shopper, Some(given)) = (asker, to)
            && self
                .store
                .shopper_email(&conversation.visitor_id)
                .await?
                .is_none()
        {
            self.store
                .set_stated_email(&conversation.visitor_id, given.as_str())
                .await?;
        }
        let events = self
            .store
            .events_after(&conversation.id, 0, LETTER_EVENTS)
            .await?;
        let (page, zone) = self.store.last_page(&conversation.visitor_id).await?;
        let words = words_for(&site, conversation);
        let lines: Vec<Line> = events
            .iter()
            .filter_map(|e| shopper_line(e, conversation, words, zone.as_deref()))
            .collect();
        let mail_id = Uuid::new_v4();
        let letter = self.letter(
            LetterKind::Transcript,
            &site,
            conversation,
            &email,
            mail_id,
            page,
            None,
            None,
            lines,
        )?;
        let message = compose::compose(&letter).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let who = match asker {
            Asker::Shopper => "the shopper".to_owned(),
            Asker::Agent(agent) => agent.name.clone(),
        };
        let turn = self.in_order().await;
        let change = self
            .store
            .record_transcript(
                &conversation.id,
                &NewMail {
                    id: &mail_id.to_string(),
                    site_id: &site.id,
                    conversation_id: Some(&conversation.id),
                    kind: MailKind::Transcript,
                    envelope_from: &self.envelope_from(&letter),
                    recipient: &email,
                    message_id: &letter.message_id,
                    message: &String::from_utf8_lossy(&message),
                },
                &format!("Transcript emailed to {email}, as {who} asked."),
            )
            .await?;
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        self.mail_queued.notify_one();
        Ok(Ok(email))
    }

    /// Where bounces of a letter go: back into the conversation when
    /// replies come in, else Rapport's sender.
    fn envelope_from(&self, letter: &Letter) -> String {
        letter
            .reply_to
            .as_ref()
            .map_or_else(|| self.mail.from.email.to_string(), |r| r.email.to_string())
    }

    #[allow(clippy::too_many_arguments)]
    fn letter(
        &self,
        kind: LetterKind,
        site: &Site,
        conversation: &Conversation,
        email: &str,
        mail_id: Uuid,
        page: Option<String>,
        sender: Option<String>,
        earlier: Option<Line>,
        lines: Vec<Line>,
    ) -> Result<Letter, StoreError> {
        let bad = |what: &str| StoreError::Corrupt(format!("mail {what}"));
        let words = words_for(site, conversation);
        let from_name = match sender {
            Some(name) if name != site.name => format!("{name} ({})", site.name),
            _ => site.name.clone(),
        };
        let from = Mailbox::new(Some(from_name), self.mail.from.email.clone());
        let to: Mailbox = email.parse().map_err(|_| bad("recipient"))?;
        let reply_to = if self.mail.inbound {
            let address = self
                .reply_address(&conversation.id)
                .ok_or_else(|| bad("reply address"))?;
            Some(Mailbox::new(
                Some(site.name.clone()),
                address.parse().map_err(|_| bad("reply address"))?,
            ))
        } else {
            None
        };
        let domain = &self.mail.reply_domain;
        let continue_token = Uuid::parse_str(&conversation.id)
            .map(|id| {
                self.mail
                    .key
                    .sign(Purpose::Continue, id, until(CONTINUE_VALID_SECS))
            })
            .map_err(|_| bad("conversation id"))?;
        let unsubscribe = self.mail.key.sign(Purpose::Unsubscribe, mail_id, u32::MAX);
        Ok(Letter {
            kind,
            words,
            site_name: site.name.clone(),
            from,
            to,
            reply_to,
            message_id: format!("<{mail_id}@{domain}>"),
            thread: format!("<conversation.{}@{domain}>", conversation.id),
            earlier,
            lines,
            continue_url: self.continue_url(site, page.as_deref(), &continue_token),
            unsubscribe_url: format!("{}/mail/unsubscribe/{unsubscribe}", self.mail.public_url),
        })
    }

    /// The shop page to continue on: where the shopper was last, if it is
    /// on an origin the site allows; else the site's first origin; else the
    /// server's own demo page. The token rides in the fragment, which the
    /// browser never sends to the shop's server.
    fn continue_url(&self, site: &Site, page: Option<&str>, token: &str) -> String {
        let allowed = |url: &str| {
            site.allowed_origins.iter().any(|origin| {
                url.len() >= origin.len()
                    && url[..origin.len()].eq_ignore_ascii_case(origin)
                    && url[origin.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| matches!(c, '/' | '?' | '#'))
            })
        };
        let base = page
            .filter(|page| allowed(page))
            .map(|page| page.split('#').next().unwrap_or(page).to_owned())
            .or_else(|| site.allowed_origins.first().map(|o| format!("{o}/")))
            .unwrap_or_else(|| format!("{}/", self.mail.public_url));
        format!("{base}#rapport-continue={token}")
    }

    /// An email that came in (by SMTP or a provider's webhook): the
    /// shopper's reply into their conversation, or a note for the agents
    /// when a machine sent it. Refused with the reason otherwise; nothing
    /// lands in a conversation its reply address does not name.
    #[tracing::instrument(name = "receive_email", skip_all)]
    pub async fn receive_email(
        &self,
        raw: &[u8],
        envelope: &Envelope,
    ) -> Result<Received, Refused> {
        let mail = parse::read(raw, envelope.from.as_deref()).map_err(Refused::Unreadable)?;
        let mut refusal = Refused::NoRecipient;
        let mut conversation_id = None;
        for address in envelope.to.iter().chain(&mail.recipients) {
            match self.conversation_of_reply_address(address) {
                Ok(id) => {
                    conversation_id = Some(id);
                    break;
                }
                Err(Refused::NoRecipient) => {}
                Err(other) => refusal = other,
            }
        }
        let Some(conversation_id) = conversation_id else {
            tracing::info!(%refusal, "email refused");
            return Err(refusal);
        };
        let Some(conversation) = self.store.conversation(&conversation_id).await? else {
            return Err(Refused::Gone);
        };
        let known = self.store.shopper_email(&conversation.visitor_id).await?;
        let written_to = conversation.id.as_str();
        let note = |text: String| async move {
            let turn = self.in_order().await;
            let change = self.store.add_mail_note(written_to, &text).await?;
            self.publish(&change, Audience::Everyone, &turn);
            Ok::<_, StoreError>(())
        };
        match mail.automatic {
            Some(Automatic::Bounce) => {
                let to = known.as_deref().unwrap_or("the shopper");
                note(format!(
                    "Our email to {to} could not be delivered (a bounce came back); the shopper may not get email replies."
                ))
                .await?;
                return Ok(Received::Automatic { conversation_id });
            }
            Some(Automatic::AutoReply) => {
                let preview: String = mail.text.chars().take(300).collect();
                note(format!(
                    "An automatic reply came by email (not shown to the shopper, not answered): {preview}"
                ))
                .await?;
                return Ok(Received::Automatic { conversation_id });
            }
            None => {}
        }
        let mut body = mail.text.clone();
        for (name, size) in &mail.attachments {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&format!("[attachment not kept: {name}, {size} bytes]"));
        }
        if body.trim().is_empty() {
            note("An email reply came with no new text.".to_owned()).await?;
            return Ok(Received::Empty { conversation_id });
        }
        // A mail server that delivers twice must not make two messages.
        let fingerprint = Sha256::digest(mail.message_id.as_deref().map_or(raw, str::as_bytes));
        let client_id = format!("email-{}", hex(&fingerprint[..20]));
        // Into the conversation written to while it is open, else the
        // shopper's open one, else a new one: as a chat message would go.
        let append = Append {
            to: AppendTo::Shopper {
                site_id: conversation.site_id.clone(),
                visitor_id: conversation.visitor_id.clone(),
                current: Some(conversation.id.clone()),
                language: conversation.language.clone(),
                topic: None,
                note: None,
            },
            client_id,
            body,
            via: Channel::Email,
        };
        let posted = match self.writer.append(append).await? {
            Ok(posted) => posted,
            Err(refused) => {
                return Err(
                    StoreError::Corrupt(format!("an email reply refused: {refused}")).into(),
                );
            }
        };
        let conversation_id = posted.conversation.id.clone();
        if posted.is_duplicate() {
            return Ok(Received::Duplicate { conversation_id });
        }
        if let (Some(from), Some(known)) = (&mail.from, &known)
            && from != known
        {
            let turn = self.in_order().await;
            let change = self
                .store
                .add_mail_note(
                    &conversation_id,
                    &format!(
                        "This email came from {from}, not from {known}, the address we wrote to."
                    ),
                )
                .await?;
            self.publish(&change, Audience::Everyone, &turn);
        }
        tracing::info!(conversation = %conversation_id, "email reply stored");
        Ok(Received::Message { conversation_id })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_agent_reply(event: &protocol::Event) -> bool {
    matches!(event.author, Author::Agent { .. }) && matches!(event.body, EventBody::Message { .. })
}

fn message_text(event: &protocol::Event) -> Option<String> {
    match &event.body {
        EventBody::Message { text } => Some(text.clone()),
        _ => None,
    }
}

/// The site's fixed language, else the shopper's browser's, else English.
fn words_for(site: &Site, conversation: &Conversation) -> &'static MailWords {
    let code = site
        .settings
        .language
        .clone()
        .or_else(|| {
            conversation
                .language
                .as_deref()
                .map(crate::domain::primary_subtag)
        })
        .unwrap_or_default();
    texts::words(&code)
}

/// An event as the shopper's letter shows it; agents named as the site
/// chose, notes never.
fn shopper_line(
    event: &protocol::Event,
    conversation: &Conversation,
    words: &MailWords,
    zone: Option<&str>,
) -> Option<Line> {
    let event = for_shopper(event, conversation)?;
    let when = compose::clock(event.created_at_ms, zone);
    Some(match event.body {
        EventBody::Message { text } => Line {
            who: match event.author {
                Author::Visitor => words.you.to_owned(),
                Author::Agent { name, .. } => name,
                Author::System => conversation.site_name.clone(),
            },
            when,
            text,
        },
        EventBody::Assigned { agent_name, .. } => Line {
            who: String::new(),
            when,
            text: words.agent_joined.replace("{name}", &agent_name),
        },
        EventBody::Closed => Line {
            who: String::new(),
            when,
            text: words.chat_ended.to_owned(),
        },
        EventBody::Note { .. } => return None,
    })
}
