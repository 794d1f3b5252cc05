//! Agreement terms: the rate a dealer earns per product and business type, and the checks that keep
//! it inside what the insurer filed.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{BUSINESS_TYPES, FiledRates, PRODUCTS, Problem, show};

/// A volume tier: more monthly premium earns a higher rate, settled by the month-end true-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// monthly written premium of the dealer in this product and business type, at least
    pub monthly_written_at_least: Decimal,
    pub rate: Decimal,
}

/// Lowers the rate for dealers whose business loses money, known at issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossRatioClause {
    /// when the dealer's loss ratio is above this…
    pub loss_ratio_above: Decimal,
    /// …the rate becomes this (lower than the base rate)
    pub rate: Decimal,
}

/// One line of a dealer's agreement: the rate for one product and business type over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Terms {
    pub product: String,
    pub business_type: String,
    pub valid_from: NaiveDate,
    /// exclusive; None = open-ended
    pub valid_to: Option<NaiveDate>,
    pub base_rate: Decimal,
    #[serde(default)]
    pub tiers: Vec<Tier>,
    pub loss_ratio_clause: Option<LossRatioClause>,
}

/// Every problem at once: product/business type known; valid_from < valid_to; base rate, each tier rate and the clause rate within the filed range for (region, product, business type) — code "outside_filed_range", message naming the range, e.g. "rate 0.30 is outside the filed range 0.05–0.25 for 广东-深圳 commercial new_car"; compulsory rates ≤ cap (code "above_cap"); tiers strictly ascending in threshold and rate ≥ base; clause rate < base rate and loss_ratio_above in (0, 5]; no filed range → code "no_filed_range". Field names: "base_rate", "tiers[i].rate", "tiers[i].monthly_written_at_least", "loss_ratio_clause.rate", "valid_to", "product", "business_type".
///
/// All at once so a form can mark every field in one round trip. A compulsory rate above the cap gets
/// only "above_cap" (the statutory reason), not also "outside_filed_range"; with an unknown product
/// or business type the filing lookup is skipped, since "no_filed_range" would only repeat it.
/// Other codes: "unknown_product", "unknown_business_type", "invalid_period", "negative",
/// "tiers_not_ascending", "tier_below_base", "tier_rate_decreasing", "clause_not_below_base",
/// "out_of_range" (on "loss_ratio_clause.loss_ratio_above").
pub fn validate_terms(terms: &Terms, region: &str, filed: &FiledRates) -> Vec<Problem> {
    let mut problems = Vec::new();
    let product_known = PRODUCTS.contains(&terms.product.as_str());
    let type_known = BUSINESS_TYPES.contains(&terms.business_type.as_str());
    if !product_known {
        problems.push(Problem::new(
            "product",
            "unknown_product",
            format!("unknown product \"{}\"; expected compulsory or commercial", terms.product),
        ));
    }
    if !type_known {
        problems.push(Problem::new(
            "business_type",
            "unknown_business_type",
            format!("unknown business type \"{}\"; expected new_car, renewal or transfer_in", terms.business_type),
        ));
    }
    if let Some(valid_to) = terms.valid_to
        && valid_to <= terms.valid_from
    {
        problems.push(Problem::new(
            "valid_to",
            "invalid_period",
            format!("valid_to {valid_to} must be after valid_from {}", terms.valid_from),
        ));
    }

    let range = if product_known && type_known {
        let range = filed.range_for(region, &terms.product, &terms.business_type);
        if range.is_none() {
            problems.push(Problem::new(
                "base_rate",
                "no_filed_range",
                format!(
                    "no filed range for {region} {} {}; the rate cannot be offered until one is filed",
                    terms.product, terms.business_type
                ),
            ));
        }
        range
    } else {
        None
    };
    let check_rate = |field: &str, rate: Decimal, problems: &mut Vec<Problem>| {
        if terms.product == "compulsory" && rate > filed.compulsory_cap {
            problems.push(Problem::new(
                field,
                "above_cap",
                format!(
                    "rate {} is above the compulsory insurance cap {} for {region}",
                    show(rate),
                    show(filed.compulsory_cap)
                ),
            ));
        } else if let Some(range) = range
            && (rate < range.min_rate || rate > range.max_rate)
        {
            problems.push(Problem::new(
                field,
                "outside_filed_range",
                format!(
                    "rate {} is outside the filed range {}–{} for {region} {} {}",
                    show(rate),
                    show(range.min_rate),
                    show(range.max_rate),
                    terms.product,
                    terms.business_type
                ),
            ));
        }
    };

    check_rate("base_rate", terms.base_rate, &mut problems);

    let mut previous: Option<&Tier> = None;
    for (i, tier) in terms.tiers.iter().enumerate() {
        let threshold_field = format!("tiers[{i}].monthly_written_at_least");
        let rate_field = format!("tiers[{i}].rate");
        if tier.monthly_written_at_least < Decimal::ZERO {
            problems.push(Problem::new(
                &threshold_field,
                "negative",
                format!("threshold {} is negative", show(tier.monthly_written_at_least)),
            ));
        }
        if let Some(previous) = previous
            && tier.monthly_written_at_least <= previous.monthly_written_at_least
        {
            problems.push(Problem::new(
                &threshold_field,
                "tiers_not_ascending",
                format!(
                    "threshold {} must be above the previous tier's {}",
                    show(tier.monthly_written_at_least),
                    show(previous.monthly_written_at_least)
                ),
            ));
        }
        check_rate(&rate_field, tier.rate, &mut problems);
        if tier.rate < terms.base_rate {
            problems.push(Problem::new(
                &rate_field,
                "tier_below_base",
                format!(
                    "tier rate {} is below the base rate {}; tiers may only raise the rate",
                    show(tier.rate),
                    show(terms.base_rate)
                ),
            ));
        } else if let Some(previous) = previous
            && tier.rate < previous.rate
        {
            problems.push(Problem::new(
                &rate_field,
                "tier_rate_decreasing",
                format!(
                    "tier rate {} is below the previous tier's {}; more volume may not earn less",
                    show(tier.rate),
                    show(previous.rate)
                ),
            ));
        }
        previous = Some(tier);
    }

    if let Some(clause) = &terms.loss_ratio_clause {
        if clause.loss_ratio_above <= Decimal::ZERO || clause.loss_ratio_above > Decimal::from(5) {
            problems.push(Problem::new(
                "loss_ratio_clause.loss_ratio_above",
                "out_of_range",
                format!("loss ratio threshold {} must be above 0 and at most 5", show(clause.loss_ratio_above)),
            ));
        }
        check_rate("loss_ratio_clause.rate", clause.rate, &mut problems);
        if clause.rate >= terms.base_rate {
            problems.push(Problem::new(
                "loss_ratio_clause.rate",
                "clause_not_below_base",
                format!(
                    "clause rate {} must be below the base rate {}; the clause may only lower the rate",
                    show(clause.rate),
                    show(terms.base_rate)
                ),
            ));
        }
    }
    problems
}

