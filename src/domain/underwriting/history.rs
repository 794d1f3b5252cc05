//! The factors that come from a vehicle's history: the compulsory floating factor (from the last year's at-fault
//! accidents) and the commercial NCD level (from the claims that paid from a commercial coverage), with the claims
//! that moved them, and whether a history the store typed matches what the insurer holds.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::BusinessType;
use super::lifecycle::next_ncd_level;
use super::rating::{AccidentHistory, CoverageChoice};
use super::rules::{Decision, RuleHit, RuleOutcome};
use crate::domain::problem::Problem;

/// A claim of the vehicle in the year before the renewal starts, as far as pricing is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastClaim {
    pub claim_no: String,
    pub accident_on: NaiveDate,
    /// Declined and withdrawn claims count for nothing.
    pub counts: bool,
    /// Still being worked (reported, registered, surveyed or settled).
    pub open: bool,
    /// The insured bore some liability (share above 0); None before the liability is decided.
    pub at_fault: Option<bool>,
    /// Someone died in the accident.
    pub death: bool,
    /// Paid from commercial coverages (vehicle damage, third party, seats, riders).
    pub paid_commercial: Decimal,
}

/// Which factor a claim moved, for the renewal quote to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moved {
    FloatingFactor,
    Ncd,
}

impl Moved {
    pub fn as_str(self) -> &'static str {
        match self {
            Moved::FloatingFactor => "floating_factor",
            Moved::Ncd => "ncd",
        }
    }
}

/// A claim that moved a factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mover {
    pub claim_no: String,
    pub accident_on: NaiveDate,
    pub moved: Vec<Moved>,
    /// Why, in words: "at fault", "at fault, a death", "paid 8000.00 from commercial cover".
    pub why: String,
}

/// The history factors of a renewal and the claims behind them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFactors {
    pub accident_history: AccidentHistory,
    pub ncd_level: i32,
    pub movers: Vec<Mover>,
    /// Open claims of the year with no liability decision yet: they may still move the factors.
    pub undecided: Vec<String>,
}

impl HistoryFactors {
    /// A renewal priced while a claim of the year has no liability decision waits for an underwriter, who knows
    /// whether the discount it carries will hold.
    pub fn check(&self) -> HistoryCheck {
        if self.undecided.is_empty() {
            return HistoryCheck::Accepted;
        }
        HistoryCheck::Refer(format!(
            "claim(s) {} of the year have no liability decision yet and may still move the factors",
            self.undecided.join(", ")
        ))
    }
}

/// The claims that count as at-fault accidents for the compulsory floating factor.
fn at_fault(claims: &[PastClaim]) -> impl Iterator<Item = &PastClaim> {
    claims.iter().filter(|c| c.counts && c.at_fault == Some(true))
}

/// The claims that count against the commercial NCD: those that paid from a commercial coverage.
fn paid_commercial(claims: &[PastClaim]) -> impl Iterator<Item = &PastClaim> {
    claims.iter().filter(|c| c.counts && c.paid_commercial > Decimal::ZERO)
}

/// The compulsory history for next year: any at-fault accident with a death, two or more at-fault accidents, one,
/// or, after a year without one, the next claim-free step from last year's.
pub fn compulsory_history(last_year: AccidentHistory, claims: &[PastClaim]) -> AccidentHistory {
    let mut count = 0;
    let mut death = false;
    for claim in at_fault(claims) {
        count += 1;
        death |= claim.death;
    }
    match (count, death) {
        (0, _) => next_claim_free(last_year),
        (_, true) => AccidentHistory::AtFaultWithDeath,
        (1, false) => AccidentHistory::OneAtFaultNoDeath,
        _ => AccidentHistory::TwoOrMoreAtFault,
    }
}

/// A year without an at-fault accident: one claim-free year more, counting from none after an accident.
pub fn next_claim_free(history: AccidentHistory) -> AccidentHistory {
    use AccidentHistory::*;
    match history {
        NewOrNoRecord | OneAtFaultNoDeath | TwoOrMoreAtFault | AtFaultWithDeath => ClaimFree1Year,
        ClaimFree1Year => ClaimFree2Years,
        ClaimFree2Years | ClaimFree3YearsOrMore => ClaimFree3YearsOrMore,
    }
}

