//! Chain ladder per dealer: incurred losses by accident quarter and development quarter, developed to
//! ultimate with the dealer's own factors, or with its peer segment's when the dealer's triangle is thin.
//!
//! Incurred at the end of a development quarter = payments up to then + case reserves then (the sum of
//! reserve movements up to then), on the claims of the accident quarter. Age 1 is the accident quarter itself.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::chain_ladder::{self, AgeToAge, Triangle};
use crate::figures::collect_deep;
use crate::frames::{CHINA_OFFSET_MICROS, Frames, MICROS_PER_DAY, days};

/// How the dealers' triangles are cut and when one is too thin for its own factors.
#[derive(Debug, Clone, PartialEq)]
pub struct DevelopmentParams {
    /// Evaluation: events before this day count.
    pub as_of: NaiveDate,
    /// Accident quarters in each triangle, ending with the quarter of the day before `as_of`.
    pub quarters: u32,
    /// A dealer with fewer claims than this in its triangle is developed with its segment's factors.
    pub thin_claims: u32,
    /// The dealer attribute (a column of the dealers frame) its segment is cut by.
    pub segment_by: String,
}

impl DevelopmentParams {
    /// Twenty quarters (five accident years) to `as_of`, thin under 30 claims, segments by region.
    pub fn new(as_of: NaiveDate) -> DevelopmentParams {
        DevelopmentParams { as_of, quarters: 20, thin_claims: 30, segment_by: "region".into() }
    }
}

/// Whose factors developed a dealer's triangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Own,
    Segment,
    Portfolio,
    /// No claims in the window: nothing to develop.
    NoClaims,
}

/// One accident quarter of a dealer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OriginDevelopment {
    /// e.g. "2026Q3"
    pub quarter: String,
    pub latest_fen: f64,
    pub ultimate_fen: f64,
}

/// A dealer's triangle developed to ultimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DealerDevelopment {
    pub dealer_id: i64,
    pub method: Method,
    pub segment: String,
    pub claims: u32,
    pub factors: Vec<AgeToAge>,
    pub origins: Vec<OriginDevelopment>,
    pub latest_fen: f64,
    pub ultimate_fen: f64,
    pub ibnr_fen: f64,
}

impl DealerDevelopment {
    /// Σ ultimate ÷ Σ latest over the accident quarters that overlap [from, to); 1 when nothing is incurred.
    pub fn development_factor(&self, from: NaiveDate, to: NaiveDate) -> f64 {
        let (first, last) = (quarter_index(from), quarter_index(to.pred_opt().unwrap_or(to)));
        let (mut latest, mut ultimate) = (0.0, 0.0);
        for origin in &self.origins {
            if let Some(index) = parse_quarter(&origin.quarter)
                && (first..=last).contains(&index)
            {
                latest += origin.latest_fen;
                ultimate += origin.ultimate_fen;
            }
        }
        if latest > 0.0 { ultimate / latest } else { 1.0 }
    }
}

/// Quarters since year 0: year × 4 + quarter − 1.
pub fn quarter_index(day: NaiveDate) -> i32 {
    day.year() * 4 + i32::try_from(day.month0() / 3).unwrap_or(0)
}

fn quarter_name(index: i32) -> String {
    format!("{}Q{}", index.div_euclid(4), index.rem_euclid(4) + 1)
}

fn parse_quarter(name: &str) -> Option<i32> {
    let (year, quarter) = name.split_once('Q')?;
    Some(year.parse::<i32>().ok()? * 4 + quarter.parse::<i32>().ok()? - 1)
}

/// The quarter index of a Date-typed day-number expression.
fn quarter_of(day: Expr) -> Expr {
    let date = day.cast(DataType::Date);
    date.clone().dt().year().cast(DataType::Int32) * lit(4i32)
        + (date.dt().month().cast(DataType::Int32) - lit(1i32)).floor_div(lit(3i32))
}

