//! Fraud signals: facts worth a second look, shown on the claim. They never block a transition, because each has
//! innocent explanations; they only tell the adjuster where to look.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::domain::money::round_to_fen;

/// Thresholds (configurable, these are defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalRules {
    /// A report this many days or fewer after the policy starts is flagged.  default 15
    pub early_report_days: i64,
    /// Claims on the same VIN or plate within this many days...  default 90
    pub repeat_window_days: i64,
    /// ...at least this many other claims flag it.  default 1
    pub repeat_min_others: usize,
    /// A part estimated above this multiple of the peer median for the same part is flagged.  default 1.5
    pub part_price_ratio: Decimal,
}

impl Default for SignalRules {
    fn default() -> Self {
        SignalRules {
            early_report_days: 15,
            repeat_window_days: 90,
            repeat_min_others: 1,
            part_price_ratio: Decimal::new(15, 1),
        }
    }
}

/// The facts the store gathers for one claim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimFacts {
    pub policy_start: NaiveDate,
    pub accident_on: NaiveDate,
    pub reported_on: NaiveDate,
    /// Claim numbers of other claims on the same VIN or plate with accident dates within the window.
    pub other_claims_same_vehicle: Vec<String>,
    /// Claim numbers of other claims holding a document with the same SHA-256.
    pub same_document_claims: Vec<String>,
    /// (part name, unit price on this claim, peer median unit price for the same part).
    pub part_prices: Vec<(String, Decimal, Decimal)>,
}

/// One reason to look twice at a claim.
///
/// `code` is `&'static str` so codes come only from this module; the derived `Deserialize` therefore borrows and
/// works only on `'static` input (the type is not `DeserializeOwned`). Signals are recomputed, not stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// "early_report", "repeat_vehicle", "duplicate_document" or "part_price".
    pub code: &'static str,
    /// A concrete English sentence for the adjuster.
    pub reason: String,
}

impl Signal {
    fn new(code: &'static str, reason: String) -> Signal {
        Signal { code, reason }
    }
}

/// Formats money as "4,500.00" for reading in a sentence.
fn money_text(amount: Decimal) -> String {
    let mut rounded = round_to_fen(amount);
    rounded.rescale(2);
    let text = rounded.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() { "-" } else { "" };
    format!("{sign}{grouped}.{fraction}")
}

/// "CL1" or "CL1, CL2": each claim once, in the order given.
fn claim_list(claims: &[String]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for claim in claims {
        if !seen.contains(&claim.as_str()) {
            seen.push(claim.as_str());
        }
    }
    seen
}

