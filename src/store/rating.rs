//! Versioned rating documents: the tables and underwriting rules in force from
//! a date. A quote keeps the id of the version it was priced with.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::domain::auth::Scope;
use crate::domain::underwriting::RatingDocument;
use crate::error::{AppError, AppResult, FieldError};
use entity::{dealers, policies, rating_versions};

use super::audit::{self, Actor, Change};
use super::now;

/// One version of the rating document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatingVersion {
    pub id: i64,
    pub effective_from: NaiveDate,
    #[schema(value_type = Object)]
    pub document: RatingDocument,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

fn from_row(row: rating_versions::Model) -> AppResult<RatingVersion> {
    let document = serde_json::from_str(&row.document)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rating version {} is unreadable: {e}", row.id)))?;
    Ok(RatingVersion {
        id: row.id,
        effective_from: row.effective_from,
        document,
        note: row.note,
        created_by: row.created_by,
        created_at: row.created_at,
    })
}

/// Stores the shipped defaults as the first version when there is none, so a new database can quote at once.
pub async fn ensure_defaults(db: &DatabaseConnection) -> AppResult<()> {
    if rating_versions::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let tx = crate::store::begin_write(db).await?;
    if rating_versions::Entity::find().count(&tx).await? == 0 {
        let effective = NaiveDate::from_ymd_opt(2020, 9, 19).unwrap_or_default();
        insert(&tx, &Actor::system("defaults"), effective, &RatingDocument::defaults(), "DOMAIN.md defaults").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The version in force on `day`: the latest effective on or before it.
pub async fn in_force(db: &impl ConnectionTrait, day: NaiveDate) -> AppResult<RatingVersion> {
    let row = rating_versions::Entity::find()
        .filter(rating_versions::Column::Id.in_subquery(id_in_force(day)))
        .one(db)
        .await?
        .ok_or_else(|| not_in_force(day))?;
    from_row(row)
}

/// The id of the version in force on the day `day` (an expression, which may refer to the row of an outer
/// statement) stands for, as a subquery.
///
/// Its column is named `version_in_force`: PostgreSQL names a scalar subquery's column after the column inside, and
/// an `id` would be read as the outer row's.
pub fn id_in_force_on_expr(day: Expr) -> SelectStatement {
    Query::select()
        .expr_as(Expr::col((rating_versions::Entity, rating_versions::Column::Id)), "version_in_force")
        .from(rating_versions::Entity)
        .and_where(Expr::col((rating_versions::Entity, rating_versions::Column::EffectiveFrom)).lte(day))
        .order_by(rating_versions::Column::EffectiveFrom, Order::Desc)
        .order_by(rating_versions::Column::Id, Order::Desc)
        .limit(1)
        .to_owned()
}

/// The id of the version in force on `day`: the latest effective on or before it (the newest of a day's).
fn id_in_force(day: NaiveDate) -> SelectStatement {
    Query::select()
        .column(rating_versions::Column::Id)
        .from(rating_versions::Entity)
        .and_where(rating_versions::Column::EffectiveFrom.lte(day))
        .order_by(rating_versions::Column::EffectiveFrom, Order::Desc)
        .order_by(rating_versions::Column::Id, Order::Desc)
        .limit(1)
        .to_owned()
}

fn not_in_force(day: NaiveDate) -> AppError {
    AppError::Conflict(format!("no rating tables are in force on {day}"))
}

/// The status of a dealer in scope, the rating version and the channel coefficient in force on `day`, and the car's
/// latest policy (`vin`), in one statement: every quote needs them all, and a quote's cost is mostly its round trips.
pub async fn dealer_status_and_in_force(
    db: &impl ConnectionTrait,
    scope: &Scope,
    dealer_id: i64,
    day: NaiveDate,
    vin: Option<&str>,
) -> AppResult<QuoteContext> {
    if !scope.allows(dealer_id) {
        return Err(AppError::NotFound);
    }
    // The car's latest policy begun before `day`, if the insurer holds one: its history prices the quote.
    let held = Query::select()
        .expr_as(Expr::col((policies::Entity, policies::Column::Id)), "held")
        .from(policies::Entity)
        .and_where(Expr::col((policies::Entity, policies::Column::Vin)).eq(vin.unwrap_or_default()))
        .and_where(Expr::col((policies::Entity, policies::Column::StartDate)).lt(day))
        .order_by((policies::Entity, policies::Column::EndDate), Order::Desc)
        .order_by((policies::Entity, policies::Column::Id), Order::Desc)
        .limit(1)
        .to_owned();
    let select = Query::select()
        .expr_as(Expr::SubQuery(None, Box::new(held.into())), "held_policy_id")
        .expr_as(Expr::col((dealers::Entity, dealers::Column::Status)), "dealer_status")
        .expr_as(Expr::col((dealers::Entity, dealers::Column::Region)), "dealer_region")
        .expr_as(Expr::col((dealers::Entity, dealers::Column::Code)), "dealer_code")
        .expr_as(Expr::SubQuery(None, Box::new(super::channel::document_in_force(day).into())), "channel_document")
        .columns(rating_versions::Column::iter().map(|c| (rating_versions::Entity, c)))
        .from(dealers::Entity)
        .join(
            JoinType::LeftJoin,
            rating_versions::Entity,
            Expr::col((rating_versions::Entity, rating_versions::Column::Id)).in_subquery(id_in_force(day)),
        )
        .and_where(Expr::col((dealers::Entity, dealers::Column::Id)).eq(dealer_id))
        .to_owned();
    let row = db.query_one(&select).await?.ok_or(AppError::NotFound)?;
    let dealer_status: String = row.try_get("", "dealer_status")?;
    if row.try_get::<Option<i64>>("", "id")?.is_none() {
        return Err(not_in_force(day));
    }
    let channel = super::channel::table_from(row.try_get("", "channel_document")?)?;
    let region: String = row.try_get("", "dealer_region")?;
    let code: String = row.try_get("", "dealer_code")?;
    Ok(QuoteContext {
        dealer_status,
        held_policy_id: row.try_get("", "held_policy_id")?,
        pricing_coefficient: channel.coefficient_for(&region, &code),
        rating: from_row(rating_versions::Model::from_query_result(&row, "")?)?,
    })
}

/// What pricing a quote for a dealer on a day needs besides the quote: the dealer's status, the rating version in
/// force, the channel coefficient the underwriters give the dealer, and the car's latest policy with the insurer.
pub struct QuoteContext {
    pub dealer_status: String,
    /// The car's latest policy with the insurer, begun before the quote's start.
    pub held_policy_id: Option<i64>,
    pub rating: RatingVersion,
    pub pricing_coefficient: rust_decimal::Decimal,
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<RatingVersion> {
    from_row(rating_versions::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?)
}

/// Every version, newest first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<RatingVersion>> {
    rating_versions::Entity::find()
        .order_by_desc(rating_versions::Column::EffectiveFrom)
        .order_by_desc(rating_versions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Adds a version after checking the document; earlier versions are never changed.
pub async fn create(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    effective_from: NaiveDate,
    document: &RatingDocument,
    note: &str,
) -> AppResult<RatingVersion> {
    if let Err(problems) = document.validate() {
        let errors =
            problems.into_iter().map(|p| FieldError::new(format!("document.{}", p.path), "invalid", p.message));
        return Err(AppError::Validation(errors.collect()));
    }
    insert(tx, actor, effective_from, document, note).await
}

async fn insert(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    effective_from: NaiveDate,
    document: &RatingDocument,
    note: &str,
) -> AppResult<RatingVersion> {
    let text = serde_json::to_string(document).map_err(|e| AppError::Internal(e.into()))?;
    let inserted = rating_versions::Entity::insert(rating_versions::ActiveModel {
        effective_from: Set(effective_from),
        document: Set(text),
        note: Set(note.trim().to_string()),
        created_by: Set(actor.user_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let version = get(tx, inserted.last_insert_id).await?;
    let change = Change::new("create", "rating_version", version.id)
        .after(&serde_json::json!({ "effective_from": effective_from, "note": note }));
    audit::append(tx, actor, change).await?;
    Ok(version)
}
