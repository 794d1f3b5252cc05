//! The service's side of analytics: frames from the database (or a Parquet export), the service's own
//! settings (periods, service targets, bands) turned into the analytics crate's, one snapshot of every
//! dealer's figures, peer comparison and development per period, and its rows as JSON and files.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use analytics::development::{self, DealerDevelopment, DevelopmentParams};
use analytics::figures::{self, FigureParams, collect_deep};
use analytics::frames::Frames;
use analytics::peers;
use analytics::polars::prelude::*;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::claims::ServiceTargets;
use crate::domain::money::{from_fen, rate_to_micros};
use crate::domain::monitoring::{Bands, Period, PeriodKind};
use crate::error::{AppError, AppResult};

/// The analytics crate's parameters for a period, with the service's targets and bands.
pub fn figure_params(period: Period, now: DateTime<Utc>, targets: &ServiceTargets, bands: &Bands) -> FigureParams {
    let defaults = FigureParams::new(period.from, period.to, now);
    FigureParams {
        target_hours: [targets.register_hours, targets.survey_hours, targets.settle_hours],
        warning_above_micros: rate_to_micros(bands.warning_above).unwrap_or(defaults.warning_above_micros),
        danger_above_micros: rate_to_micros(bands.danger_above).unwrap_or(defaults.danger_above_micros),
        upside_down_above_micros: rate_to_micros(bands.upside_down_above).unwrap_or(defaults.upside_down_above_micros),
        ..defaults
    }
}

/// Parses a period as the command line and the API take it: `month`, `quarter`, `year_to_date`,
/// `rolling_12_months` (around `on`), or a named one: `2026-10`, `2026Q3`, `2026`; as of `on`, so a period that
/// `on` is inside ends after `on` (DOMAIN.md: figures count only the days that have passed).
pub fn parse_period(text: &str, on: NaiveDate) -> Option<Period> {
    whole_period(text, on).map(|period| period.as_of(on))
}

fn whole_period(text: &str, on: NaiveDate) -> Option<Period> {
    let kind = match text {
        "month" => Some(PeriodKind::Month),
        "quarter" => Some(PeriodKind::Quarter),
        "year_to_date" | "ytd" => Some(PeriodKind::YearToDate),
        "rolling_12_months" | "r12" => Some(PeriodKind::Rolling12Months),
        _ => None,
    };
    if let Some(kind) = kind {
        return Some(Period::containing(kind, on));
    }
    if let Some((year, quarter)) = text.split_once(['Q', 'q']) {
        let (year, quarter) = (year.parse::<i32>().ok()?, quarter.parse::<u32>().ok()?);
        if !(1..=4).contains(&quarter) {
            return None;
        }
        let from = Period::month(year, quarter * 3 - 2)?.from;
        return Some(Period { from, to: Period::month(year, quarter * 3)?.to });
    }
    if let Some((year, month)) = text.split_once('-') {
        return Period::month(year.parse().ok()?, month.parse().ok()?);
    }
    let year = text.parse::<i32>().ok().filter(|y| (1900..=9999).contains(y))?;
    Some(Period { from: Period::month(year, 1)?.from, to: Period::month(year, 12)?.to })
}

fn polars_error(e: PolarsError) -> AppError {
    AppError::Internal(anyhow::anyhow!("analytics: {e}"))
}

/// Every dealer's figures, peer comparison and development for one period, computed together.
pub struct Snapshot {
    pub period: Period,
    pub computed_at: DateTime<Utc>,
    /// The quarter end the chain ladder is valued at: the last on or before the period's *as of* day.
    pub valued_at: NaiveDate,
    /// One row per dealer: the figures with `ultimate_loss_ratio`, `ibnr_fen`, `development_factor` and
    /// `development_method`, the dealer's attributes and its composite score per dimension.
    pub dealers: DataFrame,
    /// One row per dealer × dimension × compared figure (see `analytics::peers::compare`).
    pub comparison: DataFrame,
    pub developments: Vec<DealerDevelopment>,
    index: HashMap<i64, usize>,
}

