//! Per-dealer figures for one period.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::facts::{ClaimFact, CommissionEntry, Facts, Payment, PolicyFact, PremiumEntry, Referral, ReserveMovement};
use super::period::{Period, china_day, period_end_at};
use crate::domain::money::{from_fen, to_fen};

/// Claim stages in which the claim is still being worked, in the order a claim moves through them.
pub const OPEN_STAGES: [&str; 4] = ["reported", "registered", "surveyed", "settled"];

/// Stages that mean the claim never becomes a loss, so it is not counted in claim frequency.
pub(super) const NOT_A_LOSS_STAGES: [&str; 2] = ["declined", "withdrawn"];

/// Days in a car-year: exposure is measured in years of cover, per DOMAIN.md on a 365-day year.
pub(super) const DAYS_PER_CAR_YEAR: i64 = 365;

const SECONDS_PER_HOUR: i64 = 3600;

/// Where a dealer's variable cost ratio sits against the bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Normal,
    Warning,
    Danger,
}

/// The per-dealer lines a dealer's figures are judged against. Variable cost ratio: ≤ `warning_above` is normal, up
/// to and including `danger_above` is a warning, above it is danger. Repair referrals: above `upside_down_above`
/// times the premium the dealer wrote, the dealer is upside down (倒挂).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bands {
    pub warning_above: Decimal,
    pub danger_above: Decimal,
    /// The repair-referral ratio (送修比) above which a dealer is upside down; 1 by default.
    #[serde(default = "default_upside_down_above")]
    pub upside_down_above: Decimal,
}

fn default_upside_down_above() -> Decimal {
    Decimal::ONE
}

impl Default for Bands {
    /// DOMAIN.md: a variable cost ratio above 91% leaves too little for fixed costs; above 94% the business loses money;
    /// a dealer sent more repair business than the premium it wrote is upside down.
    fn default() -> Self {
        Bands {
            warning_above: Decimal::new(91, 2),
            danger_above: Decimal::new(94, 2),
            upside_down_above: default_upside_down_above(),
        }
    }
}

/// Upside down (倒挂): the repair work the insurer sends the dealer, as a share of the premium the dealer wrote (送修比),
/// is above the threshold. Referred repairs are already part of incurred losses, so they are never added to them; a
/// dealer with referrals and no premium written is upside down.
pub fn is_upside_down(referral_value: Decimal, written_premium: Decimal, threshold: Decimal) -> bool {
    match referral_value.checked_div(written_premium) {
        Some(ratio) if written_premium > Decimal::ZERO => ratio > threshold,
        _ => referral_value > Decimal::ZERO,
    }
}

/// A loss ratio above 100%: the dealer's claims cost more than the premium they earned. Its own flag and alert.
pub fn loss_ratio_above_100(loss_ratio: Option<Decimal>) -> bool {
    loss_ratio.is_some_and(|ratio| ratio > Decimal::ONE)
}

impl Bands {
    /// The band `variable_cost_ratio` falls into; the upper bounds are inclusive.
    pub fn band(&self, variable_cost_ratio: Decimal) -> Band {
        if variable_cost_ratio > self.danger_above {
            Band::Danger
        } else if variable_cost_ratio > self.warning_above {
            Band::Warning
        } else {
            Band::Normal
        }
    }
}

/// Median and 90th percentile of a duration, in hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    pub median_hours: Decimal,
    pub p90_hours: Decimal,
}

/// How long claims closed in the period took, overall and per stage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CycleTimes {
    /// Claims whose `closed_at` falls (as a China day) in the period.
    pub closed: u64,
    pub report_to_close: Option<Stat>,
    /// Time spent in each of "reported", "registered", "surveyed", "settled", in that order; only stages with data.
    pub per_stage: Vec<(String, Stat)>,
}

