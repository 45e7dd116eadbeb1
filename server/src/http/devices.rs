//! Browsers that signed in before: a signed cookie (`rapport_device`)
//! proves a browser signed in to an account, so that the lockout counts its
//! wrong passwords apart from everyone else's (an attacker's guesses never
//! lock the owner out of their own browser). And telling an account's
//! people when someone guesses at it.

use axum::http::{HeaderMap, HeaderValue, header};
use tower_sessions::cookie::{Cookie, SameSite};

use super::state::AppState;
use crate::identity;
use crate::signin::{Guesser, UnderAttack};
use crate::store::Agent;

const COOKIE: &str = "rapport_device";
/// A browser stays known this long after it last signed in.
const REMEMBERED_DAYS: i64 = 365;

/// This browser's device id, if its cookie proves it signed in as `agent`.
fn known_device(state: &AppState, headers: &HeaderMap, agent: &Agent) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| Cookie::split_parse(value.to_owned()))
        .filter_map(Result::ok)
        .filter(|cookie| cookie.name() == COOKIE)
        .find_map(|cookie| state.devices.verify(cookie.value(), &agent.id))
}

/// Who is guessing at `agent`'s password: this browser if it signed in as
/// them before, else its address.
pub(super) fn guesser(
    state: &AppState,
    headers: &HeaderMap,
    agent: Option<&Agent>,
    ip: std::net::IpAddr,
) -> Guesser {
    Guesser::new(
        agent.and_then(|agent| known_device(state, headers, agent)),
        ip,
    )
}

/// The cookie that makes this browser known to `agent`'s account (the
/// same device id again if it was known).
pub(super) fn remember(state: &AppState, guesser: &Guesser, agent: &Agent) -> Option<HeaderValue> {
    let device = match guesser {
        Guesser::KnownBrowser(device) => device.clone(),
        Guesser::Address(_) => identity::random_token(16),
    };
    let cookie = Cookie::build((COOKIE, state.devices.cookie(&device, &agent.id)))
        .path("/api")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.is_https())
        .max_age(time::Duration::days(REMEMBERED_DAYS))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// A wrong password for `email` began a lockout: its person and the
/// account's owners hear of it by mail (once an hour), and the log says so.
pub(super) fn tell_of_attack(state: &AppState, agent: Option<&Agent>, attack: UnderAttack) {
    tracing::warn!(
        failures = attack.failures,
        "wrong passwords are being tried for an account; its guessers are locked out"
    );
    let Some(agent) = agent.cloned() else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let owners = match state.store.agents_of_account(&agent.account_id).await {
            Ok(people) => people,
            Err(err) => {
                tracing::warn!(%err, "could not find whom to tell of an attack");
                return;
            }
        };
        let mut told: Vec<String> = owners
            .into_iter()
            .filter(|person| person.role == protocol::Role::Owner)
            .map(|person| person.email)
            .collect();
        if !told.contains(&agent.email) {
            told.push(agent.email.clone());
        }
        let body = format!(
            "Wrong passwords were tried {} times for {} on Rapport, recently.\n\n\
             Whoever tried is locked out for a while. Browsers that signed in to this \
             account before still get in with the right password; the person will see \
             how many attempts there were when they next sign in.\n\n\
             If it was not them, nothing needs doing; if the password may be known to \
             someone else, change it (\"Password\" in the inbox).\n",
            attack.failures, agent.email
        );
        for to in told {
            if let Err(err) = state
                .mailer
                .send(&to, "Someone is trying to sign in to Rapport", body.clone())
                .await
            {
                tracing::warn!(%err, "could not mail an attack notice");
            }
        }
    });
}
