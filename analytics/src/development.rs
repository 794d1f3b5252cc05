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
    /// The day after the *as of* day: events before it have happened. The triangles are valued at the last quarter
    /// end on or before the *as of* day ([`DevelopmentParams::valuation`]); the quarter after it, partly developed,
    /// is shown as reported.
    pub as_of: NaiveDate,
    /// Accident quarters in each triangle, ending with the last complete quarter.
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

    /// The valuation, exclusive: events before this day count in the triangles. It is the first day of the quarter
    /// `as_of` falls in, so the latest diagonal holds only complete quarters: a partly developed quarter there
    /// would bias every factor (DOMAIN.md).
    pub fn valuation(&self) -> NaiveDate {
        quarter_start(self.as_of)
    }

    /// The quarter end the triangles are valued at, as the pages say it.
    pub fn valued_at(&self) -> NaiveDate {
        let valuation = self.valuation();
        valuation.pred_opt().unwrap_or(valuation)
    }
}

/// The first day of `day`'s quarter.
pub fn quarter_start(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), day.month0() / 3 * 3 + 1, 1).unwrap_or(day)
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
    /// Developed to ultimate from the triangle; false for the current quarter, partly developed, which is shown as
    /// reported (ultimate = latest).
    pub projected: bool,
}

/// A dealer's triangle developed to ultimate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DealerDevelopment {
    pub dealer_id: i64,
    /// The quarter end the triangle is valued at.
    pub valued_at: NaiveDate,
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
/// claims`), for the accident quarters of the window, valued at the valuation (the last quarter end).
pub fn incremental_incurred(frames: &Frames, params: &DevelopmentParams) -> PolarsResult<DataFrame> {
    let valuation = params.valuation();
    let current = quarter_index(valuation.pred_opt().unwrap_or(valuation));
    let first_origin = current - i32::try_from(params.quarters).unwrap_or(20) + 1;
    incurred_cells(frames, valuation, first_origin, current)
}

/// Payments and case-reserve movements before `cut`, one row each (`claim_id, day, amount_fen`).
fn incurred_events(frames: &Frames, cut: NaiveDate) -> PolarsResult<LazyFrame> {
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
    .filter(col("day").lt(lit(days(cut))));
    Ok(events)
}

/// Incremental incurred from the events before `cut`, per dealer × accident quarter (`first_origin..=last_origin`)
/// × age.
fn incurred_cells(frames: &Frames, cut: NaiveDate, first_origin: i32, current: i32) -> PolarsResult<DataFrame> {
    let query = incurred_events(frames, cut)?
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
    let (valuation, valued_at) = (params.valuation(), params.valued_at());
    let current = quarter_index(valued_at);
    let first_origin = current - i32::try_from(rows).unwrap_or(20) + 1;
    let incremental = incremental_incurred(frames, params)?;
    let reported = reported_current_quarter(frames, params)?;

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
        // The quarter after the valuation, as reported so far: never projected.
        let reported = reported.get(&dealer_id).map(|&latest_fen| OriginDevelopment {
            quarter: quarter_name(quarter_index(valuation)),
            latest_fen,
            ultimate_fen: latest_fen,
            projected: false,
        });
        let reported_fen = reported.as_ref().map_or(0.0, |r| r.latest_fen);
        let Some((grid, claims)) = grids.get(&dealer_id) else {
            out.push(DealerDevelopment {
                dealer_id,
                valued_at,
                method: Method::NoClaims,
                segment,
                claims: 0,
                factors: Vec::new(),
                origins: reported.into_iter().collect(),
                latest_fen: reported_fen,
                ultimate_fen: reported_fen,
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
            valued_at,
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
                    projected: true,
                })
                .chain(reported)
                .collect(),
            latest_fen: developed.total.latest + reported_fen,
            ultimate_fen: developed.total.ultimate + reported_fen,
            ibnr_fen: developed.total.ibnr,
        });
    }
    Ok(out)
}

/// Incurred so far per dealer on the accidents of the quarter after the valuation (events before `as_of`); empty
/// when `as_of` is the first day of a quarter, so that nothing has happened in it yet.
fn reported_current_quarter(frames: &Frames, params: &DevelopmentParams) -> PolarsResult<HashMap<i64, f64>> {
    let valuation = params.valuation();
    if params.as_of <= valuation {
        return Ok(HashMap::new());
    }
    let quarter = quarter_index(valuation);
    let cells = incurred_cells(frames, params.as_of, quarter, quarter)?;
    let dealer = cells.column("dealer_id")?.i64()?;
    let amount = cells.column("incurred_fen")?.i64()?;
    let mut reported: HashMap<i64, f64> = HashMap::new();
    for (dealer, amount) in dealer.iter().zip(amount.iter()) {
        if let (Some(dealer), Some(amount)) = (dealer, amount) {
            *reported.entry(dealer).or_default() += amount as f64;
        }
    }
    Ok(reported)
}

