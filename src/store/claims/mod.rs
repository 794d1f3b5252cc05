//! Claims: first notice against the policies in force, then register → survey →
//! settle → close, with decline, withdraw and reopen. Every step checks the
//! claim's version (two adjusters cannot both win), records a transition, and
//! appends its audit record last. Reserves move only by recorded movements.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::auth::{Role, Scope};
use crate::domain::claims::report as report_rules;
use crate::domain::claims::settlement::{LossCategory, Settlement};
use crate::domain::claims::signals::{self, ClaimFacts, Signal, SignalRules};
use crate::domain::claims::{self as flow, ServiceTargets, Stage, Transition, loss, reserve};
use crate::domain::money::{from_fen, rate_from_micros, round_to_fen, to_fen};
use crate::domain::monitoring::Rollup;
use crate::domain::underwriting::identity;
use crate::error::{AppError, AppResult, FieldError};
use entity::{
    claim_documents, claim_loss_items, claim_payments, claim_reserve_movements, claim_settlements, claim_transitions,
    claims, dealers, policies, repair_referrals, users,
};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::{Page, PageRequest, now, totals};

pub use crate::domain::clock::china;

mod documents;
mod file;
pub mod history;
mod report;
mod search;
mod settlement;
pub use documents::{NewDocument, attach_document, document};
pub use file::file;
pub use report::{PublicStatus, ReportRequest, claim_number, ids_numbered_from, lookup, report};
pub use search::{BOARD_FINAL_DAYS, ClaimFilter, list, open_and_overdue, stage_counts};
pub use settlement::{
    ApprovalRequest, PaymentRequest, SettleRequest, WithdrawSettlementRequest, approve_settlement, pay, settle,
    withdraw_settlement,
};

fn fen(amount: Decimal) -> AppResult<i64> {
    to_fen(round_to_fen(amount)).map_err(|e| AppError::Internal(anyhow::anyhow!("amount {amount}: {e}")))
}

/// The settings a claim is judged with (from the service configuration).
#[derive(Debug, Clone, Copy)]
pub struct ClaimSettings {
    pub targets: ServiceTargets,
    pub duplicate_days: u32,
    pub signal_rules: SignalRules,
}

impl ClaimSettings {
    pub fn from_config(config: &crate::config::ServeConfig) -> Self {
        Self {
            targets: config.service_targets(),
            duplicate_days: config.claim_duplicate_days,
            signal_rules: SignalRules::default(),
        }
    }
}

/// A claim as listed in the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Claim {
    pub id: i64,
    pub claim_no: String,
    pub dealer_id: i64,
    pub policy_id: i64,
    pub compulsory_policy_id: Option<i64>,
    pub commercial_policy_id: Option<i64>,
    pub vin: String,
    pub plate: String,
    pub accident_at: DateTime<Utc>,
    pub accident_on: NaiveDate,
    pub reported_at: DateTime<Utc>,
    pub reporter_name: String,
    /// Masked.
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
    #[schema(value_type = String)]
    pub stage: Stage,
    pub stage_since: DateTime<Utc>,
    /// Whole hours the claim has waited in its stage.
    pub hours_in_stage: i64,
    /// The service target for this stage in hours, when the stage has one.
    pub target_hours: Option<i64>,
    pub overdue: bool,
    pub handler_id: Option<i64>,
    pub surveyor_id: Option<i64>,
    pub repair_shop: Option<String>,
    pub repair_at_dealer: bool,
    #[schema(value_type = Option<String>)]
    pub liability_share: Option<Decimal>,
    /// Claim numbers of possible duplicates (same vehicle, accidents close together).
    pub possible_duplicates: Vec<String>,
    pub decline_reason: Option<String>,
    pub reopen_count: i32,
    pub version: i32,
    /// The case reserve outstanding now.
    #[schema(value_type = String)]
    pub reserve: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
    /// The transitions allowed next.
    #[schema(value_type = Vec<String>)]
    pub allowed: Vec<Transition>,
}

