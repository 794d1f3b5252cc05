#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn terms(product: &str, business_type: &str, base_rate: Decimal) -> Terms {
    Terms {
        product: product.to_owned(),
        business_type: business_type.to_owned(),
        valid_from: day(2026, 1, 1),
        valid_to: None,
        base_rate,
        tiers: vec![],
        loss_ratio_clause: None,
    }
}

fn range(region: &str, product: &str, business_type: &str, min_rate: Decimal, max_rate: Decimal) -> FiledRange {
    FiledRange {
        region: region.to_owned(),
        product: product.to_owned(),
        business_type: business_type.to_owned(),
        min_rate,
        max_rate,
    }
}

fn codes(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems.iter().map(|p| (p.field.as_str(), p.code.as_str())).collect()
}

/// Commercial new_car in 广东-深圳 (filed 0.08–0.22 via 广东): base 10%, tiers 12% from 50k and 14% from
/// 100k, and 8% when the loss ratio is above 0.80.
fn tiered() -> Terms {
    Terms {
        tiers: vec![
            Tier { monthly_written_at_least: dec!(50000.00), rate: dec!(0.12) },
            Tier { monthly_written_at_least: dec!(100000.00), rate: dec!(0.14) },
        ],
        loss_ratio_clause: Some(LossRatioClause { loss_ratio_above: dec!(0.80), rate: dec!(0.08) }),
        ..terms("commercial", "new_car", dec!(0.10))
    }
}

// ---------- filed ranges ----------

#[test]
fn defaults_are_valid_and_as_documented() {
    let filed = FiledRates::defaults();
    assert_eq!(filed.validate(), vec![]);
    assert_eq!(filed.compulsory_cap, dec!(0.04));
    assert_eq!(filed.ranges.len(), 5);
}

#[test]
fn range_for_prefers_city_then_province_then_star() {
    let mut filed = FiledRates::defaults();
    filed.ranges.push(range("广东-深圳", "commercial", "new_car", dec!(0.10), dec!(0.20)));
    // City filing wins in 深圳.
    let r = filed.range_for("广东-深圳", "commercial", "new_car").unwrap();
    assert_eq!((r.region.as_str(), r.min_rate, r.max_rate), ("广东-深圳", dec!(0.10), dec!(0.20)));
    // Another 广东 city falls back to the province filing.
    let r = filed.range_for("广东-广州", "commercial", "new_car").unwrap();
    assert_eq!((r.region.as_str(), r.min_rate, r.max_rate), ("广东", dec!(0.08), dec!(0.22)));
    // A bare province matches its own filing exactly.
    assert_eq!(filed.range_for("广东", "commercial", "new_car").unwrap().region, "广东");
    // Elsewhere, the nationwide filing.
    let r = filed.range_for("浙江-杭州", "commercial", "new_car").unwrap();
    assert_eq!((r.region.as_str(), r.min_rate, r.max_rate), ("*", dec!(0.05), dec!(0.25)));
    // 广东 only filed new_car; renewal there is the nationwide one.
    assert_eq!(filed.range_for("广东-深圳", "commercial", "renewal").unwrap().region, "*");
    // Compulsory is filed for business type "*".
    let r = filed.range_for("广东-深圳", "compulsory", "transfer_in").unwrap();
    assert_eq!((r.business_type.as_str(), r.max_rate), ("*", dec!(0.04)));
    // A prefix match needs the whole province: "广" is not "广东".
    filed.ranges.push(range("广", "commercial", "renewal", dec!(0.01), dec!(0.02)));
    assert_eq!(filed.range_for("广东-深圳", "commercial", "renewal").unwrap().region, "*");
    assert!(filed.range_for("广东-深圳", "marine", "new_car").is_none());
}

#[test]
fn range_for_prefers_exact_business_type_but_region_first() {
    let filed = FiledRates {
        ranges: vec![
            range("*", "commercial", "*", dec!(0.01), dec!(0.30)),
            range("*", "commercial", "renewal", dec!(0.05), dec!(0.20)),
            range("江苏", "commercial", "*", dec!(0.06), dec!(0.18)),
        ],
        compulsory_cap: dec!(0.04),
    };
    assert_eq!(filed.range_for("浙江-杭州", "commercial", "renewal").unwrap().max_rate, dec!(0.20));
    assert_eq!(filed.range_for("浙江-杭州", "commercial", "transfer_in").unwrap().max_rate, dec!(0.30));
    // A province filing for every type beats a nationwide filing for the exact type.
    assert_eq!(filed.range_for("江苏-南京", "commercial", "renewal").unwrap().max_rate, dec!(0.18));
    assert!(filed.range_for("江苏-南京", "compulsory", "renewal").is_none());
}

