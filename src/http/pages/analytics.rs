//! Analytics pages: the portfolio sorted by composite score, and each dealer's position among its peers
//! (charts), its losses developed to ultimate and its service plan.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use sea_orm::EntityTrait;
use serde_json::json;

use analytics::plans::{Measure, Proposal, Trigger};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::analysis::{DealerAnalytics, DealerRow, Position};
use crate::domain::auth::Role;
use crate::error::AppResult;
use crate::error::{AppError, FieldError};
use crate::http::api::analytics::{self as api, AnalyticsQuery};
use crate::http::extract::{CurrentUser, Path, Query};
use crate::http::extract::{Form, RequestActor};
use crate::state::AppState;
use crate::store::plans::{Decision, ItemView, PlanView};

use super::Shell;

/// A ratio as a percentage with one decimal, or a dash.
pub fn percent(value: Option<f64>) -> String {
    value.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into())
}

/// A score or plain number with one decimal, or a dash.
pub fn one_decimal(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

fn band_class(band: &Option<String>) -> &'static str {
    match band.as_deref() {
        Some("normal") => "band-normal",
        Some("warning") => "band-warning",
        Some("danger") => "band-danger",
        _ => "",
    }
}

/// How a figure's value reads: ratios as percentages, money in yuan, hours.
fn figure_value(figure: &str, value: Option<f64>) -> String {
    match figure {
        "written_premium" | "severity" => value.map(|v| format!("¥{v:.0}")).unwrap_or_else(|| "—".into()),
        "report_to_close_hours" => value.map(|v| format!("{v:.1} h")).unwrap_or_else(|| "—".into()),
        _ => percent(value),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics/portfolio.html")]
pub struct PortfolioPage {
    pub shell: Shell,
    pub rows: Vec<DealerRow>,
    pub period: String,
    /// The day chosen to take the figures as of (today when none).
    pub on: Option<chrono::NaiveDate>,
    pub period_label: String,
    pub computed_at: String,
    /// The quarter end the ultimate loss ratios are valued at.
    pub valued_at: String,
    pub sort: String,
    pub descending: bool,
}

impl PortfolioPage {
    pub fn pct(&self, value: &Option<f64>) -> String {
        percent(*value)
    }

    pub fn score(&self, value: &Option<f64>) -> String {
        one_decimal(*value)
    }

    pub fn peer_score(&self, row: &DealerRow, dimension: &str) -> String {
        one_decimal(row.peer_scores.get(dimension).copied().flatten())
    }

    pub fn band(&self, row: &DealerRow) -> &'static str {
        band_class(&row.band)
    }

    pub fn sort_link(&self, column: &str) -> String {
        super::sort_link("/analytics", &self.q(), &self.sort, self.descending, column)
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
    Query(query): Query<AnalyticsQuery>,
) -> AppResult<PortfolioPage> {
    let (snapshot, rows) = api::rows(&state, &user, &query).await?;
    Ok(PortfolioPage {
        period_label: shell.tr.period(&snapshot.period),
        shell,
        rows,
        period: query.period.clone().unwrap_or_else(|| "rolling_12_months".into()),
        on: query.on,
        computed_at: snapshot
            .computed_at
            .with_timezone(&crate::store::claims::china())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        valued_at: snapshot.valued_at.to_string(),
        sort: query.sort().to_string(),
        descending: query.descending(),
    })
}

/// One compared figure with the dealer's position in each peer group.
pub struct FigureLine {
    pub figure: String,
    pub value: String,
    /// Per dimension (region, brand, size band, portfolio): percentile, peer median, MAD distance, peers.
    pub cells: Vec<PositionCell>,
}

pub struct PositionCell {
    /// The peer dimension, which labels the cell where a phone shows the table as cards.
    pub dimension: &'static str,
    pub percentile: String,
    pub median: String,
    pub distance: String,
    /// Far from the peers (|distance| ≥ 2 MAD) on the bad side.
    pub flagged: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "analytics/dealer.html")]
pub struct DealerPage {
    pub shell: Shell,
    pub analytics: DealerAnalytics,
    /// The latest plan, and older ones as history.
    pub plan: Option<PlanView>,
    pub history: Vec<PlanView>,
    /// Channel managers and administrators generate plans and decide items.
    pub can_decide: bool,
    /// A refused decision or generation, said on the page.
    pub message: Option<String>,
    pub period: String,
    /// The day chosen to take the figures as of (today when none).
    pub on: Option<chrono::NaiveDate>,
    pub lines: Vec<FigureLine>,
    pub dimensions: Vec<(String, String)>,
    pub chart_json: String,
}

impl DealerPage {
    /// The query that picks this page's period and day, for links.
    pub fn q(&self) -> String {
        super::period_query(&self.period, self.on)
    }

    pub fn pct(&self, value: &Option<f64>) -> String {
        percent(*value)
    }

    pub fn score(&self, value: &Option<f64>) -> String {
        one_decimal(*value)
    }

    pub fn peer_score(&self, dimension: &str) -> String {
        if dimension == "portfolio" {
            return one_decimal(self.analytics.dealer.composite_score);
        }
        one_decimal(self.analytics.dealer.peer_scores.get(dimension).copied().flatten())
    }

    pub fn yuan(&self, fen: &f64) -> String {
        format!("¥{:.0}", fen / 100.0)
    }

    pub fn title(&self, item: &ItemView) -> String {
        match self.shell.tr.0 {
            crate::i18n::Lang::Zh => item.title_zh.clone(),
            crate::i18n::Lang::En => item.title_en.clone(),
        }
    }

    pub fn proposal(&self, proposal: &Proposal) -> String {
        describe(self.shell.tr, proposal)
    }

    pub fn trigger(&self, trigger: &Trigger) -> String {
        describe_trigger(self.shell.tr, trigger)
    }

    /// The proposal's adjustable value, as the change form pre-fills it.
    pub fn parameter(&self, proposal: &Proposal) -> String {
        parameter(proposal).unwrap_or_default()
    }
}

/// A proposal in words.
fn describe(tr: crate::i18n::Tr, proposal: &Proposal) -> String {
    let text = tr.t2("plan.proposal", proposal.kind());
    match proposal {
        Proposal::CommissionAdjustment { rate_change_bp } => {
            text.replace("{points}", &format!("{:+.2}", f64::from(*rate_change_bp) / 100.0))
        }
        Proposal::RepairReferralQuota { percent_of_premium } => {
            text.replace("{value}", &percent_of_premium.to_string())
        }
        Proposal::FastTrackSmallClaims { max_claim_yuan } => text.replace("{value}", &max_claim_yuan.to_string()),
        Proposal::VisitFrequency { visits_per_quarter } => text.replace("{value}", &visits_per_quarter.to_string()),
        Proposal::Training { topic } => text.replace("{value}", topic),
        Proposal::TightenUnderwriting { refer_commercial_quotes: false } => {
            tr.t("plan.proposal.tighter_underwriting").into()
        }
        Proposal::TightenUnderwriting { refer_commercial_quotes: true } | Proposal::Remediation {} => text.into(),
    }
}

fn describe_trigger(tr: crate::i18n::Tr, trigger: &Trigger) -> String {
    let figure = tr.try_t(&format!("analytics.figure.{}", trigger.figure)).unwrap_or(trigger.figure.as_str());
    let shown = |v: f64| match trigger.measure {
        Measure::Percentile => format!("P{:.0}", v * 100.0),
        Measure::MadDistance => format!("{v:+.2} MAD"),
        Measure::Value => match trigger.figure.as_str() {
            "written_premium" | "severity" => format!("¥{v:.0}"),
            "report_to_close_hours" => format!("{v:.1} h"),
            "composite_score" | "overdue_claims" | "open_complaints" | "overdue_complaints" | "upside_down" => {
                format!("{v:.1}")
            }
            _ => format!("{:.1}%", v * 100.0),
        },
    };
    let scope = match (&trigger.measure, &trigger.dimension) {
        (Measure::Value, _) => String::new(),
        (_, dimension) => format!(" ({})", tr.t2("analytics.dimension", dimension.as_deref().unwrap_or("portfolio"))),
    };
    let measure = match trigger.measure {
        Measure::Value => "",
        Measure::Percentile => tr.t("analytics.measure.percentile"),
        Measure::MadDistance => tr.t("analytics.measure.mad_distance"),
    };
    format!("{figure} {measure}{scope}: {} {} {}", shown(trigger.actual), trigger.op.symbol(), shown(trigger.threshold))
}

fn parameter(proposal: &Proposal) -> Option<String> {
    match proposal {
        Proposal::CommissionAdjustment { rate_change_bp } => Some(rate_change_bp.to_string()),
        Proposal::RepairReferralQuota { percent_of_premium } => Some(percent_of_premium.to_string()),
        Proposal::FastTrackSmallClaims { max_claim_yuan } => Some(max_claim_yuan.to_string()),
        Proposal::VisitFrequency { visits_per_quarter } => Some(visits_per_quarter.to_string()),
        Proposal::Training { topic } => Some(topic.clone()),
        Proposal::TightenUnderwriting { .. } | Proposal::Remediation {} => None,
    }
}

/// The item's proposal with the form's value in place of its parameter.
fn changed(proposal: &Proposal, value: &str) -> Result<Proposal, FieldError> {
    let number = |what: &str| {
        value
            .trim()
            .parse::<i64>()
            .map_err(|_| FieldError::new("value", "not_a_number", format!("a whole number ({what})")))
    };
    let unsigned = |what: &str| {
        number(what).and_then(|n| {
            u32::try_from(n)
                .map_err(|_| FieldError::new("value", "out_of_range", format!("a positive whole number ({what})")))
        })
    };
    Ok(match proposal {
        Proposal::CommissionAdjustment { .. } => Proposal::CommissionAdjustment {
            rate_change_bp: i32::try_from(number("basis points")?)
                .map_err(|_| FieldError::new("value", "out_of_range", "−1000 to 1000 basis points"))?,
        },
        Proposal::RepairReferralQuota { .. } => {
            Proposal::RepairReferralQuota { percent_of_premium: unsigned("% of premium")? }
        }
        Proposal::FastTrackSmallClaims { .. } => Proposal::FastTrackSmallClaims { max_claim_yuan: unsigned("yuan")? },
        Proposal::VisitFrequency { .. } => {
            Proposal::VisitFrequency { visits_per_quarter: unsigned("visits a quarter")? }
        }
        Proposal::Training { .. } => Proposal::Training { topic: value.trim().to_string() },
        other => other.clone(),
    })
}

const DIMENSIONS: [&str; 4] = ["region", "brand", "size_band", "portfolio"];

fn lines(positions: &[Position]) -> Vec<FigureLine> {
    analytics::peers::COMPARED
        .iter()
        .map(|compared| {
            let mine: Vec<&Position> = positions.iter().filter(|p| p.figure == compared.figure).collect();
            let value = mine.first().and_then(|p| p.value);
            FigureLine {
                figure: compared.figure.to_string(),
                value: figure_value(compared.figure, value),
                cells: DIMENSIONS
                    .iter()
                    .map(|&dimension| match mine.iter().find(|p| p.dimension == dimension) {
                        Some(p) => PositionCell {
                            dimension,
                            percentile: p
                                .percentile
                                .map(|v| format!("P{:.0}", v * 100.0))
                                .unwrap_or_else(|| "—".into()),
                            median: figure_value(compared.figure, p.peer_median),
                            distance: p.mad_distance.map(|d| format!("{d:+.1}")).unwrap_or_else(|| "—".into()),
                            flagged: p.goodness.is_some_and(|g| g < 0.5)
                                && p.mad_distance.is_some_and(|d| d.abs() >= 2.0),
                        },
                        None => PositionCell {
                            dimension,
                            percentile: "—".into(),
                            median: "—".into(),
                            distance: "—".into(),
                            flagged: false,
                        },
                    })
                    .collect(),
            }
        })
        .collect()
}

pub async fn dealer(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<AnalyticsQuery>,
) -> AppResult<DealerPage> {
    dealer_page(&state, shell, &user, id, &query, None).await
}

async fn dealer_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    query: &AnalyticsQuery,
    message: Option<String>,
) -> AppResult<DealerPage> {
    let analytics = api::dealer_analytics(state, user, id, query).await?;
    let mut plans = crate::store::plans::plans(&state.db, &user.scope, id).await?;
    let plan = if plans.is_empty() { None } else { Some(plans.remove(0)) };
    let tr = shell.tr;
    let figures: Vec<&str> = analytics::peers::COMPARED.iter().map(|c| c.figure).collect();
    let goodness = |dimension: &str| -> Vec<Option<f64>> {
        figures
            .iter()
            .map(|f| {
                analytics
                    .positions
                    .iter()
                    .find(|p| p.figure == *f && p.dimension == dimension)
                    .and_then(|p| p.goodness)
                    .map(|g| (g * 1000.0).round() / 10.0)
            })
            .collect()
    };
    let development = analytics.development.as_ref();
    let chart = json!({
        "figures": figures.iter().map(|f| tr.t2("analytics.figure", f)).collect::<Vec<_>>(),
        "series": DIMENSIONS.iter().map(|d| json!({ "name": tr.t2("analytics.dimension", d), "data": goodness(d) })).collect::<Vec<_>>(),
        "quarters": development.map(|d| d.origins.iter().map(|o| o.quarter.clone()).collect::<Vec<_>>()).unwrap_or_default(),
        "latest": development.map(|d| d.origins.iter().map(|o| (o.latest_fen / 100.0).round()).collect::<Vec<_>>()).unwrap_or_default(),
        "ultimate": development.map(|d| d.origins.iter().map(|o| (o.ultimate_fen / 100.0).round()).collect::<Vec<_>>()).unwrap_or_default(),
        "labels": {
            "goodness": tr.t("analytics.goodness"),
            "latest": tr.t("analytics.latest"),
            "ultimate": tr.t("analytics.ultimate"),
        },
    });
    Ok(DealerPage {
        shell,
        plan,
        history: plans,
        can_decide: matches!(user.role, Role::Administrator | Role::ChannelManager),
        message,
        lines: lines(&analytics.positions),
        dimensions: DIMENSIONS
            .iter()
            .map(|d| {
                let group = analytics
                    .positions
                    .iter()
                    .find(|p| p.dimension == *d)
                    .map(|p| p.peer_group.clone())
                    .unwrap_or_else(|| "—".into());
                (d.to_string(), group)
            })
            .collect(),
        analytics,
        period: query.period.clone().unwrap_or_else(|| "rolling_12_months".into()),
        on: query.on,
        // Inside a <script type="application/json">: "</" must not end the element.
        chart_json: chart.to_string().replace("</", "<\\/"),
    })
}

