//! Dealer commission (手续费): the insurer's filed rate ranges (报行合一), agreements
//! with volume tiers and a loss-ratio clause, the ledger arithmetic (accrual,
//! pro-rata reversal, endorsement adjustment, tier true-up) and reconciliation of
//! statements with the ledger. Amounts carry two decimals, half-up at each entry.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;

pub const PRODUCTS: [&str; 2] = ["compulsory", "commercial"];
pub const BUSINESS_TYPES: [&str; 3] = ["new_car", "renewal", "transfer_in"];

fn fen(amount: Decimal) -> Decimal {
    let mut rounded = round_to_fen(amount);
    rounded.rescale(2);
    rounded
}

/// One filed range: the rates the insurer may pay in a region for a product and business type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledRange {
    /// `广东-深圳`, a province `广东`, or `*` for every region.
    pub region: String,
    pub product: String,
    /// A business type or `*`.
    pub business_type: String,
    pub min_rate: Decimal,
    pub max_rate: Decimal,
}

/// The filed ranges and the compulsory-insurance cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledRates {
    pub ranges: Vec<FiledRange>,
    /// Compulsory insurance commission cap (default 4%).
    pub compulsory_cap: Decimal,
}

fn range(region: &str, product: &str, business_type: &str, min: (i64, u32), max: (i64, u32)) -> FiledRange {
    FiledRange {
        region: region.into(),
        product: product.into(),
        business_type: business_type.into(),
        min_rate: Decimal::new(min.0, min.1),
        max_rate: Decimal::new(max.0, max.1),
    }
}

impl FiledRates {
    /// DOMAIN.md defaults, with a stricter filing for 广东 to show that the most specific wins.
    pub fn defaults() -> Self {
        FiledRates {
            ranges: vec![
                range("*", "compulsory", "*", (0, 0), (4, 2)),
                range("*", "commercial", "new_car", (5, 2), (25, 2)),
                range("*", "commercial", "renewal", (5, 2), (20, 2)),
                range("*", "commercial", "transfer_in", (5, 2), (22, 2)),
                range("广东", "commercial", "new_car", (8, 2), (22, 2)),
            ],
            compulsory_cap: Decimal::new(4, 2),
        }
    }

    /// The range that applies: the most specific region (city, then province, then `*`), then
    /// the exact business type over `*`.
    pub fn range_for(&self, region: &str, product: &str, business_type: &str) -> Option<&FiledRange> {
        let province = region.split('-').next().unwrap_or(region);
        let region_rank = |r: &FiledRange| {
            if r.region == region {
                Some(0)
            } else if r.region == province {
                Some(1)
            } else if r.region == "*" {
                Some(2)
            } else {
                None
            }
        };
        self.ranges
            .iter()
            .filter(|r| r.product == product)
            .filter_map(|r| {
                let type_rank = if r.business_type == business_type {
                    0
                } else if r.business_type == "*" {
                    1
                } else {
                    return None;
                };
                Some(((region_rank(r)?, type_rank), r))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, r)| r)
    }

    /// Problems with the table itself.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let in_unit = |d: Decimal| d >= Decimal::ZERO && d <= Decimal::ONE;
        if !in_unit(self.compulsory_cap) {
            problems.push(problem("compulsory_cap", "out_of_range", "a rate from 0 to 1"));
        }
        for (i, r) in self.ranges.iter().enumerate() {
            if !PRODUCTS.contains(&r.product.as_str()) {
                problems.push(problem(format!("ranges[{i}].product"), "unknown", "compulsory or commercial"));
            }
            if r.business_type != "*" && !BUSINESS_TYPES.contains(&r.business_type.as_str()) {
                problems.push(problem(
                    format!("ranges[{i}].business_type"),
                    "unknown",
                    "new_car, renewal, transfer_in or *",
                ));
            }
            if r.region.trim().is_empty() {
                problems.push(problem(format!("ranges[{i}].region"), "required", "a region, a province or *"));
            }
            for (field, rate) in [("min_rate", r.min_rate), ("max_rate", r.max_rate)] {
                if !in_unit(rate) {
                    problems.push(problem(format!("ranges[{i}].{field}"), "out_of_range", "a rate from 0 to 1"));
                }
            }
            if r.min_rate > r.max_rate {
                problems.push(problem(
                    format!("ranges[{i}].min_rate"),
                    "above_max",
                    "the minimum is above the maximum",
                ));
            }
            if !seen.insert((r.region.clone(), r.product.clone(), r.business_type.clone())) {
                problems.push(problem(
                    format!("ranges[{i}]"),
                    "duplicate",
                    "this region, product and business type are filed twice",
                ));
            }
        }
        problems
    }
}

