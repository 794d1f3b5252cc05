//! Policies: issued from an accepted quote, endorsed and cancelled pro rata by
//! day, every change kept as a version; renewal lists per dealer.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement, TryIntoModel,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::auth::Scope;
use crate::domain::claims::cover::{self, CoverLine};
use crate::domain::money::{from_fen, rate_from_micros, rate_to_micros, to_fen};
use crate::domain::monitoring::{PolicyFact, Rollup};
use crate::domain::underwriting::changes::{self, ChangeKind, Dating, StatutoryReason};
use crate::domain::underwriting::history::{self, Mover};
use crate::domain::underwriting::identity;
use crate::domain::underwriting::issuing::{self, PolicyStatus};
use crate::domain::underwriting::lifecycle::{self, Period};
use crate::domain::underwriting::rating::{
    self, AccidentHistory, CoverageChoice, CoverageKind, PremiumLine, PricingInput, Vehicle,
};
use crate::domain::underwriting::{BusinessType, Product};
use crate::error::{AppError, AppResult, FieldError};
use entity::{policies, policy_coverages, policy_versions, quotes, sales_qualifications};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::quotes::{mask_id, to_quote};
use super::{Page, PageRequest, monitoring, now, totals};

/// The coverage code of vehicle damage (车损险).
const VEHICLE_DAMAGE: &str = "vehicle_damage";

/// One coverage of a policy with its premium.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Coverage {
    pub kind: String,
    pub code: String,
    #[schema(value_type = Option<String>)]
    pub sum_insured: Option<Decimal>,
    #[schema(value_type = String)]
    pub base_premium: Decimal,
    #[schema(value_type = String)]
    pub premium: Decimal,
    #[schema(value_type = Object)]
    pub factors: serde_json::Value,
}

/// One version of a policy: its issue, an endorsement or its cancellation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PolicyVersion {
    pub seq: i32,
    /// `issue`, `endorse` or `cancel`.
    pub kind: String,
    pub effective_date: NaiveDate,
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    #[schema(value_type = String)]
    pub premium_before: Decimal,
    #[schema(value_type = String)]
    pub premium_after: Decimal,
    /// Premium charged (positive) or refunded (negative) by this version.
    #[schema(value_type = String)]
    pub adjustment: Decimal,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

/// A policy as shown: personal data masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Policy {
    pub id: i64,
    pub policy_no: String,
    pub product: Product,
    pub quote_id: i64,
    pub dealer_id: i64,
    pub seller_id: i64,
    pub business_type: BusinessType,
    pub vin: String,
    pub plate: String,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    pub start_date: NaiveDate,
    /// Cover ends at 00:00 of this day.
    pub end_date: NaiveDate,
    /// On today's date: `pending` (cover not begun), `in_force`, `expired` or `cancelled` (from the day the
    /// cancellation takes effect; a policy cancelled from a later day shows `cancelled_from` while still in force).
    pub status: PolicyStatus,
    /// The full-term premium as it stands after endorsements.
    #[schema(value_type = String)]
    pub premium: Decimal,
    #[schema(value_type = String)]
    pub pricing_coefficient: Decimal,
    pub ncd_level: i32,
    pub rating_version_id: i64,
    pub cancelled_from: Option<NaiveDate>,
    pub cancel_reason: Option<String>,
    /// Why a compulsory policy was cancelled: `deregistered`, `laid_up`, `lost` or `insured_twice`.
    pub statutory_reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub refund: Option<Decimal>,
    pub renewal_of_policy_id: Option<i64>,
    pub version: i32,
    pub issued_at: DateTime<Utc>,
    pub coverages: Vec<Coverage>,
    pub versions: Vec<PolicyVersion>,
    /// Set on the answer to issuing when the quote was priced again (the rating version or the start changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerated: Option<Rerated>,
}

impl Policy {
    fn period(&self) -> Period {
        Period { start: self.start_date, end: self.end_date }
    }

    /// The day the latest endorsement takes effect.
    fn last_change(&self) -> Option<NaiveDate> {
        self.versions.iter().filter(|v| v.kind == "endorse").map(|v| v.effective_date).max()
    }
}

fn parse_product(text: &str) -> AppResult<Product> {
    match text {
        "compulsory" => Ok(Product::Compulsory),
        "commercial" => Ok(Product::Commercial),
        other => Err(AppError::Internal(anyhow::anyhow!("unknown product {other:?}"))),
    }
}

async fn to_policy(db: &impl ConnectionTrait, row: policies::Model, with_details: bool) -> AppResult<Policy> {
    if !with_details {
        return assemble(row, Vec::new(), Vec::new());
    }
    let coverages = policy_coverages::Entity::find()
        .filter(policy_coverages::Column::PolicyId.eq(row.id))
        .order_by_asc(policy_coverages::Column::Id)
        .all(db)
        .await?;
    let versions = policy_versions::Entity::find()
        .filter(policy_versions::Column::PolicyId.eq(row.id))
        .order_by_asc(policy_versions::Column::Seq)
        .all(db)
        .await?;
    assemble(row, coverages, versions)
}

