//! What the database knows of attached files (the bytes are in the file
//! store), the signed links they are fetched by, and the queue of bytes to
//! erase.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use protocol::FileRef;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Store, StoreResult, now_ms};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Signs and checks the links files are fetched by: `/files/ID?e=EXPIRY&s=MAC`.
/// The expiry is rounded to a day, so a file keeps one link for a day
/// (browsers cache it) and a link lives between one and two days.
#[derive(Clone)]
pub struct FileLinks(Arc<Vec<u8>>);

impl std::fmt::Debug for FileLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileLinks(…)")
    }
}

/// Why a file link is not honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Forged,
    Expired,
}

impl FileLinks {
    pub fn new(secret: &str) -> FileLinks {
        FileLinks(Arc::new(secret.as_bytes().to_vec()))
    }

    fn mac(&self, id: &str, expires_ms: i64) -> String {
        // HMAC takes a key of any length.
        let mut mac =
            <hmac::Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(id.as_bytes());
        mac.update(b"\0");
        mac.update(expires_ms.to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..18])
    }

    /// The link for readers of a conversation now: valid a day at least.
    pub fn link(&self, id: &str, now: i64) -> String {
        self.link_for_days(id, now, 1)
    }

    /// A link valid for `days` at least (mail is read later than chat).
    pub fn link_for_days(&self, id: &str, now: i64, days: i64) -> String {
        let expires = (now.div_euclid(DAY_MS) + days + 1) * DAY_MS;
        format!("/files/{id}?e={expires}&s={}", self.mac(id, expires))
    }

    /// Whether `mac` signs `id` until `expires_ms`, and that is still ahead.
    pub fn check(&self, id: &str, expires_ms: i64, mac: &str, now: i64) -> Result<(), LinkRefused> {
        let expected = self.mac(id, expires_ms);
        // Comparing digests: the time taken says nothing about the MAC.
        if Sha256::digest(mac) != Sha256::digest(&expected) {
            return Err(LinkRefused::Forged);
        }
        if expires_ms <= now {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }

    /// Fills in fresh links on a message's files.
    pub fn sign_all(&self, files: &mut [FileRef], now: i64) {
        for file in files {
            file.url = self.link(&file.id, now);
        }
    }
}

/// Who uploaded a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uploader {
    Visitor { site_id: String, visitor_id: String },
    Agent { agent_id: String },
}

/// A file's row.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub id: String,
    pub account_id: String,
    pub site_id: Option<String>,
    pub visitor_id: Option<String>,
    pub agent_id: Option<String>,
    pub conversation_id: Option<String>,
    pub client_id: Option<String>,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: i64,
}

impl StoredFile {
    /// As a message carries it (without a link; readers get theirs).
    pub fn reference(&self) -> FileRef {
        FileRef {
            id: self.id.clone(),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: u64::try_from(self.size).unwrap_or(0),
            url: String::new(),
        }
    }

    /// Whether `uploader` uploaded it.
    pub fn uploaded_by(&self, uploader: &Uploader) -> bool {
        match uploader {
            Uploader::Visitor { visitor_id, .. } => {
                self.visitor_id.as_deref() == Some(visitor_id.as_str())
            }
            Uploader::Agent { agent_id } => self.agent_id.as_deref() == Some(agent_id.as_str()),
        }
    }
}

/// A file stored and checked, to be recorded.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub account_id: String,
    pub uploader: Uploader,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
}

/// Bytes an uploader (and the site, for a shopper) may still add today.
#[derive(Clone, Copy, Debug)]
pub struct Allowance {
    pub per_uploader_per_day: i64,
    pub per_site_per_day: i64,
}

/// Why a stored file was not recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverAllowance {
    Uploader,
    Site,
}

const FILE_COLUMNS: &str = "id, account_id, site_id, visitor_id, agent_id, conversation_id, client_id, \
     name, content_type, size, sha256, storage_key, created_at";

