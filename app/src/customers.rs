//! Customers: the account's list (verified contacts, and anonymous visitors
//! who left an address), searched and paged, and one customer's page
//! without a conversation open: profile, every conversation (each opens in
//! the inbox), labels, notes, the audit of merges; for owners, merging
//! another contact in and erasing for good.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{CustomerLine, CustomerList, CustomerProfile, MergeRequest, NewContactNote};

use crate::{Navigation, api, clock};

/// Whose page is shown: a contact's or an anonymous visitor's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerKey {
    Contact(String),
    Visitor(String),
}

impl CustomerKey {
    fn of(line: &CustomerLine) -> Option<CustomerKey> {
        match (&line.contact_id, &line.visitor_id) {
            (Some(id), _) => Some(CustomerKey::Contact(id.clone())),
            (None, Some(id)) => Some(CustomerKey::Visitor(id.clone())),
            (None, None) => None,
        }
    }

    fn path(&self) -> String {
        match self {
            CustomerKey::Contact(id) => format!("/api/contacts/{id}"),
            CustomerKey::Visitor(id) => format!("/api/visitors/{id}"),
        }
    }
}

fn list_path(query: &str, after: Option<&str>) -> String {
    let mut path = format!("/api/customers?q={}", js_sys::encode_uri_component(query));
    if let Some(after) = after {
        path.push_str(&format!("&after={}", js_sys::encode_uri_component(after)));
    }
    path
}

