//! Email coming in: the shopper's reply becomes their message, in the
//! conversation its reply address names (or the one a chat message would
//! go to), within the same allowances as a chat message and refused whole
//! for a shopper the shop blocked; a machine's mail (a bounce, an
//! out-of-office) becomes a note for the agents, never a message.

use protocol::Channel;
use sha2::{Digest, Sha256};

use super::Conversations;
use super::allowance::{NotNow, PostedFrom};
use super::fanout::Audience;
use crate::mail::parse::{self, Automatic, Unreadable};
use crate::mail::tokens::{Purpose, TokenRefused};
use crate::store::{Append, AppendTo, StoreError};
use protocol::ConversationState;

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
    /// The shop blocked this shopper (for good, until an owner lifts it).
    #[error("the shop no longer takes messages from this shopper")]
    Blocked,
    /// Over the shopper's allowance for now: their server may try later.
    #[error("{}", .0.message())]
    NotNow(NotNow),
    #[error("could not store it now; try again later")]
    Unavailable,
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Refused {
        tracing::error!(%err, "storing an email that came in failed");
        Refused::Unavailable
    }
}

impl Conversations {
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
            .verify(Purpose::Reply, token, crate::store::now_ms() / 1000)
            .map(|id| id.to_string())
            .map_err(Refused::Token)
    }

    /// Whether the shopper of a conversation may write by email now (not
    /// blocked), checked as soon as the recipient is known, before the
    /// mail itself is taken.
    pub async fn may_write_by_email(&self, conversation_id: &str) -> Result<(), Refused> {
        let Some(conversation) = self.store.conversation(conversation_id).await? else {
            return Err(Refused::Gone);
        };
        let address = self.store.visitor_address(&conversation.visitor_id).await?;
        if self
            .store
            .is_blocked(
                &conversation.account_id,
                Some(&conversation.visitor_id),
                address.as_deref(),
            )
            .await?
        {
            return Err(Refused::Blocked);
        }
        Ok(())
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
        self.may_write_by_email(&conversation_id).await?;
        let Some(conversation) = self.store.conversation(&conversation_id).await? else {
            return Err(Refused::Gone);
        };
        let known = self.store.shopper_email(&conversation.visitor_id).await?;
        match mail.automatic {
            Some(Automatic::Bounce) => {
                let to = known.as_deref().unwrap_or("the shopper");
                self.mail_note(&conversation.id, &format!(
                    "Our email to {to} could not be delivered (a bounce came back); the shopper may not get email replies."
                ))
                .await?;
                return Ok(Received::Automatic { conversation_id });
            }
            Some(Automatic::AutoReply) => {
                let preview: String = mail.text.chars().take(300).collect();
                self.mail_note(&conversation.id, &format!(
                    "An automatic reply came by email (not shown to the shopper, not answered): {preview}"
                ))
                .await?;
                return Ok(Received::Automatic { conversation_id });
            }
            None => {}
        }
        let body = mail.text.clone();
        if body.trim().is_empty() && mail.attachments.is_empty() {
            self.mail_note(&conversation.id, "An email reply came with no new text.")
                .await?;
            return Ok(Received::Empty { conversation_id });
        }
        // The same allowance as a chat message: into the conversation
        // written to while it is open, else the shopper's open one, else a
        // new one (as a chat message would go).
        let open = if conversation.state == ConversationState::Closed {
            self.store
                .current_conversation_of_visitor(&conversation.visitor_id)
                .await?
                .filter(|c| c.state != ConversationState::Closed)
                .map(|c| c.id)
        } else {
            Some(conversation.id.clone())
        };
        let Some(site) = self.store.site_by_id(&conversation.site_id).await? else {
            return Err(Refused::Gone);
        };
        let address = self.store.visitor_address(&conversation.visitor_id).await?;
        if let Err(not_now) = self
            .shopper_may_post(
                &site,
                &conversation.visitor_id,
                open.as_deref(),
                PostedFrom::Email(address.as_deref()),
            )
            .await?
        {
            tracing::info!(%not_now, "email reply over the shopper's allowance");
            return Err(Refused::NotNow(not_now));
        }
        let (files, not_kept) = self
            .keep_attachments(&site, &conversation.visitor_id, &mail.attachments)
            .await?;
        if body.trim().is_empty() && files.is_empty() {
            self.mail_note(&conversation.id, &not_kept_note(&not_kept))
                .await?;
            return Ok(Received::Empty { conversation_id });
        }
        // A mail server that delivers twice must not make two messages.
        let fingerprint = Sha256::digest(mail.message_id.as_deref().map_or(raw, str::as_bytes));
        let client_id = format!("email-{}", hex(&fingerprint[..20]));
        let append = Append {
            to: AppendTo::Shopper {
                site_id: conversation.site_id.clone(),
                visitor_id: conversation.visitor_id.clone(),
                current: Some(conversation.id.clone()),
                language: conversation.language.clone(),
                topic: None,
                note: None,
                may_open: true,
                reopen_days: site.settings.reopen_days,
            },
            client_id,
            body,
            files,
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
        self.customer_wrote(&posted).await?;
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
        if !not_kept.is_empty() {
            self.mail_note(&conversation_id, &not_kept_note(&not_kept))
                .await?;
        }
        tracing::info!(conversation = %conversation_id, "email reply stored");
        Ok(Received::Message { conversation_id })
    }
}

impl Conversations {
    /// Keeps an email's attachments as a chat upload would be kept (the
    /// same types, limits and stripping, counted against the same
    /// allowances); returns those kept and, for the agents, why the others
    /// were not.
    async fn keep_attachments(
        &self,
        site: &crate::store::Site,
        visitor_id: &str,
        attachments: &[parse::MailAttachment],
    ) -> Result<(Vec<protocol::FileRef>, Vec<String>), Refused> {
        let mut kept = Vec::new();
        let mut not_kept = Vec::new();
        for attachment in attachments.iter().take(protocol::MAX_FILES_PER_MESSAGE) {
            let upload = crate::files::Upload {
                account_id: &site.account_id,
                uploader: crate::store::Uploader::Visitor {
                    site_id: site.id.clone(),
                    visitor_id: visitor_id.to_owned(),
                },
                name: &attachment.name,
                allowed: &site.settings.file_kinds,
                declared_len: Some(attachment.bytes.len() as u64),
            };
            let bytes = bytes::Bytes::copy_from_slice(&attachment.bytes);
            let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
            match self.files.upload(upload, body).await {
                Ok(mut file) => {
                    file.url.clear();
                    kept.push(file);
                }
                Err(crate::files::FileError::Store(err)) => return Err(err.into()),
                Err(crate::files::FileError::Blob(err)) => {
                    tracing::error!(%err, "an email attachment could not be stored");
                    return Err(Refused::Unavailable);
                }
                Err(refused) => not_kept.push(format!("{} ({refused})", attachment.name)),
            }
        }
        for attachment in attachments.iter().skip(protocol::MAX_FILES_PER_MESSAGE) {
            not_kept.push(format!(
                "{} (a message carries at most {} files)",
                attachment.name,
                protocol::MAX_FILES_PER_MESSAGE
            ));
        }
        Ok((kept, not_kept))
    }
}

/// The agents' note on attachments an email brought that were not kept.
fn not_kept_note(not_kept: &[String]) -> String {
    if not_kept.is_empty() {
        return "An email reply came with no new text.".to_owned();
    }
    format!(
        "Attachments of this email were not kept: {}.",
        not_kept.join("; ")
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
