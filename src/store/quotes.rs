//! Quotes: priced with the rating version in force, judged by its rules, kept
//! with the version they were priced with; referred quotes wait for an underwriter.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::auth::{Role, Scope};
use crate::domain::money::{from_fen, rate_from_micros, rate_to_micros, to_fen, to_fen_non_negative};
use crate::domain::underwriting::history::{self, HistoryFactors, Mover, TypedHistory};
use crate::domain::underwriting::identity::{self, Invalid};
use crate::domain::underwriting::issuing;
use crate::domain::underwriting::rating::{self, AccidentHistory, CoverageChoice, Premium, PricingInput, Vehicle};
use crate::domain::underwriting::rules::{self, Decision, RuleContext, RuleHit};
use crate::domain::underwriting::{BusinessType, Product, QuoteStatus};
use crate::error::{AppError, AppResult, FieldError};
use entity::quotes;

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::{Page, PageRequest, now, rating as rating_store};

fn no_record() -> AccidentHistory {
    AccidentHistory::NewOrNoRecord
}

/// The vehicle as typed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleRequest {
    /// 17 characters, no I, O or Q, with a valid check digit.
    pub vin: String,
    /// e.g. 粤B12345 or new-energy 粤BD12345.
    pub plate: String,
    pub first_registration: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "200000.00")]
    pub new_car_price: Decimal,
    pub seats: u32,
}

/// The owner as typed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerRequest {
    pub name: String,
    /// 18-character resident ID with its check digit.
    pub id_number: String,
    pub phone: String,
}

/// What a sales assistant sends to price a quote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub dealer_id: i64,
    pub business_type: BusinessType,
    pub vehicle: VehicleRequest,
    pub owner: OwnerRequest,
    /// The compulsory accident history; a new car has none (`new_or_no_record`, the default). A history typed for a
    /// renewal or a transfer-in refers the quote unless it matches the insurer's records for the VIN.
    #[schema(value_type = String, example = "claim_free_1_year")]
    #[serde(default = "no_record")]
    pub accident_history: AccidentHistory,
    /// The commercial NCD level; a new car is at 0 (the default).
    #[serde(default)]
    pub ncd_level: i32,
    /// First day of cover for pricing; tomorrow when left out.
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Object)]
    pub coverages: CoverageChoice,
}

/// A quote as shown: personal data masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    pub id: i64,
    pub dealer_id: i64,
    pub seller_id: i64,
    pub rating_version_id: i64,
    pub status: QuoteStatus,
    pub business_type: BusinessType,
    pub vin: String,
    pub plate: String,
    pub first_registration: NaiveDate,
    #[schema(value_type = String)]
    pub new_car_price: Decimal,
    pub seats: u32,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    #[schema(value_type = String)]
    pub accident_history: AccidentHistory,
    pub ncd_level: i32,
    #[schema(value_type = String)]
    pub pricing_coefficient: Decimal,
    pub start_date: NaiveDate,
    #[schema(value_type = Object)]
    pub coverages: CoverageChoice,
    #[schema(value_type = Object)]
    pub premium: Premium,
    #[schema(value_type = Vec<Object>)]
    pub rule_hits: Vec<RuleHit>,
    pub renewal_of_policy_id: Option<i64>,
    /// The claims of the last year that moved the floating factor or the NCD level (renewals).
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<Mover>,
    /// The last China day the quote may be issued.
    pub valid_until: NaiveDate,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// The checked identifiers of a quote, unmasked, for storing.
struct Identity {
    vin: String,
    plate: String,
    owner_name: String,
    id_number: String,
    phone: String,
}

fn invalid(field: &str, problem: Invalid) -> FieldError {
    FieldError::new(field, problem.code, problem.message)
}

