//! Canned replies: an account's shared ones and each agent's own.

use protocol::CannedReply;
use sqlx::Row;

use super::{Store, StoreError, StoreResult, is_unique_violation, new_id, now_ms};

/// A stored reply with whom it belongs to, for permission checks.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReply {
    pub reply: CannedReply,
    pub account_id: String,
    /// `None`: shared with the account.
    pub agent_id: Option<String>,
}

fn reply_from_row(row: &sqlx::any::AnyRow) -> StoreResult<StoredReply> {
    let agent_id: Option<String> = row.try_get("agent_id")?;
    Ok(StoredReply {
        reply: CannedReply {
            id: row.try_get("id")?,
            shortcut: row.try_get("shortcut")?,
            body: row.try_get("body")?,
            shared: agent_id.is_none(),
        },
        account_id: row.try_get("account_id")?,
        agent_id,
    })
}

impl Store {
    /// What `agent_id` may use: the account's shared replies and their own,
    /// by shortcut (their own first where both have one).
    pub async fn replies_for(
        &self,
        account_id: &str,
        agent_id: &str,
    ) -> StoreResult<Vec<CannedReply>> {
        let rows = sqlx::query(
            "SELECT id, account_id, agent_id, shortcut, body FROM canned_replies \
             WHERE account_id = $1 AND (agent_id IS NULL OR agent_id = $2) \
             ORDER BY shortcut, agent_id IS NULL, id",
        )
        .bind(account_id)
        .bind(agent_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| reply_from_row(row).map(|r| r.reply))
            .collect()
    }

    pub async fn reply(&self, id: &str) -> StoreResult<Option<StoredReply>> {
        let row = sqlx::query(
            "SELECT id, account_id, agent_id, shortcut, body FROM canned_replies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(reply_from_row).transpose()
    }

    /// Saves a new reply (`agent_id` `None`: shared); a shortcut already
    /// used at the same level is [`StoreError::Conflict`].
    pub async fn create_reply(
        &self,
        account_id: &str,
        agent_id: Option<&str>,
        shortcut: &str,
        body: &str,
    ) -> StoreResult<CannedReply> {
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO canned_replies (id, account_id, agent_id, shortcut, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(agent_id)
        .bind(shortcut)
        .bind(body)
        .bind(now_ms())
        .execute(&self.write)
        .await;
        match inserted {
            Ok(_) => Ok(CannedReply {
                id,
                shortcut: shortcut.to_owned(),
                body: body.to_owned(),
                shared: agent_id.is_none(),
            }),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict("shortcut")),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn update_reply(&self, id: &str, shortcut: &str, body: &str) -> StoreResult<()> {
        let updated =
            sqlx::query("UPDATE canned_replies SET shortcut = $2, body = $3 WHERE id = $1")
                .bind(id)
                .bind(shortcut)
                .bind(body)
                .execute(&self.write)
                .await;
        match updated {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict("shortcut")),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn delete_reply(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM canned_replies WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