#[test]
fn filed_table_problems_carry_field_paths() {
    let filed = FiledRates {
        ranges: vec![
            range("*", "commercial", "new_car", dec!(0.05), dec!(0.25)),
            range("广东", "commercial", "new_car", dec!(0.30), dec!(0.20)),
            range("北京", "commercial", "renewal", dec!(-0.01), dec!(1.5)),
            range("*", "commercial", "new_car", dec!(0.05), dec!(0.20)),
            range("", "marine", "used_car", dec!(0), dec!(0.1)),
        ],
        compulsory_cap: dec!(1.2),
    };
    assert_eq!(
        codes(&filed.validate()),
        vec![
            ("compulsory_cap", "above_one"),
            ("ranges[1].min_rate", "min_above_max"),
            ("ranges[2].min_rate", "negative"),
            ("ranges[2].max_rate", "above_one"),
            ("ranges[3].region", "duplicate"),
            ("ranges[4].region", "required"),
            ("ranges[4].product", "unknown_product"),
            ("ranges[4].business_type", "unknown_business_type"),
        ]
    );
    let problems = filed.validate();
    assert_eq!(problems[1].message, "min_rate 0.30 is above max_rate 0.20");
    assert!(problems[4].message.contains("ranges[0]"));
    assert_eq!(problems[1].to_string(), "ranges[1].min_rate: min_rate 0.30 is above max_rate 0.20");
}

// ---------- terms ----------

#[test]
fn valid_terms_have_no_problems() {
    let filed = FiledRates::defaults();
    assert_eq!(validate_terms(&tiered(), "广东-深圳", &filed), vec![]);
    assert_eq!(validate_terms(&terms("compulsory", "renewal", dec!(0.04)), "广东-深圳", &filed), vec![]);
    // Range bounds are inclusive.
    assert_eq!(validate_terms(&terms("commercial", "new_car", dec!(0.22)), "广东-深圳", &filed), vec![]);
    assert_eq!(validate_terms(&terms("commercial", "new_car", dec!(0.08)), "广东-深圳", &filed), vec![]);
}

#[test]
fn rate_above_filed_range_is_refused_naming_the_range() {
    let filed = FiledRates::defaults();
    // Nationwide new_car is 0.05–0.25; 0.30 is above it.
    let problems = validate_terms(&terms("commercial", "new_car", dec!(0.3)), "浙江-杭州", &filed);
    assert_eq!(codes(&problems), vec![("base_rate", "outside_filed_range")]);
    assert_eq!(problems[0].message, "rate 0.30 is outside the filed range 0.05–0.25 for 浙江-杭州 commercial new_car");
    // 0.23 is fine nationwide but above 广东's stricter 0.22.
    let problems = validate_terms(&terms("commercial", "new_car", dec!(0.23)), "广东-深圳", &filed);
    assert_eq!(problems[0].message, "rate 0.23 is outside the filed range 0.08–0.22 for 广东-深圳 commercial new_car");
}

#[test]
fn rate_below_filed_range_is_refused_naming_the_range() {
    let filed = FiledRates::defaults();
    // 0.06 is inside the nationwide 0.05–0.25 but below 广东's 0.08.
    assert_eq!(validate_terms(&terms("commercial", "new_car", dec!(0.06)), "浙江-杭州", &filed), vec![]);
    let problems = validate_terms(&terms("commercial", "new_car", dec!(0.06)), "广东-深圳", &filed);
    assert_eq!(codes(&problems), vec![("base_rate", "outside_filed_range")]);
    assert_eq!(problems[0].message, "rate 0.06 is outside the filed range 0.08–0.22 for 广东-深圳 commercial new_car");
    let problems = validate_terms(&terms("commercial", "renewal", dec!(0.045)), "北京", &filed);
    assert_eq!(problems[0].message, "rate 0.045 is outside the filed range 0.05–0.20 for 北京 commercial renewal");
}

