//! Accounts, their sites (with allowed origins) and their agents.

use protocol::{AgentProfile, Role, SiteSettings};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreResult, is_unique_violation, new_id, now_ms};
use crate::domain::{LanguageTag, primary_subtag};

/// A site that embeds the widget.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub site_key: String,
    /// Page origins allowed to use the widget; empty: none (local pages in
    /// local mode).
    pub allowed_origins: Vec<String>,
    /// `identify` must carry a valid signed token.
    pub enforce_identity: bool,
    /// Look, words, language and business hours.
    pub settings: SiteSettings,
    /// How long an agent's reply may wait unseen before it is emailed;
    /// `None`: never emailed.
    pub email_delay_secs: Option<i64>,
}

impl Site {
    /// Whether a page on `origin` may use this site's widget. Only listed
    /// origins do; in local mode (see `Config::is_local`) an empty list
    /// takes pages on this machine (`localhost`, `127.0.0.1`, `[::1]`) and
    /// `own_origin` (the demo page). No `Origin` (or one that is not text)
    /// is refused: a browser always sends one, and anything else could
    /// claim any.
    pub fn allows_origin(&self, origin: Option<&str>, own_origin: &str, local: bool) -> bool {
        let Some(origin) = origin else {
            return false;
        };
        if self.allowed_origins.is_empty() {
            return local
                && (crate::domain::is_local_origin(origin)
                    || origin.eq_ignore_ascii_case(own_origin));
        }
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// An agent (or owner) who signs in to the inbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// Most open conversations at once; `None` means the site's default.
    pub capacity: Option<i64>,
    /// Languages spoken, as lower-case primary subtags ("en", "nl").
    pub languages: Vec<String>,
}

impl Agent {
    /// Whether the agent speaks `language` (any tag; only its primary subtag counts).
    pub fn speaks(&self, language: &str) -> bool {
        let wanted = primary_subtag(language);
        !wanted.is_empty() && self.languages.contains(&wanted)
    }
}

impl Agent {
    pub fn profile(&self) -> AgentProfile {
        AgentProfile {
            id: self.id.clone(),
            account_id: self.account_id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role,
            failed_sign_ins: 0,
        }
    }
}

impl Agent {
    /// A new, active agent with the site's default capacity and no languages yet.
    pub(super) fn new(
        account_id: &str,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Agent {
        Agent {
            id: new_id(),
            account_id: account_id.to_owned(),
            email: email.trim().to_lowercase(),
            name: name.to_owned(),
            role,
            password_hash: password_hash.to_owned(),
            capacity: None,
            languages: Vec::new(),
        }
    }
}

/// Stores a new agent; a taken email is [`StoreError::Conflict`].
pub(super) async fn insert_agent<'e, E>(executor: E, agent: &Agent) -> StoreResult<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let inserted = sqlx::query(
        "INSERT INTO agents (id, account_id, email, name, role, password_hash, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7)",
    )
    .bind(&agent.id)
    .bind(&agent.account_id)
    .bind(&agent.email)
    .bind(&agent.name)
    .bind(role_str(agent.role))
    .bind(&agent.password_hash)
    .bind(now_ms())
    .execute(executor)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict("agent email")),
        Err(err) => Err(err.into()),
    }
}

pub(super) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Agent => "agent",
    }
}

pub(super) fn role_from_str(role: &str) -> StoreResult<Role> {
    match role {
        "owner" => Ok(Role::Owner),
        "agent" => Ok(Role::Agent),
        other => Err(StoreError::Corrupt(format!("unknown role {other:?}"))),
    }
}

