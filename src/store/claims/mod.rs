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
use crate::domain::claims::settlement::{LossCategory, Settlement};
use crate::domain::claims::signals::{self, ClaimFacts, Signal, SignalRules};
use crate::domain::claims::{self as flow, ServiceTargets, Stage, Transition, loss, reserve};
use crate::domain::money::{from_fen, rate_from_micros, round_to_fen, to_fen};
use crate::domain::monitoring::Rollup;
use crate::domain::underwriting::identity;
use crate::domain::underwriting::lifecycle::{self, Period};
use crate::error::{AppError, AppResult, FieldError};
use entity::{
    claim_documents, claim_loss_items, claim_payments, claim_reserve_movements, claim_settlements, claim_transitions,
    claims, dealers, policies, repair_referrals, users,
};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::{Page, PageRequest, now, totals};

pub use crate::domain::clock::china;

mod settlement;
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

/// A claim in scope with its whole file.
pub async fn file(db: &impl ConnectionTrait, scope: &Scope, id: i64, settings: &ClaimSettings) -> AppResult<ClaimFile> {
    let row = row(db, scope, id).await?;
    // The reserve and paid per coverage are the sums of the movements and payments read below.
    let movement_rows = claim_reserve_movements::Entity::find()
        .filter(claim_reserve_movements::Column::ClaimId.eq(id))
        .order_by_asc(claim_reserve_movements::Column::Id)
        .all(db)
        .await?;
    let payment_rows = claim_payments::Entity::find()
        .filter(claim_payments::Column::ClaimId.eq(id))
        .order_by_asc(claim_payments::Column::Id)
        .all(db)
        .await?;
    let reserves = by_coverage(movement_rows.iter().map(|m| (m.coverage.clone(), m.amount_fen)));
    let paid = by_coverage(payment_rows.iter().map(|p| (p.coverage.clone(), p.amount_fen)));
    let claim =
        to_claim(&row, from_fen(reserves.values().sum()), from_fen(paid.values().sum()), &settings.targets, now());
    // The file is read after every change, so its reads are few: the policy with its dealer's repair shop in one,
    // the timeline with its actors' names in another. (The claim's dealer is its policy's.)
    let (policy_no, policy_start, dealer_has_repair_shop): (String, NaiveDate, bool) =
        policies::Entity::find_by_id(row.policy_id)
            .select_only()
            .column(policies::Column::PolicyNo)
            .column(policies::Column::StartDate)
            .expr(Expr::cust(
                r#"(SELECT "has_repair_shop" FROM "dealers" WHERE "dealers"."id" = "policies"."dealer_id")"#,
            ))
            .into_tuple()
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
    let transitions = claim_transitions::Entity::find()
        .select_only()
        .columns([
            claim_transitions::Column::Transition,
            claim_transitions::Column::FromStage,
            claim_transitions::Column::ToStage,
            claim_transitions::Column::Note,
            claim_transitions::Column::ActorId,
            claim_transitions::Column::At,
        ])
        .expr_as(
            Expr::cust(
                r#"COALESCE((SELECT "display_name" FROM "users" WHERE "users"."id" = "claim_transitions"."actor_id"), '')"#,
            ),
            "actor",
        )
        .filter(claim_transitions::Column::ClaimId.eq(id))
        .order_by_asc(claim_transitions::Column::Id)
        .into_model::<TransitionRecord>()
        .all(db)
        .await?;

    let coverages = settlement::coverages_at_accident(db, &row).await?;
    let mut reserve_lines = Vec::new();
    for coverage in coverages.iter().chain(reserves.keys()).chain(paid.keys()) {
        if reserve_lines.iter().any(|l: &ReserveLine| &l.coverage == coverage) {
            continue;
        }
        reserve_lines.push(ReserveLine {
            coverage: coverage.clone(),
            reserve: from_fen(reserves.get(coverage).copied().unwrap_or(0)),
            paid: from_fen(paid.get(coverage).copied().unwrap_or(0)),
        });
    }
    let reserve_movements = movement_rows
        .into_iter()
        .map(|m| ReserveMovement {
            coverage: m.coverage,
            amount: from_fen(m.amount_fen),
            reason: m.reason,
            note: m.note,
            created_by: m.created_by,
            created_at: m.created_at,
        })
        .collect();
    let loss_rows = claim_loss_items::Entity::find()
        .filter(claim_loss_items::Column::ClaimId.eq(id))
        .order_by_asc(claim_loss_items::Column::Id)
        .all(db)
        .await?;
    let loss_items: Vec<LossItem> = loss_rows.iter().map(to_loss_item).collect();

    let document_rows = claim_documents::Entity::find()
        .filter(claim_documents::Column::ClaimId.eq(id))
        .order_by_asc(claim_documents::Column::Id)
        .all(db)
        .await?;
    let mut documents = Vec::new();
    let mut same_document_claims = Vec::new();
    for d in document_rows {
        let also_on_claims = claims_with_document(db, &d.sha256, id).await?;
        same_document_claims.extend(also_on_claims.iter().cloned());
        documents.push(Document {
            id: d.id,
            file_name: d.file_name,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            also_on_claims,
            uploaded_by: d.uploaded_by,
            uploaded_at: d.uploaded_at,
        });
    }
    same_document_claims.sort();
    same_document_claims.dedup();

    let settlements = claim_settlements::Entity::find()
        .filter(claim_settlements::Column::ClaimId.eq(id))
        .order_by_asc(claim_settlements::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_settlement_record)
        .collect::<AppResult<Vec<_>>>()?;
    let payments = payment_rows
        .into_iter()
        .map(|p| Payment {
            id: p.id,
            settlement_id: p.settlement_id,
            coverage: p.coverage,
            payee: p.payee,
            amount: from_fen(p.amount_fen),
            paid_on: p.paid_on,
            created_by: p.created_by,
            created_at: p.created_at,
        })
        .collect();

    let facts = ClaimFacts {
        policy_start,
        accident_on: row.accident_on,
        reported_on: row.reported_at.with_timezone(&china()).date_naive(),
        other_claims_same_vehicle: repeat_claims(db, &row, settings.signal_rules.repeat_window_days).await?,
        same_document_claims,
        part_prices: part_prices(db, id, &loss_rows).await?,
    };
    let signals = signals::evaluate(&facts, &settings.signal_rules);
    Ok(ClaimFile {
        claim,
        policy_no,
        transitions,
        reserves: reserve_lines,
        reserve_movements,
        loss_items,
        documents,
        settlements,
        payments,
        signals,
        coverages,
        dealer_has_repair_shop,
    })
}