/// A policy from its rows (coverages in id order, versions in sequence).
fn assemble(
    row: policies::Model,
    coverages: Vec<policy_coverages::Model>,
    versions: Vec<policy_versions::Model>,
) -> AppResult<Policy> {
    let coverages = coverages
        .into_iter()
        .map(|c| Coverage {
            kind: c.kind,
            code: c.code,
            sum_insured: c.sum_insured_fen.map(from_fen),
            base_premium: from_fen(c.base_premium_fen),
            premium: from_fen(c.premium_fen),
            factors: serde_json::from_str(&c.factors_json).unwrap_or_default(),
        })
        .collect();
    let versions = versions
        .into_iter()
        .map(|v| PolicyVersion {
            seq: v.seq,
            kind: v.kind,
            effective_date: v.effective_date,
            changes: serde_json::from_str(&v.changes_json).unwrap_or_default(),
            premium_before: from_fen(v.premium_before_fen),
            premium_after: from_fen(v.premium_after_fen),
            adjustment: from_fen(v.adjustment_fen),
            created_by: v.created_by,
            created_at: v.created_at,
        })
        .collect();
    Ok(Policy {
        id: row.id,
        policy_no: row.policy_no,
        product: parse_product(&row.product)?,
        quote_id: row.quote_id,
        dealer_id: row.dealer_id,
        seller_id: row.seller_id,
        business_type: BusinessType::parse(&row.business_type).unwrap_or(BusinessType::NewCar),
        vin: row.vin,
        plate: row.plate,
        owner_name: row.owner_name,
        owner_id_number: mask_id(&row.owner_id_number),
        owner_phone: identity::mask_mobile(&row.owner_phone),
        start_date: row.start_date,
        end_date: row.end_date,
        status: issuing::status_on(
            &Period { start: row.start_date, end: row.end_date },
            row.cancelled_from,
            crate::domain::clock::today(),
        ),
        premium: from_fen(row.premium_fen),
        pricing_coefficient: rate_from_micros(row.pricing_coefficient_micros),
        ncd_level: row.ncd_level,
        rating_version_id: row.rating_version_id,
        cancelled_from: row.cancelled_from,
        cancel_reason: row.cancel_reason,
        statutory_reason: row.statutory_reason,
        refund: row.refund_fen.map(from_fen),
        renewal_of_policy_id: row.renewal_of_policy_id,
        version: row.version,
        issued_at: row.issued_at,
        coverages,
        versions,
        rerated: None,
    })
}

/// A policy within the scope, with its coverages and versions.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<Policy> {
    let row = policies::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    to_policy(db, row, true).await
}

/// The other policies issued from the same quote (the compulsory and commercial pair).
pub async fn siblings(db: &impl ConnectionTrait, policy: &Policy) -> AppResult<Vec<(i64, String, Product)>> {
    let rows = policies::Entity::find()
        .filter(policies::Column::QuoteId.eq(policy.quote_id))
        .filter(policies::Column::Id.ne(policy.id))
        .order_by_asc(policies::Column::Id)
        .all(db)
        .await?;
    rows.into_iter().map(|r| Ok((r.id, r.policy_no, parse_product(&r.product)?))).collect()
}