/// The monitoring figures of one dealer for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub period: Period,
    /// Σ premium entries booked in the period (net written premium).
    pub written_premium: Decimal,
    /// Premium earned by days of cover in the period, summed exactly and rounded to the fen once.
    pub earned_premium: Decimal,
    /// Earned car-years: days covered per vehicle (by any of its policies) ÷ 365, summed.
    pub exposure: Decimal,
    /// Σ payments made in the period.
    pub paid: Decimal,
    /// Outstanding case reserves at period end on all the dealer's claims.
    pub case_reserves: Decimal,
    /// Accident-period incurred: payments before period end plus reserves at period end, on claims with accidents
    /// in the period.
    pub incurred: Decimal,
    /// Claims with accidents in the period, not declined or withdrawn.
    pub claim_count: u64,
    pub loss_ratio: Option<Decimal>,
    /// Loss ratio on premium stripped of the pricing coefficient, so dealers priced differently compare fairly.
    pub price_normalised_loss_ratio: Option<Decimal>,
    pub commission: Decimal,
    pub commission_ratio: Option<Decimal>,
    pub variable_cost_ratio: Option<Decimal>,
    pub band: Option<Band>,
    pub frequency: Option<Decimal>,
    pub severity: Option<Decimal>,
    /// `None` where not computed (the portfolio leaves cycle times to each dealer's dashboard).
    pub cycle: Option<CycleTimes>,
    pub referral_count: u64,
    pub referral_value: Decimal,
    pub referral_ratio: Option<Decimal>,
    /// Policies ending in the period and not cancelled.
    pub expiring: u64,
    /// Of `expiring`, those renewed by a later policy.
    pub renewed: u64,
    pub renewal_rate: Option<Decimal>,
    /// 倒挂: repairs sent to the dealer ÷ the premium it wrote is above the dealer's threshold (1 by default).
    pub upside_down: bool,
    /// The loss ratio is above 100%.
    #[serde(default)]
    pub loss_ratio_above_100: bool,
    /// Claims in an open stage now (not period-bound).
    pub open_claims: u64,
    /// Of `open_claims`, those past their stage's service target now.
    pub overdue_claims: u64,
}

/// One dealer's share of the facts, borrowed, so per-dealer and all-dealer paths share one computation.
#[derive(Default)]
struct DealerFacts<'a> {
    policies: Vec<&'a PolicyFact>,
    premiums: Vec<&'a PremiumEntry>,
    commissions: Vec<&'a CommissionEntry>,
    claims: Vec<&'a ClaimFact>,
    /// Payments booked to the dealer (for `paid`).
    payments: Vec<&'a Payment>,
    /// Payments on the dealer's claims (for `incurred`); identical to `payments` when the data is consistent.
    claim_payments: Vec<&'a Payment>,
    /// Reserve movements on the dealer's claims; movements carry no dealer, only a claim.
    reserves: Vec<&'a ReserveMovement>,
    referrals: Vec<&'a Referral>,
}

/// Figures for `dealer_id` over `period`.
/// Renewal counted per vehicle (a car whose compulsory and commercial policies both expire counts once): the
/// vehicles among `expiring` (policies not cancelled, ending in the period), one per end day, and those of them
/// renewed by a later policy of either product.
pub fn renewals_per_vehicle<'a>(expiring: impl Iterator<Item = &'a PolicyFact>) -> (u64, u64) {
    let mut vehicles: BTreeMap<(i64, NaiveDate), bool> = BTreeMap::new();
    for policy in expiring {
        *vehicles.entry((policy.vehicle_id, policy.end)).or_default() |= policy.renewed_by_policy;
    }
    let renewed = vehicles.values().filter(|renewed| **renewed).count();
    (vehicles.len() as u64, renewed as u64)
}

pub fn figures(facts: &Facts, dealer_id: i64, period: Period, bands: &Bands) -> Figures {
    let claims: Vec<&ClaimFact> = facts.claims.iter().filter(|c| c.dealer_id == dealer_id).collect();
    let claim_ids: HashSet<i64> = claims.iter().map(|c| c.claim_id).collect();
    let dealer = DealerFacts {
        policies: facts.policies.iter().filter(|p| p.dealer_id == dealer_id).collect(),
        premiums: facts.premiums.iter().filter(|p| p.dealer_id == dealer_id).collect(),
        commissions: facts.commissions.iter().filter(|c| c.dealer_id == dealer_id).collect(),
        claims,
        payments: facts.payments.iter().filter(|p| p.dealer_id == dealer_id).collect(),
        claim_payments: facts.payments.iter().filter(|p| claim_ids.contains(&p.claim_id)).collect(),
        reserves: facts.reserves.iter().filter(|r| claim_ids.contains(&r.claim_id)).collect(),
        referrals: facts.referrals.iter().filter(|r| r.dealer_id == dealer_id).collect(),
    };
    compute(&dealer, period, bands)
}

