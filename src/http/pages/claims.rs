//! Claims pages: the adjuster's queue (a board by stage and a list), the report form
//! made for a phone, the claim file with the next steps as buttons, and the owner's
//! public status look-up.

use std::collections::BTreeMap;
use std::str::FromStr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::auth::Role;
use crate::domain::claims::settlement::LossCategory;
use crate::domain::claims::{Stage, Transition};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::claims::{ClaimQuery, attach, read_upload};
use crate::http::extract::{ClientIp, CurrentUser, Form, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::claims::{
    self, ApprovalRequest, Claim, ClaimFile, ClaimSettings, LOSS_KINDS, LossItemRequest, PaymentRequest,
    RegisterRequest, ReportRequest, ReserveChange, ReserveRequest, SettleRequest, StepRequest, SurveyRequest,
    WithdrawSettlementRequest, china,
};
use crate::store::dealers::{self, Dealer};
use crate::store::sessions::SessionUser;
use crate::store::{Page, PageRequest};

use super::Shell;

/// The queue page: the board's counts, the filters and one page of claims.
#[derive(Template, WebTemplate)]
#[template(path = "claims/queue.html")]
pub struct QueuePage {
    pub shell: Shell,
    pub board: Vec<(Stage, u64, u64)>,
    pub page: Page<Claim>,
    pub dealers: Vec<Dealer>,
    pub stage: String,
    pub dealer_id: Option<i64>,
    pub overdue: bool,
    pub mine: bool,
    pub min_hours: Option<i64>,
    pub q: String,
    pub can_report: bool,
}

impl QueuePage {
    /// The query string of the current filters, without the page, for links.
    pub fn filter_query(&self) -> String {
        let mut parts = form_urlencoded::Serializer::new(String::new());
        if self.stage != "open" {
            parts.append_pair("stage", &self.stage);
        }
        if let Some(d) = self.dealer_id {
            parts.append_pair("dealer_id", &d.to_string());
        }
        if self.overdue {
            parts.append_pair("overdue", "true");
        }
        if self.mine {
            parts.append_pair("mine", "true");
        }
        if let Some(h) = self.min_hours {
            parts.append_pair("min_hours", &h.to_string());
        }
        if !self.q.is_empty() {
            parts.append_pair("q", &self.q);
        }
        parts.finish()
    }

    /// A board column's link: the current filters with this stage.
    pub fn stage_link(&self, stage: &Stage) -> String {
        let mut parts = form_urlencoded::Serializer::new(String::new());
        parts.append_pair("stage", stage.as_str());
        if let Some(d) = self.dealer_id {
            parts.append_pair("dealer_id", &d.to_string());
        }
        if self.mine {
            parts.append_pair("mine", "true");
        }
        format!("/claims?{}", parts.finish())
    }

    pub fn page_link(&self, page: u64) -> String {
        let filters = self.filter_query();
        if filters.is_empty() { format!("/claims?page={page}") } else { format!("/claims?{filters}&page={page}") }
    }

    pub fn dealer_selected(&self, id: &i64) -> bool {
        self.dealer_id == Some(*id)
    }

    pub fn hours_selected(&self, hours: &i64) -> bool {
        self.min_hours == Some(*hours)
    }

    pub fn dealer_name(&self, id: &i64) -> String {
        self.dealers.iter().find(|d| d.id == *id).map(|d| d.name.clone()).unwrap_or_else(|| format!("#{id}"))
    }
}

pub async fn queue(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ClaimQuery>,
) -> AppResult<QueuePage> {
    let filter = query.filter(&user)?;
    let targets = state.config.service_targets();
    let paging = PageRequest::new(query.page, query.per_page);
    let claims = claims::list(&state.db, &user.scope, &filter, paging, &targets).await?;
    let board_filter = claims::ClaimFilter { stage: None, overdue: false, ..filter.clone() };
    let board = claims::stage_counts(&state.db, &user.scope, &board_filter, &targets).await?;
    let dealers =
        dealers::list(&state.db, &user.scope, &Default::default(), PageRequest::new(Some(1), Some(200))).await?.items;
    Ok(QueuePage {
        shell,
        board,
        page: claims,
        dealers,
        stage: match (filter.stage, filter.open_only) {
            (Some(stage), _) => stage.as_str().to_string(),
            (None, true) => "open".into(),
            (None, false) => "all".into(),
        },
        dealer_id: filter.dealer_id,
        overdue: filter.overdue,
        mine: filter.handler_id.is_some(),
        min_hours: filter.min_hours_in_stage,
        q: filter.search.unwrap_or_default(),
        can_report: matches!(user.role, Role::SalesAssistant | Role::ClaimsAdjuster),
    })
}

/// The report form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    pub policy_no: String,
    #[serde(default)]
    pub plate: String,
    /// `datetime-local`: China time, `YYYY-MM-DDTHH:MM`.
    #[serde(default)]
    pub accident_at: String,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub description: String,
}

