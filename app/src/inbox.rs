//! The inbox: the live list of waiting and own conversations, one open
//! conversation with its history, the reply box, presence.

use client::{Handlers, LiveSocket, new_client_id};
use gloo_net::http::Request;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{
    AgentFrame, AgentProfile, AgentRequest, Author, Availability, CannedReply, CapacityUpdate,
    Channel, ConversationState, ConversationSummary, CustomerLabel, CustomerProfile, Event,
    EventBody, Reader, TYPING_EVERY_SECS, TYPING_EXPIRES_SECS, Team, TeamMember, Typist,
};

use crate::alerts::{self, Alert};
use crate::clock;

/// The status this browser last chose, restored on every reconnect.
const STATUS_KEY: &str = "rapport:inbox:status";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn socket_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).as_deref() == Some("https:");
    format!("{}://{host}/ws/agent", if secure { "wss" } else { "ws" })
}

/// A reply or note typed here, until the server confirms it.
#[derive(Clone, Debug, PartialEq)]
struct Pending {
    client_id: String,
    conversation_id: String,
    body: String,
    note: bool,
}

impl Pending {
    fn request(self) -> AgentRequest {
        if self.note {
            AgentRequest::Note {
                conversation_id: self.conversation_id,
                client_id: self.client_id,
                body: self.body,
            }
        } else {
            AgentRequest::Send {
                conversation_id: self.conversation_id,
                client_id: self.client_id,
                body: self.body,
            }
        }
    }
}

/// How often the team's presence and load, and waiting times, refresh.
const REFRESH_MS: u32 = 10_000;

