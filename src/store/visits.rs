//! Channel managers' visits to their dealers (定期交流): planned, then recorded with
//! findings and follow-up actions that each have an owner and a due date.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::domain::auth::Role;
use crate::domain::feedback::{MAX_TEXT_CHARS, VisitStatus, required_text};
use crate::error::{AppError, AppResult, FieldError};
use crate::store::sessions::SessionUser;
use entity::{visit_follow_ups, visits};

use super::audit::{self, Actor, Change};
use super::complaints::may_hold;
use super::dealers::in_scope;
use super::feedback::dealer_labels;
use super::users::display_names as user_names;
use super::{Page, PageRequest, now};

/// How far ahead a visit may be planned.
pub const MAX_PLAN_DAYS_AHEAD: i64 = 366;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub dealer_id: i64,
    pub planned_on: NaiveDate,
    /// What the visit is for: topics, figures to discuss.
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpRequest {
    pub action: String,
    /// Who does it: a colleague who works with the dealer.
    pub owner_id: i64,
    pub due_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    pub version: i32,
    /// The day of the visit (not after today).
    pub visited_on: NaiveDate,
    pub findings: String,
    #[serde(default)]
    pub follow_ups: Vec<FollowUpRequest>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Visit {
    pub id: i64,
    pub dealer_id: i64,
    pub dealer_code: String,
    pub dealer_name: String,
    pub manager_id: i64,
    pub manager: String,
    pub planned_on: NaiveDate,
    pub purpose: String,
    pub status: VisitStatus,
    pub visited_on: Option<NaiveDate>,
    pub findings: Option<String>,
    pub recorded_at: Option<DateTime<Utc>>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUp {
    pub id: i64,
    pub visit_id: i64,
    pub action: String,
    pub owner_id: i64,
    pub owner: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_note: Option<String>,
    pub overdue: bool,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitFile {
    pub visit: Visit,
    pub follow_ups: Vec<FollowUp>,
}

#[derive(Debug, Clone, Default)]
pub struct VisitFilter {
    pub dealer_id: Option<i64>,
    pub status: Option<VisitStatus>,
}

/// Plans a visit to one of the caller's dealers.
pub async fn plan(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    request: &PlanRequest,
    today: NaiveDate,
) -> AppResult<i64> {
    let mut errors = Vec::new();
    if !user.scope.allows(request.dealer_id)
        || entity::dealers::Entity::find_by_id(request.dealer_id).one(tx).await?.is_none()
    {
        errors.push(FieldError::new("dealer_id", "unknown_dealer", "choose one of your dealers"));
    }
    if request.planned_on < today {
        errors.push(FieldError::new("planned_on", "in_past", "plan a visit from today on; record past visits"));
    } else if (request.planned_on - today).num_days() > MAX_PLAN_DAYS_AHEAD {
        errors.push(FieldError::new("planned_on", "too_far", "plan at most a year ahead"));
    }
    let purpose = required_text("purpose", &request.purpose, MAX_TEXT_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id = visits::Entity::insert(visits::ActiveModel {
        dealer_id: Set(request.dealer_id),
        manager_id: Set(user.user_id),
        planned_on: Set(request.planned_on),
        purpose: Set(purpose.clone()),
        status: Set(VisitStatus::Planned.as_str().into()),
        version: Set(1),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?
    .last_insert_id;
    let change = Change::new("plan", "visit", id).after(
        &serde_json::json!({ "dealer_id": request.dealer_id, "planned_on": request.planned_on, "purpose": purpose }),
    );
    audit::append(tx, actor, change).await?;
    Ok(id)
}

async fn planned_for_change(
    tx: &impl ConnectionTrait,
    user: &SessionUser,
    id: i64,
    version: i32,
) -> AppResult<visits::Model> {
    let row = visits::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    if row.manager_id != user.user_id && user.role != Role::Administrator {
        return Err(AppError::Conflict("only the channel manager who planned the visit may record it".into()));
    }
    if row.status != VisitStatus::Planned.as_str() {
        return Err(AppError::Conflict(format!("the visit is already {}", row.status)));
    }
    if row.version != version {
        return Err(AppError::stale_version());
    }
    Ok(row)
}

async fn set_status(
    tx: &impl ConnectionTrait,
    row: &visits::Model,
    status: VisitStatus,
    visited_on: Option<NaiveDate>,
    findings: Option<String>,
) -> AppResult<()> {
    let result = visits::Entity::update_many()
        .col_expr(visits::Column::Status, Expr::value(status.as_str()))
        .col_expr(visits::Column::VisitedOn, Expr::value(visited_on))
        .col_expr(visits::Column::Findings, Expr::value(findings))
        .col_expr(visits::Column::RecordedAt, Expr::value(Some(now())))
        .col_expr(visits::Column::Version, Expr::col(visits::Column::Version).add(1))
        .filter(visits::Column::Id.eq(row.id))
        .filter(visits::Column::Version.eq(row.version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    Ok(())
}

/// Records a planned visit as done, with findings and follow-ups.
pub async fn record(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    id: i64,
    request: &RecordRequest,
    today: NaiveDate,
) -> AppResult<()> {
    let row = planned_for_change(tx, user, id, request.version).await?;
    let mut errors = Vec::new();
    if request.visited_on > today {
        errors.push(FieldError::new("visited_on", "in_future", "record a visit once it has happened"));
    }
    let findings = required_text("findings", &request.findings, MAX_TEXT_CHARS * 2, &mut errors);
    let mut follow_ups = Vec::new();
    for (index, f) in request.follow_ups.iter().enumerate() {
        let action = required_text(&format!("follow_ups[{index}].action"), &f.action, 500, &mut errors);
        if !may_hold(tx, f.owner_id, row.dealer_id).await? {
            errors.push(FieldError::new(
                format!("follow_ups[{index}].owner_id"),
                "not_in_scope",
                "give it to an active colleague who works with this dealer",
            ));
        }
        if f.due_on < request.visited_on {
            errors.push(FieldError::new(format!("follow_ups[{index}].due_on"), "before_visit", "due after the visit"));
        }
        follow_ups.push((action, f.owner_id, f.due_on));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    set_status(tx, &row, VisitStatus::Done, Some(request.visited_on), Some(findings.clone())).await?;
    for (action, owner_id, due_on) in &follow_ups {
        insert_follow_up(tx, &row, action, *owner_id, *due_on).await?;
    }
    let change = Change::new("record", "visit", id).before(&serde_json::json!({ "status": row.status })).after(
        &serde_json::json!({ "status": "done", "visited_on": request.visited_on, "findings": findings,
            "follow_ups": follow_ups.iter().map(|(a, o, d)| serde_json::json!({"action": a, "owner_id": o, "due_on": d})).collect::<Vec<_>>() }),
    );
    audit::append(tx, actor, change).await?;
    Ok(())
}

async fn insert_follow_up(
    tx: &impl ConnectionTrait,
    visit: &visits::Model,
    action: &str,
    owner_id: i64,
    due_on: NaiveDate,
) -> AppResult<i64> {
    Ok(visit_follow_ups::Entity::insert(visit_follow_ups::ActiveModel {
        visit_id: Set(visit.id),
        dealer_id: Set(visit.dealer_id),
        action: Set(action.into()),
        owner_id: Set(owner_id),
        due_on: Set(due_on),
        version: Set(1),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?
    .last_insert_id)
}

/// Cancels a planned visit, saying why.
pub async fn cancel(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    id: i64,
    version: i32,
    reason: &str,
) -> AppResult<()> {
    let row = planned_for_change(tx, user, id, version).await?;
    let mut errors = Vec::new();
    let reason = required_text("reason", reason, MAX_TEXT_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    set_status(tx, &row, VisitStatus::Cancelled, None, Some(reason.clone())).await?;
    let change = Change::new("cancel", "visit", id).after(&serde_json::json!({ "reason": reason }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

/// Marks a follow-up done: its owner does, or the visit's channel manager, or an administrator.
pub async fn complete_follow_up(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    id: i64,
    version: i32,
    note: &str,
) -> AppResult<()> {
    let row = visit_follow_ups::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let visit = visits::Entity::find_by_id(row.visit_id).one(tx).await?.ok_or(AppError::NotFound)?;
    if row.owner_id != user.user_id && visit.manager_id != user.user_id && user.role != Role::Administrator {
        return Err(AppError::Conflict(
            "only the follow-up's owner or the visit's channel manager may close it".into(),
        ));
    }
    if row.done_at.is_some() {
        return Err(AppError::Conflict("the follow-up is already done".into()));
    }
    let mut errors = Vec::new();
    let note = required_text("note", note, MAX_TEXT_CHARS, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let result = visit_follow_ups::Entity::update_many()
        .col_expr(visit_follow_ups::Column::DoneAt, Expr::value(Some(now())))
        .col_expr(visit_follow_ups::Column::DoneNote, Expr::value(Some(note.clone())))
        .col_expr(visit_follow_ups::Column::Version, Expr::col(visit_follow_ups::Column::Version).add(1))
        .filter(visit_follow_ups::Column::Id.eq(id))
        .filter(visit_follow_ups::Column::Version.eq(version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let change = Change::new("complete", "visit_follow_up", id).after(&serde_json::json!({ "note": note }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

/// Visits in scope: planned ones soonest first, then done and cancelled ones newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    filter: &VisitFilter,
    paging: PageRequest,
) -> AppResult<Page<Visit>> {
    let mut query = visits::Entity::find().filter(in_scope(&user.scope, visits::Column::DealerId));
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(visits::Column::DealerId.eq(dealer_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(visits::Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(visits::Column::Status.eq(VisitStatus::Planned.as_str()))
        .order_by_asc(visits::Column::PlannedOn)
        .order_by_desc(visits::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    // Past visits read best newest first; the SQL order keeps planned ones soonest first.
    let (planned, mut past): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.status == "planned");
    past.sort_by_key(|v| std::cmp::Reverse(v.visited_on.unwrap_or(v.planned_on)));
    let items = visits_of(db, planned.into_iter().chain(past).collect()).await?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

/// A visit with its follow-ups.
pub async fn file(db: &impl ConnectionTrait, user: &SessionUser, id: i64, today: NaiveDate) -> AppResult<VisitFile> {
    let row = visits::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let follow_ups = visit_follow_ups::Entity::find()
        .filter(visit_follow_ups::Column::VisitId.eq(id))
        .order_by_asc(visit_follow_ups::Column::Id)
        .all(db)
        .await?;
    let visit = visits_of(db, vec![row]).await?.pop().ok_or(AppError::NotFound)?;
    Ok(VisitFile { visit, follow_ups: follow_ups_of(db, follow_ups, today).await? })
}

/// Open follow-ups owned by a user, soonest due first.
pub async fn follow_ups_owned(
    db: &impl ConnectionTrait,
    user: &SessionUser,
    today: NaiveDate,
) -> AppResult<Vec<FollowUp>> {
    let rows = visit_follow_ups::Entity::find()
        .filter(visit_follow_ups::Column::OwnerId.eq(user.user_id))
        .filter(visit_follow_ups::Column::DoneAt.is_null())
        .filter(in_scope(&user.scope, visit_follow_ups::Column::DealerId))
        .order_by_asc(visit_follow_ups::Column::DueOn)
        .all(db)
        .await?;
    follow_ups_of(db, rows, today).await
}

async fn follow_ups_of(
    db: &impl ConnectionTrait,
    rows: Vec<visit_follow_ups::Model>,
    today: NaiveDate,
) -> AppResult<Vec<FollowUp>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.owner_id).collect();
    let names = user_names(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| FollowUp {
            id: r.id,
            visit_id: r.visit_id,
            owner: names.get(&r.owner_id).cloned().unwrap_or_default(),
            owner_id: r.owner_id,
            overdue: r.done_at.is_none() && r.due_on < today,
            action: r.action,
            due_on: r.due_on,
            done_at: r.done_at,
            done_note: r.done_note,
            version: r.version,
        })
        .collect())
}

async fn visits_of(db: &impl ConnectionTrait, rows: Vec<visits::Model>) -> AppResult<Vec<Visit>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.manager_id).collect();
    let names = user_names(db, &ids).await?;
    let labels = dealer_labels(db, rows.iter().map(|r| r.dealer_id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (dealer_code, dealer_name) = labels.get(&r.dealer_id).cloned().unwrap_or_default();
            Visit {
                id: r.id,
                dealer_id: r.dealer_id,
                dealer_code,
                dealer_name,
                manager_id: r.manager_id,
                manager: names.get(&r.manager_id).cloned().unwrap_or_default(),
                planned_on: r.planned_on,
                purpose: r.purpose,
                status: VisitStatus::parse(&r.status).unwrap_or(VisitStatus::Planned),
                visited_on: r.visited_on,
                findings: r.findings,
                recorded_at: r.recorded_at,
                version: r.version,
            }
        })
        .collect())
}
