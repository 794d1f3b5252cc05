//! Commission: the filed rate ranges (a versioned document), per-dealer
//! agreements checked against them, the append-only ledger (accrual on issue,
//! pro-rata reversal on cancellation, adjustment on endorsement, tier true-ups at
//! month end) and monthly statements that always reconcile with it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QueryResult, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::auth::Scope;
use crate::domain::commission::{
    self, EntryKind, FiledRates, LedgerLine, LossRatioClause, StatementStatus, StatementTotals, Terms, Tier,
};
use crate::domain::money::{from_fen, rate_from_micros, rate_to_micros, to_fen};
use crate::domain::monitoring::{Bands, LiveClaims, Period, PeriodKind, Rollup};
use crate::error::{AppError, AppResult, FieldError};
use entity::{
    commission_agreements, commission_ledger, commission_statement_lines, commission_statements, dealers,
    filed_rate_versions, policies, quotes,
};

use super::audit::{self, Actor, Change};
use super::now;

fn fen(amount: Decimal) -> AppResult<i64> {
    to_fen(amount).map_err(|e| AppError::Internal(anyhow::anyhow!("amount {amount}: {e}")))
}

fn micros(rate: Decimal) -> AppResult<i64> {
    rate_to_micros(rate).map_err(|e| AppError::Internal(anyhow::anyhow!("rate {rate}: {e}")))
}

/// The first day of the month of `day`.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The first day of the month after `month`.
pub fn next_month(month: NaiveDate) -> NaiveDate {
    let (year, m) = if month.month() == 12 { (month.year() + 1, 1) } else { (month.year(), month.month() + 1) };
    NaiveDate::from_ymd_opt(year, m, 1).unwrap_or(month)
}

// ---------------------------------------------------------------- filed rates

/// One version of the filed rate ranges.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiledRateVersion {
    pub id: i64,
    pub effective_from: NaiveDate,
    #[schema(value_type = Object)]
    pub document: FiledRates,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

fn filed_from_row(row: filed_rate_versions::Model) -> AppResult<FiledRateVersion> {
    let document = serde_json::from_str(&row.document)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("filed rates {} are unreadable: {e}", row.id)))?;
    Ok(FiledRateVersion {
        id: row.id,
        effective_from: row.effective_from,
        document,
        note: row.note,
        created_at: row.created_at,
    })
}

