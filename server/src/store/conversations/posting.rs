//! Messages into the log, as many at a time as are waiting: one
//! transaction per batch (group commit), in as few statements as the
//! backend allows.
//!
//! The fast way is for messages into a conversation the sender names and
//! that still takes them (a shopper's open conversation, one an agent
//! holds, any for a note): one `UPDATE` of all those conversations takes
//! their next seqs (and their row locks), one multi-row `INSERT` stores
//! the events. The rest go one at a time: a shopper's open conversation
//! found, reopened (closed within the site's window) or opened, a waiting
//! one claimed by the agent who replies. Then
//! one read of the conversations as they now stand, and one commit.
//!
//! A retry's `client_id` is refused by the database's unique index, never
//! looked for first: the batch is then written again without it, and the
//! retry is answered with what was stored the first time.

use std::collections::HashMap;

use protocol::{Author, Channel, Event, EventBody, Seq, StatusWhy};
use sqlx::{Any, Row, Transaction};

use super::log::{EVENT_SELECT, append_event, append_event_via, event_from_row, insert_events};
use super::transitions::{assign_in, reopen_in};
use super::{CONVERSATION_SELECT, Conversation, conversation_from_row};
use crate::store::{
    Agent, ConversationBook, Store, StoreError, StoreResult, chunks, new_id, now_ms, placeholders,
};

/// A message to append, with its sender's idempotency key.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub client_id: &'a str,
    pub body: &'a str,
    /// How it came in (the chat unless said otherwise).
    pub via: Channel,
}

/// What the shopper's page and browser told us, used when a message opens
/// a conversation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Opening<'a> {
    /// The browser's language tag.
    pub language: Option<&'a str>,
    /// The site topic chosen, which routes to a team. An unknown topic
    /// routes to anyone rather than losing the message.
    pub topic: Option<&'a str>,
    /// An agent-only note stored right after the message when it opens a
    /// conversation (e.g. "left outside business hours").
    pub note: Option<&'a str>,
}

/// One message waiting to be appended. Owned: it waits in the writer's queue.
#[derive(Clone, Debug)]
pub struct Append {
    pub to: AppendTo,
    pub client_id: String,
    pub body: String,
    /// Files the service checked are the sender's to attach (a message
    /// only; without their links).
    pub files: Vec<protocol::FileRef>,
    pub via: Channel,
}

/// Where a message goes.
#[derive(Clone, Debug)]
pub enum AppendTo {
    /// A shopper's message: into their open conversation, opened (waiting
    /// for an agent) if they have none.
    Shopper {
        site_id: String,
        visitor_id: String,
        /// The conversation the shopper's socket shows, if it is open as
        /// far as the socket knows: taken the fast way while it still is.
        current: Option<String>,
        /// The browser's language, the topic and an agent-only note, for a
        /// conversation this message opens.
        language: Option<String>,
        topic: Option<String>,
        note: Option<String>,
        /// Whether the message may open a new conversation. Without it, a
        /// shopper whose conversation closed meanwhile is refused
        /// (`Closed`, nothing stored), so that a new conversation is
        /// counted against its own allowance first.
        may_open: bool,
        /// Days after a close in which the shopper's message opens their
        /// closed conversation again (the one named in `current`, else
        /// their latest) rather than a new one; 0: never.
        reopen_days: u16,
    },
    /// An agent's reply (a waiting conversation is claimed by the
    /// replier), or with `note` one only agents see (also on a closed
    /// conversation, never claiming it).
    Agent {
        agent: Agent,
        conversation_id: String,
        note: bool,
    },
}

impl Append {
    fn sender_id(&self) -> &str {
        match &self.to {
            AppendTo::Shopper { visitor_id, .. } => visitor_id,
            AppendTo::Agent { agent, .. } => &agent.id,
        }
    }

    fn author(&self) -> Author {
        match &self.to {
            AppendTo::Shopper { .. } => Author::Visitor,
            AppendTo::Agent { agent, .. } => Author::Agent {
                id: agent.id.clone(),
                name: agent.name.clone(),
            },
        }
    }

