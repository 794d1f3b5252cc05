//! Claims domain: the stage machine, service targets, cover at the accident, settlement, authority, payments,
//! reserves, loss items and fraud signals: every rule that decides a claim's money or who may move it.
//!
//! Pure logic only, so the rules can be tested without a web server or database.

pub mod approval;
pub mod cover;
pub mod loss;
pub mod payment;
pub mod report;
pub mod reserve;
pub mod settlement;
pub mod signals;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Reported,
    Registered,
    Surveyed,
    Settled,
    Closed,
    Declined,
    Withdrawn,
}

impl Stage {
    /// Every stage, in lifecycle order, for listings and exhaustive tests.
    pub const ALL: [Stage; 7] = [
        Stage::Reported,
        Stage::Registered,
        Stage::Surveyed,
        Stage::Settled,
        Stage::Closed,
        Stage::Declined,
        Stage::Withdrawn,
    ];

    /// The stored and displayed code; matches the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Reported => "reported",
            Stage::Registered => "registered",
            Stage::Surveyed => "surveyed",
            Stage::Settled => "settled",
            Stage::Closed => "closed",
            Stage::Declined => "declined",
            Stage::Withdrawn => "withdrawn",
        }
    }

    /// Reads a stage code back (exact, lower case); None for anything else.
    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == text)
    }

    /// Open claims still need work and count in the adjusters' queues.
    pub fn is_open(self) -> bool {
        matches!(self, Stage::Reported | Stage::Registered | Stage::Surveyed | Stage::Settled)
    }

    /// The file may be changed (loss items, documents, reserves) only in these stages.
    pub fn is_editable(self) -> bool {
        matches!(self, Stage::Reported | Stage::Registered | Stage::Surveyed | Stage::Settled)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step that moves a claim from one stage to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Register,
    Survey,
    Settle,
    Close,
    Decline,
    Withdraw,
    Reopen,
}

impl Transition {
    /// Every transition, in the order `allowed` lists them.
    pub const ALL: [Transition; 7] = [
        Transition::Register,
        Transition::Survey,
        Transition::Settle,
        Transition::Close,
        Transition::Decline,
        Transition::Withdraw,
        Transition::Reopen,
    ];

    /// The stored and displayed code; matches the serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Register => "register",
            Transition::Survey => "survey",
            Transition::Settle => "settle",
            Transition::Close => "close",
            Transition::Decline => "decline",
            Transition::Withdraw => "withdraw",
            Transition::Reopen => "reopen",
        }
    }

    /// Reads a transition code back (exact, lower case); None for anything else.
    pub fn parse(text: &str) -> Option<Transition> {
        Transition::ALL.into_iter().find(|transition| transition.as_str() == text)
    }

    /// Whether a note is required (decline needs its reason; reopen needs why).
    pub fn needs_note(self) -> bool {
        matches!(self, Transition::Decline | Transition::Reopen)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the owner's status page says is awaited, as a message key under `lookup.awaiting`: the stage, except that a
/// settled claim with part of its money paid says so, and a closed claim says the money is paid only when its last
/// settlement was paid rather than withdrawn.
pub fn owner_message(stage: Stage, paid_any: bool, settlement_withdrawn: bool) -> &'static str {
    match stage {
        Stage::Settled if paid_any => "settled_part_paid",
        Stage::Closed if settlement_withdrawn => "closed_unpaid",
        other => other.as_str(),
    }
}

/// The note a step needs: declining gives its reason, reopening says why; no note is longer than 2,000 characters.
pub fn check_step_note(transition: Transition, note: &str) -> Vec<crate::domain::problem::Problem> {
    use crate::domain::problem::Problem;
    let mut problems = Vec::new();
    let note = note.trim();
    if transition.needs_note() && note.is_empty() {
        let message = match transition {
            Transition::Decline => "give the reason for declining",
            _ => "say why the claim is reopened",
        };
        problems.push(Problem::new("note", "required", message));
    }
    if note.chars().count() > 2000 {
        problems.push(Problem::new("note", "too_long", "up to 2000 characters"));
    }
    problems
}