/// Issues the quote's policies (compulsory and commercial, each numbered in its own series).
/// Refused when the seller's qualification is not valid that day, or the quote may not be issued.
pub async fn issue(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    quote_id: i64,
    today: NaiveDate,
    start_offset_days: u32,
) -> AppResult<Vec<Policy>> {
    let seller_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let qualified = Query::select()
        .expr(Expr::val(1))
        .from(sales_qualifications::Entity)
        .and_where(sales_qualifications::Column::UserId.eq(seller_id))
        .and_where(sales_qualifications::Column::ValidFrom.lte(today))
        .and_where(sales_qualifications::Column::ValidTo.gte(today))
        .to_owned();
    // Named apart from the quote's own `status`: PostgreSQL names a scalar subquery's column after the column inside.
    let dealer_status = Query::select()
        .expr_as(Expr::col(entity::dealers::Column::Status), "dealer_status")
        .from(entity::dealers::Entity)
        .and_where(
            Expr::col((entity::dealers::Entity, entity::dealers::Column::Id))
                .equals((quotes::Entity, quotes::Column::DealerId)),
        )
        .to_owned();
    // The quote is claimed first, and the same statement answers the checks and reserves the policies' ids (so that
    // each policy is written once, numbered, rather than inserted and numbered by an UPDATE); any refusal below rolls
    // the claim back with the transaction.
    // The start of cover if issued now: the next day, or the quote's later start (a renewal); the rating version in
    // force then decides whether the quote must be priced again.
    let standard_start = lifecycle::standard_period(today, start_offset_days).start;
    let quoted_start = Expr::col((quotes::Entity, quotes::Column::StartDate));
    let start = Expr::case(quoted_start.clone().gt(standard_start), quoted_start).finally(Expr::val(standard_start));
    let version_in_force = Expr::SubQuery(None, Box::new(super::rating::id_in_force_on_expr(start.into()).into()));
    let backend = tx.get_database_backend();
    let [compulsory_agreement, compulsory_terms] = super::commission::in_force_for_quote("compulsory", today);
    let [commercial_agreement, commercial_terms] = super::commission::in_force_for_quote("commercial", today);
    let checks = [
        Expr::from(dealer_status),
        Expr::exists(qualified),
        next_policy_id(backend, 1),
        next_policy_id(backend, 2),
        version_in_force,
        lock_vin(backend),
        compulsory_agreement,
        compulsory_terms,
        commercial_agreement,
        commercial_terms,
    ];
    let (quote_row, claimed) = super::quotes::claim_for_issue(tx, scope, quote_id, checks).await?;
    let at = super::quotes::claimed_columns();
    let dealer_status: String = claimed.try_get_by_index::<Option<String>>(at)?.ok_or(AppError::NotFound)?;
    let seller_qualified: bool = claimed.try_get_by_index(at + 1)?;
    let reserved_ids: [i64; 2] = [claimed.try_get_by_index(at + 2)?, claimed.try_get_by_index(at + 3)?];
    let version_in_force: Option<i64> = claimed.try_get_by_index(at + 4)?;
    let agreements: Vec<super::commission::InForce> = [
        super::commission::in_force_claimed(&claimed, at + 6)?,
        super::commission::in_force_claimed(&claimed, at + 8)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let quote = to_quote(quote_row.clone())?;
    if !seller_qualified {
        let message =
            format!("your sales qualification certificate is missing or not valid on {today}; issuing is refused");
        return Err(AppError::field("seller", "seller_unqualified", message));
    }
    if dealer_status == "suspended" {
        return Err(AppError::Conflict("the dealer is suspended and may not issue policies".into()));
    }
    let valid_until = quote_row.valid_until.unwrap_or(quote_row.start_date);
    issuing::check_valid(valid_until, today).map_err(AppError::Refused)?;
    let mut period = lifecycle::standard_period(today, start_offset_days);
    if quote.start_date > period.start {
        // A renewal starts when the old policy ends.
        period = Period { start: quote.start_date, end: lifecycle::standard_period(quote.start_date, 0).end };
    }
    let version_in_force = version_in_force
        .ok_or_else(|| AppError::Conflict(format!("no rating tables are in force on {}", period.start)))?;
    let reasons = issuing::rerate_reasons(quote.rating_version_id, version_in_force, quote.start_date, period.start);
    let mut quote_row = quote_row;
    let (lines, rerated) = if reasons.is_empty() {
        (quote.premium.lines.clone(), None)
    } else {
        let repriced = super::quotes::rerate(tx, &quote_row, &quote, period.start).await?;
        let rerated = Rerated { reasons, premium_before: quote.premium.total, premium_after: repriced.premium.total };
        // The policies carry what they are priced with: the version in force, the start, the coefficient.
        quote_row.rating_version_id = repriced.rating_version_id;
        quote_row.start_date = repriced.start_date;
        quote_row.pricing_coefficient_micros = rate_to_micros(repriced.pricing_coefficient)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("coefficient: {e}")))?;
        (repriced.premium.lines, Some(rerated))
    };
    let parts = split_by_product(&lines);
    let ids = &reserved_ids[..parts.len()];
    let renews = match quote_row.renewal_of_policy_id {
        Some(old) => renewed_pair(tx, old).await?,
        None => Vec::new(),
    };
    // One statement per table for all of the quote's policies: issuing is the busiest write, and on
    // a small machine its throughput is set by round trips. The insert also counts the car's other policies.
    let (rows, others_on_car) = insert_policies(tx, &quote_row, &parts, ids, &period, &renews).await?;
    // Every other policy the car was ever insured under: the cover a new policy must not overlap (a refusal rolls
    // the insert back with the transaction), and the car's facts that the new policies change the monitoring totals
    // against. A car new to the insurer, the most common sale, has none and costs no read.
    let car_rows = if others_on_car > 0 {
        let mut car = monitoring::vehicle_policies(tx, &quote.vin).await?;
        car.retain(|row| !ids.contains(&row.id));
        car
    } else {
        Vec::new()
    };
    let existing = cover_from(&car_rows, period.start)?;
    for (product, _) in &parts {
        issuing::check_no_overlap(*product, &period, &existing).map_err(AppError::Refused)?;
    }
    let coverage_sets: Vec<(i64, &[&PremiumLine])> =
        rows.iter().zip(&parts).map(|(row, (_, lines))| (row.id, lines.as_slice())).collect();
    let mut coverages = insert_coverages(tx, &coverage_sets).await?;
    let versions = rows
        .iter()
        .map(|row| {
            let premium = from_fen(row.premium_fen);
            let changes = serde_json::json!({ "quote_id": quote.id, "rerated": rerated });
            version_row(row.id, 1, "issue", period.start, changes, Decimal::ZERO, premium, premium, seller_id)
        })
        .collect::<AppResult<Vec<_>>>()?;
    let mut versions = policy_versions::Entity::insert_many(versions).exec_with_returning(tx).await?;
    let mut totals = super::commission::accrue_on_issue(tx, &rows, &agreements, today).await?;
    // The car before and after: the old policies this sale renews now count as renewed, and the new ones join them.
    let car_before = monitoring::policy_facts(tx, &car_rows).await?.0;
    let mut car_after: Vec<PolicyFact> = car_before
        .iter()
        .map(|fact| PolicyFact {
            renewed_by_policy: fact.renewed_by_policy || renews.iter().any(|(_, old)| *old == fact.policy_id),
            ..fact.clone()
        })
        .collect();
    for row in &rows {
        let own: Vec<policy_versions::Model> = versions.iter().filter(|v| v.policy_id == row.id).cloned().collect();
        let (fact, written) = monitoring::policy_fact(row, &own, false);
        for entry in written {
            totals += Rollup::written(entry.dealer_id, entry.booked_on, fen(entry.amount)?);
        }
        car_after.push(fact);
    }
    totals += Rollup::vehicle(&car_after.iter().collect::<Vec<_>>())
        + -Rollup::vehicle(&car_before.iter().collect::<Vec<_>>());
    let mut issued = Vec::with_capacity(rows.len());
    for row in rows {
        let (own_coverages, rest) = coverages.into_iter().partition(|c| c.policy_id == row.id);
        coverages = rest;
        let (own_versions, rest) = versions.into_iter().partition(|v| v.policy_id == row.id);
        versions = rest;
        let mut policy = assemble(row, own_coverages, own_versions)?;
        policy.rerated = rerated.clone();
        issued.push(policy);
    }
    let changes = issued.iter().map(|policy| {
        Change::new("issue", "policy", policy.id).after(&serde_json::json!({
            "policy_no": policy.policy_no, "product": policy.product, "premium": policy.premium,
            "dealer_id": policy.dealer_id, "start_date": policy.start_date, "end_date": policy.end_date,
        }))
    });
    audit::append_all(tx, actor, changes).await?;
    // Last, so that the monitoring totals' rows (shared by the dealer's other sales) stay locked only to the commit.
    totals::apply(tx, &totals).await?;
    Ok(issued)
}

/// Compulsory and commercial cover become separate policies, each in its own number series.
fn split_by_product(lines: &[PremiumLine]) -> Vec<(Product, Vec<&PremiumLine>)> {
    [Product::Compulsory, Product::Commercial]
        .into_iter()
        .filter_map(|product| {
            let lines: Vec<&PremiumLine> = lines
                .iter()
                .filter(|l| (l.coverage == CoverageKind::Compulsory) == (product == Product::Compulsory))
                .collect();
            (!lines.is_empty()).then_some((product, lines))
        })
        .collect()
}

/// A quote priced again at issue: why, and the total before and after.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rerated {
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<issuing::RerateReason>,
    #[schema(value_type = String)]
    pub premium_before: Decimal,
    #[schema(value_type = String)]
    pub premium_after: Decimal,
}

/// A car's PostgreSQL advisory lock, held to the end of the transaction, on the VIN given by the SQL `vin`. 28 keeps
/// these locks apart from any other advisory lock; the second key is the VIN's hash.
fn car_lock(vin: &str) -> String {
    format!("pg_advisory_xact_lock(28, hashtext({vin}))")
}