    fn event_body(&self) -> EventBody {
        let text = self.body.clone();
        match &self.to {
            AppendTo::Agent { note: true, .. } => EventBody::Note { text },
            _ => EventBody::Message {
                text,
                files: self.files.clone(),
            },
        }
    }

    /// The conversation the sender named, if any.
    fn named(&self) -> Option<&str> {
        match &self.to {
            AppendTo::Shopper { current, .. } => current.as_deref(),
            AppendTo::Agent {
                conversation_id, ..
            } => Some(conversation_id),
        }
    }
}

/// Why a message was not appended. Nothing was stored for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendRefused {
    #[error("the conversation is closed")]
    Closed,
    #[error("no such conversation")]
    NoSuchConversation,
}

/// The outcome of one message of a batch.
pub type Appended = Result<Posted, AppendRefused>;

/// The outcome of appending a message.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The conversation after the write (after the whole batch's).
    pub conversation: Conversation,
    /// The stored message event (the earlier one, for a duplicate).
    pub message: Event,
    /// Events stored for this message, in order; empty for a duplicate.
    pub new_events: Vec<Event>,
    /// Whether this message opened the conversation.
    pub opened: bool,
}

impl Posted {
    pub fn is_duplicate(&self) -> bool {
        self.new_events.is_empty()
    }

    /// The same message, as the answer to a retry of it.
    fn as_retry(&self) -> Posted {
        Posted {
            conversation: self.conversation.clone(),
            message: self.message.clone(),
            new_events: Vec::new(),
            opened: false,
        }
    }
}

/// Messages of one batch into one conversation their senders named.
struct Named<'b> {
    conversation_id: &'b str,
    /// Indexes into the batch, in order.
    items: Vec<usize>,
    /// The shopper the conversation must still belong to, if one wrote.
    visitor_id: Option<&'b str>,
    /// Two shoppers named it (a stale socket): the slow way decides.
    contested: bool,
    /// A shopper wrote: it must be open. An agent replied: it must be held.
    open_only: bool,
    assigned_only: bool,
}

/// What one attempt at a batch did.
enum Attempt {
    /// Committed: each pending message's outcome.
    Stored(Vec<(usize, Appended)>),
    /// Rolled back: these messages' `client_id`s were taken already.
    Retries(Vec<usize>),
}

/// What was written for one message, before the batch commits.
struct Written {
    conversation_id: String,
    message: Event,
    new_events: Vec<Event>,
    opened: bool,
}

/// One message taken the slow way.
enum One {
    Stored(Box<Written>),
    Refused(AppendRefused),
    /// Its `client_id` was taken already; the seq it took must be rolled back.
    Retry,
}

/// Conversations per multi-row `UPDATE` at most (8 parameters each).
const UPDATE_ROWS: usize = 32;
/// Conversations per read at most.
const READ_ROWS: usize = 64;
/// Attempts at a batch that PostgreSQL aborted for a deadlock or a
/// serialisation failure (with another process's batch): nothing of it was
/// stored, so it is simply written again.
const CONFLICT_ATTEMPTS: usize = 3;

