//! Changes of a conversation's state, each one transaction that appends
//! the events saying what happened: close, assign, hand over (to an agent
//! or a team's line), requeue, and folding a browser's open conversation
//! into a customer's when the shopper signs in.

use protocol::{Author, ConversationState, EventBody, RequeueReason, Seq, Status, StatusWhy};
use sqlx::{Any, Row, Transaction};

use super::log::{append_event, insert_events};
use super::{Change, Conversation};
use crate::store::{Agent, Backend, ConversationBook, Store, StoreError, StoreResult, now_ms};

/// Why a conversation could not be handed to another agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandOverRefused {
    /// The receiving agent holds as many conversations as they may.
    NoRoom,
    /// Nobody holds it, or the receiver already does.
    NotHeld,
}

/// Shopper messages carried from a folded conversation into the one that
/// continues, at most: the unanswered tail, not a whole history.
const CARRIED_MESSAGES: i64 = 20;

/// What folding stored, by conversation id: the folded one's events (a
/// note and `closed`) and the continuing one's (a note and the carried
/// messages, if any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Folded {
    pub folded_id: String,
    pub folded_events: Vec<protocol::Event>,
    pub continuing_id: String,
    pub continuing_events: Vec<protocol::Event>,
    /// Whether the folded conversation held an agent's seat.
    pub freed_a_seat: bool,
}

impl Store {
    /// Appends `events` in one transaction, then reads the conversation as it
    /// now stands: the end of every state change.
    async fn finish(
        &self,
        tx: Transaction<'static, Any>,
        conversation_id: &str,
        events: Vec<protocol::Event>,
    ) -> StoreResult<Change> {
        tx.commit().await?;
        let conversation = self.reload(conversation_id).await?;
        Ok(Change {
            conversation,
            events,
        })
    }
}

fn agent_author(agent: &Agent) -> Author {
    Author::Agent {
        id: agent.id.clone(),
        name: agent.name.clone(),
    }
}

/// Open → closed, asking the shopper to rate it or not; whether this
/// call closed it.
async fn close_in(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    ask_rating: bool,
) -> StoreResult<bool> {
    let closed = sqlx::query(
        "UPDATE conversations SET state = 'closed', closed_at = $2, hold = NULL, snoozed_until = NULL, \
         rating_asked = $3 WHERE id = $1 AND state <> 'closed'",
    )
    .bind(conversation_id)
    .bind(now_ms())
    .bind(ask_rating)
    .execute(&mut **tx)
    .await?;
    Ok(closed.rows_affected() > 0)
}

