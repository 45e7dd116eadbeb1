//! Reads conversations' whole logs back through an inbox socket, as an
//! agent of the account would: the newest page on opening, then earlier
//! pages down to the first event.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use protocol::{AgentFrame, AgentRequest, EventBody};

use super::check::Stored;
use super::ws_url;
use crate::{BenchError, net};

/// Every event of each conversation, oldest first.
pub async fn read(
    base: &str,
    cookie: &str,
    conversations: &[String],
) -> Result<HashMap<String, Vec<Stored>>, BenchError> {
    let headers = [
        ("cookie", cookie.to_owned()),
        ("origin", base.trim_end_matches('/').to_owned()),
    ];
    let source = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut connection = net::connect(&ws_url(base, "/ws/agent"), source, &headers).await?;
    let mut logs = HashMap::new();
    for conversation_id in conversations {
        let mut events = Vec::new();
        let open = AgentRequest::Open {
            conversation_id: conversation_id.clone(),
            after_seq: 0,
        };
        let mut from_seq = 1;
        for frame in exchange(&mut connection, &open).await? {
            match frame {
                AgentFrame::Replay {
                    conversation_id: of,
                    from_seq: from,
                } if of == *conversation_id => from_seq = from,
                AgentFrame::Event { event } if event.conversation_id == *conversation_id => {
                    events.push(event);
                }
                _ => {}
            }
        }
        while from_seq > 1 {
            let earlier = AgentRequest::Earlier {
                conversation_id: conversation_id.clone(),
                before_seq: from_seq,
            };
            let mut page = Vec::new();
            for frame in exchange(&mut connection, &earlier).await? {
                if let AgentFrame::Earlier {
                    conversation_id: of,
                    from_seq: from,
                    events,
                } = frame
                    && of == *conversation_id
                {
                    from_seq = if events.is_empty() { 1 } else { from };
                    page = events;
                }
            }
            page.append(&mut events);
            events = page;
        }
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        let stored = events
            .into_iter()
            .map(|event| Stored {
                seq: event.seq,
                assigned_to: match &event.body {
                    EventBody::Assigned { agent_id, .. } => Some(agent_id.clone()),
                    _ => None,
                },
                client_id: event.client_id,
            })
            .collect();
        logs.insert(conversation_id.clone(), stored);
    }
    Ok(logs)
}

/// Sends a request, then a ping: every frame before the pong.
async fn exchange(
    connection: &mut net::Connection,
    request: &AgentRequest,
) -> Result<Vec<AgentFrame>, BenchError> {
    for frame in [request, &AgentRequest::Ping] {
        let text = serde_json::to_string(frame)
            .map_err(|e| BenchError::Setup(format!("cannot encode a request: {e}")))?;
        connection
            .outgoing
            .send(text)
            .map_err(|_| BenchError::Socket("the inbox socket closed".into()))?;
    }
    let mut frames = Vec::new();
    loop {
        let text = tokio::time::timeout(Duration::from_secs(30), connection.next_text())
            .await
            .map_err(|_| BenchError::Timeout("reading a log back".into()))?
            .ok_or_else(|| BenchError::Socket("the inbox socket closed".into()))?;
        match serde_json::from_str::<AgentFrame>(&text) {
            Ok(AgentFrame::Pong) => return Ok(frames),
            Ok(frame) => frames.push(frame),
            Err(_) => {}
        }
    }
}
