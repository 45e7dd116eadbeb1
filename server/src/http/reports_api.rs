//! The owner's reports over HTTP: `GET /api/reports` (the figures and the
//! conversations behind them) and `GET /api/reports/conversations.csv`
//! (one row per conversation, every figure a column), both under the same
//! query (see [`ReportRequest`]). Owners only; only the account's own
//! conversations are read.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use protocol::Report;

use super::error::ApiError;
use super::extract::CurrentOwner;
use super::state::AppState;
use crate::reports::{self, ReportRequest};

/// `GET /api/reports`.
pub(super) async fn report(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Query(request): Query<ReportRequest>,
) -> Result<Json<Report>, ApiError> {
    Ok(Json(build(&state, &owner.account_id, request).await?))
}

/// `GET /api/reports/conversations.csv`.
pub(super) async fn csv(
    State(state): State<AppState>,
    CurrentOwner(owner): CurrentOwner,
    Query(request): Query<ReportRequest>,
) -> Result<Response, ApiError> {
    let report = build(&state, &owner.account_id, request).await?;
    let body = reports::csv(&report).map_err(|e| ApiError::Internal(e.to_string()))?;
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

async fn build(
    state: &AppState,
    account_id: &str,
    request: ReportRequest,
) -> Result<Report, ApiError> {
    reports::build(&state.store, account_id, request)
        .await?
        .map_err(|refused| ApiError::bad_request(refused.to_string()))
}