/// Figures for every dealer present in the facts, in one pass over the facts where reasonable (bucket by dealer
/// first), keyed by dealer id. Must equal calling `figures` per dealer.
pub fn figures_by_dealer(facts: &Facts, period: Period, bands: &Bands) -> BTreeMap<i64, Figures> {
    let mut buckets: BTreeMap<i64, DealerFacts<'_>> = BTreeMap::new();
    for p in &facts.policies {
        buckets.entry(p.dealer_id).or_default().policies.push(p);
    }
    for p in &facts.premiums {
        buckets.entry(p.dealer_id).or_default().premiums.push(p);
    }
    for c in &facts.commissions {
        buckets.entry(c.dealer_id).or_default().commissions.push(c);
    }
    // A claim id should belong to one dealer; a set keeps bad data from double-counting within a dealer.
    let mut claim_dealers: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for c in &facts.claims {
        buckets.entry(c.dealer_id).or_default().claims.push(c);
        claim_dealers.entry(c.claim_id).or_default().insert(c.dealer_id);
    }
    for p in &facts.payments {
        buckets.entry(p.dealer_id).or_default().payments.push(p);
        for dealer in claim_dealers.get(&p.claim_id).into_iter().flatten() {
            buckets.entry(*dealer).or_default().claim_payments.push(p);
        }
    }
    for r in &facts.reserves {
        for dealer in claim_dealers.get(&r.claim_id).into_iter().flatten() {
            buckets.entry(*dealer).or_default().reserves.push(r);
        }
    }
    for r in &facts.referrals {
        buckets.entry(r.dealer_id).or_default().referrals.push(r);
    }
    buckets.into_iter().map(|(dealer_id, dealer)| (dealer_id, compute(&dealer, period, bands))).collect()
}

fn compute(dealer: &DealerFacts<'_>, period: Period, bands: &Bands) -> Figures {
    let end_at = period_end_at(period);

    let written_premium: Decimal =
        dealer.premiums.iter().filter(|p| period.contains(p.booked_on)).map(|p| p.amount).sum();

    let mut earned = PremiumDays::default();
    let mut normalised = PremiumDays::default();
    // Once premium without a usable coefficient earns in the period, the normalised premium is unknown.
    let mut unpriced = false;
    for policy in &dealer.policies {
        let Some(term) = term_days(policy) else { continue };
        for segment in premium_segments(policy) {
            let days = period.overlap_days(segment.from, segment.to);
            if days <= 0 {
                continue;
            }
            earned.add(term, i128::from(segment.premium_fen) * i128::from(days));
            match segment.normalised_millifen {
                Some(n) => normalised.add(term, i128::from(n) * i128::from(days)),
                None => unpriced |= segment.premium_fen != 0,
            }
        }
    }
    let earned_premium = from_fen(earned.rounded());
    let normalised_earned = (!unpriced).then(|| normalised.exact() / Decimal::from(MILLIFEN_PER_YUAN));

    let exposure = exposure(&dealer.policies, period);

    let paid: Decimal = dealer.payments.iter().filter(|p| period.contains(p.paid_on)).map(|p| p.amount).sum();

    let reserves_at_end: Vec<&ReserveMovement> = dealer.reserves.iter().copied().filter(|r| r.at < end_at).collect();
    let case_reserves: Decimal = reserves_at_end.iter().map(|r| r.amount).sum();

    let mut incurred_by_claim: HashMap<i64, Decimal> = HashMap::new();
    for p in dealer.claim_payments.iter().filter(|p| p.paid_on < period.to) {
        *incurred_by_claim.entry(p.claim_id).or_default() += p.amount;
    }
    for r in &reserves_at_end {
        *incurred_by_claim.entry(r.claim_id).or_default() += r.amount;
    }
    let accident_claims: Vec<&ClaimFact> =
        dealer.claims.iter().copied().filter(|c| period.contains(c.accident_on)).collect();
    let incurred: Decimal =
        accident_claims.iter().map(|c| incurred_by_claim.get(&c.claim_id).copied().unwrap_or_default()).sum();
    let claim_count = count(accident_claims.iter().filter(|c| !NOT_A_LOSS_STAGES.contains(&c.stage.as_str())));

    let commission: Decimal =
        dealer.commissions.iter().filter(|c| period.contains(c.booked_on)).map(|c| c.amount).sum();

    let referrals_in_period = dealer.referrals.iter().filter(|r| period.contains(r.referred_on));
    let referral_count = count(referrals_in_period.clone());
    let referral_value: Decimal = referrals_in_period.map(|r| r.value).sum();

    let (expiring, renewed) = renewals_per_vehicle(
        dealer.policies.iter().filter(|p| period.contains(p.end) && p.cancelled_from.is_none()).copied(),
    );

    let open = dealer.claims.iter().filter(|c| OPEN_STAGES.contains(&c.stage.as_str()));
    let open_claims = count(open.clone());
    let overdue_claims = count(open.filter(|c| c.overdue));

    derive(
        Totals {
            period,
            written_premium,
            earned_premium,
            normalised_earned,
            exposure,
            paid,
            case_reserves,
            incurred,
            claim_count,
            commission,
            referral_count,
            referral_value,
            expiring,
            renewed,
            open_claims,
            overdue_claims,
        },
        Some(cycle_times(&dealer.claims, period)),
        bands,
    )
}

