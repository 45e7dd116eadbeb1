//! Conversations and their append-only event log.
//!
//! Every write takes the conversation row first (`UPDATE … last_seq + 1`),
//! which serialises writers per conversation on both backends, so `seq`
//! only grows and has no gaps. An event is committed before anyone hears
//! of it.

use protocol::{
    AgentDisplay, Author, ConversationState, ConversationSummary, Event, EventBody, Seq, TeamRef,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Agent, Store, StoreError, StoreResult, is_unique_violation, new_id, now_ms};

/// A conversation with what the inbox and the router need to know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub site_id: String,
    pub site_name: String,
    pub account_id: String,
    pub visitor_id: String,
    pub state: ConversationState,
    pub last_seq: Seq,
    pub last_message: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The site's default agent capacity.
    pub site_agent_capacity: i64,
    /// The shopper's browser language, when the widget told us.
    pub language: Option<String>,
    /// The team this conversation is routed to (from its topic); `None`: anyone.
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    /// How the site shows agents to shoppers.
    pub agent_display: AgentDisplay,
}

impl Conversation {
    pub fn summary(&self) -> ConversationSummary {
        ConversationSummary {
            id: self.id.clone(),
            site_id: self.site_id.clone(),
            site_name: self.site_name.clone(),
            visitor_id: self.visitor_id.clone(),
            state: self.state.clone(),
            team: self.team_id.clone().map(|id| TeamRef {
                id,
                name: self.team_name.clone().unwrap_or_default(),
            }),
            last_seq: self.last_seq,
            last_message: self.last_message.clone(),
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        }
    }

    pub fn assigned_agent_id(&self) -> Option<&str> {
        match &self.state {
            ConversationState::Assigned { agent_id, .. } => Some(agent_id),
            _ => None,
        }
    }
}

/// A message to append, with its sender's idempotency key.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub client_id: &'a str,
    pub body: &'a str,
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
}

/// The outcome of appending a message.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The conversation after the write.
    pub conversation: Conversation,
    /// The stored message event (the earlier one, for a duplicate).
    pub message: Event,
    /// Events stored by this call, in order; empty for a duplicate.
    pub new_events: Vec<Event>,
    /// Whether this call opened the conversation.
    pub opened: bool,
}