#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    pub csrf: String,
    #[serde(default)]
    pub period: Option<String>,
}

/// Generates the dealer's plan from the page.
pub async fn generate(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<GenerateForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let request = api::GenerateRequest { period: form.period.clone(), on: None };
    let query = AnalyticsQuery { period: form.period.clone(), ..AnalyticsQuery::default() };
    match api::generate(&state, &user, actor, None, id, request).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/analytics/dealers/{id}?period={}#plan",
            query.period.as_deref().unwrap_or("rolling_12_months")
        ))
        .into_response()),
        Err(AppError::Validation(errors)) => {
            let message = errors.first().map(|e| shell.tr.field_error(e).to_string());
            let page = dealer_page(&state, shell, &user, id, &AnalyticsQuery::default(), message).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    pub decision: String,
    #[serde(default)]
    pub note: String,
    /// The changed parameter, for "change".
    #[serde(default)]
    pub value: String,
    pub version: String,
}

/// Accepts, changes or rejects a plan item from the page; a refusal is said on the dealer's page.
pub async fn decide(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(item_id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let row =
        entity::service_plan_items::Entity::find_by_id(item_id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let dealer_id = row.dealer_id;
    let current: Proposal = serde_json::from_str(&row.proposal_json).map_err(|e| AppError::Internal(e.into()))?;
    let proposal = if form.decision == "change" {
        match changed(&current, &form.value) {
            Ok(p) => Some(p),
            Err(error) => {
                let message = Some(shell.tr.field_error(&error).to_string());
                let page = dealer_page(&state, shell, &user, dealer_id, &AnalyticsQuery::default(), message).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        }
    } else {
        None
    };
    let decision = Decision {
        decision: form.decision.clone(),
        note: form.note.clone(),
        proposal,
        version: form.version.trim().parse().unwrap_or(0),
    };
    let tx = crate::store::begin_write(&state.db).await?;
    let result =
        crate::store::plans::decide(&tx, &actor, &user, item_id, &decision, crate::store::quotes::today()).await;
    match super::commit_or_refuse(tx, result).await? {
        Ok(_) => {
            state.analytics.clear().await;
            Ok(Redirect::to(&format!("/analytics/dealers/{dealer_id}#plan")).into_response())
        }
        Err((status, errors, notice)) => {
            let message = notice.or_else(|| {
                Some(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, shell.tr.field_error(e)))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            });
            let page = dealer_page(&state, shell, &user, dealer_id, &AnalyticsQuery::default(), message).await?;
            Ok((status, page).into_response())
        }
    }
}
