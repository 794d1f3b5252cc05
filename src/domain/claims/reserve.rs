//! Case reserves: what the insurer still expects to pay on an open claim, per coverage. They move only by recorded
//! movements; a settlement sets them to what is still owed, a payment uses them up, closing releases them.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::domain::problem::Problem;

use super::settlement::CoverageDue;

/// The movements that take each coverage's reserve from `current` to `target` (coverages missing from `target` go to
/// 0); no zero movements.
pub fn moves_to(current: &BTreeMap<String, Decimal>, target: &BTreeMap<String, Decimal>) -> Vec<(String, Decimal)> {
    let codes: BTreeSet<&String> = current.keys().chain(target.keys()).collect();
    codes
        .into_iter()
        .filter_map(|code| {
            let have = current.get(code).copied().unwrap_or(Decimal::ZERO);
            let want = target.get(code).copied().unwrap_or(Decimal::ZERO);
            (want != have).then(|| (code.clone(), want - have))
        })
        .collect()
}

/// After a settlement is approved, each coverage's reserve is what is still owed under it (owed − paid).
pub fn after_settlement(current: &BTreeMap<String, Decimal>, dues: &[CoverageDue]) -> Vec<(String, Decimal)> {
    let target: BTreeMap<String, Decimal> = dues.iter().map(|due| (due.coverage.clone(), due.payable)).collect();
    moves_to(current, &target)
}

/// A payment uses up reserve, never taking it below 0.
pub fn after_payment(reserve: Decimal, amount: Decimal) -> Decimal {
    -amount.min(reserve).max(Decimal::ZERO)
}

/// When the reserve movement a payment causes is dated: now when paid today, else 00:00 China time of the payment's
/// day, so the month the payment counts in also holds the reserve it used up.
pub fn payment_movement_at(
    paid_on: chrono::NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    if crate::domain::clock::china_day(now) == paid_on {
        now
    } else {
        crate::domain::clock::start_of_china_day(paid_on)
    }
}

/// Closing, declining or withdrawing releases every reserve to 0.
pub fn release(current: &BTreeMap<String, Decimal>) -> Vec<(String, Decimal)> {
    moves_to(current, &BTreeMap::new())
}

/// A claim is closed only when nothing approved is left unpaid and nothing waits for approval.
pub fn check_close(pending_approval: bool, unpaid: &[(String, Decimal)]) -> Result<(), Problem> {
    if pending_approval {
        return Err(Problem::new("settlement", "pending_approval", "a settlement is still waiting for approval"));
    }
    let owing: Vec<String> =
        unpaid.iter().filter(|(_, left)| *left > Decimal::ZERO).map(|(code, left)| format!("{code} {left}")).collect();
    if owing.is_empty() {
        return Ok(());
    }
    Err(Problem::new(
        "settlement",
        "unpaid",
        format!(
            "the approved settlement is not fully paid ({} still payable); pay it, or withdraw the settlement with a reason",
            owing.join(", ")
        ),
    ))
}

/// The reserves given when a claim is registered or reopened: at least one, each for a coverage in force at the
/// accident, each coverage once, each above 0 and to the fen. Returns them checked, or every problem.
pub fn check_initial_reserves(
    requested: &[(String, Decimal)],
    coverages: &[String],
) -> Result<Vec<(String, Decimal)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut checked: Vec<(String, Decimal)> = Vec::new();
    if requested.is_empty() {
        problems.push(Problem::new("reserves", "required", "choose at least one coverage hit, with its reserve"));
    }
    for (i, (coverage, amount)) in requested.iter().enumerate() {
        if !coverages.contains(coverage) {
            problems.push(Problem::new(
                format!("reserves[{i}].coverage"),
                "not_covered",
                format!("{coverage} is not a coverage of the policies in force; choose from {}", coverages.join(", ")),
            ));
        } else if checked.iter().any(|(c, _)| c == coverage) {
            problems.push(Problem::new(format!("reserves[{i}].coverage"), "duplicate", "each coverage once"));
        } else if amount.normalize().scale() > 2 {
            problems.push(Problem::new(format!("reserves[{i}].reserve"), "invalid", "an amount to the fen"));
        } else if *amount <= Decimal::ZERO {
            problems.push(Problem::new(format!("reserves[{i}].reserve"), "not_positive", "a reserve is above 0"));
        } else {
            checked.push((coverage.clone(), *amount));
        }
    }
    if problems.is_empty() { Ok(checked) } else { Err(problems) }
}

