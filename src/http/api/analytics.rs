//! Dealer analytics as JSON (and CSV): every dealer's figures, ultimate loss ratio and composite score for a
//! period, and one dealer's position among its peers with its development to ultimate.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::analysis::{DealerAnalytics, DealerRow, Snapshot};
use crate::domain::monitoring::Period;
use crate::error::{AppError, AppResult};
use crate::http::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// `month`, `quarter`, `year_to_date`, `rolling_12_months` (default), or a named period: `2026-10`,
    /// `2026Q3`, `2026`.
    pub period: Option<String>,
    /// A day inside the period (default: today).
    pub on: Option<NaiveDate>,
    /// The column to sort by (default `composite_score`), and `desc` (default) or `asc`.
    pub sort: Option<String>,
    pub dir: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

impl AnalyticsQuery {
    pub fn period(&self) -> AppResult<Period> {
        let text = self.period.as_deref().unwrap_or("rolling_12_months");
        crate::analysis::parse_period(text, self.on.unwrap_or_else(crate::store::quotes::today)).ok_or_else(|| {
            AppError::field(
                "period",
                "unknown",
                "choose month, quarter, year_to_date, rolling_12_months, or name one like 2026-10, 2026Q3, 2026",
            )
        })
    }

    pub fn sort(&self) -> &str {
        self.sort.as_deref().filter(|s| SORTABLE.contains(s)).unwrap_or("composite_score")
    }

    pub fn descending(&self) -> bool {
        self.dir.as_deref() != Some("asc")
    }
}

/// The columns the portfolio sorts by.
pub const SORTABLE: [&str; 9] = [
    "composite_score",
    "code",
    "written_premium",
    "loss_ratio",
    "ultimate_loss_ratio",
    "variable_cost_ratio",
    "frequency",
    "renewal_rate",
    "report_to_close_hours",
];

/// Sorts rows by a column; dealers without the figure go last either way.
pub fn sort_rows(rows: &mut [DealerRow], by: &str, descending: bool) {
    if by == "code" {
        rows.sort_by(|a, b| if descending { b.code.cmp(&a.code) } else { a.code.cmp(&b.code) });
        return;
    }
    let key = |r: &DealerRow| -> Option<f64> {
        match by {
            "written_premium" => r.written_premium.to_f64(),
            "loss_ratio" => r.loss_ratio,
            "ultimate_loss_ratio" => r.ultimate_loss_ratio,
            "variable_cost_ratio" => r.variable_cost_ratio,
            "frequency" => r.frequency,
            "renewal_rate" => r.renewal_rate,
            "report_to_close_hours" => r.report_to_close_hours,
            _ => r.composite_score,
        }
    };
    super::sort_gaps_last(rows, key, descending, |a, b| a.code.cmp(&b.code));
}

/// The snapshot of the query's period and the rows of the user's dealers, sorted.
pub async fn rows(
    state: &AppState,
    user: &crate::store::sessions::SessionUser,
    query: &AnalyticsQuery,
) -> AppResult<(std::sync::Arc<Snapshot>, Vec<DealerRow>)> {
    let snapshot = state.analytics.get(state, query.period()?).await?;
    let mut rows = snapshot.rows(|id| user.scope.allows(id));
    sort_rows(&mut rows, query.sort(), query.descending());
    Ok((snapshot, rows))
}

/// Every dealer in scope with its figures, ultimate loss ratio and composite score (0–100, higher is better)
/// among all dealers and within its region, brand and size band; `?format=csv` downloads the table.
#[utoipa::path(get, path = "/api/v1/analytics/dealers", tag = "analytics", params(AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<DealerRow>), (status = 422, body = crate::error::Problem)))]
pub async fn dealers(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<AnalyticsQuery>,
) -> AppResult<Response> {
    let (_, rows) = rows(&state, &user, &query).await?;
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(rows).into_response()),
        Some("csv") => csv_response(&rows),
        Some(_) => Err(AppError::field("format", "unknown", "json or csv")),
    }
}

/// One dealer: its figures, its position among its peers on every compared figure (percentile, peer median,
/// distance in median absolute deviations) and its incurred losses developed to ultimate.
#[utoipa::path(get, path = "/api/v1/analytics/dealers/{id}", tag = "analytics", params(("id" = i64, Path), AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, body = DealerAnalytics), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn dealer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<AnalyticsQuery>,
) -> AppResult<Json<DealerAnalytics>> {
    Ok(Json(dealer_analytics(&state, &user, id, &query).await?))
}

/// One dealer's analytics, 404 outside the user's scope.
pub async fn dealer_analytics(
    state: &AppState,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    query: &AnalyticsQuery,
) -> AppResult<DealerAnalytics> {
    crate::store::dealers::get(&state.db, &user.scope, id).await?;
    let snapshot = state.analytics.get(state, query.period()?).await?;
    snapshot.dealer(id)?.ok_or(AppError::NotFound)
}

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.6}")).unwrap_or_default()
}

