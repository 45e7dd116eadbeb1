//! The append-only event log: how an event is stored and read back, and
//! reading a conversation's events in order.

use std::collections::HashSet;

use protocol::{Author, Channel, Event, EventBody, EventKind, REPLAY_PAGE, Seq};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::store::{Conversation, FileLinks, Store, StoreError, StoreResult, now_ms};

pub(in crate::store) const EVENT_SELECT: &str = "SELECT e.conversation_id, e.seq, e.kind, e.author_kind, e.author_id, \
     au.name AS author_name, e.subject_id, su.name AS subject_name, e.body, e.client_id, e.created_at, \
     e.channel, e.payload \
     FROM events e LEFT JOIN agents au ON au.id = e.author_id \
     LEFT JOIN agents su ON su.id = e.subject_id";

/// An event as stored, its files' links signed for whoever reads it now.
pub(in crate::store) fn event_from_row(row: &AnyRow, links: &FileLinks) -> StoreResult<Event> {
    let author_kind: String = row.try_get("author_kind")?;
    let author = match author_kind.as_str() {
        "visitor" => Author::Visitor,
        "system" => Author::System,
        "agent" => Author::Agent {
            id: row
                .try_get::<Option<String>, _>("author_id")?
                .unwrap_or_default(),
            name: row
                .try_get::<Option<String>, _>("author_name")?
                .unwrap_or_else(|| "Former agent".to_owned()),
        },
        other => return Err(StoreError::Corrupt(format!("author kind {other:?}"))),
    };
    let kind: String = row.try_get("kind")?;
    let kind: EventKind = kind
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("event kind {kind:?}")))?;
    let text = || -> StoreResult<String> {
        Ok(row
            .try_get::<Option<String>, _>("body")?
            .unwrap_or_default())
    };
    // Exhaustive: a new kind does not compile until it is read back here
    // (and `columns` below says how it is written).
    let body = match kind {
        EventKind::Message => {
            // A message's files (without links) are its payload.
            let payload: Option<String> = row.try_get("payload")?;
            let mut files: Vec<protocol::FileRef> = match payload.as_deref() {
                None | Some("") => Vec::new(),
                Some(json) => serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("message files: {e}")))?,
            };
            links.sign_all(&mut files, now_ms());
            EventBody::Message {
                text: text()?,
                files,
            }
        }
        EventKind::Note => EventBody::Note { text: text()? },
        EventKind::Assigned => EventBody::Assigned {
            agent_id: row
                .try_get::<Option<String>, _>("subject_id")?
                .unwrap_or_default(),
            agent_name: row
                .try_get::<Option<String>, _>("subject_name")?
                .unwrap_or_else(|| "Former agent".to_owned()),
        },
        EventKind::Closed => EventBody::Closed,
        // Newer kinds carry what they say in the payload, whole.
        EventKind::Rated | EventKind::Status | EventKind::Reopened => {
            let payload: Option<String> = row.try_get("payload")?;
            let body: EventBody = serde_json::from_str(payload.as_deref().unwrap_or_default())
                .map_err(|e| StoreError::Corrupt(format!("{kind:?} event payload: {e}")))?;
            if EventKind::from(&body) != kind {
                return Err(StoreError::Corrupt(format!(
                    "a {kind:?} event holds another kind"
                )));
            }
            body
        }
    };
    Ok(Event {
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        author,
        body,
        client_id: row.try_get("client_id")?,
        created_at_ms: row.try_get("created_at")?,
        via: match row.try_get::<Option<String>, _>("channel")?.as_deref() {
            None => Channel::Chat,
            Some("email") => Channel::Email,
            Some(other) => return Err(StoreError::Corrupt(format!("channel {other:?}"))),
        },
    })
}

