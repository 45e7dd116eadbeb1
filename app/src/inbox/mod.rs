//! The inbox: the live list of waiting and own conversations, one open
//! conversation with its history, the reply box, presence. Its parts share
//! [`InboxContext`]; what the server sends changes [`state::InboxState`]
//! (a pure reducer, tested on the host); the team's presence and teams are
//! resources, the agent's changes over HTTP are actions.

mod attachments;
mod composer;
mod list;
mod search;
mod socket;
pub mod state;
mod statuses;
mod transcript;
mod views;

use leptos::prelude::*;
use protocol::{
    AgentProfile, AgentRequest, Availability, CannedReply, CapacityUpdate, ConversationState,
    ConversationSummary, CustomerProfile, Team, TeamMember,
};

use crate::alerts::{self, AlertChoices};
use crate::api;
use list::{ConversationList, WaitingLines};
use socket::Socket;
use state::InboxState;
use transcript::Transcript;

/// How often the team's presence and load, and waiting times, refresh.
const REFRESH_MS: u32 = 10_000;

/// What the inbox's parts share.
#[derive(Clone, Copy)]
pub(crate) struct InboxContext {
    pub state: RwSignal<InboxState>,
    pub socket: Socket,
    /// The clock waiting times are counted on, refreshed with the team.
    pub now: RwSignal<f64>,
    pub me: StoredValue<AgentProfile>,
}

impl InboxContext {
    /// Opens a conversation: its history comes from the server.
    pub fn open(&self, id: String) {
        self.open_listed(id, None);
    }

    /// Like [`InboxContext::open`], for a conversation a view listed.
    pub fn open_listed(&self, id: String, listed: Option<&ConversationSummary>) {
        self.state.update(|s| s.open(&id, listed));
        self.socket.send(&AgentRequest::Open {
            conversation_id: id,
            after_seq: 0,
        });
    }
}