/// Computes a snapshot from frames; `progress` hears each step.
pub fn compute(
    frames: &Frames,
    period: Period,
    now: DateTime<Utc>,
    targets: &ServiceTargets,
    bands: &Bands,
    mut progress: impl FnMut(&str),
) -> AppResult<Snapshot> {
    progress("figures");
    let figures = figures::dealer_figures(frames, &figure_params(period, now, targets, bands)).map_err(polars_error)?;
    progress("development");
    let today = crate::domain::monitoring::china_day(now);
    let as_of = period.to.min(today.succ_opt().unwrap_or(period.to));
    let development_params = DevelopmentParams::new(as_of);
    let valuation = development_params.valuation();
    let developments = development::develop_dealers(frames, &development_params).map_err(polars_error)?;
    let figures = development::with_ultimate(figures, frames, &developments, period.from, period.to, valuation)
        .map_err(polars_error)?;
    progress("peers");
    let comparison =
        collect_deep(peers::compare(&frames.dealers, &figures).map_err(polars_error)?).map_err(polars_error)?;
    let composite = collect_deep(peers::composite(comparison.clone().lazy())).map_err(polars_error)?;
    let attributes =
        collect_deep(peers::peer_attributes(&frames.dealers, &figures).map_err(polars_error)?).map_err(polars_error)?;

    let mut dealers = frames
        .dealers
        .clone()
        .lazy()
        .select([col("dealer_id"), col("code"), col("name"), col("region"), col("brand"), col("status")])
        .join(
            attributes.lazy().select([col("dealer_id"), col("size_band")]),
            [col("dealer_id")],
            [col("dealer_id")],
            JoinArgs::new(JoinType::Left),
        )
        .join(figures.lazy(), [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left));
    for dimension in peers::DIMENSIONS {
        let scores = composite
            .clone()
            .lazy()
            .filter(col("dimension").eq(lit(dimension)))
            .select([col("dealer_id"), col("composite_score").alias(format!("{dimension}_score"))]);
        dealers = dealers.join(scores, [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left));
    }
    let dealers = collect_deep(dealers.sort(["dealer_id"], SortMultipleOptions::default())).map_err(polars_error)?;
    let ids = dealers.column("dealer_id").map_err(polars_error)?.i64().map_err(polars_error)?;
    let index = ids.iter().enumerate().filter_map(|(i, id)| Some((id?, i))).collect();
    let valued_at = development_params.valued_at();
    Ok(Snapshot { period, computed_at: now, valued_at, dealers, comparison, developments, index })
}

/// A dealer's figures and scores as the portfolio lists them (money in yuan).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealerRow {
    /// The days the figures cover (with the last one and its label, as every answer gives a period).
    #[schema(value_type = Object)]
    pub period: Period,
    pub dealer_id: i64,
    pub code: String,
    pub name: String,
    pub region: String,
    pub brand: String,
    pub status: String,
    /// small | medium | large by written premium (terciles); none when the dealer wrote nothing.
    pub size_band: Option<String>,
    #[schema(value_type = String)]
    pub written_premium: Decimal,
    #[schema(value_type = String)]
    pub earned_premium: Decimal,
    #[schema(value_type = String)]
    pub incurred: Decimal,
    pub claim_count: i64,
    pub loss_ratio: Option<f64>,
    /// Loss ratio with incurred developed to ultimate by chain ladder.
    pub ultimate_loss_ratio: Option<f64>,
    /// Incurred but not reported, in yuan (rounded to the fen).
    #[schema(value_type = String)]
    pub ibnr: Decimal,
    /// own | segment | portfolio | no_claims: whose development factors were used.
    pub development_method: String,
    pub price_normalised_loss_ratio: Option<f64>,
    pub commission_ratio: Option<f64>,
    pub variable_cost_ratio: Option<f64>,
    pub band: Option<String>,
    pub frequency: Option<f64>,
    pub severity: Option<f64>,
    pub renewal_rate: Option<f64>,
    pub referral_ratio: Option<f64>,
    pub report_to_close_hours: Option<f64>,
    pub upside_down: bool,
    pub open_claims: i64,
    pub overdue_claims: i64,
    /// Composite score (0–100, higher is better) among all dealers.
    pub composite_score: Option<f64>,
    /// Composite score within each peer group: region, brand, size_band.
    pub peer_scores: BTreeMap<String, Option<f64>>,
}

