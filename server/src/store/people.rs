//! The account's people as an owner manages them: roles, teams, active or
//! not, and invitations (single use, expiring, stored only as a hash).

use protocol::{InviteView, Person, Role};
use sqlx::Row;

use super::tenancy::{insert_agent, role_from_str, role_str};
use super::{Agent, Store, StoreResult, new_id, now_ms};
use crate::identity;

/// An invitation found by its token, still open.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenInvite {
    pub id: String,
    pub account_id: String,
    pub account_name: String,
    pub email: String,
    pub role: Role,
}

impl Store {
    /// Everyone in the account, active or not, by name, with their teams.
    pub async fn people_of_account(&self, account_id: &str) -> StoreResult<Vec<Person>> {
        let rows = sqlx::query(
            // A CASE, so both backends hand back an integer.
            "SELECT id, email, name, role, CASE WHEN active THEN 1 ELSE 0 END AS active, \
             capacity, languages, avatar_url FROM agents \
             WHERE account_id = $1 ORDER BY name, id",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        let memberships = sqlx::query(
            "SELECT m.agent_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE t.account_id = $1 ORDER BY t.name",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let teams = memberships
                    .iter()
                    .filter(|m| m.try_get::<String, _>("agent_id").is_ok_and(|a| a == id))
                    .map(|m| m.try_get("team_id"))
                    .collect::<Result<_, _>>()?;
                Ok(Person {
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    role: role_from_str(&row.try_get::<String, _>("role")?)?,
                    active: row.try_get::<i64, _>("active")? != 0,
                    capacity: row.try_get("capacity")?,
                    languages: row
                        .try_get::<String, _>("languages")?
                        .split(',')
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    teams,
                    avatar_url: row.try_get("avatar_url")?,
                    id,
                })
            })
            .collect()
    }

    pub async fn set_agent_role(&self, agent_id: &str, role: Role) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET role = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(role_str(role))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A person's name as they chose it (already checked).
    pub async fn set_agent_name(&self, agent_id: &str, name: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET name = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(name)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// A person's sign-in address; `Conflict` when another person has it.
    pub async fn set_agent_email(&self, agent_id: &str, email: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        super::passwords::set_email_in(&mut tx, agent_id, email).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_agent_avatar(&self, agent_id: &str, url: Option<&str>) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET avatar_url = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(url)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// An active agent's account, name and picture, for the widget's avatar.
    pub async fn agent_avatar(
        &self,
        agent_id: &str,
    ) -> StoreResult<Option<(String, String, Option<String>)>> {
        let row = sqlx::query(
            "SELECT account_id, name, avatar_url FROM agents WHERE id = $1 AND active = TRUE",
        )
        .bind(agent_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok((
                row.try_get("account_id")?,
                row.try_get("name")?,
                row.try_get("avatar_url")?,
            ))
        })
        .transpose()
    }

    /// Replaces the agent's teams (callers check the teams are the account's).
    pub async fn set_agent_teams(&self, agent_id: &str, team_ids: &[String]) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM team_members WHERE agent_id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        for team_id in team_ids {
            sqlx::query(
                "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(team_id)
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deactivates or reactivates; a deactivated agent's sessions are
    /// deleted in the same transaction, so no request of theirs passes after.
    pub async fn set_agent_active(&self, agent_id: &str, active: bool) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE agents SET active = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(active)
            .execute(&mut *tx)
            .await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
                .bind(agent_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// An agent of any state by id (the console also shows inactive ones).
    pub async fn person_account(&self, agent_id: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT account_id FROM agents WHERE id = $1")
                .bind(agent_id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Stores an invitation; returns it with the token, which is never stored.
    pub async fn create_invite(
        &self,
        account_id: &str,
        email: &str,
        role: Role,
        invited_by: &str,
        valid_ms: i64,
    ) -> StoreResult<(InviteView, String)> {
        let token = identity::random_token(32);
        let now = now_ms();
        let invite = InviteView {
            id: new_id(),
            email: email.trim().to_lowercase(),
            role,
            expires_at_ms: now + valid_ms,
            link: None,
            emailed: false,
        };
        sqlx::query(
            "INSERT INTO invites (id, account_id, token_hash, email, role, invited_by, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&invite.id)
        .bind(account_id)
        .bind(identity::token_hash(&token))
        .bind(&invite.email)
        .bind(role_str(role))
        .bind(invited_by)
        .bind(invite.expires_at_ms)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok((invite, token))
    }

    /// Invitations not yet accepted and not expired, newest first.
    /// Withdraws an open invitation of the account; `false` if there is none.
    pub async fn revoke_invite(&self, account_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM invites WHERE id = $1 AND account_id = $2 AND accepted_at IS NULL",
        )
        .bind(id)
        .bind(account_id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn open_invites(&self, account_id: &str) -> StoreResult<Vec<InviteView>> {
        let rows = sqlx::query(
            "SELECT id, email, role, expires_at FROM invites WHERE account_id = $1 \
             AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id",
        )
        .bind(account_id)
        .bind(now_ms())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(InviteView {
                    id: row.try_get("id")?,
                    email: row.try_get("email")?,
                    role: role_from_str(&row.try_get::<String, _>("role")?)?,
                    expires_at_ms: row.try_get("expires_at")?,
                    link: None,
                    emailed: false,
                })
            })
            .collect()
    }

    /// The invitation behind `token`, if it is neither used nor expired.
    pub async fn open_invite(&self, token: &str) -> StoreResult<Option<OpenInvite>> {
        let row = sqlx::query(
            "SELECT i.id, i.account_id, a.name AS account_name, i.email, i.role \
             FROM invites i JOIN accounts a ON a.id = i.account_id \
             WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2",
        )
        .bind(identity::token_hash(token))
        .bind(now_ms())
        .fetch_optional(&self.read)
        .await?;
        row.map(|row| {
            Ok(OpenInvite {
                id: row.try_get("id")?,
                account_id: row.try_get("account_id")?,
                account_name: row.try_get("account_name")?,
                email: row.try_get("email")?,
                role: role_from_str(&row.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    /// Uses the invitation and creates its agent, both or neither. `None`
    /// when the invitation was used (or expired) meanwhile; a taken email is
    /// [`super::StoreError::Conflict`].
    pub async fn accept_invite(
        &self,
        invite: &OpenInvite,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<Option<Agent>> {
        let mut tx = self.write.begin().await?;
        let now = now_ms();
        let used = sqlx::query(
            "UPDATE invites SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL AND expires_at > $2",
        )
        .bind(&invite.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Ok(None);
        }
        let agent = Agent::new(
            &invite.account_id,
            &invite.email,
            name,
            invite.role,
            password_hash,
        );
        insert_agent(&mut *tx, &agent).await?;
        tx.commit().await?;
        Ok(Some(agent))
    }
}