/// A reserve set by hand is for a coverage in force at the accident, 0 or more; a change needs its reason.
pub fn check_reserve_change(coverage: &str, coverages: &[String], target: Decimal, note: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !coverages.iter().any(|c| c == coverage) {
        problems.push(Problem::new("coverage", "not_covered", format!("choose from {}", coverages.join(", "))));
    }
    if target < Decimal::ZERO {
        problems.push(Problem::new("reserve", "invalid", "an amount of 0 or more with at most 2 decimals"));
    }
    if note.trim().is_empty() {
        problems.push(Problem::new("note", "required", "say why the reserve changes"));
    }
    problems
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn map(entries: &[(&str, Decimal)]) -> BTreeMap<String, Decimal> {
        entries.iter().map(|(code, amount)| (code.to_string(), *amount)).collect()
    }

    #[test]
    fn after_a_settlement_the_reserve_is_what_is_still_owed() {
        let dues = vec![CoverageDue {
            coverage: "vehicle_damage".into(),
            owed: dec!(4800.00),
            paid_before: dec!(4000.00),
            payable: dec!(800.00),
        }];
        let current = map(&[("vehicle_damage", dec!(1000.00)), ("third_party", dec!(300.00))]);
        let moves = after_settlement(&current, &dues);
        assert_eq!(moves, vec![("third_party".into(), dec!(-300.00)), ("vehicle_damage".into(), dec!(-200.00))]);
    }

    #[test]
    fn a_payment_never_takes_a_reserve_below_zero() {
        assert_eq!(after_payment(dec!(800.00), dec!(500.00)), dec!(-500.00));
        assert_eq!(after_payment(dec!(300.00), dec!(500.00)), dec!(-300.00));
        assert_eq!(after_payment(dec!(0.00), dec!(500.00)), dec!(0.00));
    }

    #[test]
    fn a_back_dated_payment_moves_the_reserve_on_its_own_day() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap();
        let today = crate::domain::clock::china_day(now);
        assert_eq!(payment_movement_at(today, now), now);
        let earlier = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(payment_movement_at(earlier, now), chrono::Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap());
    }

    #[test]
    fn closing_releases_every_reserve() {
        let current = map(&[("vehicle_damage", dec!(10.00)), ("driver", dec!(0.00))]);
        assert_eq!(release(&current), vec![("vehicle_damage".into(), dec!(-10.00))]);
    }

    #[test]
    fn a_claim_with_approved_money_unpaid_cannot_close() {
        let problem = check_close(false, &[("vehicle_damage".into(), dec!(11772.00))]).unwrap_err();
        assert_eq!(problem.code, "unpaid");
        assert!(problem.message.contains("vehicle_damage 11772.00"));
        assert_eq!(check_close(true, &[]).unwrap_err().code, "pending_approval");
        assert!(check_close(false, &[("vehicle_damage".into(), dec!(0.00))]).is_ok());
    }

    #[test]
    fn a_reserve_change_needs_a_reason_and_no_negative_amount() {
        let covered = vec!["vehicle_damage".to_string()];
        let codes: Vec<String> =
            check_reserve_change("driver", &covered, dec!(-1), " ").into_iter().map(|p| p.code).collect();
        assert_eq!(codes, vec!["not_covered", "invalid", "required"]);
        assert!(check_reserve_change("vehicle_damage", &covered, dec!(0), "定损下调").is_empty());
    }

    #[test]
    fn initial_reserves_are_for_covered_coverages_once_each_and_above_zero() {
        let covered = vec!["vehicle_damage".to_string(), "third_party".to_string()];
        let ok = check_initial_reserves(&[("vehicle_damage".into(), dec!(8000))], &covered).unwrap();
        assert_eq!(ok, vec![("vehicle_damage".to_string(), dec!(8000))]);
        let problems = check_initial_reserves(
            &[
                ("driver".into(), dec!(1)),
                ("vehicle_damage".into(), dec!(0)),
                ("third_party".into(), dec!(1.001)),
                ("third_party".into(), dec!(10)),
                ("third_party".into(), dec!(10)),
            ],
            &covered,
        )
        .unwrap_err();
        let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["not_covered", "not_positive", "invalid", "duplicate"]);
        assert_eq!(check_initial_reserves(&[], &covered).unwrap_err()[0].code, "required");
    }
}