#[test]
fn compulsory_above_cap() {
    let mut filed = FiledRates::defaults();
    let problems = validate_terms(&terms("compulsory", "new_car", dec!(0.05)), "广东-深圳", &filed);
    assert_eq!(codes(&problems), vec![("base_rate", "above_cap")]);
    assert_eq!(problems[0].message, "rate 0.05 is above the compulsory insurance cap 0.04 for 广东-深圳");
    // A lower cap binds even inside the filed range (0–0.04).
    filed.compulsory_cap = dec!(0.03);
    let problems = validate_terms(&terms("compulsory", "new_car", dec!(0.035)), "广东-深圳", &filed);
    assert_eq!(codes(&problems), vec![("base_rate", "above_cap")]);
    // Below the range is still outside it.
    let problems = validate_terms(&terms("compulsory", "new_car", dec!(-0.01)), "广东-深圳", &filed);
    assert_eq!(codes(&problems), vec![("base_rate", "outside_filed_range")]);
}

#[test]
fn tier_problems() {
    let filed = FiledRates::defaults();
    let mut t = tiered();
    t.tiers = vec![
        Tier { monthly_written_at_least: dec!(50000), rate: dec!(0.12) },
        Tier { monthly_written_at_least: dec!(50000), rate: dec!(0.13) }, // not ascending
        Tier { monthly_written_at_least: dec!(80000), rate: dec!(0.11) }, // below the 0.13 before it
        Tier { monthly_written_at_least: dec!(90000), rate: dec!(0.09) }, // below base 0.10
        Tier { monthly_written_at_least: dec!(100000), rate: dec!(0.25) }, // above 广东's 0.22
    ];
    let problems = validate_terms(&t, "广东-深圳", &filed);
    assert_eq!(
        codes(&problems),
        vec![
            ("tiers[1].monthly_written_at_least", "tiers_not_ascending"),
            ("tiers[2].rate", "tier_rate_decreasing"),
            ("tiers[3].rate", "tier_below_base"),
            ("tiers[4].rate", "outside_filed_range"),
        ]
    );
    assert_eq!(problems[0].message, "threshold 50000.00 must be above the previous tier's 50000.00");
    assert_eq!(problems[3].message, "rate 0.25 is outside the filed range 0.08–0.22 for 广东-深圳 commercial new_car");
}

#[test]
fn clause_problems() {
    let filed = FiledRates::defaults();
    let with_clause = |above: Decimal, rate: Decimal| Terms {
        loss_ratio_clause: Some(LossRatioClause { loss_ratio_above: above, rate }),
        ..terms("commercial", "renewal", dec!(0.10))
    };
    assert_eq!(validate_terms(&with_clause(dec!(5), dec!(0.06)), "北京", &filed), vec![]);
    assert_eq!(
        codes(&validate_terms(&with_clause(dec!(0.8), dec!(0.10)), "北京", &filed)),
        vec![("loss_ratio_clause.rate", "clause_not_below_base")]
    );
    assert_eq!(
        codes(&validate_terms(&with_clause(dec!(0), dec!(0.06)), "北京", &filed)),
        vec![("loss_ratio_clause.loss_ratio_above", "out_of_range")]
    );
    assert_eq!(
        codes(&validate_terms(&with_clause(dec!(5.01), dec!(0.06)), "北京", &filed)),
        vec![("loss_ratio_clause.loss_ratio_above", "out_of_range")]
    );
    // Lower than base but below the filed minimum 0.05.
    assert_eq!(
        codes(&validate_terms(&with_clause(dec!(0.8), dec!(0.04)), "北京", &filed)),
        vec![("loss_ratio_clause.rate", "outside_filed_range")]
    );
}

#[test]
fn all_problems_at_once() {
    let filed = FiledRates::defaults();
    let t = Terms {
        valid_from: day(2026, 3, 1),
        valid_to: Some(day(2026, 3, 1)),
        base_rate: dec!(0.30),
        tiers: vec![
            Tier { monthly_written_at_least: dec!(100000), rate: dec!(0.20) },
            Tier { monthly_written_at_least: dec!(50000), rate: dec!(0.35) },
        ],
        loss_ratio_clause: Some(LossRatioClause { loss_ratio_above: dec!(6), rate: dec!(0.30) }),
        ..terms("commercial", "renewal", dec!(0))
    };
    assert_eq!(
        codes(&validate_terms(&t, "上海", &filed)),
        vec![
            ("valid_to", "invalid_period"),
            ("base_rate", "outside_filed_range"),
            ("tiers[0].rate", "tier_below_base"),
            ("tiers[1].monthly_written_at_least", "tiers_not_ascending"),
            ("tiers[1].rate", "outside_filed_range"),
            ("loss_ratio_clause.loss_ratio_above", "out_of_range"),
            ("loss_ratio_clause.rate", "outside_filed_range"),
            ("loss_ratio_clause.rate", "clause_not_below_base"),
        ]
    );
}