/// Next year's NCD level: one up per claim that paid from a commercial coverage, one down after a year without.
pub fn commercial_ncd(current: i32, claims: &[PastClaim], lowest: i32, highest: i32) -> i32 {
    let count = u32::try_from(paid_commercial(claims).count()).unwrap_or(u32::MAX);
    next_ncd_level(current, count, lowest, highest)
}

/// Both factors for a renewal, with the claims that moved them.
pub fn renewal_factors(
    last_year: AccidentHistory,
    ncd_level: i32,
    claims: &[PastClaim],
    ncd_range: (i32, i32),
) -> HistoryFactors {
    let mut movers = Vec::new();
    for claim in claims.iter().filter(|c| c.counts) {
        let mut moved = Vec::new();
        let mut why = Vec::new();
        if claim.at_fault == Some(true) {
            moved.push(Moved::FloatingFactor);
            why.push(if claim.death { "at fault, a death".to_string() } else { "at fault".to_string() });
        }
        if claim.paid_commercial > Decimal::ZERO {
            moved.push(Moved::Ncd);
            why.push(format!("paid {} from commercial cover", claim.paid_commercial.round_dp(2)));
        }
        if !moved.is_empty() {
            movers.push(Mover {
                claim_no: claim.claim_no.clone(),
                accident_on: claim.accident_on,
                moved,
                why: why.join("; "),
            });
        }
    }
    let undecided =
        claims.iter().filter(|c| c.counts && c.open && c.at_fault.is_none()).map(|c| c.claim_no.clone()).collect();
    HistoryFactors {
        accident_history: compulsory_history(last_year, claims),
        ncd_level: commercial_ncd(ncd_level, claims, ncd_range.0, ncd_range.1),
        movers,
        undecided,
    }
}

/// What a renewal covers: what the car has now. Compulsory when its compulsory policy is still live; the commercial
/// coverages of its live commercial policy as last endorsed, priced on the car's actual value at renewal (an agreed
/// lower sum insured is not carried over, as the car's value has moved); no commercial cover when it has none.
pub fn renewal_coverages(compulsory_live: bool, commercial_now: Option<CoverageChoice>) -> CoverageChoice {
    let none = CoverageChoice {
        compulsory: false,
        vehicle_damage: false,
        third_party_limit: None,
        driver_limit: None,
        passenger_limit: None,
        riders: Vec::new(),
        vehicle_damage_sum_insured: None,
    };
    let commercial = commercial_now.unwrap_or(none);
    CoverageChoice { compulsory: compulsory_live, vehicle_damage_sum_insured: None, ..commercial }
}

/// What the store typed about a vehicle's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedHistory {
    pub business_type: BusinessType,
    pub accident_history: AccidentHistory,
    pub ncd_level: i32,
}

/// How a typed history stands against the insurer's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryCheck {
    /// A new car, or a history that matches the insurer's.
    Accepted,
    /// An underwriter has to confirm it: the reason, in words.
    Refer(String),
}

/// A new car is at NCD 0 with no accident history, and one the insurer has insured before is referred; a history
/// typed for a renewal or a transfer-in is referred to an underwriter unless it matches what the insurer holds for
/// the VIN (`held`, when it holds anything).
pub fn check_typed_history(typed: TypedHistory, held: Option<(AccidentHistory, i32)>) -> Result<HistoryCheck, Problem> {
    if typed.business_type == BusinessType::NewCar {
        if typed.ncd_level != 0 {
            let message = format!("a new car is at NCD level 0, not {}", typed.ncd_level);
            return Err(Problem::new("ncd_level", "new_car_ncd", message));
        }
        if typed.accident_history != AccidentHistory::NewOrNoRecord {
            let message = "a new car has no accident history: new_or_no_record";
            return Err(Problem::new("accident_history", "new_car_history", message));
        }
        return Ok(match held {
            None => HistoryCheck::Accepted,
            Some((history, level)) => HistoryCheck::Refer(format!(
                "sold as a new car, but the insurer has insured this VIN before ({}, NCD {level})",
                history.as_str()
            )),
        });
    }
    match held {
        Some(held) if held == (typed.accident_history, typed.ncd_level) => Ok(HistoryCheck::Accepted),
        Some((history, level)) => Ok(HistoryCheck::Refer(format!(
            "the history typed ({}, NCD {}) differs from the insurer's records for this VIN ({}, NCD {level})",
            typed.accident_history.as_str(),
            typed.ncd_level,
            history.as_str()
        ))),
        None => Ok(HistoryCheck::Refer(format!(
            "the insurer holds no record of this VIN; the history typed ({}, NCD {}) needs an underwriter's check",
            typed.accident_history.as_str(),
            typed.ncd_level
        ))),
    }
}

