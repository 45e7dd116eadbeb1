//! The open conversation's status and labels: set it aside (pending,
//! snoozed until a time or until the customer writes), open it again, or
//! reopen a closed one; put labels on it and take them off.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{AgentRequest, ConversationSummary, Status};

use super::InboxContext;
use super::state::InboxState;
use crate::{api, clock};

const HOUR_MS: f64 = 3_600_000.0;

/// When a snooze choice ends (Unix ms), or `None` for "until they write".
fn snooze_until(choice: &str) -> Option<Option<i64>> {
    let now = js_sys::Date::new_0();
    let at_nine_in = |days: f64| {
        let day = js_sys::Date::new(&now.clone().into());
        day.set_date(day.get_date() + days as u32);
        day.set_hours(9);
        day.set_minutes(0);
        day.set_seconds(0);
        day.get_time()
    };
    let ms = match choice {
        "hour" => now.get_time() + HOUR_MS,
        "tomorrow" => at_nine_in(1.0),
        "week" => at_nine_in(7.0),
        "reply" => return Some(None),
        _ => return None,
    };
    Some(Some(ms as i64))
}

/// What the open conversation's status says, for the agent.
fn status_text(status: &Option<Status>) -> String {
    match status {
        None => "Closed".to_owned(),
        Some(Status::Open) => "Open".to_owned(),
        Some(Status::Pending) => "Pending: waiting on the customer".to_owned(),
        Some(Status::Snoozed { until_ms: Some(at) }) => {
            format!("Snoozed until {}", clock::date_and_time(*at))
        }
        Some(Status::Snoozed { until_ms: None }) => "Snoozed until the customer writes".to_owned(),
    }
}

#[component]
pub fn StatusActions() -> impl IntoView {
    let InboxContext { state, socket, .. } = expect_context();
    let status = Memo::new(move |_| state.with(InboxState::open_status));
    let change = move |status: Status| {
        if let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) {
            socket.send(&AgentRequest::ChangeStatus {
                conversation_id,
                status,
            });
        }
    };
    let is_open = move || status.with(|s| matches!(s, Some(Status::Open)));
    let set_aside =
        move || status.with(|s| matches!(s, Some(Status::Pending | Status::Snoozed { .. })));
    let closed = move || status.with(Option::is_none);
    view! {
        <span class="conversation-status" role="status">{move || status_text(&status.get())}</span>
        <button type="button" class="pending" hidden=move || !is_open()
            title="Waiting on the customer: frees your seat; back when they write"
            on:click=move |_| change(Status::Pending)>"Pending"</button>
        <select class="snooze" name="snooze" hidden=move || !is_open()
            on:change=move |ev| {
                let choice = event_target_value(&ev);
                if let Some(until_ms) = snooze_until(&choice) {
                    change(Status::Snoozed { until_ms });
                }
            }>
            <option value="" selected>"Snooze…"</option>
            <option value="hour">"For an hour"</option>
            <option value="tomorrow">"Until tomorrow 9:00"</option>
            <option value="week">"For a week"</option>
            <option value="reply">"Until the customer writes"</option>
        </select>
        <button type="button" class="open-again" hidden=move || !set_aside()
            on:click=move |_| change(Status::Open)>"Open again"</button>
        <button type="button" class="reopen" hidden=move || !closed()
            on:click=move |_| change(Status::Open)>"Reopen"</button>
    }
}

#[component]
pub fn Labels() -> impl IntoView {
    let InboxContext { state, .. } = expect_context();
    let draft = RwSignal::new(String::new());
    let change = move |name: String, on: bool| {
        let Some(id) = state.with_untracked(|s| s.open.clone()) else {
            return;
        };
        let path = format!(
            "/api/conversations/{id}/labels/{}",
            js_sys::encode_uri_component(&name)
        );
        spawn_local(async move {
            let method = if on { "PUT" } else { "DELETE" };
            match api::call::<ConversationSummary>(method, &path, api::NONE).await {
                Ok(summary) => state.update(|s| {
                    if s.open.as_deref() == Some(summary.id.as_str()) {
                        s.open_labels = summary.labels;
                    }
                }),
                Err(problem) => state.update(|s| s.notice = Some(problem)),
            }
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = draft.get_untracked();
        if !name.trim().is_empty() {
            change(name, true);
            draft.set(String::new());
        }
    };
    view! {
        <div class="labels-editor">
            <ul class="labels" aria-label="Labels">
                {move || state.with(|s| s.open_labels.clone()).into_iter().map(|name| {
                    let off = name.clone();
                    view! {
                        <li class="tag">{name.clone()}
                            <button type="button" class="remove-label" aria-label=format!("Remove the label {name}")
                                on:click=move |_| change(off.clone(), false)>"×"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form class="add-label" on:submit=add>
                <input name="label" placeholder="Add a label" maxlength=protocol::MAX_LABEL_NAME_CHARS.to_string()
                    prop:value=move || draft.get() on:input=move |ev| draft.set(event_target_value(&ev)) />
                <button type="submit">"Label"</button>
            </form>
        </div>
    }
}
