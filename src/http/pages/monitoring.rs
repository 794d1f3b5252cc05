//! The channel manager's pages: the portfolio of their dealers (sortable, colour
//! bands, a small loss-ratio trend per row) and each dealer's dashboard (trend
//! charts, claims by stage, repair referrals against premium, alerts).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use rust_decimal::Decimal;

use crate::domain::monitoring::{Band, Thresholds};
use crate::error::AppResult;
use crate::http::api::monitoring::{self as api, Dashboard, FiguresQuery, PortfolioRow};
use crate::http::extract::{CurrentUser, Path, Query};
use crate::state::AppState;
use crate::store::dealers::Dealer;

use super::Shell;

/// A ratio as a percentage with one decimal, or a dash.
pub fn percent(value: &Option<Decimal>) -> String {
    value.map(|v| format!("{}%", (v * Decimal::ONE_HUNDRED).round_dp(1))).unwrap_or_else(|| "—".into())
}

fn band_class(band: &Option<Band>) -> &'static str {
    match band {
        Some(Band::Normal) => "band-normal",
        Some(Band::Warning) => "band-warning",
        Some(Band::Danger) => "band-danger",
        None => "",
    }
}

/// A small inline SVG of a series of ratios (a sparkline); gaps where a month has none.
pub fn sparkline(values: &[Option<Decimal>]) -> String {
    let points: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.and_then(|v| v.to_string().parse::<f64>().ok()).map(|v| (i, v)))
        .collect();
    if points.len() < 2 {
        return String::new();
    }
    // Display only: the figures themselves stay exact; a pixel position may be a float.
    let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1.0);
    let (width, height) = (80.0, 20.0);
    let step = width / (values.len().max(2) - 1) as f64;
    let path: Vec<String> = points
        .iter()
        .map(|(i, v)| format!("{:.1},{:.1}", *i as f64 * step, height - (v / max) * (height - 2.0) - 1.0))
        .collect();
    format!(
        "<svg class=\"spark\" viewBox=\"0 0 80 20\" width=\"80\" height=\"20\" role=\"img\"><polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\"{}\"/></svg>",
        path.join(" ")
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring/portfolio.html")]
pub struct PortfolioPage {
    pub shell: Shell,
    pub rows: Vec<PortfolioRow>,
    pub period: String,
    /// The day chosen to take the figures as of (today when none).
    pub on: Option<chrono::NaiveDate>,
    /// The days the figures cover, as the page writes them.
    pub covers: String,
    pub sort: String,
    pub descending: bool,
}

impl PortfolioPage {
    pub fn pct(&self, value: &Option<Decimal>) -> String {
        percent(value)
    }

    pub fn band(&self, row: &PortfolioRow) -> &'static str {
        band_class(&row.figures.band)
    }

    pub fn spark(&self, row: &PortfolioRow) -> String {
        sparkline(&row.loss_ratio_trend)
    }

    pub fn sort_link(&self, column: &str) -> String {
        super::sort_link("/portfolio", &self.q(), &self.sort, self.descending, column)
    }

    /// The query that picks this page's period and day, for links.
    pub fn q(&self) -> String {
        super::period_query(&self.period, self.on)
    }

    pub fn arrow(&self, column: &str) -> &'static str {
        super::sort_arrow(&self.sort, self.descending, column)
    }
}

