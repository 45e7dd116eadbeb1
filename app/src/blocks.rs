//! Blocking a shopper from the inbox, and the owner's list of blocks in
//! the console (lifted there).

use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{BlockRequest, BlockView};

use crate::api::{NONE, call, call_empty};

/// "Block…" beside an open conversation: a reason, whether to block the
/// address too, and the block (the chat closes and the shopper is cut off).
#[component]
pub fn BlockShopper(conversation: Signal<Option<String>>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let address = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let block = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = conversation.get_untracked() else {
            return;
        };
        let request = BlockRequest {
            reason: reason.get_untracked(),
            address: address.get_untracked(),
        };
        spawn_local(async move {
            let path = format!("/api/conversations/{id}/block");
            let done = call_empty("POST", &path, Some(&request)).await;
            if done.is_ok() {
                reason.set(String::new());
            }
            outcome.set(Some(done));
        });
    };
    view! {
        <details class="block-shopper">
            <summary>"Block…"</summary>
            <form on:submit=block>
                <input aria-label="Why block this shopper" placeholder="Why (the owner sees it)" required
                    prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
                <label><input type="checkbox" prop:checked=move || address.get()
                    on:change=move |ev| address.set(event_target_checked(&ev)) />
                    " and their address"</label>
                <button type="submit">"Block shopper"</button>
                {move || match outcome.get() {
                    Some(Ok(())) => view! { <p role="status">"Blocked: the chat is closed and they cannot come back."</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                    None => ().into_any(),
                }}
            </form>
        </details>
    }
}

/// The owner's list of blocks, each with a way to lift it; read again
/// each time the console is shown (agents block from their inboxes).
#[component]
pub fn BlocksPanel(shown: Signal<bool>) -> impl IntoView {
    let blocks = RwSignal::new(Vec::<BlockView>::new());
    let problem = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match call::<Vec<BlockView>>("GET", "/api/admin/blocks", NONE).await {
                Ok(list) => blocks.set(list),
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    Effect::new(move |_| {
        if shown.get() {
            reload();
        }
    });
    view! {
        <section class="blocks">
            <h2>"Blocked shoppers"</h2>
            <p class="error" role="alert">{move || problem.get()}</p>
            <ul>
                {move || blocks.get().into_iter().map(|b| {
                    let lift = move |_| {
                        let path = format!("/api/admin/blocks/{}", b.id);
                        spawn_local(async move {
                            if let Err(message) = call_empty("DELETE", &path, NONE).await {
                                problem.set(Some(message));
                            }
                            reload();
                        });
                    };
                    let what = match &b.address {
                        Some(address) => format!("A shopper and their address {address}"),
                        None => "A shopper".to_owned(),
                    };
                    let by = b.blocked_by.clone().unwrap_or_else(|| "someone".to_owned());
                    view! {
                        <li>{format!("{what}, blocked by {by}: {}", b.reason)}
                            " " <button type="button" on:click=lift>"Lift"</button></li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
