//! First notice of loss: what a report must say, and which of the vehicle's policies answer the accident.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::clock;
use crate::domain::problem::Problem;
use crate::domain::underwriting::identity;
use crate::domain::underwriting::lifecycle::{self, Period};

/// A report as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInput<'a> {
    pub policy_no: Option<&'a str>,
    pub plate: Option<&'a str>,
    pub accident_at: DateTime<Utc>,
    pub reporter_name: &'a str,
    pub reporter_phone: &'a str,
    pub place: &'a str,
    pub description: &'a str,
}

/// A checked report: trimmed text, the normalised phone and plate, and the China day of the accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedReport {
    /// Upper case, as policy numbers are stored.
    pub policy_no: Option<String>,
    pub plate: Option<String>,
    pub accident_at: DateTime<Utc>,
    pub accident_on: NaiveDate,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
}

/// A report may be filed a few minutes ahead of the server's clock (a phone's clock runs fast), never later.
const CLOCK_SKEW_MINUTES: i64 = 5;

/// Checks a report at `now`; every problem at once.
pub fn check_report(input: &ReportInput<'_>, now: DateTime<Utc>) -> Result<CheckedReport, Vec<Problem>> {
    let mut problems = Vec::new();
    if input.accident_at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        problems.push(Problem::new("accident_at", "in_future", "the accident time is in the future"));
    }
    let reporter_name = input.reporter_name.trim();
    if reporter_name.is_empty() || reporter_name.chars().count() > 64 {
        problems.push(Problem::new("reporter_name", "required", "give the reporter's name (up to 64 characters)"));
    }
    let reporter_phone = identity::normalize_mobile(input.reporter_phone).unwrap_or_else(|e| {
        problems.push(Problem::new("reporter_phone", e.code, e.message));
        String::new()
    });
    let place = input.place.trim();
    if place.is_empty() || place.chars().count() > 200 {
        problems.push(Problem::new("place", "required", "give the place of the accident (up to 200 characters)"));
    }
    let description = input.description.trim();
    if description.is_empty() || description.chars().count() > 4000 {
        problems.push(Problem::new("description", "required", "describe what happened (up to 4000 characters)"));
    }
    let policy_no = input.policy_no.map(str::trim).filter(|s| !s.is_empty()).map(str::to_uppercase);
    let plate = match input.plate.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => match identity::normalize_plate(text) {
            Ok(plate) => Some(plate.text),
            Err(e) => {
                problems.push(Problem::new("plate", e.code, e.message));
                None
            }
        },
        None => None,
    };
    if policy_no.is_none() && plate.is_none() && !problems.iter().any(|p| p.field == "plate") {
        problems.push(Problem::new("policy_no", "required", "give the policy number or the plate"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CheckedReport {
        policy_no,
        plate,
        accident_at: input.accident_at,
        accident_on: clock::china_day(input.accident_at),
        reporter_name: reporter_name.to_string(),
        reporter_phone,
        place: place.to_string(),
        description: description.to_string(),
    })
}

/// Whether a look-up's six characters prove the asker owns the claim: the last six of the plate or of the owner's
/// ID number, case aside. Anything but six characters proves nothing.
pub fn owner_may_see(tail: &str, plate: &str, owner_id_number: Option<&str>) -> bool {
    let tail = tail.trim().to_uppercase();
    if tail.chars().count() != 6 {
        return false;
    }
    let last6 = |s: &str| {
        let chars: Vec<char> = s.chars().collect();
        chars[chars.len().saturating_sub(6)..].iter().collect::<String>().to_uppercase()
    };
    last6(plate) == tail || owner_id_number.is_some_and(|id| last6(id) == tail)
}

/// Owner look-ups from one address are refused once `max_per_window` were made in the window.
pub fn lookups_exhausted(recent: u64, max_per_window: u32) -> bool {
    recent >= u64::from(max_per_window)
}

/// One of the vehicle's policies, as the in-force rule reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTerm {
    pub id: i64,
    pub policy_no: String,
    /// `compulsory` or `commercial`.
    pub product: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub cancelled_from: Option<NaiveDate>,
}

/// The policies that answer an accident: this insurer's compulsory and commercial policies in force that day; the
/// claim is filed under the commercial one when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub compulsory: Option<i64>,
    pub commercial: Option<i64>,
    pub primary: i64,
}

/// Which of `candidates` cover the accident day; refused, with the reason, when none does.
pub fn policies_in_force(candidates: &[PolicyTerm], accident_on: NaiveDate) -> Result<InForce, Problem> {
    let in_force: Vec<&PolicyTerm> = candidates
        .iter()
        .filter(|p| lifecycle::covers(&Period { start: p.start, end: p.end }, p.cancelled_from, accident_on))
        .collect();
    let compulsory = in_force.iter().find(|p| p.product == "compulsory").map(|p| p.id);
    let commercial = in_force.iter().find(|p| p.product == "commercial").map(|p| p.id);
    match commercial.or(compulsory).or(in_force.first().map(|p| p.id)) {
        Some(primary) => Ok(InForce { compulsory, commercial, primary }),
        None => Err(Problem::new("accident_at", "not_in_force", not_in_force_reason(candidates, accident_on))),
    }
}