/// One recorded transition.
#[derive(Debug, Clone, Serialize, ToSchema, FromQueryResult)]
pub struct TransitionRecord {
    pub transition: String,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub note: String,
    pub actor_id: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A coverage's reserve and payments on this claim.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReserveLine {
    pub coverage: String,
    #[schema(value_type = String)]
    pub reserve: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReserveMovement {
    pub coverage: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// `initial`, `adjust`, `settle`, `payment`, `release` or `reopen`.
    pub reason: String,
    pub note: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LossItem {
    pub id: i64,
    /// `own_vehicle`, `third_party_property`, `third_party_medical`, `third_party_death`, `driver` or `passenger`.
    pub category: String,
    /// `part`, `labour` or `other`.
    pub kind: String,
    pub description: String,
    /// The injured person or seat (driver and passenger items); empty otherwise.
    pub person: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub assessed: Decimal,
    pub removed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Other claims holding the same file.
    pub also_on_claims: Vec<String>,
    pub uploaded_by: i64,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettlementRecord {
    pub id: i64,
    /// `pending_approval`, `approved` or `superseded`.
    pub status: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = Object)]
    pub calculation: Settlement,
    pub proposed_by: i64,
    pub proposed_at: DateTime<Utc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payment {
    pub id: i64,
    pub settlement_id: i64,
    pub coverage: String,
    pub payee: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

/// A claim with everything on its file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimFile {
    #[serde(flatten)]
    pub claim: Claim,
    pub policy_no: String,
    pub transitions: Vec<TransitionRecord>,
    pub reserves: Vec<ReserveLine>,
    pub reserve_movements: Vec<ReserveMovement>,
    pub loss_items: Vec<LossItem>,
    pub documents: Vec<Document>,
    pub settlements: Vec<SettlementRecord>,
    pub payments: Vec<Payment>,
    /// Fraud signals: shown, never blocking.
    #[schema(value_type = Vec<Object>)]
    pub signals: Vec<Signal>,
    /// Coverage codes this claim can reserve and pay under (from the policies in force).
    pub coverages: Vec<String>,
    /// The dealer has its own repair shop, so repairs there count as a referral.
    pub dealer_has_repair_shop: bool,
}

impl ClaimFile {
    /// The settlement waiting for approval, if any.
    pub fn pending_settlement(&self) -> Option<&SettlementRecord> {
        self.settlements.iter().find(|s| s.status == "pending_approval")
    }

    /// The approved settlement payments go against: the latest approved.
    pub fn approved_settlement(&self) -> Option<&SettlementRecord> {
        self.settlements.iter().rev().find(|s| s.status == "approved")
    }
}

fn to_claim(
    row: &claims::Model,
    reserve: Decimal,
    paid: Decimal,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> Claim {
    let stage = Stage::parse(&row.stage).unwrap_or(Stage::Reported);
    let target_hours = targets.for_stage(stage).map(|d| d.num_hours());
    Claim {
        id: row.id,
        claim_no: row.claim_no.clone(),
        dealer_id: row.dealer_id,
        policy_id: row.policy_id,
        compulsory_policy_id: row.compulsory_policy_id,
        commercial_policy_id: row.commercial_policy_id,
        vin: row.vin.clone(),
        plate: row.plate.clone(),
        accident_at: row.accident_at,
        accident_on: row.accident_on,
        reported_at: row.reported_at,
        reporter_name: row.reporter_name.clone(),
        reporter_phone: identity::mask_mobile(&row.reporter_phone),
        place: row.place.clone(),
        description: row.description.clone(),
        stage,
        stage_since: row.stage_since,
        hours_in_stage: std::cmp::max((at - row.stage_since).num_hours(), 0),
        target_hours,
        overdue: targets.is_overdue(stage, row.stage_since, at),
        handler_id: row.handler_id,
        surveyor_id: row.surveyor_id,
        repair_shop: row.repair_shop.clone(),
        repair_at_dealer: row.repair_at_dealer,
        liability_share: row.liability_share_micros.map(rate_from_micros),
        possible_duplicates: split_list(&row.duplicate_of),
        decline_reason: row.decline_reason.clone(),
        reopen_count: row.reopen_count,
        version: row.version,
        reserve,
        paid,
        allowed: flow::allowed(stage),
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The claim row within the scope; 404 outside it.
async fn row(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<claims::Model> {
    let row = claims::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

async fn reserve_by_coverage(db: &impl ConnectionTrait, claim_id: i64) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = claim_reserve_movements::Entity::find()
        .select_only()
        .column(claim_reserve_movements::Column::Coverage)
        .column(claim_reserve_movements::Column::AmountFen)
        .filter(claim_reserve_movements::Column::ClaimId.eq(claim_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(by_coverage(rows))
}

async fn paid_by_coverage(db: &impl ConnectionTrait, claim_id: i64) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = claim_payments::Entity::find()
        .select_only()
        .column(claim_payments::Column::Coverage)
        .column(claim_payments::Column::AmountFen)
        .filter(claim_payments::Column::ClaimId.eq(claim_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(by_coverage(rows))
}

/// A claim in scope, as listed.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64, targets: &ServiceTargets) -> AppResult<Claim> {
    let row = row(db, scope, id).await?;
    let reserve: i64 = reserve_by_coverage(db, id).await?.values().sum();
    let paid: i64 = paid_by_coverage(db, id).await?.values().sum();
    Ok(to_claim(&row, from_fen(reserve), from_fen(paid), targets, now()))
}

/// Amounts summed per coverage.
fn by_coverage(amounts: impl IntoIterator<Item = (String, i64)>) -> BTreeMap<String, i64> {
    let mut sums = BTreeMap::new();
    for (coverage, amount) in amounts {
        *sums.entry(coverage).or_insert(0) += amount;
    }
    sums
}

pub use crate::domain::claims::settlement::COMPULSORY_HEADS;

#[allow(clippy::too_many_arguments)]
async fn record_transition(
    tx: &impl ConnectionTrait,
    claim_id: i64,
    transition: &str,
    from: Option<Stage>,
    to: Stage,
    note: &str,
    actor_id: i64,
    at: DateTime<Utc>,
) -> AppResult<()> {
    claim_transitions::Entity::insert(claim_transitions::ActiveModel {
        claim_id: Set(claim_id),
        transition: Set(transition.to_string()),
        from_stage: Set(from.map(|s| s.as_str().to_string())),
        to_stage: Set(to.as_str().to_string()),
        note: Set(note.to_string()),
        actor_id: Set(actor_id),
        at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    Ok(())
}

/// Records reserve movements (one statement; zero amounts skipped) and returns what they change in the
/// monitoring totals, for [`finish`] to add last.
async fn move_reserves(
    tx: &impl ConnectionTrait,
    claim: &claims::Model,
    moves: &[(String, i64)],
    reason: &str,
    note: &str,
    actor_id: i64,
) -> AppResult<Rollup> {
    move_reserves_at(tx, claim, moves, reason, note, actor_id, now()).await
}

/// [`move_reserves`] dated `at` (a payment's reserve moves on the payment's day).
async fn move_reserves_at(
    tx: &impl ConnectionTrait,
    claim: &claims::Model,
    moves: &[(String, i64)],
    reason: &str,
    note: &str,
    actor_id: i64,
    at: DateTime<Utc>,
) -> AppResult<Rollup> {
    let mut totals = Rollup::default();
    let mut rows = Vec::new();
    for (coverage, amount_fen) in moves.iter().filter(|(_, amount)| *amount != 0) {
        rows.push(claim_reserve_movements::ActiveModel {
            claim_id: Set(claim.id),
            coverage: Set(coverage.clone()),
            amount_fen: Set(*amount_fen),
            reason: Set(reason.to_string()),
            note: Set(note.to_string()),
            created_by: Set(actor_id),
            created_at: Set(at),
            ..Default::default()
        });
        totals += Rollup::reserve(claim.dealer_id, claim.accident_on, at, *amount_fen);
    }
    if !rows.is_empty() {
        claim_reserve_movements::Entity::insert_many(rows).exec_without_returning(tx).await?;
    }
    Ok(totals)
}

/// Loads the claim for a change: in scope, at the version the client read, in a stage that allows `what`.
async fn for_change(
    tx: &impl ConnectionTrait,
    scope: &Scope,
    id: i64,
    version: i32,
) -> AppResult<(claims::Model, Stage)> {
    let row = row(tx, scope, id).await?;
    if row.version != version {
        return Err(AppError::stale_version());
    }
    let stage = Stage::parse(&row.stage).ok_or_else(|| AppError::Internal(anyhow::anyhow!("stage {:?}", row.stage)))?;
    Ok((row, stage))
}

/// Bumps the version (refusing a concurrent change) and moves the stage when `to` is given; returns what the
/// move changes in the monitoring totals, for [`finish`] to add last.
async fn bump(
    tx: &impl ConnectionTrait,
    row: &claims::Model,
    to: Option<Stage>,
    set: Vec<(claims::Column, sea_orm::sea_query::SimpleExpr)>,
) -> AppResult<Rollup> {
    let at = now();
    let mut update = claims::Entity::update_many()
        .col_expr(claims::Column::Version, Expr::col(claims::Column::Version).add(1))
        .col_expr(claims::Column::UpdatedAt, Expr::value(at))
        .filter(claims::Column::Id.eq(row.id))
        .filter(claims::Column::Version.eq(row.version));
    if let Some(stage) = to {
        update = update
            .col_expr(claims::Column::Stage, Expr::value(stage.as_str()))
            .col_expr(claims::Column::StageSince, Expr::value(at));
    }
    for (column, value) in set {
        update = update.col_expr(column, value);
    }
    if update.exec(tx).await?.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    // Declining or withdrawing takes the claim out of claim frequency; leaving those stages puts it back.
    Ok(match to {
        Some(stage) => {
            Rollup::claim(row.dealer_id, row.accident_on, stage.as_str())
                + -Rollup::claim(row.dealer_id, row.accident_on, &row.stage)
        }
        None => Rollup::default(),
    })
}

fn illegal(error: flow::IllegalTransition) -> AppError {
    AppError::IllegalTransition {
        message: error.to_string(),
        allowed: error.allowed.iter().map(|t| t.as_str().to_string()).collect(),
    }
}

/// Reserve for one coverage, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    pub coverage: String,
    #[schema(value_type = String)]
    pub reserve: Decimal,
}

/// Register: the coverages hit and their initial reserves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub version: i32,
    pub reserves: Vec<ReserveRequest>,
    /// The adjuster who will handle it; the one registering when left out.
    pub handler_id: Option<i64>,
    pub surveyor_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// The reserves as sent, checked against the coverages in force at the accident, in fen.
fn checked_reserves(
    reserves: &[ReserveRequest],
    coverages: &[String],
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<(String, i64)>> {
    let requested: Vec<(String, Decimal)> = reserves.iter().map(|r| (r.coverage.clone(), r.reserve)).collect();
    match reserve::check_initial_reserves(&requested, coverages) {
        Ok(checked) => checked.into_iter().map(|(coverage, amount)| Ok((coverage, fen(amount)?))).collect(),
        Err(problems) => {
            errors.extend(problems);
            Ok(Vec::new())
        }
    }
}

async fn check_adjuster(
    tx: &impl ConnectionTrait,
    field: &str,
    id: i64,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let user = users::Entity::find_by_id(id).one(tx).await?;
    let (role, disabled) = user.map(|u| (Role::parse(&u.role), u.disabled)).unwrap_or((None, true));
    if !flow::may_handle_claims(role, disabled) {
        errors.push(FieldError::new(field, "not_adjuster", "choose an active claims adjuster"));
    }
    Ok(())
}

/// reported → registered.
pub async fn register(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    request: &RegisterRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    let to = flow::next_stage(stage, Transition::Register).map_err(illegal)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let coverages = settlement::coverages_at_accident(tx, &row).await?;
    let mut errors = Vec::new();
    let reserves = checked_reserves(&request.reserves, &coverages, &mut errors)?;
    let handler = request.handler_id.unwrap_or(actor_id);
    check_adjuster(tx, "handler_id", handler, &mut errors).await?;
    if let Some(surveyor) = request.surveyor_id {
        check_adjuster(tx, "surveyor_id", surveyor, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut totals = bump(
        tx,
        &row,
        Some(to),
        vec![
            (claims::Column::HandlerId, Expr::value(Some(handler))),
            (claims::Column::SurveyorId, Expr::value(request.surveyor_id.or(row.surveyor_id))),
        ],
    )
    .await?;
    totals += move_reserves(tx, &row, &reserves, "initial", &request.note, actor_id).await?;
    let details = serde_json::json!({ "reserves": reserves });
    finish(tx, actor, &row, "register", stage, to, &request.note, details, totals).await
}

/// Records the transition and its audit record, and returns the file as it now stands.
#[allow(clippy::too_many_arguments)]
async fn finish(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    row: &claims::Model,
    transition: &'static str,
    from: Stage,
    to: Stage,
    note: &str,
    details: serde_json::Value,
    totals: Rollup,
) -> AppResult<i64> {
    let actor_id = actor.user_id.unwrap_or_default();
    if from != to || transition != "update" {
        record_transition(tx, row.id, transition, Some(from), to, note, actor_id, now()).await?;
    }
    // Every change bumps the version by one; the caller reads the file after commit, so the
    // write transaction (and SQLite's write lock) is held no longer than the writes take.
    let change = Change::new(transition, "claim", row.id)
        .before(&serde_json::json!({ "stage": from, "version": row.version }))
        .after(&serde_json::json!({ "stage": to, "version": row.version + 1, "note": note, "details": details }));
    audit::append(tx, actor, change).await?;
    // Last, so that the totals' rows (shared with the dealer's other claims and sales) stay locked only to the commit.
    if !totals.is_empty() {
        totals::apply(tx, &totals).await?;
    }
    Ok(row.id)
}

/// A loss item to add.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LossItemRequest {
    pub version: i32,
    /// `own_vehicle`, `third_party_property`, `third_party_medical`, `third_party_death`, `driver`, `passenger`.
    pub category: String,
    /// `part`, `labour` or `other`.
    pub kind: String,
    pub description: String,
    /// The injured person or seat: required for `driver` and `passenger`, which pay each person up to the per-seat
    /// limit.
    #[serde(default)]
    pub person: Option<String>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    /// The amount assessed; quantity × unit price when left out.
    #[schema(value_type = Option<String>)]
    pub assessed: Option<Decimal>,
}

pub use crate::domain::claims::loss::LOSS_KINDS;

/// Adds a loss item while the claim is registered or surveyed (or back for settling after a reopen).
pub async fn add_loss_item(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    request: &LossItemRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    require_stage(stage, &[Stage::Registered, Stage::Surveyed], "loss items are assessed")?;
    let item = loss::check_loss_item(&loss::LossItemInput {
        category: &request.category,
        kind: &request.kind,
        description: &request.description,
        person: request.person.as_deref(),
        quantity: request.quantity,
        unit_price: request.unit_price,
        assessed: request.assessed,
    })
    .map_err(AppError::Validation)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let totals = bump(tx, &row, None, Vec::new()).await?;
    let inserted = claim_loss_items::Entity::insert(claim_loss_items::ActiveModel {
        claim_id: Set(id),
        category: Set(item.category.as_str().to_string()),
        kind: Set(item.kind.clone()),
        description: Set(item.description.clone()),
        person: Set(item.person.clone()),
        quantity_micros: Set(item.quantity_micros),
        unit_price_fen: Set(item.unit_price_fen),
        assessed_fen: Set(item.assessed_fen),
        removed: Set(false),
        created_by: Set(actor_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let details = serde_json::json!({
        "loss_item": inserted.last_insert_id, "description": item.description, "person": item.person,
        "assessed": from_fen(item.assessed_fen),
    });
    finish(tx, actor, &row, "update", stage, stage, "", details, totals).await
}

/// Removes a loss item (kept on file, marked removed).
pub async fn remove_loss_item(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    item_id: i64,
    version: i32,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, version).await?;
    require_stage(stage, &[Stage::Registered, Stage::Surveyed], "loss items are assessed")?;
    let item = claim_loss_items::Entity::find_by_id(item_id)
        .filter(claim_loss_items::Column::ClaimId.eq(id))
        .one(tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let paid: i64 = paid_by_coverage(tx, id).await?.values().sum();
    loss::check_removal(from_fen(paid)).map_err(AppError::Refused)?;
    let totals = bump(tx, &row, None, Vec::new()).await?;
    claim_loss_items::Entity::update_many()
        .col_expr(claim_loss_items::Column::Removed, Expr::value(true))
        .filter(claim_loss_items::Column::Id.eq(item.id))
        .exec(tx)
        .await?;
    let details = serde_json::json!({ "removed_loss_item": item_id });
    finish(tx, actor, &row, "update", stage, stage, "", details, totals).await
}

fn require_stage(stage: Stage, allowed: &[Stage], what: &str) -> AppResult<()> {
    flow::require_stage(stage, allowed, what).map_err(AppError::Refused)
}

/// Survey done: surveyor, repair shop.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyRequest {
    pub version: i32,
    /// The surveyor; the one assigned, or the caller, when left out.
    pub surveyor_id: Option<i64>,
    /// Repaired at the dealer's own shop: records a repair referral (送修) for the dealer.
    #[serde(default)]
    pub repair_at_dealer: bool,
    /// Name of the repair shop when it is not the dealer's.
    pub repair_shop: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// registered → surveyed: needs at least one loss item; records a repair referral when the
/// car is repaired at the dealer's own shop.
pub async fn survey(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    request: &SurveyRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    let to = flow::next_stage(stage, Transition::Survey).map_err(illegal)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let mut errors = Vec::new();
    let items = live_loss_items(tx, id).await?;
    if let Err(problem) = loss::check_survey(items.len()) {
        errors.push(problem);
    }
    let surveyor = request.surveyor_id.or(row.surveyor_id).unwrap_or(actor_id);
    check_adjuster(tx, "surveyor_id", surveyor, &mut errors).await?;
    let dealer = dealers::Entity::find_by_id(row.dealer_id).one(tx).await?.ok_or(AppError::NotFound)?;
    let shop = loss::check_repair_shop(
        request.repair_at_dealer,
        dealer.has_repair_shop,
        &dealer.name,
        request.repair_shop.as_deref(),
    )
    .unwrap_or_else(|problem| {
        errors.push(problem);
        None
    });
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut totals = bump(
        tx,
        &row,
        Some(to),
        vec![
            (claims::Column::SurveyorId, Expr::value(Some(surveyor))),
            (claims::Column::RepairShop, Expr::value(shop.clone())),
            (claims::Column::RepairAtDealer, Expr::value(request.repair_at_dealer)),
        ],
    )
    .await?;
    let mut referral = None;
    let existing = if request.repair_at_dealer {
        repair_referrals::Entity::find().filter(repair_referrals::Column::ClaimId.eq(id)).count(tx).await?
    } else {
        0
    };
    if loss::records_referral(request.repair_at_dealer, existing) {
        let assessed: Vec<(LossCategory, i64)> = items
            .iter()
            .filter_map(|i| LossCategory::parse(&i.category).map(|category| (category, i.assessed_fen)))
            .collect();
        let value = loss::repair_referral_value(&assessed);
        let referred_on = crate::domain::clock::china_day(now());
        repair_referrals::Entity::insert(repair_referrals::ActiveModel {
            claim_id: Set(id),
            dealer_id: Set(row.dealer_id),
            value_fen: Set(value),
            referred_on: Set(referred_on),
            created_at: Set(now()),
            ..Default::default()
        })
        .exec(tx)
        .await?;
        totals += Rollup::referral(row.dealer_id, referred_on, value);
        referral = Some(from_fen(value));
    }
    let details = serde_json::json!({ "surveyor_id": surveyor, "repair_shop": shop, "repair_referral": referral });
    finish(tx, actor, &row, "survey", stage, to, &request.note, details, totals).await
}

async fn live_loss_items(tx: &impl ConnectionTrait, claim_id: i64) -> AppResult<Vec<claim_loss_items::Model>> {
    Ok(claim_loss_items::Entity::find()
        .filter(claim_loss_items::Column::ClaimId.eq(claim_id))
        .filter(claim_loss_items::Column::Removed.eq(false))
        .all(tx)
        .await?)
}

/// A reserve change on an open claim.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReserveChange {
    pub version: i32,
    pub coverage: String,
    /// The new reserve for the coverage; the movement is the difference.
    #[schema(value_type = String)]
    pub reserve: Decimal,
    pub note: String,
}

/// Sets a coverage's reserve by recording the movement to it (never overwriting).
pub async fn change_reserve(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    request: &ReserveChange,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    require_stage(stage, &[Stage::Registered, Stage::Surveyed, Stage::Settled], "reserves change")?;
    let coverages = settlement::coverages_at_accident(tx, &row).await?;
    let target = to_fen(request.reserve).unwrap_or(-1);
    let errors = reserve::check_reserve_change(&request.coverage, &coverages, from_fen(target), &request.note);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let current = reserve_by_coverage(tx, id).await?.get(&request.coverage).copied().unwrap_or(0);
    let mut totals = bump(tx, &row, None, Vec::new()).await?;
    let actor_id = actor.user_id.unwrap_or_default();
    let moves = [(request.coverage.clone(), target - current)];
    totals += move_reserves(tx, &row, &moves, "adjust", request.note.trim(), actor_id).await?;
    let details =
        serde_json::json!({ "coverage": request.coverage, "from": from_fen(current), "to": from_fen(target) });
    finish(tx, actor, &row, "update", stage, stage, request.note.trim(), details, totals).await
}

/// A plain transition: close, decline, withdraw.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    pub version: i32,
    /// Required to decline (the reason) and to reopen (why).
    #[serde(default)]
    pub note: String,
    /// Reopen only: the new reserves.
    #[serde(default)]
    pub reserves: Vec<ReserveRequest>,
}

/// close (settled → closed), decline, withdraw, reopen (closed → surveyed with new reserves).
pub async fn step(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    transition: Transition,
    request: &StepRequest,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, request.version).await?;
    let to = flow::next_stage(stage, transition).map_err(illegal)?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let note = request.note.trim();
    let mut errors = flow::check_step_note(transition, note);
    let reserves = if transition == Transition::Reopen {
        let coverages = settlement::coverages_at_accident(tx, &row).await?;
        checked_reserves(&request.reserves, &coverages, &mut errors)?
    } else {
        Vec::new()
    };
    if transition == Transition::Close {
        let pending = claim_settlements::Entity::find()
            .filter(claim_settlements::Column::ClaimId.eq(id))
            .filter(claim_settlements::Column::Status.eq("pending_approval"))
            .count(tx)
            .await?
            > 0;
        let unpaid = settlement::unpaid_of_approved(tx, id).await?;
        reserve::check_close(pending, &unpaid).map_err(AppError::Refused)?;
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut set = Vec::new();
    if transition == Transition::Decline {
        set.push((claims::Column::DeclineReason, Expr::value(Some(note.to_string()))));
    }
    if transition == Transition::Reopen {
        set.push((claims::Column::ReopenCount, Expr::col(claims::Column::ReopenCount).add(1)));
    }
    let mut totals = bump(tx, &row, Some(to), set).await?;
    if matches!(transition, Transition::Close | Transition::Decline | Transition::Withdraw) {
        // Reserves are released to zero: the claim owes nothing more.
        let current = reserve_by_coverage(tx, id).await?.into_iter().map(|(c, amount)| (c, from_fen(amount))).collect();
        let moves: Vec<(String, i64)> = reserve::release(&current)
            .into_iter()
            .map(|(c, amount)| Ok((c, fen(amount)?)))
            .collect::<AppResult<_>>()?;
        totals += move_reserves(tx, &row, &moves, "release", transition.as_str(), actor_id).await?;
        claim_settlements::Entity::update_many()
            .col_expr(claim_settlements::Column::Status, Expr::value("superseded"))
            .filter(claim_settlements::Column::ClaimId.eq(id))
            .filter(claim_settlements::Column::Status.eq("pending_approval"))
            .exec(tx)
            .await?;
    }
    totals += move_reserves(tx, &row, &reserves, "reopen", note, actor_id).await?;
    let details = serde_json::json!({ "reserves": reserves });
    finish(tx, actor, &row, transition.as_str(), stage, to, note, details, totals).await?;
    // The dashboards' cycle times read one row per closed claim, kept with the closure.
    match transition {
        Transition::Close => totals::record_cycle(tx, id).await?,
        Transition::Reopen => totals::forget_cycle(tx, id).await?,
        _ => {}
    }
    Ok(id)
}

/// Numbers of the open claims on a policy (as the primary, compulsory or commercial policy).
pub async fn open_claim_numbers(db: &impl ConnectionTrait, policy_id: i64) -> AppResult<Vec<String>> {
    let open: Vec<&str> = Stage::ALL.into_iter().filter(|stage| stage.is_open()).map(Stage::as_str).collect();
    Ok(claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(claims::Column::Stage.is_in(open))
        .filter(
            Condition::any()
                .add(claims::Column::PolicyId.eq(policy_id))
                .add(claims::Column::CompulsoryPolicyId.eq(policy_id))
                .add(claims::Column::CommercialPolicyId.eq(policy_id)),
        )
        .into_tuple()
        .all(db)
        .await?)
}