impl Posted {
    pub fn is_duplicate(&self) -> bool {
        self.new_events.is_empty()
    }
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.site_id, s.name AS site_name, s.account_id, \
     c.visitor_id, c.state, c.assigned_agent_id, a.name AS agent_name, c.last_seq, \
     c.last_message, c.created_at, c.updated_at, s.agent_capacity, c.language, c.team_id, \
     t.name AS team_name, s.settings AS site_settings \
     FROM conversations c JOIN sites s ON s.id = c.site_id \
     LEFT JOIN agents a ON a.id = c.assigned_agent_id \
     LEFT JOIN teams t ON t.id = c.team_id";

const EVENT_SELECT: &str = "SELECT e.conversation_id, e.seq, e.kind, e.author_kind, e.author_id, \
     au.name AS author_name, e.subject_id, su.name AS subject_name, e.body, e.client_id, e.created_at \
     FROM events e LEFT JOIN agents au ON au.id = e.author_id \
     LEFT JOIN agents su ON su.id = e.subject_id";

/// Only the part of a site's settings every conversation needs.
fn agent_display(settings: &str) -> StoreResult<AgentDisplay> {
    #[derive(serde::Deserialize)]
    struct Display {
        #[serde(default)]
        agent_display: AgentDisplay,
    }
    serde_json::from_str::<Display>(settings)
        .map(|d| d.agent_display)
        .map_err(|e| StoreError::Corrupt(format!("site settings: {e}")))
}

fn conversation_from_row(row: &AnyRow) -> StoreResult<Conversation> {
    let state: String = row.try_get("state")?;
    let state = match state.as_str() {
        "waiting" => ConversationState::Waiting,
        "assigned" => ConversationState::Assigned {
            agent_id: row
                .try_get::<Option<String>, _>("assigned_agent_id")?
                .unwrap_or_default(),
            agent_name: row
                .try_get::<Option<String>, _>("agent_name")?
                .unwrap_or_default(),
        },
        "closed" => ConversationState::Closed,
        other => return Err(StoreError::Corrupt(format!("conversation state {other:?}"))),
    };
    Ok(Conversation {
        id: row.try_get("id")?,
        site_id: row.try_get("site_id")?,
        site_name: row.try_get("site_name")?,
        account_id: row.try_get("account_id")?,
        visitor_id: row.try_get("visitor_id")?,
        state,
        last_seq: row.try_get("last_seq")?,
        last_message: row.try_get("last_message")?,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
        site_agent_capacity: row.try_get("agent_capacity")?,
        language: row.try_get("language")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        agent_display: agent_display(&row.try_get::<String, _>("site_settings")?)?,
    })
}

fn event_from_row(row: &AnyRow) -> StoreResult<Event> {
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
    let text = || -> StoreResult<String> {
        Ok(row
            .try_get::<Option<String>, _>("body")?
            .unwrap_or_default())
    };
    let body = match kind.as_str() {
        "message" => EventBody::Message { text: text()? },
        "note" => EventBody::Note { text: text()? },
        "assigned" => EventBody::Assigned {
            agent_id: row
                .try_get::<Option<String>, _>("subject_id")?
                .unwrap_or_default(),
            agent_name: row
                .try_get::<Option<String>, _>("subject_name")?
                .unwrap_or_else(|| "Former agent".to_owned()),
        },
        "closed" => EventBody::Closed,
        other => return Err(StoreError::Corrupt(format!("event kind {other:?}"))),
    };
    Ok(Event {
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        author,
        body,
        client_id: row.try_get("client_id")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

/// Appends one event inside `tx`: bumps the conversation's `seq` (taking its
/// row lock) and inserts the row. Returns the stored event.
async fn append_event(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    author: Author,
    sender_id: Option<&str>,
    body: EventBody,
    client_id: Option<&str>,
) -> StoreResult<Event> {
    let now = now_ms();
    let preview = match &body {
        EventBody::Message { text } => Some(text.as_str()),
        _ => None,
    };
    let seq: Seq = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, \
         last_message = COALESCE($2, last_message), updated_at = $3 \
         WHERE id = $1 RETURNING last_seq",
    )
    .bind(conversation_id)
    .bind(preview)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let author_kind = match &author {
        Author::Visitor => "visitor",
        Author::Agent { .. } => "agent",
        Author::System => "system",
    };
    let (kind, subject_id, text) = match &body {
        EventBody::Message { text } => ("message", None, Some(text.as_str())),
        EventBody::Note { text } => ("note", None, Some(text.as_str())),
        EventBody::Assigned { agent_id, .. } => ("assigned", Some(agent_id.as_str()), None),
        EventBody::Closed => ("closed", None, None),
    };
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, kind, author_kind, author_id, subject_id, body, client_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(conversation_id)
    .bind(seq)
    .bind(kind)
    .bind(author_kind)
    .bind(sender_id)
    .bind(subject_id)
    .bind(text)
    .bind(client_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Event {
        conversation_id: conversation_id.to_owned(),
        seq,
        author,
        body,
        client_id: client_id.map(str::to_owned),
        created_at_ms: now,
    })
}

/// Where a message goes: a visitor's open conversation (opened on demand), or
/// a given conversation for an agent, as a reply or as an agent-only note.
enum Target<'a> {
    Visitor {
        site_id: &'a str,
        visitor_id: &'a str,
        opening: Opening<'a>,
    },
    Agent {
        agent: &'a Agent,
        conversation_id: &'a str,
        note: bool,
    },
}

impl Store {
    /// A conversation this call just wrote to; it must exist.
    async fn reload(&self, id: &str) -> StoreResult<Conversation> {
        self.conversation(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("conversation {id} vanished")))
    }

    pub async fn conversation(&self, id: &str) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&format!("{CONVERSATION_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// The visitor's latest conversation, open or not.
    pub async fn latest_conversation_of_visitor(
        &self,
        visitor_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&format!(
            "{CONVERSATION_SELECT} WHERE c.visitor_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 1"
        ))
        .bind(visitor_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// What an agent's inbox lists: the account's waiting conversations and
    /// the agent's own, most recently active first.
    pub async fn inbox(&self, agent: &Agent, limit: i64) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query(&format!(
            "{CONVERSATION_SELECT} WHERE s.account_id = $1 \
             AND (c.state = 'waiting' OR (c.state = 'assigned' AND c.assigned_agent_id = $2)) \
             ORDER BY c.updated_at DESC, c.id LIMIT $3"
        ))
        .bind(&agent.account_id)
        .bind(&agent.id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// The account's waiting conversations, oldest first.
    pub async fn waiting_conversations(&self, account_id: &str) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query(&format!(
            "{CONVERSATION_SELECT} WHERE s.account_id = $1 AND c.state = 'waiting' \
             ORDER BY c.created_at, c.id"
        ))
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// Open (assigned) conversation counts per agent of an account.
    pub async fn agent_loads(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT c.assigned_agent_id, COUNT(*) AS open FROM conversations c \
             JOIN sites s ON s.id = c.site_id \
             WHERE s.account_id = $1 AND c.state = 'assigned' AND c.assigned_agent_id IS NOT NULL \
             GROUP BY c.assigned_agent_id",
        )
        .bind(account_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("assigned_agent_id")?, row.try_get("open")?)))
            .collect()
    }

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
        rows.iter().map(event_from_row).collect()
    }

