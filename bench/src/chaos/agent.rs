//! An agent that comes back: signs in once (the session is stored, so it
//! outlives a server), reopens the inbox, goes online, follows what it
//! holds from the last seq it has of each, sends again what was not
//! acknowledged, and answers its conversations in turn every so often.
//! With `leaves_with_its_node`, it does not come back when the node it was
//! on is lost: its chats must then go to others.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use protocol::{AgentFrame, AgentRequest, Availability, ConversationState, EventBody};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

use super::shopper::spread;
use super::{Pending, Phase, Shared, WINDOW, backoff, is_done, lock, ws_url};
use crate::net;

#[derive(Clone, Debug)]
pub struct AgentParams {
    pub i: usize,
    /// Servers to try; this agent starts with `urls[i % len]`.
    pub urls: Vec<String>,
    pub email: String,
    pub password: String,
    /// Time between two replies, on average.
    pub every: Duration,
    pub leaves_with_its_node: bool,
    pub source: IpAddr,
}

struct Me {
    cookie: Option<String>,
    id: String,
    /// Conversations this agent holds, and those it follows (held once).
    held: HashSet<String>,
    following: HashSet<String>,
    pending: Pending,
    written: usize,
    turn: usize,
    node: usize,
}

enum Ended {
    Dropped,
    Done,
}

/// `lost`: the node that was lost, once one is.
pub async fn run(
    params: AgentParams,
    ledger: Shared,
    mut phase: watch::Receiver<Phase>,
    lost: watch::Receiver<Option<usize>>,
) {
    let mut me = Me {
        cookie: None,
        id: String::new(),
        held: HashSet::new(),
        following: HashSet::new(),
        pending: Pending::default(),
        written: 0,
        turn: 0,
        node: params.i % params.urls.len().max(1),
    };
    let mut failures = 0;
    let mut connections = 0_u64;
    while !is_done(&phase) {
        if params.leaves_with_its_node && *lost.borrow() == Some(me.node) {
            break;
        }
        let base = params.urls[me.node].clone();
        let connected = match &me.cookie {
            Some(cookie) => connect(&base, cookie, params.source).await,
            None => match sign_in(&base, &params.email, &params.password).await {
                Some(cookie) => {
                    me.cookie = Some(cookie.clone());
                    connect(&base, &cookie, params.source).await
                }
                None => None,
            },
        };
        let Some(connection) = connected else {
            failures += 1;
            me.node = next_node(&params, me.node, &lost);
            sleep(backoff(failures)).await;
            continue;
        };
        if connections > 0 {
            lock(&ledger).reconnects += 1;
        }
        connections += 1;
        match session(&params, &mut me, connection, &ledger, &mut phase).await {
            Ended::Done => break,
            Ended::Dropped => {
                failures = 0;
                sleep(backoff(0)).await;
            }
        }
    }
    let mut ledger = lock(&ledger);
    ledger.agent_id = Some(me.id.clone());
    ledger.held = me.held;
}

/// The next node to try; past the lost one.
fn next_node(params: &AgentParams, node: usize, lost: &watch::Receiver<Option<usize>>) -> usize {
    let count = params.urls.len().max(1);
    let next = (node + 1) % count;
    if *lost.borrow() == Some(next) && count > 1 {
        (next + 1) % count
    } else {
        next
    }
}

/// Signs in over HTTP; the session cookie.
pub async fn sign_in(base: &str, email: &str, password: &str) -> Option<String> {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/login"))
        .timeout(Duration::from_secs(10))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rapport_session="))?
        .split(';')
        .next()
        .map(str::to_owned)
}

async fn connect(base: &str, cookie: &str, source: IpAddr) -> Option<net::Connection> {
    // From the server's own origin, as the inbox page is.
    let headers = [
        ("cookie", cookie.to_owned()),
        ("origin", base.trim_end_matches('/').to_owned()),
    ];
    tokio::time::timeout(
        Duration::from_secs(10),
        net::connect(&ws_url(base, "/ws/agent"), source, &headers),
    )
    .await
    .ok()?
    .ok()
}

fn send(connection: &net::Connection, request: &AgentRequest) -> bool {
    serde_json::to_string(request)
        .ok()
        .is_some_and(|frame| connection.outgoing.send(frame).is_ok())
}

