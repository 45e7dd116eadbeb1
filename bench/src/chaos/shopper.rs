//! A shopper that comes back: says hello with its token and the last seq
//! it holds, pages back over a gap the replay left, sends what was not
//! acknowledged again (same `client_id`, in order), and writes every so
//! often. With `disconnect_every`, it drops its own connection at random
//! moments that far apart on average (a reconnect storm).

use std::net::IpAddr;
use std::time::Duration;

use protocol::{WidgetFrame, WidgetRequest};
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

use super::{Pending, Phase, Shared, WINDOW, backoff, is_done, jitter, lock, ws_url};
use crate::net;

#[derive(Clone, Debug)]
pub struct ShopperParams {
    pub n: usize,
    /// Servers to try, `http://127.0.0.1:PORT`; this shopper starts with
    /// `urls[n % len]` and moves to the next when one cannot be reached.
    pub urls: Vec<String>,
    pub site_key: String,
    pub origin: String,
    /// Time between two messages, on average.
    pub every: Duration,
    pub disconnect_every: Option<Duration>,
    pub source: IpAddr,
}

/// What the shopper keeps across connections.
struct Me {
    token: Option<String>,
    conversation_id: Option<String>,
    pending: Pending,
    written: usize,
    node: usize,
}

/// How a connection ended.
enum Ended {
    Dropped,
    Done,
}

pub async fn run(params: ShopperParams, ledger: Shared, mut phase: watch::Receiver<Phase>) {
    let mut me = Me {
        token: None,
        conversation_id: None,
        pending: Pending::default(),
        written: 0,
        node: params.n % params.urls.len().max(1),
    };
    let mut failures = 0;
    let mut connections = 0_u64;
    while !is_done(&phase) {
        let url = ws_url(
            &params.urls[me.node],
            &format!("/ws/widget?site={}", params.site_key),
        );
        let headers = [("origin", params.origin.clone())];
        let connected = tokio::time::timeout(
            Duration::from_secs(10),
            net::connect(&url, params.source, &headers),
        )
        .await;
        let Ok(Ok(connection)) = connected else {
            failures += 1;
            me.node = (me.node + 1) % params.urls.len().max(1);
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
}

async fn session(
    params: &ShopperParams,
    me: &mut Me,
    mut connection: net::Connection,
    ledger: &Shared,
    phase: &mut watch::Receiver<Phase>,
) -> Ended {
    let after_seq = me
        .conversation_id
        .as_deref()
        .map_or(0, |id| lock(ledger).last_seq(id));
    let hello = WidgetRequest::Hello {
        token: me.token.clone(),
        conversation_id: me.conversation_id.clone(),
        after_seq,
        language: None,
        resume: None,
    };
    if !send(&connection, &hello) {
        return Ended::Dropped;
    }
    // The welcome first (replayed events may follow it at once).
    let welcome = loop {
        match tokio::time::timeout(Duration::from_secs(10), connection.next_text()).await {
            Ok(Some(text)) => match serde_json::from_str::<WidgetFrame>(&text) {
                Ok(welcome @ WidgetFrame::Welcome { .. }) => break welcome,
                _ => continue,
            },
            _ => return Ended::Dropped,
        }
    };
    // Paging back over a gap, down to `after_seq`: the page asked for last.
    let mut asked_before = None;
    if let WidgetFrame::Welcome {
        visitor_token,
        conversation_id,
        replay_from,
        ..
    } = welcome
    {
        me.token = Some(visitor_token);
        if let Some(id) = conversation_id {
            if replay_from > after_seq + 1 {
                // More was missing than one page.
                let earlier = WidgetRequest::Earlier {
                    conversation_id: id.clone(),
                    before_seq: replay_from,
                };
                let _ = send(&connection, &earlier);
                asked_before = Some(replay_from);
            }
            me.conversation_id = Some(id);
        }
    }
    me.pending.send_all(&connection, ledger);

    let mut next_message = Instant::now() + spread(params.every);
    let far = Instant::now() + Duration::from_secs(86_400);
    let disconnect_at = params
        .disconnect_every
        .map_or(far, |every| Instant::now() + spread(every));
    loop {
        let next_retry = me.pending.next_retry();
        tokio::select! {
            text = connection.next_text() => {
                let Some(text) = text else { return Ended::Dropped };
                let Ok(frame) = serde_json::from_str::<WidgetFrame>(&text) else { continue };
                match frame {
                    WidgetFrame::Event { event } => lock(ledger).receive(&event),
                    WidgetFrame::Earlier { conversation_id, from_seq, event } => {
                        if let Some(event) = event {
                            lock(ledger).receive(&event);
                        }
                        if asked_before.is_some_and(|asked| from_seq < asked) && from_seq > after_seq + 1 {
                            asked_before = Some(from_seq);
                            let earlier = WidgetRequest::Earlier { conversation_id, before_seq: from_seq };
                            let _ = send(&connection, &earlier);
                        }
                    }
                    WidgetFrame::Ack { client_id, conversation_id, seq } => {
                        me.pending.acked(&client_id);
                        lock(ledger).ack(&client_id, &conversation_id, seq);
                        me.conversation_id.get_or_insert(conversation_id);
                    }
                    WidgetFrame::Error { client_id: Some(client_id), .. } => {
                        // Not stored (a failed batch, a limit): again, soon.
                        me.pending.refused(client_id);
                    }
                    _ => {}
                }
            }
            () = sleep_until(next_message), if *phase.borrow() == Phase::Traffic && me.pending.len() < WINDOW => {
                next_message = Instant::now() + spread(params.every);
                let client_id = format!("s{}-{}", params.n, me.written);
                me.written += 1;
                let request = WidgetRequest::Send {
                    client_id: client_id.clone(),
                    body: client_id.clone(),
                    topic: None,
                    files: Vec::new(),
                };
                let Ok(frame) = serde_json::to_string(&request) else { continue };
                if !me.pending.send_new(client_id, frame, &connection, ledger) {
                    return Ended::Dropped;
                }
            }
            () = sleep_until(next_retry) => me.pending.send_due(&connection, ledger),
            // The storm is over once the traffic is.
            () = sleep_until(disconnect_at), if *phase.borrow() == Phase::Traffic => return Ended::Dropped,
            changed = phase.changed() => {
                if changed.is_err() || is_done(phase) {
                    return Ended::Done;
                }
            }
        }
    }
}

fn send(connection: &net::Connection, request: &WidgetRequest) -> bool {
    serde_json::to_string(request)
        .ok()
        .is_some_and(|frame| connection.outgoing.send(frame).is_ok())
}

/// A wait of `every` on average, anywhere from none to twice as long.
pub fn spread(every: Duration) -> Duration {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(jitter(2 * ms + 1))
}
