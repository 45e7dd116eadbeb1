//! All SQL lives here. One interface over two backends (SQLite, PostgreSQL):
//! queries are runtime-checked text written in the SQL both accept, run
//! through sqlx's `Any` driver, and every store test runs on both backends.

mod blocks;
mod contacts;
mod conversations;
mod mail;
mod passwords;
mod people;
mod profiles;
mod replies;
mod sessions;
mod sites;
mod teams;
mod tenancy;
mod visitors;

pub use blocks::NewBlock;
pub use contacts::{ContactRecord, Identified};
pub use conversations::{
    Change, Conversation, Folded, HandOverRefused, MailState, NewMessage, Opening, Posted,
};
pub use mail::{ClaimedMail, MailKind, NewMail};
pub use people::OpenInvite;
pub use profiles::{MAX_PAGES_PER_VISITOR, MAX_TRACKS_PER_VISITOR};
pub use replies::StoredReply;
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
    backend: Backend,
}

impl Store {
    /// Connects, creating the SQLite file (and its folder) if needed, and
    /// applies the embedded migrations for the backend.
    pub async fn connect(url: &str) -> StoreResult<Store> {
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
                let write = sqlite_pool(1).connect_with(options.clone()).await?;
                let read = sqlite_pool(8).connect_with(options).await?;
                Store {
                    read,
                    write,
                    backend,
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
                    backend,
                }
            }
        };
        store.migrate().await?;
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

    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL: readers never block the writer; NORMAL sync is durable
                // across process crashes, which is the promise we make.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await?;
                Ok(())
            })
        })
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