impl ReportForm {
    fn request(&self) -> Result<ReportRequest, Vec<FieldError>> {
        let text = self.accident_at.trim();
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"));
        let Some(accident_at) = local.ok().and_then(|l| china().from_local_datetime(&l).single()) else {
            return Err(vec![FieldError::new("accident_at", "invalid", "enter the date and time of the accident")]);
        };
        Ok(ReportRequest {
            policy_no: Some(self.policy_no.clone()).filter(|s| !s.trim().is_empty()),
            plate: Some(self.plate.clone()).filter(|s| !s.trim().is_empty()),
            accident_at,
            reporter_name: self.reporter_name.clone(),
            reporter_phone: self.reporter_phone.clone(),
            place: self.place.clone(),
            description: self.description.clone(),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "claims/report.html")]
pub struct ReportPage {
    pub shell: Shell,
    pub form: ReportForm,
    pub errors: Vec<FieldError>,
}

impl ReportPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| self.shell.tr.field_error(e))
    }

    pub fn other_errors(&self) -> Vec<&str> {
        const SHOWN: [&str; 7] =
            ["policy_no", "plate", "accident_at", "reporter_name", "reporter_phone", "place", "description"];
        self.errors
            .iter()
            .filter(|e| !SHOWN.contains(&e.field.as_str()))
            .map(|e| self.shell.tr.field_error(e))
            .collect()
    }
}

pub async fn new_report(shell: Shell) -> ReportPage {
    let now = chrono::Utc::now().with_timezone(&china()).format("%Y-%m-%dT%H:%M").to_string();
    ReportPage { shell, form: ReportForm { accident_at: now, ..Default::default() }, errors: Vec::new() }
}

pub async fn report(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let request = match form.request() {
        Ok(request) => request,
        Err(errors) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, ReportPage { shell, form, errors }).into_response());
        }
    };
    let settings = ClaimSettings::from_config(&state.config);
    let tx = begin_write(&state.db).await?;
    match claims::report(&tx, &actor, &user.scope, &request, &settings).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/claims/{id}")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ReportPage { shell, form, errors }).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The claim page.
#[derive(Template, WebTemplate)]
#[template(path = "claims/show.html")]
pub struct ClaimPage {
    pub shell: Shell,
    pub file: ClaimFile,
    pub dealer: Dealer,
    pub is_adjuster: bool,
    pub is_reporter: bool,
    /// The signed-in user, so that a proposer is not offered to approve their own settlement.
    pub user_id: i64,
    pub adjusters: Vec<(i64, String)>,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    pub categories: Vec<&'static str>,
    pub kinds: Vec<&'static str>,
    pub today: NaiveDate,
}

impl ClaimPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field || e.field.starts_with(&format!("{field}.")))
            .map(|e| self.shell.tr.field_error(e))
    }

    pub fn coverage_label(&self, code: &str) -> String {
        self.shell.tr.try_t(&format!("coverage.{code}")).map(str::to_string).unwrap_or_else(|| code.to_string())
    }

    pub fn stage_label(&self, stage: &str) -> &'static str {
        self.shell.tr.t2("claim_stage", stage)
    }

    pub fn can(&self, transition: &str) -> bool {
        self.file.claim.allowed.iter().any(|t| t.as_str() == transition)
    }

    pub fn editable_items(&self) -> bool {
        self.is_adjuster && matches!(self.file.claim.stage, Stage::Registered | Stage::Surveyed)
    }

    pub fn stage_is(&self, stage: &str) -> bool {
        self.file.claim.stage.as_str() == stage
    }

    /// What is still payable under each coverage of the approved settlement: what it owes less everything the claim
    /// has paid under that coverage.
    pub fn open_payable(&self) -> Vec<(String, Decimal)> {
        let Some(approved) = self.file.approved_settlement() else { return Vec::new() };
        let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
        for payment in &self.file.payments {
            *paid.entry(payment.coverage.clone()).or_default() += payment.amount;
        }
        approved
            .calculation
            .dues_after(&paid)
            .into_iter()
            .filter(|due| due.payable > Decimal::ZERO)
            .map(|due| (due.coverage, due.payable))
            .collect()
    }

    pub fn is_surveyor(&self, id: &i64) -> bool {
        self.file.claim.surveyor_id == Some(*id)
    }

    /// A time as shown: China time.
    pub fn local(&self, at: &chrono::DateTime<chrono::Utc>, format: &str) -> String {
        at.with_timezone(&china()).format(format).to_string()
    }

    pub fn adjuster_name(&self, id: &Option<i64>) -> String {
        id.and_then(|id| self.adjusters.iter().find(|(a, _)| *a == id).map(|(_, n)| n.clone()))
            .unwrap_or_else(|| "—".into())
    }
}

