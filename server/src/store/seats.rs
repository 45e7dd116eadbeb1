//! What a shopper already holds, for the allowances a new conversation is
//! checked against: the open conversations of one address, and when an
//! agent last closed one of the shopper's.

use super::{Store, StoreResult};

impl Store {
    /// Open or waiting conversations in the account whose shoppers came
    /// last from `address`.
    pub async fn open_conversations_from(
        &self,
        account_id: &str,
        address: &str,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations c JOIN visitors v ON v.id = c.visitor_id \
             JOIN sites s ON s.id = c.site_id \
             WHERE v.last_address = $1 AND s.account_id = $2 AND c.state <> 'closed'",
        )
        .bind(address)
        .bind(account_id)
        .fetch_one(&self.read)
        .await?)
    }

    /// When (Unix ms) an agent last closed a conversation of this visitor
    /// after `since`.
    pub async fn last_closed_by_agent(
        &self,
        visitor_id: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(e.created_at) FROM events e JOIN conversations c ON c.id = e.conversation_id \
             WHERE c.visitor_id = $1 AND c.updated_at > $2 \
             AND e.kind = 'closed' AND e.author_kind = 'agent' AND e.created_at > $2",
        )
        .bind(visitor_id)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }
}