/// A volume tier: a month's written premium from which a higher rate applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub monthly_written_at_least: Decimal,
    pub rate: Decimal,
}

/// A loss-ratio clause: above this loss ratio the rate falls to `rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossRatioClause {
    pub loss_ratio_above: Decimal,
    pub rate: Decimal,
}

/// The terms of one agreement: a product, a business type, a period and the rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Terms {
    pub product: String,
    pub business_type: String,
    pub valid_from: NaiveDate,
    /// Exclusive; none = open-ended.
    pub valid_to: Option<NaiveDate>,
    pub base_rate: Decimal,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub loss_ratio_clause: Option<LossRatioClause>,
}

/// What is wrong with a value, for the field that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Problem {
    pub field: String,
    pub code: String,
    pub message: String,
}

fn problem(field: impl Into<String>, code: &str, message: impl Into<String>) -> Problem {
    Problem { field: field.into(), code: code.into(), message: message.into() }
}

/// Every problem with an agreement's terms, against the filed ranges for the dealer's region.
pub fn validate_terms(terms: &Terms, region: &str, filed: &FiledRates) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !PRODUCTS.contains(&terms.product.as_str()) {
        problems.push(problem("product", "unknown", "compulsory or commercial"));
    }
    if !BUSINESS_TYPES.contains(&terms.business_type.as_str()) {
        problems.push(problem("business_type", "unknown", "new_car, renewal or transfer_in"));
    }
    if terms.valid_to.is_some_and(|to| to <= terms.valid_from) {
        problems.push(problem("valid_to", "before_from", "the end must be after the start"));
    }
    if !problems.is_empty() {
        return problems;
    }
    let mut rates: Vec<(String, Decimal)> = vec![("base_rate".into(), terms.base_rate)];
    rates.extend(terms.tiers.iter().enumerate().map(|(i, t)| (format!("tiers[{i}].rate"), t.rate)));
    if let Some(clause) = &terms.loss_ratio_clause {
        rates.push(("loss_ratio_clause.rate".into(), clause.rate));
    }
    let filed_range = filed.range_for(region, &terms.product, &terms.business_type);
    if filed_range.is_none() {
        problems.push(problem(
            "base_rate",
            "no_filed_range",
            format!("no range is filed for {region} {} {}", terms.product, terms.business_type),
        ));
    }
    for (field, rate) in &rates {
        if rate.is_sign_negative() {
            problems.push(problem(field.clone(), "negative", "a rate is 0 or more"));
            continue;
        }
        if terms.product == "compulsory" && *rate > filed.compulsory_cap {
            problems.push(problem(
                field.clone(),
                "above_cap",
                format!("rate {rate} is above the compulsory-insurance cap of {}", filed.compulsory_cap),
            ));
            continue;
        }
        if let Some(r) = filed_range
            && (*rate < r.min_rate || *rate > r.max_rate)
        {
            problems.push(problem(
                field.clone(),
                "outside_filed_range",
                format!(
                    "rate {rate} is outside the filed range {}–{} for {region} {} {}",
                    r.min_rate, r.max_rate, terms.product, terms.business_type
                ),
            ));
        }
    }
    let mut previous: Option<&Tier> = None;
    for (i, tier) in terms.tiers.iter().enumerate() {
        if tier.monthly_written_at_least <= Decimal::ZERO {
            problems.push(problem(
                format!("tiers[{i}].monthly_written_at_least"),
                "not_positive",
                "a threshold above 0",
            ));
        }
        if tier.rate < terms.base_rate {
            problems.push(problem(format!("tiers[{i}].rate"), "below_base", "a tier rate is at least the base rate"));
        }
        if let Some(p) = previous
            && (tier.monthly_written_at_least <= p.monthly_written_at_least || tier.rate < p.rate)
        {
            problems.push(problem(
                format!("tiers[{i}].monthly_written_at_least"),
                "not_ascending",
                "tiers ascend: each threshold above the one before, with a rate at least as high",
            ));
        }
        previous = Some(tier);
    }
    if let Some(clause) = &terms.loss_ratio_clause {
        if clause.rate >= terms.base_rate {
            problems.push(problem(
                "loss_ratio_clause.rate",
                "not_lower",
                "the clause lowers the rate below the base rate",
            ));
        }
        if clause.loss_ratio_above <= Decimal::ZERO || clause.loss_ratio_above > Decimal::from(5) {
            problems.push(problem(
                "loss_ratio_clause.loss_ratio_above",
                "out_of_range",
                "a loss ratio above 0 and at most 5",
            ));
        }
    }
    problems
}

