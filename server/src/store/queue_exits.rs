//! Shoppers who leave the line: when every widget of a waiting shopper
//! closes, and when they come back while it still waits (see
//! `migrations/0026_queue_exits.sql`). For the reports.

use sqlx::Row;

use super::{StoreResult, VisitorBook, new_id, now_ms};

impl VisitorBook {
    /// The shopper of `conversation_id` left; kept only while it waits in
    /// a line (not held, not set aside, not closed). Returns whether it was.
    pub async fn left_the_line(&self, conversation_id: &str) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let row = sqlx::query(
            "SELECT account_id, created_at, reopened_at, \
             (SELECT MAX(r.created_at) FROM requeues r WHERE r.conversation_id = c.id) AS requeued_at \
             FROM conversations c WHERE c.id = $1 AND c.state = 'waiting'",
        )
        .bind(conversation_id)
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
            "INSERT INTO queue_exits (id, conversation_id, account_id, waiting_since, left_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(conversation_id)
        .bind(row.try_get::<String, _>("account_id")?)
        .bind(since.min(now))
        .bind(now)
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
