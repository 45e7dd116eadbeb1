//! The shopper's chat panel. `loader.js` draws the launcher, loads this
//! module when the shopper opens the chat (or the page is idle), and calls
//! [`mount`] with an element inside its shadow root.

mod chat;
mod clock;
mod encode;
mod frames;
mod js_object;

use chat::{Chat, Outcome};
use client::{Handlers, LiveSocket, new_client_id};
use leptos::prelude::*;
use protocol::{ConversationState, MAX_BODY_CHARS, WidgetRequest, WidgetText, fill_placeholders};
use wasm_bindgen::prelude::*;

thread_local! {
    /// What the page said with `Rapport('set', {...})`: the topic for now.
    static TOPIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// A token from `Rapport('identify', token)` not yet sent on a socket
    /// that said hello, and the last one taken.
    static IDENTITY: std::cell::RefCell<(Option<String>, Option<String>)> =
        const { std::cell::RefCell::new((None, None)) };
    /// The page the shopper is on (URL, title, time zone) and the last one
    /// told to the server.
    static PAGE: std::cell::RefCell<(Option<PageSeen>, Option<PageSeen>)> =
        const { std::cell::RefCell::new((None, None)) };
    /// `Rapport('track', …)` calls as (name, JSON data) not yet sent.
    static TRACKS: std::cell::RefCell<Vec<(String, String)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// What the mounted chat does when the page identifies or logs out.
    static HOOKS: std::cell::RefCell<Option<Hooks>> = const { std::cell::RefCell::new(None) };
    /// The token of a "continue in the chat" link the page was opened with.
    static RESUME: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// Whether the panel is open, as the loader says.
    static OPEN: std::cell::Cell<Option<RwSignal<bool>>> = const { std::cell::Cell::new(None) };
    /// The loader's `notify(kind, value, label)`, once mounted.
    static NOTIFY: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
    /// Plain cells for the panel's bookkeeping: cheaper in WASM than a
    /// reactive store for values nothing draws. The unread count last told
    /// to the page; when the shopper last said they were typing (ms); whether
    /// a last typing signal is due after the pause.
    static TOLD_UNREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
    static TYPED_AT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    static TYPING_DUE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether this connection said hello and was welcomed: only then may it identify.
    static WELCOMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The connection to the server, once mounted.
    static SOCKET: std::cell::RefCell<Option<LiveSocket>> = const { std::cell::RefCell::new(None) };
    /// The mounted chat and the shopper's topic pick, for the exports the
    /// extras call.
    static CHAT: std::cell::Cell<Option<Mounted>> =
        const { std::cell::Cell::new(None) };
    /// The loader's `extra(name, value, text, more)`: shows or removes a
    /// part of the panel drawn by the extras module (loaded on first use).
    static EXTRA: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
    /// The address typed in the composer outside business hours (extras' box).
    static AWAY_EMAIL: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    /// Files the files module uploaded for the next message, and whether
    /// one is still on its way.
    /// (Plain, not reactive: nothing is drawn from it, and a signal of
    /// its own type cost the core 2 KB.)
    static ATTACHED: std::cell::RefCell<Attached> =
        const { std::cell::RefCell::new((Vec::new(), false)) };
}

/// Files uploaded for the next message, and whether one is on its way.
type Attached = (Vec<protocol::FileRef>, bool);

/// Sends a request on the live socket; false while it is down. One plain
/// function rather than a closure handed around: each copy of a closure
/// inlined where it is called would cost the widget code.
fn send(frame: &WidgetRequest) -> bool {
    let text = encode::encode(frame);
    SOCKET.with(|s| s.borrow().as_ref().is_some_and(|s| s.send(&text)))
}

/// Tells the loader (and so the page) something it may want to know:
/// `unread` (a count) or `message` (a reply's text), with the words for
/// the title while the tab is hidden.
fn tell(kind: &str, value: JsValue, chat: &Chat) {
    let label = JsValue::from_str(chat.text(WidgetText::NewMessage));
    NOTIFY.with(|n| {
        if let Some(notify) = &*n.borrow() {
            let _ = notify.call3(&JsValue::NULL, &kind.into(), &value, &label);
        }
    });
}

