//! Shoppers who leave the line: when every widget of a waiting shopper
//! closes, and when they come back while it still waits (see
//! `migrations/0026_queue_exits.sql`). For the reports.

use sqlx::Row;

use super::{StoreResult, VisitorBook, new_id, now_ms};

/// How a shopper left the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineExit {
    /// Every widget of theirs closed.
    Left,
    /// They closed the chat panel, the page still open.
    ClosedPanel,
}

impl LineExit {
    fn as_str(self) -> &'static str {
        match self {
            LineExit::Left => "left",
            LineExit::ClosedPanel => "closed_panel",
        }
    }
}

impl VisitorBook {
    /// The shopper of `conversation_id` left (every widget closed, or the
    /// panel closed: `how`); kept only while it waits in a line (not held,
    /// not set aside, not closed), and a closed panel once per
    /// conversation. Returns whether it was kept.
    pub async fn left_the_line(&self, conversation_id: &str, how: LineExit) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let row = sqlx::query(
            "SELECT account_id, created_at, reopened_at, \
             (SELECT MAX(r.created_at) FROM requeues r WHERE r.conversation_id = c.id) AS requeued_at \
             FROM conversations c WHERE c.id = $1 AND c.state = 'waiting' \
             AND NOT ($2 = 'closed_panel' AND EXISTS (SELECT 1 FROM queue_exits x \
               WHERE x.conversation_id = c.id AND x.how = 'closed_panel'))",
        )
        .bind(conversation_id)
        .bind(how.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        // When it last joined the line.
        let since = [
            Some(row.try_get::<i64, _>("created_at")?),
            row.try_get::<Option<i64>, _>("reopened_at")?,
            row.try_get::<Option<i64>, _>("requeued_at")?,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(now);
        sqlx::query(
            "INSERT INTO queue_exits (id, conversation_id, account_id, waiting_since, left_at, how) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(conversation_id)
        .bind(row.try_get::<String, _>("account_id")?)
        .bind(since.min(now))
        .bind(now)
        .bind(how.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The shopper of `conversation_id` is back while it still waits.
    pub async fn back_in_the_line(&self, conversation_id: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE queue_exits SET returned_at = $2 WHERE conversation_id = $1 \
             AND returned_at IS NULL",
        )
        .bind(conversation_id)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
