//! Worked examples (arithmetic in the comments) and a randomized equivalence check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn p(from: &str, to: &str) -> Period {
    Period { from: d(from), to: d(to) }
}

fn month(year: i32, m: u32) -> Period {
    Period::month(year, m).unwrap()
}

fn policy(policy_id: i64, vehicle_id: i64, start: &str, end: &str, premium: Decimal) -> PolicyFact {
    PolicyFact {
        policy_id,
        vehicle_id,
        dealer_id: 1,
        product: "commercial".into(),
        business_type: "new_car".into(),
        issued_on: d(start),
        start: d(start),
        end: d(end),
        cancelled_from: None,
        segments: vec![(d(start), premium)],
        pricing_coefficient: Decimal::ONE,
        renewed_by_policy: false,
    }
}

fn claim(claim_id: i64, accident_on: &str, stage: &str) -> ClaimFact {
    ClaimFact {
        claim_id,
        dealer_id: 1,
        accident_on: d(accident_on),
        reported_at: d(accident_on).and_hms_opt(12, 0, 0).unwrap().and_utc(),
        stage: stage.into(),
        closed_at: None,
        stages: vec![],
        overdue: false,
    }
}

fn reserve(claim_id: i64, at: &str, amount: Decimal) -> ReserveMovement {
    ReserveMovement { claim_id, at: t(at), amount }
}

fn payment(claim_id: i64, paid_on: &str, amount: Decimal) -> Payment {
    Payment { claim_id, dealer_id: 1, paid_on: d(paid_on), amount }
}

fn premium(policy_id: i64, booked_on: &str, amount: Decimal) -> PremiumEntry {
    PremiumEntry { dealer_id: 1, policy_id, booked_on: d(booked_on), amount }
}

fn fig(facts: &Facts, period: Period) -> Figures {
    figures(facts, 1, period, &Bands::default())
}

fn earned_of(policies: Vec<PolicyFact>, period: Period) -> Decimal {
    fig(&Facts { policies, ..Facts::default() }, period).earned_premium
}

// ---------------------------------------------------------------- periods

#[test]
fn month_containing_rolls_over_the_year_and_knows_leap_february() {
    // December ends at the first of the next year.
    assert_eq!(Period::containing(PeriodKind::Month, d("2026-12-15")), p("2026-12-01", "2027-01-01"));
    // 2028 is a leap year: February has 29 days.
    let feb = Period::containing(PeriodKind::Month, d("2028-02-29"));
    assert_eq!(feb, p("2028-02-01", "2028-03-01"));
    assert_eq!(feb.days(), 29);
    assert_eq!(Period::containing(PeriodKind::Month, d("2027-02-01")).days(), 28);
}

#[test]
fn quarter_containing() {
    // Q4 2026: 31 + 30 + 31 = 92 days, ending at the next year.
    let q4 = Period::containing(PeriodKind::Quarter, d("2026-11-30"));
    assert_eq!(q4, p("2026-10-01", "2027-01-01"));
    assert_eq!(q4.days(), 92);
    // Q1 2028: 31 + 29 + 31 = 91 days.
    let q1 = Period::containing(PeriodKind::Quarter, d("2028-02-29"));
    assert_eq!(q1, p("2028-01-01", "2028-04-01"));
    assert_eq!(q1.days(), 91);
    assert_eq!(Period::containing(PeriodKind::Quarter, d("2026-06-30")), p("2026-04-01", "2026-07-01"));
    assert_eq!(Period::containing(PeriodKind::Quarter, d("2026-07-01")), p("2026-07-01", "2026-10-01"));
}

#[test]
fn year_to_date_runs_to_the_end_of_the_day_s_month() {
    // Jan (31) + Feb 2028 (29) = 60 days, to exclusive = Mar 1.
    let ytd = Period::containing(PeriodKind::YearToDate, d("2028-02-29"));
    assert_eq!(ytd, p("2028-01-01", "2028-03-01"));
    assert_eq!(ytd.days(), 60);
    // On Dec 31 it is the whole year and ends on the next Jan 1.
    assert_eq!(Period::containing(PeriodKind::YearToDate, d("2026-12-31")), p("2026-01-01", "2027-01-01"));
    // On Jan 1 it is the whole of January, like the month view.
    assert_eq!(Period::containing(PeriodKind::YearToDate, d("2026-01-01")).days(), 31);
    assert_eq!(Period::containing(PeriodKind::YearToDate, d("2026-05-17")), p("2026-01-01", "2026-06-01"));
    assert!(Period::containing(PeriodKind::YearToDate, d("2026-05-17")).is_whole_months());
    assert!(!p("2026-01-01", "2026-05-18").is_whole_months());
}

#[test]
fn rolling_twelve_months_are_whole_months() {
    // March 2026 − 11 months = April 2025.
    let r = Period::containing(PeriodKind::Rolling12Months, d("2026-03-10"));
    assert_eq!(r, p("2025-04-01", "2026-04-01"));
    assert_eq!(r.days(), 365);
    // Ending with February 2028 takes in the leap day: 366 days.
    let leap = Period::containing(PeriodKind::Rolling12Months, d("2028-02-10"));
    assert_eq!(leap, p("2027-03-01", "2028-03-01"));
    assert_eq!(leap.days(), 366);
    // Ending with December: the calendar year.
    assert_eq!(Period::containing(PeriodKind::Rolling12Months, d("2026-12-31")), p("2026-01-01", "2027-01-01"));
}

#[test]
fn month_constructor() {
    assert_eq!(Period::month(2026, 12), Some(p("2026-12-01", "2027-01-01")));
    assert_eq!(Period::month(2028, 2), Some(p("2028-02-01", "2028-03-01")));
    assert_eq!(Period::month(2026, 13), None);
    assert_eq!(Period::month(2026, 0), None);
}

#[test]
fn last_months_cross_a_year_boundary_oldest_first() {
    let months = Period::last_months(d("2026-02-14"), 4);
    assert_eq!(months, vec![month(2025, 11), month(2025, 12), month(2026, 1), month(2026, 2)]);
    assert_eq!(Period::last_months(d("2026-02-14"), 1), vec![month(2026, 2)]);
    assert!(Period::last_months(d("2026-02-14"), 0).is_empty());
    // 13 months back from January spans two year boundaries' worth of arithmetic.
    let long = Period::last_months(d("2026-01-31"), 13);
    assert_eq!(long.first(), Some(&month(2025, 1)));
    assert_eq!(long.last(), Some(&month(2026, 1)));
    assert!(long.windows(2).all(|w| w[0].to == w[1].from));
}

#[test]
fn overlap_days_edges() {
    let jan = month(2026, 1);
    // Covers the whole month and more: 31.
    assert_eq!(jan.overlap_days(d("2025-12-01"), d("2026-03-01")), 31);
    // Ends exactly when the period starts (end exclusive): 0.
    assert_eq!(jan.overlap_days(d("2025-12-01"), d("2026-01-01")), 0);
    // Starts exactly when the period ends: 0.
    assert_eq!(jan.overlap_days(d("2026-02-01"), d("2026-03-01")), 0);
    // One day at each edge.
    assert_eq!(jan.overlap_days(d("2025-12-31"), d("2026-01-02")), 1);
    assert_eq!(jan.overlap_days(d("2026-01-31"), d("2026-02-15")), 1);
    // Inside: 20 − 10 = 10.
    assert_eq!(jan.overlap_days(d("2026-01-10"), d("2026-01-20")), 10);
    // Empty and inverted ranges: 0.
    assert_eq!(jan.overlap_days(d("2026-01-10"), d("2026-01-10")), 0);
    assert_eq!(jan.overlap_days(d("2026-01-20"), d("2026-01-10")), 0);
}

#[test]
fn period_ends_at_midnight_china_time() {
    // 2026-02-01 00:00 +08:00 = 2026-01-31 16:00 UTC.
    assert_eq!(period_end_at(month(2026, 1)), t("2026-01-31T16:00:00Z"));
}

// ---------------------------------------------------------------- earned premium

#[test]
fn earned_straddling_a_month_end() {
    // 365-day term, 3650.00 → 10.00 a day.
    let policies = vec![policy(1, 1, "2026-01-15", "2027-01-15", dec!(3650.00))];
    // January 2026: 15th..31st = 17 days → 170.00.
    assert_eq!(earned_of(policies.clone(), month(2026, 1)), dec!(170.00));
    // February 2026: 28 days → 280.00.
    assert_eq!(earned_of(policies.clone(), month(2026, 2)), dec!(280.00));
    // January 2027: 1st..14th = 14 days → 140.00.
    assert_eq!(earned_of(policies.clone(), month(2027, 1)), dec!(140.00));
    // The whole life earns the whole premium: 17 + 334 + 14 = 365 days.
    assert_eq!(earned_of(policies, p("2026-01-01", "2027-02-01")), dec!(3650.00));
}

#[test]
fn earned_on_a_leap_year_term() {
    // 2027-03-01 → 2028-03-01 includes 2028-02-29: 366 days; 3660.00 → 10.00 a day.
    let policies = vec![policy(1, 1, "2027-03-01", "2028-03-01", dec!(3660.00))];
    assert_eq!(earned_of(policies.clone(), month(2028, 2)), dec!(290.00)); // 29 days
    assert_eq!(earned_of(policies.clone(), month(2027, 3)), dec!(310.00)); // 31 days
    assert_eq!(earned_of(policies, p("2027-01-01", "2029-01-01")), dec!(3660.00));
}

