//! Loss items and the survey: what an assessed item must say, and when the file of losses may change.

use rust_decimal::Decimal;

use crate::domain::money::{rate_to_micros, round_to_fen, to_fen};
use crate::domain::problem::Problem;

use super::settlement::LossCategory;

/// The kinds of loss item.
pub const LOSS_KINDS: [&str; 3] = ["part", "labour", "other"];

/// A loss item as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LossItemInput<'a> {
    pub category: &'a str,
    pub kind: &'a str,
    pub description: &'a str,
    pub person: Option<&'a str>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub assessed: Option<Decimal>,
}

/// A checked loss item, in storage units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLossItem {
    pub category: LossCategory,
    pub kind: String,
    pub description: String,
    /// The injured person or seat (driver and passenger items); empty otherwise.
    pub person: String,
    pub quantity_micros: i64,
    pub unit_price_fen: i64,
    pub assessed_fen: i64,
}

/// Checks a loss item; every problem at once. Driver and passenger items name the injured person or seat, because
/// that cover pays each person up to the per-seat limit.
pub fn check_loss_item(input: &LossItemInput<'_>) -> Result<CheckedLossItem, Vec<Problem>> {
    let mut problems = Vec::new();
    let category = LossCategory::parse(input.category);
    if category.is_none() {
        problems.push(Problem::new(
            "category",
            "unknown",
            format!("choose one of {}", LossCategory::ALL.map(|c| c.as_str()).join(", ")),
        ));
    }
    if !LOSS_KINDS.contains(&input.kind) {
        problems.push(Problem::new("kind", "unknown", "choose part, labour or other"));
    }
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 200 {
        problems.push(Problem::new("description", "required", "name the part or work (up to 200 characters)"));
    }
    let person = input.person.map(str::trim).unwrap_or_default();
    let per_person = matches!(category, Some(LossCategory::Driver | LossCategory::Passenger));
    if per_person && person.is_empty() {
        problems.push(Problem::new(
            "person",
            "required",
            "name the injured person or seat: driver and passenger cover pay each person up to the per-seat limit",
        ));
    }
    if person.chars().count() > 64 {
        problems.push(Problem::new("person", "too_long", "up to 64 characters"));
    }
    let quantity_micros = match rate_to_micros(input.quantity) {
        Ok(q) if q > 0 && q <= 1_000_000_000_000 => q,
        _ => {
            problems.push(Problem::new("quantity", "invalid", "a quantity above 0 with at most 6 decimals"));
            0
        }
    };
    let unit_price_fen = match to_fen(input.unit_price) {
        Ok(p) if p >= 0 => p,
        _ => {
            problems.push(Problem::new("unit_price", "invalid", "an amount of 0 or more with at most 2 decimals"));
            0
        }
    };
    let assessed_fen = match input.assessed {
        Some(amount) => match to_fen(amount) {
            Ok(a) if a >= 0 => a,
            _ => {
                problems.push(Problem::new("assessed", "invalid", "an amount of 0 or more with at most 2 decimals"));
                0
            }
        },
        None => input
            .quantity
            .checked_mul(input.unit_price)
            .and_then(|amount| to_fen(round_to_fen(amount)).ok())
            .unwrap_or_else(|| {
                problems.push(Problem::new("unit_price", "out_of_range", "quantity × unit price is too large"));
                0
            }),
    };
    match category {
        Some(category) if problems.is_empty() => Ok(CheckedLossItem {
            category,
            kind: input.kind.to_string(),
            description: description.to_string(),
            person: if per_person { person.to_string() } else { String::new() },
            quantity_micros,
            unit_price_fen,
            assessed_fen,
        }),
        _ => Err(problems),
    }
}

/// Once money has been paid on a claim, its loss items are the evidence of what was paid for: they may be added to
/// but not removed.
pub fn check_removal(paid_on_claim: Decimal) -> Result<(), Problem> {
    if paid_on_claim > Decimal::ZERO {
        return Err(Problem::new(
            "loss_item",
            "paid_against",
            format!(
                "{paid_on_claim} has been paid on this claim against its loss items; they can no longer be removed"
            ),
        ));
    }
    Ok(())
}

