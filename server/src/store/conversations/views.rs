//! The inbox's views of an account's conversations: one keyset page of a
//! view (newest activity first, read along `conversations_account_view`
//! so the thousandth page costs what the first does), and every view's
//! count under the same filters.

use protocol::{LineCount, TeamRef, View, ViewCounts, ViewFilter};
use sqlx::Row;

use super::{CONVERSATION_SELECT, Conversation, conversation_from_row};
use crate::store::{Store, StoreError, StoreResult};

/// Where a page of a view ends: the last conversation's activity and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewCursor {
    pub updated_at_ms: i64,
    pub id: String,
}

impl ViewCursor {
    /// `"<ms>.<id>"`, as the API hands it out.
    pub fn parse(text: &str) -> Option<ViewCursor> {
        let (ms, id) = text.split_once('.')?;
        let id = crate::domain::ConversationId::parse(id).ok()?;
        Some(ViewCursor {
            updated_at_ms: ms.parse().ok()?,
            id: id.as_str().to_owned(),
        })
    }
}

impl std::fmt::Display for ViewCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.updated_at_ms, self.id)
    }
}

/// A bound parameter of a query built here.
enum Param<'a> {
    Text(&'a str),
    Int(i64),
}

/// Conditions and their parameters, numbered from `$1` (the account).
struct Conditions<'a> {
    sql: Vec<String>,
    params: Vec<Param<'a>>,
}

impl<'a> Conditions<'a> {
    fn new(account_id: &'a str) -> Conditions<'a> {
        Conditions {
            sql: vec!["c.account_id = $1".to_owned()],
            params: vec![Param::Text(account_id)],
        }
    }

    /// The next parameter's placeholder, `$n`.
    fn bind(&mut self, param: Param<'a>) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    fn and(&mut self, condition: String) {
        self.sql.push(condition);
    }

    fn filtered(mut self, filter: &'a ViewFilter) -> Conditions<'a> {
        if let Some(site) = &filter.site {
            let p = self.bind(Param::Text(site));
            self.and(format!("c.site_id = {p}"));
        }
        if let Some(team) = &filter.team {
            let p = self.bind(Param::Text(team));
            self.and(format!("c.team_id = {p}"));
        }
        if let Some(agent) = &filter.agent {
            let p = self.bind(Param::Text(agent));
            self.and(format!("c.assigned_agent_id = {p}"));
        }
        if let Some(label) = &filter.label {
            let p = self.bind(Param::Text(label));
            self.and(format!(
                "EXISTS (SELECT 1 FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id \
                 WHERE cl.conversation_id = c.id AND l.account_id = $1 AND l.name = {p})"
            ));
        }
        if let Some(from) = filter.from_ms {
            let p = self.bind(Param::Int(from));
            self.and(format!("c.created_at >= {p}"));
        }
        if let Some(to) = filter.to_ms {
            let p = self.bind(Param::Int(to));
            self.and(format!("c.created_at < {p}"));
        }
        self
    }

    fn sql(&self) -> String {
        self.sql.join(" AND ")
    }

    fn query<'q>(
        &'q self,
        sql: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut query = sqlx::query(sql);
        for param in &self.params {
            query = match param {
                Param::Text(text) => query.bind(*text),
                Param::Int(int) => query.bind(*int),
            };
        }
        query
    }
}

/// What puts a conversation in a view (`me`: the placeholder of the agent
/// asking).
fn in_view(view: View, me: &str) -> String {
    match view {
        View::Mine => {
            format!("c.state = 'assigned' AND c.hold IS NULL AND c.assigned_agent_id = {me}")
        }
        View::Unassigned => "c.state = 'waiting'".to_owned(),
        View::AllOpen => "c.state IN ('waiting', 'assigned') AND c.hold IS NULL".to_owned(),
        View::Pending => "c.hold = 'pending'".to_owned(),
        View::Snoozed => "c.hold = 'snoozed'".to_owned(),
        View::Closed => "c.state = 'closed'".to_owned(),
    }
}

impl Store {
    /// One page of `view` for the agent `me` of `account_id`, after
    /// `after`: at most `limit` conversations, and where the next page
    /// starts if there is one.
    pub async fn view_page(
        &self,
        account_id: &str,
        me: &str,
        view: View,
        filter: &ViewFilter,
        after: Option<&ViewCursor>,
        limit: i64,
    ) -> StoreResult<(Vec<Conversation>, Option<ViewCursor>)> {
        let mut conditions = Conditions::new(account_id).filtered(filter);
        // Bound only where used: PostgreSQL cannot type an unused parameter.
        let me = if view == View::Mine {
            conditions.bind(Param::Text(me))
        } else {
            String::new()
        };
        conditions.and(in_view(view, &me));
        if let Some(after) = after {
            let at = conditions.bind(Param::Int(after.updated_at_ms));
            let id = conditions.bind(Param::Text(&after.id));
            conditions.and(format!(
                "(c.updated_at < {at} OR (c.updated_at = {at} AND c.id < {id}))"
            ));
        }
        let limit_param = conditions.bind(Param::Int(limit + 1));
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE {} ORDER BY c.updated_at DESC, c.id DESC LIMIT {limit_param}",
            conditions.sql()
        );
        let rows = conditions.query(&sql).fetch_all(&self.read).await?;
        let mut page = rows
            .iter()
            .map(conversation_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = (page.len() > limit).then(|| {
            page.truncate(limit);
            page.last().map(|last| ViewCursor {
                updated_at_ms: last.updated_at_ms,
                id: last.id.clone(),
            })
        });
        Ok((page, next.flatten()))
    }