#[test]
fn earned_stops_at_cancellation() {
    // 3650.00 over 365 days = 10.00 a day; cancelled from 2026-04-11: Jan 31 + Feb 28 + Mar 31 + Apr 10 = 100 days.
    let mut cancelled = policy(1, 1, "2026-01-01", "2027-01-01", dec!(3650.00));
    cancelled.cancelled_from = Some(d("2026-04-11"));
    // Pro-rata refund = 3650.00 × 265 / 365 = 2650.00.
    let facts = Facts {
        policies: vec![cancelled],
        premiums: vec![premium(1, "2026-01-01", dec!(3650.00)), premium(1, "2026-04-11", dec!(-2650.00))],
        ..Facts::default()
    };
    let year = fig(&facts, p("2026-01-01", "2027-01-01"));
    // Earned over the whole life = premium − refund = 3650.00 − 2650.00 = 1000.00 = net written.
    assert_eq!(year.earned_premium, dec!(1000.00));
    assert_eq!(year.written_premium, dec!(1000.00));
    assert_eq!(fig(&facts, month(2026, 4)).earned_premium, dec!(100.00)); // 10 days of April
    assert_eq!(fig(&facts, month(2026, 5)).earned_premium, dec!(0));
    assert_eq!(fig(&facts, month(2026, 4)).written_premium, dec!(-2650.00));
    // A cancelled policy does not expire, and exposure stops with cover: 10 April days / 365.
    assert_eq!(fig(&facts, p("2026-12-01", "2027-02-01")).expiring, 0);
    assert_eq!(fig(&facts, month(2026, 4)).exposure, dec!(10) / dec!(365));
}

#[test]
fn earned_with_an_endorsement_mid_term() {
    // 3650.00 full-term until 2026-07-01, then 7300.00 full-term (20.00 a day).
    let mut endorsed = policy(1, 1, "2026-01-01", "2027-01-01", dec!(3650.00));
    endorsed.segments.push((d("2026-07-01"), dec!(7300.00)));
    // Jan..Jun = 181 days × 10.00 = 1810.00; Jul..Dec = 184 days × 20.00 = 3680.00; total 5490.00.
    assert_eq!(earned_of(vec![endorsed.clone()], p("2026-01-01", "2027-01-01")), dec!(5490.00));
    assert_eq!(earned_of(vec![endorsed.clone()], month(2026, 6)), dec!(300.00)); // 30 × 10.00
    assert_eq!(earned_of(vec![endorsed.clone()], month(2026, 7)), dec!(620.00)); // 31 × 20.00
    // A period spanning the change: Jun 21..30 = 10 × 10.00 + Jul 1..10 = 10 × 20.00 = 300.00.
    assert_eq!(earned_of(vec![endorsed], p("2026-06-21", "2026-07-11")), dec!(300.00));
}

#[test]
fn earned_is_summed_exactly_and_rounded_half_up_once() {
    // 3661.83 / 366 = 10.005 exactly per day; one day rounds half-up to 10.01.
    let day = p("2027-03-01", "2027-03-02");
    let a = policy(1, 1, "2027-03-01", "2028-03-01", dec!(3661.83));
    let b = policy(2, 2, "2027-03-01", "2028-03-01", dec!(3661.83));
    assert_eq!(earned_of(vec![a.clone()], day), dec!(10.01));
    // Summed exactly, then rounded once: 10.005 + 10.005 = 20.01 (rounding per policy would give 20.02).
    assert_eq!(earned_of(vec![a.clone(), b], day), dec!(20.01));
    // Terms of 365 and 366 days add exactly: 183 days of 3.65 over 365 days (1.83) plus 183 days of 3.66 over
    // 366 days (1.83) is 3.66.
    let half_year = p("2026-01-01", "2026-07-03");
    let short = policy(5, 5, "2026-01-01", "2027-01-01", dec!(3.65));
    let long = policy(6, 6, "2026-01-01", "2027-01-02", dec!(3.66));
    assert_eq!(earned_of(vec![short.clone()], half_year), dec!(1.83));
    assert_eq!(earned_of(vec![short, long], half_year), dec!(3.66));
    // 1.83 / 366 = 0.005 → 0.01.
    assert_eq!(earned_of(vec![policy(3, 3, "2027-03-01", "2028-03-01", dec!(1.83))], day), dec!(0.01));
    // 1.82 / 366 = 0.004972… → 0.00.
    assert_eq!(earned_of(vec![policy(4, 4, "2027-03-01", "2028-03-01", dec!(1.82))], day), dec!(0.00));
}

// ---------------------------------------------------------------- exposure

#[test]
fn exposure_counts_a_vehicle_once() {
    let jan = month(2026, 1);
    // Compulsory from Jan 1 and commercial from Jan 10 on vehicle 7: the union is the 31 days of January.
    let mut compulsory = policy(1, 7, "2026-01-01", "2027-01-01", dec!(950));
    compulsory.product = "compulsory".into();
    let commercial = policy(2, 7, "2026-01-10", "2027-01-10", dec!(3000));
    let one = Facts { policies: vec![compulsory.clone(), commercial.clone()], ..Facts::default() };
    assert_eq!(fig(&one, jan).exposure, dec!(31) / dec!(365));
    // Another car, also covered all January: 31 + 31 = 62 days.
    let other = policy(3, 8, "2025-06-01", "2026-06-01", dec!(3000));
    let two = Facts { policies: vec![compulsory, commercial, other], ..Facts::default() };
    assert_eq!(fig(&two, jan).exposure, dec!(62) / dec!(365));
    // A whole year on one car is one car-year.
    let year = Facts { policies: vec![policy(1, 1, "2026-01-01", "2027-01-01", dec!(1))], ..Facts::default() };
    assert_eq!(fig(&year, p("2026-01-01", "2027-01-01")).exposure, dec!(1));
}

#[test]
fn exposure_leaves_gaps_uncovered() {
    // Jan 1..9 (9 days) and Jan 20..31 (12 days) on one car: 21 days.
    let facts = Facts {
        policies: vec![
            policy(1, 1, "2025-01-10", "2026-01-10", dec!(1)),
            policy(2, 1, "2026-01-20", "2027-01-20", dec!(1)),
        ],
        ..Facts::default()
    };
    assert_eq!(fig(&facts, month(2026, 1)).exposure, dec!(21) / dec!(365));
}

// ---------------------------------------------------------------- losses

/// January 2026: earned 36500.00 × 31 / 365 = 3100.00.
fn loss_facts() -> Facts {
    let mut pol = policy(1, 1, "2026-01-01", "2027-01-01", dec!(36500.00));
    pol.pricing_coefficient = dec!(0.8);
    Facts {
        policies: vec![pol],
        claims: vec![
            claim(1, "2026-01-10", "settled"),
            claim(2, "2026-01-25", "surveyed"),
            claim(3, "2025-12-28", "settled"), // accident before the period
            claim(4, "2026-01-30", "reported"),
        ],
        reserves: vec![
            // Claim 1: reserve 1000, 400 of it paid on Jan 20 → 600 outstanding.
            reserve(1, "2026-01-11T02:00:00Z", dec!(1000)),
            reserve(1, "2026-01-20T03:00:00Z", dec!(-400)),
            // Claim 2: reserve 2000; 500 paid on Feb 5, after the period.
            reserve(2, "2026-01-26T02:00:00Z", dec!(2000)),
            reserve(2, "2026-02-05T03:00:00Z", dec!(-500)),
            // Claim 3: 3000 reserved, 100 paid in January.
            reserve(3, "2025-12-29T02:00:00Z", dec!(3000)),
            reserve(3, "2026-01-15T03:00:00Z", dec!(-100)),
            // Claim 4: 50 one second before period end (Feb 1 00:00 China = Jan 31 16:00 UTC); 700 exactly at it.
            reserve(4, "2026-01-31T15:59:59Z", dec!(50)),
            reserve(4, "2026-01-31T16:00:00Z", dec!(700)),
            // A movement on a claim unknown to the facts cannot be attributed to the dealer.
            reserve(99, "2026-01-15T03:00:00Z", dec!(12345)),
        ],
        payments: vec![
            payment(1, "2026-01-20", dec!(400)),
            payment(2, "2026-02-05", dec!(500)),
            payment(3, "2026-01-15", dec!(100)),
        ],
        ..Facts::default()
    }
}

