//! Where files' bytes live: a folder, an S3-compatible bucket (both through
//! `object_store`), or the database itself (so several processes on one
//! PostgreSQL share them with nothing more to run). Bytes go in from a file
//! on disk and come out as a stream: no file is ever whole in memory.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::store::{Store, StoreError};

/// Bytes read or written per step (and per database row).
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The smallest part S3 takes (but the last).
const S3_PART_BYTES: usize = 5 * 1024 * 1024;

/// Why the file store failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("file store: {0}")]
    Objects(#[from] object_store::Error),
    #[error("file store (database): {0}")]
    Database(#[from] StoreError),
    #[error("file store: {0}")]
    Io(#[from] std::io::Error),
    #[error("file store: no bytes under {0}")]
    Missing(String),
}

/// How to reach a bucket, beside the `AWS_*` environment.
#[derive(Clone, Debug, Default)]
pub struct BucketOptions {
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub region: Option<String>,
}

/// A file store. Cheap to clone.
#[derive(Clone)]
pub enum Blobs {
    Objects {
        store: Arc<dyn ObjectStore>,
        /// What the store is, for logs (`folder data/files`, `bucket s3://x`).
        described: String,
        /// Bytes held before each part is written: S3 takes parts of
        /// 5 MiB at least (but the last); a folder takes any, so an upload
        /// in flight holds little.
        part_bytes: usize,
    },
    Database(Store),
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Blobs {
    /// Files in `folder` (made if missing).
    pub fn folder(folder: &std::path::Path) -> Result<Blobs, BlobError> {
        std::fs::create_dir_all(folder)?;
        Ok(Blobs::Objects {
            store: Arc::new(object_store::local::LocalFileSystem::new_with_prefix(
                folder,
            )?),
            described: format!("the folder {}", folder.display()),
            part_bytes: CHUNK_BYTES,
        })
    }

    /// An S3-compatible bucket, `s3://bucket[/prefix]`: what `options`
    /// leaves unsaid comes from the usual `AWS_*` environment variables.
    pub fn bucket(url: &str, options: &BucketOptions) -> Result<Blobs, BlobError> {
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_url(url);
        if let Some(endpoint) = &options.endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if let Some(key) = &options.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(region) = &options.region {
            builder = builder.with_region(region);
        }
        let store = builder.build()?;
        Ok(Blobs::Objects {
            store: Arc::new(store),
            described: format!("the bucket {url}"),
            part_bytes: S3_PART_BYTES,
        })
    }

    /// The database's `file_chunks` table.
    pub fn database(store: Store) -> Blobs {
        Blobs::Database(store)
    }

    pub fn describe(&self) -> String {
        match self {
            Blobs::Objects { described, .. } => described.clone(),
            Blobs::Database(_) => "the database".to_owned(),
        }
    }

    /// Stores the whole of `file` (read from its start) under `key`.
    pub async fn put_file(&self, key: &str, mut file: tokio::fs::File) -> Result<(), BlobError> {
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(0)).await?;
        let mut buffer = vec![0u8; CHUNK_BYTES];
        match self {
            Blobs::Objects {
                store, part_bytes, ..
            } => {
                let upload = store.put_multipart(&ObjectPath::from(key)).await?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, *part_bytes);
                loop {
                    let read = read_full(&mut file, &mut buffer).await?;
                    if read == 0 {
                        break;
                    }
                    writer.wait_for_capacity(2).await?;
                    writer.write(&buffer[..read]);
                }
                writer.finish().await?;
            }
            Blobs::Database(store) => {
                let mut seq: i64 = 0;
                loop {
                    let read = read_full(&mut file, &mut buffer).await?;
                    if read == 0 && seq > 0 {
                        break;
                    }
                    store.put_chunk(key, seq, &buffer[..read]).await?;
                    seq += 1;
                    if read == 0 {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The bytes under `key`, as they are read.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        match self {
            Blobs::Objects { store, .. } => {
                let result = store
                    .get(&ObjectPath::from(key))
                    .await
                    .map_err(|err| match err {
                        object_store::Error::NotFound { .. } => BlobError::Missing(key.to_owned()),
                        other => BlobError::Objects(other),
                    })?;
                Ok(result.into_stream().map_err(BlobError::from).boxed())
            }
            Blobs::Database(store) => {
                let Some(first) = store.chunk(key, 0).await? else {
                    return Err(BlobError::Missing(key.to_owned()));
                };
                let store = store.clone();
                let key = key.to_owned();
                // One row at a time: a download holds one chunk.
                let first =
                    futures_util::stream::iter((!first.is_empty()).then(|| Ok(Bytes::from(first))));
                let rest = futures_util::stream::try_unfold(1_i64, move |seq| {
                    let store = store.clone();
                    let key = key.clone();
                    async move {
                        let data = store.chunk(&key, seq).await?;
                        Ok::<_, BlobError>(
                            data.filter(|d| !d.is_empty())
                                .map(|d| (Bytes::from(d), seq + 1)),
                        )
                    }
                });
                Ok(first.chain(rest).boxed())
            }
        }
    }

    /// Erases `key`; erasing what is not there is no error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self {
            Blobs::Objects { store, .. } => match store.delete(&ObjectPath::from(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(other) => Err(other.into()),
            },
            Blobs::Database(store) => Ok(store.delete_chunks(key).await?),
        }
    }
}

/// Fills `buffer` as far as the file goes; 0 at its end.
async fn read_full(file: &mut tokio::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = file.read(&mut buffer[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}