fn agent_from_row(row: &AnyRow) -> StoreResult<Agent> {
    let role = role_from_str(&row.try_get::<String, _>("role")?)?;
    Ok(Agent {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role,
        password_hash: row.try_get("password_hash")?,
        capacity: row.try_get("capacity")?,
        languages: row
            .try_get::<String, _>("languages")?
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// How long an unseen reply waits for its email on a new site (the
/// migration's column default says the same).
pub(super) const DEFAULT_EMAIL_DELAY_SECS: i64 = 180;

pub(super) const SITE_COLUMNS: &str =
    "id, account_id, name, site_key, enforce_identity, settings, email_delay_secs";

const AGENT_COLUMNS: &str = "id, account_id, email, name, role, password_hash, capacity, languages";

impl Store {
    pub async fn create_account(&self, name: &str) -> StoreResult<String> {
        let id = new_id();
        sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(now_ms())
            .execute(&self.write)
            .await?;
        Ok(id)
    }

    /// The oldest account, if any (the one a first run created).
    pub async fn first_account(&self) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM accounts ORDER BY created_at, id LIMIT 1")
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Creates a site with a fresh random key; origins are stored as given
    /// (callers normalise them).
    pub async fn create_site(
        &self,
        account_id: &str,
        name: &str,
        origins: &[String],
    ) -> StoreResult<Site> {
        let site = Site {
            id: new_id(),
            account_id: account_id.to_owned(),
            name: name.to_owned(),
            site_key: crate::identity::new_site_key(),
            allowed_origins: origins.to_vec(),
            enforce_identity: false,
            settings: SiteSettings::default(),
            email_delay_secs: Some(DEFAULT_EMAIL_DELAY_SECS),
        };
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO sites (id, account_id, name, site_key, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&site.id)
        .bind(&site.account_id)
        .bind(&site.name)
        .bind(&site.site_key)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        for origin in origins {
            sqlx::query(
                "INSERT INTO site_origins (site_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&site.id)
            .bind(origin)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(site)
    }

    pub async fn site_by_key(&self, site_key: &str) -> StoreResult<Option<Site>> {
        let row = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE site_key = $1"
        ))
        .bind(site_key)
        .fetch_optional(&self.read)
        .await?;
        match row {
            Some(row) => Ok(Some(self.site_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    /// The oldest site, which the demo page at `/` embeds.
    pub async fn first_site(&self) -> StoreResult<Option<Site>> {
        let row = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites ORDER BY created_at, id LIMIT 1"
        ))
        .fetch_optional(&self.read)
        .await?;
        match row {
            Some(row) => Ok(Some(self.site_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    pub(super) async fn site_from_row(&self, row: &AnyRow) -> StoreResult<Site> {
        let id: String = row.try_get("id")?;
        let allowed_origins = sqlx::query_scalar(
            "SELECT origin FROM site_origins WHERE site_id = $1 ORDER BY origin",
        )
        .bind(&id)
        .fetch_all(&self.read)
        .await?;
        Ok(Site {
            id,
            account_id: row.try_get("account_id")?,
            name: row.try_get("name")?,
            site_key: row.try_get("site_key")?,
            allowed_origins,
            enforce_identity: row.try_get::<i64, _>("enforce_identity")? != 0,
            settings: serde_json::from_str(&row.try_get::<String, _>("settings")?)
                .map_err(|e| StoreError::Corrupt(format!("site settings: {e}")))?,
            email_delay_secs: row.try_get("email_delay_secs")?,
        })
    }

    /// Creates an agent; fails with [`StoreError::Conflict`] if the email is taken.
    pub async fn create_agent(
        &self,
        account_id: &str,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> StoreResult<Agent> {
        let agent = Agent::new(account_id, email, name, role, password_hash);
        insert_agent(&self.write, &agent).await?;
        Ok(agent)
    }

    /// An active agent by (case-insensitive) email.
    pub async fn agent_by_email(&self, email: &str) -> StoreResult<Option<Agent>> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE email = $1 AND active = TRUE"
        ))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    /// An active agent by id.
    pub async fn agent_by_id(&self, id: &str) -> StoreResult<Option<Agent>> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 AND active = TRUE"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    /// Sets an agent's own capacity (`None`: the site's default).
    pub async fn set_agent_capacity(
        &self,
        agent_id: &str,
        capacity: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET capacity = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(capacity)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Sets the languages an agent speaks (any tags; stored as primary subtags).
    pub async fn set_agent_languages(
        &self,
        agent_id: &str,
        languages: &[LanguageTag],
    ) -> StoreResult<()> {
        let mut tags: Vec<String> = languages.iter().map(LanguageTag::primary).collect();
        tags.sort();
        tags.dedup();
        sqlx::query("UPDATE agents SET languages = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(tags.join(","))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Sets how many open conversations an agent holds by default on this site.
    pub async fn set_site_agent_capacity(&self, site_id: &str, capacity: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sites SET agent_capacity = $2 WHERE id = $1")
            .bind(site_id)
            .bind(capacity)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The account's active agents, by name.
    pub async fn agents_of_account(&self, account_id: &str) -> StoreResult<Vec<Agent>> {
        let rows = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE account_id = $1 AND active = TRUE ORDER BY name, id"
        ))
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(agent_from_row).collect()
    }

    pub async fn count_agents(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.read)
            .await?)
    }
}
