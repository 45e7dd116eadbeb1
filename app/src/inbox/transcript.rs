//! The open conversation: its actions, its history with days and "Seen",
//! who is typing, and the composer; or, with none open, what to do.

use leptos::prelude::*;
use protocol::{
    AgentRequest, Author, Availability, CannedReply, Channel, CustomerProfile, Event, EventBody,
    FileRef, Status, StatusWhy, Team, TeamMember,
};

use super::InboxContext;
use super::attachments;
use super::composer::{Composer, HandOver};
use super::state::InboxState;
use crate::clock;

/// One event as the agent reads it: (class, who, text, files).
fn describe(
    event: Event,
    shopper: &str,
    my_id: &str,
) -> (&'static str, String, String, Vec<FileRef>) {
    let files = match &event.body {
        EventBody::Message { files, .. } => files.clone(),
        _ => Vec::new(),
    };
    let (class, who, text) = describe_text(event, shopper, my_id);
    (class, who, text, files)
}

fn describe_text(event: Event, shopper: &str, my_id: &str) -> (&'static str, String, String) {
    let by_email = event.via == Channel::Email;
    match (event.author, event.body) {
        (Author::Visitor, EventBody::Message { text, .. }) => {
            let shopper = if shopper.is_empty() {
                "Visitor"
            } else {
                shopper
            };
            let who = if by_email {
                format!("{shopper} · by email")
            } else {
                shopper.to_owned()
            };
            ("line visitor", who, text)
        }
        (Author::Agent { id, name }, EventBody::Message { text, .. }) => (
            if id == my_id { "line me" } else { "line agent" },
            name,
            text,
        ),
        (Author::Agent { name, .. }, EventBody::Note { text }) => {
            ("line note", format!("Note · {name}"), text)
        }
        (_, EventBody::Note { text }) => ("line note", "Note".to_owned(), text),
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
        (Author::System, EventBody::Message { text, .. }) => ("line system", String::new(), text),
        (author, EventBody::Status { status, why }) => (
            "line system status",
            String::new(),
            status_line(&author, &status, why),
        ),
        (author, EventBody::Reopened { why }) => (
            "line system status",
            String::new(),
            match (why, author) {
                (StatusWhy::Agent, Author::Agent { name, .. }) => format!("Reopened by {name}"),
                (StatusWhy::CustomerWrote, _) => "Reopened: the customer wrote again".to_owned(),
                _ => "Reopened".to_owned(),
            },
        ),
    }
}

/// How a change of status reads in the history.
fn status_line(author: &Author, status: &Status, why: StatusWhy) -> String {
    let by = match author {
        Author::Agent { name, .. } => format!(" by {name}"),
        _ => String::new(),
    };
    match (status, why) {
        (Status::Pending, _) => format!("Pending{by}: waiting on the customer"),
        (Status::Snoozed { until_ms: Some(at) }, _) => {
            format!("Snoozed{by} until {}", clock::date_and_time(*at))
        }
        (Status::Snoozed { until_ms: None }, _) => {
            format!("Snoozed{by} until the customer writes")
        }
        (Status::Open, StatusWhy::CustomerWrote) => "Open again: the customer wrote".to_owned(),
        (Status::Open, StatusWhy::SnoozeEnded) => "Open again: the snooze ended".to_owned(),
        (Status::Open, StatusWhy::Agent) => format!("Open again{by}"),
    }
}

/// Each event with the day it starts (if it is the first of its day) and
/// whether it is the last of the agents' messages the shopper has seen.
fn lines(s: &InboxState) -> Vec<(Event, Option<String>, bool)> {
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
        .collect()
}