fn check_identity(request: &QuoteRequest, errors: &mut Vec<FieldError>) -> Option<Identity> {
    let vin = identity::normalize_vin(&request.vehicle.vin).map_err(|e| errors.push(invalid("vehicle.vin", e))).ok();
    let plate =
        identity::normalize_plate(&request.vehicle.plate).map_err(|e| errors.push(invalid("vehicle.plate", e))).ok();
    let id_number = identity::normalize_resident_id(&request.owner.id_number)
        .map_err(|e| errors.push(invalid("owner.id_number", e)))
        .ok();
    let phone =
        identity::normalize_mobile(&request.owner.phone).map_err(|e| errors.push(invalid("owner.phone", e))).ok();
    let owner_name = request.owner.name.trim().to_string();
    if owner_name.is_empty() || owner_name.chars().count() > 64 {
        errors.push(FieldError::new("owner.name", "required", "the owner's name is 1 to 64 characters"));
    }
    Some(Identity { vin: vin?, plate: plate?.text, owner_name, id_number: id_number?.text, phone: phone? })
}

/// Today in China Standard Time, the day issues, cancellations and renewal lists count from.
pub fn today() -> NaiveDate {
    crate::domain::clock::today()
}

/// The first day of cover when none is asked for: tomorrow.
pub fn tomorrow() -> NaiveDate {
    today() + chrono::Duration::days(1)
}

/// How a quote came about: typed by the store, or a renewal priced from the insurer's own history.
#[derive(Debug, Clone, Default)]
pub enum Origin {
    #[default]
    Typed,
    /// A renewal of the policy, with the history factors the insurer holds and the claims that moved them.
    Renewal { policy_id: i64, factors: HistoryFactors },
}