#[test]
fn unknown_product_or_type_and_missing_filing() {
    let filed = FiledRates::defaults();
    assert_eq!(
        codes(&validate_terms(&terms("marine", "used_car", dec!(0.1)), "上海", &filed)),
        vec![("product", "unknown_product"), ("business_type", "unknown_business_type")]
    );
    let only_compulsory =
        FiledRates { ranges: vec![range("*", "compulsory", "*", dec!(0), dec!(0.04))], compulsory_cap: dec!(0.04) };
    let problems = validate_terms(&terms("commercial", "renewal", dec!(0.1)), "上海", &only_compulsory);
    assert_eq!(codes(&problems), vec![("base_rate", "no_filed_range")]);
    assert!(problems[0].message.contains("上海 commercial renewal"));
    // The cap still applies without a filing.
    let no_filing = FiledRates { ranges: vec![], compulsory_cap: dec!(0.04) };
    assert_eq!(
        codes(&validate_terms(&terms("compulsory", "renewal", dec!(0.05)), "上海", &no_filing)),
        vec![("base_rate", "no_filed_range"), ("base_rate", "above_cap")]
    );
}

#[test]
fn overlapping_periods() {
    let period = |from: NaiveDate, to: Option<NaiveDate>| Terms {
        valid_from: from,
        valid_to: to,
        ..terms("commercial", "new_car", dec!(0.1))
    };
    let jan = period(day(2026, 1, 1), Some(day(2026, 2, 1)));
    let from_feb = period(day(2026, 2, 1), None);
    let mid_jan_on = period(day(2026, 1, 15), None);
    assert!(!overlaps(&jan, &from_feb), "valid_to is exclusive");
    assert!(!overlaps(&from_feb, &jan));
    assert!(overlaps(&jan, &mid_jan_on));
    assert!(overlaps(&from_feb, &mid_jan_on), "two open-ended terms always overlap");
    assert!(overlaps(&jan, &jan));
    let renewal = Terms { business_type: "renewal".into(), ..jan.clone() };
    assert!(!overlaps(&jan, &renewal), "different business types never clash");
    let empty = period(day(2026, 1, 10), Some(day(2026, 1, 10)));
    assert!(!overlaps(&jan, &empty));
}

#[test]
fn rate_at_issue_uses_clause_only_above_threshold() {
    let t = tiered();
    assert_eq!(rate_at_issue(&t, None), dec!(0.10));
    assert_eq!(rate_at_issue(&t, Some(dec!(0.80))), dec!(0.10), "at the threshold is not above it");
    assert_eq!(rate_at_issue(&t, Some(dec!(0.8001))), dec!(0.08));
    assert_eq!(rate_at_issue(&terms("commercial", "new_car", dec!(0.1)), Some(dec!(3))), dec!(0.1));
}

#[test]
fn the_loss_ratio_clause_applies_at_month_close_only_above_its_threshold() {
    let t = tiered();
    assert!(!clause_applies(&t, None), "no loss ratio yet (no earned premium): the clause cannot be judged");
    assert!(!clause_applies(&t, Some(dec!(0.80))), "at the threshold is not above it");
    assert!(clause_applies(&t, Some(dec!(0.8001))));
    assert!(!clause_applies(&terms("commercial", "new_car", dec!(0.1)), Some(dec!(3))), "no clause");
}

#[test]
fn the_clause_is_judged_on_the_loss_ratio_to_a_millionth() {
    let raw = dec!(50000) / dec!(7777.77);
    let judged = loss_ratio_for_clause(Some(raw)).unwrap();
    assert_eq!(judged.scale(), 6);
    assert_eq!(judged, dec!(6.428578));
    assert_eq!(loss_ratio_for_clause(None), None);
}

#[test]
fn a_dealer_above_the_clause_threshold_is_paid_the_lower_rate_at_month_close() {
    let t = tiered();
    // 60,000.00 written, booked at the base 10% (6,000.00) at issue; the tier would give 12%, the clause caps at 8%.
    let applied = clause_applies(&t, Some(dec!(0.85)));
    assert_eq!(tier_true_up(&t, dec!(60000.00), dec!(6000.00), applied).to_string(), "-1200.00");
    assert_eq!(tier_true_up(&t, dec!(60000.00), dec!(6000.00), false).to_string(), "1200.00");
}