/// Whether two terms for the same product and business type share a day.
pub fn overlaps(a: &Terms, b: &Terms) -> bool {
    if a.product != b.product || a.business_type != b.business_type {
        return false;
    }
    let a_before_b_ends = b.valid_to.is_none_or(|end| a.valid_from < end);
    let b_before_a_ends = a.valid_to.is_none_or(|end| b.valid_from < end);
    a_before_b_ends && b_before_a_ends
}

/// The rate at issue: the clause rate when the dealer's loss ratio is above its threshold,
/// else the base rate. Tiers are settled by the month-end true-up.
pub fn rate_at_issue(terms: &Terms, dealer_loss_ratio: Option<Decimal>) -> Decimal {
    match (&terms.loss_ratio_clause, dealer_loss_ratio) {
        (Some(clause), Some(ratio)) if ratio > clause.loss_ratio_above => clause.rate,
        _ => terms.base_rate,
    }
}

/// The kinds of ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Accrual,
    Reversal,
    Adjustment,
    TierTrueUp,
    Correction,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] =
        [EntryKind::Accrual, EntryKind::Reversal, EntryKind::Adjustment, EntryKind::TierTrueUp, EntryKind::Correction];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Accrual => "accrual",
            EntryKind::Reversal => "reversal",
            EntryKind::Adjustment => "adjustment",
            EntryKind::TierTrueUp => "tier_true_up",
            EntryKind::Correction => "correction",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// premium × rate, half-up to the fen.
pub fn accrual(premium: Decimal, rate: Decimal) -> Decimal {
    fen(premium * rate)
}

/// The same share of the accrued commission as the refund is of the premium, negative.
pub fn reversal(accrued: Decimal, premium: Decimal, refund: Decimal) -> Decimal {
    if premium.is_zero() || accrued.is_zero() {
        return Decimal::new(0, 2);
    }
    // Multiply before dividing so the share is exact until the one rounding.
    let share = accrued.checked_mul(refund).and_then(|x| x.checked_div(premium)).unwrap_or(accrued);
    let clawed = fen(share);
    let bounded = if accrued.is_sign_positive() { clawed.min(accrued) } else { clawed.max(accrued) };
    fen(-bounded)
}

/// Commission on an endorsement's premium change, either sign.
pub fn endorsement_adjustment(adjustment: Decimal, rate: Decimal) -> Decimal {
    fen(adjustment * rate)
}

/// The rate a month's written premium earned: the highest tier reached, else the base rate;
/// capped by the clause rate when the clause applied.
pub fn month_rate(terms: &Terms, month_written: Decimal, clause_applied: bool) -> Decimal {
    let tier_rate = terms
        .tiers
        .iter()
        .filter(|t| month_written >= t.monthly_written_at_least)
        .map(|t| t.rate)
        .max()
        .unwrap_or(terms.base_rate)
        .max(terms.base_rate);
    match (&terms.loss_ratio_clause, clause_applied) {
        (Some(clause), true) => tier_rate.min(clause.rate),
        _ => tier_rate,
    }
}

/// The month-end true-up: what the month's volume earned less what was booked.
pub fn tier_true_up(terms: &Terms, month_written: Decimal, already_booked: Decimal, clause_applied: bool) -> Decimal {
    let due = fen(month_written * month_rate(terms, month_written, clause_applied));
    fen(due - already_booked)
}

/// One ledger line, as reconciliation sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub entry_id: i64,
    pub dealer_id: i64,
    pub booked_on: NaiveDate,
    pub kind: EntryKind,
    pub amount: Decimal,
    pub statement_id: Option<i64>,
}

/// A statement's stored totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementTotals {
    pub statement_id: i64,
    pub dealer_id: i64,
    /// The first of the month.
    pub month: NaiveDate,
    pub total: Decimal,
    pub line_count: u64,
}

