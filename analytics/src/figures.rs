//! DOMAIN.md's monitoring figures for every dealer and one period, as one lazy query.
//!
//! The definitions are the service's (`domain::monitoring`), computed on whole columns:
//! money stays integer fen through every sum; earned premium is summed exactly (fen·days over
//! a common denominator of the term lengths) and rounded once per dealer, half away from zero,
//! as the service rounds; ratios are `f64` of exact integers.
//! The service's figures and these agree to the fen on money and to 1e-9 on ratios (a test in
//! the service checks it on demo data).

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::*;
use polars_plan::plans::{AExprSorted, OptFlags};

use crate::frames::{CHINA_OFFSET_MICROS, Frames, MICROS_PER_DAY, days, micros};

/// Claim stages still being worked, in the order a claim moves through them.
pub const OPEN_STAGES: [&str; 4] = ["reported", "registered", "surveyed", "settled"];
/// Claims in these stages never become a loss and are not counted as claims.
const NOT_A_LOSS_STAGES: [&str; 2] = ["declined", "withdrawn"];
const MICROS_PER_HOUR: i64 = 3_600_000_000;
/// Hundredths of an hour: cycle times are reported in hours to 2 places.
const MICROS_PER_CENTIHOUR: i64 = MICROS_PER_HOUR / 100;

/// What the figures are computed for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FigureParams {
    /// First day of the period.
    pub from: NaiveDate,
    /// Day after the period (exclusive).
    pub to: NaiveDate,
    /// "Now" for claims overdue in their stage.
    pub now: DateTime<Utc>,
    /// Hours a claim may wait in reported, registered and surveyed.
    pub target_hours: [i64; 3],
    /// Variable-cost-ratio bands in millionths: normal up to `warning_above`, danger above `danger_above`.
    pub warning_above_micros: i64,
    pub danger_above_micros: i64,
    /// The repair-referral ratio (referred repairs ÷ written premium) above which a dealer is upside down, in
    /// millionths.
    pub upside_down_above_micros: i64,
}

impl FigureParams {
    /// The period with DOMAIN.md's default service targets (24 h, 48 h, 120 h) and bands (91 %, 94 %).
    pub fn new(from: NaiveDate, to: NaiveDate, now: DateTime<Utc>) -> FigureParams {
        FigureParams {
            from,
            to,
            now,
            target_hours: [24, 48, 120],
            warning_above_micros: 910_000,
            danger_above_micros: 940_000,
            upside_down_above_micros: 1_000_000,
        }
    }

    /// The instant the period ends: its `to` day at 00:00 China time.
    fn end_micros(&self) -> i64 {
        i64::from(days(self.to)) * MICROS_PER_DAY - CHINA_OFFSET_MICROS
    }
}

/// The columns of [`dealer_figures`]' result, one row per dealer of the dealers frame.
pub const FIGURE_COLUMNS: [&str; 37] = [
    "dealer_id",
    "written_premium_fen",
    "earned_premium_fen",
    "covered_days",
    "exposure",
    "paid_fen",
    "case_reserves_fen",
    "incurred_fen",
    "claim_count",
    "loss_ratio",
    "price_normalised_loss_ratio",
    "commission_fen",
    "commission_ratio",
    "variable_cost_ratio",
    "band",
    "frequency",
    "severity",
    "closed_claims",
    "report_to_close_median_centihours",
    "report_to_close_p90_centihours",
    "reported_median_centihours",
    "reported_p90_centihours",
    "registered_median_centihours",
    "registered_p90_centihours",
    "surveyed_median_centihours",
    "surveyed_p90_centihours",
    "settled_median_centihours",
    "settled_p90_centihours",
    "referral_count",
    "referral_value_fen",
    "referral_ratio",
    "expiring",
    "renewed",
    "renewal_rate",
    "upside_down",
    "open_claims",
    "overdue_claims",
];