/// The sums a period's figures are derived from, however they were obtained (from the facts, or from the stored
/// monthly totals).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Totals {
    pub period: Period,
    pub written_premium: Decimal,
    pub earned_premium: Decimal,
    pub normalised_earned: Option<Decimal>,
    pub exposure: Decimal,
    pub paid: Decimal,
    pub case_reserves: Decimal,
    pub incurred: Decimal,
    pub claim_count: u64,
    pub commission: Decimal,
    pub referral_count: u64,
    pub referral_value: Decimal,
    pub expiring: u64,
    pub renewed: u64,
    pub open_claims: u64,
    pub overdue_claims: u64,
}

/// The ratios, band and flags DOMAIN.md defines on top of the sums.
pub(super) fn derive(t: Totals, cycle: Option<CycleTimes>, bands: &Bands) -> Figures {
    let loss_ratio = t.incurred.checked_div(t.earned_premium);
    let price_normalised_loss_ratio = t.normalised_earned.and_then(|n| t.incurred.checked_div(n));
    let commission_ratio = t.commission.checked_div(t.written_premium);
    let variable_cost_ratio = loss_ratio.zip(commission_ratio).and_then(|(l, c)| l.checked_add(c));
    Figures {
        period: t.period,
        written_premium: t.written_premium,
        earned_premium: t.earned_premium,
        exposure: t.exposure,
        paid: t.paid,
        case_reserves: t.case_reserves,
        incurred: t.incurred,
        claim_count: t.claim_count,
        loss_ratio,
        price_normalised_loss_ratio,
        commission: t.commission,
        commission_ratio,
        variable_cost_ratio,
        band: variable_cost_ratio.map(|v| bands.band(v)),
        frequency: Decimal::from(t.claim_count).checked_div(t.exposure),
        severity: t.incurred.checked_div(Decimal::from(t.claim_count)),
        cycle,
        referral_count: t.referral_count,
        referral_value: t.referral_value,
        referral_ratio: t.referral_value.checked_div(t.written_premium),
        expiring: t.expiring,
        renewed: t.renewed,
        renewal_rate: Decimal::from(t.renewed).checked_div(Decimal::from(t.expiring)),
        upside_down: is_upside_down(t.referral_value, t.written_premium, bands.upside_down_above),
        loss_ratio_above_100: loss_ratio_above_100(loss_ratio),
        open_claims: t.open_claims,
        overdue_claims: t.overdue_claims,
    }
}

/// Milli-fen in a yuan: the price-normalised premium keeps three places below the fen.
pub(super) const MILLIFEN_PER_YUAN: i64 = 100_000;

/// A policy's term in days, when it has one.
pub(super) fn term_days(policy: &PolicyFact) -> Option<i64> {
    let days = (policy.end - policy.start).num_days();
    (days > 0).then_some(days)
}

/// One stretch of cover at one full-term premium: `[from, to)`, already cut at the end of cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub premium_fen: i64,
    /// The premium with the pricing coefficient divided out, in milli-fen (half away from zero); `None` without a
    /// usable coefficient.
    pub normalised_millifen: Option<i64>,
}

/// The policy's premium segments in force, in order: the issue premium from the start, then each endorsement
/// from its effective day, all stopping at the end of cover. Empty stretches are left out.
pub(super) fn premium_segments(policy: &PolicyFact) -> Vec<Segment> {
    let cover_end = cover_end(policy);
    // Only commercial premium carries the channel coefficient; compulsory premium enters as it is.
    let coefficient = match crate::domain::underwriting::Product::parse(&policy.product) {
        Some(product) => product.pricing_coefficient(policy.pricing_coefficient),
        None => policy.pricing_coefficient,
    };
    let coefficient_micros = crate::domain::money::rate_to_micros(coefficient).ok().filter(|c| *c > 0);
    let mut out = Vec::new();
    for (i, (effective, premium)) in policy.segments.iter().enumerate() {
        // The issue premium applies from the start even if its effective day was recorded otherwise.
        let from = if i == 0 { policy.start } else { (*effective).max(policy.start) };
        let to = policy.segments.get(i + 1).map_or(cover_end, |(next, _)| (*next).min(cover_end));
        if to <= from {
            continue;
        }
        let premium_fen = to_fen(*premium).unwrap_or_default();
        let normalised_millifen =
            coefficient_micros.map(|c| round_div(i128::from(premium_fen) * 1_000_000_000, i128::from(c)));
        out.push(Segment {
            from,
            to,
            premium_fen,
            normalised_millifen: normalised_millifen.and_then(|n| i64::try_from(n).ok()),
        });
    }
    out
}

