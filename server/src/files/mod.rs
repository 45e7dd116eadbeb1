//! Files shoppers and agents attach to messages: taken in as a stream
//! (never whole in memory, its size counted as it comes), typed by its
//! content, stripped of a photo's metadata, kept in the file store with its
//! row in the database, and served back by signed, expiring links.
//!
//! An upload only stores a file; the message that refers to it (over the
//! socket, idempotent by `client_id`) ties it to a conversation, through
//! the conversation service. Files no message took are forgotten after a
//! day; erased ones leave by a queue, so a crash never strands bytes.

pub mod blobs;
mod config;
pub mod sniff;
pub mod strip;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use protocol::FileRef;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

pub use blobs::{BlobError, Blobs};
pub use config::FileConfig;
pub use sniff::FileKind;

use crate::store::{
    Allowance, LinkRefused, NewFile, OverAllowance, Store, StoreError, StoredFile, Uploader, now_ms,
};

/// What files may be, and how many.
#[derive(Clone, Debug)]
pub struct FileSettings {
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
    /// Bytes one shopper or agent may upload per day.
    pub per_uploader_per_day: u64,
    /// Bytes the shoppers of one site may upload per day.
    pub per_site_per_day: u64,
    /// Uploads read at once by this process; more are told to try again.
    pub uploads_at_once: usize,
    /// An upload no message refers to within this long is forgotten.
    pub unattached_after: Duration,
}

impl Default for FileSettings {
    /// The defaults of the flags (see [`FileConfig`]).
    fn default() -> FileSettings {
        FileConfig::default().settings()
    }
}

/// Why a file was not taken or cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("A file can be at most {}.", protocol::size_text(*max))]
    TooLarge { max: u64 },
    #[error("{0}")]
    NotTaken(String),
    #[error("This site does not take this kind of file ({0}).")]
    NotAllowedHere(&'static str),
    #[error("{}", over_message(*.0))]
    OverAllowance(OverAllowance),
    #[error("Many files are being sent just now; please try again in a moment.")]
    Busy,
    #[error("The upload stopped before the file was whole; please try again.")]
    Interrupted,
    #[error("{0}")]
    Damaged(String),
    #[error("This link is not valid.")]
    BadLink,
    #[error("This link has expired; open the conversation again for a fresh one.")]
    Expired,
    #[error("No such file.")]
    NotFound,
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("file spool: {0}")]
    Io(#[from] std::io::Error),
}

fn over_message(over: OverAllowance) -> &'static str {
    match over {
        OverAllowance::Uploader => {
            "You have sent as many files as one person may today; please try again tomorrow."
        }
        OverAllowance::Site => "This shop takes no more files today; please try again tomorrow.",
    }
}

/// One upload, as its door hands it over.
#[derive(Debug)]
pub struct Upload<'a> {
    pub account_id: &'a str,
    pub uploader: Uploader,
    /// The name the browser gave (cleaned before it is kept).
    pub name: &'a str,
    /// The kinds the site takes.
    pub allowed: &'a [FileKind],
    /// `Content-Length`, if the client said: refused at once when too large.
    pub declared_len: Option<u64>,
}

/// The file service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Files {
    store: Store,
    blobs: Blobs,
    settings: Arc<FileSettings>,
    slots: Arc<Semaphore>,
}

impl Files {
    pub fn new(store: Store, blobs: Blobs, settings: FileSettings) -> Files {
        Files {
            store,
            blobs,
            slots: Arc::new(Semaphore::new(settings.uploads_at_once.max(1))),
            settings: Arc::new(settings),
        }
    }

    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// Takes one file from `body`; nothing is kept unless all of it is
    /// taken. The bytes go to a spool file as they come (counted, the
    /// upload cut off past the limit), are typed by their first bytes,
    /// stripped if a photo, then stored and recorded.
    pub async fn upload<S, E>(&self, upload: Upload<'_>, body: S) -> Result<FileRef, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let max = self.settings.max_file_bytes;
        if upload.declared_len.is_some_and(|len| len > max) {
            return Err(FileError::TooLarge { max });
        }
        let _slot = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| FileError::Busy)?;
        let (spool, head) = spool(body, max).await?;
        let sniffed = sniff::sniff(&head).map_err(|not| FileError::NotTaken(not.0))?;
        if !upload.allowed.contains(&sniffed.kind) {
            return Err(FileError::NotAllowedHere(sniffed.content_type));
        }
        let content_type = sniffed.content_type;
        let spool = spool.into_std().await;
        // Stripping and hashing read and write files: off the async threads.
        let (stored, sha256, size) =
            tokio::task::spawn_blocking(move || finish(spool, content_type))
                .await
                .map_err(|_| FileError::Damaged("The file could not be read.".into()))??;
        let storage_key = format!("files/{}", uuid::Uuid::new_v4().simple());
        self.blobs
            .put_file(&storage_key, tokio::fs::File::from_std(stored))
            .await?;
        let new = NewFile {
            account_id: upload.account_id.to_owned(),
            uploader: upload.uploader,
            name: sniff::clean_name(upload.name, &sniffed),
            content_type: content_type.to_owned(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            sha256,
            storage_key: storage_key.clone(),
        };
        let allowance = Allowance {
            per_uploader_per_day: i64::try_from(self.settings.per_uploader_per_day)
                .unwrap_or(i64::MAX),
            per_site_per_day: i64::try_from(self.settings.per_site_per_day).unwrap_or(i64::MAX),
        };
        let recorded = match self.store.record_file(&new, allowance).await {
            Ok(recorded) => recorded,
            Err(err) => {
                self.forget_bytes(&storage_key).await;
                return Err(err.into());
            }
        };
        match recorded {
            Ok(file) => {
                let mut reference = file.reference();
                reference.url = self.store.file_links().link(&file.id, now_ms());
                Ok(reference)
            }
            Err(over) => {
                self.forget_bytes(&storage_key).await;
                Err(FileError::OverAllowance(over))
            }
        }
    }

