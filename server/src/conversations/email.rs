//! Email as a second channel of the same conversation, going out: agents'
//! replies the shopper has not seen (batched, after the site's delay) and
//! a transcript on request. Mail is a public door: what a stranger can
//! cause goes only to an address its shopper proved (`confirm.rs`), never
//! carries a stranger's words to an address nobody proved, and stays within
//! allowances per recipient and site; a mail that cannot be built fails
//! alone, noted on its conversation. Mail coming in is `inbound.rs`.

use lettre::message::Mailbox;
use protocol::{Author, EventBody};
use uuid::Uuid;

use super::Conversations;
use super::fanout::{Audience, for_shopper};
use crate::domain::Email;
use crate::mail::compose::{self, Letter, LetterKind, Line};
use crate::mail::texts::{self, MailWords};
use crate::mail::tokens::{MailKey, Purpose, TokenRefused};
use crate::store::{Agent, Conversation, MailCause, MailKind, NewMail, Site, StoreError, now_ms};

/// How long a reply address works.
pub(super) const REPLY_VALID_SECS: i64 = 90 * 24 * 3600;
/// How long a "continue in the chat" link works.
const CONTINUE_VALID_SECS: i64 = 7 * 24 * 3600;
/// Transcripts one conversation may send a day.
const TRANSCRIPTS_PER_DAY: i64 = 3;
/// Events a transcript or a letter reads at most.
const LETTER_EVENTS: i64 = 2000;
pub(super) const DAY_MS: i64 = 24 * 3600 * 1000;

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
    /// The address had as much mail from the site today as it may.
    OverAllowance,
    /// The mail could not be built (noted on the conversation); not retried.
    NotBuilt(String),
}

/// Why a mail could not be built. It fails alone: the others go out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotBuilt {
    #[error("{0:?} is not an address mail can be sent to")]
    Recipient(String),
    #[error("no reply address could be made for the conversation")]
    ReplyAddress,
    #[error("the mail could not be composed: {0}")]
    Compose(String),
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
    #[error("this address has had as much mail from this shop today as it may")]
    RecipientAllowance,
    #[error("this shop has sent as much mail as its shoppers may ask for today")]
    SiteAllowance,
    #[error("mail is not set up on this server")]
    NoMail,
    #[error(transparent)]
    NotBuilt(NotBuilt),
}

/// A transcript on its way: to `email` now, or once the shopper follows
/// the link mailed there (`confirm_first`: the address is not proved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TranscriptSent {
    pub email: String,
    pub confirm_first: bool,
}

/// Who asked for a transcript.
#[derive(Clone, Copy, Debug)]
pub enum Asker<'a> {
    Shopper,
    Agent(&'a Agent),
}

fn unix_secs() -> i64 {
    now_ms() / 1000
}

