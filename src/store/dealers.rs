//! Dealers (车商), read within the caller's scope: a record outside it is
//! reported as not found, never as forbidden.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Serialize;

use crate::domain::auth::{Role, Scope};
use crate::domain::dealers::{DealerFacts, ImportProblem, ImportRow};
use crate::error::{AppError, AppResult, FieldError};
use entity::{dealers, users};

use super::audit::{self, Actor, Change};
use super::{Page, PageRequest, now};

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

fn filtered(scope: &Scope, filter: &DealerFilter) -> Select<dealers::Entity> {
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
    query.order_by_asc(dealers::Column::Code)
}

pub async fn list(
    db: &DatabaseConnection,
    scope: &Scope,
    filter: &DealerFilter,
    paging: PageRequest,
) -> AppResult<Page<Dealer>> {
    let query = filtered(scope, filter);
    let total = query.clone().count(db).await?;
    let rows = query.offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let items = with_managers(db, rows).await?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

/// Every dealer in scope that matches, unpaged: the portfolio overview ranks them all.
pub async fn all(db: &DatabaseConnection, scope: &Scope, filter: &DealerFilter) -> AppResult<Vec<Dealer>> {
    let rows = filtered(scope, filter).all(db).await?;
    with_managers(db, rows).await
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

/// A dealer as created or changed: its facts and its owning channel manager's username.
#[derive(Debug, Clone)]
pub struct DealerWrite {
    pub facts: DealerFacts,
    pub channel_manager: Option<String>,
}

/// Creates a dealer. A channel manager creating one becomes its owner and may not name another.
pub async fn create(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    creator_role: Role,
    write: DealerWrite,
) -> AppResult<Dealer> {
    let mut errors = Vec::new();
    if dealers::Entity::find().filter(dealers::Column::Code.eq(&write.facts.code)).count(tx).await? > 0 {
        errors.push(FieldError::new("code", "taken", "another dealer has this code"));
    }
    let manager_id = owner_for(tx, actor, creator_role, write.channel_manager.as_deref(), &mut errors).await?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id = insert(tx, &write.facts, manager_id).await?;
    let dealer = get(tx, &Scope::All, id).await?;
    audit::append(tx, actor, Change::new("create", "dealer", id).after(&dealer)).await?;
    Ok(dealer)
}

/// Changes a dealer's facts (not its code) if `version` is current; only administrators change the owner.
pub async fn update(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    role: Role,
    scope: &Scope,
    id: i64,
    version: i32,
    write: DealerWrite,
) -> AppResult<Dealer> {
    let before = get(tx, scope, id).await?;
    if before.version != version {
        return Err(AppError::stale_version());
    }
    let mut errors = Vec::new();
    let manager_id = if role == Role::Administrator {
        owner_for(tx, actor, role, write.channel_manager.as_deref(), &mut errors).await?
    } else {
        before.channel_manager_id
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let facts = write.facts;
    let result = dealers::Entity::update_many()
        .col_expr(dealers::Column::Name, Expr::value(facts.name))
        .col_expr(dealers::Column::DealerGroup, Expr::value(facts.dealer_group))
        .col_expr(dealers::Column::Region, Expr::value(facts.region))
        .col_expr(dealers::Column::Brands, Expr::value(brands_json(&facts.brands)))
        .col_expr(dealers::Column::HasRepairShop, Expr::value(facts.has_repair_shop))
        .col_expr(dealers::Column::Status, Expr::value(facts.status.as_str()))
        .col_expr(dealers::Column::ChannelManagerId, Expr::value(manager_id))
        .col_expr(dealers::Column::Version, Expr::col(dealers::Column::Version).add(1))
        .col_expr(dealers::Column::UpdatedAt, Expr::value(now()))
        .filter(dealers::Column::Id.eq(id))
        .filter(dealers::Column::Version.eq(version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let after = get(tx, &Scope::All, id).await?;
    audit::append(tx, actor, Change::new("update", "dealer", id).before(&before).after(&after)).await?;
    Ok(after)
}

/// Imports every row or none: codes already taken and unknown channel managers are reported by line.
pub async fn import(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    rows: Vec<ImportRow>,
) -> AppResult<Result<usize, Vec<ImportProblem>>> {
    let codes: Vec<String> = rows.iter().map(|r| r.facts.code.clone()).collect();
    let taken: Vec<String> = dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Code)
        .filter(dealers::Column::Code.is_in(codes))
        .into_tuple()
        .all(tx)
        .await?;
    let managers = users::Entity::find().filter(users::Column::Role.eq(Role::ChannelManager.as_str())).all(tx).await?;
    let mut problems = Vec::new();
    let mut resolved = Vec::with_capacity(rows.len());
    for row in rows {
        if taken.contains(&row.facts.code) {
            let message = format!("a dealer with code {} already exists", row.facts.code);
            problems.push(ImportProblem { line: row.line, field: "code".into(), message });
        }
        let manager_id = match &row.channel_manager {
            None => None,
            Some(name) => match managers.iter().find(|m| &m.username == name) {
                Some(manager) => Some(manager.id),
                None => {
                    let message = format!("no channel manager has the username {name:?}");
                    problems.push(ImportProblem { line: row.line, field: "channel_manager".into(), message });
                    None
                }
            },
        };
        resolved.push((row, manager_id));
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let count = resolved.len();
    for (row, manager_id) in resolved {
        insert(tx, &row.facts, manager_id).await?;
    }
    let change = Change {
        action: "import",
        entity: "dealer",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({ "count": count })),
    };
    audit::append(tx, actor, change).await?;
    Ok(Ok(count))
}

async fn insert(tx: &impl ConnectionTrait, facts: &DealerFacts, manager_id: Option<i64>) -> AppResult<i64> {
    let at = now();
    let inserted = dealers::Entity::insert(dealers::ActiveModel {
        code: Set(facts.code.clone()),
        name: Set(facts.name.clone()),
        dealer_group: Set(facts.dealer_group.clone()),
        region: Set(facts.region.clone()),
        brands: Set(brands_json(&facts.brands)),
        has_repair_shop: Set(facts.has_repair_shop),
        status: Set(facts.status.as_str().to_string()),
        channel_manager_id: Set(manager_id),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    Ok(inserted.last_insert_id)
}

fn brands_json(brands: &[String]) -> String {
    serde_json::to_string(brands).unwrap_or_else(|_| "[]".into())
}

/// The owner of a new or reassigned dealer: a channel manager by username.
async fn owner_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    role: Role,
    username: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<i64>> {
    if role == Role::ChannelManager {
        if username.is_some_and(|name| name != actor.name) {
            errors.push(FieldError::new(
                "channel_manager",
                "not_allowed",
                "a channel manager creates dealers for themselves",
            ));
        }
        return Ok(actor.user_id);
    }
    let Some(username) = username.filter(|n| !n.trim().is_empty()) else { return Ok(None) };
    let manager = users::Entity::find()
        .filter(users::Column::Username.eq(username.trim()))
        .filter(users::Column::Role.eq(Role::ChannelManager.as_str()))
        .one(db)
        .await?;
    match manager {
        Some(manager) => Ok(Some(manager.id)),
        None => {
            errors.push(FieldError::new(
                "channel_manager",
                "unknown_manager",
                format!("no channel manager has the username {username:?}"),
            ));
            Ok(None)
        }
    }
}
