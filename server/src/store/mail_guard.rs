//! What keeps mail from being a relay for strangers, as rows: how much mail
//! went to an address or from a site lately, the addresses shoppers proved
//! (by a link mailed to them), and the mail refused, for the owner to see.

use sqlx::Row;

use super::mail::insert_mail;
use super::{ConversationBook, NewMail, Store, StoreResult, new_id, now_ms};

/// A shopper's request to prove an address, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirmation {
    pub id: String,
    pub site_id: String,
    pub visitor_id: String,
    /// The conversation whose transcript waits for the proof, if any.
    pub conversation_id: Option<String>,
    pub email: String,
}

/// A confirmation to store with the mail that carries its link.
#[derive(Clone, Debug)]
pub struct NewConfirmation<'a> {
    pub id: &'a str,
    pub site_id: &'a str,
    pub visitor_id: &'a str,
    pub conversation_id: Option<&'a str>,
    pub email: &'a str,
    pub valid_ms: i64,
}

impl Store {
    /// Mail queued from `site_id` to `recipient` since `since` (Unix ms),
    /// whatever its kind and cause.
    pub async fn mails_to_since(
        &self,
        site_id: &str,
        recipient: &str,
        since: i64,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE recipient = $1 AND site_id = $2 AND created_at >= $3",
        )
        .bind(recipient)
        .bind(site_id)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }

    /// Confirmation mails to `recipient` since `since`, from any site.
    pub async fn confirmations_to_since(&self, recipient: &str, since: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM email_confirmations WHERE email = $1 AND created_at >= $2",
        )
        .bind(recipient)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }

    /// Mail shoppers of `site_id` caused since `since`.
    pub async fn shopper_mail_since(&self, site_id: &str, since: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE site_id = $1 AND cause = 'shopper' AND created_at >= $2",
        )
        .bind(site_id)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }

    /// Whether `email` is this shopper's own for certain: the verified
    /// customer's address from the shop's token, or one they proved.
    pub async fn address_is_proved(&self, visitor_id: &str, email: &str) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT c.email AS verified, v.confirmed_email FROM visitors v \
             LEFT JOIN contacts c ON c.id = v.contact_id WHERE v.id = $1",
        )
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let same = |stored: Option<String>| {
            stored.is_some_and(|stored| stored.trim().eq_ignore_ascii_case(email.trim()))
        };
        Ok(same(row.try_get("verified")?) || same(row.try_get("confirmed_email")?))
    }

    /// An open (unused, unexpired) confirmation.
    pub async fn open_confirmation(&self, id: &str) -> StoreResult<Option<Confirmation>> {
        let row = sqlx::query(
            "SELECT id, site_id, visitor_id, conversation_id, email FROM email_confirmations \
             WHERE id = $1 AND confirmed_at IS NULL AND expires_at > $2",
        )
        .bind(id)
        .bind(now_ms())
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(Confirmation {
                id: row.try_get("id")?,
                site_id: row.try_get("site_id")?,
                visitor_id: row.try_get("visitor_id")?,
                conversation_id: row.try_get("conversation_id")?,
                email: row.try_get("email")?,
            })
        })
        .transpose()
    }
}

/// Proving addresses and keeping refusals (see [`ConversationBook`]).
impl ConversationBook {
    /// Stores a confirmation and queues the mail carrying its link, together.
    pub async fn create_confirmation(
        &self,
        confirmation: &NewConfirmation<'_>,
        mail: &NewMail<'_>,
    ) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO email_confirmations (id, site_id, visitor_id, conversation_id, email, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(confirmation.id)
        .bind(confirmation.site_id)
        .bind(confirmation.visitor_id)
        .bind(confirmation.conversation_id)
        .bind(confirmation.email)
        .bind(now)
        .bind(now + confirmation.valid_ms)
        .execute(&mut *tx)
        .await?;
        insert_mail(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a confirmation once: the address becomes the shopper's proved
    /// one (and the one they are answered at). `None` if it was used or
    /// expired meanwhile.
    pub async fn confirm_email(&self, id: &str) -> StoreResult<Option<Confirmation>> {
        let Some(confirmation) = self.open_confirmation(id).await? else {
            return Ok(None);
        };
        let mut tx = self.write.begin().await?;
        let used = sqlx::query(
            "UPDATE email_confirmations SET confirmed_at = $2 WHERE id = $1 AND confirmed_at IS NULL",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        sqlx::query("UPDATE visitors SET confirmed_email = $2, stated_email = $2 WHERE id = $1")
            .bind(&confirmation.visitor_id)
            .bind(&confirmation.email)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(confirmation))
    }

    /// Keeps a refused mail's kind, recipient and reason for the console.
    pub async fn record_mail_refusal(
        &self,
        site_id: &str,
        kind: super::MailKind,
        recipient: &str,
        reason: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mail_refusals (id, site_id, kind, recipient, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(site_id)
        .bind(kind.as_str())
        .bind(recipient)
        .bind(reason)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
