//! Underwriting rules (核保规则) as data: each rule names a condition on the quote or the dealer
//! and whether meeting it refers the quote to an underwriter or declines it.
//!
//! Rules are data, not code, because underwriters set and change them (which vehicles are too
//! old, which dealers are under remediation) without a release. [`evaluate`] checks every rule,
//! so an underwriter reviewing a referred quote sees all the reasons at once, each naming the
//! figure and the threshold it crossed.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::rating::{PricingInput, TableProblem, vehicle_age_months};

/// What meeting a rule's condition does to a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// The quote waits for an underwriter to approve or decline it.
    Refer,
    /// The quote cannot be bound.
    Decline,
}

/// A condition on the quote or the dealer selling it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleCondition {
    /// The vehicle is more than `years` whole years old on the start date. Only applies when
    /// vehicle damage is chosen: an old car's value is what makes it hard to insure.
    VehicleAgeAbove { years: u32 },
    /// The NCD level is above `level` (a history of claims).
    NcdLevelAbove { level: i32 },
    /// The dealer's status is one of `statuses`, e.g. `remediation`, `suspended`.
    DealerStatusIn { statuses: Vec<String> },
    /// The new-car price is above `amount`.
    NewCarPriceAbove { amount: Decimal },
    /// The pricing coefficient is below `value` (a deep discount).
    CoefficientBelow { value: Decimal },
}

/// One underwriting rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderwritingRule {
    /// Stable code, shown on the quote with each hit.
    pub code: String,
    pub description_zh: String,
    pub description_en: String,
    pub condition: RuleCondition,
    pub outcome: RuleOutcome,
}

/// What a rule is checked against: the quote's pricing input and the selling dealer's status.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    pub input: &'a PricingInput,
    /// The dealer's status code: `active`, `remediation` or `suspended`.
    pub dealer_status: &'a str,
}

/// A rule whose condition the quote meets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub code: String,
    pub outcome: RuleOutcome,
    /// The figure and the threshold, e.g. "vehicle is 12 years old, above 10".
    pub reason: String,
}

/// The underwriting decision on a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "hits", rename_all = "snake_case")]
pub enum Decision {
    /// No rule hit: the quote may be bound.
    Accept,
    /// Only refer rules hit: the quote waits for an underwriter.
    Refer(Vec<RuleHit>),
    /// At least one decline rule hit. Carries every hit, declines and refers, in rule order, so
    /// the whole picture is recorded.
    Decline(Vec<RuleHit>),
}

/// Checks every rule against the quote. Any decline hit declines the quote; otherwise any refer
/// hit refers it; otherwise it is accepted. Hits are listed in rule order.
pub fn evaluate(rules: &[UnderwritingRule], context: &RuleContext) -> Decision {
    let hits: Vec<RuleHit> = rules
        .iter()
        .filter_map(|rule| {
            let reason = condition_met(&rule.condition, context)?;
            Some(RuleHit { code: rule.code.clone(), outcome: rule.outcome, reason })
        })
        .collect();
    if hits.iter().any(|hit| hit.outcome == RuleOutcome::Decline) {
        Decision::Decline(hits)
    } else if hits.is_empty() {
        Decision::Accept
    } else {
        Decision::Refer(hits)
    }
}

/// The reason a condition is met, naming the figure and the threshold; None when it is not met.
fn condition_met(condition: &RuleCondition, context: &RuleContext) -> Option<String> {
    let input = context.input;
    match condition {
        RuleCondition::VehicleAgeAbove { years } => {
            if !input.coverages.vehicle_damage {
                return None;
            }
            let age = vehicle_age_months(input.vehicle.first_registration, input.start_date) / 12;
            (age > *years).then(|| format!("vehicle is {age} years old, above {years}"))
        }
        RuleCondition::NcdLevelAbove { level } => {
            (input.ncd_level > *level).then(|| format!("NCD level is {}, above {level}", input.ncd_level))
        }
        RuleCondition::DealerStatusIn { statuses } => statuses
            .iter()
            .any(|status| status == context.dealer_status)
            .then(|| format!("dealer status is {}", context.dealer_status)),
        RuleCondition::NewCarPriceAbove { amount } => (input.vehicle.new_car_price > *amount)
            .then(|| format!("new-car price is {}, above {amount}", input.vehicle.new_car_price)),
        RuleCondition::CoefficientBelow { value } => (input.pricing_coefficient < *value)
            .then(|| format!("pricing coefficient is {}, below {value}", input.pricing_coefficient)),
    }
}