fn day_number(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

fn instant(name: &str) -> Expr {
    col(name).cast(DataType::Int64)
}

/// Whether an instant column falls on a China-local day in `[from, to)`: compared with the instants those days
/// start at, which is the same test as on the instant's day (the day is a floor, so monotone) without
/// working the day out for every row.
fn on_china_days(name: &str, from: i32, to: i32) -> Expr {
    let starts = |day: i32| lit(i64::from(day) * MICROS_PER_DAY - CHINA_OFFSET_MICROS);
    instant(name).gt_eq(starts(from)).and(instant(name).lt(starts(to)))
}

fn least(a: Expr, b: Expr) -> Expr {
    when(a.clone().lt(b.clone())).then(a).otherwise(b)
}

fn greatest(a: Expr, b: Expr) -> Expr {
    when(a.clone().gt(b.clone())).then(a).otherwise(b)
}

/// `numerator ÷ denominator` rounded half away from zero, in integers; `denominator` > 0.
fn round_div(numerator: Expr, denominator: Expr) -> Expr {
    let twice_d = denominator.clone() * lit(2i64);
    when(numerator.clone().gt_eq(lit(0i64)))
        .then((numerator.clone() * lit(2i64) + denominator.clone()).floor_div(twice_d.clone()))
        .otherwise(lit(0i64) - (lit(0i64) - numerator * lit(2i64) + denominator).floor_div(twice_d))
}

/// `numerator ÷ denominator` as f64, null when the denominator is zero (as the service's checked division).
fn ratio(numerator: Expr, denominator: Expr) -> Expr {
    when(denominator.clone().neq(lit(0)))
        .then(numerator.cast(DataType::Float64) / denominator.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

fn in_period(day: Expr, from: i32, to: i32) -> Expr {
    day.clone().gt_eq(lit(from)).and(day.lt(lit(to)))
}

/// Whether the row starts a new run of `keys` (the frame sorted by them): the first row, or any key differs
/// from the row before.
fn starts_run(keys: &[&str]) -> Expr {
    keys.iter()
        .map(|k| col(*k).neq(col(*k).shift(lit(1))).fill_null(lit(true)))
        .reduce(Expr::or)
        .unwrap_or_else(|| lit(true))
}

/// Whether the next row continues the run of `keys`.
fn next_in_run(keys: &[&str]) -> Expr {
    keys.iter()
        .map(|k| col(*k).eq(col(*k).shift(lit(-1))).fill_null(lit(false)))
        .reduce(Expr::and)
        .unwrap_or_else(|| lit(false))
}

/// Tells polars that `policy_id` is in ascending order when `sorted`: the frame it came from was checked to be
/// ([`Frames::flag_sorted_keys`]) and only order-keeping steps (filters, projections, stable uniques) followed.
fn still_sorted(frame: LazyFrame, sorted: bool) -> LazyFrame {
    if !sorted {
        return frame;
    }
    frame.with_column(col("policy_id").set_sorted_flag(ascending()))
}

fn ascending() -> AExprSorted {
    AExprSorted { descending: Some(false), nulls_last: None }
}

/// 1 where `column` is set, 0 where it is null: summed, how many rows have it.
fn present(column: Expr) -> Expr {
    column.is_not_null().cast(DataType::Int64)
}

/// Per dealer with rows in `frame`, the sum of each of `values` (integer or float expressions per row, named),
/// nulls left out: a group-by on `dealer_id` with plain sums.
///
/// Dealer ids are a small range of integers, so the sums are kept in arrays indexed by dealer ([`dense_sums`]):
/// one pass over the rows, no hashing. polars' group-bys took 90 ms (9 million ledger rows) to 290 ms (the
/// earned premium's 9 million rows) each on one core.
fn sum_by_dealer(frame: LazyFrame, values: impl IntoIterator<Item = Expr>) -> LazyFrame {
    frame
        .select(std::iter::once(col("dealer_id")).chain(values).collect::<Vec<_>>())
        // Same columns out as in (fewer rows), so no schema is given; nothing is pushed through it.
        .map(dense_sums, OptFlags::empty(), None, Some("sums by dealer"))
}

/// Widest range of dealer ids summed in arrays; a wider one is grouped by polars.
const DENSE_DEALER_RANGE: i64 = 1 << 22;

/// [`sum_by_dealer`] on a collected frame: `dealer_id` and the values, all Int64 or Float64.
fn dense_sums(frame: DataFrame) -> PolarsResult<DataFrame> {
    let dealer = frame.column("dealer_id")?.i64()?;
    let value_columns: Vec<&Column> = frame.columns().iter().filter(|c| c.name() != "dealer_id").collect();
    if let Some(other) = value_columns.iter().find(|c| !matches!(c.dtype(), DataType::Int64 | DataType::Float64)) {
        let message = format!("sums by dealer: {} is {}, not Int64 or Float64", other.name(), other.dtype());
        return Err(PolarsError::ComputeError(message.into()));
    }
    let range =
        dealer.min_max().filter(|(least, most)| most.checked_sub(*least).is_some_and(|span| span < DENSE_DEALER_RANGE));
    let (Some((least, most)), 0) = (range, dealer.null_count()) else {
        let names: Vec<PlSmallStr> = value_columns.iter().map(|c| c.name().clone()).collect();
        return frame
            .lazy()
            .group_by([col("dealer_id")])
            .agg(names.into_iter().map(|n| col(n).sum()).collect::<Vec<_>>())
            .collect();
    };
    let slot = |id: i64| (id - least) as usize;
    let slots = slot(most) + 1;
    let mut has_rows = vec![false; slots];
    dealer.downcast_iter().flat_map(|ids| ids.values().iter()).for_each(|id| has_rows[slot(*id)] = true);
    let dealers: Vec<i64> = (least..=most).filter(|id| has_rows[slot(*id)]).collect();
    let mut columns = vec![Column::new("dealer_id".into(), &dealers)];
    for values in value_columns {
        let summed = match values.dtype() {
            // Wrapping, as polars' integer sums.
            DataType::Int64 => add_up(dealer, values.i64()?, least, slots, &dealers, i64::wrapping_add).into_column(),
            _ => add_up(dealer, values.f64()?, least, slots, &dealers, |sum, value| sum + value).into_column(),
        };
        columns.push(summed.with_name(values.name().clone()));
    }
    DataFrame::new_infer_height(columns)
}

/// Adds each value (nulls left out) to its dealer's slot (dealer id − `least`, `slots` of them; the dealer ids
/// have no nulls) and gives the sums of `dealers`, in their order.
fn add_up<N: PolarsNumericType>(
    dealer: &Int64Chunked,
    values: &ChunkedArray<N>,
    least: i64,
    slots: usize,
    dealers: &[i64],
    add: impl Fn(N::Native, N::Native) -> N::Native,
) -> ChunkedArray<N> {
    let slot = |id: i64| (id - least) as usize;
    let mut sums = vec![N::Native::default(); slots];
    // Straight over the arrays when both are laid out alike (as a projection of one frame is) and nothing is null.
    if values.null_count() == 0 && dealer.chunk_lengths().eq(values.chunk_lengths()) {
        for (ids, values) in dealer.downcast_iter().zip(values.downcast_iter()) {
            for (id, value) in ids.values().iter().zip(values.values().iter()) {
                sums[slot(*id)] = add(sums[slot(*id)], *value);
            }
        }
    } else {
        for (id, value) in dealer.into_no_null_iter().zip(values.iter()) {
            if let Some(value) = value {
                sums[slot(id)] = add(sums[slot(id)], value);
            }
        }
    }
    ChunkedArray::from_vec(PlSmallStr::EMPTY, dealers.iter().map(|id| sums[slot(*id)]).collect())
}

/// Sum of an integer column, 0 when the dealer has no rows.
fn filled(name: &str) -> Expr {
    col(name).fill_null(lit(0i64))
}

/// Every figure of every dealer of `frames.dealers` for the period; see [`FIGURE_COLUMNS`].
pub fn dealer_figures(frames: &Frames, params: &FigureParams) -> PolarsResult<DataFrame> {
    collect_deep(dealer_figures_lazy(frames, params)?)
}

/// Collects a query on a thread with a large stack.
///
/// Polars plans and optimises a query recursively; the figures join a dozen sub-queries, which takes more than
/// the 2 MiB a test or tokio blocking thread has in an unoptimised build.
pub fn collect_deep(query: LazyFrame) -> PolarsResult<DataFrame> {
    const STACK: usize = 256 << 20;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("analytics".into())
            .stack_size(STACK)
            .spawn_scoped(scope, move || query.collect())
            .map_err(|e| PolarsError::ComputeError(format!("cannot start the analytics thread: {e}").into()))?
            .join()
            .unwrap_or_else(|_| Err(PolarsError::ComputeError("the analytics thread panicked".into())))
    })
}

/// [`dealer_figures`] as a lazy query, to combine with others before collecting.
pub fn dealer_figures_lazy(frames: &Frames, params: &FigureParams) -> PolarsResult<LazyFrame> {
    let dealers = frames.dealers.clone().lazy().select([col("dealer_id")]);
    let left = || JoinArgs::new(JoinType::Left);
    let joined = dealer_figure_parts(frames, params)?
        .into_iter()
        .fold(dealers, |acc, (_, part)| acc.join(part, [col("dealer_id")], [col("dealer_id")], left()));
    Ok(with_ratios(joined, params))
}

/// The sub-queries of [`dealer_figures_lazy`], each giving some of the sums per dealer (only dealers with some),
/// by name; for timing them one by one.
pub fn dealer_figure_parts(frames: &Frames, params: &FigureParams) -> PolarsResult<Vec<(&'static str, LazyFrame)>> {
    let (from, to) = (days(params.from), days(params.to));
    let end_at = params.end_micros();

    // Read by the earned premium, the exposure and the renewals: the days are worked out once.
    let policies = policy_days(frames).cache();

    let written = frames.policy_versions.clone().lazy().filter(on_china_days("created_at", from, to));
    let written = sum_by_dealer(written, [col("adjustment_fen").alias("written_premium_fen")]);

    // Both look at whole columns of the policies before their queries can be built (tens of milliseconds each at
    // 10 million policies, before the query starts), so they do it side by side.
    let (earned, exposure) = std::thread::scope(|scope| {
        let failed = |what: &str| PolarsError::ComputeError(format!("building the earned premium {what}").into());
        // A large stack as in `collect_deep`: it may collect a small query (the terms of the period).
        let earned = std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, || earned_by_dealer(frames, policies.clone(), from, to))
            .map_err(|e| failed(&format!("could not start: {e}")));
        let exposure = covered_days_by_dealer(frames, policies.clone(), from, to);
        let earned = earned.and_then(|thread| thread.join().unwrap_or_else(|_| Err(failed("panicked"))));
        (earned, exposure)
    });
    let (earned, exposure) = (earned?, exposure?);

    let paid = frames.payments.clone().lazy().filter(in_period(day_number("paid_on"), from, to));
    let paid = sum_by_dealer(paid, [col("amount_fen").alias("paid_fen")]);

    let claims = frames.claims.clone().lazy();
    // Each claim's dealer and whether its accident falls in the period; the movements are joined to it by claim
    // (merged when both are in claim order, as read) and summed per dealer.
    let accident_in_period = in_period(day_number("accident_on"), from, to);
    let claim_period = claims.clone().select([
        col("claim_id"),
        col("dealer_id"),
        accident_in_period.clone().alias("accident_in_period"),
    ]);
    let by_claim = || JoinArgs::new(JoinType::Inner);
    let movements = frames.reserves.clone().lazy().filter(instant("at").lt(lit(end_at)));
    let reserve_by_claim = if Frames::sorted_by(&frames.reserves, "claim_id") {
        // In claim order as read: a claim's reserve is the running total at its last movement less the running
        // total at the claim before, so one row per claim goes on to the join. Joining every movement and grouping
        // them by dealer took three times as long over 5.9 million movements.
        movements
            .select([
                col("claim_id"),
                col("amount_fen").cum_sum(false).alias("running"),
                next_in_run(&["claim_id"]).alias("more"),
            ])
            .filter(col("more").not())
            .select([
                col("claim_id").set_sorted_flag(ascending()),
                (col("running") - col("running").shift(lit(1)).fill_null(lit(0i64))).alias("amount_fen"),
            ])
    } else {
        movements.select([col("claim_id"), col("amount_fen")])
    };
    let reserves = sum_by_dealer(
        reserve_by_claim.join(claim_period.clone(), [col("claim_id")], [col("claim_id")], by_claim()),
        [
            col("amount_fen").alias("case_reserves_fen"),
            when(col("accident_in_period")).then(col("amount_fen")).otherwise(lit(0i64)).alias("reserve_incurred_fen"),
        ],
    );
    let paid_incurred = frames
        .payments
        .clone()
        .lazy()
        .filter(day_number("paid_on").lt(lit(to)))
        .select([col("claim_id"), col("amount_fen")])
        .join(claim_period, [col("claim_id")], [col("claim_id")], by_claim())
        .filter(col("accident_in_period"));
    let paid_incurred = sum_by_dealer(paid_incurred, [col("amount_fen").alias("paid_incurred_fen")]);
    let not_a_loss = Series::new("not_a_loss".into(), NOT_A_LOSS_STAGES.to_vec());
    let a_loss = col("stage").is_in(lit(not_a_loss).implode(false), false).not();
    let accident_claims =
        sum_by_dealer(claims.clone().filter(accident_in_period), [a_loss.cast(DataType::Int64).alias("claim_count")]);

    let commission = frames.commissions.clone().lazy().filter(in_period(day_number("booked_on"), from, to));
    let commission = sum_by_dealer(commission, [col("amount_fen").alias("commission_fen")]);

    let referrals = frames.referrals.clone().lazy().filter(in_period(day_number("referred_on"), from, to));
    let referrals = sum_by_dealer(
        referrals,
        [present(col("value_fen")).alias("referral_count"), col("value_fen").alias("referral_value_fen")],
    );

    let renewed_ids = policies
        .clone()
        .select([col("renewal_of_policy_id").alias("policy_id")])
        .drop_nulls(None)
        .sort(["policy_id"], SortMultipleOptions::default())
        .unique_stable(None, UniqueKeepStrategy::First)
        .with_column(lit(true).alias("is_renewed"));
    // Sorted just above: joined to the expiring policies (in policy order as read) by merging.
    let renewed_ids = still_sorted(renewed_ids, true);
    // Per vehicle (DOMAIN.md): a car whose compulsory and commercial policies both expire counts once, one per end
    // day, renewed when either policy was.
    let expiring_cars = policies
        .clone()
        .filter(in_period(col("end_d"), from, to).and(col("cancelled_from").is_null()))
        .join(renewed_ids, [col("policy_id")], [col("policy_id")], JoinArgs::new(JoinType::Left))
        .group_by([col("vehicle_id"), col("end_d")])
        .agg([
            col("dealer_id").first(),
            // true or, without a renewal, null.
            present(col("is_renewed")).max().alias("renewed"),
        ]);
    let renewals = sum_by_dealer(expiring_cars, [lit(1i64).cast(DataType::Int64).alias("expiring"), col("renewed")]);

    let open_claims = open_claims_by_dealer(claims, params);
    let cycle = cycle_times_by_dealer(frames, from, to);

    Ok(vec![
        ("written", written),
        ("earned", earned),
        ("exposure", exposure),
        ("paid", paid),
        ("reserves", reserves),
        ("paid_incurred", paid_incurred),
        ("accident_claims", accident_claims),
        ("commission", commission),
        ("referrals", referrals),
        ("renewals", renewals),
        ("open_claims", open_claims),
        ("cycle_times", cycle),
    ])
}

