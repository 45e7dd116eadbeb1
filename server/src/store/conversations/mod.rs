//! Conversations and their append-only event log: reading conversations
//! (here), the log itself (`log`), posting messages (`posting`), changes of
//! state (`transitions`) and figures (`stats`).
//!
//! Every write takes the conversation row first (`UPDATE … last_seq + 1`),
//! which serialises writers per conversation on both backends, so `seq`
//! only grows and has no gaps. An event is committed before anyone hears
//! of it. Only the conversation service (`crate::conversations`) calls the
//! writing half; it publishes what was stored.

mod channels;
mod labels;
mod log;
mod posting;
mod stats;
mod transitions;
mod views;

pub use channels::MailState;
pub use labels::{LabelName, LabelRefused};
pub(in crate::store) use log::{EVENT_SELECT, event_from_row};
pub(in crate::store) use posting::open_conversation_of;
pub use posting::{Append, AppendRefused, AppendTo, Appended, NewMessage, Opening, Posted};
pub(in crate::store) use transitions::fold_in;
pub use transitions::{Folded, HandOverRefused, StatusRefused};
pub use views::ViewCursor;

use protocol::{
    AgentDisplay, ConversationState, ConversationSummary, CustomerLabel, Event, Seq, Status,
    TeamRef,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Agent, Store, StoreError, StoreResult};

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
    /// How far the shopper and the agents have read.
    pub shopper_read_seq: Seq,
    pub agent_read_seq: Seq,
    /// The shopper's messages no agent has read.
    pub unread_for_agents: i64,
    /// What the inbox calls the shopper.
    pub customer: CustomerLabel,
    /// The agent who last let it go back to the line; not offered it again
    /// until someone else has taken it.
    pub passed_over_by: Option<String>,
    /// Open, or set aside by its agent (pending, snoozed).
    pub status: Status,
    /// The closed conversation this one follows.
    pub previous_id: Option<String>,
    /// Its labels' names, sorted.
    pub labels: Vec<String>,
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
            unread: self.unread_for_agents,
            shopper_read_seq: self.shopper_read_seq,
            agent_read_seq: self.agent_read_seq,
            customer: self.customer.clone(),
            status: self.status.clone(),
            previous_id: self.previous_id.clone(),
            labels: self.labels.clone(),
        }
    }

    pub fn assigned_agent_id(&self) -> Option<&str> {
        match &self.state {
            ConversationState::Assigned { agent_id, .. } => Some(agent_id),
            _ => None,
        }
    }
}

/// What one state change stored: the conversation as it now stands and
/// the events appended, in order.
#[derive(Clone, Debug)]
pub struct Change {
    pub conversation: Conversation,
    pub events: Vec<Event>,
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.site_id, s.name AS site_name, s.account_id, \
     c.visitor_id, c.state, c.assigned_agent_id, a.name AS agent_name, c.last_seq, \
     c.last_message, c.created_at, c.updated_at, s.agent_capacity, c.language, c.team_id, \
     t.name AS team_name, s.settings AS site_settings, c.shopper_read_seq, c.agent_read_seq, \
     c.unread_for_agents, c.passed_over_by, ct.name AS contact_name, v.unverified AS stated, v.user_agent, \
     v.time_zone AS visitor_time_zone, v.last_page, v.number AS visitor_number, \
     c.hold, c.snoozed_until, c.previous_id, c.labels \
     FROM conversations c JOIN sites s ON s.id = c.site_id \
     JOIN visitors v ON v.id = c.visitor_id \
     LEFT JOIN contacts ct ON ct.id = v.contact_id \
     LEFT JOIN agents a ON a.id = c.assigned_agent_id \
     LEFT JOIN teams t ON t.id = c.team_id";

/// "Chrome" from a User-Agent, for a shopper with no name.
fn browser_name(user_agent: &str) -> Option<&'static str> {
    // Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
    [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find_map(|(mark, name)| user_agent.contains(mark).then_some(name))
}

/// "/checkout" from the page's URL.
fn page_path(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    Some(path.chars().take(80).collect())
}

fn customer_label(row: &AnyRow) -> StoreResult<CustomerLabel> {
    let verified: Option<String> = row.try_get("contact_name")?;
    let stated = row
        .try_get::<Option<String>, _>("stated")?
        .and_then(|json| serde_json::from_str::<protocol::StatedDetails>(&json).ok())
        .and_then(|details| details.name);
    let has_verified = verified.as_deref().is_some_and(|n| !n.trim().is_empty());
    Ok(CustomerLabel {
        name: if has_verified { verified } else { stated }.filter(|n| !n.trim().is_empty()),
        verified: has_verified,
        page: row
            .try_get::<Option<String>, _>("last_page")?
            .as_deref()
            .and_then(page_path),
        browser: row
            .try_get::<Option<String>, _>("user_agent")?
            .as_deref()
            .and_then(browser_name)
            .map(str::to_owned),
        time_zone: row.try_get("visitor_time_zone")?,
        number: row.try_get("visitor_number")?,
    })
}

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
        shopper_read_seq: row.try_get("shopper_read_seq")?,
        agent_read_seq: row.try_get("agent_read_seq")?,
        unread_for_agents: row.try_get("unread_for_agents")?,
        customer: customer_label(row)?,
        passed_over_by: row.try_get("passed_over_by")?,
        status: status_from_columns(
            row.try_get::<Option<String>, _>("hold")?.as_deref(),
            row.try_get("snoozed_until")?,
        )?,
        previous_id: row.try_get("previous_id")?,
        labels: match row.try_get::<Option<String>, _>("labels")?.as_deref() {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("conversation labels: {e}")))?,
        },
    })
}