/// Whether the agent holds fewer than `capacity` conversations. Takes the
/// agent's row first, which serialises assignments to this agent (a row lock
/// on PostgreSQL, the single writer on SQLite), so the count cannot be
/// overtaken before the transaction commits. On PostgreSQL the count is a
/// statement of its own, after the lock: a statement that waited for the
/// lock still reads with the snapshot it started with, which would miss
/// the assignment it waited for. SQLite has no other writer: one statement.
async fn has_room(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    agent_id: &str,
    capacity: i64,
) -> StoreResult<bool> {
    // A set-aside conversation (pending, snoozed) holds no seat.
    const COUNT: &str = "SELECT COUNT(*) FROM conversations \
         WHERE assigned_agent_id = $1 AND state = 'assigned' AND hold IS NULL";
    if backend == Backend::Sqlite {
        let taken = sqlx::query(&format!(
            "UPDATE agents SET last_assigned_at = $2 WHERE id = $1 AND ({COUNT}) < $3"
        ))
        .bind(agent_id)
        .bind(now_ms())
        .bind(capacity)
        .execute(&mut **tx)
        .await?;
        return Ok(taken.rows_affected() > 0);
    }
    sqlx::query("UPDATE agents SET last_assigned_at = $2 WHERE id = $1")
        .bind(agent_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    let open: i64 = sqlx::query_scalar(COUNT)
        .bind(agent_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(open < capacity)
}

/// What an assignment's write says of the conversation as it now stands.
pub(super) struct AfterAssignment {
    last_seq: Seq,
    last_message: Option<String>,
    updated_at_ms: i64,
    unread_for_agents: i64,
    shopper_read_seq: Seq,
    agent_read_seq: Seq,
}

impl AfterAssignment {
    fn apply_to(self, conversation: &mut Conversation) {
        conversation.last_seq = self.last_seq;
        conversation.last_message = self.last_message;
        conversation.updated_at_ms = self.updated_at_ms;
        conversation.unread_for_agents = self.unread_for_agents;
        conversation.shopper_read_seq = self.shopper_read_seq;
        conversation.agent_read_seq = self.agent_read_seq;
    }
}

/// Waiting → assigned, guarded so only one caller can win; the same
/// statement takes the `assigned` event's seq.
pub(super) async fn assign_in(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    agent: &Agent,
) -> StoreResult<Option<(protocol::Event, AfterAssignment)>> {
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE conversations SET state = 'assigned', assigned_agent_id = $2, assigned_at = $3, \
         passed_over_by = NULL, last_seq = last_seq + 1, updated_at = $3 \
         WHERE id = $1 AND state = 'waiting' \
         RETURNING last_seq, last_message, updated_at, unread_for_agents, shopper_read_seq, agent_read_seq",
    )
    .bind(conversation_id)
    .bind(&agent.id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let after = AfterAssignment {
        last_seq: row.try_get("last_seq")?,
        last_message: row.try_get("last_message")?,
        updated_at_ms: row.try_get("updated_at")?,
        unread_for_agents: row.try_get("unread_for_agents")?,
        shopper_read_seq: row.try_get("shopper_read_seq")?,
        agent_read_seq: row.try_get("agent_read_seq")?,
    };
    let event = protocol::Event {
        conversation_id: conversation_id.to_owned(),
        seq: after.last_seq,
        author: Author::System,
        body: EventBody::Assigned {
            agent_id: agent.id.clone(),
            agent_name: agent.name.clone(),
        },
        client_id: None,
        created_at_ms: now,
        via: protocol::Channel::Chat,
    };
    if insert_events(tx, &[(&event, None)]).await?.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "the seq of {conversation_id}'s assignment was taken"
        )));
    }
    Ok(Some((event, after)))
}

/// A shopper signed in on a browser whose open conversation is not the
/// customer's open one: the browser's (`folded`) closes, with a note saying
/// where it went, and the customer's (`continuing`) takes the shopper's
/// unanswered messages from it, so nobody has to ask again. Both inside the
/// caller's transaction; `visitor_id` is the customer's.
pub(in crate::store) async fn fold_in(
    tx: &mut Transaction<'static, Any>,
    folded_id: &str,
    continuing_id: &str,
    visitor_id: &str,
) -> StoreResult<Folded> {
    let holder: Option<String> =
        sqlx::query_scalar("SELECT assigned_agent_id FROM conversations WHERE id = $1")
            .bind(folded_id)
            .fetch_one(&mut **tx)
            .await?;
    let carried: Vec<String> = sqlx::query(
        "SELECT body FROM events WHERE conversation_id = $1 AND kind = 'message' \
         AND author_kind = 'visitor' AND seq > COALESCE((SELECT MAX(seq) FROM events \
         WHERE conversation_id = $1 AND kind = 'message' AND author_kind = 'agent'), 0) \
         ORDER BY seq DESC LIMIT $2",
    )
    .bind(folded_id)
    .bind(CARRIED_MESSAGES)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .rev()
    .map(|row| {
        row.try_get::<Option<String>, _>("body")
            .map(Option::unwrap_or_default)
    })
    .collect::<Result<_, _>>()?;
    let mut outcome = Folded {
        folded_id: folded_id.to_owned(),
        continuing_id: continuing_id.to_owned(),
        freed_a_seat: holder.is_some(),
        ..Folded::default()
    };
    if !close_in(tx, folded_id, false).await? {
        return Ok(outcome);
    }
    let note = EventBody::Note {
        text: "The shopper signed in as a known customer, who already had an open \
               conversation; it continues there, with this conversation's unanswered \
               messages."
            .to_owned(),
    };
    outcome.folded_events = vec![
        append_event(tx, folded_id, Author::System, None, note, None).await?,
        append_event(tx, folded_id, Author::System, None, EventBody::Closed, None).await?,
    ];
    if carried.is_empty() {
        return Ok(outcome);
    }
    let note = EventBody::Note {
        text: "Before signing in, the shopper wrote this from another browser:".to_owned(),
    };
    outcome
        .continuing_events
        .push(append_event(tx, continuing_id, Author::System, None, note, None).await?);
    for text in carried {
        let message = EventBody::message(text);
        outcome.continuing_events.push(
            append_event(
                tx,
                continuing_id,
                Author::Visitor,
                Some(visitor_id),
                message,
                None,
            )
            .await?,
        );
    }
    Ok(outcome)
}