/// The figures from the parts' sums joined to every dealer (none: zero).
fn with_ratios(joined: LazyFrame, params: &FigureParams) -> LazyFrame {
    let money = [
        "written_premium_fen",
        "earned_premium_fen",
        "covered_days",
        "paid_fen",
        "case_reserves_fen",
        "reserve_incurred_fen",
        "paid_incurred_fen",
        "claim_count",
        "commission_fen",
        "referral_count",
        "referral_value_fen",
        "expiring",
        "renewed",
        "open_claims",
        "overdue_claims",
        "closed_claims",
    ];
    let with_sums = joined
        .with_columns(money.iter().map(|c| filled(c).alias(*c)).collect::<Vec<_>>())
        .with_column((col("reserve_incurred_fen") + col("paid_incurred_fen")).alias("incurred_fen"));

    let band_scale = 1_000_000.0; // millionths → 1e12ths, see `band`
    let with_ratios = with_sums
        .with_columns([
            ratio(col("covered_days"), lit(365i64)).alias("exposure"),
            ratio(col("incurred_fen"), col("earned_premium_fen")).alias("loss_ratio"),
            when(col("normalisation_unknown").fill_null(lit(false)))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(ratio(col("incurred_fen"), col("normalised_earned_fen").fill_null(lit(0.0))))
                .alias("price_normalised_loss_ratio"),
            ratio(col("commission_fen"), col("written_premium_fen")).alias("commission_ratio"),
            ratio(col("claim_count") * lit(365i64), col("covered_days")).alias("frequency"),
            (ratio(col("incurred_fen"), col("claim_count")) / lit(100.0)).alias("severity"),
            ratio(col("referral_value_fen"), col("written_premium_fen")).alias("referral_ratio"),
            ratio(col("renewed"), col("expiring")).alias("renewal_rate"),
            // Upside down: referred repairs ÷ written premium above the threshold, compared in integers
            // (value × 10⁶ > written × threshold); with nothing written, any referral. Referred repairs are part of
            // incurred and are never added to it.
            when(col("written_premium_fen").gt(lit(0i64)))
                .then(
                    (col("referral_value_fen") * lit(1_000_000i64))
                        .gt(col("written_premium_fen") * lit(params.upside_down_above_micros)),
                )
                .otherwise(col("referral_value_fen").gt(lit(0i64)))
                .alias("upside_down"),
        ])
        .with_column((col("loss_ratio") + col("commission_ratio")).alias("variable_cost_ratio"))
        .with_column(band(params, band_scale).alias("band"));
    with_ratios.select(FIGURE_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
}

/// The variable cost ratio's band. The ratio is compared at 12 decimal places, so a ratio that is exactly on
/// a threshold (e.g. 0.87 + 0.04 = 0.91) is not pushed over it by binary floating point.
fn band(params: &FigureParams, scale: f64) -> Expr {
    let at_12_places = (col("variable_cost_ratio") * lit(1e12)).round(0, RoundMode::HalfAwayFromZero);
    let threshold = |micros: i64| lit(micros as f64 * scale);
    when(col("variable_cost_ratio").is_null())
        .then(lit(NULL).cast(DataType::String))
        .when(at_12_places.clone().gt(threshold(params.danger_above_micros)))
        .then(lit("danger"))
        .when(at_12_places.gt(threshold(params.warning_above_micros)))
        .then(lit("warning"))
        .otherwise(lit("normal"))
}

/// Earned premium per dealer: per policy, each premium segment (issue, then each endorsement from its
/// effective day) × its days of cover in the period ÷ the policy's days, summed exactly (integer fen·days over a
/// common denominator of the term lengths) and rounded to the fen once per dealer, as the service does.
/// Also the premium with the pricing coefficient divided back out (each segment's premium to the milli-fen), for
/// the price-normalised loss ratio, which is unknown once premium without a usable coefficient earns.
///
/// Every policy in cover is first counted as if it was never endorsed: its issue premium (which the policy row
/// keeps; only an endorsement changes it) over its whole cover. The endorsed policies, found in the versions, then
/// add their segments and take that first count back. Every part is an integer, so the sums are the segments'
/// sums exactly, and the policies are read once, with no join or filter over all of them to split them by
/// endorsement.
fn earned_by_dealer(frames: &Frames, policies: LazyFrame, from: i32, to: i32) -> PolarsResult<LazyFrame> {
    let overlap = |start: Expr, end: Expr| {
        (end.clip_max(lit(to)) - start.clip_min(lit(from))).clip_min(lit(0i32)).cast(DataType::Int64)
    };
    let pricing = Pricing::of(frames)?;
    // Only policies in cover at some time in the period earn anything in it.
    let earns = col("start_d").lt(lit(to)).and(col("cover_end_d").gt(lit(from))).and(col("end_d").gt(col("start_d")));
    let terms = policies
        // One filter on a column of its own: polars splits a conjunction into filters it runs one after another.
        .with_column(earns.alias("earns"))
        .filter(col("earns"))
        .select([
            col("policy_id"),
            col("start_d"),
            col("cover_end_d"),
            col("premium_fen"),
            col("dealer_id"),
            (col("end_d") - col("start_d")).cast(DataType::Int64).alias("term_days"),
            col("pricing_coefficient_micros"),
        ])
        // Read twice below (every term as issued, and the endorsed ones'); polars' own subplan elimination did not
        // see the two as one once their columns were pruned differently, and filtered 10 million policies twice.
        .cache();
    let common = common_term(frames, &terms)?;
    let per_policy = || [col("dealer_id"), col("term_days")];
    let values = pricing.value_columns();
    let as_issued = |terms: LazyFrame| {
        let earning = earning(col("premium_fen"), overlap(col("start_d"), col("cover_end_d")), pricing);
        terms.select(per_policy().into_iter().chain(earning).collect::<Vec<_>>())
    };
    let versions_sorted = Frames::sorted_by(&frames.policy_versions, "policy_id");
    let endorsed_ids = still_sorted(
        frames
            .policy_versions
            .clone()
            .lazy()
            .filter(col("kind").eq(lit("endorse")))
            .select([col("policy_id")])
            .unique_stable(None, UniqueKeepStrategy::First),
        versions_sorted,
    );
    // The endorsed policies' terms, in policy order when the versions are (the join keeps the left side's order):
    // both sides are in policy order as read, so polars merges them.
    let endorsed_terms = still_sorted(
        endorsed_ids.join(
            terms.clone(),
            [col("policy_id")],
            [col("policy_id")],
            JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Inner) },
        ),
        versions_sorted,
    )
    .cache(); // read twice: their segments, and their count as issued taken back
    let segments = frames
        .policy_versions
        .clone()
        .lazy()
        .select([
            col("policy_id"),
            col("seq"),
            col("kind"),
            day_number("effective_on").alias("effective_d"),
            col("premium_after_fen"),
        ])
        .join(
            endorsed_terms.clone().select([
                col("policy_id"),
                col("start_d"),
                col("cover_end_d"),
                col("pricing_coefficient_micros"),
                col("dealer_id"),
                col("term_days"),
            ]),
            [col("policy_id")],
            [col("policy_id")],
            JoinArgs::new(JoinType::Inner),
        )
        // issue and endorse: every kind but cancel. After the join, on the endorsed policies' versions only: the
        // start is never null there, but naming it keeps polars from moving the filter onto all the versions.
        .filter(col("kind").neq(lit("cancel")).or(col("start_d").is_null()))
        .sort(["policy_id", "seq"], SortMultipleOptions::default())
        .with_column(greatest(col("effective_d"), col("start_d")).alias("segment_d"))
        .with_columns([
            // The issue premium applies from the start even if its effective day was recorded otherwise.
            when(starts_run(&["policy_id"])).then(col("start_d")).otherwise(col("segment_d")).alias("seg_start"),
            when(next_in_run(&["policy_id"]))
                .then(least(col("segment_d").shift(lit(-1)), col("cover_end_d")))
                .otherwise(col("cover_end_d"))
                .alias("seg_end"),
        ])
        .select(
            per_policy()
                .into_iter()
                .chain(earning(col("premium_after_fen"), overlap(col("seg_start"), col("seg_end")), pricing))
                .collect::<Vec<_>>(),
        );
    let taken_back = as_issued(endorsed_terms).select(
        per_policy().into_iter().chain(values.iter().map(|v| (lit(0i64) - col(*v)).alias(*v))).collect::<Vec<_>>(),
    );
    let premium_days = concat([as_issued(terms), segments, taken_back], UnionArgs::default())?;
    // Each row's premium-days scaled to the common denominator (a multiple of its term), so one grouping by dealer
    // sums them exactly: the per-dealer total is Σ over the terms of (Σ premium-days) × common ÷ term, which fits
    // in an i64 exactly when that does.
    let mut sums = vec![
        (col("premium_days") * lit(common).floor_div(col("term_days"))).alias("common_days"),
        (col("normalised_days").cast(DataType::Float64) / col("term_days").cast(DataType::Float64))
            .alias("normalised_share"),
    ];
    // As the service: once some premium without a usable coefficient earned in the period, the normalised
    // premium is unknown.
    let unknown = if pricing.plain {
        lit(false)
    } else {
        sums.push(col("unpriced"));
        col("unpriced").gt(lit(0i64))
    };
    Ok(sum_by_dealer(premium_days, sums).select([
        col("dealer_id"),
        round_div(col("common_days"), lit(common)).alias("earned_premium_fen"),
        (col("normalised_share") / lit(MILLIFEN_PER_FEN)).alias("normalised_earned_fen"),
        unknown.alias("normalisation_unknown"),
    ]))
}