/// Premium × days of cover, kept per term length, so that premium earned by day is summed exactly and rounded
/// to the fen once (per dealer and period) rather than per policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PremiumDays(BTreeMap<i64, i128>);

impl PremiumDays {
    /// Adds `amount_days` (an amount × days) earned over a term of `term_days`.
    pub fn add(&mut self, term_days: i64, amount_days: i128) {
        *self.0.entry(term_days).or_default() += amount_days;
    }

    /// Σ amount_days ÷ term, rounded half away from zero; exact (a common denominator) unless that overflows,
    /// when 28-digit decimal division decides.
    pub fn rounded(&self) -> i64 {
        let exact = self.0.iter().filter(|(term, _)| **term > 0).try_fold((0i128, 1i128), |(num, den), (term, v)| {
            let term = i128::from(*term);
            let common = den.checked_div(gcd(den, term))?.checked_mul(term)?;
            let num = num.checked_mul(common / den)?.checked_add(v.checked_mul(common / term)?)?;
            Some((num, common))
        });
        match exact {
            Some((num, den)) => i64::try_from(round_div(num, den)).unwrap_or(i64::MAX),
            None => {
                let value = self.exact().round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
                i64::try_from(value.mantissa() / 10i128.pow(value.scale())).unwrap_or(i64::MAX)
            }
        }
    }

