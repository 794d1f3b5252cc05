//! The store side as JSON: daily feedback and the channel manager's feed, complaints
//! with hand-overs, visits with follow-ups, satisfaction surveys and the per-dealer figures.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::domain::feedback::{Category, ComplaintStatus, FeedbackStatus, Quarter, Urgency, VisitStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{CurrentUser, IdempotencyKey, Json, Path, Query, RequestActor, parse_json, read_body};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::complaints::{self, Complaint, ComplaintFile, ComplaintFilter, ComplaintRequest};
use crate::store::feedback::{self, FeedbackFilter, FeedbackItem, FeedbackRequest, StoreFigures, StoredPhoto};
use crate::store::quotes::today;
use crate::store::sessions::SessionUser;
use crate::store::surveys::{self, Comparison, Survey, SurveyRequest};
use crate::store::visits::{self, PlanRequest, RecordRequest, Visit, VisitFile, VisitFilter};
use crate::store::{Page, PageRequest, files};

/// The feedback form's fields as text, from a phone's multipart post.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FeedbackForm {
    pub dealer_id: String,
    pub feedback_date: String,
    pub category: String,
    pub urgency: String,
    pub body: String,
    pub submission_ref: String,
}

impl FeedbackForm {
    pub fn request(&self) -> Result<FeedbackRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let dealer_id = self.dealer_id.trim().parse::<i64>().map_err(|_| {
            errors.push(FieldError::new("dealer_id", "required", "choose the store"));
        });
        let feedback_date = match self.feedback_date.trim() {
            "" => Ok(None),
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| {
                errors.push(FieldError::new("feedback_date", "invalid", "a date such as 2026-11-25"));
            }),
        };
        match (dealer_id, feedback_date) {
            (Ok(dealer_id), Ok(feedback_date)) if errors.is_empty() => Ok(FeedbackRequest {
                dealer_id,
                feedback_date,
                category: self.category.clone(),
                urgency: Some(self.urgency.clone()),
                body: self.body.clone(),
                submission_ref: Some(self.submission_ref.clone()),
            }),
            _ => Err(errors),
        }
    }
}

/// Reads the feedback form and its optional photo, enforcing the size limit while streaming.
pub async fn read_feedback_form(
    mut multipart: Multipart,
    max_bytes: u64,
) -> AppResult<(FeedbackForm, Option<Vec<u8>>)> {
    let mut form = FeedbackForm::default();
    let mut photo = None;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photo" {
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if (bytes.len() + chunk.len()) as u64 > max_bytes {
                    return Err(AppError::PayloadTooLarge { limit: usize::try_from(max_bytes).unwrap_or(usize::MAX) });
                }
                bytes.extend_from_slice(&chunk);
            }
            photo = Some(bytes).filter(|b| !b.is_empty());
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        match name.as_str() {
            "dealer_id" => form.dealer_id = text,
            "feedback_date" => form.feedback_date = text,
            "category" => form.category = text,
            "urgency" => form.urgency = text,
            "body" => form.body = text,
            "submission_ref" => form.submission_ref = text,
            // The page's security token and anything else a browser adds are not data.
            _ => {}
        }
    }
    Ok((form, photo))
}