pub(super) fn until(valid_secs: i64) -> u32 {
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
    /// could not be mailed before now wait for their mail. It is not
    /// proved: mail to it carries nothing the shopper wrote.
    #[tracing::instrument(name = "give_email", skip_all, fields(visitor = visitor_id))]
    pub async fn give_email(&self, visitor_id: &str, email: &Email) -> Result<(), StoreError> {
        self.store
            .set_stated_email(visitor_id, email.as_str())
            .await
    }

    /// Whether `site` may send `recipient` one more mail today.
    pub(super) async fn recipient_has_room(
        &self,
        site: &Site,
        recipient: &str,
    ) -> Result<bool, StoreError> {
        let allowed = self.limits.settings().mail_per_recipient_per_day;
        if allowed == 0 {
            return Ok(true);
        }
        let sent = self
            .store
            .mails_to_since(&site.id, recipient, now_ms() - DAY_MS)
            .await?;
        Ok(sent < i64::from(allowed))
    }

    /// Whether shoppers of `site` may cause one more mail today.
    pub(super) async fn site_has_room_for_shoppers(&self, site: &Site) -> Result<bool, StoreError> {
        let allowed = self.limits.settings().shopper_mail_per_site_per_day;
        if allowed == 0 {
            return Ok(true);
        }
        let sent = self
            .store
            .shopper_mail_since(&site.id, now_ms() - DAY_MS)
            .await?;
        Ok(sent < i64::from(allowed))
    }

    /// Keeps a refusal for the console (and the log).
    pub(super) async fn refused_mail(
        &self,
        site: &Site,
        kind: MailKind,
        recipient: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        tracing::info!(site = %site.id, kind = kind.as_str(), reason, "mail refused");
        self.store
            .record_mail_refusal(&site.id, kind, recipient, reason)
            .await
    }

    /// An agent-only note on a conversation, published.
    pub(super) async fn mail_note(
        &self,
        conversation_id: &str,
        text: &str,
    ) -> Result<(), StoreError> {
        let turn = self.in_order().await;
        let change = self.store.add_mail_note(conversation_id, text).await?;
        self.publish(&change, Audience::Everyone, &turn);
        Ok(())
    }

    /// Mails the replies of `conversation_id` the shopper has not seen, if
    /// they still have not and an address is known. A reply to an address
    /// nobody proved carries only the agents' words.
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
        let stop_waiting = || self.store.stop_waiting_unseen(conversation_id, since);
        let Some(email) = self.store.shopper_email(&conversation.visitor_id).await? else {
            stop_waiting().await?;
            return Ok(Unseen::NoAddress);
        };
        if self.store.is_opted_out(&site.id, &email).await? {
            stop_waiting().await?;
            return Ok(Unseen::OptedOut);
        }
        if !self.recipient_has_room(&site, &email).await? {
            stop_waiting().await?;
            self.refused_mail(
                &site,
                MailKind::Unseen,
                &email,
                "the recipient's mail for today is used up",
            )
            .await?;
            self.mail_note(
                conversation_id,
                &format!(
                    "Not emailed: {email} has had as much mail from this shop today as it may."
                ),
            )
            .await?;
            return Ok(Unseen::OverAllowance);
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
            stop_waiting().await?;
            return Ok(Unseen::Nothing);
        };
        let (page, zone) = self.store.last_page(&conversation.visitor_id).await?;
        let zone = zone.as_deref();
        // The shopper's own words go only to an address they proved: to
        // any other, a stranger could have typed it.
        let proved = self
            .store
            .address_is_proved(&conversation.visitor_id, &email)
            .await?;
        let links = self.mail_links();
        let earlier = events
            .iter()
            .filter(|e| proved && e.seq < first.seq && e.author == Author::Visitor)
            .rev()
            .find_map(|e| message_text(e, &links).map(|text| (e, text)))
            .map(|(e, text)| Line {
                who: String::new(),
                when: compose::clock(e.created_at_ms, zone),
                text,
            });
        let words = words_for(&site, &conversation);
        let lines = replies
            .iter()
            .filter_map(|e| shopper_line(e, &conversation, words, zone, &links))
            .collect::<Vec<_>>();
        let sender = lines.first().map(|line| line.who.clone());
        let count = replies.len();
        let mail_id = Uuid::new_v4();
        let ask_rating = self.asks_rating(&site, &conversation).await?;
        let built = self
            .letter(
                LetterKind::Unseen,
                &site,
                &conversation,
                &email,
                mail_id,
                page,
                sender,
                earlier,
                lines,
                ask_rating,
            )
            .and_then(|letter| {
                compose::compose(&letter)
                    .map(|message| (letter, message))
                    .map_err(|e| NotBuilt::Compose(e.to_string()))
            });
        let (letter, message) = match built {
            Ok(built) => built,
            Err(not_built) => {
                // This conversation's mail fails alone; the round goes on.
                tracing::warn!(%not_built, "unseen replies not mailed");
                stop_waiting().await?;
                self.mail_note(
                    conversation_id,
                    &format!(
                        "The replies the shopper had not seen could not be emailed: {not_built}."
                    ),
                )
                .await?;
                return Ok(Unseen::NotBuilt(not_built.to_string()));
            }
        };
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
                    cause: MailCause::Reply,
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

    /// Stops waiting to mail a conversation's unseen replies, whatever
    /// happened: a round that cannot handle one conversation (it failed in
    /// a way nobody foresaw) must not meet it first in line again.
    pub async fn give_up_unseen(&self, conversation_id: &str, why: &str) -> Result<(), StoreError> {
        self.store.give_up_unseen(conversation_id).await?;
        self.mail_note(
            conversation_id,
            &format!("The replies the shopper had not seen could not be emailed: {why}."),
        )
        .await
    }

    /// Emails the conversation so far, to `to` or the address known. What
    /// a shopper asks for goes only to an address they proved, or the
    /// verified customer's own; to another, a link to prove it goes first
    /// (and the transcript once it is followed). A shopper's new address is
    /// kept for replies too.
    #[tracing::instrument(name = "email_transcript", skip_all, fields(conversation = %conversation.id))]
    pub async fn email_transcript(
        &self,
        conversation: &Conversation,
        to: Option<&Email>,
        asker: Asker<'_>,
    ) -> Result<Result<TranscriptSent, TranscriptRefused>, StoreError> {
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
        let shopper = matches!(asker, Asker::Shopper);
        let refuse = |refusal: TranscriptRefused| async {
            self.refused_mail(&site, MailKind::Transcript, &email, &refusal.to_string())
                .await?;
            Ok::<_, StoreError>(Err(refusal))
        };
        if self.store.is_opted_out(&site.id, &email).await? {
            return refuse(TranscriptRefused::OptedOut).await;
        }
        if self
            .store
            .transcripts_since(&conversation.id, now_ms() - DAY_MS)
            .await?
            >= TRANSCRIPTS_PER_DAY
        {
            return refuse(TranscriptRefused::TooMany).await;
        }
        if !self.recipient_has_room(&site, &email).await? {
            return refuse(TranscriptRefused::RecipientAllowance).await;
        }
        if shopper && !self.site_has_room_for_shoppers(&site).await? {
            return refuse(TranscriptRefused::SiteAllowance).await;
        }
        if let (true, Some(given)) = (shopper, to)
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
        if shopper
            && !self
                .store
                .address_is_proved(&conversation.visitor_id, &email)
                .await?
        {
            return self.ask_to_confirm(&site, conversation, &email).await;
        }
        let cause = if shopper {
            MailCause::Shopper
        } else {
            MailCause::Agent
        };
        match self
            .queue_transcript(&site, conversation, &email, asker, cause)
            .await?
        {
            Ok(()) => Ok(Ok(TranscriptSent {
                email,
                confirm_first: false,
            })),
            Err(not_built) => Ok(Err(TranscriptRefused::NotBuilt(not_built))),
        }
    }

    /// Builds and queues the transcript of `conversation` to `email`, with
    /// an agent-only note saying so.
    pub(super) async fn queue_transcript(
        &self,
        site: &Site,
        conversation: &Conversation,
        email: &str,
        asker: Asker<'_>,
        cause: MailCause,
    ) -> Result<Result<(), NotBuilt>, StoreError> {
        let events = self
            .store
            .events_after(&conversation.id, 0, LETTER_EVENTS)
            .await?;
        let (page, zone) = self.store.last_page(&conversation.visitor_id).await?;
        let words = words_for(site, conversation);
        let links = self.mail_links();
        let lines: Vec<Line> = events
            .iter()
            .filter_map(|e| shopper_line(e, conversation, words, zone.as_deref(), &links))
            .collect();
        let mail_id = Uuid::new_v4();
        let ask_rating = self.asks_rating(site, conversation).await?;
        let built = self
            .letter(
                LetterKind::Transcript,
                site,
                conversation,
                email,
                mail_id,
                page,
                None,
                None,
                lines,
                ask_rating,
            )
            .and_then(|letter| {
                compose::compose(&letter)
                    .map(|message| (letter, message))
                    .map_err(|e| NotBuilt::Compose(e.to_string()))
            });
        let (letter, message) = match built {
            Ok(built) => built,
            Err(not_built) => {
                tracing::warn!(%not_built, "transcript not mailed");
                self.refused_mail(site, MailKind::Transcript, email, &not_built.to_string())
                    .await?;
                return Ok(Err(not_built));
            }
        };
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
                    cause,
                    envelope_from: &self.envelope_from(&letter),
                    recipient: email,
                    message_id: &letter.message_id,
                    message: &String::from_utf8_lossy(&message),
                },
                &format!("Transcript emailed to {email}, as {who} asked."),
            )
            .await?;
        self.publish(&change, Audience::Everyone, &turn);
        drop(turn);
        self.mail_queued.notify_one();
        Ok(Ok(()))
    }

    /// Where bounces of a letter go: back into the conversation when
    /// replies come in, else Rapport's sender.
    fn envelope_from(&self, letter: &Letter) -> String {
        letter
            .reply_to
            .as_ref()
            .map_or_else(|| self.mail.from.email.to_string(), |r| r.email.to_string())
    }

    /// The sender of a site's mail (see [`compose::sender`]).
    pub(super) fn sender(&self, site: &Site, agent: Option<&str>) -> Mailbox {
        compose::sender(&site.name, agent, self.mail.from.email.clone())
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
        ask_rating: bool,
    ) -> Result<Letter, NotBuilt> {
        let words = words_for(site, conversation);
        let to = recipient(email)?;
        let reply_to = if self.mail.inbound {
            let address = self
                .reply_address(&conversation.id)
                .ok_or(NotBuilt::ReplyAddress)?;
            let site_name = compose::header_text(&site.name);
            Some(Mailbox::new(
                Some(site_name).filter(|name| !name.is_empty()),
                address
                    .parse::<lettre::Address>()
                    .map_err(|_| NotBuilt::ReplyAddress)?,
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
            .map_err(|_| NotBuilt::ReplyAddress)?;
        Ok(Letter {
            kind,
            words,
            site_name: compose::header_text(&site.name),
            from: self.sender(site, sender.as_deref()),
            to,
            reply_to,
            message_id: format!("<{mail_id}@{domain}>"),
            thread: format!("<conversation.{}@{domain}>", conversation.id),
            earlier,
            lines,
            continue_url: self.continue_url(site, page.as_deref(), &continue_token),
            ask_rating,
            unsubscribe_url: self.unsubscribe_url(mail_id),
        })
    }

    /// Whether a letter asks the shopper how the chat was (its link opens
    /// the chat, where the widget asks): the chat ended, the site rates
    /// chats, its agent did not close it without asking, and it is not
    /// rated yet.
    async fn asks_rating(
        &self,
        site: &Site,
        conversation: &Conversation,
    ) -> Result<bool, StoreError> {
        if conversation.state != protocol::ConversationState::Closed
            || site.settings.rating == protocol::RatingScale::Off
        {
            return Ok(false);
        }
        Ok(self
            .store
            .rating_record(&conversation.id)
            .await?
            .is_some_and(|record| record.asked && record.given.is_none()))
    }

    /// The link in a mail that stops the site's mail to its recipient.
    pub(super) fn unsubscribe_url(&self, mail_id: Uuid) -> String {
        let token = self.mail.key.sign(Purpose::Unsubscribe, mail_id, u32::MAX);
        format!("{}/mail/unsubscribe/{token}", self.mail.public_url)
    }

    /// The shop page to continue on: where the shopper was last, if it is
    /// on an origin the site allows; else the site's first origin; else the
    /// server's own demo page. The token rides in the fragment, which the
    /// browser never sends to the shop's server.
    fn continue_url(&self, site: &Site, page: Option<&str>, token: &str) -> String {
        // A page URL is what a shopper's browser said: read as a URL (its
        // origin compared with the site's, the fragment replaced), never
        // cut as text.
        let on_the_shop = |page: &str| {
            let mut url = url::Url::parse(page).ok()?;
            let origin = url.origin().ascii_serialization();
            site.allowed_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(&origin))
                .then(|| {
                    url.set_fragment(None);
                    url.to_string()
                })
        };
        let base = page
            .and_then(on_the_shop)
            .or_else(|| site.allowed_origins.first().map(|o| format!("{o}/")))
            .unwrap_or_else(|| format!("{}/", self.mail.public_url));
        format!("{base}#rapport-continue={token}")
    }
}

impl Conversations {
    fn mail_links(&self) -> MailLinks<'_> {
        MailLinks {
            public_url: &self.mail.public_url,
            links: self.store.file_links(),
            now: crate::store::now_ms(),
        }
    }
}