    /// Appends a shopper's message to their open conversation, opening one
    /// (waiting for an agent, routed by `opening`) if they have none.
    /// Idempotent on `client_id`.
    pub async fn post_visitor_message(
        &self,
        site_id: &str,
        visitor_id: &str,
        opening: Opening<'_>,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        self.post(
            Target::Visitor {
                site_id,
                visitor_id,
                opening,
            },
            visitor_id,
            message,
        )
        .await
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
        self.post(
            Target::Agent {
                agent,
                conversation_id,
                note: false,
            },
            &agent.id,
            message,
        )
        .await
    }

    /// Appends an agent-only note (also on a closed conversation). Never
    /// claims the conversation. Idempotent on `client_id`.
    pub async fn post_agent_note(
        &self,
        agent: &Agent,
        conversation_id: &str,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        self.post(
            Target::Agent {
                agent,
                conversation_id,
                note: true,
            },
            &agent.id,
            message,
        )
        .await
    }

    async fn post(
        &self,
        target: Target<'_>,
        sender_id: &str,
        message: NewMessage<'_>,
    ) -> StoreResult<Posted> {
        match self.try_post(&target, sender_id, &message).await {
            // Two identical retries raced past the duplicate check; the loser
            // finds the winner's row now.
            Err(StoreError::Database(err)) if is_unique_violation(&err) => {
                match self.find_duplicate(sender_id, message.client_id).await? {
                    Some(posted) => Ok(posted),
                    None => Err(StoreError::Database(err)),
                }
            }
            other => other,
        }
    }

    async fn find_duplicate(
        &self,
        sender_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<Posted>> {
        let row = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.author_id = $1 AND e.client_id = $2"
        ))
        .bind(sender_id)
        .bind(client_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(message) = row.as_ref().map(event_from_row).transpose()? else {
            return Ok(None);
        };
        let conversation = self
            .conversation(&message.conversation_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("event without conversation".into()))?;
        Ok(Some(Posted {
            conversation,
            message,
            new_events: Vec::new(),
            opened: false,
        }))
    }

    async fn try_post(
        &self,
        target: &Target<'_>,
        sender_id: &str,
        message: &NewMessage<'_>,
    ) -> StoreResult<Posted> {
        if let Some(posted) = self.find_duplicate(sender_id, message.client_id).await? {
            return Ok(posted);
        }
        let mut tx = self.write.begin().await?;
        let mut new_events = Vec::new();
        let mut opened = false;
        let (conversation_id, author) = match target {
            Target::Visitor {
                site_id,
                visitor_id,
                opening,
            } => {
                let id = match open_conversation_of(&mut tx, visitor_id).await? {
                    Some(id) => id,
                    None => {
                        let now = now_ms();
                        // The partial unique index keeps this to one open
                        // conversation per visitor even if two tabs race.
                        sqlx::query(
                            "INSERT INTO conversations (id, site_id, visitor_id, state, last_seq, created_at, updated_at, language, team_id) \
                             VALUES ($1, $2, $3, 'waiting', 0, $4, $4, $5, \
                             (SELECT team_id FROM site_topics WHERE site_id = $2 AND topic = $6)) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(new_id())
                        .bind(site_id)
                        .bind(visitor_id)
                        .bind(now)
                        .bind(opening.language)
                        .bind(opening.topic)
                        .execute(&mut *tx)
                        .await?;
                        opened = true;
                        open_conversation_of(&mut tx, visitor_id)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Corrupt("opened conversation vanished".into())
                            })?
                    }
                };
                (id, Author::Visitor)
            }
            Target::Agent {
                agent,
                conversation_id,
                note,
            } => {
                let state: Option<String> =
                    sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1")
                        .bind(*conversation_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                match state.as_deref() {
                    None => return Err(StoreError::Corrupt("no such conversation".into())),
                    Some("closed") if !note => {
                        return Err(StoreError::Conflict("conversation is closed"));
                    }
                    Some("waiting") if !note => {
                        if let Some(event) = assign_in(&mut tx, conversation_id, agent).await? {
                            new_events.push(event);
                        }
                    }
                    Some(_) => {}
                }
                (
                    (*conversation_id).to_owned(),
                    Author::Agent {
                        id: agent.id.clone(),
                        name: agent.name.clone(),
                    },
                )
            }
        };
        let event = append_event(
            &mut tx,
            &conversation_id,
            author,
            Some(sender_id),
            match target {
                Target::Agent { note: true, .. } => EventBody::Note {
                    text: message.body.to_owned(),
                },
                _ => EventBody::Message {
                    text: message.body.to_owned(),
                },
            },
            Some(message.client_id),
        )
        .await?;
        new_events.push(event.clone());
        tx.commit().await?;
        let conversation = self.reload(&conversation_id).await?;
        Ok(Posted {
            conversation,
            message: event,
            new_events,
            opened,
        })
    }

    /// Closes an open conversation on behalf of `agent`. Returns the stored
    /// `closed` event, or `None` if it was already closed.
    pub async fn close_conversation(
        &self,
        conversation_id: &str,
        agent: &Agent,
    ) -> StoreResult<Option<(Event, Conversation)>> {
        let mut tx = self.write.begin().await?;
        let closed = sqlx::query(
            "UPDATE conversations SET state = 'closed', closed_at = $2 WHERE id = $1 AND state <> 'closed'",
        )
        .bind(conversation_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let author = Author::Agent {
            id: agent.id.clone(),
            name: agent.name.clone(),
        };
        self.commit_with_event(
            tx,
            conversation_id,
            author,
            Some(&agent.id),
            EventBody::Closed,
        )
        .await
        .map(Some)
    }

    /// Appends one event, commits, and returns it with the conversation as
    /// it now stands: the end of every single-event state change.
    async fn commit_with_event(
        &self,
        mut tx: Transaction<'static, Any>,
        conversation_id: &str,
        author: Author,
        sender_id: Option<&str>,
        body: EventBody,
    ) -> StoreResult<(Event, Conversation)> {
        let event = append_event(&mut tx, conversation_id, author, sender_id, body, None).await?;
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok((event, conversation))
    }

    /// Assigns a waiting conversation to `agent` if the agent holds fewer
    /// than `capacity` open conversations. Returns the stored `assigned`
    /// event, or `None` if the conversation is no longer waiting or the agent
    /// is full: the store decides, so no two tasks or processes can put one
    /// conversation in two hands or an agent over capacity.
    pub async fn assign(
        &self,
        conversation_id: &str,
        agent: &Agent,
        capacity: i64,
    ) -> StoreResult<Option<(Event, Conversation)>> {
        let mut tx = self.write.begin().await?;
        if !has_room(&mut tx, &agent.id, capacity).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let Some(event) = assign_in(&mut tx, conversation_id, agent).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Some((event, conversation)))
    }

    /// Hands an assigned conversation to `to` with a note from `by` that
    /// only agents see. Fails with [`StoreError::Conflict`] if `to` has no
    /// room; returns `None` if the conversation is not assigned to anyone.
    pub async fn hand_over(
        &self,
        conversation_id: &str,
        by: &Agent,
        to: &Agent,
        to_capacity: i64,
        note: &str,
    ) -> StoreResult<Option<(Vec<Event>, Conversation)>> {
        let mut tx = self.write.begin().await?;
        if !has_room(&mut tx, &to.id, to_capacity).await? {
            tx.rollback().await?;
            return Err(StoreError::Conflict("the receiving agent has no room"));
        }
        let moved = sqlx::query(
            "UPDATE conversations SET assigned_agent_id = $2, assigned_at = $3 \
             WHERE id = $1 AND state = 'assigned' AND assigned_agent_id <> $2",
        )
        .bind(conversation_id)
        .bind(&to.id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let by_author = Author::Agent {
            id: by.id.clone(),
            name: by.name.clone(),
        };
        let mut events = vec![
            append_event(
                &mut tx,
                conversation_id,
                by_author,
                Some(&by.id),
                EventBody::Note {
                    text: format!("Handed over to {}: {note}", to.name),
                },
                None,
            )
            .await?,
        ];
        events.push(
            append_event(
                &mut tx,
                conversation_id,
                Author::System,
                None,
                EventBody::Assigned {
                    agent_id: to.id.clone(),
                    agent_name: to.name.clone(),
                },
                None,
            )
            .await?,
        );
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Some((events, conversation)))
    }

    /// Sends an open conversation back to the queue of `team_id`, with a note
    /// from `by` that only agents see; only that team's agents are offered
    /// it from now on. `None` if the conversation is closed or the team is
    /// not of the conversation's account.
    pub async fn hand_over_to_team(
        &self,
        conversation_id: &str,
        by: &Agent,
        team_id: &str,
        note: &str,
    ) -> StoreResult<Option<(Event, Conversation)>> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE conversations SET state = 'waiting', assigned_agent_id = NULL, assigned_at = NULL, \
             team_id = $2 WHERE id = $1 AND state <> 'closed' AND EXISTS (SELECT 1 FROM teams t \
             JOIN sites s ON s.account_id = t.account_id WHERE t.id = $2 AND s.id = conversations.site_id)",
        )
        .bind(conversation_id)
        .bind(team_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let team_name: String = sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
            .bind(team_id)
            .fetch_one(&mut *tx)
            .await?;
        let author = Author::Agent {
            id: by.id.clone(),
            name: by.name.clone(),
        };
        let note = EventBody::Note {
            text: format!("Handed over to the {team_name} team: {note}"),
        };
        self.commit_with_event(tx, conversation_id, author, Some(&by.id), note)
            .await
            .map(Some)
    }

    /// Takes an assigned conversation back from `agent_id` into the queue,
    /// with an agent-only note saying why. `None` if it is no longer theirs.
    pub async fn requeue(
        &self,
        conversation_id: &str,
        agent_id: &str,
        reason: &str,
    ) -> StoreResult<Option<(Event, Conversation)>> {
        let mut tx = self.write.begin().await?;
        let taken = sqlx::query(
            "UPDATE conversations SET state = 'waiting', assigned_agent_id = NULL, assigned_at = NULL \
             WHERE id = $1 AND state = 'assigned' AND assigned_agent_id = $2",
        )
        .bind(conversation_id)
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let note = EventBody::Note {
            text: reason.to_owned(),
        };
        self.commit_with_event(tx, conversation_id, Author::System, None, note)
            .await
            .map(Some)
    }

    /// Appends an agent-only note written by Rapport itself.
    pub async fn add_system_note(
        &self,
        conversation_id: &str,
        text: &str,
    ) -> StoreResult<(Event, Conversation)> {
        let tx = self.write.begin().await?;
        let note = EventBody::Note {
            text: text.to_owned(),
        };
        self.commit_with_event(tx, conversation_id, Author::System, None, note)
            .await
    }

    /// Conversations assigned before `assigned_before` (Unix ms) whose agent
    /// has not sent a message since: (conversation, agent, account).
    pub async fn unanswered_since(
        &self,
        assigned_before: i64,
    ) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT c.id, c.assigned_agent_id, s.account_id FROM conversations c \
             JOIN sites s ON s.id = c.site_id \
             WHERE c.state = 'assigned' AND c.assigned_at IS NOT NULL AND c.assigned_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id \
               AND e.kind = 'message' AND e.author_kind = 'agent' AND e.created_at >= c.assigned_at) \
             ORDER BY c.assigned_at LIMIT 100",
        )
        .bind(assigned_before)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get::<Option<String>, _>("assigned_agent_id")?
                        .unwrap_or_default(),
                    row.try_get("account_id")?,
                ))
            })
            .collect()
    }

    /// Ids of the conversations an agent holds.
    pub async fn conversations_held_by(&self, agent_id: &str) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM conversations WHERE assigned_agent_id = $1 AND state = 'assigned' ORDER BY assigned_at",
        )
        .bind(agent_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// The agent who most recently served this visitor in another conversation.
    pub async fn previous_agent_of_visitor(
        &self,
        visitor_id: &str,
        except_conversation: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT assigned_agent_id FROM conversations \
             WHERE visitor_id = $1 AND id <> $2 AND assigned_agent_id IS NOT NULL \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(visitor_id)
        .bind(except_conversation)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Average time from assignment to close over the account's last
    /// `sample` closed conversations, or `None` without any.
    pub async fn recent_handling_ms(
        &self,
        account_id: &str,
        sample: i64,
    ) -> StoreResult<Option<i64>> {
        let durations: Vec<i64> = sqlx::query_scalar(
            "SELECT c.closed_at - c.assigned_at FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE s.account_id = $1 AND c.state = 'closed' \
             AND c.assigned_at IS NOT NULL AND c.closed_at IS NOT NULL \
             ORDER BY c.closed_at DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(sample)
        .fetch_all(&self.read)
        .await?;
        let count = i64::try_from(durations.len()).unwrap_or(i64::MAX);
        Ok((count > 0).then(|| durations.iter().sum::<i64>() / count))
    }

    pub async fn count_conversations(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
            .fetch_one(&self.read)
            .await?)
    }

    pub async fn count_events(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&self.read)
            .await?)
    }
}

