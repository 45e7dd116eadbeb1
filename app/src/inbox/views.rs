//! The views of the account's conversations (Mine, Unassigned, All open,
//! Pending, Snoozed, Closed), each with a count that follows every change
//! the inbox hears of, and the chosen view's pages, newest activity first
//! ("More" reads the next page after the last one shown).

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{ConversationSummary, Label, View, ViewCounts, ViewPage};

use super::InboxContext;
use super::list::ConversationItem;
use crate::api;

/// Where a view's pages are read, with the label filter if one is chosen.
fn view_path(view: View, label: &str, after: Option<&str>) -> String {
    let mut path = format!("/api/views/{}", view.as_str());
    let mut query = Vec::new();
    if !label.is_empty() {
        query.push(format!("label={}", js_sys::encode_uri_component(label)));
    }
    if let Some(after) = after {
        query.push(format!("after={}", js_sys::encode_uri_component(after)));
    }
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// The view buttons with their counts; `None` chosen: the live lists
/// (waiting lines and the agent's own, as the socket tells them).
#[component]
pub fn Views(chosen: RwSignal<Option<View>>, label: RwSignal<String>) -> impl IntoView {
    let InboxContext { state, .. } = expect_context();
    let counts = LocalResource::new(move || {
        state.with(|s| s.changes);
        let label = label.get();
        async move {
            let path = if label.is_empty() {
                "/api/views".to_owned()
            } else {
                format!("/api/views?label={}", js_sys::encode_uri_component(&label))
            };
            api::call::<ViewCounts>("GET", &path, api::NONE).await
        }
    });
    let labels = LocalResource::new(move || {
        state.with(|s| s.changes);
        api::call::<Vec<Label>>("GET", "/api/labels", api::NONE)
    });
    view! {
        <section class="views" aria-label="Views">
            <ul>
                <li>
                    <button type="button" class="view" data-view="inbox"
                        aria-pressed=move || chosen.get().is_none().to_string()
                        on:click=move |_| chosen.set(None)>"Live"</button>
                </li>
                {View::all().into_iter().map(|view| view! {
                    <li>
                        <button type="button" class="view" data-view=view.as_str()
                            aria-pressed=move || (chosen.get() == Some(view)).to_string()
                            on:click=move |_| chosen.set(Some(view))>
                            {view.title()}
                            <span class="count">{move || counts.get().and_then(Result::ok)
                                .map(|c| c.shown(view)).unwrap_or_default()}</span>
                        </button>
                    </li>
                }).collect_view()}
            </ul>
            <label class="label-filter">"Label "
                <select name="label-filter" prop:value=move || label.get()
                    on:change=move |ev| label.set(event_target_value(&ev))>
                    <option value="">"Any"</option>
                    {move || labels.get().and_then(Result::ok).unwrap_or_default().into_iter()
                        .map(|l| view! { <option value=l.name.clone()>{l.name.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
        </section>
    }
}

/// One view's conversations, a page at a time.
#[component]
pub fn ViewList(view: View, label: RwSignal<String>) -> impl IntoView {
    let InboxContext { state, .. } = expect_context();
    let shown = RwSignal::new(Vec::<ConversationSummary>::new());
    let next = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    // The first page again whenever anything changed.
    let first = LocalResource::new(move || {
        state.with(|s| s.changes);
        let path = view_path(view, &label.get(), None);
        async move { api::call::<ViewPage>("GET", &path, api::NONE).await }
    });
    Effect::new(move |_| match first.get() {
        Some(Ok(page)) => {
            shown.set(page.conversations);
            next.set(page.next);
            problem.set(None);
        }
        Some(Err(reason)) => problem.set(Some(reason)),
        None => {}
    });
    let more = move |_| {
        let Some(after) = next.get_untracked() else {
            return;
        };
        let path = view_path(view, &label.get_untracked(), Some(&after));
        spawn_local(async move {
            match api::call::<ViewPage>("GET", &path, api::NONE).await {
                Ok(page) => {
                    shown.update(|s| s.extend(page.conversations));
                    next.set(page.next);
                }
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    view! {
        <section class="view-list">
            <h2>{view.title()}</h2>
            <p class="error" role="alert">{move || problem.get()}</p>
            <ul>
                <For each=move || shown.get() key=|c| (c.id.clone(), c.last_seq, c.unread, c.status.clone(), c.labels.clone())
                    children=move |c| view! { <ConversationItem c /> } />
            </ul>
            <p class="empty" hidden=move || !shown.with(Vec::is_empty)>"Nothing here."</p>
            <button type="button" class="more" hidden=move || next.with(Option::is_none) on:click=more>"More"</button>
        </section>
    }
}
