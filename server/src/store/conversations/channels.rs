//! The conversation beyond the open chat: what the shopper has read, the
//! agents' replies that wait unseen and go out by email, and what they
//! send back by email.

use protocol::{Author, EventBody, Seq};
use sqlx::Row;

use super::Change;
use super::log::append_event;
use crate::store::mail::{NewMail, insert_mail};
use crate::store::{ConversationBook, Store, StoreResult, now_ms};

/// Where a conversation stands between the shopper and their mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailState {
    /// The last seq the shopper has seen in the chat.
    pub shopper_read_seq: Seq,
    /// The last agent message.
    pub last_agent_seq: Seq,
    /// The last seq already emailed.
    pub emailed_seq: Seq,
    /// Since when an agent message waits unseen (Unix ms), if one does.
    pub unseen_since: Option<i64>,
}

impl MailState {
    /// Replies after this seq are neither seen nor emailed.
    pub fn unseen_after(&self) -> Seq {
        self.shopper_read_seq.max(self.emailed_seq)
    }
}

impl Store {
    /// Conversations whose unseen agent replies have waited longer than
    /// their site's delay, longest first.
    pub async fn unseen_due(&self, now: i64, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE c.unseen_since IS NOT NULL AND s.email_delay_secs IS NOT NULL \
             AND c.unseen_since <= $1 - s.email_delay_secs * 1000 \
             ORDER BY c.unseen_since, c.id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn mail_state(&self, conversation_id: &str) -> StoreResult<Option<MailState>> {
        let row = sqlx::query(
            "SELECT shopper_read_seq, last_agent_seq, emailed_seq, unseen_since \
             FROM conversations WHERE id = $1",
        )
        .bind(conversation_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(MailState {
                shopper_read_seq: row.try_get("shopper_read_seq")?,
                last_agent_seq: row.try_get("last_agent_seq")?,
                emailed_seq: row.try_get("emailed_seq")?,
                unseen_since: row.try_get("unseen_since")?,
            })
        })
        .transpose()
    }
}

