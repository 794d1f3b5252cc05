//! The store-side pages: the sales assistant's feedback form (made for a phone and a
//! flaky connection), the channel manager's feed, complaints with hand-overs, visits
//! with follow-ups, and the satisfaction surveys compared across dealers.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::auth::{Role, Scope};
use crate::domain::feedback::{
    Category, ComplaintCategory, Dimension, FeedbackStatus, MAX_RATING, MIN_RATING, Quarter, Rating, Urgency,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::feedback::{
    ComplaintQuery, FeedbackForm, FeedbackQuery, QuarterQuery, VisitQuery, accept_feedback, read_feedback_form,
};
use crate::http::extract::{CurrentUser, Form, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::complaints::{self, Complaint, ComplaintFile, ComplaintRequest};
use crate::store::dealers::{self, Dealer, DealerFilter};
use crate::store::feedback::{self, FeedbackItem, new_submission_ref};
use crate::store::quotes::today;
use crate::store::sessions::SessionUser;
use crate::store::surveys::{self, Comparison, SurveyRequest};
use crate::store::visits::{self, FollowUp, FollowUpRequest, PlanRequest, RecordRequest, Visit, VisitFile};
use crate::store::{Page, PageRequest};

use super::{Shell, commit_or_refuse, refusal};

/// The dealers a user works with, for pickers (a portfolio is at most a few hundred).
async fn dealers_in_scope(state: &AppState, scope: &Scope) -> AppResult<Vec<Dealer>> {
    Ok(dealers::list(&state.db, scope, &DealerFilter::default(), PageRequest { page: 1, per_page: 1000 }).await?.items)
}

fn error_for<'a>(shell: &Shell, errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field || e.field.starts_with(&format!("{field}.")))
        .map(|e| shell.tr.field_error(e))
}

// ---------------------------------------------------------------- feedback

#[derive(Template, WebTemplate)]
#[template(path = "feedback/new.html")]
pub struct FeedbackFormPage {
    pub shell: Shell,
    pub dealers: Vec<Dealer>,
    pub form: FeedbackForm,
    pub errors: Vec<FieldError>,
    pub today: NaiveDate,
    /// The note just stored, to confirm it.
    pub sent: Option<FeedbackItem>,
    pub recent: Vec<FeedbackItem>,
}

impl FeedbackFormPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    pub fn dealer_checked(&self, id: &i64) -> bool {
        self.form.dealer_id == id.to_string()
    }
    /// Drafts are kept per user on the phone, so a shared device never shows one person's note to another.
    pub fn draft_key(&self) -> String {
        format!("feedback-draft-{}", self.shell.user.as_ref().map(|u| u.user_id).unwrap_or(0))
    }
    pub fn categories(&self) -> &'static [Category] {
        Category::ALL
    }
    pub fn urgencies(&self) -> &'static [Urgency] {
        Urgency::ALL
    }
}

#[derive(Debug, Deserialize)]
pub struct SentQuery {
    pub sent: Option<i64>,
}

async fn feedback_form_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    form: FeedbackForm,
    errors: Vec<FieldError>,
    sent: Option<i64>,
) -> AppResult<FeedbackFormPage> {
    let dealers = dealers_in_scope(state, &user.scope).await?;
    let sent = match sent {
        Some(id) => feedback::get(&state.db, &user.scope, id).await.ok().filter(|f| f.author_id == user.user_id),
        None => None,
    };
    let filter = feedback::FeedbackFilter { author_id: Some(user.user_id), ..Default::default() };
    let recent = feedback::list(&state.db, &user.scope, &filter, PageRequest { page: 1, per_page: 5 }).await?.items;
    Ok(FeedbackFormPage { shell, dealers, form, errors, today: today(), sent, recent })
}

fn blank_feedback_form(dealers_first: Option<i64>) -> FeedbackForm {
    FeedbackForm {
        dealer_id: dealers_first.map(|id| id.to_string()).unwrap_or_default(),
        feedback_date: today().to_string(),
        urgency: Urgency::Normal.as_str().into(),
        submission_ref: new_submission_ref(),
        ..Default::default()
    }
}

/// The phone form: the assistant's first store chosen, today's date, a fresh submission reference.
pub async fn new_feedback(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SentQuery>,
) -> AppResult<FeedbackFormPage> {
    let first = match &user.scope {
        Scope::Dealers(ids) => ids.iter().min().copied(),
        Scope::All => None,
    };
    feedback_form_page(&state, shell, &user, blank_feedback_form(first), Vec::new(), query.sent).await
}