/// A dealer's position on one figure among one peer group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Position {
    pub figure: String,
    pub dimension: String,
    pub peer_group: String,
    pub value: Option<f64>,
    pub peers: u32,
    /// 0 = lowest value among the peers, 1 = highest.
    pub percentile: Option<f64>,
    pub peer_median: Option<f64>,
    /// (value − peer median) ÷ median absolute deviation.
    pub mad_distance: Option<f64>,
    /// The percentile turned so that 1 is best for the insurer.
    pub goodness: Option<f64>,
}

/// Everything the analytics page shows of one dealer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealerAnalytics {
    #[schema(value_type = Object)]
    pub period: Period,
    pub computed_at: DateTime<Utc>,
    /// The quarter end the ultimate loss ratio and the development are valued at.
    pub valued_at: NaiveDate,
    pub dealer: DealerRow,
    pub positions: Vec<Position>,
    #[schema(value_type = Object)]
    pub development: Option<DealerDevelopment>,
}

fn cell_f64(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
    df.column(column).ok()?.cast(&DataType::Float64).ok()?.f64().ok()?.get(row)
}

fn cell_i64(df: &DataFrame, column: &str, row: usize) -> Option<i64> {
    df.column(column).ok()?.cast(&DataType::Int64).ok()?.i64().ok()?.get(row)
}

fn cell_str(df: &DataFrame, column: &str, row: usize) -> Option<String> {
    df.column(column).ok()?.str().ok()?.get(row).map(str::to_string)
}

fn cell_bool(df: &DataFrame, column: &str, row: usize) -> Option<bool> {
    df.column(column).ok()?.bool().ok()?.get(row)
}

impl Snapshot {
    fn row(&self, i: usize) -> DealerRow {
        let df = &self.dealers;
        let money = |column: &str| from_fen(cell_i64(df, column, i).unwrap_or(0));
        let ibnr_fen = cell_f64(df, "ibnr_fen", i).unwrap_or(0.0);
        DealerRow {
            period: self.period,
            dealer_id: cell_i64(df, "dealer_id", i).unwrap_or_default(),
            code: cell_str(df, "code", i).unwrap_or_default(),
            name: cell_str(df, "name", i).unwrap_or_default(),
            region: cell_str(df, "region", i).unwrap_or_default(),
            brand: cell_str(df, "brand", i).unwrap_or_default(),
            status: cell_str(df, "status", i).unwrap_or_default(),
            size_band: cell_str(df, "size_band", i),
            written_premium: money("written_premium_fen"),
            earned_premium: money("earned_premium_fen"),
            incurred: money("incurred_fen"),
            claim_count: cell_i64(df, "claim_count", i).unwrap_or(0),
            loss_ratio: cell_f64(df, "loss_ratio", i),
            ultimate_loss_ratio: cell_f64(df, "ultimate_loss_ratio", i),
            // The IBNR is an estimate: shown to the fen, not carried as exact money.
            ibnr: from_fen(ibnr_fen.round() as i64),
            development_method: cell_str(df, "development_method", i).unwrap_or_else(|| "no_claims".into()),
            price_normalised_loss_ratio: cell_f64(df, "price_normalised_loss_ratio", i),
            commission_ratio: cell_f64(df, "commission_ratio", i),
            variable_cost_ratio: cell_f64(df, "variable_cost_ratio", i),
            band: cell_str(df, "band", i),
            frequency: cell_f64(df, "frequency", i),
            severity: cell_f64(df, "severity", i),
            renewal_rate: cell_f64(df, "renewal_rate", i),
            referral_ratio: cell_f64(df, "referral_ratio", i),
            report_to_close_hours: cell_f64(df, "report_to_close_median_centihours", i).map(|c| c / 100.0),
            upside_down: cell_bool(df, "upside_down", i).unwrap_or(false),
            open_claims: cell_i64(df, "open_claims", i).unwrap_or(0),
            overdue_claims: cell_i64(df, "overdue_claims", i).unwrap_or(0),
            composite_score: cell_f64(df, "portfolio_score", i),
            peer_scores: ["region", "brand", "size_band"]
                .into_iter()
                .map(|d| (d.to_string(), cell_f64(df, &format!("{d}_score"), i)))
                .collect(),
        }
    }

