//! Monthly and daily totals per dealer from which every figure of a period starting on a first follows exactly, so
//! dashboards read a few hundred rows instead of every policy and claim.
//!
//! Flows (written premium, commission, payments, referrals, renewals, claim counts) add up month by month. Premium
//! earned by day and exposure are not flows, so they are stored as *rate changes*: a premium segment adds its
//! full-term premium to the rate on the day it starts and takes it off on the day it stops. Over a period `[a, b)`
//! a change of `r` on day `d` contributes `r × (b − max(a, d))` premium-days, so a month needs only `Σ r` and
//! `Σ r × (d − first of month)`. Incurred losses need the accident month and the month each payment or reserve
//! movement happened: a small development table, which is also the chain-ladder triangle.
//!
//! Figures are taken *as of* a day, so a period may end inside its last month. Every total is therefore also kept
//! per day (`days`, `development_days`): the whole months before the cut come from the monthly rows, the month
//! being cut from the rows of its days before the cut.
//!
//! Every write keeps these totals by adding the difference its change makes (`after − before`); [`Rollup::from_facts`]
//! rebuilds them, and the tests hold the two ways to the same figures.

use std::collections::{BTreeMap, HashMap};
use std::ops::{Add, AddAssign, Neg};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::compute::{
    Bands, CycleTimes, DAYS_PER_CAR_YEAR, Figures, MILLIFEN_PER_YUAN, NOT_A_LOSS_STAGES, PremiumDays, Totals,
    cover_intervals, derive, premium_segments, term_days,
};
use super::facts::{ClaimFact, Facts, PolicyFact};
use super::period::{Period, china_day};
use crate::domain::money::{from_fen, to_fen};

/// The row a total belongs to. `term_days` is the policy term for premium rate changes (earned premium is exact
/// per term length) and 0 for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthKey {
    pub dealer_id: i64,
    /// The first of the month.
    pub month: NaiveDate,
    pub term_days: i32,
}

/// One dealer-month's totals, all integers (fen, milli-fen, counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonthTotals {
    /// Σ full-term premium starting (+) or stopping (−) this month.
    pub cover_fen: i64,
    /// Σ of the same × days from the first of the month to the change.
    pub cover_fen_days: i64,
    /// As `cover_fen`, with the pricing coefficient divided out (milli-fen).
    pub normalised_millifen: i64,
    pub normalised_millifen_days: i64,
    /// As `cover_fen`, for premium with no usable pricing coefficient.
    pub unpriced_fen: i64,
    pub unpriced_fen_days: i64,
    /// Vehicles coming into (+) or out of (−) cover.
    pub cars: i64,
    pub car_days: i64,
    pub written_fen: i64,
    pub commission_fen: i64,
    pub paid_fen: i64,
    pub referral_count: i64,
    pub referral_fen: i64,
    /// Policies ending this month, not cancelled; and of those, renewed.
    pub expiring: i64,
    pub renewed: i64,
    /// Claims with accidents this month, not declined or withdrawn.
    pub claim_count: i64,
}

/// The row of one day's totals: what happened or changed on `day`. The `*_days` fields of its totals are 0 (a
/// change on the day itself is 0 days into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayKey {
    pub dealer_id: i64,
    pub day: NaiveDate,
    pub term_days: i32,
}

/// Payments and reserve movements of claims with accidents on `accident_on`, made on `movement_on`. A movement in a
/// later month than its accident keeps only the accident's month (`accident_on` its first day): periods start on a
/// first, so they hold all of that month or none of it, and the cells of a month's movements stay few.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevelopmentDayKey {
    pub dealer_id: i64,
    pub accident_on: NaiveDate,
    pub movement_on: NaiveDate,
}

/// Payments and reserve movements of claims with accidents in `accident_month`, made in `movement_month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevelopmentKey {
    pub dealer_id: i64,
    pub accident_month: NaiveDate,
    pub movement_month: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DevelopmentTotals {
    pub paid_fen: i64,
    pub reserve_fen: i64,
}

macro_rules! each_field {
    ($struct:ident { $($field:ident),* }) => {
        impl $struct {
            /// Every field, in declaration order (for storage).
            pub fn fields(&self) -> Vec<i64> {
                vec![$(self.$field),*]
            }
            /// From [`Self::fields`]' order; missing values are 0.
            pub fn from_fields(values: &[i64]) -> Self {
                let mut values = values.iter().copied();
                $struct { $($field: values.next().unwrap_or_default()),* }
            }
            pub const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn apply(&mut self, other: &Self, sign: i64) {
                $(self.$field = self.$field.saturating_add(other.$field.saturating_mul(sign));)*
            }
            pub fn is_zero(&self) -> bool {
                $(self.$field == 0)&&*
            }
        }
    };
}