/// (URL, title, IANA time zone) as the loader reads them.
type PageSeen = (String, String, String);

/// Set by [`mount`]: send what the page said (identity, tracked events)
/// once the socket is welcomed, or forget the shopper.
struct Hooks {
    flush: Box<dyn Fn()>,
    logout: Box<dyn Fn()>,
}

/// The page's context (`Rapport('set', {topic: "billing"})`, the identity
/// token, and the page the loader saw); the loader calls this before
/// mounting and again on every later `set` or `identify`.
#[wasm_bindgen]
pub fn set_context(context: JsValue) {
    TOPIC.with(|t| *t.borrow_mut() = js_object::string(&context, "topic"));
    let page = match <[String; 3]>::try_from(js_object::strings(&context, "page")) {
        Ok([url, title, zone]) => Some((url, title, zone)),
        Err(_) => None,
    };
    PAGE.with(|p| p.borrow_mut().0 = page);
    if let Some(resume) = js_object::string(&context, "resume") {
        RESUME.with(|r| *r.borrow_mut() = Some(resume));
    }
    let identity = js_object::string(&context, "identity");
    IDENTITY.with(|i| {
        let (pending, last) = &mut *i.borrow_mut();
        if identity.is_some() && identity != *last {
            last.clone_from(&identity);
            *pending = identity;
        }
    });
    HOOKS.with(|h| h.borrow().as_ref().map(|hooks| (hooks.flush)()));
}

/// The site's config as the widget uses it (the loader's copy of the
/// server's `WidgetConfig`).
#[derive(Clone)]
struct Config {
    site_name: String,
    greeting: String,
    greeting_known: String,
    /// The site offers topics to pick (the extras draw them from the config).
    has_topics: bool,
    texts: Vec<String>,
    /// Outside business hours: the away message and when the team is back.
    away: Option<(String, Option<String>)>,
    /// Where agents' pictures come from (`…/avatar/`), when the site shows them.
    avatars: Option<String>,
    /// `?site=KEY`, for the pictures.
    site_query: String,
    /// Unseen replies are emailed: the widget may take an address.
    email_replies: bool,
    /// Agents see drafts: the typing signal carries the draft.
    typing_preview: bool,
    /// Someone could answer when the page loaded (within business hours).
    agents_online: bool,
    /// The server's address, before a file's link.
    base: String,
    /// A touch screen (the loader asks): Enter makes a new line there.
    touch: bool,
}

impl Config {
    fn read(config: &JsValue, base_url: &str, site_key: &str) -> Config {
        let text = |key| js_object::string(config, key).unwrap_or_default();
        Config {
            site_name: text("site_name"),
            greeting: text("greeting"),
            greeting_known: text("greeting_known"),
            has_topics: !js_object::items(config, "topics").is_empty(),
            texts: js_object::strings(config, "texts"),
            away: js_object::object(config, "away").map(|away| {
                (
                    js_object::string(&away, "message").unwrap_or_default(),
                    js_object::string(&away, "back_at"),
                )
            }),
            avatars: js_object::flag(config, "agent_avatars")
                .then(|| format!("{}/api/widget/avatar/", base_url.trim_end_matches('/'))),
            site_query: format!("?site={}", js_sys::encode_uri_component(site_key)),
            email_replies: js_object::flag(config, "email_replies"),
            typing_preview: js_object::flag(config, "typing_preview"),
            base: base_url.trim_end_matches('/').to_owned(),
            touch: js_object::flag(config, "touch"),
            agents_online: js_object::flag(config, "agents_online")
                && js_object::object(config, "away").is_none(),
        }
    }
}

/// `template` with `{key}` replaced by `value`.
fn fill(template: &str, key: &str, value: &str) -> String {
    fill_placeholders(template, &|k| (k == key).then(|| value.to_owned()))
}