    /// How many conversations each view holds for the agent `me`, under
    /// `filter`; the unassigned ones per team line.
    pub async fn view_counts(
        &self,
        account_id: &str,
        me: &str,
        filter: &ViewFilter,
    ) -> StoreResult<ViewCounts> {
        let count_of = |view: View, me: &str| {
            format!(
                "COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0)",
                in_view(view, me)
            )
        };
        let mut open = Conditions::new(account_id).filtered(filter);
        let me_param = open.bind(Param::Text(me));
        open.and("c.state <> 'closed'".to_owned());
        let sql = format!(
            "SELECT {} AS mine, {} AS unassigned, {} AS all_open, {} AS pending, {} AS snoozed \
             FROM conversations c WHERE {}",
            count_of(View::Mine, &me_param),
            count_of(View::Unassigned, &me_param),
            count_of(View::AllOpen, &me_param),
            count_of(View::Pending, &me_param),
            count_of(View::Snoozed, &me_param),
            open.sql()
        );
        let row = open.query(&sql).fetch_one(&self.read).await?;
        let mut closed = Conditions::new(account_id).filtered(filter);
        closed.and(in_view(View::Closed, ""));
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversations c WHERE {} LIMIT {}) capped",
            closed.sql(),
            protocol::CLOSED_COUNT_CAP + 1
        );
        let closed_count: i64 = closed.query(&sql).fetch_one(&self.read).await?.try_get(0)?;
        let mut lines = Conditions::new(account_id).filtered(filter);
        lines.and(in_view(View::Unassigned, ""));
        let sql = format!(
            "SELECT c.team_id, t.name AS team_name, COUNT(*) AS waiting FROM conversations c \
             LEFT JOIN teams t ON t.id = c.team_id WHERE {} GROUP BY c.team_id, t.name \
             ORDER BY t.name",
            lines.sql()
        );
        let lines = lines
            .query(&sql)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                let team: Option<String> = row.try_get("team_id")?;
                let name: Option<String> = row.try_get("team_name")?;
                Ok(LineCount {
                    team: team.map(|id| TeamRef {
                        id,
                        name: name.unwrap_or_default(),
                    }),
                    count: row.try_get("waiting")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(ViewCounts {
            mine: row.try_get("mine")?,
            unassigned: row.try_get("unassigned")?,
            all_open: row.try_get("all_open")?,
            pending: row.try_get("pending")?,
            snoozed: row.try_get("snoozed")?,
            closed: closed_count,
            lines,
        })
    }
}