each_field!(MonthTotals {
    cover_fen,
    cover_fen_days,
    normalised_millifen,
    normalised_millifen_days,
    unpriced_fen,
    unpriced_fen_days,
    cars,
    car_days,
    written_fen,
    commission_fen,
    paid_fen,
    referral_count,
    referral_fen,
    expiring,
    renewed,
    claim_count
});
each_field!(DevelopmentTotals { paid_fen, reserve_fen });

/// Monthly totals of any number of dealers, or the change a write makes to them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rollup {
    pub months: BTreeMap<MonthKey, MonthTotals>,
    pub days: BTreeMap<DayKey, MonthTotals>,
    pub development: BTreeMap<DevelopmentKey, DevelopmentTotals>,
    pub development_days: BTreeMap<DevelopmentDayKey, DevelopmentTotals>,
}

impl AddAssign<Rollup> for Rollup {
    fn add_assign(&mut self, other: Rollup) {
        self.merge(&other, 1);
    }
}

impl Add for Rollup {
    type Output = Rollup;
    fn add(mut self, other: Rollup) -> Rollup {
        self.merge(&other, 1);
        self
    }
}

impl Neg for Rollup {
    type Output = Rollup;
    fn neg(self) -> Rollup {
        let mut out = Rollup::default();
        out.merge(&self, -1);
        out
    }
}