/// The default rules from the domain notes: starting values an underwriter then edits.
pub fn default_rules() -> Vec<UnderwritingRule> {
    let rule = |code: &str, zh: &str, en: &str, condition, outcome| UnderwritingRule {
        code: code.into(),
        description_zh: zh.into(),
        description_en: en.into(),
        condition,
        outcome,
    };
    vec![
        rule(
            "vd_vehicle_age",
            "投保车损险的车辆车龄超过 10 年",
            "Vehicle damage on a vehicle more than 10 years old",
            RuleCondition::VehicleAgeAbove { years: 10 },
            RuleOutcome::Refer,
        ),
        rule(
            "ncd_high",
            "无赔款优待等级高于 3 级",
            "NCD level above 3",
            RuleCondition::NcdLevelAbove { level: 3 },
            RuleOutcome::Refer,
        ),
        rule(
            "dealer_suspended",
            "车商已暂停合作",
            "Dealer is suspended",
            RuleCondition::DealerStatusIn { statuses: vec!["suspended".into()] },
            RuleOutcome::Decline,
        ),
        rule(
            "dealer_remediation",
            "车商整改中",
            "Dealer is under remediation",
            RuleCondition::DealerStatusIn { statuses: vec!["remediation".into()] },
            RuleOutcome::Refer,
        ),
        rule(
            "luxury",
            "新车购置价超过 100 万元",
            "New-car price above 1,000,000",
            RuleCondition::NewCarPriceAbove { amount: Decimal::from(1_000_000) },
            RuleOutcome::Refer,
        ),
    ]
}

