//! Test harness: a real server on port 0 over a fresh database (a SQLite
//! file, or a new PostgreSQL database when `RAPPORT_TEST_POSTGRES_URL` is set),
//! with real HTTP and WebSocket clients.
#![allow(dead_code, clippy::unwrap_used)]

pub mod smtp;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::Role;
use rapport_server::config::Config;
use rapport_server::store::{Agent, Site, Store};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SHOP_ORIGIN: &str = "http://shop.test:3000";
pub const PASSWORD: &str = "a long test password";
const WAIT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the test body once per backend, as two test functions.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = common::TestApp::start(common::Backend::Sqlite).await {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = common::TestApp::start(common::Backend::Postgres).await {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// Like `on_both_backends!`, with the server's configuration adjusted.
#[macro_export]
macro_rules! on_both_backends_with {
    ($name:ident, $configure:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) =
                    common::TestApp::start_with(common::Backend::Sqlite, $configure).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    common::TestApp::start_with(common::Backend::Postgres, $configure).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// A fresh, empty database, dropped when this goes out of scope, whether
/// the test passed or failed (a panic unwinds through the drop).
pub struct TestDatabase {
    pub url: String,
    /// The SQLite file's folder.
    dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server's admin URL and the database's name.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// The folder of a SQLite database (for files a test puts beside it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // The test's runtime may be gone or busy: drop the database from a
        // thread of its own. FORCE ends the server's remaining connections.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = sqlx::postgres::PgConnection::connect(&admin_url).await?;
                sqlx::Executor::execute(
                    &mut admin,
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                )
                .await?;
                admin.close().await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database: {dropped:?}");
        }
    }
}

/// A fresh, empty database for `backend`, or `None` (loudly) if
/// PostgreSQL is not configured.
pub async fn fresh_database(backend: Backend) -> Option<TestDatabase> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}/rapport.db", dir.path().display());
            Some(TestDatabase {
                url,
                dir: Some(dir),
                postgres: None,
            })
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("RAPPORT_TEST_POSTGRES_URL") else {
                // In CI a missing PostgreSQL is a failure, never a skip.
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but RAPPORT_TEST_POSTGRES_URL is not: every test must run on PostgreSQL too"
                );
                eprintln!(
                    "SKIPPED on PostgreSQL: set RAPPORT_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
                );
                return None;
            };
            let name = format!("rapport_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
                .await
                .unwrap();
            sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            sqlx::Connection::close(admin).await.unwrap();
            let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap();
            Some(TestDatabase {
                url: format!("{base}/{name}"),
                dir: None,
                postgres: Some((admin_url, name)),
            })
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The test's own handle on the server's database.
    pub store: Store,
    pub site: Site,
    pub agent: Agent,
    pub database_url: String,
    /// The server's clock (what snoozes end by), to move forward.
    pub clock: rapport_server::clock::Clock,
    stop: watch::Sender<bool>,
    /// Last: dropped after the server was told to stop.
    database: TestDatabase,
}

