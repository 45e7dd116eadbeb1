//! What files cost the server's memory while they come in: `count`
//! shoppers each upload a file of `bytes` at once, slowly enough to be in
//! flight together. An upload streams to a spool file as it comes, so the
//! server's resident memory may grow by its buffers per upload, never by
//! the files. Read from `/proc` (RSS) every 20 ms.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::BenchError;
use crate::load::rss_kib;
use crate::memory::{Params as SocketParams, connect, next_json};

pub struct Params {
    pub base_url: String,
    pub site_key: String,
    pub origin: String,
    pub server_pid: u32,
    pub count: usize,
    pub bytes: usize,
}

/// What was measured (under `uploads` in the `RESULT` line).
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub count: usize,
    pub bytes: usize,
    /// Uploads the server answered 200.
    pub stored: usize,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub seconds: f64,
}

/// A new shopper's visitor token.
async fn visitor_token(params: &Params) -> Result<String, BenchError> {
    let socket_params = SocketParams {
        base_url: params.base_url.clone(),
        site_key: params.site_key.clone(),
        origin: params.origin.clone(),
        server_pid: params.server_pid,
        messages: 0,
        body_chars: 0,
        readers: 0,
        watch: Duration::ZERO,
    };
    let mut ws = connect(&socket_params, false).await?;
    ws.send(Message::text(json!({"type": "hello"}).to_string()))
        .await
        .map_err(|e| BenchError::Socket(e.to_string()))?;
    let welcome = next_json(&mut ws).await?;
    welcome["visitor_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Setup(format!("no welcome: {welcome}")))
}

/// One upload of `bytes` of text in 64 KiB writes; the status code.
async fn upload(params: &Params, token: &str, bytes: usize) -> Result<u16, BenchError> {
    let address = params.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let head = format!(
        "POST /api/widget/files?site={}&name=log.txt HTTP/1.1\r\nHost: {address}\r\nOrigin: {}\r\n\
         Authorization: Bearer {token}\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n",
        params.site_key, params.origin
    );
    stream.write_all(head.as_bytes()).await?;
    let line = b"order 1042 shipped to the warehouse\n";
    let chunk: Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    let mut sent = 0;
    while sent < bytes {
        let part = &chunk[..chunk.len().min(bytes - sent)];
        stream.write_all(part).await?;
        sent += part.len();
        // Many uploads in flight at once, as from slow phones.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

pub async fn run(params: Params) -> Result<Report, BenchError> {
    let mut tokens = Vec::with_capacity(params.count);
    for _ in 0..params.count {
        tokens.push(visitor_token(&params).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = rss_kib(params.server_pid).unwrap_or(0);
    let started = Instant::now();
    let uploads = futures_util::future::join_all(
        tokens
            .iter()
            .map(|token| upload(&params, token, params.bytes)),
    );
    // The peak, read beside the uploads until they are all answered.
    let pid = params.server_pid;
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_before_kib));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            use std::sync::atomic::Ordering;
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid).unwrap_or(0), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let statuses = uploads.await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watcher.await;
    let rss_peak_kib = peak.load(std::sync::atomic::Ordering::Relaxed);
    let stored = statuses
        .into_iter()
        .filter(|status| matches!(status, Ok(200)))
        .count();
    Ok(Report {
        count: params.count,
        bytes: params.bytes,
        stored,
        rss_before_kib,
        rss_peak_kib,
        seconds: started.elapsed().as_secs_f64(),
    })
}