/// The first of the month `day` is in.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl Rollup {
    fn merge(&mut self, other: &Rollup, sign: i64) {
        for (key, totals) in &other.months {
            self.add_month(*key, totals, sign);
        }
        for (key, totals) in &other.days {
            self.add_day(*key, totals, sign);
        }
        for (key, totals) in &other.development {
            self.add_development(*key, totals, sign);
        }
        for (key, totals) in &other.development_days {
            self.add_development_day(*key, totals, sign);
        }
    }

    /// Adds `sign` × one month's totals under `key` (stored totals come in several rows per key: shards).
    pub fn add_month(&mut self, key: MonthKey, totals: &MonthTotals, sign: i64) {
        let entry = self.months.entry(key).or_default();
        entry.apply(totals, sign);
        if entry.is_zero() {
            self.months.remove(&key);
        }
    }

    /// Adds `sign` × one day's totals under `key`.
    pub fn add_day(&mut self, key: DayKey, totals: &MonthTotals, sign: i64) {
        let entry = self.days.entry(key).or_default();
        entry.apply(totals, sign);
        if entry.is_zero() {
            self.days.remove(&key);
        }
    }

    /// Adds `sign` × one day's development totals under `key`.
    pub fn add_development_day(&mut self, key: DevelopmentDayKey, totals: &DevelopmentTotals, sign: i64) {
        let entry = self.development_days.entry(key).or_default();
        entry.apply(totals, sign);
        if entry.is_zero() {
            self.development_days.remove(&key);
        }
    }

    /// Adds `sign` × one development cell's totals under `key`.
    pub fn add_development(&mut self, key: DevelopmentKey, totals: &DevelopmentTotals, sign: i64) {
        let entry = self.development.entry(key).or_default();
        entry.apply(totals, sign);
        if entry.is_zero() {
            self.development.remove(&key);
        }
    }

    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.months.is_empty()
            && self.days.is_empty()
            && self.development.is_empty()
            && self.development_days.is_empty()
    }

    /// Records something on `day` in its month's row and its day's row: `record(totals, days into the row)`.
    fn on_day(&mut self, dealer_id: i64, day: NaiveDate, term_days: i64, record: impl Fn(&mut MonthTotals, i64)) {
        let term_days = i32::try_from(term_days).unwrap_or(0);
        let month = MonthKey { dealer_id, month: month_of(day), term_days };
        record(self.months.entry(month).or_default(), (day - month.month).num_days());
        record(self.days.entry(DayKey { dealer_id, day, term_days }).or_default(), 0);
    }

    /// A rate of `amount` from `from` until `to` (exclusive), as its two changes.
    fn rate(&mut self, dealer_id: i64, term_days: i64, from: NaiveDate, to: NaiveDate, amount: i64, pick: RateField) {
        for (day, sign) in [(from, 1), (to, -1)] {
            self.on_day(dealer_id, day, term_days, |totals, into_row| {
                let (sum, weighted) = match pick {
                    RateField::Cover => (&mut totals.cover_fen, &mut totals.cover_fen_days),
                    RateField::Normalised => (&mut totals.normalised_millifen, &mut totals.normalised_millifen_days),
                    RateField::Unpriced => (&mut totals.unpriced_fen, &mut totals.unpriced_fen_days),
                    RateField::Cars => (&mut totals.cars, &mut totals.car_days),
                };
                *sum += sign * amount;
                *weighted += sign * amount * into_row;
            });
        }
    }

    /// What one vehicle's policies (all of one dealer) contribute: premium earning, exposure and renewals. A write
    /// to any of them changes the totals by `vehicle(after) − vehicle(before)`.
    pub fn vehicle(policies: &[&PolicyFact]) -> Rollup {
        let mut out = Rollup::default();
        let mut by_dealer: BTreeMap<i64, Vec<&PolicyFact>> = BTreeMap::new();
        for policy in policies {
            by_dealer.entry(policy.dealer_id).or_default().push(policy);
        }
        for (dealer_id, policies) in by_dealer {
            for policy in &policies {
                if let Some(term) = term_days(policy) {
                    for segment in premium_segments(policy) {
                        let (from, to) = (segment.from, segment.to);
                        out.rate(dealer_id, term, from, to, segment.premium_fen, RateField::Cover);
                        match segment.normalised_millifen {
                            Some(n) => out.rate(dealer_id, term, from, to, n, RateField::Normalised),
                            None => out.rate(dealer_id, term, from, to, segment.premium_fen, RateField::Unpriced),
                        }
                    }
                }
            }
            // Renewal per vehicle: one expiring car per vehicle and end day, renewed if any of its policies was.
            let mut expiring: BTreeMap<(i64, NaiveDate), bool> = BTreeMap::new();
            for policy in policies.iter().filter(|p| p.cancelled_from.is_none()) {
                *expiring.entry((policy.vehicle_id, policy.end)).or_default() |= policy.renewed_by_policy;
            }
            for ((_, end), renewed) in expiring {
                out.on_day(dealer_id, end, 0, |totals, _| {
                    totals.expiring += 1;
                    totals.renewed += i64::from(renewed);
                });
            }
            for (from, to) in cover_intervals(&policies) {
                out.rate(dealer_id, 0, from, to, 1, RateField::Cars);
            }
        }
        out.months.retain(|_, t| !t.is_zero());
        out.days.retain(|_, t| !t.is_zero());
        out
    }

    /// Premium written (issue, endorsement, −refund) on `booked_on`.
    pub fn written(dealer_id: i64, booked_on: NaiveDate, amount_fen: i64) -> Rollup {
        let mut out = Rollup::default();
        out.on_day(dealer_id, booked_on, 0, |totals, _| totals.written_fen += amount_fen);
        out
    }

    /// A commission ledger entry.
    pub fn commission(dealer_id: i64, booked_on: NaiveDate, amount_fen: i64) -> Rollup {
        let mut out = Rollup::default();
        out.on_day(dealer_id, booked_on, 0, |totals, _| totals.commission_fen += amount_fen);
        out
    }

    /// A repair referral.
    pub fn referral(dealer_id: i64, referred_on: NaiveDate, value_fen: i64) -> Rollup {
        let mut out = Rollup::default();
        out.on_day(dealer_id, referred_on, 0, |totals, _| {
            totals.referral_count += 1;
            totals.referral_fen += value_fen;
        });
        out
    }

    /// A claim as counted in claim frequency: one, unless it was declined or withdrawn. A change of stage changes
    /// the totals by `claim(after) − claim(before)`.
    pub fn claim(dealer_id: i64, accident_on: NaiveDate, stage: &str) -> Rollup {
        let mut out = Rollup::default();
        if !NOT_A_LOSS_STAGES.contains(&stage) {
            out.on_day(dealer_id, accident_on, 0, |totals, _| totals.claim_count += 1);
        }
        out
    }

    /// A payment on a claim of `dealer_id` with its accident on `accident_on`.
    pub fn payment(dealer_id: i64, accident_on: NaiveDate, paid_on: NaiveDate, amount_fen: i64) -> Rollup {
        let mut out = Rollup::default();
        out.on_day(dealer_id, paid_on, 0, |totals, _| totals.paid_fen += amount_fen);
        out.development(dealer_id, accident_on, paid_on, |totals| totals.paid_fen += amount_fen);
        out
    }

    /// A change to the case reserve of a claim of `dealer_id` with its accident on `accident_on`.
    pub fn reserve(dealer_id: i64, accident_on: NaiveDate, at: DateTime<Utc>, amount_fen: i64) -> Rollup {
        let mut out = Rollup::default();
        out.development(dealer_id, accident_on, china_day(at), |totals| totals.reserve_fen += amount_fen);
        out
    }

    /// Records a claim movement in its accident month × movement month cell and its accident day × movement day one.
    fn development(
        &mut self,
        dealer_id: i64,
        accident_on: NaiveDate,
        movement_on: NaiveDate,
        record: impl Fn(&mut DevelopmentTotals),
    ) {
        let key =
            DevelopmentKey { dealer_id, accident_month: month_of(accident_on), movement_month: month_of(movement_on) };
        record(self.development.entry(key).or_default());
        let accident_on =
            if month_of(accident_on) < month_of(movement_on) { month_of(accident_on) } else { accident_on };
        let key = DevelopmentDayKey { dealer_id, accident_on, movement_on };
        record(self.development_days.entry(key).or_default());
    }

    /// The totals of everything in `facts`. Claim ids must be unique and payments booked to their claim's dealer,
    /// as the database guarantees; the figures computed from the facts then equal those from these totals.
    pub fn from_facts(facts: &Facts) -> Rollup {
        let mut out = Rollup::default();
        let mut vehicles: HashMap<(i64, i64), Vec<&PolicyFact>> = HashMap::new();
        for policy in &facts.policies {
            vehicles.entry((policy.dealer_id, policy.vehicle_id)).or_default().push(policy);
        }
        for policies in vehicles.values() {
            out += Rollup::vehicle(policies);
        }
        for p in &facts.premiums {
            out += Rollup::written(p.dealer_id, p.booked_on, fen(p.amount));
        }
        for c in &facts.commissions {
            out += Rollup::commission(c.dealer_id, c.booked_on, fen(c.amount));
        }
        for r in &facts.referrals {
            out += Rollup::referral(r.dealer_id, r.referred_on, fen(r.value));
        }
        let claims: HashMap<i64, &ClaimFact> = facts.claims.iter().map(|c| (c.claim_id, c)).collect();
        for c in &facts.claims {
            out += Rollup::claim(c.dealer_id, c.accident_on, &c.stage);
        }
        for p in &facts.payments {
            if let Some(claim) = claims.get(&p.claim_id) {
                out += Rollup::payment(claim.dealer_id, claim.accident_on, p.paid_on, fen(p.amount));
            }
        }
        for r in &facts.reserves {
            if let Some(claim) = claims.get(&r.claim_id) {
                out += Rollup::reserve(claim.dealer_id, claim.accident_on, r.at, fen(r.amount));
            }
        }
        out
    }

    /// The dealers with any totals.
    pub fn dealers(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.months.keys().map(|k| k.dealer_id).collect();
        ids.extend(self.days.keys().map(|k| k.dealer_id));
        ids.extend(self.development.keys().map(|k| k.dealer_id));
        ids.extend(self.development_days.keys().map(|k| k.dealer_id));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// A dealer's figures for a period that starts on the first of a month (`None` for any other) and ends on any
    /// day: the whole months before the month of its end from the monthly rows, that month's days before the end
    /// from the daily rows. Open and overdue claims are as of now and cycle times need every closure, so the caller
    /// supplies them.
    pub fn figures(&self, dealer_id: i64, period: Period, live: &LiveClaims, bands: &Bands) -> Option<Figures> {
        if period.from.day() != 1 || period.to < period.from {
            return None;
        }
        let (a, b) = (period.from, period.to);
        // The month the period ends in, when it ends inside one (else `b` itself: no day is needed).
        let cut_month = month_of(b);
        let mut earned = PremiumDays::default();
        let mut normalised = PremiumDays::default();
        let (mut unpriced, mut car_days) = (0i128, 0i128);
        let mut flows = MonthTotals::default();
        let mut add_rates = |term: i64, t: &MonthTotals, days_in: &dyn Fn(i64, i64) -> i128| {
            earned.add(term, days_in(t.cover_fen, t.cover_fen_days));
            normalised.add(term, days_in(t.normalised_millifen, t.normalised_millifen_days));
            unpriced += days_in(t.unpriced_fen, t.unpriced_fen_days);
            car_days += days_in(t.cars, t.car_days);
        };
        let first = MonthKey { dealer_id, month: NaiveDate::MIN, term_days: i32::MIN };
        let last = MonthKey { dealer_id, month: NaiveDate::MAX, term_days: i32::MAX };
        for (key, t) in self.months.range(first..=last) {
            if key.month >= cut_month {
                break;
            }
            // Premium-days of the rate changes in this month, over [a, b).
            let days_in = |sum: i64, weighted: i64| -> i128 {
                if key.month < a {
                    i128::from(sum) * i128::from((b - a).num_days())
                } else {
                    i128::from(sum) * i128::from((b - key.month).num_days()) - i128::from(weighted)
                }
            };
            add_rates(i64::from(key.term_days), t, &days_in);
            if key.month >= a {
                flows.apply(t, 1);
            }
        }
        let first = DayKey { dealer_id, day: cut_month, term_days: i32::MIN };
        let last = DayKey { dealer_id, day: b, term_days: i32::MIN };
        for (key, t) in self.days.range(first..last) {
            // A change on this day, which is on or after `a` (the period starts on the first of a month).
            let days_in = |sum: i64, _| i128::from(sum) * i128::from((b - key.day).num_days());
            add_rates(i64::from(key.term_days), t, &days_in);
            flows.apply(t, 1);
        }
        // Reserves at the end of the period on every claim; incurred on claims with accidents in the period. Movements
        // before the cut month come from the monthly cells, except the incurred of accidents inside the cut month
        // (a movement dated before its accident), which needs their day.
        let (mut case_reserves, mut incurred) = (0i64, 0i64);
        let first = DevelopmentKey { dealer_id, accident_month: NaiveDate::MIN, movement_month: NaiveDate::MIN };
        let last = DevelopmentKey { dealer_id, accident_month: NaiveDate::MAX, movement_month: NaiveDate::MAX };
        for (key, t) in self.development.range(first..=last) {
            if key.movement_month >= cut_month {
                continue;
            }
            case_reserves += t.reserve_fen;
            if key.accident_month >= a && key.accident_month < cut_month {
                incurred += t.paid_fen + t.reserve_fen;
            }
        }
        let first = DevelopmentDayKey { dealer_id, accident_on: NaiveDate::MIN, movement_on: NaiveDate::MIN };
        let last = DevelopmentDayKey { dealer_id, accident_on: NaiveDate::MAX, movement_on: NaiveDate::MAX };
        for (key, t) in self.development_days.range(first..=last) {
            if key.movement_on >= b {
                continue;
            }
            let accident_in_period = key.accident_on >= a && key.accident_on < b;
            if key.movement_on >= cut_month {
                case_reserves += t.reserve_fen;
                if accident_in_period {
                    incurred += t.paid_fen + t.reserve_fen;
                }
            } else if key.accident_on >= cut_month && accident_in_period {
                incurred += t.paid_fen + t.reserve_fen;
            }
        }
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        let totals = Totals {
            period,
            written_premium: from_fen(flows.written_fen),
            earned_premium: from_fen(earned.rounded()),
            normalised_earned: (unpriced == 0).then(|| normalised.exact() / Decimal::from(MILLIFEN_PER_YUAN)),
            exposure: Decimal::try_from_i128_with_scale(car_days, 0)
                .ok()
                .and_then(|days| days.checked_div(Decimal::from(DAYS_PER_CAR_YEAR)))
                .unwrap_or_default(),
            paid: from_fen(flows.paid_fen),
            case_reserves: from_fen(case_reserves),
            incurred: from_fen(incurred),
            claim_count: count(flows.claim_count),
            commission: from_fen(flows.commission_fen),
            referral_count: count(flows.referral_count),
            referral_value: from_fen(flows.referral_fen),
            expiring: count(flows.expiring),
            renewed: count(flows.renewed),
            open_claims: live.open,
            overdue_claims: live.overdue,
        };
        Some(derive(totals, live.cycle.clone(), bands))
    }
}

#[derive(Clone, Copy)]
enum RateField {
    Cover,
    Normalised,
    Unpriced,
    Cars,
}

/// What the monthly totals cannot hold: claims open and overdue now, and (where wanted) cycle times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveClaims {
    pub open: u64,
    pub overdue: u64,
    pub cycle: Option<CycleTimes>,
}

fn fen(amount: Decimal) -> i64 {
    to_fen(amount).unwrap_or_default()
}
