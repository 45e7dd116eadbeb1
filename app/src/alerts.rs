//! Telling an agent who is not looking: a desktop notification (one per
//! conversation, replaced as it goes on) and a short sound, each switched
//! on or off by the agent and remembered in this browser.

use leptos::prelude::*;
use protocol::ConversationSummary;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// Something the agent should know about now.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub conversation_id: String,
    pub title: String,
    pub body: String,
}

impl Alert {
    pub fn new_chat(conversation: &ConversationSummary, who: &str) -> Alert {
        Alert {
            conversation_id: conversation.id.clone(),
            title: format!("New conversation: {who}"),
            body: conversation.last_message.clone().unwrap_or_default(),
        }
    }

    pub fn message(conversation: &ConversationSummary, who: &str) -> Alert {
        Alert {
            conversation_id: conversation.id.clone(),
            title: who.to_owned(),
            body: conversation.last_message.clone().unwrap_or_default(),
        }
    }
}

/// Which alerts an agent wants, kept per agent in this browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Desktop,
    Sound,
}

fn key(agent_id: &str, kind: Kind) -> String {
    let kind = match kind {
        Kind::Desktop => "desktop",
        Kind::Sound => "sound",
    };
    format!("rapport:inbox:{agent_id}:{kind}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn wanted(agent_id: &str, kind: Kind) -> bool {
    storage()
        .and_then(|s| s.get_item(&key(agent_id, kind)).ok().flatten())
        .is_some_and(|v| v == "on")
}

/// What the browser lets this page do about desktop notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Granted,
    /// Not decided yet: asked when the agent ticks the box.
    Ask,
    /// Refused (by the person, or the browser's policy): only the
    /// browser's site settings can change it.
    Denied,
    /// This browser has no desktop notifications.
    Unsupported,
}

/// Whether notifications exist here at all: asking a browser without
/// them would throw.
fn supported() -> bool {
    web_sys::window().is_some_and(|window| {
        js_sys::Reflect::has(&window, &wasm_bindgen::JsValue::from_str("Notification"))
            .unwrap_or(false)
    })
}

pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks the browser (on a click: that is when browsers allow asking) and
/// says what it answered.
pub async fn ask_permission() -> Permission {
    if permission() != Permission::Ask {
        return permission();
    }
    if let Ok(asked) = Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
    }
    permission()
}

/// Remembers the choice.
pub fn choose(agent_id: &str, kind: Kind, on: bool) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key(agent_id, kind), if on { "on" } else { "off" });
    }
    if on && kind == Kind::Sound {
        // Browsers let a page make sound once a person has clicked on it.
        with_audio(|_| ());
    }
}

/// Whether the inbox is what the agent is looking at.
pub fn in_front() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| !d.hidden() && d.has_focus().unwrap_or(false))
}

/// Alerts the agent as they chose; clicking the notification brings the
/// inbox forward on that conversation.
pub fn fire(agent_id: &str, alert: &Alert, on_click: impl Fn(String) + 'static) {
    if wanted(agent_id, Kind::Desktop) && permission() == Permission::Granted {
        let options = NotificationOptions::new();
        options.set_body(&alert.body);
        // One notification per conversation: a new one replaces it.
        options.set_tag(&alert.conversation_id);
        if let Ok(notification) = Notification::new_with_options(&alert.title, &options) {
            let id = alert.conversation_id.clone();
            let click = Closure::<dyn Fn()>::new(move || {
                if let Some(window) = web_sys::window() {
                    let _ = window.focus();
                }
                on_click(id.clone());
            });
            notification.set_onclick(Some(click.as_ref().unchecked_ref()));
            // Kept while its notification may be clicked: until a newer one
            // for the same conversation replaces it (no leak over a shift).
            CLICKS.with(|clicks| {
                clicks
                    .borrow_mut()
                    .insert(alert.conversation_id.clone(), click)
            });
        }
    }
    if wanted(agent_id, Kind::Sound) {
        with_audio(beep);
    }
}

thread_local! {
    /// Each conversation's notification's click handler.
    static CLICKS: std::cell::RefCell<std::collections::HashMap<String, Closure<dyn Fn()>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static AUDIO: std::cell::RefCell<Option<web_sys::AudioContext>> = const { std::cell::RefCell::new(None) };
}

fn with_audio(f: impl FnOnce(&web_sys::AudioContext)) {
    AUDIO.with(|audio| {
        let mut audio = audio.borrow_mut();
        if audio.is_none() {
            *audio = web_sys::AudioContext::new().ok();
        }
        if let Some(context) = audio.as_ref() {
            let _ = context.resume();
            f(context);
        }
    });
}

/// A short, soft two-note chime.
fn beep(context: &web_sys::AudioContext) {
    let start = context.current_time();
    for (index, frequency) in [660.0_f32, 880.0].into_iter().enumerate() {
        let (Ok(tone), Ok(volume)) = (context.create_oscillator(), context.create_gain()) else {
            return;
        };
        let at = start + 0.12 * index as f64;
        tone.frequency().set_value(frequency);
        let _ = volume.gain().set_value_at_time(0.08, at);
        let _ = volume.gain().linear_ramp_to_value_at_time(0.0, at + 0.12);
        let _ = tone.connect_with_audio_node(&volume);
        let _ = volume.connect_with_audio_node(&context.destination());
        let _ = tone.start_with_when(at);
        let _ = tone.stop_with_when(at + 0.12);
    }
}

/// The agent's switches for desktop notifications and sound. The desktop
/// box shows what the browser allows, not only what was wished: ticked only
/// when alerts will come, and saying how to allow them when it refused.
#[component]
pub fn AlertChoices(agent_id: String) -> impl IntoView {
    let id = StoredValue::new(agent_id);
    let permission = RwSignal::new(permission());
    // The browser asks the person; what they answer is what the box shows.
    let ask = Action::new_local(|_: &()| ask_permission());
    Effect::new(move |_| {
        if let Some(answer) = ask.value().get() {
            permission.set(answer);
        }
    });
    let wished = RwSignal::new(id.with_value(|id| wanted(id, Kind::Desktop)));
    let desktop_on = move || wished.get() && permission.get() == Permission::Granted;
    let choose_desktop = move |ev: leptos::ev::Event| {
        let chosen = event_target_checked(&ev);
        wished.set(chosen);
        id.with_value(|id| choose(id, Kind::Desktop, chosen));
        if chosen {
            ask.dispatch_local(());
        }
    };
    let sound = RwSignal::new(id.with_value(|id| wanted(id, Kind::Sound)));
    let hint = move || match permission.get() {
        Permission::Denied => Some(
            "This browser blocks notifications from this site: allow them in its site settings (the icon left of the address), then reload.",
        ),
        Permission::Unsupported => Some("This browser has no desktop notifications."),
        Permission::Ask if wished.get() => Some("Allow notifications when the browser asks."),
        _ => None,
    };
    view! {
        <span class="alerts">
            <label class="alert-choice">
                <input type="checkbox" prop:checked=desktop_on on:change=choose_desktop
                    disabled=move || matches!(permission.get(), Permission::Denied | Permission::Unsupported) />
                "Desktop alerts"
            </label>
            <label class="alert-choice">
                <input type="checkbox" prop:checked=move || sound.get()
                    on:change=move |ev| {
                        let chosen = event_target_checked(&ev);
                        sound.set(chosen);
                        id.with_value(|id| choose(id, Kind::Sound, chosen));
                    } />
                "Sound"
            </label>
            <span class="alert-hint" role="status">{hint}</span>
        </span>
    }
}