#[component]
pub fn Customers(owner: bool) -> impl IntoView {
    let nav: Navigation = expect_context();
    let query = RwSignal::new(String::new());
    let lines = RwSignal::new(Vec::<CustomerLine>::new());
    let next = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let load = move |more: bool| {
        let after = if more { next.get_untracked() } else { None };
        let path = list_path(&query.get_untracked(), after.as_deref());
        spawn_local(async move {
            match api::call::<CustomerList>("GET", &path, api::NONE).await {
                Ok(page) => {
                    lines.update(|l| {
                        if !more {
                            l.clear();
                        }
                        l.extend(page.customers);
                    });
                    next.set(page.next);
                    problem.set(None);
                }
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    // The list is fresh each time the page is shown.
    Effect::new(move |_| {
        if nav.mode.get() == crate::Mode::Customers {
            load(false);
        }
    });
    view! {
        <div class="customers">
            <nav class="customer-list" aria-label="Customers">
                <form class="search" role="search" on:submit=move |ev| { ev.prevent_default(); load(false); }>
                    <input type="search" aria-label="Search customers" placeholder="Name, email or shop id"
                        prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
                    <button type="submit">"Find"</button>
                </form>
                <p class="error" role="alert">{move || problem.get()}</p>
                <ul>
                    {move || lines.get().into_iter().map(|line| {
                        let key = CustomerKey::of(&line);
                        let title = line.name.clone().or_else(|| line.email.clone())
                            .unwrap_or_else(|| "Customer".to_owned());
                        let detail = [line.email.clone(), line.external_id.clone()]
                            .into_iter().flatten().collect::<Vec<_>>().join(" · ");
                        let badge = if line.contact_id.is_some() { "verified" } else { "left an email" };
                        let count = format!("{} conversation{}", line.conversations,
                            if line.conversations == 1 { "" } else { "s" });
                        let chosen = key.clone();
                        view! {
                            <li>
                                <button type="button" class="customer-line"
                                    aria-pressed=move || (nav.customer.get() == chosen).to_string()
                                    on:click=move |_| nav.customer.set(key.clone())>
                                    <span class="label">{title}</span>
                                    <span class="badge">{badge}</span>
                                    <span class="detail">{detail}</span>
                                    <span class="count">{count}</span>
                                    <span class="tags">{line.labels.join(", ")}</span>
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <p class="empty" hidden=move || !lines.with(Vec::is_empty)>"No customer matches."</p>
                <button type="button" class="more" hidden=move || next.with(Option::is_none)
                    on:click=move |_| load(true)>"More"</button>
            </nav>
            {move || nav.customer.get().map(|key| view! { <CustomerPage key owner on_gone=move || { nav.customer.set(None); load(false); } /> })}
        </div>
    }
}

#[component]
fn CustomerPage(
    key: CustomerKey,
    owner: bool,
    on_gone: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let page = RwSignal::new(None::<CustomerProfile>);
    let problem = RwSignal::new(None::<String>);
    let path = StoredValue::new(key.path());
    let reload = move || {
        let path = path.get_value();
        spawn_local(async move {
            match api::call::<CustomerProfile>("GET", &path, api::NONE).await {
                Ok(loaded) => page.set(Some(loaded)),
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    reload();
    let contact_id = move || {
        page.with(|p| {
            p.as_ref()
                .and_then(|p| p.contact.as_ref().map(|c| c.id.clone()))
        })
    };
    // Sends a change; the page reloads, or says why not.
    let send = move |method: &'static str, path: String, body: Option<serde_json::Value>| {
        spawn_local(async move {
            match api::call_empty(method, &path, body.as_ref()).await {
                Ok(()) => {
                    problem.set(None);
                    reload();
                }
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    let note = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let merge_id = RwSignal::new(String::new());
    let add_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(id) = contact_id() {
            let body = NewContactNote {
                body: note.get_untracked(),
            };
            send(
                "POST",
                format!("/api/contacts/{id}/notes"),
                serde_json::to_value(body).ok(),
            );
            note.set(String::new());
        }
    };
    let label_path = move |id: &str, name: &str| {
        format!(
            "/api/contacts/{id}/labels/{}",
            js_sys::encode_uri_component(name)
        )
    };
    let add_label = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = label.get_untracked();
        if let (Some(id), false) = (contact_id(), name.trim().is_empty()) {
            send("PUT", label_path(&id, &name), None);
            label.set(String::new());
        }
    };
    // The owner names the other contact by its shop id; it becomes part
    // of this one.
    let merge = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(kept) = contact_id() else { return };
        let shop_id = merge_id.get_untracked().trim().to_owned();
        if shop_id.is_empty() {
            return;
        }
        let confirmed = window()
            .confirm_with_message(&format!(
                "Merge the customer with shop id {shop_id} into this one? Their conversations, notes and labels move here."
            ))
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            let lookup = format!(
                "/api/contacts?external_id={}",
                js_sys::encode_uri_component(&shop_id)
            );
            let found = api::call::<Vec<serde_json::Value>>("GET", &lookup, api::NONE).await;
            let other = match found {
                Ok(list) => list
                    .first()
                    .and_then(|c| c["id"].as_str().map(str::to_owned)),
                Err(reason) => {
                    problem.set(Some(reason));
                    return;
                }
            };
            let Some(other) = other else {
                problem.set(Some(format!("No customer has the shop id {shop_id}.")));
                return;
            };
            let body = MergeRequest {
                merged_contact_id: other,
            };
            match api::call::<CustomerProfile>(
                "POST",
                &format!("/api/contacts/{kept}/merge"),
                Some(&body),
            )
            .await
            {
                Ok(merged) => {
                    page.set(Some(merged));
                    merge_id.set(String::new());
                    problem.set(None);
                }
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    let erase = move |_| {
        let confirmed = window()
            .confirm_with_message("Erase this customer for good: every conversation, file, note and their email address?")
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        let path = path.get_value();
        spawn_local(async move {
            match api::call_empty("DELETE", &path, api::NONE).await {
                Ok(()) => on_gone(),
                Err(reason) => problem.set(Some(reason)),
            }
        });
    };
    view! {
        <section class="customer-page" aria-label="Customer page">
            <p class="error" role="alert">{move || problem.get()}</p>
            {move || page.get().map(|p| {
                let verified = p.contact.is_some();
                let title = match &p.contact {
                    Some(c) => c.name.clone().unwrap_or_else(|| "Verified customer".to_owned()),
                    None => p.unverified.as_ref().and_then(|u| u.name.clone().or_else(|| u.email.clone()))
                        .unwrap_or_else(|| "Anonymous visitor".to_owned()),
                };
                view! {
                    <h2>{title}<span class="badge" class:verified=verified>{if verified { "verified" } else { "not verified" }}</span></h2>
                    {crate::profile::details(&p)}
                    {verified.then(|| view! {
                        <div class="labels-editor">
                            <ul class="labels" aria-label="Customer labels">
                                {p.labels.iter().map(|name| {
                                    let off = name.clone();
                                    view! {
                                        <li class="tag">{name.clone()}
                                            <button type="button" aria-label=format!("Remove the label {name}")
                                                on:click=move |_| if let Some(id) = contact_id() {
                                                    send("DELETE", label_path(&id, &off), None);
                                                }>"×"</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <form class="add-label" on:submit=add_label>
                                <input name="customer-label" aria-label="New customer label" placeholder="Add a label"
                                    maxlength=protocol::MAX_LABEL_NAME_CHARS.to_string()
                                    prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev)) />
                                <button type="submit">"Label"</button>
                            </form>
                        </div>
                    })}
                    {crate::profile::history(&p.conversations, None)}
                    {verified.then(|| view! {
                        <h3>"Notes"</h3>
                        <ul class="notes">
                            {p.notes.iter().map(|n| view! {
                                <li><span class="who">{n.author_name.clone().unwrap_or_default()}</span>" "{n.body.clone()}</li>
                            }).collect_view()}
                        </ul>
                        <form class="add-note" on:submit=add_note>
                            <input aria-label="Note about this customer" placeholder="Shared with every agent"
                                prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
                            <button type="submit">"Add note"</button>
                        </form>
                    })}
                    {(!p.merges.is_empty()).then(|| view! {
                        <h3>"Merged into this customer"</h3>
                        <ul class="merges">
                            {p.merges.iter().map(|m| {
                                let who = match m.reason.as_str() {
                                    "same_shop_id" => "the same shop id on two sites".to_owned(),
                                    _ => m.agent_name.clone().unwrap_or_else(|| "an owner".to_owned()),
                                };
                                view! { <li>{format!("{} ({}), by {who}, {}",
                                    m.merged_name.clone().unwrap_or_default(), m.merged_external_id,
                                    clock::date_and_time(m.at_ms))}</li> }
                            }).collect_view()}
                        </ul>
                    })}
                    {(owner && verified).then(|| view! {
                        <form class="merge" on:submit=merge>
                            <input aria-label="Shop id of a customer to merge into this one" placeholder="Shop id of the same person"
                                prop:value=move || merge_id.get() on:input=move |ev| merge_id.set(event_target_value(&ev)) />
                            <button type="submit">"Merge into this customer"</button>
                        </form>
                    })}
                    {owner.then(|| view! {
                        <button type="button" class="erase danger" on:click=erase>"Erase this customer"</button>
                    })}
                }
            })}
        </section>
    }
}