/// Stores the shipped filed ranges as the first version when there is none.
pub async fn ensure_defaults(db: &DatabaseConnection) -> AppResult<()> {
    if filed_rate_versions::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let tx = crate::store::begin_write(db).await?;
    if filed_rate_versions::Entity::find().count(&tx).await? == 0 {
        let effective = NaiveDate::from_ymd_opt(2020, 9, 19).unwrap_or_default();
        insert_filed(&tx, &Actor::system("defaults"), effective, &FiledRates::defaults(), "DOMAIN.md defaults").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The filed ranges in force on `day`.
pub async fn filed_in_force(db: &impl ConnectionTrait, day: NaiveDate) -> AppResult<FiledRateVersion> {
    let row = filed_rate_versions::Entity::find()
        .filter(filed_rate_versions::Column::EffectiveFrom.lte(day))
        .order_by_desc(filed_rate_versions::Column::EffectiveFrom)
        .order_by_desc(filed_rate_versions::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("no filed commission rates are in force on {day}")))?;
    filed_from_row(row)
}

/// Every version of the filed ranges, newest first.
pub async fn filed_versions(db: &impl ConnectionTrait) -> AppResult<Vec<FiledRateVersion>> {
    filed_rate_versions::Entity::find()
        .order_by_desc(filed_rate_versions::Column::EffectiveFrom)
        .order_by_desc(filed_rate_versions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(filed_from_row)
        .collect()
}

/// Adds a version of the filed ranges after checking it; earlier versions never change.
pub async fn create_filed(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    effective_from: NaiveDate,
    document: &FiledRates,
    note: &str,
) -> AppResult<FiledRateVersion> {
    let problems = document.validate();
    if !problems.is_empty() {
        return Err(AppError::Validation(
            problems.into_iter().map(|p| FieldError::new(format!("document.{}", p.field), p.code, p.message)).collect(),
        ));
    }
    insert_filed(tx, actor, effective_from, document, note).await
}

async fn insert_filed(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    effective_from: NaiveDate,
    document: &FiledRates,
    note: &str,
) -> AppResult<FiledRateVersion> {
    let inserted = filed_rate_versions::Entity::insert(filed_rate_versions::ActiveModel {
        effective_from: Set(effective_from),
        document: Set(serde_json::to_string(document).map_err(|e| AppError::Internal(e.into()))?),
        note: Set(note.trim().to_string()),
        created_by: Set(actor.user_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let row =
        filed_rate_versions::Entity::find_by_id(inserted.last_insert_id).one(tx).await?.ok_or(AppError::NotFound)?;
    let change = Change::new("create", "filed_rates", row.id)
        .after(&serde_json::json!({ "effective_from": effective_from, "note": note }));
    audit::append(tx, actor, change).await?;
    filed_from_row(row)
}

// ---------------------------------------------------------------- agreements

/// A dealer's commission agreement for one product and business type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agreement {
    pub id: i64,
    pub dealer_id: i64,
    pub product: String,
    pub business_type: String,
    pub valid_from: NaiveDate,
    /// Exclusive; none = open-ended.
    pub valid_to: Option<NaiveDate>,
    #[schema(value_type = String)]
    pub base_rate: Decimal,
    #[schema(value_type = Vec<Object>)]
    pub tiers: Vec<Tier>,
    #[schema(value_type = Option<Object>)]
    pub loss_ratio_clause: Option<LossRatioClause>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl Agreement {
    pub fn terms(&self) -> Terms {
        Terms {
            product: self.product.clone(),
            business_type: self.business_type.clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            base_rate: self.base_rate,
            tiers: self.tiers.clone(),
            loss_ratio_clause: self.loss_ratio_clause.clone(),
        }
    }
}

fn agreement_from_row(row: commission_agreements::Model) -> AppResult<Agreement> {
    let terms: Terms = serde_json::from_str(&row.terms_json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("agreement {} is unreadable: {e}", row.id)))?;
    Ok(Agreement {
        id: row.id,
        dealer_id: row.dealer_id,
        product: row.product,
        business_type: row.business_type,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        base_rate: rate_from_micros(row.base_rate_micros),
        tiers: terms.tiers,
        loss_ratio_clause: terms.loss_ratio_clause,
        note: row.note,
        created_at: row.created_at,
    })
}

/// An agreement as sent: the terms and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementRequest {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub terms: Terms,
    #[serde(default)]
    pub note: String,
}

/// A dealer's agreements, newest first.
pub async fn agreements(db: &impl ConnectionTrait, scope: &Scope, dealer_id: i64) -> AppResult<Vec<Agreement>> {
    super::dealers::get(db, scope, dealer_id).await?;
    commission_agreements::Entity::find()
        .filter(commission_agreements::Column::DealerId.eq(dealer_id))
        .order_by_desc(commission_agreements::Column::ValidFrom)
        .order_by_desc(commission_agreements::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(agreement_from_row)
        .collect()
}

/// Adds an agreement after checking it against the filed ranges for the dealer's region
/// (refused with the range it broke). An open-ended agreement for the same product and
/// business type that started earlier is closed the day the new one starts; any other
/// overlap is refused.
pub async fn create_agreement(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    dealer_id: i64,
    request: &AgreementRequest,
) -> AppResult<Agreement> {
    let dealer = super::dealers::get(tx, scope, dealer_id).await?;
    let filed = filed_in_force(tx, request.terms.valid_from).await?;
    let problems = commission::validate_terms(&request.terms, &dealer.region, &filed.document);
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    let existing: Vec<Agreement> = commission_agreements::Entity::find()
        .filter(commission_agreements::Column::DealerId.eq(dealer_id))
        .filter(commission_agreements::Column::Product.eq(&request.terms.product))
        .filter(commission_agreements::Column::BusinessType.eq(&request.terms.business_type))
        .all(tx)
        .await?
        .into_iter()
        .map(agreement_from_row)
        .collect::<AppResult<_>>()?;
    for other in &existing {
        if !commission::overlaps(&other.terms(), &request.terms) {
            continue;
        }
        if other.valid_to.is_none() && other.valid_from < request.terms.valid_from {
            // The new terms take over from their first day; the old row keeps everything else.
            commission_agreements::Entity::update_many()
                .col_expr(commission_agreements::Column::ValidTo, Expr::value(Some(request.terms.valid_from)))
                .filter(commission_agreements::Column::Id.eq(other.id))
                .exec(tx)
                .await?;
            let change = Change::new("close", "commission_agreement", other.id)
                .before(&serde_json::json!({ "valid_to": null }))
                .after(&serde_json::json!({ "valid_to": request.terms.valid_from }));
            audit::append(tx, actor, change).await?;
        } else {
            return Err(AppError::Conflict(format!(
                "agreement {} already covers {} {} from {}{}",
                other.id,
                other.product,
                other.business_type,
                other.valid_from,
                other.valid_to.map(|d| format!(" to {d}")).unwrap_or_default()
            )));
        }
    }
    let inserted = commission_agreements::Entity::insert(commission_agreements::ActiveModel {
        dealer_id: Set(dealer_id),
        product: Set(request.terms.product.clone()),
        business_type: Set(request.terms.business_type.clone()),
        valid_from: Set(request.terms.valid_from),
        valid_to: Set(request.terms.valid_to),
        base_rate_micros: Set(micros(request.terms.base_rate)?),
        terms_json: Set(serde_json::to_string(&request.terms).map_err(|e| AppError::Internal(e.into()))?),
        note: Set(request.note.trim().to_string()),
        created_by: Set(actor.user_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let row =
        commission_agreements::Entity::find_by_id(inserted.last_insert_id).one(tx).await?.ok_or(AppError::NotFound)?;
    let agreement = agreement_from_row(row)?;
    let change = Change::new("create", "commission_agreement", agreement.id).after(&request);
    audit::append(tx, actor, change).await?;
    Ok(agreement)
}

/// The agreement in force for a dealer, product and business type on `day`.
pub async fn agreement_on(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    product: &str,
    business_type: &str,
    day: NaiveDate,
) -> AppResult<Option<Agreement>> {
    Ok(agreements_on(db, dealer_id, &[product], business_type, day).await?.pop())
}

/// For each of `products` that has one, the dealer's agreement in force for the business type on `day`,
/// in one query.
async fn agreements_on(
    db: &impl ConnectionTrait,
    dealer_id: i64,
    products: &[&str],
    business_type: &str,
    day: NaiveDate,
) -> AppResult<Vec<Agreement>> {
    let rows = commission_agreements::Entity::find()
        .filter(commission_agreements::Column::DealerId.eq(dealer_id))
        .filter(commission_agreements::Column::Product.is_in(products.iter().copied()))
        .filter(commission_agreements::Column::BusinessType.eq(business_type))
        .filter(in_force_on(day))
        .order_by_desc(commission_agreements::Column::ValidFrom)
        .order_by_desc(commission_agreements::Column::Id)
        .all(db)
        .await?;
    products
        .iter()
        .filter_map(|product| rows.iter().find(|r| r.product == *product).cloned())
        .map(agreement_from_row)
        .collect()
}

/// Agreements in force on `day`: begun on or before it, not ended by it. The latest begun is the one that applies.
fn in_force_on(day: NaiveDate) -> Condition {
    let agreement = |c: commission_agreements::Column| Expr::col((commission_agreements::Entity, c));
    Condition::all().add(agreement(commission_agreements::Column::ValidFrom).lte(day)).add(
        agreement(commission_agreements::Column::ValidTo)
            .is_null()
            .or(agreement(commission_agreements::Column::ValidTo).gt(day)),
    )
}

// ---------------------------------------------------------------- the ledger

/// One ledger entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: i64,
    pub dealer_id: i64,
    pub policy_id: Option<i64>,
    pub policy_no: Option<String>,
    pub agreement_id: Option<i64>,
    pub product: String,
    pub business_type: String,
    #[schema(value_type = String)]
    pub kind: EntryKind,
    pub booked_on: NaiveDate,
    /// The premium (or premium change) the amount was computed on.
    #[schema(value_type = String)]
    pub basis: Decimal,
    #[schema(value_type = String)]
    pub rate: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub note: String,
    /// For a month-end true-up of an agreement with a loss-ratio clause: the dealer's loss ratio (rolling 12 months
    /// to the month's end) the clause was judged on.
    #[schema(value_type = Option<String>)]
    pub loss_ratio: Option<Decimal>,
    pub statement_id: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
fn ledger_row(
    policy: &policies::Model,
    agreement_id: Option<i64>,
    kind: EntryKind,
    booked_on: NaiveDate,
    basis: Decimal,
    rate: Decimal,
    amount: Decimal,
    note: &str,
) -> AppResult<commission_ledger::ActiveModel> {
    Ok(commission_ledger::ActiveModel {
        dealer_id: Set(policy.dealer_id),
        policy_id: Set(Some(policy.id)),
        agreement_id: Set(agreement_id),
        product: Set(policy.product.clone()),
        business_type: Set(policy.business_type.clone()),
        kind: Set(kind.as_str().into()),
        booked_on: Set(booked_on),
        basis_fen: Set(fen(basis)?),
        rate_micros: Set(micros(rate)?),
        amount_fen: Set(fen(amount)?),
        note: Set(note.to_string()),
        loss_ratio_micros: Set(None),
        created_at: Set(now()),
        ..Default::default()
    })
}

/// The agreement a policy issued today accrues under: its id and terms.
#[derive(Debug, Clone)]
pub(crate) struct InForce {
    pub id: i64,
    pub terms: Terms,
}

/// The agreement of the quote's dealer and business type for `product` in force on `day`, as two expressions (its
/// id and its terms) of the statement that claims the quote for issue, so that issuing reads it without a round
/// trip of its own. Each is named apart: PostgreSQL would name a scalar subquery's column after the column inside.
pub(crate) fn in_force_for_quote(product: &str, day: NaiveDate) -> [Expr; 2] {
    let select = |column: commission_agreements::Column, name: String| {
        let agreement = |c: commission_agreements::Column| Expr::col((commission_agreements::Entity, c));
        Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .expr_as(agreement(column), name)
                    .from(commission_agreements::Entity)
                    .and_where(
                        agreement(commission_agreements::Column::DealerId)
                            .equals((quotes::Entity, quotes::Column::DealerId)),
                    )
                    .and_where(
                        agreement(commission_agreements::Column::BusinessType)
                            .equals((quotes::Entity, quotes::Column::BusinessType)),
                    )
                    .and_where(agreement(commission_agreements::Column::Product).eq(product))
                    .cond_where(in_force_on(day))
                    .order_by(commission_agreements::Column::ValidFrom, Order::Desc)
                    .order_by(commission_agreements::Column::Id, Order::Desc)
                    .limit(1)
                    .to_owned()
                    .into(),
            ),
        )
    };
    [
        select(commission_agreements::Column::Id, format!("{product}_agreement_id")),
        select(commission_agreements::Column::TermsJson, format!("{product}_agreement_terms")),
    ]
}

/// The agreement read by [`in_force_for_quote`]'s two expressions, at `at` in the claimed row.
pub(crate) fn in_force_claimed(row: &QueryResult, at: usize) -> AppResult<Option<InForce>> {
    let id: Option<i64> = row.try_get_by_index(at)?;
    let terms: Option<String> = row.try_get_by_index(at + 1)?;
    let (Some(id), Some(terms)) = (id, terms) else { return Ok(None) };
    let terms: Terms = serde_json::from_str(&terms)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("agreement {id} is unreadable: {e}")))?;
    Ok(Some(InForce { id, terms }))
}

/// Accrues commission on newly issued policies (one quote's, so one dealer and business type) at the rate of the
/// agreement in force on the issue day (`in_force`, read when the quote was claimed), in one statement whatever the
/// number of policies. A dealer without an agreement for the product and business type accrues nothing, and the
/// entry says so (the monitoring shows it; commission is never invented).
///
/// Returns what the entries add to the monitoring totals, for the caller to store with the rest of its change.
pub(crate) async fn accrue_on_issue(
    tx: &impl ConnectionTrait,
    issued: &[policies::Model],
    in_force: &[InForce],
    today: NaiveDate,
) -> AppResult<Rollup> {
    let mut entries = Vec::with_capacity(issued.len());
    for policy in issued {
        let premium = from_fen(policy.premium_fen);
        let in_force = in_force.iter().find(|a| a.terms.product == policy.product);
        let entry = match in_force {
            Some(agreement) => {
                let rate = commission::rate_at_issue(&agreement.terms, None);
                let amount = commission::accrual(premium, rate);
                ledger_row(policy, Some(agreement.id), EntryKind::Accrual, today, premium, rate, amount, "")?
            }
            None => {
                let (rate, zero) = (Decimal::ZERO, Decimal::new(0, 2));
                let note = "no agreement in force";
                ledger_row(policy, None, EntryKind::Accrual, today, premium, rate, zero, note)?
            }
        };
        entries.push(entry);
    }
    let totals = entries.iter().map(totals_of).fold(Rollup::default(), |sum, entry| sum + entry);
    commission_ledger::Entity::insert_many(entries).exec_without_returning(tx).await?;
    Ok(totals)
}

/// What a ledger entry adds to the monitoring totals.
fn totals_of(entry: &commission_ledger::ActiveModel) -> Rollup {
    match (&entry.dealer_id, &entry.booked_on, &entry.amount_fen) {
        (Set(dealer_id), Set(booked_on), Set(amount)) => Rollup::commission(*dealer_id, *booked_on, *amount),
        _ => Rollup::default(),
    }
}

/// The commission booked so far on a policy and the rate of its accrual.
async fn booked_on_policy(tx: &impl ConnectionTrait, policy_id: i64) -> AppResult<(Decimal, Decimal, Option<i64>)> {
    let rows = commission_ledger::Entity::find()
        .filter(commission_ledger::Column::PolicyId.eq(policy_id))
        .order_by_asc(commission_ledger::Column::Id)
        .all(tx)
        .await?;
    let total: i64 = rows.iter().map(|r| r.amount_fen).sum();
    let accrual = rows.iter().find(|r| r.kind == EntryKind::Accrual.as_str());
    let rate = accrual.map(|r| rate_from_micros(r.rate_micros)).unwrap_or(Decimal::ZERO);
    Ok((from_fen(total), rate, accrual.and_then(|r| r.agreement_id)))
}

/// Claws back the commission on the refunded premium at the rate booked; returns what that adds to the monitoring
/// totals.
pub async fn reverse_on_cancel(
    tx: &impl ConnectionTrait,
    policy_id: i64,
    refund: Decimal,
    charged: Decimal,
    today: NaiveDate,
) -> AppResult<Rollup> {
    let policy = policies::Entity::find_by_id(policy_id).one(tx).await?.ok_or(AppError::NotFound)?;
    let (booked, rate, agreement_id) = booked_on_policy(tx, policy_id).await?;
    let amount = commission::reversal(refund, rate, booked, charged);
    let entry = ledger_row(&policy, agreement_id, EntryKind::Reversal, today, -refund, rate, amount, "cancellation")?;
    let totals = totals_of(&entry);
    commission_ledger::Entity::insert(entry).exec(tx).await?;
    Ok(totals)
}

/// Commission on an endorsement's premium change, at the policy's accrual rate.
pub async fn adjust_on_endorse(
    tx: &impl ConnectionTrait,
    policy_id: i64,
    adjustment: Decimal,
    today: NaiveDate,
) -> AppResult<Rollup> {
    if adjustment.is_zero() {
        return Ok(Rollup::default());
    }
    let policy = policies::Entity::find_by_id(policy_id).one(tx).await?.ok_or(AppError::NotFound)?;
    let (_, rate, agreement_id) = booked_on_policy(tx, policy_id).await?;
    let amount = commission::endorsement_adjustment(adjustment, rate);
    let entry =
        ledger_row(&policy, agreement_id, EntryKind::Adjustment, today, adjustment, rate, amount, "endorsement")?;
    let totals = totals_of(&entry);
    commission_ledger::Entity::insert(entry).exec(tx).await?;
    Ok(totals)
}

fn to_entry(row: commission_ledger::Model, statement: Option<i64>, policy_no: Option<String>) -> LedgerEntry {
    LedgerEntry {
        id: row.id,
        dealer_id: row.dealer_id,
        policy_id: row.policy_id,
        policy_no,
        agreement_id: row.agreement_id,
        product: row.product,
        business_type: row.business_type,
        kind: EntryKind::parse(&row.kind).unwrap_or(EntryKind::Correction),
        booked_on: row.booked_on,
        basis: from_fen(row.basis_fen),
        rate: rate_from_micros(row.rate_micros),
        amount: from_fen(row.amount_fen),
        note: row.note,
        loss_ratio: row.loss_ratio_micros.map(rate_from_micros),
        statement_id: statement,
    }
}

/// A dealer's ledger entries booked in `[from, to)`, oldest first, with their statement and policy number.
pub async fn ledger(
    db: &impl ConnectionTrait,
    scope: &Scope,
    dealer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<LedgerEntry>> {
    super::dealers::get(db, scope, dealer_id).await?;
    let rows = commission_ledger::Entity::find()
        .filter(commission_ledger::Column::DealerId.eq(dealer_id))
        .filter(commission_ledger::Column::BookedOn.gte(from))
        .filter(commission_ledger::Column::BookedOn.lt(to))
        .order_by_asc(commission_ledger::Column::BookedOn)
        .order_by_asc(commission_ledger::Column::Id)
        .all(db)
        .await?;
    with_details(db, rows).await
}

async fn with_details(db: &impl ConnectionTrait, rows: Vec<commission_ledger::Model>) -> AppResult<Vec<LedgerEntry>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let policy_ids: Vec<i64> = rows.iter().filter_map(|r| r.policy_id).collect();
    let mut statements: HashMap<i64, i64> = HashMap::new();
    let mut numbers: HashMap<i64, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        let links: Vec<(i64, i64)> = commission_statement_lines::Entity::find()
            .select_only()
            .column(commission_statement_lines::Column::EntryId)
            .column(commission_statement_lines::Column::StatementId)
            .filter(commission_statement_lines::Column::EntryId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        statements.extend(links);
    }
    for chunk in policy_ids.chunks(500) {
        let found: Vec<(i64, String)> = policies::Entity::find()
            .select_only()
            .column(policies::Column::Id)
            .column(policies::Column::PolicyNo)
            .filter(policies::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        numbers.extend(found);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let statement = statements.get(&r.id).copied();
            let number = r.policy_id.and_then(|p| numbers.get(&p).cloned());
            to_entry(r, statement, number)
        })
        .collect())
}

// ---------------------------------------------------------------- statements

/// A monthly statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    pub id: i64,
    pub dealer_id: i64,
    pub dealer_code: String,
    pub dealer_name: String,
    /// The first day of the month.
    pub month: NaiveDate,
    #[schema(value_type = String)]
    pub status: StatementStatus,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub line_count: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// Totals per entry kind, for the summary.
    #[schema(value_type = Object)]
    pub by_kind: BTreeMap<String, String>,
    pub lines: Vec<LedgerEntry>,
}

async fn statement_from_row(
    db: &impl ConnectionTrait,
    row: commission_statements::Model,
    with_lines: bool,
) -> AppResult<Statement> {
    let dealer = dealers::Entity::find_by_id(row.dealer_id).one(db).await?.ok_or(AppError::NotFound)?;
    let lines = if with_lines {
        let entry_ids: Vec<i64> = commission_statement_lines::Entity::find()
            .select_only()
            .column(commission_statement_lines::Column::EntryId)
            .filter(commission_statement_lines::Column::StatementId.eq(row.id))
            .into_tuple()
            .all(db)
            .await?;
        let mut rows = Vec::new();
        for chunk in entry_ids.chunks(500) {
            rows.extend(
                commission_ledger::Entity::find()
                    .filter(commission_ledger::Column::Id.is_in(chunk.to_vec()))
                    .all(db)
                    .await?,
            );
        }
        rows.sort_by_key(|r| (r.booked_on, r.id));
        with_details(db, rows).await?
    } else {
        Vec::new()
    };
    let mut by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
    for line in &lines {
        *by_kind.entry(line.kind.as_str().to_string()).or_insert(Decimal::new(0, 2)) += line.amount;
    }
    Ok(Statement {
        id: row.id,
        dealer_id: row.dealer_id,
        dealer_code: dealer.code,
        dealer_name: dealer.name,
        month: row.month,
        status: StatementStatus::parse(&row.status).unwrap_or(StatementStatus::Draft),
        total: from_fen(row.total_fen),
        line_count: row.line_count,
        version: row.version,
        created_at: row.created_at,
        confirmed_at: row.confirmed_at,
        paid_at: row.paid_at,
        by_kind: by_kind.into_iter().map(|(k, v)| (k, v.to_string())).collect(),
        lines,
    })
}

/// A statement in scope with every line.
pub async fn statement(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<Statement> {
    let row = commission_statements::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    statement_from_row(db, row, true).await
}

/// A dealer's statements, newest month first, without their lines.
pub async fn statements(db: &impl ConnectionTrait, scope: &Scope, dealer_id: i64) -> AppResult<Vec<Statement>> {
    super::dealers::get(db, scope, dealer_id).await?;
    let rows = commission_statements::Entity::find()
        .filter(commission_statements::Column::DealerId.eq(dealer_id))
        .order_by_desc(commission_statements::Column::Month)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(statement_from_row(db, row, false).await?);
    }
    Ok(out)
}

/// Closes a month for every dealer with ledger entries in it: books each agreement's tier
/// true-up (the rate the month's volume earned, less what was booked), then draws up a draft
/// statement listing every entry of the dealer booked in the month. A month is closed once;
/// entries booked later in it (back-dated corrections) go on the next month's statement.
pub async fn close_month(tx: &impl ConnectionTrait, actor: &Actor, month: NaiveDate) -> AppResult<Vec<i64>> {
    let month = month_of(month);
    let end = next_month(month);
    if end > super::quotes::today() + chrono::Duration::days(1) {
        return Err(AppError::field("month", "not_over", format!("{} is not over yet", month.format("%Y-%m"))));
    }
    let rows = commission_ledger::Entity::find()
        .filter(commission_ledger::Column::BookedOn.gte(month))
        .filter(commission_ledger::Column::BookedOn.lt(end))
        .all(tx)
        .await?;
    // Tier true-ups per agreement.
    let mut per_agreement: BTreeMap<i64, (Decimal, Decimal, i64, String, String)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind != EntryKind::TierTrueUp.as_str()) {
        if let Some(agreement) = r.agreement_id {
            let entry = per_agreement.entry(agreement).or_insert((
                Decimal::new(0, 2),
                Decimal::new(0, 2),
                r.dealer_id,
                r.product.clone(),
                r.business_type.clone(),
            ));
            entry.0 += from_fen(r.basis_fen);
            entry.1 += from_fen(r.amount_fen);
        }
    }
    let already_trued: Vec<i64> =
        rows.iter().filter(|r| r.kind == EntryKind::TierTrueUp.as_str()).filter_map(|r| r.agreement_id).collect();
    let last_day = end.pred_opt().unwrap_or(month);
    let mut loss_ratios: BTreeMap<i64, Option<Decimal>> = BTreeMap::new();
    for (agreement_id, (written, booked, dealer_id, product, business_type)) in per_agreement {
        if already_trued.contains(&agreement_id) {
            continue;
        }
        let row = commission_agreements::Entity::find_by_id(agreement_id).one(tx).await?.ok_or(AppError::NotFound)?;
        let terms = agreement_from_row(row)?.terms();
        let loss_ratio = match (&terms.loss_ratio_clause, loss_ratios.get(&dealer_id)) {
            (None, _) => None,
            (Some(_), Some(known)) => *known,
            (Some(_), None) => {
                let known = loss_ratio_to(tx, dealer_id, end).await?;
                loss_ratios.insert(dealer_id, known);
                known
            }
        };
        let clause_applied = commission::clause_applies(&terms, loss_ratio);
        let amount = commission::tier_true_up(&terms, written, booked, clause_applied);
        if amount.is_zero() {
            continue;
        }
        let rate = commission::month_rate(&terms, written, clause_applied);
        super::totals::apply(tx, &Rollup::commission(dealer_id, last_day, fen(amount)?)).await?;
        commission_ledger::Entity::insert(commission_ledger::ActiveModel {
            dealer_id: Set(dealer_id),
            policy_id: Set(None),
            agreement_id: Set(Some(agreement_id)),
            product: Set(product),
            business_type: Set(business_type),
            kind: Set(EntryKind::TierTrueUp.as_str().into()),
            booked_on: Set(last_day),
            basis_fen: Set(fen(written)?),
            rate_micros: Set(micros(rate)?),
            amount_fen: Set(fen(amount)?),
            note: Set(format!("{} net monthly premium", month.format("%Y-%m"))),
            loss_ratio_micros: Set(loss_ratio.map(micros).transpose()?),
            created_at: Set(now()),
            ..Default::default()
        })
        .exec(tx)
        .await?;
    }
    // Statements: every entry of the month not yet on a statement.
    let rows = commission_ledger::Entity::find()
        .filter(commission_ledger::Column::BookedOn.gte(month))
        .filter(commission_ledger::Column::BookedOn.lt(end))
        .order_by_asc(commission_ledger::Column::Id)
        .all(tx)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut linked: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let found: Vec<i64> = commission_statement_lines::Entity::find()
            .select_only()
            .column(commission_statement_lines::Column::EntryId)
            .filter(commission_statement_lines::Column::EntryId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(tx)
            .await?;
        linked.extend(found);
    }
    let mut by_dealer: BTreeMap<i64, Vec<&commission_ledger::Model>> = BTreeMap::new();
    for r in rows.iter().filter(|r| !linked.contains(&r.id)) {
        by_dealer.entry(r.dealer_id).or_default().push(r);
    }
    let mut created = Vec::new();
    let at = now();
    for (dealer_id, entries) in by_dealer {
        let exists = commission_statements::Entity::find()
            .filter(commission_statements::Column::DealerId.eq(dealer_id))
            .filter(commission_statements::Column::Month.eq(month))
            .count(tx)
            .await?;
        if exists > 0 {
            continue;
        }
        let total: i64 = entries.iter().map(|e| e.amount_fen).sum();
        let inserted = commission_statements::Entity::insert(commission_statements::ActiveModel {
            dealer_id: Set(dealer_id),
            month: Set(month),
            status: Set(StatementStatus::Draft.as_str().into()),
            total_fen: Set(total),
            line_count: Set(i64::try_from(entries.len()).unwrap_or(i64::MAX)),
            version: Set(1),
            created_at: Set(at),
            ..Default::default()
        })
        .exec(tx)
        .await?;
        let statement_id = inserted.last_insert_id;
        for chunk in entries.chunks(1000) {
            commission_statement_lines::Entity::insert_many(chunk.iter().map(|e| {
                commission_statement_lines::ActiveModel { statement_id: Set(statement_id), entry_id: Set(e.id) }
            }))
            .exec_without_returning(tx)
            .await?;
        }
        created.push(statement_id);
    }
    let change = Change::new("close_month", "commission_statement", month.format("%Y-%m"))
        .after(&serde_json::json!({ "statements": created }));
    audit::append(tx, actor, change).await?;
    Ok(created)
}

