//! Commission as JSON: filed rate ranges, dealer agreements, the ledger, monthly
//! statements (with CSV and Excel exports), month closing and reconciliation.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::commission::{Difference, FiledRates, StatementStatus};
use crate::error::{AppError, AppResult};
use crate::http::extract::{CurrentUser, Json, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::commission::{self, Agreement, AgreementRequest, FiledRateVersion, LedgerEntry, Statement};

/// The versions of the insurer's filed commission ranges (报行合一), newest first.
#[utoipa::path(get, path = "/api/v1/filed-rates", tag = "commission", security(("bearer" = [])),
    responses((status = 200, body = Vec<FiledRateVersion>)))]
pub async fn filed_rates(State(state): State<AppState>) -> AppResult<Json<Vec<FiledRateVersion>>> {
    Ok(Json(commission::filed_versions(&state.db).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiledRatesRequest {
    pub effective_from: NaiveDate,
    #[schema(value_type = Object)]
    pub document: FiledRates,
    #[serde(default)]
    pub note: String,
}

/// Adds a version of the filed ranges, in force from its date; agreements are checked against it.
#[utoipa::path(post, path = "/api/v1/filed-rates", tag = "commission", request_body = FiledRatesRequest, security(("bearer" = [])),
    responses((status = 201, body = FiledRateVersion), (status = 422, body = crate::error::Problem)))]
pub async fn create_filed_rates(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Json(request): Json<FiledRatesRequest>,
) -> AppResult<Response> {
    let tx = begin_write(&state.db).await?;
    let version =
        commission::create_filed(&tx, &actor, request.effective_from, &request.document, &request.note).await?;
    tx.commit().await?;
    Ok((axum::http::StatusCode::CREATED, Json(version)).into_response())
}

/// A dealer's commission agreements, newest first.
#[utoipa::path(get, path = "/api/v1/dealers/{id}/agreements", tag = "commission", security(("bearer" = [])),
    responses((status = 200, body = Vec<Agreement>), (status = 404, body = crate::error::Problem)))]
pub async fn agreements(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Agreement>>> {
    Ok(Json(commission::agreements(&state.db, &user.scope, id).await?))
}

/// Adds an agreement for a product and business type from a date. Refused, naming the range,
/// when a rate is outside the insurer's filed range for the dealer's region; an earlier
/// open-ended agreement is closed the day the new one starts.
#[utoipa::path(post, path = "/api/v1/dealers/{id}/agreements", tag = "commission", request_body = AgreementRequest, security(("bearer" = [])),
    responses((status = 201, body = Agreement), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_agreement(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<AgreementRequest>,
) -> AppResult<Response> {
    let tx = begin_write(&state.db).await?;
    let agreement = commission::create_agreement(&tx, &actor, &user.scope, id, &request).await?;
    tx.commit().await?;
    Ok((axum::http::StatusCode::CREATED, Json(agreement)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// First day (default: the first of this month).
    pub from: Option<NaiveDate>,
    /// Day after the last (default: the first of next month).
    pub to: Option<NaiveDate>,
    /// `csv` for a download.
    pub format: Option<String>,
}

/// A dealer's ledger entries booked in a period.
#[utoipa::path(get, path = "/api/v1/dealers/{id}/ledger", tag = "commission", params(LedgerQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<LedgerEntry>), (status = 404, body = crate::error::Problem)))]
pub async fn ledger(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<LedgerQuery>,
) -> AppResult<Response> {
    let month = commission::month_of(crate::store::quotes::today());
    let from = query.from.unwrap_or(month);
    let to = query.to.unwrap_or_else(|| commission::next_month(month));
    if to <= from {
        return Err(AppError::field("to", "before_from", "the end must be after the start"));
    }
    let entries = commission::ledger(&state.db, &user.scope, id, from, to).await?;
    match query.format.as_deref() {
        Some("csv") => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let map = |e: csv::Error| AppError::Internal(e.into());
            writer.write_record(commission::STATEMENT_HEADERS).map_err(map)?;
            for entry in &entries {
                writer.write_record(commission::statement_row(entry)).map_err(map)?;
            }
            let bytes = writer.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            Ok(download(bytes, "text/csv; charset=utf-8", &format!("ledger-{id}-{from}-{to}.csv")))
        }
        None | Some("json") => Ok(Json(entries).into_response()),
        Some(_) => Err(AppError::field("format", "unknown", "json or csv")),
    }
}

fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// A dealer's monthly statements, newest first (without their lines).
#[utoipa::path(get, path = "/api/v1/dealers/{id}/statements", tag = "commission", security(("bearer" = [])),
    responses((status = 200, body = Vec<Statement>), (status = 404, body = crate::error::Problem)))]
pub async fn statements(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Statement>>> {
    Ok(Json(commission::statements(&state.db, &user.scope, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// `json` (default), `csv` or `xlsx` (Chinese headers).
    pub format: Option<String>,
}

/// A statement with every ledger line; `?format=csv` or `?format=xlsx` downloads it.
#[utoipa::path(get, path = "/api/v1/statements/{id}", tag = "commission", params(StatementQuery), security(("bearer" = [])),
    responses((status = 200, body = Statement), (status = 404, body = crate::error::Problem)))]
pub async fn statement(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<StatementQuery>,
) -> AppResult<Response> {
    let statement = commission::statement(&state.db, &user.scope, id).await?;
    let name = format!("statement-{}-{}", statement.dealer_code, statement.month.format("%Y-%m"));
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(statement).into_response()),
        Some("csv") => {
            Ok(download(commission::statement_csv(&statement)?, "text/csv; charset=utf-8", &format!("{name}.csv")))
        }
        Some("xlsx") => Ok(download(
            commission::statement_xlsx(&statement)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("{name}.xlsx"),
        )),
        Some(_) => Err(AppError::field("format", "unknown", "json, csv or xlsx")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementChange {
    pub version: i32,
}

/// draft → confirmed.
#[utoipa::path(post, path = "/api/v1/statements/{id}/confirm", tag = "commission", request_body = StatementChange, security(("bearer" = [])),
    responses((status = 200, body = Statement), (status = 409, body = crate::error::Problem)))]
pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<StatementChange>,
) -> AppResult<Json<Statement>> {
    advance(state, &user.scope, actor, id, request.version, StatementStatus::Confirmed).await
}

/// confirmed → paid.
#[utoipa::path(post, path = "/api/v1/statements/{id}/pay", tag = "commission", request_body = StatementChange, security(("bearer" = [])),
    responses((status = 200, body = Statement), (status = 409, body = crate::error::Problem)))]