/// Work that the stage must allow (loss items, reserves, payments): refused, naming the stages that allow it.
pub fn require_stage(stage: Stage, allowed: &[Stage], what: &str) -> Result<(), crate::domain::problem::Problem> {
    if allowed.contains(&stage) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
    let message = format!("{what} only while the claim is {}; it is {}", names.join(" or "), stage.as_str());
    Err(crate::domain::problem::Problem::new("stage", "wrong_stage", message))
}

/// Who may handle or survey a claim: an active claims adjuster.
pub fn may_handle_claims(role: Option<crate::domain::auth::Role>, disabled: bool) -> bool {
    role == Some(crate::domain::auth::Role::ClaimsAdjuster) && !disabled
}

/// The single table of legal moves, so `next_stage` and `allowed` cannot disagree.
fn target(from: Stage, transition: Transition) -> Option<Stage> {
    use Stage as S;
    use Transition as T;
    match (from, transition) {
        (S::Reported, T::Register) => Some(S::Registered),
        (S::Registered, T::Survey) => Some(S::Surveyed),
        (S::Surveyed, T::Settle) => Some(S::Settled),
        (S::Reported | S::Registered | S::Surveyed, T::Decline) => Some(S::Declined),
        (S::Reported | S::Registered | S::Surveyed, T::Withdraw) => Some(S::Withdrawn),
        (S::Settled, T::Close) => Some(S::Closed),
        // Back to settling: the reopened file needs a fresh reserve and settlement.
        (S::Closed, T::Reopen) => Some(S::Surveyed),
        _ => None,
    }
}

/// Legal moves:
///   reported   --register--> registered ; reported --decline--> declined ; reported --withdraw--> withdrawn
///   registered --survey-->   surveyed   ; registered --decline/withdraw--> declined/withdrawn
///   surveyed   --settle-->   settled    ; surveyed --decline/withdraw--> declined/withdrawn
///   settled    --close-->    closed
///   closed     --reopen-->   surveyed   (back to settling, with a new reserve)
/// Declined and withdrawn are final.
pub fn next_stage(from: Stage, transition: Transition) -> Result<Stage, IllegalTransition> {
    target(from, transition).ok_or_else(|| IllegalTransition { from, attempted: transition, allowed: allowed(from) })
}

/// The transitions legal from a stage, in the order above.
pub fn allowed(from: Stage) -> Vec<Transition> {
    Transition::ALL.into_iter().filter(|transition| target(from, *transition).is_some()).collect()
}

/// A refused move, carrying what would have been allowed so the caller can tell the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a claim that is {from} cannot {attempted}; {}", allowed_phrase(.allowed))]
pub struct IllegalTransition {
    pub from: Stage,
    pub attempted: Transition,
    pub allowed: Vec<Transition>,
}

/// The tail of the refusal message: the legal moves, or that there are none.
fn allowed_phrase(allowed: &[Transition]) -> String {
    if allowed.is_empty() {
        "it is final".to_string()
    } else {
        let names: Vec<&str> = allowed.iter().map(|transition| transition.as_str()).collect();
        format!("allowed next: {}", names.join(", "))
    }
}

/// How long a claim may wait in a stage before it is overdue (DOMAIN defaults: register within 24 h of report,
/// survey within 48 h of registration, settle within 5 days (120 h) of survey). Configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceTargets {
    pub register_hours: i64,
    pub survey_hours: i64,
    pub settle_hours: i64,
}

impl Default for ServiceTargets {
    fn default() -> Self {
        ServiceTargets { register_hours: 24, survey_hours: 48, settle_hours: 120 }
    }
}