/// A dealer's loss ratio over the 12 months before `end` (a month's first day), from the monitoring totals: what
/// the agreement's loss-ratio clause is judged on at the month's close.
async fn loss_ratio_to(db: &impl ConnectionTrait, dealer_id: i64, end: NaiveDate) -> AppResult<Option<Decimal>> {
    let last_day = end.pred_opt().unwrap_or(end);
    let period = Period::containing(PeriodKind::Rolling12Months, last_day);
    let rollup = super::totals::load(db, Some(&[dealer_id]), Some(period.to)).await?;
    let figures = rollup.figures(dealer_id, period, &LiveClaims::default(), &Bands::default());
    Ok(commission::loss_ratio_for_clause(figures.and_then(|f| f.loss_ratio)))
}

/// Moves a statement draft → confirmed → paid (and nothing else), at the version read.
pub async fn advance_statement(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    version: i32,
    next: StatementStatus,
) -> AppResult<Statement> {
    let row = commission_statements::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let current = StatementStatus::parse(&row.status).unwrap_or(StatementStatus::Draft);
    if !current.can_become(next) {
        return Err(AppError::Conflict(format!("a {} statement cannot become {}", current.as_str(), next.as_str())));
    }
    if row.version != version {
        return Err(AppError::stale_version());
    }
    let at = now();
    let mut update = commission_statements::Entity::update_many()
        .col_expr(commission_statements::Column::Status, Expr::value(next.as_str()))
        .col_expr(commission_statements::Column::Version, Expr::col(commission_statements::Column::Version).add(1))
        .filter(commission_statements::Column::Id.eq(id))
        .filter(commission_statements::Column::Version.eq(version));
    update = match next {
        StatementStatus::Confirmed => update
            .col_expr(commission_statements::Column::ConfirmedAt, Expr::value(Some(at)))
            .col_expr(commission_statements::Column::ConfirmedBy, Expr::value(actor.user_id)),
        StatementStatus::Paid => update
            .col_expr(commission_statements::Column::PaidAt, Expr::value(Some(at)))
            .col_expr(commission_statements::Column::PaidBy, Expr::value(actor.user_id)),
        StatementStatus::Draft => update,
    };
    if update.exec(tx).await?.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let change = Change::new(next.as_str(), "commission_statement", id)
        .before(&serde_json::json!({ "status": current.as_str() }))
        .after(&serde_json::json!({ "status": next.as_str(), "total": from_fen(row.total_fen) }));
    audit::append(tx, actor, change).await?;
    statement(tx, &Scope::All, id).await
}

