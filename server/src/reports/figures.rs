//! A report's figures: per conversation its openings (its start and each
//! reopen, each measured from itself), then the period's spreads, counts,
//! ratings, hours of the week and the line's promises from those rows.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use protocol::{
    BusinessHours, GaveUp, HourOfWeek, PromiseSummary, RatingSummary, Report, ReportRow,
    RequeueCount, RequeueReason, Spread,
};
use strum::IntoEnumIterator;

use crate::hours::{self, Availability};
use crate::store::{ConversationFacts, OpeningEvent, PresenceSpan, ReportFacts};

/// A promise counts as kept when the wait ran over it by at most this much.
const PROMISE_GRACE_MS: i64 = 60_000;
/// Real time zones move by quarter hours at most: within one such slice of
/// UTC the local hour does not change.
const SLICE_MS: i64 = 15 * 60 * 1000;
#[cfg(test)]
const HOUR_MS: i64 = 3_600_000;

/// What a report needs besides the facts.
pub struct ReportContext<'a> {
    pub from: String,
    pub to: String,
    pub zone_name: String,
    pub zone: TimeZone,
    pub from_ms: i64,
    pub to_ms: i64,
    pub business_hours: bool,
    pub site_names: &'a HashMap<String, String>,
    pub site_hours: &'a HashMap<String, BusinessHours>,
    pub team_names: &'a HashMap<String, String>,
    pub agent_names: &'a HashMap<String, String>,
}

/// One opening of a conversation: its start, an agent's first reply in
/// it, and its close.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Opening {
    start: i64,
    reply: Option<i64>,
    close: Option<i64>,
}

/// A conversation's openings: one from its start for a conversation never
/// reopened; else walked from its events in order, each reopen starting
/// the next.
fn openings_of(conversation: &ConversationFacts, events: &[&OpeningEvent]) -> Vec<Opening> {
    if conversation.reopens == 0 || events.is_empty() {
        return vec![Opening {
            start: conversation.created_at,
            reply: conversation.first_agent_reply_at,
            close: conversation.first_closed_at,
        }];
    }
    let mut openings = vec![Opening {
        start: conversation.created_at,
        ..Opening::default()
    }];
    for event in events {
        let Some(current) = openings.last_mut() else {
            break;
        };
        match event.kind.as_str() {
            "message" if current.reply.is_none() && current.close.is_none() => {
                current.reply = Some(event.at);
            }
            "closed" if current.close.is_none() => current.close = Some(event.at),
            "reopened" => openings.push(Opening {
                start: event.at,
                ..Opening::default()
            }),
            _ => {}
        }
    }
    openings
}

/// An opening closed before any agent replied in it.
fn unanswered(opening: &Opening) -> bool {
    opening.close.is_some() && opening.reply.is_none()
}