/// Incremental incurred per dealer × accident quarter × age (columns `dealer_id, origin, age, incurred_fen,
/// claims`), for the accident quarters of the window.
pub fn incremental_incurred(frames: &Frames, params: &DevelopmentParams) -> PolarsResult<DataFrame> {
    let as_of = days(params.as_of);
    let current = quarter_index(params.as_of.pred_opt().unwrap_or(params.as_of));
    let first_origin = current - i32::try_from(params.quarters).unwrap_or(20) + 1;
    let events = concat(
        [
            frames.payments.clone().lazy().select([
                col("claim_id"),
                col("paid_on").cast(DataType::Int32).alias("day"),
                col("amount_fen"),
            ]),
            frames.reserves.clone().lazy().select([
                col("claim_id"),
                ((col("at").cast(DataType::Int64) + lit(CHINA_OFFSET_MICROS)).floor_div(lit(MICROS_PER_DAY)))
                    .cast(DataType::Int32)
                    .alias("day"),
                col("amount_fen"),
            ]),
        ],
        UnionArgs::default(),
    )?
    .filter(col("day").lt(lit(as_of)));
    let query = events
        .join(
            frames.claims.clone().lazy().select([col("claim_id"), col("dealer_id"), col("accident_on")]),
            [col("claim_id")],
            [col("claim_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .with_columns([
            quarter_of(col("accident_on").cast(DataType::Int32)).alias("origin"),
            quarter_of(col("day")).alias("event_quarter"),
        ])
        .filter(col("origin").gt_eq(lit(first_origin)).and(col("origin").lt_eq(lit(current))))
        .with_column(
            (when(col("event_quarter").gt(col("origin")))
                .then(col("event_quarter") - col("origin"))
                .otherwise(lit(0i32))
                + lit(1i32))
            .alias("age"),
        )
        .group_by([col("dealer_id"), col("origin"), col("age")])
        .agg([
            col("amount_fen").sum().alias("incurred_fen"),
            col("claim_id").n_unique().cast(DataType::UInt32).alias("claims"),
        ])
        .sort(["dealer_id", "origin", "age"], SortMultipleOptions::default());
    collect_deep(query)
}

/// Cumulative grid: origin row × age column (row r has ages 1..=rows − r observed).
type Grid = Vec<Vec<f64>>;

fn triangle(name: &str, first_origin: i32, grid: &Grid) -> Result<Triangle, chain_ladder::TriangleError> {
    let rows = grid.len();
    let origins = (0..rows).map(|r| quarter_name(first_origin + i32::try_from(r).unwrap_or(0))).collect();
    let ages = (1..=u32::try_from(rows).unwrap_or(0)).collect();
    let mut cells = Vec::with_capacity(rows * rows);
    for (r, row) in grid.iter().enumerate() {
        for (a, value) in row.iter().enumerate() {
            cells.push(if a < rows - r { Some(*value) } else { None });
        }
    }
    Triangle::new(name, origins, ages, cells)
}

/// Every dealer's triangle developed to ultimate (dealers with no claims in the window get [`Method::NoClaims`]).
pub fn develop_dealers(frames: &Frames, params: &DevelopmentParams) -> PolarsResult<Vec<DealerDevelopment>> {
    let rows = usize::try_from(params.quarters).unwrap_or(20).max(1);
    let current = quarter_index(params.as_of.pred_opt().unwrap_or(params.as_of));
    let first_origin = current - i32::try_from(rows).unwrap_or(20) + 1;
    let incremental = incremental_incurred(frames, params)?;

    let mut grids: BTreeMap<i64, (Grid, u32)> = BTreeMap::new();
    let dealer = incremental.column("dealer_id")?.i64()?;
    let origin = incremental.column("origin")?.i32()?;
    let age = incremental.column("age")?.i32()?;
    let amount = incremental.column("incurred_fen")?.i64()?;
    let claims = incremental.column("claims")?.u32()?;
    for i in 0..incremental.height() {
        let (Some(d), Some(o), Some(a), Some(v)) = (dealer.get(i), origin.get(i), age.get(i), amount.get(i)) else {
            continue;
        };
        let (grid, count) = grids.entry(d).or_insert_with(|| (vec![vec![0.0; rows]; rows], 0));
        let (Ok(r), Ok(a)) = (usize::try_from(o - first_origin), usize::try_from(a - 1)) else { continue };
        if let Some(row) = grid.get_mut(r) {
            // Incremental → cumulative: the amount counts at its age and every later one.
            for cell in row.iter_mut().skip(a) {
                *cell += v as f64;
            }
        }
        // A claim with events at several ages is counted once per age; the count only decides thinness.
        if a == 0 {
            *count += claims.get(i).unwrap_or(0);
        }
    }

    let ids = frames.dealers.column("dealer_id")?.i64()?;
    let segment_column = frames.dealers.column(&params.segment_by)?.str()?;
    let segment_of: HashMap<i64, String> = ids
        .iter()
        .zip(segment_column.iter())
        .filter_map(|(id, s)| Some((id?, s.unwrap_or_default().to_string())))
        .collect();

    let add = |into: &mut Grid, grid: &Grid| {
        for (a, b) in into.iter_mut().zip(grid) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    };
    let mut segments: HashMap<String, (Grid, u32)> = HashMap::new();
    let mut portfolio: Grid = vec![vec![0.0; rows]; rows];
    for (dealer, (grid, count)) in &grids {
        let segment = segment_of.get(dealer).cloned().unwrap_or_default();
        let entry = segments.entry(segment).or_insert_with(|| (vec![vec![0.0; rows]; rows], 0));
        add(&mut entry.0, grid);
        entry.1 += count;
        add(&mut portfolio, grid);
    }
    let factors_of = |name: &str, grid: &Grid| -> PolarsResult<Vec<AgeToAge>> {
        let t = triangle(name, first_origin, grid).map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        Ok(chain_ladder::age_to_age_factors(&t))
    };
    let portfolio_factors = factors_of("portfolio", &portfolio)?;
    let mut segment_factors: HashMap<String, Option<Vec<AgeToAge>>> = HashMap::new();
    for (segment, (grid, count)) in &segments {
        // A segment as thin as a dealer borrows the portfolio's factors too.
        let factors = if *count >= params.thin_claims { Some(factors_of(segment, grid)?) } else { None };
        segment_factors.insert(segment.clone(), factors);
    }

    let mut out = Vec::with_capacity(ids.len());
    for dealer_id in ids.iter().flatten() {
        let segment = segment_of.get(&dealer_id).cloned().unwrap_or_default();
        let Some((grid, claims)) = grids.get(&dealer_id) else {
            out.push(DealerDevelopment {
                dealer_id,
                method: Method::NoClaims,
                segment,
                claims: 0,
                factors: Vec::new(),
                origins: Vec::new(),
                latest_fen: 0.0,
                ultimate_fen: 0.0,
                ibnr_fen: 0.0,
            });
            continue;
        };
        let t = triangle(&dealer_id.to_string(), first_origin, grid)
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        let (method, developed) = if *claims >= params.thin_claims {
            (Method::Own, chain_ladder::develop(&t))
        } else if let Some(Some(factors)) = segment_factors.get(&segment) {
            (Method::Segment, chain_ladder::develop_with(&t, factors))
        } else {
            (Method::Portfolio, chain_ladder::develop_with(&t, &portfolio_factors))
        };
        let developed = developed.map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
        out.push(DealerDevelopment {
            dealer_id,
            method,
            segment,
            claims: *claims,
            factors: developed.factors.clone(),
            origins: developed
                .origins
                .iter()
                .map(|o| OriginDevelopment {
                    quarter: o.origin.clone(),
                    latest_fen: o.latest,
                    ultimate_fen: o.ultimate,
                })
                .collect(),
            latest_fen: developed.total.latest,
            ultimate_fen: developed.total.ultimate,
            ibnr_fen: developed.total.ibnr,
        });
    }
    Ok(out)
}

/// The figures frame with `ultimate_loss_ratio` = loss ratio × the dealer's development factor over the accident
/// quarters the period overlaps, and `ibnr_fen` (incurred × (factor − 1)).
pub fn with_ultimate(
    figures: DataFrame,
    developments: &[DealerDevelopment],
    from: NaiveDate,
    to: NaiveDate,
) -> PolarsResult<DataFrame> {
    let ids: Vec<i64> = developments.iter().map(|d| d.dealer_id).collect();
    let factors: Vec<f64> = developments.iter().map(|d| d.development_factor(from, to)).collect();
    let methods: Vec<String> = developments
        .iter()
        .map(|d| serde_json::to_value(d.method).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
        .collect();
    let factor_frame = df!("dealer_id" => ids, "development_factor" => factors, "development_method" => methods)?;
    collect_deep(
        figures
            .lazy()
            .join(factor_frame.lazy(), [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left))
            .with_columns([
                (col("loss_ratio") * col("development_factor").fill_null(lit(1.0))).alias("ultimate_loss_ratio"),
                (col("incurred_fen").cast(DataType::Float64)
                    * (col("development_factor").fill_null(lit(1.0)) - lit(1.0)))
                .alias("ibnr_fen"),
            ]),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::frames::*;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days(NaiveDate::from_ymd_opt(y, m, day).unwrap())
    }

    /// Dealer 1: claims in 2024Q1 paid 100 in Q1 and 50 more in Q2; a 2024Q2 claim paid 200 in Q2.
    /// Dealer 2 (same region, one claim): a 2024Q1 claim with a reserve of 80 in Q1, paid 80 in Q2 (reserve taken down).
    fn frames() -> Frames {
        let mut dealers = DealerRows::default();
        dealers.push(1, "D1".into(), "One".into(), "East".into(), "BYD".into(), "G".into(), "active".into());
        dealers.push(2, "D2".into(), "Two".into(), "East".into(), "BYD".into(), "G".into(), "active".into());
        dealers.push(3, "D3".into(), "Three".into(), "West".into(), "VW".into(), "G".into(), "active".into());
        let mut claims = ClaimRows::default();
        let at = |y, m, day| Utc.with_ymd_and_hms(y, m, day, 4, 0, 0).unwrap().timestamp_micros();
        claims.push(1, 1, d(2024, 2, 1), at(2024, 2, 1), "settled".into(), at(2024, 2, 2));
        claims.push(2, 1, d(2024, 5, 1), at(2024, 5, 1), "settled".into(), at(2024, 5, 2));
        claims.push(3, 2, d(2024, 3, 1), at(2024, 3, 1), "settled".into(), at(2024, 3, 2));
        let mut payments = PaymentRows::default();
        payments.push(1, 1, d(2024, 3, 1), 100);
        payments.push(1, 1, d(2024, 4, 10), 50);
        payments.push(2, 1, d(2024, 6, 1), 200);
        payments.push(3, 2, d(2024, 4, 2), 80);
        let mut reserves = ReserveRows::default();
        reserves.push(3, at(2024, 3, 2), 80);
        reserves.push(3, at(2024, 4, 2), -80);
        let mut frames = Frames::empty().unwrap();
        frames.dealers = dealers.into_frame().unwrap();
        frames.claims = claims.into_frame().unwrap();
        frames.payments = payments.into_frame().unwrap();
        frames.reserves = reserves.into_frame().unwrap();
        frames
    }

    fn params() -> DevelopmentParams {
        DevelopmentParams {
            as_of: NaiveDate::from_ymd_opt(2024, 7, 1).unwrap(),
            quarters: 2,
            thin_claims: 2,
            segment_by: "region".into(),
        }
    }

    #[test]
    fn quarters_count_from_the_accident_quarter() {
        let inc = incremental_incurred(&frames(), &params()).unwrap();
        let rows: Vec<(i64, i32, i32, i64)> = (0..inc.height())
            .map(|i| {
                (
                    inc.column("dealer_id").unwrap().i64().unwrap().get(i).unwrap(),
                    inc.column("origin").unwrap().i32().unwrap().get(i).unwrap(),
                    inc.column("age").unwrap().i32().unwrap().get(i).unwrap(),
                    inc.column("incurred_fen").unwrap().i64().unwrap().get(i).unwrap(),
                )
            })
            .collect();
        let q1 = 2024 * 4;
        // Dealer 2's Q2 events net to zero (paid 80, reserve −80) and stay as a zero cell.
        assert_eq!(rows, [(1, q1, 1, 100), (1, q1, 2, 50), (1, q1 + 1, 1, 200), (2, q1, 1, 80), (2, q1, 2, 0)]);
    }

    #[test]
    fn thick_dealers_use_their_own_factors_and_thin_ones_their_segments() {
        let developed = develop_dealers(&frames(), &params()).unwrap();
        let one = &developed[0];
        // Dealer 1: Q1 100 → 150, factor 1.5; Q2 latest 200 → 300.
        assert_eq!(one.method, Method::Own);
        assert_eq!(one.claims, 2);
        assert!((one.factors[0].factor - 1.5).abs() < 1e-12);
        assert!((one.ultimate_fen - 450.0).abs() < 1e-9);
        assert!((one.ibnr_fen - 100.0).abs() < 1e-9);
        // Dealer 2 has one claim: the East segment (both dealers) gives (150 + 80) / (100 + 80).
        let two = &developed[1];
        assert_eq!(two.method, Method::Segment);
        let factor = 230.0 / 180.0;
        assert!((two.factors[0].factor - factor).abs() < 1e-12);
        assert!((two.ultimate_fen - 80.0).abs() < 1e-9, "its Q1 is fully developed (age 2 of 2)");
        assert_eq!(developed[2].method, Method::NoClaims);
        // Over the second quarter alone dealer 1 develops 200 → 300.
        let (from, to) = (NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(), NaiveDate::from_ymd_opt(2024, 7, 1).unwrap());
        assert!((one.development_factor(from, to) - 1.5).abs() < 1e-12);
        assert_eq!(developed[2].development_factor(from, to), 1.0);
    }

    #[test]
    fn quarter_names_round_trip() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(quarter_name(quarter_index(day)), "2026Q4");
        assert_eq!(parse_quarter("2026Q4"), Some(quarter_index(day)));
    }
}
