//! Spans of agents' statuses as each process saw them, for the reports
//! (see `migrations/0027_agent_presence.sql`).

use protocol::Availability;

use super::{Store, StoreResult, new_id, now_ms};

impl Store {
    /// The agent's status as `node` sees it changed to `status`: its open
    /// span ends, and one begins unless they are now offline.
    pub async fn presence_changed(
        &self,
        node: &str,
        account_id: &str,
        agent_id: &str,
        status: Availability,
    ) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE agent_presence SET ended_at = $3, seen_at = $3 \
             WHERE node = $1 AND agent_id = $2 AND ended_at IS NULL",
        )
        .bind(node)
        .bind(agent_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let status = match status {
            Availability::Online => Some("online"),
            Availability::Away => Some("away"),
            Availability::Offline => None,
        };
        if let Some(status) = status {
            sqlx::query(
                "INSERT INTO agent_presence (id, account_id, agent_id, node, status, started_at, seen_at) \
                 SELECT $1, $2, $3, $4, $5, $6, $6 WHERE EXISTS (SELECT 1 FROM agents WHERE id = $3)",
            )
            .bind(new_id())
            .bind(account_id)
            .bind(agent_id)
            .bind(node)
            .bind(status)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `node` is still here: its open spans were seen now.
    pub async fn presence_seen(&self, node: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agent_presence SET seen_at = $2 WHERE node = $1 AND ended_at IS NULL")
            .bind(node)
            .bind(now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