#[test]
fn loss_ratio_with_open_reserves() {
    let f = fig(&loss_facts(), month(2026, 1));
    assert_eq!(f.earned_premium, dec!(3100.00));
    // Claim 1: paid 400 + reserve 600 = 1000; claim 2: paid 0 (Feb 5 is after) + reserve 2000 (the −500 is after)
    // = 2000; claim 4: 50 (the 700 is at period end, not before) → 3050. Claim 3's accident is outside.
    assert_eq!(f.incurred, dec!(3050));
    // All the dealer's reserves at period end: 600 + 2000 + 2900 + 50 = 5550.
    assert_eq!(f.case_reserves, dec!(5550));
    // Paid in January: 400 (claim 1) + 100 (claim 3) = 500.
    assert_eq!(f.paid, dec!(500));
    assert_eq!(f.claim_count, 3);
    assert_eq!(f.loss_ratio, Some(dec!(3050) / dec!(3100)));
    // Price-normalised premium: 3100.00 / 0.8 = 3875 → 3050 / 3875 = 0.787096774…
    assert_eq!(f.price_normalised_loss_ratio, Some(dec!(3050) / dec!(3875)));
    assert!((f.price_normalised_loss_ratio.unwrap() - dec!(0.7870967741935)).abs() < dec!(0.0000000001));
    // Severity 3050 / 3 claims.
    assert_eq!(f.severity, Some(dec!(3050) / dec!(3)));

    // February: claim 2's payment now counts for paid; January's accidents no longer count for incurred.
    let feb = fig(&loss_facts(), month(2026, 2));
    assert_eq!(feb.paid, dec!(500));
    assert_eq!(feb.incurred, dec!(0));
    assert_eq!(feb.claim_count, 0);
    assert_eq!(feb.severity, None);
    // Reserves at end of Feb: 600 + 1500 + 2900 + 750 = 5750.
    assert_eq!(feb.case_reserves, dec!(5750));
    // The two months as one period: claim 2 = 500 paid + 1500 reserve = 2000 still; claim 4 = 750.
    let both = fig(&loss_facts(), p("2026-01-01", "2026-03-01"));
    assert_eq!(both.incurred, dec!(1000) + dec!(2000) + dec!(750));
}

#[test]
fn ratios_are_none_without_a_denominator() {
    let f = fig(&Facts::default(), month(2026, 1));
    assert_eq!(f.loss_ratio, None);
    assert_eq!(f.price_normalised_loss_ratio, None);
    assert_eq!(f.commission_ratio, None);
    assert_eq!(f.variable_cost_ratio, None);
    assert_eq!(f.band, None);
    assert_eq!(f.frequency, None);
    assert_eq!(f.severity, None);
    assert_eq!(f.referral_ratio, None);
    assert_eq!(f.renewal_rate, None);
    assert!(!f.upside_down);
    assert_eq!(f.cycle, Some(CycleTimes::default()));
}

// ---------------------------------------------------------------- commission and VCR

/// Year 2026: written = earned = 3650.00, commission 365.00 (ratio 0.1), one claim paid `incurred`.
fn vcr_facts(incurred: Decimal) -> Facts {
    Facts {
        policies: vec![policy(1, 1, "2026-01-01", "2027-01-01", dec!(3650.00))],
        premiums: vec![premium(1, "2026-01-01", dec!(3650.00))],
        commissions: vec![
            CommissionEntry { dealer_id: 1, booked_on: d("2026-01-01"), amount: dec!(365.00) },
            // Booked after the period: not counted.
            CommissionEntry { dealer_id: 1, booked_on: d("2027-01-01"), amount: dec!(999.00) },
        ],
        claims: vec![claim(1, "2026-05-01", "closed")],
        payments: vec![payment(1, "2026-05-20", incurred)],
        ..Facts::default()
    }
}

#[test]
fn commission_ratio_and_variable_cost_bands() {
    let year = p("2026-01-01", "2027-01-01");
    let vcr = |incurred: Decimal| fig(&vcr_facts(incurred), year);
    // 2956.50 / 3650 = 0.81; + 0.1 = 0.91 exactly → normal (the bound is inclusive).
    let at_warning = vcr(dec!(2956.50));
    assert_eq!(at_warning.commission, dec!(365.00));
    assert_eq!(at_warning.commission_ratio, Some(dec!(0.1)));
    assert_eq!(at_warning.loss_ratio, Some(dec!(0.81)));
    assert_eq!(at_warning.variable_cost_ratio, Some(dec!(0.91)));
    assert_eq!(at_warning.band, Some(Band::Normal));
    // 2956.500365 / 3650 = 0.8100001 → VCR 0.9100001 → warning.
    let just_over = vcr(dec!(2956.500365));
    assert_eq!(just_over.variable_cost_ratio, Some(dec!(0.9100001)));
    assert_eq!(just_over.band, Some(Band::Warning));
    // 3066 / 3650 = 0.84 → 0.94 → still warning.
    assert_eq!(vcr(dec!(3066)).band, Some(Band::Warning));
    // 3066.000365 / 3650 = 0.8400001 → 0.9400001 → danger.
    assert_eq!(vcr(dec!(3066.000365)).band, Some(Band::Danger));

    let bands = Bands::default();
    assert_eq!(bands.band(dec!(0.91)), Band::Normal);
    assert_eq!(bands.band(dec!(0.9100001)), Band::Warning);
    assert_eq!(bands.band(dec!(0.94)), Band::Warning);
    assert_eq!(bands.band(dec!(0.9400001)), Band::Danger);
    assert_eq!(bands.band(dec!(-1)), Band::Normal);
}

// ---------------------------------------------------------------- frequency, severity, renewals, referrals

#[test]
fn frequency_and_severity() {
    let year = Period::containing(PeriodKind::YearToDate, d("2026-12-31"));
    let mut declined = claim(3, "2026-08-01", "declined");
    declined.overdue = true; // not open, so not counted as overdue either
    let mut facts = Facts {
        // One car covered all year: exposure 1.
        policies: vec![policy(1, 1, "2026-01-01", "2027-01-01", dec!(5000))],
        claims: vec![claim(1, "2026-03-01", "closed"), claim(2, "2026-06-01", "surveyed"), declined],
        payments: vec![payment(1, "2026-03-20", dec!(1000))],
        reserves: vec![
            reserve(2, "2026-06-02T00:00:00Z", dec!(2000)),
            reserve(3, "2026-08-02T00:00:00Z", dec!(500)),
            reserve(3, "2026-08-09T00:00:00Z", dec!(-500)), // declined: released to zero
        ],
        ..Facts::default()
    };
    let f = fig(&facts, year);
    assert_eq!(f.exposure, dec!(1));
    // Declined claims are not losses: 2 claims.
    assert_eq!(f.claim_count, 2);
    assert_eq!(f.frequency, Some(dec!(2)));
    // Incurred 1000 + 2000 + 0 = 3000 over 2 claims = 1500.
    assert_eq!(f.incurred, dec!(3000));
    assert_eq!(f.severity, Some(dec!(1500)));

    // A second car from Jul 1: 184 days → exposure (365 + 184) / 365 = 549 / 365; frequency 2 × 365 / 549.
    facts.policies.push(policy(2, 2, "2026-07-01", "2027-07-01", dec!(5000)));
    let f = fig(&facts, year);
    assert_eq!(f.exposure, dec!(549) / dec!(365));
    let expected = dec!(730) / dec!(549); // 1.329690346…
    assert!((f.frequency.unwrap() - expected).abs() < dec!(0.000000000001));
}

#[test]
fn renewal_rate() {
    let jan = month(2026, 1);
    let mut renewed = policy(1, 1, "2025-01-10", "2026-01-10", dec!(1));
    renewed.renewed_by_policy = true;
    let lapsed = policy(2, 2, "2025-01-31", "2026-01-31", dec!(1));
    let mut cancelled = policy(3, 3, "2025-01-20", "2026-01-20", dec!(1));
    cancelled.cancelled_from = Some(d("2025-06-01"));
    cancelled.renewed_by_policy = true;
    // Ends Feb 1 (exclusive): its last day of cover is Jan 31, but it expires in February.
    let february = policy(4, 4, "2025-02-01", "2026-02-01", dec!(1));
    let facts = Facts { policies: vec![renewed, lapsed, cancelled, february], ..Facts::default() };
    let f = fig(&facts, jan);
    // Expiring: policies 1 and 2; renewed: 1 → 1 / 2.
    assert_eq!((f.expiring, f.renewed), (2, 1));
    assert_eq!(f.renewal_rate, Some(dec!(0.5)));
    let feb = fig(&facts, month(2026, 2));
    assert_eq!((feb.expiring, feb.renewed, feb.renewal_rate), (1, 0, Some(dec!(0))));
}

#[test]
fn a_car_whose_two_policies_renew_counts_once_and_every_car_renewed_reads_100_percent() {
    let jan = month(2026, 1);
    let sale = |vehicle: i64, product: &str, renewed: bool| {
        let mut p =
            policy(vehicle * 10 + i64::from(product == "compulsory"), vehicle, "2025-01-10", "2026-01-10", dec!(1));
        p.product = product.into();
        p.renewed_by_policy = renewed;
        p
    };
    // Car 1: both renewed; car 2: the commercial policy renewed, compulsory bought elsewhere: the car stayed.
    let policies = vec![
        sale(1, "compulsory", true),
        sale(1, "commercial", true),
        sale(2, "compulsory", false),
        sale(2, "commercial", true),
    ];
    let facts = Facts { policies, ..Facts::default() };
    let f = fig(&facts, jan);
    assert_eq!((f.expiring, f.renewed, f.renewal_rate), (2, 2, Some(dec!(1))));
    let rolled = Rollup::from_facts(&facts).figures(1, jan, &LiveClaims::default(), &Bands::default()).unwrap();
    assert_eq!((rolled.expiring, rolled.renewed), (2, 2), "the stored totals count cars too");
}

