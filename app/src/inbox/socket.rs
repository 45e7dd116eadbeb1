//! The inbox's live connection: what it resends on every reconnect, and
//! how each frame reaches the state and, when it concerns the agent, an alert.

use client::{Handlers, LiveSocket};
use leptos::prelude::*;
use protocol::{AgentFrame, AgentProfile, AgentRequest, Availability, TYPING_EXPIRES_SECS};

use super::list::customer_label;
use super::state::{Attention, InboxState};
use crate::alerts::{self, Alert};

/// The status this browser last chose, restored on every reconnect.
const STATUS_KEY: &str = "rapport:inbox:status";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn socket_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location.and_then(|l| l.protocol().ok()).as_deref() == Some("https:");
    format!("{}://{host}/ws/agent", if secure { "wss" } else { "ws" })
}

fn encode(request: &AgentRequest) -> String {
    serde_json::to_string(request).unwrap_or_default()
}

/// The inbox's socket, as its parts send on it.
#[derive(Clone, Copy)]
pub struct Socket(StoredValue<Option<LiveSocket>, LocalStorage>);

impl Socket {
    /// Sends a request; false while the connection is down.
    pub fn send(&self, request: &AgentRequest) -> bool {
        let text = encode(request);
        self.0
            .try_with_value(|s| s.as_ref().is_some_and(|s| s.send(&text)))
            .unwrap_or(false)
    }

    /// Chooses a status: kept in this browser, restored on reconnect.
    pub fn set_status(&self, status: Availability) {
        if let (Some(storage), Ok(saved)) = (local_storage(), serde_json::to_string(&status)) {
            let _ = storage.set_item(STATUS_KEY, &saved);
        }
        self.send(&AgentRequest::SetStatus { status });
    }

    /// Connects `state` to the server. `open_to` opens a conversation (an
    /// alert's click); `on_ended` runs when the server ends the session.
    /// The socket closes when the inbox is unmounted, or the agent would
    /// stay online.
    pub fn connect(
        state: RwSignal<InboxState>,
        connected: RwSignal<bool>,
        me: AgentProfile,
        open_to: impl Fn(String) + Copy + 'static,
        on_ended: impl Fn() + 'static,
    ) -> Socket {
        let live = LiveSocket::start(
            socket_url(),
            Handlers {
                on_open: Box::new(move |live| {
                    live.connected_ok();
                    let chosen = local_storage()
                        .and_then(|s| s.get_item(STATUS_KEY).ok().flatten())
                        .and_then(|v| serde_json::from_str::<Availability>(&v).ok());
                    if let Some(status) = chosen.filter(|s| *s != Availability::Offline) {
                        live.send(&encode(&AgentRequest::SetStatus { status }));
                    }
                    let (open, after_seq, pending) =
                        state.with_untracked(|s| (s.open.clone(), s.last_seq(), s.pending.clone()));
                    if let Some(conversation_id) = open {
                        live.send(&encode(&AgentRequest::Open {
                            conversation_id,
                            after_seq,
                        }));
                    }
                    for p in pending {
                        live.send(&encode(&p.request()));
                    }
                }),
                on_frame: Box::new(move |text| {
                    let Ok(frame) = serde_json::from_str::<AgentFrame>(text) else {
                        return;
                    };
                    let typing = matches!(frame, AgentFrame::Typing { .. });
                    let now = js_sys::Date::now();
                    let attention = state.try_update(|s| s.apply(&me, frame, now)).flatten();
                    if typing {
                        set_timeout(
                            move || state.update(|s| s.typing_lapsed(js_sys::Date::now())),
                            std::time::Duration::from_secs(u64::from(TYPING_EXPIRES_SECS)),
                        );
                    }
                    if let Some(attention) = attention {
                        alert(state, &me.id, &attention, open_to);
                    }
                }),
                on_status: Box::new(move |up| connected.set(up)),
                on_ended: Box::new(on_ended),
            },
        );
        let socket = Socket(StoredValue::new_local(Some(live)));
        on_cleanup(move || {
            socket.0.try_with_value(|s| {
                if let Some(s) = s {
                    s.close();
                }
            });
        });
        socket
    }
}

/// Alerts the agent (desktop, sound), unless they are looking at it.
fn alert(
    state: RwSignal<InboxState>,
    agent_id: &str,
    attention: &Attention,
    open_to: impl Fn(String) + 'static,
) {
    let alert = match attention {
        Attention::NewChat(c) => Alert::new_chat(c, &customer_label(c)),
        Attention::Message(c) => Alert::message(c, &customer_label(c)),
    };
    let open_here =
        state.with_untracked(|s| s.open.as_deref() == Some(alert.conversation_id.as_str()));
    if !(alerts::in_front() && open_here) {
        alerts::fire(agent_id, &alert, open_to);
    }
}
