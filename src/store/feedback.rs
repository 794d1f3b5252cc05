//! Daily feedback from the stores and the channel manager's feed, plus the
//! store-side figures per dealer (feedback counts, complaints, visits, satisfaction)
//! that dashboards and analytics read.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    SqlErr,
};
use serde::{Deserialize, Serialize};

use crate::domain::auth::Scope;
use crate::domain::feedback::{Category, ComplaintStatus, FeedbackStatus, MAX_TEXT_CHARS, Urgency, required_text};
use crate::error::{AppError, AppResult, FieldError};
use entity::{complaints, dealers, feedback, visit_follow_ups, visits};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::surveys::{self, Survey};
use super::users::display_names as user_names;
use super::{Page, PageRequest, now};

/// How far back a store may date its feedback (a week's notes typed up on Monday, and then some).
pub const MAX_BACKDATE_DAYS: i64 = 31;

/// A feedback note as sent by a sales assistant.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub dealer_id: i64,
    /// The day it happened; today when left out.
    #[serde(default)]
    pub feedback_date: Option<NaiveDate>,
    /// `pricing`, `claims_service`, `repair_referral`, `competitor`, `customer_complaint`, `training_need` or `other`.
    pub category: String,
    /// `low`, `normal` (the default) or `high`.
    #[serde(default)]
    pub urgency: Option<String>,
    pub body: String,
    /// Chosen by the client when the form opens (8 to 64 letters, digits, `-` or `_`): sending the
    /// same submission again stores it once and answers with the first.
    #[serde(default)]
    pub submission_ref: Option<String>,
}