#[component]
pub fn Inbox(
    me: AgentProfile,
    /// The same person as they edit their profile (the top bar shows it).
    myself: RwSignal<AgentProfile>,
    on_signed_out: impl Fn() + Copy + Send + Sync + 'static,
    replies: RwSignal<Vec<CannedReply>>,
) -> impl IntoView {
    let state = RwSignal::new(InboxState::default());
    let connected = RwSignal::new(false);
    // Filled in once the context exists: a notification's click opens its
    // conversation.
    let opener = StoredValue::new_local(None::<InboxContext>);
    let open_to = move |id: String| {
        if let Some(context) = opener.get_value() {
            context.open(id);
        }
    };
    let socket = Socket::connect(state, connected, me.clone(), open_to, on_signed_out);
    let now = RwSignal::new(js_sys::Date::now());
    let context = InboxContext {
        state,
        socket,
        now,
        me: StoredValue::new(me.clone()),
    };
    opener.set_value(Some(context));
    provide_context(context);
    // A conversation a customer's page asked to open.
    let nav: crate::Navigation = expect_context();
    Effect::new(move |_| {
        if let Some(id) = nav.to_open.get() {
            nav.to_open.set(None);
            context.open(id);
        }
    });

    // What is on screen in a focused inbox is read: the shopper sees "Seen"
    // and the unread count goes.
    let focused = RwSignal::new(alerts::in_front());
    let refocus = move || focused.set(alerts::in_front());
    let on_focus = window_event_listener(leptos::ev::focus, move |_| refocus());
    let on_blur = window_event_listener(leptos::ev::blur, move |_| refocus());
    let on_visible = window_event_listener(leptos::ev::visibilitychange, move |_| refocus());
    on_cleanup(move || {
        on_focus.remove();
        on_blur.remove();
        on_visible.remove();
    });
    Effect::new(move |_| {
        if !focused.get() {
            return;
        }
        if let Some((conversation_id, seq)) = state.with(InboxState::to_mark_read)
            && socket.send(&AgentRequest::Read {
                conversation_id,
                seq,
            })
        {
            state.update(|s| s.read_sent = seq);
        }
    });
    // The tab's title counts what is unread.
    Effect::new(move |_| {
        let unread = state.with(InboxState::unread);
        document().set_title(&if unread > 0 {
            format!("({unread}) Rapport inbox")
        } else {
            "Rapport inbox".to_owned()
        });
    });

    // The team's presence and load (refreshed, with the clock for waiting
    // times, every few seconds), and the account's teams.
    let ticks = RwSignal::new(0_u32);
    let ticker = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(
        REFRESH_MS,
        move || {
            now.set(js_sys::Date::now());
            ticks.update(|t| *t = t.wrapping_add(1));
        },
    )));
    on_cleanup(move || ticker.set_value(None));
    let members = LocalResource::new(move || {
        ticks.track();
        api::call::<Vec<TeamMember>>("GET", "/api/agents", api::NONE)
    });
    let team = Signal::derive(move || members.get().and_then(Result::ok).unwrap_or_default());
    let account_teams =
        LocalResource::new(|| api::call::<Vec<Team>>("GET", "/api/teams", api::NONE));
    let teams =
        Signal::derive(move || account_teams.get().and_then(Result::ok).unwrap_or_default());

    // The agent's own capacity: shown from the team's list, changed by an
    // action; the server's reason shown if it refuses.
    let my_id = StoredValue::new(me.id.clone());
    let my_capacity = move || {
        my_id
            .with_value(|id| team.with(|t| t.iter().find(|m| m.id == *id).and_then(|m| m.capacity)))
    };
    let change_capacity = Action::new_local(move |capacity: &Option<i64>| {
        let update = CapacityUpdate {
            capacity: *capacity,
        };
        let path = format!("/api/agents/{}/capacity", my_id.get_value());
        async move { api::call_empty("PUT", &path, Some(&update)).await }
    });
    Effect::new(move |_| match change_capacity.value().get() {
        Some(Ok(())) => ticks.update(|t| *t = t.wrapping_add(1)),
        Some(Err(problem)) => state.update(|s| s.notice = Some(problem)),
        None => {}
    });
    let sign_out = Action::new_local(move |_: &()| async move {
        let _ = api::call_empty("POST", "/api/auth/logout", api::NONE).await;
        on_signed_out();
    });
    let choose_status = move |ev: leptos::ev::Event| {
        if let Ok(status) =
            serde_json::from_str::<Availability>(&format!("\"{}\"", event_target_value(&ev)))
        {
            socket.set_status(status);
        }
    };

    // Who is signed in: their name, or their address until they chose one.
    let name = move || {
        myself.with(|m| {
            if m.name.trim().is_empty() {
                m.email.clone()
            } else {
                m.name.clone()
            }
        })
    };
    let profile = RwSignal::new(None::<CustomerProfile>);
    // The view shown on the left (`None`: the live inbox) and its label filter.
    let chosen_view = RwSignal::new(None::<protocol::View>);
    let label_filter = RwSignal::new(String::new());
    // What the search box found, shown instead of the lists while it holds.
    let search_results = RwSignal::new(None::<protocol::SearchResults>);
    // A message a search opened: brought into view once it is drawn.
    Effect::new(move |_| {
        let seq = state.with(|s| {
            s.focus
                .as_ref()
                .filter(|focus| s.events.iter().any(|e| e.seq == focus.seq))
                .map(|focus| focus.seq)
        });
        if let Some(seq) = seq {
            // After the line is drawn.
            request_animation_frame(move || {
                if let Some(line) = document().get_element_by_id(&format!("event-{seq}")) {
                    line.scroll_into_view();
                }
            });
        }
    });
    view! {
        <div class="inbox">
            <header class="topbar">
                <strong>"Rapport"</strong>
                <span class="who">{name}</span>
                <span class="conn">{move || if connected.get() { "" } else { "Reconnecting…" }}</span>
                <label class="status" class:online=move || state.with(|s| s.status == Availability::Online)>
                    "Status "
                    <select on:change=choose_status
                        prop:value=move || match state.with(|s| s.status) {
                            Availability::Online => "online",
                            Availability::Away => "away",
                            Availability::Offline => "offline",
                        }>
                        <option value="online">"Online"</option>
                        <option value="away">"Away"</option>
                        <option value="offline">"Offline"</option>
                    </select>
                </label>
                <label class="capacity">
                    "Chats at once "
                    <input type="number" min=protocol::CAPACITY_RANGE.start().to_string()
                        max=protocol::CAPACITY_RANGE.end().to_string()
                        placeholder="default"
                        prop:value=move || my_capacity().map(|c| c.to_string()).unwrap_or_default()
                        on:change=move |ev| {
                            change_capacity.dispatch_local(event_target_value(&ev).trim().parse::<i64>().ok());
                        } />
                </label>
                <AlertChoices agent_id=me.id.clone() />
                <crate::account::YourProfile me=myself />
                <crate::account::PasswordChange />
                <button class="signout" on:click=move |_| { sign_out.dispatch_local(()); }>"Sign out"</button>
            </header>
            <nav class="list" aria-label="Conversations">
                <search::SearchBox results=search_results />
                <views::Views chosen=chosen_view label=label_filter />
                {move || match (search_results.with(Option::is_some), chosen_view.get()) {
                    (true, _) => view! { <search::SearchResultsList results=search_results /> }.into_any(),
                    (false, None) => view! {
                        <WaitingLines />
                        // Set-aside ones are in the Pending and Snoozed views.
                        <ConversationList title="Mine"
                            filter=|c: &ConversationSummary| matches!(c.state, ConversationState::Assigned { .. })
                                && !c.status.is_set_aside() />
                    }.into_any(),
                    (false, Some(view)) => view! { <views::ViewList view label=label_filter /> }.into_any(),
                }}
                <list::Team team />
            </nav>
            <Transcript team teams replies profile />
            <crate::profile::Profile
                open=Memo::new(move |_| state.with(|s| s.open.clone().map(|id| (id, s.last_seq()))))
                profile />
        </div>
    }
}