    /// The rows of the dealers `allowed` lets through, in dealer order.
    pub fn rows(&self, allowed: impl Fn(i64) -> bool) -> Vec<DealerRow> {
        (0..self.dealers.height()).map(|i| self.row(i)).filter(|r| allowed(r.dealer_id)).collect()
    }

    /// One dealer's row, positions among its peers and development; `None` for a dealer not in the snapshot.
    pub fn dealer(&self, dealer_id: i64) -> AppResult<Option<DealerAnalytics>> {
        let Some(&i) = self.index.get(&dealer_id) else { return Ok(None) };
        let mine = collect_deep(self.comparison.clone().lazy().filter(col("dealer_id").eq(lit(dealer_id))))
            .map_err(polars_error)?;
        let positions = (0..mine.height())
            .map(|r| Position {
                figure: cell_str(&mine, "figure", r).unwrap_or_default(),
                dimension: cell_str(&mine, "dimension", r).unwrap_or_default(),
                peer_group: cell_str(&mine, "peer_group", r).unwrap_or_default(),
                value: cell_f64(&mine, "value", r),
                peers: u32::try_from(cell_i64(&mine, "peers", r).unwrap_or(0)).unwrap_or(0),
                percentile: cell_f64(&mine, "percentile", r),
                peer_median: cell_f64(&mine, "peer_median", r),
                mad_distance: cell_f64(&mine, "mad_distance", r),
                goodness: cell_f64(&mine, "goodness", r),
            })
            .collect();
        Ok(Some(DealerAnalytics {
            period: self.period,
            computed_at: self.computed_at,
            valued_at: self.valued_at,
            dealer: self.row(i),
            positions,
            development: self.developments.iter().find(|d| d.dealer_id == dealer_id).cloned(),
        }))
    }

    /// The per-dealer table as written to files: attributes, every figure, development and scores.
    /// The dealers' rows with the days they cover in front.
    pub fn table(&self) -> DataFrame {
        let label = PlSmallStr::from(self.period.label(" – "));
        let covers = Column::new_scalar("period".into(), label.into(), self.dealers.height());
        let mut table = self.dealers.clone();
        // Refused only for a column of that name already there, and then the table is left as it was.
        let _ = table.insert_column(0, covers);
        table
    }
}

/// Computed snapshots, kept a few minutes so that pages and the API do not recompute every figure of every
/// dealer on each request; each page says when its figures were computed.
#[derive(Default)]
pub struct SnapshotCache {
    entries: tokio::sync::Mutex<HashMap<Period, (Instant, Arc<Snapshot>)>>,
}

impl SnapshotCache {
    /// How long a snapshot is served before it is computed again.
    pub const FRESH_FOR: Duration = Duration::from_secs(300);

    /// The period's snapshot, computed from the database when none is fresh. One computation at a time: a
    /// second request for the same period waits for the first instead of doing the work twice.
    pub async fn get(&self, state: &crate::state::AppState, period: Period) -> AppResult<Arc<Snapshot>> {
        let mut entries = self.entries.lock().await;
        if let Some((at, snapshot)) = entries.get(&period)
            && at.elapsed() < Self::FRESH_FOR
        {
            return Ok(snapshot.clone());
        }
        let now = crate::store::now();
        let frames = crate::store::frames::load(&state.db, crate::store::quotes::today(), |_, _| {}).await?;
        let targets = state.config.service_targets();
        let snapshot =
            tokio::task::spawn_blocking(move || compute(&frames, period, now, &targets, &Bands::default(), |_| {}))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("analytics task: {e}")))??;
        let snapshot = Arc::new(snapshot);
        entries.retain(|_, (at, _)| at.elapsed() < Self::FRESH_FOR);
        entries.insert(period, (Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }

    /// Forgets every snapshot (after a change that moves the figures, e.g. a plan applied).
    pub async fn clear(&self) {
        self.entries.lock().await.clear();
    }
}

