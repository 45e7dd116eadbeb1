//! How files are kept and how large they may be: flags and environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{BlobError, Blobs, FileSettings};
use crate::store::{Backend, Store};

const MB: u64 = 1000 * 1000;

/// Uploads read at once by one process; more are told to try again.
const UPLOADS_AT_ONCE: usize = 64;

/// An upload no message refers to within this long is forgotten.
const UNATTACHED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Where files live and what they may be. Every flag can also be given as
/// its environment variable.
#[derive(Debug, Clone, Args)]
pub struct FileConfig {
    /// Where attached files are kept: `folder` (the default with SQLite: a
    /// `files` folder beside the database, or `--files-dir`), `database`
    /// (the default with PostgreSQL: every process sharing the database
    /// shares the files), or `s3://bucket[/prefix]` (an S3-compatible
    /// bucket; credentials, region and endpoint from `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, and
    /// `AWS_ALLOW_HTTP=true` for an endpoint without TLS).
    #[arg(long = "file-store", env = "RAPPORT_FILE_STORE")]
    pub store: Option<String>,
    /// An S3-compatible server of your own (MinIO, Garage, Ceph…), e.g.
    /// `http://127.0.0.1:9000`; unset: AWS (or `AWS_ENDPOINT`).
    #[arg(long = "s3-endpoint", env = "RAPPORT_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The bucket's access key id; unset: `AWS_ACCESS_KEY_ID`.
    #[arg(long = "s3-access-key-id", env = "RAPPORT_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// The bucket's secret key; unset: `AWS_SECRET_ACCESS_KEY`.
    #[arg(
        long = "s3-secret-access-key",
        env = "RAPPORT_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
    /// The bucket's region; unset: `AWS_REGION` (or `us-east-1`).
    #[arg(long = "s3-region", env = "RAPPORT_S3_REGION")]
    pub s3_region: Option<String>,
    /// The folder of `--file-store folder`.
    #[arg(long = "files-dir", env = "RAPPORT_FILES_DIR")]
    pub dir: Option<PathBuf>,
    /// Largest file a shopper or agent may attach, in MB.
    #[arg(
        long = "max-file-mb",
        env = "RAPPORT_MAX_FILE_MB",
        default_value_t = 10
    )]
    pub max_file_mb: u64,
    /// MB of files one shopper (or agent) may attach per day.
    #[arg(
        long = "file-mb-per-person-per-day",
        env = "RAPPORT_FILE_MB_PER_PERSON_PER_DAY",
        default_value_t = 100
    )]
    pub per_person_per_day_mb: u64,
    /// MB of files the shoppers of one site may attach per day.
    #[arg(
        long = "file-mb-per-site-per-day",
        env = "RAPPORT_FILE_MB_PER_SITE_PER_DAY",
        default_value_t = 5000
    )]
    pub per_site_per_day_mb: u64,
    /// Seconds an upload may take (a large photo on a slow phone needs
    /// longer than other requests are given).
    #[arg(
        long = "upload-timeout-secs",
        env = "RAPPORT_UPLOAD_TIMEOUT_SECS",
        default_value_t = 300
    )]
    pub upload_timeout_secs: u64,
}

impl Default for FileConfig {
    fn default() -> FileConfig {
        FileConfig {
            store: None,
            s3_endpoint: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_region: None,
            dir: None,
            max_file_mb: 10,
            per_person_per_day_mb: 100,
            per_site_per_day_mb: 5000,
            upload_timeout_secs: 300,
        }
    }
}

impl FileConfig {
    pub fn settings(&self) -> FileSettings {
        FileSettings {
            max_file_bytes: self.max_file_mb.saturating_mul(MB),
            per_uploader_per_day: self.per_person_per_day_mb.saturating_mul(MB),
            per_site_per_day: self.per_site_per_day_mb.saturating_mul(MB),
            uploads_at_once: UPLOADS_AT_ONCE,
            unattached_after: UNATTACHED_AFTER,
        }
    }

    pub fn upload_timeout(&self) -> Duration {
        Duration::from_secs(self.upload_timeout_secs.max(1))
    }

    /// The file store this configuration names, for a server on
    /// `database_url`.
    pub fn blobs(&self, store: &Store, database_url: &str) -> Result<Blobs, BlobError> {
        let chosen = self
            .store
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match chosen {
            Some("database") => Ok(Blobs::database(store.clone())),
            Some(url) if url.starts_with("s3://") => Blobs::bucket(url, &self.bucket_options()),
            Some("folder") => Blobs::folder(&self.folder(database_url)),
            Some(other) => Err(BlobError::Io(std::io::Error::other(format!(
                "--file-store {other}: use folder, database or s3://bucket"
            )))),
            None => match store.backend() {
                Backend::Postgres => Ok(Blobs::database(store.clone())),
                Backend::Sqlite => Blobs::folder(&self.folder(database_url)),
            },
        }
    }

    fn bucket_options(&self) -> super::blobs::BucketOptions {
        super::blobs::BucketOptions {
            endpoint: self.s3_endpoint.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            region: self.s3_region.clone(),
        }
    }

    /// `--files-dir`, else `files` beside the SQLite database (in the
    /// working directory for an in-memory one).
    fn folder(&self, database_url: &str) -> PathBuf {
        if let Some(dir) = &self.dir {
            return dir.clone();
        }
        let path = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty() && !path.starts_with(':'));
        match path.and_then(|p| std::path::Path::new(p).parent()) {
            Some(parent) if !parent.as_os_str().is_empty() => parent.join("files"),
            _ => PathBuf::from("files"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_live_beside_the_sqlite_database() {
        let config = FileConfig::default();
        assert_eq!(
            config.folder("sqlite://data/rapport.db"),
            PathBuf::from("data/files")
        );
        assert_eq!(
            config.folder("sqlite:///var/lib/rapport/r.db?mode=rwc"),
            PathBuf::from("/var/lib/rapport/files")
        );
        assert_eq!(config.folder("sqlite://r.db"), PathBuf::from("files"));
        let chosen = FileConfig {
            dir: Some(PathBuf::from("/srv/files")),
            ..FileConfig::default()
        };
        assert_eq!(
            chosen.folder("sqlite://data/r.db"),
            PathBuf::from("/srv/files")
        );
    }
}
