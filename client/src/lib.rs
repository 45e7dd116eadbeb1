//! A WebSocket that stays connected: reconnects with jittered exponential
//! backoff, right away when the page becomes visible or the network comes
//! back (mobile browsers drop sockets while hidden), and treats a silent
//! socket as dead. What to say on (re)connect is the caller's business.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};
use protocol::{IDLE_TIMEOUT_SECS, PING_INTERVAL_SECS};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

const FIRST_RETRY_MS: f64 = 500.0;
const MAX_RETRY_MS: f64 = 15_000.0;

/// A JS event listener kept alive for as long as it is registered.
type Listener = Closure<dyn FnMut(Event)>;

/// Callbacks of a [`LiveSocket`].
pub struct Handlers {
    /// The socket opened; send your hello through the given socket.
    pub on_open: Box<dyn Fn(&LiveSocket)>,
    /// A text frame arrived.
    pub on_frame: Box<dyn Fn(&str)>,
    /// Connected or not, for the UI.
    pub on_status: Box<dyn Fn(bool)>,
    /// The server ended the session for good (`CLOSE_SESSION_ENDED`); the
    /// socket stays closed.
    pub on_ended: Box<dyn Fn()>,
}

/// Cheap to clone; all clones drive the same connection.
#[derive(Clone)]
pub struct LiveSocket {
    inner: Rc<Inner>,
}

struct Inner {
    url: String,
    handlers: Handlers,
    socket: RefCell<Option<Connection>>,
    failures: Cell<u32>,
    retry: RefCell<Option<Timeout>>,
    last_heard_ms: Cell<f64>,
    heartbeat: RefCell<Option<Interval>>,
    wake: RefCell<Option<Listener>>,
    /// Set by [`LiveSocket::close`]: stay closed.
    closed: Cell<bool>,
}

/// A socket with the closures that must live as long as it does.
struct Connection {
    ws: WebSocket,
    _on_open: Listener,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

impl LiveSocket {
    /// Connects to `url` and keeps it connected for the life of the page.
    pub fn start(url: String, handlers: Handlers) -> LiveSocket {
        let live = LiveSocket {
            inner: Rc::new(Inner {
                url,
                handlers,
                socket: RefCell::new(None),
                failures: Cell::new(0),
                retry: RefCell::new(None),
                last_heard_ms: Cell::new(js_sys::Date::now()),
                heartbeat: RefCell::new(None),
                wake: RefCell::new(None),
                closed: Cell::new(false),
            }),
        };
        live.connect();
        live.watch_heartbeat();
        live.watch_wake_ups();
        live
    }

    /// Sends a text frame if connected; returns whether it went out. Callers
    /// keep unsent messages and send them again from `on_open`.
    pub fn send(&self, text: &str) -> bool {
        self.inner
            .socket
            .borrow()
            .as_ref()
            .filter(|c| c.ws.ready_state() == WebSocket::OPEN)
            .is_some_and(|c| c.ws.send_with_str(text).is_ok())
    }

    /// Closes for good (signing out): no reconnect, heartbeat or wake-up.
    /// Dropping the timers and listeners also breaks the reference cycles
    /// that otherwise keep a socket alive for the life of the page.
    pub fn close(&self) {
        self.inner.closed.set(true);
        self.inner.retry.borrow_mut().take();
        self.inner.heartbeat.borrow_mut().take();
        if let Some(wake) = self.inner.wake.borrow_mut().take()
            && let Some(window) = web_sys::window()
        {
            let callback = wake.as_ref().unchecked_ref();
            let _ = window.remove_event_listener_with_callback("online", callback);
            if let Some(document) = window.document() {
                let _ = document.remove_event_listener_with_callback("visibilitychange", callback);
            }
        }
        self.inner.socket.borrow_mut().take();
    }

