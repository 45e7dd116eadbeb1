//! All SQL lives here. One interface over two backends (SQLite, PostgreSQL):
//! queries are runtime-checked text written in the SQL both accept, run
//! through sqlx's `Any` driver, and every store test runs on both backends.

mod articles;
mod blocks;
mod contacts;
mod conversations;
mod customers;
mod erasure;
mod files;
mod mail;
mod mail_guard;
mod merges;
mod passwords;
mod people;
mod presence;
mod profiles;
mod queue_exits;
mod ratings;
mod replies;
mod reports;
mod search;
mod seats;
mod sessions;
mod sites;
mod teams;
mod tenancy;
mod visitors;

pub use articles::{ArticleRecord, NewArticleText, PublishedPage, PublishedText, ReadingRecord};
pub use blocks::NewBlock;
pub use contacts::{ContactRecord, Identified};
pub use conversations::{
    Append, AppendRefused, AppendTo, Appended, Change, Conversation, Folded, HandOverRefused,
    LabelName, LabelRefused, MailState, NewMessage, Opening, Posted, StatusRefused, ViewCursor,
};
pub use customers::parse_cursor as parse_customer_cursor;
pub use files::{Allowance, FileLinks, LinkRefused, NewFile, OverAllowance, StoredFile, Uploader};
pub use mail::{ClaimedMail, MailCause, MailKind, NewMail};
pub use mail_guard::{Confirmation, NewConfirmation};
pub use merges::{MergeReason, MergeRefused};
pub use people::OpenInvite;
pub use profiles::{MAX_PAGES_PER_VISITOR, MAX_TRACKS_PER_VISITOR};
pub use queue_exits::LineExit;
pub use ratings::RatingRecord;
pub use replies::StoredReply;
pub use reports::{
    ConversationFacts, ExitFacts, OpeningEvent, PresenceSpan, ReportFacts, ReportScope,
};
pub use sessions::{SessionRecords, session_key};
pub use sites::SiteUpdate;
pub use tenancy::{Agent, Site};
pub use visitors::{TokenHolder, Visitor};

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Errors of the storage layer. Callers above the store see these only as
/// "internal" unless a variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot prepare the database location: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported database URL (use sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The batch a message was written in failed (each of its messages
    /// gets the same error; none of them was stored).
    #[error("{0}")]
    Batch(std::sync::Arc<StoreError>),
    /// The writer that stores messages has stopped (the server is stopping).
    #[error("the message writer has stopped")]
    WriterStopped,
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database. Cheap to clone.
///
/// SQLite allows one writer at a time; rather than let connections fight over
/// the lock (and fail with SQLITE_BUSY on a read-to-write upgrade), all writes
/// go through a pool of exactly one connection while reads use the others.
/// On PostgreSQL both handles are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    /// SQLite: the connection that checkpoints the log.
    checkpoints: Option<AnyPool>,
    backend: Backend,
    /// Signs the links files are fetched by (with the installation's key).
    file_links: FileLinks,
}

/// The writes to the shopper's side (tokens, what their browser told,
/// what a page stated, blocks and addresses): reads through the store it
/// wraps, writes through its own methods. Only the visitors service holds
/// one (the wiring in `app` makes it; `tests/architecture.rs` checks that
/// nothing else does), so no other code can change a visitor's rows.
#[derive(Clone, Debug)]
pub struct VisitorBook(Store);

impl Store {
    /// The visitor rows' writer, for the visitors service (and tests).
    pub fn visitor_book(&self) -> VisitorBook {
        VisitorBook(self.clone())
    }
}

/// The writes to conversations (their events, state, mail and read
/// positions) and what erases them: reads through the store it wraps,
/// writes through its own methods. Only the conversation service holds one
/// (the wiring in `app` makes it; `tests/architecture.rs` checks that
/// nothing else does), so no other code can change a conversation.
#[derive(Clone, Debug)]
pub struct ConversationBook(Store);

impl Store {
    /// The conversations' writer, for the conversation service (and tests).
    pub fn conversation_book(&self) -> ConversationBook {
        ConversationBook(self.clone())
    }
}

impl std::ops::Deref for ConversationBook {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0
    }
}

impl std::ops::Deref for VisitorBook {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0
    }
}

impl Store {
    /// Connects, creating the SQLite file (and its folder) if needed, and
    /// applies the embedded migrations for the backend.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Store::connect_with(url, Synchronous::default()).await
    }

    /// [`Store::connect`], with SQLite's commits synced as `synchronous` says.
    pub async fn connect_with(url: &str, synchronous: Synchronous) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let store = match backend {
            Backend::Sqlite => {
                prepare_sqlite_location(url)?;
                let options = AnyConnectOptions::from_str(&with_create_mode(url))?;
                let write = sqlite_pool(1, synchronous)
                    .connect_with(options.clone())
                    .await?;
                let read = sqlite_pool(8, synchronous)
                    .connect_with(options.clone())
                    .await?;
                let checkpoints = sqlite_pool(1, synchronous).connect_with(options).await?;
                tokio::spawn(keep_the_log_short(checkpoints.clone()));
                Store {
                    read,
                    write,
                    checkpoints: Some(checkpoints),
                    backend,
                    file_links: FileLinks::new(""),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                Store {
                    read: pool.clone(),
                    write: pool,
                    checkpoints: None,
                    backend,
                    file_links: FileLinks::new(""),
                }
            }
        };
        store.migrate().await?;
        store.run_data_migrations().await?;
        store.prepare_search().await?;
        let mut store = store;
        store.file_links = FileLinks::new(&store.server_key("files").await?);
        Ok(store)
    }

    /// One folder of migrations, written in the SQL both backends accept,
    /// run through the `Any` driver. (`build.rs` makes a new file rebuild.)
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("../migrations").run(&self.write).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that reads before it writes. On SQLite it takes
    /// the write lock first, waiting for it as any write does: a deferred
    /// transaction's upgrade from reading to writing fails at once with
    /// SQLITE_BUSY if another process wrote meanwhile (several processes on
    /// one SQLite file; within one, writes share a connection).
    pub(crate) async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.write.begin().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("UPDATE data_migrations SET done_at = done_at WHERE 1 = 0")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower-cased, its own `%`, `_` and