/// The `subject_id` (an agent the event is about), `body` (its text) and
/// `payload` (the whole body as JSON, for kinds whose fields have no
/// column) of an event.
fn columns(body: &EventBody) -> (Option<&str>, Option<&str>, Option<String>) {
    match body {
        EventBody::Message { text, files } if !files.is_empty() => {
            let unsigned: Vec<protocol::FileRef> = files
                .iter()
                .map(|file| protocol::FileRef {
                    url: String::new(),
                    ..file.clone()
                })
                .collect();
            (
                None,
                Some(text.as_str()),
                serde_json::to_string(&unsigned).ok(),
            )
        }
        EventBody::Message { text, .. } | EventBody::Note { text } => {
            (None, Some(text.as_str()), None)
        }
        EventBody::Assigned { agent_id, .. } => (Some(agent_id.as_str()), None, None),
        EventBody::Closed => (None, None, None),
        EventBody::Rated { .. } | EventBody::Status { .. } | EventBody::Reopened { .. } => {
            (None, None, serde_json::to_string(body).ok())
        }
    }
}

/// What appending a message or note does to its conversation's row
/// besides taking the next `seq`: the inbox's preview, the wait for the
/// shopper to see an agent's reply, the agents' unread count.
pub(super) fn effects(author: &Author, body: &EventBody) -> (Option<String>, bool, bool) {
    match body {
        EventBody::Message { text, files } => (
            Some(preview(text, files)),
            matches!(author, Author::Agent { .. }),
            *author == Author::Visitor,
        ),
        EventBody::Note { .. }
        | EventBody::Assigned { .. }
        | EventBody::Closed
        | EventBody::Rated { .. }
        | EventBody::Status { .. }
        | EventBody::Reopened { .. } => (None, false, false),
    }
}

/// What the inbox shows of a message: its text, or the names of its files
/// when it is files alone.
pub(super) fn preview(text: &str, files: &[protocol::FileRef]) -> String {
    if text.trim().is_empty() && !files.is_empty() {
        files
            .iter()
            .map(|file| file.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        text.to_owned()
    }
}

/// Appends one event inside `tx`: bumps the conversation's `seq` (taking its
/// row lock) and inserts the row. An agent's message also starts (or keeps)
/// the wait for the shopper to see it. Returns the stored event; with a
/// `client_id` its sender already used, `None` (nothing is stored then,
/// but the seq was taken: the caller rolls back).
pub(super) async fn append_event_via(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    author: Author,
    sender_id: Option<&str>,
    body: EventBody,
    client_id: Option<&str>,
    via: Option<Channel>,
) -> StoreResult<Option<Event>> {
    let now = now_ms();
    let (preview, agent_reply, shopper_message) = effects(&author, &body);
    // SET expressions read the row as it was, so `last_seq + 1` is the new seq throughout.
    let seq: Seq = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, \
         last_message = COALESCE($2, last_message), updated_at = $3, \
         last_agent_seq = CASE WHEN $4 = 1 THEN last_seq + 1 ELSE last_agent_seq END, \
         unseen_since = CASE WHEN $4 = 1 THEN COALESCE(unseen_since, $3) ELSE unseen_since END, \
         unread_for_agents = unread_for_agents + $5 \
         WHERE id = $1 RETURNING last_seq",
    )
    .bind(conversation_id)
    .bind(preview)
    .bind(now)
    .bind(i64::from(agent_reply))
    .bind(i64::from(shopper_message))
    .fetch_one(&mut **tx)
    .await?;
    let event = Event {
        conversation_id: conversation_id.to_owned(),
        seq,
        author,
        body,
        client_id: client_id.map(str::to_owned),
        created_at_ms: now,
        via: via.unwrap_or_default(),
    };
    let stored = insert_events(tx, &[(&event, sender_id)]).await?;
    Ok((!stored.is_empty()).then_some(event))
}

/// Events per multi-row `INSERT` at most (10 parameters each).
const INSERT_ROWS: usize = 64;