pub async fn submit_feedback(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (form, photo) = match read_feedback_form(multipart, state.config.document_max_bytes).await {
        Ok(read) => read,
        Err(e) => {
            let (status, errors, _) = refusal(e)?;
            let form = blank_feedback_form(None);
            return Ok((status, feedback_form_page(&state, shell, &user, form, errors, None).await?).into_response());
        }
    };
    let result = match form.request() {
        Ok(request) => accept_feedback(&state, &actor, &user, &request, photo).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        // A fresh form for the next note, with the one just sent confirmed at the top.
        Ok((id, _)) => Ok(Redirect::to(&format!("/feedback/new?sent={id}")).into_response()),
        Err(e) => {
            let (status, mut errors, notice) = refusal(e)?;
            if let Some(message) = notice {
                errors.push(FieldError::new("body", "conflict", message));
            }
            Ok((status, feedback_form_page(&state, shell, &user, form, errors, None).await?).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "feedback/feed.html")]
pub struct FeedPage {
    pub shell: Shell,
    pub page: Page<FeedbackItem>,
    pub dealers: Vec<Dealer>,
    pub query: FeedbackQuery,
    pub can_handle: bool,
}

impl FeedPage {
    fn filter_query(&self) -> String {
        let q = &self.query;
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("dealer_id", q.dealer_id.map(|d| d.to_string())),
            ("category", q.category.clone()),
            ("urgency", q.urgency.clone()),
            ("status", q.status.clone()),
            ("from", q.from.map(|d| d.to_string())),
            ("to", q.to.map(|d| d.to_string())),
        ] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                pairs.append_pair(key, &value);
            }
        }
        pairs.finish()
    }
    pub fn page_link(&self, page: u64) -> String {
        let filters = self.filter_query();
        if filters.is_empty() { format!("/feedback?page={page}") } else { format!("/feedback?{filters}&page={page}") }
    }
    pub fn dealer_selected(&self, id: &i64) -> bool {
        self.query.dealer_id == Some(*id)
    }
    pub fn current_link(&self) -> String {
        self.page_link(self.page.page)
    }
    pub fn is(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "category" => self.query.category.as_deref(),
            "urgency" => self.query.urgency.as_deref(),
            "status" => self.query.status.as_deref(),
            _ => None,
        };
        current == Some(value)
    }
    pub fn from_text(&self) -> String {
        self.query.from.map(|d| d.to_string()).unwrap_or_default()
    }
    pub fn to_text(&self) -> String {
        self.query.to.map(|d| d.to_string()).unwrap_or_default()
    }
    pub fn categories(&self) -> &'static [Category] {
        Category::ALL
    }
    pub fn urgencies(&self) -> &'static [Urgency] {
        Urgency::ALL
    }
    pub fn statuses(&self) -> &'static [FeedbackStatus] {
        FeedbackStatus::ALL
    }
    pub fn csv_link(&self) -> String {
        format!("/feedback.csv?{}", self.filter_query())
    }
}

/// The channel manager's feed.
pub async fn feed(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<FeedbackQuery>,
) -> AppResult<FeedPage> {
    let filter = query.filter(&user)?;
    let page = feedback::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, query.per_page)).await?;
    let dealers = dealers_in_scope(&state, &user.scope).await?;
    let can_handle = matches!(user.role, Role::ChannelManager | Role::Administrator);
    Ok(FeedPage { shell, page, dealers, query, can_handle })
}

/// The feed as CSV, with the same filters (every matching row, not one page).
pub async fn feed_csv(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<FeedbackQuery>,
) -> AppResult<Response> {
    let filter = query.filter(&user)?;
    let tr = shell.tr;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let map = |e: csv::Error| AppError::Internal(e.into());
    writer
        .write_record([
            "日期 date",
            "门店 dealer",
            "类别 category",
            "紧急 urgency",
            "内容 text",
            "提交人 author",
            "状态 status",
            "处理说明 note",
        ])
        .map_err(map)?;
    let mut page_no = 1;
    loop {
        let page =
            feedback::list(&state.db, &user.scope, &filter, PageRequest { page: page_no, per_page: 1000 }).await?;
        for f in &page.items {
            writer
                .write_record([
                    f.feedback_date.to_string(),
                    format!("{} {}", f.dealer_code, f.dealer_name),
                    tr.t2("feedback.category", f.category.as_str()).to_string(),
                    tr.t2("feedback.urgency", f.urgency.as_str()).to_string(),
                    f.body.clone(),
                    f.author.clone(),
                    tr.t2("feedback.status", f.status.as_str()).to_string(),
                    f.handled_note.clone().unwrap_or_default(),
                ])
                .map_err(map)?;
        }
        if page_no >= page.pages() {
            break;
        }
        page_no += 1;
    }
    let bytes = writer.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"feedback.csv\"".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "feedback/show.html")]
