//! The agent inbox and the site-owner console, served at `/app`. Sign in
//! (or accept an invitation), go online, see waiting and own conversations
//! live, reply; owners also manage sites and people.

mod alerts;
mod api;
mod clock;
mod console;
mod inbox;
mod people;
mod profile;
mod replies;

use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AcceptInvite, AgentProfile, ErrorBody, InviteInfo, LoginRequest, Role};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let me = RwSignal::new(None::<AgentProfile>);
    let checked = RwSignal::new(false);
    spawn_local(async move {
        if let Ok(response) = Request::get("/api/me").send().await
            && response.ok()
        {
            me.set(response.json().await.ok());
        }
        checked.set(true);
    });
    let invite = invite_token();
    view! {
        <Show when=move || checked.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let invite = invite.clone();
                move || match (me.get(), invite.clone()) {
                    (Some(profile), _) => view! { <SignedIn me=profile on_signed_out=move || me.set(None) /> }.into_any(),
                    (None, Some(token)) => view! { <Accept token on_signed_in=move |p| me.set(Some(p)) /> }.into_any(),
                    (None, None) => view! { <SignIn on_signed_in=move |p| me.set(Some(p)) /> }.into_any(),
                }
            }
        </Show>
    }
}

/// `#invite=TOKEN` from an invitation link (a fragment: never sent to servers).
fn invite_token() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#invite=")
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Inbox,
    Replies,
    Console,
}

/// The inbox, canned replies, and for owners the console.
#[component]
fn SignedIn(
    me: AgentProfile,
    on_signed_out: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let mode = RwSignal::new(Mode::Inbox);
    let owner = me.role == Role::Owner;
    let replies = RwSignal::new(Vec::new());
    replies::load(replies);
    let tab = move |which: Mode, label: &'static str| {
        view! {
            <button type="button" class="mode" aria-pressed=move || (mode.get() == which).to_string()
                on:click=move |_| mode.set(which)>{label}</button>
        }
    };
    view! {
        <nav class="modes" aria-label="Rapport">
            {tab(Mode::Inbox, "Inbox")}
            {tab(Mode::Replies, "Replies")}
            {owner.then(|| tab(Mode::Console, "Console"))}
        </nav>
        // Every page stays mounted and is only hidden while another shows:
        // the inbox's socket keeps the agent online, and the console keeps
        // the site being edited.
        <div hidden=move || mode.get() != Mode::Inbox>
            <inbox::Inbox me=me.clone() on_signed_out replies />
        </div>
        <div hidden=move || mode.get() != Mode::Replies>
            <replies::RepliesPanel replies owner />
        </div>
        {owner.then(|| view! {
            <div hidden=move || mode.get() != Mode::Console>
                <console::Console />
                <people::PeoplePanel />
            </div>
        })}
    }
}

/// Accepting an invitation: choose a name and password, and you are in.
#[component]
fn Accept(
    token: String,
    on_signed_in: impl Fn(AgentProfile) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let info = RwSignal::new(None::<Result<InviteInfo, String>>);
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    spawn_local(async move {
        let path = format!("/api/invites/{}", token.get_value());
        info.set(Some(api::call::<InviteInfo>("GET", &path, api::NONE).await));
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let accept = AcceptInvite {
            name: name.get_untracked(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            let path = format!("/api/invites/{}/accept", token.get_value());
            match api::call::<AgentProfile>("POST", &path, Some(&accept)).await {
                Ok(profile) => {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_hash("");
                    }
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
                            <input type="password" name="new-password" autocomplete="new-password" required
                                prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                        </label>
                        <p class="error" role="alert">{move || error.get()}</p>
                        <button type="submit">"Join"</button>
                    </form>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
fn SignIn(on_signed_in: impl Fn(AgentProfile) + Copy + Send + Sync + 'static) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
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
    view! {
        <main class="signin">
            <form on:submit=submit aria-labelledby="signin-title">
                <h1 id="signin-title">"Rapport inbox"</h1>
                <label>"Email"
                    <input type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>"Password"
                    <input type="password" name="password" autocomplete="current-password" required
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                <p class="error" role="alert">{move || error.get()}</p>
                <button type="submit" disabled=move || busy.get()>"Sign in"</button>
            </form>
        </main>
    }
}

async fn sign_in(login: &LoginRequest) -> Result<AgentProfile, String> {
    let unreachable = |_| "The server cannot be reached; try again.".to_owned();
    let response = Request::post("/api/auth/login")
        .json(login)
        .map_err(|_| "Could not prepare the request.".to_owned())?
        .send()
        .await
        .map_err(unreachable)?;
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|_| "Unexpected answer from the server.".to_owned());
    }
    Err(response
        .json::<ErrorBody>()
        .await
        .map(|body| body.error.message)
        .unwrap_or_else(|_| format!("Sign-in failed ({}).", response.status())))
}