fn csv_response(rows: &[DealerRow]) -> AppResult<Response> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let map = |e: csv::Error| AppError::Internal(e.into());
    writer
        .write_record([
            "期间",
            "车商代码",
            "车商",
            "区域",
            "品牌",
            "规模档",
            "签单保费",
            "已赚保费",
            "已发生赔款",
            "赔付率",
            "最终赔付率",
            "IBNR",
            "进展方法",
            "价格调整后赔付率",
            "手续费率",
            "变动成本率",
            "出险频度",
            "案均赔款",
            "续保率",
            "送修保费比",
            "报案到结案中位小时",
            "综合评分",
            "区域内评分",
            "品牌内评分",
            "规模档内评分",
        ])
        .map_err(map)?;
    for r in rows {
        let score = |d: &str| number(r.peer_scores.get(d).copied().flatten());
        writer
            .write_record([
                r.period.label(" 至 "),
                r.code.clone(),
                r.name.clone(),
                r.region.clone(),
                r.brand.clone(),
                r.size_band.clone().unwrap_or_default(),
                r.written_premium.to_string(),
                r.earned_premium.to_string(),
                r.incurred.to_string(),
                number(r.loss_ratio),
                number(r.ultimate_loss_ratio),
                r.ibnr.to_string(),
                r.development_method.clone(),
                number(r.price_normalised_loss_ratio),
                number(r.commission_ratio),
                number(r.variable_cost_ratio),
                number(r.frequency),
                number(r.severity),
                number(r.renewal_rate),
                number(r.referral_ratio),
                number(r.report_to_close_hours),
                number(r.composite_score),
                score("region"),
                score("brand"),
                score("size_band"),
            ])
            .map_err(map)?;
    }
    let body = writer.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"dealer-analytics.csv\""),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------- service plans

use crate::http::extract::{IdempotencyKey, RequestActor};
use crate::store::begin_write;
use crate::store::idempotency;
use crate::store::plans::{self, Decision, ItemView, PlanView, StoredRules};
use axum::http::StatusCode;

/// The service-plan rules in force (version 0: the shipped defaults).
#[utoipa::path(get, path = "/api/v1/service-plan-rules", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = StoredRules)))]
pub async fn plan_rules(State(state): State<AppState>) -> AppResult<Json<StoredRules>> {
    Ok(Json(plans::rules(&state.db).await?))
}

/// A new version of the service-plan rules.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesRequest {
    /// The version the rules were read at (0 while the shipped defaults are in force).
    pub base_version: i32,
    #[serde(default)]
    pub note: String,
    #[schema(value_type = Object)]
    pub rules: analytics::plans::PlanRules,
}

/// Saves a new version of the service-plan rules; every problem is named by where it is (422), a save on a
/// stale version is refused (409).
#[utoipa::path(put, path = "/api/v1/service-plan-rules", tag = "analytics", request_body = RulesRequest, security(("bearer" = [])),
    responses((status = 200, body = StoredRules), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn save_plan_rules(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Json(request): Json<RulesRequest>,
) -> AppResult<Json<StoredRules>> {
    let tx = begin_write(&state.db).await?;
    plans::save_rules(&tx, &actor, request.base_version, &request.rules, &request.note).await?;
    tx.commit().await?;
    Ok(Json(plans::rules(&state.db).await?))
}

/// A dealer's service plans, newest first, each item with the figures and thresholds that triggered it.
#[utoipa::path(get, path = "/api/v1/dealers/{id}/service-plans", tag = "analytics", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<PlanView>), (status = 404, body = crate::error::Problem)))]
pub async fn dealer_plans(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<PlanView>>> {
    Ok(Json(plans::plans(&state.db, &user.scope, id).await?))
}

/// What to generate a plan from.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// As for the analytics (default `rolling_12_months`).
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub on: Option<NaiveDate>,
}

/// Generates a dealer's service plan from its figures for the period and the rules in force.
/// Send an `Idempotency-Key`: the same key returns the same plan, never a second one.
#[utoipa::path(post, path = "/api/v1/dealers/{id}/service-plans", tag = "analytics", params(("id" = i64, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    request_body = GenerateRequest, security(("bearer" = [])),
    responses((status = 201, body = PlanView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn generate_plan(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<i64>,
    Json(request): Json<GenerateRequest>,
) -> AppResult<Response> {
    let plan = generate(&state, &user, actor, key.as_deref(), id, request).await?;
    // The stored answer (replayed for a repeated key) is the plan as first generated.
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/dealers/{id}/service-plans"))], Json(plan))
        .into_response())
}

/// Generates (once per idempotency key) a dealer's plan.
pub async fn generate(
    state: &AppState,
    user: &crate::store::sessions::SessionUser,
    actor: crate::store::audit::Actor,
    key: Option<&str>,
    dealer_id: i64,
    request: GenerateRequest,
) -> AppResult<serde_json::Value> {
    let query = AnalyticsQuery { period: request.period.clone(), on: request.on, ..AnalyticsQuery::default() };
    let analytics = dealer_analytics(state, user, dealer_id, &query).await?;
    let fingerprint = idempotency::fingerprint(
        "POST",
        &format!("/api/v1/dealers/{dealer_id}/service-plans"),
        &serde_json::to_value(&request).map_err(anyhow::Error::from)?,
    );
    let scope = user.scope.clone();
    let today = crate::store::quotes::today();
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let plan = plans::generate(tx, &actor, &scope, &analytics, today).await?;
            Ok((201, serde_json::to_value(plan).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key, &fingerprint, work).await?;
    Ok(outcome.body)
}

/// Accepts, changes or rejects one plan item at the version read. An accepted or changed item takes effect at
/// once: a commission change becomes new agreements from the first of next month (refused with the filed
/// range it would break), remediation sets the dealer's status, a visit frequency plans the next visit.
#[utoipa::path(post, path = "/api/v1/service-plan-items/{id}/decision", tag = "analytics", params(("id" = i64, Path)),
    request_body = Decision, security(("bearer" = [])),
    responses((status = 200, body = ItemView), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn decide_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(decision): Json<Decision>,
) -> AppResult<Json<ItemView>> {
    let tx = begin_write(&state.db).await?;
    let item = plans::decide(&tx, &actor, &user, id, &decision, crate::store::quotes::today()).await?;
    tx.commit().await?;
    // A decision can change what the figures read (a dealer's status); recompute on the next view.
    state.analytics.clear().await;
    Ok(Json(item))
}