async fn claim_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<ClaimPage> {
    let settings = ClaimSettings::from_config(&state.config);
    let file = claims::file(&state.db, &user.scope, id, &settings).await?;
    let dealer = dealers::get(&state.db, &user.scope, file.claim.dealer_id).await?;
    let adjusters = crate::store::users::active_with_role(&state.db, Role::ClaimsAdjuster).await?;
    Ok(ClaimPage {
        shell,
        file,
        dealer,
        is_adjuster: user.role == Role::ClaimsAdjuster,
        is_reporter: user.role == Role::SalesAssistant,
        user_id: user.user_id,
        adjusters,
        errors,
        notice,
        categories: LossCategory::ALL.iter().map(|c| c.as_str()).collect(),
        kinds: LOSS_KINDS.to_vec(),
        today: chrono::Utc::now().with_timezone(&china()).date_naive(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<ClaimPage> {
    claim_page(&state, shell, &user, id, Vec::new(), None).await
}

/// Commits a change and goes back to the claim (so a reload does not repeat it); on a
/// refusal, rolls back and shows the claim page again with what to fix.
async fn conclude(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    tx: sea_orm::DatabaseTransaction,
    result: AppResult<i64>,
) -> AppResult<Response> {
    match result {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/claims/{id}")).into_response())
        }
        Err(error) => {
            tx.rollback().await?;
            refused(state, shell, user, id, error).await
        }
    }
}

async fn refused(state: &AppState, shell: Shell, user: &SessionUser, id: i64, error: AppError) -> AppResult<Response> {
    let status = error.status();
    let (errors, notice) = match error {
        AppError::Validation(errors) => (errors, None),
        AppError::Conflict(message) => (Vec::new(), Some(message)),
        AppError::Refused(problem) => (vec![problem], None),
        AppError::IllegalTransition { message, .. } => (Vec::new(), Some(message)),
        other => return Err(other),
    };
    let page = claim_page(state, shell, user, id, errors, notice).await?;
    Ok((status, page).into_response())
}

fn parse_version(text: &str) -> Result<i32, FieldError> {
    text.trim().parse().map_err(|_| FieldError::new("version", "invalid", "reload the claim and try again"))
}

fn parse_amount(field: &str, text: &str) -> Result<Decimal, FieldError> {
    Decimal::from_str(text.trim().replace(',', "").as_str())
        .map_err(|_| FieldError::new(field, "invalid", "enter an amount such as 1200.00"))
}

/// Forms with a field per coverage (`reserve.vehicle_damage`, `deductible.third_party`).
type FieldMap = BTreeMap<String, String>;

fn field(form: &FieldMap, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// `reserve.<coverage>` fields with an amount, as reserve requests.
fn reserves_from(form: &FieldMap, errors: &mut Vec<FieldError>) -> Vec<ReserveRequest> {
    let mut reserves = Vec::new();
    for (name, value) in form {
        let Some(coverage) = name.strip_prefix("reserve.") else { continue };
        if value.trim().is_empty() {
            continue;
        }
        match parse_amount(name, value) {
            Ok(reserve) => reserves.push(ReserveRequest { coverage: coverage.to_string(), reserve }),
            Err(e) => errors.push(e),
        }
    }
    reserves
}

/// A claim action from a form: read the form into the API's request, run it, conclude.
macro_rules! page_action {
    ($name:ident, $build:expr, $call:path $(, $extra:expr)?) => {
        pub async fn $name(
            State(state): State<AppState>,
            shell: Shell,
            CurrentUser(user): CurrentUser,
            RequestActor(actor): RequestActor,
            Path(id): Path<i64>,
            Form(form): Form<FieldMap>,
        ) -> AppResult<Response> {
            let request = match ($build)(&form) {
                Ok(request) => request,
                Err(errors) => return refused(&state, shell, &user, id, AppError::Validation(errors)).await,
            };
            let tx = begin_write(&state.db).await?;
            let result = $call(&tx, &actor, &user.scope, id, $($extra,)? &request).await;
            conclude(&state, shell, &user, id, tx, result).await
        }
    };
}

fn collect<T>(value: T, errors: Vec<FieldError>) -> Result<T, Vec<FieldError>> {
    if errors.is_empty() { Ok(value) } else { Err(errors) }
}

fn version_of(form: &FieldMap, errors: &mut Vec<FieldError>) -> i32 {
    parse_version(&field(form, "version")).map_err(|e| errors.push(e)).unwrap_or_default()
}

fn register_request(form: &FieldMap) -> Result<RegisterRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let reserves = reserves_from(form, &mut errors);
    let request = RegisterRequest {
        version,
        reserves,
        handler_id: field(form, "handler_id").trim().parse().ok(),
        surveyor_id: field(form, "surveyor_id").trim().parse().ok(),
        note: field(form, "note"),
    };
    collect(request, errors)
}

fn loss_item_request(form: &FieldMap) -> Result<LossItemRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let quantity = Decimal::from_str(field(form, "quantity").trim())
        .map_err(|_| errors.push(FieldError::new("quantity", "invalid", "enter a quantity such as 1")))
        .unwrap_or_default();
    let unit_price =
        parse_amount("unit_price", &field(form, "unit_price")).map_err(|e| errors.push(e)).unwrap_or_default();
    let assessed_text = field(form, "assessed");
    let assessed = if assessed_text.trim().is_empty() {
        None
    } else {
        parse_amount("assessed", &assessed_text).map_err(|e| errors.push(e)).ok()
    };
    let request = LossItemRequest {
        version,
        category: field(form, "category"),
        kind: field(form, "kind"),
        description: field(form, "description"),
        person: Some(field(form, "person")).filter(|p| !p.trim().is_empty()),
        quantity,
        unit_price,
        assessed,
    };
    collect(request, errors)
}

fn survey_request(form: &FieldMap) -> Result<SurveyRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let request = SurveyRequest {
        version,
        surveyor_id: field(form, "surveyor_id").trim().parse().ok(),
        repair_at_dealer: field(form, "repair") == "dealer",
        repair_shop: Some(field(form, "repair_shop")).filter(|s| !s.trim().is_empty()),
        note: field(form, "note"),
    };
    collect(request, errors)
}

fn reserve_request(form: &FieldMap) -> Result<ReserveChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let reserve = parse_amount("reserve", &field(form, "reserve")).map_err(|e| errors.push(e)).unwrap_or_default();
    collect(ReserveChange { version, coverage: field(form, "coverage"), reserve, note: field(form, "note") }, errors)
}