fn to_loss_item(i: &claim_loss_items::Model) -> LossItem {
    LossItem {
        id: i.id,
        category: i.category.clone(),
        kind: i.kind.clone(),
        description: i.description.clone(),
        person: i.person.clone(),
        quantity: rate_from_micros(i.quantity_micros),
        unit_price: from_fen(i.unit_price_fen),
        assessed: from_fen(i.assessed_fen),
        removed: i.removed,
    }
}

fn to_settlement_record(s: claim_settlements::Model) -> AppResult<SettlementRecord> {
    let calculation = serde_json::from_str(&s.calculation_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(SettlementRecord {
        id: s.id,
        status: s.status,
        total: from_fen(s.total_fen),
        calculation,
        proposed_by: s.proposed_by,
        proposed_at: s.proposed_at,
        approved_by: s.approved_by,
        approved_at: s.approved_at,
        note: s.note,
    })
}

pub(crate) async fn user_names(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::DisplayName)
        .filter(users::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

async fn claims_with_document(db: &impl ConnectionTrait, sha256: &str, except_claim: i64) -> AppResult<Vec<String>> {
    let claim_ids: Vec<i64> = claim_documents::Entity::find()
        .select_only()
        .column(claim_documents::Column::ClaimId)
        .filter(claim_documents::Column::Sha256.eq(sha256))
        .filter(claim_documents::Column::ClaimId.ne(except_claim))
        .into_tuple()
        .all(db)
        .await?;
    claim_numbers(db, claim_ids).await
}

async fn claim_numbers(db: &impl ConnectionTrait, ids: Vec<i64>) -> AppResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(claims::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    numbers.sort();
    numbers.dedup();
    Ok(numbers)
}

/// Other claims on the same VIN or plate with accidents within `days` of this one.
async fn repeat_claims(db: &impl ConnectionTrait, row: &claims::Model, days: i64) -> AppResult<Vec<String>> {
    let window = Duration::days(days);
    let mut numbers: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(Condition::any().add(claims::Column::Vin.eq(&row.vin)).add(claims::Column::Plate.eq(&row.plate)))
        .filter(claims::Column::Id.ne(row.id))
        .filter(claims::Column::AccidentOn.gte(row.accident_on - window))
        .filter(claims::Column::AccidentOn.lte(row.accident_on + window))
        .into_tuple()
        .all(db)
        .await?;
    numbers.sort();
    Ok(numbers)
}

/// Parts on this claim with the median unit price other claims gave the same part.
async fn part_prices(
    db: &impl ConnectionTrait,
    claim_id: i64,
    items: &[claim_loss_items::Model],
) -> AppResult<Vec<(String, Decimal, Decimal)>> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.kind == "part" && !i.removed) {
        let mut peers: Vec<i64> = claim_loss_items::Entity::find()
            .select_only()
            .column(claim_loss_items::Column::UnitPriceFen)
            .filter(claim_loss_items::Column::Kind.eq("part"))
            .filter(claim_loss_items::Column::Description.eq(&item.description))
            .filter(claim_loss_items::Column::ClaimId.ne(claim_id))
            .filter(claim_loss_items::Column::Removed.eq(false))
            .order_by_desc(claim_loss_items::Column::Id)
            .limit(201)
            .into_tuple()
            .all(db)
            .await?;
        // Too few peers make a median meaningless.
        if peers.len() < 3 {
            continue;
        }
        peers.sort_unstable();
        let mid = peers.len() / 2;
        let median = if peers.len() % 2 == 1 {
            from_fen(peers[mid])
        } else {
            round_to_fen((from_fen(peers[mid - 1]) + from_fen(peers[mid])) / Decimal::TWO)
        };
        out.push((item.description.clone(), from_fen(item.unit_price_fen), median));
    }
    Ok(out)
}

pub use crate::domain::claims::settlement::COMPULSORY_HEADS;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    pub stage: Option<Stage>,
    /// With no stage: only claims still open (the work queue) rather than every claim.
    pub open_only: bool,
    pub dealer_id: Option<i64>,
    /// Only claims handled by this user.
    pub handler_id: Option<i64>,
    /// Only claims past their stage's service target.
    pub overdue: bool,
    /// Only claims that have waited in their stage at least this many hours.
    pub min_hours_in_stage: Option<i64>,
    /// Claim number, plate or VIN (part of).
    pub search: Option<String>,
}