/// `Rapport('track', name, data)`: `data` is JSON text; sent once the
/// socket is welcomed.
#[wasm_bindgen]
pub fn track(name: String, data: String) {
    TRACKS.with(|t| t.borrow_mut().push((name, data)));
    HOOKS.with(|h| h.borrow().as_ref().map(|hooks| (hooks.flush)()));
}

/// The loader says whether the panel is open on a visible page: what is on
/// screen then counts as seen.
#[wasm_bindgen]
pub fn set_open(open: bool) {
    if let Some(signal) = OPEN.with(std::cell::Cell::get) {
        signal.set(open);
    }
}

/// The shopper closed the panel (the loader's close button or
/// `Rapport('close')`): told while they wait in the line, for the reports.
#[wasm_bindgen]
pub fn panel_closed() {
    if mounted().is_some_and(|(chat, _)| {
        chat.with_untracked(|c| matches!(c.state, Some(ConversationState::Waiting)))
    }) {
        send(&WidgetRequest::PanelClosed);
    }
}

/// `Rapport('logout')`: forget this browser's shopper; the next one to use
/// it sees nothing of them.
#[wasm_bindgen]
pub fn logout() {
    IDENTITY.with(|i| *i.borrow_mut() = (None, None));
    HOOKS.with(|h| h.borrow().as_ref().map(|hooks| (hooks.logout)()));
}

/// Asks the loader to show (`value` is its state) or remove (`None`) a part
/// the extras module draws; it loads that module only to show something.
fn extra(name: &str, value: Option<String>, text: &str, more: &str) {
    EXTRA.with(|e| {
        if let Some(extra) = &*e.borrow() {
            let args = js_sys::Array::of4(
                &name.into(),
                &value.map_or(JsValue::NULL, JsValue::from),
                &text.into(),
                &more.into(),
            );
            let _ = extra.apply(&JsValue::NULL, &args);
        }
    });
}

/// The mounted chat and the shopper's topic pick.
type Mounted = (RwSignal<Chat>, RwSignal<Option<String>>);

fn mounted() -> Option<Mounted> {
    CHAT.with(std::cell::Cell::get)
}

/// The shopper picked what their conversation is about (extras' topics).
#[wasm_bindgen]
pub fn pick_topic(key: String) {
    if let Some((_, picked)) = mounted() {
        picked.set(Some(key));
    }
}

/// The shopper gave an address for replies (extras' email ask); it takes
/// the transcript they asked for too.
#[wasm_bindgen]
pub fn save_email(address: String) {
    let Some((chat, _)) = mounted() else {
        return;
    };
    let address = address.trim().to_owned();
    if !address.contains('@') {
        chat.update(|c| c.notice = Some(c.text(WidgetText::EmailLabel).to_owned()));
        return;
    }
    send(&WidgetRequest::Email {
        address: address.clone(),
    });
    if chat.with_untracked(|c| c.want_transcript) {
        send(&WidgetRequest::Transcript {
            email: Some(address.clone()),
        });
    }
    chat.update(|c| {
        c.email_known = true;
        c.notice = Some(fill(c.text(WidgetText::EmailSaved), "email", &address));
    });
}

/// The shopper asked for the transcript by email (extras' button): sent
/// at once to a known address, else once they give one.
#[wasm_bindgen]
pub fn transcript() {
    if let Some((chat, _)) = mounted() {
        if chat.with_untracked(|c| c.email_known) {
            send(&WidgetRequest::Transcript { email: None });
        } else {
            chat.update(|c| c.want_transcript = true);
        }
    }
}

/// The shopper asked for the earlier part of a long conversation (extras).
#[wasm_bindgen]
pub fn earlier() {
    if let Some(request) = mounted().and_then(|(chat, _)| chat.with_untracked(Chat::earlier)) {
        send(&request);
    }
}

/// What the shopper typed in the address box beside a message left outside
/// business hours (extras); taken when they send.
#[wasm_bindgen]
pub fn away_email(address: String) {
    AWAY_EMAIL.with(|a| *a.borrow_mut() = address);
}