#[test]
fn a_car_s_policies_from_two_sales_share_one_vehicle_key_and_count_once() {
    // Compulsory bought in one sale and commercial in another: one VIN, one car on the renewal rate.
    let vin = "LSVAU2180N2183294";
    assert_eq!(vehicle_key(vin), vehicle_key(" lsvau2180n2183294 "), "a VIN is one car however it was typed");
    assert_ne!(vehicle_key(vin), vehicle_key("LSVAU2180N2183295"));
    assert!(vehicle_key(vin) >= 0 && vehicle_key("") >= 0, "keys stay positive for the analytics' packing");
    let jan = month(2026, 1);
    let mut compulsory = policy(1, vehicle_key(vin), "2025-01-10", "2026-01-10", dec!(950));
    compulsory.product = "compulsory".into();
    compulsory.renewed_by_policy = true;
    let commercial = policy(2, vehicle_key(vin), "2025-01-10", "2026-01-10", dec!(4000));
    let facts = Facts { policies: vec![compulsory, commercial], ..Facts::default() };
    let f = fig(&facts, jan);
    assert_eq!((f.expiring, f.renewed), (1, 1));
}

#[test]
fn referral_ratio() {
    let jan = month(2026, 1);
    let referral = |on: &str, value: Decimal| Referral { dealer_id: 1, referred_on: d(on), value };
    let facts = Facts {
        premiums: vec![premium(1, "2026-01-05", dec!(8000)), premium(2, "2026-01-31", dec!(2000))],
        referrals: vec![
            referral("2026-01-01", dec!(1000)),
            referral("2026-01-15", dec!(1000)),
            referral("2026-01-31", dec!(500)),
            referral("2026-02-01", dec!(9999)), // next month
        ],
        ..Facts::default()
    };
    let f = fig(&facts, jan);
    assert_eq!(f.written_premium, dec!(10000));
    assert_eq!((f.referral_count, f.referral_value), (3, dec!(2500)));
    // 2500 / 10000 = 0.25.
    assert_eq!(f.referral_ratio, Some(dec!(0.25)));
}

#[test]
fn upside_down_is_repairs_referred_above_the_premium_written() {
    let jan = month(2026, 1);
    // Written 1,000.00 in January; a claim incurring 600.00 of it; referrals of `value`.
    let book = |value: Decimal| Facts {
        policies: vec![policy(1, 1, "2026-01-01", "2027-01-01", dec!(1000))],
        premiums: vec![premium(1, "2026-01-01", dec!(1000))],
        claims: vec![claim(1, "2026-01-05", "surveyed")],
        reserves: vec![reserve(1, "2026-01-06T00:00:00Z", dec!(600))],
        referrals: vec![Referral { dealer_id: 1, referred_on: d("2026-01-07"), value }],
        ..Facts::default()
    };
    // Referrals worth 45% of the premium written: not upside down, whatever the loss ratio (they are in incurred).
    let f = fig(&book(dec!(450)), jan);
    assert_eq!(f.referral_ratio, Some(dec!(0.45)));
    assert!(!f.upside_down);
    // Exactly the premium written is not above it; a fen more is.
    assert!(!fig(&book(dec!(1000)), jan).upside_down);
    assert!(fig(&book(dec!(1000.01)), jan).upside_down);
    // The threshold is the dealer's own.
    let strict = Bands { upside_down_above: dec!(0.4), ..Bands::default() };
    assert!(figures(&book(dec!(450)), 1, jan, &strict).upside_down);
    // Referrals with no premium written: upside down; nothing at all: not.
    let referrals_only = Facts {
        referrals: vec![Referral { dealer_id: 1, referred_on: d("2026-01-07"), value: dec!(500) }],
        ..Facts::default()
    };
    assert!(fig(&referrals_only, jan).upside_down);
    assert!(!fig(&Facts::default(), jan).upside_down);
}

#[test]
fn a_loss_ratio_above_100_percent_is_its_own_flag() {
    assert!(loss_ratio_above_100(Some(dec!(1.0001))));
    assert!(!loss_ratio_above_100(Some(dec!(1))));
    assert!(!loss_ratio_above_100(None));
}

#[test]
fn open_and_overdue_claims_are_as_of_now() {
    let flagged = |id, stage: &str, overdue| ClaimFact { overdue, ..claim(id, "2020-01-01", stage) };
    let facts = Facts {
        claims: vec![
            flagged(1, "reported", true),
            flagged(2, "registered", false),
            flagged(3, "surveyed", true),
            flagged(4, "settled", false),
            flagged(5, "closed", true),
            flagged(6, "declined", true),
            flagged(7, "withdrawn", false),
        ],
        ..Facts::default()
    };
    // The accidents are long before the period; open/overdue ignore the period.
    let f = fig(&facts, month(2026, 1));
    assert_eq!((f.open_claims, f.overdue_claims), (4, 2));
}

// ---------------------------------------------------------------- cycle times

fn closed_claim(id: i64, base: &str, stage_hours: &[(&str, i64)], close_hours: i64) -> ClaimFact {
    let t0 = t(base);
    let mut stages: Vec<(String, DateTime<Utc>)> =
        stage_hours.iter().map(|(s, h)| ((*s).to_string(), t0 + TimeDelta::hours(*h))).collect();
    let closed_at = t0 + TimeDelta::hours(close_hours);
    stages.push(("closed".into(), closed_at));
    ClaimFact {
        claim_id: id,
        dealer_id: 1,
        accident_on: d("2025-12-20"),
        reported_at: t0,
        stage: "closed".into(),
        closed_at: Some(closed_at),
        stages,
        overdue: false,
    }
}

fn stat(median: Decimal, p90: Decimal) -> Stat {
    Stat { median_hours: median, p90_hours: p90 }
}

#[test]
fn cycle_times_median_and_p90() {
    let jan = month(2026, 1);
    let base = "2026-01-05T00:00:00Z";
    // reported / registered / surveyed / settled hours, then closed:
    // claim 1: 1 / 2 / 3 / 4, closed at 10
    let c1 = closed_claim(1, base, &[("reported", 0), ("registered", 1), ("surveyed", 3), ("settled", 6)], 10);
    // claim 2: 2 / 4 / – / 14, closed at 20 (never surveyed)
    let c2 = closed_claim(2, base, &[("reported", 0), ("registered", 2), ("settled", 6)], 20);
    // claim 3: 3 / 6 / 1 / 20, closed at 30
    let c3 = closed_claim(3, base, &[("reported", 0), ("registered", 3), ("surveyed", 9), ("settled", 10)], 30);
    // Closed 2026-01-31T16:30Z = Feb 1 00:30 in China: not closed in January.
    let late = closed_claim(4, "2026-01-31T06:30:00Z", &[("reported", 0)], 10);
    // Closed 2025-12-31T16:30Z = Jan 1 00:30 in China: closed in January; report to close 1 h.
    let early = closed_claim(5, "2025-12-31T15:30:00Z", &[("reported", 0)], 1);
    let open = claim(6, "2026-01-03", "surveyed");

    let facts =
        Facts { claims: vec![c1.clone(), c2.clone(), c3.clone(), late.clone(), open.clone()], ..Facts::default() };
    let cycle = fig(&facts, jan).cycle.unwrap();
    // Odd count (3): sorted 10, 20, 30 → median 20; p90 rank ceil(2.7) = 3 → 30.
    assert_eq!(cycle.closed, 3);
    assert_eq!(cycle.report_to_close, Some(stat(dec!(20.00), dec!(30.00))));
    assert_eq!(
        cycle.per_stage,
        vec![
            ("reported".to_string(), stat(dec!(2), dec!(3))),   // 1, 2, 3
            ("registered".to_string(), stat(dec!(4), dec!(6))), // 2, 4, 6
            ("surveyed".to_string(), stat(dec!(2), dec!(3))),   // 1, 3 → (1 + 3) / 2; rank ceil(1.8) = 2
            ("settled".to_string(), stat(dec!(14), dec!(20))),  // 4, 14, 20
        ]
    );

    // Even count (4): add the Jan-1-in-China claim (1 h): 1, 10, 20, 30 → median (10 + 20) / 2 = 15;
    // p90 rank ceil(3.6) = 4 → 30. Its only stage, reported, lasted 1 h: 1, 1, 2, 3 → median 1.5, p90 3.
    let facts = Facts { claims: vec![c1, c2, c3, late, open, early], ..Facts::default() };
    let cycle = fig(&facts, jan).cycle.unwrap();
    assert_eq!(cycle.closed, 4);
    assert_eq!(cycle.report_to_close, Some(stat(dec!(15), dec!(30))));
    assert_eq!(cycle.per_stage[0], ("reported".to_string(), stat(dec!(1.5), dec!(3))));
}