/// A disagreement between a statement and the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub statement_id: Option<i64>,
    pub dealer_id: i64,
    pub month: NaiveDate,
    pub message: String,
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// Checks every statement against the ledger: totals and line counts match the lines assigned to
/// it, every assigned line belongs to the statement's dealer and month, and no line of a stated
/// month is left off.
pub fn reconcile(statements: &[StatementTotals], ledger: &[LedgerLine]) -> Vec<Difference> {
    let mut differences = Vec::new();
    let by_id: HashMap<i64, &StatementTotals> = statements.iter().map(|s| (s.statement_id, s)).collect();
    let mut sums: BTreeMap<i64, (Decimal, u64)> = BTreeMap::new();
    for line in ledger {
        let Some(statement_id) = line.statement_id else { continue };
        let entry = sums.entry(statement_id).or_insert((Decimal::ZERO, 0));
        entry.0 += line.amount;
        entry.1 += 1;
        match by_id.get(&statement_id) {
            None => differences.push(Difference {
                statement_id: Some(statement_id),
                dealer_id: line.dealer_id,
                month: first_of_month(line.booked_on),
                message: format!(
                    "ledger entry {} points at statement {statement_id}, which does not exist",
                    line.entry_id
                ),
            }),
            Some(s) if s.dealer_id != line.dealer_id || s.month != first_of_month(line.booked_on) => {
                differences.push(Difference {
                    statement_id: Some(statement_id),
                    dealer_id: s.dealer_id,
                    month: s.month,
                    message: format!(
                        "ledger entry {} (dealer {}, booked {}) is on statement {statement_id} of dealer {} for {}",
                        line.entry_id,
                        line.dealer_id,
                        line.booked_on,
                        s.dealer_id,
                        s.month.format("%Y-%m")
                    ),
                })
            }
            Some(_) => {}
        }
    }
    for s in statements {
        let (sum, count) = sums.get(&s.statement_id).copied().unwrap_or((Decimal::ZERO, 0));
        if fen(sum) != fen(s.total) {
            differences.push(Difference {
                statement_id: Some(s.statement_id),
                dealer_id: s.dealer_id,
                month: s.month,
                message: format!(
                    "statement {} (dealer {}, {}) shows {} but its {count} ledger lines sum to {} (difference {})",
                    s.statement_id,
                    s.dealer_id,
                    s.month.format("%Y-%m"),
                    fen(s.total),
                    fen(sum),
                    fen(s.total - sum)
                ),
            });
        }
        if count != s.line_count {
            differences.push(Difference {
                statement_id: Some(s.statement_id),
                dealer_id: s.dealer_id,
                month: s.month,
                message: format!(
                    "statement {} (dealer {}, {}) lists {} lines but {count} ledger lines point at it",
                    s.statement_id,
                    s.dealer_id,
                    s.month.format("%Y-%m"),
                    s.line_count
                ),
            });
        }
    }
    let stated: HashMap<(i64, NaiveDate), i64> =
        statements.iter().map(|s| ((s.dealer_id, s.month), s.statement_id)).collect();
    for line in ledger.iter().filter(|l| l.statement_id.is_none()) {
        let month = first_of_month(line.booked_on);
        if let Some(statement_id) = stated.get(&(line.dealer_id, month)) {
            differences.push(Difference {
                statement_id: Some(*statement_id),
                dealer_id: line.dealer_id,
                month,
                message: format!(
                    "ledger entry {} ({} {}, booked {}) is on no statement, though statement {statement_id} covers its month",
                    line.entry_id,
                    line.kind.as_str(),
                    fen(line.amount),
                    line.booked_on
                ),
            });
        }
    }
    differences
}

/// A statement's status: draft → confirmed → paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    Draft,
    Confirmed,
    Paid,
}