pub async fn portfolio(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<FiguresQuery>,
) -> AppResult<PortfolioPage> {
    let rows = api::portfolio_rows(&state, &user.scope, &query).await?;
    Ok(PortfolioPage {
        covers: shell.tr.period(&query.period()?),
        shell,
        rows,
        period: query.period.clone().unwrap_or_else(|| "month".into()),
        on: query.on,
        sort: query.sort.clone().unwrap_or_else(|| "loss_ratio".into()),
        descending: query.dir.as_deref() != Some("asc"),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring/dashboard.html")]
pub struct DashboardPage {
    pub shell: Shell,
    pub dealer: Dealer,
    pub data: Dashboard,
    pub period: String,
    /// The day chosen to take the figures as of (today when none).
    pub on: Option<chrono::NaiveDate>,
    /// The dashboard data for the charts, as JSON inside a non-executing script element.
    pub chart_json: String,
    /// The store side (feedback, visits, satisfaction); not shown to the dealer's own staff.
    pub store: Option<crate::store::feedback::StoreFigures>,
    pub latest_feedback: Vec<crate::store::feedback::FeedbackItem>,
    pub open_complaints: Vec<crate::store::complaints::Complaint>,
}

impl DashboardPage {
    pub fn pct(&self, value: &Option<Decimal>) -> String {
        percent(value)
    }

    pub fn band(&self) -> &'static str {
        band_class(&self.data.figures.band)
    }

    /// The query that picks this page's period and day, for links.
    pub fn q(&self) -> String {
        super::period_query(&self.period, self.on)
    }

    /// An alert's kind by its JSON name, for its translation key.
    pub fn kind_of(&self, alert: &crate::domain::monitoring::Alert) -> String {
        serde_json::to_value(alert.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

pub async fn dashboard(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<FiguresQuery>,
) -> AppResult<DashboardPage> {
    let (dealer, data) = api::dashboard(&state, &user.scope, id, &query).await?;
    let tr = shell.tr;
    let labels = serde_json::json!({
        "written": tr.t("figure.written_premium"), "earned": tr.t("figure.earned_premium"),
        "loss_ratio": tr.t("figure.loss_ratio"), "commission_ratio": tr.t("figure.commission_ratio"),
        "variable_cost_ratio": tr.t("figure.variable_cost_ratio"), "target": tr.t("figure.target"),
        "referral_value": tr.t("figure.referral_value"), "incurred": tr.t("figure.incurred"),
        "renewal_rate": tr.t("figure.renewal_rate"),
    });
    let stage_labels: serde_json::Map<String, serde_json::Value> = data
        .claims_by_stage
        .keys()
        .map(|s| (s.clone(), serde_json::Value::String(tr.t2("claim_stage", s).to_string())))
        .collect();
    let today = crate::store::quotes::today();
    let insiders = user.role != crate::domain::auth::Role::DealerStaff;
    let (store, latest_feedback) = if insiders {
        let to = today + chrono::Days::new(1);
        let figures =
            crate::store::feedback::figures(&state.db, &user.scope, id, to - chrono::Days::new(31), to, today).await?;
        let filter = crate::store::feedback::FeedbackFilter { dealer_id: Some(id), ..Default::default() };
        let latest = crate::store::feedback::list(
            &state.db,
            &user.scope,
            &filter,
            crate::store::PageRequest { page: 1, per_page: 5 },
        )
        .await?
        .items;
        (Some(figures), latest)
    } else {
        (None, Vec::new())
    };
    let complaint_filter = crate::store::complaints::ComplaintFilter {
        dealer_id: Some(id),
        status: Some(crate::domain::feedback::ComplaintStatus::Open),
        ..Default::default()
    };
    let open_complaints = crate::store::complaints::list(
        &state.db,
        &user,
        &complaint_filter,
        crate::store::PageRequest { page: 1, per_page: 10 },
        today,
    )
    .await?
    .items;
    let satisfaction = store.as_ref().and_then(|s| s.latest_survey.as_ref()).map(|survey| {
        serde_json::json!({
            "dimensions": survey.ratings.iter().map(|r| tr.t2("survey.dimension", r.dimension.as_str())).collect::<Vec<_>>(),
            "expected": survey.ratings.iter().map(|r| r.expected).collect::<Vec<_>>(),
            "perceived": survey.ratings.iter().map(|r| r.perceived).collect::<Vec<_>>(),
            "labels": { "expected": tr.t("survey.expected"), "perceived": tr.t("survey.perceived") },
        })
    });
    let chart = serde_json::json!({
        "trend": data.trend, "claims_by_stage": data.claims_by_stage, "labels": labels,
        "stage_labels": stage_labels, "target": Thresholds::default().target_loss_ratio,
        "satisfaction": satisfaction,
    });
    // `</` cannot close the script element early once escaped.
    let chart_json = chart.to_string().replace("</", "<\\/");
    Ok(DashboardPage {
        shell,
        dealer,
        data,
        period: query.period.clone().unwrap_or_else(|| "month".into()),
        on: query.on,
        chart_json,
        store,
        latest_feedback,
        open_complaints,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring/alerts.html")]
pub struct AlertsPage {
    pub shell: Shell,
    pub alerts: Vec<crate::store::monitoring::StoredAlert>,
    pub open: bool,
    pub can_acknowledge: bool,
    pub error: Option<String>,
}

impl AlertsPage {
    /// The days an alert's figures cover.
    pub fn covers(&self, alert: &crate::store::monitoring::StoredAlert) -> String {
        self.shell.tr.period(&crate::domain::monitoring::Period { from: alert.period_from, to: alert.period_to })
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct AlertListQuery {
    pub open: Option<bool>,
}

async fn alert_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    open: bool,
    error: Option<String>,
) -> AppResult<AlertsPage> {
    let alerts = crate::store::monitoring::alerts(&state.db, &user.scope, None, open).await?;
    Ok(AlertsPage {
        shell,
        alerts,
        open,
        can_acknowledge: matches!(
            user.role,
            crate::domain::auth::Role::Administrator | crate::domain::auth::Role::ChannelManager
        ),
        error,
    })
}

/// The channel manager's alert list.
pub async fn alert_list(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<AlertListQuery>,
) -> AppResult<AlertsPage> {
    alert_page(&state, shell, &user, query.open.unwrap_or(true), None).await
}

#[derive(Debug, serde::Deserialize)]
pub struct AcknowledgeForm {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub csrf: Option<String>,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    crate::http::extract::RequestActor(actor): crate::http::extract::RequestActor,
    Path(id): Path<i64>,
    crate::http::extract::Form(form): crate::http::extract::Form<AcknowledgeForm>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let _ = form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let tx = crate::store::begin_write(&state.db).await?;
    match crate::store::monitoring::acknowledge(&tx, &actor, &user.scope, id, version, &form.note).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(axum::response::Redirect::to("/alerts").into_response())
        }
        Err(crate::error::AppError::Validation(errors)) => {
            tx.rollback().await?;
            let message = errors.first().map(|e| shell.tr.field_error(e).to_string());
            let page = alert_page(&state, shell, &user, true, message).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(crate::error::AppError::Conflict(message)) => {
            tx.rollback().await?;
            let page = alert_page(&state, shell, &user, true, Some(message)).await?;
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}