impl ServiceTargets {
    /// The target for the time spent waiting in `stage` (reported → register_hours, registered → survey_hours,
    /// surveyed → settle_hours); None for other stages.
    ///
    /// Also None when the configured hours are too large to represent, so a bad setting never panics.
    pub fn for_stage(&self, stage: Stage) -> Option<chrono::Duration> {
        let hours = match stage {
            Stage::Reported => self.register_hours,
            Stage::Registered => self.survey_hours,
            Stage::Surveyed => self.settle_hours,
            Stage::Settled | Stage::Closed | Stage::Declined | Stage::Withdrawn => return None,
        };
        chrono::Duration::try_hours(hours)
    }

    /// Whether a claim that entered `stage` at `since` is overdue at `now`.
    ///
    /// Reaching the target exactly still counts as on time; only time strictly past it is overdue.
    pub fn is_overdue(&self, stage: Stage, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        match self.for_stage(stage) {
            Some(target) => now.signed_duration_since(since) > target,
            None => false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    /// The expected table, written out independently of `target`.
    fn expected(from: Stage, transition: Transition) -> Option<Stage> {
        let legal: &[(Stage, Transition, Stage)] = &[
            (Stage::Reported, Transition::Register, Stage::Registered),
            (Stage::Reported, Transition::Decline, Stage::Declined),
            (Stage::Reported, Transition::Withdraw, Stage::Withdrawn),
            (Stage::Registered, Transition::Survey, Stage::Surveyed),
            (Stage::Registered, Transition::Decline, Stage::Declined),
            (Stage::Registered, Transition::Withdraw, Stage::Withdrawn),
            (Stage::Surveyed, Transition::Settle, Stage::Settled),
            (Stage::Surveyed, Transition::Decline, Stage::Declined),
            (Stage::Surveyed, Transition::Withdraw, Stage::Withdrawn),
            (Stage::Settled, Transition::Close, Stage::Closed),
            (Stage::Closed, Transition::Reopen, Stage::Surveyed),
        ];
        legal.iter().find(|(f, t, _)| *f == from && *t == transition).map(|(_, _, to)| *to)
    }

    fn expected_allowed(from: Stage) -> Vec<Transition> {
        use Transition as T;
        match from {
            Stage::Reported => vec![T::Register, T::Decline, T::Withdraw],
            Stage::Registered => vec![T::Survey, T::Decline, T::Withdraw],
            Stage::Surveyed => vec![T::Settle, T::Decline, T::Withdraw],
            Stage::Settled => vec![T::Close],
            Stage::Closed => vec![T::Reopen],
            Stage::Declined | Stage::Withdrawn => vec![],
        }
    }

    #[test]
    fn every_stage_transition_pair() {
        let mut legal_count = 0;
        for from in Stage::ALL {
            assert_eq!(allowed(from), expected_allowed(from), "allowed from {from}");
            for transition in Transition::ALL {
                match (next_stage(from, transition), expected(from, transition)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to, want, "{from} --{transition}-->");
                        legal_count += 1;
                    }
                    (Err(error), None) => {
                        assert_eq!(error.from, from);
                        assert_eq!(error.attempted, transition);
                        assert_eq!(error.allowed, expected_allowed(from), "{from} --{transition}-->");
                    }
                    (got, want) => panic!("{from} --{transition}-->: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(legal_count, 11);
    }

    #[test]
    fn illegal_message_lists_allowed_moves() {
        let error = next_stage(Stage::Reported, Transition::Settle).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a claim that is reported cannot settle; allowed next: register, decline, withdraw"
        );
    }

    #[test]
    fn final_stage_message_says_final() {
        let error = next_stage(Stage::Declined, Transition::Reopen).unwrap_err();
        assert_eq!(error.to_string(), "a claim that is declined cannot reopen; it is final");
        let error = next_stage(Stage::Withdrawn, Transition::Register).unwrap_err();
        assert_eq!(error.to_string(), "a claim that is withdrawn cannot register; it is final");
    }

    #[test]
    fn codes_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
            assert_eq!(stage.to_string(), stage.as_str());
            assert_eq!(serde_json::to_string(&stage).unwrap(), format!("\"{}\"", stage.as_str()));
        }
        for transition in Transition::ALL {
            assert_eq!(Transition::parse(transition.as_str()), Some(transition));
            assert_eq!(transition.to_string(), transition.as_str());
            let json = serde_json::to_string(&transition).unwrap();
            assert_eq!(serde_json::from_str::<Transition>(&json).unwrap(), transition);
        }
        assert_eq!(Stage::parse("Reported"), None);
        assert_eq!(Transition::parse("cancel"), None);
    }

    #[test]
    fn open_editable_and_notes() {
        let open: Vec<Stage> = Stage::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, vec![Stage::Reported, Stage::Registered, Stage::Surveyed, Stage::Settled]);
        let editable: Vec<Stage> = Stage::ALL.into_iter().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, open);
        let noted: Vec<Transition> = Transition::ALL.into_iter().filter(|t| t.needs_note()).collect();
        assert_eq!(noted, vec![Transition::Decline, Transition::Reopen]);
    }

    #[test]
    fn service_target_boundaries() {
        let targets = ServiceTargets::default();
        let since = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        for (stage, hours) in [(Stage::Reported, 24), (Stage::Registered, 48), (Stage::Surveyed, 120)] {
            assert_eq!(targets.for_stage(stage), Some(Duration::hours(hours)));
            let at_target = since + Duration::hours(hours);
            assert!(!targets.is_overdue(stage, since, at_target), "{stage} exactly at target");
            assert!(targets.is_overdue(stage, since, at_target + Duration::seconds(1)), "{stage} one second late");
        }
    }

    #[test]
    fn non_waiting_stages_never_overdue() {
        let targets = ServiceTargets { register_hours: 1, survey_hours: 1, settle_hours: 1 };
        let since = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for stage in [Stage::Settled, Stage::Closed, Stage::Declined, Stage::Withdrawn] {
            assert_eq!(targets.for_stage(stage), None);
            assert!(!targets.is_overdue(stage, since, now), "{stage}");
        }
    }

    #[test]
    fn the_owner_is_told_the_claim_is_paid_only_when_it_is() {
        assert_eq!(owner_message(Stage::Settled, false, false), "settled");
        assert_eq!(owner_message(Stage::Settled, true, false), "settled_part_paid");
        assert_eq!(owner_message(Stage::Closed, true, false), "closed");
        assert_eq!(owner_message(Stage::Closed, true, true), "closed_unpaid");
        assert_eq!(owner_message(Stage::Surveyed, false, false), "surveyed");
    }

    #[test]
    fn declining_and_reopening_need_a_note() {
        assert_eq!(check_step_note(Transition::Decline, " ")[0].code, "required");
        assert_eq!(check_step_note(Transition::Reopen, "")[0].code, "required");
        assert!(check_step_note(Transition::Close, "").is_empty());
        assert_eq!(check_step_note(Transition::Close, &"长".repeat(2001))[0].code, "too_long");
    }

    #[test]
    fn payments_are_made_only_while_the_claim_is_settled() {
        assert!(require_stage(Stage::Settled, &[Stage::Settled], "payments are made").is_ok());
        let problem = require_stage(Stage::Closed, &[Stage::Settled], "payments are made").unwrap_err();
        assert_eq!(problem.code, "wrong_stage");
        assert_eq!(problem.message, "payments are made only while the claim is settled; it is closed");
    }

    #[test]
    fn only_an_active_adjuster_handles_claims() {
        use crate::domain::auth::Role;
        assert!(may_handle_claims(Some(Role::ClaimsAdjuster), false));
        assert!(!may_handle_claims(Some(Role::ClaimsAdjuster), true));
        assert!(!may_handle_claims(Some(Role::SalesAssistant), false));
        assert!(!may_handle_claims(None, false));
    }

    #[test]
    fn absurd_target_does_not_panic() {
        let targets = ServiceTargets { register_hours: i64::MAX, ..ServiceTargets::default() };
        let since = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(!targets.is_overdue(Stage::Reported, since, since + Duration::days(3650)));
    }
}
