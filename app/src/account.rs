//! Getting in and keeping it yours: signing in, accepting an invitation,
//! a forgotten password's reset link, and changing the password.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{
    AcceptInvite, AgentProfile, ChangePassword, InviteInfo, InviteToken, LoginRequest,
    ProfileChange, ResetConfirm, ResetInfo, ResetRequest,
};

use crate::api;

/// A password field bound to `value`.
fn password_input(value: RwSignal<String>, autocomplete: &'static str) -> impl IntoView {
    view! {
        <input type="password" name=autocomplete autocomplete=autocomplete required
            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
    }
}

/// Accepting an invitation: choose a name and password, and you are in.
#[component]
pub fn Accept(
    token: String,
    on_signed_in: impl Fn(AgentProfile) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let info = RwSignal::new(None::<Result<InviteInfo, String>>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    spawn_local(async move {
        let asked = InviteToken {
            token: token.get_value(),
        };
        info.set(Some(
            api::call::<InviteInfo>("POST", "/api/invites/info", Some(&asked)).await,
        ));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let accept = AcceptInvite {
            token: token.get_value(),
            name: name.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::call::<AgentProfile>("POST", "/api/invites/accept", Some(&accept)).await {
                Ok(profile) => {
                    crate::forget_link();
                    on_signed_in(profile);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <main class="signin">
            {move || match info.get() {
                None => view! { <p>"Checking your invitation…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(invite)) => view! {
                    <form on:submit=submit aria-labelledby="accept-title">
                        <h1 id="accept-title">{format!("Join {} on Rapport", invite.account_name)}</h1>
                        <p>{format!("You will sign in as {}.", invite.email)}</p>
                        <label>"Your name"
                            <input name="name" autocomplete="name" required
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                        </label>
                        <label>"Choose a password (10 characters or more)"
                            {password_input(password, "new-password")}
                        </label>
                        <p class="error" role="alert">{move || error.get()}</p>
                        <button type="submit">"Join"</button>
                    </form>
                }.into_any(),
            }}
        </main>
    }
}

/// From a reset link, or the first run's setup link: whose password it
/// chooses, then the new password; the person is signed in at once. A
/// person without a name yet (the first run's owner) gives it here, and
/// may give their own address instead of the one they were created with.
#[component]
pub fn ChooseNewPassword(
    token: String,
    on_signed_in: impl Fn(AgentProfile) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let info = RwSignal::new(None::<Result<ResetInfo, String>>);
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    spawn_local(async move {
        let asked = InviteToken {
            token: token.get_value(),
        };
        let answer = api::call::<ResetInfo>("POST", "/api/auth/reset/info", Some(&asked)).await;
        if let Ok(found) = &answer {
            email.set(found.email.clone());
        }
        info.set(Some(answer));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let setting_up = info.with_untracked(|i| {
            i.as_ref()
                .and_then(|i| i.as_ref().ok())
                .is_some_and(|i| i.name.trim().is_empty())
        });
        let confirm = ResetConfirm {
            token: token.get_value(),
            password: password.get_untracked(),
            name: setting_up.then(|| name.get_untracked()),
            email: setting_up.then(|| email.get_untracked()),
        };
        spawn_local(async move {
            match api::call::<AgentProfile>("POST", "/api/auth/reset/confirm", Some(&confirm)).await
            {
                Ok(profile) => {
                    crate::forget_link();
                    on_signed_in(profile);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <main class="signin">
            {move || match info.get() {
                None => view! { <p>"Checking your link…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(found)) if found.name.trim().is_empty() => view! {
                    <form on:submit=submit aria-labelledby="setup-title">
                        <h1 id="setup-title">{format!("Set up {} on Rapport", found.account_name)}</h1>
                        <p>"You are the owner of this Rapport. Shoppers and colleagues will see your name."</p>
                        <label>"Your name"
                            <input name="name" autocomplete="name" required
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                        </label>
                        <label>"Your email (you sign in with it, and password links go there)"
                            <input type="email" name="email" autocomplete="username" required
                                prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                        </label>
                        <label>"Choose a password (10 characters or more)"
                            {password_input(password, "new-password")}
                        </label>
                        <p class="error" role="alert">{move || error.get()}</p>
                        <button type="submit">"Save and sign in"</button>
                    </form>
                }.into_any(),
                Some(Ok(found)) => view! {
                    <form on:submit=submit aria-labelledby="reset-title">
                        <h1 id="reset-title">"Choose a new password"</h1>
                        <p>{format!("For {}, who signs in as {}.", found.name, found.email)}</p>
                        // For the browser's password manager: whose password this is.
                        <input type="hidden" name="email" autocomplete="username" prop:value=found.email.clone() />
                        <label>"New password (10 characters or more)"
                            {password_input(password, "new-password")}
                        </label>
                        <p class="error" role="alert">{move || error.get()}</p>
                        <button type="submit">"Save and sign in"</button>
                    </form>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
pub fn SignIn(on_signed_in: impl Fn(AgentProfile) + Copy + Send + Sync + 'static) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        let login = LoginRequest {
            email: email.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match sign_in(&login).await {
                Ok(profile) => on_signed_in(profile),
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    let forgot = move |_| {
        let asked = ResetRequest {
            email: email.get_untracked(),
        };
        if asked.email.trim().is_empty() {
            error.set(Some("Enter your email address first.".to_owned()));
            return;
        }
        spawn_local(async move {
            match api::call_empty("POST", "/api/auth/reset", Some(&asked)).await {
                Ok(()) => {
                    error.set(None);
                    notice.set(Some(
                        "If an account uses that address, a link to choose a new password is on its way.",
                    ));
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <main class="signin">
            <form on:submit=submit aria-labelledby="signin-title">
                <h1 id="signin-title">"Rapport inbox"</h1>
                <label>"Email"
                    <input type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>"Password" {password_input(password, "current-password")}</label>
                <p class="error" role="alert">{move || error.get()}</p>
                <p class="notice" role="status">{move || notice.get()}</p>
                <button type="submit" disabled=move || busy.get()>"Sign in"</button>
                <button type="button" class="link forgot" on:click=forgot>"Forgot your password?"</button>
            </form>
        </main>
    }
}

async fn sign_in(login: &LoginRequest) -> Result<AgentProfile, String> {
    api::call("POST", "/api/auth/login", Some(login)).await
}

/// The signed-in person changes their password; their other sessions end.
#[component]
pub fn PasswordChange() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let change = ChangePassword {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        };
        spawn_local(async move {
            let done = api::call_empty("POST", "/api/auth/password", Some(&change)).await;
            if done.is_ok() {
                current.set(String::new());
                new.set(String::new());
            }
            outcome.set(Some(done));
        });
    };
    view! {
        <details class="password">
            <summary>"Password"</summary>
            <form on:submit=submit>
                <label>"Current password" {password_input(current, "current-password")}</label>
                <label>"New password" {password_input(new, "new-password")}</label>
                <button type="submit">"Change password"</button>
                {move || match outcome.get() {
                    Some(Ok(())) => view! { <p role="status">"Changed. Your other sessions are signed out."</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </form>
        </details>
    }
}

/// The signed-in person's own name and sign-in address (a new address
/// needs the current password).
#[component]
pub fn YourProfile(me: RwSignal<AgentProfile>) -> impl IntoView {
    let name = RwSignal::new(me.with_untracked(|m| m.name.clone()));
    let email = RwSignal::new(me.with_untracked(|m| m.email.clone()));
    let password = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let address_changes = move || email.with(|e| me.with(|m| e.trim().to_lowercase() != m.email));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let change = ProfileChange {
            name: Some(name.get_untracked()),
            email: Some(email.get_untracked()),
            current_password: address_changes().then(|| password.get_untracked()),
        };
        spawn_local(async move {
            match api::call::<AgentProfile>("PATCH", "/api/me", Some(&change)).await {
                Ok(profile) => {
                    password.set(String::new());
                    me.set(profile);
                    outcome.set(Some(Ok(())));
                }
                Err(message) => outcome.set(Some(Err(message))),
            }
        });
    };
    view! {
        <details class="your-profile">
            <summary>"Profile"</summary>
            <form on:submit=submit>
                <label>"Your name" <input name="name" autocomplete="name" required
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label>"Email you sign in with" <input type="email" name="email" autocomplete="username" required
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) /></label>
                <label hidden=move || !address_changes()>"Your password, to change your email"
                    <input type="password" name="current-password" autocomplete="current-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) /></label>
                <button type="submit">"Save"</button>
                {move || match outcome.get() {
                    Some(Ok(())) => view! { <p role="status">"Saved."</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </form>
        </details>
    }
}