/// The policies with their start, end and end of cover (the cancellation, if earlier) as day numbers.
fn policy_days(frames: &Frames) -> LazyFrame {
    frames.policies.clone().lazy().with_columns([
        day_number("start").alias("start_d"),
        day_number("end").alias("end_d"),
        when(col("cancelled_from").is_null())
            .then(day_number("end"))
            .otherwise(least(day_number("cancelled_from"), day_number("end")))
            .alias("cover_end_d"),
    ])
}

/// Premium earned per dealer over `[from, to)` alone (`dealer_id, earned_premium_fen`), exactly as the figures
/// count it: for the chain ladder's ultimate loss ratio, whose premium runs to the valuation.
pub fn earned_premium_by_dealer(frames: &Frames, from: NaiveDate, to: NaiveDate) -> PolarsResult<LazyFrame> {
    Ok(earned_by_dealer(frames, policy_days(frames), days(from), days(to))?
        .select([col("dealer_id"), col("earned_premium_fen")]))
}

/// Milli-fen in a fen: the normalised premium is kept to a thousandth of a fen.
const MILLIFEN_PER_FEN: f64 = 1000.0;

/// What the premiums in the frames allow the normalised premium to skip. With no negative premium and every
/// pricing coefficient usable (> 0, as the rating tables ensure), it is a plain rounded division, with no sign
/// test and never null, so nothing is unpriced.
#[derive(Debug, Clone, Copy)]
struct Pricing {
    plain: bool,
}

impl Pricing {
    fn of(frames: &Frames) -> PolarsResult<Pricing> {
        let least = |df: &DataFrame, name: &str| -> PolarsResult<Option<i64>> { Ok(df.column(name)?.i64()?.min()) };
        let plain = least(&frames.policies, "premium_fen")?.is_none_or(|p| p >= 0)
            && least(&frames.policy_versions, "premium_after_fen")?.is_none_or(|p| p >= 0)
            && least(&frames.policies, "pricing_coefficient_micros")?.is_none_or(|c| c > 0);
        Ok(Pricing { plain })
    }

    /// The columns [`earning`] gives.
    fn value_columns(self) -> Vec<&'static str> {
        if self.plain {
            vec!["premium_days", "normalised_days"]
        } else {
            vec!["premium_days", "normalised_days", "unpriced"]
        }
    }
}

/// `premium` (fen) earning over `days`: premium-days, normalised premium-days (milli-fen · days) and, unless
/// every coefficient is usable, whether this premium earned without one (1 or 0, so that counts add up and take
/// back).
fn earning(premium: Expr, days: Expr, pricing: Pricing) -> Vec<Expr> {
    let mut columns = vec![
        (premium.clone() * days.clone()).alias("premium_days"),
        (normalised_millifen(premium.clone(), pricing) * days.clone()).alias("normalised_days"),
    ];
    if !pricing.plain {
        let unpriced = col("pricing_coefficient_micros").lt_eq(lit(0i64)).and((premium * days).neq(lit(0i64)));
        columns.push(unpriced.cast(DataType::Int64).alias("unpriced"));
    }
    columns
}

/// A premium (fen) with the pricing coefficient (millionths) divided out, in milli-fen, half away from zero; null
/// without a usable coefficient.
fn normalised_millifen(premium_fen: Expr, pricing: Pricing) -> Expr {
    let coefficient = col("pricing_coefficient_micros");
    if pricing.plain {
        // n ≥ 0 and d > 0: half away from zero is half up, ⌊(2n + d) ÷ 2d⌋.
        return (premium_fen * lit(2_000_000_000i64) + coefficient.clone()).floor_div(coefficient * lit(2i64));
    }
    when(coefficient.clone().gt(lit(0i64)))
        .then(round_div(premium_fen * lit(1_000_000_000i64), coefficient))
        .otherwise(lit(NULL).cast(DataType::Int64))
}

/// The least common multiple of the policy terms that earn in the period (365 and 366 days give 133,590), so that
/// premium-days over different terms add up as integers.
///
/// Read off every policy's term (a quick pass over two columns) when every premium scaled to it still adds up
/// in an i64 — a premium earns at most its premium × the multiple, so that holds whenever the premiums' total
/// × the multiple does; otherwise off the terms that earn in the period alone (their filter then runs twice).
fn common_term(frames: &Frames, terms: &LazyFrame) -> PolarsResult<i64> {
    let too_varied = || PolarsError::ComputeError("policy terms too varied to add earned premium exactly".into());
    let total_premium: i128 = frames
        .policies
        .column("premium_fen")?
        .i64()?
        .downcast_iter()
        .flat_map(|chunk| chunk.values().iter())
        .map(|fen| i128::from(fen.unsigned_abs()))
        .sum();
    if let Some(common) = every_terms_multiple(&frames.policies)?
        && total_premium.checked_mul(i128::from(common)).is_some_and(|bound| bound <= i128::from(i64::MAX))
    {
        return Ok(common);
    }
    let period_terms = terms.clone().select([col("term_days").unique()]).collect()?;
    least_common_multiple(&period_terms).ok_or_else(too_varied)
}