pub async fn pay(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<StatementChange>,
) -> AppResult<Json<Statement>> {
    advance(state, &user.scope, actor, id, request.version, StatementStatus::Paid).await
}

async fn advance(
    state: AppState,
    scope: &crate::domain::auth::Scope,
    actor: crate::store::audit::Actor,
    id: i64,
    version: i32,
    next: StatementStatus,
) -> AppResult<Json<Statement>> {
    let tx = begin_write(&state.db).await?;
    let statement = commission::advance_statement(&tx, &actor, scope, id, version, next).await?;
    tx.commit().await?;
    Ok(Json(statement))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseMonthRequest {
    /// Any day of the month to close.
    pub month: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClosedMonth {
    pub month: NaiveDate,
    pub statements: Vec<i64>,
}

/// Closes a month that is over: volume-tier true-ups, then a draft statement per dealer.
#[utoipa::path(post, path = "/api/v1/commission/close-month", tag = "commission", request_body = CloseMonthRequest, security(("bearer" = [])),
    responses((status = 200, body = ClosedMonth), (status = 422, body = crate::error::Problem)))]
pub async fn close_month(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Json(request): Json<CloseMonthRequest>,
) -> AppResult<Json<ClosedMonth>> {
    let tx = begin_write(&state.db).await?;
    let statements = commission::close_month(&tx, &actor, request.month).await?;
    tx.commit().await?;
    Ok(Json(ClosedMonth { month: commission::month_of(request.month), statements }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    pub reconciled: bool,
    #[schema(value_type = Vec<Object>)]
    pub differences: Vec<Difference>,
}

/// Every statement against the ledger, to the fen.
#[utoipa::path(get, path = "/api/v1/commission/reconcile", tag = "commission", security(("bearer" = [])),
    responses((status = 200, body = Reconciliation)))]
pub async fn reconcile(State(state): State<AppState>) -> AppResult<Json<Reconciliation>> {
    let differences = commission::reconcile(&state.db).await?;
    Ok(Json(Reconciliation { reconciled: differences.is_empty(), differences }))
}
