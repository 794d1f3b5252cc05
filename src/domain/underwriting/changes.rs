//! When an endorsement or a cancellation may take effect, who may cancel, and what a cancellation refunds.
//!
//! The store's staff change a policy from the next 00:00 China time (or a later day they choose): cover runs in
//! whole days, so a change made at 11:00 leaves the morning's accident covered and never refunds a day that has
//! begun. An earlier day needs an underwriter and a reason, is never before the policy start, and never takes cover
//! away from an accident that happened before it.

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Product;
use super::lifecycle::{self, Period};
use crate::domain::auth::Role;
use crate::domain::problem::Problem;

/// What is being changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Endorse,
    Cancel,
}

impl ChangeKind {
    fn noun(self) -> &'static str {
        match self {
            ChangeKind::Endorse => "the endorsement",
            ChangeKind::Cancel => "the cancellation",
        }
    }
}

/// Who may date a change before the next 00:00: an underwriter, giving a reason.
pub fn may_backdate(role: Option<Role>) -> bool {
    role == Some(Role::Underwriter)
}

/// The first day a change made on `today` may take effect without an underwriter: the next 00:00, or the start of
/// a policy that has not begun yet.
pub fn earliest_without_underwriter(today: NaiveDate, period: &Period) -> NaiveDate {
    today.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX).max(period.start)
}

/// A request to date a change.
#[derive(Debug, Clone, Copy)]
pub struct Dating<'a> {
    pub kind: ChangeKind,
    /// The day asked for; the earliest allowed when left out.
    pub requested: Option<NaiveDate>,
    /// Why an earlier day is needed; required for one.
    pub backdate_reason: Option<&'a str>,
    pub role: Option<Role>,
    /// The China day the change is made.
    pub today: NaiveDate,
}

/// The day a change takes effect, and whether an underwriter dated it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub date: NaiveDate,
    pub backdated: bool,
}

/// The day a change takes effect from 00:00, or why it may not.
///
/// `accident_days` are the days of the accidents reported on the policy (withdrawn reports left out): a change from a
/// day on or before one of them would take or give cover for it after the fact. `last_change` is the day the
/// policy's latest endorsement takes effect: no change goes in before it, so every premium is charged and refunded
/// for the days it applied to.
pub fn effective_date(
    dating: Dating,
    period: &Period,
    accident_days: &[NaiveDate],
    last_change: Option<NaiveDate>,
) -> Result<Effective, Problem> {
    let earliest = earliest_without_underwriter(dating.today, period);
    let date = dating.requested.unwrap_or(earliest.max(last_change.unwrap_or(earliest)));
    let field = "effective_date";
    if date >= period.end {
        let message = format!("the policy ends on {}; {} must take effect before then", period.end, dating.kind.noun());
        return Err(Problem::new(field, "outside_period", message));
    }
    if let Some(last) = last_change.filter(|last| date < *last) {
        let message =
            format!("an endorsement takes effect on {last}; {} may take effect from then", dating.kind.noun());
        return Err(Problem::new(field, "before_last_change", message));
    }
    if date >= earliest {
        return Ok(Effective { date, backdated: false });
    }
    if !may_backdate(dating.role) {
        let message = format!(
            "{} takes effect from {earliest} 00:00 at the earliest; an earlier day needs an underwriter",
            dating.kind.noun()
        );
        return Err(Problem::new(field, "backdating_needs_underwriter", message));
    }
    if dating.backdate_reason.is_none_or(|reason| reason.trim().is_empty()) {
        let message = format!("say why {} must take effect before {earliest}", dating.kind.noun());
        return Err(Problem::new("backdate_reason", "required", message));
    }
    if date < period.start {
        let message = format!("the policy starts on {}; nothing takes effect before it", period.start);
        return Err(Problem::new(field, "before_start", message));
    }
    if let Some(accident) = accident_days.iter().filter(|day| **day >= date).max() {
        let message = format!(
            "an accident on {accident} was reported on this policy; {} may take effect from {} at the earliest",
            dating.kind.noun(),
            accident.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX)
        );
        return Err(Problem::new(field, "before_accident", message));
    }
    Ok(Effective { date, backdated: true })
}

