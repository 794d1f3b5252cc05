//! Demo claims for the demo policies: about 17% of vehicles a year have one,
//! severities from a skewed distribution, and each claim walked through the
//! stages with durations spread around the service targets, up to `now`:
//! so the queue holds claims in every stage, some overdue, some declined,
//! withdrawn or reopened. Settlements use the real calculator.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::domain::claims::settlement::{
    self, Assessed, CompulsoryHeads, CompulsoryTerms, Cover, CoverageTerms, LossCategory, SeatTerms, Settlement,
};
use crate::domain::claims::{Stage, Transition, approval};
use crate::domain::money::round_to_fen;
use crate::store::claims::{COMPULSORY_HEADS, china};

/// A vehicle's policies as claim generation needs them.
#[derive(Debug, Clone)]
pub struct ClaimablePolicy {
    pub dealer_id: i64,
    pub dealer_has_repair_shop: bool,
    pub dealer_name: String,
    pub vin: String,
    pub plate: String,
    pub owner_name: String,
    pub owner_phone: String,
    pub seats: i32,
    pub compulsory: Option<PolicyTerm>,
    pub commercial: Option<PolicyTerm>,
    /// Commercial coverages: code and sum insured or limit (per seat for driver and passenger).
    pub coverages: Vec<(String, Decimal)>,
}

#[derive(Debug, Clone, Copy)]
pub struct PolicyTerm {
    pub id: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub cancelled_from: Option<NaiveDate>,
}

impl PolicyTerm {
    /// The last day with cover, as of `today`.
    fn last_covered_day(&self, today: NaiveDate) -> NaiveDate {
        let end = self.cancelled_from.unwrap_or(self.end).min(self.end);
        (end - Duration::days(1)).min(today)
    }
}

/// An adjuster and their authority in fen.
#[derive(Debug, Clone, Copy)]
pub struct DemoAdjuster {
    pub id: i64,
    pub authority_fen: i64,
}

