//! Admin commands and the first-run setup: accounts, owners and sites
//! created from the command line.

use std::io::{BufRead, Write};

use protocol::Role;

use crate::StartError;
use crate::config::{
    AddSite, AddTeam, AddTopic, AddUser, Config, SetPassword, SiteSecret, UpdateUser,
};
use crate::domain::{Email, LanguageTag, Origin, PersonName};
use crate::identity;
use crate::store::{Store, StoreError};

/// How long the first run's setup link works.
const SETUP_VALID_MS: i64 = 24 * 60 * 60 * 1000;

/// On an empty database: one account, its owner and (in local mode) a demo
/// site for the page at `/`. The owner chooses their password with a single-use setup link in
/// the log (no password is ever logged or built in); `rapport set-password`
/// sets one from the command line instead.
pub async fn first_run(store: &Store, config: &Config) -> Result<(), StartError> {
    if store.count_agents().await? > 0 {
        return Ok(());
    }
    let account_id = match store.first_account().await? {
        Some(id) => id,
        None => store.create_account("My shop").await?,
    };
    if config.is_local() && store.first_site().await?.is_none() {
        // No allowed origins: local pages only (see `Site::allows_origin`).
        // Outside local mode the owner creates their shop's site instead.
        store.create_site(&account_id, "Demo shop", &[]).await?;
    }
    // A password nobody knows until the owner chooses theirs, and no name
    // until they give it (nobody is ever shown a placeholder's): the setup
    // link asks for both, and lets them sign in with their own address.
    let unknown = identity::hash_password(&identity::random_token(32))?;
    let email = "owner@example.com";
    let owner = store
        .create_agent(&account_id, email, "", Role::Owner, &unknown)
        .await?;
    let token = store
        .create_password_reset(&owner.id, SETUP_VALID_MS)
        .await?;
    tracing::warn!(
        "First run: set up the owner's account (your name, address and password) at {}/app/#reset={token} (the link works once, for 24 hours; or run `rapport update-user --email {email} --name \"Your Name\" --new-email you@your.shop` and `rapport set-password --email you@your.shop`)",
        config.public_url()
    );
    Ok(())
}

/// `rapport set-password`: a new password for a person; every session of
/// theirs ends (open inboxes close at their next request).
pub async fn set_password(config: &Config, args: SetPassword) -> Result<(), StartError> {
    let password = match args.password {
        Some(password) => password,
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() > crate::signin::MAX_PASSWORD_CHARS {
        return Err(StartError::Input(format!(
            "a password has at most {} characters",
            crate::signin::MAX_PASSWORD_CHARS
        )));
    }
    let hash = identity::hash_password(&password)?;
    let store = Store::connect(&config.database_url).await?;
    let Some(agent) = store.agent_by_email(&args.email).await? else {
        return Err(StartError::Input(format!(
            "{} has no active account",
            args.email
        )));
    };
    let ended = store.set_password(&agent.id, &hash, None).await?;
    store.close().await;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Password set for {}; {} session(s) ended.",
        agent.email,
        ended.len()
    )?;
    Ok(())
}

/// `rapport update-user`: a new name or sign-in address for a person.
pub async fn update_user(config: &Config, args: UpdateUser) -> Result<(), StartError> {
    let name = args.name.as_deref().map(PersonName::parse).transpose()?;
    let new_email = args.new_email.as_deref().map(Email::parse).transpose()?;
    if name.is_none() && new_email.is_none() {
        return Err(StartError::Input(
            "nothing to change: give --name and/or --new-email".into(),
        ));
    }
    let store = Store::connect(&config.database_url).await?;
    let Some(agent) = store.agent_by_email(&args.email).await? else {
        return Err(StartError::Input(format!(
            "{} has no active account",
            args.email
        )));
    };
    if let Some(name) = &name {
        store.set_agent_name(&agent.id, name.as_str()).await?;
    }
    if let Some(email) = &new_email {
        match store.set_agent_email(&agent.id, email.as_str()).await {
            Err(StoreError::Conflict(_)) => {
                return Err(StartError::Input(format!(
                    "{} already has an account",
                    email.as_str()
                )));
            }
            other => other?,
        }
    }
    let agent = store
        .agent_by_id(&agent.id)
        .await?
        .ok_or_else(|| StartError::Input("the person was deactivated meanwhile".into()))?;
    store.close().await;
    let out = serde_json::json!({ "id": agent.id, "email": agent.email, "name": agent.name });
    writeln!(std::io::stdout(), "{out}")?;
    Ok(())
}

