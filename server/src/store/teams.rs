//! Teams of agents, and the topics a site offers shoppers, each routed to a team.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use super::{Store, StoreError, StoreResult, is_unique_violation, new_id, now_ms};

impl Store {
    /// Creates a team in the account; fails with [`StoreError::Conflict`] if
    /// the name is taken there.
    pub async fn create_team(&self, account_id: &str, name: &str) -> StoreResult<String> {
        let id = new_id();
        let inserted = sqlx::query(
            "INSERT INTO teams (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(name.trim())
        .bind(now_ms())
        .execute(&self.write)
        .await;
        match inserted {
            Ok(_) => Ok(id),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict("team name")),
            Err(err) => Err(err.into()),
        }
    }

    /// The id of the account's team with this name.
    pub async fn team_by_name(&self, account_id: &str, name: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM teams WHERE account_id = $1 AND name = $2")
                .bind(account_id)
                .bind(name.trim())
                .fetch_optional(&self.read)
                .await?,
        )
    }

    pub async fn add_team_member(&self, team_id: &str, agent_id: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(team_id)
        .bind(agent_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Offers `topic` (shown as `label`) on a site, routed to a team.
    pub async fn set_site_topic(
        &self,
        site_id: &str,
        topic: &str,
        label: &str,
        team_id: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO site_topics (site_id, topic, label, team_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site_id, topic) DO UPDATE SET label = excluded.label, team_id = excluded.team_id",
        )
        .bind(site_id)
        .bind(topic.trim())
        .bind(label.trim())
        .bind(team_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The account's teams with their members, by name.
    pub async fn teams_of_account(&self, account_id: &str) -> StoreResult<Vec<protocol::Team>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, m.agent_id FROM teams t \
             LEFT JOIN team_members m ON m.team_id = t.id \
             WHERE t.account_id = $1 ORDER BY t.name, t.id, m.agent_id",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        let mut teams: Vec<protocol::Team> = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            if teams.last().is_none_or(|team| team.id != id) {
                teams.push(protocol::Team {
                    id,
                    name: row.try_get("name")?,
                    member_ids: Vec::new(),
                });
            }
            if let (Some(team), Some(member)) = (
                teams.last_mut(),
                row.try_get::<Option<String>, _>("agent_id")?,
            ) {
                team.member_ids.push(member);
            }
        }
        Ok(teams)
    }

    /// The topics a site offers shoppers, by label.
    pub async fn site_topics(&self, site_id: &str) -> StoreResult<Vec<protocol::TopicChoice>> {
        let rows = sqlx::query(
            "SELECT topic, label FROM site_topics WHERE site_id = $1 ORDER BY label, topic",
        )
        .bind(site_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(protocol::TopicChoice {
                    key: row.try_get("topic")?,
                    label: row.try_get("label")?,
                })
            })
            .collect()
    }

    /// Team ids of each agent of the account who is in any team.
    pub async fn team_memberships(
        &self,
        account_id: &str,
    ) -> StoreResult<HashMap<String, HashSet<String>>> {
        let rows = sqlx::query(
            "SELECT m.agent_id, m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id \
             WHERE t.account_id = $1",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        let mut teams: HashMap<String, HashSet<String>> = HashMap::new();
        for row in rows {
            teams
                .entry(row.try_get("agent_id")?)
                .or_default()
                .insert(row.try_get("team_id")?);
        }
        Ok(teams)
    }
}