#[test]
fn cycle_time_p90_is_nearest_rank_and_hours_round_half_up() {
    let jan = month(2026, 1);
    let base = t("2026-01-05T00:00:00Z");
    // Ten claims taking 1..10 hours: median (5 + 6) / 2 = 5.5; p90 rank ceil(9.0) = 9 → 9 h.
    let claims: Vec<ClaimFact> = (1..=10)
        .map(|h| {
            let closed_at = base + TimeDelta::hours(h);
            ClaimFact {
                claim_id: h,
                reported_at: base,
                closed_at: Some(closed_at),
                stage: "closed".into(),
                stages: vec![("reported".into(), base), ("closed".into(), closed_at)],
                ..claim(h, "2026-01-04", "closed")
            }
        })
        .collect();
    let cycle = fig(&Facts { claims, ..Facts::default() }, jan).cycle.unwrap();
    assert_eq!(cycle.report_to_close, Some(stat(dec!(5.50), dec!(9.00))));

    // 5418 s = 1.505 h → 1.51 (half-up); 5417 s = 1.50472… h → 1.50. Median of the two: 5417.5 s = 1.50486… → 1.50.
    let timed = |id: i64, seconds: i64| ClaimFact {
        reported_at: base,
        closed_at: Some(base + TimeDelta::seconds(seconds)),
        ..claim(id, "2026-01-04", "closed")
    };
    let one = fig(&Facts { claims: vec![timed(1, 5418)], ..Facts::default() }, jan).cycle.unwrap();
    assert_eq!(one.report_to_close, Some(stat(dec!(1.51), dec!(1.51))));
    // No stage history: no per-stage data.
    assert!(one.per_stage.is_empty());
    let two = fig(&Facts { claims: vec![timed(1, 5418), timed(2, 5417)], ..Facts::default() }, jan).cycle.unwrap();
    assert_eq!(two.report_to_close, Some(stat(dec!(1.50), dec!(1.51))));
}

#[test]
fn cycle_time_sums_repeat_visits_up_to_the_closure() {
    // surveyed 0→2 h, back to registered 2→5, surveyed again 5→6, closed, reopened into surveyed 7→8 and closed
    // again at 8 (= closed_at): 2 + 1 + 1 = 4 h surveyed. A later reopening (9→10) ends after closed_at: ignored.
    let base = t("2026-01-05T00:00:00Z");
    let h = |n: i64| base + TimeDelta::hours(n);
    let claim = ClaimFact {
        claim_id: 1,
        dealer_id: 1,
        accident_on: d("2026-01-01"),
        reported_at: h(-1),
        stage: "registered".into(),
        closed_at: Some(h(8)),
        stages: vec![
            ("reported".into(), h(-1)),
            ("surveyed".into(), h(0)),
            ("registered".into(), h(2)),
            ("surveyed".into(), h(5)),
            ("closed".into(), h(6)),
            ("surveyed".into(), h(7)), // reopened, closed again at 8
            ("closed".into(), h(8)),
            ("surveyed".into(), h(9)),
            ("registered".into(), h(10)),
        ],
        overdue: false,
    };
    let cycle = fig(&Facts { claims: vec![claim], ..Facts::default() }, month(2026, 1)).cycle.unwrap();
    assert_eq!(cycle.report_to_close, Some(stat(dec!(9), dec!(9))));
    assert_eq!(
        cycle.per_stage,
        vec![
            ("reported".to_string(), stat(dec!(1), dec!(1))),
            ("registered".to_string(), stat(dec!(3), dec!(3))),
            ("surveyed".to_string(), stat(dec!(4), dec!(4))),
        ]
    );
}

// ---------------------------------------------------------------- alerts

fn blank() -> Figures {
    fig(&Facts::default(), month(2026, 1))
}

fn kinds(alerts: &[Alert]) -> Vec<AlertKind> {
    alerts.iter().map(|a| a.kind).collect()
}

#[test]
fn thresholds_default_to_domain_values() {
    let th = Thresholds::default();
    assert_eq!(th.target_loss_ratio, dec!(0.75));
    assert_eq!(th.bands, Bands { warning_above: dec!(0.91), danger_above: dec!(0.94), upside_down_above: dec!(1) });
    assert_eq!(th.rising_months, 3);
    assert_eq!(th.overdue_claims, 0);
    assert!(alerts(&blank(), &[], &th).is_empty());
}

#[test]
fn loss_ratio_above_target_alert() {
    let th = Thresholds::default();
    let with = |lr: Decimal| Figures { loss_ratio: Some(lr), ..blank() };
    assert!(alerts(&with(dec!(0.75)), &[], &th).is_empty());
    assert_eq!(kinds(&alerts(&with(dec!(0.7500001)), &[], &th)), vec![AlertKind::LossRatioAboveTarget]);
    let a = alerts(&with(dec!(0.824)), &[], &th);
    assert_eq!(a[0].reason, "loss ratio 82.4% is above the target 75.0%");
    assert_eq!(a[0].figures["loss_ratio"], "0.824");
    assert_eq!(a[0].figures["target"], "0.75");
    // A dealer-specific target.
    let strict = Thresholds { target_loss_ratio: dec!(0.6), ..Thresholds::default() };
    assert_eq!(kinds(&alerts(&with(dec!(0.7)), &[], &strict)), vec![AlertKind::LossRatioAboveTarget]);
}

#[test]
fn variable_cost_alerts_follow_the_bands() {
    let th = Thresholds::default();
    let with = |vcr: Decimal| Figures { variable_cost_ratio: Some(vcr), ..blank() };
    assert!(alerts(&with(dec!(0.91)), &[], &th).is_empty());
    assert_eq!(kinds(&alerts(&with(dec!(0.9100001)), &[], &th)), vec![AlertKind::VariableCostWarning]);
    let warning = alerts(&with(dec!(0.94)), &[], &th);
    assert_eq!(kinds(&warning), vec![AlertKind::VariableCostWarning]);
    assert_eq!(
        warning[0].reason,
        "variable cost ratio 94.0% is above the warning threshold 91.0% (danger above 94.0%)"
    );
    assert_eq!(warning[0].figures["warning_above"], "0.91");
    let danger = alerts(&with(dec!(0.9400001)), &[], &th);
    assert_eq!(kinds(&danger), vec![AlertKind::VariableCostDanger]);
    assert_eq!(danger[0].reason, "variable cost ratio 94.0% is above the danger threshold 94.0%");
    assert_eq!(danger[0].figures["variable_cost_ratio"], "0.9400001");
}

#[test]
fn upside_down_alert() {
    let th = Thresholds::default();
    let f = Figures {
        referral_value: dec!(1200.00),
        written_premium: dec!(1000.00),
        referral_ratio: Some(dec!(1.2)),
        incurred: dec!(2000.00),
        earned_premium: dec!(3100.00),
        ..blank()
    };
    let a = alerts(&f, &[], &th);
    assert_eq!(kinds(&a), vec![AlertKind::UpsideDown]);
    assert_eq!(
        a[0].reason,
        "repairs referred 1200.00 are 120.0% of the premium written 1000.00, above the threshold 100.0%"
    );
    let within = Figures { referral_value: dec!(450.00), referral_ratio: Some(dec!(0.45)), ..f.clone() };
    assert!(alerts(&within, &[], &th).is_empty(), "45% of the premium is not upside down");
    let strict = Thresholds { bands: Bands { upside_down_above: dec!(0.4), ..Bands::default() }, ..th };
    assert_eq!(kinds(&alerts(&within, &[], &strict)), vec![AlertKind::UpsideDown]);
}

#[test]
fn a_loss_ratio_above_100_percent_raises_its_own_alert() {
    let th = Thresholds { target_loss_ratio: dec!(5), ..Thresholds::default() };
    let f = Figures { loss_ratio: Some(dec!(1.2)), incurred: dec!(1200.00), earned_premium: dec!(1000.00), ..blank() };
    let a = alerts(&f, &[], &th);
    assert_eq!(kinds(&a), vec![AlertKind::LossRatioAbove100]);
    assert!(alerts(&Figures { loss_ratio: Some(dec!(1)), ..f }, &[], &th).is_empty());
}

#[test]
fn overdue_claims_alert() {
    let with = |overdue| Figures { open_claims: 5, overdue_claims: overdue, ..blank() };
    let th = Thresholds::default();
    assert!(alerts(&with(0), &[], &th).is_empty());
    let a = alerts(&with(1), &[], &th);
    assert_eq!(kinds(&a), vec![AlertKind::OverdueClaims]);
    assert_eq!(a[0].reason, "1 of 5 open claims are past their service target, more than the 0 allowed");
    let lenient = Thresholds { overdue_claims: 2, ..Thresholds::default() };
    assert!(alerts(&with(2), &[], &lenient).is_empty());
    assert_eq!(kinds(&alerts(&with(3), &[], &lenient)), vec![AlertKind::OverdueClaims]);
}

fn months_with(ratios: &[Option<Decimal>]) -> Vec<Figures> {
    let periods = Period::last_months(d("2026-06-15"), ratios.len());
    periods.into_iter().zip(ratios).map(|(period, lr)| Figures { period, loss_ratio: *lr, ..blank() }).collect()
}