/// Whether two terms for the same product and business type overlap in time (an agreement may not have two rates for one day).
///
/// Periods are half-open [valid_from, valid_to), so one term may end the day the next begins; an
/// empty period (invalid anyway) overlaps nothing.
pub fn overlaps(a: &Terms, b: &Terms) -> bool {
    let starts_before_end = |start: NaiveDate, end: Option<NaiveDate>| end.is_none_or(|end| start < end);
    a.product == b.product
        && a.business_type == b.business_type
        && starts_before_end(a.valid_from, a.valid_to)
        && starts_before_end(b.valid_from, b.valid_to)
        && starts_before_end(a.valid_from, b.valid_to)
        && starts_before_end(b.valid_from, a.valid_to)
}

/// The rate at issue: the clause rate when a loss ratio is known and above the clause threshold, else the base rate (tiers are settled by the month-end true-up, not at issue).
pub fn rate_at_issue(terms: &Terms, dealer_loss_ratio: Option<Decimal>) -> Decimal {
    match (&terms.loss_ratio_clause, dealer_loss_ratio) {
        (Some(clause), Some(loss_ratio)) if loss_ratio > clause.loss_ratio_above => clause.rate,
        _ => terms.base_rate,
    }
}

/// The loss ratio a clause is judged on and the statement shows: the dealer's, half-up to six decimals (a
/// millionth of a percent point is far below any threshold's precision, and is what the ledger stores).
pub fn loss_ratio_for_clause(loss_ratio: Option<Decimal>) -> Option<Decimal> {
    loss_ratio.map(|ratio| ratio.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// Whether the agreement's loss-ratio clause applies at a month's close: the dealer's loss ratio (rolling 12 months to
/// the month's end) is known and above the clause's threshold.
pub fn clause_applies(terms: &Terms, loss_ratio_at_month_end: Option<Decimal>) -> bool {
    match (&terms.loss_ratio_clause, loss_ratio_at_month_end) {
        (Some(clause), Some(loss_ratio)) => loss_ratio > clause.loss_ratio_above,
        _ => false,
    }
}

/// The rate earned by a month's written premium: the highest tier whose threshold it reaches, else the base rate (the clause, if it applied at issue, still caps it: min(tier rate, clause rate) when `clause_applied`).
///
/// Picks the reached tier with the highest threshold even if the tiers are stored out of order.
pub fn month_rate(terms: &Terms, month_written: Decimal, clause_applied: bool) -> Decimal {
    let mut reached: Option<&Tier> = None;
    for tier in terms.tiers.iter().filter(|t| month_written >= t.monthly_written_at_least) {
        if reached.is_none_or(|best| tier.monthly_written_at_least > best.monthly_written_at_least) {
            reached = Some(tier);
        }
    }
    let rate = reached.map_or(terms.base_rate, |tier| tier.rate);
    match &terms.loss_ratio_clause {
        Some(clause) if clause_applied => rate.min(clause.rate),
        _ => rate,
    }
}
