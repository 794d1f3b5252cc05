//! The channel table's versions: the pricing coefficient per region and dealer from a date, kept whole per version
//! like the rating tables. A quote takes its coefficient from the version in force on its start day.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Order, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;

use crate::domain::underwriting::channel::{self, ChannelTable};
use crate::error::{AppError, AppResult, FieldError};
use entity::{channel_coefficient_versions as versions, dealers};

use super::audit::{self, Actor, Change};
use super::now;

/// One version of the channel table; `id` 0 is the built-in table (every channel at 1) before any is set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelVersion {
    pub id: i64,
    pub effective_from: NaiveDate,
    pub table: ChannelTable,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
}

fn from_row(row: versions::Model) -> AppResult<ChannelVersion> {
    let table = serde_json::from_str(&row.document)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("channel table version {} is unreadable: {e}", row.id)))?;
    Ok(ChannelVersion {
        id: row.id,
        effective_from: row.effective_from,
        table,
        note: row.note,
        created_by: row.created_by,
        created_at: Some(row.created_at),
    })
}

fn built_in() -> ChannelVersion {
    ChannelVersion {
        id: 0,
        effective_from: NaiveDate::MIN,
        table: ChannelTable::defaults(),
        note: String::new(),
        created_by: None,
        created_at: None,
    }
}

/// The document of the version in force on `day`, as a subquery (no row before any version is set).
pub fn document_in_force(day: NaiveDate) -> SelectStatement {
    Query::select()
        .column(versions::Column::Document)
        .from(versions::Entity)
        .and_where(versions::Column::EffectiveFrom.lte(day))
        .order_by(versions::Column::EffectiveFrom, Order::Desc)
        .order_by(versions::Column::Id, Order::Desc)
        .limit(1)
        .to_owned()
}

/// The table a stored document holds; the built-in table when there is none.
pub fn table_from(document: Option<String>) -> AppResult<ChannelTable> {
    match document {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("a channel table version is unreadable: {e}"))),
        None => Ok(ChannelTable::defaults()),
    }
}

/// The version in force on `day`: the latest effective on or before it (the newest of a day's).
pub async fn in_force(db: &impl ConnectionTrait, day: NaiveDate) -> AppResult<ChannelVersion> {
    let row = versions::Entity::find()
        .filter(versions::Column::EffectiveFrom.lte(day))
        .order_by_desc(versions::Column::EffectiveFrom)
        .order_by_desc(versions::Column::Id)
        .one(db)
        .await?;
    row.map_or_else(|| Ok(built_in()), from_row)
}

/// Every version, newest first.
pub async fn list(db: &DatabaseConnection) -> AppResult<Vec<ChannelVersion>> {
    versions::Entity::find()
        .order_by_desc(versions::Column::EffectiveFrom)
        .order_by_desc(versions::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Adds a version from `effective_from` (today or later: a coefficient never changes a price already given), after
/// checking every coefficient against the range filed in the rating tables in force that day.
pub async fn create(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    effective_from: NaiveDate,
    table: &ChannelTable,
    note: &str,
    today: NaiveDate,
) -> AppResult<ChannelVersion> {
    let mut errors = Vec::new();
    if let Err(problem) = channel::check_effective_from(effective_from, today) {
        errors.push(problem);
    }
    if note.trim().is_empty() {
        errors.push(FieldError::new("note", "required", "say what changed and why"));
    }
    let table = table.clone().normalised();
    let rating = super::rating::in_force(tx, effective_from).await?;
    let dealers = dealers::Entity::find().all(tx).await?;
    let regions: Vec<String> = dealers.iter().map(|d| d.region.clone()).collect();
    let codes: Vec<String> = dealers.iter().map(|d| d.code.clone()).collect();
    errors.extend(table.validate(&rating.document.tables.commercial.pricing_coefficient, &regions, &codes));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let document = serde_json::to_string(&table).map_err(|e| AppError::Internal(e.into()))?;
    let inserted = versions::Entity::insert(versions::ActiveModel {
        effective_from: Set(effective_from),
        document: Set(document),
        note: Set(note.trim().to_string()),
        created_by: Set(actor.user_id),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec_with_returning(tx)
    .await?;
    let version = from_row(inserted)?;
    let change = Change::new("create", "channel_coefficients", version.id)
        .after(&serde_json::json!({ "effective_from": effective_from, "note": note, "table": table }));
    audit::append(tx, actor, change).await?;
    Ok(version)
}