fn minutes_since(then_ms: i64, now_ms: f64) -> i64 {
    ((now_ms as i64 - then_ms) / 60_000).max(0)
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Inbox {
    conversations: Vec<ConversationSummary>,
    status: Availability,
    open: Option<String>,
    events: Vec<Event>,
    pending: Vec<Pending>,
    notice: Option<String>,
    /// Who is typing in the open conversation (and their draft), until when (ms).
    typing: Option<(String, Option<String>, f64)>,
    /// How far the shopper has read the open conversation.
    shopper_read_seq: i64,
    /// How far this inbox told the server it has read the open conversation.
    read_sent: i64,
    /// The first seq of the open conversation shown; above 1, earlier pages
    /// can be asked for.
    earliest: i64,
    /// What the open conversation's shopper is called.
    open_shopper: String,
}

impl Inbox {
    fn visible_to(me: &AgentProfile, conversation: &ConversationSummary) -> bool {
        match &conversation.state {
            ConversationState::Waiting => true,
            ConversationState::Assigned { agent_id, .. } => *agent_id == me.id,
            ConversationState::Closed => false,
        }
    }

    /// Takes a summary; says what the agent should be alerted to: a
    /// conversation newly theirs, or a new message from the shopper in one
    /// of theirs. Waiting chats alert nobody (they are handed out at once to
    /// whoever has room, who is alerted then), so fifty agents are not.
    fn upsert(&mut self, me: &AgentProfile, conversation: ConversationSummary) -> Option<Alert> {
        let before = self
            .conversations
            .iter()
            .find(|c| c.id == conversation.id)
            .cloned();
        let mine = |c: &ConversationSummary| matches!(&c.state, ConversationState::Assigned { agent_id, .. } if *agent_id == me.id);
        let alert = mine(&conversation)
            .then(|| match &before {
                Some(before) if mine(before) => (conversation.unread > before.unread)
                    .then(|| Alert::message(&conversation, &customer_label(&conversation))),
                _ => Some(Alert::new_chat(
                    &conversation,
                    &customer_label(&conversation),
                )),
            })
            .flatten();
        if self.open.as_deref() == Some(conversation.id.as_str()) {
            self.shopper_read_seq = self.shopper_read_seq.max(conversation.shopper_read_seq);
            self.open_shopper = shopper_name(&conversation.customer);
        }
        self.conversations.retain(|c| c.id != conversation.id);
        if Self::visible_to(me, &conversation) {
            self.conversations.push(conversation);
            self.conversations
                .sort_by_key(|c| std::cmp::Reverse(c.updated_at_ms));
        }
        alert
    }

    fn last_seq(&self) -> i64 {
        self.events.last().map_or(0, |e| e.seq)
    }

    /// Whether the open conversation has ended (its last change of hands
    /// is a close): it takes no more replies.
    fn open_is_closed(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|e| match e.body {
                EventBody::Closed => Some(true),
                EventBody::Assigned { .. } => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }

    /// Takes a frame; what the agent should be alerted to, if anything.
    fn apply(&mut self, me: &AgentProfile, frame: AgentFrame) -> Option<Alert> {
        match frame {
            AgentFrame::Inbox {
                status,
                conversations,
                ..
            } => {
                self.status = status;
                self.conversations = conversations;
            }
            AgentFrame::Conversation { conversation } => return self.upsert(me, *conversation),
            AgentFrame::Status { status } => self.status = status,
            AgentFrame::Event { event } => {
                if self.open.as_deref() == Some(event.conversation_id.as_str())
                    && event.seq > self.last_seq()
                {
                    if let Some(client_id) = &event.client_id {
                        self.pending.retain(|p| p.client_id != *client_id);
                    }
                    if event.author == Author::Visitor {
                        self.typing = None;
                    }
                    self.events.push(event);
                }
            }
            AgentFrame::Typing {
                conversation_id,
                typist,
            } if self.open.as_deref() == Some(conversation_id.as_str()) => {
                let who = match typist {
                    Typist::Shopper { draft } => Some(("The shopper is typing…".to_owned(), draft)),
                    Typist::Agent { id, .. } if id == me.id => None,
                    Typist::Agent { name, private, .. } => Some((
                        if private {
                            format!("{name} is writing a note…")
                        } else {
                            format!("{name} is typing…")
                        },
                        None,
                    )),
                };
                let until = js_sys::Date::now() + f64::from(TYPING_EXPIRES_SECS) * 1000.0;
                self.typing = who.map(|(label, draft)| (label, draft, until));
            }
            AgentFrame::Typing { .. } => {}
            AgentFrame::Seen {
                conversation_id,
                reader,
                seq,
            } => {
                if self.open.as_deref() == Some(conversation_id.as_str()) {
                    match reader {
                        Reader::Shopper => self.shopper_read_seq = self.shopper_read_seq.max(seq),
                        Reader::Agents => self.read_sent = self.read_sent.max(seq),
                    }
                }
            }
            AgentFrame::Replay {
                conversation_id,
                from_seq,
            } if self.open.as_deref() == Some(conversation_id.as_str()) => {
                if from_seq > self.last_seq() + 1 {
                    // More was missed than is replayed: the newest page replaces it.
                    self.events.clear();
                }
                if self.events.is_empty() {
                    self.earliest = from_seq;
                }
            }
            AgentFrame::Earlier {
                conversation_id,
                from_seq,
                events,
            } if self.open.as_deref() == Some(conversation_id.as_str()) => {
                let first = self.events.first().map_or(i64::MAX, |e| e.seq);
                let mut page: Vec<Event> = events.into_iter().filter(|e| e.seq < first).collect();
                page.append(&mut self.events);
                self.events = page;
                self.earliest = self.earliest.min(from_seq);
            }
            AgentFrame::Replay { .. } | AgentFrame::Earlier { .. } => {}
            AgentFrame::Ack { client_id, .. } => self.pending.retain(|p| p.client_id != client_id),
            AgentFrame::Error {
                message, client_id, ..
            } => {
                if let Some(client_id) = client_id {
                    self.pending.retain(|p| p.client_id != client_id);
                }
                self.notice = Some(message);
            }
            AgentFrame::Pong => {}
        }
        None
    }

    /// Unread messages over the conversations this inbox lists.
    fn unread(&self) -> i64 {
        self.conversations.iter().map(|c| c.unread).sum()
    }
}

/// What the inbox calls a shopper in a word: their verified name, else
/// the name they stated (marked), else their number in the site
/// ("Visitor 1042": distinct and stable).
pub(crate) fn shopper_name(customer: &CustomerLabel) -> String {
    match (&customer.name, customer.number) {
        (Some(name), _) if customer.verified => name.clone(),
        (Some(name), _) => format!("{name} (unverified)"),
        (None, Some(number)) => format!("Visitor {number}"),
        (None, None) => "Visitor".to_owned(),
    }
}

/// What the inbox lists a shopper as: who they are, then where they are,
/// with what, and their clock.
pub(crate) fn customer_label(conversation: &ConversationSummary) -> String {
    let customer = &conversation.customer;
    let mut parts = vec![shopper_name(customer)];
    if customer.name.is_none() {
        parts.extend(customer.page.as_ref().map(|page| format!("on {page}")));
        parts.extend(customer.browser.clone());
        if let Some(zone) = &customer.time_zone {
            parts.push(format!("{} their time", clock::now_in(zone)));
        }
    }
    parts.join(" · ")
}

#[component]
pub fn Inbox(
    me: AgentProfile,
    /// The same person as they edit their profile (the top bar shows it).
    myself: RwSignal<AgentProfile>,
    on_signed_out: impl Fn() + Copy + Send + Sync + 'static,
    replies: RwSignal<Vec<CannedReply>>,
) -> impl IntoView {
    let state = RwSignal::new(Inbox::default());
    let connected = RwSignal::new(false);
    let socket = StoredValue::new_local(None::<LiveSocket>);
    let send = move |request: &AgentRequest| {
        let text = serde_json::to_string(request).unwrap_or_default();
        socket.with_value(|s| s.as_ref().is_some_and(|s| s.send(&text)))
    };
    let me_for_frames = me.clone();
    let me_id = StoredValue::new(me.id.clone());
    // Filled in below: a notification's click opens its conversation.
    let open_to = StoredValue::new_local(None::<Box<dyn Fn(String)>>);
    let live = LiveSocket::start(
        socket_url(),
        Handlers {
            on_open: Box::new(move |live| {
                live.connected_ok();
                let chosen = local_storage()
                    .and_then(|s| s.get_item(STATUS_KEY).ok().flatten())
                    .and_then(|v| serde_json::from_str::<Availability>(&v).ok());
                if let Some(status) = chosen.filter(|s| *s != Availability::Offline) {
                    live.send(
                        &serde_json::to_string(&AgentRequest::SetStatus { status })
                            .unwrap_or_default(),
                    );
                }
                let (open, after_seq, pending) =
                    state.with_untracked(|s| (s.open.clone(), s.last_seq(), s.pending.clone()));
                if let Some(conversation_id) = open {
                    live.send(
                        &serde_json::to_string(&AgentRequest::Open {
                            conversation_id,
                            after_seq,
                        })
                        .unwrap_or_default(),
                    );
                }
                for p in pending {
                    live.send(&serde_json::to_string(&p.request()).unwrap_or_default());
                }
            }),
            on_frame: Box::new(move |text| {
                if let Ok(frame) = serde_json::from_str::<AgentFrame>(text) {
                    let typing = matches!(frame, AgentFrame::Typing { .. });
                    let alert = state
                        .try_update(|s| s.apply(&me_for_frames, frame))
                        .flatten();
                    if typing {
                        // A typing signal lapses by itself unless another comes.
                        set_timeout(
                            move || {
                                let now = js_sys::Date::now();
                                state.update(|s| {
                                    if s.typing.as_ref().is_some_and(|t| t.2 <= now) {
                                        s.typing = None;
                                    }
                                });
                            },
                            std::time::Duration::from_secs(u64::from(TYPING_EXPIRES_SECS)),
                        );
                    }
                    if let Some(alert) = alert {
                        let open_here = state.with_untracked(|s| {
                            s.open.as_deref() == Some(alert.conversation_id.as_str())
                        });
                        if !(alerts::in_front() && open_here) {
                            alerts::fire(&me_for_frames.id, &alert, move |id| {
                                open_to.with_value(|open| {
                                    if let Some(open) = open {
                                        open(id);
                                    }
                                });
                            });
                        }
                    }
                }
            }),
            on_status: Box::new(move |up| connected.set(up)),
            // Signed out elsewhere or deactivated: back to the sign-in form.
            on_ended: Box::new(on_signed_out),
        },
    );
    socket.set_value(Some(live));
    // Signing out unmounts the inbox: its socket must go with it, or the
    // agent would stay online.
    on_cleanup(move || {
        socket.try_with_value(|s| {
            if let Some(s) = s {
                s.close();
            }
        });
    });

    // The status chosen is kept in this browser and restored on reconnect.
    let set_status = move |status: Availability| {
        if let (Some(storage), Ok(saved)) = (local_storage(), serde_json::to_string(&status)) {
            let _ = storage.set_item(STATUS_KEY, &saved);
        }
        send(&AgentRequest::SetStatus { status });
    };
    let choose_status = move |ev: leptos::ev::Event| {
        if let Ok(status) =
            serde_json::from_str::<Availability>(&format!("\"{}\"", event_target_value(&ev)))
        {
            set_status(status);
        }
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = Request::post("/api/auth/logout").send().await;
            on_signed_out();
        });
    };
    let open = move |id: String| {
        state.update(|s| {
            let listed = s.conversations.iter().find(|c| c.id == id);
            s.shopper_read_seq = listed.map_or(0, |c| c.shopper_read_seq);
            s.open_shopper = listed.map_or_else(String::new, |c| shopper_name(&c.customer));
            s.open = Some(id.clone());
            s.events.clear();
            s.earliest = 0;
            s.notice = None;
            s.typing = None;
            s.read_sent = 0;
        });
        send(&AgentRequest::Open {
            conversation_id: id,
            after_seq: 0,
        });
    };
    open_to.set_value(Some(Box::new(open)));
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
        let read = state.with(|s| {
            let last = s.last_seq();
            s.open
                .clone()
                .filter(|_| last > s.read_sent)
                .map(|id| (id, last))
        });
        if let Some((conversation_id, seq)) = read
            && send(&AgentRequest::Read {
                conversation_id,
                seq,
            })
        {
            state.update(|s| s.read_sent = seq);
        }
    });
    // The tab's title counts what is unread.
    Effect::new(move |_| {
        let unread = state.with(Inbox::unread);
        document().set_title(&if unread > 0 {
            format!("({unread}) Rapport inbox")
        } else {
            "Rapport inbox".to_owned()
        });
    });
    // The team's presence and load, and the clock for waiting times.
    let team = RwSignal::new(Vec::<TeamMember>::new());
    let now = RwSignal::new(js_sys::Date::now());
    let refresh = move || {
        now.set(js_sys::Date::now());
        spawn_local(async move {
            if let Ok(response) = Request::get("/api/agents").send().await
                && response.ok()
                && let Ok(members) = response.json::<Vec<TeamMember>>().await
            {
                team.set(members);
            }
        });
    };
    refresh();
    let teams = RwSignal::new(Vec::<Team>::new());
    spawn_local(async move {
        if let Ok(response) = Request::get("/api/teams").send().await
            && response.ok()
            && let Ok(list) = response.json::<Vec<Team>>().await
        {
            teams.set(list);
        }
    });
    let my_capacity = move || {
        me_id
            .with_value(|id| team.with(|t| t.iter().find(|m| m.id == *id).and_then(|m| m.capacity)))
    };
    let set_capacity = move |ev: leptos::ev::Event| {
        let capacity = event_target_value(&ev).trim().parse::<i64>().ok();
        let id = me_id.get_value();
        spawn_local(async move {
            let Ok(request) = Request::put(&format!("/api/agents/{id}/capacity"))
                .json(&CapacityUpdate { capacity })
            else {
                return;
            };
            let notice = match request.send().await {
                Ok(response) if response.ok() => {
                    refresh();
                    return;
                }
                Ok(response) => response.json::<protocol::ErrorBody>().await.map_or_else(
                    |_| "Could not change your capacity.".to_owned(),
                    |b| b.error.message,
                ),
                Err(_) => "Could not reach the server.".to_owned(),
            };
            state.update(|s| s.notice = Some(notice));
        });
    };
    let ticker = StoredValue::new_local(Some(gloo_timers::callback::Interval::new(
        REFRESH_MS, refresh,
    )));
    on_cleanup(move || ticker.set_value(None));

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
    let my_id = me.id.clone();
    let profile = RwSignal::new(None::<CustomerProfile>);
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
                        on:change=set_capacity />
                </label>
                <AlertChoices agent_id=me.id.clone() />
                <crate::account::YourProfile me=myself />
                <crate::account::PasswordChange />
                <button class="signout" on:click=sign_out>"Sign out"</button>
            </header>
            <nav class="list" aria-label="Conversations">
                <WaitingLines state open now />
                <ConversationList title="Mine" state open now
                    filter=|c: &ConversationSummary| matches!(c.state, ConversationState::Assigned { .. }) />
                <Team team />
            </nav>
            <Transcript state send my_id team teams replies profile
                go_online=move || set_status(Availability::Online) />
            <crate::profile::Profile
                open=Memo::new(move |_| state.with(|s| s.open.clone().map(|id| (id, s.last_seq()))))
                profile />
        </div>
    }
}