/// A conversation's state changes (see [`ConversationBook`]).
impl ConversationBook {
    /// Closes an open conversation on behalf of `agent`; `None` if it was
    /// already closed.
    pub async fn close_conversation(
        &self,
        conversation_id: &str,
        agent: &Agent,
        ask_rating: bool,
    ) -> StoreResult<Option<Change>> {
        let mut tx = self.write.begin().await?;
        if !close_in(&mut tx, conversation_id, ask_rating).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let closed = append_event(
            &mut tx,
            conversation_id,
            agent_author(agent),
            Some(&agent.id),
            EventBody::Closed,
            None,
        )
        .await?;
        self.finish(tx, conversation_id, vec![closed])
            .await
            .map(Some)
    }

    /// Assigns a waiting conversation to `agent` if the agent holds fewer
    /// than `capacity` open conversations; `None` if the conversation is no
    /// longer waiting or the agent is full. The store decides, so no two
    /// tasks or processes can put one conversation in two hands or an agent
    /// over capacity. `waiting` is the conversation as the caller read it:
    /// what the assignment changes comes from the write itself, not from
    /// reading it again.
    pub async fn assign(
        &self,
        waiting: &Conversation,
        agent: &Agent,
        capacity: i64,
    ) -> StoreResult<Option<Change>> {
        let mut tx = self.write.begin().await?;
        if !has_room(&mut tx, self.backend, &agent.id, capacity).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let Some((event, row)) = assign_in(&mut tx, &waiting.id, agent).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        tx.commit().await?;
        let mut conversation = waiting.clone();
        conversation.state = ConversationState::Assigned {
            agent_id: agent.id.clone(),
            agent_name: agent.name.clone(),
        };
        conversation.passed_over_by = None;
        row.apply_to(&mut conversation);
        Ok(Some(Change {
            conversation,
            events: vec![event],
        }))
    }

    /// Hands an assigned conversation to `to`, with a note from `by` that
    /// only agents see.
    pub async fn hand_over(
        &self,
        conversation_id: &str,
        by: &Agent,
        to: &Agent,
        to_capacity: i64,
        note: &str,
    ) -> StoreResult<Result<Change, HandOverRefused>> {
        let mut tx = self.write.begin().await?;
        if !has_room(&mut tx, self.backend, &to.id, to_capacity).await? {
            tx.rollback().await?;
            return Ok(Err(HandOverRefused::NoRoom));
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
            return Ok(Err(HandOverRefused::NotHeld));
        }
        let note = EventBody::Note {
            text: format!("Handed over to {}: {note}", to.name),
        };
        let assigned = EventBody::Assigned {
            agent_id: to.id.clone(),
            agent_name: to.name.clone(),
        };
        let events = vec![
            append_event(
                &mut tx,
                conversation_id,
                agent_author(by),
                Some(&by.id),
                note,
                None,
            )
            .await?,
            append_event(
                &mut tx,
                conversation_id,
                Author::System,
                None,
                assigned,
                None,
            )
            .await?,
        ];
        self.finish(tx, conversation_id, events).await.map(Ok)
    }