/// A mail's recipient, by the mail library's own rule.
pub(super) fn recipient(email: &str) -> Result<Mailbox, NotBuilt> {
    email
        .parse::<lettre::Address>()
        .map(|address| Mailbox::new(None, address))
        .map_err(|_| NotBuilt::Recipient(email.to_owned()))
}

fn is_agent_reply(event: &protocol::Event) -> bool {
    matches!(event.author, Author::Agent { .. }) && matches!(event.body, EventBody::Message { .. })
}

fn message_text(event: &protocol::Event, links: &MailLinks<'_>) -> Option<String> {
    match &event.body {
        EventBody::Message { text, files } => Some(links.with_files(text, files)),
        _ => None,
    }
}

/// How a mail names a message's files: by a link each (valid for weeks,
/// as mail is read late), never the files themselves.
pub(super) struct MailLinks<'a> {
    pub(super) public_url: &'a str,
    pub(super) links: &'a crate::store::FileLinks,
    pub(super) now: i64,
}

/// Days a file's link in a mail stays valid.
const MAIL_LINK_DAYS: i64 = 30;

impl MailLinks<'_> {
    /// `text`, then a line per file: its name, size and link.
    fn with_files(&self, text: &str, files: &[protocol::FileRef]) -> String {
        let mut out = text.to_owned();
        for file in files {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!(
                "\u{1F4CE} {} ({}): {}{}",
                file.name,
                file.size_text(),
                self.public_url,
                self.links.link_for_days(&file.id, self.now, MAIL_LINK_DAYS)
            ));
        }
        out
    }
}

/// The site's fixed language, else the shopper's browser's, else English.
pub(super) fn words_for(site: &Site, conversation: &Conversation) -> &'static MailWords {
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
    links: &MailLinks<'_>,
) -> Option<Line> {
    let event = for_shopper(event, conversation)?;
    let when = compose::clock(event.created_at_ms, zone);
    Some(match event.body {
        EventBody::Message { text, files } => Line {
            who: match event.author {
                Author::Visitor => words.you.to_owned(),
                Author::Agent { name, .. } => name,
                Author::System => conversation.site_name.clone(),
            },
            when,
            text: links.with_files(&text, &files),
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
        EventBody::Rated { score, comment } => Line {
            who: String::new(),
            when,
            text: match comment {
                Some(comment) => format!(
                    "{}: \u{201c}{comment}\u{201d}",
                    words.rated.replace("{n}", &score.to_string())
                ),
                None => words.rated.replace("{n}", &score.to_string()),
            },
        },
        // Agents' own business.
        EventBody::Note { .. } | EventBody::Status { .. } | EventBody::Reopened { .. } => {
            return None;
        }
    })
}
