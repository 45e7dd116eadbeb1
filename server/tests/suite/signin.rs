//! Sign-in under attack and passwords after sign-up, on both backends:
//! wrong passwords lock an account and an address out for longer and
//! longer (429 with Retry-After), the answer never tells whether an email
//! has an account, hashing is bounded (503 when busy), over-long passwords
//! are refused before any hashing; a signed-in person changes their
//! password (other sessions end), a forgotten one is reset by a single-use
//! link mailed through a real SMTP listener, and `rapport set-password`
//! sets one from the command line.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use common::smtp::SmtpListener;
use common::{PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A sign-in attempt: status, `Retry-After` if any, and the body.
async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Option<u64>, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

on_both_backends!(
    wrong_passwords_lock_the_guesser_out_for_longer_and_longer,
    |app: TestApp| async move {
        let email = app.agent.email.clone();
        let free = rapport_server::signin::FREE_FAILURES_PER_GUESSER;
        // Each answer with when its attempt was sent and when it was answered.
        let mut answers = Vec::new();
        for _ in 0..free + 6 {
            let sent = std::time::Instant::now();
            let answer = sign_in(&app, &email, "not the password").await;
            answers.push((sent, std::time::Instant::now(), answer));
        }
        let wrong = answers
            .iter()
            .take_while(|(_, _, (status, _, _))| *status == StatusCode::UNAUTHORIZED)
            .count();
        assert_eq!(
            wrong,
            free as usize + 1,
            "the free failures, and the one that locks"
        );
        let (_, _, (status, retry_after, body)) = &answers[wrong];
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["error"]["code"], "rate_limited");
        assert!(retry_after.is_some_and(|s| s >= 1));
        // The lock (a second, the first time) began after the locking
        // attempt was sent: whatever was answered within that second was
        // refused untried. (A machine busy enough to take longer may see
        // the lock end; the clock, not the count, is what is checked.)
        let locked_until = answers[wrong - 1].0 + Duration::from_secs(1);
        assert!(
            answers[wrong..]
                .iter()
                .filter(|(_, answered, _)| *answered < locked_until)
                .all(|(_, _, (s, _, _))| *s == StatusCode::TOO_MANY_REQUESTS),
            "locked: not even tried"
        );
        // Even the right password waits out the lockout.
        let right = sign_in(&app, &email, PASSWORD).await.0;
        if std::time::Instant::now() < locked_until {
            assert_eq!(right, StatusCode::TOO_MANY_REQUESTS);
        }

        // An email without an account is answered alike, and locks alike.
        let mut unknown = Vec::new();
        for _ in 0..=free {
            unknown.push(sign_in(&app, "nobody@shop.test", "not the password").await);
        }
        assert!(
            unknown
                .iter()
                .all(|(status, _, body)| *status == StatusCode::UNAUTHORIZED
                    && body == &answers[0].2.2),
            "the same answer: {unknown:?}"
        );
        assert_eq!(
            sign_in(&app, "nobody@shop.test", "x").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);

on_both_backends!(
    one_address_guessing_at_many_accounts_is_locked_out_too,
    |app: TestApp| async move {
        let colleague = app.colleague("bob@shop.test", "Bob").await;
        let per_address = rapport_server::signin::FREE_FAILURES_PER_ADDRESS;
        // One guess at each of many addresses: no account reaches its own limit.
        for n in 0..=per_address {
            let (status, _, _) = sign_in(&app, &format!("guess{n}@shop.test"), "123456").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {n}");
        }
        let (status, retry_after, _) = sign_in(&app, &colleague.email, PASSWORD).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "this address is locked out"
        );
        assert!(retry_after.is_some());
    }
);

on_both_backends!(
    an_over_long_password_is_refused_before_any_hashing,
    |app: TestApp| async move {
        let long = "x".repeat(rapport_server::signin::MAX_PASSWORD_CHARS + 1);
        let (status, _, body) = sign_in(&app, &app.agent.email, &long).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most")
        );
    }
);

on_both_backends_with!(
    a_crowd_of_sign_ins_is_answered_busy_not_queued_without_end,
    |config: &mut rapport_server::config::Config| {
        config.hashing_slots = Some(1);
        config.hashing_wait_ms = 0;
    },
    |app: TestApp| async move {
        // Enough at once that some overlap even on a loaded machine, where
        // eight once arrived one after another.
        let attempts = futures_util::future::join_all(
            (0..24).map(|_| sign_in(&app, &app.agent.email, PASSWORD)),
        )
        .await;
        let busy: Vec<_> = attempts
            .iter()
            .filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
            .collect();
        assert!(!busy.is_empty(), "one slot, 24 at once: {attempts:?}");
        assert!(
            busy.iter()
                .all(|(_, retry_after, body)| *retry_after == Some(1)
                    && body["error"]["code"] == "unavailable")
        );
        assert!(
            attempts
                .iter()
                .any(|(status, _, _)| *status == StatusCode::OK)
        );
    }
);

