//! Business hours: whether a site's team is in now, and when it is back,
//! in the site's own time zone (daylight saving and holidays included).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use protocol::BusinessHours;

/// Spans one site may list; more is a mistake, not a schedule.
const MAX_SPANS: usize = 50;
const MAX_HOLIDAYS: usize = 400;
/// How far ahead to look for the next opening (holidays can run long).
const LOOKAHEAD_DAYS: i64 = 400;

/// Whether the team is in at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Open,
    /// Closed; back at this Unix ms, if any opening is scheduled.
    Closed {
        back_at_ms: Option<i64>,
    },
}

/// Checks a schedule; the message says what to fix.
pub fn validate(hours: &BusinessHours) -> Result<(), String> {
    TimeZone::get(&hours.time_zone).map_err(|_| {
        format!(
            "\"{}\" is not a time zone name like Europe/Amsterdam.",
            hours.time_zone
        )
    })?;
    if hours.weekly.len() > MAX_SPANS {
        return Err(format!("At most {MAX_SPANS} opening spans."));
    }
    if hours.holidays.len() > MAX_HOLIDAYS {
        return Err(format!("At most {MAX_HOLIDAYS} holidays."));
    }
    for span in &hours.weekly {
        if span.day > 6 {
            return Err(format!(
                "Day {} does not exist: 0 is Monday, 6 is Sunday.",
                span.day
            ));
        }
        let opens = minutes(&span.opens)?;
        let closes = minutes(&span.closes)?;
        if closes <= opens {
            return Err(format!(
                "A span must close after it opens ({}–{}).",
                span.opens, span.closes
            ));
        }
    }
    for holiday in &hours.holidays {
        holiday
            .parse::<Date>()
            .map_err(|_| format!("\"{holiday}\" is not a date like 2026-12-25."))?;
    }
    Ok(())
}