/// A photo already written to the document directory.
#[derive(Debug, Clone)]
pub struct StoredPhoto {
    pub sha256: String,
    pub content_type: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackItem {
    pub id: i64,
    pub dealer_id: i64,
    pub dealer_code: String,
    pub dealer_name: String,
    pub author_id: i64,
    pub author: String,
    pub feedback_date: NaiveDate,
    pub category: Category,
    pub urgency: Urgency,
    pub body: String,
    pub has_photo: bool,
    pub status: FeedbackStatus,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_note: Option<String>,
    pub submission_ref: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// What the feed shows.
#[derive(Debug, Clone, Default)]
pub struct FeedbackFilter {
    pub dealer_id: Option<i64>,
    pub category: Option<Category>,
    pub urgency: Option<Urgency>,
    pub status: Option<FeedbackStatus>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub author_id: Option<i64>,
}

fn valid_submission_ref(text: &str) -> bool {
    (8..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh submission reference, for forms and for API calls that send none.
pub fn new_submission_ref() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// Stores a feedback note once per author and submission; answers with its id and whether
/// this call created it (a resend of the same submission finds the first).
pub async fn submit(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    request: &FeedbackRequest,
    photo: Option<&StoredPhoto>,
    today: NaiveDate,
) -> AppResult<(i64, bool)> {
    let author_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let submission_ref = match request.submission_ref.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) if valid_submission_ref(text) => text.to_string(),
        Some(_) => {
            return Err(AppError::field(
                "submission_ref",
                "invalid",
                "8 to 64 letters, digits, '-' or '_', chosen once per submission",
            ));
        }
        None => new_submission_ref(),
    };
    if let Some(id) = by_submission(tx, author_id, &submission_ref).await? {
        return Ok((id, false));
    }
    let mut errors: Vec<FieldError> = Vec::new();
    if !scope.allows(request.dealer_id) {
        errors.push(FieldError::new("dealer_id", "not_your_dealer", "choose one of your stores"));
    }
    let category = Category::parse(request.category.trim());
    if category.is_none() {
        errors.push(FieldError::new("category", "unknown", "choose a category"));
    }
    let urgency = match request.urgency.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(Urgency::Normal),
        Some(text) => Urgency::parse(text),
    };
    if urgency.is_none() {
        errors.push(FieldError::new("urgency", "unknown", "low, normal or high"));
    }
    let feedback_date = request.feedback_date.unwrap_or(today);
    if feedback_date > today {
        errors.push(FieldError::new("feedback_date", "in_future", "feedback is about a day that has happened"));
    } else if (today - feedback_date).num_days() > MAX_BACKDATE_DAYS {
        errors.push(FieldError::new(
            "feedback_date",
            "too_old",
            format!("date feedback within the last {MAX_BACKDATE_DAYS} days"),
        ));
    }
    let body = required_text("body", &request.body, MAX_TEXT_CHARS, &mut errors);
    let (Some(category), Some(urgency), true) = (category, urgency, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let inserted = feedback::Entity::insert(feedback::ActiveModel {
        dealer_id: Set(request.dealer_id),
        author_id: Set(author_id),
        feedback_date: Set(feedback_date),
        category: Set(category.as_str().into()),
        urgency: Set(urgency.as_str().into()),
        body: Set(body.clone()),
        photo_sha256: Set(photo.map(|p| p.sha256.clone())),
        photo_content_type: Set(photo.map(|p| p.content_type.clone())),
        photo_bytes: Set(photo.map(|p| p.size_bytes)),
        submission_ref: Set(submission_ref.clone()),
        status: Set(FeedbackStatus::New.as_str().into()),
        version: Set(1),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await;
    let id = match inserted {
        Ok(result) => result.last_insert_id,
        // The same submission raced in on another connection and won: it is the one stored.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::Conflict("this submission is being stored already; reload to see it".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let change = Change::new("submit", "feedback", id).after(&serde_json::json!({
        "dealer_id": request.dealer_id,
        "feedback_date": feedback_date,
        "category": category,
        "urgency": urgency,
        "body": body,
        "photo_sha256": photo.map(|p| p.sha256.clone()),
    }));
    audit::append(tx, actor, change).await?;
    Ok((id, true))
}

async fn by_submission(db: &impl ConnectionTrait, author_id: i64, submission_ref: &str) -> AppResult<Option<i64>> {
    Ok(feedback::Entity::find()
        .select_only()
        .column(feedback::Column::Id)
        .filter(feedback::Column::AuthorId.eq(author_id))
        .filter(feedback::Column::SubmissionRef.eq(submission_ref))
        .into_tuple()
        .one(db)
        .await?)
}

/// The feed: newest day first, then newest note first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &FeedbackFilter,
    paging: PageRequest,
) -> AppResult<Page<FeedbackItem>> {
    let mut query = feedback::Entity::find().filter(in_scope(scope, feedback::Column::DealerId));
    if let Some(dealer_id) = filter.dealer_id {
        query = query.filter(feedback::Column::DealerId.eq(dealer_id));
    }
    if let Some(category) = filter.category {
        query = query.filter(feedback::Column::Category.eq(category.as_str()));
    }
    if let Some(urgency) = filter.urgency {
        query = query.filter(feedback::Column::Urgency.eq(urgency.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(feedback::Column::Status.eq(status.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(feedback::Column::FeedbackDate.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(feedback::Column::FeedbackDate.lte(to));
    }
    if let Some(author_id) = filter.author_id {
        query = query.filter(feedback::Column::AuthorId.eq(author_id));
    }
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(feedback::Column::FeedbackDate)
        .order_by_desc(feedback::Column::Id)
        .offset(paging.offset())
        .limit(paging.per_page)
        .all(db)
        .await?;
    let items = items(db, rows).await?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

pub async fn get(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<FeedbackItem> {
    let row = feedback::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    items(db, vec![row]).await?.pop().ok_or(AppError::NotFound)
}

/// The photo's content type and hash, when the note has one.
pub async fn photo(db: &impl ConnectionTrait, scope: &Scope, id: i64) -> AppResult<(String, String)> {
    let row = feedback::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    match (row.photo_content_type, row.photo_sha256) {
        (Some(content_type), Some(sha256)) => Ok((content_type, sha256)),
        _ => Err(AppError::NotFound),
    }
}

/// A channel manager marks a note read, or acted on with what was done.
pub async fn handle(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    version: i32,
    status: FeedbackStatus,
    note: &str,
) -> AppResult<()> {
    let row = feedback::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let note = note.trim();
    let mut errors = Vec::new();
    match status {
        FeedbackStatus::New => {
            errors.push(FieldError::new("status", "invalid", "mark the note read or acted on"));
        }
        FeedbackStatus::Acted => {
            required_text("note", note, MAX_TEXT_CHARS, &mut errors);
        }
        FeedbackStatus::Read if note.chars().count() > MAX_TEXT_CHARS => {
            errors.push(FieldError::new("note", "too_long", format!("at most {MAX_TEXT_CHARS} characters")));
        }
        FeedbackStatus::Read => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if row.status == FeedbackStatus::Acted.as_str() && status == FeedbackStatus::Read {
        return Err(AppError::Conflict("the note was already acted on".into()));
    }
    let note = if note.is_empty() { row.handled_note.clone() } else { Some(note.to_string()) };
    let result = feedback::Entity::update_many()
        .col_expr(feedback::Column::Status, Expr::value(status.as_str()))
        .col_expr(feedback::Column::HandledBy, Expr::value(actor.user_id))
        .col_expr(feedback::Column::HandledAt, Expr::value(Some(now())))
        .col_expr(feedback::Column::HandledNote, Expr::value(note.clone()))
        .col_expr(feedback::Column::Version, Expr::col(feedback::Column::Version).add(1))
        .filter(feedback::Column::Id.eq(id))
        .filter(feedback::Column::Version.eq(version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let change = Change::new("handle", "feedback", id)
        .before(&serde_json::json!({ "status": row.status, "note": row.handled_note }))
        .after(&serde_json::json!({ "status": status, "note": note }));
    audit::append(tx, actor, change).await?;
    Ok(())
}

async fn items(db: &impl ConnectionTrait, rows: Vec<feedback::Model>) -> AppResult<Vec<FeedbackItem>> {
    let mut user_ids: Vec<i64> =
        rows.iter().map(|r| r.author_id).chain(rows.iter().filter_map(|r| r.handled_by)).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let names = user_names(db, &user_ids).await?;
    let labels = dealer_labels(db, rows.iter().map(|r| r.dealer_id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (dealer_code, dealer_name) = labels.get(&r.dealer_id).cloned().unwrap_or_default();
            FeedbackItem {
                id: r.id,
                dealer_id: r.dealer_id,
                dealer_code,
                dealer_name,
                author_id: r.author_id,
                author: names.get(&r.author_id).cloned().unwrap_or_default(),
                feedback_date: r.feedback_date,
                category: Category::parse(&r.category).unwrap_or(Category::Other),
                urgency: Urgency::parse(&r.urgency).unwrap_or(Urgency::Normal),
                body: r.body,
                has_photo: r.photo_sha256.is_some(),
                status: FeedbackStatus::parse(&r.status).unwrap_or(FeedbackStatus::New),
                handled_by: r.handled_by.and_then(|id| names.get(&id).cloned()),
                handled_at: r.handled_at,
                handled_note: r.handled_note,
                submission_ref: r.submission_ref,
                version: r.version,
                created_at: r.created_at,
            }
        })
        .collect())
}

/// Dealer code and name by id.
pub(crate) async fn dealer_labels(
    db: &impl ConnectionTrait,
    mut ids: Vec<i64>,
) -> AppResult<HashMap<i64, (String, String)>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, String)> = dealers::Entity::find()
        .select_only()
        .column(dealers::Column::Id)
        .column(dealers::Column::Code)
        .column(dealers::Column::Name)
        .filter(dealers::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, code, name)| (id, (code, name))).collect())
}

/// One category's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CategoryCount {
    pub category: Category,
    pub count: u64,
}

/// A dealer's store-side figures (DOMAIN.md "Feedback, visits and complaints").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoreFigures {
    pub dealer_id: i64,
    /// Period of the feedback counts: `from` ≤ date < `to`.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every category, zeros included, in DOMAIN.md's order.
    pub feedback_by_category: Vec<CategoryCount>,
    pub feedback_total: u64,
    pub feedback_high_urgency: u64,
    /// Feedback nobody at the insurer has read yet (any date).
    pub feedback_unread: u64,
    pub open_complaints: u64,
    pub overdue_complaints: u64,
    pub last_visit_on: Option<NaiveDate>,
    /// Days from the last recorded visit to `today`; none when the dealer was never visited.
    pub days_since_last_visit: Option<i64>,
    pub next_planned_visit: Option<NaiveDate>,
    pub open_follow_ups: u64,
    pub overdue_follow_ups: u64,
    /// The latest quarter's survey, with its gaps (perceived − expected) per dimension.
    pub latest_survey: Option<Survey>,
}

/// The store-side figures of several dealers in a handful of grouped queries (no query per dealer).
pub async fn figures_by_dealer(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> AppResult<Vec<StoreFigures>> {
    let ids = dealer_ids.to_vec();
    let counts: Vec<(i64, String, String, i64)> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::DealerId)
        .column(feedback::Column::Category)
        .column(feedback::Column::Urgency)
        .column_as(feedback::Column::Id.count(), "n")
        .filter(feedback::Column::DealerId.is_in(ids.clone()))
        .filter(feedback::Column::FeedbackDate.gte(from))
        .filter(feedback::Column::FeedbackDate.lt(to))
        .group_by(feedback::Column::DealerId)
        .group_by(feedback::Column::Category)
        .group_by(feedback::Column::Urgency)
        .into_tuple()
        .all(db)
        .await?;
    let unread: Vec<(i64, i64)> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::DealerId)
        .column_as(feedback::Column::Id.count(), "n")
        .filter(feedback::Column::DealerId.is_in(ids.clone()))
        .filter(feedback::Column::Status.eq(FeedbackStatus::New.as_str()))
        .group_by(feedback::Column::DealerId)
        .into_tuple()
        .all(db)
        .await?;
    let complaints: Vec<(i64, NaiveDate)> = complaints::Entity::find()
        .select_only()
        .column(complaints::Column::DealerId)
        .column(complaints::Column::DueOn)
        .filter(complaints::Column::DealerId.is_in(ids.clone()))
        .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let last_visits: Vec<(i64, Option<NaiveDate>)> = visits::Entity::find()
        .select_only()
        .column(visits::Column::DealerId)
        .column_as(visits::Column::VisitedOn.max(), "last")
        .filter(visits::Column::DealerId.is_in(ids.clone()))
        .filter(visits::Column::Status.eq("done"))
        .group_by(visits::Column::DealerId)
        .into_tuple()
        .all(db)
        .await?;
    let next_visits: Vec<(i64, Option<NaiveDate>)> = visits::Entity::find()
        .select_only()
        .column(visits::Column::DealerId)
        .column_as(visits::Column::PlannedOn.min(), "next")
        .filter(visits::Column::DealerId.is_in(ids.clone()))
        .filter(visits::Column::Status.eq("planned"))
        .filter(visits::Column::PlannedOn.gte(today))
        .group_by(visits::Column::DealerId)
        .into_tuple()
        .all(db)
        .await?;
    let follow_ups: Vec<(i64, NaiveDate)> = visit_follow_ups::Entity::find()
        .select_only()
        .column(visit_follow_ups::Column::DealerId)
        .column(visit_follow_ups::Column::DueOn)
        .filter(visit_follow_ups::Column::DealerId.is_in(ids.clone()))
        .filter(visit_follow_ups::Column::DoneAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut latest_surveys = surveys::latest_by_dealer(db, &ids).await?;

    Ok(dealer_ids
        .iter()
        .map(|&dealer_id| {
            let mine = counts.iter().filter(|(d, ..)| *d == dealer_id);
            let mut by_category: Vec<CategoryCount> =
                Category::ALL.iter().map(|c| CategoryCount { category: *c, count: 0 }).collect();
            let mut high = 0u64;
            for (_, category, urgency, n) in mine {
                let n = u64::try_from(*n).unwrap_or(0);
                if let Some(slot) = by_category.iter_mut().find(|c| c.category.as_str() == category) {
                    slot.count += n;
                }
                if urgency == Urgency::High.as_str() {
                    high += n;
                }
            }
            let open: Vec<NaiveDate> =
                complaints.iter().filter(|(d, _)| *d == dealer_id).map(|(_, due)| *due).collect();
            let last_visit_on = last_visits.iter().find(|(d, _)| *d == dealer_id).and_then(|(_, v)| *v);
            let follow: Vec<NaiveDate> =
                follow_ups.iter().filter(|(d, _)| *d == dealer_id).map(|(_, due)| *due).collect();
            StoreFigures {
                dealer_id,
                from,
                to,
                feedback_total: by_category.iter().map(|c| c.count).sum(),
                feedback_by_category: by_category,
                feedback_high_urgency: high,
                feedback_unread: unread
                    .iter()
                    .find(|(d, _)| *d == dealer_id)
                    .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
                    .unwrap_or(0),
                open_complaints: open.len() as u64,
                overdue_complaints: open
                    .iter()
                    .filter(|due| crate::domain::feedback::is_overdue(ComplaintStatus::Open, **due, today))
                    .count() as u64,
                last_visit_on,
                days_since_last_visit: last_visit_on.map(|day| (today - day).num_days()),
                next_planned_visit: next_visits.iter().find(|(d, _)| *d == dealer_id).and_then(|(_, v)| *v),
                open_follow_ups: follow.len() as u64,
                overdue_follow_ups: follow.iter().filter(|due| **due < today).count() as u64,
                latest_survey: latest_surveys.remove(&dealer_id),
            }
        })
        .collect())
}

/// One dealer's store-side figures, within the caller's scope.
pub async fn figures(
    db: &impl ConnectionTrait,
    scope: &Scope,
    dealer_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> AppResult<StoreFigures> {
    if !scope.allows(dealer_id) {
        return Err(AppError::NotFound);
    }
    dealers::Entity::find_by_id(dealer_id).one(db).await?.ok_or(AppError::NotFound)?;
    figures_by_dealer(db, &[dealer_id], from, to, today).await?.pop().ok_or(AppError::NotFound)
}