/// On PostgreSQL, locks the quote's VIN to the transaction (an expression of the claiming statement), so that two
/// sales of one car at the same moment cannot both pass the overlap check; SQLite runs one write transaction at a
/// time.
fn lock_vin(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust(format!(r#"(SELECT 1 AS vin_locked FROM {})"#, car_lock(r#""quotes"."vin""#)))
        }
        _ => Expr::val(1),
    }
}

/// On PostgreSQL, takes the car's lock (the one issuing takes) before a change reads the car's facts, so that two
/// changes to policies of one car never compute their monitoring deltas from the same state; SQLite runs one write
/// transaction at a time.
async fn lock_car(tx: &impl ConnectionTrait, vin: &str) -> AppResult<()> {
    if tx.get_database_backend() == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {}", car_lock("$1")),
            [vin.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The car's cover that is or will be in force from `from` on: what a new policy must not overlap.
fn cover_from(car: &[policies::Model], from: NaiveDate) -> AppResult<Vec<issuing::CoverOnVin>> {
    car.iter()
        .filter(|row| row.end_date > from)
        .map(|row| {
            Ok(issuing::CoverOnVin {
                product: parse_product(&row.product)?,
                policy_no: row.policy_no.clone(),
                period: Period { start: row.start_date, end: row.end_date },
                cancelled_from: row.cancelled_from,
            })
        })
        .collect()
}

/// The sale a renewal of `old_id` renews, and the policies it renews by product: it and the other policies of its
/// sale not cancelled.
async fn renewed_pair(tx: &impl ConnectionTrait, old_id: i64) -> AppResult<Vec<(Product, i64)>> {
    let Some(old) = policies::Entity::find_by_id(old_id).one(tx).await? else { return Ok(Vec::new()) };
    let pair = policies::Entity::find()
        .filter(policies::Column::QuoteId.eq(old.quote_id))
        .filter(Condition::any().add(policies::Column::Id.eq(old_id)).add(policies::Column::CancelledFrom.is_null()))
        .all(tx)
        .await?;
    let renewed = pair.into_iter().map(|row| Ok((parse_product(&row.product)?, row.id))).collect::<AppResult<_>>()?;
    Ok(renewed)
}

/// The id the `nth` (from 1) policy inserted by this transaction will have. PostgreSQL takes it from the id
/// sequence (a quote with one product leaves the second unused: ids and numbers may have gaps, never repeats);
/// SQLite, whose write transactions run one at a time, counts on from the table's AUTOINCREMENT counter, exactly as
/// its own insert would.
fn next_policy_id(backend: DbBackend, nth: usize) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust("nextval(pg_get_serial_sequence('policies', 'id'))"),
        _ => Expr::cust(format!("(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'policies') + {nth}")),
    }
}

/// Inserts one policy per product of the quote, with the ids reserved for them; rows come back in `parts` order.
async fn insert_policies(
    tx: &impl ConnectionTrait,
    quote: &quotes::Model,
    parts: &[(Product, Vec<&PremiumLine>)],
    ids: &[i64],
    period: &Period,
    renews: &[(Product, i64)],
) -> AppResult<(Vec<policies::Model>, i64)> {
    let at = now();
    let mut new_rows = Vec::with_capacity(parts.len());
    for ((product, lines), id) in parts.iter().zip(ids) {
        let premium: Decimal = lines.iter().map(|l| l.premium).sum();
        new_rows.push(policies::ActiveModel {
            id: Set(*id),
            policy_no: Set(product.policy_number(period.start.year(), *id)),
            product: Set(product.as_str().into()),
            quote_id: Set(quote.id),
            dealer_id: Set(quote.dealer_id),
            seller_id: Set(quote.seller_id),
            business_type: Set(quote.business_type.clone()),
            vin: Set(quote.vin.clone()),
            plate: Set(quote.plate.clone()),
            owner_name: Set(quote.owner_name.clone()),
            owner_id_number: Set(quote.owner_id_number.clone()),
            owner_phone: Set(quote.owner_phone.clone()),
            start_date: Set(period.start),
            end_date: Set(period.end),
            status: Set("in_force".into()),
            premium_fen: Set(fen(premium)?),
            pricing_coefficient_micros: Set(rate_to_micros(
                product.pricing_coefficient(rate_from_micros(quote.pricing_coefficient_micros)),
            )
            .map_err(|e| AppError::Internal(e.into()))?),
            ncd_level: Set(quote.ncd_level),
            rating_version_id: Set(quote.rating_version_id),
            cancelled_from: Set(None),
            cancel_reason: Set(None),
            statutory_reason: Set(None),
            refund_fen: Set(None),
            renewal_of_policy_id: Set(renews.iter().find(|(old, _)| old == product).map(|(_, id)| *id)),
            version: Set(1),
            issued_at: Set(at),
            updated_at: Set(at),
        });
    }
    // Every column is set here, so the rows are known without reading them back; the statement returns only how many
    // other policies the car has. It runs after the claim took the VIN's lock, so on PostgreSQL its snapshot holds
    // every policy committed on the car before; the new rows are left out by id.
    let rows = new_rows.iter().map(|row| row.clone().try_into_model()).collect::<Result<Vec<_>, _>>()?;
    let car = Alias::new("car");
    let others_on_car = Query::select()
        .expr_as(Expr::col((car.clone(), policies::Column::Id)).count(), Alias::new("others_on_car"))
        .from_as(policies::Entity, car.clone())
        .and_where(Expr::col((car.clone(), policies::Column::Vin)).eq(quote.vin.as_str()))
        .and_where(Expr::col((car, policies::Column::Id)).is_not_in(ids.iter().copied()))
        .to_owned();
    let mut insert = policies::Entity::insert_many(new_rows).into_query();
    insert.returning(Query::returning().expr(Expr::SubQuery(None, Box::new(others_on_car.into()))));
    let returned =
        tx.query_one(&insert).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no row inserted")))?;
    let others_on_car: i64 = returned.try_get_by_index(0)?;
    Ok((rows, others_on_car))
}

/// When a version row about to be inserted was made (its `created_at` books its written premium).
fn now_of(version: &policy_versions::ActiveModel) -> chrono::DateTime<chrono::Utc> {
    match &version.created_at {
        sea_orm::ActiveValue::Set(at) | sea_orm::ActiveValue::Unchanged(at) => *at,
        sea_orm::ActiveValue::NotSet => now(),
    }
}

