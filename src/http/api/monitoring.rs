//! Monitoring as JSON (and CSV): a dealer's figures for a period, its monthly
//! trend and its alerts, and the portfolio of dealers in the user's scope.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::auth::Scope;
use crate::domain::monitoring::{self, Alert, Figures, Period, PeriodKind, Thresholds};
use crate::error::{AppError, AppResult};
use crate::http::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;
use crate::store::dealers::{self, Dealer, DealerFilter};
use crate::store::{monitoring as monitoring_store, now, totals};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// `month` (default), `quarter`, `year_to_date` or `rolling_12_months`.
    pub period: Option<String>,
    /// The day the figures are taken as of (default: today): the period containing it, to the end of that day.
    pub on: Option<NaiveDate>,
    /// Monthly trend length (default 12, at most 36).
    pub months: Option<usize>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Portfolio only: the figure to sort by (e.g. `loss_ratio`), and `desc` or `asc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
}

impl FiguresQuery {
    pub fn period(&self) -> AppResult<Period> {
        let kind = match self.period.as_deref().unwrap_or("month") {
            "month" => PeriodKind::Month,
            "quarter" => PeriodKind::Quarter,
            "year_to_date" => PeriodKind::YearToDate,
            "rolling_12_months" => PeriodKind::Rolling12Months,
            _ => {
                return Err(AppError::field(
                    "period",
                    "unknown",
                    "choose month, quarter, year_to_date or rolling_12_months",
                ));
            }
        };
        Ok(Period::to_date(kind, self.on()?))
    }

    /// The day asked about (default today), refused outside the years that months can be counted in.
    pub fn on(&self) -> AppResult<NaiveDate> {
        let on = self.on.unwrap_or_else(crate::store::quotes::today);
        if !(1900..=9998).contains(&on.year()) {
            return Err(AppError::field("on", "out_of_range", "a day between 1900-01-01 and 9998-12-31"));
        }
        Ok(on)
    }

    pub fn months(&self) -> usize {
        self.months.unwrap_or(12).clamp(1, 36)
    }
}

/// A dealer's dashboard data: the period's figures, the monthly trend and the alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    #[schema(value_type = Object)]
    pub figures: Figures,
    #[schema(value_type = Vec<Object>)]
    pub trend: Vec<Figures>,
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
    /// Claims per stage now.
    pub claims_by_stage: BTreeMap<String, u64>,
}

/// A dealer's dashboard from the stored monthly totals, with cycle times from its closed claims.
pub async fn dashboard(
    state: &AppState,
    scope: &Scope,
    dealer_id: i64,
    query: &FiguresQuery,
) -> AppResult<(Dealer, Dashboard)> {
    let dealer = dealers::get(&state.db, scope, dealer_id).await?;
    let period = query.period()?;
    let thresholds =
        monitoring_store::thresholds_for(&state.db, &[dealer_id]).await?.remove(&dealer_id).unwrap_or_default();
    let mut periods = Period::months_to_date(query.on()?, query.months());
    periods.push(period);
    let targets = state.config.service_targets();
    let bands = |_| thresholds.bands;
    let mut all = totals::figures(&state.db, &[dealer_id], &periods, &bands, true, &targets, now()).await?;
    let mut trend = all.remove(&dealer_id).unwrap_or_default();
    let figures = trend.pop().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no figures for {dealer_id}")))?;
    let alerts = monitoring::alerts(&figures, &trend, &thresholds);
    let claims_by_stage = monitoring_store::claims_by_stage(&state.db, dealer_id).await?;
    Ok((dealer, Dashboard { figures, trend, alerts, claims_by_stage }))
}

/// Every monitoring figure of a dealer for a period (DOMAIN.md's definitions), its monthly
/// trend and the alerts they raise.
#[utoipa::path(get, path = "/api/v1/dealers/{id}/figures", tag = "monitoring", params(FiguresQuery), security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn figures(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<FiguresQuery>,
) -> AppResult<Response> {
    let (dealer, dashboard) = dashboard(&state, &user.scope, id, &query).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(dashboard).into_response()),
        Some("csv") => {
            let rows: Vec<(String, &Figures)> = dashboard.trend.iter().map(|f| (dealer.code.clone(), f)).collect();
            csv_response(&rows, &format!("figures-{}.csv", dealer.code))
        }
        Some(_) => Err(AppError::field("format", "unknown", "json or csv")),
    }
}

/// One dealer in the portfolio.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioRow {
    pub dealer_id: i64,
    pub code: String,
    pub name: String,
    pub region: String,
    pub status: String,
    #[schema(value_type = Object)]
    pub figures: Figures,
    /// Monthly loss ratios, oldest first (for the small trend).
    #[schema(value_type = Vec<Option<String>>)]
    pub loss_ratio_trend: Vec<Option<rust_decimal::Decimal>>,
    pub alerts: usize,
}

/// The portfolio: every dealer in scope with its figures for the period, sorted.
pub async fn portfolio_rows(state: &AppState, scope: &Scope, query: &FiguresQuery) -> AppResult<Vec<PortfolioRow>> {
    let period = query.period()?;
    let dealers = dealers::all(&state.db, scope, &DealerFilter::default()).await?;
    let ids: Vec<i64> = dealers.iter().map(|d| d.id).collect();
    let own = monitoring_store::thresholds_for(&state.db, &ids).await?;
    let default = Thresholds::default();
    // Bands only colour the figures; each dealer's alerts use its own thresholds below.
    let mut periods = Period::months_to_date(query.on()?, 6);
    periods.push(period);
    let targets = state.config.service_targets();
    let bands = |_| default.bands;
    let mut all = totals::figures(&state.db, &ids, &periods, &bands, false, &targets, now()).await?;
    let mut rows: Vec<PortfolioRow> = Vec::with_capacity(dealers.len());
    for d in dealers {
        let thresholds = own.get(&d.id).unwrap_or(&default);
        let mut trend = all.remove(&d.id).unwrap_or_default();
        let figures = trend.pop().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no figures for {}", d.id)))?;
        let alerts = monitoring::alerts(&figures, &trend, thresholds).len();
        rows.push(PortfolioRow {
            dealer_id: d.id,
            code: d.code,
            name: d.name,
            region: d.region,
            status: d.status,
            loss_ratio_trend: trend.iter().map(|f| f.loss_ratio).collect(),
            figures,
            alerts,
        });
    }
    sort_rows(&mut rows, query.sort.as_deref().unwrap_or("loss_ratio"), query.dir.as_deref() != Some("asc"));
    Ok(rows)
}

/// The sortable columns.
pub const SORTABLE: [&str; 9] = [
    "code",
    "written_premium",
    "earned_premium",
    "loss_ratio",
    "commission_ratio",
    "variable_cost_ratio",
    "frequency",
    "renewal_rate",
    "alerts",
];

fn sort_rows(rows: &mut [PortfolioRow], by: &str, descending: bool) {
    use rust_decimal::Decimal;
    let key = |r: &PortfolioRow| -> Option<Decimal> {
        match by {
            "written_premium" => Some(r.figures.written_premium),
            "earned_premium" => Some(r.figures.earned_premium),
            "commission_ratio" => r.figures.commission_ratio,
            "variable_cost_ratio" => r.figures.variable_cost_ratio,
            "frequency" => r.figures.frequency,
            "renewal_rate" => r.figures.renewal_rate,
            "alerts" => Some(Decimal::from(r.alerts)),
            _ => r.figures.loss_ratio,
        }
    };
    if by == "code" {
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        if descending {
            rows.reverse();
        }
        return;
    }
    super::sort_gaps_last(rows, key, descending, |a, b| a.code.cmp(&b.code));
}

/// Every dealer in scope with its figures for the period, sortable; `?format=csv` downloads it.
#[utoipa::path(get, path = "/api/v1/portfolio", tag = "monitoring", params(FiguresQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<PortfolioRow>), (status = 422, body = crate::error::Problem)))]
pub async fn portfolio(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<FiguresQuery>,
) -> AppResult<Response> {
    let rows = portfolio_rows(&state, &user.scope, &query).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(rows).into_response()),
        Some("csv") => {
            let list: Vec<(String, &Figures)> = rows.iter().map(|r| (r.code.clone(), &r.figures)).collect();
            csv_response(&list, "portfolio.csv")
        }
        Some(_) => Err(AppError::field("format", "unknown", "json or csv")),
    }
}

fn ratio(value: Option<rust_decimal::Decimal>) -> String {
    value.map(|v| v.round_dp(6).to_string()).unwrap_or_default()
}

fn csv_response(rows: &[(String, &Figures)], file_name: &str) -> AppResult<Response> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let map = |e: csv::Error| AppError::Internal(e.into());
    writer
        .write_record([
            "车商",
            "期间",
            "签单保费",
            "已赚保费",
            "已赚车年",
            "已决赔款",
            "未决估损",
            "已发生赔款",
            "赔付率",
            "手续费",
            "手续费率",
            "变动成本率",
            "出险频度",
            "案均赔款",
            "送修数",
            "送修金额",
            "续保率",
            "倒挂",
        ])
        .map_err(map)?;
    for (code, f) in rows {
        writer
            .write_record([
                code.clone(),
                f.period.label(" 至 "),
                f.written_premium.to_string(),
                f.earned_premium.to_string(),
                f.exposure.round_dp(4).to_string(),
                f.paid.to_string(),
                f.case_reserves.to_string(),
                f.incurred.to_string(),
                ratio(f.loss_ratio),
                f.commission.to_string(),
                ratio(f.commission_ratio),
                ratio(f.variable_cost_ratio),
                ratio(f.frequency),
                f.severity.map(|s| s.round_dp(2).to_string()).unwrap_or_default(),
                f.referral_count.to_string(),
                f.referral_value.to_string(),
                ratio(f.renewal_rate),
                if f.upside_down { "是".into() } else { "否".into() },
            ])
            .map_err(map)?;
    }
    let bytes = writer.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ThresholdsBody {
    /// 0 while the dealer is on the defaults.
    pub version: i32,
    #[schema(value_type = Object)]
    pub thresholds: Thresholds,
}

/// A dealer's alert thresholds (DOMAIN.md's defaults until changed).
#[utoipa::path(get, path = "/api/v1/dealers/{id}/thresholds", tag = "monitoring", security(("bearer" = [])),
    responses((status = 200, body = ThresholdsBody), (status = 404, body = crate::error::Problem)))]
pub async fn thresholds(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ThresholdsBody>> {
    let (thresholds, version) = monitoring_store::thresholds(&state.db, &user.scope, id).await?;
    Ok(Json(ThresholdsBody { version, thresholds }))
}

/// Sets a dealer's alert thresholds at the version read.
#[utoipa::path(post, path = "/api/v1/dealers/{id}/thresholds", tag = "monitoring", request_body = ThresholdsBody, security(("bearer" = [])),
    responses((status = 200, body = ThresholdsBody), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn set_thresholds(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    crate::http::extract::RequestActor(actor): crate::http::extract::RequestActor,
    Path(id): Path<i64>,
    Json(body): Json<ThresholdsBody>,
) -> AppResult<Json<ThresholdsBody>> {
    let tx = crate::store::begin_write(&state.db).await?;
    let version =
        monitoring_store::set_thresholds(&tx, &actor, &user.scope, id, body.version, &body.thresholds).await?;
    tx.commit().await?;
    Ok(Json(ThresholdsBody { version, thresholds: body.thresholds }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    pub dealer_id: Option<i64>,
    /// Only alerts not yet acknowledged (default true).
    pub open: Option<bool>,
}

/// Raised alerts of the dealers in scope, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring", params(AlertQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<monitoring_store::StoredAlert>)))]
pub async fn alerts(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<AlertQuery>,
) -> AppResult<Json<Vec<monitoring_store::StoredAlert>>> {
    Ok(Json(monitoring_store::alerts(&state.db, &user.scope, query.dealer_id, query.open.unwrap_or(true)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledgement {
    pub version: i32,
    /// What was done or decided.
    pub note: String,
}

/// Acknowledges an alert with a note.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "monitoring", request_body = Acknowledgement, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    crate::http::extract::RequestActor(actor): crate::http::extract::RequestActor,
    Path(id): Path<i64>,
    Json(body): Json<Acknowledgement>,
) -> AppResult<axum::http::StatusCode> {
    let tx = crate::store::begin_write(&state.db).await?;
    monitoring_store::acknowledge(&tx, &actor, &user.scope, id, body.version, &body.note).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseRequest {
    /// A day of the month to judge (default: today).
    pub on: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Raised {
    pub raised: usize,
}

/// Raises the month's alerts for every dealer (each with its own thresholds); run daily.
#[utoipa::path(post, path = "/api/v1/alerts/raise", tag = "monitoring", request_body = RaiseRequest, security(("bearer" = [])),
    responses((status = 200, body = Raised)))]
pub async fn raise(
    State(state): State<AppState>,
    crate::http::extract::RequestActor(actor): crate::http::extract::RequestActor,
    Json(body): Json<RaiseRequest>,
) -> AppResult<Json<Raised>> {
    let tx = crate::store::begin_write(&state.db).await?;
    let on = FiguresQuery { on: body.on, ..FiguresQuery::default() }.on()?;
    let raised = monitoring_store::raise_alerts(&tx, &actor, on, &state.config.service_targets()).await?;
    tx.commit().await?;
    Ok(Json(Raised { raised }))
}