/// `\` taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The backend a transaction runs on.
pub(crate) fn backend_of(tx: &sqlx::Transaction<'static, sqlx::Any>) -> Backend {
    if tx.backend_name() == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

impl Store {
    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.close().await;
        }
    }
}

/// How far a commit on SQLite has gone when it returns (`PRAGMA synchronous`
/// in WAL mode). PostgreSQL syncs every commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// The commit is in the write-ahead log, in the operating system's
    /// hands: it survives the process being killed at any moment (proven
    /// by `cargo xtask chaos`), not a crash of the machine or a power cut,
    /// which can lose the last commits before a checkpoint synced them
    /// (the database stays consistent either way).
    #[default]
    Normal,
    /// The log is synced at every commit (once per batch of messages): it
    /// survives a power cut too, at the cost BENCHMARKS.md gives.
    Full,
}

impl std::str::FromStr for Synchronous {
    type Err = String;
    fn from_str(text: &str) -> Result<Synchronous, String> {
        match text.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            other => Err(format!("{other:?}: say normal or full")),
        }
    }
}

impl std::fmt::Display for Synchronous {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        })
    }
}

fn sqlite_pool(max: u32, synchronous: Synchronous) -> AnyPoolOptions {
    let pragmas = format!(
        // WAL: readers never block the writer. No automatic checkpoint: it
        // would run (and sync the file) inside a commit, every thousand
        // pages; `keep_the_log_short` runs them beside the writer instead.
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
         PRAGMA wal_autocheckpoint = 0;",
        match synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    );
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                conn.execute(pragmas.as_str()).await?;
                Ok(())
            })
        })
}

/// How often SQLite's write-ahead log is moved into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Moves SQLite's write-ahead log into the database file, often and on a
/// connection of its own, so that no commit waits for it (a checkpoint
/// syncs the file; inside a commit it made one message in a few hundred
/// wait 20–30 ms, see BENCHMARKS.md). Passive: it never waits for the
/// writer or readers, and the writer goes on while it runs. Ends when the
/// store is closed.
async fn keep_the_log_short(pool: AnyPool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%err, "SQLite checkpoint failed");
        }
    }
}

/// `sqlite://data/rapport.db` → make sure `data/` exists.
fn prepare_sqlite_location(url: &str) -> std::io::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Current time in Unix milliseconds, the one time unit stored.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An id that sorts in creation order within this process, even for rows
/// made in the same millisecond (UUIDv7 with its counter).
pub fn new_ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a database error is a unique-constraint violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Splits `n` rows into consecutive ranges of at most `max` rows, each a
/// power of two long: a multi-row statement then takes one of a few
/// shapes, which stay prepared in each connection's statement cache.
pub(crate) fn chunks(n: usize, max: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < n {
        let rest = (n - start).min(max.max(1));
        let len = 1 << rest.ilog2();
        ranges.push(start..start + len);
        start += len;
    }
    ranges
}

/// `($1, $2), ($3, $4)`: the placeholders of `rows` rows of `columns`
/// values each, numbered from `$1`.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("${}", row * columns + column + 1));
        }
        text.push(')');
    }
    text
}

/// The store's own tests run on both backends: a fresh SQLite file, and a
/// fresh PostgreSQL database when `RAPPORT_TEST_POSTGRES_URL` (an admin
/// URL) is set, dropped afterwards whether the test passed or not.
#[cfg(test)]
pub(crate) mod on_both {
    #![allow(clippy::unwrap_used)]

    use std::future::Future;

    use sqlx::Connection;

    pub(crate) async fn sqlite<Fut: Future<Output = ()>>(test: impl FnOnce(String) -> Fut) {
        let dir = tempfile::tempdir().unwrap();
        test(format!("sqlite://{}/store.db", dir.path().display())).await;
    }

    pub(crate) async fn postgres<Fut>(test: impl FnOnce(String) -> Fut + Send + 'static)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Ok(admin_url) = std::env::var("RAPPORT_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED on PostgreSQL: set RAPPORT_TEST_POSTGRES_URL to run it");
            return;
        };
        let name = format!("rapport_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap();
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap();
        let outcome = tokio::spawn(test(format!("{base}/{name}"))).await;
        sqlx::Executor::execute(
            &mut admin,
            format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
        )
        .await
        .unwrap();
        outcome.unwrap();
    }
}

#[cfg(test)]
mod batching_tests {
    use super::{chunks, placeholders};

    #[test]
    fn rows_are_split_into_power_of_two_chunks_that_cover_them_once() {
        for n in 0..300 {
            let ranges = chunks(n, 64);
            let covered: Vec<usize> = ranges.iter().flat_map(Clone::clone).collect();
            assert_eq!(covered, (0..n).collect::<Vec<_>>(), "{n} rows");
            assert!(
                ranges
                    .iter()
                    .all(|r| r.len().is_power_of_two() && r.len() <= 64)
            );
        }
        assert_eq!(chunks(7, 64), vec![0..4, 4..6, 6..7]);
        assert_eq!(chunks(130, 64), vec![0..64, 64..128, 128..130]);
    }

    #[test]
    fn placeholders_number_every_value_once() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }
}