fn settle_request(form: &FieldMap) -> Result<SettleRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let liability_share = Decimal::from_str(field(form, "liability_share_percent").trim())
        .map(|percent| percent / Decimal::ONE_HUNDRED)
        .map_err(|_| {
            errors.push(FieldError::new("liability_share", "invalid", "enter the liability share in %, e.g. 70"))
        })
        .unwrap_or_default();
    let mut deductibles = BTreeMap::new();
    for (name, value) in form {
        if let Some(code) = name.strip_prefix("deductible.")
            && !value.trim().is_empty()
        {
            match parse_amount(name, value) {
                Ok(amount) => {
                    deductibles.insert(code.to_string(), amount);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    collect(SettleRequest { version, liability_share, deductibles, note: field(form, "note") }, errors)
}

fn approval_request(form: &FieldMap) -> Result<ApprovalRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    collect(ApprovalRequest { version, note: field(form, "note") }, errors)
}

fn withdraw_settlement_request(form: &FieldMap) -> Result<WithdrawSettlementRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    collect(WithdrawSettlementRequest { version, note: field(form, "note") }, errors)
}

fn payment_request(form: &FieldMap) -> Result<PaymentRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let amount = parse_amount("amount", &field(form, "amount")).map_err(|e| errors.push(e)).unwrap_or_default();
    let paid_on_text = field(form, "paid_on");
    let paid_on = if paid_on_text.trim().is_empty() {
        None
    } else {
        NaiveDate::parse_from_str(paid_on_text.trim(), "%Y-%m-%d")
            .map_err(|_| errors.push(FieldError::new("paid_on", "invalid", "enter a date as YYYY-MM-DD")))
            .ok()
    };
    let request =
        PaymentRequest { version, coverage: field(form, "coverage"), payee: field(form, "payee"), amount, paid_on };
    collect(request, errors)
}

