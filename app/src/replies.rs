//! Canned replies: an agent's own and the account's shared ones, offered
//! as the agent types `/shortcut`, with `{first_name}`, `{order_number}` and
//! the like filled from the customer's profile.

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{CannedReply, CannedReplyDraft, CustomerProfile, fill_placeholders};

use crate::api::{NONE, call, call_empty};

/// Loads the replies this agent may use into `replies`.
pub fn load(replies: RwSignal<Vec<CannedReply>>) {
    spawn_local(async move {
        if let Ok(list) = call::<Vec<CannedReply>>("GET", "/api/replies", NONE).await {
            replies.set(list);
        }
    });
}

/// The replies whose shortcut starts with what follows a leading `/`.
pub fn matching(draft: &str, replies: &[CannedReply]) -> Vec<CannedReply> {
    let Some(typed) = draft.strip_prefix('/') else {
        return Vec::new();
    };
    if typed.contains(char::is_whitespace) {
        return Vec::new();
    }
    let typed = typed.to_lowercase();
    replies
        .iter()
        .filter(|r| r.shortcut.starts_with(&typed))
        .cloned()
        .collect()
}

/// A reply's text with what the shop verified filled in; unknown
/// placeholders stay visible for the agent to complete. What a page only
/// stated (anyone can state any name) never fills one: the agent sees it
/// beside the conversation and decides.
pub fn fill(body: &str, profile: Option<&CustomerProfile>) -> String {
    let contact = profile.and_then(|p| p.contact.as_ref());
    let name = contact.and_then(|c| c.name.clone());
    fill_placeholders(body, &|key| match key {
        "first_name" => name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .map(str::to_owned),
        "name" => name.clone(),
        "email" => contact.and_then(|c| c.email.clone()),
        "phone" => contact.and_then(|c| c.phone.clone()),
        other => contact.and_then(|c| c.attributes.get(other).cloned()),
    })
}

/// Managing replies: the agent's own, and (for owners) the shared ones.
#[component]
pub fn RepliesPanel(replies: RwSignal<Vec<CannedReply>>, owner: bool) -> impl IntoView {
    let shortcut = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let shared = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = CannedReplyDraft {
            shortcut: shortcut.get_untracked(),
            body: body.get_untracked(),
            shared: shared.get_untracked(),
        };
        spawn_local(async move {
            match call::<CannedReply>("POST", "/api/replies", Some(&draft)).await {
                Ok(_) => {
                    problem.set(None);
                    shortcut.set(String::new());
                    body.set(String::new());
                    load(replies);
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    let remove = move |id: String| {
        spawn_local(async move {
            match call_empty("DELETE", &format!("/api/replies/{id}"), NONE).await {
                Ok(()) => load(replies),
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    view! {
        <section class="replies">
            <h2>"Canned replies"</h2>
            <p>"Type / and the shortcut in a reply. {first_name}, {name}, {email} and any customer attribute, like {order_number}, are filled in."</p>
            <ul>
                {move || replies.get().into_iter().map(|r| {
                    let id = r.id.clone();
                    view! {
                        <li><code>{format!("/{}", r.shortcut)}</code> " " {r.body}
                            {r.shared.then_some(" (shared)")}
                            <button type="button" on:click=move |_| remove(id.clone())>"Delete"</button></li>
                    }
                }).collect_view()}
            </ul>
            <form on:submit=create>
                <label>"Shortcut" <input name="shortcut" placeholder="refund" required
                    prop:value=move || shortcut.get() on:input=move |ev| shortcut.set(event_target_value(&ev)) /></label>
                <label>"Text to insert" <textarea name="reply-body" rows="2" required
                    placeholder="Hi {first_name}, your refund for {order_number} is on its way."
                    prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea></label>
                {owner.then(|| view! {
                    <label><input type="checkbox" name="shared" prop:checked=move || shared.get()
                        on:change=move |ev| shared.set(event_target_checked(&ev)) /> " Shared with everyone"</label>
                })}
                <button type="submit">"Add reply"</button>
            </form>
            <p class="error" role="alert">{move || problem.get()}</p>
        </section>
    }
}
