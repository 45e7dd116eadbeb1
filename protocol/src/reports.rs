//! The owner's reports: what a period of conversations looked like, every
//! figure with the conversations it counts (`GET /api/reports`, and one row
//! per conversation as CSV at `GET /api/reports/conversations.csv`).

use serde::{Deserialize, Serialize};

use crate::RequeueReason;

/// How a spread of durations is summed up: how many, the median and the
/// 90th percentile (nearest rank: the smallest value at least that share of
/// the values are at or below).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    pub count: u64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

/// Shoppers who left the line before anyone took their chat.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct GaveUp {
    /// How long they had waited when they left.
    pub waited: Spread,
    /// Of those, how many were answered by email afterwards.
    pub answered_by_email: u64,
}

/// Conversations that went back to a line, for one reason.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RequeueCount {
    pub reason: RequeueReason,
    pub count: u64,
}

/// The shoppers' ratings of the period's chats.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RatingSummary {
    /// How many chats got 1, 2, 3, 4 and 5.
    pub by_score: [u64; 5],
    pub average: Option<f64>,
    /// Chats asked for a rating (they ended, and were not closed without asking).
    pub asked: u64,
}

/// One hour of the week (in the report's time zone): how many
/// conversations started in it, and how many agents were online in it on
/// average, over the period.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct HourOfWeek {
    /// 0 = Monday.
    pub weekday: u8,
    pub hour: u8,
    pub started: u64,
    pub agents_online: f64,
}

/// How the line's first estimate compared with the wait that followed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PromiseSummary {
    /// Waits promised and then ended by an agent taking the chat.
    pub count: u64,
    /// Of those, taken no later than promised (with a minute's grace).
    pub kept: u64,
    /// Real wait minus promised wait: the median (positive: longer than said).
    pub median_overrun_ms: Option<i64>,
}

/// One conversation of the period, with every figure the report counts it
/// in (one CSV row). Durations are in milliseconds; `None` where a figure
/// does not apply (not answered, not closed, never waited…).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportRow {
    pub conversation_id: String,
    pub site: String,
    pub team: Option<String>,
    /// The agent who last held it.
    pub agent: Option<String>,
    /// `chat` or `email`: how it started.
    pub channel: String,
    pub started_at_ms: i64,
    /// When it started, on the report's clock: `YYYY-MM-DD HH:MM`.
    pub started_local: String,
    /// When it started, on the report's clock: 0 = Monday.
    pub weekday: u8,
    pub hour: u8,
    /// Whether it started within its site's business hours (always, for a
    /// site without hours).
    pub in_business_hours: bool,
    /// Times it was opened again after a close.
    pub reopens: u32,
    /// Its openings (its start and each reopen) an agent answered, that
    /// were closed, and that were closed unanswered: what it adds to the
    /// period's first response, time to close and unanswered counts.
    pub answered_openings: u32,
    pub closed_openings: u32,
    pub unanswered_openings: u32,
    /// From its start to an agent's first reply (its first opening).
    pub first_response_ms: Option<i64>,
    /// From its start to its first close.
    pub time_to_close_ms: Option<i64>,
    /// From its start until an agent took it.
    pub waited_ms: Option<i64>,
    /// The shopper left the line (and did not come back) after this long.
    pub gave_up_after_ms: Option<i64>,
    /// Answered by email after the shopper left the line.
    pub answered_by_email: bool,
    /// The shopper closed the chat panel while waiting (the page still
    /// open), after this long in the line.
    pub closed_panel_after_ms: Option<i64>,
    /// Why it went back to a line, once per time.
    pub requeues: Vec<RequeueReason>,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
    /// The line's first estimate of the wait, and the wait from then.
    pub promised_wait_ms: Option<i64>,
    pub waited_after_promise_ms: Option<i64>,
}

/// A period's report. Figures over "openings" count a conversation's start
/// and each reopen separately, each from its own start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Report {
    /// The first and last day, `YYYY-MM-DD`, in `time_zone`.
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// Only conversations started within business hours are counted.
    pub business_hours: bool,
    pub started: u64,
    pub started_by_chat: u64,
    pub started_by_email: u64,
    /// Openings: starts and reopens.
    pub first_response: Spread,
    pub time_to_close: Spread,
    /// Openings closed without an agent's reply.
    pub unanswered: u64,
    pub waited: Spread,
    /// Shoppers who closed the chat panel while waiting (the page still
    /// open), and how long they had waited then.
    pub closed_panel_waiting: Spread,
    pub gave_up: GaveUp,
    pub requeues: Vec<RequeueCount>,
    pub ratings: RatingSummary,
    /// 7 × 24 cells, Monday 00:00 first.
    pub hours: Vec<HourOfWeek>,
    pub promise: PromiseSummary,
    /// Help articles read in the widget in the period (per site when a
    /// site is picked; teams and agents do not apply).
    #[serde(default)]
    pub help: crate::ArticleStats,
    pub rows: Vec<ReportRow>,
}

/// The longest period a report covers, in days.
pub const MAX_REPORT_DAYS: i64 = 366;
