//! The customer beside the conversation: who they are (verified by the shop,
//! or only stated), their browser, every conversation with its outcome, and
//! the notes and attribute edits agents share. Agent-only.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{
    AttributeEdit, ConversationState, ConversationSummary, CustomerProfile, NewContactNote,
};

use crate::api;

/// Loads the profile of `conversation_id` into `profile`, unless the agent
/// has opened another conversation by the time it comes.
fn load(
    conversation_id: String,
    open: Memo<Option<(String, i64)>>,
    profile: RwSignal<Option<CustomerProfile>>,
) {
    spawn_local(async move {
        let path = format!("/api/conversations/{conversation_id}/profile");
        if let Ok(loaded) = api::call::<CustomerProfile>("GET", &path, api::NONE).await
            && open.with_untracked(|o| o.as_ref().is_some_and(|(id, _)| *id == conversation_id))
        {
            profile.set(Some(loaded));
        }
    });
}

/// Sends a change and reloads; the server's reason is shown if it refuses.
fn change(
    (method, path, body): (&'static str, String, serde_json::Value),
    conversation_id: String,
    open: Memo<Option<(String, i64)>>,
    profile: RwSignal<Option<CustomerProfile>>,
    problem: RwSignal<Option<String>>,
) {
    spawn_local(async move {
        match api::call_empty(method, &path, Some(&body)).await {
            Ok(()) => {
                problem.set(None);
                load(conversation_id, open, profile);
            }
            Err(reason) => problem.set(Some(reason)),
        }
    });
}

/// What the shop vouched for (shop id, email, phone, attributes) and what a
/// page merely stated, apart.
pub fn details(p: &CustomerProfile) -> impl IntoView + use<> {
    view! {
        {p.contact.clone().map(|c| view! {
            <dl class="details">
                <dt>"Customer id"</dt><dd>{c.external_id}</dd>
                <dt>"Email"</dt><dd>{c.email.unwrap_or_default()}</dd>
                <dt>"Phone"</dt><dd>{c.phone.unwrap_or_default()}</dd>
                {c.attributes.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        })}
        {p.unverified.clone().map(|u| view! {
            <p class="unverified">"Stated by the page, not verified: "
                {[u.name, u.email, u.phone].into_iter().flatten().collect::<Vec<_>>().join(", ")}</p>
        })}
    }
}

/// The customer's conversations, each a link that opens it in the inbox
/// (a link, as it goes there, so it is not taken for the inbox list's
/// buttons); the one `open` now is plain text.
pub fn history(
    conversations: &[ConversationSummary],
    open: Option<String>,
) -> impl IntoView + use<> {
    let nav: crate::Navigation = expect_context();
    view! {
        <h3>"Conversations (" {conversations.len()} ")"</h3>
        <ul class="history">
            {conversations.iter().map(|c| {
                let outcome = match &c.state {
                    ConversationState::Waiting => "waiting".to_owned(),
                    ConversationState::Assigned { agent_name, .. } => format!("with {agent_name}"),
                    ConversationState::Closed => "closed".to_owned(),
                };
                let text = format!("{} · {} · {outcome} · {}", crate::clock::date_only(c.created_at_ms),
                    c.site_name, c.last_message.clone().unwrap_or_default());
                let id = c.id.clone();
                if open.as_deref() == Some(id.as_str()) {
                    view! { <li class="current">{text}</li> }.into_any()
                } else {
                    view! {
                        <li><a class="open-conversation" href=format!("#conversation-{id}")
                            on:click=move |ev| { ev.prevent_default(); nav.open_conversation(id.clone()); }>{text}</a></li>
                    }.into_any()
                }
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn Profile(
    /// The open conversation and the last seq it shows: a new event there
    /// may have changed the customer (a page, an attribute), so it reloads.
    open: Memo<Option<(String, i64)>>,
    /// Shared with the reply box, which fills canned replies from it.
    profile: RwSignal<Option<CustomerProfile>>,
) -> impl IntoView {
    let nav: crate::Navigation = expect_context();
    let problem = RwSignal::new(None::<String>);
    let note = RwSignal::new(String::new());
    let attribute = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let open_id = move || open.with(|o| o.as_ref().map(|(id, _)| id.clone()));
    let open_id_untracked = move || open.with_untracked(|o| o.as_ref().map(|(id, _)| id.clone()));
    // Only another conversation clears the panel: a reload of the same one
    // keeps what is shown, so a canned reply filled meanwhile is still
    // filled for this customer.
    Effect::new(move |shown: Option<Option<String>>| {
        let id = open_id();
        if shown.as_ref() != Some(&id) {
            profile.set(None);
        }
        if let Some(id) = id.clone() {
            load(id, open, profile);
        }
        id
    });
    let contact_id = move || {
        profile.with(|p| {
            p.as_ref()
                .and_then(|p| p.contact.as_ref().map(|c| c.id.clone()))
        })
    };
    let add_note = move || {
        let (Some(contact), Some(conversation)) = (contact_id(), open_id_untracked()) else {
            return;
        };
        let body = NewContactNote {
            body: note.get_untracked(),
        };
        change(
            (
                "POST",
                format!("/api/contacts/{contact}/notes"),
                serde_json::to_value(&body).unwrap_or_default(),
            ),
            conversation,
            open,
            profile,
            problem,
        );
        note.set(String::new());
    };
    let set_attribute = move || {
        let (Some(contact), Some(conversation)) = (contact_id(), open_id_untracked()) else {
            return;
        };
        let text = value.get_untracked();
        let edit = AttributeEdit {
            name: attribute.get_untracked(),
            value: (!text.trim().is_empty()).then_some(text),
        };
        change(
            (
                "PUT",
                format!("/api/contacts/{contact}/attributes"),
                serde_json::to_value(&edit).unwrap_or_default(),
            ),
            conversation,
            open,
            profile,
            problem,
        );
        value.set(String::new());
    };
    view! {
        <aside class="profile" aria-label="Customer">
            {move || profile.get().map(|p| {
                let verified = p.contact.is_some();
                // A name the page only stated never stands beside the
                // verified badge: it is shown apart, as stated.
                let title = match &p.contact {
                    Some(contact) => contact.name.clone().unwrap_or_else(|| "Verified customer".to_owned()),
                    None => p.unverified.as_ref().and_then(|u| u.name.clone())
                        .or_else(|| p.number.map(|n| format!("Visitor {n}")))
                        .unwrap_or_else(|| "Anonymous visitor".to_owned()),
                };
                view! {
                    <h2>{title}
                        <span class="badge" class:verified=verified>
                            {if verified { "verified" } else if p.unverified.is_some() { "unverified" } else { "anonymous" }}
                        </span>
                    </h2>
                    {details(&p)}
                    <p class="browser">{p.language.clone().unwrap_or_default()} " · " {p.browser.clone().unwrap_or_default()}</p>
                    {p.time_zone.clone().map(|zone| view! { <p class="local-time">"Local time: " {crate::clock::now_in(&zone)} " (" {zone} ")"</p> })}
                    {(!p.pages.is_empty()).then(|| view! {
                        <h3>"Pages"</h3>
                        <ul class="pages">
                            {p.pages.iter().map(|page| view! {
                                <li>{page.title.clone().unwrap_or_else(|| page.url.clone())}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(!p.articles.is_empty()).then(|| view! {
                        <h3>"Help articles read"</h3>
                        <ul class="articles-read">
                            {p.articles.iter().map(|read| view! {
                                <li>{read_line(read)}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    {(!p.timeline.is_empty()).then(|| view! {
                        <h3>"Timeline"</h3>
                        <ul class="timeline">
                            {p.timeline.iter().map(|event| view! {
                                <li>{event.name.clone()} " " <span class="data">{event.data.clone().unwrap_or_default()}</span></li>
                            }).collect_view()}
                        </ul>
                    })}
                    {p.contact.as_ref().map(|c| {
                        let id = c.id.clone();
                        view! {
                            <button type="button" class="customer-page-link"
                                on:click=move |_| nav.open_contact(id.clone())>"Customer page"</button>
                        }
                    })}
                    {history(&p.conversations, open_id_untracked())}
                    {verified.then(|| view! {
                        <h3>"Notes"</h3>
                        <ul class="notes">
                            {p.notes.iter().map(|n| view! {
                                <li><span class="who">{n.author_name.clone().unwrap_or_default()}</span>" "{n.body.clone()}</li>
                            }).collect_view()}
                        </ul>
                        <form class="add-note" on:submit=move |ev| { ev.prevent_default(); add_note(); }>
                            <input aria-label="Note about this customer" placeholder="Shared with every agent"
                                prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
                            <button type="submit">"Add note"</button>
                        </form>
                        <form class="set-attribute" on:submit=move |ev| { ev.prevent_default(); set_attribute(); }>
                            <input aria-label="Attribute" placeholder="attribute"
                                prop:value=move || attribute.get() on:input=move |ev| attribute.set(event_target_value(&ev)) />
                            <input aria-label="Value" placeholder="value (empty removes)"
                                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                            <button type="submit">"Set"</button>
                        </form>
                        <ul class="changes">
                            {p.changes.iter().map(|c| view! {
                                <li>{format!("{} changed {} from {} to {}",
                                    c.agent_name.clone().unwrap_or_else(|| "someone".into()), c.name,
                                    c.old_value.clone().unwrap_or_else(|| "—".into()),
                                    c.new_value.clone().unwrap_or_else(|| "—".into()))}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    <p class="error" role="alert">{move || problem.get()}</p>
                }
            })}
        </aside>
    }
}

/// "Returning shoes (offered after their question): answered their question".
fn read_line(read: &protocol::ArticleRead) -> String {
    let how = match read.source.as_str() {
        "suggested" => "offered after their question",
        "card" => "sent by an agent",
        _ => "from the help view",
    };
    let verdict = match read.verdict {
        Some(protocol::ArticleVerdict::Answered) => ": answered their question",
        Some(protocol::ArticleVerdict::Talk) => ": still wanted a person",
        None => "",
    };
    format!(
        "{} ({how}, {}){verdict}",
        read.title,
        crate::clock::when(read.at_ms)
    )
}
