//! The policy lifecycle in dates and money: the period of cover, pro-rata refunds and
//! endorsement changes by day, earned premium, and how the NCD level moves at renewal.
//!
//! A period covers from its start day at 00:00 up to its end day at 00:00, so the end day is not
//! covered and a period's length in days is simply `end − start`. Pro-rata shares are by day, as
//! cancellation (退保) and endorsement (批改) are settled by day, and every amount is rounded
//! half-up to the fen once, at the end.

use std::cmp::{max, min};

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;

/// The period of cover: from `start` 00:00 up to `end` 00:00 (the end day is not covered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// One year of cover from `start`: the same day next year. A 29 February start has no such
    /// day, so the year runs to 1 March, the day after 28 February, and no day goes uncovered.
    pub fn one_year_from(start: NaiveDate) -> Period {
        let next_year = start.year().saturating_add(1);
        let end = NaiveDate::from_ymd_opt(next_year, start.month(), start.day())
            .or_else(|| NaiveDate::from_ymd_opt(next_year, 3, 1))
            // Only at the very end of the calendar chrono can represent.
            .unwrap_or(NaiveDate::MAX);
        Period { start, end }
    }
}

/// The period of a policy issued on `issue_date`: cover starts `start_offset_days` later at 00:00
/// (1 by default: the next day) and lasts one year.
pub fn standard_period(issue_date: NaiveDate, start_offset_days: u32) -> Period {
    let start = issue_date.checked_add_days(Days::new(u64::from(start_offset_days))).unwrap_or(NaiveDate::MAX);
    Period::one_year_from(start)
}

/// The number of days covered: 365, or 366 when the year of cover includes 29 February.
pub fn days(period: &Period) -> i64 {
    (period.end - period.start).num_days()
}

/// The days from `effective` to the end of the period: the unearned part. `effective` is first
/// brought into the period, so a day before the start gives every day and a day on or after
/// the end gives none.
pub fn unearned_share_days(period: &Period, effective: NaiveDate) -> i64 {
    let from = effective.clamp(period.start, max(period.start, period.end));
    max((period.end - from).num_days(), 0)
}

/// The refund when cover stops from `effective` 00:00: premium × remaining days ÷ days of the
/// period, rounded to the fen. Cancelled on the start day the whole premium comes back; on the
/// last day, one day's premium; on or after the end, nothing.
pub fn refund_on_cancel(premium: Decimal, period: &Period, effective: NaiveDate) -> Decimal {
    pro_rata(premium, unearned_share_days(period, effective), days(period))
}

/// The premium charged (positive) or refunded (negative) when an endorsement changes the annual
/// premium from `old_premium` to `new_premium` from `effective`: the difference pro rata for the
/// days left, rounded to the fen.
pub fn endorsement_adjustment(
    old_premium: Decimal,
    new_premium: Decimal,
    period: &Period,
    effective: NaiveDate,
) -> Decimal {
    let change = new_premium.saturating_sub(old_premium);
    pro_rata(change, unearned_share_days(period, effective), days(period))
}

/// The part of `premium` earned in the days `from` (included) to `to` (excluded): premium × the
/// days of cover inside that window ÷ days of the period, rounded to the fen. Windows reaching
/// outside the period count only the days inside it.
pub fn earned_premium(premium: Decimal, period: &Period, from: NaiveDate, to: NaiveDate) -> Decimal {
    let first = max(from, period.start);
    let after_last = min(to, period.end);
    let covered = max((after_last - first).num_days(), 0);
    pro_rata(premium, covered, days(period))
}

/// The NCD level for next year: a claim-free year moves one level down, each claim one level up,
/// kept within `lowest..=highest` (given the other way round, the two are swapped).
pub fn next_ncd_level(current: i32, claims_last_year: u32, lowest: i32, highest: i32) -> i32 {
    let (lowest, highest) = if lowest <= highest { (lowest, highest) } else { (highest, lowest) };
    let next =
        if claims_last_year == 0 { i64::from(current) - 1 } else { i64::from(current) + i64::from(claims_last_year) };
    let clamped = next.clamp(i64::from(lowest), i64::from(highest));
    i32::try_from(clamped).unwrap_or(highest)
}