pub struct FeedbackPage {
    pub shell: Shell,
    pub item: FeedbackItem,
    pub can_handle: bool,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

impl FeedbackPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
}

async fn feedback_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<FeedbackPage> {
    let item = feedback::get(&state.db, &user.scope, id).await?;
    let can_handle = matches!(user.role, Role::ChannelManager | Role::Administrator);
    Ok(FeedbackPage { shell, item, can_handle, errors, notice })
}

pub async fn show_feedback(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<FeedbackPage> {
    feedback_page(&state, shell, &user, id, Vec::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct HandleForm {
    #[serde(default)]
    pub csrf: String,
    pub version: String,
    pub status: String,
    #[serde(default)]
    pub note: String,
    /// Where to go back to (the feed with its filters); only local paths are followed.
    #[serde(default)]
    pub return_to: String,
}

pub async fn handle_feedback(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<HandleForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let status = FeedbackStatus::parse(form.status.trim()).unwrap_or(FeedbackStatus::New);
    let tx = begin_write(&state.db).await?;
    let result = feedback::handle(&tx, &actor, &user.scope, id, version, status, &form.note).await;
    match commit_or_refuse(tx, result).await? {
        Ok(()) => {
            let back = local_path(&form.return_to).unwrap_or_else(|| format!("/feedback/{id}"));
            Ok(Redirect::to(&back).into_response())
        }
        Err((status, errors, notice)) => {
            Ok((status, feedback_page(&state, shell, &user, id, errors, notice).await?).into_response())
        }
    }
}

/// A redirect target from a form, only if it stays on this site.
fn local_path(text: &str) -> Option<String> {
    let text = text.trim();
    (text.starts_with('/') && !text.starts_with("//") && !text.contains('\\')).then(|| text.to_string())
}

// ---------------------------------------------------------------- complaints

#[derive(Template, WebTemplate)]
#[template(path = "complaints/list.html")]
pub struct ComplaintsPage {
    pub shell: Shell,
    pub page: Page<Complaint>,
    pub mine: bool,
    pub overdue: bool,
    pub status: String,
}

impl ComplaintsPage {
    pub fn page_link(&self, page: u64) -> String {
        format!("/complaints?mine={}&overdue={}&status={}&page={page}", self.mine, self.overdue, self.status)
    }
}

pub async fn complaint_list(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ComplaintQuery>,
) -> AppResult<ComplaintsPage> {
    let mut query = query;
    // Open complaints unless asked otherwise: what needs doing.
    if query.status.is_none() {
        query.status = Some("open".into());
    }
    let filter = query.filter(&user)?;
    let page =
        complaints::list(&state.db, &user, &filter, PageRequest::new(query.page, query.per_page), today()).await?;
    Ok(ComplaintsPage {
        shell,
        page,
        mine: query.mine.unwrap_or(false),
        overdue: query.overdue.unwrap_or(false),
        status: query.status.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ComplaintForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub dealer_id: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub complainant: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints/new.html")]
pub struct ComplaintFormPage {
    pub shell: Shell,
    pub dealers: Vec<Dealer>,
    pub form: ComplaintForm,
    pub errors: Vec<FieldError>,
}

impl ComplaintFormPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    pub fn dealer_selected(&self, id: &i64) -> bool {
        self.form.dealer_id == id.to_string()
    }
    pub fn categories(&self) -> &'static [ComplaintCategory] {
        ComplaintCategory::ALL
    }
}

pub async fn new_complaint(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
) -> AppResult<ComplaintFormPage> {
    let dealers = dealers_in_scope(&state, &user.scope).await?;
    let form = ComplaintForm {
        dealer_id: dealers.first().map(|d| d.id.to_string()).unwrap_or_default(),
        source: "customer".into(),
        ..Default::default()
    };
    Ok(ComplaintFormPage { shell, dealers, form, errors: Vec::new() })
}

pub async fn log_complaint(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<ComplaintForm>,
) -> AppResult<Response> {
    let request = ComplaintRequest {
        dealer_id: form.dealer_id.trim().parse().unwrap_or(0),
        source: form.source.clone(),
        complainant: form.complainant.clone(),
        contact: form.contact.clone(),
        category: form.category.clone(),
        description: form.description.clone(),
    };
    let tx = begin_write(&state.db).await?;
    let result = complaints::log(&tx, &actor, &user, &request, state.config.complaint_due_days, today()).await;
    match commit_or_refuse(tx, result).await? {
        Ok(id) => Ok(Redirect::to(&format!("/complaints/{id}")).into_response()),
        Err((status, errors, _)) => {
            let dealers = dealers_in_scope(&state, &user.scope).await?;
            Ok((status, ComplaintFormPage { shell, dealers, form, errors }).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints/show.html")]
pub struct ComplaintPage {
    pub shell: Shell,
    pub file: ComplaintFile,
    pub holders: Vec<(i64, String)>,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

impl ComplaintPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    pub fn other_holders(&self) -> Vec<&(i64, String)> {
        self.holders.iter().filter(|(id, _)| *id != self.file.complaint.owner_id).collect()
    }
}

async fn complaint_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<ComplaintPage> {
    let file = complaints::file(&state.db, user, id, today()).await?;
    let holders =
        if file.may_act { complaints::holders(&state.db, file.complaint.dealer_id).await? } else { Vec::new() };
    Ok(ComplaintPage { shell, file, holders, errors, notice })
}

pub async fn show_complaint(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<ComplaintPage> {
    complaint_page(&state, shell, &user, id, Vec::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct HandOverForm {
    #[serde(default)]
    pub csrf: String,
    pub version: String,
    #[serde(default)]
    pub to_user_id: String,
    #[serde(default)]
    pub note: String,
}

pub async fn hand_over(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<HandOverForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let to_user_id: i64 = form.to_user_id.trim().parse().unwrap_or(0);
    let tx = begin_write(&state.db).await?;
    let result = complaints::hand_over(&tx, &actor, &user, id, version, to_user_id, &form.note).await;
    match commit_or_refuse(tx, result).await? {
        Ok(()) => Ok(Redirect::to(&format!("/complaints/{id}")).into_response()),
        Err((status, errors, notice)) => {
            Ok((status, complaint_page(&state, shell, &user, id, errors, notice).await?).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub csrf: String,
    pub version: String,
    #[serde(default)]
    pub resolution: String,
}

pub async fn resolve_complaint(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<ResolveForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let tx = begin_write(&state.db).await?;
    let result = complaints::resolve(&tx, &actor, &user, id, version, &form.resolution).await;
    match commit_or_refuse(tx, result).await? {
        Ok(()) => Ok(Redirect::to(&format!("/complaints/{id}")).into_response()),
        Err((status, errors, notice)) => {
            Ok((status, complaint_page(&state, shell, &user, id, errors, notice).await?).into_response())
        }
    }
}

// ---------------------------------------------------------------- visits

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub dealer_id: String,
    #[serde(default)]
    pub planned_on: String,
    #[serde(default)]
    pub purpose: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "visits/list.html")]
pub struct VisitsPage {
    pub shell: Shell,
    pub page: Page<Visit>,
    pub dealers: Vec<Dealer>,
    pub can_plan: bool,
    pub form: PlanForm,
    pub errors: Vec<FieldError>,
    pub my_follow_ups: Vec<FollowUp>,
    pub status: String,
}

impl VisitsPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    pub fn dealer_selected(&self, id: &i64) -> bool {
        self.form.dealer_id == id.to_string()
    }
    pub fn page_link(&self, page: u64) -> String {
        format!("/visits?status={}&page={page}", self.status)
    }
}

async fn visits_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    query: &VisitQuery,
    form: PlanForm,
    errors: Vec<FieldError>,
) -> AppResult<VisitsPage> {
    let page = visits::list(&state.db, user, &query.filter()?, PageRequest::new(query.page, query.per_page)).await?;
    Ok(VisitsPage {
        shell,
        page,
        dealers: dealers_in_scope(state, &user.scope).await?,
        can_plan: matches!(user.role, Role::ChannelManager | Role::Administrator),
        form,
        errors,
        my_follow_ups: visits::follow_ups_owned(&state.db, user, today()).await?,
        status: query.status.clone().unwrap_or_default(),
    })
}

pub async fn visit_list(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<VisitQuery>,
) -> AppResult<VisitsPage> {
    let form = PlanForm {
        planned_on: (today() + chrono::Days::new(7)).to_string(),
        dealer_id: query.dealer_id.map(|d| d.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    visits_page(&state, shell, &user, &query, form, Vec::new()).await
}

pub async fn plan_visit(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<PlanForm>,
) -> AppResult<Response> {
    let planned_on = NaiveDate::parse_from_str(form.planned_on.trim(), "%Y-%m-%d");
    let result = match planned_on {
        Err(_) => Err(AppError::field("planned_on", "invalid", "a date such as 2026-12-01")),
        Ok(planned_on) => {
            let request = PlanRequest {
                dealer_id: form.dealer_id.trim().parse().unwrap_or(0),
                planned_on,
                purpose: form.purpose.clone(),
            };
            let tx = begin_write(&state.db).await?;
            let result = visits::plan(&tx, &actor, &user, &request, today()).await;
            if result.is_ok() {
                tx.commit().await?;
            }
            result
        }
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/visits/{id}")).into_response()),
        Err(e) => {
            let (status, errors, _) = refusal(e)?;
            let page = visits_page(&state, shell, &user, &VisitQuery::default(), form, errors).await?;
            Ok((status, page).into_response())
        }
    }
}

/// How many follow-up rows the record form offers.
pub const FOLLOW_UP_ROWS: usize = 3;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub visited_on: String,
    #[serde(default)]
    pub findings: String,
    #[serde(default)]
    pub action_1: String,
    #[serde(default)]
    pub owner_1: String,
    #[serde(default)]
    pub due_1: String,
    #[serde(default)]
    pub action_2: String,
    #[serde(default)]
    pub owner_2: String,
    #[serde(default)]
    pub due_2: String,
    #[serde(default)]
    pub action_3: String,
    #[serde(default)]
    pub owner_3: String,
    #[serde(default)]
    pub due_3: String,
}

impl RecordForm {
    fn rows(&self) -> [(&str, &str, &str); FOLLOW_UP_ROWS] {
        [
            (&self.action_1, &self.owner_1, &self.due_1),
            (&self.action_2, &self.owner_2, &self.due_2),
            (&self.action_3, &self.owner_3, &self.due_3),
        ]
    }

    fn request(&self) -> Result<RecordRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let date = |field: String, text: &str, errors: &mut Vec<FieldError>| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| errors.push(FieldError::new(field, "invalid", "a date such as 2026-12-01")))
                .ok()
        };
        let visited_on = date("visited_on".into(), &self.visited_on, &mut errors);
        let mut follow_ups = Vec::new();
        // Rows left blank are simply not used; the index in errors is the row's position among the filled ones.
        for (action, owner, due) in self.rows().into_iter().filter(|(a, _, _)| !a.trim().is_empty()) {
            let index = follow_ups.len();
            let due_on = date(format!("follow_ups[{index}].due_on"), due, &mut errors);
            let owner_id = owner.trim().parse::<i64>().ok();
            if owner_id.is_none() {
                errors.push(FieldError::new(format!("follow_ups[{index}].owner_id"), "required", "choose who does it"));
            }
            if let (Some(due_on), Some(owner_id)) = (due_on, owner_id) {
                follow_ups.push(FollowUpRequest { action: action.to_string(), owner_id, due_on });
            }
        }
        match visited_on {
            Some(visited_on) if errors.is_empty() => Ok(RecordRequest {
                version: self.version.trim().parse().unwrap_or(0),
                visited_on,
                findings: self.findings.clone(),
                follow_ups,
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "visits/show.html")]
pub struct VisitPage {
    pub shell: Shell,
    pub file: VisitFile,
    pub may_record: bool,
    pub user_id: i64,
    pub holders: Vec<(i64, String)>,
    pub form: RecordForm,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

impl VisitPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    /// The record form's rows as (number, action, owner, due).
    pub fn rows(&self) -> Vec<(usize, String, String, String)> {
        self.form
            .rows()
            .iter()
            .enumerate()
            .map(|(i, (a, o, d))| (i + 1, a.to_string(), o.to_string(), d.to_string()))
            .collect()
    }
    pub fn may_complete(&self, f: &FollowUp) -> bool {
        f.done_at.is_none() && (f.owner_id == self.user_id || self.file.visit.manager_id == self.user_id)
    }
}

async fn visit_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    form: Option<RecordForm>,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<VisitPage> {
    let file = visits::file(&state.db, user, id, today()).await?;
    let may_record = file.visit.status == crate::domain::feedback::VisitStatus::Planned
        && (file.visit.manager_id == user.user_id || user.role == Role::Administrator);
    let holders = if may_record { complaints::holders(&state.db, file.visit.dealer_id).await? } else { Vec::new() };
    let form = form.unwrap_or_else(|| RecordForm {
        version: file.visit.version.to_string(),
        visited_on: today().min(file.visit.planned_on.max(today())).to_string(),
        due_1: (today() + chrono::Days::new(14)).to_string(),
        due_2: (today() + chrono::Days::new(14)).to_string(),
        due_3: (today() + chrono::Days::new(30)).to_string(),
        ..Default::default()
    });
    Ok(VisitPage { shell, file, may_record, user_id: user.user_id, holders, form, errors, notice })
}

pub async fn show_visit(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<VisitPage> {
    visit_page(&state, shell, &user, id, None, Vec::new(), None).await
}

pub async fn record_visit(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<RecordForm>,
) -> AppResult<Response> {
    let result = match form.request() {
        Err(errors) => Err(AppError::Validation(errors)),
        Ok(request) => {
            let tx = begin_write(&state.db).await?;
            let result = visits::record(&tx, &actor, &user, id, &request, today()).await;
            if result.is_ok() {
                tx.commit().await?;
            }
            result
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{id}")).into_response()),
        Err(e) => {
            let (status, errors, notice) = refusal(e)?;
            Ok((status, visit_page(&state, shell, &user, id, Some(form), errors, notice).await?).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    pub csrf: String,
    pub version: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub return_to: String,
}

pub async fn cancel_visit(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let tx = begin_write(&state.db).await?;
    let result = visits::cancel(&tx, &actor, &user, id, version, &form.note).await;
    match commit_or_refuse(tx, result).await? {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{id}")).into_response()),
        Err((status, mut errors, notice)) => {
            for error in &mut errors {
                if error.field == "reason" {
                    error.field = "cancel_note".into();
                }
            }
            Ok((status, visit_page(&state, shell, &user, id, None, errors, notice).await?).into_response())
        }
    }
}

pub async fn complete_follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> AppResult<Response> {
    let _ = &form.csrf;
    let version: i32 = form.version.trim().parse().unwrap_or(0);
    let tx = begin_write(&state.db).await?;
    visits::complete_follow_up(&tx, &actor, &user, id, version, &form.note).await?;
    tx.commit().await?;
    Ok(Redirect::to(&local_path(&form.return_to).unwrap_or_else(|| "/visits".into())).into_response())
}

// ---------------------------------------------------------------- surveys

#[derive(Template, WebTemplate)]
#[template(path = "surveys/comparison.html")]
pub struct SurveysPage {
    pub shell: Shell,
    pub comparison: Comparison,
    pub quarters: Vec<String>,
    pub chart_json: String,
    pub saved: bool,
}

impl SurveysPage {
    pub fn dimensions(&self) -> &'static [Dimension] {
        Dimension::ALL
    }
    pub fn quarter_selected(&self, q: &str) -> bool {
        self.comparison.quarter == q
    }
    /// A gap's colour band: a dealer getting clearly less than it expects stands out.
    pub fn gap_class(&self, gap: &Option<i32>) -> &'static str {
        match gap {
            Some(g) if *g <= -2 => "gap-bad",
            Some(-1) => "gap-low",
            Some(g) if *g >= 1 => "gap-good",
            _ => "",
        }
    }
    pub fn mean(&self, value: &f64) -> String {
        format!("{value:+.2}")
    }
}

#[derive(Debug, Deserialize)]
pub struct SurveysQuery {
    pub quarter: Option<String>,
    pub saved: Option<bool>,
}

pub async fn survey_comparison(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SurveysQuery>,
) -> AppResult<SurveysPage> {
    let quarter = QuarterQuery { quarter: query.quarter.clone() }.quarter()?;
    let comparison = surveys::comparison(&state.db, &user.scope, quarter).await?;
    let mut quarters = Vec::new();
    let mut q = Quarter::of(today());
    for _ in 0..8 {
        quarters.push(q.to_string());
        q = q.previous();
    }
    let tr = shell.tr;
    let chart = serde_json::json!({
        "dimensions": comparison.average.iter().map(|a| tr.t2("survey.dimension", a.dimension.as_str())).collect::<Vec<_>>(),
        "expected": comparison.average.iter().map(|a| a.mean_expected).collect::<Vec<_>>(),
        "perceived": comparison.average.iter().map(|a| a.mean_perceived).collect::<Vec<_>>(),
        "labels": { "expected": tr.t("survey.expected"), "perceived": tr.t("survey.perceived") },
    });
    Ok(SurveysPage {
        shell,
        comparison,
        quarters,
        chart_json: chart.to_string().replace("</", "<\\/"),
        saved: query.saved.unwrap_or(false),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SurveyForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub dealer_id: String,
    #[serde(default)]
    pub quarter: String,
    #[serde(default)]
    pub respondent: String,
    #[serde(default)]
    pub version: String,
    #[serde(flatten)]
    pub scores: std::collections::HashMap<String, String>,
}

impl SurveyForm {
    /// `expected_commission`, `perceived_commission`, … per dimension.
    fn ratings(&self) -> Vec<Rating> {
        Dimension::ALL
            .iter()
            .map(|d| {
                let score = |kind: &str| {
                    self.scores.get(&format!("{kind}_{}", d.as_str())).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
                };
                Rating { dimension: *d, expected: score("expected"), perceived: score("perceived") }
            })
            .collect()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "surveys/new.html")]
pub struct SurveyFormPage {
    pub shell: Shell,
    pub dealers: Vec<Dealer>,
    pub form: SurveyForm,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    pub saved: bool,
}

impl SurveyFormPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        error_for(&self.shell, &self.errors, field)
    }
    pub fn dealer_selected(&self, id: &i64) -> bool {
        self.form.dealer_id == id.to_string()
    }
    pub fn dimensions(&self) -> &'static [Dimension] {
        Dimension::ALL
    }
    pub fn scale(&self) -> Vec<i32> {
        (MIN_RATING..=MAX_RATING).collect()
    }
    pub fn checked(&self, kind: &str, dimension: &Dimension, value: &i32) -> bool {
        self.form.scores.get(&format!("{kind}_{}", dimension.as_str())).map(|v| v.trim()) == Some(&value.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    pub saved: Option<bool>,
}

pub async fn new_survey(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SavedQuery>,
) -> AppResult<SurveyFormPage> {
    let dealers = dealers_in_scope(&state, &user.scope).await?;
    let form = SurveyForm {
        dealer_id: dealers.first().map(|d| d.id.to_string()).unwrap_or_default(),
        quarter: Quarter::of(today()).previous().to_string(),
        ..Default::default()
    };
    Ok(SurveyFormPage { shell, dealers, form, errors: Vec::new(), notice: None, saved: query.saved.unwrap_or(false) })
}

pub async fn record_survey(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<SurveyForm>,
) -> AppResult<Response> {
    let request = SurveyRequest {
        dealer_id: form.dealer_id.trim().parse().unwrap_or(0),
        quarter: form.quarter.clone(),
        respondent: form.respondent.clone(),
        ratings: form.ratings(),
        version: form.version.trim().parse().ok(),
    };
    let tx = begin_write(&state.db).await?;
    let result = surveys::record(&tx, &actor, &user.scope, &request).await;
    match commit_or_refuse(tx, result).await? {
        Ok(_) => {
            let target = if user.role == Role::DealerStaff {
                "/surveys/new?saved=true".to_string()
            } else {
                format!("/surveys?quarter={}&saved=true", request.quarter.trim().to_ascii_uppercase())
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err((status, errors, mut notice)) => {
            let mut form = form;
            // The quarter is already recorded: offer to correct it, at the version on file.
            if notice.is_some() && form.version.trim().is_empty() {
                let quarter = Quarter::parse(&request.quarter).map(|q| q.to_string()).unwrap_or_default();
                if let Some(existing) = surveys::for_dealer(&state.db, &user.scope, request.dealer_id)
                    .await?
                    .into_iter()
                    .find(|s| s.quarter == quarter)
                {
                    form.version = existing.version.to_string();
                    notice = Some(shell.tr.t("survey.exists").to_string());
                }
            }
            let dealers = dealers_in_scope(&state, &user.scope).await?;
            Ok((status, SurveyFormPage { shell, dealers, form, errors, notice, saved: false }).into_response())
        }
    }
}