#[component]
pub fn Transcript(
    team: Signal<Vec<TeamMember>>,
    teams: Signal<Vec<Team>>,
    replies: RwSignal<Vec<CannedReply>>,
    profile: RwSignal<Option<CustomerProfile>>,
) -> impl IntoView {
    let InboxContext {
        state, socket, me, ..
    } = expect_context();
    let my_id = me.with_value(|me| me.id.clone());
    let line = move |(event, day, seen): (Event, Option<String>, bool)| {
        let at = event.created_at_ms;
        let seq = event.seq;
        let shopper = state.with_untracked(|s| s.open_shopper.clone());
        let (class, who, text, files) = describe(event, &shopper, &my_id);
        // The message a search opened this at: marked, and scrolled to.
        let focus = state
            .with_untracked(|s| s.focus.clone())
            .filter(|focus| focus.seq == seq);
        let found = focus.is_some();
        let shown_text = match focus {
            Some(focus) => super::search::marked(&text, &focus.highlights).into_any(),
            None => attachments::linked(&text).into_any(),
        };
        let day = day.map(|day| view! { <li class="day" role="separator">{day}</li> });
        let seen = seen.then(|| view! { <span class="seen">"Seen"</span> });
        view! {
            {day}
            <li class=class class:found=found id=format!("event-{seq}")>
                <span class="who">{who}</span>
                <time class="at">{clock::time_of_day(at, None)}</time>
                <span class="text">{shown_text}</span>
                {attachments::shown(files)}
                {seen}
            </li>
        }
    };
    let closed = Signal::derive(move || state.with(InboxState::open_is_closed));
    let open_id = move || state.with_untracked(|s| s.open.clone());
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
                <button type="button" class="primary" on:click=move |_| socket.set_status(Availability::Online)>"Go online"</button>
            </section>
            <Show when=move || state.with(|s| s.open.is_some())
                fallback=|| view! { <p class="empty">"Pick a conversation on the left."</p> }>
                <div class="transcript-actions">
                    <button class="close-conversation" type="button" hidden=closed on:click=move |_| {
                        if let Some(conversation_id) = open_id() {
                            socket.send(&AgentRequest::Close { conversation_id, skip_rating: false });
                        }
                    }>"Close conversation"</button>
                    <button class="close-quietly" type="button" hidden=closed
                        title="Close without asking the shopper to rate the chat (spam, an ok-thanks)"
                        on:click=move |_| {
                        if let Some(conversation_id) = open_id() {
                            socket.send(&AgentRequest::Close { conversation_id, skip_rating: true });
                        }
                    }>"Close without rating"</button>
                    <button class="send-transcript" type="button" title="Email the conversation so far to the shopper"
                        on:click=move |_| {
                        if let Some(conversation_id) = open_id() {
                            socket.send(&AgentRequest::SendTranscript { conversation_id });
                        }
                    }>"Email transcript"</button>
                    <super::statuses::StatusActions />
                    <HandOver team teams closed />
                    <crate::blocks::BlockShopper conversation=Signal::derive(move || state.with(|s| s.open.clone())) />
                </div>
                <super::statuses::Labels />
                {move || state.with(|s| (s.earliest > 1).then(|| (s.open.clone(), s.earliest))).and_then(|(id, earliest)| {
                    let id = id?;
                    Some(view! {
                        <button type="button" class="earlier" on:click=move |_| {
                            socket.send(&AgentRequest::Earlier { conversation_id: id.clone(), before_seq: earliest });
                        }>"Earlier messages"</button>
                    })
                })}
                <ol class="events" aria-live="polite">
                    <For each=move || state.with(lines) key=|(e, day, seen)| (e.seq, day.clone(), *seen) children=line.clone() />
                    <For each=move || state.with(|s| s.pending.clone()) key=|p| p.client_id.clone()
                        children=|p| {
                            let class = if p.note { "line note sending" } else { "line me sending" };
                            let names = p.files.iter().map(|f| f.name.clone()).collect::<Vec<_>>().join(", ");
                            view! { <li class=class><span class="text">{p.body}</span><span class="files">{names}</span></li> }
                        } />
                </ol>
                <p class="typing" aria-live="polite">{move || state.with(|s| s.typing.clone().map(|typing| view! {
                    {typing.label}
                    {typing.draft.map(|d| view! { " " <q class="draft">{d}</q> })}
                }))}</p>
                <p class="error" role="alert">{move || state.with(|s| s.notice.clone())}</p>
                <p class="closed-note" role="status" hidden=move || !closed.get()>
                    "This conversation is closed: nothing more can be sent in it. If the shopper writes again within the site's reopen window (7 days unless the site says otherwise) it opens again and comes back to you if you have room; later, a new conversation starts, linked to this one. “Reopen” opens it now."
                </p>
                <Composer replies profile closed />
            </Show>
        </main>
    }
}
