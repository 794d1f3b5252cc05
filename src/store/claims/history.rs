//! The claims underwriting reads: those on a policy (may it be cancelled, and from when?) and a car's claims over a
//! year (which history factors does its renewal carry?).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::claims::Stage;
use crate::domain::claims::settlement::{COMPULSORY_HEADS, LossCategory};
use crate::domain::money::from_fen;
use crate::domain::underwriting::changes::{ClaimsOnPolicy, paid_total_loss};
use crate::domain::underwriting::history::PastClaim;
use crate::error::AppResult;
use entity::{claim_loss_items, claim_payments, claims};

/// What cancelling or dating a change of a policy needs to know of the claims on it.
#[derive(Debug, Clone, Default)]
pub struct ClaimsOfPolicy {
    /// The accident days of every claim not withdrawn.
    pub accident_days: Vec<NaiveDate>,
    pub counts: ClaimsOnPolicy,
    /// A claim paid vehicle damage on a total loss.
    pub paid_total_loss: bool,
}

/// Per claim: own-vehicle damage assessed, third-party deaths, paid from commercial cover, paid in all, and paid
/// on vehicle damage.
#[derive(Debug, Default, Clone, Copy)]
struct ClaimMoney {
    own_vehicle_fen: i64,
    death: bool,
    commercial_paid_fen: i64,
    paid_fen: i64,
    vehicle_damage_paid_fen: i64,
}

async fn money_of(db: &impl ConnectionTrait, claim_ids: &[i64]) -> AppResult<BTreeMap<i64, ClaimMoney>> {
    let mut money: BTreeMap<i64, ClaimMoney> = claim_ids.iter().map(|id| (*id, ClaimMoney::default())).collect();
    for ids in claim_ids.chunks(500) {
        let items = claim_loss_items::Entity::find()
            .filter(claim_loss_items::Column::ClaimId.is_in(ids.to_vec()))
            .filter(claim_loss_items::Column::Removed.eq(false))
            .all(db)
            .await?;
        for item in items {
            let entry = money.entry(item.claim_id).or_default();
            if item.category == LossCategory::OwnVehicle.as_str() {
                entry.own_vehicle_fen += item.assessed_fen;
            }
            entry.death |= item.category == LossCategory::ThirdPartyDeath.as_str();
        }
        let payments =
            claim_payments::Entity::find().filter(claim_payments::Column::ClaimId.is_in(ids.to_vec())).all(db).await?;
        for payment in payments {
            let entry = money.entry(payment.claim_id).or_default();
            entry.paid_fen += payment.amount_fen;
            if !COMPULSORY_HEADS.contains(&payment.coverage.as_str()) {
                entry.commercial_paid_fen += payment.amount_fen;
            }
            if payment.coverage == "vehicle_damage" {
                entry.vehicle_damage_paid_fen += payment.amount_fen;
            }
        }
    }
    Ok(money)
}

/// The claims on a policy (as its first policy or as its compulsory or commercial cover), withdrawn ones left out.
pub async fn on_policy(
    db: &impl ConnectionTrait,
    policy_id: i64,
    vehicle_damage_sum_insured: Option<Decimal>,
) -> AppResult<ClaimsOfPolicy> {
    let rows = claims::Entity::find()
        .filter(
            Condition::any()
                .add(claims::Column::PolicyId.eq(policy_id))
                .add(claims::Column::CompulsoryPolicyId.eq(policy_id))
                .add(claims::Column::CommercialPolicyId.eq(policy_id)),
        )
        .filter(claims::Column::Stage.ne(Stage::Withdrawn.as_str()))
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let money = money_of(db, &ids).await?;
    let mut found = ClaimsOfPolicy::default();
    for claim in &rows {
        found.accident_days.push(claim.accident_on);
        let paid = money.get(&claim.id).copied().unwrap_or_default();
        let open = Stage::parse(&claim.stage).is_some_and(Stage::is_open);
        found.counts.open += usize::from(open);
        found.counts.paid += usize::from(paid.paid_fen > 0);
        found.paid_total_loss |= paid_total_loss(
            from_fen(paid.vehicle_damage_paid_fen),
            from_fen(paid.own_vehicle_fen),
            vehicle_damage_sum_insured,
        );
    }
    Ok(found)
}

/// A car's claims with an accident in `[from, to)`, in accident order, with what pricing needs of each.
pub async fn past_claims(
    db: &impl ConnectionTrait,
    vin: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<PastClaim>> {
    let mut by_vin = past_claims_of_cars(db, &[(vin.to_string(), from, to)]).await?;
    Ok(by_vin.remove(vin).unwrap_or_default())
}

/// Several cars' claims, each with an accident in its own `[from, to)`, by VIN, a few statements for them all.
pub async fn past_claims_of_cars(
    db: &impl ConnectionTrait,
    cars: &[(String, NaiveDate, NaiveDate)],
) -> AppResult<HashMap<String, Vec<PastClaim>>> {
    let mut out: HashMap<String, Vec<PastClaim>> = HashMap::new();
    let windows: HashMap<&str, (NaiveDate, NaiveDate)> =
        cars.iter().map(|(vin, from, to)| (vin.as_str(), (*from, *to))).collect();
    for chunk in cars.chunks(500) {
        let Some(earliest) = chunk.iter().map(|(_, from, _)| *from).min() else { continue };
        let vins: Vec<String> = chunk.iter().map(|(vin, _, _)| vin.clone()).collect();
        let rows: Vec<claims::Model> = claims::Entity::find()
            .filter(claims::Column::Vin.is_in(vins))
            .filter(claims::Column::AccidentOn.gte(earliest))
            .order_by_asc(claims::Column::AccidentAt)
            .all(db)
            .await?
            .into_iter()
            .filter(|claim| {
                windows
                    .get(claim.vin.as_str())
                    .is_some_and(|(from, to)| *from <= claim.accident_on && claim.accident_on < *to)
            })
            .collect();
        let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
        let money = money_of(db, &ids).await?;
        let mut seen = HashSet::new();
        for claim in rows.into_iter().filter(|claim| seen.insert(claim.id)) {
            let paid = money.get(&claim.id).copied().unwrap_or_default();
            let stage = Stage::parse(&claim.stage);
            out.entry(claim.vin.clone()).or_default().push(PastClaim {
                claim_no: claim.claim_no,
                accident_on: claim.accident_on,
                counts: !matches!(stage, Some(Stage::Declined | Stage::Withdrawn)),
                open: stage.is_some_and(Stage::is_open),
                at_fault: claim.liability_share_micros.map(|share| share > 0),
                death: paid.death,
                paid_commercial: from_fen(paid.commercial_paid_fen),
            });
        }
    }
    Ok(out)
}