/// The claims a filter selects, as a query to count, page or group.
fn filtered(
    backend: DbBackend,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> sea_orm::Select<claims::Entity> {
    let mut query = claims::Entity::find().filter(in_scope(scope, claims::Column::DealerId));
    if let Some(stage) = filter.stage {
        query = query.filter(claims::Column::Stage.eq(stage.as_str()));
    } else if filter.open_only {
        query =
            query.filter(claims::Column::Stage.is_in(Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str())));
    }
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(claims::Column::DealerId.eq(dealer_id));
    }
    if let Some(handler_id) = filter.handler_id {
        query = query.filter(claims::Column::HandlerId.eq(handler_id));
    }
    if let Some(hours) = filter.min_hours_in_stage {
        query = query.filter(claims::Column::StageSince.lte(at - Duration::hours(hours)));
    }
    if filter.overdue {
        // Overdue = a waiting stage whose target has passed; one condition per stage keeps it in SQL. The stages
        // listed once more up front give PostgreSQL one index range to scan (read alone, the ORed conditions
        // made it read every open claim's row).
        let with_targets = Stage::ALL.iter().filter(|s| targets.for_stage(**s).is_some()).map(|s| s.as_str());
        query = query.filter(claims::Column::Stage.is_in(with_targets));
        let mut any = Condition::any();
        for stage in Stage::ALL {
            if let Some(target) = targets.for_stage(stage) {
                any = any.add(
                    Condition::all()
                        .add(claims::Column::Stage.eq(stage.as_str()))
                        .add(claims::Column::StageSince.lt(at - target)),
                );
            }
        }
        query = query.filter(any);
    }
    match filter.search(backend) {
        None => query,
        // The start of a claim number matches claim numbers only from their start: a range, where a trigram index
        // looks up trigrams every number has (`CL2`, `202`, …). Plates and VINs are still searched for it.
        // PostgreSQL: a range of ids (27 ms for a tenth of all claims by trigram, 2 ms so). `substr`, not
        // `LIKE 'CL…%'`, which PostgreSQL would serve from the trigram index again.
        Some(Search::NumberStart { term, first, last }) if backend == DbBackend::Postgres => {
            let prefix = Expr::cust_with_values(
                r#"substr("claims"."claim_no", 1, $1) = $2"#,
                [sea_orm::Value::from(term.len() as i32), sea_orm::Value::from(term.clone())],
            );
            let numbered = Condition::all().add(prefix).add(
                Condition::any()
                    .add(claims::Column::Id.between(first, last))
                    .add(claims::Column::Id.gte(FIRST_NINE_DIGIT_ID)),
            );
            query.filter(in_vehicles(&term).add(numbered))
        }
        // SQLite: a range of the claim-number index, and the plate and VIN through their own trigram index
        // (migration 16): 14 ms through the index of all three, 1 ms so.
        Some(Search::NumberStart { term, .. }) => query.filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(claims::Column::ClaimNo.gte(term.as_str()))
                        .add(claims::Column::ClaimNo.lt(numbers_after(&term))),
                )
                .add(Expr::cust_with_values(
                    r#""claims"."id" IN (SELECT rowid FROM claims_vehicle_search WHERE claims_vehicle_search MATCH ?)"#,
                    [fts_phrase(&term)],
                )),
        ),
        // SQLite: through the trigram index of migration 15, which finds any part of three characters or more
        // (as the LIKE below does, but without reading every claim).
        Some(Search::Trigrams(term)) => query.filter(Expr::cust_with_values(
            r#""claims"."id" IN (SELECT rowid FROM claims_search WHERE claims_search MATCH ?)"#,
            [fts_phrase(&term)],
        )),
        // PostgreSQL's trigram index serves the LIKE; on SQLite a term this short is read claim by claim.
        Some(Search::Anywhere(term)) => {
            query.filter(in_vehicles(&term).add(claims::Column::ClaimNo.like(format!("%{term}%"))))
        }
    }
}

/// How a claims search is matched.
enum Search {
    /// The start of a claim number (`CL`, the year, a digit of the id or more): ids `first..=last` below nine digits.
    NumberStart { term: String, first: i64, last: i64 },
    /// Any part of the claim number, plate or VIN, through SQLite's trigram index (three characters or more).
    Trigrams(String),
    /// Any part of the claim number, plate or VIN, by `LIKE`.
    Anywhere(String),
}

impl ClaimFilter {
    fn searching(&self) -> bool {
        self.search_term().is_some()
    }

    /// The search as matched: upper case, without the `LIKE` wildcards.
    fn search_term(&self) -> Option<String> {
        let term = self.search.as_deref()?.trim().replace(['%', '_'], "").to_uppercase();
        (!term.is_empty()).then_some(term)
    }

    /// The search and how it is matched on `backend`.
    fn search(&self, backend: DbBackend) -> Option<Search> {
        let term = self.search_term()?;
        Some(match ids_numbered_from(&term) {
            Some((first, last)) => Search::NumberStart { term, first, last },
            None if backend == DbBackend::Sqlite && term.chars().count() >= 3 => Search::Trigrams(term),
            None => Search::Anywhere(term),
        })
    }
}

/// Plates or VINs holding `term`.
fn in_vehicles(term: &str) -> Condition {
    let pattern = format!("%{term}%");
    Condition::any().add(claims::Column::Plate.like(&pattern)).add(claims::Column::Vin.like(&pattern))
}

