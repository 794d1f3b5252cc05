//! Dealer analytics as JSON (and CSV): every dealer's figures, ultimate loss ratio and composite score for a
//! period, and one dealer's position among its peers with its development to ultimate.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::analysis::{DealerAnalytics, DealerRow, Snapshot};
use crate::app::AppState;
use crate::domain::monitoring::Period;
use crate::error::{AppError, AppResult};
use crate::http::extract::{CurrentUser, Json, Path, Query};

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
            "written_premium" => r.written_premium.to_string().parse().ok(),
            "loss_ratio" => r.loss_ratio,
            "ultimate_loss_ratio" => r.ultimate_loss_ratio,
            "variable_cost_ratio" => r.variable_cost_ratio,
            "frequency" => r.frequency,
            "renewal_rate" => r.renewal_rate,
            "report_to_close_hours" => r.report_to_close_hours,
            _ => r.composite_score,
        }
    };
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let order = x.total_cmp(&y);
            if descending { order.reverse() } else { order }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.code.cmp(&b.code),
    });
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
