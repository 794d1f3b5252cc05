//! Dealers (车商), read within the caller's scope: a record outside it is
//! reported as not found, never as forbidden.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use crate::domain::auth::Scope;
use crate::error::{AppError, AppResult};
use entity::{dealers, users};

use super::{Page, PageRequest};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Dealer {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub dealer_group: String,
    pub region: String,
    pub brands: Vec<String>,
    pub has_repair_shop: bool,
    /// `active`, `suspended` or `remediation`.
    pub status: String,
    pub channel_manager_id: Option<i64>,
    pub channel_manager: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Dealer {
    /// Translation key of the dealer's status.
    pub fn status_key(&self) -> &'static str {
        status_key(&self.status)
    }
}

/// The dealer statuses, with their translation keys.
pub const STATUSES: [(&str, &str); 3] = [
    ("active", "dealer.status.active"),
    ("remediation", "dealer.status.remediation"),
    ("suspended", "dealer.status.suspended"),
];

pub fn status_key(status: &str) -> &'static str {
    STATUSES.iter().find(|(value, _)| *value == status).map(|(_, key)| *key).unwrap_or("dealer.status.active")
}

#[derive(Debug, Clone, Default)]
pub struct DealerFilter {
    pub search: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
}

/// The condition that keeps a query on `dealer_column` inside `scope`.
pub fn in_scope(scope: &Scope, dealer_column: impl ColumnTrait) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::Dealers(ids) => Condition::all().add(dealer_column.is_in(ids.iter().copied())),
    }
}

pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &DealerFilter,
    paging: PageRequest,
) -> AppResult<Page<Dealer>> {
    let mut query = dealers::Entity::find().filter(in_scope(scope, dealers::Column::Id));
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", search.replace(['%', '_'], ""));
        query = query.filter(
            Condition::any()
                .add(dealers::Column::Code.like(&pattern))
                .add(dealers::Column::Name.like(&pattern))
                .add(dealers::Column::DealerGroup.like(&pattern)),
        );
    }
    if let Some(region) = filter.region.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(dealers::Column::Region.eq(region));
    }
    if let Some(status) = filter.status.as_deref().filter(|s| !s.is_empty()) {
        query = query.filter(dealers::Column::Status.eq(status));
    }
    let total = query.clone().count(db).await?;
    let rows = query.order_by_asc(dealers::Column::Code).offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let items = with_managers(db, rows).await?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<Dealer> {
    if !scope.allows(id) {
        return Err(AppError::NotFound);
    }
    let row = dealers::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    with_managers(db, vec![row]).await?.pop().ok_or(AppError::NotFound)
}

/// Distinct regions, for filter menus.
pub async fn regions(db: &DatabaseConnection, scope: &Scope) -> AppResult<Vec<String>> {
    Ok(dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Region)
        .distinct()
        .filter(in_scope(scope, dealers::Column::Id))
        .order_by_asc(dealers::Column::Region)
        .into_tuple()
        .all(db)
        .await?)
}

async fn with_managers(db: &impl ConnectionTrait, rows: Vec<dealers::Model>) -> AppResult<Vec<Dealer>> {
    let manager_ids: Vec<i64> = rows.iter().filter_map(|d| d.channel_manager_id).collect();
    let managers = users::Entity::find().filter(users::Column::Id.is_in(manager_ids)).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| Dealer {
            channel_manager: row
                .channel_manager_id
                .and_then(|id| managers.iter().find(|m| m.id == id).map(|m| m.display_name.clone())),
            id: row.id,
            brands: serde_json::from_str(&row.brands).unwrap_or_default(),
            code: row.code,
            name: row.name,
            dealer_group: row.dealer_group,
            region: row.region,
            has_repair_shop: row.has_repair_shop,
            status: row.status,
            channel_manager_id: row.channel_manager_id,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}