async fn session(
    params: &AgentParams,
    me: &mut Me,
    mut connection: net::Connection,
    ledger: &Shared,
    phase: &mut watch::Receiver<Phase>,
) -> Ended {
    let inbox = loop {
        match tokio::time::timeout(Duration::from_secs(10), connection.next_text()).await {
            Ok(Some(text)) => match serde_json::from_str::<AgentFrame>(&text) {
                Ok(inbox @ AgentFrame::Inbox { .. }) => break inbox,
                _ => continue,
            },
            _ => return Ended::Dropped,
        }
    };
    if let AgentFrame::Inbox {
        me: profile,
        conversations,
        ..
    } = inbox
    {
        me.id = profile.id;
        for conversation in conversations {
            if holder(&conversation.state) == Some(me.id.as_str()) {
                me.held.insert(conversation.id);
            }
        }
    }
    let online = AgentRequest::SetStatus {
        status: Availability::Online,
    };
    if !send(&connection, &online) {
        return Ended::Dropped;
    }
    me.following.extend(me.held.iter().cloned());
    // What each conversation was opened after, and how far back a gap is
    // being paged over.
    let mut opened_after = std::collections::HashMap::new();
    let mut paging = std::collections::HashMap::new();
    for conversation_id in &me.following {
        let after_seq = lock(ledger).last_seq(conversation_id);
        opened_after.insert(conversation_id.clone(), after_seq);
        let open = AgentRequest::Open {
            conversation_id: conversation_id.clone(),
            after_seq,
        };
        let _ = send(&connection, &open);
    }
    me.pending.send_all(&connection, ledger);

    let mut next_reply = Instant::now() + spread(params.every);
    loop {
        let next_retry = me.pending.next_retry();
        tokio::select! {
            text = connection.next_text() => {
                let Some(text) = text else { return Ended::Dropped };
                let Ok(frame) = serde_json::from_str::<AgentFrame>(&text) else { continue };
                match frame {
                    AgentFrame::Conversation { conversation } => {
                        if holder(&conversation.state) == Some(me.id.as_str()) {
                            me.held.insert(conversation.id.clone());
                            if me.following.insert(conversation.id.clone()) {
                                let open = AgentRequest::Open { conversation_id: conversation.id, after_seq: 0 };
                                let _ = send(&connection, &open);
                            }
                        } else {
                            me.held.remove(&conversation.id);
                        }
                    }
                    AgentFrame::Replay { conversation_id, from_seq } => {
                        let after = opened_after.remove(&conversation_id).unwrap_or(0);
                        if from_seq > after + 1 {
                            // More was missing than one page: page back over the gap.
                            paging.insert(conversation_id.clone(), after);
                            let earlier = AgentRequest::Earlier { conversation_id, before_seq: from_seq };
                            let _ = send(&connection, &earlier);
                        }
                    }
                    AgentFrame::Event { event } => {
                        if let EventBody::Assigned { agent_id, .. } = &event.body {
                            if *agent_id == me.id {
                                me.held.insert(event.conversation_id.clone());
                            } else {
                                me.held.remove(&event.conversation_id);
                            }
                        }
                        lock(ledger).receive(&event);
                    }
                    AgentFrame::Earlier { conversation_id, from_seq, events } => {
                        for event in &events {
                            lock(ledger).receive(event);
                        }
                        match paging.get(&conversation_id) {
                            Some(down_to) if from_seq > down_to + 1 && !events.is_empty() => {
                                let earlier = AgentRequest::Earlier { conversation_id, before_seq: from_seq };
                                let _ = send(&connection, &earlier);
                            }
                            _ => {
                                paging.remove(&conversation_id);
                            }
                        }
                    }
                    AgentFrame::Ack { client_id, conversation_id, seq } => {
                        me.pending.acked(&client_id);
                        lock(ledger).ack(&client_id, &conversation_id, seq);
                    }
                    AgentFrame::Error { client_id: Some(client_id), .. } => {
                        me.pending.refused(client_id);
                    }
                    _ => {}
                }
            }
            () = sleep_until(next_reply), if *phase.borrow() == Phase::Traffic && me.pending.len() < WINDOW && !me.held.is_empty() => {
                next_reply = Instant::now() + spread(params.every);
                let mut held: Vec<&String> = me.held.iter().collect();
                held.sort();
                let conversation_id = held[me.turn % held.len()].clone();
                me.turn += 1;
                let client_id = format!("a{}-{}", params.i, me.written);
                me.written += 1;
                let request = AgentRequest::Send {
                    conversation_id,
                    client_id: client_id.clone(),
                    body: client_id.clone(),
                    files: Vec::new(),
                };
                let Ok(frame) = serde_json::to_string(&request) else { continue };
                if !me.pending.send_new(client_id, frame, &connection, ledger) {
                    return Ended::Dropped;
                }
            }
            () = sleep_until(next_retry) => me.pending.send_due(&connection, ledger),
            changed = phase.changed() => {
                if changed.is_err() || is_done(phase) {
                    return Ended::Done;
                }
            }
        }
    }
}

/// Who holds a conversation in this state.
fn holder(state: &ConversationState) -> Option<&str> {
    match state {
        ConversationState::Assigned { agent_id, .. } => Some(agent_id),
        _ => None,
    }
}
