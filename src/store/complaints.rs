//! Complaints under 首问负责制: whoever takes a complaint owns it until it is
//! resolved or explicitly handed on; every hand-over is kept with both names.

use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::domain::auth::Role;
use crate::domain::feedback::{
    ComplaintActor, ComplaintCategory, ComplaintSource, ComplaintStatus, MAX_TEXT_CHARS, is_overdue, required_text,
};
use crate::domain::underwriting::identity::mask_mobile;
use crate::error::{AppError, AppResult, FieldError};
use crate::store::sessions::SessionUser;
use entity::{complaint_events, complaints, dealers, user_dealers, users};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::feedback::dealer_labels;
use super::users::display_names as user_names;
use super::{Page, PageRequest, now};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    pub dealer_id: i64,
    /// `customer` or `dealer`.
    pub source: String,
    /// Who complained.
    pub complainant: String,
    /// How to reach them (a phone number or other contact).
    #[serde(default)]
    pub contact: String,
    /// `claims_service`, `loss_assessment`, `payment`, `commission`, `sales_service` or `other`.
    pub category: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Complaint {
    pub id: i64,
    pub dealer_id: i64,
    pub dealer_code: String,
    pub dealer_name: String,
    pub source: ComplaintSource,
    pub complainant: String,
    /// Masked unless the caller may act on the complaint.
    pub contact: String,
    pub category: ComplaintCategory,
    pub description: String,
    pub logged_by: String,
    pub logged_at: DateTime<Utc>,
    pub owner_id: i64,
    pub owner: String,
    pub due_on: NaiveDate,
    pub status: ComplaintStatus,
    pub overdue: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub version: i32,
}

/// One line of a complaint's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintEvent {
    /// `logged`, `handed_over` or `resolved`.
    pub kind: String,
    pub actor: String,
    pub from_owner: Option<String>,
    pub to_owner: Option<String>,
    pub note: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplaintFile {
    pub complaint: Complaint,
    pub events: Vec<ComplaintEvent>,
    /// Whether the caller may hand it on or resolve it.
    pub may_act: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub owner_id: Option<i64>,
    pub dealer_id: Option<i64>,
    pub status: Option<ComplaintStatus>,
    pub overdue_only: bool,
}

/// How the caller stands towards complaints of a dealer.
async fn actor_for(db: &impl ConnectionTrait, user: &SessionUser, dealer_id: i64) -> AppResult<ComplaintActor> {
    let manages_dealer = user.role == Role::ChannelManager
        && dealers::Entity::find_by_id(dealer_id).one(db).await?.and_then(|d| d.channel_manager_id)
            == Some(user.user_id);
    Ok(ComplaintActor { user_id: user.user_id, is_administrator: user.role == Role::Administrator, manages_dealer })
}

