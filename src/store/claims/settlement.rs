//! Settling a claim: the cover at the accident, the settlement, its approval, payments and withdrawal. Each write
//! loads what the rules in `domain::claims` need, asks them, and saves what they decided.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::claims::cover::{self as cover_rules, CoverChange, CoverLine};
use crate::domain::claims::settlement::{
    self, Assessed, CompulsoryHeads, CompulsoryTerms, CoverageTerms, LaterCover, LossCategory, SeatTerms,
};
use crate::domain::claims::{self as flow, Stage, Transition, approval, payment, reserve};
use crate::domain::clock;
use crate::domain::money::{from_fen, rate_to_micros, to_fen};
use crate::domain::monitoring::Rollup;
use crate::error::{AppError, AppResult, FieldError};
use entity::{claim_payments, claim_settlements, claims, policies, policy_coverages, policy_versions, quotes, users};

use super::super::audit::Actor;
use super::super::now;
use super::{
    bump, fen, finish, for_change, illegal, live_loss_items, move_reserves, move_reserves_at, paid_by_coverage,
    require_stage, reserve_by_coverage,
};

/// A settlement proposal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleRequest {
    pub version: i32,
    /// The insured's share of liability, 0 to 1.
    #[schema(value_type = String)]
    pub liability_share: Decimal,
    /// Deductible per commercial coverage code, taken once per accident; 0 when left out.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub deductibles: BTreeMap<String, Decimal>,
    #[serde(default)]
    pub note: String,
}

/// Decimal amounts per coverage from fen.
fn amounts(fen_by_coverage: BTreeMap<String, i64>) -> BTreeMap<String, Decimal> {
    fen_by_coverage.into_iter().map(|(coverage, amount)| (coverage, from_fen(amount))).collect()
}

/// Movements in fen for storage.
fn in_fen(moves: Vec<(String, Decimal)>) -> AppResult<Vec<(String, i64)>> {
    moves.into_iter().map(|(coverage, amount)| Ok((coverage, fen(amount)?))).collect()
}