#[test]
fn rising_loss_ratio_needs_three_strict_rises() {
    let th = Thresholds::default();
    let current = blank();
    let rising = |ratios: &[Option<Decimal>]| kinds(&alerts(&current, &months_with(ratios), &th));
    // 0.50 → 0.60 → 0.70 → 0.80: three rises.
    let a = alerts(&current, &months_with(&[Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.8))]), &th);
    assert_eq!(kinds(&a), vec![AlertKind::LossRatioRising]);
    assert_eq!(a[0].reason, "loss ratio rose 3 months running: 50.0% → 60.0% → 70.0% → 80.0%");
    assert_eq!(a[0].figures["months"], "3");
    assert_eq!(a[0].figures["loss_ratio_2026-03"], "0.5");
    assert_eq!(a[0].figures["loss_ratio_2026-06"], "0.8");
    // A flat month breaks it.
    assert!(rising(&[Some(dec!(0.6)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.8))]).is_empty());
    // Only two rises available.
    assert!(rising(&[Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7))]).is_empty());
    // Only the last four months matter: an older high month does not break it.
    assert_eq!(
        rising(&[Some(dec!(0.9)), Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.8))]),
        vec![AlertKind::LossRatioRising]
    );
    assert_eq!(
        rising(&[None, Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.8))]),
        vec![AlertKind::LossRatioRising]
    );
    // The latest month fell.
    assert!(rising(&[Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.8)), Some(dec!(0.7))]).is_empty());
    // A month without a ratio inside the window.
    assert!(rising(&[Some(dec!(0.5)), None, Some(dec!(0.7)), Some(dec!(0.8))]).is_empty());
    // Two rises are enough when the dealer's threshold says so; zero disables the alert.
    let two = Thresholds { rising_months: 2, ..Thresholds::default() };
    let three_months = months_with(&[Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7))]);
    assert_eq!(kinds(&alerts(&current, &three_months, &two)), vec![AlertKind::LossRatioRising]);
    let off = Thresholds { rising_months: 0, ..Thresholds::default() };
    assert!(alerts(&current, &three_months, &off).is_empty());
}

#[test]
fn alerts_come_in_kind_order() {
    let f = Figures {
        loss_ratio: Some(dec!(0.9)),
        variable_cost_ratio: Some(dec!(1.0)),
        referral_value: dec!(10.00),
        overdue_claims: 1,
        open_claims: 1,
        ..blank()
    };
    let recent = months_with(&[Some(dec!(0.5)), Some(dec!(0.6)), Some(dec!(0.7)), Some(dec!(0.9))]);
    assert_eq!(
        kinds(&alerts(&f, &recent, &Thresholds::default())),
        vec![
            AlertKind::LossRatioAboveTarget,
            AlertKind::VariableCostDanger,
            AlertKind::UpsideDown,
            AlertKind::OverdueClaims,
            AlertKind::LossRatioRising
        ]
    );
}

#[test]
fn serde_names_are_snake_case_and_figures_round_trip() {
    assert_eq!(serde_json::to_string(&AlertKind::LossRatioAboveTarget).unwrap(), "\"loss_ratio_above_target\"");
    assert_eq!(serde_json::to_string(&Band::Warning).unwrap(), "\"warning\"");
    assert_eq!(serde_json::to_string(&PeriodKind::YearToDate).unwrap(), "\"year_to_date\"");
    let f = fig(&loss_facts(), month(2026, 1));
    let back: Figures = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
    let facts = loss_facts();
    let back: Facts = serde_json::from_str(&serde_json::to_string(&facts).unwrap()).unwrap();
    assert_eq!(back, facts);
}

// ---------------------------------------------------------------- randomized

/// A tiny deterministic generator (Knuth's MMIX LCG) so the randomized test needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn day(&mut self, base: NaiveDate, max_offset: i64) -> NaiveDate {
        base + TimeDelta::days(self.range(0, max_offset))
    }
    fn money(&mut self, max_fen: i64) -> Decimal {
        Decimal::new(self.range(0, max_fen), 2)
    }
    fn instant(&mut self, base: NaiveDate, max_days: i64) -> DateTime<Utc> {
        base.and_hms_opt(0, 0, 0).unwrap().and_utc() + TimeDelta::seconds(self.range(0, max_days * 86_400))
    }
}

const STAGES: [&str; 7] = ["reported", "registered", "surveyed", "settled", "closed", "declined", "withdrawn"];

fn random_facts(rng: &mut Lcg) -> Facts {
    let base = d("2025-01-01");
    let dealers = rng.range(1, 4);
    let mut facts = Facts::default();
    for policy_id in 0..rng.range(0, 14) {
        let start = rng.day(base, 700);
        let end = start + TimeDelta::days(if rng.chance(80) { 365 } else { rng.range(1, 400) });
        let term = (end - start).num_days();
        let mut segments = vec![(start, rng.money(1_000_000))];
        let mut at = start;
        for _ in 0..rng.range(0, 2) {
            at += TimeDelta::days(rng.range(1, term));
            if at < end {
                segments.push((at, rng.money(1_000_000)));
            }
        }
        let dealer_id = rng.range(1, dealers);
        let cancelled_from = rng.chance(20).then(|| start + TimeDelta::days(rng.range(0, term)));
        facts.policies.push(PolicyFact {
            policy_id,
            vehicle_id: rng.range(1, 6),
            dealer_id,
            product: if rng.chance(50) { "compulsory" } else { "commercial" }.into(),
            business_type: "renewal".into(),
            issued_on: start,
            start,
            end,
            cancelled_from,
            segments,
            pricing_coefficient: if rng.chance(5) { Decimal::ZERO } else { Decimal::new(rng.range(50, 200), 2) },
            renewed_by_policy: rng.chance(50),
        });
        facts.premiums.push(PremiumEntry { dealer_id, policy_id, booked_on: start, amount: rng.money(1_000_000) });
        if cancelled_from.is_some() {
            let refund = -rng.money(500_000);
            facts.premiums.push(PremiumEntry { dealer_id, policy_id, booked_on: rng.day(start, 100), amount: refund });
        }
    }
    for _ in 0..rng.range(0, 6) {
        facts.commissions.push(CommissionEntry {
            dealer_id: rng.range(1, dealers),
            booked_on: rng.day(base, 730),
            amount: rng.money(100_000),
        });
    }
    for claim_id in 0..rng.range(0, 10) {
        // Occasionally reuse an id or dealer mismatch, so bad data is treated the same both ways.
        let claim_id = if rng.chance(10) { 0 } else { claim_id };
        let dealer_id = rng.range(1, dealers);
        let accident_on = rng.day(base, 730);
        let reported_at = rng.instant(accident_on, 5);
        let mut stages = vec![("reported".to_string(), reported_at)];
        let mut at = reported_at;
        for _ in 0..rng.range(0, 5) {
            at += TimeDelta::seconds(rng.range(1, 30 * 86_400));
            stages.push((STAGES[rng.range(0, 6) as usize].to_string(), at));
        }
        let stage = stages.last().map(|(s, _)| s.clone()).unwrap();
        let closed_at = stages.iter().rev().find(|(s, _)| s == "closed").map(|(_, at)| *at);
        facts.claims.push(ClaimFact {
            claim_id,
            dealer_id,
            accident_on,
            reported_at,
            stage,
            closed_at,
            stages,
            overdue: rng.chance(30),
        });
        for _ in 0..rng.range(0, 3) {
            facts.reserves.push(ReserveMovement {
                claim_id: if rng.chance(5) { 1000 } else { claim_id },
                at: rng.instant(accident_on, 90),
                amount: rng.money(500_000) - Decimal::new(100_000, 2),
            });
        }
        for _ in 0..rng.range(0, 2) {
            facts.payments.push(Payment {
                claim_id,
                dealer_id: if rng.chance(10) { rng.range(1, dealers + 1) } else { dealer_id },
                paid_on: rng.day(accident_on, 90),
                amount: rng.money(300_000),
            });
        }
    }
    for _ in 0..rng.range(0, 5) {
        facts.referrals.push(Referral {
            dealer_id: rng.range(1, dealers + 1),
            referred_on: rng.day(base, 730),
            value: rng.money(200_000),
        });
    }
    facts
}

fn random_period(rng: &mut Lcg) -> Period {
    let kinds = [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::YearToDate, PeriodKind::Rolling12Months];
    Period::containing(kinds[rng.range(0, 3) as usize], rng.day(d("2025-01-01"), 800))
}

/// Earned premium the slow way, unrounded: day by day, looking up the segment in force.
fn brute_earned(policy: &PolicyFact, period: Period) -> Decimal {
    let term = (policy.end - policy.start).num_days();
    let last = policy.cancelled_from.map_or(policy.end, |c| c.min(policy.end));
    let mut premium_days = Decimal::ZERO;
    let mut day = period.from;
    while day < period.to {
        if policy.start <= day && day < last {
            let segment = policy.segments.iter().rev().find(|(from, _)| *from <= day).unwrap_or(&policy.segments[0]);
            premium_days += segment.1;
        }
        day += TimeDelta::days(1);
    }
    premium_days / Decimal::from(term)
}

/// Exposure the slow way: the set of (vehicle, day) pairs covered.
fn brute_exposure(policies: &[&PolicyFact], period: Period) -> Decimal {
    let mut covered = BTreeSet::new();
    for policy in policies {
        let last = policy.cancelled_from.map_or(policy.end, |c| c.min(policy.end));
        let mut day = policy.start.max(period.from);
        while day < last.min(period.to) {
            covered.insert((policy.vehicle_id, day));
            day += TimeDelta::days(1);
        }
    }
    Decimal::from(covered.len() as i64) / Decimal::from(365)
}