/// Logs a complaint; the one who logs it owns it from that moment.
pub async fn log(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    request: &ComplaintRequest,
    due_days: u32,
    today: NaiveDate,
) -> AppResult<i64> {
    let mut errors = Vec::new();
    if !user.scope.allows(request.dealer_id) || dealers::Entity::find_by_id(request.dealer_id).one(tx).await?.is_none()
    {
        errors.push(FieldError::new("dealer_id", "unknown_dealer", "choose one of your dealers"));
    }
    let source = ComplaintSource::parse(request.source.trim());
    if source.is_none() {
        errors.push(FieldError::new("source", "unknown", "from a customer or from the dealer"));
    }
    let category = ComplaintCategory::parse(request.category.trim());
    if category.is_none() {
        errors.push(FieldError::new("category", "unknown", "choose what the complaint is about"));
    }
    let complainant = required_text("complainant", &request.complainant, 100, &mut errors);
    let contact = request.contact.trim().to_string();
    if contact.chars().count() > 40 {
        errors.push(FieldError::new("contact", "too_long", "at most 40 characters"));
    }
    let description = required_text("description", &request.description, MAX_TEXT_CHARS, &mut errors);
    let (Some(source), Some(category), true) = (source, category, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let due_on = today.checked_add_days(Days::new(u64::from(due_days))).unwrap_or(today);
    let at = now();
    let id = complaints::Entity::insert(complaints::ActiveModel {
        dealer_id: Set(request.dealer_id),
        source: Set(source.as_str().into()),
        complainant: Set(complainant.clone()),
        contact: Set(contact),
        category: Set(category.as_str().into()),
        description: Set(description.clone()),
        logged_by: Set(user.user_id),
        logged_at: Set(at),
        owner_id: Set(user.user_id),
        due_on: Set(due_on),
        status: Set(ComplaintStatus::Open.as_str().into()),
        version: Set(1),
        ..Default::default()
    })
    .exec(tx)
    .await?
    .last_insert_id;
    event(tx, id, "logged", user.user_id, None, Some(user.user_id), "").await?;
    let change = Change::new("log", "complaint", id).after(&serde_json::json!({
        "dealer_id": request.dealer_id, "source": source, "category": category,
        "complainant": complainant, "description": description, "owner_id": user.user_id, "due_on": due_on,
    }));
    audit::append(tx, actor, change).await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &impl ConnectionTrait,
    complaint_id: i64,
    kind: &str,
    actor_id: i64,
    from_owner_id: Option<i64>,
    to_owner_id: Option<i64>,
    note: &str,
) -> AppResult<()> {
    complaint_events::Entity::insert(complaint_events::ActiveModel {
        complaint_id: Set(complaint_id),
        kind: Set(kind.into()),
        actor_id: Set(actor_id),
        from_owner_id: Set(from_owner_id),
        to_owner_id: Set(to_owner_id),
        note: Set(note.into()),
        at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    Ok(())
}

/// The open complaint for a change by `user`, checked for scope, right to act and version.
async fn for_change(
    tx: &impl ConnectionTrait,
    user: &SessionUser,
    id: i64,
    version: i32,
) -> AppResult<complaints::Model> {
    let row = complaints::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    if !actor_for(tx, user, row.dealer_id).await?.may_act(row.owner_id) {
        return Err(AppError::Conflict(
            "only the complaint's owner (or its dealer's channel manager) may hand it on or resolve it".into(),
        ));
    }
    if row.status != ComplaintStatus::Open.as_str() {
        return Err(AppError::Conflict("the complaint is resolved".into()));
    }
    if row.version != version {
        return Err(AppError::stale_version());
    }
    Ok(row)
}

async fn bump(
    tx: &impl ConnectionTrait,
    row: &complaints::Model,
    set: Vec<(complaints::Column, Expr)>,
) -> AppResult<()> {
    let mut update = complaints::Entity::update_many()
        .col_expr(complaints::Column::Version, Expr::col(complaints::Column::Version).add(1))
        .filter(complaints::Column::Id.eq(row.id))
        .filter(complaints::Column::Version.eq(row.version));
    for (column, value) in set {
        update = update.col_expr(column, value);
    }
    if update.exec(tx).await?.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    Ok(())
}

/// Whether a user may hold complaints of a dealer: active, and the dealer is theirs to see.
pub async fn may_hold(db: &impl ConnectionTrait, user_id: i64, dealer_id: i64) -> AppResult<bool> {
    let Some(user) = users::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(false);
    };
    if user.disabled {
        return Ok(false);
    }
    let Some(role) = Role::parse(&user.role) else {
        return Ok(false);
    };
    Ok(match role {
        r if r.sees_all_dealers() => true,
        Role::ChannelManager => {
            dealers::Entity::find_by_id(dealer_id).one(db).await?.and_then(|d| d.channel_manager_id) == Some(user_id)
        }
        _ => user_dealers::Entity::find()
            .filter(user_dealers::Column::UserId.eq(user_id))
            .filter(user_dealers::Column::DealerId.eq(dealer_id))
            .one(db)
            .await?
            .is_some(),
    })
}

/// Hands the complaint to another user, who owns it from now on.
pub async fn hand_over(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    id: i64,
    version: i32,
    to_user_id: i64,
    note: &str,
) -> AppResult<()> {
    let row = for_change(tx, user, id, version).await?;
    let mut errors = Vec::new();
    let note = required_text("note", note, MAX_TEXT_CHARS, &mut errors);
    if to_user_id == row.owner_id {
        errors.push(FieldError::new("to_user_id", "same_owner", "the complaint is already theirs"));
    } else if !may_hold(tx, to_user_id, row.dealer_id).await? {
        errors.push(FieldError::new(
            "to_user_id",
            "not_in_scope",
            "hand it to an active colleague who works with this dealer",
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    bump(tx, &row, vec![(complaints::Column::OwnerId, Expr::value(to_user_id))]).await?;
    event(tx, id, "handed_over", user.user_id, Some(row.owner_id), Some(to_user_id), &note).await?;
    let change = Change::new("hand_over", "complaint", id)
        .before(&serde_json::json!({ "owner_id": row.owner_id }))
        .after(&serde_json::json!({ "owner_id": to_user_id, "note": note }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

/// Closes the complaint with what was done about it.
pub async fn resolve(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    id: i64,
    version: i32,
    resolution: &str,
) -> AppResult<()> {
    let row = for_change(tx, user, id, version).await?;
    let mut errors = Vec::new();
    let resolution = required_text("resolution", resolution, MAX_TEXT_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    bump(
        tx,
        &row,
        vec![
            (complaints::Column::Status, Expr::value(ComplaintStatus::Resolved.as_str())),
            (complaints::Column::ResolvedAt, Expr::value(Some(now()))),
            (complaints::Column::Resolution, Expr::value(Some(resolution.clone()))),
        ],
    )
    .await?;
    event(tx, id, "resolved", user.user_id, Some(row.owner_id), None, &resolution).await?;
    let change = Change::new("resolve", "complaint", id)
        .before(&serde_json::json!({ "status": row.status }))
        .after(&serde_json::json!({ "status": "resolved", "resolution": resolution }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

/// Complaints in scope: open ones by due date (most overdue first), then resolved ones newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    filter: &ComplaintFilter,
    paging: PageRequest,
    today: NaiveDate,
) -> AppResult<Page<Complaint>> {
    let mut query = complaints::Entity::find().filter(in_scope(&user.scope, complaints::Column::DealerId));
    if let Some(owner_id) = filter.owner_id {
        query = query.filter(complaints::Column::OwnerId.eq(owner_id));
    }
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(complaints::Column::DealerId.eq(dealer_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(complaints::Column::Status.eq(status.as_str()));
    }
    if filter.overdue_only {
        query = query.filter(
            Condition::all()
                .add(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
                .add(complaints::Column::DueOn.lt(today)),
        );
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .order_by_asc(complaints::Column::DueOn)
        .order_by_desc(complaints::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    let items = complaints_of(db, user, rows, today).await?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

/// Open complaints a user owns, and how many of them are overdue (two counts, for the start page).
pub async fn owned_open_counts(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    today: NaiveDate,
) -> AppResult<(u64, u64)> {
    let open = complaints::Entity::find()
        .filter(in_scope(&user.scope, complaints::Column::DealerId))
        .filter(complaints::Column::OwnerId.eq(user.user_id))
        .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()));
    let overdue = open.clone().filter(complaints::Column::DueOn.lt(today)).count(db).await?;
    Ok((open.count(db).await?, overdue))
}

/// A complaint with its history.
pub async fn file(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    id: i64,
    today: NaiveDate,
) -> AppResult<ComplaintFile> {
    let row = complaints::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let may_act =
        row.status == ComplaintStatus::Open.as_str() && actor_for(db, user, row.dealer_id).await?.may_act(row.owner_id);
    let events = complaint_events::Entity::find()
        .filter(complaint_events::Column::ComplaintId.eq(id))
        .order_by_asc(complaint_events::Column::Id)
        .all(db)
        .await?;
    let mut ids: Vec<i64> =
        events.iter().flat_map(|e| [Some(e.actor_id), e.from_owner_id, e.to_owner_id]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    let names = user_names(db, &ids).await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let events = events
        .into_iter()
        .map(|e| ComplaintEvent {
            kind: e.kind,
            actor: name(e.actor_id),
            from_owner: e.from_owner_id.map(name),
            to_owner: e.to_owner_id.map(name),
            note: e.note,
            at: e.at,
        })
        .collect();
    let complaint = complaints_of(db, user, vec![row], today).await?.pop().ok_or(AppError::NotFound)?;
    Ok(ComplaintFile { complaint, events, may_act })
}

async fn complaints_of(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    rows: Vec<complaints::Model>,
    today: NaiveDate,
) -> AppResult<Vec<Complaint>> {
    let mut ids: Vec<i64> = rows.iter().flat_map(|r| [r.owner_id, r.logged_by]).collect();
    ids.sort_unstable();
    ids.dedup();
    let names = user_names(db, &ids).await?;
    let mut dealer_ids: Vec<i64> = rows.iter().map(|r| r.dealer_id).collect();
    dealer_ids.sort_unstable();
    dealer_ids.dedup();
    let labels = dealer_labels(db, dealer_ids.clone()).await?;
    // Each dealer's channel manager, once for the page rather than once per row.
    let managers: std::collections::HashMap<i64, Option<i64>> = dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Id)
        .column(dealers::Column::ChannelManagerId)
        .filter(dealers::Column::Id.is_in(dealer_ids))
        .into_tuple::<(i64, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let status = ComplaintStatus::parse(&r.status).unwrap_or(ComplaintStatus::Open);
        let actor = ComplaintActor {
            user_id: user.user_id,
            is_administrator: user.role == Role::Administrator,
            manages_dealer: user.role == Role::ChannelManager
                && managers.get(&r.dealer_id).copied().flatten() == Some(user.user_id),
        };
        // Personal data is shown to whoever holds the complaint (and those who may take it over).
        let sees_contact = actor.may_act(r.owner_id);
        let (dealer_code, dealer_name) = labels.get(&r.dealer_id).cloned().unwrap_or_default();
        items.push(Complaint {
            id: r.id,
            dealer_id: r.dealer_id,
            dealer_code,
            dealer_name,
            source: ComplaintSource::parse(&r.source).unwrap_or(ComplaintSource::Customer),
            complainant: r.complainant,
            contact: if sees_contact { r.contact } else { mask_mobile(&r.contact) },
            category: ComplaintCategory::parse(&r.category).unwrap_or(ComplaintCategory::Other),
            description: r.description,
            logged_by: names.get(&r.logged_by).cloned().unwrap_or_default(),
            logged_at: r.logged_at,
            owner_id: r.owner_id,
            owner: names.get(&r.owner_id).cloned().unwrap_or_default(),
            due_on: r.due_on,
            overdue: is_overdue(status, r.due_on, today),
            status,
            resolved_at: r.resolved_at,
            resolution: r.resolution,
            version: r.version,
        });
    }
    Ok(items)
}

/// The colleagues a complaint of this dealer may be handed to, by name.
pub async fn holders(db: &impl ConnectionTrait, dealer_id: i64) -> AppResult<Vec<(i64, String)>> {
    let tied: Vec<i64> = user_dealers::Entity::find()
        .select_only()
        .column(user_dealers::Column::UserId)
        .filter(user_dealers::Column::DealerId.eq(dealer_id))
        .into_tuple()
        .all(db)
        .await?;
    let manager = dealers::Entity::find_by_id(dealer_id).one(db).await?.and_then(|d| d.channel_manager_id);
    let head_office: Vec<&str> = Role::ALL.iter().filter(|r| r.sees_all_dealers()).map(|r| r.as_str()).collect();
    let rows: Vec<(i64, String, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::DisplayName)
        .column(users::Column::Role)
        .filter(users::Column::Disabled.eq(false))
        .filter(
            Condition::any()
                .add(users::Column::Id.is_in(tied.into_iter().chain(manager)))
                .add(users::Column::Role.is_in(head_office)),
        )
        .order_by_asc(users::Column::DisplayName)
        .into_tuple()
        .all(db)
        .await?;
    // Channel managers of other dealers are not theirs to hold; tied sellers and staff are.
    Ok(rows
        .into_iter()
        .filter(|(id, _, role)| role != Role::ChannelManager.as_str() || Some(*id) == manager)
        .map(|(id, name, _)| (id, name))
        .collect())
}