impl TestApp {
    /// A server with one account, a site allowing [`SHOP_ORIGIN`] and one
    /// agent, who goes offline the moment their last inbox closes.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        TestApp::start_with(backend, |config| config.offline_grace_secs = 0).await
    }

    /// The settings every test server starts from: every test shopper
    /// comes from 127.0.0.1, so the seats one address may hold and the wait
    /// after a close are off unless a test turns them on.
    fn test_config(database_url: &str) -> Config {
        let mut config = Config::for_database(database_url);
        config.limits.open_conversations_per_ip = 0;
        config.limits.after_close_secs = 0;
        config
    }

    /// Like [`TestApp::start`], with the configuration adjusted first. The
    /// server is the real entry point, [`rapport_server::serve`].
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let database = fresh_database(backend).await?;
        let database_url = database.url.clone();
        let store = Store::connect(&database_url).await.unwrap();
        let account = store.create_account("Test shop").await.unwrap();
        let site = store
            .create_site(&account, "Shop", &[SHOP_ORIGIN.to_owned()])
            .await
            .unwrap();
        let agent = add_agent(&store, &account, "ada@shop.test", "Ada").await;
        let (stop, stopped) = watch::channel(false);
        let mut config = TestApp::test_config(&database_url);
        configure(&mut config);
        let clock = config.clock.clone();
        let addr = spawn_server(config, stopped).await;
        Some(TestApp {
            addr,
            store,
            site,
            agent,
            database_url,
            clock,
            stop,
            database,
        })
    }

    /// A second server on the same database, as another process would be
    /// (no cluster link between them); it stops with the first.
    pub async fn another_server(&self) -> SocketAddr {
        let mut config = TestApp::test_config(&self.database_url);
        config.offline_grace_secs = 0;
        spawn_server(config, self.stop.subscribe()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stop_sockets(&self) {
        self.stop.send(true).unwrap();
    }

    /// A shopper's socket from a page on `origin`.
    pub async fn widget_socket_from(
        &self,
        site_key: &str,
        origin: &str,
    ) -> Result<Ws, tungstenite::Error> {
        widget_socket_at(self.addr, site_key, origin).await
    }

    pub async fn widget_socket(&self) -> Ws {
        self.widget_socket_from(&self.site.site_key, SHOP_ORIGIN)
            .await
            .unwrap()
    }

    /// A new shopper who said hello; returns the socket and their token.
    pub async fn new_shopper(&self) -> (Ws, String) {
        let mut ws = self.widget_socket().await;
        ws.send(json!({"type": "hello"})).await;
        let welcome = ws.expect("welcome").await;
        let token = welcome["visitor_token"].as_str().unwrap().to_owned();
        (ws, token)
    }

    /// Signs in over HTTP; returns the session cookie.
    pub async fn login(&self, email: &str) -> String {
        login_at(self.addr, email).await
    }

    pub async fn agent_socket_with(&self, cookie: &str) -> Result<Ws, tungstenite::Error> {
        agent_socket_at(self.addr, cookie).await
    }

    /// The default agent, signed in, with the socket past its inbox frame.
    pub async fn agent_socket(&self) -> (Ws, Value) {
        let cookie = self.login(&self.agent.email).await;
        let mut ws = self.agent_socket_with(&cookie).await.unwrap();
        let inbox = ws.expect("inbox").await;
        (ws, inbox)
    }

    /// The default agent made an owner, signed in; returns the cookie.
    pub async fn owner_cookie(&self) -> String {
        self.store
            .set_agent_role(&self.agent.id, Role::Owner)
            .await
            .unwrap();
        self.login(&self.agent.email).await
    }

    /// Another agent in the same account.
    pub async fn colleague(&self, email: &str, name: &str) -> Agent {
        add_agent(&self.store, &self.agent.account_id, email, name).await
    }

    /// An agent's inbox socket, signed in, past its inbox frame.
    pub async fn inbox_of(&self, email: &str) -> Ws {
        let cookie = self.login(email).await;
        let mut ws = self.agent_socket_with(&cookie).await.unwrap();
        ws.expect("inbox").await;
        ws
    }

    /// Like [`TestApp::inbox_of`], with the agent online.
    pub async fn online_inbox_of(&self, email: &str) -> Ws {
        let mut ws = self.inbox_of(email).await;
        ws.go_online().await;
        ws
    }

    /// An HTTP request with a session cookie and an optional JSON body:
    /// the status and the JSON answer (`null` if none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, self.url(path))
            .header("cookie", cookie);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Who holds the conversation now, as stored.
    pub async fn holder_of(&self, conversation_id: &str) -> Option<String> {
        let conversation = self
            .store
            .conversation(conversation_id)
            .await
            .unwrap()
            .unwrap();
        conversation.assigned_agent_id().map(str::to_owned)
    }

    /// Changes the test site's settings, as the console would.
    pub async fn set_site_settings(&self, settings: &protocol::SiteSettings) {
        self.store
            .update_site(
                &self.site.id,
                rapport_server::store::SiteUpdate {
                    name: None,
                    allowed_origins: None,
                    settings: Some(settings),
                    email_delay_secs: None,
                },
            )
            .await
            .unwrap();
    }

    /// Runs SQL on the test's database behind the server's back.
    pub async fn sql(&self, sqlite: &str, postgres: &str) {
        use sqlx::Executor;
        if self.database_url.starts_with("sqlite") {
            let mut db = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .unwrap();
            db.execute(sqlx::raw_sql(sqlite)).await.unwrap();
        } else {
            let mut db = sqlx::PgConnection::connect(&self.database_url)
                .await
                .unwrap();
            db.execute(sqlx::raw_sql(postgres)).await.unwrap();
        }
    }

    /// The number a `SELECT COUNT(*) …` answers, read directly.
    pub async fn count(&self, query: &str) -> i64 {
        if self.database_url.starts_with("sqlite") {
            let mut db = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .unwrap();
            sqlx::query_scalar(query).fetch_one(&mut db).await.unwrap()
        } else {
            let mut db = sqlx::PgConnection::connect(&self.database_url)
                .await
                .unwrap();
            sqlx::query_scalar(query).fetch_one(&mut db).await.unwrap()
        }
    }

    /// Takes the database's write lock from outside the server (SQLite:
    /// `BEGIN IMMEDIATE`; PostgreSQL: a lock on `events` that no insert
    /// passes), so that the server's writes wait until it is released.
    pub async fn hold_writes(&self) -> HeldWrites {
        self.hold("events").await
    }

    /// Makes new visitors wait (SQLite: every write, as `hold_writes`;
    /// PostgreSQL: a lock on `visitors` that no insert passes).
    pub async fn hold_new_visitors(&self) -> HeldWrites {
        self.hold("visitors").await
    }

    /// SQLite's one write lock, or a lock on `table` on PostgreSQL.
    async fn hold(&self, table: &str) -> HeldWrites {
        use sqlx::Executor;
        if self.database_url.starts_with("sqlite") {
            let mut db = sqlx::SqliteConnection::connect(&self.database_url)
                .await
                .unwrap();
            db.execute("BEGIN IMMEDIATE").await.unwrap();
            return HeldWrites::Sqlite(db);
        }
        let mut db = sqlx::PgConnection::connect(&self.database_url)
            .await
            .unwrap();
        db.execute("BEGIN").await.unwrap();
        db.execute(format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE").as_str())
            .await
            .unwrap();
        HeldWrites::Postgres(db)
    }

    pub async fn counts(&self) -> (i64, i64, i64) {
        (
            self.store.count_visitors().await.unwrap(),
            self.store.count_conversations().await.unwrap(),
            self.store.count_events().await.unwrap(),
        )
    }
}

/// The database's write lock, held from outside the server until released.
pub enum HeldWrites {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl HeldWrites {
    pub async fn release(self) {
        use sqlx::Executor;
        match self {
            HeldWrites::Sqlite(mut db) => {
                db.execute("ROLLBACK").await.unwrap();
            }
            HeldWrites::Postgres(mut db) => {
                db.execute("ROLLBACK").await.unwrap();
            }
        }
    }
}

/// A WebSocket to `url` with one extra request header.
async fn socket_with_header(
    url: String,
    name: &'static str,
    value: &str,
) -> Result<Ws, tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| Ws(ws))
}

/// A shopper's socket for `site_key` from a page on [`SHOP_ORIGIN`], with
/// more request headers (e.g. the address a proxy says the client has).
pub async fn widget_socket_with(
    addr: SocketAddr,
    site_key: &str,
    headers: &[(&'static str, &str)],
) -> Result<Ws, tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws/widget?site={site_key}")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_static(SHOP_ORIGIN));
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| Ws(ws))
}

/// A shopper's socket to the server at `addr`, from a page on `origin`.
pub async fn widget_socket_at(
    addr: SocketAddr,
    site_key: &str,
    origin: &str,
) -> Result<Ws, tungstenite::Error> {
    socket_with_header(
        format!("ws://{addr}/ws/widget?site={site_key}"),
        "origin",
        origin,
    )
    .await
}

/// Runs the real entry point on a fresh port until `stopped` turns true;
/// returns once it answers its health check.
async fn spawn_server(mut config: Config, mut stopped: watch::Receiver<bool>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The inbox's pages are this server's: its origin is where tests reach it.
    config.public_url = Some(format!("http://{addr}"));
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    tokio::spawn(async move {
        if let Err(err) = rapport_server::serve(listener, config, shutdown).await {
            eprintln!("the test server failed: {err}");
        }
    });
    let health = format!("http://{addr}/healthz");
    for _ in 0..500 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    addr
}

/// Signs in to the server at `addr`; returns the session cookie.
pub async fn login_at(addr: SocketAddr, email: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/api/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "login of {email}");
    // The session's cookie (a browser known to the account gets another).
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rapport_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// An inbox socket to the server at `addr` with a session cookie, from
/// the server's own inbox page (as a browser would say).
pub async fn agent_socket_at(addr: SocketAddr, cookie: &str) -> Result<Ws, tungstenite::Error> {
    let mut request = format!("ws://{addr}/ws/agent")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("cookie", HeaderValue::from_str(cookie).unwrap());
    headers.insert(
        "origin",
        HeaderValue::from_str(&format!("http://{addr}")).unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| Ws(ws))
}

/// The test password's Argon2id hash, made once with the smallest cost
/// (the cost rides in the hash, so checking it is cheap too): hundreds of
/// tests sign in, and the production cost of each (19 MiB, tens of
/// milliseconds) is what made the suite CPU-bound. What the server itself
/// hashes (new passwords, resets) keeps the production cost.
pub fn test_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(256, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    })
}

