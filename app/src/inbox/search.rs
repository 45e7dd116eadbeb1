//! Search: a box above the lists; what it finds in the account's messages,
//! notes and email replies (newest first, the words marked) and customers.
//! A message opens its conversation at that message, marked; a customer
//! opens their page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{CustomerHit, MessageHit, SearchResults};

use super::InboxContext;
use super::list::customer_label;
use super::state::Focus;
use crate::{api, clock};

/// A text with the `[start, end)` byte ranges marked.
pub fn marked(text: &str, ranges: &[[usize; 2]]) -> impl IntoView + use<> {
    let mut parts = Vec::new();
    let mut at = 0;
    for &[start, end] in ranges {
        let (Some(before), Some(word)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        parts.push(before.to_owned().into_any());
        parts.push(view! { <mark>{word.to_owned()}</mark> }.into_any());
        at = end;
    }
    parts.push(text.get(at..).unwrap_or_default().to_owned().into_any());
    parts.collect_view()
}

#[component]
pub fn SearchBox(results: RwSignal<Option<SearchResults>>) -> impl IntoView {
    let InboxContext { state, .. } = expect_context();
    let query = RwSignal::new(String::new());
    let run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked();
        if q.trim().is_empty() {
            results.set(None);
            return;
        }
        let path = format!("/api/search?q={}", js_sys::encode_uri_component(&q));
        spawn_local(async move {
            match api::call::<SearchResults>("GET", &path, api::NONE).await {
                Ok(found) => results.set(Some(found)),
                Err(problem) => state.update(|s| s.notice = Some(problem)),
            }
        });
    };
    view! {
        <form class="search" role="search" on:submit=run>
            <input type="search" name="q" aria-label="Search messages and customers"
                placeholder="Search messages and customers"
                prop:value=move || query.get()
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    if query.with_untracked(|q| q.is_empty()) {
                        results.set(None);
                    }
                } />
            <button type="submit">"Search"</button>
        </form>
    }
}

#[component]
pub fn SearchResultsList(results: RwSignal<Option<SearchResults>>) -> impl IntoView {
    let context: InboxContext = expect_context();
    let open_hit = move |hit: MessageHit| {
        context.open_listed(hit.conversation.id.clone(), Some(&hit.conversation));
        context.state.update(|s| {
            s.focus = Some(Focus {
                seq: hit.event.seq,
                highlights: hit.highlights.clone(),
            });
        });
    };
    let nav: crate::Navigation = expect_context();
    let open_customer = move |customer: CustomerHit| nav.open_contact(customer.contact_id);
    view! {
        <section class="search-results" aria-label="Search results">
            <h2>"Found"</h2>
            {move || results.get().map(|found| {
                let none = found.messages.is_empty() && found.customers.is_empty();
                view! {
                    <p class="empty" hidden=!none>"Nothing matches every word."</p>
                    <ul class="customers">
                        {found.customers.into_iter().map(|customer| {
                            let label = customer.name.clone().unwrap_or_else(|| customer.external_id.clone());
                            let detail = customer.email.clone().unwrap_or_default();
                            view! {
                                <li>
                                    <button type="button" class="customer-hit"
                                        on:click=move |_| open_customer(customer.clone())>
                                        <span class="label">{label}</span>
                                        <span class="detail">{detail}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <ul class="messages">
                        {found.messages.into_iter().map(|hit| {
                            let text = match &hit.event.body {
                                protocol::EventBody::Message { text, .. } | protocol::EventBody::Note { text } => text.clone(),
                                _ => String::new(),
                            };
                            let note = matches!(hit.event.body, protocol::EventBody::Note { .. });
                            let who = customer_label(&hit.conversation);
                            let at = clock::when(hit.event.created_at_ms);
                            let snippet = marked(&text, &hit.highlights);
                            let opened = hit.clone();
                            view! {
                                <li>
                                    <button type="button" class="conversation message-hit" on:click=move |_| open_hit(opened.clone())>
                                        <span class="label">{who}</span>
                                        <time class="last-active">{at}</time>
                                        <span class="snippet">{note.then_some("Note: ")}{snippet}</span>
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })}
        </section>
    }
}
