//! Agent sessions for tower-sessions, kept in the same database so that any
//! server process can serve any agent. Session ids are stored hashed.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{Store, is_unique_violation, now_ms};

/// [`SessionStore`] over [`Store`].
#[derive(Clone, Debug)]
pub struct SessionRecords {
    store: Store,
}

impl SessionRecords {
    pub fn new(store: Store) -> Self {
        SessionRecords { store }
    }

    /// Removes expired sessions; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expiry_ms < $1")
            .bind(now_ms())
            .execute(&self.store.write)
            .await?;
        Ok(done.rows_affected())
    }
}

/// A session's id as stored (hashed): also how its sockets are found when
/// it ends, without the id itself travelling anywhere.
pub fn session_key(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

/// The signed-in agent a session belongs to, kept beside the data so that
/// deactivating someone can end all their sessions at once.
fn agent_of(record: &Record) -> Option<&str> {
    record
        .data
        .get(crate::identity::SESSION_AGENT_ID)
        .and_then(serde_json::Value::as_str)
}

fn expiry_ms(record: &Record) -> i64 {
    i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[async_trait]
impl SessionStore for SessionRecords {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expiry_ms, agent_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(session_key(&record.id))
            .bind(&data)
            .bind(expiry_ms(record))
            .bind(agent_of(record))
            .execute(&self.store.write)
            .await;
            match inserted {
                Ok(_) => return Ok(()),
                Err(err) if is_unique_violation(&err) => record.id = Id::default(),
                Err(err) => return Err(backend(err)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sessions (id, data, expiry_ms, agent_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_ms = excluded.expiry_ms, \
             agent_id = excluded.agent_id",
        )
        .bind(session_key(&record.id))
        .bind(data)
        .bind(expiry_ms(record))
        .bind(agent_of(record))
        .execute(&self.store.write)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expiry_ms FROM sessions WHERE id = $1 AND expiry_ms > $2")
                .bind(session_key(id))
                .bind(now_ms())
                .fetch_optional(&self.store.read)
                .await
                .map_err(backend)?;
        let Some((data, expiry)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(expiry) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_key(id))
            .execute(&self.store.write)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
