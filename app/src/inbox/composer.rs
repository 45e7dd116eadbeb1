//! What the agent writes into the open conversation: a reply or a private
//! note (with canned replies and typing signals), and a hand-over to a
//! colleague or a team with a note for them.

use client::new_client_id;
use leptos::prelude::*;
use protocol::{
    AgentRequest, Availability, CannedReply, CustomerProfile, TYPING_EVERY_SECS, Team, TeamMember,
};

use super::InboxContext;
use super::attachments::{Tray, TrayView};
use super::state::Pending;

/// A help article found for `/a`, as `GET /api/articles/search` gives it.
#[derive(Clone, Debug, serde::Deserialize)]
struct ArticleCard {
    title: String,
    url: String,
}

#[component]
pub fn Composer(
    replies: RwSignal<Vec<CannedReply>>,
    profile: RwSignal<Option<CustomerProfile>>,
    closed: Signal<bool>,
) -> impl IntoView {
    let InboxContext { state, socket, .. } = expect_context();
    let draft = RwSignal::new(String::new());
    let offered = move || draft.with(|d| replies.with(|r| crate::replies::matching(d, r)));
    let use_reply = move |reply: &CannedReply| {
        draft.set(profile.with_untracked(|p| crate::replies::fill(&reply.body, p.as_ref())));
    };
    // `/a words`: the site's published help articles, each sent as a card
    // (its title and the link the widget opens it from).
    let articles = RwSignal::new(Vec::<ArticleCard>::new());
    Effect::new(move |_| {
        let Some(words) = draft.with(|d| d.strip_prefix("/a ").map(str::to_owned)) else {
            articles.set(Vec::new());
            return;
        };
        let site = state.with_untracked(|s| {
            s.open.as_ref().and_then(|id| {
                s.conversations
                    .iter()
                    .find(|c| &c.id == id)
                    .map(|c| c.site_id.clone())
            })
        });
        let language = profile.with_untracked(|p| {
            p.as_ref()
                .and_then(|p| p.language.clone())
                .unwrap_or_default()
        });
        let Some(site) = site else { return };
        leptos::task::spawn_local(async move {
            let path = format!(
                "/api/articles/search?site={}&lang={}&q={}",
                js_sys::encode_uri_component(&site),
                js_sys::encode_uri_component(&language),
                js_sys::encode_uri_component(&words)
            );
            if let Ok(found) =
                crate::api::call::<Vec<ArticleCard>>("GET", &path, crate::api::NONE).await
                && draft.with_untracked(|d| d.strip_prefix("/a ") == Some(words.as_str()))
            {
                articles.set(found);
            }
        });
    });
    let use_article = move |card: &ArticleCard| draft.set(format!("{}\n{}", card.title, card.url));
    let private = RwSignal::new(false);
    // When the agent last told they were typing (ms); a sent message ends
    // that spell, so the next keystroke is told at once.
    let last_typing = StoredValue::new(0.0_f64);
    let tray = Tray::new();
    let reply = move || {
        let body = draft.get_untracked();
        let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) else {
            return;
        };
        let note = private.get_untracked();
        // Notes are words only; files go to the shopper.
        let files = if note { Vec::new() } else { tray.ready() };
        if tray.busy() && !note {
            state.update(|s| {
                s.notice = Some("A file is still uploading; send when it is done.".to_owned())
            });
            return;
        }
        if body.trim().is_empty() && files.is_empty() {
            return;
        }
        let pending = Pending {
            client_id: new_client_id(),
            conversation_id,
            body,
            note,
            files: files.clone(),
        };
        state.update(|s| s.pending.push(pending.clone()));
        socket.send(&pending.request());
        draft.set(String::new());
        if !files.is_empty() {
            tray.items.set(Vec::new());
        }
        last_typing.set_value(0.0);
    };
    // The agent types: the shopper (or, for a note, colleagues) see it,
    // one signal every few seconds at most.
    let typing = move || {
        let now = js_sys::Date::now();
        if now - last_typing.get_value() < f64::from(TYPING_EVERY_SECS) * 1000.0 {
            return;
        }
        if let Some(conversation_id) = state.with_untracked(|s| s.open.clone()) {
            last_typing.set_value(now);
            socket.send(&AgentRequest::Typing {
                conversation_id,
                private: private.get_untracked(),
            });
        }
    };
    view! {
        <form class="reply" hidden=closed class:private=move || private.get() on:submit=move |ev| { ev.prevent_default(); reply(); }
            on:dragover=move |ev| ev.prevent_default()
            on:drop=move |ev| {
                ev.prevent_default();
                tray.add(ev.data_transfer().and_then(|d| d.files()));
            }>
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
            <ul class="suggestions" aria-label="Help articles">
                {move || articles.get().into_iter().map(|card| {
                    let title = card.title.clone();
                    view! { <li><button type="button" class="suggestion" on:click=move |_| use_article(&card)>
                        "📄 " {title}</button></li> }
                }).collect_view()}
            </ul>
            <TrayView tray />
            <textarea aria-label="Reply"
                placeholder=move || if private.get() { "A note only agents see…" } else { "Write a reply… (/ for canned replies, /a for help articles)" }
                prop:value=move || draft.get()
                on:paste=move |ev| {
                    // A pasted screenshot becomes a file of the reply.
                    let files = ev.clipboard_data().and_then(|d| d.files());
                    if files.as_ref().is_some_and(|f| f.length() > 0) {
                        ev.prevent_default();
                        tray.add(files);
                    }
                }
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    typing();
                }
                on:keydown=move |ev| {
                    // Tab takes the first canned reply (or article) offered.
                    if ev.key() == "Tab" && let Some(first) = offered().first() {
                        ev.prevent_default();
                        use_reply(first);
                    } else if ev.key() == "Tab" && let Some(first) = articles.with_untracked(|a| a.first().cloned()) {
                        ev.prevent_default();
                        use_article(&first);
                    } else if ev.key() == "Enter" && !ev.shift_key() {
                        ev.prevent_default();
                        reply();
                    }
                }></textarea>
            <label class="attach" title="Attach files (or paste a screenshot, or drop files here)">
                "Attach"
                <input type="file" multiple class="sr-only"
                    on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        tray.add(input.files());
                        input.set_value("");
                    } />
            </label>
            <button type="submit">"Send"</button>
        </form>
    }
}

/// Hands the open conversation to a colleague or back to a team's line,
/// with a note only agents see.
#[component]
pub fn HandOver(
    team: Signal<Vec<TeamMember>>,
    teams: Signal<Vec<Team>>,
    closed: Signal<bool>,
) -> impl IntoView {
    let InboxContext {
        state, socket, me, ..
    } = expect_context();
    let hand_to = RwSignal::new(String::new());
    let hand_note = RwSignal::new(String::new());
    let others = move || {
        team.get()
            .into_iter()
            .filter(|m| me.with_value(|me| m.id != me.id))
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
        socket.send(&AgentRequest::HandOver {
            conversation_id,
            to_agent_id,
            to_team_id,
            note: hand_note.get_untracked(),
        });
        hand_note.set(String::new());
    };
    view! {
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
    }
}
