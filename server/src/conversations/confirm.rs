//! Proving an address before a stranger's request mails it: a transcript a
//! shopper asks for to an address nobody proved waits, and a link to prove
//! it goes there instead (itself within allowances: per recipient a day,
//! per site a day, and per network at the widget). Following the link
//! makes the address the shopper's proved one and sends the transcript.

use uuid::Uuid;

use super::email::{DAY_MS, TranscriptRefused, TranscriptSent, recipient, until, words_for};
use super::{Asker, Conversations};
use crate::mail::compose::{self, ConfirmLetter};
use crate::mail::tokens::{Purpose, TokenRefused};
use crate::store::{
    Conversation, MailCause, MailKind, NewConfirmation, NewMail, Site, StoreError, now_ms,
};

/// Confirmation mails one address may get a day, from every site together.
const CONFIRMATIONS_PER_RECIPIENT_PER_DAY: i64 = 3;
/// How long a confirmation link works.
const CONFIRM_VALID_SECS: i64 = 24 * 3600;

/// What following a confirmation link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmed {
    pub email: String,
    pub site_name: String,
    /// Whether the transcript that waited for it is on its way.
    pub transcript_sent: bool,
}

/// Why a confirmation link did nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmRefused {
    #[error("the link is not valid: {0}")]
    Token(TokenRefused),
    #[error("the link was used already or has expired")]
    Gone,
}

impl Conversations {
    /// Mails `email` a link to prove it is this shopper's; the transcript
    /// follows once it is used.
    pub(super) async fn ask_to_confirm(
        &self,
        site: &Site,
        conversation: &Conversation,
        email: &str,
    ) -> Result<Result<TranscriptSent, TranscriptRefused>, StoreError> {
        let asked = self
            .store
            .confirmations_to_since(email, now_ms() - DAY_MS)
            .await?;
        if asked >= CONFIRMATIONS_PER_RECIPIENT_PER_DAY {
            let refusal = TranscriptRefused::RecipientAllowance;
            self.refused_mail(site, MailKind::Confirm, email, &refusal.to_string())
                .await?;
            return Ok(Err(refusal));
        }
        let id = Uuid::new_v4();
        let token = self
            .mail
            .key
            .sign(Purpose::Confirm, id, until(CONFIRM_VALID_SECS));
        let words = words_for(site, conversation);
        let mail_id = Uuid::new_v4();
        let built = recipient(email).and_then(|to| {
            let letter = ConfirmLetter {
                words,
                site_name: compose::header_text(&site.name),
                from: self.sender(site, None),
                to,
                message_id: format!("<{mail_id}@{}>", self.mail.reply_domain),
                confirm_url: format!("{}/mail/confirm/{token}", self.mail.public_url),
                unsubscribe_url: self.unsubscribe_url(mail_id),
            };
            compose::compose_confirmation(&letter)
                .map(|message| (letter, message))
                .map_err(|e| super::NotBuilt::Compose(e.to_string()))
        });
        let (letter, message) = match built {
            Ok(built) => built,
            Err(not_built) => {
                self.refused_mail(site, MailKind::Confirm, email, &not_built.to_string())
                    .await?;
                return Ok(Err(TranscriptRefused::NotBuilt(not_built)));
            }
        };
        self.store
            .create_confirmation(
                &NewConfirmation {
                    id: &id.to_string(),
                    site_id: &site.id,
                    visitor_id: &conversation.visitor_id,
                    conversation_id: Some(&conversation.id),
                    email,
                    valid_ms: CONFIRM_VALID_SECS * 1000,
                },
                &NewMail {
                    id: &mail_id.to_string(),
                    site_id: &site.id,
                    conversation_id: Some(&conversation.id),
                    kind: MailKind::Confirm,
                    cause: MailCause::Shopper,
                    envelope_from: self.mail.from.email.as_ref(),
                    recipient: email,
                    message_id: &letter.message_id,
                    message: &String::from_utf8_lossy(&message),
                },
            )
            .await?;
        self.mail_queued.notify_one();
        tracing::info!(site = %site.id, "a link to prove an address was mailed");
        Ok(Ok(TranscriptSent {
            email: email.to_owned(),
            confirm_first: true,
        }))
    }

    /// The site and address a confirmation link stands for, if it is open.
    pub async fn confirmation_of_link(
        &self,
        token: &str,
    ) -> Result<Result<(String, String), ConfirmRefused>, StoreError> {
        let id = match self
            .mail
            .key
            .verify(Purpose::Confirm, token, now_ms() / 1000)
        {
            Ok(id) => id,
            Err(refused) => return Ok(Err(ConfirmRefused::Token(refused))),
        };
        let Some(confirmation) = self.store.open_confirmation(&id.to_string()).await? else {
            return Ok(Err(ConfirmRefused::Gone));
        };
        let site_name = self
            .store
            .site_by_id(&confirmation.site_id)
            .await?
            .map(|site| site.name)
            .unwrap_or_default();
        Ok(Ok((confirmation.email, site_name)))
    }

    /// Follows a confirmation link: the address is proved, and the
    /// transcript that waited for it goes out (if it still may).
    #[tracing::instrument(name = "confirm_email", skip_all)]
    pub async fn confirm_address(
        &self,
        token: &str,
    ) -> Result<Result<Confirmed, ConfirmRefused>, StoreError> {
        let id = match self
            .mail
            .key
            .verify(Purpose::Confirm, token, now_ms() / 1000)
        {
            Ok(id) => id,
            Err(refused) => return Ok(Err(ConfirmRefused::Token(refused))),
        };
        let Some(confirmation) = self.store.confirm_email(&id.to_string()).await? else {
            return Ok(Err(ConfirmRefused::Gone));
        };
        let site = self.store.site_by_id(&confirmation.site_id).await?;
        let site_name = site.as_ref().map(|s| s.name.clone()).unwrap_or_default();
        let conversation = match &confirmation.conversation_id {
            Some(id) => self.store.conversation(id).await?,
            None => None,
        };
        let mut transcript_sent = false;
        if let (Some(site), Some(conversation)) = (site, conversation)
            && !self
                .store
                .is_opted_out(&site.id, &confirmation.email)
                .await?
            && self.recipient_has_room(&site, &confirmation.email).await?
        {
            transcript_sent = self
                .queue_transcript(
                    &site,
                    &conversation,
                    &confirmation.email,
                    Asker::Shopper,
                    MailCause::Shopper,
                )
                .await?
                .is_ok();
        }
        tracing::info!(transcript_sent, "an address was proved");
        Ok(Ok(Confirmed {
            email: confirmation.email,
            site_name,
            transcript_sent,
        }))
    }
}
