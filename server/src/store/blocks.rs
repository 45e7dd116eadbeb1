//! Blocked shoppers: a visitor, the verified customer it stands for (on
//! any browser), and, if the agent chose, their address, that may no
//! longer open sockets or conversations, or write by email, in an account.

use protocol::BlockView;
use sqlx::Row;

use super::{Store, StoreResult, VisitorBook, new_id, now_ms};

/// What an agent blocks.
#[derive(Debug)]
pub struct NewBlock<'a> {
    pub account_id: &'a str,
    pub visitor_id: &'a str,
    /// The visitor's last address, when the agent blocks it too.
    pub address: Option<&'a str>,
    pub reason: &'a str,
    pub blocked_by: &'a str,
}

impl Store {
    /// Whether this visitor, the verified customer it stands for, or this
    /// address is blocked in the account.
    pub async fn is_blocked(
        &self,
        account_id: &str,
        visitor_id: Option<&str>,
        address: Option<&str>,
    ) -> StoreResult<bool> {
        let blocked: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM blocks WHERE account_id = $1 AND (address = $2 OR visitor_id = $3 \
             OR contact_id = (SELECT contact_id FROM visitors WHERE id = $3)) LIMIT 1",
        )
        .bind(account_id)
        .bind(address)
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(blocked.is_some())
    }

    /// Whether the account's customer with the shop's id `external_id` is
    /// blocked (on whatever site and browser it was).
    pub async fn is_blocked_customer(
        &self,
        account_id: &str,
        external_id: &str,
    ) -> StoreResult<bool> {
        let blocked: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT 1 FROM blocks WHERE account_id = $1 AND contact_id = ({}) LIMIT 1",
            super::contacts::CONTACT_OF_SHOP_ID
        ))
        .bind(account_id)
        .bind(external_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(blocked.is_some())
    }

    /// The account's blocks, newest first.
    pub async fn blocks_of(&self, account_id: &str) -> StoreResult<Vec<BlockView>> {
        let rows = sqlx::query(
            "SELECT b.id, b.visitor_id, b.address, b.reason, b.created_at, a.name AS agent_name \
             FROM blocks b LEFT JOIN agents a ON a.id = b.blocked_by \
             WHERE b.account_id = $1 ORDER BY b.created_at DESC, b.id LIMIT 500",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BlockView {
                    id: row.try_get("id")?,
                    visitor_id: row.try_get("visitor_id")?,
                    address: row.try_get("address")?,
                    reason: row.try_get("reason")?,
                    blocked_by: row.try_get("agent_name")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn visitor_address(&self, visitor_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT last_address FROM visitors WHERE id = $1")
            .bind(visitor_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row
            .map(|row| row.try_get::<Option<String>, _>("last_address"))
            .transpose()?
            .flatten())
    }
}

/// Blocks and addresses (see [`VisitorBook`]).
impl VisitorBook {
    /// Blocks the visitor, and the verified customer it stands for if any.
    pub async fn block(&self, block: NewBlock<'_>) -> StoreResult<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO blocks (id, account_id, visitor_id, contact_id, address, reason, blocked_by, created_at) \
             VALUES ($1, $2, $3, (SELECT contact_id FROM visitors WHERE id = $3), $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(block.account_id)
        .bind(block.visitor_id)
        .bind(block.address)
        .bind(block.reason)
        .bind(block.blocked_by)
        .bind(now_ms())
        .execute(&self.write)
        .await?;
        Ok(id)
    }

    /// Lifts a block of the account; `false` if there was none.
    pub async fn lift_block(&self, account_id: &str, id: &str) -> StoreResult<bool> {
        let lifted = sqlx::query("DELETE FROM blocks WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&self.write)
            .await?;
        Ok(lifted.rows_affected() > 0)
    }

    /// Notes the address a visitor came from (for a block of it later).
    pub async fn note_visitor_address(&self, visitor_id: &str, address: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE visitors SET last_address = $2 WHERE id = $1 \
             AND (last_address IS NULL OR last_address <> $2)",
        )
        .bind(visitor_id)
        .bind(address)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