fn fen(amount: Decimal) -> AppResult<i64> {
    to_fen(amount).map_err(|e| AppError::Internal(anyhow::anyhow!("amount {amount}: {e}")))
}

/// Adds the coverage rows of policies (policy id, its premium lines) in one statement and returns them.
async fn insert_coverages(
    tx: &impl ConnectionTrait,
    sets: &[(i64, &[&PremiumLine])],
) -> AppResult<Vec<policy_coverages::Model>> {
    let mut rows = Vec::new();
    for (policy_id, line) in sets.iter().flat_map(|(policy_id, lines)| lines.iter().map(move |line| (*policy_id, line)))
    {
        rows.push(policy_coverages::ActiveModel {
            policy_id: Set(policy_id),
            kind: Set(serde_json::to_value(line.coverage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()),
            code: Set(line.code.clone()),
            sum_insured_fen: Set(line.sum_insured.map(fen).transpose()?),
            base_premium_fen: Set(fen(line.base_premium)?),
            premium_fen: Set(fen(line.premium)?),
            factors_json: Set(serde_json::to_string(&line.factors).unwrap_or_else(|_| "[]".into())),
            ..Default::default()
        });
    }
    Ok(policy_coverages::Entity::insert_many(rows).exec_with_returning(tx).await?)
}

#[allow(clippy::too_many_arguments)]
fn version_row(
    policy_id: i64,
    seq: i32,
    kind: &str,
    effective: NaiveDate,
    changes: serde_json::Value,
    before: Decimal,
    after: Decimal,
    adjustment: Decimal,
    created_by: i64,
) -> AppResult<policy_versions::ActiveModel> {
    Ok(policy_versions::ActiveModel {
        policy_id: Set(policy_id),
        seq: Set(seq),
        kind: Set(kind.into()),
        effective_date: Set(effective),
        changes_json: Set(changes.to_string()),
        premium_before_fen: Set(fen(before)?),
        premium_after_fen: Set(fen(after)?),
        adjustment_fen: Set(fen(adjustment)?),
        created_by: Set(created_by),
        created_at: Set(now()),
        ..Default::default()
    })
}

/// What an endorsement changes; fields left out stay.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    /// The policy version you read.
    pub version: i32,
    /// First day the change applies from 00:00; the next 00:00 (China time) when left out, which is also the
    /// earliest the store may choose. An earlier day needs an underwriter and `backdate_reason`.
    pub effective_date: Option<NaiveDate>,
    /// Why the change takes effect before the next 00:00 (underwriters only).
    #[serde(default)]
    pub backdate_reason: Option<String>,
    pub plate: Option<String>,
    pub owner_phone: Option<String>,
    /// New commercial coverages (commercial policies only).
    #[schema(value_type = Option<Object>)]
    pub coverages: Option<CoverageChoice>,
    /// A new agreed vehicle-damage sum insured, keeping the other coverages (commercial policies with
    /// vehicle damage only); at most the actual value, at least the rating table's share of it.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub vehicle_damage_sum_insured: Option<Decimal>,
}