#[test]
fn terms_serde_round_trip_and_defaults() {
    let json = r#"{"product":"commercial","business_type":"renewal","valid_from":"2026-01-01","valid_to":null,
        "base_rate":"0.15","loss_ratio_clause":null}"#;
    let t: Terms = serde_json::from_str(json).unwrap();
    assert!(t.tiers.is_empty());
    assert_eq!(t.base_rate, dec!(0.15));
    let back: Terms = serde_json::from_str(&serde_json::to_string(&tiered()).unwrap()).unwrap();
    assert_eq!(back, tiered());
    assert!(serde_json::to_string(&tiered()).unwrap().contains(r#""base_rate":"0.10""#));
    let filed: FiledRates = serde_json::from_str(&serde_json::to_string(&FiledRates::defaults()).unwrap()).unwrap();
    assert_eq!(filed, FiledRates::defaults());
}

// ---------- ledger arithmetic ----------

#[test]
fn entry_kind_names() {
    for kind in EntryKind::ALL {
        assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
    }
    assert_eq!(EntryKind::TierTrueUp.as_str(), "tier_true_up");
    assert_eq!(EntryKind::parse("TierTrueUp"), None);
}

#[test]
fn accrual_rounds_half_up_to_the_fen() {
    // 1234.56 × 0.125 = 154.32000
    assert_eq!(accrual(dec!(1234.56), dec!(0.125)).to_string(), "154.32");
    // 1000.04 × 0.125 = 125.005 → 125.01 (banker's rounding would give 125.00)
    assert_eq!(accrual(dec!(1000.04), dec!(0.125)).to_string(), "125.01");
    // 33.33 × 0.15 = 4.9995 → 5.00
    assert_eq!(accrual(dec!(33.33), dec!(0.15)).to_string(), "5.00");
    // 1000 × 0.1 = 100.0 → scale 2
    assert_eq!(accrual(dec!(1000), dec!(0.1)).to_string(), "100.00");
    assert_eq!(accrual(dec!(0), dec!(0.1)).to_string(), "0.00");
}

#[test]
fn the_clawback_is_the_commission_on_the_refund_at_the_rate_booked() {
    // Cancelled on its start day: the whole premium at 10%.
    assert_eq!(reversal(dec!(3650.00), dec!(0.10), dec!(365.00), dec!(3650.00)).to_string(), "-365.00");
    // Mid-term: 1800.00 × 10% = 180.00
    assert_eq!(reversal(dec!(1800.00), dec!(0.10), dec!(365.00), dec!(3650.00)).to_string(), "-180.00");
    // 1000.00 × 3.333% = 33.33
    assert_eq!(reversal(dec!(1000.00), dec!(0.03333), dec!(100.00), dec!(3000.00)).to_string(), "-33.33");
    // 1.25 × 10% = 0.125 → 0.13 (half away from zero)
    assert_eq!(reversal(dec!(1.25), dec!(0.10), dec!(1.00), dec!(2.00)).to_string(), "-0.13");
}

#[test]
fn after_an_endorsement_the_clawback_is_still_refund_times_rate() {
    // Issued at 1500.00 (150.00 at 10%), endorsed up by 125.70 for the rest of the year (12.57): 162.57 booked.
    // The refund of 1000.00 claws back 100.00, not 162.57 × 1000 ÷ 1625.70 or 150 × 1000 ÷ 1500.
    assert_eq!(reversal(dec!(1000.00), dec!(0.10), dec!(162.57), dec!(1625.70)).to_string(), "-100.00");
}

#[test]
fn the_clawback_never_exceeds_what_is_still_booked() {
    assert_eq!(reversal(dec!(3000.00), dec!(0.20), dec!(365.00), dec!(3650.00)).to_string(), "-365.00");
    assert_eq!(reversal(dec!(100.00), dec!(0.10), dec!(0), dec!(3650.00)).to_string(), "0.00");
    assert_eq!(reversal(dec!(0), dec!(0.10), dec!(365.00), dec!(3650.00)).to_string(), "0.00");
    // A tiny refund rounds to zero, which must not be "-0.00".
    assert_eq!(reversal(dec!(0.01), dec!(0.10), dec!(365.00), dec!(3650.00)).to_string(), "0.00");
}

#[test]
fn refunding_everything_charged_claws_back_everything_booked() {
    // Three entries each rounded to the fen: 33.33 + 33.33 + 33.34 booked on 333.33 + 333.33 + 333.34 at 10%.
    assert_eq!(reversal(dec!(1000.00), dec!(0.10), dec!(100.00), dec!(1000.00)).to_string(), "-100.00");
    assert_eq!(reversal(dec!(1000.00), dec!(0.10), dec!(99.99), dec!(1000.00)).to_string(), "-99.99");
    // Rounding put a fen more on the books than refund × rate: the full refund takes it back too.
    assert_eq!(reversal(dec!(1000.00), dec!(0.10), dec!(100.01), dec!(1000.00)).to_string(), "-100.01");
}

#[test]
fn endorsement_adjustment_both_signs() {
    // +500.00 × 0.15 = 75.00
    assert_eq!(endorsement_adjustment(dec!(500.00), dec!(0.15)).to_string(), "75.00");
    // −333.33 × 0.125 = −41.66625 → −41.67
    assert_eq!(endorsement_adjustment(dec!(-333.33), dec!(0.125)).to_string(), "-41.67");
    // −0.04 × 0.125 = −0.005 → −0.01 (away from zero)
    assert_eq!(endorsement_adjustment(dec!(-0.04), dec!(0.125)).to_string(), "-0.01");
}

#[test]
fn month_rate_at_tier_thresholds() {
    let t = tiered();
    assert_eq!(month_rate(&t, dec!(0), false), dec!(0.10));
    assert_eq!(month_rate(&t, dec!(49999.99), false), dec!(0.10), "one fen below the first tier");
    assert_eq!(month_rate(&t, dec!(50000.00), false), dec!(0.12), "exactly at the first tier");
    assert_eq!(month_rate(&t, dec!(99999.99), false), dec!(0.12));
    assert_eq!(month_rate(&t, dec!(100000.00), false), dec!(0.14));
    // With the clause applied the clause rate caps everything: min(0.14, 0.08), min(0.10, 0.08).
    assert_eq!(month_rate(&t, dec!(100000.00), true), dec!(0.08));
    assert_eq!(month_rate(&t, dec!(10000.00), true), dec!(0.08));
    // clause_applied without a clause changes nothing.
    let no_clause = Terms { loss_ratio_clause: None, ..tiered() };
    assert_eq!(month_rate(&no_clause, dec!(50000.00), true), dec!(0.12));
    // Tiers stored out of order still pick the highest reached.
    let shuffled = Terms { tiers: tiered().tiers.into_iter().rev().collect(), ..tiered() };
    assert_eq!(month_rate(&shuffled, dec!(150000.00), false), dec!(0.14));
}

#[test]
fn tier_true_up_at_thresholds() {
    let t = tiered();
    // Exactly at 50000.00: 50000.00 × 0.12 = 6000.00; booked at base 5000.00 → +1000.00
    assert_eq!(tier_true_up(&t, dec!(50000.00), dec!(5000.00), false).to_string(), "1000.00");
    // One fen below: 49999.99 × 0.10 = 4999.999 → 5000.00; per-policy rounding booked 4999.98 → +0.02
    assert_eq!(tier_true_up(&t, dec!(49999.99), dec!(4999.98), false).to_string(), "0.02");
    // Nothing to settle shows as 0.00.
    assert_eq!(tier_true_up(&t, dec!(49999.99), dec!(5000.00), false).to_string(), "0.00");
    // Clause applied: 100000.00 × min(0.14, 0.08) = 8000.00; booked 8000.00 → 0.00
    assert_eq!(tier_true_up(&t, dec!(100000.00), dec!(8000.00), true).to_string(), "0.00");
    // Over-booked (e.g. cancellations reduced the written premium): 50000.00 × 0.12 = 6000.00 − 6100.00
    assert_eq!(tier_true_up(&t, dec!(50000.00), dec!(6100.00), false).to_string(), "-100.00");
    // 100000.00 × 0.14 = 14000.00 − 10000.00 = 4000.00
    assert_eq!(tier_true_up(&t, dec!(100000.00), dec!(10000.00), false).to_string(), "4000.00");
}

/// A fixed-seed linear congruential generator, so the property test is reproducible without a crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Uniform-ish in lo..=hi.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }
}