/// The agent's switches for desktop notifications and sound. The desktop
/// box shows what the browser allows, not only what was wished: ticked only
/// when alerts will come, and saying how to allow them when it refused.
#[component]
fn AlertChoices(agent_id: String) -> impl IntoView {
    use alerts::{Kind, Permission};
    let id = StoredValue::new(agent_id);
    let permission = RwSignal::new(alerts::permission());
    let wished = RwSignal::new(id.with_value(|id| alerts::wanted(id, Kind::Desktop)));
    let desktop_on = move || wished.get() && permission.get() == Permission::Granted;
    let choose_desktop = move |ev: leptos::ev::Event| {
        let chosen = event_target_checked(&ev);
        wished.set(chosen);
        id.with_value(|id| alerts::choose(id, Kind::Desktop, chosen));
        if chosen {
            spawn_local(async move { permission.set(alerts::ask_permission().await) });
        }
    };
    let sound = RwSignal::new(id.with_value(|id| alerts::wanted(id, Kind::Sound)));
    let hint = move || match permission.get() {
        Permission::Denied => Some(
            "This browser blocks notifications from this site: allow them in its site settings (the icon left of the address), then reload.",
        ),
        Permission::Unsupported => Some("This browser has no desktop notifications."),
        Permission::Ask if wished.get() => Some("Allow notifications when the browser asks."),
        _ => None,
    };
    view! {
        <span class="alerts">
            <label class="alert-choice">
                <input type="checkbox" prop:checked=desktop_on on:change=choose_desktop
                    disabled=move || matches!(permission.get(), Permission::Denied | Permission::Unsupported) />
                "Desktop alerts"
            </label>
            <label class="alert-choice">
                <input type="checkbox" prop:checked=move || sound.get()
                    on:change=move |ev| {
                        let chosen = event_target_checked(&ev);
                        sound.set(chosen);
                        id.with_value(|id| alerts::choose(id, Kind::Sound, chosen));
                    } />
                "Sound"
            </label>
            <span class="alert-hint" role="status">{hint}</span>
        </span>
    }
}