on_both_backends!(
    changing_a_password_ends_the_other_sessions_and_needs_the_current_one,
    |app: TestApp| async move {
        let here = app.login(&app.agent.email).await;
        let elsewhere = app.login(&app.agent.email).await;
        let mut elsewhere_inbox = app.agent_socket_with(&elsewhere).await.unwrap();
        elsewhere_inbox.expect("inbox").await;

        let change = |current: &str, new: &str| {
            json!({"current_password": current, "new_password": new}).to_string()
        };
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/password",
                &here,
                Some(&change("wrong one", "a brand new password")),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/password",
                &here,
                Some(&change(PASSWORD, "short")),
            )
            .await;
        assert_eq!(status, 400, "too short");
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/password",
                &here,
                Some(&change(PASSWORD, "a brand new password")),
            )
            .await;
        assert_eq!(status, 204);

        // The other session is over, its open inbox closed; this one goes on.
        assert_eq!(elsewhere_inbox.closed().await, Some(4003));
        let (status, _) = app
            .call(reqwest::Method::GET, "/api/me", &elsewhere, None)
            .await;
        assert_eq!(status, 401);
        let (status, _) = app.call(reqwest::Method::GET, "/api/me", &here, None).await;
        assert_eq!(status, 200);
        assert_eq!(
            sign_in(&app, &app.agent.email, PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            sign_in(&app, &app.agent.email, "a brand new password")
                .await
                .0,
            StatusCode::OK
        );
    }
);

/// The token of the reset link in the newest mail to `to`.
async fn reset_token(smtp: &SmtpListener, to: &str) -> String {
    let mail = smtp.mail_to(to).await;
    let text = mail.data.replace("=\n", "").replace("=3D", "=");
    text.split("#reset=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

async fn reset_case(backend: common::Backend) {
    let smtp = SmtpListener::start().await;
    let url = smtp.url();
    let Some(app) = TestApp::start_with(backend, |config| config.smtp_url = Some(url)).await else {
        return;
    };
    let session = app.login(&app.agent.email).await;
    let mut inbox = app.agent_socket_with(&session).await.unwrap();
    inbox.expect("inbox").await;

    // The same answer for an address with an account and one without.
    for email in [app.agent.email.as_str(), "nobody@shop.test"] {
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/reset",
                "",
                Some(&json!({"email": email}).to_string()),
            )
            .await;
        assert_eq!(status, 202, "{email}");
    }
    let token = reset_token(&smtp, &app.agent.email).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.mails_to("nobody@shop.test").is_empty());
    // Asked again at once: no second mail (one per two minutes).
    app.call(
        reqwest::Method::POST,
        "/api/auth/reset",
        "",
        Some(&json!({"email": app.agent.email}).to_string()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails_to(&app.agent.email).len(), 1);

    let confirm =
        |token: &str, password: &str| json!({"token": token, "password": password}).to_string();
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/reset/confirm",
            "",
            Some(&confirm("made-up", "a chosen new password")),
        )
        .await;
    assert_eq!(status, 404);
    let (status, profile) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/reset/confirm",
            "",
            Some(&confirm(&token, "a chosen new password")),
        )
        .await;
    assert_eq!(status, 200, "signed in, as who");
    assert_eq!(profile["email"], app.agent.email.as_str());
    // Every session ended; the new password signs in; the link works once.
    assert_eq!(inbox.closed().await, Some(4003));
    let (status, _) = app
        .call(reqwest::Method::GET, "/api/me", &session, None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        sign_in(&app, &app.agent.email, "a chosen new password")
            .await
            .0,
        StatusCode::OK
    );
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/reset/confirm",
            "",
            Some(&confirm(&token, "yet another password")),
        )
        .await;
    assert_eq!(status, 404, "single use");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_by_a_single_use_link_sqlite() {
    reset_case(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_by_a_single_use_link_postgres() {
    reset_case(common::Backend::Postgres).await;
}

on_both_backends!(
    the_command_line_sets_a_password_and_ends_the_sessions,
    |app: TestApp| async move {
        let session = app.login(&app.agent.email).await;
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["set-password", "--email", &app.agent.email])
            .env("RAPPORT_DATABASE_URL", &app.database_url)
            .env("RAPPORT_NEW_PASSWORD", "set from the shell")
            .env("RAPPORT_LOG", "warn")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 session(s) ended"));
        let (status, _) = app
            .call(reqwest::Method::GET, "/api/me", &session, None)
            .await;
        assert_eq!(status, 401);
        assert_eq!(
            sign_in(&app, &app.agent.email, "set from the shell")
                .await
                .0,
            StatusCode::OK
        );
        // Nobody by that address: an error, nothing changed.
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["set-password", "--email", "nobody@shop.test"])
            .env("RAPPORT_DATABASE_URL", &app.database_url)
            .env("RAPPORT_NEW_PASSWORD", "set from the shell")
            .env("RAPPORT_LOG", "warn")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
    }
);
