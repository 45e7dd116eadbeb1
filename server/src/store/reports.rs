//! What the reports are computed from, read from the recorded history (the
//! event log, requeues, exits from the line, presence spans, ratings),
//! never from counters: one pass over the period's events grouped by
//! conversation, the few reopened conversations' events in order, and the
//! side tables. The same SQL on SQLite and PostgreSQL.

use sqlx::Row;

use super::{Store, StoreError, StoreResult};

/// The conversations a report covers: an account's, started in
/// `[from_ms, to_ms)`, optionally of one site, team or agent.
#[derive(Clone, Debug, Default)]
pub struct ReportScope {
    pub account_id: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub site_id: Option<String>,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
}

/// One conversation's facts, as the log tells them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationFacts {
    pub id: String,
    pub site_id: String,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
    pub created_at: i64,
    /// How its first message came: `chat` or `email`.
    pub channel: Option<String>,
    pub first_assigned_at: Option<i64>,
    pub first_agent_reply_at: Option<i64>,
    pub first_closed_at: Option<i64>,
    pub reopens: i64,
    pub rating_asked: bool,
    pub closed: bool,
    pub rating: Option<(i64, Option<String>)>,
    pub promise: Option<(i64, i64)>,
}

/// An event of a reopened conversation that bounds or answers an opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningEvent {
    pub conversation_id: String,
    /// `message` (an agent's), `closed` or `reopened`.
    pub kind: String,
    pub at: i64,
}

/// A shopper leaving the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitFacts {
    pub conversation_id: String,
    pub waiting_since: i64,
    pub left_at: i64,
    pub returned: bool,
    /// A letter of unseen replies went to them after they left.
    pub mailed_after: bool,
    /// They closed the chat panel, the page still open (else every widget
    /// of theirs closed).
    pub closed_panel: bool,
}

/// An agent online (or away) from `started_at` to `ended_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceSpan {
    pub agent_id: String,
    pub online: bool,
    pub started_at: i64,
    pub ended_at: i64,
}

/// Everything one report reads.
#[derive(Clone, Debug, Default)]
pub struct ReportFacts {
    pub conversations: Vec<ConversationFacts>,
    pub openings: Vec<OpeningEvent>,
    pub requeues: Vec<(String, String)>,
    pub exits: Vec<ExitFacts>,
    pub presence: Vec<PresenceSpan>,
}

/// The scope as SQL over `conversations c`, binding from `$1`.
fn scope_sql(scope: &ReportScope) -> String {
    let mut sql = String::from("c.account_id = $1 AND c.created_at >= $2 AND c.created_at < $3");
    let mut next = 4;
    for (value, column) in [
        (&scope.site_id, "c.site_id"),
        (&scope.team_id, "c.team_id"),
        (&scope.agent_id, "c.assigned_agent_id"),
    ] {
        if value.is_some() {
            sql.push_str(&format!(" AND {column} = ${next}"));
            next += 1;
        }
    }
    sql
}

fn bind_scope<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    scope: &'q ReportScope,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = query
        .bind(&scope.account_id)
        .bind(scope.from_ms)
        .bind(scope.to_ms);
    for value in [&scope.site_id, &scope.team_id, &scope.agent_id]
        .into_iter()
        .flatten()
    {
        query = query.bind(value);
    }
    query
}