/// Prices and judges a quote for a dealer in the seller's scope, and stores it, valid for `valid_days` days.
pub async fn create(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    request: &QuoteRequest,
    origin: Origin,
    valid_days: u32,
) -> AppResult<Quote> {
    let start_date = request.start_date.unwrap_or_else(tomorrow);
    let mut errors = Vec::new();
    let identity = check_identity(request, &mut errors);
    // The coefficient is the underwriters' for the dealer's channel, never the seller's.
    let vin = identity.as_ref().map(|identity| identity.vin.as_str());
    let rating_store::QuoteContext { dealer_status, held_policy_id, rating, pricing_coefficient } =
        rating_store::dealer_status_and_in_force(tx, scope, request.dealer_id, start_date, vin).await?;
    if let Err(e) = to_fen_non_negative(request.vehicle.new_car_price) {
        errors.push(FieldError::new("vehicle.new_car_price", "invalid_amount", e.to_string()));
    }
    let input = PricingInput {
        vehicle: Vehicle {
            first_registration: request.vehicle.first_registration,
            new_car_price: request.vehicle.new_car_price,
            seats: request.vehicle.seats,
        },
        start_date,
        accident_history: request.accident_history,
        ncd_level: request.ncd_level,
        pricing_coefficient,
        coverages: request.coverages.clone(),
    };
    let premium = match rating::price(&rating.document.tables, &input) {
        Ok(premium) => Some(premium),
        Err(problems) => {
            errors.extend(problems.into_iter().map(|p| FieldError::new(p.field, p.code, p.message)));
            None
        }
    };
    let coefficient_micros = rate_to_micros(pricing_coefficient)
        .map_err(|e| errors.push(FieldError::new("pricing_coefficient", "invalid", e.to_string())))
        .ok();
    let typed = TypedHistory {
        business_type: request.business_type,
        accident_history: request.accident_history,
        ncd_level: request.ncd_level,
    };
    let (renewal_of_policy_id, history, origin_check) = match origin {
        Origin::Renewal { policy_id, factors } => (Some(policy_id), factors.movers.clone(), Some(factors.check())),
        Origin::Typed => (None, Vec::new(), None),
    };
    let history_check = match (&origin_check, &identity) {
        // A renewal's history is the insurer's own.
        (Some(check), _) => Some(check.clone()),
        (None, Some(_)) => {
            let held = match held_policy_id {
                Some(id) => Some(history_of_policy(tx, id).await?),
                None => None,
            };
            let held = held.map(|f| (f.accident_history, f.ncd_level));
            history::check_typed_history(typed, held).map_err(|problem| errors.push(problem)).ok()
        }
        (None, None) => None,
    };
    let (Some(identity), Some(premium), Some(coefficient_micros), Some(history_check), true) =
        (identity, premium, coefficient_micros, history_check, errors.is_empty())
    else {
        return Err(AppError::Validation(errors));
    };
    let context = RuleContext { input: &input, dealer_status: &dealer_status };
    let decision = history::refer_unverified(rules::evaluate(&rating.document.rules, &context), history_check);
    let (status, hits) = match decision {
        Decision::Accept => (QuoteStatus::Accepted, Vec::new()),
        Decision::Refer(hits) => (QuoteStatus::Referred, hits),
        Decision::Decline(hits) => (QuoteStatus::Declined, hits),
    };
    let valid_until = issuing::valid_until(crate::domain::clock::today(), valid_days);
    let at = now();
    let inserted = quotes::Entity::insert(quotes::ActiveModel {
        dealer_id: Set(request.dealer_id),
        seller_id: Set(actor.user_id.unwrap_or_default()),
        rating_version_id: Set(rating.id),
        status: Set(status.as_str().into()),
        business_type: Set(request.business_type.as_str().into()),
        vin: Set(identity.vin),
        plate: Set(identity.plate),
        first_registration: Set(request.vehicle.first_registration),
        new_car_price_fen: Set(to_fen(request.vehicle.new_car_price).unwrap_or_default()),
        seats: Set(i32::try_from(request.vehicle.seats).unwrap_or(i32::MAX)),
        owner_name: Set(identity.owner_name),
        owner_id_number: Set(identity.id_number),
        owner_phone: Set(identity.phone),
        ncd_level: Set(request.ncd_level),
        accident_history: Set(serde_plain(&request.accident_history)),
        pricing_coefficient_micros: Set(coefficient_micros),
        start_date: Set(start_date),
        coverages_json: Set(to_json(&request.coverages)),
        premium_json: Set(to_json(&premium)),
        compulsory_fen: Set(to_fen(premium.compulsory_total).unwrap_or_default()),
        commercial_fen: Set(to_fen(premium.commercial_total).unwrap_or_default()),
        total_fen: Set(to_fen(premium.total).unwrap_or_default()),
        rule_hits_json: Set(to_json(&hits)),
        history_json: Set(to_json(&history)),
        valid_until: Set(Some(valid_until)),
        renewal_of_policy_id: Set(renewal_of_policy_id),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_note: Set(None),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec_with_returning(tx)
    .await?;
    let quote = to_quote(inserted)?;
    let change = Change::new("create", "quote", quote.id).after(&serde_json::json!({
        "dealer_id": quote.dealer_id, "status": quote.status, "total": quote.premium.total, "rating_version_id": rating.id,
    }));
    audit::append(tx, actor, change).await?;
    Ok(quote)
}

fn coefficient_micros(coefficient: Decimal) -> AppResult<i64> {
    rate_to_micros(coefficient).map_err(|e| AppError::Internal(anyhow::anyhow!("coefficient {coefficient}: {e}")))
}

/// JSON text of one of our own types, which always serialise.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A unit enum's serde name (`claim_free_1_year`).
fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

pub(crate) fn from_plain<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored value {text:?} is unreadable: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| AppError::Internal(anyhow::anyhow!("stored JSON is unreadable: {e}")))
}

pub(crate) fn to_quote(row: quotes::Model) -> AppResult<Quote> {
    Ok(Quote {
        id: row.id,
        dealer_id: row.dealer_id,
        seller_id: row.seller_id,
        rating_version_id: row.rating_version_id,
        status: QuoteStatus::parse(&row.status)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("quote status {}", row.status)))?,
        business_type: BusinessType::parse(&row.business_type)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("business type {}", row.business_type)))?,
        vin: row.vin,
        plate: row.plate,
        first_registration: row.first_registration,
        new_car_price: from_fen(row.new_car_price_fen),
        seats: u32::try_from(row.seats).unwrap_or_default(),
        owner_name: row.owner_name,
        owner_id_number: mask_id(&row.owner_id_number),
        owner_phone: identity::mask_mobile(&row.owner_phone),
        accident_history: from_plain(&row.accident_history)?,
        ncd_level: row.ncd_level,
        pricing_coefficient: rate_from_micros(row.pricing_coefficient_micros),
        start_date: row.start_date,
        coverages: from_json(&row.coverages_json)?,
        premium: from_json(&row.premium_json)?,
        rule_hits: from_json(&row.rule_hits_json)?,
        renewal_of_policy_id: row.renewal_of_policy_id,
        history: from_json(&row.history_json)?,
        valid_until: row.valid_until.unwrap_or(row.start_date),
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        review_note: row.review_note,
        version: row.version,
        created_at: row.created_at,
    })
}

