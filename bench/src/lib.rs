//! Measuring Rapport under load against a bare relay on the same stack.
//! `cargo xtask bench` starts the servers and runs the load generator
//! (`rapport-loadgen`) once against each; see `load` for what is measured.

pub mod chaos;
pub mod load;
pub mod memory;
pub mod net;
pub mod relay;
pub mod stats;
pub mod uploads;

/// Why a benchmark run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("setup: {0}")]
    Setup(String),
    #[error("socket: {0}")]
    Socket(String),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("IO: {0}")]
    Io(#[from] std::io::Error),
    #[error("timed out: {0}")]
    Timeout(String),
}
