//! The owner's reports over HTTP: `GET /api/reports` (the figures and the
//! conversations behind them) and `GET /api/reports/conversations.csv`
//! (one row per conversation, every figure a column), both under the same
//! query: `from`, `to` (`YYYY-MM-DD`, the last day included), `zone` (IANA;
//! default: the account's first site's business-hours zone, else UTC),
//! `site`, `team`, `agent`, `business_hours=true`. Owners only; only the
//! account's own conversations are read.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::{Timestamp, ToSpan};
use protocol::Report;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::CurrentOwner;
use super::state::AppState;
use crate::reports::{self, ReportContext};
use crate::store::ReportScope;

/// Days a report covers when the query names none: the last week.
const DEFAULT_DAYS: i64 = 7;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    zone: Option<String>,
    site: Option<String>,
    team: Option<String>,
    agent: Option<String>,
    #[serde(default)]
    business_hours: bool,
}

/// `GET /api/reports`.
pub(super) async fn report(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Query(query): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(build(&state, &owner.account_id, query).await?))
}

/// `GET /api/reports/conversations.csv`.
pub(super) async fn csv(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let report = build(&state, &owner.account_id, query).await?;
    let body = reports::csv(&report).map_err(|e| {
        tracing::error!(%e, "report CSV");
        ApiError::Internal(e.to_string())
    })?;
    let name = format!(
        "attachment; filename=\"rapport-{}-{}.csv\"",
        report.from, report.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

async fn build(state: &AppState, account_id: &str, query: ReportQuery) -> Result<Report, ApiError> {
    let sites = state.store.sites_of_account(account_id).await?;
    let zone_name = query
        .zone
        .clone()
        .filter(|z| !z.is_empty())
        .or_else(|| {
            sites
                .iter()
                .find_map(|s| s.settings.hours.as_ref().map(|h| h.time_zone.clone()))
        })
        .unwrap_or_else(|| "UTC".to_owned());
    let zone = reports::zone(&zone_name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let today = Timestamp::now().to_zoned(zone.clone()).date();
    let to = query.to.clone().unwrap_or_else(|| today.to_string());
    let from = match query.from.clone() {
        Some(from) => from,
        None => to
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|to| to.checked_sub((DEFAULT_DAYS - 1).days()).ok())
            .map_or_else(|| to.clone(), |d| d.to_string()),
    };
    let (from_ms, to_ms) =
        reports::period(&from, &to, &zone).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let teams = state.store.teams_of_account(account_id).await?;
    let people = state.store.people_of_account(account_id).await?;
    // The heat map's online hours are the team's agents' when a team is
    // picked, one agent's when an agent is.
    let agents: Vec<String> = match (&query.agent, &query.team) {
        (Some(agent), _) => vec![agent.clone()],
        (None, Some(team)) => teams
            .iter()
            .find(|t| &t.id == team)
            .map(|t| t.member_ids.clone())
            .unwrap_or_else(|| vec![String::new()]),
        (None, None) => Vec::new(),
    };
    let scope = ReportScope {
        account_id: account_id.to_owned(),
        from_ms,
        to_ms,
        site_id: query.site.clone().filter(|s| !s.is_empty()),
        team_id: query.team.clone().filter(|s| !s.is_empty()),
        agent_id: query.agent.clone().filter(|s| !s.is_empty()),
    };
    let facts = state.store.report_facts(&scope, &agents).await?;
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
    Ok(reports::compute(
        facts,
        &ReportContext {
            from,
            to,
            zone_name,
            zone,
            from_ms,
            to_ms,
            business_hours: query.business_hours,
            site_names: &site_names,
            site_hours: &site_hours,
            team_names: &team_names,
            agent_names: &agent_names,
        },
    ))
}