/// A conversation's status from its `hold` and `snoozed_until` columns.
pub(super) fn status_from_columns(
    hold: Option<&str>,
    until_ms: Option<i64>,
) -> StoreResult<Status> {
    match hold {
        None => Ok(Status::Open),
        Some("pending") => Ok(Status::Pending),
        Some("snoozed") => Ok(Status::Snoozed { until_ms }),
        Some(other) => Err(StoreError::Corrupt(format!("conversation hold {other:?}"))),
    }
}

/// The `hold` and `snoozed_until` columns of a status.
pub(super) fn status_columns(status: &Status) -> (Option<&'static str>, Option<i64>) {
    match status {
        Status::Open => (None, None),
        Status::Pending => (Some("pending"), None),
        Status::Snoozed { until_ms } => (Some("snoozed"), *until_ms),
    }
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
    /// Whether a conversation still takes messages (it exists and is not
    /// closed): one small read, for checks a socket makes often.
    pub async fn conversation_is_open(&self, id: &str) -> StoreResult<bool> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        Ok(state.is_some_and(|state| state != "closed"))
    }

    /// The conversation a visitor's widget shows: their open one, else
    /// their latest. (An older conversation can be the open one: a browser
    /// that signs in brings its newer chats along, closed into it.)
    pub async fn current_conversation_of_visitor(
        &self,
        visitor_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        let row = sqlx::query(&format!(
            "{CONVERSATION_SELECT} WHERE c.visitor_id = $1 \
             ORDER BY (c.state = 'closed'), c.created_at DESC, c.id DESC LIMIT 1"
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
    /// The account's `limit` oldest waiting conversations, oldest first.
    pub async fn oldest_waiting(
        &self,
        account_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<Conversation>> {
        self.waiting_after(account_id, None, limit).await
    }

    /// Like [`Store::oldest_waiting`], after `after` in line (a page further).
    pub async fn waiting_after(
        &self,
        account_id: &str,
        after: Option<&Conversation>,
        limit: i64,
    ) -> StoreResult<Vec<Conversation>> {
        let rows = sqlx::query(&format!(
            "{CONVERSATION_SELECT} WHERE s.account_id = $1 AND c.state = 'waiting' \
             AND (c.created_at > $2 OR (c.created_at = $2 AND c.id > $3)) \
             ORDER BY c.created_at, c.id LIMIT $4"
        ))
        .bind(account_id)
        .bind(after.map_or(i64::MIN, |c| c.created_at_ms))
        .bind(after.map_or("", |c| c.id.as_str()))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(conversation_from_row).collect()
    }

    /// A waiting conversation's place in its line (its team's, or the
    /// account's when it has no team): 1 for the first.
    pub async fn place_in_line(&self, conversation: &Conversation) -> StoreResult<i64> {
        let ahead: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations c JOIN sites s ON s.id = c.site_id \
             WHERE s.account_id = $1 AND c.state = 'waiting' \
             AND (c.team_id = $2 OR (c.team_id IS NULL AND $2 IS NULL)) \
             AND (c.created_at < $3 OR (c.created_at = $3 AND c.id < $4))",
        )
        .bind(&conversation.account_id)
        .bind(conversation.team_id.as_deref())
        .bind(conversation.created_at_ms)
        .bind(&conversation.id)
        .fetch_one(&self.read)
        .await?;
        Ok(ahead + 1)
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
}
