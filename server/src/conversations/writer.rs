//! Group commit. Every message waiting to be stored goes into one
//! transaction, committed once (`Store::append_batch`); then its events
//! are published, in the order they were committed, and only then is each
//! sender answered. A failed batch answers each of its senders with the
//! error and publishes nothing: nothing of it was stored.
//!
//! One writer per process. On SQLite it takes the one connection that
//! writes, batch after batch; on PostgreSQL one connection of the pool,
//! while other processes write beside it and the database's row locks and
//! unique indexes keep them in agreement.

use std::collections::HashMap;
use std::sync::Arc;

use protocol::Event;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::fanout::{self, Audience};
use super::{InOrder, Nudge};
use crate::hub::Hub;
use crate::store::{Append, Appended, Conversation, ConversationBook, StoreError};

/// Messages written in one transaction at most.
pub const MAX_BATCH: usize = 256;
/// Messages waiting for the writer at most; a sender beyond that waits
/// for room (and so does the socket it came from).
const QUEUE: usize = 4096;

struct Job {
    append: Append,
    done: oneshot::Sender<Result<Appended, StoreError>>,
}

/// The queue into the writer. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

/// What the writer needs besides its queue.
pub(super) struct Parts {
    pub(super) store: ConversationBook,
    pub(super) hub: Arc<Hub>,
    /// Held from a write's commit until it is published (see `InOrder`).
    pub(super) order: Arc<Mutex<()>>,
    pub(super) nudges: mpsc::UnboundedSender<Nudge>,
}

impl Writer {
    /// Starts the writer task; it ends when every handle is dropped.
    pub(super) fn start(parts: Parts) -> Writer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(parts, queue));
        Writer { jobs }
    }

    /// Stores one message with whatever else is waiting; resolves once it
    /// is committed and published.
    pub(super) async fn append(&self, append: Append) -> Result<Appended, StoreError> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job { append, done })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(parts: Parts, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        // Nobody waits for these any more (their socket closed): they were
        // never acknowledged, so their senders send them again. Under a
        // reconnect storm most of the queue is such resends; writing them
        // is what made every later sender wait.
        jobs.retain(|job| !job.done.is_closed());
        if jobs.is_empty() {
            continue;
        }
        let (appends, answers): (Vec<Append>, Vec<_>) =
            jobs.drain(..).map(|job| (job.append, job.done)).unzip();
        let in_order = InOrder(parts.order.lock().await);
        match parts.store.append_batch(&appends).await {
            Ok(outcomes) => {
                publish(&parts.hub, &outcomes, &in_order);
                drop(in_order);
                tracing::trace!(messages = outcomes.len(), "batch stored");
                for outcome in outcomes.iter().flatten() {
                    nudge_after(&parts.nudges, outcome);
                }
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    // A sender that went away meanwhile is still stored.
                    let _ = answer.send(Ok(outcome));
                }
            }
            Err(err) => {
                drop(in_order);
                tracing::error!(%err, messages = appends.len(), "a batch of messages failed; none of it was stored");
                let err = Arc::new(err);
                for answer in answers {
                    let _ = answer.send(Err(StoreError::Batch(err.clone())));
                }
            }
        }
    }
}

/// Publishes what a batch stored: per conversation, its new events in seq
/// order and its summary once.
fn publish(hub: &Hub, outcomes: &[Appended], turn: &InOrder<'_>) {
    let mut changes: Vec<(&Conversation, Vec<Event>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for posted in outcomes.iter().flatten().filter(|p| !p.is_duplicate()) {
        let at = *index
            .entry(posted.conversation.id.as_str())
            .or_insert_with(|| {
                changes.push((&posted.conversation, Vec::new()));
                changes.len() - 1
            });
        changes[at].1.extend(posted.new_events.iter().cloned());
    }
    for (conversation, mut events) in changes {
        events.sort_by_key(|event| event.seq);
        fanout::publish(hub, conversation, &events, Audience::Everyone, turn);
    }
}

/// Tells the dispatcher what a message changed: a conversation opened
/// waits to be served; one claimed by a reply moves its line up.
fn nudge_after(nudges: &mpsc::UnboundedSender<Nudge>, posted: &crate::store::Posted) {
    let conversation = &posted.conversation;
    if posted.opened {
        tracing::info!(conversation = %conversation.id, "opened");
        let _ = nudges.send(Nudge::Arrived {
            account_id: conversation.account_id.clone(),
            conversation_id: conversation.id.clone(),
        });
    }
    let claimed = posted
        .new_events
        .iter()
        .any(|event| event.body.changes_hands());
    if claimed {
        let _ = nudges.send(Nudge::Serve {
            account_id: conversation.account_id.clone(),
        });
    }
}
