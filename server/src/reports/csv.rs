//! A report's conversations as CSV: one row per conversation, every figure
//! a column, words people typed kept inert for spreadsheets.

use protocol::Report;

/// The CSV's columns, one row per conversation.
const CSV_HEADER: [&str; 23] = [
    "conversation_id",
    "site",
    "team",
    "agent",
    "channel",
    "started_at",
    "weekday",
    "hour",
    "in_business_hours",
    "reopens",
    "unanswered_openings",
    "first_response_secs",
    "time_to_close_secs",
    "waited_secs",
    "gave_up_after_secs",
    "answered_by_email",
    "closed_panel_after_secs",
    "requeues",
    "requeue_reasons",
    "rating",
    "rating_comment",
    "promised_wait_secs",
    "waited_after_promise_secs",
];

/// Words people typed, safe in a spreadsheet: a cell that would start a
/// formula (`=`, `+`, `-`, `@`, a tab or a return) is kept as text.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn secs(ms: Option<i64>) -> String {
    ms.map(|ms| format!("{}", ms.div_euclid(1000)))
        .unwrap_or_default()
}

/// The report's conversations as CSV, started time on the report's clock.
pub fn csv(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    for row in &report.rows {
        let reasons: Vec<&'static str> = row.requeues.iter().map(|r| (*r).into()).collect();
        out.write_record([
            row.conversation_id.clone(),
            inert(&row.site),
            inert(row.team.as_deref().unwrap_or_default()),
            inert(row.agent.as_deref().unwrap_or_default()),
            row.channel.clone(),
            row.started_local.clone(),
            row.weekday.to_string(),
            row.hour.to_string(),
            row.in_business_hours.to_string(),
            row.reopens.to_string(),
            row.unanswered_openings.to_string(),
            secs(row.first_response_ms),
            secs(row.time_to_close_ms),
            secs(row.waited_ms),
            secs(row.gave_up_after_ms),
            row.answered_by_email.to_string(),
            secs(row.closed_panel_after_ms),
            row.requeues.len().to_string(),
            reasons.join(";"),
            row.rating.map(|r| r.to_string()).unwrap_or_default(),
            inert(row.rating_comment.as_deref().unwrap_or_default()),
            secs(row.promised_wait_ms),
            secs(row.waited_after_promise_ms),
        ])?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}