/// The least common multiple of a frame's positive `term_days`, `None` when it overflows an i64.
fn least_common_multiple(terms: &DataFrame) -> Option<i64> {
    let column = terms.column("term_days").ok()?.i64().ok()?;
    column.iter().flatten().try_fold(1i64, with_term)
}

/// The least common multiple of `common` and `term` (1 for a term that is not positive), `None` on overflow.
fn with_term(common: i64, term: i64) -> Option<i64> {
    if term <= 0 {
        return Some(common);
    }
    let (mut a, mut b) = (common, term);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (common / a).checked_mul(term)
}

/// The least common multiple of every policy's term (days from start to end), `None` when it overflows an i64.
///
/// One pass over the two columns that skips a term equal to the one before: almost every policy runs a year, so
/// this costs little more than reading them (polars' `unique` over 10 million terms took ~80 ms, before the query
/// could start).
fn every_terms_multiple(policies: &DataFrame) -> PolarsResult<Option<i64>> {
    let start = policies.column("start")?.date()?.physical();
    let end = policies.column("end")?.date()?.physical();
    let mut common = Some(1i64);
    let mut last_term = 0i64;
    let mut add = |start: i32, end: i32| {
        let term = i64::from(end) - i64::from(start);
        if term != last_term {
            last_term = term;
            common = common.and_then(|common| with_term(common, term));
        }
    };
    // Straight over the arrays when both are laid out alike without nulls (as read); row by row otherwise.
    if start.null_count() == 0 && end.null_count() == 0 && start.chunk_lengths().eq(end.chunk_lengths()) {
        for (start, end) in start.downcast_iter().zip(end.downcast_iter()) {
            start.values().iter().zip(end.values().iter()).for_each(|(start, end)| add(*start, *end));
        }
    } else {
        start.iter().zip(end.iter()).for_each(|(start, end)| {
            if let (Some(start), Some(end)) = (start, end) {
                add(start, end);
            }
        });
    }
    Ok(common)
}

/// Days of the period each vehicle was covered by any of the dealer's policies, summed per dealer.
///
/// The intervals (days relative to the period's start) are sorted per (dealer, vehicle, start), and one sweep
/// ([`days_added`]) lets each add only the part after the furthest end seen before it for the same vehicle.
fn covered_days_by_dealer(frames: &Frames, policies: LazyFrame, from: i32, to: i32) -> PolarsResult<LazyFrame> {
    let period_days = i64::from(to) - i64::from(from);
    let intervals = policies
        .select([
            col("dealer_id"),
            col("vehicle_id"),
            (col("start_d").clip_min(lit(from)) - lit(from)).cast(DataType::Int64).alias("from_d"),
            (col("cover_end_d").clip_max(lit(to)) - lit(from)).cast(DataType::Int64).alias("to_d"),
        ])
        .filter(col("to_d").gt(col("from_d")));
    // Days within the period take this many bits (both ends lie in 0..=period_days).
    let day_bits = 64 - period_days.max(1).leading_zeros();
    let day_unit = 1i64 << day_bits;
    let int64 = |_: &Schema, field: &Field| Ok(Field::new(field.name().clone(), DataType::Int64));
    // Sorting one integer column is several times faster than a frame on four: the ids and both ends are packed
    // into one when their ranges fit in 62 bits (they do for any real portfolio), and the sweep reads them back.
    let sorted = match sort_key(frames, day_bits)? {
        Some((dealer_min, vehicle_min, vehicle_bits)) => {
            let dealer_vehicle_unit = day_unit * day_unit;
            let dealer_unit = dealer_vehicle_unit << vehicle_bits;
            intervals
                .select([(((col("dealer_id") - lit(dealer_min)) * lit(dealer_unit))
                    + ((col("vehicle_id") - lit(vehicle_min)) * lit(dealer_vehicle_unit))
                    + col("from_d") * lit(day_unit)
                    + col("to_d"))
                .sort(SortOptions::default().with_multithreaded(true))
                .alias("key")])
                .with_columns([
                    // Non-decreasing with the key, so polars may group the dealers by slicing.
                    (col("key").floor_div(lit(dealer_unit)) + lit(dealer_min))
                        .set_sorted_flag(ascending())
                        .alias("dealer_id"),
                    col("key").apply(move |key| days_added_packed(&key, day_bits), int64).alias("added"),
                ])
        }
        None => intervals
            .sort(["dealer_id", "vehicle_id", "from_d", "to_d"], SortMultipleOptions::default())
            .with_column(starts_run(&["dealer_id", "vehicle_id"]).cast(DataType::Int64).cum_sum(false).alias("run"))
            .with_column(
                col("run")
                    .apply_many(days_added_by_columns, &[col("from_d"), col("to_d")], |_: &Schema, _: &[Field]| {
                        Ok(Field::new("added".into(), DataType::Int64))
                    })
                    .alias("added"),
            ),
    };
    Ok(sorted.group_by([col("dealer_id")]).agg([col("added").sum().alias("covered_days")]))
}

/// The days each interval adds to its vehicle's cover: `intervals` are (run, from, to), sorted by run and then
/// from, a run being one dealer's vehicle; each adds the part after the furthest end seen before it in its run.
///
/// A sweep in one pass: as polars expressions (a running maximum over the run and end packed together, shifted,
/// unpacked, compared) it took about 230 ms of the 10-million-policy pass against about 10 ms here.
fn days_added(intervals: impl Iterator<Item = (i64, i64, i64)>, rows: usize) -> Column {
    let mut added = Vec::with_capacity(rows);
    let mut current_run = None;
    let mut furthest = i64::MIN;
    for (run, from, to) in intervals {
        if current_run != Some(run) {
            current_run = Some(run);
            furthest = i64::MIN;
        }
        added.push((to - from.max(furthest)).max(0));
        furthest = furthest.max(to);
    }
    Int64Chunked::from_vec("added".into(), added).into_column()
}

fn without_nulls<'a>(column: &'a Column, what: &str) -> PolarsResult<&'a Int64Chunked> {
    let values = column.i64()?;
    if values.null_count() > 0 {
        return Err(PolarsError::ComputeError(format!("exposure: {what} has nulls").into()));
    }
    Ok(values)
}

/// [`days_added`] over keys that pack (run, from, to), the days in the low `2 × day_bits` bits.
fn days_added_packed(key: &Column, day_bits: u32) -> PolarsResult<Column> {
    let keys = without_nulls(key, "the sort key")?;
    let day_mask = (1i64 << day_bits) - 1;
    let intervals =
        keys.into_no_null_iter().map(|key| (key >> (2 * day_bits), (key >> day_bits) & day_mask, key & day_mask));
    Ok(days_added(intervals, keys.len()))
}

/// [`days_added`] over three columns: run, from, to.
fn days_added_by_columns(columns: &mut [Column]) -> PolarsResult<Column> {
    let [run, from, to] = columns else {
        return Err(PolarsError::ComputeError("exposure: expected run, from and to".into()));
    };
    let (run, from, to) = (without_nulls(run, "the run")?, without_nulls(from, "from")?, without_nulls(to, "to")?);
    let intervals = run.into_no_null_iter().zip(from.into_no_null_iter()).zip(to.into_no_null_iter());
    Ok(days_added(intervals.map(|((run, from), to)| (run, from, to)), run.len()))
}

/// (least dealer id, least vehicle id, bits for vehicle ids) when dealer, vehicle and two days of `day_bits` each
/// pack into one non-negative i64; `None` when they do not.
fn sort_key(frames: &Frames, day_bits: u32) -> PolarsResult<Option<(i64, i64, u32)>> {
    let range = |name: &str| -> PolarsResult<Option<(i64, i64)>> {
        let column = frames.policies.column(name)?.i64()?;
        Ok(column.min_max())
    };
    let bits = |span: i64| 64 - span.leading_zeros();
    let (Some((dealer_min, dealer_max)), Some((vehicle_min, vehicle_max))) =
        (range("dealer_id")?, range("vehicle_id")?)
    else {
        return Ok(None);
    };
    let (Some(dealer_span), Some(vehicle_span)) =
        (dealer_max.checked_sub(dealer_min), vehicle_max.checked_sub(vehicle_min))
    else {
        return Ok(None);
    };
    let (dealer_bits, vehicle_bits) = (bits(dealer_span), bits(vehicle_span));
    let fits = u64::from(dealer_bits) + u64::from(vehicle_bits) + 2 * u64::from(day_bits) <= 62;
    Ok(fits.then_some((dealer_min, vehicle_min, vehicle_bits)))
}