/// The claim's live loss items as the settlement reads them (it sums them per category and person, in decimals).
async fn assessed_losses(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<Vec<Assessed>> {
    Ok(live_loss_items(tx, claim_id)
        .await?
        .into_iter()
        .filter_map(|item| {
            let category = LossCategory::parse(&item.category)?;
            Some(Assessed { category, person: item.person, amount: from_fen(item.assessed_fen) })
        })
        .collect())
}

/// Works out what the claim owes and is still to pay. Within the adjuster's authority (judged on the claim's whole
/// owed amount) the settlement is approved at once (surveyed → settled); above it, it waits for an approver.
pub async fn settle(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &crate::domain::auth::Scope,
    id: i64,
    request: &SettleRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    let to = flow::next_stage(stage, Transition::Settle).map_err(illegal)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let assessed = assessed_losses(tx, id).await?;
    let errors = settlement::check_request(request.liability_share, &request.deductibles, assessed.len());
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let share_micros = rate_to_micros(request.liability_share).map_err(|e| AppError::Internal(e.into()))?;
    let cover = cover_at_accident(tx, &row, &request.deductibles).await?;
    let paid = amounts(paid_by_coverage(tx, id).await?);
    let calculation =
        settlement::calculate(&assessed, request.liability_share, &cover, &paid).map_err(AppError::Validation)?;
    let authority = authority_of(tx, actor_id).await?;
    let within = approval::settles_alone(calculation.owed, authority);
    // A new proposal replaces one still waiting.
    supersede(tx, id, "pending_approval").await?;
    if within {
        supersede(tx, id, "approved").await?;
    }
    let at = now();
    let inserted = claim_settlements::Entity::insert(claim_settlements::ActiveModel {
        claim_id: Set(id),
        status: Set(if within { "approved" } else { "pending_approval" }.into()),
        liability_share_micros: Set(share_micros),
        total_fen: Set(fen(calculation.owed)?),
        calculation_json: Set(serde_json::to_string(&calculation).map_err(anyhow::Error::from)?),
        proposed_by: Set(actor_id),
        proposed_at: Set(at),
        approved_by: Set(within.then_some(actor_id)),
        approved_at: Set(within.then_some(at)),
        note: Set(request.note.trim().to_string()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let details = serde_json::json!({
        "settlement_id": inserted.last_insert_id, "owed": calculation.owed, "payable": calculation.total,
        "within_authority": within, "authority": authority,
    });
    let share = vec![(claims::Column::LiabilityShareMicros, Expr::value(Some(share_micros)))];
    if within {
        let mut totals = bump(tx, &row, Some(to), share).await?;
        totals += reserves_to_what_is_owed(tx, &row, &calculation, actor_id).await?;
        finish(tx, actor, &row, "settle", stage, to, request.note.trim(), details, totals).await
    } else {
        let totals = bump(tx, &row, None, share).await?;
        finish(tx, actor, &row, "propose_settlement", stage, stage, request.note.trim(), details, totals).await
    }
}

/// Marks the claim's settlements of one status superseded (a newer one takes their place).
async fn supersede(tx: &impl ConnectionTrait, claim_id: i64, status: &str) -> AppResult<()> {
    claim_settlements::Entity::update_many()
        .col_expr(claim_settlements::Column::Status, Expr::value("superseded"))
        .filter(claim_settlements::Column::ClaimId.eq(claim_id))
        .filter(claim_settlements::Column::Status.eq(status))
        .exec(tx)
        .await?;
    Ok(())
}

/// The authority limit of a user; none means no authority.
async fn authority_of(tx: &impl ConnectionTrait, user_id: i64) -> AppResult<Decimal> {
    let user = users::Entity::find_by_id(user_id).one(tx).await?.ok_or(AppError::Forbidden)?;
    Ok(from_fen(user.authority_limit_fen.unwrap_or(0)))
}

/// After approval each coverage's reserve becomes what is still owed under it.
async fn reserves_to_what_is_owed(
    tx: &impl ConnectionTrait,
    claim: &claims::Model,
    calculation: &settlement::Settlement,
    actor_id: i64,
) -> AppResult<Rollup> {
    let paid = amounts(paid_by_coverage(tx, claim.id).await?);
    let current = amounts(reserve_by_coverage(tx, claim.id).await?);
    let dues = calculation.dues_after(&paid);
    let moves = in_fen(reserve::after_settlement(&current, &dues))?;
    move_reserves(tx, claim, &moves, "settle", "reserve set to what is still owed", actor_id).await
}

/// The policy's commercial coverages as they stood on the accident day, and those added by endorsement after it.
async fn commercial_cover_at(
    tx: &impl ConnectionTrait,
    policy_id: i64,
    accident_on: NaiveDate,
) -> AppResult<(Vec<CoverLine>, Vec<LaterCover>)> {
    let today: Vec<CoverLine> = policy_coverages::Entity::find()
        .filter(policy_coverages::Column::PolicyId.eq(policy_id))
        .order_by_asc(policy_coverages::Column::Id)
        .all(tx)
        .await?
        .into_iter()
        .map(|line| CoverLine { code: line.code, sum_insured: line.sum_insured_fen.map(from_fen) })
        .collect();
    let versions = policy_versions::Entity::find()
        .filter(policy_versions::Column::PolicyId.eq(policy_id))
        .order_by_asc(policy_versions::Column::Seq)
        .all(tx)
        .await?;
    let changes: Vec<CoverChange> = versions.iter().filter_map(cover_change).collect();
    let at_accident = cover_rules::cover_at(&today, &changes, accident_on);
    let later = cover_rules::added_after(&at_accident, &changes, accident_on)
        .into_iter()
        .map(|(coverage, from)| LaterCover { coverage, from })
        .collect();
    Ok((at_accident, later))
}

/// The cover change an endorsement recorded, if it changed the coverages.
fn cover_change(version: &policy_versions::Model) -> Option<CoverChange> {
    let changes: serde_json::Value = serde_json::from_str(&version.changes_json).ok()?;
    let before = serde_json::from_value(changes.get("cover_before")?.clone()).ok()?;
    let after = serde_json::from_value(changes.get("cover_after")?.clone()).ok()?;
    Some(CoverChange { effective_on: version.effective_date, before, after })
}

/// The cover in force at the accident: the compulsory sub-limits (from the compulsory policy's rating version when
/// this insurer holds it, else from the commercial policy's: they come off commercial third party either way), the
/// commercial coverages as they stood that day, and what the policy's other claims have paid for vehicle damage.
pub(super) async fn cover_at_accident(
    tx: &impl ConnectionTrait,
    row: &claims::Model,
    deductibles: &BTreeMap<String, Decimal>,
) -> AppResult<settlement::Cover> {
    let limits_from = row.compulsory_policy_id.or(row.commercial_policy_id).unwrap_or(row.policy_id);
    let policy = policies::Entity::find_by_id(limits_from).one(tx).await?.ok_or(AppError::NotFound)?;
    let tables = super::super::rating::get(tx, policy.rating_version_id).await?.document.tables.compulsory;
    let heads = |l: &crate::domain::underwriting::rating::CompulsoryLimits| CompulsoryHeads {
        death_disability: l.death_disability,
        medical: l.medical,
        property: l.property,
    };
    let mut cover = settlement::Cover::compulsory_only(CompulsoryTerms {
        at_fault: heads(&tables.at_fault_limits),
        not_at_fault: heads(&tables.not_at_fault_limits),
        held_here: row.compulsory_policy_id.is_some(),
    });
    let Some(commercial_id) = row.commercial_policy_id else { return Ok(cover) };
    let (lines, later) = commercial_cover_at(tx, commercial_id, row.accident_on).await?;
    cover.added_after_accident = later;
    let seats = seats_of(tx, commercial_id).await?;
    let damage_paid_elsewhere = vehicle_damage_paid_on_other_claims(tx, commercial_id, row.id).await?;
    for line in lines {
        let Some(limit) = line.sum_insured else { continue };
        let deductible = deductibles.get(&line.code).copied().unwrap_or(Decimal::new(0, 2));
        match line.code.as_str() {
            "vehicle_damage" => {
                cover.vehicle_damage =
                    Some(CoverageTerms { limit, deductible, paid_on_other_claims: damage_paid_elsewhere })
            }
            "third_party" => {
                cover.third_party = Some(CoverageTerms { limit, deductible, paid_on_other_claims: Decimal::ZERO })
            }
            "driver" => cover.driver = Some(SeatTerms { per_seat: limit, seats: 1, deductible }),
            "passenger" => {
                cover.passenger = Some(SeatTerms { per_seat: limit, seats: seats.saturating_sub(1).max(1), deductible })
            }
            _ => {}
        }
    }
    Ok(cover)
}

/// The coverage codes a claim can reserve and pay under: the compulsory heads when this insurer holds the compulsory
/// policy, and the commercial coverages in force at the accident.
pub(super) async fn coverages_at_accident(tx: &impl ConnectionTrait, row: &claims::Model) -> AppResult<Vec<String>> {
    let mut codes: Vec<String> = Vec::new();
    if row.compulsory_policy_id.is_some() {
        codes.extend(settlement::COMPULSORY_HEADS.iter().map(|code| code.to_string()));
    }
    if let Some(commercial_id) = row.commercial_policy_id {
        let (lines, _) = commercial_cover_at(tx, commercial_id, row.accident_on).await?;
        codes.extend(
            lines
                .into_iter()
                .map(|line| line.code)
                .filter(|code| settlement::SETTLED_COVERAGES.contains(&code.as_str())),
        );
    }
    Ok(codes)
}

/// Seats of the insured vehicle, from the quote the policy was issued on.
async fn seats_of(tx: &impl ConnectionTrait, policy_id: i64) -> AppResult<u32> {
    let quote_of_policy = Query::select()
        .column(policies::Column::QuoteId)
        .from(policies::Entity)
        .and_where(policies::Column::Id.eq(policy_id))
        .to_owned();
    let seats: Option<i32> = quotes::Entity::find()
        .select_only()
        .column(quotes::Column::Seats)
        .filter(quotes::Column::Id.in_subquery(quote_of_policy))
        .into_tuple()
        .one(tx)
        .await?;
    Ok(seats.and_then(|s| u32::try_from(s).ok()).unwrap_or(5))
}

/// Vehicle damage paid on the policy's other claims: its sum insured serves the policy year.
async fn vehicle_damage_paid_on_other_claims(
    tx: &impl ConnectionTrait,
    commercial_id: i64,
    claim_id: i64,
) -> AppResult<Decimal> {
    let claims_of_policy = Query::select()
        .column(claims::Column::Id)
        .from(claims::Entity)
        .and_where(claims::Column::CommercialPolicyId.eq(commercial_id))
        .and_where(claims::Column::Id.ne(claim_id))
        .to_owned();
    let amounts: Vec<i64> = claim_payments::Entity::find()
        .select_only()
        .column(claim_payments::Column::AmountFen)
        .filter(claim_payments::Column::ClaimId.in_subquery(claims_of_policy))
        .filter(claim_payments::Column::Coverage.eq("vehicle_damage"))
        .into_tuple()
        .all(tx)
        .await?;
    Ok(from_fen(amounts.into_iter().sum()))
}

/// An approval of a settlement waiting for authority.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub version: i32,
    #[serde(default)]
    pub note: String,
}

fn calculation_of(settlement: &claim_settlements::Model) -> AppResult<settlement::Settlement> {
    serde_json::from_str(&settlement.calculation_json).map_err(|e| AppError::Internal(e.into()))
}

/// Approves the pending settlement: someone other than the proposer, with authority for the claim's whole owed amount.
pub async fn approve_settlement(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &crate::domain::auth::Scope,
    id: i64,
    request: &ApprovalRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    let pending = claim_settlements::Entity::find()
        .filter(claim_settlements::Column::ClaimId.eq(id))
        .filter(claim_settlements::Column::Status.eq("pending_approval"))
        .one(tx)
        .await?
        .ok_or_else(|| {
            AppError::Refused(FieldError::new("settlement", "none_pending", "no settlement is waiting for approval"))
        })?;
    let to = flow::next_stage(stage, Transition::Settle).map_err(illegal)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let calculation = calculation_of(&pending)?;
    let authority = authority_of(tx, actor_id).await?;
    approval::check_approval(pending.proposed_by, actor_id, authority, calculation.claim_owed())
        .map_err(AppError::Refused)?;
    supersede(tx, id, "approved").await?;
    let at = now();
    claim_settlements::Entity::update_many()
        .col_expr(claim_settlements::Column::Status, Expr::value("approved"))
        .col_expr(claim_settlements::Column::ApprovedBy, Expr::value(Some(actor_id)))
        .col_expr(claim_settlements::Column::ApprovedAt, Expr::value(Some(at)))
        .filter(claim_settlements::Column::Id.eq(pending.id))
        .exec(tx)
        .await?;
    let mut totals = bump(tx, &row, Some(to), Vec::new()).await?;
    totals += reserves_to_what_is_owed(tx, &row, &calculation, actor_id).await?;
    let details = serde_json::json!({ "settlement_id": pending.id, "owed": calculation.claim_owed() });
    finish(tx, actor, &row, "approve_settlement", stage, to, request.note.trim(), details, totals).await
}

/// A payment under the approved settlement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub version: i32,
    pub coverage: String,
    pub payee: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Today when left out; never in the future nor before the settlement's approval.
    pub paid_on: Option<NaiveDate>,
}

/// The approved settlement payments go against: the latest approved.
async fn approved_settlement(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<Option<claim_settlements::Model>> {
    Ok(claim_settlements::Entity::find()
        .filter(claim_settlements::Column::ClaimId.eq(claim_id))
        .filter(claim_settlements::Column::Status.eq("approved"))
        .order_by_desc(claim_settlements::Column::Id)
        .one(tx)
        .await?)
}

/// Records a payment: within what the contract still owes under the coverage on this claim (every settlement
/// counted) and, for vehicle damage, within the sum insured over the policy year.
pub async fn pay(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &crate::domain::auth::Scope,
    id: i64,
    request: &PaymentRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    require_stage(stage, &[Stage::Settled], "payments are made")?;
    let approved = approved_settlement(tx, id).await?.ok_or_else(|| {
        AppError::Refused(FieldError::new("settlement", "none_approved", "there is no approved settlement to pay"))
    })?;
    let calculation = calculation_of(&approved)?;
    let payee = request.payee.trim();
    let mut errors: Vec<FieldError> = payment::check_payee(payee).err().into_iter().collect();
    let Ok(amount) = to_fen(request.amount).map(from_fen) else {
        errors.push(FieldError::new("amount", "invalid", "an amount above 0 with at most 2 decimals"));
        return Err(AppError::Validation(errors));
    };
    // Bump first: it serializes payments on this claim, so the checks below cannot be raced.
    let mut totals = bump(tx, &row, None, Vec::new()).await?;
    let paid = amounts(paid_by_coverage(tx, id).await?);
    let paid_on_claim = paid.get(&request.coverage).copied().unwrap_or(Decimal::ZERO);
    let policy_year = match row.commercial_policy_id.filter(|_| payment::capped_by_policy_year(&request.coverage)) {
        Some(commercial_id) => {
            let cover = cover_at_accident(tx, &row, &BTreeMap::new()).await?;
            let elsewhere = vehicle_damage_paid_on_other_claims(tx, commercial_id, id).await?;
            cover.vehicle_damage.map(|terms| (terms.limit, elsewhere))
        }
        None => None,
    };
    let approved_at = approved.approved_at.unwrap_or(approved.proposed_at);
    let today = clock::today();
    let paid_on = request.paid_on.unwrap_or(today);
    let terms = payment::PaymentTerms {
        coverage: &request.coverage,
        owed: calculation.owed_under(&request.coverage),
        paid_on_claim,
        policy_year,
        approved_on: clock::china_day(approved_at),
        today,
    };
    if let Err(problems) = payment::check_payment(&terms, amount, paid_on) {
        errors.extend(problems);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let amount_fen = fen(amount)?;
    let inserted = claim_payments::Entity::insert(claim_payments::ActiveModel {
        claim_id: Set(id),
        settlement_id: Set(approved.id),
        dealer_id: Set(row.dealer_id),
        coverage: Set(request.coverage.clone()),
        payee: Set(payee.to_string()),
        amount_fen: Set(amount_fen),
        paid_on: Set(paid_on),
        created_by: Set(actor_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    totals += Rollup::payment(row.dealer_id, row.accident_on, paid_on, amount_fen);
    // The reserve the payment uses up moves on the payment's day, so a month's incurred never counts it twice.
    let reserve_now = reserve_by_coverage(tx, id).await?.get(&request.coverage).copied().unwrap_or(0);
    let used = reserve::after_payment(from_fen(reserve_now), amount);
    let moves = [(request.coverage.clone(), fen(used)?)];
    totals +=
        move_reserves_at(tx, &row, &moves, "payment", payee, actor_id, reserve::payment_movement_at(paid_on, now()))
            .await?;
    let details = serde_json::json!({
        "payment_id": inserted.last_insert_id, "coverage": request.coverage, "payee": payee,
        "amount": amount, "paid_on": paid_on,
    });
    finish(tx, actor, &row, "pay", stage, stage, "", details, totals).await
}

/// Withdrawing an approved settlement that will not be paid in full: the reason is required.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawSettlementRequest {
    pub version: i32,
    pub note: String,
}

/// Withdraws the approved settlement: what it left unpaid is no longer owed and its reserve is released, so the
/// claim can close on what was paid.
pub async fn withdraw_settlement(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &crate::domain::auth::Scope,
    id: i64,
    request: &WithdrawSettlementRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    require_stage(stage, &[Stage::Settled], "a settlement is withdrawn")?;
    let note = request.note.trim();
    payment::check_withdrawal_reason(note).map_err(|problem| AppError::Validation(vec![problem]))?;
    let approved = approved_settlement(tx, id).await?.ok_or_else(|| {
        AppError::Refused(FieldError::new("settlement", "none_approved", "there is no approved settlement to withdraw"))
    })?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let mut totals = bump(tx, &row, None, Vec::new()).await?;
    claim_settlements::Entity::update_many()
        .col_expr(claim_settlements::Column::Status, Expr::value("withdrawn"))
        .filter(claim_settlements::Column::Id.eq(approved.id))
        .exec(tx)
        .await?;
    let current = amounts(reserve_by_coverage(tx, id).await?);
    let moves = in_fen(reserve::release(&current))?;
    totals += move_reserves(tx, &row, &moves, "release", note, actor_id).await?;
    let details = serde_json::json!({ "settlement_id": approved.id });
    finish(tx, actor, &row, "withdraw_settlement", stage, stage, note, details, totals).await
}

/// What the approved settlement still leaves unpaid, per coverage (empty when none is approved).
pub(super) async fn unpaid_of_approved(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<Vec<(String, Decimal)>> {
    let Some(approved) = approved_settlement(tx, claim_id).await? else { return Ok(Vec::new()) };
    let calculation = calculation_of(&approved)?;
    let paid = amounts(paid_by_coverage(tx, claim_id).await?);
    Ok(calculation.dues_after(&paid).into_iter().map(|due| (due.coverage, due.payable)).collect())
}
