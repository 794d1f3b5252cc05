//! Cover at the accident: which commercial coverages, and with what sums, a policy had at the accident day, read
//! from the cover each endorsement left behind; and the rule that an open claim freezes added or raised cover.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::auth::Role;
use crate::domain::problem::Problem;

/// One coverage of a policy: its code and sum insured or limit (none for riders without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverLine {
    pub code: String,
    pub sum_insured: Option<Decimal>,
}

/// An endorsement that changed the coverages: the cover before and after it, and the first day it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverChange {
    pub effective_on: NaiveDate,
    pub before: Vec<CoverLine>,
    pub after: Vec<CoverLine>,
}

/// The cover at the accident day: the cover as issued (the first change's `before`, or today's when nothing
/// changed), with every change made in order whose first day is on or before the accident day.
///
/// `changes` are in the order they were made. A change effective after the accident adds and removes nothing for it.
pub fn cover_at(today: &[CoverLine], changes: &[CoverChange], accident_on: NaiveDate) -> Vec<CoverLine> {
    let Some(first) = changes.first() else { return today.to_vec() };
    let mut cover = first.before.clone();
    for change in changes.iter().filter(|change| change.effective_on <= accident_on) {
        cover = change.after.clone();
    }
    cover
}

/// Coverages present today that were not there at the accident, with the first day of the change that added them.
pub fn added_after(
    at_accident: &[CoverLine],
    changes: &[CoverChange],
    accident_on: NaiveDate,
) -> Vec<(String, NaiveDate)> {
    let mut added: Vec<(String, NaiveDate)> = Vec::new();
    for change in changes.iter().filter(|change| change.effective_on > accident_on) {
        for line in &change.after {
            let had = at_accident.iter().any(|held| held.code == line.code);
            if !had && !added.iter().any(|(code, _)| code == &line.code) {
                added.push((line.code.clone(), change.effective_on));
            }
        }
    }
    added
}

/// The coverages an endorsement adds or raises (a new code, or a higher sum insured), as codes.
pub fn raised(before: &[CoverLine], after: &[CoverLine]) -> Vec<String> {
    after
        .iter()
        .filter(|line| match before.iter().find(|old| old.code == line.code) {
            None => true,
            Some(old) => match (old.sum_insured, line.sum_insured) {
                (Some(was), Some(now)) => now > was,
                (None, Some(_)) => true,
                _ => false,
            },
        })
        .map(|line| line.code.clone())
        .collect()
}

/// While a claim on the policy is open, cover may not be added or raised except by an underwriter: the claim is
/// settled on the cover at the accident anyway, but a store adding cover after a loss is the pattern an insurer
/// must see before it happens.
pub fn check_endorsement_with_open_claims(
    before: &[CoverLine],
    after: &[CoverLine],
    open_claims: &[String],
    actor_role: Option<Role>,
) -> Result<(), Problem> {
    let raised = raised(before, after);
    if raised.is_empty() || open_claims.is_empty() || actor_role == Some(Role::Underwriter) {
        return Ok(());
    }
    Err(Problem::new(
        "coverages",
        "open_claim",
        format!(
            "claim {} on this policy is open, so {} cannot be added or raised now; an underwriter may, or wait until it is closed",
            open_claims.join(", "),
            raised.join(", ")
        ),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn line(code: &str, sum: Option<Decimal>) -> CoverLine {
        CoverLine { code: code.into(), sum_insured: sum }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn cover_added_after_the_accident_is_not_cover_at_the_accident() {
        let issued = vec![line("third_party", Some(dec!(1000000)))];
        let today = vec![line("third_party", Some(dec!(1000000))), line("vehicle_damage", Some(dec!(150000)))];
        let changes = vec![CoverChange { effective_on: day(4), before: issued.clone(), after: today.clone() }];
        assert_eq!(cover_at(&today, &changes, day(1)), issued);
        assert_eq!(cover_at(&today, &changes, day(4)), today, "a change applies from its first day");
        assert_eq!(added_after(&issued, &changes, day(1)), vec![("vehicle_damage".to_string(), day(4))]);
        assert!(added_after(&today, &changes, day(5)).is_empty());
    }

    #[test]
    fn cover_removed_after_the_accident_still_answers_it() {
        let issued = vec![line("vehicle_damage", Some(dec!(150000))), line("driver", Some(dec!(10000)))];
        let today = vec![line("driver", Some(dec!(10000)))];
        let changes = vec![CoverChange { effective_on: day(10), before: issued.clone(), after: today.clone() }];
        assert_eq!(cover_at(&today, &changes, day(9)), issued);
    }

    #[test]
    fn a_raised_sum_insured_counts_from_its_first_day() {
        let v1 = vec![line("vehicle_damage", Some(dec!(100000)))];
        let v2 = vec![line("vehicle_damage", Some(dec!(150000)))];
        let v3 = vec![line("vehicle_damage", Some(dec!(180000)))];
        let changes = vec![
            CoverChange { effective_on: day(3), before: v1.clone(), after: v2.clone() },
            CoverChange { effective_on: day(8), before: v2.clone(), after: v3.clone() },
        ];
        assert_eq!(cover_at(&v3, &changes, day(2)), v1);
        assert_eq!(cover_at(&v3, &changes, day(5)), v2);
        assert_eq!(cover_at(&v3, &changes, day(8)), v3);
        assert_eq!(cover_at(&v3, &[], day(1)), v3, "never endorsed: today's cover is the issued cover");
    }

    #[test]
    fn adding_or_raising_cover_while_a_claim_is_open_is_refused_for_the_store() {
        let before = vec![line("third_party", Some(dec!(1000000)))];
        let added = vec![line("third_party", Some(dec!(1000000))), line("vehicle_damage", Some(dec!(1)))];
        let raised_limit = vec![line("third_party", Some(dec!(2000000)))];
        let lowered = vec![line("third_party", Some(dec!(500000)))];
        let open = vec!["CL202600000001".to_string()];
        let problem =
            check_endorsement_with_open_claims(&before, &added, &open, Some(Role::SalesAssistant)).unwrap_err();
        assert_eq!(problem.code, "open_claim");
        assert!(problem.message.contains("CL202600000001") && problem.message.contains("vehicle_damage"));
        assert!(check_endorsement_with_open_claims(&before, &raised_limit, &open, Some(Role::SalesAssistant)).is_err());
        assert!(
            check_endorsement_with_open_claims(&before, &lowered, &open, Some(Role::SalesAssistant)).is_ok(),
            "lowering is allowed"
        );
        assert!(
            check_endorsement_with_open_claims(&before, &added, &[], Some(Role::SalesAssistant)).is_ok(),
            "no open claim"
        );
        assert!(
            check_endorsement_with_open_claims(&before, &added, &open, Some(Role::Underwriter)).is_ok(),
            "an underwriter may"
        );
    }
}