struct Policy {
    rate: Decimal,
    premium: Decimal,
    entries: Vec<Decimal>,
    cancelled: bool,
    full_refund: bool,
    /// Premium net of refunds: what the dealer's commission is finally earned on.
    net_premium: Decimal,
}

#[test]
fn property_entries_sum_to_commission_on_net_premium() {
    let mut rng = Lcg(0x5EED_2026);
    let mut policies_checked = 0;
    let mut full_refunds = 0;
    for case in 0..600 {
        let mut policies: Vec<Policy> = Vec::new();
        let steps = rng.between(1, 25);
        for _ in 0..steps {
            let live: Vec<usize> = (0..policies.len()).filter(|&i| !policies[i].cancelled).collect();
            let op = if live.is_empty() { 0 } else { rng.between(0, 2) };
            match op {
                0 => {
                    let premium = Decimal::new(rng.between(1, 3_000_000), 2);
                    let rate = Decimal::new(rng.between(0, 2500), 4);
                    let a = accrual(premium, rate);
                    policies.push(Policy {
                        rate,
                        premium,
                        entries: vec![a],
                        cancelled: false,
                        full_refund: false,
                        net_premium: premium,
                    });
                }
                1 => {
                    let p = &mut policies[live[rng.between(0, live.len() as i64 - 1) as usize]];
                    // Either sign, keeping at least 0.01 of premium.
                    let min_fen = -(p.premium * dec!(100)).trunc().to_string().parse::<i64>().unwrap() + 1;
                    let adjustment = Decimal::new(rng.between(min_fen, 500_000), 2);
                    p.entries.push(endorsement_adjustment(adjustment, p.rate));
                    p.premium += adjustment;
                    p.net_premium = p.premium;
                }
                _ => {
                    let p = &mut policies[live[rng.between(0, live.len() as i64 - 1) as usize]];
                    let premium_fen = (p.premium * dec!(100)).trunc().to_string().parse::<i64>().unwrap();
                    // A third of cancellations are on the start day (everything refunded).
                    let refund =
                        if rng.between(0, 2) == 0 { p.premium } else { Decimal::new(rng.between(0, premium_fen), 2) };
                    let accrued: Decimal = p.entries.iter().sum();
                    let r = reversal(refund, p.rate, accrued, p.premium);
                    assert!(r <= Decimal::ZERO && -r <= accrued, "case {case}: reversal {r} of accrued {accrued}");
                    p.entries.push(r);
                    p.cancelled = true;
                    p.full_refund = refund == p.premium;
                    p.net_premium = p.premium - refund;
                }
            }
        }
        for p in &policies {
            let sum: Decimal = p.entries.iter().sum();
            for entry in &p.entries {
                assert_eq!(entry.scale(), 2, "case {case}: {entry} must carry 2 decimals");
            }
            if p.full_refund {
                full_refunds += 1;
                assert_eq!(sum.to_string(), "0.00", "case {case}: fully refunded policy must net to exactly 0.00");
            }
            let expected = accrual(p.net_premium, p.rate);
            let tolerance = dec!(0.01) * Decimal::from(p.entries.len());
            assert!(
                (sum - expected).abs() <= tolerance,
                "case {case}: entries {:?} sum to {sum}, expected {expected} ± {tolerance}",
                p.entries
            );
            policies_checked += 1;
        }
    }
    assert!(policies_checked >= 500, "only {policies_checked} policies checked");
    assert!(full_refunds >= 100, "only {full_refunds} full refunds exercised");
}