/// Whether the agent holds fewer than `capacity` conversations. Takes the
/// agent's row first, which serialises assignments to this agent (a row lock
/// on PostgreSQL, the single writer on SQLite), so the count cannot be
/// overtaken before the transaction commits.
async fn has_room(
    tx: &mut Transaction<'static, Any>,
    agent_id: &str,
    capacity: i64,
) -> StoreResult<bool> {
    sqlx::query("UPDATE agents SET last_assigned_at = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations WHERE assigned_agent_id = $1 AND state = 'assigned'",
    )
    .bind(agent_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(open < capacity)
}

async fn open_conversation_of(
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

/// Waiting → assigned, guarded so only one caller can win.
async fn assign_in(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    agent: &Agent,
) -> StoreResult<Option<Event>> {
    let taken = sqlx::query(
        "UPDATE conversations SET state = 'assigned', assigned_agent_id = $2, assigned_at = $3 \
         WHERE id = $1 AND state = 'waiting'",
    )
    .bind(conversation_id)
    .bind(&agent.id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(None);
    }
    let event = append_event(
        tx,
        conversation_id,
        Author::System,
        None,
        EventBody::Assigned {
            agent_id: agent.id.clone(),
            agent_name: agent.name.clone(),
        },
        None,
    )
    .await?;
    Ok(Some(event))
}