/// The shopper starts a new conversation after one ended (extras' button).
#[wasm_bindgen]
pub fn start_afresh() {
    if let Some((chat, _)) = mounted() {
        chat.update(Chat::start_afresh);
    }
}

/// The files module says which uploaded files go with the next message
/// (as the upload answered them) and whether one is still on its way.
#[wasm_bindgen]
pub fn files_ready(list: JsValue, busy: bool) {
    let files = js_object::JsonView::list(&list)
        .iter()
        .filter_map(frames::file)
        .collect();
    ATTACHED.with(|a| *a.borrow_mut() = (files, busy));
}

/// The shopper's token, for the files module's uploads.
#[wasm_bindgen]
pub fn visitor_token() -> Option<String> {
    mounted().and_then(|(chat, _)| chat.with_untracked(|c| c.token.clone()))
}

/// The identity waiting to be sent, taken.
fn take_identity() -> Option<String> {
    IDENTITY.with(|i| i.borrow_mut().0.take())
}

/// The page's topic; failing that, what the shopper picked.
fn topic(picked: RwSignal<Option<String>>) -> Option<String> {
    page_topic().or_else(|| picked.get_untracked())
}

fn page_topic() -> Option<String> {
    TOPIC.with(|t| t.borrow().clone())
}

/// The site's greeting; a known shopper's, with their first name.
fn greet(config: &Config, name: Option<&str>) -> String {
    match name.and_then(|n| n.split_whitespace().next()) {
        Some(first) => fill(&config.greeting_known, "first_name", first),
        None => config.greeting.clone(),
    }
}

fn storage_key(site_key: &str) -> String {
    format!("rapport:{site_key}:visitor")
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn socket_url(base_url: &str, site_key: &str) -> String {
    let ws_base = if let Some(rest) = base_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        format!("ws://{}", base_url.trim_start_matches("http://"))
    };
    format!(
        "{}/ws/widget?site={}",
        ws_base.trim_end_matches('/'),
        js_sys::encode_uri_component(site_key)
    )
}

