//! What issuing a quote checks: the quote is still valid, it is re-rated when its price no longer holds, and no
//! policy overlaps cover of the same product on the same car (重复投保); and what a policy's status is on a day.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::Product;
use super::lifecycle::Period;
use super::rules::Decision;
use crate::domain::problem::Problem;

/// Days a quote is valid when not configured (`AUTOCHANNEL_QUOTE_VALID_DAYS`).
pub const DEFAULT_QUOTE_VALID_DAYS: u32 = 3;

/// The last China day a quote made on `quoted_on` may be issued: `valid_days` days in all, the day quoted included.
pub fn valid_until(quoted_on: NaiveDate, valid_days: u32) -> NaiveDate {
    quoted_on.checked_add_days(Days::new(u64::from(valid_days.max(1) - 1))).unwrap_or(NaiveDate::MAX)
}

/// Refuses a quote issued after its last valid day.
pub fn check_valid(until: NaiveDate, today: NaiveDate) -> Result<(), Problem> {
    if today > until {
        let message = format!("the quote was valid until {until}; quote again to issue");
        return Err(Problem::new("quote", "quote_expired", message));
    }
    Ok(())
}

/// Why a quote is priced again at issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerateReason {
    /// Another rating version is in force on the start day.
    RatingVersionChanged,
    /// Cover starts on another day than the quote was priced for.
    StartDateChanged,
}

/// Why the quote must be priced again before it is issued, if it must: the rating version in force on the start
/// day, or the start day itself, differs from what the quote was priced with.
pub fn rerate_reasons(
    quoted_version: i64,
    version_in_force: i64,
    quoted_start: NaiveDate,
    start: NaiveDate,
) -> Vec<RerateReason> {
    let mut reasons = Vec::new();
    if quoted_version != version_in_force {
        reasons.push(RerateReason::RatingVersionChanged);
    }
    if quoted_start != start {
        reasons.push(RerateReason::StartDateChanged);
    }
    reasons
}

/// Whether a quote priced again at issue may still be issued: not when the rules in force now decline it, nor when
/// they refer it and no underwriter has approved it.
pub fn check_rerated(decision: &Decision, approved: bool, start: NaiveDate) -> Result<(), Problem> {
    let hits = match decision {
        Decision::Accept => return Ok(()),
        Decision::Refer(_) if approved => return Ok(()),
        Decision::Refer(hits) | Decision::Decline(hits) => hits,
    };
    let reasons: Vec<&str> = hits.iter().map(|h| h.reason.as_str()).collect();
    let message = format!(
        "priced again for cover from {start}, the quote meets the underwriting rules ({}); quote again",
        reasons.join("; ")
    );
    Err(Problem::new("quote", "rerated_needs_review", message))
}

/// A policy of the same car that is or will be in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverOnVin {
    pub policy_no: String,
    pub product: Product,
    pub period: Period,
    /// Cover stops from this day when cancelled.
    pub cancelled_from: Option<NaiveDate>,
}

impl CoverOnVin {
    /// The days the policy covers: its period, cut at a cancellation.
    fn covered(&self) -> Period {
        let end = self.cancelled_from.map_or(self.period.end, |from| from.min(self.period.end));
        Period { start: self.period.start, end }
    }
}

/// Refuses a new policy of `product` over `period` that would overlap cover of the same product on the same VIN,
/// naming the policy in force (重复投保).
pub fn check_no_overlap(product: Product, period: &Period, existing: &[CoverOnVin]) -> Result<(), Problem> {
    let overlapping = existing.iter().filter(|cover| cover.product == product).find(|cover| {
        let covered = cover.covered();
        covered.start < covered.end && covered.start < period.end && period.start < covered.end
    });
    match overlapping {
        Some(cover) => {
            let covered = cover.covered();
            let message = format!(
                "this car already has {} cover under policy {} from {} to {}; a second policy would insure it twice",
                product.as_str(),
                cover.policy_no,
                covered.start,
                covered.end
            );
            Err(Problem::new("vehicle.vin", "insured_twice", message))
        }
        None => Ok(()),
    }
}

/// Where a policy stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyStatus {
    /// Issued, cover not begun.
    Pending,
    InForce,
    Expired,
    Cancelled,
}