#[test]
fn figures_by_dealer_equals_figures_per_dealer_on_random_facts() {
    let mut rng = Lcg(0x5eed_2026);
    let bands = Bands::default();
    let mut compared = 0;
    // How often the interesting branches were exercised, so the test cannot pass vacuously.
    let (mut with_loss_ratio, mut with_incurred, mut with_cycle, mut with_normalised_none) = (0, 0, 0, 0);
    for _ in 0..300 {
        let facts = random_facts(&mut rng);
        let period = random_period(&mut rng);
        let all = figures_by_dealer(&facts, period, &bands);

        let mut present = BTreeSet::new();
        present.extend(facts.policies.iter().map(|x| x.dealer_id));
        present.extend(facts.premiums.iter().map(|x| x.dealer_id));
        present.extend(facts.commissions.iter().map(|x| x.dealer_id));
        present.extend(facts.claims.iter().map(|x| x.dealer_id));
        present.extend(facts.payments.iter().map(|x| x.dealer_id));
        present.extend(facts.referrals.iter().map(|x| x.dealer_id));
        assert_eq!(all.keys().copied().collect::<BTreeSet<_>>(), present);

        for (dealer_id, by_dealer) in &all {
            let single = figures(&facts, *dealer_id, period, &bands);
            assert_eq!(&single, by_dealer, "dealer {dealer_id} in {period:?}");
            compared += 1;
            with_loss_ratio += usize::from(single.loss_ratio.is_some());
            with_incurred += usize::from(!single.incurred.is_zero());
            with_cycle += usize::from(single.cycle.as_ref().is_some_and(|c| !c.per_stage.is_empty()));
            with_normalised_none +=
                usize::from(single.loss_ratio.is_some() && single.price_normalised_loss_ratio.is_none());

            let policies: Vec<&PolicyFact> = facts.policies.iter().filter(|p| p.dealer_id == *dealer_id).collect();
            let earned = crate::domain::money::round_to_fen(policies.iter().map(|p| brute_earned(p, period)).sum());
            assert_eq!(single.earned_premium, earned);
            assert_eq!(single.exposure, brute_exposure(&policies, period));
            assert_eq!(single.loss_ratio, if earned.is_zero() { None } else { Some(single.incurred / earned) });
            assert!(single.renewed <= single.expiring);
            assert!(single.overdue_claims <= single.open_claims);
        }
        // A dealer absent from the facts has all-zero figures.
        let absent = figures(&facts, 42, period, &bands);
        assert_eq!((absent.earned_premium, absent.claim_count, absent.loss_ratio), (Decimal::ZERO, 0, None));
    }
    assert!(compared >= 200, "only {compared} dealer comparisons");
    assert!(with_loss_ratio >= 50 && with_incurred >= 50 && with_cycle >= 20 && with_normalised_none >= 1);
}

#[test]
fn figures_by_dealer_keys_every_dealer() {
    let mut facts = loss_facts();
    facts.referrals.push(Referral { dealer_id: 9, referred_on: d("2026-01-02"), value: dec!(1) });
    let all: BTreeMap<i64, Figures> = figures_by_dealer(&facts, month(2026, 1), &Bands::default());
    assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![1, 9]);
    assert_eq!(all[&1], fig(&facts, month(2026, 1)));
    assert_eq!(all[&9].referral_value, dec!(1));
}

// ---------------------------------------------------------------- monthly totals

/// Random facts made consistent as the database keeps them: unique claim ids, payments booked to their claim's
/// dealer, reserve movements only on existing claims.
fn consistent_facts(rng: &mut Lcg) -> Facts {
    let mut facts = random_facts(rng);
    for (i, claim) in facts.claims.iter_mut().enumerate() {
        claim.claim_id = i as i64 + 1;
    }
    facts.payments.retain(|p| p.claim_id >= 1 && (p.claim_id as usize) <= facts.claims.len());
    for payment in &mut facts.payments {
        payment.dealer_id = facts.claims[payment.claim_id as usize - 1].dealer_id;
    }
    facts.reserves.retain(|r| r.claim_id >= 1 && (r.claim_id as usize) <= facts.claims.len());
    facts
}

/// Every kind of period around a random day, whole and as of that day, and the months to it.
fn periods_as_of(rng: &mut Lcg) -> Vec<Period> {
    let day = rng.day(d("2024-10-01"), 1300);
    let kinds = [PeriodKind::Month, PeriodKind::Quarter, PeriodKind::YearToDate, PeriodKind::Rolling12Months];
    let mut periods: Vec<Period> = kinds.map(|k| Period::containing(k, day)).to_vec();
    periods.extend(kinds.map(|k| Period::to_date(k, day)));
    periods.extend(Period::months_to_date(day, 3));
    periods
}

fn live_claims_of(figures: &Figures) -> LiveClaims {
    LiveClaims { open: figures.open_claims, overdue: figures.overdue_claims, cycle: figures.cycle.clone() }
}

#[test]
fn monthly_totals_give_the_same_figures_as_the_facts() {
    let mut rng = Lcg(0x0070_110b);
    let bands = Bands::default();
    let (mut compared, mut with_earned, mut with_incurred, mut with_exposure) = (0, 0, 0, 0);
    for _ in 0..400 {
        let facts = consistent_facts(&mut rng);
        let rollup = Rollup::from_facts(&facts);
        for period in periods_as_of(&mut rng) {
            for (dealer_id, live) in figures_by_dealer(&facts, period, &bands) {
                let stored = rollup.figures(dealer_id, period, &live_claims_of(&live), &bands);
                assert_eq!(stored.as_ref(), Some(&live), "dealer {dealer_id} {period:?}\n{facts:#?}");
                compared += 1;
                with_earned += usize::from(!live.earned_premium.is_zero());
                with_incurred += usize::from(!live.incurred.is_zero());
                with_exposure += usize::from(!live.exposure.is_zero());
            }
        }
    }
    assert!(compared >= 2000 && with_earned >= 500 && with_incurred >= 200 && with_exposure >= 500);
}

#[test]
fn stored_totals_refuse_a_period_that_does_not_start_on_a_first_and_take_any_end() {
    let rollup = Rollup::from_facts(&loss_facts());
    assert!(rollup.figures(1, p("2026-01-02", "2026-02-01"), &LiveClaims::default(), &Bands::default()).is_none());
    assert!(rollup.figures(1, p("2026-01-01", "2026-01-15"), &LiveClaims::default(), &Bands::default()).is_some());
    assert!(rollup.figures(1, month(2026, 1), &LiveClaims::default(), &Bands::default()).is_some());
}

#[test]
fn a_period_as_of_a_day_ends_after_it_and_says_which_days_it_covers() {
    let december = Period::to_date(PeriodKind::Month, d("2026-12-07"));
    assert_eq!(december, p("2026-12-01", "2026-12-08"));
    assert_eq!(december.last_day(), d("2026-12-07"));
    assert_eq!(december.label(" – "), "2026-12-01 – 2026-12-07");
    assert_eq!(december.label(" 至 "), "2026-12-01 至 2026-12-07");
    let json = serde_json::to_value(december).unwrap();
    assert_eq!(json["covers"], "2026-12-01 – 2026-12-07");
    assert_eq!(json["last_day"], "2026-12-07");
    assert_eq!(serde_json::from_value::<Period>(json).unwrap(), december, "an answer's period reads back");
    // The 1st: one day. The last day of the month: the whole month. A day before the period: nothing.
    assert_eq!(Period::to_date(PeriodKind::Month, d("2026-12-01")).days(), 1);
    assert_eq!(Period::to_date(PeriodKind::Month, d("2026-12-31")), month(2026, 12));
    assert_eq!(Period::to_date(PeriodKind::Rolling12Months, d("2026-12-07")), p("2026-01-01", "2026-12-08"));
    assert_eq!(Period::to_date(PeriodKind::Quarter, d("2028-02-29")), p("2028-01-01", "2028-03-01"));
    assert_eq!(month(2027, 1).as_of(d("2026-12-07")).days(), 0);
    assert_eq!(
        Period::months_to_date(d("2026-12-07"), 2),
        vec![month(2026, 11), p("2026-12-01", "2026-12-08")],
        "only the last month of a trend is cut"
    );
}

/// A 365-day policy of 3,650.00 (10.00 a day) from `start`, as one dealer's only business.
fn ten_a_day_from(start: &str) -> Facts {
    let start_day = d(start);
    let end = (start_day + chrono::Duration::days(365)).format("%Y-%m-%d").to_string();
    Facts { policies: vec![policy(1, 1, start, &end, dec!(3650.00))], ..Facts::default() }
}

/// The figures of `facts` for `period`, from the facts and from the stored totals, which must agree.
fn both_ways(facts: &Facts, period: Period) -> Figures {
    let live = fig(facts, period);
    let stored = Rollup::from_facts(facts).figures(1, period, &live_claims_of(&live), &Bands::default());
    assert_eq!(stored.as_ref(), Some(&live), "{period:?}");
    live
}