/// Stores the photo (an image, told by its bytes) and the note in one go; a resent submission
/// finds the first. Answers the note's id and whether it was new.
pub async fn accept_feedback(
    state: &AppState,
    actor: &crate::store::audit::Actor,
    user: &SessionUser,
    request: &FeedbackRequest,
    photo: Option<Vec<u8>>,
) -> AppResult<(i64, bool)> {
    let stored = match photo {
        None => None,
        Some(bytes) => {
            let content_type = files::sniff_content_type(&bytes)
                .filter(|t| t.starts_with("image/"))
                .ok_or_else(|| AppError::field("photo", "unsupported", "a photo is a JPEG, PNG, WebP or HEIC image"))?;
            let sha256 = hex::encode(Sha256::digest(&bytes));
            files::store_file(&state.config.document_dir, &sha256, &bytes).await?;
            Some(StoredPhoto {
                sha256,
                content_type: content_type.to_string(),
                size_bytes: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            })
        }
    };
    let tx = begin_write(&state.db).await?;
    let outcome = feedback::submit(&tx, actor, &user.scope, request, stored.as_ref(), today()).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Logs a piece of daily feedback for one of the caller's stores. JSON, or multipart/form-data with the
/// same fields and an optional `photo`. Send the same `submission_ref` (or `Idempotency-Key`) again after
/// a failed connection: the note is stored once and the first answer comes back (200 instead of 201).
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", request_body = FeedbackRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = FeedbackItem), (status = 200, body = FeedbackItem, description = "the same submission, stored earlier"),
        (status = 422, body = crate::error::Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    req: Request,
) -> AppResult<Response> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let (request, photo) = if is_multipart {
        let multipart: Result<Multipart, MultipartRejection> = Multipart::from_request(req, &state).await;
        let multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
        let (form, photo) = read_feedback_form(multipart, state.config.document_max_bytes).await?;
        (form.request().map_err(AppError::Validation)?, photo)
    } else {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if !is_json {
            return Err(AppError::UnsupportedMediaType("send application/json or multipart/form-data".into()));
        }
        let bytes = read_body(req, &state).await?;
        let mut request: FeedbackRequest = parse_json(&bytes)?;
        // An idempotency key stands in for a submission reference the client did not choose.
        if request.submission_ref.is_none()
            && let Some(key) = key.as_deref()
        {
            request.submission_ref = Some(hex::encode(Sha256::digest(key.as_bytes()))[..32].to_string());
        }
        (request, None)
    };
    let (id, created) = accept_feedback(&state, &actor, &user, &request, photo).await?;
    let item = feedback::get(&state.db, &user.scope, id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let mut response = (status, Json(item)).into_response();
    if let Ok(location) = format!("/api/v1/feedback/{id}").parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if !created {
        response.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedbackQuery {
    pub dealer_id: Option<i64>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    /// `new`, `read` or `acted`.
    pub status: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only the caller's own notes.
    pub mine: Option<bool>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

fn parsed<T>(field: &str, value: Option<&str>, parse: fn(&str) -> Option<T>) -> AppResult<Option<T>> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => {
            parse(text).map(Some).ok_or_else(|| AppError::field(field, "unknown", format!("unknown {field} {text:?}")))
        }
    }
}

impl FeedbackQuery {
    pub fn filter(&self, user: &SessionUser) -> AppResult<FeedbackFilter> {
        Ok(FeedbackFilter {
            dealer_id: self.dealer_id,
            category: parsed("category", self.category.as_deref(), Category::parse)?,
            urgency: parsed("urgency", self.urgency.as_deref(), Urgency::parse)?,
            status: parsed("status", self.status.as_deref(), FeedbackStatus::parse)?,
            from: self.from,
            to: self.to,
            author_id: self.mine.unwrap_or(false).then_some(user.user_id),
        })
    }
}

/// The feed: feedback from the caller's dealers, newest first, filtered.
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", params(FeedbackQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<FeedbackItem>)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<FeedbackQuery>,
) -> AppResult<Json<Page<FeedbackItem>>> {
    let filter = query.filter(&user)?;
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(feedback::list(&state.db, &user.scope, &filter, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = FeedbackItem), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<FeedbackItem>> {
    Ok(Json(feedback::get(&state.db, &user.scope, id).await?))
}

/// The note's photo.
#[utoipa::path(get, path = "/api/v1/feedback/{id}/photo", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, description = "the image"), (status = 404, body = crate::error::Problem)))]
pub async fn photo(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (content_type, sha256) = feedback::photo(&state.db, &user.scope, id).await?;
    let path = files::document_path(&state.config.document_dir, &sha256);
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| AppError::Internal(anyhow::anyhow!("{}: {e}", path.display())))?;
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=3600".into())], bytes)
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandleRequest {
    pub version: i32,
    /// `read` or `acted`.
    pub status: String,
    /// What was done (required when acted on).
    #[serde(default)]
    pub note: String,
}

/// Marks a note read, or acted on with what was done.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/handle", tag = "feedback", request_body = HandleRequest, security(("bearer" = [])),
    responses((status = 200, body = FeedbackItem), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn handle(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<HandleRequest>,
) -> AppResult<Json<FeedbackItem>> {
    let status = FeedbackStatus::parse(request.status.trim())
        .ok_or_else(|| AppError::field("status", "unknown", "read or acted"))?;
    let tx = begin_write(&state.db).await?;
    feedback::handle(&tx, &actor, &user.scope, id, request.version, status, &request.note).await?;
    tx.commit().await?;
    Ok(Json(feedback::get(&state.db, &user.scope, id).await?))
}

/// Logs a complaint; the caller owns it (首问负责制) until it is resolved or handed on.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "feedback", request_body = ComplaintRequest, security(("bearer" = [])),
    responses((status = 201, body = ComplaintFile), (status = 422, body = crate::error::Problem)))]
pub async fn log_complaint(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Json(request): Json<ComplaintRequest>,
) -> AppResult<Response> {
    let tx = begin_write(&state.db).await?;
    let id = complaints::log(&tx, &actor, &user, &request, state.config.complaint_due_days, today()).await?;
    tx.commit().await?;
    let file = complaints::file(&state.db, &user, id, today()).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/complaints/{id}"))], Json(file)).into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ComplaintQuery {
    /// Only complaints the caller owns.
    pub mine: Option<bool>,
    pub dealer_id: Option<i64>,
    /// `open` or `resolved`.
    pub status: Option<String>,
    /// Only open complaints past their due date.
    pub overdue: Option<bool>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl ComplaintQuery {
    pub fn filter(&self, user: &SessionUser) -> AppResult<ComplaintFilter> {
        Ok(ComplaintFilter {
            owner_id: self.mine.unwrap_or(false).then_some(user.user_id),
            dealer_id: self.dealer_id,
            status: parsed("status", self.status.as_deref(), ComplaintStatus::parse)?,
            overdue_only: self.overdue.unwrap_or(false),
        })
    }
}

/// Complaints in the caller's scope: open ones first, most overdue first.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "feedback", params(ComplaintQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Complaint>)))]
pub async fn complaints(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ComplaintQuery>,
) -> AppResult<Json<Page<Complaint>>> {
    let filter = query.filter(&user)?;
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(complaints::list(&state.db, &user, &filter, paging, today()).await?))
}

/// A complaint with its history, every hand-over with both names.
#[utoipa::path(get, path = "/api/v1/complaints/{id}", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = ComplaintFile), (status = 404, body = crate::error::Problem)))]
pub async fn complaint(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ComplaintFile>> {
    Ok(Json(complaints::file(&state.db, &user, id, today()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOverRequest {
    pub version: i32,
    pub to_user_id: i64,
    /// Why, and what the new owner needs to know.
    pub note: String,
}

/// Hands a complaint to a colleague who works with the dealer; they own it from now on.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/hand-over", tag = "feedback", request_body = HandOverRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn hand_over(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<HandOverRequest>,
) -> AppResult<Json<ComplaintFile>> {
    let tx = begin_write(&state.db).await?;
    complaints::hand_over(&tx, &actor, &user, id, request.version, request.to_user_id, &request.note).await?;
    tx.commit().await?;
    Ok(Json(complaints::file(&state.db, &user, id, today()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    pub version: i32,
    pub resolution: String,
}

/// Resolves a complaint with what was done.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/resolve", tag = "feedback", request_body = ResolveRequest, security(("bearer" = [])),
    responses((status = 200, body = ComplaintFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn resolve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<ResolveRequest>,
) -> AppResult<Json<ComplaintFile>> {
    let tx = begin_write(&state.db).await?;
    complaints::resolve(&tx, &actor, &user, id, request.version, &request.resolution).await?;
    tx.commit().await?;
    Ok(Json(complaints::file(&state.db, &user, id, today()).await?))
}

/// Plans a visit to one of the caller's dealers.
#[utoipa::path(post, path = "/api/v1/visits", tag = "feedback", request_body = PlanRequest, security(("bearer" = [])),
    responses((status = 201, body = VisitFile), (status = 422, body = crate::error::Problem)))]
pub async fn plan_visit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Json(request): Json<PlanRequest>,
) -> AppResult<Response> {
    let tx = begin_write(&state.db).await?;
    let id = visits::plan(&tx, &actor, &user, &request, today()).await?;
    tx.commit().await?;
    let file = visits::file(&state.db, &user, id, today()).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/v1/visits/{id}"))], Json(file)).into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VisitQuery {
    pub dealer_id: Option<i64>,
    /// `planned`, `done` or `cancelled`.
    pub status: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl VisitQuery {
    pub fn filter(&self) -> AppResult<VisitFilter> {
        Ok(VisitFilter {
            dealer_id: self.dealer_id,
            status: parsed("status", self.status.as_deref(), VisitStatus::parse)?,
        })
    }
}

/// Visits to the caller's dealers: planned ones soonest first, then past ones.
#[utoipa::path(get, path = "/api/v1/visits", tag = "feedback", params(VisitQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Visit>)))]
pub async fn visits(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<VisitQuery>,
) -> AppResult<Json<Page<Visit>>> {
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(visits::list(&state.db, &user, &query.filter()?, paging).await?))
}

#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = VisitFile), (status = 404, body = crate::error::Problem)))]
pub async fn visit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<VisitFile>> {
    Ok(Json(visits::file(&state.db, &user, id, today()).await?))
}

/// Records a planned visit as done: findings and follow-ups (each with an owner and a due date).
#[utoipa::path(post, path = "/api/v1/visits/{id}/record", tag = "feedback", request_body = RecordRequest, security(("bearer" = [])),
    responses((status = 200, body = VisitFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn record_visit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<RecordRequest>,
) -> AppResult<Json<VisitFile>> {
    let tx = begin_write(&state.db).await?;
    visits::record(&tx, &actor, &user, id, &request, today()).await?;
    tx.commit().await?;
    Ok(Json(visits::file(&state.db, &user, id, today()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub version: i32,
    pub note: String,
}

/// Cancels a planned visit, saying why.
#[utoipa::path(post, path = "/api/v1/visits/{id}/cancel", tag = "feedback", request_body = NoteRequest, security(("bearer" = [])),
    responses((status = 200, body = VisitFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn cancel_visit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<NoteRequest>,
) -> AppResult<Json<VisitFile>> {
    let tx = begin_write(&state.db).await?;
    visits::cancel(&tx, &actor, &user, id, request.version, &request.note).await?;
    tx.commit().await?;
    Ok(Json(visits::file(&state.db, &user, id, today()).await?))
}

/// Marks a visit's follow-up done, by its owner or the visit's channel manager.
#[utoipa::path(post, path = "/api/v1/follow-ups/{id}/complete", tag = "feedback", request_body = NoteRequest, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn complete_follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<NoteRequest>,
) -> AppResult<StatusCode> {
    let tx = begin_write(&state.db).await?;
    visits::complete_follow_up(&tx, &actor, &user, id, request.version, &request.note).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a dealer's satisfaction survey for a quarter (or corrects it, sending its version).
#[utoipa::path(post, path = "/api/v1/surveys", tag = "feedback", request_body = SurveyRequest, security(("bearer" = [])),
    responses((status = 201, body = Survey), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn record_survey(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Json(request): Json<SurveyRequest>,
) -> AppResult<Response> {
    let tx = begin_write(&state.db).await?;
    let id = surveys::record(&tx, &actor, &user.scope, &request).await?;
    tx.commit().await?;
    let survey = surveys::for_dealer(&state.db, &user.scope, request.dealer_id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)?;
    let status = if request.version.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(survey)).into_response())
}

/// A dealer's surveys, newest quarter first, each with its gaps (perceived − expected).
#[utoipa::path(get, path = "/api/v1/dealers/{id}/surveys", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = Vec<Survey>), (status = 404, body = crate::error::Problem)))]
pub async fn dealer_surveys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Survey>>> {
    Ok(Json(surveys::for_dealer(&state.db, &user.scope, id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuarterQuery {
    /// `2026Q3`; the last complete quarter when left out.
    pub quarter: Option<String>,
}

impl QuarterQuery {
    pub fn quarter(&self) -> AppResult<Quarter> {
        match self.quarter.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Quarter::of(today()).previous()),
            Some(text) => {
                Quarter::parse(text).ok_or_else(|| AppError::field("quarter", "invalid", "a quarter such as 2026Q3"))
            }
        }
    }
}

/// Every dealer in scope compared on one quarter's survey, least satisfied first, with the mean per dimension.
#[utoipa::path(get, path = "/api/v1/surveys/comparison", tag = "feedback", params(QuarterQuery), security(("bearer" = [])),
    responses((status = 200, body = Comparison)))]
pub async fn survey_comparison(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<QuarterQuery>,
) -> AppResult<Json<Comparison>> {
    Ok(Json(surveys::comparison(&state.db, &user.scope, query.quarter()?).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// First day of the feedback counts (default: 30 days ago).
    pub from: Option<NaiveDate>,
    /// Day after the last (default: tomorrow).
    pub to: Option<NaiveDate>,
}

/// A dealer's store-side figures: feedback by category, open and overdue complaints, days since the
/// last visit, open follow-ups and the latest satisfaction gaps.
#[utoipa::path(get, path = "/api/v1/dealers/{id}/store-figures", tag = "feedback", params(FiguresQuery), security(("bearer" = [])),
    responses((status = 200, body = StoreFigures), (status = 404, body = crate::error::Problem)))]
pub async fn store_figures(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<FiguresQuery>,
) -> AppResult<Json<StoreFigures>> {
    let today = today();
    let to = query.to.unwrap_or(today + chrono::Days::new(1));
    let from = query.from.unwrap_or(to - chrono::Days::new(31));
    if to <= from {
        return Err(AppError::field("to", "before_from", "the end must be after the start"));
    }
    Ok(Json(feedback::figures(&state.db, &user.scope, id, from, to, today).await?))
}