    /// Sends an open conversation back to the line of `team_id`, with a note
    /// from `by` that only agents see; only that team's agents are offered
    /// it from now on. `None` if the conversation is closed or the team is
    /// not of the conversation's account.
    pub async fn hand_over_to_team(
        &self,
        conversation_id: &str,
        by: &Agent,
        team_id: &str,
        note: &str,
    ) -> StoreResult<Option<Change>> {
        let mut tx = self.write.begin().await?;
        let holder: Option<String> =
            sqlx::query_scalar("SELECT assigned_agent_id FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        let moved = sqlx::query(
            "UPDATE conversations SET state = 'waiting', assigned_agent_id = NULL, assigned_at = NULL, \
             passed_over_by = COALESCE(assigned_agent_id, passed_over_by), team_id = $2 WHERE id = $1 AND state <> 'closed' AND EXISTS (SELECT 1 FROM teams t \
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
        if let Some(holder) = &holder {
            record_requeue(
                &mut tx,
                conversation_id,
                Some(holder),
                RequeueReason::HandedBack,
            )
            .await?;
        }
        let team_name: String = sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
            .bind(team_id)
            .fetch_one(&mut *tx)
            .await?;
        let note = EventBody::Note {
            text: format!("Handed over to the {team_name} team: {note}"),
        };
        let event = append_event(
            &mut tx,
            conversation_id,
            agent_author(by),
            Some(&by.id),
            note,
            None,
        )
        .await?;
        self.finish(tx, conversation_id, vec![event])
            .await
            .map(Some)
    }

    /// Takes an assigned conversation back from `agent_id` into the line,
    /// with an agent-only note saying why. `None` if it is no longer theirs.
    /// With `pass_over`, it is not offered back to them.
    pub async fn requeue(
        &self,
        conversation_id: &str,
        agent_id: &str,
        (why, reason): (RequeueReason, &str),
        pass_over: bool,
    ) -> StoreResult<Option<Change>> {
        let mut tx = self.write.begin().await?;
        let taken = sqlx::query(
            "UPDATE conversations SET state = 'waiting', assigned_agent_id = NULL, assigned_at = NULL, \
             passed_over_by = $3 WHERE id = $1 AND state = 'assigned' AND assigned_agent_id = $2",
        )
        .bind(conversation_id)
        .bind(agent_id)
        .bind(pass_over.then_some(agent_id))
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        record_requeue(&mut tx, conversation_id, Some(agent_id), why).await?;
        let note = EventBody::Note {
            text: reason.to_owned(),
        };
        let event =
            append_event(&mut tx, conversation_id, Author::System, None, note, None).await?;
        self.finish(tx, conversation_id, vec![event])
            .await
            .map(Some)
    }
}

/// Keeps why the conversation went back to a line, for the reports.
async fn record_requeue(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
    agent_id: Option<&str>,
    why: RequeueReason,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO requeues (id, conversation_id, account_id, agent_id, reason, created_at) \
         SELECT $1, id, account_id, $3, $4, $5 FROM conversations WHERE id = $2",
    )
    .bind(crate::store::new_id())
    .bind(conversation_id)
    .bind(agent_id)
    .bind(<&'static str>::from(why))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Why a conversation's status was not changed. Nothing was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusRefused {
    /// Only a conversation someone holds can be set aside.
    #[error("nobody holds the conversation yet: take it first")]
    NotHeld,
    /// It is closed: reopen it first.
    #[error("the conversation is closed")]
    Closed,
    /// It already stands so.
    #[error("the conversation already has that status")]
    Unchanged,
}

/// The seats its holder may fill: their own capacity, else the site's.
async fn holders_capacity(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
) -> StoreResult<Option<(String, i64)>> {
    let row = sqlx::query(
        "SELECT c.assigned_agent_id, COALESCE(a.capacity, s.agent_capacity) AS capacity \
         FROM conversations c JOIN sites s ON s.id = c.site_id \
         JOIN agents a ON a.id = c.assigned_agent_id WHERE c.id = $1",
    )
    .bind(conversation_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| Ok((row.try_get("assigned_agent_id")?, row.try_get("capacity")?)))
        .transpose()
}

/// Closed → waiting in the line, as a customer's new message or an agent
/// reopens it. Whoever held it stays named (not holding it), so the
/// dispatcher offers it back to them first if they are online with room.
pub(super) async fn reopen_in(
    tx: &mut Transaction<'static, Any>,
    conversation_id: &str,
) -> StoreResult<bool> {
    let reopened = sqlx::query(
        "UPDATE conversations SET state = 'waiting', assigned_at = NULL, closed_at = NULL, \
         hold = NULL, snoozed_until = NULL, passed_over_by = NULL, reopened_at = $2 \
         WHERE id = $1 AND state = 'closed'",
    )
    .bind(conversation_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(reopened.rows_affected() > 0)
}

/// Statuses (see [`ConversationBook`]).
impl ConversationBook {
    /// Sets a held conversation aside (pending, snoozed), or opens one again
    /// (`Status::Open`): a set-aside one goes back to its agent if they
    /// have a free seat, else to the line; a closed one (reopened by `by`)
    /// goes to `by` if they have room, else to the line. `by` is `None`
    /// when the customer's message or the clock woke it.
    pub async fn set_status(
        &self,
        conversation_id: &str,
        by: Option<&Agent>,
        status: &Status,
        why: StatusWhy,
    ) -> StoreResult<Result<Change, StatusRefused>> {
        let mut tx = self.write.begin().await?;
        let Some(row) =
            sqlx::query("SELECT state, hold, snoozed_until FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            tx.rollback().await?;
            return Ok(Err(StatusRefused::NotHeld));
        };
        let state: String = row.try_get("state")?;
        let hold: Option<String> = row.try_get("hold")?;
        let now = super::status_from_columns(hold.as_deref(), row.try_get("snoozed_until")?)?;
        let author = by.map_or(Author::System, agent_author);
        let author_id = by.map(|agent| agent.id.as_str());
        let mut events = Vec::new();
        match (state.as_str(), status) {
            ("closed", Status::Open) => {
                let Some(by) = by else {
                    tx.rollback().await?;
                    return Ok(Err(StatusRefused::Closed));
                };
                reopen_in(&mut tx, conversation_id).await?;
                let reopened = EventBody::Reopened { why };
                events.push(
                    append_event(&mut tx, conversation_id, author, author_id, reopened, None)
                        .await?,
                );
                let capacity = by.capacity.unwrap_or(
                    sqlx::query_scalar(
                        "SELECT s.agent_capacity FROM conversations c \
                         JOIN sites s ON s.id = c.site_id WHERE c.id = $1",
                    )
                    .bind(conversation_id)
                    .fetch_one(&mut *tx)
                    .await?,
                );
                if has_room(&mut tx, self.backend, &by.id, capacity).await?
                    && let Some((assigned, _)) = assign_in(&mut tx, conversation_id, by).await?
                {
                    events.push(assigned);
                }
            }
            ("closed", _) => {
                tx.rollback().await?;
                return Ok(Err(StatusRefused::Closed));
            }
            (_, Status::Open) => {
                if !now.is_set_aside() {
                    tx.rollback().await?;
                    return Ok(Err(StatusRefused::Unchanged));
                }
                // Counted before the hold is lifted: a set-aside
                // conversation holds no seat, so "room" is room for it.
                let keeps_agent = match holders_capacity(&mut tx, conversation_id).await? {
                    Some((agent_id, capacity)) if state == "assigned" => {
                        has_room(&mut tx, self.backend, &agent_id, capacity).await?
                    }
                    _ => false,
                };
                sqlx::query(
                    "UPDATE conversations SET hold = NULL, snoozed_until = NULL, \
                     state = CASE WHEN $2 = 1 THEN state ELSE 'waiting' END, \
                     assigned_at = CASE WHEN $2 = 1 THEN assigned_at ELSE NULL END \
                     WHERE id = $1",
                )
                .bind(conversation_id)
                .bind(i64::from(keeps_agent))
                .execute(&mut *tx)
                .await?;
                let body = EventBody::Status {
                    status: Status::Open,
                    why,
                };
                events.push(
                    append_event(&mut tx, conversation_id, author, author_id, body, None).await?,
                );
            }
            ("waiting", _) => {
                tx.rollback().await?;
                return Ok(Err(StatusRefused::NotHeld));
            }
            (_, aside) => {
                if now == *aside {
                    tx.rollback().await?;
                    return Ok(Err(StatusRefused::Unchanged));
                }
                let (hold, until) = super::status_columns(aside);
                sqlx::query("UPDATE conversations SET hold = $2, snoozed_until = $3 WHERE id = $1")
                    .bind(conversation_id)
                    .bind(hold)
                    .bind(until)
                    .execute(&mut *tx)
                    .await?;
                let body = EventBody::Status {
                    status: aside.clone(),
                    why,
                };
                events.push(
                    append_event(&mut tx, conversation_id, author, author_id, body, None).await?,
                );
            }
        }
        self.finish(tx, conversation_id, events).await.map(Ok)
    }
}