/// The figures frame with the ultimate loss ratio valued at the quarter end `valuation` (exclusive), over the part
/// of the period before it, `[from, min(to, valuation))`: the incurred on its accidents from the events before the
/// valuation, developed by the dealer's factor over the accident quarters it overlaps, ÷ the premium earned over
/// the same days. `ibnr_fen` is that incurred × (factor − 1). A period that starts on or after the valuation has no
/// ultimate loss ratio yet (null) and no IBNR.
pub fn with_ultimate(
    figures: DataFrame,
    frames: &Frames,
    developments: &[DealerDevelopment],
    from: NaiveDate,
    to: NaiveDate,
    valuation: NaiveDate,
) -> PolarsResult<DataFrame> {
    let valued_to = to.min(valuation);
    let ids: Vec<i64> = developments.iter().map(|d| d.dealer_id).collect();
    let factors: Vec<Option<f64>> =
        developments.iter().map(|d| (from < valued_to).then(|| d.development_factor(from, valued_to))).collect();
    let methods: Vec<String> = developments
        .iter()
        .map(|d| serde_json::to_value(d.method).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
        .collect();
    let factor_frame = df!("dealer_id" => ids, "development_factor" => factors, "development_method" => methods)?;
    let mut valued =
        figures.lazy().join(factor_frame.lazy(), [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left));
    if from < valued_to {
        let (from_d, to_d) = (days(from), days(valued_to));
        let accidents = frames
            .claims
            .clone()
            .lazy()
            .filter(
                col("accident_on")
                    .cast(DataType::Int32)
                    .gt_eq(lit(from_d))
                    .and(col("accident_on").cast(DataType::Int32).lt(lit(to_d))),
            )
            .select([col("claim_id"), col("dealer_id")]);
        let incurred = incurred_events(frames, valuation)?
            .join(accidents, [col("claim_id")], [col("claim_id")], JoinArgs::new(JoinType::Inner))
            .group_by([col("dealer_id")])
            .agg([col("amount_fen").sum().alias("valued_incurred_fen")]);
        let earned = crate::figures::earned_premium_by_dealer(frames, from, valued_to)?
            .select([col("dealer_id"), col("earned_premium_fen").alias("valued_earned_fen")]);
        valued = valued.join(incurred, [col("dealer_id")], [col("dealer_id")], JoinArgs::new(JoinType::Left)).join(
            earned,
            [col("dealer_id")],
            [col("dealer_id")],
            JoinArgs::new(JoinType::Left),
        );
    } else {
        valued = valued.with_columns([
            lit(NULL).cast(DataType::Int64).alias("valued_incurred_fen"),
            lit(NULL).cast(DataType::Int64).alias("valued_earned_fen"),
        ]);
    }
    let factor = col("development_factor").fill_null(lit(1.0));
    let incurred = col("valued_incurred_fen").fill_null(lit(0i64)).cast(DataType::Float64);
    let earned = col("valued_earned_fen").cast(DataType::Float64);
    collect_deep(
        valued.with_columns([
            when(earned.clone().gt(lit(0.0)))
                .then(incurred.clone() * factor.clone() / earned)
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("ultimate_loss_ratio"),
            (incurred * (factor - lit(1.0))).alias("ibnr_fen"),
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_triangle_taken_mid_quarter_is_valued_at_the_last_quarter_end_and_shows_the_current_quarter_as_reported() {
        let mut frames = frames();
        // A 2024Q3 accident with 30 paid on 1 August, and 999 more paid on Q1's claim after the quarter end.
        let mut claims = ClaimRows::default();
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 4, 0, 0).unwrap().timestamp_micros();
        claims.push(4, 1, d(2024, 7, 20), at(2024, 7, 20), "settled".into(), at(2024, 7, 21));
        let mut payments = PaymentRows::default();
        payments.push(4, 1, d(2024, 8, 1), 30);
        payments.push(1, 1, d(2024, 8, 2), 999);
        frames.claims = concat_frames(&frames.claims, claims.into_frame().unwrap());
        frames.payments = concat_frames(&frames.payments, payments.into_frame().unwrap());
        let mid_quarter = DevelopmentParams { as_of: day(2024, 8, 16), ..params() };
        assert_eq!(mid_quarter.valuation(), day(2024, 7, 1));
        assert_eq!(mid_quarter.valued_at(), day(2024, 6, 30));
        let developed = develop_dealers(&frames, &mid_quarter).unwrap();
        let one = &developed[0];
        assert_eq!(one.valued_at, day(2024, 6, 30));
        // The triangle is the one of the quarter end: Q1 100 → 150, Q2 200 → 300, IBNR 100; the 999 paid in Q3 on
        // a Q1 claim is not on its diagonal.
        assert!((one.factors[0].factor - 1.5).abs() < 1e-12);
        assert!((one.ibnr_fen - 100.0).abs() < 1e-9);
        let current = one.origins.last().unwrap();
        assert_eq!((current.quarter.as_str(), current.projected), ("2024Q3", false));
        assert_eq!((current.latest_fen, current.ultimate_fen), (30.0, 30.0), "reported, not projected");
        assert!((one.ultimate_fen - 480.0).abs() < 1e-9, "450 developed + 30 reported");
        // Taken on the first day of the quarter, nothing of it has happened: no reported quarter.
        let on_quarter_start = DevelopmentParams { as_of: day(2024, 7, 1), ..params() };
        let developed = develop_dealers(&frames, &on_quarter_start).unwrap();
        assert!(developed[0].origins.iter().all(|o| o.projected));
    }

    fn concat_frames(a: &DataFrame, b: DataFrame) -> DataFrame {
        let mut out = a.clone();
        out.vstack_mut(&b).unwrap();
        out
    }

    /// One claim a day from 2021 to 2024, each of ultimate 1,000 fen, paid 400 on the accident day, 300 after 45
    /// days, 200 after 120 and 100 after 250: the true IBNR at any valuation is what is still to be paid then.
    fn synthetic_book() -> Frames {
        let mut dealers = DealerRows::default();
        dealers.push(1, "D1".into(), "One".into(), "East".into(), "BYD".into(), "G".into(), "active".into());
        let (mut claims, mut payments) = (ClaimRows::default(), PaymentRows::default());
        let mut accident = day(2021, 1, 1);
        let mut id = 0;
        while accident <= day(2024, 12, 31) {
            id += 1;
            let at = Utc.from_utc_datetime(&accident.and_hms_opt(4, 0, 0).unwrap()).timestamp_micros();
            claims.push(id, 1, days(accident), at, "settled".into(), at);
            for (after, amount) in [(0, 400), (45, 300), (120, 200), (250, 100)] {
                payments.push(id, 1, days(accident + chrono::Duration::days(after)), amount);
            }
            accident = accident.succ_opt().unwrap();
        }
        let mut frames = Frames::empty().unwrap();
        frames.dealers = dealers.into_frame().unwrap();
        frames.claims = claims.into_frame().unwrap();
        frames.payments = payments.into_frame().unwrap();
        frames
    }

    /// Σ over accidents before `valuation` of what is still unpaid then.
    fn true_ibnr(valuation: NaiveDate) -> f64 {
        let mut accident = day(2021, 1, 1);
        let mut unpaid = 0;
        while accident < valuation {
            for (after, amount) in [(0, 400), (45, 300), (120, 200), (250, 100)] {
                if accident + chrono::Duration::days(after) >= valuation {
                    unpaid += amount;
                }
            }
            accident = accident.succ_opt().unwrap();
        }
        f64::from(unpaid)
    }

    #[test]
    fn ibnr_on_a_book_with_known_ultimates_is_within_2_percent_whatever_day_of_the_quarter_it_is_taken() {
        let book = synthetic_book();
        let mut taken = day(2024, 4, 1);
        while taken <= day(2024, 12, 31) {
            // Figures taken on `taken`: events before the next day have happened.
            let params = DevelopmentParams {
                as_of: taken.succ_opt().unwrap(),
                quarters: 12,
                thin_claims: 1,
                segment_by: "region".into(),
            };
            let developed = develop_dealers(&book, &params).unwrap();
            let truth = true_ibnr(params.valuation());
            let ibnr = developed[0].ibnr_fen;
            assert!((ibnr - truth).abs() <= 0.02 * truth, "taken {taken}: IBNR {ibnr} against {truth}");
            taken += chrono::Duration::days(7);
        }
    }

    #[test]
    fn quarter_names_round_trip() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(quarter_name(quarter_index(day)), "2026Q4");
        assert_eq!(parse_quarter("2026Q4"), Some(quarter_index(day)));
    }
}
