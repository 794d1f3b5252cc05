//! Analytics pages: the portfolio sorted by composite score, and each dealer's position among its peers
//! (charts), its losses developed to ultimate and its service plan.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde_json::json;

use crate::analysis::{DealerAnalytics, DealerRow, Position};
use crate::app::AppState;
use crate::error::AppResult;
use crate::http::api::analytics::{self as api, AnalyticsQuery};
use crate::http::extract::{CurrentUser, Path, Query};

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
    pub period_label: String,
    pub computed_at: String,
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

    /// The link that sorts by a column (flipping the direction when it already sorts by it).
    pub fn sort_link(&self, column: &str) -> String {
        let dir = if self.sort == column && self.descending { "asc" } else { "desc" };
        format!("/analytics?period={}&sort={column}&dir={dir}", self.period)
    }

    pub fn arrow(&self, column: &str) -> &'static str {
        match (self.sort == column, self.descending) {
            (true, true) => " ▼",
            (true, false) => " ▲",
            _ => "",
        }
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
        shell,
        rows,
        period: query.period.clone().unwrap_or_else(|| "rolling_12_months".into()),
        period_label: format!(
            "{} – {}",
            snapshot.period.from,
            snapshot.period.to.pred_opt().unwrap_or(snapshot.period.to)
        ),
        computed_at: snapshot
            .computed_at
            .with_timezone(&crate::store::claims::china())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
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
    pub period: String,
    pub lines: Vec<FigureLine>,
    pub dimensions: Vec<(String, String)>,
    pub chart_json: String,
}

impl DealerPage {
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
                    .map(|dimension| match mine.iter().find(|p| p.dimension == *dimension) {
                        Some(p) => PositionCell {
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
    let analytics = api::dealer_analytics(&state, &user, id, &query).await?;
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
        // Inside a <script type="application/json">: "</" must not end the element.
        chart_json: chart.to_string().replace("</", "<\\/"),
    })
}