/// The statutory reasons a compulsory policy may be cancelled for (交强险退保).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutoryReason {
    /// Deregistered, as when scrapped or exported (注销登记).
    Deregistered,
    /// Laid up and not used on the road (办理停驶).
    LaidUp,
    /// Lost, as certified by the police (被盗抢).
    Lost,
    /// Insured twice (重复投保).
    InsuredTwice,
}

impl StatutoryReason {
    pub const ALL: [StatutoryReason; 4] =
        [StatutoryReason::Deregistered, StatutoryReason::LaidUp, StatutoryReason::Lost, StatutoryReason::InsuredTwice];

    pub fn as_str(self) -> &'static str {
        match self {
            StatutoryReason::Deregistered => "deregistered",
            StatutoryReason::LaidUp => "laid_up",
            StatutoryReason::Lost => "lost",
            StatutoryReason::InsuredTwice => "insured_twice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

/// The claims on a policy, as far as cancelling it is concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClaimsOnPolicy {
    /// Claims not closed, declined or withdrawn.
    pub open: usize,
    /// Claims with a payment.
    pub paid: usize,
}

/// Who may cancel a policy and for what: a compulsory policy only for a statutory reason, and a policy with an
/// open or paid claim only by an underwriter. Answers the statutory reason to keep: a compulsory policy's only.
pub fn check_cancellation(
    product: Product,
    statutory_reason: Option<StatutoryReason>,
    role: Option<Role>,
    claims: ClaimsOnPolicy,
) -> Result<Option<StatutoryReason>, Problem> {
    if product == Product::Compulsory && statutory_reason.is_none() {
        let message = "a compulsory policy is cancelled only for a statutory reason: deregistered, laid up, lost or insured twice";
        return Err(Problem::new("statutory_reason", "required", message));
    }
    if (claims.open > 0 || claims.paid > 0) && role != Some(Role::Underwriter) {
        let message = format!(
            "the policy has {} open and {} paid claim(s); only an underwriter may cancel it",
            claims.open, claims.paid
        );
        return Err(Problem::new("policy", "has_claims", message));
    }
    Ok(statutory_reason.filter(|_| product == Product::Compulsory))
}

/// A total loss (全损): the assessed damage to the insured car reaches its vehicle-damage sum insured.
pub fn is_total_loss(own_vehicle_assessed: Decimal, vehicle_damage_sum_insured: Option<Decimal>) -> bool {
    vehicle_damage_sum_insured.is_some_and(|sum| sum > Decimal::ZERO && own_vehicle_assessed >= sum)
}

/// A claim paid vehicle damage on a total loss: its cover is used up.
pub fn paid_total_loss(
    vehicle_damage_paid: Decimal,
    own_vehicle_assessed: Decimal,
    vehicle_damage_sum_insured: Option<Decimal>,
) -> bool {
    vehicle_damage_paid > Decimal::ZERO && is_total_loss(own_vehicle_assessed, vehicle_damage_sum_insured)
}

/// What a cancellation from `effective` refunds: the premium of the days not yet covered, pro rata by day; after a
/// paid total loss the vehicle-damage premium is kept whole, as its cover has been used up.
pub fn cancellation_refund(
    premium: Decimal,
    vehicle_damage_premium: Decimal,
    period: &Period,
    effective: NaiveDate,
    paid_total_loss: bool,
) -> Decimal {
    let refundable = if paid_total_loss { premium - vehicle_damage_premium.min(premium) } else { premium };
    lifecycle::refund_on_cancel(refundable, period, effective)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn year() -> Period {
        Period { start: day("2026-03-01"), end: day("2027-03-01") }
    }

    fn dating(requested: Option<&str>, role: Role, reason: Option<&'static str>) -> Dating<'static> {
        Dating {
            kind: ChangeKind::Cancel,
            requested: requested.map(day),
            backdate_reason: reason,
            role: Some(role),
            today: day("2026-12-07"),
        }
    }

    #[test]
    fn a_store_change_takes_effect_from_the_next_midnight() {
        let effective = effective_date(dating(None, Role::SalesAssistant, None), &year(), &[], None).unwrap();
        assert_eq!(effective, Effective { date: day("2026-12-08"), backdated: false });
    }

    #[test]
    fn a_store_may_choose_a_later_day() {
        let effective =
            effective_date(dating(Some("2026-12-20"), Role::SalesAssistant, None), &year(), &[], None).unwrap();
        assert_eq!(effective.date, day("2026-12-20"));
    }

    #[test]
    fn the_store_cannot_back_date_not_even_to_today() {
        for requested in ["2026-12-07", "2026-03-01", "2000-01-01"] {
            let problem =
                effective_date(dating(Some(requested), Role::SalesAssistant, Some("客户要求")), &year(), &[], None)
                    .unwrap_err();
            assert_eq!(problem.code, "backdating_needs_underwriter", "{requested}");
        }
        let problem =
            effective_date(dating(Some("2026-12-01"), Role::DealerStaff, None), &year(), &[], None).unwrap_err();
        assert_eq!(problem.code, "backdating_needs_underwriter");
        let problem =
            effective_date(dating(Some("2026-12-01"), Role::Administrator, Some("x")), &year(), &[], None).unwrap_err();
        assert_eq!(problem.code, "backdating_needs_underwriter");
    }

    #[test]
    fn a_change_made_at_eleven_leaves_the_morning_accident_covered() {
        let effective =
            effective_date(dating(None, Role::SalesAssistant, None), &year(), &[day("2026-12-07")], None).unwrap();
        assert!(lifecycle::covers(&year(), Some(effective.date), day("2026-12-07")));
    }

    #[test]
    fn an_underwriter_back_dates_only_with_a_reason() {
        let problem =
            effective_date(dating(Some("2026-11-01"), Role::Underwriter, None), &year(), &[], None).unwrap_err();
        assert_eq!((problem.field.as_str(), problem.code.as_str()), ("backdate_reason", "required"));
        let problem =
            effective_date(dating(Some("2026-11-01"), Role::Underwriter, Some("  ")), &year(), &[], None).unwrap_err();
        assert_eq!(problem.code, "required");
        let effective = effective_date(
            dating(Some("2026-11-01"), Role::Underwriter, Some("车辆11月1日已报废")),
            &year(),
            &[],
            None,
        )
        .unwrap();
        assert_eq!(effective, Effective { date: day("2026-11-01"), backdated: true });
    }

    #[test]
    fn nothing_takes_effect_before_the_policy_start() {
        let problem =
            effective_date(dating(Some("2000-01-01"), Role::Underwriter, Some("录入错误")), &year(), &[], None)
                .unwrap_err();
        assert_eq!(problem.code, "before_start");
    }

    #[test]
    fn a_back_dated_change_never_removes_cover_from_an_earlier_accident() {
        let accidents = [day("2026-10-15"), day("2026-06-01")];
        let problem =
            effective_date(dating(Some("2026-10-15"), Role::Underwriter, Some("x")), &year(), &accidents, None)
                .unwrap_err();
        assert_eq!(problem.code, "before_accident");
        assert!(problem.message.contains("2026-10-16"), "{}", problem.message);
        let effective =
            effective_date(dating(Some("2026-10-16"), Role::Underwriter, Some("x")), &year(), &accidents, None)
                .unwrap();
        assert!(lifecycle::covers(&year(), Some(effective.date), day("2026-10-15")));
    }

    #[test]
    fn no_change_goes_in_before_the_last_endorsement() {
        let endorsed_from = Some(day("2026-12-20"));
        let problem =
            effective_date(dating(Some("2026-12-10"), Role::SalesAssistant, None), &year(), &[], endorsed_from)
                .unwrap_err();
        assert_eq!(problem.code, "before_last_change");
        let by_default = effective_date(dating(None, Role::SalesAssistant, None), &year(), &[], endorsed_from).unwrap();
        assert_eq!(by_default.date, day("2026-12-20"), "left out, the change goes in with the last endorsement");
        let problem =
            effective_date(dating(Some("2026-12-10"), Role::Underwriter, Some("x")), &year(), &[], endorsed_from)
                .unwrap_err();
        assert_eq!(problem.code, "before_last_change");
        let effective =
            effective_date(dating(Some("2026-12-20"), Role::SalesAssistant, None), &year(), &[], endorsed_from)
                .unwrap();
        assert_eq!(effective.date, day("2026-12-20"));
    }

    #[test]
    fn a_pending_policy_is_changed_from_its_start() {
        let pending = Period { start: day("2026-12-20"), end: day("2027-12-20") };
        let effective = effective_date(dating(None, Role::SalesAssistant, None), &pending, &[], None).unwrap();
        assert_eq!(effective.date, day("2026-12-20"));
    }

    #[test]
    fn no_change_takes_effect_on_or_after_the_end() {
        let problem =
            effective_date(dating(Some("2027-03-01"), Role::Underwriter, None), &year(), &[], None).unwrap_err();
        assert_eq!(problem.code, "outside_period");
        let ending = Period { start: day("2025-12-08"), end: day("2026-12-08") };
        let problem = effective_date(dating(None, Role::SalesAssistant, None), &ending, &[], None).unwrap_err();
        assert_eq!(problem.code, "outside_period");
    }

    #[test]
    fn compulsory_cover_is_cancelled_only_for_a_statutory_reason() {
        let none = ClaimsOnPolicy::default();
        let problem = check_cancellation(Product::Compulsory, None, Some(Role::Underwriter), none).unwrap_err();
        assert_eq!((problem.field.as_str(), problem.code.as_str()), ("statutory_reason", "required"));
        for reason in StatutoryReason::ALL {
            let kept = check_cancellation(Product::Compulsory, Some(reason), Some(Role::SalesAssistant), none);
            assert_eq!(kept, Ok(Some(reason)));
            assert_eq!(StatutoryReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(check_cancellation(Product::Commercial, None, Some(Role::SalesAssistant), none), Ok(None));
        let commercial =
            check_cancellation(Product::Commercial, Some(StatutoryReason::Lost), Some(Role::SalesAssistant), none);
        assert_eq!(commercial, Ok(None), "a commercial policy keeps no statutory reason");
    }

    #[test]
    fn a_policy_with_an_open_or_paid_claim_is_cancelled_only_by_an_underwriter() {
        for claims in [ClaimsOnPolicy { open: 1, paid: 0 }, ClaimsOnPolicy { open: 0, paid: 1 }] {
            for role in [Role::SalesAssistant, Role::DealerStaff, Role::Administrator] {
                let problem = check_cancellation(Product::Commercial, None, Some(role), claims).unwrap_err();
                assert_eq!(problem.code, "has_claims");
            }
            assert!(check_cancellation(Product::Commercial, None, Some(Role::Underwriter), claims).is_ok());
        }
    }

    #[test]
    fn a_total_loss_is_damage_reaching_the_sum_insured() {
        let sum = Some(Decimal::new(150_000, 0));
        assert!(is_total_loss(Decimal::new(150_000, 0), sum));
        assert!(!is_total_loss(Decimal::new(149_999, 0), sum));
        assert!(!is_total_loss(Decimal::new(200_000, 0), None));
    }

    #[test]
    fn a_total_loss_counts_once_vehicle_damage_is_paid_on_it() {
        let sum = Some(Decimal::new(150_000, 0));
        assert!(!paid_total_loss(Decimal::ZERO, Decimal::new(160_000, 0), sum), "assessed, not yet paid");
        assert!(paid_total_loss(Decimal::new(10_000, 0), Decimal::new(160_000, 0), sum));
        assert!(!paid_total_loss(Decimal::new(10_000, 0), Decimal::new(16_000, 0), sum), "a repair");
    }

    #[test]
    fn after_a_paid_total_loss_no_vehicle_damage_premium_is_refunded() {
        let (premium, vehicle_damage) = (Decimal::new(5_000, 0), Decimal::new(3_650, 0));
        let half_way = day("2026-08-31");
        let ordinary = cancellation_refund(premium, vehicle_damage, &year(), half_way, false);
        let after_total_loss = cancellation_refund(premium, vehicle_damage, &year(), half_way, true);
        assert_eq!(ordinary, lifecycle::refund_on_cancel(premium, &year(), half_way));
        assert_eq!(after_total_loss, lifecycle::refund_on_cancel(Decimal::new(1_350, 0), &year(), half_way));
    }

    mod invariants {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            /// Endorse to a new annual premium (fen), asked for `offset` days from today, by a store role or not.
            Endorse { premium_fen: i64, offset: i64, store: bool },
            /// Cancel, asked for `offset` days from today, with or without claims, after a total loss or not.
            Cancel { offset: i64, store: bool, claims: bool, total_loss: bool },
            /// A day passes.
            Wait { days: i64 },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (1i64..2_000_000, -60i64..60, any::<bool>()).prop_map(|(premium_fen, offset, store)| Step::Endorse {
                    premium_fen,
                    offset,
                    store
                }),
                (-60i64..60, any::<bool>(), any::<bool>(), any::<bool>())
                    .prop_map(|(offset, store, claims, total_loss)| Step::Cancel { offset, store, claims, total_loss }),
                (1i64..40).prop_map(|days| Step::Wait { days }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            /// Over any sequence of endorsements and a cancellation by store staff or an underwriter: the store
            /// never dates a change before the next 00:00, nothing is dated before the start or on or before an
            /// accident, and no refund exceeds the premium of the days not yet covered nor what was charged.
            #[test]
            fn no_refund_exceeds_the_premium_of_days_not_yet_covered(
                start_offset in -300i64..30,
                premium_fen in 1i64..2_000_000,
                accident in proptest::option::of(0i64..300),
                steps in proptest::collection::vec(step(), 1..25),
            ) {
                let mut today = day("2026-12-07");
                let start = today + chrono::Duration::days(start_offset);
                let period = Period { start, end: Period::one_year_from(start).end };
                let accidents: Vec<NaiveDate> =
                    accident.map(|d| start + chrono::Duration::days(d)).filter(|d| *d <= today).into_iter().collect();
                let mut premium = Decimal::new(premium_fen, 2);
                let mut charged = premium;
                let mut last_change: Option<NaiveDate> = None;
                for step in steps {
                    match step {
                        Step::Wait { days } => today += chrono::Duration::days(days),
                        Step::Endorse { premium_fen, offset, store } => {
                            let role = if store { Role::SalesAssistant } else { Role::Underwriter };
                            let dating = Dating { kind: ChangeKind::Endorse, requested: Some(today + chrono::Duration::days(offset)),
                                backdate_reason: Some("审核"), role: Some(role), today };
                            if let Ok(effective) = effective_date(dating, &period, &accidents, last_change) {
                                check_dating(effective.date, store, today, &period, &accidents)?;
                                prop_assert!(last_change.is_none_or(|last| effective.date >= last));
                                last_change = Some(effective.date);
                                let new_premium = Decimal::new(premium_fen, 2);
                                charged += lifecycle::endorsement_adjustment(premium, new_premium, &period, effective.date);
                                premium = new_premium;
                            }
                        }
                        Step::Cancel { offset, store, claims, total_loss } => {
                            let role = if store { Role::SalesAssistant } else { Role::Underwriter };
                            let counts = ClaimsOnPolicy { open: usize::from(claims), paid: 0 };
                            if check_cancellation(Product::Commercial, None, Some(role), counts).is_err() {
                                prop_assert!(store && claims);
                                continue;
                            }
                            let dating = Dating { kind: ChangeKind::Cancel, requested: Some(today + chrono::Duration::days(offset)),
                                backdate_reason: Some("审核"), role: Some(role), today };
                            let Ok(effective) = effective_date(dating, &period, &accidents, last_change) else { continue };
                            check_dating(effective.date, store, today, &period, &accidents)?;
                            let vehicle_damage = premium * Decimal::new(6, 1);
                            let refund = cancellation_refund(premium, vehicle_damage, &period, effective.date, total_loss);
                            let not_yet_covered = lifecycle::refund_on_cancel(premium, &period, effective.date);
                            prop_assert!(refund >= Decimal::ZERO && refund <= not_yet_covered);
                            // Rounding per endorsement can put a fen apiece between the two.
                            prop_assert!(refund <= charged.max(Decimal::ZERO) + Decimal::new(25, 2), "{refund} > {charged}");
                            if store {
                                let from_tomorrow = lifecycle::refund_on_cancel(premium, &period, today + chrono::Duration::days(1));
                                prop_assert!(refund <= from_tomorrow, "the store refunded a day that had begun");
                            }
                            break;
                        }
                    }
                }
            }
        }

        fn check_dating(
            date: NaiveDate,
            store: bool,
            today: NaiveDate,
            period: &Period,
            accidents: &[NaiveDate],
        ) -> Result<(), TestCaseError> {
            prop_assert!(date < period.end);
            if store {
                prop_assert!(date > today, "the store dated a change {date} on {today}");
            } else {
                prop_assert!(date >= period.start || date > today);
                prop_assert!(accidents.iter().all(|a| date > *a || date > today));
            }
            Ok(())
        }
    }
}