pub async fn add_agent(store: &Store, account: &str, email: &str, name: &str) -> Agent {
    let hash = test_password_hash();
    store
        .create_agent(account, email, name, Role::Agent, hash)
        .await
        .unwrap()
}

/// Whether a frame is the event of a conversation being assigned.
pub fn is_assigned(frame: &Value) -> bool {
    frame["event"]["body"]["assigned"].is_object()
}

/// A `Drop` impl also makes closures capture a `TestApp` whole: with
/// precise captures, a test body using only some fields would otherwise drop
/// the rest (the database) before the body runs. The fields drop after
/// this: the database last.
impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A test WebSocket speaking JSON frames.
pub struct Ws(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.0.send(Message::text(frame.to_string())).await.unwrap();
    }

    pub async fn send_text(&mut self, text: String) {
        self.0.send(Message::text(text)).await.unwrap();
    }

    /// The next JSON frame (control frames skipped).
    pub async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("a frame within the wait")
                .expect("socket open")
                .expect("no socket error");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame, which must have this `type`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], kind, "expected a {kind} frame, got {frame}");
        frame
    }

    /// Skips frames until one of this `type` that satisfies `pred`.
    pub async fn until(&mut self, kind: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == kind && pred(&frame) {
                return frame;
            }
        }
    }

    /// Every frame that arrives within `wait` (none, if nothing does).
    pub async fn frames_within(&mut self, wait: Duration) -> Vec<Value> {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, self.0.next()).await {
            if let Message::Text(text) = message {
                frames.push(serde_json::from_str(&text).unwrap());
            }
        }
        frames
    }

    /// Sends a ping and returns every frame received before the pong.
    pub async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut seen = Vec::new();
        loop {
            let frame = self.next().await;
            if frame["type"] == "pong" {
                return seen;
            }
            seen.push(frame);
        }
    }

    /// Sends a shopper's or agent's message frame and waits for its ack.
    pub async fn say(&mut self, client_id: &str, body: &str) -> Value {
        self.send(json!({"type": "send", "client_id": client_id, "body": body}))
            .await;
        self.until("ack", |f| f["client_id"] == client_id).await
    }

    /// Sends an agent's message into a conversation and waits for its ack.
    pub async fn say_in(&mut self, conversation_id: &str, client_id: &str, body: &str) -> Value {
        self.send(json!({"type": "send", "conversation_id": conversation_id, "client_id": client_id, "body": body}))
            .await;
        self.until("ack", |f| f["client_id"] == client_id).await
    }

    /// Sets an agent's status to online and waits until it holds.
    pub async fn go_online(&mut self) {
        self.send(json!({"type": "set_status", "status": "online"}))
            .await;
        self.until("status", |f| f["status"] == "online").await;
    }

    /// Like [`Ws::drain`], keeping only `event` frames (a waiting shopper
    /// also hears about their place in line, whenever it changes).
    pub async fn drain_events(&mut self) -> Vec<Value> {
        let mut frames = self.drain().await;
        frames.retain(|f| f["type"] == "event");
        frames
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("closed within the wait")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }
}
