//! The inbox's views of an account's conversations: what each view holds,
//! the filters over them, their counts, and one page of one view.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoEnumIterator, IntoStaticStr};

use crate::{ConversationSummary, TeamRef};

/// One of the inbox's views, as in `GET /api/views/{view}`.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum View {
    /// Open conversations the agent holds (not set aside).
    Mine,
    /// Waiting in a line for an agent.
    Unassigned,
    /// Every open conversation not set aside: waiting or held by anyone.
    AllOpen,
    /// Set aside, waiting on the customer.
    Pending,
    /// Set aside until a time or the customer's word.
    Snoozed,
    Closed,
}

impl View {
    /// Every view, in the inbox's order.
    pub fn all() -> Vec<View> {
        View::iter().collect()
    }

    /// The view named so in a path (`"all_open"`).
    pub fn named(name: &str) -> Option<View> {
        View::iter().find(|view| view.as_str() == name)
    }

    /// How the inbox names it.
    pub fn title(self) -> &'static str {
        match self {
            View::Mine => "Mine",
            View::Unassigned => "Unassigned",
            View::AllOpen => "All open",
            View::Pending => "Pending",
            View::Snoozed => "Snoozed",
            View::Closed => "Closed",
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Filters over a view (query parameters), all optional and combined.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Held (or last held) by this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Started at or after (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<i64>,
    /// Started before (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<i64>,
}

/// How many conversations each view holds, under the same filters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewCounts {
    pub mine: i64,
    pub unassigned: i64,
    pub all_open: i64,
    pub pending: i64,
    pub snoozed: i64,
    /// Closed conversations, counted up to [`CLOSED_COUNT_CAP`] + 1: a
    /// count above the cap means "more than the cap" (the closed pile only
    /// grows, and counting it whole would grow with it).
    pub closed: i64,
    /// Unassigned, per team line (`None`: the account's own line).
    pub lines: Vec<LineCount>,
}

/// Closed conversations counted exactly up to this many (see
/// [`ViewCounts::closed`]).
pub const CLOSED_COUNT_CAP: i64 = 10_000;

impl ViewCounts {
    /// A view's count as shown: "10000+" past the cap.
    pub fn shown(&self, view: View) -> String {
        let count = self.of(view);
        if view == View::Closed && count > CLOSED_COUNT_CAP {
            format!("{CLOSED_COUNT_CAP}+")
        } else {
            count.to_string()
        }
    }

    pub fn of(&self, view: View) -> i64 {
        match view {
            View::Mine => self.mine,
            View::Unassigned => self.unassigned,
            View::AllOpen => self.all_open,
            View::Pending => self.pending,
            View::Snoozed => self.snoozed,
            View::Closed => self.closed,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LineCount {
    pub team: Option<TeamRef>,
    pub count: i64,
}

/// One page of a view, most recently active first. `next` is the cursor
/// of the page after it (`?after=`), absent on the last page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ViewPage {
    pub conversations: Vec<ConversationSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Conversations per page of a view, at most.
pub const VIEW_PAGE: i64 = 50;

/// One of an account's labels and how much carries it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    pub conversations: i64,
    pub contacts: i64,
}

/// The longest name of a conversation's or contact's label, in characters.
pub const MAX_LABEL_NAME_CHARS: usize = 40;

/// What a search found in the account: messages and notes (newest first),
/// and customers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SearchResults {
    pub messages: Vec<MessageHit>,
    pub customers: Vec<CustomerHit>,
}

/// A message or note that matched, with its conversation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MessageHit {
    pub conversation: ConversationSummary,
    pub event: crate::Event,
    /// Where the matching words are in the event's text: `[start, end)`
    /// byte offsets, to highlight.
    pub highlights: Vec<[usize; 2]>,
}

/// A customer whose name, email or shop id matched.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CustomerHit {
    pub contact_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub external_id: String,
    /// Their most recent conversation, if they have one.
    pub conversation_id: Option<String>,
}

/// Messages a search returns at most.
pub const SEARCH_RESULTS: i64 = 20;