/// Applies an endorsement: a pro-rata premium difference by day, recorded as a new version.
pub async fn endorse(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    endorsement: Endorsement,
) -> AppResult<Policy> {
    let before = get(tx, scope, id).await?;
    if before.cancelled_from.is_some() {
        return Err(AppError::Conflict("a cancelled policy cannot be endorsed".into()));
    }
    if before.version != endorsement.version {
        return Err(AppError::stale_version());
    }
    let role = super::users::role_of(tx, actor.user_id).await?;
    let vehicle_damage = before.coverages.iter().find(|c| c.code == VEHICLE_DAMAGE).and_then(|c| c.sum_insured);
    let claims = super::claims::history::on_policy(tx, id, vehicle_damage).await?;
    let dating = Dating {
        kind: ChangeKind::Endorse,
        requested: endorsement.effective_date,
        backdate_reason: endorsement.backdate_reason.as_deref(),
        role,
        today: super::quotes::today(),
    };
    let mut errors = Vec::new();
    let dated = changes::effective_date(dating, &before.period(), &claims.accident_days, before.last_change())
        .map_err(|p| errors.push(p))
        .ok();
    let effective = dated.map_or(before.start_date, |d| d.date);
    let backdate_reason =
        endorsement.backdate_reason.as_deref().map(str::trim).filter(|_| dated.is_some_and(|d| d.backdated));
    let plate = match endorsement.plate.as_deref() {
        Some(text) => identity::normalize_plate(text).map(|p| Some(p.text)).unwrap_or_else(|e| {
            errors.push(FieldError::new("plate", e.code, e.message));
            None
        }),
        None => None,
    };
    let phone = match endorsement.owner_phone.as_deref() {
        Some(text) => identity::normalize_mobile(text).map(Some).unwrap_or_else(|e| {
            errors.push(FieldError::new("owner_phone", e.code, e.message));
            None
        }),
        None => None,
    };
    let mut new_lines = None;
    let mut requested = endorsement.coverages.clone();
    if let Some(sum_insured) = endorsement.vehicle_damage_sum_insured {
        let mut choice = match requested.take() {
            Some(choice) => choice,
            None => current_choice(tx, &before).await?,
        };
        if before.product == Product::Commercial && !choice.vehicle_damage {
            errors.push(FieldError::new(
                "vehicle_damage_sum_insured",
                "no_vehicle_damage",
                "the policy has no vehicle damage cover to change the sum insured of",
            ));
        }
        choice.vehicle_damage_sum_insured = Some(sum_insured);
        requested = Some(choice);
    }
    if let Some(mut coverages) = requested.clone() {
        if before.product != Product::Commercial {
            errors.push(FieldError::new("coverages", "not_allowed", "coverages change only on a commercial policy"));
        } else {
            coverages.compulsory = false;
            match reprice(tx, &before, coverages).await? {
                Ok(lines) => new_lines = Some(lines),
                Err(found) => errors.extend(found.into_iter().map(|mut e| {
                    // The agreed sum insured is its own field of the endorsement.
                    if e.field == "coverages.vehicle_damage_sum_insured" && endorsement.coverages.is_none() {
                        e.field = "vehicle_damage_sum_insured".into();
                    }
                    e
                })),
            }
        }
    }
    if plate.is_none() && phone.is_none() && new_lines.is_none() && errors.is_empty() {
        errors.push(FieldError::new(
            "body",
            "nothing_to_change",
            "give a plate, a phone, coverages or a vehicle-damage sum insured to change",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    // The cover before and after, kept on the version so that a claim is settled on the cover at its accident.
    let cover_before: Vec<CoverLine> =
        before.coverages.iter().map(|c| CoverLine { code: c.code.clone(), sum_insured: c.sum_insured }).collect();
    let cover_after: Option<Vec<CoverLine>> = new_lines
        .as_ref()
        .map(|lines| lines.iter().map(|l| CoverLine { code: l.code.clone(), sum_insured: l.sum_insured }).collect());
    if let Some(after) = &cover_after {
        let open = super::claims::open_claim_numbers(tx, id).await?;
        cover::check_endorsement_with_open_claims(&cover_before, after, &open, role)
            .map_err(|problem| AppError::Validation(vec![problem]))?;
    }
    let new_premium = new_lines.as_ref().map(|lines| lines.iter().map(|l| l.premium).sum()).unwrap_or(before.premium);
    let adjustment = lifecycle::endorsement_adjustment(before.premium, new_premium, &before.period(), effective);
    lock_car(tx, &before.vin).await?;
    let vehicle_before = monitoring::vehicle_facts(tx, &before.vin).await?;
    let mut update = policies::Entity::update_many()
        .col_expr(policies::Column::PremiumFen, Expr::value(fen(new_premium)?))
        .col_expr(policies::Column::Version, Expr::col(policies::Column::Version).add(1))
        .col_expr(policies::Column::UpdatedAt, Expr::value(now()))
        .filter(policies::Column::Id.eq(id))
        .filter(policies::Column::Version.eq(endorsement.version));
    if let Some(plate) = &plate {
        update = update.col_expr(policies::Column::Plate, Expr::value(plate.clone()));
    }
    if let Some(phone) = &phone {
        update = update.col_expr(policies::Column::OwnerPhone, Expr::value(phone.clone()));
    }
    if update.exec(tx).await?.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    if let Some(lines) = &new_lines {
        let refs: Vec<&PremiumLine> = lines.iter().collect();
        policy_coverages::Entity::delete_many().filter(policy_coverages::Column::PolicyId.eq(id)).exec(tx).await?;
        insert_coverages(tx, &[(id, &refs)]).await?;
    }
    let changes = serde_json::json!({
        "plate": plate, "owner_phone": phone.as_deref().map(identity::mask_mobile),
        "coverages": requested.as_ref().filter(|_| new_lines.is_some()),
        "cover_before": cover_after.as_ref().map(|_| &cover_before),
        "backdate_reason": backdate_reason,
        "cover_after": cover_after,
    });
    let seq = before.versions.len() as i32 + 1;
    let version = version_row(
        id,
        seq,
        "endorse",
        effective,
        changes.clone(),
        before.premium,
        new_premium,
        adjustment,
        actor.user_id.unwrap_or_default(),
    )?;
    let written = Rollup::written(before.dealer_id, monitoring::local_day(now_of(&version)), fen(adjustment)?);
    policy_versions::Entity::insert(version).exec(tx).await?;
    let commission = super::commission::adjust_on_endorse(tx, id, adjustment, super::quotes::today()).await?;
    let after = get(tx, &Scope::All, id).await?;
    let change = Change::new("endorse", "policy", id)
        .before(&serde_json::json!({ "premium": before.premium, "plate": before.plate }))
        .after(&serde_json::json!({ "premium": after.premium, "plate": after.plate, "adjustment": adjustment, "changes": changes }));
    audit::append(tx, actor, change).await?;
    let vehicle = Rollup::vehicle(&monitoring::vehicle_facts(tx, &before.vin).await?.iter().collect::<Vec<_>>())
        + -Rollup::vehicle(&vehicle_before.iter().collect::<Vec<_>>());
    totals::apply(tx, &(vehicle + written + commission)).await?;
    Ok(after)
}

/// The commercial coverages a policy has now: the latest endorsement that changed them, else its quote's.
pub(crate) async fn current_choice(db: &impl ConnectionTrait, policy: &Policy) -> AppResult<CoverageChoice> {
    for version in policy.versions.iter().rev() {
        if let Some(coverages) = version.changes.get("coverages").filter(|c| !c.is_null())
            && let Ok(choice) = serde_json::from_value::<CoverageChoice>(coverages.clone())
        {
            return Ok(choice);
        }
    }
    let quote = super::quotes::row(db, &Scope::All, policy.quote_id).await?;
    let mut choice: CoverageChoice =
        serde_json::from_str(&quote.coverages_json).map_err(|e| AppError::Internal(e.into()))?;
    choice.compulsory = false;
    Ok(choice)
}

/// Prices new commercial coverages with the rating version the policy was priced with.
async fn reprice(
    db: &impl ConnectionTrait,
    policy: &Policy,
    coverages: CoverageChoice,
) -> AppResult<Result<Vec<PremiumLine>, Vec<FieldError>>> {
    let quote = super::quotes::row(db, &Scope::All, policy.quote_id).await?;
    let rating = super::rating::get(db, policy.rating_version_id).await?;
    let input = PricingInput {
        vehicle: Vehicle {
            first_registration: quote.first_registration,
            new_car_price: from_fen(quote.new_car_price_fen),
            seats: u32::try_from(quote.seats).unwrap_or_default(),
        },
        start_date: policy.start_date,
        accident_history: to_quote(quote.clone())?.accident_history,
        ncd_level: quote.ncd_level,
        pricing_coefficient: rate_from_micros(quote.pricing_coefficient_micros),
        coverages,
    };
    Ok(match rating::price(&rating.document.tables, &input) {
        Ok(premium) => Ok(premium.lines.into_iter().filter(|l| l.coverage != CoverageKind::Compulsory).collect()),
        Err(problems) => Err(problems.into_iter().map(|p| FieldError::new(p.field, p.code, p.message)).collect()),
    })
}

/// A cancellation request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    pub version: i32,
    /// From this day 00:00 the policy covers nothing; the next 00:00 (China time) when left out, which is also the
    /// earliest the store may choose. An earlier day needs an underwriter and `backdate_reason`.
    pub effective_date: Option<NaiveDate>,
    pub reason: String,
    /// Required for a compulsory policy: `deregistered`, `laid_up`, `lost` or `insured_twice`.
    pub statutory_reason: Option<StatutoryReason>,
    /// Why the cancellation takes effect before the next 00:00 (underwriters only).
    pub backdate_reason: Option<String>,
}

/// Cancels a policy: refunds the premium of the days not yet covered, pro rata by day, to the fen.
pub async fn cancel(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    cancellation: Cancellation,
    today: NaiveDate,
) -> AppResult<Policy> {
    let before = get(tx, scope, id).await?;
    if before.cancelled_from.is_some() {
        return Err(AppError::Conflict("the policy is already cancelled".into()));
    }
    if before.version != cancellation.version {
        return Err(AppError::stale_version());
    }
    let reason = cancellation.reason.trim();
    if reason.is_empty() {
        return Err(AppError::field("reason", "required", "give the reason for the cancellation"));
    }
    let role = super::users::role_of(tx, actor.user_id).await?;
    let vehicle_damage = before.coverages.iter().find(|c| c.code == VEHICLE_DAMAGE);
    let claims = super::claims::history::on_policy(tx, id, vehicle_damage.and_then(|c| c.sum_insured)).await?;
    let statutory_reason =
        changes::check_cancellation(before.product, cancellation.statutory_reason, role, claims.counts)
            .map_err(|problem| AppError::Validation(vec![problem]))?;
    let dating = Dating {
        kind: ChangeKind::Cancel,
        requested: cancellation.effective_date,
        backdate_reason: cancellation.backdate_reason.as_deref(),
        role,
        today,
    };
    let effective = changes::effective_date(dating, &before.period(), &claims.accident_days, before.last_change())
        .map_err(|problem| AppError::Validation(vec![problem]))?;
    let backdate_reason = cancellation.backdate_reason.as_deref().map(str::trim).filter(|_| effective.backdated);
    let effective = effective.date;
    let vehicle_damage_premium = vehicle_damage.map_or(Decimal::ZERO, |c| c.premium);
    let refund = changes::cancellation_refund(
        before.premium,
        vehicle_damage_premium,
        &before.period(),
        effective,
        claims.paid_total_loss,
    );
    lock_car(tx, &before.vin).await?;
    let vehicle_before = monitoring::vehicle_facts(tx, &before.vin).await?;
    let result = policies::Entity::update_many()
        .col_expr(policies::Column::Status, Expr::value("cancelled"))
        .col_expr(policies::Column::CancelledFrom, Expr::value(Some(effective)))
        .col_expr(policies::Column::CancelReason, Expr::value(Some(reason.to_string())))
        .col_expr(policies::Column::StatutoryReason, Expr::value(statutory_reason.map(|r| r.as_str().to_string())))
        .col_expr(policies::Column::RefundFen, Expr::value(Some(fen(refund)?)))
        .col_expr(policies::Column::Version, Expr::col(policies::Column::Version).add(1))
        .col_expr(policies::Column::UpdatedAt, Expr::value(now()))
        .filter(policies::Column::Id.eq(id))
        .filter(policies::Column::Version.eq(cancellation.version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let seq = before.versions.len() as i32 + 1;
    let changes = serde_json::json!({
        "reason": reason, "refund": refund, "statutory_reason": statutory_reason,
        "backdate_reason": backdate_reason, "vehicle_damage_kept": claims.paid_total_loss,
    });
    let version = version_row(
        id,
        seq,
        "cancel",
        effective,
        changes,
        before.premium,
        before.premium - refund,
        -refund,
        actor.user_id.unwrap_or_default(),
    )?;
    let written = Rollup::written(before.dealer_id, monitoring::local_day(now_of(&version)), -fen(refund)?);
    policy_versions::Entity::insert(version).exec(tx).await?;
    let charged: Decimal = before.versions.iter().map(|v| v.adjustment).sum();
    let commission = super::commission::reverse_on_cancel(tx, id, refund, charged, today).await?;
    let after = get(tx, &Scope::All, id).await?;
    let change = Change::new("cancel", "policy", id).before(&serde_json::json!({ "status": before.status })).after(
        &serde_json::json!({
            "status": after.status, "cancelled_from": effective, "refund": refund, "reason": reason,
            "statutory_reason": statutory_reason, "backdate_reason": backdate_reason,
        }),
    );
    audit::append(tx, actor, change).await?;
    let vehicle = Rollup::vehicle(&monitoring::vehicle_facts(tx, &before.vin).await?.iter().collect::<Vec<_>>())
        + -Rollup::vehicle(&vehicle_before.iter().collect::<Vec<_>>());
    totals::apply(tx, &(vehicle + written + commission)).await?;
    Ok(after)
}

#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    /// Policy number, plate, VIN or owner name (part of).
    pub search: Option<String>,
    pub status: Option<PolicyStatus>,
    pub product: Option<Product>,
    pub dealer_id: Option<i64>,
}

/// The policies whose status on `today` is `status`, as [`issuing::status_on`] decides it, in SQL.
fn status_on(status: PolicyStatus, today: NaiveDate) -> Condition {
    let cancelled_from = || Expr::col(policies::Column::CancelledFrom);
    let cancelled = Condition::all().add(cancelled_from().is_not_null()).add(
        Condition::any()
            .add(cancelled_from().lte(today))
            .add(cancelled_from().lte(Expr::col(policies::Column::StartDate))),
    );
    let not_cancelled = cancelled.clone().not();
    match status {
        PolicyStatus::Cancelled => cancelled,
        PolicyStatus::Pending => Condition::all().add(not_cancelled).add(policies::Column::StartDate.gt(today)),
        PolicyStatus::InForce => Condition::all()
            .add(not_cancelled)
            .add(policies::Column::StartDate.lte(today))
            .add(policies::Column::EndDate.gt(today)),
        PolicyStatus::Expired => Condition::all().add(not_cancelled).add(policies::Column::EndDate.lte(today)),
    }
}

/// Whether the text is a whole policy number (series, year, ten digits): no other policy's number contains it.
fn is_policy_no(text: &str) -> bool {
    [Product::Compulsory, Product::Commercial].iter().any(|product| {
        text.strip_prefix(product.number_prefix())
            .is_some_and(|rest| rest.len() == 14 && rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Policies in scope, newest first.
pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &PolicyFilter,
    paging: PageRequest,
) -> AppResult<Page<Policy>> {
    let mut query = policies::Entity::find().filter(in_scope(scope, policies::Column::DealerId));
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let term = search.to_uppercase();
        // A whole policy number or VIN (what a seller scans or pastes) is found through its index; any other text
        // is looked for in every policy's number, plate, VIN and owner, which reads the dealer's whole book.
        if is_policy_no(&term) {
            query = query.filter(policies::Column::PolicyNo.eq(term));
        } else if let Ok(vin) = identity::normalize_vin(&term) {
            query = query.filter(policies::Column::Vin.eq(vin));
        } else {
            let pattern = format!("%{}%", term.replace(['%', '_'], ""));
            let name = format!("%{}%", search.replace(['%', '_'], ""));
            query = query.filter(
                Condition::any()
                    .add(policies::Column::PolicyNo.like(&pattern))
                    .add(policies::Column::Plate.like(&pattern))
                    .add(policies::Column::Vin.like(&pattern))
                    .add(policies::Column::OwnerName.like(&name)),
            );
        }
    }
    if let Some(status) = filter.status {
        query = query.filter(status_on(status, crate::domain::clock::today()));
    }
    if let Some(product) = filter.product {
        query = query.filter(policies::Column::Product.eq(product.as_str()));
    }
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(policies::Column::DealerId.eq(dealer_id));
    }
    let total = query.clone().count(db).await?;
    let rows = query.order_by_desc(policies::Column::Id).offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(to_policy(db, row, false).await?);
    }
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

/// A car coming up for renewal: its policies ending soon (compulsory and commercial together), with the factors its
/// renewal is priced at and the claims that moved them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RenewalCandidate {
    pub vin: String,
    pub plate: String,
    pub owner_name: String,
    /// The first of the car's policies to end.
    pub end_date: NaiveDate,
    pub days_left: i64,
    /// The car's policies ending in the window and not yet renewed; renew any of them to renew the car.
    pub policies: Vec<Policy>,
    pub ncd_level: i32,
    pub next_ncd_level: i32,
    #[schema(value_type = String)]
    pub accident_history: AccidentHistory,
    #[schema(value_type = String)]
    pub next_accident_history: AccidentHistory,
    /// The claims of the year that moved the factors.
    #[schema(value_type = Vec<Object>)]
    pub moved_by: Vec<Mover>,
}

/// Cars in scope with cover ending within `days` of `today`, not cancelled and not yet renewed, soonest first.
pub async fn renewals(
    db: &DatabaseConnection,
    scope: &Scope,
    today: NaiveDate,
    days: u32,
) -> AppResult<Vec<RenewalCandidate>> {
    let until = today + chrono::Duration::days(i64::from(days));
    let rows = policies::Entity::find()
        .filter(in_scope(scope, policies::Column::DealerId))
        .filter(policies::Column::CancelledFrom.is_null())
        .filter(policies::Column::EndDate.gt(today))
        .filter(policies::Column::EndDate.lte(until))
        .order_by_asc(policies::Column::EndDate)
        .order_by_asc(policies::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut renewed = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let found: Vec<Option<i64>> = policies::Entity::find()
            .select_only()
            .column(policies::Column::RenewalOfPolicyId)
            .filter(policies::Column::RenewalOfPolicyId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        renewed.extend(found.into_iter().flatten());
    }
    // One entry per car, in the order its first policy ends.
    let mut cars: Vec<(String, Vec<policies::Model>)> = Vec::new();
    for row in rows.into_iter().filter(|r| !renewed.contains(&r.id)) {
        match cars.iter_mut().find(|(vin, _)| *vin == row.vin) {
            Some((_, policies)) => policies.push(row),
            None => cars.push((row.vin.clone(), vec![row])),
        }
    }
    let quote_ids: Vec<i64> = cars.iter().filter_map(|(_, p)| p.first().map(|p| p.quote_id)).collect();
    let mut quotes = std::collections::HashMap::new();
    for chunk in quote_ids.chunks(500) {
        for quote in quotes::Entity::find().filter(quotes::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            quotes.insert(quote.id, quote);
        }
    }
    let windows: Vec<(String, NaiveDate, NaiveDate)> = cars
        .iter()
        .filter_map(|(vin, p)| p.first().map(|first| (vin.clone(), first.start_date, first.end_date)))
        .collect();
    let mut claims = super::claims::history::past_claims_of_cars(db, &windows).await?;
    let ncd_range = super::rating::in_force(db, today).await?.document.tables.ncd_range().unwrap_or((0, 0));
    let mut candidates = Vec::with_capacity(cars.len());
    for (vin, rows) in cars {
        let Some(first) = rows.first() else { continue };
        let Some(quote) = quotes.get(&first.quote_id) else { continue };
        let accident_history: AccidentHistory = super::quotes::from_plain(&quote.accident_history)?;
        let past = claims.remove(&vin).unwrap_or_default();
        let factors = history::renewal_factors(accident_history, quote.ncd_level, &past, ncd_range);
        let mut policies = Vec::with_capacity(rows.len());
        for row in &rows {
            policies.push(to_policy(db, row.clone(), false).await?);
        }
        candidates.push(RenewalCandidate {
            plate: first.plate.clone(),
            owner_name: first.owner_name.clone(),
            end_date: first.end_date,
            days_left: (first.end_date - today).num_days(),
            ncd_level: quote.ncd_level,
            next_ncd_level: factors.ncd_level,
            accident_history,
            next_accident_history: factors.accident_history,
            moved_by: factors.movers,
            vin,
            policies,
        });
    }
    Ok(candidates)
}