#[test]
fn on_the_7th_the_month_has_earned_seven_days() {
    let facts = ten_a_day_from("2026-06-01");
    let to_date = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-07")));
    assert_eq!(to_date.earned_premium, dec!(70.00));
    assert_eq!(to_date.exposure, Decimal::from(7) / Decimal::from(365));
    assert_eq!(both_ways(&facts, month(2026, 12)).earned_premium, dec!(310.00), "all 31 days only once passed");
}

#[test]
fn on_the_first_of_a_month_only_that_day_has_earned() {
    let facts = ten_a_day_from("2026-06-01");
    assert_eq!(both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-01"))).earned_premium, dec!(10.00));
}

#[test]
fn on_the_last_day_of_a_month_the_whole_month_has_earned() {
    let facts = ten_a_day_from("2026-06-01");
    let last_day = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-11-30")));
    assert_eq!(last_day, both_ways(&facts, month(2026, 11)));
    assert_eq!(last_day.earned_premium, dec!(300.00));
}

#[test]
fn on_a_leap_day_february_has_earned_29_days() {
    // A 366-day term across the leap day earns 1/366 of its premium a day.
    let facts = Facts { policies: vec![policy(1, 1, "2027-12-01", "2028-12-01", dec!(3660.00))], ..Facts::default() };
    let february = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2028-02-29")));
    assert_eq!(february.earned_premium, dec!(290.00));
    assert_eq!(february, both_ways(&facts, month(2028, 2)));
    assert_eq!(both_ways(&facts, Period::to_date(PeriodKind::Month, d("2028-02-28"))).earned_premium, dec!(280.00));
}

#[test]
fn a_policy_starting_tomorrow_has_earned_nothing_yet() {
    let mut facts = ten_a_day_from("2026-12-08");
    facts.premiums = vec![premium(1, "2026-12-07", dec!(3650.00))];
    let today = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-07")));
    assert_eq!(today.earned_premium, Decimal::ZERO);
    assert_eq!(today.exposure, Decimal::ZERO);
    assert_eq!(today.written_premium, dec!(3650.00), "written the day it was sold");
    assert_eq!(both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-08"))).earned_premium, dec!(10.00));
}

#[test]
fn on_the_first_a_dealer_at_a_true_80_percent_loss_ratio_is_alerted() {
    // A year's cover ending on 30 November and its renewal from 1 December, 10.00 a day each; claims of 2,680.00.
    // On 1 December the rolling 12 months have earned 334 + 1 days: 3,350.00, and 2,680 ÷ 3,350 = 80%. Counting
    // all of December's days would read 2,680 ÷ 3,650 = 73.4%, under the 75% target.
    let mut facts = Facts {
        policies: vec![
            policy(1, 1, "2025-12-01", "2026-12-01", dec!(3650.00)),
            policy(2, 1, "2026-12-01", "2027-12-01", dec!(3650.00)),
        ],
        claims: vec![claim(1, "2026-06-10", "settled")],
        ..Facts::default()
    };
    facts.reserves = vec![reserve(1, "2026-06-11T02:00:00Z", dec!(2680.00))];
    let on_the_first = both_ways(&facts, Period::to_date(PeriodKind::Rolling12Months, d("2026-12-01")));
    assert_eq!(on_the_first.earned_premium, dec!(3350.00));
    assert_eq!(on_the_first.loss_ratio, Some(dec!(0.8)));
    let thresholds = Thresholds::default();
    assert!(kinds(&alerts(&on_the_first, &[], &thresholds)).contains(&AlertKind::LossRatioAboveTarget));
    let whole_month = both_ways(&facts, Period::containing(PeriodKind::Rolling12Months, d("2026-12-01")));
    assert_eq!(whole_month.loss_ratio.map(|r| r.round_dp(3)), Some(dec!(0.734)));
    assert!(!kinds(&alerts(&whole_month, &[], &thresholds)).contains(&AlertKind::LossRatioAboveTarget));
}

#[test]
fn losses_as_of_a_past_day_count_only_what_had_happened_by_then() {
    // A claim in the month being cut: reported on the 3rd, paid on the 20th. As of the 10th it is a reserve.
    let mut facts = ten_a_day_from("2026-06-01");
    facts.claims = vec![claim(1, "2026-12-02", "closed")];
    facts.reserves =
        vec![reserve(1, "2026-12-03T02:00:00Z", dec!(500.00)), reserve(1, "2026-12-20T02:00:00Z", dec!(-500.00))];
    facts.payments = vec![payment(1, "2026-12-20", dec!(450.00))];
    let on_the_10th = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-10")));
    assert_eq!(
        (on_the_10th.paid, on_the_10th.case_reserves, on_the_10th.incurred),
        (dec!(0), dec!(500.00), dec!(500.00))
    );
    assert_eq!(on_the_10th.claim_count, 1);
    let on_the_1st = both_ways(&facts, Period::to_date(PeriodKind::Month, d("2026-12-01")));
    assert_eq!((on_the_1st.claim_count, on_the_1st.incurred), (0, dec!(0)), "the accident had not happened");
    let whole = both_ways(&facts, month(2026, 12));
    assert_eq!((whole.paid, whole.case_reserves, whole.incurred), (dec!(450.00), dec!(0.00), dec!(450.00)));
}

#[test]
fn writes_kept_as_differences_add_up_to_the_rebuilt_totals() {
    // Policies change one at a time (endorsed, cancelled, renewed); the totals kept by adding
    // vehicle(after) − vehicle(before) for each change equal the totals rebuilt from the final facts.
    let mut rng = Lcg(0xd1ff);
    for _ in 0..200 {
        let mut facts = consistent_facts(&mut rng);
        // One vehicle per policy, so a change touches only its own vehicle.
        for (i, policy) in facts.policies.iter_mut().enumerate() {
            policy.vehicle_id = i as i64;
        }
        let mut kept = Rollup::from_facts(&Facts { policies: Vec::new(), ..facts.clone() });
        for policy in &facts.policies {
            kept += Rollup::vehicle(&[policy]);
        }
        for _ in 0..rng.range(1, 6) {
            if facts.policies.is_empty() {
                break;
            }
            let i = rng.range(0, facts.policies.len() as i64 - 1) as usize;
            let before = facts.policies[i].clone();
            let after = &mut facts.policies[i];
            match rng.range(0, 2) {
                0 => {
                    let at = after.start + TimeDelta::days(rng.range(0, 300));
                    after.segments.push((at.max(after.segments.last().unwrap().0), rng.money(900_000)));
                }
                1 => after.cancelled_from = Some(after.start + TimeDelta::days(rng.range(0, 200))),
                _ => after.renewed_by_policy = !after.renewed_by_policy,
            }
            let after = after.clone();
            kept += Rollup::vehicle(&[&after]) + -Rollup::vehicle(&[&before]);
        }
        assert_eq!(kept, Rollup::from_facts(&facts));
    }
}

#[test]
fn dealers_differing_only_in_pricing_coefficient_read_the_same_price_normalised_loss_ratio() {
    // Each sells one car a year: compulsory 950.00 (statutory, no coefficient) and commercial at base 4,000.00 times
    // the channel coefficient, 1.00 at one dealer and 0.85 at the other; each pays 3,000.00 of claims.
    let book = |coefficient: Decimal| {
        let compulsory = PolicyFact {
            product: "compulsory".into(),
            // As stored before compulsory policies carried 1: the rule must not divide compulsory premium by it.
            pricing_coefficient: coefficient,
            ..policy(1, 1, "2026-01-01", "2027-01-01", dec!(950))
        };
        let commercial = PolicyFact {
            pricing_coefficient: coefficient,
            ..policy(2, 1, "2026-01-01", "2027-01-01", dec!(4000) * coefficient)
        };
        Facts {
            policies: vec![compulsory, commercial],
            claims: vec![claim(1, "2026-03-01", "closed")],
            payments: vec![payment(1, "2026-03-10", dec!(3000))],
            ..Facts::default()
        }
    };
    let year = p("2026-01-01", "2027-01-01");
    let full = fig(&book(dec!(1.00)), year);
    let discounted = fig(&book(dec!(0.85)), year);
    // Normalised premium 950 + 4000 = 4950 at both: 3000 / 4950 = 60.6%.
    assert_eq!(full.price_normalised_loss_ratio, Some(dec!(3000) / dec!(4950)));
    assert_eq!(discounted.price_normalised_loss_ratio, full.price_normalised_loss_ratio);
    // The plain loss ratios differ with the premium charged.
    assert_ne!(full.loss_ratio, discounted.loss_ratio);
}

#[test]
fn thresholds_a_manager_sets_are_checked() {
    assert!(Thresholds::default().problems().is_empty());
    let bad = Thresholds {
        target_loss_ratio: dec!(0),
        bands: Bands { warning_above: dec!(0.95), danger_above: dec!(0.94), upside_down_above: dec!(6) },
        rising_months: 13,
        ..Thresholds::default()
    };
    let fields: Vec<String> = bad.problems().into_iter().map(|p| p.field).collect();
    assert_eq!(fields, vec!["target_loss_ratio", "bands.danger_above", "bands.upside_down_above", "rising_months"]);
}