/// Claims in an open stage now, and those past their stage's service target.
fn open_claims_by_dealer(claims: LazyFrame, params: &FigureParams) -> LazyFrame {
    let now = micros(params.now);
    let target = |hours: i64| lit(hours.saturating_mul(MICROS_PER_HOUR));
    let [register, survey, settle] = params.target_hours;
    let waited = lit(now) - instant("stage_since");
    let overdue = when(col("stage").eq(lit("reported")))
        .then(waited.clone().gt(target(register)))
        .when(col("stage").eq(lit("registered")))
        .then(waited.clone().gt(target(survey)))
        .when(col("stage").eq(lit("surveyed")))
        .then(waited.gt(target(settle)))
        .otherwise(lit(false));
    let open = Series::new("open".into(), OPEN_STAGES.to_vec());
    sum_by_dealer(
        claims.filter(col("stage").is_in(lit(open).implode(false), false)),
        [present(col("claim_id")).alias("open_claims"), overdue.cast(DataType::Int64).alias("overdue_claims")],
    )
}

/// Median and nearest-rank p90 of an integer microsecond column per group, in hundredths of an hour rounded
/// half away from zero (as the service reports hours to 2 places). Nulls are left out; with no values both are
/// null.
///
/// Polars' grouped quantiles select within each group instead of sorting it. Each is read as an exact value of the
/// column (a `Float64` holds any duration below 2^53 µs, 285 years): the median is the lower and upper middle
/// values' mean, and polars' "equiprobable" quantile is the value of rank ⌈0.9 n⌉, the nearest rank (`n × 0.9` is
/// within a tenth of an ulp of the exact product, so its ceiling is never off by one).
fn duration_stats(values: Expr, prefix: &str) -> [Expr; 2] {
    let value_at = |q: f64, method: QuantileMethod| values.clone().quantile(lit(q), method).cast(DataType::Int64);
    let (low, high) = (value_at(0.5, QuantileMethod::Lower), value_at(0.5, QuantileMethod::Higher));
    // median = (low + high) / 2 µs; in centihours round((low + high) / (2 × µs per centihour)).
    let median = round_div(low + high, lit(2 * MICROS_PER_CENTIHOUR));
    let p90 = round_div(value_at(0.9, QuantileMethod::Equiprobable), lit(MICROS_PER_CENTIHOUR));
    [median.alias(format!("{prefix}_median_centihours")), p90.alias(format!("{prefix}_p90_centihours"))]
}

