//! The owner's reports, computed from the recorded history the store reads
//! ([`crate::store::ReportFacts`]): figures per conversation first (one
//! row each, the CSV's), then the period's figures from those rows, so a
//! figure and the conversations it counts always agree. Days and hours are
//! on the report's clock (an IANA time zone), daylight saving included.
//! `figures` computes, `csv` writes the rows; this module reads the
//! request and the account's names.

mod csv;
mod figures;

use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, civil::Date};
use protocol::{MAX_REPORT_DAYS, Report};
use serde::Deserialize;

use crate::store::{ReportScope, Store, StoreError};
pub use csv::csv;
pub use figures::{ReportContext, compute, spread};

/// Days a report covers when the request names none: the last week.
const DEFAULT_DAYS: i64 = 7;

/// Why a report was not made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportRefused {
    #[error("a day is written YYYY-MM-DD")]
    Day,
    #[error("the first day comes before the last")]
    Order,
    #[error("a report covers at most {MAX_REPORT_DAYS} days")]
    TooLong,
    #[error("not a time zone: {0}")]
    Zone(String),
}

/// The period's bounds: from the first day's midnight to the midnight after
/// the last day, on `zone`'s clock, as Unix ms.
pub fn period(from: &str, to: &str, zone: &TimeZone) -> Result<(i64, i64), ReportRefused> {
    let from: Date = from.parse().map_err(|_| ReportRefused::Day)?;
    let to: Date = to.parse().map_err(|_| ReportRefused::Day)?;
    if to < from {
        return Err(ReportRefused::Order);
    }
    let days = from.until(to).map_err(|_| ReportRefused::Day)?.get_days();
    if i64::from(days) >= MAX_REPORT_DAYS {
        return Err(ReportRefused::TooLong);
    }
    let midnight = |date: Date| {
        date.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| ReportRefused::Day)
    };
    let after = to.checked_add(1.day()).map_err(|_| ReportRefused::Day)?;
    Ok((midnight(from)?, midnight(after)?))
}

/// A time zone by its IANA name.
pub fn zone(name: &str) -> Result<TimeZone, ReportRefused> {
    TimeZone::get(name).map_err(|_| ReportRefused::Zone(name.to_owned()))
}

/// What an owner asks for (`GET /api/reports?…`): the first and last day
/// (`YYYY-MM-DD`; default the last week), the time zone (default the
/// account's first site's business-hours zone, else UTC), one site, team or
/// agent, and whether only business hours count.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ReportRequest {
    pub from: Option<String>,
    pub to: Option<String>,
    pub zone: Option<String>,
    pub site: Option<String>,
    pub team: Option<String>,
    pub agent: Option<String>,
    #[serde(default)]
    pub business_hours: bool,
}

/// The report `request` asks of `account_id`'s history.
pub async fn build(
    store: &Store,
    account_id: &str,
    request: ReportRequest,
) -> Result<Result<Report, ReportRefused>, StoreError> {
    let given = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let sites = store.sites_of_account(account_id).await?;
    let zone_name = given(&request.zone)
        .or_else(|| {
            sites
                .iter()
                .find_map(|s| s.settings.hours.as_ref().map(|h| h.time_zone.clone()))
        })
        .unwrap_or_else(|| "UTC".to_owned());
    let zone = match zone(&zone_name) {
        Ok(zone) => zone,
        Err(refused) => return Ok(Err(refused)),
    };
    let today = Timestamp::now().to_zoned(zone.clone()).date();
    let to = given(&request.to).unwrap_or_else(|| today.to_string());
    let from = given(&request.from).unwrap_or_else(|| {
        to.parse::<Date>()
            .ok()
            .and_then(|to| to.checked_sub((DEFAULT_DAYS - 1).days()).ok())
            .map_or_else(|| to.clone(), |d| d.to_string())
    });
    let (from_ms, to_ms) = match period(&from, &to, &zone) {
        Ok(bounds) => bounds,
        Err(refused) => return Ok(Err(refused)),
    };
    let teams = store.teams_of_account(account_id).await?;
    let people = store.people_of_account(account_id).await?;
    let scope = ReportScope {
        account_id: account_id.to_owned(),
        from_ms,
        to_ms,
        site_id: given(&request.site),
        team_id: given(&request.team),
        agent_id: given(&request.agent),
    };
    // The heat map's online hours are the team's agents' when a team is
    // picked, one agent's when an agent is.
    let agents: Vec<String> = match (&scope.agent_id, &scope.team_id) {
        (Some(agent), _) => vec![agent.clone()],
        (None, Some(team)) => teams
            .iter()
            .find(|t| &t.id == team)
            .map_or_else(|| vec![String::new()], |t| t.member_ids.clone()),
        (None, None) => Vec::new(),
    };
    let facts = store.report_facts(&scope, &agents).await?;
    let site_names: HashMap<String, String> = sites
        .iter()
        .map(|s| (s.id.clone(), s.name.clone()))
        .collect();
    let site_hours = sites
        .iter()
        .filter_map(|s| s.settings.hours.clone().map(|h| (s.id.clone(), h)))
        .collect();
    let team_names = teams.into_iter().map(|t| (t.id, t.name)).collect();
    let agent_names = people.into_iter().map(|p| (p.id, p.name)).collect();
    let help = store
        .reading_totals(account_id, scope.site_id.as_deref(), from_ms, to_ms)
        .await?;
    let mut report = compute(
        facts,
        &ReportContext {
            from,
            to,
            zone_name,
            zone,
            from_ms,
            to_ms,
            business_hours: request.business_hours,
            site_names: &site_names,
            site_hours: &site_hours,
            team_names: &team_names,
            agent_names: &agent_names,
        },
    );
    report.help = help;
    Ok(Ok(report))
}