/// Writes the per-dealer table as CSV, Parquet or xlsx, chosen by the file's extension.
pub fn write_table(table: &DataFrame, path: &Path) -> anyhow::Result<()> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("parquet") => {
            let file = std::fs::File::create(path)?;
            ParquetWriter::new(file).finish(&mut table.clone())?;
        }
        Some("csv") => {
            let mut writer = csv::Writer::from_path(path)?;
            writer.write_record(table.get_column_names().iter().map(|n| n.as_str()))?;
            for row in 0..table.height() {
                writer.write_record(table.columns().iter().map(|c| match c.get(row) {
                    Ok(AnyValue::Null) | Err(_) => String::new(),
                    Ok(AnyValue::String(s)) => s.to_string(),
                    Ok(value) => value.to_string(),
                }))?;
            }
            writer.flush()?;
        }
        Some("xlsx") => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name("经销商分析")?;
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, name) in table.get_column_names().iter().enumerate() {
                let column = u16::try_from(c)?;
                sheet.write_with_format(0, column, column_label(name.as_str()), &bold)?;
                sheet.write(1, column, name.as_str())?;
            }
            for (c, series) in table.columns().iter().enumerate() {
                let column = u16::try_from(c)?;
                for row in 0..table.height() {
                    let at = u32::try_from(row + 2)?;
                    match series.get(row)? {
                        AnyValue::Null => {}
                        AnyValue::String(s) => {
                            sheet.write(at, column, s)?;
                        }
                        AnyValue::Boolean(b) => {
                            sheet.write(at, column, b)?;
                        }
                        AnyValue::Float64(v) => {
                            sheet.write(at, column, v)?;
                        }
                        AnyValue::Int64(v) => {
                            // Integers in a spreadsheet are doubles; fen stay exact below 2^53.
                            sheet.write(at, column, v as f64)?;
                        }
                        other => {
                            sheet.write(at, column, other.to_string())?;
                        }
                    }
                }
            }
            book.save(path)?;
        }
        _ => anyhow::bail!("{}: the output must end in .csv, .parquet or .xlsx", path.display()),
    }
    Ok(())
}

/// The Chinese header of a column of the per-dealer table (the machine name is on the row below it).
fn column_label(name: &str) -> &str {
    match name {
        "dealer_id" => "经销商ID",
        "code" => "经销商代码",
        "name" => "经销商名称",
        "region" => "区域",
        "brand" => "品牌",
        "status" => "状态",
        "size_band" => "规模档",
        "written_premium_fen" => "签单保费(分)",
        "earned_premium_fen" => "已赚保费(分)",
        "covered_days" => "承保车日",
        "exposure" => "已赚车年",
        "paid_fen" => "已决赔款(分)",
        "case_reserves_fen" => "未决赔款(分)",
        "incurred_fen" => "已发生赔款(分)",
        "claim_count" => "赔案件数",
        "loss_ratio" => "赔付率",
        "price_normalised_loss_ratio" => "价格调整后赔付率",
        "commission_fen" => "手续费(分)",
        "commission_ratio" => "手续费率",
        "variable_cost_ratio" => "变动成本率",
        "band" => "成本率区间",
        "frequency" => "出险频度",
        "severity" => "案均赔款(元)",
        "closed_claims" => "结案件数",
        "referral_count" => "送修件数",
        "referral_value_fen" => "送修金额(分)",
        "referral_ratio" => "送修保费比",
        "expiring" => "到期保单",
        "renewed" => "续保保单",
        "renewal_rate" => "续保率",
        "upside_down" => "倒挂",
        "open_claims" => "未结案件",
        "overdue_claims" => "超时案件",
        "ultimate_loss_ratio" => "最终赔付率",
        "ibnr_fen" => "IBNR(分)",
        "development_factor" => "进展因子",
        "development_method" => "进展方法",
        "portfolio_score" => "综合评分",
        "region_score" => "区域内评分",
        "brand_score" => "品牌内评分",
        "size_band_score" => "规模档内评分",
        other if other.ends_with("_median_centihours") => "中位时长(0.01小时)",
        other if other.ends_with("_p90_centihours") => "P90时长(0.01小时)",
        other => other,
    }
}