impl Store {
    async fn try_append(&self, batch: &[Append], pending: &[usize]) -> StoreResult<Attempt> {
        let now = now_ms();
        let mut tx = self.write.begin().await?;

        // The fast way: every named conversation in one UPDATE.
        let named = named_conversations(batch, pending);
        let last_seqs = bump_named(&mut tx, batch, &named, now).await?;
        let mut fast = Vec::new();
        let mut slow = Vec::new();
        for group in &named {
            let last_seq = last_seqs.get(group.conversation_id).copied();
            let Some(last_seq) = last_seq.filter(|_| !group.contested) else {
                slow.extend(&group.items);
                continue;
            };
            let first_seq = last_seq - group.items.len() as Seq + 1;
            for (offset, &i) in group.items.iter().enumerate() {
                let append = &batch[i];
                let event = Event {
                    conversation_id: group.conversation_id.to_owned(),
                    seq: first_seq + offset as Seq,
                    author: append.author(),
                    body: append.event_body(),
                    client_id: Some(append.client_id.clone()),
                    created_at_ms: now,
                    via: append.via,
                };
                fast.push((i, event));
            }
        }
        let rows: Vec<(&Event, Option<&str>)> = fast
            .iter()
            .map(|(i, event)| (event, Some(batch[*i].sender_id())))
            .collect();
        let stored = insert_events(&mut tx, &rows).await?;
        if stored.len() < fast.len() {
            let retries = fast
                .iter()
                .filter(|(_, e)| !stored.contains(&(e.conversation_id.clone(), e.seq)))
                .map(|(i, _)| *i)
                .collect();
            tx.rollback().await?;
            return Ok(Attempt::Retries(retries));
        }

        // The slow way, in the order the messages came.
        slow.extend(pending.iter().filter(|&&i| batch[i].named().is_none()));
        slow.sort_unstable();
        let mut outcomes: Vec<(usize, Result<Written, AppendRefused>)> = fast
            .into_iter()
            .map(|(i, event)| {
                let written = Written {
                    conversation_id: event.conversation_id.clone(),
                    message: event.clone(),
                    new_events: vec![event],
                    opened: false,
                };
                (i, Ok(written))
            })
            .collect();
        for i in slow {
            match append_one(&mut tx, &batch[i]).await? {
                One::Stored(written) => outcomes.push((i, Ok(*written))),
                One::Refused(refused) => outcomes.push((i, Err(refused))),
                One::Retry => {
                    tx.rollback().await?;
                    return Ok(Attempt::Retries(vec![i]));
                }
            }
        }

        // The conversations as they now stand, in one read.
        let mut ids: Vec<&str> = outcomes
            .iter()
            .filter_map(|(_, o)| o.as_ref().ok().map(|w| w.conversation_id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for (i, outcome) in &outcomes {
            if let Ok(written) = outcome
                && !batch[*i].files.is_empty()
            {
                crate::store::files::attach_files(
                    &mut tx,
                    &written.conversation_id,
                    &batch[*i].client_id,
                    &batch[*i].files,
                )
                .await?;
            }
        }
        let conversations = conversations_in(&mut tx, &ids).await?;
        tx.commit().await?;
        let now = now_ms();
        for (_, outcome) in &mut outcomes {
            if let Ok(written) = outcome {
                for event in
                    std::iter::once(&mut written.message).chain(written.new_events.iter_mut())
                {
                    if let EventBody::Message { files, .. } = &mut event.body {
                        self.file_links.sign_all(files, now);
                    }
                }
            }
        }
        let mut stored = Vec::with_capacity(outcomes.len());
        for (i, outcome) in outcomes {
            let appended = match outcome {
                Ok(written) => Ok(Posted {
                    conversation: conversations
                        .get(&written.conversation_id)
                        .cloned()
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!(
                                "conversation {} vanished",
                                written.conversation_id
                            ))
                        })?,
                    message: written.message,
                    new_events: written.new_events,
                    opened: written.opened,
                }),
                Err(refused) => Err(refused),
            };
            stored.push((i, appended));
        }
        Ok(Attempt::Stored(stored))
    }

    /// What a sender stored under a `client_id`, as the answer to a retry.
    async fn find_stored(&self, sender_id: &str, client_id: &str) -> StoreResult<Option<Posted>> {
        let row = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.author_id = $1 AND e.client_id = $2"
        ))
        .bind(sender_id)
        .bind(client_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(message) = row
            .as_ref()
            .map(|row| event_from_row(row, &self.file_links))
            .transpose()?
        else {
            return Ok(None);
        };
        let conversation = self.reload(&message.conversation_id).await?;
        Ok(Some(Posted {
            conversation,
            message,
            new_events: Vec::new(),
            opened: false,
        }))
    }
}