/// Cycle times of claims closed (by China day) in the period: report → close and each open stage.
///
/// Read from the claims' cycles (one row per closed claim, kept by the service at each closure), so that the
/// pass does not replay every claim's stage history: the history's rules (repeats of a stage are one visit;
/// only visits that ended by the last closure count) are applied once, where the cycle is recorded.
fn cycle_times_by_dealer(frames: &Frames, from: i32, to: i32) -> LazyFrame {
    let [rtc_median, rtc_p90] = duration_stats(col("report_to_close_us"), "report_to_close");
    let mut statistics =
        vec![col("claim_id").count().cast(DataType::Int64).alias("closed_claims"), rtc_median, rtc_p90];
    for stage in OPEN_STAGES {
        statistics.extend(duration_stats(col(format!("{stage}_us")), stage));
    }
    frames
        .claim_cycles
        .clone()
        .lazy()
        .filter(on_china_days("closed_at", from, to))
        // In dealer order first, so that every quantile reads its dealer's rows as one slice: gathering them for
        // each of the fifteen quantiles cost more than sorting the closed claims once.
        .sort(["dealer_id"], SortMultipleOptions::default().with_maintain_order(false))
        .group_by([col("dealer_id")])
        .agg(statistics)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::frames::*;

    fn d(y: i32, m: u32, day: u32) -> i32 {
        days(NaiveDate::from_ymd_opt(y, m, day).unwrap())
    }

    fn t(y: i32, m: u32, day: u32, h: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, day, h, 0, 0).unwrap().timestamp_micros()
    }

    /// Dealer 1 in January 2024, worked out by hand below; dealer 2 has no business at all.
    fn january() -> Frames {
        let mut dealers = DealerRows::default();
        for id in [1, 2] {
            dealers.push(
                id,
                format!("D{id}"),
                format!("Dealer {id}"),
                "East".into(),
                "BYD".into(),
                "G".into(),
                "active".into(),
            );
        }
        let mut policies = PolicyRows::default();
        let mut versions = PolicyVersionRows::default();
        let c = || "commercial".to_string();
        let n = || "new_car".to_string();
        // 1: car 10, all January, 366-day term: 366 000 × 31 / 366 = 31 000 fen; priced at 0.8.
        policies.push(1, 10, 1, c(), n(), d(2023, 7, 1), d(2024, 7, 1), None, 366_000, 800_000, None);
        versions.push(1, 1, 1, "issue".into(), d(2023, 7, 1), t(2023, 6, 30, 10), 366_000, 366_000);
        // 2: car 10 again from Jan 16 (China day of 17:00 UTC is the 16th), endorsed on the 21st:
        // (5 × 95 000 + 11 × 110 000) / 366 = 4 603.825.
        policies.push(
            2,
            10,
            1,
            "compulsory".into(),
            n(),
            d(2024, 1, 16),
            d(2025, 1, 16),
            None,
            110_000,
            1_000_000,
            None,
        );
        versions.push(2, 1, 1, "issue".into(), d(2024, 1, 16), t(2024, 1, 15, 17), 95_000, 95_000);
        versions.push(2, 1, 2, "endorse".into(), d(2024, 1, 21), t(2024, 1, 21, 2), 110_000, 14_795);
        // 3: car 11, cancelled from Jan 10: 9 days × 365 000 / 365 = 9 000; refund −10 000 written in January.
        policies.push(
            3,
            11,
            1,
            c(),
            n(),
            d(2023, 1, 20),
            d(2024, 1, 20),
            Some(d(2024, 1, 10)),
            365_000,
            1_000_000,
            None,
        );
        versions.push(3, 1, 1, "issue".into(), d(2023, 1, 20), t(2023, 1, 19, 3), 365_000, 365_000);
        versions.push(3, 1, 2, "cancel".into(), d(2024, 1, 10), t(2024, 1, 9, 4), 0, -10_000);
        // 4: car 12 expiring Jan 25, renewed by 5: 24 × 200 000 / 365 = 13 150.68; 5: 7 × 183 000 / 366 = 3 500.
        // Summed exactly: 61 254.51 → 61 255.
        policies.push(4, 12, 1, c(), n(), d(2023, 1, 25), d(2024, 1, 25), None, 200_000, 1_000_000, None);
        versions.push(4, 1, 1, "issue".into(), d(2023, 1, 25), t(2023, 1, 24, 3), 200_000, 200_000);
        policies.push(
            5,
            12,
            1,
            c(),
            "renewal".into(),
            d(2024, 1, 25),
            d(2025, 1, 25),
            None,
            183_000,
            1_000_000,
            Some(4),
        );
        versions.push(5, 1, 1, "issue".into(), d(2024, 1, 25), t(2024, 1, 24, 1), 183_000, 183_000);

        let mut claims = ClaimRows::default();
        let mut cycles = ClaimCycleRows::default();
        // A closed claim's cycle at dealer 1: closed at, report to close and each open stage in hours.
        let mut cycle = |claim: i64, closed_at: i64, total: i64, stages: [Option<i64>; 4]| {
            let [reported, registered, surveyed, settled] = stages.map(|h| h.map(|h| h * 3_600_000_000));
            cycles.push(claim, 1, closed_at, total * 3_600_000_000, reported, registered, surveyed, settled);
        };
        let mut reserves = ReserveRows::default();
        let mut payments = PaymentRows::default();
        // 100: January accident, closed Jan 10 after 10 h reported, 24 h registered, 48 h surveyed, 48 h settled
        // (the payment in settled is not a new entry); paid 800 000; reserve released.
        claims.push(100, 1, d(2024, 1, 5), t(2024, 1, 5, 2), "closed".into(), t(2024, 1, 10, 12));
        // Report to close: Jan 5 02:00 → Jan 10 12:00, 130 h.
        cycle(100, t(2024, 1, 10, 12), 130, [Some(10), Some(24), Some(48), Some(48)]);
        reserves.push(100, t(2024, 1, 5, 12), 900_000);
        reserves.push(100, t(2024, 1, 9, 0), -800_000);
        reserves.push(100, t(2024, 1, 10, 12), -100_000);
        payments.push(100, 1, d(2024, 1, 9), 800_000);
        // 101: January accident, registered since Jan 20 05:00, reserve 500 000; overdue on Feb 10.
        claims.push(101, 1, d(2024, 1, 20), t(2024, 1, 20, 3), "registered".into(), t(2024, 1, 20, 5));
        reserves.push(101, t(2024, 1, 20, 5), 500_000);
        // 102: declined, reserve released: no loss, not counted.
        claims.push(102, 1, d(2024, 1, 25), t(2024, 1, 25, 3), "declined".into(), t(2024, 1, 26, 3));
        reserves.push(102, t(2024, 1, 25, 5), 100_000);
        reserves.push(102, t(2024, 1, 26, 3), -100_000);
        // 103: December accident still settling, paid 200 000 in January, 100 000 left in reserve.
        claims.push(103, 1, d(2023, 12, 20), t(2023, 12, 20, 1), "settled".into(), t(2023, 12, 30, 1));
        reserves.push(103, t(2023, 12, 21, 1), 300_000);
        reserves.push(103, t(2024, 1, 3, 1), -200_000);
        payments.push(103, 1, d(2024, 1, 3), 200_000);
        // 104: November accident closed Jan 2: 6 h, 24 h, 48 h, then 1 410 h settled; report to close 1 488 h.
        claims.push(104, 1, d(2023, 11, 1), t(2023, 11, 1, 0), "closed".into(), t(2024, 1, 2, 0));
        cycle(104, t(2024, 1, 2, 0), 1_488, [Some(6), Some(24), Some(48), Some(1_410)]);
        // 105: closed on Feb 1 00:00 China time (Jan 31 16:00 UTC): after the period, not counted; never registered.
        claims.push(105, 1, d(2023, 12, 30), t(2024, 1, 31, 14), "closed".into(), t(2024, 1, 31, 16));
        cycle(105, t(2024, 1, 31, 16), 2, [Some(2), None, None, None]);
        // 106: closed on Jan 1 00:00 China time (Dec 31 16:00 UTC): in the period; never surveyed. So the surveyed
        // statistics have one sample fewer than report to close.
        claims.push(106, 1, d(2023, 12, 18), t(2023, 12, 19, 4), "closed".into(), t(2023, 12, 31, 16));
        cycle(106, t(2023, 12, 31, 16), 300, [Some(1), Some(299), None, None]);

        let mut commissions = CommissionRows::default();
        for (on, amount) in
            [(d(2023, 12, 1), 1_000), (d(2024, 1, 16), 3_800), (d(2024, 1, 24), 7_320), (d(2024, 1, 9), -400)]
        {
            commissions.push(1, on, amount);
        }
        let mut referrals = ReferralRows::default();
        referrals.push(1, d(2024, 1, 8), 600_000);
        referrals.push(1, d(2023, 12, 22), 50_000);

        let mut frames = Frames::empty().unwrap();
        frames.dealers = dealers.into_frame().unwrap();
        frames.policies = policies.into_frame().unwrap();
        frames.policy_versions = versions.into_frame().unwrap();
        frames.claims = claims.into_frame().unwrap();
        frames.claim_cycles = cycles.into_frame().unwrap();
        frames.reserves = reserves.into_frame().unwrap();
        frames.payments = payments.into_frame().unwrap();
        frames.commissions = commissions.into_frame().unwrap();
        frames.referrals = referrals.into_frame().unwrap();
        frames
    }

    fn params() -> FigureParams {
        FigureParams::new(
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 1).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 10, 0, 0, 0).unwrap(),
        )
    }

    fn int(df: &DataFrame, column: &str, row: usize) -> Option<i64> {
        df.column(column).unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().get(row)
    }

    fn float(df: &DataFrame, column: &str, row: usize) -> Option<f64> {
        df.column(column).unwrap().f64().unwrap().get(row)
    }

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.unwrap();
        assert!((actual - expected).abs() <= 1e-12 * expected.abs().max(1.0), "{actual} vs {expected}");
    }

    #[test]
    fn january_by_hand() {
        let df = dealer_figures(&january(), &params()).unwrap();
        assert_eq!(df.get_column_names().len(), FIGURE_COLUMNS.len());
        assert_eq!(int(&df, "dealer_id", 0), Some(1));
        let i = |c| int(&df, c, 0);
        assert_eq!(i("written_premium_fen"), Some(95_000 + 14_795 - 10_000 + 183_000));
        assert_eq!(i("earned_premium_fen"), Some(61_255));
        assert_eq!(i("covered_days"), Some(31 + 9 + 31));
        assert_eq!(i("paid_fen"), Some(1_000_000));
        assert_eq!(i("case_reserves_fen"), Some(600_000));
        assert_eq!(i("incurred_fen"), Some(1_300_000));
        assert_eq!(i("claim_count"), Some(2));
        assert_eq!(i("commission_fen"), Some(10_720));
        assert_eq!(i("referral_count"), Some(1));
        assert_eq!(i("referral_value_fen"), Some(600_000));
        assert_eq!((i("expiring"), i("renewed")), (Some(1), Some(1)));
        assert_eq!((i("open_claims"), i("overdue_claims")), (Some(2), Some(1)));
        // Closed in January: 100 (130 h), 104 (1 488 h) and 106 (300 h, at the period's first instant); not 105.
        assert_eq!(i("closed_claims"), Some(3));
        assert_eq!(i("report_to_close_median_centihours"), Some(30_000));
        assert_eq!(i("report_to_close_p90_centihours"), Some(148_800)); // rank ⌈0.9 × 3⌉ = 3
        // reported 10, 6, 1 h; registered 24, 24, 299 h; surveyed 48, 48 h (106 never was); settled 48, 1 410 h.
        assert_eq!((i("reported_median_centihours"), i("reported_p90_centihours")), (Some(600), Some(1_000)));
        assert_eq!((i("registered_median_centihours"), i("registered_p90_centihours")), (Some(2_400), Some(29_900)));
        assert_eq!((i("surveyed_median_centihours"), i("surveyed_p90_centihours")), (Some(4_800), Some(4_800)));
        assert_eq!((i("settled_median_centihours"), i("settled_p90_centihours")), (Some(72_900), Some(141_000)));

        let f = |c| float(&df, c, 0);
        let earned = 61_255.0;
        close(f("exposure"), 71.0 / 365.0);
        close(f("loss_ratio"), 1_300_000.0 / earned);
        // Normalised premium is not rounded: policy 2 earns 1 685 000 / 366 and policy 4 4 800 000 / 365 of it.
        let normalised = 38_750.0 + 1_685_000.0 / 366.0 + 9_000.0 + 4_800_000.0 / 365.0 + 3_500.0;
        close(f("price_normalised_loss_ratio"), 1_300_000.0 / normalised);
        close(f("commission_ratio"), 10_720.0 / 282_795.0);
        close(f("variable_cost_ratio"), 1_300_000.0 / earned + 10_720.0 / 282_795.0);
        close(f("frequency"), 2.0 * 365.0 / 71.0);
        close(f("severity"), 6_500.0);
        close(f("referral_ratio"), 600_000.0 / 282_795.0);
        close(f("renewal_rate"), 1.0);
        assert_eq!(df.column("band").unwrap().str().unwrap().get(0), Some("danger"));
        assert_eq!(df.column("upside_down").unwrap().bool().unwrap().get(0), Some(true));
    }

    #[test]
    fn exposure_is_the_same_when_ids_are_too_wide_to_pack_into_one_sort_key() {
        let mut frames = january();
        assert!(sort_key(&frames, 5).unwrap().is_some());
        let wide = frames
            .policies
            .clone()
            .lazy()
            .with_column(
                when(col("vehicle_id").eq(lit(12i64)))
                    .then(col("vehicle_id") + lit(1i64 << 60))
                    .otherwise(col("vehicle_id"))
                    .alias("vehicle_id"),
            )
            .collect()
            .unwrap();
        frames.policies = wide;
        assert!(sort_key(&frames, 5).unwrap().is_none());
        let df = dealer_figures(&frames, &params()).unwrap();
        assert_eq!(int(&df, "covered_days", 0), Some(31 + 9 + 31));
    }

    /// The sums in arrays give what polars' group-by gives: nulls left out, floats, chunks laid out differently,
    /// and dealer ids too far apart for arrays (grouped by polars then).
    #[test]
    fn sums_by_dealer_are_polars_group_by_sums() {
        let frame = |dealers: &[i64], amounts: &[Option<i64>], shares: &[Option<f64>]| {
            df!("dealer_id" => dealers, "amount" => amounts, "share" => shares).unwrap().lazy()
        };
        let first =
            frame(&[3, 1, 3, 7], &[Some(5), None, Some(-2), Some(4)], &[Some(0.5), Some(1.0), None, Some(0.25)]);
        let second = frame(&[1, 7], &[Some(10), Some(1)], &[Some(2.0), None]);
        let by_polars = |lazy: LazyFrame| {
            lazy.group_by([col("dealer_id")])
                .agg([col("amount").sum(), col("share").sum()])
                .sort(["dealer_id"], SortMultipleOptions::default())
                .collect()
                .unwrap()
        };
        for far in [0i64, 1 << 40] {
            // The second frame's dealers moved far off: too wide a range for arrays.
            let second = second.clone().with_column(col("dealer_id") + lit(far));
            let both = concat([first.clone(), second], UnionArgs { rechunk: false, ..Default::default() }).unwrap();
            let summed = sum_by_dealer(both.clone(), [col("amount"), col("share")])
                .sort(["dealer_id"], SortMultipleOptions::default())
                .collect()
                .unwrap();
            assert!(summed.equals_missing(&by_polars(both)), "dealer ids {far} apart: {summed}");
        }
    }

    #[test]
    fn keys_flagged_sorted_give_the_same_figures() {
        let hashed = dealer_figures(&january(), &params()).unwrap();
        let mut frames = january();
        frames.flag_sorted_keys().unwrap();
        assert!(Frames::sorted_by(&frames.policies, "policy_id"));
        assert!(Frames::sorted_by(&frames.policy_versions, "policy_id"));
        assert!(Frames::sorted_by(&frames.claims, "claim_id"));
        // Running totals at each claim's last movement instead of a row per movement.
        assert!(Frames::sorted_by(&frames.reserves, "claim_id"));
        // Merge joins and sliced groups instead of hashing: the same figures.
        assert!(dealer_figures(&frames, &params()).unwrap().equals_missing(&hashed));
    }

    #[test]
    fn keys_out_of_order_are_not_flagged() {
        let mut frames = january();
        frames.policies = frames.policies.reverse();
        frames.flag_sorted_keys().unwrap();
        assert!(!Frames::sorted_by(&frames.policies, "policy_id"));
        assert!(Frames::sorted_by(&frames.policy_versions, "policy_id"));
    }

    #[test]
    fn frames_read_in_any_order_are_sorted_by_their_keys() {
        let hashed = dealer_figures(&january(), &params()).unwrap();
        let mut frames = january();
        // As a table's rows come back from a sequential scan after updates moved some of them.
        for df in [&mut frames.policies, &mut frames.policy_versions, &mut frames.claims, &mut frames.reserves] {
            *df = df.reverse();
        }
        frames.sort_by_keys().unwrap();
        for (df, key) in [
            (&frames.policies, "policy_id"),
            (&frames.policy_versions, "policy_id"),
            (&frames.claims, "claim_id"),
            (&frames.reserves, "claim_id"),
        ] {
            assert!(Frames::sorted_by(df, key), "{key}");
        }
        // Within a policy, its versions in sequence.
        let versions = frames.policy_versions.select(["policy_id", "seq"]).unwrap();
        let in_order = versions.sort(["policy_id", "seq"], SortMultipleOptions::default()).unwrap();
        assert!(versions.equals(&in_order), "{versions}");
        assert!(dealer_figures(&frames, &params()).unwrap().equals_missing(&hashed));
    }

    #[test]
    fn a_dealer_without_business_has_zeros_and_no_ratios() {
        let df = dealer_figures(&january(), &params()).unwrap();
        assert_eq!(int(&df, "dealer_id", 1), Some(2));
        for column in ["written_premium_fen", "earned_premium_fen", "covered_days", "incurred_fen", "claim_count"] {
            assert_eq!(int(&df, column, 1), Some(0), "{column}");
        }
        for column in ["loss_ratio", "commission_ratio", "variable_cost_ratio", "frequency", "severity", "renewal_rate"]
        {
            assert_eq!(float(&df, column, 1), None, "{column}");
        }
        assert_eq!(df.column("band").unwrap().str().unwrap().get(1), None);
        assert_eq!(df.column("upside_down").unwrap().bool().unwrap().get(1), Some(false));
        assert_eq!(int(&df, "report_to_close_median_centihours", 1), None);
    }

    #[test]
    fn premium_without_a_usable_coefficient_leaves_the_normalised_premium_unknown() {
        let before = dealer_figures(&january(), &params()).unwrap();
        let mut frames = january();
        // Dealer 2 sells one policy priced without a coefficient, endorsed on January 11 from 366 000 to 732 000
        // over a 366-day term: 10 × 1 000 + 21 × 2 000 = 52 000 fen earned in January.
        let mut policies = PolicyRows::default();
        policies.push(
            6,
            20,
            2,
            "commercial".into(),
            "new_car".into(),
            d(2024, 1, 1),
            d(2025, 1, 1),
            None,
            732_000,
            0,
            None,
        );
        let mut versions = PolicyVersionRows::default();
        versions.push(6, 2, 1, "issue".into(), d(2024, 1, 1), t(2024, 1, 1, 2), 366_000, 366_000);
        versions.push(6, 2, 2, "endorse".into(), d(2024, 1, 11), t(2024, 1, 11, 2), 732_000, 366_000);
        frames.policies = frames.policies.vstack(&policies.into_frame().unwrap()).unwrap();
        frames.policy_versions = frames.policy_versions.vstack(&versions.into_frame().unwrap()).unwrap();
        let after = dealer_figures(&frames, &params()).unwrap();

        assert_eq!(int(&after, "earned_premium_fen", 1), Some(52_000));
        assert_eq!(float(&after, "loss_ratio", 1), Some(0.0));
        assert_eq!(float(&after, "price_normalised_loss_ratio", 1), None);
        // A zero coefficient anywhere takes the general rounding (signs, nulls) for every policy: dealer 1's figures,
        // an endorsed policy among them, come out the same as by the plain one (ratios but for the float sums' order).
        for column in FIGURE_COLUMNS {
            match before.column(column).unwrap().dtype() {
                DataType::Float64 => close(float(&after, column, 0), float(&before, column, 0).unwrap()),
                _ => assert_eq!(after.column(column).unwrap().get(0).ok(), before.column(column).unwrap().get(0).ok()),
            }
        }
    }

    #[test]
    fn the_common_term_is_every_policys_unless_the_premiums_are_too_large_for_it() {
        let mut frames = january();
        let period_terms = df!("term_days" => [365i64]).unwrap().lazy();
        // Terms of 365 and 366 days among the policies.
        assert_eq!(common_term(&frames, &period_terms).unwrap(), 133_590);
        // A premium whose product with 133 590 leaves an i64: the period's terms alone.
        frames.policies = frames
            .policies
            .lazy()
            .with_column(
                when(col("policy_id").eq(lit(1i64)))
                    .then(lit(i64::MAX / 1000))
                    .otherwise(col("premium_fen"))
                    .alias("premium_fen"),
            )
            .collect()
            .unwrap();
        assert_eq!(common_term(&frames, &period_terms).unwrap(), 365);
    }

    #[test]
    fn a_ratio_exactly_on_a_band_threshold_stays_below_it() {
        // 0.87 + 0.04 is 0.9100000000000001 in binary floating point; the band must still be "normal".
        let mut params = params();
        params.warning_above_micros = 910_000;
        let df = df!("variable_cost_ratio" => [Some(0.87 + 0.04), Some(0.9100001), None]).unwrap();
        let banded = collect_deep(df.lazy().with_column(band(&params, 1_000_000.0).alias("band"))).unwrap();
        let bands: Vec<Option<&str>> = banded.column("band").unwrap().str().unwrap().iter().collect();
        assert_eq!(bands, [Some("normal"), Some("warning"), None]);
    }

    #[test]
    fn round_div_rounds_half_away_from_zero() {
        let df = df!("n" => [5i64, 15, -5, -15, 7], "d" => [10i64, 10, 10, 10, 10]).unwrap();
        let rounded = collect_deep(df.lazy().select([round_div(col("n"), col("d")).alias("r")])).unwrap();
        let values: Vec<Option<i64>> = rounded.column("r").unwrap().i64().unwrap().iter().collect();
        assert_eq!(values, [Some(1), Some(2), Some(-1), Some(-2), Some(1)]);
    }
}