/// Checks a rule list an underwriter has edited: codes present and unique, a status list not
/// empty. Paths read `rules[2].code`.
pub fn validate_rules(rules: &[UnderwritingRule]) -> Result<(), Vec<TableProblem>> {
    let mut problems = Vec::new();
    let mut problem = |path: String, message: String| problems.push(TableProblem { path, message });
    let mut codes = HashSet::new();
    for (i, rule) in rules.iter().enumerate() {
        let code = rule.code.trim();
        if code.is_empty() {
            problem(format!("rules[{i}].code"), "a rule needs a code".into());
        } else if !codes.insert(code) {
            problem(format!("rules[{i}].code"), format!("the code {code} is used by another rule"));
        }
        if rule.description_zh.trim().is_empty() {
            problem(format!("rules[{i}].description_zh"), "a rule needs a Chinese description".into());
        }
        if rule.description_en.trim().is_empty() {
            problem(format!("rules[{i}].description_en"), "a rule needs an English description".into());
        }
        if let RuleCondition::DealerStatusIn { statuses } = &rule.condition
            && statuses.iter().all(|s| s.trim().is_empty())
        {
            problem(format!("rules[{i}].condition.statuses"), "name at least one dealer status".into());
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::underwriting::rating::{AccidentHistory, CoverageChoice, Vehicle};
    use chrono::NaiveDate;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("test decimal")
    }

    fn date(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("test date")
    }

    /// A 3-year-old 5-seat car at 200000.00, NCD level 0, coefficient 1.0, vehicle damage chosen:
    /// nothing a default rule looks at.
    fn input() -> PricingInput {
        PricingInput {
            vehicle: Vehicle { first_registration: date(2023, 11, 23), new_car_price: d("200000.00"), seats: 5 },
            start_date: date(2026, 11, 23),
            accident_history: AccidentHistory::NewOrNoRecord,
            ncd_level: 0,
            pricing_coefficient: d("1.0"),
            coverages: CoverageChoice { compulsory: true, vehicle_damage: true, ..CoverageChoice::default() },
        }
    }

    fn decide(input: &PricingInput, dealer_status: &str) -> Decision {
        evaluate(&default_rules(), &RuleContext { input, dealer_status })
    }

    fn hit(code: &str, outcome: RuleOutcome, reason: &str) -> RuleHit {
        RuleHit { code: code.into(), outcome, reason: reason.into() }
    }

    #[test]
    fn a_quote_meeting_no_rule_is_accepted() {
        assert_eq!(decide(&input(), "active"), Decision::Accept);
    }

    #[test]
    fn vehicle_damage_on_a_car_over_10_years_old_is_referred() {
        let mut input = input();
        // 2016-01-10 → 2027-01-10: 132 months = 11 whole years
        input.vehicle.first_registration = date(2016, 1, 10);
        input.start_date = date(2027, 1, 10);
        let expected = hit("vd_vehicle_age", RuleOutcome::Refer, "vehicle is 11 years old, above 10");
        assert_eq!(decide(&input, "active"), Decision::Refer(vec![expected]));
    }

    #[test]
    fn a_car_of_exactly_10_years_is_not_referred() {
        let mut input = input();
        // 2016-01-10 → 2027-01-09: 131 months = 10 whole years
        input.vehicle.first_registration = date(2016, 1, 10);
        input.start_date = date(2027, 1, 9);
        assert_eq!(decide(&input, "active"), Decision::Accept);
    }

    #[test]
    fn vehicle_age_does_not_matter_without_vehicle_damage() {
        let mut input = input();
        input.vehicle.first_registration = date(2006, 1, 10);
        input.coverages.vehicle_damage = false;
        input.coverages.third_party_limit = Some(d("1000000"));
        assert_eq!(decide(&input, "active"), Decision::Accept);
    }

    #[test]
    fn ncd_level_above_3_is_referred_and_3_is_not() {
        let mut input = input();
        input.ncd_level = 4;
        let expected = hit("ncd_high", RuleOutcome::Refer, "NCD level is 4, above 3");
        assert_eq!(decide(&input, "active"), Decision::Refer(vec![expected]));
        input.ncd_level = 3;
        assert_eq!(decide(&input, "active"), Decision::Accept);
    }

    #[test]
    fn a_suspended_dealer_is_declined() {
        let expected = hit("dealer_suspended", RuleOutcome::Decline, "dealer status is suspended");
        assert_eq!(decide(&input(), "suspended"), Decision::Decline(vec![expected]));
    }

    #[test]
    fn a_dealer_under_remediation_is_referred() {
        let expected = hit("dealer_remediation", RuleOutcome::Refer, "dealer status is remediation");
        assert_eq!(decide(&input(), "remediation"), Decision::Refer(vec![expected]));
    }

    #[test]
    fn a_new_car_price_above_1000000_is_referred_and_1000000_is_not() {
        let mut input = input();
        input.vehicle.new_car_price = d("1000000.01");
        let expected = hit("luxury", RuleOutcome::Refer, "new-car price is 1000000.01, above 1000000");
        assert_eq!(decide(&input, "active"), Decision::Refer(vec![expected]));
        input.vehicle.new_car_price = d("1000000.00");
        assert_eq!(decide(&input, "active"), Decision::Accept);
    }

    #[test]
    fn a_coefficient_below_the_threshold_meets_the_rule_and_the_threshold_does_not() {
        let rules = vec![UnderwritingRule {
            code: "deep_discount".into(),
            description_zh: "自主定价系数低于 0.7".into(),
            description_en: "Pricing coefficient below 0.7".into(),
            condition: RuleCondition::CoefficientBelow { value: d("0.7") },
            outcome: RuleOutcome::Decline,
        }];
        let mut input = input();
        input.pricing_coefficient = d("0.69");
        let expected = hit("deep_discount", RuleOutcome::Decline, "pricing coefficient is 0.69, below 0.7");
        assert_eq!(
            evaluate(&rules, &RuleContext { input: &input, dealer_status: "active" }),
            Decision::Decline(vec![expected])
        );
        input.pricing_coefficient = d("0.70");
        assert_eq!(evaluate(&rules, &RuleContext { input: &input, dealer_status: "active" }), Decision::Accept);
    }

    #[test]
    fn decline_beats_refer_and_every_hit_is_listed_in_rule_order() {
        let mut input = input();
        input.ncd_level = 5;
        input.vehicle.new_car_price = d("1500000.00");
        assert_eq!(
            decide(&input, "suspended"),
            Decision::Decline(vec![
                hit("ncd_high", RuleOutcome::Refer, "NCD level is 5, above 3"),
                hit("dealer_suspended", RuleOutcome::Decline, "dealer status is suspended"),
                hit("luxury", RuleOutcome::Refer, "new-car price is 1500000.00, above 1000000"),
            ])
        );
    }

    #[test]
    fn several_refer_hits_are_listed_in_rule_order() {
        let mut input = input();
        input.ncd_level = 4;
        let Decision::Refer(hits) = decide(&input, "remediation") else { panic!("expected a referral") };
        let codes: Vec<&str> = hits.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(codes, ["ncd_high", "dealer_remediation"]);
    }

    #[test]
    fn default_rules_survive_a_json_round_trip_exactly() {
        let rules = default_rules();
        let json = serde_json::to_string(&rules).expect("serialises");
        assert!(json.contains(r#""condition":{"kind":"vehicle_age_above","years":10},"outcome":"refer""#), "{json}");
        assert!(json.contains(r#"{"kind":"new_car_price_above","amount":"1000000"}"#), "{json}");
        let back: Vec<UnderwritingRule> = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, rules);
        assert_eq!(serde_json::to_string(&back).expect("serialises again"), json);
    }

    #[test]
    fn a_decision_reads_as_json_with_its_hits() {
        let decision = Decision::Refer(vec![hit("ncd_high", RuleOutcome::Refer, "NCD level is 4, above 3")]);
        let json = serde_json::to_string(&decision).expect("serialises");
        assert_eq!(
            json,
            r#"{"decision":"refer","hits":[{"code":"ncd_high","outcome":"refer","reason":"NCD level is 4, above 3"}]}"#
        );
        assert_eq!(serde_json::from_str::<Decision>(&json).expect("deserialises"), decision);
        assert_eq!(serde_json::to_string(&Decision::Accept).expect("serialises"), r#"{"decision":"accept"}"#);
    }

    #[test]
    fn default_rules_are_valid() {
        assert_eq!(validate_rules(&default_rules()), Ok(()));
    }

    #[test]
    fn validate_rules_wants_codes_unique_and_status_lists_filled() {
        let mut rules = default_rules();
        rules[1].code = "vd_vehicle_age".into();
        rules[2].condition = RuleCondition::DealerStatusIn { statuses: vec![] };
        rules[3].code = String::new();
        rules[4].description_zh = " ".into();
        let paths: Vec<String> = validate_rules(&rules).expect_err("problems").into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["rules[1].code", "rules[2].condition.statuses", "rules[3].code", "rules[4].description_zh"]);
    }
}