/// Works out which signals apply; the order is fixed (early report, repeat vehicle, duplicate document, part prices
/// in the order given) so the list does not jump around between page loads.
pub fn evaluate(facts: &ClaimFacts, rules: &SignalRules) -> Vec<Signal> {
    let mut signals = Vec::new();

    // The accident date, not the report date, is what matters: a loss shortly after buying cover suggests cover was
    // bought for a loss that had already happened.
    let days = facts.accident_on.signed_duration_since(facts.policy_start).num_days();
    if days < 0 {
        signals.push(Signal::new(
            "early_report",
            format!(
                "the accident on {} is {} days before the policy started on {}",
                facts.accident_on, -days, facts.policy_start
            ),
        ));
    } else if days <= rules.early_report_days {
        let unit = if days == 1 { "day" } else { "days" };
        signals.push(Signal::new(
            "early_report",
            format!(
                "the accident on {} was {days} {unit} after the policy started on {} (threshold {})",
                facts.accident_on, facts.policy_start, rules.early_report_days
            ),
        ));
    }

    let others = claim_list(&facts.other_claims_same_vehicle);
    if !others.is_empty() && others.len() >= rules.repeat_min_others {
        let noun = if others.len() == 1 { "claim" } else { "claims" };
        signals.push(Signal::new(
            "repeat_vehicle",
            format!("same vehicle also on {noun} {} within {} days", others.join(", "), rules.repeat_window_days),
        ));
    }

    let same_document = claim_list(&facts.same_document_claims);
    if !same_document.is_empty() {
        let noun = if same_document.len() == 1 { "claim" } else { "claims" };
        signals.push(Signal::new(
            "duplicate_document",
            format!("the same document is on {noun} {}", same_document.join(", ")),
        ));
    }

    for (part, price, median) in &facts.part_prices {
        // Without a positive peer median there is nothing to compare against.
        if *median <= Decimal::ZERO {
            continue;
        }
        let Some(ceiling) = median.checked_mul(rules.part_price_ratio) else { continue };
        if *price <= ceiling {
            continue;
        }
        let Some(ratio) = price.checked_div(*median) else { continue };
        let mut ratio = ratio.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
        ratio.rescale(1);
        signals.push(Signal::new(
            "part_price",
            format!(
                "{part} estimated at {}, {ratio}× the peer median {} (threshold {}×)",
                money_text(*price),
                money_text(*median),
                rules.part_price_ratio.normalize()
            ),
        ));
    }

    signals
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A claim with no signal under the default rules: accident long after the start, nothing shared.
    fn quiet() -> ClaimFacts {
        ClaimFacts {
            policy_start: date(2026, 1, 1),
            accident_on: date(2026, 6, 1),
            reported_on: date(2026, 6, 2),
            ..ClaimFacts::default()
        }
    }

    fn codes(signals: &[Signal]) -> Vec<&str> {
        signals.iter().map(|s| s.code).collect()
    }

    #[test]
    fn quiet_claim_has_no_signals() {
        assert!(evaluate(&quiet(), &SignalRules::default()).is_empty());
    }

    #[test]
    fn early_report_at_threshold() {
        let rules = SignalRules::default();
        let mut facts = quiet();
        facts.accident_on = date(2026, 1, 16); // 15 days after 2026-01-01: flagged
        let signals = evaluate(&facts, &rules);
        assert_eq!(codes(&signals), vec!["early_report"]);
        assert_eq!(
            signals[0].reason,
            "the accident on 2026-01-16 was 15 days after the policy started on 2026-01-01 (threshold 15)"
        );
        facts.accident_on = date(2026, 1, 17); // 16 days: not flagged
        assert!(evaluate(&facts, &rules).is_empty());
        facts.accident_on = date(2025, 12, 30); // before the policy started: flagged
        let signals = evaluate(&facts, &rules);
        assert_eq!(signals[0].reason, "the accident on 2025-12-30 is 2 days before the policy started on 2026-01-01");
    }

    #[test]
    fn repeat_vehicle_at_threshold() {
        let mut facts = quiet();
        facts.other_claims_same_vehicle = vec!["CL2026000012".into(), "CL2026000040".into()];
        let rules = SignalRules { repeat_min_others: 2, ..SignalRules::default() };
        let signals = evaluate(&facts, &rules);
        assert_eq!(codes(&signals), vec!["repeat_vehicle"]);
        assert_eq!(signals[0].reason, "same vehicle also on claims CL2026000012, CL2026000040 within 90 days");
        let rules = SignalRules { repeat_min_others: 3, ..SignalRules::default() };
        assert!(evaluate(&facts, &rules).is_empty());
        // Default threshold 1: one other claim flags, none does not; duplicates count once.
        facts.other_claims_same_vehicle = vec!["CL1".into(), "CL1".into()];
        let signals = evaluate(&facts, &SignalRules::default());
        assert_eq!(signals[0].reason, "same vehicle also on claim CL1 within 90 days");
        facts.other_claims_same_vehicle.clear();
        assert!(evaluate(&facts, &SignalRules { repeat_min_others: 0, ..SignalRules::default() }).is_empty());
    }

    #[test]
    fn duplicate_document() {
        let mut facts = quiet();
        facts.same_document_claims = vec!["CL2026000007".into()];
        let signals = evaluate(&facts, &SignalRules::default());
        assert_eq!(codes(&signals), vec!["duplicate_document"]);
        assert_eq!(signals[0].reason, "the same document is on claim CL2026000007");
        facts.same_document_claims = vec![];
        assert!(evaluate(&facts, &SignalRules::default()).is_empty());
    }

    #[test]
    fn part_price_at_threshold() {
        let mut facts = quiet();
        facts.part_prices = vec![
            ("front bumper".into(), dec!(4500), dec!(1950)), // 2.31×: flagged
            ("headlamp".into(), dec!(1500), dec!(1000)),     // exactly 1.5×: not flagged
            ("grille".into(), dec!(1500.01), dec!(1000)),    // just above: flagged
            ("mirror".into(), dec!(900), dec!(0)),           // no peer median: not flagged
        ];
        let signals = evaluate(&facts, &SignalRules::default());
        assert_eq!(codes(&signals), vec!["part_price", "part_price"]);
        assert_eq!(
            signals[0].reason,
            "front bumper estimated at 4,500.00, 2.3× the peer median 1,950.00 (threshold 1.5×)"
        );
        assert_eq!(signals[1].reason, "grille estimated at 1,500.01, 1.5× the peer median 1,000.00 (threshold 1.5×)");
    }

    #[test]
    fn all_signals_in_fixed_order() {
        let facts = ClaimFacts {
            policy_start: date(2026, 3, 1),
            accident_on: date(2026, 3, 4),
            reported_on: date(2026, 3, 4),
            other_claims_same_vehicle: vec!["CL2".into()],
            same_document_claims: vec!["CL3".into(), "CL4".into()],
            part_prices: vec![("bonnet".into(), dec!(1234567.5), dec!(1000))],
        };
        let signals = evaluate(&facts, &SignalRules::default());
        assert_eq!(codes(&signals), vec!["early_report", "repeat_vehicle", "duplicate_document", "part_price"]);
        assert_eq!(signals[2].reason, "the same document is on claims CL3, CL4");
        assert!(signals[3].reason.starts_with("bonnet estimated at 1,234,567.50, 1234.6× "), "{}", signals[3].reason);
        let json = serde_json::to_string(&signals[1]).unwrap();
        assert_eq!(json, r#"{"code":"repeat_vehicle","reason":"same vehicle also on claim CL2 within 90 days"}"#);
    }

    #[test]
    fn money_text_groups_thousands() {
        assert_eq!(money_text(dec!(0)), "0.00");
        assert_eq!(money_text(dec!(999.995)), "1,000.00");
        assert_eq!(money_text(dec!(123456)), "123,456.00");
        assert_eq!(money_text(dec!(-1234.5)), "-1,234.50");
    }
}