pub async fn add_user(config: &Config, args: AddUser) -> Result<(), StartError> {
    let role = match args.role.as_str() {
        "owner" => Role::Owner,
        "agent" => Role::Agent,
        other => {
            return Err(StartError::Input(format!(
                "--role must be owner or agent, not {other:?}"
            )));
        }
    };
    let email = Email::parse(&args.email)?;
    let name = PersonName::parse(&args.name)?;
    let languages = args
        .languages
        .iter()
        .map(|tag| LanguageTag::parse(tag))
        .collect::<Result<Vec<_>, _>>()?;
    let password = match args.password {
        Some(password) => password,
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let hash = identity::hash_password(&password)?;
    let store = Store::connect(&config.database_url).await?;
    let account_id = match (args.new_account, store.first_account().await?) {
        (Some(name), _) => store.create_account(&name).await?,
        (None, Some(id)) => id,
        (None, None) => store.create_account("My shop").await?,
    };
    let agent = match store
        .create_agent(&account_id, email.as_str(), name.as_str(), role, &hash)
        .await
    {
        Err(StoreError::Conflict(_)) => {
            return Err(StartError::Input(format!(
                "{} already has an account",
                email.as_str()
            )));
        }
        other => other?,
    };
    if args.capacity.is_some() {
        store.set_agent_capacity(&agent.id, args.capacity).await?;
    }
    if !languages.is_empty() {
        store.set_agent_languages(&agent.id, &languages).await?;
    }
    let out =
        serde_json::json!({ "id": agent.id, "account_id": agent.account_id, "email": agent.email });
    writeln!(std::io::stdout(), "{out}")?;
    store.close().await;
    Ok(())
}

pub async fn add_site(config: &Config, args: AddSite) -> Result<(), StartError> {
    let origins = args
        .origins
        .iter()
        .map(|raw| Origin::parse(raw).map(Origin::into_string))
        .collect::<Result<Vec<_>, _>>()?;
    let store = Store::connect(&config.database_url).await?;
    let account_id = match store.first_account().await? {
        Some(id) => id,
        None => store.create_account("My shop").await?,
    };
    let site = store.create_site(&account_id, &args.name, &origins).await?;
    if let Some(delay) = args.email_delay_secs {
        store
            .update_site(
                &site.id,
                crate::store::SiteUpdate {
                    name: None,
                    allowed_origins: None,
                    settings: None,
                    email_delay_secs: Some(Some(delay)),
                },
            )
            .await?;
    }
    let out = serde_json::json!({
        "id": site.id,
        "site_key": site.site_key,
        "snippet": crate::http::embed_snippet(&config.public_url(), &site.site_key),
    });
    writeln!(std::io::stdout(), "{out}")?;
    store.close().await;
    Ok(())
}

pub async fn add_team(config: &Config, args: AddTeam) -> Result<(), StartError> {
    let store = Store::connect(&config.database_url).await?;
    let account_id = store
        .first_account()
        .await?
        .ok_or_else(|| StartError::Input("create an account first (rapport add-user)".into()))?;
    let mut members = Vec::new();
    for email in &args.members {
        let agent = store
            .agent_by_email(email)
            .await?
            .filter(|a| a.account_id == account_id)
            .ok_or_else(|| StartError::Input(format!("no agent {email} in this account")))?;
        members.push(agent.id);
    }
    let team_id = match store.create_team(&account_id, &args.name).await {
        Err(StoreError::Conflict(_)) => {
            return Err(StartError::Input(format!(
                "a team {:?} exists already",
                args.name
            )));
        }
        other => other?,
    };
    for agent_id in &members {
        store.add_team_member(&team_id, agent_id).await?;
    }
    writeln!(
        std::io::stdout(),
        "{}",
        serde_json::json!({ "id": team_id, "members": members.len() })
    )?;
    store.close().await;
    Ok(())
}

pub async fn add_topic(config: &Config, args: AddTopic) -> Result<(), StartError> {
    let store = Store::connect(&config.database_url).await?;
    let site = store
        .site_by_key(&args.site)
        .await?
        .ok_or_else(|| StartError::Input(format!("no site has the key {:?}", args.site)))?;
    let team_id = store
        .team_by_name(&site.account_id, &args.team)
        .await?
        .ok_or_else(|| {
            StartError::Input(format!("no team {:?} in the site's account", args.team))
        })?;
    if args.topic.trim().is_empty() || args.label.trim().is_empty() {
        return Err(StartError::Input(
            "--topic and --label must not be empty".into(),
        ));
    }
    store
        .set_site_topic(&site.id, &args.topic, &args.label, &team_id)
        .await?;
    writeln!(
        std::io::stdout(),
        "{}",
        serde_json::json!({ "site": site.site_key, "topic": args.topic.trim() })
    )?;
    store.close().await;
    Ok(())
}

pub async fn site_secret(config: &Config, args: SiteSecret) -> Result<(), StartError> {
    let store = Store::connect(&config.database_url).await?;
    let site = store
        .site_by_key(args.site.trim())
        .await?
        .ok_or_else(|| StartError::Input(format!("no site has the key {:?}", args.site)))?;
    let mut secrets = store.usable_site_secrets(&site.id).await?;
    if args.rotate || secrets.is_empty() {
        let grace_ms = if secrets.is_empty() {
            0
        } else {
            args.grace_minutes * 60_000
        };
        store.rotate_site_secret(&site.id, grace_ms).await?;
        secrets = store.usable_site_secrets(&site.id).await?;
    }
    if let Some(enforce) = args.enforce {
        store.set_enforce_identity(&site.id, enforce).await?;
    }
    let site = store
        .site_by_key(&site.site_key)
        .await?
        .ok_or_else(|| StartError::Input("the site vanished".into()))?;
    let out = serde_json::json!({
        "site_key": site.site_key,
        "secret": secrets.first(),
        "secrets_still_accepted": secrets.len(),
        "enforce_identity": site.enforce_identity,
    });
    writeln!(std::io::stdout(), "{out}")?;
    store.close().await;
    Ok(())
}
