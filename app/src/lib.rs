//! The agent inbox (and, later, the site-owner console), served at `/app`.
//! Sign in, go online, see waiting and own conversations live, reply.

mod inbox;
mod profile;

use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AgentProfile, ErrorBody, LoginRequest};
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
    view! {
        <Show when=move || checked.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || match me.get() {
                Some(profile) => view! { <inbox::Inbox me=profile on_signed_out=move || me.set(None) /> }.into_any(),
                None => view! { <SignIn on_signed_in=move |p| me.set(Some(p)) /> }.into_any(),
            }}
        </Show>
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