// ---------- statements ----------

fn line(entry_id: i64, dealer_id: i64, booked_on: NaiveDate, amount: Decimal, statement_id: Option<i64>) -> LedgerLine {
    LedgerLine { entry_id, dealer_id, booked_on, kind: EntryKind::Accrual, amount, statement_id }
}

fn october() -> (Vec<StatementTotals>, Vec<LedgerLine>) {
    let statements = vec![
        StatementTotals {
            statement_id: 12,
            dealer_id: 3,
            month: day(2026, 10, 1),
            total: dec!(1234.50),
            line_count: 3,
        },
        StatementTotals { statement_id: 13, dealer_id: 4, month: day(2026, 10, 1), total: dec!(50.00), line_count: 1 },
    ];
    let ledger = vec![
        line(1, 3, day(2026, 10, 2), dec!(1000.00), Some(12)),
        line(2, 3, day(2026, 10, 15), dec!(334.50), Some(12)),
        LedgerLine { kind: EntryKind::Reversal, ..line(3, 3, day(2026, 10, 31), dec!(-100.00), Some(12)) },
        line(4, 4, day(2026, 10, 9), dec!(50.00), Some(13)),
        // Next month, no statement yet: not a difference.
        line(5, 3, day(2026, 11, 1), dec!(10.00), None),
        // Another dealer without a statement: not a difference.
        line(6, 9, day(2026, 10, 1), dec!(10.00), None),
    ];
    (statements, ledger)
}

#[test]
fn reconcile_clean() {
    let (statements, ledger) = october();
    assert_eq!(reconcile(&statements, &ledger), vec![]);
    assert_eq!(reconcile(&[], &ledger), vec![]);
}