fn file_from_row(row: &AnyRow) -> StoreResult<StoredFile> {
    Ok(StoredFile {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        site_id: row.try_get("site_id")?,
        visitor_id: row.try_get("visitor_id")?,
        agent_id: row.try_get("agent_id")?,
        conversation_id: row.try_get("conversation_id")?,
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        storage_key: row.try_get("storage_key")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// The signer of file links.
    pub fn file_links(&self) -> &FileLinks {
        &self.file_links
    }

    /// Records a stored file, unless it takes its uploader (or the site)
    /// past today's allowance: counted in the same transaction, so two
    /// uploads at once cannot both slip under it on SQLite (on PostgreSQL,
    /// by at most the files in flight).
    pub async fn record_file(
        &self,
        file: &NewFile,
        allowance: Allowance,
    ) -> StoreResult<Result<StoredFile, OverAllowance>> {
        let now = now_ms();
        let since = now - DAY_MS;
        let mut tx = self.write.begin().await?;
        let (uploader_sql, uploader_id, site_id) = match &file.uploader {
            Uploader::Visitor {
                site_id,
                visitor_id,
            } => ("visitor_id", visitor_id.as_str(), Some(site_id.as_str())),
            Uploader::Agent { agent_id } => ("agent_id", agent_id.as_str(), None),
        };
        let used: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
             WHERE {uploader_sql} = $1 AND created_at > $2"
        ))
        .bind(uploader_id)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        if used + file.size > allowance.per_uploader_per_day {
            return Ok(Err(OverAllowance::Uploader));
        }
        if let Some(site_id) = site_id {
            let used: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files \
                 WHERE site_id = $1 AND created_at > $2",
            )
            .bind(site_id)
            .bind(since)
            .fetch_one(&mut *tx)
            .await?;
            if used + file.size > allowance.per_site_per_day {
                return Ok(Err(OverAllowance::Site));
            }
        }
        let stored = StoredFile {
            id: uuid::Uuid::new_v4().to_string(),
            account_id: file.account_id.clone(),
            site_id: site_id.map(str::to_owned),
            visitor_id: match &file.uploader {
                Uploader::Visitor { visitor_id, .. } => Some(visitor_id.clone()),
                Uploader::Agent { .. } => None,
            },
            agent_id: match &file.uploader {
                Uploader::Agent { agent_id } => Some(agent_id.clone()),
                Uploader::Visitor { .. } => None,
            },
            conversation_id: None,
            client_id: None,
            name: file.name.clone(),
            content_type: file.content_type.clone(),
            size: file.size,
            sha256: file.sha256.clone(),
            storage_key: file.storage_key.clone(),
            created_at: now,
        };
        sqlx::query(&format!(
            "INSERT INTO files ({FILE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&stored.id)
        .bind(&stored.account_id)
        .bind(stored.site_id.as_deref())
        .bind(stored.visitor_id.as_deref())
        .bind(stored.agent_id.as_deref())
        .bind(&stored.name)
        .bind(&stored.content_type)
        .bind(stored.size)
        .bind(&stored.sha256)
        .bind(&stored.storage_key)
        .bind(stored.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(stored))
    }

    pub async fn file_by_id(&self, id: &str) -> StoreResult<Option<StoredFile>> {
        sqlx::query(&format!("SELECT {FILE_COLUMNS} FROM files WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(file_from_row)
            .transpose()
    }

    /// The files of `ids` that exist, in any order.
    pub async fn files_by_ids(&self, ids: &[String]) -> StoreResult<Vec<StoredFile>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE id IN ({})",
            (1..=ids.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        query
            .fetch_all(&self.write)
            .await?
            .iter()
            .map(file_from_row)
            .collect()
    }

    /// The database file store: one chunk of a file's bytes.
    pub async fn put_chunk(&self, storage_key: &str, seq: i64, data: &[u8]) -> StoreResult<()> {
        sqlx::query("INSERT INTO file_chunks (storage_key, seq, data) VALUES ($1, $2, $3)")
            .bind(storage_key)
            .bind(seq)
            .bind(data.to_vec())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The database file store: chunk `seq` of a file, if there is one.
    pub async fn chunk(&self, storage_key: &str, seq: i64) -> StoreResult<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT data FROM file_chunks WHERE storage_key = $1 AND seq = $2")
                .bind(storage_key)
                .bind(seq)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// The database file store: erases a file's chunks.
    pub async fn delete_chunks(&self, storage_key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM file_chunks WHERE storage_key = $1")
            .bind(storage_key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Storage keys waiting to be erased from the file store, oldest first.
    pub async fn pending_file_erasures(&self, limit: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT storage_key FROM file_erasures ORDER BY queued_at, storage_key LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// The file store erased `storage_key`.
    pub async fn file_erased(&self, storage_key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM file_erasures WHERE storage_key = $1")
            .bind(storage_key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Bytes stored that no row will ever point at (an upload that failed
    /// after its bytes were written): erased by the same queue.
    pub async fn erase_unrecorded_bytes(&self, storage_key: &str) -> StoreResult<()> {
        queue_erasure(&self.write, storage_key, now_ms()).await
    }

    /// Forgets files nobody can reach any more and queues their bytes for
    /// erasure: uploads no message referred to within `unattached_ms`, and
    /// files whose conversation is gone (erased by any path). Returns how
    /// many.
    pub async fn sweep_files(&self, unattached_ms: i64) -> StoreResult<u64> {
        let mut tx = self.write.begin().await?;
        let condition = "(attached_at IS NULL AND created_at < $1) \
             OR (conversation_id IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = files.conversation_id))";
        let swept =
            forget_files_where(&mut tx, condition, Param::Time(now_ms() - unattached_ms)).await?;
        tx.commit().await?;
        Ok(swept)
    }
}

/// What `$1` of a condition over `files` is bound to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Param<'a> {
    Id(&'a str),
    Time(i64),
}

/// Queues the bytes of the files matching `condition` (SQL over `files`,
/// with `$1` bound to `param`) for erasure and forgets their rows, inside
/// the caller's transaction: erasing a contact or a site erases their
/// files with it, or with neither.
pub(super) async fn forget_files_where(
    tx: &mut Transaction<'static, Any>,
    condition: &str,
    param: Param<'_>,
) -> StoreResult<u64> {
    let select = format!("SELECT storage_key FROM files WHERE {condition}");
    let query = sqlx::query_scalar::<_, String>(&select);
    let keys = match param {
        Param::Id(id) => query.bind(id),
        Param::Time(at) => query.bind(at),
    }
    .fetch_all(&mut **tx)
    .await?;
    if keys.is_empty() {
        return Ok(0);
    }
    let now = now_ms();
    for key in &keys {
        queue_erasure(&mut **tx, key, now).await?;
    }
    let delete = format!("DELETE FROM files WHERE {condition}");
    let query = sqlx::query(&delete);
    match param {
        Param::Id(id) => query.bind(id),
        Param::Time(at) => query.bind(at),
    }
    .execute(&mut **tx)
    .await?;
    Ok(keys.len() as u64)
}

/// Queues `storage_key`'s bytes for the file store to erase.
async fn queue_erasure<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    storage_key: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO file_erasures (storage_key, queued_at) VALUES ($1, $2) \
         ON CONFLICT (storage_key) DO NOTHING",
    )
    .bind(storage_key)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Ties the files of a stored message to it, in the transaction that
/// stores it: from then on they are that conversation's. A file already
/// tied (the same message sent again) is left as it is.
pub(super) async fn attach_files(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    client_id: &str,
    files: &[FileRef],
) -> StoreResult<()> {
    let now = now_ms();
    for file in files {
        sqlx::query(
            "UPDATE files SET conversation_id = $1, client_id = $2, attached_at = $3, \
             site_id = COALESCE(site_id, (SELECT site_id FROM conversations WHERE id = $1)) \
             WHERE id = $4 AND attached_at IS NULL",
        )
        .bind(conversation_id)
        .bind(client_id)
        .bind(now)
        .bind(&file.id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