#[component]
fn ConversationList(
    title: &'static str,
    state: RwSignal<Inbox>,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    now: RwSignal<f64>,
    filter: fn(&ConversationSummary) -> bool,
) -> impl IntoView {
    let items = move || {
        state.with(|s| {
            s.conversations
                .iter()
                .filter(|c| filter(c))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section>
            <h2>{title} " (" {move || items().len()} ")"</h2>
            <ul>
                <For each=items key=|c| (c.id.clone(), c.last_seq, c.unread, c.customer.clone())
                    children=move |c| view! { <ConversationItem c state open now /> } />
            </ul>
        </section>
    }
}

/// The waiting conversations, one line per team (first come first served,
/// as they will be handed out), each with how long its first has waited.
#[component]
fn WaitingLines(
    state: RwSignal<Inbox>,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    now: RwSignal<f64>,
) -> impl IntoView {
    let lines = move || state.with(|s| waiting_lines(&s.conversations));
    let count = move || lines().iter().map(|(_, line)| line.len()).sum::<usize>();
    view! {
        <section class="waiting">
            <h2>"Waiting (" {count} ")"</h2>
            {move || lines().into_iter().map(|(team, line)| {
                let longest = line.first().map_or(0, |c| minutes_since(c.created_at_ms, now.get()));
                view! {
                    <h3 class="line-name">{format!("{team} · {} waiting, longest {longest} min", line.len())}</h3>
                    <ul aria-label=format!("Waiting for {team}")>
                        {line.into_iter().map(|c| view! { <ConversationItem c state open now /> }).collect_view()}
                    </ul>
                }
            }).collect_view()}
        </section>
    }
}

/// Waiting conversations grouped by team name ("Anyone" for unrouted),
/// teams by name, each line oldest first.
fn waiting_lines(conversations: &[ConversationSummary]) -> Vec<(String, Vec<ConversationSummary>)> {
    let mut lines: std::collections::BTreeMap<String, Vec<ConversationSummary>> =
        std::collections::BTreeMap::new();
    for c in conversations
        .iter()
        .filter(|c| matches!(c.state, ConversationState::Waiting))
    {
        let team = c
            .team
            .as_ref()
            .map_or_else(|| "Anyone".to_owned(), |t| t.name.clone());
        lines.entry(team).or_default().push(c.clone());
    }
    let mut lines: Vec<_> = lines.into_iter().collect();
    for (_, line) in &mut lines {
        line.sort_by_key(|c| c.created_at_ms);
    }
    lines
}

#[component]
fn ConversationItem(
    c: ConversationSummary,
    state: RwSignal<Inbox>,
    open: impl Fn(String) + Copy + Send + Sync + 'static,
    now: RwSignal<f64>,
) -> impl IntoView {
    let id = c.id.clone();
    let selected_id = c.id.clone();
    let selected = move || state.with(|s| s.open.as_deref() == Some(selected_id.as_str()));
    view! {
        <li>
            <button class="conversation" class:selected=selected on:click=move |_| open(id.clone())>
                <span class="label">{customer_label(&c)}</span>
                {(c.unread > 0).then(|| view! {
                    <span class="unread" title="Unread messages">{c.unread}</span>
                })}
                <time class="last-active">{clock::when(c.updated_at_ms)}</time>
                <span class="last-message">{c.last_message.clone().unwrap_or_default()}</span>
                {matches!(c.state, ConversationState::Waiting).then(|| {
                    let since = c.created_at_ms;
                    view! {
                        <span class="waited">
                            {move || format!("waiting {} min", minutes_since(since, now.get()))}
                        </span>
                    }
                })}
            </button>
        </li>
    }
}

/// Colleagues: who is online and how many chats each holds.
#[component]
fn Team(team: RwSignal<Vec<TeamMember>>) -> impl IntoView {
    view! {
        <section class="team">
            <h2>"Team"</h2>
            <ul>
                {move || team.get().into_iter().map(|member| {
                    let load = match member.capacity {
                        Some(capacity) => format!("{} / {capacity}", member.open),
                        None => format!("{} open", member.open),
                    };
                    let online = member.status == Availability::Online;
                    let presence = match member.status {
                        Availability::Online => "online",
                        Availability::Away => "away",
                        Availability::Offline => "offline",
                    };
                    view! {
                        <li class="member" class:online=online class:away=member.status == Availability::Away>
                            <span class="dot" aria-hidden="true"></span>
                            <span class="name">{member.name}</span>
                            <span class="sr-only">{presence}</span>
                            <span class="load">{load}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Transcript(
    state: RwSignal<Inbox>,
    send: impl Fn(&AgentRequest) -> bool + Copy + Send + Sync + 'static,
    my_id: String,
    team: RwSignal<Vec<TeamMember>>,
    teams: RwSignal<Vec<Team>>,
    replies: RwSignal<Vec<CannedReply>>,
    profile: RwSignal<Option<CustomerProfile>>,
    go_online: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let offered = move || draft.with(|d| replies.with(|r| crate::replies::matching(d, r)));
    let use_reply = move |reply: &CannedReply| {
        draft.set(profile.with_untracked(|p| crate::replies::fill(&reply.body, p.as_ref())));
    };
    let private = RwSignal::new(false);
    let hand_to = RwSignal::new(String::new());
    let hand_note = RwSignal::new(String::new());
    let me = StoredValue::new(my_id.clone());
    let others = move || {
        team.get()
            .into_iter()
            .filter(|m| me.with_value(|id| m.id != *id))
            .collect::<Vec<_>>()
    };
    let hand_over = move || {
        let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) else {
            return;
        };
        let target = hand_to.get_untracked();
        let (to_agent_id, to_team_id) = match target.split_once(':') {
            Some(("agent", id)) => (Some(id.to_owned()), None),
            Some(("team", id)) => (None, Some(id.to_owned())),
            _ => {
                state.update(|s| {
                    s.notice = Some("Pick who to hand the conversation to.".to_owned());
                });
                return;
            }
        };
        send(&AgentRequest::HandOver {
            conversation_id,
            to_agent_id,
            to_team_id,
            note: hand_note.get_untracked(),
        });
        hand_note.set(String::new());
    };
    // When the agent last told they were typing (ms); a sent message ends
    // that spell, so the next keystroke is told at once.
    let last_typing = StoredValue::new(0.0_f64);
    let reply = move || {
        let body = draft.get_untracked();
        let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) else {
            return;
        };
        if body.trim().is_empty() {
            return;
        }
        let pending = Pending {
            client_id: new_client_id(),
            conversation_id,
            body,
            note: private.get_untracked(),
        };
        state.update(|s| s.pending.push(pending.clone()));
        send(&pending.request());
        draft.set(String::new());
        last_typing.set_value(0.0);
    };
    let line = move |(event, day, seen): (Event, Option<String>, bool)| {
        let at = event.created_at_ms;
        let by_email = event.via == Channel::Email;
        let (class, who, text) = match (event.author, event.body) {
            (Author::Visitor, EventBody::Message { text: body }) => {
                let shopper = state.with_untracked(|s| s.open_shopper.clone());
                let shopper = if shopper.is_empty() {
                    "Visitor".to_owned()
                } else {
                    shopper
                };
                (
                    "line visitor",
                    if by_email {
                        format!("{shopper} · by email")
                    } else {
                        shopper
                    },
                    body,
                )
            }
            (Author::Agent { id, name }, EventBody::Message { text: body }) => (
                if id == my_id { "line me" } else { "line agent" },
                name,
                body,
            ),
            (Author::Agent { name, .. }, EventBody::Note { text: body }) => {
                ("line note", format!("Note · {name}"), body)
            }
            (_, EventBody::Note { text: body }) => ("line note", "Note".to_owned(), body),
            (_, EventBody::Assigned { agent_name, .. }) => (
                "line system",
                String::new(),
                format!("Assigned to {agent_name}"),
            ),
            (_, EventBody::Closed) => ("line system", String::new(), "Closed".to_owned()),
            (_, EventBody::Rated { score, comment }) => (
                "line system rated",
                String::new(),
                match comment {
                    Some(comment) => {
                        format!("The shopper rated the chat {score}/5: \u{201c}{comment}\u{201d}")
                    }
                    None => format!("The shopper rated the chat {score}/5"),
                },
            ),
            (Author::System, EventBody::Message { text: body }) => {
                ("line system", String::new(), body)
            }
        };
        let day = day.map(|day| view! { <li class="day" role="separator">{day}</li> });
        let seen = seen.then(|| view! { <span class="seen">"Seen"</span> });
        view! {
            {day}
            <li class=class>
                <span class="who">{who}</span>
                <time class="at">{clock::time_of_day(at, None)}</time>
                <span class="text">{text}</span>
                {seen}
            </li>
        }
    };
    // Each event with the day it starts (if it is the first of its day) and
    // whether it is the last of the agents' messages the shopper has seen.
    let lines = move || {
        state.with(|s| {
            let seen_up_to = s
                .events
                .iter()
                .filter(|e| {
                    e.seq <= s.shopper_read_seq
                        && matches!(e.author, Author::Agent { .. })
                        && matches!(e.body, EventBody::Message { .. })
                })
                .map(|e| e.seq)
                .max();
            let mut previous: Option<i64> = None;
            s.events
                .iter()
                .map(|e| {
                    let day = previous
                        .is_none_or(|before| !clock::same_day(before, e.created_at_ms))
                        .then(|| clock::day_label(e.created_at_ms));
                    previous = Some(e.created_at_ms);
                    (e.clone(), day, Some(e.seq) == seen_up_to)
                })
                .collect::<Vec<_>>()
        })
    };
    let closed = move || state.with(Inbox::open_is_closed);
    // The agent types: the shopper (or, for a note, colleagues) see it,
    // one signal every few seconds at most.
    let typing = move || {
        let now = js_sys::Date::now();
        if now - last_typing.get_value() < f64::from(TYPING_EVERY_SECS) * 1000.0 {
            return;
        }
        if let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) {
            last_typing.set_value(now);
            send(&AgentRequest::Typing {
                conversation_id,
                private: private.get_untracked(),
            });
        }
    };
    view! {
        <main class="transcript">
            // Said while the agent is offline (as every first sign-in is),
            // so nobody wonders why no chat comes.
            <section class="presence-help" aria-labelledby="presence-help-title"
                hidden=move || state.with(|s| s.status != Availability::Offline)>
                <h2 id="presence-help-title">"You are offline: no chats come to you"</h2>
                <ul>
                    <li><strong>"Online"</strong>" — new chats are offered to you at once, up to your “Chats at once”."</li>
                    <li><strong>"Away"</strong>" — you keep the chats you have, and get no new ones."</li>
                    <li><strong>"Offline"</strong>" — nothing is offered to you; with nobody online, shoppers wait in line or leave a message."</li>
                </ul>
                <button type="button" class="primary" on:click=move |_| go_online()>"Go online"</button>
            </section>
            <Show when=move || state.with(|s| s.open.is_some())
                fallback=|| view! { <p class="empty">"Pick a conversation on the left."</p> }>
                <div class="transcript-actions">
                    <button class="close-conversation" type="button" hidden=closed on:click=move |_| {
                        if let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) {
                            send(&AgentRequest::Close { conversation_id });
                        }
                    }>"Close conversation"</button>
                    <button class="send-transcript" type="button" title="Email the conversation so far to the shopper"
                        on:click=move |_| {
                        if let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) {
                            send(&AgentRequest::SendTranscript { conversation_id });
                        }
                    }>"Email transcript"</button>
                    <details class="hand-over" hidden=closed>
                        <summary>"Hand over…"</summary>
                        <select aria-label="Hand over to" on:change=move |ev| hand_to.set(event_target_value(&ev))>
                            <option value="">"Choose a colleague or a team"</option>
                            <optgroup label="Colleagues">
                                {move || others().into_iter().map(|m| {
                                    let label = match m.status {
                                        Availability::Online => m.name.clone(),
                                        Availability::Away => format!("{} (away)", m.name),
                                        Availability::Offline => format!("{} (offline)", m.name),
                                    };
                                    view! { <option value=format!("agent:{}", m.id)>{label}</option> }
                                }).collect_view()}
                            </optgroup>
                            <optgroup label="Teams (back to their queue)">
                                {move || teams.get().into_iter().map(|t| {
                                    view! { <option value=format!("team:{}", t.id)>{format!("Team {}", t.name)}</option> }
                                }).collect_view()}
                            </optgroup>
                        </select>
                        <input aria-label="Note for the next agent" placeholder="Why, and what they should know"
                            prop:value=move || hand_note.get()
                            on:input=move |ev| hand_note.set(event_target_value(&ev)) />
                        <button type="button" on:click=move |_| hand_over()>"Hand over"</button>
                    </details>
                    <crate::blocks::BlockShopper conversation=Signal::derive(move || state.with(|s| s.open.clone())) />
                </div>
                {move || state.with(|s| (s.earliest > 1).then(|| (s.open.clone(), s.earliest))).and_then(|(id, earliest)| {
                    let id = id?;
                    Some(view! {
                        <button type="button" class="earlier" on:click=move |_| {
                            send(&AgentRequest::Earlier { conversation_id: id.clone(), before_seq: earliest });
                        }>"Earlier messages"</button>
                    })
                })}
                <ol class="events" aria-live="polite">
                    <For each=lines key=|(e, day, seen)| (e.seq, day.clone(), *seen) children=line.clone() />
                    <For each=move || state.with(|s| s.pending.clone()) key=|p| p.client_id.clone()
                        children=|p| {
                            let class = if p.note { "line note sending" } else { "line me sending" };
                            view! { <li class=class><span class="text">{p.body}</span></li> }
                        } />
                </ol>
                <p class="typing" aria-live="polite">{move || state.with(|s| s.typing.clone().map(|(label, draft, _)| view! {
                    {label}
                    {draft.map(|d| view! { " " <q class="draft">{d}</q> })}
                }))}</p>
                <p class="error" role="alert">{move || state.with(|s| s.notice.clone())}</p>
                <p class="closed-note" role="status" hidden=move || !closed()>
                    "This conversation is closed: nothing more can be sent in it. If the shopper writes again, a new conversation starts and comes to the inbox."
                </p>
                <form class="reply" hidden=closed class:private=move || private.get() on:submit=move |ev| { ev.prevent_default(); reply(); }>
                    <label class="private-toggle">
                        <input type="checkbox" prop:checked=move || private.get()
                            on:change=move |ev| private.set(event_target_checked(&ev)) />
                        "Private note"
                    </label>
                    <ul class="suggestions" aria-label="Canned replies">
                        {move || offered().into_iter().map(|r| {
                            let shortcut = format!("/{}", r.shortcut);
                            let preview = r.body.clone();
                            view! { <li><button type="button" class="suggestion" on:click=move |_| use_reply(&r)>
                                <code>{shortcut}</code> " " {preview}</button></li> }
                        }).collect_view()}
                    </ul>
                    <textarea aria-label="Reply"
                        placeholder=move || if private.get() { "A note only agents see…" } else { "Write a reply… (/ for canned replies)" }
                        prop:value=move || draft.get()
                        on:input=move |ev| {
                            draft.set(event_target_value(&ev));
                            typing();
                        }
                        on:keydown=move |ev| {
                            // Tab takes the first canned reply offered.
                            if ev.key() == "Tab" && let Some(first) = offered().first() {
                                ev.prevent_default();
                                use_reply(first);
                            } else if ev.key() == "Enter" && !ev.shift_key() {
                                ev.prevent_default();
                                reply();
                            }
                        }></textarea>
                    <button type="submit">"Send"</button>
                </form>
            </Show>
        </main>
    }
}