    /// Erases bytes no row points at, now or by the queue.
    async fn forget_bytes(&self, storage_key: &str) {
        if let Err(err) = self.blobs.delete(storage_key).await {
            tracing::warn!(%err, "an unrecorded file is left for the erasure queue");
            if let Err(err) = self.store.erase_unrecorded_bytes(storage_key).await {
                tracing::error!(%err, storage_key, "an unrecorded file could not be queued");
            }
        }
    }

    /// The file a signed link names, and its bytes.
    /// A picture of one of `site_id`'s published help articles, with its
    /// bytes: public, as the article is (no signed link).
    pub async fn open_article_image(
        &self,
        site_id: &str,
        id: &str,
    ) -> Result<
        (
            StoredFile,
            futures_util::stream::BoxStream<'static, Result<Bytes, BlobError>>,
        ),
        FileError,
    > {
        if !self.store.is_article_image(site_id, id).await? {
            return Err(FileError::NotFound);
        }
        let file = self
            .store
            .file_by_id(id)
            .await?
            .filter(|file| protocol::is_inline_image(&file.content_type))
            .ok_or(FileError::NotFound)?;
        let bytes = match self.blobs.get(&file.storage_key).await {
            Ok(bytes) => bytes,
            Err(BlobError::Missing(_)) => return Err(FileError::NotFound),
            Err(other) => return Err(other.into()),
        };
        Ok((file, bytes))
    }

    pub async fn open(
        &self,
        id: &str,
        expires_ms: i64,
        mac: &str,
    ) -> Result<
        (
            StoredFile,
            futures_util::stream::BoxStream<'static, Result<Bytes, BlobError>>,
        ),
        FileError,
    > {
        self.store
            .file_links()
            .check(id, expires_ms, mac, now_ms())
            .map_err(|refused| match refused {
                LinkRefused::Forged => FileError::BadLink,
                LinkRefused::Expired => FileError::Expired,
            })?;
        let file = self
            .store
            .file_by_id(id)
            .await?
            .ok_or(FileError::NotFound)?;
        let bytes = match self.blobs.get(&file.storage_key).await {
            Ok(bytes) => bytes,
            Err(BlobError::Missing(_)) => return Err(FileError::NotFound),
            Err(other) => return Err(other.into()),
        };
        Ok((file, bytes))
    }

    /// Forgets files nobody can reach and erases the bytes queued for
    /// erasure. Returns how many bytes' keys were erased.
    pub async fn sweep(&self) -> Result<usize, FileError> {
        let unattached =
            i64::try_from(self.settings.unattached_after.as_millis()).unwrap_or(i64::MAX);
        self.store.sweep_files(unattached).await?;
        let mut erased = 0;
        loop {
            let keys = self.store.pending_file_erasures(100).await?;
            if keys.is_empty() {
                return Ok(erased);
            }
            let mut progressed = false;
            for key in keys {
                match self.blobs.delete(&key).await {
                    Ok(()) => {
                        self.store.file_erased(&key).await?;
                        erased += 1;
                        progressed = true;
                    }
                    Err(err) => tracing::warn!(%err, key, "a file's bytes not erased yet"),
                }
            }
            if !progressed {
                return Ok(erased);
            }
        }
    }

    /// Sweeps every `every` until the process ends.
    pub fn keep_swept(self, every: Duration) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(err) = self.sweep().await {
                    tracing::warn!(%err, "file sweep failed; tried again later");
                }
            }
        });
    }
}

/// Reads `body` into an anonymous spool file, at most `max` bytes; returns
/// it with its first bytes (to type it by).
async fn spool<S, E>(mut body: S, max: u64) -> Result<(tokio::fs::File, Vec<u8>), FileError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut spool = tokio::fs::File::from_std(tempfile::tempfile()?);
    let mut head = Vec::with_capacity(sniff::SNIFF_BYTES.min(4096));
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|err| {
            tracing::debug!(%err, "an upload broke off");
            FileError::Interrupted
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(FileError::TooLarge { max });
        }
        if head.len() < sniff::SNIFF_BYTES {
            let take = (sniff::SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        spool.write_all(&chunk).await?;
    }
    spool.flush().await?;
    Ok((spool, head))
}

/// Strips a photo's metadata (into a second spool file) and hashes what
/// will be stored. Blocking.
fn finish(
    mut spool: std::fs::File,
    content_type: &str,
) -> Result<(std::fs::File, String, u64), FileError> {
    use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
    spool.seek(SeekFrom::Start(0))?;
    let mut stored = if protocol::is_inline_image(content_type) {
        let mut output = BufWriter::new(tempfile::tempfile()?);
        strip::strip(content_type, &mut BufReader::new(&mut spool), &mut output)
            .map_err(|err| FileError::Damaged(err.to_string()))?;
        output.flush()?;
        output.into_inner().map_err(|err| err.into_error())?
    } else {
        spool
    };
    stored.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut stored_size = 0u64;
    loop {
        let read = stored.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        stored_size += read as u64;
        hasher.update(&buffer[..read]);
    }
    stored.seek(SeekFrom::Start(0))?;
    Ok((
        stored,
        data_encoding::HEXLOWER.encode(&hasher.finalize()),
        stored_size,
    ))
}