/// Mounts the chat panel into `root` (inside the loader's shadow root) and
/// connects. `on_close` is the loader's function that hides the panel;
/// `notify(kind, value, label)` tells the loader what the page may want to
/// know: `unread` (a count, with the title's words), `message` (a reply's text).
/// `extra(name, value, text, more)` shows or removes a part of the panel
/// that the loader's extras module draws (see [`extra`]).
#[wasm_bindgen]
pub fn mount(
    root: web_sys::HtmlElement,
    base_url: String,
    site_key: String,
    config: JsValue,
    on_close: js_sys::Function,
    notify: js_sys::Function,
    extras: js_sys::Function,
) {
    let config = Config::read(&config, &base_url, &site_key);
    let key = storage_key(&site_key);
    let texts: std::sync::Arc<[String]> = config.texts.clone().into();
    let chat = RwSignal::new(Chat {
        token: local_storage().and_then(|s| s.get_item(&key).ok().flatten()),
        language: web_sys::window().and_then(|w| w.navigator().language()),
        texts: texts.clone(),
        resume: RESUME.with(|r| r.borrow_mut().take()),
        ..Chat::default()
    });
    let open = RwSignal::new(false);
    OPEN.with(|o| o.set(Some(open)));
    let online = RwSignal::new(false);
    let picked = RwSignal::new(None::<String>);
    CHAT.with(|c| c.set(Some((chat, picked))));
    EXTRA.with(|e| *e.borrow_mut() = Some(extras));

    NOTIFY.with(|n| *n.borrow_mut() = Some(notify));
    let flush = move || {
        if !WELCOMED.get() {
            return;
        }
        if let Some(token) = take_identity() {
            send(&WidgetRequest::Identify {
                token: Some(token),
                details: None,
            });
        }
        let page = PAGE.with(|p| {
            let (now, told) = &mut *p.borrow_mut();
            (now != told)
                .then(|| now.clone())
                .flatten()
                .inspect(|_| told.clone_from(now))
        });
        if let Some((url, title, zone)) = page {
            send(&WidgetRequest::Page {
                url,
                title: Some(title),
                time_zone: Some(zone).filter(|z| !z.is_empty()),
            });
        }
        for (name, data) in TRACKS.with(|t| std::mem::take(&mut *t.borrow_mut())) {
            send(&WidgetRequest::Track {
                name,
                data: Some(data),
            });
        }
    };
    let live = LiveSocket::start(
        socket_url(&base_url, &site_key),
        Handlers {
            on_open: Box::new(move |live| {
                WELCOMED.set(false);
                let hello = chat.with_untracked(Chat::hello);
                live.send(&encode::encode(&hello));
            }),
            on_frame: Box::new(move |text| {
                let Some(frame) = frames::decode(text) else {
                    return;
                };
                match chat.try_update(|c| c.apply(frame)) {
                    Some(Outcome::Welcomed) => {
                        let (token, unacked) =
                            chat.with_untracked(|c| (c.token.clone(), c.unacked.clone()));
                        if let (Some(storage), Some(token)) = (local_storage(), token) {
                            let _ = storage.set_item(&key, &token);
                        }
                        // What the page said (who, where) goes before what
                        // the shopper typed meanwhile: the agent offered the
                        // chat then sees the page it started on.
                        WELCOMED.set(true);
                        flush();
                        SOCKET.with(|s| {
                            if let Some(s) = &*s.borrow() {
                                s.connected_ok();
                                for (client_id, body, files) in unacked {
                                    let resend = WidgetRequest::Send {
                                        client_id,
                                        body,
                                        topic: topic(picked),
                                        files,
                                    };
                                    s.send(&encode::encode(&resend));
                                }
                            }
                        });
                    }
                    Some(Outcome::ForgetToken(refused)) => {
                        // Another tab may have been given a fresh token (it
                        // identified): take that one rather than start
                        // afresh. Only the refused token is forgotten.
                        if let Some(storage) = local_storage() {
                            let stored = storage.get_item(&key).ok().flatten();
                            if stored.is_some() && stored != refused {
                                chat.update_untracked(|c| c.token = stored);
                            } else {
                                let _ = storage.remove_item(&key);
                            }
                        }
                        let hello = chat.with_untracked(Chat::hello);
                        send(&hello);
                    }
                    Some(Outcome::AgentMessage(text)) => {
                        chat.with_untracked(|c| tell("message", text.into(), c));
                    }
                    Some(Outcome::Typing(signal)) => set_timeout(
                        move || {
                            chat.update(|c| {
                                if c.typing_signals == signal {
                                    c.typing = None;
                                }
                            });
                        },
                        std::time::Duration::from_secs(u64::from(protocol::TYPING_EXPIRES_SECS)),
                    ),
                    _ => {}
                }
            }),
            on_status: Box::new(move |up| online.set(up)),
            // Shopper sessions are never ended that way.
            on_ended: Box::new(|| {}),
        },
    );
    SOCKET.with(|s| *s.borrow_mut() = Some(live));
    let forget = move || {
        // The server ends this browser's token too (queued before the
        // socket below is closed, so it goes first).
        send(&WidgetRequest::Forget);
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(&storage_key(&site_key));
        }
        chat.update(|c| {
            *c = Chat {
                language: c.language.take(),
                texts: c.texts.clone(),
                ..Chat::default()
            }
        });
        picked.set(None);
        // The last shopper's events are not the next one's; the page is
        // told again for the next shopper.
        TRACKS.with(|t| t.borrow_mut().clear());
        PAGE.with(|p| p.borrow_mut().1 = None);
        SOCKET.with(|s| s.borrow().as_ref().map(LiveSocket::restart));
    };
    HOOKS.with(|h| {
        *h.borrow_mut() = Some(Hooks {
            flush: Box::new(flush),
            logout: Box::new(forget),
        })
    });

    leptos::mount::mount_to(root, move || {
        view! { <Panel chat online open config picked on_close /> }
    })
    .forget();
}