/// Every statement checked against the ledger; empty when everything reconciles.
pub async fn reconcile(db: &impl ConnectionTrait) -> AppResult<Vec<commission::Difference>> {
    let statements: Vec<StatementTotals> = commission_statements::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| StatementTotals {
            statement_id: s.id,
            dealer_id: s.dealer_id,
            month: s.month,
            total: from_fen(s.total_fen),
            line_count: u64::try_from(s.line_count).unwrap_or(0),
        })
        .collect();
    let links: HashMap<i64, i64> = commission_statement_lines::Entity::find()
        .select_only()
        .column(commission_statement_lines::Column::EntryId)
        .column(commission_statement_lines::Column::StatementId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let ledger: Vec<LedgerLine> = commission_ledger::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| LedgerLine {
            entry_id: r.id,
            dealer_id: r.dealer_id,
            booked_on: r.booked_on,
            kind: EntryKind::parse(&r.kind).unwrap_or(EntryKind::Correction),
            amount: from_fen(r.amount_fen),
            statement_id: links.get(&r.id).copied(),
        })
        .collect();
    Ok(commission::reconcile(&statements, &ledger))
}

/// A statement as CSV, Chinese headers, one row per line and a total row.
pub fn statement_csv(statement: &Statement) -> AppResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let map = |e: csv::Error| AppError::Internal(e.into());
    writer.write_record(STATEMENT_HEADERS).map_err(map)?;
    for line in &statement.lines {
        writer.write_record(statement_row(line)).map_err(map)?;
    }
    writer.write_record(["合计", "", "", "", "", "", "", &statement.total.to_string(), ""]).map_err(map)?;
    writer.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