#[test]
fn reconcile_total_off_by_a_fen() {
    let (mut statements, ledger) = october();
    statements[0].total = dec!(1234.51);
    let differences = reconcile(&statements, &ledger);
    assert_eq!(differences.len(), 1);
    assert_eq!(
        differences[0],
        Difference {
            statement_id: Some(12),
            dealer_id: 3,
            month: day(2026, 10, 1),
            message: "statement 12 (dealer 3, 2026-10) shows 1234.51 but its 3 ledger lines sum to 1234.50 \
                      (difference 0.01)"
                .into(),
        }
    );
}

#[test]
fn reconcile_line_on_the_wrong_statement_month() {
    let (statements, mut ledger) = october();
    // Entry 5 (November) put on the October statement: total, count and month all disagree.
    ledger[4].statement_id = Some(12);
    let messages: Vec<String> = reconcile(&statements, &ledger).into_iter().map(|d| d.message).collect();
    assert_eq!(
        messages,
        vec![
            "statement 12 (dealer 3, 2026-10) shows 1234.50 but its 4 ledger lines sum to 1244.50 (difference -10.00)",
            "statement 12 (dealer 3, 2026-10) counts 3 lines but 4 ledger lines are assigned to it",
            "ledger entry 5 is on statement 12 (dealer 3, 2026-10) but was booked for dealer 3 on 2026-11-01",
        ]
    );
    // Another dealer's line on it, totals adjusted so only the misplacement shows.
    let (mut statements, mut ledger) = october();
    ledger[3].statement_id = Some(12);
    statements[0].total = dec!(1284.50);
    statements[0].line_count = 4;
    statements[1].total = dec!(0);
    statements[1].line_count = 0;
    let differences = reconcile(&statements, &ledger);
    assert_eq!(differences.len(), 1);
    assert_eq!(
        differences[0].message,
        "ledger entry 4 is on statement 12 (dealer 3, 2026-10) but was booked for dealer 4 on 2026-10-09"
    );
}

#[test]
fn reconcile_unassigned_line_in_a_stated_month() {
    let (statements, mut ledger) = october();
    ledger.push(LedgerLine { kind: EntryKind::Correction, ..line(7, 3, day(2026, 10, 20), dec!(-0.50), None) });
    let differences = reconcile(&statements, &ledger);
    assert_eq!(
        differences,
        vec![Difference {
            statement_id: None,
            dealer_id: 3,
            month: day(2026, 10, 1),
            message: "ledger entry 7 (correction -0.50 booked 2026-10-20) is on no statement, but dealer 3 has a \
                      statement for 2026-10"
                .into(),
        }]
    );
}

#[test]
fn reconcile_line_count_mismatch() {
    let (mut statements, ledger) = october();
    statements[1].line_count = 2;
    let differences = reconcile(&statements, &ledger);
    assert_eq!(differences.len(), 1);
    assert_eq!(differences[0].statement_id, Some(13));
    assert_eq!(
        differences[0].message,
        "statement 13 (dealer 4, 2026-10) counts 2 lines but 1 ledger line is assigned to it"
    );
}

#[test]
fn reconcile_empty_statement_and_mid_month_date() {
    // A statement with no lines at all, dated mid-month: compared as its month.
    let statements = vec![StatementTotals {
        statement_id: 20,
        dealer_id: 5,
        month: day(2026, 9, 17),
        total: dec!(0),
        line_count: 0,
    }];
    assert_eq!(reconcile(&statements, &[]), vec![]);
    let ledger = vec![line(30, 5, day(2026, 9, 30), dec!(12.34), None)];
    let differences = reconcile(&statements, &ledger);
    assert_eq!(differences.len(), 1);
    assert_eq!(differences[0].month, day(2026, 9, 1));
}

#[test]
fn statement_status_transitions() {
    use StatementStatus::*;
    let all = [Draft, Confirmed, Paid];
    for from in all {
        for to in all {
            let allowed = matches!((from, to), (Draft, Confirmed) | (Confirmed, Paid));
            assert_eq!(from.can_become(to), allowed, "{from:?} → {to:?}");
        }
        assert_eq!(StatementStatus::parse(from.as_str()), Some(from));
        assert_eq!(serde_json::to_string(&from).unwrap(), format!("\"{}\"", from.as_str()));
    }
    assert_eq!(StatementStatus::parse("Paid"), None);
    assert!(!Draft.can_become(Paid), "confirmation can't be skipped");
    assert!(!Paid.can_become(Draft), "a paid statement can't be reopened");
}
