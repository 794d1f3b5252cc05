//! Payments: never more than the contract still owes on the claim under a coverage, within the vehicle-damage sum
//! insured over the policy year, dated on a day that has come and not before the settlement was approved.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::problem::Problem;

/// What a payment is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentTerms<'a> {
    pub coverage: &'a str,
    /// What the approved settlement owes under the coverage for all the claim's assessed loss.
    pub owed: Decimal,
    /// Everything the claim already paid under the coverage, under every settlement.
    pub paid_on_claim: Decimal,
    /// Vehicle damage: the sum insured and what the policy's other claims have paid against it.
    pub policy_year: Option<(Decimal, Decimal)>,
    /// The China day the settlement was approved, and today.
    pub approved_on: NaiveDate,
    pub today: NaiveDate,
}

/// Only vehicle damage is capped across the policy's claims: its sum insured serves the policy year, while the
/// liability limits are per accident.
pub fn capped_by_policy_year(coverage: &str) -> bool {
    coverage == "vehicle_damage"
}

/// A payment names its payee, up to 100 characters.
pub fn check_payee(payee: &str) -> Result<(), Problem> {
    let payee = payee.trim();
    if payee.is_empty() || payee.chars().count() > 100 {
        return Err(Problem::new("payee", "required", "name the payee (up to 100 characters)"));
    }
    Ok(())
}

/// Withdrawing an approved settlement gives the reason, up to 2,000 characters.
pub fn check_withdrawal_reason(note: &str) -> Result<(), Problem> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(Problem::new("note", "required", "say why the settlement is withdrawn (up to 2000 characters)"));
    }
    Ok(())
}

/// What is still payable under the coverage: owed less paid, not below 0.
pub fn still_payable(terms: &PaymentTerms<'_>) -> Decimal {
    (terms.owed - terms.paid_on_claim).max(Decimal::ZERO)
}

/// Checks a payment of `amount` dated `paid_on`; every problem at once.
pub fn check_payment(terms: &PaymentTerms<'_>, amount: Decimal, paid_on: NaiveDate) -> Result<(), Vec<Problem>> {
    let mut problems = Vec::new();
    let left = still_payable(terms);
    if amount <= Decimal::ZERO {
        problems.push(Problem::new("amount", "invalid", "an amount above 0 with at most 2 decimals"));
    } else if amount > left {
        problems.push(Problem::new(
            "amount",
            "above_payable",
            format!(
                "{amount} is more than is still payable under {}: {} owed, {} already paid, {left} still payable",
                terms.coverage, terms.owed, terms.paid_on_claim
            ),
        ));
    } else if let Some((sum_insured, paid_on_other_claims)) = terms.policy_year
        && paid_on_other_claims + terms.paid_on_claim + amount > sum_insured
    {
        let left_on_policy = (sum_insured - paid_on_other_claims - terms.paid_on_claim).max(Decimal::ZERO);
        problems.push(Problem::new(
            "amount",
            "above_limit",
            format!(
                "{amount} is more than is left of the {} sum insured for the policy year: {left_on_policy}",
                sum_insured
            ),
        ));
    }
    if paid_on > terms.today {
        problems.push(Problem::new("paid_on", "in_future", "a payment is recorded when it is made, not before"));
    } else if paid_on < terms.approved_on {
        problems.push(Problem::new(
            "paid_on",
            "before_approval",
            format!("the settlement was approved on {}; a payment under it cannot be earlier", terms.approved_on),
        ));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn terms(owed: Decimal, paid_on_claim: Decimal) -> PaymentTerms<'static> {
        PaymentTerms {
            coverage: "vehicle_damage",
            owed,
            paid_on_claim,
            policy_year: None,
            approved_on: day(3),
            today: day(7),
        }
    }

    #[test]
    fn payments_never_exceed_what_is_owed() {
        let t = terms(dec!(1500.00), dec!(1000.00));
        assert!(check_payment(&t, dec!(500.00), day(7)).is_ok());
        let problems = check_payment(&t, dec!(500.01), day(7)).unwrap_err();
        assert_eq!(problems[0].code, "above_payable");
        assert!(problems[0].message.contains("vehicle_damage") && problems[0].message.contains("500.00 still payable"));
    }

    #[test]
    fn a_reopened_claim_cannot_pay_the_same_loss_twice() {
        // 4,000 owed in all, 4,000 paid under the first settlement: nothing is left for the second.
        let problems = check_payment(&terms(dec!(4000.00), dec!(4000.00)), dec!(4000.00), day(7)).unwrap_err();
        assert_eq!(problems[0].code, "above_payable");
    }

    #[test]
    fn vehicle_damage_payments_stay_within_the_sum_insured_for_the_policy_year() {
        let mut t = terms(dec!(8000.00), dec!(0.00));
        // Another claim of the policy paid 95,000 of 100,000 since this settlement was made.
        t.policy_year = Some((dec!(100000.00), dec!(95000.00)));
        assert_eq!(check_payment(&t, dec!(6000.00), day(7)).unwrap_err()[0].code, "above_limit");
        assert!(check_payment(&t, dec!(5000.00), day(7)).is_ok());
    }

    #[test]
    fn a_payment_is_not_dated_in_the_future_or_before_its_approval() {
        let t = terms(dec!(100.00), dec!(0.00));
        assert_eq!(check_payment(&t, dec!(1.00), day(8)).unwrap_err()[0].code, "in_future");
        assert_eq!(check_payment(&t, dec!(1.00), day(2)).unwrap_err()[0].code, "before_approval");
        assert!(check_payment(&t, dec!(1.00), day(3)).is_ok());
    }

    #[test]
    fn only_vehicle_damage_is_capped_over_the_policy_year() {
        assert!(capped_by_policy_year("vehicle_damage"));
        assert!(!capped_by_policy_year("third_party"));
        assert!(!capped_by_policy_year("compulsory_property"));
    }

    #[test]
    fn a_payment_names_its_payee_and_a_withdrawal_its_reason() {
        assert!(check_payee("陈立").is_ok());
        assert_eq!(check_payee("  ").unwrap_err().field, "payee");
        assert_eq!(check_payee(&"名".repeat(101)).unwrap_err().code, "required");
        assert!(check_withdrawal_reason("客户放弃索赔").is_ok());
        assert_eq!(check_withdrawal_reason(" ").unwrap_err().field, "note");
    }

    #[test]
    fn a_zero_or_negative_payment_is_refused() {
        let t = terms(dec!(100.00), dec!(0.00));
        assert_eq!(check_payment(&t, dec!(0), day(7)).unwrap_err()[0].code, "invalid");
        assert_eq!(check_payment(&t, dec!(-1), day(7)).unwrap_err()[0].code, "invalid");
    }
}