/// Inserts events (each with its sender's id) in as few statements as
/// their number allows. An event whose sender already stored its
/// `client_id` is refused by the database's unique index, not checked for
/// first: the returned keys (conversation, seq) are those stored.
pub(super) async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    events: &[(&Event, Option<&str>)],
) -> StoreResult<HashSet<(String, Seq)>> {
    let mut stored = HashSet::with_capacity(events.len());
    for chunk in crate::store::chunks(events.len(), INSERT_ROWS) {
        let chunk = &events[chunk];
        let sql = format!(
            "INSERT INTO events (conversation_id, seq, kind, author_kind, author_id, subject_id, body, client_id, created_at, channel, payload) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING conversation_id, seq",
            crate::store::placeholders(chunk.len(), 11)
        );
        let mut query = sqlx::query(&sql);
        for (event, sender_id) in chunk {
            let (subject_id, text, payload) = columns(&event.body);
            query = query
                .bind(event.conversation_id.as_str())
                .bind(event.seq)
                .bind(event.body.kind_name())
                .bind(match &event.author {
                    Author::Visitor => "visitor",
                    Author::Agent { .. } => "agent",
                    Author::System => "system",
                })
                .bind(*sender_id)
                .bind(subject_id)
                .bind(text)
                .bind(event.client_id.as_deref())
                .bind(event.created_at_ms)
                .bind(match event.via {
                    Channel::Chat => None,
                    Channel::Email => Some("email"),
                })
                .bind(payload);
        }
        let mut inserted = HashSet::with_capacity(chunk.len());
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert((
                row.try_get::<String, _>("conversation_id")?,
                row.try_get::<Seq, _>("seq")?,
            ));
        }
        // Searchable from the same commit on.
        let entries = crate::store::search::entries_of(
            chunk
                .iter()
                .map(|(event, _)| *event)
                .filter(|event| inserted.contains(&(event.conversation_id.clone(), event.seq))),
        );
        crate::store::search::index_events(tx, crate::store::backend_of(tx), &entries).await?;
        stored.extend(inserted);
    }
    Ok(stored)
}

/// [`append_event_via`] for what did not come by another channel and
/// carries no `client_id` of a sender's (a state change's own events).
pub(super) async fn append_event(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    author: Author,
    sender_id: Option<&str>,
    body: EventBody,
    client_id: Option<&str>,
) -> StoreResult<Event> {
    append_event_via(
        tx,
        conversation_id,
        author,
        sender_id,
        body,
        client_id,
        None,
    )
    .await?
    .ok_or_else(|| {
        StoreError::Corrupt(format!("event of {conversation_id} refused as a duplicate"))
    })
}

