//! Figures the dispatcher and the inbox read: loads, deadlines, history.

use sqlx::Row;

use crate::store::{Store, StoreResult};

impl Store {
    /// Open (assigned) conversation counts per agent of an account.
    pub async fn agent_loads(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT c.assigned_agent_id, COUNT(*) AS open FROM conversations c \
             JOIN sites s ON s.id = c.site_id \
             WHERE s.account_id = $1 AND c.state = 'assigned' AND c.assigned_agent_id IS NOT NULL \
             AND c.hold IS NULL GROUP BY c.assigned_agent_id",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("assigned_agent_id")?, row.try_get("open")?)))
            .collect()
    }
    /// Conversations assigned before `assigned_before` (Unix ms) whose agent
    /// has not sent a message since: (conversation, agent, account).
    pub async fn unanswered_since(
        &self,
        assigned_before: i64,
    ) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT c.id, c.assigned_agent_id, s.account_id FROM conversations c \
             JOIN sites s ON s.id = c.site_id \
             WHERE c.state = 'assigned' AND c.hold IS NULL \
             AND c.assigned_at IS NOT NULL AND c.assigned_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id \
               AND e.kind = 'message' AND e.author_kind = 'agent' AND e.created_at >= c.assigned_at) \
             ORDER BY c.assigned_at LIMIT 100",
        )
        .bind(assigned_before)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get::<Option<String>, _>("assigned_agent_id")?
                        .unwrap_or_default(),
                    row.try_get("account_id")?,
                ))
            })
            .collect()
    }
    /// Ids of the open conversations of a contact, on any of their browsers.
    pub async fn open_conversations_of_contact(
        &self,
        contact_id: &str,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT id FROM conversations WHERE state <> 'closed' AND visitor_id IN \
             ({}) ORDER BY created_at, id",
            crate::store::contacts::VISITORS_OF_CONTACT
        ))
        .bind(contact_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// Ids of an anonymous visitor's open conversations.
    pub async fn open_conversations_of_visitor(
        &self,
        visitor_id: &str,
    ) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE state <> 'closed' AND visitor_id IN \
             (SELECT id FROM visitors WHERE id = $1 OR merged_into = $1) ORDER BY created_at, id",
        )
        .bind(visitor_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// Ids of a site's open conversations.
    pub async fn open_conversations_of_site(&self, site_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE site_id = $1 AND state <> 'closed' ORDER BY created_at, id",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// Every agent who holds an open conversation.
    pub async fn holders(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT assigned_agent_id FROM conversations \
             WHERE state = 'assigned' AND assigned_agent_id IS NOT NULL AND hold IS NULL",
        )
        .fetch_all(&self.read)
        .await?)
    }

    /// Ids of the conversations an agent holds.
    pub async fn conversations_held_by(&self, agent_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE assigned_agent_id = $1 AND state = 'assigned' \
             AND hold IS NULL ORDER BY assigned_at",
        )
        .bind(agent_id)
        .fetch_all(&self.read)
        .await?)
    }
    /// The agent who last held this conversation (it was reopened, or
    /// came back from being set aside), else who most recently served this
    /// visitor in another one.
    pub async fn previous_agent_of_visitor(
        &self,
        visitor_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT assigned_agent_id FROM conversations \
             WHERE visitor_id = $1 AND assigned_agent_id IS NOT NULL \
             ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1",
        )
        .bind(visitor_id)
        .bind(conversation_id)
        .fetch_optional(&self.read)
        .await?)
    }
    /// Average time from assignment to close over the account's last
    /// `sample` closed conversations, or `None` without any.
    pub async fn recent_handling_ms(
        &self,
        account_id: &str,
        sample: i64,
    ) -> StoreResult<Option<i64>> {
        let durations: Vec<i64> = sqlx::query_scalar(
            "SELECT c.closed_at - c.assigned_at FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE s.account_id = $1 AND c.state = 'closed' \
             AND c.assigned_at IS NOT NULL AND c.closed_at IS NOT NULL \
             ORDER BY c.closed_at DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(sample)
        .fetch_all(&self.read)
        .await?;
        let count = i64::try_from(durations.len()).unwrap_or(i64::MAX);
        Ok((count > 0).then(|| durations.iter().sum::<i64>() / count))
    }
    /// Conversations snoozed until `now_ms` or before, soonest first.
    pub async fn snoozes_due(&self, now_ms: i64, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE hold = 'snoozed' AND snoozed_until IS NOT NULL \
             AND snoozed_until <= $1 ORDER BY snoozed_until, id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Set-aside conversations whose customer wrote after they were set
    /// aside: the status change that follows the message did not happen
    /// (the process stopped between the two).
    pub async fn holds_answered(&self, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT c.id FROM conversations c WHERE c.hold IS NOT NULL AND EXISTS \
             (SELECT 1 FROM events m WHERE m.conversation_id = c.id AND m.kind = 'message' \
              AND m.author_kind = 'visitor' AND m.seq > COALESCE((SELECT MAX(s.seq) FROM events s \
              WHERE s.conversation_id = c.id AND s.kind = 'status'), 0)) \
             ORDER BY c.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn count_conversations(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
            .fetch_one(&self.read)
            .await?)
    }
}