/// A term as one FTS5 phrase: its characters in a row, none read as query syntax.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// The first string after every string that starts with `prefix` (ASCII, as the start of a claim number is).
fn numbers_after(prefix: &str) -> String {
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// A read for a search on PostgreSQL: planned for its own pattern. A prepared statement is soon planned once for
/// any pattern, and that plan suits one kind of search only: walking the queue's order (fast when a tenth of the
/// claims match, reading the whole table when three do) or the trigram index (the reverse).
async fn planned_for_search(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let tx = db.begin().await?;
    tx.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    Ok(tx)
}

/// The queue: claims in scope, oldest in their stage first.
pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &ClaimFilter,
    paging: PageRequest,
    targets: &ServiceTargets,
) -> AppResult<Page<Claim>> {
    if filter.searching() && db.get_database_backend() == DbBackend::Postgres {
        let tx = planned_for_search(db).await?;
        let page = list_in(&tx, scope, filter, paging, targets).await?;
        tx.commit().await?;
        return Ok(page);
    }
    list_in(db, scope, filter, paging, targets).await
}

async fn list_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    paging: PageRequest,
    targets: &ServiceTargets,
) -> AppResult<Page<Claim>> {
    let at = now();
    let query = filtered(db.get_database_backend(), scope, filter, targets, at);
    // The page's ids first, then their rows: the ids come from the (stage_since, id) index alone, so a deep page
    // skips index entries instead of reading (and discarding) every earlier claim's row.
    let page = query
        .clone()
        .select_only()
        .column(claims::Column::Id)
        .order_by_asc(claims::Column::StageSince)
        .order_by_asc(claims::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page);
    let through_trigrams = matches!(filter.search(db.get_database_backend()), Some(Search::Trigrams(_)));
    let (ids, total) = if through_trigrams {
        // A search through SQLite's trigram index: the count rides on the page (`COUNT(*) OVER ()`), so the index
        // is read once a request, not twice (a broad term's trigram lists cost more than the rows it finds).
        let rows: Vec<(i64, i64)> =
            page.column_as(Expr::cust("COUNT(*) OVER ()"), "total").into_tuple().all(db).await?;
        let total = match rows.first() {
            Some((_, total)) => u64::try_from(*total).unwrap_or(0),
            // Past the last page no row carries the count.
            None => query.count(db).await?,
        };
        (rows.into_iter().map(|(id, _)| id).collect(), total)
    } else {
        let total = query.count(db).await?;
        (page.into_tuple().all(db).await?, total)
    };
    let mut rows = if ids.is_empty() {
        Vec::new()
    } else {
        claims::Entity::find().filter(claims::Column::Id.is_in(ids.clone())).all(db).await?
    };
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    let reserves = sums_by_claim::<claim_reserve_movements::Entity, _, _>(
        db,
        &ids,
        claim_reserve_movements::Column::ClaimId,
        claim_reserve_movements::Column::AmountFen,
    )
    .await?;
    let paid = sums_by_claim::<claim_payments::Entity, _, _>(
        db,
        &ids,
        claim_payments::Column::ClaimId,
        claim_payments::Column::AmountFen,
    )
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            to_claim(
                r,
                from_fen(reserves.get(&r.id).copied().unwrap_or(0)),
                from_fen(paid.get(&r.id).copied().unwrap_or(0)),
                targets,
                at,
            )
        })
        .collect();
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

async fn sums_by_claim<E, C1, C2>(
    db: &impl ConnectionTrait,
    ids: &[i64],
    claim_col: C1,
    amount_col: C2,
) -> AppResult<HashMap<i64, i64>>
where
    E: EntityTrait,
    C1: ColumnTrait,
    C2: ColumnTrait,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, i64)> = E::find()
        .select_only()
        .column(claim_col)
        .column(amount_col)
        .filter(claim_col.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums = HashMap::new();
    for (id, amount) in rows {
        *sums.entry(id).or_insert(0) += amount;
    }
    Ok(sums)
}

/// Days of closed, declined and withdrawn claims the board counts.
pub const BOARD_FINAL_DAYS: i64 = 30;

/// Claims in scope per stage (final stages: the last 30 days), and how many of each are overdue:
/// the board's column heads.
pub async fn stage_counts(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<Vec<(Stage, u64, u64)>> {
    if filter.searching() && db.get_database_backend() == DbBackend::Postgres {
        let tx = planned_for_search(db).await?;
        let counts = stage_counts_in(&tx, scope, filter, targets).await?;
        tx.commit().await?;
        return Ok(counts);
    }
    stage_counts_in(db, scope, filter, targets).await
}

async fn stage_counts_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<Vec<(Stage, u64, u64)>> {
    let at = now();
    let all_stages = ClaimFilter { stage: None, open_only: false, overdue: false, ..filter.clone() };
    // COUNT(*) rather than COUNT(id): the (stage, stage_since) index holds all a count needs, so PostgreSQL
    // counts from the index alone (no table rows read) when the table is vacuumed.
    let grouped = |query: sea_orm::Select<claims::Entity>| {
        query
            .select_only()
            .column(claims::Column::Stage)
            .expr(Expr::cust("COUNT(*)"))
            .group_by(claims::Column::Stage)
            .into_tuple::<(String, i64)>()
    };
    // Open stages in full; final stages only their last 30 days: what the queue's reader acts on, and cheap to
    // count. Two queries, each one range of the (stage, stage_since) index: as one query with an OR, PostgreSQL
    // read every row of both ranges from the table (or scanned it in parallel).
    let open_stages = Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str());
    let final_stages = Stage::ALL.iter().filter(|s| !s.is_open()).map(|s| s.as_str());
    let mut all: HashMap<String, i64> = grouped(
        filtered(db.get_database_backend(), scope, &all_stages, targets, at)
            .filter(claims::Column::Stage.is_in(open_stages)),
    )
    .all(db)
    .await?
    .into_iter()
    .collect();
    all.extend(
        grouped(
            filtered(db.get_database_backend(), scope, &all_stages, targets, at)
                .filter(claims::Column::Stage.is_in(final_stages))
                .filter(claims::Column::StageSince.gte(at - Duration::days(BOARD_FINAL_DAYS))),
        )
        .all(db)
        .await?,
    );
    let overdue_filter = ClaimFilter { overdue: true, ..all_stages.clone() };
    let overdue: HashMap<String, i64> =
        grouped(filtered(db.get_database_backend(), scope, &overdue_filter, targets, at))
            .all(db)
            .await?
            .into_iter()
            .collect();
    let counts = Stage::ALL
        .into_iter()
        .map(|stage| {
            let n =
                |map: &HashMap<String, i64>| u64::try_from(map.get(stage.as_str()).copied().unwrap_or(0)).unwrap_or(0);
            (stage, n(&all), n(&overdue))
        })
        .collect();
    Ok(counts)
}