impl Store {
    /// Events of a conversation after `after_seq`, oldest first, at most `limit`.
    pub async fn events_after(
        &self,
        conversation_id: &str,
        after_seq: Seq,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.conversation_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3"
        ))
        .bind(conversation_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| event_from_row(row, &self.file_links))
            .collect()
    }

    /// Up to `limit` events just before `before_seq`, oldest first.
    /// When the first event of `kind` was stored in the conversation.
    pub async fn first_event_at(
        &self,
        conversation_id: &str,
        kind: EventKind,
    ) -> StoreResult<Option<i64>> {
        let kind: &'static str = kind.into();
        Ok(sqlx::query_scalar(
            "SELECT MIN(created_at) FROM events WHERE conversation_id = $1 AND kind = $2",
        )
        .bind(conversation_id)
        .bind(kind)
        .fetch_one(&self.read)
        .await?)
    }

    pub async fn events_before(
        &self,
        conversation_id: &str,
        before_seq: Seq,
        limit: i64,
    ) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.conversation_id = $1 AND e.seq < $2 ORDER BY e.seq DESC LIMIT $3"
        ))
        .bind(conversation_id)
        .bind(before_seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let mut events = rows
            .iter()
            .map(|row| event_from_row(row, &self.file_links))
            .collect::<StoreResult<Vec<_>>>()?;
        events.reverse();
        Ok(events)
    }

    /// What a client that holds `conversation`'s events up to `after_seq`
    /// is sent when it (re)connects: what follows, at most one page of
    /// [`REPLAY_PAGE`]. When more is missing than that, the newest page,
    /// and the client pages back on demand. Returns the first seq the page
    /// starts from (events before it are not sent) and the events.
    pub async fn replay(
        &self,
        conversation: &Conversation,
        after_seq: Seq,
    ) -> StoreResult<(Seq, Vec<Event>)> {
        let after_seq = after_seq.clamp(0, conversation.last_seq);
        if conversation.last_seq - after_seq <= REPLAY_PAGE {
            let events = self
                .events_after(&conversation.id, after_seq, REPLAY_PAGE)
                .await?;
            return Ok((after_seq + 1, events));
        }
        let events = self
            .events_before(&conversation.id, conversation.last_seq + 1, REPLAY_PAGE)
            .await?;
        let from = events.first().map_or(conversation.last_seq + 1, |e| e.seq);
        Ok((from, events))
    }

    pub async fn count_events(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&self.read)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use protocol::{Author, Event, EventBody, Role};

    use super::append_event_via;
    use crate::store::{NewMessage, Opening, Store};

    /// Every kind of event, by every kind of author, is written and read
    /// back as it was: a kind forgotten on either side fails here.
    async fn every_event_survives_the_log(url: &str) {
        let store = Store::connect(url).await.unwrap();
        let account = store.create_account("Log shop").await.unwrap();
        let site = store.create_site(&account, "Shop", &[]).await.unwrap();
        let agent = store
            .create_agent(&account, "ada@log.test", "Ada", Role::Agent, "hash")
            .await
            .unwrap();
        let visitor = store
            .visitor_book()
            .create_visitor(&site.id, "token-hash")
            .await
            .unwrap();
        let message = NewMessage {
            client_id: "first",
            body: "hello",
            via: protocol::Channel::Chat,
        };
        let posted = store
            .conversation_book()
            .post_visitor_message(&site.id, &visitor.id, Opening::default(), message)
            .await
            .unwrap();
        let conversation = posted.conversation.id;
        let mut written = Vec::new();
        let mut tx = store.write.begin().await.unwrap();
        for mut event in Event::examples() {
            // The log names agents by their id; use one that exists.
            if let Author::Agent { id, name } = &mut event.author {
                (*id, *name) = (agent.id.clone(), agent.name.clone());
            }
            if let EventBody::Assigned {
                agent_id,
                agent_name,
            } = &mut event.body
            {
                (*agent_id, *agent_name) = (agent.id.clone(), agent.name.clone());
            }
            let sender = match &event.author {
                Author::Visitor => Some(visitor.id.as_str()),
                Author::Agent { id, .. } => Some(id.as_str()),
                Author::System => None,
            };
            let client_id = event
                .client_id
                .as_deref()
                .map(|c| format!("{c}-{}", written.len()));
            let stored = append_event_via(
                &mut tx,
                &conversation,
                event.author.clone(),
                sender,
                event.body.clone(),
                client_id.as_deref(),
                Some(event.via),
            )
            .await
            .unwrap()
            .unwrap();
            written.push(stored);
        }
        tx.commit().await.unwrap();
        let read = store.events_after(&conversation, 1, 1000).await.unwrap();
        // Files come back with their links signed for the reader, never
        // with the link they were written with.
        for event in &mut written {
            if let EventBody::Message { files, .. } = &mut event.body {
                for file in files.iter_mut() {
                    assert_eq!(file.url, "/files/file-1?e=1&s=x");
                }
                store.file_links().sign_all(files, crate::store::now_ms());
            }
        }
        assert_eq!(read, written);
        let kinds: std::collections::BTreeSet<&str> =
            read.iter().map(|e| e.body.kind_name()).collect();
        assert_eq!(kinds.len(), EventBody::examples().len(), "every kind");
        store.close().await;
    }

    #[tokio::test]
    async fn every_event_survives_the_log_on_sqlite() {
        crate::store::on_both::sqlite(
            |url| async move { every_event_survives_the_log(&url).await },
        )
        .await;
    }

    #[tokio::test]
    async fn every_event_survives_the_log_on_postgres() {
        crate::store::on_both::postgres(
            |url| async move { every_event_survives_the_log(&url).await },
        )
        .await;
    }
}