/// The value at rank `ceil(share × n)` of `values` (sorted here).
fn nearest_rank(values: &[i64], share: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (share * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

pub fn spread(values: &[i64]) -> Spread {
    Spread {
        count: values.len() as u64,
        median_ms: nearest_rank(values, 0.5),
        p90_ms: nearest_rank(values, 0.9),
    }
}

/// Monday-first weekday and hour of `ms` on `zone`'s clock.
fn weekday_hour(ms: i64, zone: &TimeZone) -> (u8, u8) {
    Timestamp::from_millisecond(ms)
        .map(|at| {
            let local = at.to_zoned(zone.clone());
            (
                u8::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0),
                u8::try_from(local.hour()).unwrap_or(0),
            )
        })
        .unwrap_or((0, 0))
}

/// Adds the milliseconds of `[start, end)` to the hours of the week they
/// fall in.
fn spread_over_week(cells: &mut [i64; 168], start: i64, end: i64, zone: &TimeZone) {
    let mut at = start;
    while at < end {
        let slice_end = ((at.div_euclid(SLICE_MS) + 1) * SLICE_MS).min(end);
        let (weekday, hour) = weekday_hour(at, zone);
        cells[usize::from(weekday) * 24 + usize::from(hour)] += slice_end - at;
        at = slice_end;
    }
}

/// Online time per agent as disjoint spans (an agent online on two
/// processes at once is online once), clipped to the period.
fn online_spans(presence: &[PresenceSpan], from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
    let mut by_agent: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for span in presence.iter().filter(|s| s.online) {
        let (start, end) = (span.started_at.max(from_ms), span.ended_at.min(to_ms));
        if start < end {
            by_agent
                .entry(&span.agent_id)
                .or_default()
                .push((start, end));
        }
    }
    let mut merged = Vec::new();
    for (_, mut spans) in by_agent {
        spans.sort_unstable();
        let mut current: Option<(i64, i64)> = None;
        for (start, end) in spans {
            current = match current {
                Some((s, e)) if start <= e => Some((s, e.max(end))),
                Some(done) => {
                    merged.push(done);
                    Some((start, end))
                }
                None => Some((start, end)),
            };
        }
        merged.extend(current);
    }
    merged
}

fn reason(name: &str) -> Option<RequeueReason> {
    RequeueReason::iter().find(|r| <&'static str>::from(*r) == name)
}

/// The report: rows first, then every figure from the rows kept.
pub fn compute(facts: ReportFacts, context: &ReportContext<'_>) -> Report {
    let zone = &context.zone;
    let mut opening_events: HashMap<&str, Vec<&OpeningEvent>> = HashMap::new();
    for event in &facts.openings {
        opening_events
            .entry(&event.conversation_id)
            .or_default()
            .push(event);
    }
    let mut requeues: HashMap<&str, Vec<RequeueReason>> = HashMap::new();
    for (conversation, name) in &facts.requeues {
        if let Some(reason) = reason(name) {
            requeues.entry(conversation).or_default().push(reason);
        }
    }
    // The last time each shopper left the line decides whether they gave
    // up; closing the panel (the page still open) is counted apart.
    let mut exits: HashMap<&str, &crate::store::ExitFacts> = HashMap::new();
    let mut panel_closes: HashMap<&str, i64> = HashMap::new();
    for exit in &facts.exits {
        if exit.closed_panel {
            panel_closes.insert(&exit.conversation_id, exit.left_at - exit.waiting_since);
        } else {
            exits.insert(&exit.conversation_id, exit);
        }
    }

    let mut rows = Vec::new();
    let mut openings = Vec::new();
    for conversation in &facts.conversations {
        let in_business_hours = context
            .site_hours
            .get(&conversation.site_id)
            .is_none_or(|h| {
                !matches!(
                    hours::availability(h, conversation.created_at),
                    Availability::Closed { .. }
                )
            });
        if context.business_hours && !in_business_hours {
            continue;
        }
        let events = opening_events
            .get(conversation.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let its_openings = openings_of(conversation, events);
        let first = its_openings.first().copied().unwrap_or_default();
        let gave_up = exits
            .get(conversation.id.as_str())
            .filter(|exit| !exit.returned);
        let (weekday, hour) = weekday_hour(conversation.created_at, zone);
        let count = |pick: &dyn Fn(&Opening) -> bool| {
            u32::try_from(its_openings.iter().filter(|o| pick(o)).count()).unwrap_or(u32::MAX)
        };
        let name_of = |names: &HashMap<String, String>, id: &Option<String>| {
            id.as_ref()
                .map(|id| names.get(id).cloned().unwrap_or_else(|| id.clone()))
        };
        rows.push(ReportRow {
            conversation_id: conversation.id.clone(),
            site: context
                .site_names
                .get(&conversation.site_id)
                .cloned()
                .unwrap_or_else(|| conversation.site_id.clone()),
            team: name_of(context.team_names, &conversation.team_id),
            agent: name_of(context.agent_names, &conversation.agent_id),
            channel: conversation
                .channel
                .clone()
                .unwrap_or_else(|| "chat".to_owned()),
            started_at_ms: conversation.created_at,
            started_local: Timestamp::from_millisecond(conversation.created_at)
                .map(|at| {
                    at.to_zoned(zone.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            weekday,
            hour,
            in_business_hours,
            reopens: u32::try_from(conversation.reopens).unwrap_or(u32::MAX),
            answered_openings: count(&|o| o.reply.is_some()),
            closed_openings: count(&|o| o.close.is_some()),
            unanswered_openings: count(&unanswered),
            first_response_ms: first.reply.map(|at| at - first.start),
            time_to_close_ms: first.close.map(|at| at - first.start),
            waited_ms: conversation
                .first_assigned_at
                .map(|at| at - conversation.created_at),
            gave_up_after_ms: gave_up.map(|exit| exit.left_at - exit.waiting_since),
            closed_panel_after_ms: panel_closes.get(conversation.id.as_str()).copied(),
            answered_by_email: gave_up.is_some_and(|exit| exit.mailed_after),
            requeues: requeues
                .remove(conversation.id.as_str())
                .unwrap_or_default(),
            rating: conversation
                .rating
                .as_ref()
                .and_then(|(score, _)| u8::try_from(*score).ok()),
            rating_comment: conversation
                .rating
                .as_ref()
                .and_then(|(_, comment)| comment.clone()),
            promised_wait_ms: conversation.promise.map(|(wait, _)| wait),
            waited_after_promise_ms: conversation
                .promise
                .zip(conversation.first_assigned_at)
                .map(|((_, said_at), assigned)| assigned - said_at)
                .filter(|wait| *wait >= 0),
        });
        openings.extend(its_openings);
    }
    summarise(rows, &openings, &facts, context)
}

fn summarise(
    rows: Vec<ReportRow>,
    openings: &[Opening],
    facts: &ReportFacts,
    context: &ReportContext<'_>,
) -> Report {
    let durations = |pick: &dyn Fn(&Opening) -> Option<i64>| -> Vec<i64> {
        openings.iter().filter_map(pick).collect()
    };
    let first_response = durations(&|o| o.reply.map(|at| at - o.start));
    let time_to_close = durations(&|o| o.close.map(|at| at - o.start));
    let unanswered = openings.iter().filter(|o| unanswered(o)).count() as u64;
    let waited: Vec<i64> = rows.iter().filter_map(|r| r.waited_ms).collect();
    let gave_up: Vec<i64> = rows.iter().filter_map(|r| r.gave_up_after_ms).collect();
    let closed_panel: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.closed_panel_after_ms)
        .collect();

    let mut by_score = [0_u64; 5];
    for score in rows.iter().filter_map(|r| r.rating) {
        if let Some(count) = by_score.get_mut(usize::from(score.saturating_sub(1))) {
            *count += 1;
        }
    }
    let rated: u64 = by_score.iter().sum();
    let total: u64 = by_score
        .iter()
        .zip(1_u64..)
        .map(|(count, score)| count * score)
        .sum();
    let asked_ids: std::collections::HashSet<&str> = facts
        .conversations
        .iter()
        .filter(|c| c.closed && c.rating_asked)
        .map(|c| c.id.as_str())
        .collect();

    let mut started = [0_u64; 168];
    for row in &rows {
        started[usize::from(row.weekday) * 24 + usize::from(row.hour)] += 1;
    }
    let mut agent_ms = [0_i64; 168];
    for (start, end) in online_spans(&facts.presence, context.from_ms, context.to_ms) {
        spread_over_week(&mut agent_ms, start, end, &context.zone);
    }
    let mut period_ms = [0_i64; 168];
    spread_over_week(
        &mut period_ms,
        context.from_ms,
        context.to_ms,
        &context.zone,
    );
    let hours = (0..168)
        .map(|cell| HourOfWeek {
            weekday: u8::try_from(cell / 24).unwrap_or(0),
            hour: u8::try_from(cell % 24).unwrap_or(0),
            started: started[cell],
            agents_online: if period_ms[cell] > 0 {
                agent_ms[cell] as f64 / period_ms[cell] as f64
            } else {
                0.0
            },
        })
        .collect();

    let promised: Vec<(i64, i64)> = rows
        .iter()
        .filter_map(|r| r.promised_wait_ms.zip(r.waited_after_promise_ms))
        .collect();
    let overruns: Vec<i64> = promised.iter().map(|(said, real)| real - said).collect();

    Report {
        from: context.from.clone(),
        to: context.to.clone(),
        time_zone: context.zone_name.clone(),
        business_hours: context.business_hours,
        started: rows.len() as u64,
        started_by_chat: rows.iter().filter(|r| r.channel != "email").count() as u64,
        started_by_email: rows.iter().filter(|r| r.channel == "email").count() as u64,
        first_response: spread(&first_response),
        time_to_close: spread(&time_to_close),
        unanswered,
        waited: spread(&waited),
        closed_panel_waiting: spread(&closed_panel),
        gave_up: GaveUp {
            waited: spread(&gave_up),
            answered_by_email: rows.iter().filter(|r| r.answered_by_email).count() as u64,
        },
        requeues: RequeueReason::iter()
            .map(|reason| RequeueCount {
                reason,
                count: rows
                    .iter()
                    .map(|r| r.requeues.iter().filter(|&&q| q == reason).count() as u64)
                    .sum(),
            })
            .collect(),
        ratings: RatingSummary {
            by_score,
            average: (rated > 0).then(|| total as f64 / rated as f64),
            asked: rows
                .iter()
                .filter(|r| asked_ids.contains(r.conversation_id.as_str()))
                .count() as u64,
        },
        hours,
        promise: PromiseSummary {
            count: promised.len() as u64,
            kept: overruns.iter().filter(|&&o| o <= PROMISE_GRACE_MS).count() as u64,
            median_overrun_ms: nearest_rank(&overruns, 0.5),
        },
        // Read apart (see `reports::build`).
        help: protocol::ArticleStats::default(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{ReportRefused, period, zone};

    #[test]
    fn nearest_rank_is_hand_checkable() {
        assert_eq!(spread(&[]), Spread::default());
        let s = spread(&[50, 10, 40, 20, 30]);
        assert_eq!((s.count, s.median_ms, s.p90_ms), (5, Some(30), Some(50)));
        let s = spread(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!((s.median_ms, s.p90_ms), (Some(5), Some(9)));
    }

    #[test]
    fn a_reopen_is_an_opening_of_its_own() {
        let conversation = ConversationFacts {
            id: "c".into(),
            site_id: "s".into(),
            team_id: None,
            agent_id: None,
            created_at: 0,
            channel: None,
            first_assigned_at: Some(10),
            first_agent_reply_at: Some(500),
            first_closed_at: Some(100),
            reopens: 1,
            rating_asked: true,
            closed: true,
            rating: None,
            promise: None,
        };
        let event = |kind: &str, at| OpeningEvent {
            conversation_id: "c".into(),
            kind: kind.into(),
            at,
        };
        let events = [
            event("closed", 100),
            event("reopened", 400),
            event("message", 500),
            event("message", 600),
            event("closed", 900),
        ];
        let refs: Vec<&OpeningEvent> = events.iter().collect();
        // The first opening was never answered: the reply after the reopen
        // belongs to the second, counted from the reopen, not the creation.
        assert_eq!(
            openings_of(&conversation, &refs),
            vec![
                Opening {
                    start: 0,
                    reply: None,
                    close: Some(100)
                },
                Opening {
                    start: 400,
                    reply: Some(500),
                    close: Some(900)
                },
            ]
        );
    }

    #[test]
    fn hours_of_the_week_follow_the_local_clock_across_daylight_saving() {
        let zone = zone("Europe/Amsterdam").expect("a zone");
        // The week of the 2026-10-25 change: Monday 19 to Sunday 25 October.
        let (from, to) = period("2026-10-19", "2026-10-25", &zone).expect("a week");
        assert_eq!(
            to - from,
            7 * 24 * HOUR_MS + HOUR_MS,
            "the night has an extra hour"
        );
        let mut cells = [0_i64; 168];
        spread_over_week(&mut cells, from, to, &zone);
        // Sunday 02:00–03:00 happens twice; every other hour once.
        assert_eq!(cells[6 * 24 + 2], 2 * HOUR_MS);
        assert_eq!(cells[0], HOUR_MS);
        assert_eq!(cells.iter().sum::<i64>(), to - from);
        assert_eq!(
            period("2026-10-25", "2026-10-19", &zone),
            Err(ReportRefused::Order)
        );
        assert_eq!(
            period("2026-1-1", "2026-10-19", &zone),
            Err(ReportRefused::Day)
        );
        assert_eq!(
            period("2025-01-01", "2026-12-31", &zone),
            Err(ReportRefused::TooLong)
        );
    }

    #[test]
    fn an_agent_on_two_processes_is_online_once() {
        let span = |start, end| PresenceSpan {
            agent_id: "a".into(),
            online: true,
            started_at: start,
            ended_at: end,
        };
        let mut spans = online_spans(&[span(0, 100), span(50, 150), span(200, 300)], 0, 250);
        spans.sort_unstable();
        assert_eq!(spans, vec![(0, 150), (200, 250)]);
    }
}
