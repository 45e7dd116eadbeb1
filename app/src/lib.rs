//! The agent inbox and the site-owner console, served at `/app`. Sign in
//! (or accept an invitation), go online, see waiting and own conversations
//! live, reply; owners also manage sites and people.

mod account;
mod alerts;
mod api;
mod articles;
mod blocks;
mod clock;
mod console;
mod customers;
mod inbox;
mod people;
mod profile;
mod replies;
mod reports;

use account::{Accept, ChooseNewPassword, SignIn};
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AgentProfile, Role, SessionInfo};
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
        // Answered 200 signed in or not: a signed-out visit logs no error.
        if let Ok(session) = api::call::<SessionInfo>("GET", "/api/auth/session", api::NONE).await {
            me.set(session.agent);
        }
        checked.set(true);
    });
    let link = RwSignal::new(link_token());
    view! {
        <Show when=move || checked.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || match (me.get(), link.get()) {
                (Some(profile), _) => view! { <SignedIn me=profile on_signed_out=move || me.set(None) /> }.into_any(),
                (None, Some(Link::Invite(token))) => view! { <Accept token on_signed_in=move |p| me.set(Some(p)) /> }.into_any(),
                (None, Some(Link::Reset(token))) => view! { <ChooseNewPassword token on_signed_in=move |p| { link.set(None); me.set(Some(p)) } /> }.into_any(),
                (None, None) => view! { <SignIn on_signed_in=move |p| me.set(Some(p)) /> }.into_any(),
            }}
        </Show>
    }
}

/// A token the page was opened with, from an invitation or a
/// password-reset link.
#[derive(Clone, PartialEq)]
enum Link {
    Invite(String),
    Reset(String),
}

/// `#invite=TOKEN` or `#reset=TOKEN` (a fragment: never sent to servers,
/// never in their logs).
fn link_token() -> Option<Link> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let (kind, token) = hash.strip_prefix('#')?.split_once('=')?;
    let token = token.to_owned();
    let link = match kind {
        "invite" if !token.is_empty() => Link::Invite(token),
        "reset" if !token.is_empty() => Link::Reset(token),
        _ => return None,
    };
    Some(link)
}

/// Takes a used link's token out of the address bar.
fn forget_link() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_hash("");
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Inbox,
    Customers,
    Replies,
    Articles,
    Reports,
    Console,
}

/// Moving between the pages: which one shows, the customer whose page is
/// open, and a conversation to open in the inbox (from a customer's page).
#[derive(Clone, Copy)]
pub(crate) struct Navigation {
    mode: RwSignal<Mode>,
    pub customer: RwSignal<Option<customers::CustomerKey>>,
    pub to_open: RwSignal<Option<String>>,
}

impl Navigation {
    /// Shows the conversation in the inbox.
    pub fn open_conversation(&self, id: String) {
        self.to_open.set(Some(id));
        self.mode.set(Mode::Inbox);
    }

    /// Shows a contact's page.
    pub fn open_contact(&self, id: String) {
        self.customer.set(Some(customers::CustomerKey::Contact(id)));
        self.mode.set(Mode::Customers);
    }
}

/// The inbox, canned replies, and for owners the console.
#[component]
fn SignedIn(
    me: AgentProfile,
    on_signed_out: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let mode = RwSignal::new(Mode::Inbox);
    provide_context(Navigation {
        mode,
        customer: RwSignal::new(None),
        to_open: RwSignal::new(None),
    });
    let myself = RwSignal::new(me.clone());
    let owner = me.role == Role::Owner;
    let replies = RwSignal::new(Vec::new());
    replies::load(replies);
    let tab = move |which: Mode, label: &'static str| {
        view! {
            <button type="button" class="mode" aria-pressed=move || (mode.get() == which).to_string()
                on:click=move |_| mode.set(which)>{label}</button>
        }
    };
    // Someone guessed at this person's password since they last signed in.
    let warned = (me.failed_sign_ins > 0).then(|| {
        let count = me.failed_sign_ins;
        view! {
            <p class="security-notice" role="alert">
                {format!(
                    "{count} wrong password{} tried for your account since you last signed in. \
                     If that was not you, someone may be guessing: your own browsers still get in, others wait.",
                    if count == 1 { " was" } else { "s were" }
                )}
            </p>
        }
    });
    view! {
        {warned}
        <nav class="modes" aria-label="Rapport">
            {tab(Mode::Inbox, "Inbox")}
            {tab(Mode::Customers, "Customers")}
            {tab(Mode::Replies, "Replies")}
            {tab(Mode::Articles, "Help articles")}
            {owner.then(|| tab(Mode::Reports, "Reports"))}
            {owner.then(|| tab(Mode::Console, "Console"))}
        </nav>
        // Every page stays mounted and is only hidden while another shows:
        // the inbox's socket keeps the agent online, and the console keeps
        // the site being edited.
        <div hidden=move || mode.get() != Mode::Inbox>
            <inbox::Inbox me=me.clone() myself on_signed_out replies />
        </div>
        <div hidden=move || mode.get() != Mode::Customers>
            <customers::Customers owner />
        </div>
        <div hidden=move || mode.get() != Mode::Replies>
            <replies::RepliesPanel replies owner />
        </div>
        <div hidden=move || mode.get() != Mode::Articles>
            <articles::Articles />
        </div>
        {owner.then(|| view! {
            <div hidden=move || mode.get() != Mode::Reports>
                <reports::Reports />
            </div>
        })}
        {owner.then(|| view! {
            <div hidden=move || mode.get() != Mode::Console>
                <console::Console />
                <people::PeoplePanel />
                <blocks::BlocksPanel shown=Signal::derive(move || mode.get() == Mode::Console) />
            </div>
        })}
    }
}