    /// Drops the current connection and connects afresh at once (a new
    /// identity: nothing of the old connection may carry over).
    pub fn restart(&self) {
        self.inner.socket.borrow_mut().take();
        self.inner.failures.set(0);
        self.connect();
    }

    /// The server accepted us: the next failure starts the backoff afresh.
    pub fn connected_ok(&self) {
        self.inner.failures.set(0);
    }

    fn is_open_or_opening(&self) -> bool {
        self.inner.socket.borrow().as_ref().is_some_and(|c| {
            let state = c.ws.ready_state();
            state == WebSocket::OPEN || state == WebSocket::CONNECTING
        })
    }

    fn connect(&self) {
        self.inner.retry.borrow_mut().take();
        if self.inner.closed.get() {
            return;
        }
        let Ok(ws) = WebSocket::new(&self.inner.url) else {
            self.schedule_retry();
            return;
        };
        let on_open = {
            let live = self.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| {
                live.inner.last_heard_ms.set(js_sys::Date::now());
                (live.inner.handlers.on_status)(true);
                (live.inner.handlers.on_open)(&live);
            })
        };
        let on_message = {
            let live = self.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                live.inner.last_heard_ms.set(js_sys::Date::now());
                if let Some(text) = event.data().as_string() {
                    (live.inner.handlers.on_frame)(&text);
                }
            })
        };
        let on_close = {
            let live = self.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                (live.inner.handlers.on_status)(false);
                if event.code() == protocol::CLOSE_SESSION_ENDED {
                    live.inner.closed.set(true);
                    (live.inner.handlers.on_ended)();
                    return;
                }
                live.schedule_retry();
            })
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // Replacing the old connection drops (and closes) it without
        // triggering its close handler.
        *self.inner.socket.borrow_mut() = Some(Connection {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn schedule_retry(&self) {
        if self.inner.closed.get() {
            return;
        }
        let failures = self.inner.failures.get();
        self.inner.failures.set(failures.saturating_add(1));
        let base = (FIRST_RETRY_MS * 2f64.powi(failures.min(10) as i32)).min(MAX_RETRY_MS);
        // Jitter spreads a crowd of reconnecting clients after a restart.
        let delay = base * (0.5 + js_sys::Math::random() / 2.0);
        let live = self.clone();
        *self.inner.retry.borrow_mut() = Some(Timeout::new(delay as u32, move || live.connect()));
    }

    fn reconnect_now(&self) {
        if !self.is_open_or_opening() {
            self.connect();
        }
    }

    fn watch_heartbeat(&self) {
        let live = self.clone();
        let interval = Interval::new(PING_INTERVAL_SECS * 1000, move || {
            let silent_ms = js_sys::Date::now() - live.inner.last_heard_ms.get();
            if silent_ms > f64::from(IDLE_TIMEOUT_SECS) * 1000.0 && live.is_open_or_opening() {
                // Dead but not closed (a sleeping phone, a dropped network):
                // start over rather than wait for the browser to notice.
                live.inner.socket.borrow_mut().take();
                (live.inner.handlers.on_status)(false);
                live.connect();
            } else {
                live.send(r#"{"type":"ping"}"#);
            }
        });
        *self.inner.heartbeat.borrow_mut() = Some(interval);
    }

    fn watch_wake_ups(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let live = self.clone();
        let wake = Listener::new(move |_| {
            let visible = web_sys::window()
                .and_then(|w| w.document())
                .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
            if visible {
                live.reconnect_now();
            }
        });
        let callback = wake.as_ref().unchecked_ref();
        let _ = window.add_event_listener_with_callback("online", callback);
        if let Some(document) = window.document() {
            let _ = document.add_event_listener_with_callback("visibilitychange", callback);
        }
        *self.inner.wake.borrow_mut() = Some(wake);
    }
}

/// A random id for a client-generated message (`client_id`): 128 random
/// bits, hex. (`crypto.randomUUID` needs a secure context; shops' pages are
/// not always one.)
pub fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