/// What a conversation's mail and read positions change (see [`ConversationBook`]).
impl ConversationBook {
    /// The shopper has seen the conversation up to `seq`; a reply they have
    /// now all seen no longer waits for an email. `false` if nothing moved
    /// (not this visitor's conversation, `seq` not in it, or not further
    /// than before: read positions only move forward).
    pub async fn mark_shopper_read(
        &self,
        conversation_id: &str,
        visitor_id: &str,
        seq: Seq,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE conversations SET \
             shopper_read_seq = CASE WHEN $3 > shopper_read_seq THEN $3 ELSE shopper_read_seq END, \
             unseen_since = CASE WHEN $3 >= last_agent_seq THEN NULL ELSE unseen_since END \
             WHERE id = $1 AND visitor_id = $2 AND $3 > shopper_read_seq AND $3 <= last_seq",
        )
        .bind(conversation_id)
        .bind(visitor_id)
        .bind(seq)
        .execute(&self.write)
        .await?;
        Ok(updated.rows_affected() > 0)
    }

    /// The agents have seen the conversation up to `seq`: their unread count
    /// is what the shopper wrote after it. `false` if nothing moved.
    pub async fn mark_agent_read(&self, conversation_id: &str, seq: Seq) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE conversations SET agent_read_seq = $2, unread_for_agents = \
             (SELECT COUNT(*) FROM events WHERE conversation_id = $1 AND seq > $2 \
              AND author_kind = 'visitor' AND kind = 'message') \
             WHERE id = $1 AND $2 > agent_read_seq AND $2 <= last_seq",
        )
        .bind(conversation_id)
        .bind(seq)
        .execute(&self.write)
        .await?;
        Ok(updated.rows_affected() > 0)
    }

    /// No mail will go for the replies waiting now (no address, opted out):
    /// stop waiting, unless a newer reply came in meanwhile.
    pub async fn stop_waiting_unseen(&self, conversation_id: &str, since: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET unseen_since = NULL WHERE id = $1 AND unseen_since = $2",
        )
        .bind(conversation_id)
        .bind(since)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Stops waiting to mail this conversation's unseen replies, whenever
    /// that wait began.
    pub async fn give_up_unseen(&self, conversation_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET unseen_since = NULL WHERE id = $1")
            .bind(conversation_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The shopper gave an address to be answered at. Replies they have not
    /// seen (and that nobody could email before) wait for the mail again.
    pub async fn set_stated_email(&self, visitor_id: &str, email: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE visitors SET stated_email = $2 WHERE id = $1")
            .bind(visitor_id)
            .bind(email)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE conversations SET unseen_since = COALESCE(unseen_since, $2) \
             WHERE visitor_id = $1 AND last_agent_seq > shopper_read_seq \
             AND last_agent_seq > emailed_seq",
        )
        .bind(visitor_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues the mail of the unseen replies up to `upto_seq` and notes it
    /// for the agents, in one transaction; `None` if the state changed since
    /// it was read (the shopper saw them, or another process mailed them).
    pub async fn record_emailed(
        &self,
        conversation_id: &str,
        was: &MailState,
        upto_seq: Seq,
        mail: &NewMail<'_>,
        note: &str,
    ) -> StoreResult<Option<Change>> {
        let mut tx = self.write.begin().await?;
        let taken = sqlx::query(
            "UPDATE conversations SET emailed_seq = $2, unseen_since = NULL \
             WHERE id = $1 AND unseen_since = $3 AND emailed_seq = $4 AND shopper_read_seq = $5",
        )
        .bind(conversation_id)
        .bind(upto_seq)
        .bind(was.unseen_since)
        .bind(was.emailed_seq)
        .bind(was.shopper_read_seq)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        insert_mail(&mut tx, mail).await?;
        let note = EventBody::Note {
            text: note.to_owned(),
        };
        let event =
            append_event(&mut tx, conversation_id, Author::System, None, note, None).await?;
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Some(Change {
            conversation,
            events: vec![event],
        }))
    }

    /// Queues a transcript and notes it for the agents, in one transaction.
    pub async fn record_transcript(
        &self,
        conversation_id: &str,
        mail: &NewMail<'_>,
        note: &str,
    ) -> StoreResult<Change> {
        let mut tx = self.write.begin().await?;
        insert_mail(&mut tx, mail).await?;
        let note = EventBody::Note {
            text: note.to_owned(),
        };
        let event =
            append_event(&mut tx, conversation_id, Author::System, None, note, None).await?;
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Change {
            conversation,
            events: vec![event],
        })
    }

    /// A note only agents see, about mail (an automatic reply, a bounce).
    /// The shopper's rating of their conversation, appended to its log.
    pub async fn add_rating(
        &self,
        conversation_id: &str,
        visitor_id: &str,
        rating: EventBody,
    ) -> StoreResult<Change> {
        let mut tx = self.write.begin().await?;
        if let EventBody::Rated { score, comment } = &rating {
            crate::store::ratings::keep_rating(
                &mut tx,
                conversation_id,
                *score,
                comment.as_deref(),
                crate::store::now_ms(),
            )
            .await?;
        }
        let event = append_event(
            &mut tx,
            conversation_id,
            Author::Visitor,
            Some(visitor_id),
            rating,
            None,
        )
        .await?;
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Change {
            conversation,
            events: vec![event],
        })
    }

    pub async fn add_mail_note(&self, conversation_id: &str, text: &str) -> StoreResult<Change> {
        let mut tx = self.write.begin().await?;
        let note = EventBody::Note {
            text: text.to_owned(),
        };
        let event =
            append_event(&mut tx, conversation_id, Author::System, None, note, None).await?;
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Change {
            conversation,
            events: vec![event],
        })
    }
}