async fn count(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &ClaimFilter,
    targets: &ServiceTargets,
) -> AppResult<u64> {
    Ok(filtered(db.get_database_backend(), scope, filter, targets, now()).count(db).await?)
}

/// Open claims in scope and how many of them are overdue: the start page's tiles.
pub async fn open_and_overdue(
    db: &impl ConnectionTrait,
    scope: &Scope,
    targets: &ServiceTargets,
) -> AppResult<(u64, u64)> {
    let open = claims::Entity::find()
        .filter(in_scope(scope, claims::Column::DealerId))
        .filter(claims::Column::Stage.is_in(Stage::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str())))
        .count(db)
        .await?;
    let overdue = count(db, scope, &ClaimFilter { overdue: true, ..Default::default() }, targets).await?;
    Ok((open, overdue))
}

/// First notice of loss.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// The policy number; or give the plate.
    pub policy_no: Option<String>,
    pub plate: Option<String>,
    /// RFC 3339 (`2026-11-20T08:30:00+08:00`).
    #[schema(value_type = String)]
    pub accident_at: DateTime<FixedOffset>,
    pub reporter_name: String,
    pub reporter_phone: String,
    pub place: String,
    pub description: String,
}

/// Records a first notice of loss against the policies in force at the accident time.
pub async fn report(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    request: &ReportRequest,
    settings: &ClaimSettings,
) -> AppResult<i64> {
    let at = now();
    let mut errors = Vec::new();
    let accident_at = request.accident_at.with_timezone(&Utc);
    if accident_at > at + Duration::minutes(5) {
        errors.push(FieldError::new("accident_at", "in_future", "the accident time is in the future"));
    }
    let reporter_name = request.reporter_name.trim();
    if reporter_name.is_empty() || reporter_name.chars().count() > 64 {
        errors.push(FieldError::new("reporter_name", "required", "give the reporter's name (up to 64 characters)"));
    }
    let phone = identity::normalize_mobile(&request.reporter_phone).unwrap_or_else(|e| {
        errors.push(FieldError::new("reporter_phone", e.code, e.message));
        String::new()
    });
    let place = request.place.trim();
    if place.is_empty() || place.chars().count() > 200 {
        errors.push(FieldError::new("place", "required", "give the place of the accident (up to 200 characters)"));
    }
    let description = request.description.trim();
    if description.is_empty() || description.chars().count() > 4000 {
        errors.push(FieldError::new("description", "required", "describe what happened (up to 4000 characters)"));
    }
    let policy_no = request.policy_no.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let plate = match request.plate.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => match identity::normalize_plate(text) {
            Ok(p) => Some(p.text),
            Err(e) => {
                errors.push(FieldError::new("plate", e.code, e.message));
                None
            }
        },
        None => None,
    };
    if policy_no.is_none() && plate.is_none() && !errors.iter().any(|e| e.field == "plate") {
        errors.push(FieldError::new("policy_no", "required", "give the policy number or the plate"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let accident_on = accident_at.with_timezone(&china()).date_naive();

    // The vehicle: from the policy number, or the plate's policies within scope.
    let mut found = policies::Entity::find().filter(in_scope(scope, policies::Column::DealerId));
    found = match (policy_no, &plate) {
        (Some(no), _) => found.filter(policies::Column::PolicyNo.eq(no.to_uppercase())),
        (None, Some(plate)) => found.filter(policies::Column::Plate.eq(plate.clone())),
        (None, None) => return Err(AppError::field("policy_no", "required", "give the policy number or the plate")),
    };
    let matched = found.order_by_desc(policies::Column::Id).limit(50).all(tx).await?;
    let Some(first) = matched.first() else {
        let field = if policy_no.is_some() { "policy_no" } else { "plate" };
        return Err(AppError::field(
            field,
            "no_policy",
            "no policy of yours matches; check the policy number or plate",
        ));
    };
    let vin = first.vin.clone();
    let candidates = policies::Entity::find()
        .filter(policies::Column::Vin.eq(&vin))
        .filter(in_scope(scope, policies::Column::DealerId))
        .order_by_desc(policies::Column::StartDate)
        .all(tx)
        .await?;
    let in_force: Vec<&policies::Model> = candidates
        .iter()
        .filter(|p| lifecycle::covers(&Period { start: p.start_date, end: p.end_date }, p.cancelled_from, accident_on))
        .collect();
    if in_force.is_empty() {
        return Err(AppError::field("accident_at", "not_in_force", not_in_force_reason(&candidates, accident_on)));
    }
    let compulsory = in_force.iter().find(|p| p.product == "compulsory").map(|p| p.id);
    let commercial = in_force.iter().find(|p| p.product == "commercial").map(|p| p.id);
    let primary =
        in_force.iter().find(|p| p.product == "commercial").or(in_force.first()).copied().ok_or(AppError::NotFound)?;

    let window = Duration::days(i64::from(settings.duplicate_days));
    let mut duplicates: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(Condition::any().add(claims::Column::Vin.eq(&vin)).add(claims::Column::Plate.eq(&primary.plate)))
        .filter(claims::Column::AccidentOn.gte(accident_on - window))
        .filter(claims::Column::AccidentOn.lte(accident_on + window))
        .into_tuple()
        .all(tx)
        .await?;
    duplicates.sort();
    duplicates.dedup();
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let inserted = claims::Entity::insert(claims::ActiveModel {
        // A unique placeholder until the id gives the number (within this transaction).
        claim_no: Set(format!("~{:x}", rand::random::<u64>())),
        dealer_id: Set(primary.dealer_id),
        policy_id: Set(primary.id),
        compulsory_policy_id: Set(compulsory),
        commercial_policy_id: Set(commercial),
        vin: Set(vin.clone()),
        plate: Set(primary.plate.clone()),
        accident_at: Set(crate::domain::audit::audit_time(accident_at)),
        accident_on: Set(accident_on),
        reported_at: Set(at),
        reporter_name: Set(reporter_name.to_string()),
        reporter_phone: Set(phone),
        place: Set(place.to_string()),
        description: Set(description.to_string()),
        stage: Set(Stage::Reported.as_str().into()),
        stage_since: Set(at),
        handler_id: Set(None),
        surveyor_id: Set(None),
        repair_shop: Set(None),
        repair_at_dealer: Set(false),
        liability_share_micros: Set(None),
        duplicate_of: Set(duplicates.join(",")),
        decline_reason: Set(None),
        reopen_count: Set(0),
        version: Set(1),
        created_by: Set(actor_id),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let id = inserted.last_insert_id;
    let claim_no = claim_number(accident_on, id);
    claims::Entity::update_many()
        .col_expr(claims::Column::ClaimNo, Expr::value(claim_no.clone()))
        .filter(claims::Column::Id.eq(id))
        .exec(tx)
        .await?;
    record_transition(tx, id, "report", None, Stage::Reported, "", actor_id, at).await?;
    let change = Change::new("report", "claim", id).after(&serde_json::json!({
        "claim_no": claim_no, "policy_id": primary.id, "dealer_id": primary.dealer_id,
        "accident_at": accident_at, "possible_duplicates": duplicates,
    }));
    audit::append(tx, actor, change).await?;
    // Last: the totals' rows are shared with the dealer's other claims and sales.
    totals::apply(tx, &Rollup::claim(primary.dealer_id, accident_on, Stage::Reported.as_str())).await?;
    Ok(id)
}

/// Claim numbers: `CL`, the accident year, and the id, zero-padded; unique as the id is.
pub fn claim_number(accident_on: NaiveDate, id: i64) -> String {
    use chrono::Datelike;
    format!("CL{}{:08}", accident_on.year(), id)
}

/// Ids from here on take nine digits or more in their claim number, past the padding of [`claim_number`].
const FIRST_NINE_DIGIT_ID: i64 = 100_000_000;

/// The ids below [`FIRST_NINE_DIGIT_ID`] whose claim number can start with `term`, when `term` is `CL`, a year and
/// at least one digit of the id: `CL20260001` → 10,000 to 19,999.
pub fn ids_numbered_from(term: &str) -> Option<(i64, i64)> {
    let digits = term.strip_prefix("CL")?;
    if !(5..=12).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id_digits = &digits[4..];
    let scale = 10i64.pow(8 - u32::try_from(id_digits.len()).ok()?);
    let start: i64 = id_digits.parse().ok()?;
    Some((start * scale, (start + 1) * scale - 1))
}

/// Why none of the vehicle's policies covers the accident day.
fn not_in_force_reason(candidates: &[policies::Model], accident_on: NaiveDate) -> String {
    if let Some(cancelled) = candidates
        .iter()
        .find(|p| p.start_date <= accident_on && accident_on < p.end_date && p.cancelled_from.is_some())
    {
        let from = cancelled.cancelled_from.map(|d| d.to_string()).unwrap_or_default();
        return format!("policy {} was cancelled from {from}; no policy covers {accident_on}", cancelled.policy_no);
    }
    if let Some(next) = candidates.iter().filter(|p| p.start_date > accident_on).min_by_key(|p| p.start_date) {
        return format!("policy {} had not started on {accident_on}: cover starts {}", next.policy_no, next.start_date);
    }
    if let Some(last) = candidates.iter().filter(|p| p.end_date <= accident_on).max_by_key(|p| p.end_date) {
        return format!("policy {} expired before {accident_on}: cover ended {}", last.policy_no, last.end_date);
    }
    format!("no policy covers {accident_on}")
}

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

fn check_reserves(
    reserves: &[ReserveRequest],
    coverages: &[String],
    errors: &mut Vec<FieldError>,
) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    if reserves.is_empty() {
        errors.push(FieldError::new("reserves", "required", "choose at least one coverage hit, with its reserve"));
    }
    for (i, r) in reserves.iter().enumerate() {
        if !coverages.contains(&r.coverage) {
            errors.push(FieldError::new(
                format!("reserves[{i}].coverage"),
                "not_covered",
                format!(
                    "{} is not a coverage of the policies in force; choose from {}",
                    r.coverage,
                    coverages.join(", ")
                ),
            ));
            continue;
        }
        if out.iter().any(|(c, _)| c == &r.coverage) {
            errors.push(FieldError::new(format!("reserves[{i}].coverage"), "duplicate", "each coverage once"));
            continue;
        }
        match to_fen(r.reserve) {
            Ok(f) if f > 0 => out.push((r.coverage.clone(), f)),
            Ok(_) => {
                errors.push(FieldError::new(format!("reserves[{i}].reserve"), "not_positive", "a reserve is above 0"))
            }
            Err(e) => errors.push(FieldError::new(format!("reserves[{i}].reserve"), "invalid", e.to_string())),
        }
    }
    out
}

async fn check_adjuster(
    tx: &impl ConnectionTrait,
    field: &str,
    id: i64,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let user = users::Entity::find_by_id(id).one(tx).await?;
    if !user.is_some_and(|u| u.role == Role::ClaimsAdjuster.as_str() && !u.disabled) {
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
    let reserves = check_reserves(&request.reserves, &coverages, &mut errors);
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
    if allowed.contains(&stage) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
    Err(AppError::Conflict(format!("{what} only while the claim is {}; it is {}", names.join(" or "), stage.as_str())))
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
    let shop = if request.repair_at_dealer {
        if !dealer.has_repair_shop {
            errors.push(FieldError::new("repair_at_dealer", "no_shop", "this dealer has no repair shop of its own"));
        }
        Some(dealer.name.clone())
    } else {
        request.repair_shop.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    };
    if shop.as_ref().is_some_and(|s| s.chars().count() > 200) {
        errors.push(FieldError::new("repair_shop", "too_long", "up to 200 characters"));
    }
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
    if request.repair_at_dealer {
        let value: i64 =
            items.iter().filter(|i| i.category == LossCategory::OwnVehicle.as_str()).map(|i| i.assessed_fen).sum();
        // One referral per claim: a reopened claim surveyed again updates nothing twice.
        let existing =
            repair_referrals::Entity::find().filter(repair_referrals::Column::ClaimId.eq(id)).count(tx).await?;
        if existing == 0 {
            let referred_on = now().with_timezone(&china()).date_naive();
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
    let mut errors = Vec::new();
    if !coverages.contains(&request.coverage) {
        errors.push(FieldError::new("coverage", "not_covered", format!("choose from {}", coverages.join(", "))));
    }
    let target = to_fen(request.reserve).unwrap_or(-1);
    errors.extend(reserve::check_reserve_change(from_fen(target), &request.note));
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
    let mut errors = Vec::new();
    if transition.needs_note() && note.is_empty() {
        let message = if transition == Transition::Decline {
            "give the reason for declining"
        } else {
            "say why the claim is reopened"
        };
        errors.push(FieldError::new("note", "required", message));
    }
    if note.chars().count() > 2000 {
        errors.push(FieldError::new("note", "too_long", "up to 2000 characters"));
    }
    let reserves = if transition == Transition::Reopen {
        let coverages = settlement::coverages_at_accident(tx, &row).await?;
        check_reserves(&request.reserves, &coverages, &mut errors)
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

/// A stored claim document.
pub struct NewDocument {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Attaches a document (already stored) to an open claim.
#[allow(clippy::too_many_arguments)]
pub async fn attach_document(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    version: i32,
    document: &NewDocument,
    sha256: &str,
    stored_path: &std::path::Path,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, version).await?;
    if !stage.is_editable() {
        return Err(AppError::Conflict(format!("the claim is {}; its file is read-only", stage.as_str())));
    }
    let totals = bump(tx, &row, None, Vec::new()).await?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let name: String = document.file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    claim_documents::Entity::insert(claim_documents::ActiveModel {
        claim_id: Set(id),
        file_name: Set(if name.is_empty() { "document".into() } else { name.clone() }),
        content_type: Set(document.content_type.clone()),
        size_bytes: Set(i64::try_from(document.bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(sha256.to_string()),
        stored_path: Set(stored_path.display().to_string()),
        uploaded_by: Set(actor_id),
        uploaded_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let details = serde_json::json!({ "document": name, "sha256": sha256, "size": document.bytes.len() });
    finish(tx, actor, &row, "update", stage, stage, "", details, totals).await
}

/// A document row in scope, for download.
pub async fn document(
    db: &impl ConnectionTrait,
    scope: &Scope,
    claim_id: i64,
    document_id: i64,
) -> AppResult<claim_documents::Model> {
    row(db, scope, claim_id).await?;
    claim_documents::Entity::find_by_id(document_id)
        .filter(claim_documents::Column::ClaimId.eq(claim_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the public status page shows: nothing but the stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStatus {
    pub claim_no: String,
    #[schema(value_type = String)]
    pub stage: Stage,
    /// What is awaited, as a key of `lookup.awaiting` (the stage, `settled_part_paid` or `closed_unpaid`).
    pub awaiting: String,
}

/// The owner's look-up: the claim number and the last six characters of the plate or the
/// owner's ID number. Throttled per address; a miss looks the same whatever was wrong.
pub async fn lookup(
    tx: &impl ConnectionTrait,
    ip: &str,
    claim_no: &str,
    tail: &str,
    max_per_window: u32,
) -> AppResult<Option<PublicStatus>> {
    use entity::claim_lookups;
    let at = now();
    let window_start = at - Duration::minutes(15);
    let recent = claim_lookups::Entity::find()
        .filter(claim_lookups::Column::Ip.eq(ip))
        .filter(claim_lookups::Column::At.gt(window_start))
        .count(tx)
        .await?;
    if recent >= u64::from(max_per_window) {
        return Err(AppError::TooManyRequests { retry_after_secs: 15 * 60 });
    }
    let tail = tail.trim().to_uppercase();
    let claim_no = claim_no.trim().to_uppercase();
    let mut found = None;
    if tail.chars().count() == 6
        && let Some(claim) = claims::Entity::find().filter(claims::Column::ClaimNo.eq(&claim_no)).one(tx).await?
    {
        let policy = policies::Entity::find_by_id(claim.policy_id).one(tx).await?;
        let last6 = |s: &str| {
            let chars: Vec<char> = s.chars().collect();
            chars[chars.len().saturating_sub(6)..].iter().collect::<String>().to_uppercase()
        };
        let matches = last6(&claim.plate) == tail || policy.is_some_and(|p| last6(&p.owner_id_number) == tail);
        if matches {
            let stage = Stage::parse(&claim.stage).unwrap_or(Stage::Reported);
            let paid_any = !paid_by_coverage(tx, claim.id).await?.is_empty();
            let last_status: Option<String> = claim_settlements::Entity::find()
                .select_only()
                .column(claim_settlements::Column::Status)
                .filter(claim_settlements::Column::ClaimId.eq(claim.id))
                .filter(claim_settlements::Column::Status.ne("superseded"))
                .order_by_desc(claim_settlements::Column::Id)
                .into_tuple()
                .one(tx)
                .await?;
            let withdrawn = last_status.as_deref() == Some("withdrawn");
            let awaiting = flow::owner_message(stage, paid_any, withdrawn).to_string();
            found = Some(PublicStatus { claim_no: claim.claim_no, stage, awaiting });
        }
    }
    claim_lookups::Entity::insert(claim_lookups::ActiveModel {
        ip: Set(ip.chars().take(64).collect()),
        found: Set(found.is_some()),
        at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    Ok(found)
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

/// Claims that count against each policy's NCD (not declined or withdrawn), by policy id.
pub async fn ncd_claims_by_policy(
    db: &impl ConnectionTrait,
    policy_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, u32>> {
    let mut counts = std::collections::HashMap::new();
    for ids in policy_ids.chunks(500) {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = claims::Entity::find()
            .select_only()
            .column(claims::Column::PolicyId)
            .column(claims::Column::CompulsoryPolicyId)
            .column(claims::Column::CommercialPolicyId)
            .filter(claims::Column::Stage.is_not_in([Stage::Declined.as_str(), Stage::Withdrawn.as_str()]))
            .filter(
                Condition::any()
                    .add(claims::Column::PolicyId.is_in(ids.to_vec()))
                    .add(claims::Column::CompulsoryPolicyId.is_in(ids.to_vec()))
                    .add(claims::Column::CommercialPolicyId.is_in(ids.to_vec())),
            )
            .into_tuple()
            .all(db)
            .await?;
        for (primary, compulsory, commercial) in rows {
            let mut hit: Vec<i64> = [Some(primary), compulsory, commercial].into_iter().flatten().collect();
            hit.sort_unstable();
            hit.dedup();
            for id in hit.into_iter().filter(|id| ids.contains(id)) {
                *counts.entry(id).or_insert(0) += 1;
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_number_prefix_is_a_range_of_ids() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        assert_eq!(ids_numbered_from("CL20260001"), Some((10_000, 19_999)));
        assert_eq!(ids_numbered_from("CL20261"), Some((10_000_000, 19_999_999)));
        assert_eq!(ids_numbered_from(&claim_number(day, 123)), Some((123, 123)));
        // Not the start of a number with a digit of the id: searched as any other text.
        for term in ["CL2026", "CL", "CL2026A1", "X20260001", "CL2026000000001", "20260001"] {
            assert_eq!(ids_numbered_from(term), None, "{term}");
        }
        // Exactly the ids whose number starts with the term (below nine digits).
        for term in ["CL20260", "CL202600012", "CL2026000123", "CL20269"] {
            let (first, last) = ids_numbered_from(term).expect("a range");
            for id in [0, 1, 99, 1_234, 12_345, 123_456, 1_230_000, 90_000_000, 99_999_999] {
                let starts = claim_number(day, id).starts_with(term);
                assert_eq!(starts, (first..=last).contains(&id), "{term} and id {id}");
            }
        }
    }

    #[test]
    fn the_numbers_after_a_prefix_bound_every_number_with_it() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        for term in ["CL20260", "CL20269", "CL2026000123"] {
            let after = numbers_after(term);
            for id in [0, 1, 99, 1_234, 99_999, 123_456, 1_230_000, 99_999_999, 123_456_789] {
                let number = claim_number(day, id);
                let in_range = number.as_str() >= term && number < after;
                assert_eq!(in_range, number.starts_with(term), "{term}: {number}");
            }
        }
    }
}
