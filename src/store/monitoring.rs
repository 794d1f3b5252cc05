//! Monitoring: loads a dealer's facts (policies with their premium segments,
//! written premium, commission, claims with their stages, reserves, payments,
//! repair referrals) in bulk, for the pure figures of `domain::monitoring`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::claims::{ServiceTargets, Stage};
use crate::domain::money::{from_fen, rate_from_micros};
use crate::domain::monitoring::{
    ClaimFact, CommissionEntry, Facts, Payment, PolicyFact, PremiumEntry, Referral, ReserveMovement,
};
use crate::error::AppResult;
use entity::{
    claim_payments, claim_reserve_movements, claim_transitions, claims, commission_ledger, policies, policy_versions,
    repair_referrals,
};

use super::claims::china;

fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&china()).date_naive()
}

/// Every fact of the given dealers (all when `None`), as stored now.
pub async fn facts(
    db: &impl ConnectionTrait,
    dealer_ids: Option<&[i64]>,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> AppResult<Facts> {
    let dealer_filter = |column: policies::Column| match dealer_ids {
        Some(ids) => column.is_in(ids.to_vec()),
        None => column.is_not_null(),
    };
    let policy_rows = policies::Entity::find().filter(dealer_filter(policies::Column::DealerId)).all(db).await?;
    let policy_ids: Vec<i64> = policy_rows.iter().map(|p| p.id).collect();

    let mut versions: BTreeMap<i64, Vec<policy_versions::Model>> = BTreeMap::new();
    for chunk in policy_ids.chunks(1000) {
        for v in policy_versions::Entity::find()
            .filter(policy_versions::Column::PolicyId.is_in(chunk.to_vec()))
            .order_by_asc(policy_versions::Column::Seq)
            .all(db)
            .await?
        {
            versions.entry(v.policy_id).or_default().push(v);
        }
    }
    let renewed: HashSet<i64> = policies::Entity::find()
        .select_only()
        .column(policies::Column::RenewalOfPolicyId)
        .filter(policies::Column::RenewalOfPolicyId.is_not_null())
        .into_tuple::<Option<i64>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();

    let mut facts = Facts::default();
    for p in &policy_rows {
        let mut segments = Vec::new();
        for v in versions.get(&p.id).map(Vec::as_slice).unwrap_or_default() {
            let dealer_id = p.dealer_id;
            match v.kind.as_str() {
                "issue" => {
                    segments.push((p.start_date, from_fen(v.premium_after_fen)));
                    facts.premiums.push(PremiumEntry {
                        dealer_id,
                        policy_id: p.id,
                        booked_on: local_day(v.created_at),
                        amount: from_fen(v.adjustment_fen),
                    });
                }
                "endorse" => {
                    segments.push((v.effective_date.max(p.start_date), from_fen(v.premium_after_fen)));
                    facts.premiums.push(PremiumEntry {
                        dealer_id,
                        policy_id: p.id,
                        booked_on: local_day(v.created_at),
                        amount: from_fen(v.adjustment_fen),
                    });
                }
                // A cancellation ends cover (cancelled_from) and refunds: written premium falls by the refund.
                _ => facts.premiums.push(PremiumEntry {
                    dealer_id,
                    policy_id: p.id,
                    booked_on: local_day(v.created_at),
                    amount: from_fen(v.adjustment_fen),
                }),
            }
        }
        if segments.is_empty() {
            segments.push((p.start_date, from_fen(p.premium_fen)));
        }
        facts.policies.push(PolicyFact {
            policy_id: p.id,
            vehicle_id: p.quote_id,
            dealer_id: p.dealer_id,
            product: p.product.clone(),
            business_type: p.business_type.clone(),
            issued_on: local_day(p.issued_at),
            start: p.start_date,
            end: p.end_date,
            cancelled_from: p.cancelled_from,
            segments,
            pricing_coefficient: rate_from_micros(p.pricing_coefficient_micros),
            renewed_by_policy: renewed.contains(&p.id),
        });
    }

    let ledger_filter = match dealer_ids {
        Some(ids) => commission_ledger::Column::DealerId.is_in(ids.to_vec()),
        None => commission_ledger::Column::DealerId.is_not_null(),
    };
    let ledger: Vec<(i64, NaiveDate, i64)> = commission_ledger::Entity::find()
        .select_only()
        .column(commission_ledger::Column::DealerId)
        .column(commission_ledger::Column::BookedOn)
        .column(commission_ledger::Column::AmountFen)
        .filter(ledger_filter)
        .into_tuple()
        .all(db)
        .await?;
    facts.commissions = ledger
        .into_iter()
        .map(|(dealer_id, booked_on, amount)| CommissionEntry { dealer_id, booked_on, amount: from_fen(amount) })
        .collect();

    let claim_filter = match dealer_ids {
        Some(ids) => claims::Column::DealerId.is_in(ids.to_vec()),
        None => claims::Column::DealerId.is_not_null(),
    };
    let claim_rows = claims::Entity::find().filter(claim_filter).all(db).await?;
    let claim_ids: Vec<i64> = claim_rows.iter().map(|c| c.id).collect();
    let mut stages: HashMap<i64, Vec<(String, DateTime<Utc>)>> = HashMap::new();
    for chunk in claim_ids.chunks(1000) {
        let rows: Vec<(i64, String, DateTime<Utc>)> = claim_transitions::Entity::find()
            .select_only()
            .column(claim_transitions::Column::ClaimId)
            .column(claim_transitions::Column::ToStage)
            .column(claim_transitions::Column::At)
            .filter(claim_transitions::Column::ClaimId.is_in(chunk.to_vec()))
            .order_by_asc(claim_transitions::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        for (claim_id, to, at) in rows {
            let list = stages.entry(claim_id).or_default();
            // Staying in a stage (a payment, an update) is not entering it.
            if list.last().is_none_or(|(last, _)| *last != to) {
                list.push((to, at));
            }
        }
        let movements: Vec<(i64, DateTime<Utc>, i64)> = claim_reserve_movements::Entity::find()
            .select_only()
            .column(claim_reserve_movements::Column::ClaimId)
            .column(claim_reserve_movements::Column::CreatedAt)
            .column(claim_reserve_movements::Column::AmountFen)
            .filter(claim_reserve_movements::Column::ClaimId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        facts.reserves.extend(movements.into_iter().map(|(claim_id, at, amount)| ReserveMovement {
            claim_id,
            at,
            amount: from_fen(amount),
        }));
        let paid: Vec<(i64, i64, NaiveDate, i64)> = claim_payments::Entity::find()
            .select_only()
            .column(claim_payments::Column::ClaimId)
            .column(claim_payments::Column::DealerId)
            .column(claim_payments::Column::PaidOn)
            .column(claim_payments::Column::AmountFen)
            .filter(claim_payments::Column::ClaimId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        facts.payments.extend(paid.into_iter().map(|(claim_id, dealer_id, paid_on, amount)| Payment {
            claim_id,
            dealer_id,
            paid_on,
            amount: from_fen(amount),
        }));
    }
    for c in &claim_rows {
        let stage = Stage::parse(&c.stage).unwrap_or(Stage::Reported);
        let list = stages.remove(&c.id).unwrap_or_default();
        let closed_at =
            list.iter().rev().find(|(s, _)| s == "closed").map(|(_, at)| *at).filter(|_| stage == Stage::Closed);
        facts.claims.push(ClaimFact {
            claim_id: c.id,
            dealer_id: c.dealer_id,
            accident_on: c.accident_on,
            reported_at: c.reported_at,
            stage: c.stage.clone(),
            closed_at,
            stages: list,
            overdue: targets.is_overdue(stage, c.stage_since, at),
        });
    }
    let referral_filter = match dealer_ids {
        Some(ids) => repair_referrals::Column::DealerId.is_in(ids.to_vec()),
        None => repair_referrals::Column::DealerId.is_not_null(),
    };
    let referrals: Vec<(i64, NaiveDate, i64)> = repair_referrals::Entity::find()
        .select_only()
        .column(repair_referrals::Column::DealerId)
        .column(repair_referrals::Column::ReferredOn)
        .column(repair_referrals::Column::ValueFen)
        .filter(referral_filter)
        .into_tuple()
        .all(db)
        .await?;
    facts.referrals = referrals
        .into_iter()
        .map(|(dealer_id, referred_on, value)| Referral { dealer_id, referred_on, value: from_fen(value) })
        .collect();
    Ok(facts)
}