/// The pending messages that name a conversation, grouped by it (in the
/// order each conversation first comes), with what it must still be.
fn named_conversations<'b>(batch: &'b [Append], pending: &[usize]) -> Vec<Named<'b>> {
    let mut groups: Vec<Named<'b>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for &i in pending {
        let append = &batch[i];
        let Some(conversation_id) = append.named() else {
            continue;
        };
        let at = *index.entry(conversation_id).or_insert_with(|| {
            groups.push(Named {
                conversation_id,
                items: Vec::new(),
                visitor_id: None,
                contested: false,
                open_only: false,
                assigned_only: false,
            });
            groups.len() - 1
        });
        let group = &mut groups[at];
        group.items.push(i);
        match &append.to {
            AppendTo::Shopper { visitor_id, .. } => {
                group.contested |= group.visitor_id.is_some_and(|v| v != visitor_id);
                group.visitor_id = Some(visitor_id);
                group.open_only = true;
            }
            AppendTo::Agent { note: false, .. } => group.assigned_only = true,
            AppendTo::Agent { note: true, .. } => {}
        }
    }
    groups
}

/// Takes the next seqs of every named conversation that still takes its
/// messages, in one statement per [`UPDATE_ROWS`]: the new `last_seq` of
/// each conversation updated.
async fn bump_named(
    tx: &mut Transaction<'static, Any>,
    batch: &[Append],
    named: &[Named<'_>],
    now: i64,
) -> StoreResult<HashMap<String, Seq>> {
    let mut last_seqs = HashMap::with_capacity(named.len());
    let named: Vec<&Named<'_>> = named.iter().filter(|g| !g.contested).collect();
    for chunk in chunks(named.len(), UPDATE_ROWS) {
        let chunk = &named[chunk];
        let now_param = chunk.len() * 8 + 1;
        // SET expressions read the row as it was: `conversations.last_seq`
        // is the seq before this batch's messages throughout.
        let sql = format!(
            "WITH v (id, n, preview, agent_at, shopper_n, visitor_id, open_only, assigned_only) AS (VALUES {}) \
             UPDATE conversations SET last_seq = conversations.last_seq + v.n, \
             last_message = COALESCE(v.preview, conversations.last_message), updated_at = ${now_param}, \
             last_agent_seq = CASE WHEN v.agent_at IS NULL THEN conversations.last_agent_seq \
             ELSE conversations.last_seq + v.agent_at END, \
             unseen_since = CASE WHEN v.agent_at IS NULL THEN conversations.unseen_since \
             ELSE COALESCE(conversations.unseen_since, ${now_param}) END, \
             unread_for_agents = conversations.unread_for_agents + v.shopper_n \
             FROM v WHERE conversations.id = v.id \
             AND (v.visitor_id IS NULL OR conversations.visitor_id = v.visitor_id) \
             AND (v.open_only = 0 OR conversations.state <> 'closed') \
             AND (v.assigned_only = 0 OR conversations.state = 'assigned') \
             RETURNING conversations.id, conversations.last_seq",
            placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for group in chunk {
            let mut preview = None;
            let mut agent_at = None;
            let mut shopper_messages = 0_i64;
            for (offset, &i) in group.items.iter().enumerate() {
                let append = &batch[i];
                if matches!(append.to, AppendTo::Agent { note: true, .. }) {
                    continue;
                }
                preview = Some(super::log::preview(&append.body, &append.files));
                match append.to {
                    AppendTo::Shopper { .. } => shopper_messages += 1,
                    AppendTo::Agent { .. } => agent_at = Some(offset as i64 + 1),
                }
            }
            query = query
                .bind(group.conversation_id)
                .bind(group.items.len() as i64)
                .bind(preview)
                .bind(agent_at)
                .bind(shopper_messages)
                .bind(group.visitor_id)
                .bind(i64::from(group.open_only))
                .bind(i64::from(group.assigned_only));
        }
        for row in query.bind(now).fetch_all(&mut **tx).await? {
            last_seqs.insert(row.try_get("id")?, row.try_get("last_seq")?);
        }
    }
    Ok(last_seqs)
}

/// One message the fast way could not take, as a single write would.
async fn append_one(tx: &mut Transaction<'static, Any>, append: &Append) -> StoreResult<One> {
    let mut new_events = Vec::new();
    let mut opened = false;
    let conversation_id = match &append.to {
        AppendTo::Shopper {
            site_id,
            visitor_id,
            current,
            language,
            topic,
            may_open,
            reopen_days,
            ..
        } => match open_conversation_of(tx, visitor_id).await? {
            Some(id) => id,
            None if !may_open => return Ok(One::Refused(AppendRefused::Closed)),
            None => {
                opened = true;
                let window_ms = i64::from(*reopen_days) * 24 * 60 * 60 * 1000;
                match last_closed(tx, visitor_id, current.as_deref()).await? {
                    Some((id, closed_at))
                        if closed_at >= now_ms() - window_ms
                            && *reopen_days > 0
                            && reopen_in(tx, &id).await? =>
                    {
                        let reopened = EventBody::Reopened {
                            why: StatusWhy::CustomerWrote,
                        };
                        new_events.push(
                            append_event(tx, &id, Author::System, None, reopened, None).await?,
                        );
                        id
                    }
                    previous => {
                        let previous = previous.map(|(id, _)| id);
                        open_conversation(tx, site_id, visitor_id, language, topic, previous)
                            .await?
                    }
                }
            }
        },
        AppendTo::Agent {
            agent,
            conversation_id,
            note,
        } => {
            let state: Option<String> =
                sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1")
                    .bind(conversation_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            match state.as_deref() {
                None => return Ok(One::Refused(AppendRefused::NoSuchConversation)),
                Some("closed") if !note => return Ok(One::Refused(AppendRefused::Closed)),
                Some("waiting") if !note => {
                    if let Some((event, _)) = assign_in(tx, conversation_id, agent).await? {
                        new_events.push(event);
                    }
                }
                Some(_) => {}
            }
            conversation_id.clone()
        }
    };
    let Some(message) = append_event_via(
        tx,
        &conversation_id,
        append.author(),
        Some(append.sender_id()),
        append.event_body(),
        Some(&append.client_id),
        Some(append.via),
    )
    .await?
    else {
        return Ok(One::Retry);
    };
    new_events.push(message.clone());
    if let AppendTo::Shopper {
        note: Some(note), ..
    } = &append.to
        && opened
    {
        let note = EventBody::Note { text: note.clone() };
        new_events
            .push(append_event(tx, &conversation_id, Author::System, None, note, None).await?);
    }
    Ok(One::Stored(Box::new(Written {
        conversation_id,
        message,
        new_events,
        opened,
    })))
}

/// Opens a conversation for the visitor, waiting for an agent (routed to
/// the topic's team). The partial unique index keeps this to one open
/// conversation per visitor even if another process opened one since.
async fn open_conversation(
    tx: &mut Transaction<'static, Any>,
    site_id: &str,
    visitor_id: &str,
    language: &Option<String>,
    topic: &Option<String>,
    previous_id: Option<String>,
) -> StoreResult<String> {
    let opened: Option<String> = sqlx::query_scalar(
        "INSERT INTO conversations (id, site_id, visitor_id, state, last_seq, created_at, updated_at, language, team_id, previous_id, account_id) \
         VALUES ($1, $2, $3, 'waiting', 0, $4, $4, $5, \
         (SELECT team_id FROM site_topics WHERE site_id = $2 AND topic = $6), $7, \
         (SELECT account_id FROM sites WHERE id = $2)) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(new_id())
    .bind(site_id)
    .bind(visitor_id)
    .bind(now_ms())
    .bind(language.as_deref())
    .bind(topic.as_deref())
    .bind(previous_id)
    .fetch_optional(&mut **tx)
    .await?;
    match opened {
        Some(id) => Ok(id),
        None => open_conversation_of(tx, visitor_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("opened conversation vanished".into())),
    }
}

/// Conversations by id, read inside `tx` (so as this batch left them).
async fn conversations_in(
    tx: &mut Transaction<'static, Any>,
    ids: &[&str],
) -> StoreResult<HashMap<String, Conversation>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in chunks(ids.len(), READ_ROWS) {
        let chunk = &ids[chunk];
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE c.id IN {}",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let conversation = conversation_from_row(&row)?;
            found.insert(conversation.id.clone(), conversation);
        }
    }
    Ok(found)
}

/// A PostgreSQL deadlock or serialisation failure: the transaction was
/// rolled back whole and may simply be tried again.
fn is_transient(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

/// The visitor's closed conversation a new message would continue: the
/// one their socket or the mail they answered names, else their latest
/// close; with when it closed.
async fn last_closed(
    tx: &mut Transaction<'static, Any>,
    visitor_id: &str,
    named: Option<&str>,
) -> StoreResult<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT id, COALESCE(closed_at, updated_at) AS closed_at FROM conversations \
         WHERE visitor_id = $1 AND state = 'closed' \
         ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END, closed_at DESC, id DESC LIMIT 1",
    )
    .bind(visitor_id)
    .bind(named.unwrap_or_default())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| Ok((row.try_get("id")?, row.try_get("closed_at")?)))
        .transpose()
}

