//! Opening many WebSockets on loopback: each from one of several source
//! addresses (127.0.0.x), so the count is not capped by one address's
//! ephemeral ports, with small buffers so the load generator stays light.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::BenchError;

/// The `n`th of `count` loopback source addresses: 127.0.0.1, 127.0.0.2, …
pub fn source_address(n: usize, count: u8) -> IpAddr {
    let host = u8::try_from(n % usize::from(count.max(1))).unwrap_or(0) + 1;
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, host))
}

type Stream =
    futures_util::stream::SplitStream<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>>;

/// A connected socket: frames to send go in `outgoing` (a task writes
/// them); `incoming` is read by its owner.
pub struct Connection {
    pub outgoing: mpsc::UnboundedSender<String>,
    pub incoming: Stream,
}

impl Connection {
    /// The next text frame, or `None` when the socket is gone.
    pub async fn next_text(&mut self) -> Option<String> {
        next_text(&mut self.incoming).await
    }
}

/// The next text frame of a stream, or `None` when the socket is gone.
pub async fn next_text(stream: &mut Stream) -> Option<String> {
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => return Some(text.as_str().to_owned()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

/// Connects to `url` (ws://127.0.0.1:PORT/…) from `source`, with extra headers.
pub async fn connect(
    url: &str,
    source: IpAddr,
    headers: &[(&'static str, String)],
) -> Result<Connection, BenchError> {
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        let value = HeaderValue::from_str(value)
            .map_err(|e| BenchError::Setup(format!("header {name}: {e}")))?;
        request.headers_mut().insert(*name, value);
    }
    let host = request
        .uri()
        .host()
        .ok_or_else(|| BenchError::Setup(format!("{url} has no host")))?;
    let ip: IpAddr = host
        .parse()
        .map_err(|_| BenchError::Setup(format!("{host} is not a loopback IP address")))?;
    if !ip.is_loopback() {
        return Err(BenchError::Setup(format!(
            "the load generator only targets loopback, not {ip}"
        )));
    }
    let port = request.uri().port_u16().unwrap_or(80);
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(SocketAddr::new(ip, port)).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    let (mut sink, incoming) = ws.split();
    let (outgoing, mut to_send) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(text) = to_send.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
    });
    Ok(Connection { outgoing, incoming })
}

impl From<tungstenite::Error> for BenchError {
    fn from(err: tungstenite::Error) -> BenchError {
        BenchError::Socket(err.to_string())
    }
}
