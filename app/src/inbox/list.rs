//! The left column: the waiting lines per team, the agent's own
//! conversations, and the team's presence and load.

use leptos::prelude::*;
use protocol::{Availability, ConversationState, ConversationSummary, Status, TeamMember};

use super::InboxContext;
use super::state::{minutes_since, shopper_name};
use crate::clock;

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
pub fn ConversationList(
    title: &'static str,
    filter: fn(&ConversationSummary) -> bool,
) -> impl IntoView {
    let InboxContext { state, .. } = expect_context();
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
                    children=move |c| view! { <ConversationItem c /> } />
            </ul>
        </section>
    }
}

/// The waiting conversations, one line per team (first come first served,
/// as they will be handed out), each with how long its first has waited.
#[component]
pub fn WaitingLines() -> impl IntoView {
    let InboxContext { state, now, .. } = expect_context();
    let lines = move || state.with(super::state::InboxState::waiting_lines);
    let count = move || lines().iter().map(|(_, line)| line.len()).sum::<usize>();
    view! {
        <section class="waiting">
            <h2>"Waiting (" {count} ")"</h2>
            {move || lines().into_iter().map(|(team, line)| {
                let longest = line.first().map_or(0, |c| minutes_since(c.created_at_ms, now.get()));
                view! {
                    <h3 class="line-name">{format!("{team} · {} waiting, longest {longest} min", line.len())}</h3>
                    <ul aria-label=format!("Waiting for {team}")>
                        {line.into_iter().map(|c| view! { <ConversationItem c /> }).collect_view()}
                    </ul>
                }
            }).collect_view()}
        </section>
    }
}

/// How a set-aside conversation's status reads in a list.
fn status_badge(status: &Status) -> Option<String> {
    match status {
        Status::Open => None,
        Status::Pending => Some("pending".to_owned()),
        Status::Snoozed { until_ms: Some(at) } => {
            Some(format!("snoozed until {}", clock::date_and_time(*at)))
        }
        Status::Snoozed { until_ms: None } => Some("snoozed until they write".to_owned()),
    }
}

#[component]
pub(super) fn ConversationItem(c: ConversationSummary) -> impl IntoView {
    let context: InboxContext = expect_context();
    let InboxContext { state, now, .. } = context;
    let id = c.id.clone();
    let selected_id = c.id.clone();
    let selected = move || state.with(|s| s.open.as_deref() == Some(selected_id.as_str()));
    let listed = c.clone();
    let closed = matches!(c.state, ConversationState::Closed);
    view! {
        <li>
            <button class="conversation" class:selected=selected
                on:click=move |_| context.open_listed(id.clone(), Some(&listed))>
                <span class="label">{customer_label(&c)}</span>
                {status_badge(&c.status).map(|badge| view! { <span class="status-badge">{badge}</span> })}
                {closed.then(|| view! { <span class="status-badge">"closed"</span> })}
                {(!c.labels.is_empty()).then(|| view! {
                    <span class="labels">{c.labels.iter().map(|l| view! { <span class="tag">{l.clone()}</span> }).collect_view()}</span>
                })}
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
pub fn Team(team: Signal<Vec<TeamMember>>) -> impl IntoView {
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