impl StatementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Draft => "draft",
            StatementStatus::Confirmed => "confirmed",
            StatementStatus::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [StatementStatus::Draft, StatementStatus::Confirmed, StatementStatus::Paid]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn can_become(self, next: StatementStatus) -> bool {
        matches!(
            (self, next),
            (StatementStatus::Draft, StatementStatus::Confirmed) | (StatementStatus::Confirmed, StatementStatus::Paid)
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    fn terms(product: &str, business_type: &str, base: &str) -> Terms {
        Terms {
            product: product.into(),
            business_type: business_type.into(),
            valid_from: day(2026, 1, 1),
            valid_to: None,
            base_rate: d(base),
            tiers: Vec::new(),
            loss_ratio_clause: None,
        }
    }

    #[test]
    fn the_most_specific_filing_applies() {
        let filed = FiledRates::defaults();
        // 广东-深圳 new car: the province filing (0.08–0.22) beats the national one (0.05–0.25).
        let r = filed.range_for("广东-深圳", "commercial", "new_car").unwrap();
        assert_eq!((r.min_rate, r.max_rate), (d("0.08"), d("0.22")));
        let r = filed.range_for("浙江-杭州", "commercial", "new_car").unwrap();
        assert_eq!((r.min_rate, r.max_rate), (d("0.05"), d("0.25")));
        // A renewal in 广东 has no province filing: the national renewal range.
        assert_eq!(filed.range_for("广东-深圳", "commercial", "renewal").unwrap().max_rate, d("0.20"));
        // Compulsory is filed for every business type with `*`.
        assert_eq!(filed.range_for("北京-北京", "compulsory", "renewal").unwrap().max_rate, d("0.04"));
        assert!(filed.validate().is_empty());
    }

    #[test]
    fn rates_outside_the_filed_range_are_refused_naming_it() {
        let filed = FiledRates::defaults();
        let problems = validate_terms(&terms("commercial", "new_car", "0.30"), "浙江-杭州", &filed);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "outside_filed_range");
        assert_eq!(
            problems[0].message,
            "rate 0.30 is outside the filed range 0.05–0.25 for 浙江-杭州 commercial new_car"
        );
        // 0.23 is inside the national range but outside 广东's stricter one.
        let problems = validate_terms(&terms("commercial", "new_car", "0.23"), "广东-广州", &filed);
        assert_eq!(problems[0].code, "outside_filed_range");
        assert!(problems[0].message.contains("0.08–0.22"));
        let problems = validate_terms(&terms("compulsory", "new_car", "0.05"), "广东-广州", &filed);
        assert_eq!(problems[0].code, "above_cap");
        assert!(validate_terms(&terms("commercial", "renewal", "0.15"), "广东-广州", &filed).is_empty());
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let filed = FiledRates::defaults();
        let mut t = terms("commercial", "renewal", "0.12");
        t.tiers = vec![
            Tier { monthly_written_at_least: d("100000"), rate: d("0.14") },
            Tier { monthly_written_at_least: d("50000"), rate: d("0.25") },
        ];
        t.loss_ratio_clause = Some(LossRatioClause { loss_ratio_above: d("0"), rate: d("0.13") });
        let fields: Vec<String> = validate_terms(&t, "江苏-南京", &filed).into_iter().map(|p| p.field).collect();
        assert!(fields.contains(&"tiers[1].rate".to_string()), "above the range: {fields:?}");
        assert!(fields.contains(&"tiers[1].monthly_written_at_least".to_string()), "not ascending: {fields:?}");
        assert!(fields.contains(&"loss_ratio_clause.rate".to_string()), "not lower: {fields:?}");
        assert!(fields.contains(&"loss_ratio_clause.loss_ratio_above".to_string()), "{fields:?}");
    }

    #[test]
    fn ledger_arithmetic_to_the_fen() {
        // 1234.56 × 0.125 = 154.32
        assert_eq!(accrual(d("1234.56"), d("0.125")), d("154.32"));
        // 1000.05 × 0.1 = 100.005 → 100.01 (half up)
        assert_eq!(accrual(d("1000.05"), d("0.1")), d("100.01"));
        // Cancelled on the start day: the whole premium is refunded, the whole commission clawed back.
        assert_eq!(reversal(d("365.00"), d("3650.00"), d("3650.00")), d("-365.00"));
        // Mid-term: 365.00 × 1800.00 ÷ 3650.00 = 180.00
        assert_eq!(reversal(d("365.00"), d("3650.00"), d("1800.00")), d("-180.00"));
        // Never more than was accrued.
        assert_eq!(reversal(d("10.00"), d("100.00"), d("150.00")), d("-10.00"));
        assert_eq!(endorsement_adjustment(d("-200.00"), d("0.15")), d("-30.00"));
        assert_eq!(endorsement_adjustment(d("333.33"), d("0.15")), d("50.00"));
    }

    #[test]
    fn tiers_true_up_at_their_thresholds() {
        let mut t = terms("commercial", "new_car", "0.10");
        t.tiers = vec![
            Tier { monthly_written_at_least: d("100000"), rate: d("0.12") },
            Tier { monthly_written_at_least: d("200000"), rate: d("0.14") },
        ];
        assert_eq!(month_rate(&t, d("99999.99"), false), d("0.10"));
        assert_eq!(month_rate(&t, d("100000.00"), false), d("0.12"));
        assert_eq!(month_rate(&t, d("250000"), false), d("0.14"));
        // 100,000 written, 10,000 booked at base: due 12,000, true-up 2,000.00.
        assert_eq!(tier_true_up(&t, d("100000.00"), d("10000.00"), false), d("2000.00"));
        assert_eq!(tier_true_up(&t, d("99999.99"), d("10000.00"), false), d("0.00"));
        t.loss_ratio_clause = Some(LossRatioClause { loss_ratio_above: d("0.9"), rate: d("0.08") });
        assert_eq!(month_rate(&t, d("250000"), true), d("0.08"));
        assert_eq!(rate_at_issue(&t, Some(d("0.95"))), d("0.08"));
        assert_eq!(rate_at_issue(&t, Some(d("0.90"))), d("0.10"));
        assert_eq!(rate_at_issue(&t, None), d("0.10"));
    }

    #[test]
    fn random_policy_lives_net_to_their_share() {
        // A small LCG keeps the test deterministic without a dependency.
        let mut seed: u64 = 42;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..1_000 {
            let premium = Decimal::new(i64::try_from(10_000 + next(900_000)).unwrap(), 2);
            let rate = Decimal::new(i64::try_from(next(25) + 1).unwrap(), 2);
            let accrued = accrual(premium, rate);
            // Cancelled on the start day: exactly zero.
            assert_eq!(accrued + reversal(accrued, premium, premium), Decimal::ZERO);
            // Cancelled part-way: what remains is the kept share of the commission, within a fen.
            let refund = Decimal::new(i64::try_from(next(u64::try_from(premium.mantissa()).unwrap())).unwrap(), 2);
            let kept = accrued + reversal(accrued, premium, refund);
            let expected = (premium - refund) * rate;
            assert!((kept - expected).abs() <= d("0.02"), "{premium} {rate} {refund}: {kept} vs {expected}");
            assert!(kept >= Decimal::ZERO);
        }
    }

    #[test]
    fn reconciliation_finds_every_kind_of_difference() {
        let month = day(2026, 10, 1);
        let statement = StatementTotals { statement_id: 1, dealer_id: 7, month, total: d("150.00"), line_count: 2 };
        let line = |id: i64, amount: &str, statement: Option<i64>, booked: NaiveDate| LedgerLine {
            entry_id: id,
            dealer_id: 7,
            booked_on: booked,
            kind: EntryKind::Accrual,
            amount: d(amount),
            statement_id: statement,
        };
        let clean = [line(1, "100.00", Some(1), day(2026, 10, 3)), line(2, "50.00", Some(1), day(2026, 10, 9))];
        assert!(reconcile(std::slice::from_ref(&statement), &clean).is_empty());
        let off = [line(1, "100.00", Some(1), day(2026, 10, 3)), line(2, "49.99", Some(1), day(2026, 10, 9))];
        let found = reconcile(std::slice::from_ref(&statement), &off);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("difference 0.01"), "{}", found[0].message);
        let wrong_month = [line(1, "100.00", Some(1), day(2026, 10, 3)), line(2, "50.00", Some(1), day(2026, 11, 1))];
        assert!(
            reconcile(std::slice::from_ref(&statement), &wrong_month)
                .iter()
                .any(|d| d.message.contains("is on statement 1"))
        );
        let left_off = [
            line(1, "100.00", Some(1), day(2026, 10, 3)),
            line(2, "50.00", Some(1), day(2026, 10, 9)),
            line(3, "5.00", None, day(2026, 10, 20)),
        ];
        assert!(
            reconcile(std::slice::from_ref(&statement), &left_off)
                .iter()
                .any(|d| d.message.contains("on no statement"))
        );
        let short = [line(1, "150.00", Some(1), day(2026, 10, 3))];
        assert!(reconcile(&[statement], &short).iter().any(|d| d.message.contains("lists 2 lines")));
    }

    #[test]
    fn statements_go_draft_confirmed_paid() {
        use StatementStatus::*;
        assert!(Draft.can_become(Confirmed) && Confirmed.can_become(Paid));
        assert!(!Draft.can_become(Paid) && !Paid.can_become(Draft) && !Confirmed.can_become(Draft));
        assert_eq!(StatementStatus::parse("paid"), Some(Paid));
    }

    #[test]
    fn overlapping_terms() {
        let a = terms("commercial", "new_car", "0.10");
        let mut b = a.clone();
        b.valid_from = day(2026, 6, 1);
        assert!(overlaps(&a, &b));
        let mut closed = a.clone();
        closed.valid_to = Some(day(2026, 6, 1));
        assert!(!overlaps(&closed, &b), "end is exclusive");
        let other = terms("commercial", "renewal", "0.10");
        assert!(!overlaps(&a, &other));
    }
}