/// "09:30" → 570; "24:00" (end of day) is allowed.
fn minutes(text: &str) -> Result<i64, String> {
    let bad = || format!("\"{text}\" is not a time like 09:00 or 17:30.");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Whether the team is in at `now_ms`, and if not, when it is back. A
/// schedule that does not validate counts as always open: a typo must not
/// turn shoppers away.
pub fn availability(hours: &BusinessHours, now_ms: i64) -> Availability {
    let (Ok(tz), Ok(now)) = (
        TimeZone::get(&hours.time_zone),
        Timestamp::from_millisecond(now_ms),
    ) else {
        return Availability::Open;
    };
    if validate(hours).is_err() {
        return Availability::Open;
    }
    let today = now.to_zoned(tz.clone()).date();
    let holidays: Vec<Date> = hours
        .holidays
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    for offset in 0..LOOKAHEAD_DAYS {
        let Ok(date) = today.checked_add(offset.days()) else {
            break;
        };
        if holidays.contains(&date) {
            continue;
        }
        let weekday = date.weekday().to_monday_zero_offset();
        let mut spans: Vec<(i64, i64)> = hours
            .weekly
            .iter()
            .filter(|span| i8::try_from(span.day).is_ok_and(|d| d == weekday))
            .filter_map(|span| Some((minutes(&span.opens).ok()?, minutes(&span.closes).ok()?)))
            .collect();
        spans.sort_unstable();
        for (opens, closes) in spans {
            let (Some(open_at), Some(close_at)) = (at(&tz, date, opens), at(&tz, date, closes))
            else {
                continue;
            };
            if open_at <= now_ms && now_ms < close_at {
                return Availability::Open;
            }
            if open_at > now_ms {
                return Availability::Closed {
                    back_at_ms: Some(open_at),
                };
            }
        }
    }
    Availability::Closed { back_at_ms: None }
}

/// "Monday 09:00": `at_ms` on the clock of `time_zone` (an IANA name; the
/// shopper's, so they need not convert), with the weekday named from
/// `weekdays` (Monday first). `None` for an unknown zone.
pub fn weekday_and_time(at_ms: i64, time_zone: &str, weekdays: &[&str; 7]) -> Option<String> {
    let tz = TimeZone::get(time_zone).ok()?;
    let local = Timestamp::from_millisecond(at_ms).ok()?.to_zoned(tz);
    let day = usize::try_from(local.weekday().to_monday_zero_offset()).ok()?;
    Some(format!(
        "{} {:02}:{:02}",
        weekdays.get(day)?,
        local.hour(),
        local.minute()
    ))
}

/// The instant `minutes` after midnight on `date` in `tz`, Unix ms. A time
/// skipped by daylight saving resolves to just after the jump.
fn at(tz: &TimeZone, date: Date, minutes: i64) -> Option<i64> {
    let midnight = date.at(0, 0, 0, 0);
    let local = midnight.checked_add(minutes.minutes()).ok()?;
    Some(
        local
            .to_zoned(tz.clone())
            .ok()?
            .timestamp()
            .as_millisecond(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::OpeningSpan;

    fn weekdays_nine_to_five(holidays: &[&str]) -> BusinessHours {
        BusinessHours {
            time_zone: "Europe/Amsterdam".to_owned(),
            weekly: (0..5)
                .map(|day| OpeningSpan {
                    day,
                    opens: "09:00".to_owned(),
                    closes: "17:00".to_owned(),
                })
                .collect(),
            holidays: holidays.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>()
            .expect("a timestamp")
            .as_millisecond()
    }

    #[test]
    fn open_inside_hours_in_the_sites_zone() {
        // Monday 2026-11-23 10:00 in Amsterdam is 09:00 UTC.
        let hours = weekdays_nine_to_five(&[]);
        assert_eq!(
            availability(&hours, ms("2026-11-23T09:00:00Z")),
            Availability::Open
        );
        assert_eq!(
            availability(&hours, ms("2026-11-23T07:59:00Z")),
            Availability::Closed {
                back_at_ms: Some(ms("2026-11-23T08:00:00Z"))
            }
        );
    }

    #[test]
    fn after_friday_close_back_on_monday_morning() {
        let hours = weekdays_nine_to_five(&[]);
        assert_eq!(
            availability(&hours, ms("2026-11-27T16:00:00Z")),
            Availability::Closed {
                back_at_ms: Some(ms("2026-11-30T08:00:00Z"))
            }
        );
    }

    #[test]
    fn holidays_are_skipped_and_summer_time_counts() {
        // Christmas on a Friday; back Monday the 28th.
        let hours = weekdays_nine_to_five(&["2026-12-25"]);
        assert_eq!(
            availability(&hours, ms("2026-12-24T18:00:00Z")),
            Availability::Closed {
                back_at_ms: Some(ms("2026-12-28T08:00:00Z"))
            }
        );
        // In July Amsterdam is UTC+2: 09:00 local is 07:00 UTC.
        assert_eq!(
            availability(&hours, ms("2026-07-06T06:30:00Z")),
            Availability::Closed {
                back_at_ms: Some(ms("2026-07-06T07:00:00Z"))
            }
        );
    }

    #[test]
    fn the_return_is_told_on_the_shoppers_own_clock() {
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let monday_nine_in_amsterdam = ms("2026-11-30T08:00:00Z");
        assert_eq!(
            weekday_and_time(monday_nine_in_amsterdam, "Europe/Amsterdam", &days).as_deref(),
            Some("Mon 09:00")
        );
        assert_eq!(
            weekday_and_time(monday_nine_in_amsterdam, "America/New_York", &days).as_deref(),
            Some("Mon 03:00")
        );
        assert_eq!(weekday_and_time(0, "Nowhere/Land", &days), None);
    }

    #[test]
    fn no_spans_means_closed_with_no_return() {
        let hours = BusinessHours {
            time_zone: "UTC".to_owned(),
            weekly: Vec::new(),
            holidays: Vec::new(),
        };
        assert_eq!(
            availability(&hours, ms("2026-11-23T09:00:00Z")),
            Availability::Closed { back_at_ms: None }
        );
    }

    #[test]
    fn bad_schedules_are_refused_with_a_reason() {
        let mut hours = weekdays_nine_to_five(&[]);
        hours.time_zone = "Mars/Olympus".to_owned();
        assert!(validate(&hours).expect_err("refused").contains("time zone"));
        let mut hours = weekdays_nine_to_five(&["25-12-2026"]);
        assert!(validate(&hours).expect_err("refused").contains("date"));
        hours.holidays.clear();
        hours.weekly[0].closes = "08:00".to_owned();
        assert!(
            validate(&hours)
                .expect_err("refused")
                .contains("close after")
        );
        hours.weekly[0].closes = "9am".to_owned();
        assert!(validate(&hours).expect_err("refused").contains("time like"));
        hours.weekly[0].closes = "24:00".to_owned();
        hours.weekly[0].day = 7;
        assert!(validate(&hours).expect_err("refused").contains("Monday"));
        hours.weekly[0].day = 6;
        assert!(validate(&hours).is_ok());
    }
}