/// Whether an accident on `accident_on` falls in cover: on or after the start, before the end,
/// and before the day a cancellation took effect, if any.
pub fn covers(period: &Period, cancelled_from: Option<NaiveDate>, accident_on: NaiveDate) -> bool {
    let in_period = period.start <= accident_on && accident_on < period.end;
    in_period && cancelled_from.is_none_or(|cancelled| accident_on < cancelled)
}

/// `amount × part ÷ whole`, rounded to the fen and shown with two decimals; 0.00 for a period
/// with no days.
fn pro_rata(amount: Decimal, part: i64, whole: i64) -> Decimal {
    if whole <= 0 || part <= 0 {
        return Decimal::new(0, 2);
    }
    let (part, whole) = (Decimal::from(min(part, whole)), Decimal::from(whole));
    // Multiplying first keeps the share exact before the one rounding. Only an amount near the
    // limit of `Decimal` overflows; dividing first cannot, as part ≤ whole.
    let share = amount.checked_mul(part).and_then(|scaled| scaled.checked_div(whole));
    let mut rounded = round_to_fen(share.unwrap_or_else(|| (amount / whole).saturating_mul(part)));
    // Two decimals always, so a refund reads 2000.00 rather than 2000.
    rounded.rescale(2);
    rounded
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("test decimal")
    }

    fn date(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    /// 2026-01-01 up to 2027-01-01: 365 days.
    fn year_2026() -> Period {
        Period { start: date(2026, 1, 1), end: date(2027, 1, 1) }
    }

    // --- periods --------------------------------------------------------------------------------

    #[test]
    fn standard_period_starts_the_next_day_and_lasts_a_year() {
        let period = standard_period(date(2026, 11, 22), 1);
        assert_eq!(period, Period { start: date(2026, 11, 23), end: date(2027, 11, 23) });
        assert_eq!(days(&period), 365);
    }

    #[test]
    fn standard_period_may_start_on_the_issue_day_or_later() {
        assert_eq!(standard_period(date(2026, 11, 22), 0).start, date(2026, 11, 22));
        assert_eq!(standard_period(date(2026, 12, 25), 10), Period { start: date(2027, 1, 4), end: date(2028, 1, 4) });
    }

    #[test]
    fn a_year_from_29_february_runs_to_1_march() {
        let period = standard_period(date(2028, 2, 28), 1);
        // 2028-02-29 → 2029-03-01: 2029 has no 29 February
        assert_eq!(period, Period { start: date(2028, 2, 29), end: date(2029, 3, 1) });
        assert_eq!(days(&period), 366);
    }

    #[test]
    fn a_year_spanning_29_february_has_366_days() {
        // 2027-03-01 → 2028-03-01 includes 2028-02-29
        let period = Period::one_year_from(date(2027, 3, 1));
        assert_eq!(period.end, date(2028, 3, 1));
        assert_eq!(days(&period), 366);
        // 2028-03-01 → 2029-03-01 does not
        assert_eq!(days(&Period::one_year_from(date(2028, 3, 1))), 365);
    }

    #[test]
    fn unearned_days_are_counted_from_the_effective_day_kept_inside_the_period() {
        let period = year_2026();
        assert_eq!(unearned_share_days(&period, date(2025, 12, 1)), 365);
        assert_eq!(unearned_share_days(&period, date(2026, 1, 1)), 365);
        assert_eq!(unearned_share_days(&period, date(2026, 6, 15)), 200);
        assert_eq!(unearned_share_days(&period, date(2026, 12, 31)), 1);
        assert_eq!(unearned_share_days(&period, date(2027, 1, 1)), 0);
        assert_eq!(unearned_share_days(&period, date(2027, 6, 1)), 0);
    }

    // --- cancellation ---------------------------------------------------------------------------

    #[test]
    fn cancelling_on_the_start_day_refunds_everything() {
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2026, 1, 1)), d("3650.00"));
    }

    #[test]
    fn cancelling_before_the_start_refunds_everything() {
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2025, 12, 20)), d("3650.00"));
    }

    #[test]
    fn cancelling_on_the_last_day_refunds_that_one_day() {
        // 3650.00 × 1 ÷ 365 = 10.00
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2026, 12, 31)), d("10.00"));
    }

    #[test]
    fn cancelling_on_or_after_the_end_refunds_nothing() {
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2027, 1, 1)), d("0"));
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2027, 3, 1)), d("0"));
    }

    #[test]
    fn cancelling_mid_term_refunds_the_days_left() {
        // 2026-06-15 → 2027-01-01 is 200 days: 3650.00 × 200 ÷ 365 = 2000.00
        assert_eq!(refund_on_cancel(d("3650.00"), &year_2026(), date(2026, 6, 15)), d("2000.00"));
        // 1000.00 × 200 ÷ 365 = 547.9452… → 547.95
        assert_eq!(refund_on_cancel(d("1000.00"), &year_2026(), date(2026, 6, 15)), d("547.95"));
    }

    #[test]
    fn amounts_carry_two_decimals() {
        assert_eq!(refund_on_cancel(d("3650"), &year_2026(), date(2026, 6, 15)).to_string(), "2000.00");
        assert_eq!(refund_on_cancel(d("3650"), &year_2026(), date(2027, 6, 15)).to_string(), "0.00");
    }

    #[test]
    fn refund_is_rounded_half_up_to_the_fen() {
        // 2027-03-01 → 2028-03-01 is 366 days; from 2027-08-31, 183 are left, exactly half.
        let period = Period::one_year_from(date(2027, 3, 1));
        assert_eq!(unearned_share_days(&period, date(2027, 8, 31)), 183);
        // 100.01 × 183 ÷ 366 = 50.005 → 50.01 (half-even would give 50.00)
        assert_eq!(refund_on_cancel(d("100.01"), &period, date(2027, 8, 31)), d("50.01"));
    }

    #[test]
    fn a_period_without_days_refunds_nothing_rather_than_dividing_by_zero() {
        let empty = Period { start: date(2026, 1, 1), end: date(2026, 1, 1) };
        assert_eq!(refund_on_cancel(d("3650.00"), &empty, date(2026, 1, 1)), d("0"));
        let backwards = Period { start: date(2026, 2, 1), end: date(2026, 1, 1) };
        assert_eq!(refund_on_cancel(d("3650.00"), &backwards, date(2026, 1, 15)), d("0"));
    }

    #[test]
    fn a_huge_premium_is_shared_without_overflowing() {
        let refund = refund_on_cancel(Decimal::MAX, &year_2026(), date(2026, 6, 15));
        assert!(refund > Decimal::ZERO && refund < Decimal::MAX);
    }

    // --- endorsement ----------------------------------------------------------------------------

    #[test]
    fn endorsement_increase_charges_the_difference_for_the_days_left() {
        // (4380.00 − 3650.00) × 200 ÷ 365 = 730.00 × 200 ÷ 365 = 400.00
        assert_eq!(endorsement_adjustment(d("3650.00"), d("4380.00"), &year_2026(), date(2026, 6, 15)), d("400.00"));
    }

    #[test]
    fn endorsement_decrease_refunds_the_difference_for_the_days_left() {
        // (3650.00 − 4380.00) × 200 ÷ 365 = −400.00
        assert_eq!(endorsement_adjustment(d("4380.00"), d("3650.00"), &year_2026(), date(2026, 6, 15)), d("-400.00"));
        // a refund rounds half away from zero too: (0.00 − 100.01) × 183 ÷ 366 = −50.005 → −50.01
        let period = Period::one_year_from(date(2027, 3, 1));
        assert_eq!(endorsement_adjustment(d("100.01"), d("0"), &period, date(2027, 8, 31)), d("-50.01"));
    }

    #[test]
    fn endorsement_on_the_start_day_moves_the_whole_difference() {
        // (4000.00 − 3650.00) × 365 ÷ 365 = 350.00
        assert_eq!(endorsement_adjustment(d("3650.00"), d("4000.00"), &year_2026(), date(2026, 1, 1)), d("350.00"));
        // after the end nothing is left to change
        assert_eq!(endorsement_adjustment(d("3650.00"), d("4000.00"), &year_2026(), date(2027, 1, 1)), d("0"));
    }

    // --- earned premium -------------------------------------------------------------------------

    #[test]
    fn earned_premium_counts_only_days_inside_the_period() {
        let period = year_2026();
        // window 2026-12-01 → 2027-02-01 holds 31 days of cover (1–31 December):
        // 3650.00 × 31 ÷ 365 = 310.00
        assert_eq!(earned_premium(d("3650.00"), &period, date(2026, 12, 1), date(2027, 2, 1)), d("310.00"));
        // window 2025-12-01 → 2026-01-11 holds 10 days: 3650.00 × 10 ÷ 365 = 100.00
        assert_eq!(earned_premium(d("3650.00"), &period, date(2025, 12, 1), date(2026, 1, 11)), d("100.00"));
        // a window outside the period, or empty, earns nothing
        assert_eq!(earned_premium(d("3650.00"), &period, date(2027, 1, 1), date(2027, 6, 1)), d("0"));
        assert_eq!(earned_premium(d("3650.00"), &period, date(2026, 5, 1), date(2026, 4, 1)), d("0"));
    }

    #[test]
    fn earned_premium_over_the_whole_period_is_the_premium() {
        let period = year_2026();
        assert_eq!(earned_premium(d("1234.56"), &period, date(2020, 1, 1), date(2030, 1, 1)), d("1234.56"));
        // earned to a day plus unearned from that day is the premium:
        // 1000.00 × 165 ÷ 365 = 452.05; 1000.00 × 200 ÷ 365 = 547.95; 452.05 + 547.95 = 1000.00
        let earned = earned_premium(d("1000.00"), &period, period.start, date(2026, 6, 15));
        assert_eq!(earned, d("452.05"));
        assert_eq!(earned + refund_on_cancel(d("1000.00"), &period, date(2026, 6, 15)), d("1000.00"));
    }

    // --- NCD ------------------------------------------------------------------------------------

    #[test]
    fn a_claim_free_year_moves_one_level_down() {
        assert_eq!(next_ncd_level(0, 0, -4, 5), -1);
        assert_eq!(next_ncd_level(3, 0, -4, 5), 2);
    }

    #[test]
    fn each_claim_moves_one_level_up() {
        assert_eq!(next_ncd_level(0, 1, -4, 5), 1);
        assert_eq!(next_ncd_level(-2, 3, -4, 5), 1);
    }

    #[test]
    fn ncd_level_stays_within_the_table() {
        assert_eq!(next_ncd_level(-4, 0, -4, 5), -4);
        assert_eq!(next_ncd_level(4, 3, -4, 5), 5);
        assert_eq!(next_ncd_level(i32::MAX, u32::MAX, -4, 5), 5);
        assert_eq!(next_ncd_level(i32::MIN, 0, -4, 5), -4);
        // bounds given the wrong way round are read the right way round
        assert_eq!(next_ncd_level(0, 9, 5, -4), 5);
    }

    // --- cover ----------------------------------------------------------------------------------

    #[test]
    fn cover_runs_from_the_start_day_up_to_but_not_including_the_end_day() {
        let period = year_2026();
        assert!(!covers(&period, None, date(2025, 12, 31)));
        assert!(covers(&period, None, date(2026, 1, 1)));
        assert!(covers(&period, None, date(2026, 12, 31)));
        assert!(!covers(&period, None, date(2027, 1, 1)));
    }

    #[test]
    fn cover_stops_on_the_day_a_cancellation_takes_effect() {
        let period = year_2026();
        let cancelled = Some(date(2026, 6, 15));
        assert!(covers(&period, cancelled, date(2026, 6, 14)));
        assert!(!covers(&period, cancelled, date(2026, 6, 15)));
        assert!(!covers(&period, cancelled, date(2026, 9, 1)));
        // a cancellation dated after the end changes nothing inside the period
        assert!(covers(&period, Some(date(2027, 2, 1)), date(2026, 12, 31)));
    }

    #[test]
    fn period_round_trips_through_json() {
        let json = serde_json::to_string(&year_2026()).expect("serialises");
        assert_eq!(json, r#"{"start":"2026-01-01","end":"2027-01-01"}"#);
        assert_eq!(serde_json::from_str::<Period>(&json).expect("deserialises"), year_2026());
    }
}