/// The underwriting decision with the history check folded in: an unverified history refers a quote the rules
/// accepted, and is listed among the hits of one they referred or declined.
pub fn refer_unverified(decision: Decision, check: HistoryCheck) -> Decision {
    let HistoryCheck::Refer(reason) = check else { return decision };
    let hit = RuleHit { code: "history_unverified".into(), outcome: RuleOutcome::Refer, reason };
    match decision {
        Decision::Accept => Decision::Refer(vec![hit]),
        Decision::Refer(mut hits) => {
            hits.push(hit);
            Decision::Refer(hits)
        }
        Decision::Decline(mut hits) => {
            hits.push(hit);
            Decision::Decline(hits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccidentHistory::*;

    fn claim(no: &str, at_fault: bool, death: bool, paid_commercial: i64) -> PastClaim {
        PastClaim {
            claim_no: no.into(),
            accident_on: "2026-05-01".parse().unwrap(),
            counts: true,
            open: false,
            at_fault: Some(at_fault),
            death,
            paid_commercial: Decimal::new(paid_commercial, 0),
        }
    }

    #[test]
    fn an_at_fault_accident_after_two_claim_free_years_ends_the_discount() {
        assert_eq!(compulsory_history(ClaimFree2Years, &[claim("C1", true, false, 0)]), OneAtFaultNoDeath);
    }

    #[test]
    fn a_claim_free_year_moves_one_step_and_restarts_after_an_accident() {
        assert_eq!(compulsory_history(ClaimFree1Year, &[]), ClaimFree2Years);
        assert_eq!(compulsory_history(ClaimFree3YearsOrMore, &[]), ClaimFree3YearsOrMore);
        assert_eq!(compulsory_history(TwoOrMoreAtFault, &[]), ClaimFree1Year);
        assert_eq!(compulsory_history(NewOrNoRecord, &[]), ClaimFree1Year);
    }

    #[test]
    fn two_at_fault_accidents_and_a_death_are_their_own_steps() {
        let two = [claim("C1", true, false, 0), claim("C2", true, false, 0)];
        assert_eq!(compulsory_history(ClaimFree3YearsOrMore, &two), TwoOrMoreAtFault);
        let death = [claim("C1", true, true, 0)];
        assert_eq!(compulsory_history(ClaimFree3YearsOrMore, &death), AtFaultWithDeath);
        let two_with_death = [claim("C1", true, false, 0), claim("C2", true, true, 0)];
        assert_eq!(compulsory_history(ClaimFree1Year, &two_with_death), AtFaultWithDeath);
    }

    #[test]
    fn accidents_without_fault_and_withdrawn_claims_leave_the_floating_factor_alone() {
        let mut withdrawn = claim("C2", true, true, 0);
        withdrawn.counts = false;
        assert_eq!(compulsory_history(ClaimFree1Year, &[claim("C1", false, false, 9_000), withdrawn]), ClaimFree2Years);
    }

    #[test]
    fn the_ncd_moves_up_once_per_claim_paid_from_commercial_cover() {
        let claims = [claim("C1", true, false, 8_000), claim("C2", false, false, 1_200)];
        assert_eq!(commercial_ncd(-1, &claims, -4, 5), 1);
    }

    #[test]
    fn open_reports_unpaid_and_compulsory_only_claims_do_not_raise_the_ncd() {
        // At fault but nothing paid from commercial cover (open, or paid by compulsory alone): a claim-free year.
        let claims = [claim("C1", true, false, 0), claim("C2", true, false, 0)];
        assert_eq!(commercial_ncd(0, &claims, -4, 5), -1);
        let mut declined = claim("C3", true, false, 5_000);
        declined.counts = false;
        assert_eq!(commercial_ncd(0, &[declined], -4, 5), -1);
    }

    #[test]
    fn the_renewal_names_the_claims_that_moved_its_factors() {
        let claims = [claim("C1", true, false, 8_000), claim("C2", false, false, 0), claim("C3", true, true, 0)];
        let factors = renewal_factors(ClaimFree2Years, 0, &claims, (-4, 5));
        assert_eq!(factors.accident_history, AtFaultWithDeath);
        assert_eq!(factors.ncd_level, 1);
        let named: Vec<(&str, &[Moved])> =
            factors.movers.iter().map(|m| (m.claim_no.as_str(), m.moved.as_slice())).collect();
        assert_eq!(named, vec![("C1", &[Moved::FloatingFactor, Moved::Ncd][..]), ("C3", &[Moved::FloatingFactor][..])]);
        assert!(factors.movers[0].why.contains("8000"), "{}", factors.movers[0].why);
    }

    #[test]
    fn an_unverified_history_refers_a_quote_the_rules_accepted() {
        let refer = HistoryCheck::Refer("typed".into());
        let Decision::Refer(hits) = refer_unverified(Decision::Accept, refer.clone()) else { panic!("not referred") };
        assert_eq!(hits[0].code, "history_unverified");
        assert_eq!(refer_unverified(Decision::Accept, HistoryCheck::Accepted), Decision::Accept);
        let declined = Decision::Decline(vec![]);
        assert!(matches!(refer_unverified(declined, refer), Decision::Decline(hits) if hits.len() == 1));
    }

    #[test]
    fn a_renewal_waits_for_an_underwriter_while_a_claim_has_no_liability_decision() {
        let mut open = claim("C9", false, false, 0);
        open.at_fault = None;
        open.open = true;
        let factors = renewal_factors(ClaimFree1Year, 0, &[open.clone()], (-4, 5));
        assert_eq!(factors.undecided, vec!["C9".to_string()]);
        assert!(matches!(factors.check(), HistoryCheck::Refer(reason) if reason.contains("C9")));
        open.open = false;
        assert_eq!(renewal_factors(ClaimFree1Year, 0, &[open], (-4, 5)).check(), HistoryCheck::Accepted);
    }

    #[test]
    fn a_renewal_covers_what_the_car_has_now() {
        let now = CoverageChoice {
            compulsory: false,
            vehicle_damage: true,
            third_party_limit: Some(Decimal::new(2_000_000, 0)),
            driver_limit: None,
            passenger_limit: None,
            riders: vec![],
            vehicle_damage_sum_insured: Some(Decimal::new(150_000, 0)),
        };
        let both = renewal_coverages(true, Some(now.clone()));
        assert!(both.compulsory && both.vehicle_damage && both.vehicle_damage_sum_insured.is_none());
        assert_eq!(both.third_party_limit, now.third_party_limit, "as last endorsed");
        let compulsory_only = renewal_coverages(true, None);
        assert!(
            compulsory_only.compulsory
                && !compulsory_only.vehicle_damage
                && compulsory_only.third_party_limit.is_none()
        );
        assert!(!renewal_coverages(false, Some(now)).compulsory);
    }

    #[test]
    fn a_car_the_insurer_has_insured_is_not_quoted_as_new_without_an_underwriter() {
        let typed = TypedHistory { business_type: BusinessType::NewCar, accident_history: NewOrNoRecord, ncd_level: 0 };
        assert!(matches!(check_typed_history(typed, Some((OneAtFaultNoDeath, 2))), Ok(HistoryCheck::Refer(_))));
    }

    #[test]
    fn a_new_car_is_at_ncd_zero_with_no_history() {
        let typed = |history, level| TypedHistory {
            business_type: BusinessType::NewCar,
            accident_history: history,
            ncd_level: level,
        };
        assert_eq!(check_typed_history(typed(NewOrNoRecord, 0), None), Ok(HistoryCheck::Accepted));
        assert_eq!(check_typed_history(typed(NewOrNoRecord, -4), None).unwrap_err().code, "new_car_ncd");
        assert_eq!(check_typed_history(typed(ClaimFree3YearsOrMore, 0), None).unwrap_err().code, "new_car_history");
    }

    #[test]
    fn a_typed_transfer_in_history_is_referred_unless_the_insurer_holds_the_same() {
        let typed = TypedHistory {
            business_type: BusinessType::TransferIn,
            accident_history: ClaimFree3YearsOrMore,
            ncd_level: -4,
        };
        assert!(matches!(check_typed_history(typed, None), Ok(HistoryCheck::Refer(_))));
        assert!(matches!(check_typed_history(typed, Some((ClaimFree1Year, -1))), Ok(HistoryCheck::Refer(_))));
        assert_eq!(check_typed_history(typed, Some((ClaimFree3YearsOrMore, -4))), Ok(HistoryCheck::Accepted));
    }
}