fn step_request(form: &FieldMap) -> Result<StepRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let version = version_of(form, &mut errors);
    let reserves = reserves_from(form, &mut errors);
    collect(StepRequest { version, note: field(form, "note"), reserves }, errors)
}

page_action!(register, register_request, claims::register);
page_action!(add_loss_item, loss_item_request, claims::add_loss_item);
page_action!(survey, survey_request, claims::survey);
page_action!(change_reserve, reserve_request, claims::change_reserve);
page_action!(settle, settle_request, claims::settle);
page_action!(approve, approval_request, claims::approve_settlement);
page_action!(pay, payment_request, claims::pay);
page_action!(withdraw_settlement, withdraw_settlement_request, claims::withdraw_settlement);
page_action!(close, step_request, claims::step, Transition::Close);
page_action!(decline, step_request, claims::step, Transition::Decline);
page_action!(withdraw, step_request, claims::step, Transition::Withdraw);
page_action!(reopen, step_request, claims::step, Transition::Reopen);

pub async fn remove_loss_item(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path((id, item_id)): Path<(i64, i64)>,
    Form(form): Form<FieldMap>,
) -> AppResult<Response> {
    let version = match parse_version(&field(&form, "version")) {
        Ok(v) => v,
        Err(e) => return refused(&state, shell, &user, id, AppError::Validation(vec![e])).await,
    };
    let tx = begin_write(&state.db).await?;
    let result = claims::remove_loss_item(&tx, &actor, &user.scope, id, item_id, version).await;
    conclude(&state, shell, &user, id, tx, result).await
}

/// A photo or document from the claim page (multipart; the CSRF token rides in the query).
pub async fn upload(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let result = match multipart {
        Ok(multipart) => match read_upload(multipart, state.config.document_max_bytes).await {
            Ok((version, document)) => attach(&state, &actor, &user, id, version, document).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(AppError::BadRequest(e.body_text())),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/claims/{id}")).into_response()),
        Err(AppError::PayloadTooLarge { limit }) => {
            let message = format!("the file is larger than the limit of {} MB", limit / (1024 * 1024));
            let page =
                claim_page(&state, shell, &user, id, vec![FieldError::new("file", "too_large", message)], None).await?;
            Ok((StatusCode::PAYLOAD_TOO_LARGE, page).into_response())
        }
        Err(AppError::UnsupportedMediaType(message)) => {
            let page =
                claim_page(&state, shell, &user, id, vec![FieldError::new("file", "unsupported", message)], None)
                    .await?;
            Ok((StatusCode::UNSUPPORTED_MEDIA_TYPE, page).into_response())
        }
        Err(e) => refused(&state, shell, &user, id, e).await,
    }
}

/// The owner's look-up page.
#[derive(Template, WebTemplate)]
#[template(path = "claims/status.html")]
pub struct StatusPage {
    pub shell: Shell,
    pub claim_no: String,
    pub found: Option<claims::PublicStatus>,
    pub missed: bool,
    pub throttled: bool,
}

pub async fn status_form(shell: Shell) -> StatusPage {
    StatusPage { shell, claim_no: String::new(), found: None, missed: false, throttled: false }
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub claim_no: String,
    #[serde(default)]
    pub tail: String,
    #[serde(default)]
    pub csrf: Option<String>,
}

pub async fn status_lookup(
    State(state): State<AppState>,
    shell: Shell,
    ClientIp(ip): ClientIp,
    Form(form): Form<StatusForm>,
) -> AppResult<Response> {
    let _ = form.csrf;
    let tx = begin_write(&state.db).await?;
    let result = claims::lookup(&tx, &ip, &form.claim_no, &form.tail, state.config.lookup_max_per_ip).await;
    tx.commit().await?;
    let claim_no = form.claim_no.trim().to_uppercase();
    match result {
        Ok(found) => {
            let missed = found.is_none();
            let status = if missed { StatusCode::NOT_FOUND } else { StatusCode::OK };
            Ok((status, StatusPage { shell, claim_no, found, missed, throttled: false }).into_response())
        }
        Err(AppError::TooManyRequests { .. }) => Ok((
            StatusCode::TOO_MANY_REQUESTS,
            StatusPage { shell, claim_no, found: None, missed: false, throttled: true },
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