pub const STATEMENT_HEADERS: [&str; 9] =
    ["记账日期", "保单号", "险种", "业务类型", "类型", "保费基数", "费率", "手续费", "备注"];

pub fn statement_row(line: &LedgerEntry) -> [String; 9] {
    [
        line.booked_on.to_string(),
        line.policy_no.clone().unwrap_or_default(),
        match line.product.as_str() {
            "compulsory" => "交强险".into(),
            "commercial" => "商业险".into(),
            other => other.to_string(),
        },
        match line.business_type.as_str() {
            "new_car" => "新车".into(),
            "renewal" => "续保".into(),
            "transfer_in" => "转保".into(),
            other => other.to_string(),
        },
        match line.kind {
            EntryKind::Accrual => "计提".into(),
            EntryKind::Reversal => "退保冲回".into(),
            EntryKind::Adjustment => "批改调整".into(),
            EntryKind::TierTrueUp => "阶梯补差".into(),
            EntryKind::Correction => "更正".into(),
        },
        line.basis.to_string(),
        line.rate.to_string(),
        line.amount.to_string(),
        line.note.clone(),
    ]
}

/// A statement as an Excel workbook: a title, Chinese headers, the lines with numbers as
/// numbers (2 decimals) and a total row that sums them in Excel.
pub fn statement_xlsx(statement: &Statement) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Formula, Workbook};
    let map = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(statement.month.format("%Y-%m").to_string()).map_err(map)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let rate = Format::new().set_num_format("0.0000%");
    let title = format!(
        "{} {} 手续费结算单 {}（{}）",
        statement.dealer_code,
        statement.dealer_name,
        statement.month.format("%Y年%m月"),
        match statement.status {
            StatementStatus::Draft => "草稿",
            StatementStatus::Confirmed => "已确认",
            StatementStatus::Paid => "已支付",
        }
    );
    sheet.write_string_with_format(0, 0, &title, &bold).map_err(map)?;
    for (col, header) in STATEMENT_HEADERS.iter().enumerate() {
        sheet.write_string_with_format(2, col as u16, *header, &bold).map_err(map)?;
    }
    let first = 3u32;
    for (i, line) in statement.lines.iter().enumerate() {
        let row = first + i as u32;
        let cells = statement_row(line);
        for (col, text) in cells.iter().enumerate().take(5) {
            sheet.write_string(row, col as u16, text).map_err(map)?;
        }
        // Decimals go to Excel as numbers; the amounts have 2 decimals, exact in a double.
        let number = |d: Decimal| d.to_string().parse::<f64>().unwrap_or(0.0);
        sheet.write_number_with_format(row, 5, number(line.basis), &money).map_err(map)?;
        sheet.write_number_with_format(row, 6, number(line.rate), &rate).map_err(map)?;
        sheet.write_number_with_format(row, 7, number(line.amount), &money).map_err(map)?;
        sheet.write_string(row, 8, &line.note).map_err(map)?;
    }
    let total_row = first + statement.lines.len() as u32;
    sheet.write_string_with_format(total_row, 0, "合计", &bold).map_err(map)?;
    let formula =
        if statement.lines.is_empty() { "=0".to_string() } else { format!("=SUM(H{}:H{})", first + 1, total_row) };
    // The cached result is the statement's total, so viewers that do not recalculate show it too.
    let cached = statement.total.to_string();
    sheet
        .write_formula_with_format(total_row, 7, Formula::new(formula).set_result(cached), &money.clone().set_bold())
        .map_err(map)?;
    sheet.set_column_width(0, 12).map_err(map)?;
    sheet.set_column_width(1, 22).map_err(map)?;
    sheet.set_column_width(8, 24).map_err(map)?;
    workbook.save_to_buffer().map_err(map)
}