impl Store {
    /// Reads what a report over `scope` is computed from; presence spans
    /// of `agents` (all the account's when empty) overlapping the period.
    pub async fn report_facts(
        &self,
        scope: &ReportScope,
        agents: &[String],
    ) -> StoreResult<ReportFacts> {
        let within = scope_sql(scope);
        // The conversations, then their events' milestones grouped by
        // conversation along the log's key (one pass, no sort), merged here:
        // joined in SQL, the grouping sorts the whole period again. The
        // reads run at once, on as many connections.
        let read_conversations = async {
            let sql = format!(
                "SELECT c.id, c.site_id, c.team_id, c.assigned_agent_id, c.created_at, \
                 c.promised_wait_ms, c.promised_at, \
                 CASE WHEN c.rating_asked THEN 1 ELSE 0 END AS rating_asked, \
                 CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END AS closed, \
                 CAST(r.score AS BIGINT) AS score, r.comment \
                 FROM conversations c LEFT JOIN ratings r ON r.conversation_id = c.id \
                 WHERE {within}"
            );
            let rows = bind_scope(sqlx::query(&sql), scope)
                .fetch_all(&self.read)
                .await?;
            let mut conversations = Vec::with_capacity(rows.len());
            // By position, in the SELECT's order: a hundred thousand rows
            // read by name cost as much as the query.
            for row in rows {
                let score: Option<i64> = row.try_get(9)?;
                let promised: Option<i64> = row.try_get(5)?;
                let promised_at: Option<i64> = row.try_get(6)?;
                conversations.push(ConversationFacts {
                    id: row.try_get(0)?,
                    site_id: row.try_get(1)?,
                    team_id: row.try_get(2)?,
                    agent_id: row.try_get(3)?,
                    created_at: row.try_get(4)?,
                    channel: None,
                    first_assigned_at: None,
                    first_agent_reply_at: None,
                    first_closed_at: None,
                    reopens: 0,
                    rating_asked: row.try_get::<i64, _>(7)? != 0,
                    closed: row.try_get::<i64, _>(8)? != 0,
                    rating: match score {
                        Some(score) => Some((score, row.try_get(10)?)),
                        None => None,
                    },
                    promise: promised.zip(promised_at),
                });
            }
            Ok::<_, StoreError>(conversations)
        };
        let read_milestones = async {
            let sql = format!(
                "SELECT e.conversation_id, \
                 MIN(CASE WHEN e.seq = 1 THEN e.channel END) AS channel, \
                 MIN(CASE WHEN e.kind = 'assigned' THEN e.created_at END) AS first_assigned_at, \
                 MIN(CASE WHEN e.kind = 'message' AND e.author_kind = 'agent' THEN e.created_at END) \
                   AS first_agent_reply_at, \
                 MIN(CASE WHEN e.kind = 'closed' THEN e.created_at END) AS first_closed_at, \
                 SUM(CASE WHEN e.kind = 'reopened' THEN 1 ELSE 0 END) AS reopens \
                 FROM events e WHERE e.conversation_id IN (SELECT c.id FROM conversations c WHERE {within}) \
                 GROUP BY e.conversation_id"
            );
            let mut milestones = std::collections::HashMap::new();
            for row in bind_scope(sqlx::query(&sql), scope)
                .fetch_all(&self.read)
                .await?
            {
                let id: String = row.try_get(0)?;
                milestones.insert(
                    id,
                    (
                        row.try_get::<Option<String>, _>(1)?,
                        row.try_get::<Option<i64>, _>(2)?,
                        row.try_get::<Option<i64>, _>(3)?,
                        row.try_get::<Option<i64>, _>(4)?,
                        row.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
                    ),
                );
            }
            Ok::<_, StoreError>(milestones)
        };
        let read_openings = async {
            // Reopened conversations: each opening is measured from its own start.
            let sql = format!(
                "SELECT e.conversation_id, e.kind, e.created_at FROM conversations c \
                 JOIN events e ON e.conversation_id = c.id \
                 WHERE {within} AND c.reopened_at IS NOT NULL \
                 AND (e.kind IN ('closed', 'reopened') OR (e.kind = 'message' AND e.author_kind = 'agent')) \
                 ORDER BY e.conversation_id, e.seq"
            );
            let openings: Vec<OpeningEvent> = bind_scope(sqlx::query(&sql), scope)
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(OpeningEvent {
                        conversation_id: row.try_get("conversation_id")?,
                        kind: row.try_get("kind")?,
                        at: row.try_get("created_at")?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            Ok::<_, StoreError>(openings)
        };
        let read_requeues = async {
            let sql = format!(
                "SELECT q.conversation_id, q.reason FROM conversations c \
                 JOIN requeues q ON q.conversation_id = c.id WHERE {within} \
                 ORDER BY q.conversation_id, q.created_at"
            );
            let requeues: Vec<(String, String)> = bind_scope(sqlx::query(&sql), scope)
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("conversation_id")?, row.try_get("reason")?)))
                .collect::<StoreResult<_>>()?;
            Ok::<_, StoreError>(requeues)
        };
        let read_exits = async {
            let sql = format!(
                "SELECT x.conversation_id, x.waiting_since, x.left_at, \
                 CASE WHEN x.how = 'closed_panel' THEN 1 ELSE 0 END AS closed_panel, \
                 CASE WHEN x.returned_at IS NULL THEN 0 ELSE 1 END AS returned, \
                 CASE WHEN EXISTS (SELECT 1 FROM mail_outbox m WHERE m.conversation_id = c.id \
                   AND m.kind = 'unseen' AND m.status = 'sent' AND m.created_at >= x.left_at) \
                   THEN 1 ELSE 0 END AS mailed_after \
                 FROM conversations c JOIN queue_exits x ON x.conversation_id = c.id \
                 WHERE {within} ORDER BY x.conversation_id, x.left_at"
            );
            let exits: Vec<ExitFacts> = bind_scope(sqlx::query(&sql), scope)
                .fetch_all(&self.read)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(ExitFacts {
                        conversation_id: row.try_get("conversation_id")?,
                        waiting_since: row.try_get("waiting_since")?,
                        left_at: row.try_get("left_at")?,
                        returned: row.try_get::<i64, _>("returned")? != 0,
                        mailed_after: row.try_get::<i64, _>("mailed_after")? != 0,
                        closed_panel: row.try_get::<i64, _>("closed_panel")? != 0,
                    })
                })
                .collect::<StoreResult<_>>()?;
            Ok::<_, StoreError>(exits)
        };
        let read_presence = async {
            let rows = sqlx::query(
                "SELECT agent_id, status, started_at, COALESCE(ended_at, seen_at) AS ended_at \
                 FROM agent_presence WHERE account_id = $1 AND started_at < $3 \
                 AND COALESCE(ended_at, seen_at) > $2 ORDER BY agent_id, started_at",
            )
            .bind(&scope.account_id)
            .bind(scope.from_ms)
            .bind(scope.to_ms)
            .fetch_all(&self.read)
            .await?;
            let mut presence = Vec::with_capacity(rows.len());
            for row in rows {
                let agent_id: String = row.try_get("agent_id")?;
                if !agents.is_empty() && !agents.contains(&agent_id) {
                    continue;
                }
                presence.push(PresenceSpan {
                    agent_id,
                    online: row.try_get::<String, _>("status")? == "online",
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                });
            }
            Ok::<_, StoreError>(presence)
        };
        let (mut conversations, mut milestones, openings, requeues, exits, presence) = tokio::try_join!(
            read_conversations,
            read_milestones,
            read_openings,
            read_requeues,
            read_exits,
            read_presence
        )?;
        for conversation in &mut conversations {
            if let Some((channel, assigned, reply, closed, reopens)) =
                milestones.remove(&conversation.id)
            {
                conversation.channel = channel;
                conversation.first_assigned_at = assigned;
                conversation.first_agent_reply_at = reply;
                conversation.first_closed_at = closed;
                conversation.reopens = reopens;
            }
        }
        conversations.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));

        Ok(ReportFacts {
            conversations,
            openings,
            requeues,
            exits,
            presence,
        })
    }

    /// Keeps the first wait the line promised a waiting conversation.
    pub async fn keep_queue_promise(&self, conversation_id: &str, wait_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET promised_wait_ms = $2, promised_at = $3 \
             WHERE id = $1 AND promised_at IS NULL",
        )
        .bind(conversation_id)
        .bind(wait_ms)
        .bind(super::now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