/// Resident IDs are shown as their first 6 and last 4 characters.
pub fn mask_id(id_number: &str) -> String {
    identity::normalize_resident_id(id_number)
        .map(|id| id.masked())
        .unwrap_or_else(|_| "*".repeat(id_number.chars().count()))
}

/// A quote within the scope; store staff see their dealers' quotes only.
pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<Quote> {
    let row = quotes::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    to_quote(row)
}

/// The unmasked row, for issuing.
pub(crate) async fn row(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<quotes::Model> {
    let row = quotes::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

#[derive(Debug, Clone, Default)]
pub struct QuoteFilter {
    pub status: Option<QuoteStatus>,
    pub dealer_id: Option<i64>,
}

/// Quotes in scope, newest first (the referral queue is `status = referred`, oldest first).
pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &QuoteFilter,
    paging: PageRequest,
) -> AppResult<Page<Quote>> {
    let mut query = quotes::Entity::find().filter(in_scope(scope, quotes::Column::DealerId));
    if let Some(status) = filter.status {
        query = query.filter(quotes::Column::Status.eq(status.as_str()));
    }
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(quotes::Column::DealerId.eq(dealer_id));
    }
    let total = query.clone().count(db).await?;
    let query = if filter.status == Some(QuoteStatus::Referred) {
        query.order_by_asc(quotes::Column::CreatedAt)
    } else {
        query.order_by_desc(quotes::Column::Id)
    };
    let rows = query.offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let items = rows.into_iter().map(to_quote).collect::<AppResult<Vec<_>>>()?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

/// An underwriter's decision on a referred quote; a second decision on the same version loses with 409.
pub async fn review(
    db: &DatabaseConnection,
    actor: &Actor,
    role: Role,
    id: i64,
    version: i32,
    approve: bool,
    note: &str,
) -> AppResult<Quote> {
    if !matches!(role, Role::Underwriter | Role::Administrator) {
        return Err(AppError::Forbidden);
    }
    let note = note.trim();
    if note.is_empty() {
        return Err(AppError::field("note", "required", "say why, for the record"));
    }
    let tx = crate::store::begin_write(db).await?;
    let before = get(&tx, &Scope::All, id).await?;
    if before.status != QuoteStatus::Referred {
        return Err(AppError::Conflict(format!("the quote is {}, not waiting for review", before.status.as_str())));
    }
    let status = if approve { QuoteStatus::Approved } else { QuoteStatus::Rejected };
    let result = quotes::Entity::update_many()
        .col_expr(quotes::Column::Status, Expr::value(status.as_str()))
        .col_expr(quotes::Column::ReviewedBy, Expr::value(actor.user_id))
        .col_expr(quotes::Column::ReviewedAt, Expr::value(Some(now())))
        .col_expr(quotes::Column::ReviewNote, Expr::value(Some(note.to_string())))
        .col_expr(quotes::Column::Version, Expr::col(quotes::Column::Version).add(1))
        .col_expr(quotes::Column::UpdatedAt, Expr::value(now()))
        .filter(quotes::Column::Id.eq(id))
        .filter(quotes::Column::Version.eq(version))
        .exec(&tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let after = get(&tx, &Scope::All, id).await?;
    let change = Change::new(if approve { "approve" } else { "decline" }, "quote", id)
        .before(&serde_json::json!({ "status": before.status }))
        .after(&serde_json::json!({ "status": after.status, "note": note }));
    audit::append(&tx, actor, change).await?;
    tx.commit().await?;
    Ok(after)
}

/// Marks an accepted or approved quote issued and returns it, in one statement; a quote out of scope
/// is not found, and one that may not be issued (or was issued meanwhile) is a conflict naming its status.
///
/// `also` are further expressions the same statement returns (it may refer to the quote's columns), read from the
/// returned row by index from [`claimed_columns`] on: issuing asks its checks there, saving their round trips.
pub(crate) async fn claim_for_issue(
    tx: &impl ConnectionTrait,
    scope: &Scope,
    id: i64,
    also: impl IntoIterator<Item = Expr>,
) -> AppResult<(quotes::Model, QueryResult)> {
    let returned = quotes::Column::iter().map(|c| Expr::col((quotes::Entity, c))).chain(also);
    let claim = Query::update()
        .table(quotes::Entity)
        .value(quotes::Column::Status, QuoteStatus::Issued.as_str())
        .value(quotes::Column::Version, Expr::col(quotes::Column::Version).add(1))
        .value(quotes::Column::UpdatedAt, now())
        .and_where(quotes::Column::Id.eq(id))
        .and_where(quotes::Column::Status.is_in([QuoteStatus::Accepted.as_str(), QuoteStatus::Approved.as_str()]))
        .returning(Query::returning().exprs(returned))
        .to_owned();
    match tx.query_one(&claim).await? {
        Some(claimed) => {
            let row = quotes::Model::from_query_result(&claimed, "")?;
            if !scope.allows(row.dealer_id) {
                return Err(AppError::NotFound);
            }
            Ok((row, claimed))
        }
        None => {
            let row = row(tx, scope, id).await?;
            Err(AppError::Conflict(format!("a quote that is {} cannot be issued", row.status)))
        }
    }
}

/// The index of the first of `claim_for_issue`'s further expressions in the row it returns.
pub(crate) fn claimed_columns() -> usize {
    quotes::Column::iter().count()
}

/// Prices a quote being issued again with the rating version in force on `start`, its new start: the premium
/// lines and totals it is issued at are stored on it. Refused when the rules of that version would now decline it,
/// or refer a quote no underwriter has approved.
pub(crate) async fn rerate(
    tx: &impl ConnectionTrait,
    row: &quotes::Model,
    quote: &Quote,
    start: NaiveDate,
) -> AppResult<Quote> {
    let rating_store::QuoteContext { dealer_status, rating, pricing_coefficient, .. } =
        rating_store::dealer_status_and_in_force(tx, &Scope::All, row.dealer_id, start, None).await?;
    let input = PricingInput {
        vehicle: Vehicle {
            first_registration: row.first_registration,
            new_car_price: from_fen(row.new_car_price_fen),
            seats: quote.seats,
        },
        start_date: start,
        accident_history: quote.accident_history,
        ncd_level: quote.ncd_level,
        pricing_coefficient,
        coverages: quote.coverages.clone(),
    };
    let premium = rating::price(&rating.document.tables, &input).map_err(|problems| {
        AppError::Validation(problems.into_iter().map(|p| FieldError::new(p.field, p.code, p.message)).collect())
    })?;
    let context = RuleContext { input: &input, dealer_status: &dealer_status };
    let decision = rules::evaluate(&rating.document.rules, &context);
    issuing::check_rerated(&decision, quote.status == QuoteStatus::Approved, start).map_err(AppError::Refused)?;
    let update = quotes::Entity::update_many()
        .col_expr(quotes::Column::RatingVersionId, Expr::value(rating.id))
        .col_expr(quotes::Column::StartDate, Expr::value(start))
        .col_expr(quotes::Column::PricingCoefficientMicros, Expr::value(coefficient_micros(pricing_coefficient)?))
        .col_expr(quotes::Column::PremiumJson, Expr::value(to_json(&premium)))
        .col_expr(quotes::Column::CompulsoryFen, Expr::value(to_fen(premium.compulsory_total).unwrap_or_default()))
        .col_expr(quotes::Column::CommercialFen, Expr::value(to_fen(premium.commercial_total).unwrap_or_default()))
        .col_expr(quotes::Column::TotalFen, Expr::value(to_fen(premium.total).unwrap_or_default()))
        .filter(quotes::Column::Id.eq(row.id));
    update.exec(tx).await?;
    Ok(Quote { rating_version_id: rating.id, start_date: start, pricing_coefficient, premium, ..quote.clone() })
}

/// The history factors the insurer holds for a car from one of its policies (the latest): that policy's factors moved
/// by the claims of its year.
async fn history_of_policy(db: &impl ConnectionTrait, policy_id: i64) -> AppResult<HistoryFactors> {
    let policy = entity::policies::Entity::find_by_id(policy_id).one(db).await?.ok_or(AppError::NotFound)?;
    history_of(db, &policy).await
}

/// The factors a renewal of `policy` carries: its quote's, moved by the claims on the car in the policy's year.
async fn history_of(db: &impl ConnectionTrait, policy: &entity::policies::Model) -> AppResult<HistoryFactors> {
    let quote = row(db, &Scope::All, policy.quote_id).await?;
    let last_history: AccidentHistory = from_plain(&quote.accident_history)?;
    let claims = super::claims::history::past_claims(db, &policy.vin, policy.start_date, policy.end_date).await?;
    let ncd_range = rating_store::in_force(db, policy.end_date).await?.document.tables.ncd_range().unwrap_or((0, 0));
    Ok(history::renewal_factors(last_history, quote.ncd_level, &claims, ncd_range))
}

/// A renewal quote for a car, from one of its policies in scope: the same vehicle, owner and coverages (compulsory
/// and commercial together, as the car has them now), priced from the insurer's history of the car, starting
/// when the policy ends.
pub async fn renew(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: &Scope,
    policy_id: i64,
    valid_days: u32,
) -> AppResult<Quote> {
    let tx = crate::store::begin_write(db).await?;
    let policy = entity::policies::Entity::find_by_id(policy_id).one(&tx).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(policy.dealer_id) {
        return Err(AppError::NotFound);
    }
    if let Some(renewal) = entity::policies::Entity::find()
        .filter(entity::policies::Column::RenewalOfPolicyId.eq(policy.id))
        .one(&tx)
        .await?
    {
        return Err(AppError::Conflict(format!("the car is already renewed by policy {}", renewal.policy_no)));
    }
    let original = row(&tx, scope, policy.quote_id).await?;
    let original_quote = to_quote(original.clone())?;
    let factors = history_of(&tx, &policy).await?;
    // The car's policies ending with this one: the renewal covers what the car has now.
    let pair = entity::policies::Entity::find()
        .filter(entity::policies::Column::QuoteId.eq(policy.quote_id))
        .filter(entity::policies::Column::CancelledFrom.is_null())
        .all(&tx)
        .await?;
    let compulsory_live = pair.iter().any(|p| p.product == Product::Compulsory.as_str());
    let commercial_now = match pair.iter().find(|p| p.product == Product::Commercial.as_str()) {
        Some(commercial) => {
            let commercial = super::policies::get(&tx, &Scope::All, commercial.id).await?;
            Some(super::policies::current_choice(&tx, &commercial).await?)
        }
        None => None,
    };
    let coverages = history::renewal_coverages(compulsory_live, commercial_now);
    let request = QuoteRequest {
        dealer_id: original.dealer_id,
        business_type: BusinessType::Renewal,
        vehicle: VehicleRequest {
            vin: original.vin.clone(),
            plate: policy.plate.clone(),
            first_registration: original.first_registration,
            new_car_price: from_fen(original.new_car_price_fen),
            seats: original_quote.seats,
        },
        owner: OwnerRequest {
            name: policy.owner_name.clone(),
            id_number: original.owner_id_number.clone(),
            phone: policy.owner_phone.clone(),
        },
        accident_history: factors.accident_history,
        ncd_level: factors.ncd_level,
        start_date: Some(policy.end_date),
        coverages,
    };
    let origin = Origin::Renewal { policy_id: policy.id, factors };
    let quote = create(&tx, actor, scope, &request, origin, valid_days).await?;
    tx.commit().await?;
    Ok(quote)
}