    /// Σ amount_days ÷ term as a decimal (28 significant digits).
    pub fn exact(&self) -> Decimal {
        self.0
            .iter()
            .filter_map(|(term, v)| Decimal::try_from_i128_with_scale(*v, 0).ok()?.checked_div(Decimal::from(*term)))
            .fold(Decimal::ZERO, |sum, part| sum.checked_add(part).unwrap_or(sum))
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

/// `numerator ÷ denominator` rounded half away from zero (denominator > 0).
pub(super) fn round_div(numerator: i128, denominator: i128) -> i128 {
    let half_up = (numerator.abs() * 2 + denominator) / (denominator * 2);
    if numerator < 0 { -half_up } else { half_up }
}

/// The exclusive last day of cover: the term end, or earlier when cancelled.
pub(super) fn cover_end(policy: &PolicyFact) -> NaiveDate {
    policy.cancelled_from.map_or(policy.end, |cancelled| cancelled.min(policy.end))
}

/// Earned car-years: per vehicle, the days of the period covered by any of its policies, ÷ 365.
///
/// A sale usually carries a compulsory and a commercial policy on one car; counting both would double exposure.
fn exposure(policies: &[&PolicyFact], period: Period) -> Decimal {
    let mut by_vehicle: HashMap<i64, Vec<&PolicyFact>> = HashMap::new();
    for policy in policies {
        by_vehicle.entry(policy.vehicle_id).or_default().push(policy);
    }
    let covered_days: i64 = by_vehicle
        .values()
        .flat_map(|vehicle| cover_intervals(vehicle))
        .map(|(from, to)| period.overlap_days(from, to))
        .sum();
    Decimal::from(covered_days).checked_div(Decimal::from(DAYS_PER_CAR_YEAR)).unwrap_or_default()
}

/// The days one vehicle is covered by any of its policies, as disjoint `[from, to)` intervals in order.
pub(super) fn cover_intervals(policies: &[&PolicyFact]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut intervals: Vec<(NaiveDate, NaiveDate)> =
        policies.iter().map(|p| (p.start, cover_end(p))).filter(|(from, to)| to > from).collect();
    intervals.sort_unstable();
    let mut merged: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for (from, to) in intervals {
        match merged.last_mut() {
            Some((_, last_to)) if from <= *last_to => *last_to = (*last_to).max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// Cycle times over claims closed (by China day) in the period.
///
/// Time in a stage runs from entering it to entering the next; a stage visited more than once counts its total.
/// Only visits that ended by the closure count, so a later reopening does not distort this closure's cycle.
pub fn cycle_times(claims: &[&ClaimFact], period: Period) -> CycleTimes {
    let cycles: Vec<ClaimCycle> = claims.iter().filter_map(|c| claim_cycle(c)).collect();
    cycle_stats(cycles.iter(), period)
}

/// One closed claim's cycle, in microseconds: what `cycle_times` takes its statistics over. The store keeps one per
/// closed claim (written at the closure), so a dashboard reads these instead of every claim's stage history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimCycle {
    pub claim_id: i64,
    pub dealer_id: i64,
    pub closed_at: DateTime<Utc>,
    pub report_to_close_us: i64,
    /// Time in each of `OPEN_STAGES`, in that order; `None` where the claim never was in the stage before closing.
    pub stage_us: [Option<i64>; OPEN_STAGES.len()],
}

/// The cycle of a closed claim (`None` for any other).
pub fn claim_cycle(claim: &ClaimFact) -> Option<ClaimCycle> {
    let closed_at = claim.closed_at?;
    let mut stage_us: [Option<i64>; OPEN_STAGES.len()] = [None; OPEN_STAGES.len()];
    for pair in claim.stages.windows(2) {
        let [(stage, entered), (_, left)] = pair else { continue };
        if *left > closed_at {
            continue;
        }
        if let Some(index) = OPEN_STAGES.iter().position(|s| *s == stage.as_str()) {
            let spent = micros_between(*entered, *left);
            stage_us[index] = Some(stage_us[index].unwrap_or_default().saturating_add(spent));
        }
    }
    Some(ClaimCycle {
        claim_id: claim.claim_id,
        dealer_id: claim.dealer_id,
        closed_at,
        report_to_close_us: micros_between(claim.reported_at, closed_at),
        stage_us,
    })
}

/// Cycle times over the cycles whose closure falls (as a China day) in the period.
pub fn cycle_stats<'a>(cycles: impl Iterator<Item = &'a ClaimCycle>, period: Period) -> CycleTimes {
    let closed: Vec<&ClaimCycle> = cycles.filter(|c| period.contains(china_day(c.closed_at))).collect();
    let report_to_close: Vec<Decimal> = closed.iter().map(|c| seconds(c.report_to_close_us)).collect();
    let mut per_stage_seconds: Vec<Vec<Decimal>> = vec![Vec::new(); OPEN_STAGES.len()];
    for cycle in &closed {
        for (samples, spent) in per_stage_seconds.iter_mut().zip(cycle.stage_us) {
            if let Some(spent) = spent {
                samples.push(seconds(spent));
            }
        }
    }
    CycleTimes {
        closed: count(closed.iter()),
        report_to_close: stat(report_to_close),
        per_stage: OPEN_STAGES
            .iter()
            .zip(per_stage_seconds)
            .filter_map(|(stage, samples)| stat(samples).map(|s| ((*stage).to_string(), s)))
            .collect(),
    }
}

/// Microseconds from `from` to `to` (saturating: a span that overflows them is no real claim's).
fn micros_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let delta = to - from;
    delta.num_microseconds().unwrap_or_else(|| delta.num_seconds().saturating_mul(1_000_000))
}

/// Exact seconds of a count of microseconds.
fn seconds(micros: i64) -> Decimal {
    Decimal::new(micros, 6)
}

/// Median and nearest-rank p90 of durations in seconds, reported in hours to 2 dp.
///
/// The statistics are taken on exact seconds and rounded once, so an even-count median stays at 2 dp.
fn stat(mut seconds: Vec<Decimal>) -> Option<Stat> {
    if seconds.is_empty() {
        return None;
    }
    seconds.sort_unstable();
    let n = seconds.len();
    let median = if n % 2 == 1 {
        seconds[n / 2]
    } else {
        (seconds[n / 2 - 1] + seconds[n / 2]).checked_div(Decimal::TWO).unwrap_or_default()
    };
    // ceil(0.9 × n) in integers, as a 1-based rank.
    let p90_rank = (9 * n).div_ceil(10).max(1);
    let p90 = seconds[p90_rank - 1];
    Some(Stat { median_hours: to_hours(median), p90_hours: to_hours(p90) })
}

fn to_hours(seconds: Decimal) -> Decimal {
    seconds
        .checked_div(Decimal::from(SECONDS_PER_HOUR))
        .unwrap_or_default()
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn count<I: Iterator>(items: I) -> u64 {
    u64::try_from(items.count()).unwrap_or(u64::MAX)
}
