//! A shopper's or an agent's message into the log: opening a conversation
//! on a shopper's first message, claiming a waiting one on an agent's
//! reply, and answering a retry with what was stored the first time.

use protocol::{Author, Channel, Event, EventBody};
use sqlx::{Any, Transaction};

use super::Conversation;
use super::log::{EVENT_SELECT, append_event, append_event_via, event_from_row};
use super::transitions::assign_in;
use crate::store::{Agent, Store, StoreError, StoreResult, is_unique_violation, new_id, now_ms};

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
        let event = append_event_via(
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
            Some(message.via),
        )
        .await?;
        new_events.push(event.clone());
        if let Target::Visitor { opening, .. } = target
            && opened
            && let Some(note) = opening.note
        {
            let note = EventBody::Note {
                text: note.to_owned(),
            };
            new_events.push(
                append_event(&mut tx, &conversation_id, Author::System, None, note, None).await?,
            );
        }
        tx.commit().await?;
        let conversation = self.reload(&conversation_id).await?;
        Ok(Posted {
            conversation,
            message: event,
            new_events,
            opened,
        })
    }
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