/// Where the car is repaired: the dealer's own shop (a repair referral, 送修) only when the dealer has one; another
/// shop's name up to 200 characters. Returns the shop's name, if any.
pub fn check_repair_shop(
    at_dealer: bool,
    dealer_has_shop: bool,
    dealer_name: &str,
    other_shop: Option<&str>,
) -> Result<Option<String>, Problem> {
    if at_dealer {
        if !dealer_has_shop {
            return Err(Problem::new("repair_at_dealer", "no_shop", "this dealer has no repair shop of its own"));
        }
        return Ok(Some(dealer_name.to_string()));
    }
    let shop = other_shop.map(str::trim).filter(|s| !s.is_empty());
    if shop.is_some_and(|s| s.chars().count() > 200) {
        return Err(Problem::new("repair_shop", "too_long", "up to 200 characters"));
    }
    Ok(shop.map(str::to_string))
}

/// The value of a repair referral (送修): the assessed own-vehicle damage, in fen, of the live loss items given as
/// (category, assessed fen).
pub fn repair_referral_value(items: &[(LossCategory, i64)]) -> i64 {
    items
        .iter()
        .filter(|(category, _)| *category == LossCategory::OwnVehicle)
        .fold(0i64, |total, (_, fen)| total.saturating_add(*fen))
}

/// A claim repaired at the dealer's own shop records one referral: a reopened claim surveyed again adds none.
pub fn records_referral(repair_at_dealer: bool, referrals_already: u64) -> bool {
    repair_at_dealer && referrals_already == 0
}

/// A survey is finished only with at least one assessed loss item.
pub fn check_survey(live_items: usize) -> Result<(), Problem> {
    if live_items == 0 {
        return Err(Problem::new(
            "loss_items",
            "required",
            "assess at least one loss item before finishing the survey",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn input(category: &'static str, person: Option<&'static str>) -> LossItemInput<'static> {
        LossItemInput {
            category,
            kind: "other",
            description: "医疗费",
            person,
            quantity: dec!(1),
            unit_price: dec!(1200.50),
            assessed: None,
        }
    }

    #[test]
    fn a_passenger_loss_names_the_person() {
        let problems = check_loss_item(&input("passenger", None)).unwrap_err();
        assert_eq!((problems[0].field.as_str(), problems[0].code.as_str()), ("person", "required"));
        let item = check_loss_item(&input("passenger", Some(" 后排左 "))).unwrap();
        assert_eq!(item.person, "后排左");
        assert_eq!(item.assessed_fen, 120_050);
    }

    #[test]
    fn a_vehicle_loss_keeps_no_person() {
        let item = check_loss_item(&input("own_vehicle", Some("张三"))).unwrap();
        assert_eq!(item.person, "");
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = LossItemInput {
            category: "moon",
            kind: "x",
            description: " ",
            person: None,
            quantity: dec!(0),
            unit_price: dec!(-1),
            assessed: Some(dec!(0.001)),
        };
        let fields: Vec<String> = check_loss_item(&bad).unwrap_err().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, vec!["category", "kind", "description", "quantity", "unit_price", "assessed"]);
    }

    #[test]
    fn an_overflowing_quantity_times_price_is_refused_not_a_panic() {
        let mut huge = input("own_vehicle", None);
        huge.quantity = dec!(1000000);
        huge.unit_price = dec!(90000000000000);
        assert_eq!(check_loss_item(&huge).unwrap_err()[0].code, "out_of_range");
    }

    #[test]
    fn items_paid_against_are_not_removed() {
        assert_eq!(check_removal(dec!(0.01)).unwrap_err().code, "paid_against");
        assert!(check_removal(dec!(0)).is_ok());
    }

    #[test]
    fn a_repair_referral_needs_the_dealers_own_shop() {
        assert_eq!(check_repair_shop(true, false, "4S店", None).unwrap_err().code, "no_shop");
        assert_eq!(check_repair_shop(true, true, "4S店", Some("x")).unwrap(), Some("4S店".to_string()));
        assert_eq!(check_repair_shop(false, true, "4S店", Some("  ")).unwrap(), None);
        assert_eq!(check_repair_shop(false, true, "4S店", Some(&"厂".repeat(201))).unwrap_err().code, "too_long");
    }

    #[test]
    fn a_referral_is_worth_the_own_vehicle_damage_and_is_recorded_once() {
        let items = [
            (LossCategory::OwnVehicle, 300_000),
            (LossCategory::ThirdPartyProperty, 50_000),
            (LossCategory::OwnVehicle, 20_000),
        ];
        assert_eq!(repair_referral_value(&items), 320_000);
        assert!(records_referral(true, 0));
        assert!(!records_referral(true, 1), "surveyed again after a reopen");
        assert!(!records_referral(false, 0));
    }

    #[test]
    fn a_survey_needs_a_loss_item() {
        assert_eq!(check_survey(0).unwrap_err().code, "required");
        assert!(check_survey(1).is_ok());
    }
}