#[component]
fn Panel(
    chat: RwSignal<Chat>,
    online: RwSignal<bool>,
    open: RwSignal<bool>,
    config: Config,
    picked: RwSignal<Option<String>>,
    on_close: js_sys::Function,
) -> impl IntoView {
    // The page (launcher badge, title, listeners) hears the unread count as
    // it changes, read from the stored position after a reload too. What is
    // on screen while the panel is open and the page visible (the loader
    // tells both) is seen: the server then does not email it.
    Effect::new(move |_| {
        let read = chat.with(|c| {
            let unread = c.unread();
            if TOLD_UNREAD.replace(unread) != unread {
                tell("unread", JsValue::from_f64(unread as f64), c);
            }
            c.read()
        });
        if open.get()
            && let Some(read) = read
            && send(&read)
            && let WidgetRequest::Read { seq, .. } = read
        {
            chat.update(|c| c.read_sent = seq);
        }
    });
    let draft = RwSignal::new(String::new());
    // They closed the panel or left the page while waiting: they may go.
    let leaving = RwSignal::new(false);
    Effect::new(move |_| {
        if !open.get()
            && chat.with_untracked(|c| matches!(c.state, Some(ConversationState::Waiting)))
        {
            leaving.set(true);
        }
    });
    let log = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |_| {
        chat.with(|c| c.lines.len());
        if let Some(log) = log.get() {
            log.set_scroll_top(log.scroll_height());
        }
    });
    let texts: std::sync::Arc<[String]> = config.texts.clone().into();
    let t = move |which: WidgetText| protocol::text(&texts, which).to_owned();
    let away = config.away.is_some();
    // Outside business hours a message is left for later: ask for an
    // email to answer to, unless the shop or the shopper already gave one.
    let ask_email = move || away && !chat.with(|c| c.email_known);
    // While they wait long, or nobody is online, offer to answer by email
    // should they leave; once, never when an address is known.
    let email_replies = config.email_replies;
    let ask_live = move || {
        email_replies
            && !away
            && chat.with(|c| {
                !c.email_known
                    && (c.want_transcript
                        || leaving.get() && matches!(c.state, Some(ConversationState::Waiting))
                        || c.queue.is_some_and(|q| {
                            !q.agents_online
                                || q.position >= 3
                                || q.estimate_secs.is_some_and(|secs| secs >= 120)
                        }))
            })
    };
    let submit = move || {
        let body = draft.get_untracked();
        let (files, busy) = ATTACHED.with(|a| a.borrow().clone());
        if busy {
            chat.update(|c| c.notice = Some(c.text(WidgetText::Uploading).to_owned()));
            return;
        }
        if body.trim().is_empty() && files.is_empty() {
            return;
        }
        if ask_email() {
            let address = AWAY_EMAIL.with(|a| a.borrow().clone());
            if !address.contains('@') {
                chat.update(|c| c.notice = Some(c.text(WidgetText::EmailLabel).to_owned()));
                return;
            }
            send(&WidgetRequest::Email {
                address: address.trim().to_owned(),
            });
        }
        let frame = chat.try_update(|c| {
            let frame = c.compose(
                new_client_id(),
                body,
                files,
                topic(picked),
                js_sys::Date::now() as i64,
            );
            if away {
                c.email_known = true;
                c.notice = Some(c.text(WidgetText::MessageLeft).to_owned());
            }
            frame
        });
        if let Some(frame) = frame {
            send(&frame);
        }
        if ATTACHED.with(|a| !std::mem::take(&mut *a.borrow_mut()).0.is_empty()) {
            extra("files", Some("sent".into()), "", "");
        }
        draft.set(String::new());
        // A sent message ends a spell of typing: the next keystroke is told at once.
        TYPED_AT.set(0.0);
    };
    let title = config.site_name.clone();
    let header_title = move || match chat.with(|c| c.state.clone()) {
        Some(ConversationState::Assigned { agent_name, .. }) => agent_name,
        _ => title.clone(),
    };
    let waiting = move || chat.with(|c| matches!(c.state, Some(ConversationState::Waiting)));
    // Outside business hours: the away message, and when the team is back.
    let away_note = config
        .away
        .as_ref()
        .map(|(message, back_at)| match back_at {
            Some(at) => format!("{message} {}", fill(&t(WidgetText::BackAt), "time", at)),
            None => message.clone(),
        });
    // Parts few shoppers need are drawn by the extras module, loaded the
    // first time one is shown: the topics before a conversation opens
    // (unless the page said it), the email ask, the transcript button, the
    // agent's picture where the site shows pictures, the way to a long
    // conversation's earlier part, and outside business hours the away
    // note and an address box in the composer.
    let has_topics = config.has_topics;
    let closed = move || chat.with(|c| matches!(c.state, Some(ConversationState::Closed)));
    let (avatars, site_query) = (config.avatars.clone(), config.site_query.clone());
    let new_label = t(WidgetText::NewConversation);
    let (what_about, email_ask, email_save, transcript_label, earlier_label, email_label) = (
        t(WidgetText::WhatAbout),
        t(WidgetText::EmailAsk),
        t(WidgetText::EmailSave),
        t(WidgetText::Transcript),
        t(WidgetText::Earlier),
        t(WidgetText::EmailLabel),
    );
    Effect::new(move |_| {
        let (state, conversation, earlier) =
            chat.with(|c| (c.state.clone(), c.conversation_id.clone(), c.earliest > 1));
        let ended = matches!(state, Some(ConversationState::Closed));
        let topics_shown = has_topics && state.is_none() && page_topic().is_none();
        extra(
            "topics",
            topics_shown.then(|| picked.get().unwrap_or_default()),
            &what_about,
            "",
        );
        extra("ask", ask_live().then(String::new), &email_ask, &email_save);
        extra(
            "transcript",
            (email_replies && conversation.is_some()).then(String::new),
            &transcript_label,
            "",
        );
        let picture = match (&avatars, state) {
            (Some(base), Some(ConversationState::Assigned { agent_id, .. })) => Some(format!(
                "{base}{}{site_query}",
                js_sys::encode_uri_component(&agent_id)
            )),
            _ => None,
        };
        extra("avatar", picture, "", "");
        extra("earlier", earlier.then(String::new), &earlier_label, "");
        extra("away", away_note.clone(), "", "");
        // A chat that ended takes no more messages: the shopper starts
        // another (or first rates this one, which the extras ask the server about).
        extra(
            "new",
            ended.then(|| conversation.clone().unwrap_or_default()),
            &new_label,
            "",
        );
        extra(
            "away_email",
            ask_email().then(String::new),
            &email_label,
            "",
        );
        // Where the site has help articles, the loader's help module asks
        // the server for some matching the conversation's first question.
        extra("help", conversation, "", "");
    });
    let (status_online, status_connecting, status_away) = (
        t(WidgetText::Online),
        t(WidgetText::Connecting),
        t(WidgetText::Away),
    );
    // The header says whether someone can answer, not whether the socket
    // is up: an agent holds the chat, or the line says someone is online,
    // or (before a chat) someone was when the page loaded.
    let someone_there = config.agents_online;
    let status = move || {
        if !online.get() {
            return status_connecting.clone();
        }
        let answerable = chat.with(|c| match &c.state {
            Some(ConversationState::Assigned { .. }) => true,
            Some(ConversationState::Waiting) => c.queue.map_or(someone_there, |q| q.agents_online),
            _ => someone_there,
        });
        if answerable {
            status_online.clone()
        } else {
            status_away.clone()
        }
    };
    let waiting_text = t(WidgetText::WaitingForAgent);
    let base = config.base.clone();
    let touch = config.touch;
    let retry_label = t(WidgetText::Retry);
    // What the shopper types tells the agent they are typing (the draft
    // itself only where the site lets agents see it), every few seconds at most.
    let preview = config.typing_preview;
    let signal_typing = move |text: String| {
        TYPED_AT.set(js_sys::Date::now());
        send(&WidgetRequest::Typing {
            draft: preview.then_some(text),
        });
    };
    // A draft shown to agents is told once more when the pause is over, so
    // they see the last words typed rather than the first.
    let typing = move |text: &str| {
        if text.trim().is_empty() {
            return;
        }
        let wait =
            TYPED_AT.get() + f64::from(protocol::TYPING_EVERY_SECS) * 1000.0 - js_sys::Date::now();
        if wait <= 0.0 {
            signal_typing(text.to_owned());
        } else if preview && !TYPING_DUE.replace(true) {
            set_timeout(
                move || {
                    TYPING_DUE.set(false);
                    let text = draft.get_untracked();
                    if !text.trim().is_empty() {
                        signal_typing(text);
                    }
                },
                std::time::Duration::from_millis(wait as u64),
            );
        }
    };
    let send_label = t(if away {
        WidgetText::LeaveMessage
    } else {
        WidgetText::Send
    });
    view! {
        <section class="rp-panel" role="dialog" aria-label=t(WidgetText::Chat)>
            <header class="rp-header">
                <div>
                    <h2 class="rp-title">{header_title}</h2>
                    <p class="rp-status">{status}</p>
                </div>
                <button class="rp-close" type="button" aria-label=t(WidgetText::CloseChat)
                    on:click=move |_| { let _ = on_close.call0(&JsValue::NULL); }>"×"</button>
            </header>
            <ol class="rp-log" node_ref=log aria-live="polite">
                <li class="rp-line rp-agent rp-greeting">{move || chat.with(|c| greet(&config, c.name.as_deref()))}</li>
                {move || chat.with(|c| {
                    let locale = c.language.as_deref().unwrap_or("en");
                    let rows = c.rows(
                        clock::day,
                        |ms| clock::day_label(ms, locale, c.text(WidgetText::Today), c.text(WidgetText::Yesterday)),
                        |ms| clock::time(ms, locale),
                    );
                    // One shape for every row (a day, a message, its time
                    // and state): each distinct shape costs the widget code.
                    rows.into_iter().map(|row| {
                        // Text, links and files as markup the widget wrote
                        // itself, every piece of the message escaped: one
                        // shape for all rows costs the core the least.
                        let html = row.html(&base);
                        let retry = row.retry.map(|key| view! {
                            <button class="rp-retry" type="button" on:click=move |_| {
                                if let Some(frame) = chat.try_update(|c| c.retry(&key, topic(picked))).flatten() {
                                    send(&frame);
                                }
                            }>{retry_label.clone()}</button>
                        });
                        view! { <li class=row.class><span inner_html=html></span><small>{row.meta}</small>{retry}</li> }
                    }).collect_view()
                })}
                // Empty (and so not shown) unless an agent is typing.
                <li class="rp-typing">
                    {move || chat.with(|c| c.typing.as_ref().map(|name| fill(c.text(WidgetText::Typing), "name", name)))}
                </li>
            </ol>
            // Always in the page and only hidden: a live region must stay put
            // for screen readers to announce what changes in it.
            <p class="rp-waiting" role="status" hidden=move || !waiting()>{move || chat.with(|c| c.queue.map_or_else(
                || waiting_text.clone(),
                |queue| queue.describe(&c.texts),
            ))}</p>
            <p class="rp-notice" role="alert">{move || chat.with(|c| c.notice.clone())}</p>
            <form class="rp-composer" hidden=closed on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <textarea class="rp-input" rows="1" aria-label=t(WidgetText::MessageLabel) placeholder=t(WidgetText::MessagePlaceholder)
                    maxlength=MAX_BODY_CHARS.to_string()
                    prop:value=move || draft.get()
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        typing(&text);
                        draft.set(text);
                    }
                    on:keydown=move |ev| {
                        // On a touch screen Enter makes a new line; the button sends.
                        if ev.key() == "Enter" && !ev.shift_key() && !touch {
                            ev.prevent_default();
                            submit();
                        }
                    }
                ></textarea>
                <button class="rp-send" type="submit">{send_label}</button>
            </form>
        </section>
    }
}