pub(in crate::store) async fn open_conversation_of(
    tx: &mut Transaction<'static, Any>,
    visitor_id: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM conversations WHERE visitor_id = $1 AND state <> 'closed'",
    )
    .bind(visitor_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Messages and notes (see [`ConversationBook`]).
impl ConversationBook {
    async fn post_one(&self, to: AppendTo, message: NewMessage<'_>) -> StoreResult<Posted> {
        let append = Append {
            to,
            client_id: message.client_id.to_owned(),
            body: message.body.to_owned(),
            files: Vec::new(),
            via: message.via,
        };
        let outcome = self.append_batch(std::slice::from_ref(&append)).await?;
        match outcome.into_iter().next() {
            Some(Ok(posted)) => Ok(posted),
            Some(Err(AppendRefused::Closed)) => Err(StoreError::Conflict("conversation is closed")),
            Some(Err(AppendRefused::NoSuchConversation)) => {
                Err(StoreError::Corrupt("no such conversation".into()))
            }
            None => Err(StoreError::Corrupt("a batch left a message out".into())),
        }
    }

    /// Appends a batch of messages in one transaction and returns each
    /// one's outcome, in order. A database failure fails the whole batch
    /// (nothing of it is stored); a refusal (closed, unknown) concerns
    /// that message only. Idempotent on each sender's `client_id`.
    pub async fn append_batch(&self, batch: &[Append]) -> StoreResult<Vec<Appended>> {
        let mut outcomes: Vec<Option<Appended>> = vec![None; batch.len()];
        // A retry queued behind its original in the same batch is answered
        // with the original's outcome.
        let mut original_of = vec![None; batch.len()];
        let mut first = HashMap::new();
        for (i, append) in batch.iter().enumerate() {
            let key = (append.sender_id(), append.client_id.as_str());
            if let Some(&original) = first.get(&key) {
                original_of[i] = Some(original);
            } else {
                first.insert(key, i);
            }
        }
        let mut conflicts = 0;
        loop {
            let pending: Vec<usize> = (0..batch.len())
                .filter(|&i| outcomes[i].is_none() && original_of[i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            match self.try_append(batch, &pending).await {
                Ok(Attempt::Stored(stored)) => {
                    for (i, outcome) in stored {
                        outcomes[i] = Some(outcome);
                    }
                    break;
                }
                Ok(Attempt::Retries(retries)) => {
                    for i in retries {
                        let append = &batch[i];
                        let earlier = self
                            .find_stored(append.sender_id(), &append.client_id)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Corrupt(format!(
                                    "client_id {} refused, but nothing stored under it",
                                    append.client_id
                                ))
                            })?;
                        outcomes[i] = Some(Ok(earlier));
                    }
                }
                Err(StoreError::Database(err))
                    if is_transient(&err) && conflicts + 1 < CONFLICT_ATTEMPTS =>
                {
                    conflicts += 1;
                    tracing::info!(%err, "batch written again after a conflict");
                }
                Err(err) => return Err(err),
            }
        }
        for i in 0..batch.len() {
            if let Some(original) = original_of[i] {
                let answer = match &outcomes[original] {
                    Some(Ok(posted)) => Ok(posted.as_retry()),
                    Some(Err(refused)) => Err(*refused),
                    None => return Err(StoreError::Corrupt("a batch left a message out".into())),
                };
                outcomes[i] = Some(answer);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| StoreError::Corrupt("a batch left a message out".into())))
            .collect()
    }

    /// Appends one shopper's message to their open conversation, opening
    /// one (waiting for an agent, routed by `opening`) if they have none.
    /// Idempotent on `client_id`. (The server batches through its writer;
    /// this is the same write for one message.)
    pub async fn post_visitor_message(
        &self,
        site_id: &str,
        visitor_id: &str,
        opening: Opening<'_>,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        let to = AppendTo::Shopper {
            site_id: site_id.to_owned(),
            visitor_id: visitor_id.to_owned(),
            current: None,
            language: opening.language.map(str::to_owned),
            topic: opening.topic.map(str::to_owned),
            note: opening.note.map(str::to_owned),
            may_open: true,
            reopen_days: 0,
        };
        self.post_one(to, message).await
    }

    /// Appends an agent's reply. A waiting conversation is first assigned to
    /// the replying agent. Idempotent on `client_id`. Fails with
    /// [`StoreError::Conflict`] on a closed conversation.
    pub async fn post_agent_message(
        &self,
        agent: &Agent,
        conversation_id: &str,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        let to = AppendTo::Agent {
            agent: agent.clone(),
            conversation_id: conversation_id.to_owned(),
            note: false,
        };
        self.post_one(to, message).await
    }

    /// Appends an agent-only note (also on a closed conversation). Never
    /// claims the conversation. Idempotent on `client_id`.
    pub async fn post_agent_note(
        &self,
        agent: &Agent,
        conversation_id: &str,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        let to = AppendTo::Agent {
            agent: agent.clone(),
            conversation_id: conversation_id.to_owned(),
            note: true,
        };
        self.post_one(to, message).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use protocol::{Channel, ConversationState, EventBody, Role};

    use super::{Append, AppendRefused, AppendTo};
    use crate::store::{Agent, Store};

    fn shopper(site: &str, visitor: &str, current: Option<&str>, client_id: &str) -> Append {
        Append {
            to: AppendTo::Shopper {
                site_id: site.to_owned(),
                visitor_id: visitor.to_owned(),
                current: current.map(str::to_owned),
                language: None,
                topic: None,
                note: None,
                may_open: true,
                reopen_days: 0,
            },
            client_id: client_id.to_owned(),
            body: format!("text of {client_id}"),
            files: Vec::new(),
            via: Channel::Chat,
        }
    }

    fn with_note(mut append: Append) -> Append {
        if let AppendTo::Shopper { note, .. } = &mut append.to {
            *note = Some("Left outside business hours.".to_owned());
        }
        append
    }

    fn agent(agent: &Agent, conversation: &str, note: bool, client_id: &str) -> Append {
        Append {
            to: AppendTo::Agent {
                agent: agent.clone(),
                conversation_id: conversation.to_owned(),
                note,
            },
            client_id: client_id.to_owned(),
            body: format!("text of {client_id}"),
            files: Vec::new(),
            via: Channel::Chat,
        }
    }

    /// One batch with every way a message can go: the fast way (a named
    /// open conversation, a held one, a note on a closed one), the slow way
    /// (a first message, a stale conversation, a claim), a refusal, a retry
    /// inside the batch and one of an earlier batch. Each gets the outcome
    /// a single write would have given, and the log has no gap.
    async fn one_batch_takes_every_kind_of_message(url: &str) {
        let store = Store::connect(url).await.unwrap();
        let account = store.create_account("Batch shop").await.unwrap();
        let site = store.create_site(&account, "Shop", &[]).await.unwrap();
        let ada = store
            .create_agent(&account, "ada@batch.test", "Ada", Role::Agent, "hash")
            .await
            .unwrap();
        let mut visitors = Vec::new();
        for n in 0..5 {
            visitors.push(
                store
                    .visitor_book()
                    .create_visitor(&site.id, &format!("token-{n}"))
                    .await
                    .unwrap()
                    .id,
            );
        }
        // v0: open and held by Ada; v1: waiting; v2: closed; v3, v4: none yet.
        let first = store
            .conversation_book()
            .append_batch(&[
                shopper(&site.id, &visitors[0], None, "v0-1"),
                shopper(&site.id, &visitors[1], None, "v1-1"),
                shopper(&site.id, &visitors[2], None, "v2-1"),
            ])
            .await
            .unwrap();
        let conversation = |i: usize| first[i].as_ref().unwrap().conversation.id.clone();
        let (held, waiting, closed) = (conversation(0), conversation(1), conversation(2));
        let opened = &first[0].as_ref().unwrap().conversation;
        assert!(
            store
                .conversation_book()
                .assign(opened, &ada, 5)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .conversation_book()
                .close_conversation(&closed, &ada, true)
                .await
                .unwrap()
                .is_some()
        );

        let batch = [
            shopper(&site.id, &visitors[0], Some(&held), "v0-2"),
            agent(&ada, &held, false, "ada-1"),
            agent(&ada, &waiting, false, "ada-2"),
            agent(&ada, &closed, false, "ada-3"),
            agent(&ada, &closed, true, "ada-4"),
            shopper(&site.id, &visitors[2], Some(&closed), "v2-2"),
            with_note(shopper(&site.id, &visitors[3], None, "v3-1")),
            shopper(&site.id, &visitors[3], None, "v3-1"),
            shopper(&site.id, &visitors[0], Some(&held), "v0-1"),
            agent(&ada, "no-such-conversation", true, "ada-5"),
        ];
        let outcomes = store
            .conversation_book()
            .append_batch(&batch)
            .await
            .unwrap();
        let posted = |i: usize| outcomes[i].as_ref().unwrap();

        // The fast way: seqs in the order sent, each conversation's summary
        // as the whole batch left it.
        assert_eq!(
            posted(0).message.seq,
            3,
            "after the first message and the claim"
        );
        assert_eq!(posted(1).message.seq, 4);
        assert_eq!(posted(0).conversation.last_seq, 4);
        assert_eq!(
            posted(1).conversation.last_message.as_deref(),
            Some("text of ada-1")
        );
        assert_eq!(posted(0).conversation.unread_for_agents, 2);
        // A reply claims a waiting conversation.
        let claim = posted(2);
        assert!(matches!(
            claim.new_events[0].body,
            EventBody::Assigned { .. }
        ));
        assert!(matches!(
            &claim.conversation.state,
            ConversationState::Assigned { agent_id, .. } if *agent_id == ada.id
        ));
        // A closed conversation takes notes, not replies.
        assert_eq!(outcomes[3].as_ref().unwrap_err(), &AppendRefused::Closed);
        assert!(matches!(posted(4).message.body, EventBody::Note { .. }));
        // A shopper whose socket still shows the closed one gets a new one.
        assert!(posted(5).opened);
        assert_ne!(posted(5).conversation.id, closed);
        // A first message opens one, with the opening note after it.
        assert!(posted(6).opened);
        assert_eq!(posted(6).new_events.len(), 2);
        // Retries: within the batch, and of an earlier batch.
        assert!(posted(7).is_duplicate());
        assert_eq!(posted(7).message.seq, posted(6).message.seq);
        assert!(posted(8).is_duplicate());
        assert_eq!(posted(8).message.seq, 1);
        assert_eq!(
            outcomes[9].as_ref().unwrap_err(),
            &AppendRefused::NoSuchConversation
        );

        for id in [&held, &waiting, &closed] {
            let events = store.events_after(id, 0, 100).await.unwrap();
            let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
            assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>(), "{id}");
        }
        assert_eq!(
            store.count_events().await.unwrap(),
            // 3 first messages, 1 assigned, 1 closed; then 2 the fast way,
            // 2 for the claim, 1 note, 1 and 2 (with its note) for the two
            // conversations opened.
            5 + 2 + 2 + 1 + 1 + 2
        );
        store.close().await;
    }

    #[tokio::test]
    async fn one_batch_takes_every_kind_of_message_on_sqlite() {
        crate::store::on_both::sqlite(|url| async move {
            one_batch_takes_every_kind_of_message(&url).await
        })
        .await;
    }

    #[tokio::test]
    async fn one_batch_takes_every_kind_of_message_on_postgres() {
        crate::store::on_both::postgres(|url| async move {
            one_batch_takes_every_kind_of_message(&url).await
        })
        .await;
    }
}