#[derive(Debug, Clone)]
pub struct DemoTransition {
    pub transition: &'static str,
    pub from: Option<Stage>,
    pub to: Stage,
    pub note: String,
    pub actor: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct DemoMovement {
    pub coverage: String,
    pub amount: Decimal,
    pub reason: &'static str,
    pub actor: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct DemoLossItem {
    pub category: LossCategory,
    pub kind: &'static str,
    pub description: &'static str,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub assessed: Decimal,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct DemoSettlement {
    pub approved: bool,
    pub calculation: Settlement,
    pub proposed_by: i64,
    pub proposed_at: DateTime<Utc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct DemoPayment {
    /// Index into the claim's settlements.
    pub settlement: usize,
    pub coverage: String,
    pub payee: String,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub actor: i64,
    pub at: DateTime<Utc>,
}

/// One generated claim with its whole file.
#[derive(Debug, Clone)]
pub struct DemoClaim {
    pub dealer_id: i64,
    pub policy_id: i64,
    pub compulsory_policy_id: Option<i64>,
    pub commercial_policy_id: Option<i64>,
    pub vin: String,
    pub plate: String,
    pub accident_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
    pub stage: Stage,
    pub stage_since: DateTime<Utc>,
    pub handler_id: Option<i64>,
    pub surveyor_id: Option<i64>,
    pub repair_shop: Option<String>,
    pub repair_at_dealer: bool,
    pub liability_share: Option<Decimal>,
    pub decline_reason: Option<String>,
    pub reopen_count: i32,
    pub created_by: i64,
    pub transitions: Vec<DemoTransition>,
    pub movements: Vec<DemoMovement>,
    pub loss_items: Vec<DemoLossItem>,
    pub settlements: Vec<DemoSettlement>,
    pub payments: Vec<DemoPayment>,
    /// Value and day of a repair referral to the dealer's shop.
    pub referral: Option<(Decimal, NaiveDate)>,
}

const PLACES: [&str; 8] =
    ["城市快速路入口", "小区地下车库", "十字路口", "商场停车场", "高速公路服务区", "学校门口", "加油站出口", "环岛"];
const STORIES: [&str; 6] = [
    "跟车过近追尾前车",
    "倒车时碰到立柱",
    "变道时与相邻车道车辆剐蹭",
    "停放时被不明车辆剐蹭",
    "路口转弯与非机动车碰撞",
    "雨天路滑撞上护栏",
];
const PARTS: [(&str, i64, i64); 8] = [
    ("前保险杠", 800, 4_500),
    ("后保险杠", 700, 4_000),
    ("前大灯总成", 1_200, 9_000),
    ("左前翼子板", 600, 3_500),
    ("右后车门", 1_500, 7_000),
    ("发动机盖", 1_500, 8_000),
    ("后视镜总成", 400, 2_500),
    ("中网", 300, 2_000),
];
const DECLINE_REASONS: [&str; 4] =
    ["酒后驾驶，属责任免除", "事故发生时驾驶证已过期", "损失与事故经过不符", "非保险期间内发生的损失"];

fn at_hours(start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
    start + Duration::seconds((hours * 3600.0) as i64)
}

/// Hours until the next step: mostly well inside the target, with a tail past it.
fn step_hours(rng: &mut ChaCha8Rng, target_hours: f64) -> f64 {
    let u: f64 = rng.random();
    if u < 0.8 {
        target_hours * (0.1 + 0.8 * rng.random::<f64>())
    } else {
        target_hours * (0.9 + 1.6 * rng.random::<f64>())
    }
}

fn money(yuan: f64) -> Decimal {
    round_to_fen(Decimal::from_f64_retain(yuan).unwrap_or_default().round_dp(0))
}

/// A severity in yuan: log-normal-like, median about 10,000, a long tail.
fn severity(rng: &mut ChaCha8Rng) -> f64 {
    let normal: f64 = (0..6).map(|_| rng.random::<f64>()).sum::<f64>() - 3.0;
    (10_000.0 * (normal * 0.9).exp()).clamp(500.0, 200_000.0)
}

/// Generates claims for the vehicles, deterministic for the same seed and `now`.
pub fn generate(
    seed: u64,
    now: DateTime<Utc>,
    vehicles: &[ClaimablePolicy],
    adjusters: &[DemoAdjuster],
    compulsory_limits: (CompulsoryHeads, CompulsoryHeads),
    claims_per_vehicle_year: f64,
) -> Vec<DemoClaim> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC1A1_u64);
    let mut claims = Vec::new();
    if adjusters.is_empty() {
        return claims;
    }
    let lead = adjusters.iter().max_by_key(|a| a.authority_fen).copied().unwrap_or(adjusters[0]);
    let today = now.with_timezone(&china()).date_naive();
    let mut damage_paid: HashMap<i64, Decimal> = HashMap::new();
    for vehicle in vehicles {
        let Some(term) = vehicle.commercial.or(vehicle.compulsory) else { continue };
        let last = term.last_covered_day(today);
        let days = (last - term.start).num_days();
        if days <= 0 {
            continue;
        }
        // Dealers differ: some stores' customers claim far more often (0.6× to 2.2× the average),
        // so the portfolio has dealers above the target loss ratio to find.
        let dealer_factor = 0.6 + ((vehicle.dealer_id * 37).rem_euclid(17)) as f64 / 10.0;
        let expected = claims_per_vehicle_year / 1.4 * dealer_factor * days as f64 / 365.0;
        let mut count = usize::from(rng.random::<f64>() < expected);
        if count == 1 && rng.random::<f64>() < 0.08 {
            count = 2;
        }
        for _ in 0..count {
            // A few accidents are recent, so that the queue's first stages are never empty.
            let recent = last >= today && term.start < today - Duration::days(2) && rng.random_bool(0.05);
            let accident_at = if recent {
                at_hours(now, -rng.random_range(1.0..40.0))
            } else {
                let day = term.start + Duration::days(rng.random_range(0..days));
                let hour = rng.random_range(7.0..22.0);
                day.and_hms_opt(0, 0, 0)
                    .and_then(|t| t.and_local_timezone(china()).single())
                    .map(|t| at_hours(t.with_timezone(&Utc), hour))
                    .unwrap_or(now)
            };
            if accident_at >= now {
                continue;
            }
            let reported_at = at_hours(accident_at, rng.random_range(0.3..20.0)).min(now);
            let handler = *adjusters.choose(&mut rng).unwrap_or(&lead);
            let claim = walk(
                &mut rng,
                now,
                vehicle,
                accident_at,
                reported_at,
                handler,
                lead,
                &compulsory_limits,
                &mut damage_paid,
            );
            claims.push(claim);
        }
    }
    claims
}

#[allow(clippy::too_many_arguments)]
fn walk(
    rng: &mut ChaCha8Rng,
    now: DateTime<Utc>,
    vehicle: &ClaimablePolicy,
    accident_at: DateTime<Utc>,
    reported_at: DateTime<Utc>,
    handler: DemoAdjuster,
    lead: DemoAdjuster,
    limits: &(CompulsoryHeads, CompulsoryHeads),
    damage_paid: &mut HashMap<i64, Decimal>,
) -> DemoClaim {
    let seller_like = handler.id;
    let mut claim = DemoClaim {
        dealer_id: vehicle.dealer_id,
        policy_id: vehicle.commercial.or(vehicle.compulsory).map(|t| t.id).unwrap_or_default(),
        compulsory_policy_id: vehicle.compulsory.map(|t| t.id),
        commercial_policy_id: vehicle.commercial.map(|t| t.id),
        vin: vehicle.vin.clone(),
        plate: vehicle.plate.clone(),
        accident_at,
        reported_at,
        reporter_name: vehicle.owner_name.clone(),
        reporter_phone: vehicle.owner_phone.clone(),
        place: PLACES.choose(rng).copied().unwrap_or("十字路口").to_string(),
        description: STORIES.choose(rng).copied().unwrap_or("追尾").to_string(),
        stage: Stage::Reported,
        stage_since: reported_at,
        handler_id: None,
        surveyor_id: None,
        repair_shop: None,
        repair_at_dealer: false,
        liability_share: None,
        decline_reason: None,
        reopen_count: 0,
        created_by: seller_like,
        transitions: vec![DemoTransition {
            transition: "report",
            from: None,
            to: Stage::Reported,
            note: String::new(),
            actor: seller_like,
            at: reported_at,
        }],
        movements: Vec::new(),
        loss_items: Vec::new(),
        settlements: Vec::new(),
        payments: Vec::new(),
        referral: None,
    };
    // The losses this accident caused, decided up front.
    let has_damage_cover = vehicle.coverages.iter().any(|(c, _)| c == "vehicle_damage");
    let own = if has_damage_cover || rng.random_bool(0.3) { severity(rng) } else { 0.0 };
    let third_property = if rng.random_bool(0.3) || own == 0.0 { severity(rng) * 0.8 } else { 0.0 };
    let third_medical = if rng.random_bool(0.05) { severity(rng) * 3.0 } else { 0.0 };
    let outcome: f64 = rng.random();
    let (declines, withdraws) = (outcome < 0.06, (0.06..0.10).contains(&outcome));

    // Register.
    let mut t = at_hours(reported_at, step_hours(rng, 24.0));
    if t > now {
        return claim;
    }
    if withdraws && rng.random_bool(0.5) {
        return finish_side(claim, Transition::Withdraw, "客户自行处理，申请撤案", handler.id, t);
    }
    let mut reserves: Vec<(String, Decimal)> = Vec::new();
    if own > 0.0 && has_damage_cover {
        reserves.push(("vehicle_damage".into(), money(own * rng.random_range(0.8..1.4))));
    }
    if third_property > 0.0 {
        if vehicle.compulsory.is_some() {
            reserves.push((COMPULSORY_HEADS[2].into(), money(third_property.min(2_000.0))));
        }
        if third_property > 2_000.0 && vehicle.coverages.iter().any(|(c, _)| c == "third_party") {
            reserves.push(("third_party".into(), money((third_property - 2_000.0) * 1.2)));
        }
    }
    if third_medical > 0.0 && vehicle.compulsory.is_some() {
        reserves.push((COMPULSORY_HEADS[1].into(), money(third_medical.min(18_000.0))));
    }
    if reserves.is_empty() {
        reserves.push(("vehicle_damage".into(), money(own.max(500.0))));
    }
    for (coverage, amount) in &reserves {
        claim.movements.push(DemoMovement {
            coverage: coverage.clone(),
            amount: *amount,
            reason: "initial",
            actor: handler.id,
            at: t,
        });
    }
    claim.handler_id = Some(handler.id);
    claim.surveyor_id = Some(handler.id);
    step(&mut claim, Transition::Register, "", handler.id, t);

    // Survey.
    t = at_hours(t, step_hours(rng, 48.0));
    if t > now {
        return claim;
    }
    if declines {
        let reason = DECLINE_REASONS.choose(rng).copied().unwrap_or("非保险责任");
        return finish_side(claim, Transition::Decline, reason, handler.id, t);
    }
    if withdraws {
        return finish_side(claim, Transition::Withdraw, "客户撤回报案", handler.id, t);
    }
    let mut own_total = Decimal::ZERO;
    if own > 0.0 {
        let parts = rng.random_range(1..=3);
        let mut left = own;
        for i in 0..parts {
            let (name, low, high) = *PARTS.choose(rng).unwrap_or(&PARTS[0]);
            let share = if i + 1 == parts { left } else { left * rng.random_range(0.3..0.7) };
            left -= share;
            let price = money(share.clamp(low as f64 * 0.5, high as f64 * 3.0) * 0.7);
            let labour = money(share * 0.3);
            for (kind, description, amount) in [("part", name, price), ("labour", "钣金喷漆工时", labour)] {
                if amount > Decimal::ZERO {
                    claim.loss_items.push(DemoLossItem {
                        category: LossCategory::OwnVehicle,
                        kind,
                        description,
                        quantity: Decimal::ONE,
                        unit_price: amount,
                        assessed: amount,
                        at: t,
                    });
                    own_total += amount;
                }
            }
        }
    }
    for (category, amount, description) in [
        (LossCategory::ThirdPartyProperty, third_property, "三者车辆修复"),
        (LossCategory::ThirdPartyMedical, third_medical, "三者医疗费用"),
    ] {
        if amount > 0.0 {
            let value = money(amount);
            claim.loss_items.push(DemoLossItem {
                category,
                kind: "other",
                description,
                quantity: Decimal::ONE,
                unit_price: value,
                assessed: value,
                at: t,
            });
        }
    }
    if own_total > Decimal::ZERO && vehicle.dealer_has_repair_shop && rng.random_bool(0.6) {
        claim.repair_at_dealer = true;
        claim.repair_shop = Some(vehicle.dealer_name.clone());
        claim.referral = Some((own_total, t.with_timezone(&china()).date_naive()));
    } else if own_total > Decimal::ZERO {
        claim.repair_shop = Some("社会修理厂".into());
    }
    step(&mut claim, Transition::Survey, "", handler.id, t);

    // Settle, then pay and close; a few closed claims are reopened and settled again.
    let share = *[Decimal::ONE, Decimal::ONE, Decimal::ONE, Decimal::new(7, 1), Decimal::new(5, 1), Decimal::ZERO]
        .choose(rng)
        .unwrap_or(&Decimal::ONE);
    claim.liability_share = Some(share);
    loop {
        t = at_hours(t, step_hours(rng, 120.0));
        if t > now {
            return claim;
        }
        let cover = cover_for(vehicle, limits, &claim, damage_paid);
        let mut by_category: HashMap<LossCategory, Decimal> = HashMap::new();
        for item in &claim.loss_items {
            *by_category.entry(item.category).or_default() += item.assessed;
        }
        let mut assessed: Vec<Assessed> = by_category
            .into_iter()
            .map(|(category, amount)| Assessed { category, person: String::new(), amount })
            .collect();
        assessed.sort_by_key(|a| a.category);
        let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
        for payment in &claim.payments {
            *paid.entry(payment.coverage.clone()).or_default() += payment.amount;
        }
        let Ok(calculation) = settlement::calculate(&assessed, share, &cover, &paid) else { return claim };
        let within = approval::settles_alone(calculation.owed, Decimal::new(handler.authority_fen, 2));
        let mut settled_at = t;
        let (approved_by, approved_at) = if within {
            (Some(handler.id), Some(t))
        } else {
            settled_at = at_hours(t, rng.random_range(2.0..30.0));
            if settled_at > now {
                claim.settlements.push(DemoSettlement {
                    approved: false,
                    calculation,
                    proposed_by: handler.id,
                    proposed_at: t,
                    approved_by: None,
                    approved_at: None,
                });
                claim.transitions.push(DemoTransition {
                    transition: "propose_settlement",
                    from: Some(Stage::Surveyed),
                    to: Stage::Surveyed,
                    note: String::new(),
                    actor: handler.id,
                    at: t,
                });
                return claim;
            }
            (Some(lead.id), Some(settled_at))
        };
        let index = claim.settlements.len();
        claim.settlements.push(DemoSettlement {
            approved: true,
            calculation: calculation.clone(),
            proposed_by: handler.id,
            proposed_at: t,
            approved_by,
            approved_at,
        });
        // Reserves become what is still owed.
        let payable: Vec<(String, Decimal)> =
            calculation.dues.iter().map(|due| (due.coverage.clone(), due.payable)).collect();
        let current = reserves_now(&claim);
        for (coverage, have) in &current {
            let want = payable.iter().find(|(c, _)| c == coverage).map(|(_, a)| *a).unwrap_or_default();
            if want != *have {
                claim.movements.push(DemoMovement {
                    coverage: coverage.clone(),
                    amount: want - have,
                    reason: "settle",
                    actor: handler.id,
                    at: settled_at,
                });
            }
        }
        for (coverage, want) in &payable {
            if !current.iter().any(|(c, _)| c == coverage) && *want != Decimal::ZERO {
                claim.movements.push(DemoMovement {
                    coverage: coverage.clone(),
                    amount: *want,
                    reason: "settle",
                    actor: handler.id,
                    at: settled_at,
                });
            }
        }
        let transition = if within { "settle" } else { "approve_settlement" };
        let actor = if within { handler.id } else { lead.id };
        claim.transitions.push(DemoTransition {
            transition,
            from: Some(Stage::Surveyed),
            to: Stage::Settled,
            note: String::new(),
            actor,
            at: settled_at,
        });
        claim.stage = Stage::Settled;
        claim.stage_since = settled_at;
        // Pay each coverage once.
        t = at_hours(settled_at, rng.random_range(2.0..72.0));
        if t > now {
            return claim;
        }
        for (coverage, amount) in payable.iter().filter(|(_, a)| *a > Decimal::ZERO) {
            let payee = if claim.repair_at_dealer && coverage == "vehicle_damage" {
                vehicle.dealer_name.clone()
            } else {
                vehicle.owner_name.clone()
            };
            claim.payments.push(DemoPayment {
                settlement: index,
                coverage: coverage.clone(),
                payee,
                amount: *amount,
                paid_on: t.with_timezone(&china()).date_naive(),
                actor: handler.id,
                at: t,
            });
            claim.movements.push(DemoMovement {
                coverage: coverage.clone(),
                amount: -*amount,
                reason: "payment",
                actor: handler.id,
                at: t,
            });
            if coverage == "vehicle_damage"
                && let Some(policy) = claim.commercial_policy_id
            {
                *damage_paid.entry(policy).or_default() += *amount;
            }
            claim.transitions.push(DemoTransition {
                transition: "pay",
                from: Some(Stage::Settled),
                to: Stage::Settled,
                note: String::new(),
                actor: handler.id,
                at: t,
            });
        }
        // Close.
        t = at_hours(t, rng.random_range(1.0..48.0));
        if t > now {
            return claim;
        }
        release(&mut claim, handler.id, t);
        step(&mut claim, Transition::Close, "", handler.id, t);
        // Reopen a few: hidden damage found later.
        if claim.reopen_count > 0 || !rng.random_bool(0.03) {
            return claim;
        }
        t = at_hours(t, rng.random_range(24.0 * 5.0..24.0 * 60.0));
        if t > now {
            return claim;
        }
        let extra = money(severity(rng) * 0.3);
        let coverage = if has_damage_cover { "vehicle_damage" } else { COMPULSORY_HEADS[2] };
        claim.movements.push(DemoMovement {
            coverage: coverage.into(),
            amount: extra,
            reason: "reopen",
            actor: handler.id,
            at: t,
        });
        claim.reopen_count += 1;
        step(&mut claim, Transition::Reopen, "修理中发现隐损", handler.id, t);
        claim.loss_items.push(DemoLossItem {
            category: LossCategory::OwnVehicle,
            kind: "labour",
            description: "隐损修复",
            quantity: Decimal::ONE,
            unit_price: extra,
            assessed: extra,
            at: t,
        });
    }
}

fn reserves_now(claim: &DemoClaim) -> Vec<(String, Decimal)> {
    let mut by: Vec<(String, Decimal)> = Vec::new();
    for m in &claim.movements {
        match by.iter_mut().find(|(c, _)| c == &m.coverage) {
            Some((_, amount)) => *amount += m.amount,
            None => by.push((m.coverage.clone(), m.amount)),
        }
    }
    by
}

fn release(claim: &mut DemoClaim, actor: i64, at: DateTime<Utc>) {
    for (coverage, amount) in reserves_now(claim) {
        if amount != Decimal::ZERO {
            claim.movements.push(DemoMovement { coverage, amount: -amount, reason: "release", actor, at });
        }
    }
}

fn step(claim: &mut DemoClaim, transition: Transition, note: &str, actor: i64, at: DateTime<Utc>) {
    let Ok(to) = crate::domain::claims::next_stage(claim.stage, transition) else { return };
    claim.transitions.push(DemoTransition {
        transition: transition.as_str(),
        from: Some(claim.stage),
        to,
        note: note.to_string(),
        actor,
        at,
    });
    claim.stage = to;
    claim.stage_since = at;
}

fn finish_side(mut claim: DemoClaim, transition: Transition, note: &str, actor: i64, at: DateTime<Utc>) -> DemoClaim {
    release(&mut claim, actor, at);
    if transition == Transition::Decline {
        claim.decline_reason = Some(note.to_string());
    }
    step(&mut claim, transition, note, actor, at);
    claim
}

/// The cover as the service builds it (see `store::claims::settlement::cover_at_accident`): demo policies are never
/// endorsed, so their coverages today are those at the accident.
fn cover_for(
    vehicle: &ClaimablePolicy,
    limits: &(CompulsoryHeads, CompulsoryHeads),
    claim: &DemoClaim,
    damage_paid: &HashMap<i64, Decimal>,
) -> Cover {
    let zero = Decimal::new(0, 2);
    let mut cover = Cover::compulsory_only(CompulsoryTerms {
        at_fault: limits.0,
        not_at_fault: limits.1,
        held_here: vehicle.compulsory.is_some(),
    });
    let paid_here: Decimal =
        claim.payments.iter().filter(|p| p.coverage == "vehicle_damage").map(|p| p.amount).sum::<Decimal>();
    for (code, limit) in &vehicle.coverages {
        match code.as_str() {
            "vehicle_damage" => {
                let policy_paid = claim.commercial_policy_id.and_then(|p| damage_paid.get(&p).copied()).unwrap_or(zero);
                cover.vehicle_damage = Some(CoverageTerms {
                    limit: *limit,
                    deductible: zero,
                    paid_on_other_claims: (policy_paid - paid_here).max(zero),
                });
            }
            "third_party" => {
                cover.third_party = Some(CoverageTerms { limit: *limit, deductible: zero, paid_on_other_claims: zero })
            }
            "driver" => cover.driver = Some(SeatTerms { per_seat: *limit, seats: 1, deductible: zero }),
            "passenger" => {
                cover.passenger = Some(SeatTerms {
                    per_seat: *limit,
                    seats: u32::try_from((vehicle.seats - 1).max(1)).unwrap_or(1),
                    deductible: zero,
                })
            }
            _ => {}
        }
    }
    cover
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vehicles(n: usize) -> Vec<ClaimablePolicy> {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        (0..n)
            .map(|i| ClaimablePolicy {
                dealer_id: 1 + (i % 3) as i64,
                dealer_has_repair_shop: i % 2 == 0,
                dealer_name: "测试4S店".into(),
                vin: format!("VIN{i:014}"),
                plate: format!("粤B{i:05}"),
                owner_name: "陈立".into(),
                owner_phone: "13800138000".into(),
                seats: 5,
                compulsory: Some(PolicyTerm {
                    id: 2 * i as i64 + 1,
                    start,
                    end: start + Duration::days(365),
                    cancelled_from: None,
                }),
                commercial: Some(PolicyTerm {
                    id: 2 * i as i64 + 2,
                    start,
                    end: start + Duration::days(365),
                    cancelled_from: None,
                }),
                coverages: vec![
                    ("vehicle_damage".into(), Decimal::from(150_000)),
                    ("third_party".into(), Decimal::from(1_000_000)),
                ],
            })
            .collect()
    }

    fn limits() -> (CompulsoryHeads, CompulsoryHeads) {
        (
            CompulsoryHeads {
                death_disability: Decimal::from(180_000),
                medical: Decimal::from(18_000),
                property: Decimal::from(2_000),
            },
            CompulsoryHeads {
                death_disability: Decimal::from(18_000),
                medical: Decimal::from(1_800),
                property: Decimal::from(100),
            },
        )
    }

    fn now() -> DateTime<Utc> {
        "2026-11-20T04:00:00Z".parse().expect("time")
    }

    #[test]
    fn claims_reach_every_stage_and_stay_consistent() {
        let adjusters =
            [DemoAdjuster { id: 1, authority_fen: 1_000_000 }, DemoAdjuster { id: 2, authority_fen: 20_000_000 }];
        let claims = generate(7, now(), &vehicles(4_000), &adjusters, limits(), 0.17);
        let rate = claims.len() as f64 / 4_000.0;
        assert!((0.10..=0.25).contains(&rate), "claims per vehicle-year {rate}");
        for stage in Stage::ALL {
            assert!(claims.iter().any(|c| c.stage == stage), "some claim is {stage}");
        }
        assert!(claims.iter().any(|c| c.reopen_count > 0), "some are reopened");
        for claim in &claims {
            let reserve: Decimal = claim.movements.iter().map(|m| m.amount).sum();
            if !claim.stage.is_open() {
                assert_eq!(reserve, Decimal::ZERO, "a closed file holds no reserve");
            }
            assert!(reserve >= Decimal::ZERO);
            // Pay once: what the claim paid under a coverage never exceeds what its last settlement owes there.
            if let Some(last) = claim.settlements.iter().rev().find(|s| s.approved) {
                for coverage in claim.payments.iter().map(|p| p.coverage.as_str()) {
                    let paid: Decimal =
                        claim.payments.iter().filter(|p| p.coverage == coverage).map(|p| p.amount).sum();
                    assert!(paid <= last.calculation.owed_under(coverage), "paid {paid} under {coverage}");
                }
            }
            assert!(claim.transitions.windows(2).all(|w| w[0].at <= w[1].at), "the timeline runs forward");
            assert!(claim.stage_since <= now());
        }
        let again = generate(7, now(), &vehicles(4_000), &adjusters, limits(), 0.17);
        assert_eq!(again.len(), claims.len(), "deterministic by seed");
    }
}