/// Why none of the vehicle's policies covers the accident day.
fn not_in_force_reason(candidates: &[PolicyTerm], accident_on: NaiveDate) -> String {
    if let Some(cancelled) =
        candidates.iter().find(|p| p.start <= accident_on && accident_on < p.end && p.cancelled_from.is_some())
    {
        let from = cancelled.cancelled_from.map(|d| d.to_string()).unwrap_or_default();
        return format!("policy {} was cancelled from {from}; no policy covers {accident_on}", cancelled.policy_no);
    }
    if let Some(next) = candidates.iter().filter(|p| p.start > accident_on).min_by_key(|p| p.start) {
        return format!("policy {} had not started on {accident_on}: cover starts {}", next.policy_no, next.start);
    }
    if let Some(last) = candidates.iter().filter(|p| p.end <= accident_on).max_by_key(|p| p.end) {
        return format!("policy {} expired before {accident_on}: cover ended {}", last.policy_no, last.end);
    }
    format!("no policy covers {accident_on}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn policy(id: i64, product: &str, start: NaiveDate, cancelled_from: Option<NaiveDate>) -> PolicyTerm {
        PolicyTerm {
            id,
            policy_no: format!("P{id}"),
            product: product.into(),
            start,
            end: start + Duration::days(365),
            cancelled_from,
        }
    }

    fn input(accident_at: DateTime<Utc>) -> ReportInput<'static> {
        ReportInput {
            policy_no: Some(" pc2026x "),
            plate: None,
            accident_at,
            reporter_name: " 陈立 ",
            reporter_phone: "138 0013 8000",
            place: "深圳市南山区",
            description: "追尾",
        }
    }

    #[test]
    fn an_accident_is_judged_by_its_china_day() {
        // 23:30 UTC on 30 November is 07:30 on 1 December in China.
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        let report = check_report(&input(at), at).unwrap();
        assert_eq!(report.accident_on, day(12, 1));
        assert_eq!(report.policy_no.as_deref(), Some("PC2026X"));
        assert_eq!(report.reporter_name, "陈立");
        assert_eq!(report.reporter_phone, "13800138000");
    }

    #[test]
    fn an_accident_in_the_future_is_refused() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap();
        assert!(check_report(&input(now + Duration::minutes(5)), now).is_ok(), "a fast phone clock");
        let problems = check_report(&input(now + Duration::minutes(6)), now).unwrap_err();
        assert_eq!((problems[0].field.as_str(), problems[0].code.as_str()), ("accident_at", "in_future"));
    }

    #[test]
    fn a_report_names_a_policy_or_a_plate() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap();
        let mut bare = input(now);
        bare.policy_no = Some("  ");
        let problems = check_report(&bare, now).unwrap_err();
        assert_eq!(problems[0].field, "policy_no");
        bare.plate = Some("粤B12345");
        assert_eq!(check_report(&bare, now).unwrap().plate.as_deref(), Some("粤B12345"));
    }

    #[test]
    fn the_owner_proves_ownership_with_the_last_six_of_the_plate_or_id() {
        assert!(owner_may_see("b12345", "粤B12345", None));
        assert!(owner_may_see("31002x", "粤A00001", Some("11010519491231002X")));
        assert!(!owner_may_see("B1234", "粤B12345", None), "five characters prove nothing");
        assert!(!owner_may_see("999999", "粤B12345", Some("11010519491231002X")));
    }

    #[test]
    fn look_ups_stop_at_the_limit_per_window() {
        assert!(!lookups_exhausted(19, 20));
        assert!(lookups_exhausted(20, 20));
    }

    #[test]
    fn both_policies_in_force_answer_and_the_commercial_one_is_primary() {
        let policies = [policy(1, "compulsory", day(1, 1), None), policy(2, "commercial", day(1, 1), None)];
        let found = policies_in_force(&policies, day(6, 1)).unwrap();
        assert_eq!(found, InForce { compulsory: Some(1), commercial: Some(2), primary: 2 });
        let compulsory_only = policies_in_force(&policies[..1], day(6, 1)).unwrap();
        assert_eq!(compulsory_only.primary, 1);
    }

    #[test]
    fn no_claim_without_a_policy_in_force_and_the_reason_is_given() {
        let cancelled = [policy(1, "commercial", day(1, 1), Some(day(3, 1)))];
        let problem = policies_in_force(&cancelled, day(3, 1)).unwrap_err();
        assert!(problem.message.contains("cancelled from 2026-03-01"), "{}", problem.message);
        assert!(policies_in_force(&cancelled, day(2, 28)).is_ok(), "the day before the cancellation");
        let future = [policy(1, "commercial", day(7, 1), None)];
        assert!(policies_in_force(&future, day(6, 30)).unwrap_err().message.contains("had not started"));
        let expired = [policy(1, "commercial", day(1, 1) - Duration::days(400), None)];
        assert!(policies_in_force(&expired, day(6, 30)).unwrap_err().message.contains("expired"));
    }
}
