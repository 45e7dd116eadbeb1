//! Passwords after sign-up: a new one set by its owner (their other
//! sessions end), by a single-use link (every session ends), or from the
//! command line. The links' tokens are stored hashed.

use sqlx::Row;

use crate::identity;
use crate::store::{Agent, Store, StoreError, StoreResult, is_unique_violation, now_ms};

impl Store {
    /// A link for `agent_id` to choose a password, working once for
    /// `valid_ms`; returns its token.
    pub async fn create_password_reset(
        &self,
        agent_id: &str,
        valid_ms: i64,
    ) -> StoreResult<String> {
        let token = identity::random_token(32);
        let now = now_ms();
        sqlx::query(
            "INSERT INTO password_resets (token_hash, agent_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(identity::token_hash(&token))
        .bind(agent_id)
        .bind(now)
        .bind(now + valid_ms)
        .execute(&self.write)
        .await?;
        Ok(token)
    }

    /// When the last link for `agent_id` was made (to send one at most so often).
    pub async fn last_password_reset(&self, agent_id: &str) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(created_at) FROM password_resets WHERE agent_id = $1")
                .bind(agent_id)
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Whether a link is open (unused, unexpired, of an active agent).
    pub async fn password_reset_is_open(&self, token: &str) -> StoreResult<bool> {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets r JOIN agents a ON a.id = r.agent_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND a.active = TRUE",
        )
        .bind(identity::token_hash(token))
        .bind(now_ms())
        .fetch_one(&self.read)
        .await?;
        Ok(open > 0)
    }

    /// Whose password an open link chooses, and the name of their account.
    pub async fn password_reset_holder(&self, token: &str) -> StoreResult<Option<(Agent, String)>> {
        let row = sqlx::query(
            "SELECT r.agent_id, c.name AS account_name FROM password_resets r \
             JOIN agents a ON a.id = r.agent_id JOIN accounts c ON c.id = a.account_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND a.active = TRUE",
        )
        .bind(identity::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let agent_id: String = row.try_get("agent_id")?;
        let account_name: String = row.try_get("account_name")?;
        Ok(self
            .agent_by_id(&agent_id)
            .await?
            .map(|agent| (agent, account_name)))
    }

    /// Uses a link: sets the password (and, when given, the person's name
    /// and address) and ends every session of its agent. `None` if the
    /// link is unknown, used or expired; `Conflict` if the address is
    /// another person's. Returns the agent's id and the keys of the
    /// sessions ended (their sockets are to close).
    pub async fn use_password_reset(
        &self,
        token: &str,
        password_hash: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Option<(String, Vec<String>)>> {
        let mut tx = self.write.begin().await?;
        let now = now_ms();
        let token_hash = identity::token_hash(token);
        let Some(row) = sqlx::query(
            "SELECT r.agent_id FROM password_resets r JOIN agents a ON a.id = r.agent_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND a.active = TRUE",
        )
        .bind(&token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let agent_id: String = row.try_get("agent_id")?;
        let used = sqlx::query(
            "UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
        )
        .bind(&token_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        if let Some(name) = name {
            sqlx::query("UPDATE agents SET name = $2 WHERE id = $1")
                .bind(&agent_id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(email) = email {
            set_email_in(&mut tx, &agent_id, email).await?;
        }
        let ended = set_password_in(&mut tx, &agent_id, password_hash, None).await?;
        tx.commit().await?;
        Ok(Some((agent_id, ended)))
    }

    /// Sets an agent's password; every session but `keep` (a session key)
    /// ends. Returns the keys of the sessions ended.
    pub async fn set_password(
        &self,
        agent_id: &str,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.write.begin().await?;
        let ended = set_password_in(&mut tx, agent_id, password_hash, keep).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

impl Store {
    /// A wrong password was tried for this person (they hear of it when
    /// they next sign in).
    pub async fn note_failed_sign_in(&self, agent_id: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1")
            .bind(agent_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The wrong passwords tried since this person last signed in; the
    /// count starts again.
    pub async fn take_failed_sign_ins(&self, agent_id: &str) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let failed: Option<i64> =
            sqlx::query_scalar("SELECT failed_sign_ins FROM agents WHERE id = $1")
                .bind(agent_id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query("UPDATE agents SET failed_sign_ins = 0 WHERE id = $1 AND failed_sign_ins > 0")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(failed.unwrap_or(0))
    }
}

/// A person's sign-in address; `Conflict` when another person has it.
pub(super) async fn set_email_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    agent_id: &str,
    email: &str,
) -> StoreResult<()> {
    let changed = sqlx::query("UPDATE agents SET email = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(email.trim().to_lowercase())
        .execute(&mut **tx)
        .await;
    match changed {
        Ok(_) => Ok(()),
        Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict("agent email")),
        Err(err) => Err(err.into()),
    }
}

async fn set_password_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    agent_id: &str,
    password_hash: &str,
    keep: Option<&str>,
) -> StoreResult<Vec<String>> {
    sqlx::query("UPDATE agents SET password_hash = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(password_hash)
        .execute(&mut **tx)
        .await?;
    let keep = keep.unwrap_or("");
    let ended: Vec<String> =
        sqlx::query_scalar("SELECT id FROM sessions WHERE agent_id = $1 AND id <> $2")
            .bind(agent_id)
            .bind(keep)
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("DELETE FROM sessions WHERE agent_id = $1 AND id <> $2")
        .bind(agent_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    // A reset link still open would undo the new password: they go too.
    sqlx::query("DELETE FROM password_resets WHERE agent_id = $1 AND used_at IS NULL")
        .bind(agent_id)
        .execute(&mut **tx)
        .await?;
    Ok(ended)
}
