//! Mail's rows: the outbox (queued, claimed by one process at a time,
//! retried, given up on), addresses that asked not to be emailed, and the
//! installation's secrets.

use protocol::{FailedMail, MailStatus, RefusedMail};
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreResult, now_ms};
use crate::identity;

/// What a queued mail is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    Unseen,
    Transcript,
    /// A link for a shopper to prove an address is theirs.
    Confirm,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Unseen => "unseen",
            MailKind::Transcript => "transcript",
            MailKind::Confirm => "confirm",
        }
    }
}

/// Who caused a mail: counted apart, since a stranger may cause only so much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailCause {
    /// An agent's reply the shopper had not seen.
    Reply,
    /// An agent asked for it.
    Agent,
    /// The shopper asked for it (from the widget: anyone can).
    Shopper,
}

impl MailCause {
    pub fn as_str(self) -> &'static str {
        match self {
            MailCause::Reply => "reply",
            MailCause::Agent => "agent",
            MailCause::Shopper => "shopper",
        }
    }
}

/// A mail to queue, already composed.
#[derive(Clone, Debug)]
pub struct NewMail<'a> {
    pub id: &'a str,
    pub site_id: &'a str,
    pub conversation_id: Option<&'a str>,
    pub kind: MailKind,
    pub cause: MailCause,
    pub envelope_from: &'a str,
    pub recipient: &'a str,
    pub message_id: &'a str,
    pub message: &'a str,
}

/// A mail this process claimed to send now.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedMail {
    pub id: String,
    pub envelope_from: String,
    pub recipient: String,
    pub message: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Queues a mail inside the caller's transaction, to go out at once.
pub(crate) async fn insert_mail(
    tx: &mut Transaction<'static, Any>,
    mail: &NewMail<'_>,
) -> StoreResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO mail_outbox (id, site_id, conversation_id, kind, cause, envelope_from, \
         recipient, message_id, message, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $10)",
    )
    .bind(mail.id)
    .bind(mail.site_id)
    .bind(mail.conversation_id)
    .bind(mail.kind.as_str())
    .bind(mail.cause.as_str())
    .bind(mail.envelope_from)
    .bind(mail.recipient)
    .bind(mail.message_id)
    .bind(mail.message)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The installation's secret named `name`, made on first use. Every
    /// process reads the same one.
    pub async fn server_key(&self, name: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO server_keys (name, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(identity::random_token(32))
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT secret FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_one(&self.write)
                .await?,
        )
    }

    /// Ids of mail due to be sent (queued, or claimed by a process that
    /// stopped before it finished), oldest first.
    pub async fn due_mail(&self, now: i64, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM mail_outbox WHERE status IN ('queued', 'sending') \
             AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Claims a due mail for this process until `lease_until`; `None` if
    /// another process claimed it first or it is not due.
    pub async fn claim_mail(
        &self,
        id: &str,
        now: i64,
        lease_until: i64,
    ) -> StoreResult<Option<ClaimedMail>> {
        let claimed = sqlx::query(
            "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $3 \
             WHERE id = $1 AND status IN ('queued', 'sending') AND next_attempt_at <= $2",
        )
        .bind(id)
        .bind(now)
        .bind(lease_until)
        .execute(&self.write)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, envelope_from, recipient, message, attempts FROM mail_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.write)
        .await?;
        Ok(Some(ClaimedMail {
            id: row.try_get("id")?,
            envelope_from: row.try_get("envelope_from")?,
            recipient: row.try_get("recipient")?,
            message: row.try_get("message")?,
            attempts: row.try_get("attempts")?,
        }))
    }

    pub async fn mail_sent(&self, id: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Sending failed: try again at `retry_at`, or (`None`) give up.
    pub async fn mail_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> StoreResult<()> {
        let (status, next) = match retry_at {
            Some(at) => ("queued", at),
            None => ("failed", now_ms()),
        };
        sqlx::query(
            "UPDATE mail_outbox SET status = $2, next_attempt_at = $3, last_error = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(next)
        .bind(error)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// How a site's mail is doing, for the console.
    pub async fn mail_status(&self, site_id: &str) -> StoreResult<MailStatus> {
        let count = |status: &'static str| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM mail_outbox WHERE site_id = $1 AND status = $2",
            )
            .bind(site_id)
            .bind(status)
            .fetch_one(&self.read)
        };
        let waiting = count("queued").await? + count("sending").await?;
        let sent = count("sent").await?;
        let failed_count = count("failed").await?;
        let rows = sqlx::query(
            "SELECT recipient, kind, status, attempts, last_error, created_at FROM mail_outbox \
             WHERE site_id = $1 AND last_error IS NOT NULL AND status <> 'sent' \
             ORDER BY created_at DESC, id LIMIT 10",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?;
        let problems = rows
            .iter()
            .map(|row| {
                Ok(FailedMail {
                    recipient: row.try_get("recipient")?,
                    kind: row.try_get("kind")?,
                    given_up: row.try_get::<String, _>("status")? == "failed",
                    attempts: row.try_get("attempts")?,
                    error: row
                        .try_get::<Option<String>, _>("last_error")?
                        .unwrap_or_default(),
                    at_ms: row.try_get("created_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let day_ago = now_ms() - 24 * 3600 * 1000;
        let since = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(site_id)
                .bind(day_ago)
                .fetch_one(&self.read)
        };
        let queued_today =
            since("SELECT COUNT(*) FROM mail_outbox WHERE site_id = $1 AND created_at >= $2")
                .await?;
        let asked_by_shoppers_today = since(
            "SELECT COUNT(*) FROM mail_outbox WHERE site_id = $1 AND cause = 'shopper' AND created_at >= $2",
        )
        .await?;
        let refused_today =
            since("SELECT COUNT(*) FROM mail_refusals WHERE site_id = $1 AND created_at >= $2")
                .await?;
        let refusals = sqlx::query(
            "SELECT recipient, kind, reason, created_at FROM mail_refusals WHERE site_id = $1 \
             ORDER BY created_at DESC, id LIMIT 10",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|row| {
            Ok(RefusedMail {
                recipient: row.try_get("recipient")?,
                kind: row.try_get("kind")?,
                reason: row.try_get("reason")?,
                at_ms: row.try_get("created_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MailStatus {
            waiting,
            sent,
            failed: failed_count,
            problems,
            queued_today,
            asked_by_shoppers_today,
            refused_today,
            refusals,
        })
    }

    /// The site and recipient of a queued mail (for its unsubscribe link).
    pub async fn mail_recipient(&self, id: &str) -> StoreResult<Option<(String, String)>> {
        let row = sqlx::query("SELECT site_id, recipient FROM mail_outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|row| Ok((row.try_get("site_id")?, row.try_get("recipient")?)))
            .transpose()
    }

    /// Stops a site's mail to `email`.
    pub async fn opt_out(&self, site_id: &str, email: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO mail_optouts (site_id, email, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (site_id, email) DO NOTHING",
        )
        .bind(site_id)
        .bind(email.trim().to_lowercase())
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn is_opted_out(&self, site_id: &str, email: &str) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM mail_optouts WHERE site_id = $1 AND email = $2")
                .bind(site_id)
                .bind(email.trim().to_lowercase())
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }

    /// Transcripts of a conversation queued since `since` (Unix ms).
    pub async fn transcripts_since(&self, conversation_id: &str, since: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_outbox WHERE conversation_id = $1 AND kind = 'transcript' \
             AND created_at >= $2",
        )
        .bind(conversation_id)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }
}
