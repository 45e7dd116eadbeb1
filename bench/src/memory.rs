//! What a long conversation costs the server when its readers stall: one
//! shopper writes a conversation of long messages, then sockets resume it
//! and never read. The server must not hold a copy per socket (a resume
//! sends one page), and must close sockets that do not take what they are
//! sent (a send timeout) or say nothing (the quiet deadline).

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::BenchError;
use crate::load::rss_kib;

pub struct Params {
    pub base_url: String,
    pub site_key: String,
    pub origin: String,
    pub server_pid: u32,
    pub messages: usize,
    pub body_chars: usize,
    pub readers: usize,
    /// How long the stalled readers are watched.
    pub watch: Duration,
}

/// What was measured (the `RESULT` line).
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub messages: usize,
    pub body_chars: usize,
    /// The conversation's text, in KiB: the baseline growth is compared to.
    pub conversation_kib: u64,
    pub readers: usize,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub rss_after_kib: u64,
    /// Readers the server had closed by the end of the watch.
    pub closed: usize,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn socket_url(params: &Params) -> String {
    format!(
        "{}/ws/widget?site={}",
        params.base_url.replacen("http://", "ws://", 1),
        params.site_key
    )
}

/// A widget socket whose receive buffer is small, so that a reader that
/// never reads really stops the server's sends.
pub(crate) async fn connect(params: &Params, small_buffer: bool) -> Result<Socket, BenchError> {
    let mut request = socket_url(params).into_client_request().map_err(socket)?;
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_str(&params.origin).map_err(|e| BenchError::Setup(e.to_string()))?,
    );
    let host = request.uri().host().unwrap_or("127.0.0.1").to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let address = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| BenchError::Setup(format!("{host} has no address")))?;
    let tcp = TcpSocket::new_v4()?;
    if small_buffer {
        tcp.set_recv_buffer_size(4096)?;
    }
    let stream = tcp.connect(address).await?;
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .map_err(socket)?;
    Ok(ws)
}

fn socket(err: impl std::fmt::Display) -> BenchError {
    BenchError::Socket(err.to_string())
}

pub(crate) async fn next_json(ws: &mut Socket) -> Result<Value, BenchError> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .map_err(|_| BenchError::Timeout("a frame from the server".into()))?
            .ok_or_else(|| BenchError::Socket("closed".into()))?
            .map_err(socket)?;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).map_err(|e| BenchError::Socket(e.to_string()));
        }
    }
}

/// Reads one frame: 1 if it acknowledged a message (noting its
/// conversation), 0 otherwise; a refusal ends the run.
async fn next_ack(
    writer: &mut Socket,
    conversation: &mut Option<String>,
) -> Result<usize, BenchError> {
    let frame = next_json(writer).await?;
    if frame["type"] == "error" {
        return Err(BenchError::Setup(format!("a message was refused: {frame}")));
    }
    if frame["type"] != "ack" {
        return Ok(0);
    }
    if conversation.is_none() {
        *conversation = frame["conversation_id"].as_str().map(str::to_owned);
    }
    Ok(1)
}

pub async fn run(params: Params) -> Result<Report, BenchError> {
    // The writer: one shopper, many long messages, each acknowledged
    // (so stored) before the readers come.
    let mut writer = connect(&params, false).await?;
    writer
        .send(Message::text(json!({"type": "hello"}).to_string()))
        .await
        .map_err(socket)?;
    let welcome = next_json(&mut writer).await?;
    let token = welcome["visitor_token"]
        .as_str()
        .ok_or_else(|| BenchError::Setup(format!("no welcome: {welcome}")))?
        .to_owned();
    let filler = "x".repeat(params.body_chars.saturating_sub(12));
    let mut conversation = None;
    let mut acked = 0;
    for i in 0..params.messages {
        let body = format!("{i:>10}: {filler}");
        let frame = json!({"type": "send", "client_id": format!("m{i}"), "body": body});
        writer
            .send(Message::text(frame.to_string()))
            .await
            .map_err(socket)?;
        // A window of 50 unacknowledged at most.
        while i + 1 - acked > 50 {
            acked += next_ack(&mut writer, &mut conversation).await?;
        }
    }
    while acked < params.messages {
        acked += next_ack(&mut writer, &mut conversation).await?;
    }
    let conversation = conversation.ok_or_else(|| BenchError::Setup("no conversation".into()))?;
    drop(writer);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = rss_kib(params.server_pid).unwrap_or(0);

    // The readers: resume from the start, then never read.
    let mut readers = Vec::with_capacity(params.readers);
    for _ in 0..params.readers {
        let mut reader = connect(&params, true).await?;
        let hello = json!({"type": "hello", "token": token, "conversation_id": conversation, "after_seq": 0});
        reader
            .send(Message::text(hello.to_string()))
            .await
            .map_err(socket)?;
        readers.push(reader);
    }
    let started = Instant::now();
    let mut rss_peak_kib = rss_before_kib;
    while started.elapsed() < params.watch {
        rss_peak_kib = rss_peak_kib.max(rss_kib(params.server_pid).unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_after_kib = rss_kib(params.server_pid).unwrap_or(0);

    // Closed by the server: reading now finds the end behind what was sent.
    let checks = readers.into_iter().map(|mut reader| async move {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, reader.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    });
    let closed = futures_util::future::join_all(checks)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count();
    Ok(Report {
        messages: params.messages,
        body_chars: params.body_chars,
        conversation_kib: (params.messages * params.body_chars / 1024) as u64,
        readers: params.readers,
        rss_before_kib,
        rss_peak_kib,
        rss_after_kib,
        closed,
    })
}