impl PolicyStatus {
    pub const ALL: [PolicyStatus; 4] =
        [PolicyStatus::Pending, PolicyStatus::InForce, PolicyStatus::Expired, PolicyStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            PolicyStatus::Pending => "pending",
            PolicyStatus::InForce => "in_force",
            PolicyStatus::Expired => "expired",
            PolicyStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

impl std::fmt::Display for PolicyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a policy on `today`: cancelled from the day its cancellation takes effect (or at once when cover
/// never began); before that the dates decide, so a policy cancelled from tomorrow is in force today.
pub fn status_on(period: &Period, cancelled_from: Option<NaiveDate>, today: NaiveDate) -> PolicyStatus {
    let cancelled = cancelled_from.is_some_and(|from| from <= today || from <= period.start);
    match () {
        _ if cancelled => PolicyStatus::Cancelled,
        _ if today < period.start => PolicyStatus::Pending,
        _ if today >= period.end => PolicyStatus::Expired,
        _ => PolicyStatus::InForce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_quote_is_valid_for_three_days_by_default() {
        let quoted = day("2026-12-07");
        assert_eq!(valid_until(quoted, DEFAULT_QUOTE_VALID_DAYS), day("2026-12-09"));
        let until = valid_until(quoted, DEFAULT_QUOTE_VALID_DAYS);
        assert!(check_valid(until, day("2026-12-09")).is_ok());
        let problem = check_valid(until, day("2026-12-10")).unwrap_err();
        assert_eq!(problem.code, "quote_expired");
        assert!(problem.message.contains("2026-12-09"));
    }

    #[test]
    fn a_quote_valid_for_one_day_expires_at_midnight() {
        let quoted = day("2026-12-07");
        assert!(check_valid(valid_until(quoted, 1), day("2026-12-07")).is_ok());
        assert!(check_valid(valid_until(quoted, 1), day("2026-12-08")).is_err());
        assert_eq!(valid_until(quoted, 0), quoted, "zero days is read as the day quoted only");
    }

    #[test]
    fn issue_re_rates_when_the_rating_version_or_the_start_changed() {
        let start = day("2026-12-08");
        assert!(rerate_reasons(3, 3, start, start).is_empty());
        assert_eq!(rerate_reasons(3, 4, start, start), vec![RerateReason::RatingVersionChanged]);
        assert_eq!(rerate_reasons(3, 3, start, day("2026-12-10")), vec![RerateReason::StartDateChanged]);
    }

    #[test]
    fn a_re_rated_quote_the_rules_now_refer_needs_an_underwriter_first() {
        use super::super::rules::{RuleHit, RuleOutcome};
        let start = day("2026-12-08");
        let hit = RuleHit { code: "ncd_high".into(), outcome: RuleOutcome::Refer, reason: "NCD 5 above 3".into() };
        assert!(check_rerated(&Decision::Accept, false, start).is_ok());
        assert_eq!(
            check_rerated(&Decision::Refer(vec![hit.clone()]), false, start).unwrap_err().code,
            "rerated_needs_review"
        );
        assert!(check_rerated(&Decision::Refer(vec![hit.clone()]), true, start).is_ok());
        assert!(check_rerated(&Decision::Decline(vec![hit]), true, start).is_err());
    }

    fn cover(product: Product, start: &str, end: &str, cancelled: Option<&str>) -> CoverOnVin {
        CoverOnVin {
            policy_no: "PDAA202600000000001".into(),
            product,
            period: Period { start: day(start), end: day(end) },
            cancelled_from: cancelled.map(day),
        }
    }

    #[test]
    fn a_second_policy_of_the_same_product_on_a_car_is_refused_naming_the_first() {
        let period = Period { start: day("2026-12-08"), end: day("2027-12-08") };
        let existing = [cover(Product::Compulsory, "2026-06-01", "2027-06-01", None)];
        let problem = check_no_overlap(Product::Compulsory, &period, &existing).unwrap_err();
        assert_eq!(problem.code, "insured_twice");
        assert!(problem.message.contains("PDAA202600000000001"));
        assert!(check_no_overlap(Product::Commercial, &period, &existing).is_ok());
    }

    #[test]
    fn a_renewal_from_the_day_the_old_policy_ends_does_not_overlap() {
        let renewal = Period { start: day("2027-06-01"), end: day("2028-06-01") };
        let existing = [cover(Product::Commercial, "2026-06-01", "2027-06-01", None)];
        assert!(check_no_overlap(Product::Commercial, &renewal, &existing).is_ok());
    }

    #[test]
    fn cancelled_cover_overlaps_only_up_to_its_cancellation() {
        let period = Period { start: day("2026-12-08"), end: day("2027-12-08") };
        let cancelled = [cover(Product::Commercial, "2026-06-01", "2027-06-01", Some("2026-12-08"))];
        assert!(check_no_overlap(Product::Commercial, &period, &cancelled).is_ok());
        let later = [cover(Product::Commercial, "2026-06-01", "2027-06-01", Some("2026-12-09"))];
        assert!(check_no_overlap(Product::Commercial, &period, &later).is_err());
        let never_began = [cover(Product::Commercial, "2026-12-08", "2027-12-08", Some("2026-12-08"))];
        assert!(check_no_overlap(Product::Commercial, &period, &never_began).is_ok());
    }

    #[test]
    fn status_follows_the_dates() {
        let period = Period { start: day("2026-12-08"), end: day("2027-12-08") };
        assert_eq!(status_on(&period, None, day("2026-12-07")), PolicyStatus::Pending);
        assert_eq!(status_on(&period, None, day("2026-12-08")), PolicyStatus::InForce);
        assert_eq!(status_on(&period, None, day("2027-12-07")), PolicyStatus::InForce);
        assert_eq!(status_on(&period, None, day("2027-12-08")), PolicyStatus::Expired);
        assert_eq!(status_on(&period, Some(day("2027-01-01")), day("2026-12-31")), PolicyStatus::InForce);
        assert_eq!(status_on(&period, Some(day("2027-01-01")), day("2027-01-01")), PolicyStatus::Cancelled);
        assert_eq!(
            status_on(&period, Some(day("2026-12-08")), day("2026-12-07")),
            PolicyStatus::Cancelled,
            "cancelled from its start: its cover never begins"
        );
    }
}
