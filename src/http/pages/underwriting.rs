//! Underwriting pages: the quote form for the showroom (made for a phone),
//! the quote with its breakdown, the referral queue, policies with their
//! history, renewals and the rating-table editor.

use std::str::FromStr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::auth::Role;
use crate::domain::underwriting::changes::{self, StatutoryReason};
use crate::domain::underwriting::channel::{ChannelTable, DealerCoefficient, RegionCoefficient};
use crate::domain::underwriting::issuing::PolicyStatus;
use crate::domain::underwriting::lifecycle::Period;
use crate::domain::underwriting::rating::{AccidentHistory, CoverageChoice};
use crate::domain::underwriting::{BusinessType, Product, QuoteStatus, RatingDocument};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{CurrentUser, Form, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::channel::{self, ChannelVersion};
use crate::store::dealers::{self, Dealer, DealerFilter};
use crate::store::policies::{self, Cancellation, Endorsement, Policy, PolicyFilter, RenewalCandidate};
use crate::store::quotes::{self, OwnerRequest, Quote, QuoteFilter, QuoteRequest, VehicleRequest};
use crate::store::rating::{self, RatingVersion};
use crate::store::{Page, PageRequest};

use super::{Shell, json_form};

const HISTORIES: [(&str, &str); 7] = [
    ("new_or_no_record", "history.new_or_no_record"),
    ("claim_free_1_year", "history.claim_free_1_year"),
    ("claim_free_2_years", "history.claim_free_2_years"),
    ("claim_free_3_years_or_more", "history.claim_free_3_years_or_more"),
    ("one_at_fault_no_death", "history.one_at_fault_no_death"),
    ("two_or_more_at_fault", "history.two_or_more_at_fault"),
    ("at_fault_with_death", "history.at_fault_with_death"),
];

const BUSINESS_TYPES: [(&str, &str); 3] =
    [("new_car", "business.new_car"), ("renewal", "business.renewal"), ("transfer_in", "business.transfer_in")];

/// Everything the quote form holds, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuoteForm {
    #[serde(default)]
    pub dealer_id: String,
    #[serde(default)]
    pub business_type: String,
    #[serde(default)]
    pub vin: String,
    #[serde(default)]
    pub plate: String,
    #[serde(default)]
    pub first_registration: String,
    #[serde(default)]
    pub new_car_price: String,
    #[serde(default)]
    pub seats: String,
    #[serde(default)]
    pub owner_name: String,
    #[serde(default)]
    pub owner_id_number: String,
    #[serde(default)]
    pub owner_phone: String,
    #[serde(default)]
    pub accident_history: String,
    #[serde(default)]
    pub ncd_level: String,
    pub compulsory: Option<String>,
    pub vehicle_damage: Option<String>,
    #[serde(default)]
    pub third_party_limit: String,
    #[serde(default)]
    pub driver_limit: String,
    #[serde(default)]
    pub passenger_limit: String,
    #[serde(default)]
    pub riders: Vec<String>,
}

impl QuoteForm {
    fn defaults(dealer_id: Option<i64>) -> Self {
        QuoteForm {
            dealer_id: dealer_id.map(|d| d.to_string()).unwrap_or_default(),
            business_type: "new_car".into(),
            seats: "5".into(),
            accident_history: "new_or_no_record".into(),
            ncd_level: "0".into(),
            compulsory: Some("on".into()),
            vehicle_damage: Some("on".into()),
            third_party_limit: "1000000".into(),
            ..Default::default()
        }
    }

    /// The request the form stands for, or every field that could not be read.
    fn request(&self) -> Result<QuoteRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut need = |field: &str, ok: bool, message: &str| {
            if !ok {
                errors.push(FieldError::new(field, "invalid", message));
            }
        };
        let dealer_id = self.dealer_id.trim().parse::<i64>().ok();
        need("dealer_id", dealer_id.is_some(), "choose the store");
        let business_type = BusinessType::parse(self.business_type.trim());
        need("business_type", business_type.is_some(), "choose new car, renewal or transfer-in");
        let first_registration = NaiveDate::parse_from_str(self.first_registration.trim(), "%Y-%m-%d").ok();
        need("vehicle.first_registration", first_registration.is_some(), "enter a date as YYYY-MM-DD");
        let price = Decimal::from_str(self.new_car_price.trim()).ok();
        need("vehicle.new_car_price", price.is_some(), "enter an amount such as 200000.00");
        let seats = self.seats.trim().parse::<u32>().ok();
        need("vehicle.seats", seats.is_some(), "enter the number of seats");
        let history: Option<AccidentHistory> =
            serde_json::from_value(serde_json::Value::String(self.accident_history.clone())).ok();
        need("accident_history", history.is_some(), "choose the accident history");
        let ncd_level = self.ncd_level.trim().parse::<i32>().ok();
        need("ncd_level", ncd_level.is_some(), "choose the NCD level");
        let limit = |text: &str, field: &str, errors: &mut Vec<FieldError>| {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            let parsed = Decimal::from_str(text).ok();
            if parsed.is_none() {
                errors.push(FieldError::new(field, "invalid", "choose a limit"));
            }
            parsed
        };
        let third_party_limit = limit(&self.third_party_limit, "coverages.third_party_limit", &mut errors);
        let driver_limit = limit(&self.driver_limit, "coverages.driver_limit", &mut errors);
        let passenger_limit = limit(&self.passenger_limit, "coverages.passenger_limit", &mut errors);
        let (
            Some(dealer_id),
            Some(business_type),
            Some(first_registration),
            Some(new_car_price),
            Some(seats),
            Some(accident_history),
            Some(ncd_level),
            true,
        ) = (dealer_id, business_type, first_registration, price, seats, history, ncd_level, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(QuoteRequest {
            dealer_id,
            business_type,
            vehicle: VehicleRequest {
                vin: self.vin.clone(),
                plate: self.plate.clone(),
                first_registration,
                new_car_price,
                seats,
            },
            owner: OwnerRequest {
                name: self.owner_name.clone(),
                id_number: self.owner_id_number.clone(),
                phone: self.owner_phone.clone(),
            },
            accident_history,
            ncd_level,
            start_date: None,
            coverages: CoverageChoice {
                compulsory: self.compulsory.is_some(),
                vehicle_damage: self.vehicle_damage.is_some(),
                third_party_limit,
                driver_limit,
                passenger_limit,
                riders: self.riders.clone(),
                vehicle_damage_sum_insured: None,
            },
        })
    }
}

/// A limit as people say it: 100万 in Chinese, 1,000,000 in English.
fn limit_label(lang: crate::i18n::Lang, amount: Decimal) -> String {
    let ten_thousand = Decimal::from(10_000);
    if lang == crate::i18n::Lang::Zh && (amount % ten_thousand).is_zero() {
        return format!("{}万", (amount / ten_thousand).normalize());
    }
    let digits = amount.trunc().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// A choice in a select box: value, label, selected.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/quote_form.html")]
pub struct QuoteFormPage {
    pub shell: Shell,
    pub form: QuoteForm,
    pub dealers: Vec<Dealer>,
    pub business_types: Vec<Choice>,
    pub histories: Vec<Choice>,
    pub ncd_levels: Vec<Choice>,
    pub third_party_limits: Vec<Choice>,
    pub seat_limits: Vec<(Choice, Choice)>,
    pub riders: Vec<Choice>,
    pub errors: Vec<FieldError>,
}

impl QuoteFormPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        let error = self.errors.iter().find(|e| e.field == field || e.field.ends_with(&format!(".{field}")))?;
        Some(self.shell.tr.field_error(error))
    }

    /// Errors that belong to no field on the form.
    pub fn other_errors(&self) -> Vec<&str> {
        const SHOWN: [&str; 16] = [
            "dealer_id",
            "business_type",
            "vehicle.vin",
            "vehicle.plate",
            "vehicle.first_registration",
            "vehicle.new_car_price",
            "vehicle.seats",
            "owner.name",
            "owner.id_number",
            "owner.phone",
            "accident_history",
            "ncd_level",
            "coverages.third_party_limit",
            "coverages.driver_limit",
            "coverages.passenger_limit",
            "coverages.riders",
        ];
        self.errors
            .iter()
            .filter(|e| !SHOWN.contains(&e.field.as_str()))
            .map(|e| self.shell.tr.field_error(e))
            .collect()
    }

    async fn build(
        state: &AppState,
        shell: Shell,
        scope: &crate::domain::auth::Scope,
        form: QuoteForm,
        errors: Vec<FieldError>,
    ) -> AppResult<Self> {
        let dealers = dealers::list(&state.db, scope, &DealerFilter::default(), PageRequest::new(Some(1), Some(200)))
            .await?
            .items;
        let document = rating::in_force(&state.db, quotes::tomorrow()).await?.document;
        let tr = shell.tr;
        let choices = |pairs: &[(&str, &str)], current: &str| {
            pairs
                .iter()
                .map(|(v, k)| Choice { value: v.to_string(), label: tr.t(k).to_string(), selected: *v == current })
                .collect()
        };
        let amount = |d: &Decimal, current: &str| Choice {
            value: d.normalize().to_string(),
            label: limit_label(tr.0, *d),
            selected: Decimal::from_str(current.trim()).is_ok_and(|c| c == *d),
        };
        let tables = &document.tables.commercial;
        let ncd_levels = tables
            .ncd_levels
            .iter()
            .map(|l| Choice {
                value: l.level.to_string(),
                label: format!("{} (× {})", l.level, l.factor),
                selected: l.level.to_string() == form.ncd_level.trim(),
            })
            .collect();
        let third_party_limits =
            tables.third_party_limits.iter().map(|l| amount(&l.limit, &form.third_party_limit)).collect();
        let seat_limits = tables
            .seat_limits
            .iter()
            .map(|l| (amount(l, &form.driver_limit), amount(l, &form.passenger_limit)))
            .collect();
        let riders = tables
            .riders
            .iter()
            .map(|r| Choice {
                value: r.code.clone(),
                label: if tr.0 == crate::i18n::Lang::Zh { r.name_zh.clone() } else { r.name_en.clone() },
                selected: form.riders.contains(&r.code),
            })
            .collect();
        Ok(QuoteFormPage {
            business_types: choices(&BUSINESS_TYPES, &form.business_type),
            histories: choices(&HISTORIES, &form.accident_history),
            ncd_levels,
            third_party_limits,
            seat_limits,
            riders,
            dealers,
            shell,
            form,
            errors,
        })
    }
}

pub async fn new_quote(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
) -> AppResult<QuoteFormPage> {
    let first = match &user.scope {
        crate::domain::auth::Scope::Dealers(ids) if ids.len() == 1 => ids.first().copied(),
        _ => None,
    };
    QuoteFormPage::build(&state, shell, &user.scope, QuoteForm::defaults(first), Vec::new()).await
}

pub async fn create_quote(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<QuoteForm>,
) -> AppResult<Response> {
    let request = match form.request() {
        Ok(request) => request,
        Err(errors) => return refused_quote(&state, shell, &user.scope, form, errors).await,
    };
    let tx = begin_write(&state.db).await?;
    match quotes::create(&tx, &actor, &user.scope, &request, quotes::Origin::Typed, state.config.quote_valid_days).await
    {
        Ok(quote) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/quotes/{}", quote.id)).into_response())
        }
        Err(AppError::Validation(errors)) => refused_quote(&state, shell, &user.scope, form, errors).await,
        Err(e) => Err(e),
    }
}

async fn refused_quote(
    state: &AppState,
    shell: Shell,
    scope: &crate::domain::auth::Scope,
    form: QuoteForm,
    errors: Vec<FieldError>,
) -> AppResult<Response> {
    let page = QuoteFormPage::build(state, shell, scope, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/quote.html")]
pub struct QuotePage {
    pub shell: Shell,
    pub quote: Quote,
    pub dealer: Dealer,
    pub can_issue: bool,
    pub can_review: bool,
    pub notice: Option<String>,
}

impl QuotePage {
    pub fn coverage_label(&self, code: &str) -> String {
        let key = format!("coverage.{code}");
        self.shell.tr.try_t(&key).map(str::to_string).unwrap_or_else(|| code.to_string())
    }

    pub fn factor_label(&self, name: &str) -> String {
        let key = format!("factor.{name}");
        self.shell.tr.try_t(&key).map(str::to_string).unwrap_or_else(|| name.to_string())
    }

    pub fn status_label(&self) -> &'static str {
        self.shell.tr.t(&format!("quote_status.{}", self.quote.status.as_str()))
    }
}

async fn quote_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    notice: Option<String>,
) -> AppResult<QuotePage> {
    let quote = quotes::get(&state.db, &user.scope, id).await?;
    let dealer = dealers::get(&state.db, &user.scope, quote.dealer_id).await?;
    let can_issue = user.role == Role::SalesAssistant && quote.status.can_issue();
    let can_review =
        matches!(user.role, Role::Underwriter | Role::Administrator) && quote.status == QuoteStatus::Referred;
    Ok(QuotePage { shell, quote, dealer, can_issue, can_review, notice })
}

pub async fn show_quote(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<QuotePage> {
    quote_page(&state, shell, &user, id, None).await
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    pub version: i32,
    #[serde(default)]
    pub note: String,
    pub decision: String,
}

pub async fn review_quote(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> AppResult<Response> {
    let approve = form.decision == "approve";
    match quotes::review(&state.db, &actor, user.role, id, form.version, approve, &form.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/quotes/{id}")).into_response()),
        Err(AppError::Validation(errors)) => {
            let message = errors.first().map(|e| shell.tr.field_error(e).to_string());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, quote_page(&state, shell, &user, id, message).await?).into_response())
        }
        Err(AppError::Conflict(message)) => {
            Ok((StatusCode::CONFLICT, quote_page(&state, shell, &user, id, Some(message)).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn issue(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let today = quotes::today();
    let tx = begin_write(&state.db).await?;
    match policies::issue(&tx, &actor, &user.scope, id, today, state.config.policy_start_offset_days).await {
        Ok(issued) => {
            tx.commit().await?;
            let first = issued.first().map(|p| p.id).unwrap_or_default();
            Ok(Redirect::to(&format!("/policies/{first}")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            let message = errors.first().map(|e| shell.tr.field_error(e).to_string());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, quote_page(&state, shell, &user, id, message).await?).into_response())
        }
        Err(AppError::Conflict(message)) => {
            drop(tx);
            Ok((StatusCode::CONFLICT, quote_page(&state, shell, &user, id, Some(message)).await?).into_response())
        }
        Err(AppError::Refused(problem)) => {
            drop(tx);
            let message = Some(shell.tr.field_error(&problem).to_string());
            Ok((StatusCode::CONFLICT, quote_page(&state, shell, &user, id, message).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct QuoteListQuery {
    pub status: Option<String>,
    pub page: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/quotes.html")]
pub struct QuoteListPage {
    pub shell: Shell,
    pub page: Page<Quote>,
    pub status: String,
}

impl QuoteListPage {
    pub fn page_link(&self, page: u64) -> String {
        format!("/quotes?status={}&page={page}", self.status)
    }

    pub fn status_label(&self, status: &QuoteStatus) -> &'static str {
        self.shell.tr.t(&format!("quote_status.{}", status.as_str()))
    }
}

pub async fn list_quotes(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<QuoteListQuery>,
) -> AppResult<QuoteListPage> {
    let status = query.status.as_deref().and_then(QuoteStatus::parse);
    let filter = QuoteFilter { status, dealer_id: None };
    let page = quotes::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, Some(50))).await?;
    Ok(QuoteListPage { shell, page, status: status.map(|s| s.as_str().to_string()).unwrap_or_default() })
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyListQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub product: Option<String>,
    pub page: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/policies.html")]
pub struct PolicyListPage {
    pub shell: Shell,
    pub page: Page<Policy>,
    pub q: String,
    pub status: String,
    pub product: String,
}

impl PolicyListPage {
    pub fn page_link(&self, page: u64) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("status", &self.status)
            .append_pair("product", &self.product)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/policies?{query}")
    }
}

fn parse_product(text: &str) -> Option<Product> {
    match text {
        "compulsory" => Some(Product::Compulsory),
        "commercial" => Some(Product::Commercial),
        _ => None,
    }
}

pub async fn list_policies(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<PolicyListQuery>,
) -> AppResult<PolicyListPage> {
    let product = query.product.as_deref().and_then(parse_product);
    let status = query.status.as_deref().and_then(PolicyStatus::parse);
    let filter = PolicyFilter { search: query.q.clone(), status, product, dealer_id: None };
    let page = policies::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, Some(50))).await?;
    Ok(PolicyListPage {
        shell,
        page,
        q: query.q.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        product: product.map(|p| p.as_str().to_string()).unwrap_or_default(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/policy.html")]
pub struct PolicyPage {
    pub shell: Shell,
    pub policy: Policy,
    pub siblings: Vec<(i64, String, Product)>,
    pub dealer: Dealer,
    pub can_change: bool,
    /// The earliest day a change takes effect without an underwriter: the next 00:00.
    pub earliest: NaiveDate,
    /// An underwriter may date a change earlier, giving a reason.
    pub may_backdate: bool,
    /// The last day a change may take effect: the day before the policy ends.
    pub last_day: NaiveDate,
    pub statutory_reasons: [StatutoryReason; 4],
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

impl PolicyPage {
    /// The vehicle-damage sum insured now, for commercial policies that have the cover.
    pub fn damage_sum_insured(&self) -> Option<Decimal> {
        self.policy.coverages.iter().find(|c| c.code == "vehicle_damage").and_then(|c| c.sum_insured)
    }

    pub fn coverage_label(&self, code: &str) -> String {
        self.shell.tr.try_t(&format!("coverage.{code}")).map(str::to_string).unwrap_or_else(|| code.to_string())
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        let error = self.errors.iter().find(|e| e.field == field)?;
        Some(self.shell.tr.field_error(error))
    }
}

async fn policy_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<PolicyPage> {
    let policy = policies::get(&state.db, &user.scope, id).await?;
    let dealer = dealers::get(&state.db, &user.scope, policy.dealer_id).await?;
    let can_change = matches!(user.role, Role::SalesAssistant | Role::Underwriter | Role::Administrator)
        && policy.cancelled_from.is_none()
        && matches!(policy.status, PolicyStatus::Pending | PolicyStatus::InForce);
    let siblings = policies::siblings(&state.db, &policy).await?;
    let period = Period { start: policy.start_date, end: policy.end_date };
    let policy_end = policy.end_date;
    let earliest = changes::earliest_without_underwriter(quotes::today(), &period);
    let may_backdate = changes::may_backdate(Some(user.role));
    let statutory_reasons = StatutoryReason::ALL;
    Ok(PolicyPage {
        shell,
        policy,
        siblings,
        dealer,
        can_change,
        earliest,
        may_backdate,
        last_day: policy_end.pred_opt().unwrap_or(policy_end),
        statutory_reasons,
        errors,
        notice,
    })
}

pub async fn show_policy(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<PolicyPage> {
    policy_page(&state, shell, &user, id, Vec::new(), None).await
}

#[derive(Debug, Deserialize)]
pub struct EndorseForm {
    pub version: i32,
    #[serde(default)]
    pub plate: String,
    #[serde(default)]
    pub owner_phone: String,
    #[serde(default)]
    pub effective_date: String,
    #[serde(default)]
    pub backdate_reason: String,
    /// A new agreed vehicle-damage sum insured (commercial policies).
    #[serde(default)]
    pub vehicle_damage_sum_insured: String,
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    pub version: i32,
    #[serde(default)]
    pub effective_date: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub statutory_reason: String,
    #[serde(default)]
    pub backdate_reason: String,
}

/// A form's optional text: None when left blank.
fn filled(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn optional_date(text: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        errors.push(FieldError::new("effective_date", "invalid_date", "enter a date as YYYY-MM-DD"));
    }
    parsed
}

async fn policy_change_result(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    result: AppResult<Policy>,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/policies/{id}")).into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, policy_page(state, shell, user, id, errors, None).await?)
                .into_response())
        }
        Err(AppError::Conflict(message)) => {
            Ok((StatusCode::CONFLICT, policy_page(state, shell, user, id, Vec::new(), Some(message)).await?)
                .into_response())
        }
        Err(AppError::Refused(problem)) => {
            Ok((StatusCode::CONFLICT, policy_page(state, shell, user, id, vec![problem], None).await?).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn endorse(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<EndorseForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let effective_date = optional_date(&form.effective_date, &mut errors);
    let sum_insured = match form.vehicle_damage_sum_insured.trim().replace(',', "") {
        text if text.is_empty() => None,
        text => text.parse::<Decimal>().map(Some).unwrap_or_else(|_| {
            errors.push(FieldError::new("vehicle_damage_sum_insured", "invalid", "an amount such as 98000.00"));
            None
        }),
    };
    if !errors.is_empty() {
        return policy_change_result(&state, shell, &user, id, Err(AppError::Validation(errors))).await;
    }
    let endorsement = Endorsement {
        version: form.version,
        effective_date,
        backdate_reason: filled(&form.backdate_reason),
        plate: filled(&form.plate),
        owner_phone: filled(&form.owner_phone),
        coverages: None,
        vehicle_damage_sum_insured: sum_insured,
    };
    let tx = begin_write(&state.db).await?;
    let result = policies::endorse(&tx, &actor, &user.scope, id, endorsement).await;
    if result.is_ok() {
        tx.commit().await?;
    }
    policy_change_result(&state, shell, &user, id, result).await
}

pub async fn cancel(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let effective_date = optional_date(&form.effective_date, &mut errors);
    let statutory_reason = match filled(&form.statutory_reason) {
        None => None,
        Some(text) => StatutoryReason::parse(&text).or_else(|| {
            errors.push(FieldError::new("statutory_reason", "unknown", "choose one of the statutory reasons"));
            None
        }),
    };
    if !errors.is_empty() {
        return policy_change_result(&state, shell, &user, id, Err(AppError::Validation(errors))).await;
    }
    let today = quotes::today();
    let cancellation = Cancellation {
        version: form.version,
        effective_date,
        reason: form.reason,
        statutory_reason,
        backdate_reason: filled(&form.backdate_reason),
    };
    let tx = begin_write(&state.db).await?;
    let result = policies::cancel(&tx, &actor, &user.scope, id, cancellation, today).await;
    if result.is_ok() {
        tx.commit().await?;
    }
    policy_change_result(&state, shell, &user, id, result).await
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/renewals.html")]
pub struct RenewalsPage {
    pub shell: Shell,
    pub candidates: Vec<RenewalCandidate>,
    pub days: u32,
    pub can_renew: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct RenewalsQuery {
    pub days: Option<u32>,
}

pub async fn renewals(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<RenewalsQuery>,
) -> AppResult<RenewalsPage> {
    let days = query.days.unwrap_or(state.config.renewal_window_days).clamp(1, 366);
    let today = quotes::today();
    let candidates = policies::renewals(&state.db, &user.scope, today, days).await?;
    Ok(RenewalsPage { shell, candidates, days, can_renew: user.role == Role::SalesAssistant })
}

pub async fn renew(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let quote = quotes::renew(&state.db, &actor, &user.scope, id, state.config.quote_valid_days).await?;
    Ok(Redirect::to(&format!("/quotes/{}", quote.id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/rating.html")]
pub struct RatingPage {
    pub shell: Shell,
    pub versions: Vec<RatingVersion>,
    /// The version the form is drawn from; a new version starts as a copy of it.
    pub base_version: i64,
    /// The document laid out as form sections.
    pub sections: Vec<json_form::Section>,
    /// The same document as JSON, for the advanced editor.
    pub document: String,
    pub effective_from: String,
    pub note: String,
    pub can_edit: bool,
    pub errors: Vec<FieldError>,
}

impl RatingPage {
    /// A field's label: its translation where the table has one, else the key itself.
    pub fn label(&self, key: &str) -> String {
        let last = key.rsplit('.').next().unwrap_or(key);
        self.shell
            .tr
            .try_t(&format!("rating.field.{last}"))
            .map(str::to_string)
            .unwrap_or_else(|| last.replace('_', " "))
    }

    /// The problem reported for a path of the document, if any.
    pub fn error_at(&self, path: &str) -> Option<&str> {
        let document_path = format!("document.{path}");
        self.errors.iter().find(|e| e.field == path || e.field == document_path).map(|e| self.shell.tr.field_error(e))
    }

    /// Problems that belong to no single input (a whole table, the dates, the JSON).
    pub fn general_errors(&self) -> Vec<&FieldError> {
        let paths: Vec<String> = self
            .sections
            .iter()
            .flat_map(|s| {
                s.inputs
                    .iter()
                    .map(|i| i.path.clone())
                    .chain(s.table.iter().flat_map(|t| t.rows.iter().flatten().map(|c| c.path.clone())))
            })
            .collect();
        self.errors
            .iter()
            .filter(|e| !paths.iter().any(|p| e.field == *p || e.field == format!("document.{p}")))
            .collect()
    }
}

// The page is drawn from the same pieces on first view and after a refused post.
#[allow(clippy::too_many_arguments)]
async fn rating_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    base: Option<(i64, serde_json::Value)>,
    effective_from: String,
    note: String,
    errors: Vec<FieldError>,
    posted: &[(String, String)],
) -> AppResult<RatingPage> {
    let versions = rating::list(&state.db).await?;
    let (base_version, document) = match base {
        Some(base) => base,
        None => {
            let current = rating::in_force(&state.db, quotes::tomorrow()).await?;
            (current.id, serde_json::to_value(&current.document).map_err(|e| AppError::Internal(e.into()))?)
        }
    };
    let mut sections = json_form::sections(&document);
    json_form::overlay(&mut sections, posted);
    Ok(RatingPage {
        shell,
        versions,
        base_version,
        sections,
        document: serde_json::to_string_pretty(&document).unwrap_or_default(),
        effective_from,
        note,
        can_edit: matches!(user.role, Role::Underwriter | Role::Administrator),
        errors,
    })
}

pub async fn rating_tables(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
) -> AppResult<RatingPage> {
    rating_page(&state, shell, &user, None, quotes::tomorrow().to_string(), String::new(), Vec::new(), &[]).await
}

/// Saves a new rating version from the form (`mode=form`: the tables as inputs, applied to the
/// version they were drawn from) or from the advanced JSON editor (`mode=json`).
pub async fn create_rating_version(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(posted): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let field = |name: &str| posted.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (effective_text, note, mode) = (field("effective_from"), field("note"), field("mode"));
    let mut errors = Vec::new();
    let effective = NaiveDate::parse_from_str(effective_text.trim(), "%Y-%m-%d").ok();
    if effective.is_none() {
        errors.push(FieldError::new("effective_from", "invalid_date", "enter a date as YYYY-MM-DD"));
    }
    let base_version = field("base_version").trim().parse::<i64>().ok();
    let base = match base_version {
        Some(id) => Some(rating::get(&state.db, id).await?),
        None => None,
    };
    let base_json = match &base {
        Some(version) => serde_json::to_value(&version.document).map_err(|e| AppError::Internal(e.into()))?,
        None => serde_json::Value::Null,
    };
    let rebuilt: Result<serde_json::Value, Vec<FieldError>> = if mode == "json" {
        serde_json::from_str(&field("document"))
            .map_err(|e| vec![FieldError::new("document", "invalid", format!("the document is not valid JSON: {e}"))])
    } else if base.is_none() {
        Err(vec![FieldError::new(
            "base_version",
            "required",
            "reload the page: the form lost the version it was drawn from",
        )])
    } else {
        json_form::rebuild(&base_json, &posted)
    };
    let shown = rebuilt.as_ref().ok().cloned().unwrap_or_else(|| base_json.clone());
    let document = match rebuilt {
        Ok(value) => match serde_json::from_value::<RatingDocument>(value) {
            Ok(document) => Some(document),
            Err(e) => {
                errors.push(FieldError::new("document", "invalid", format!("the tables do not read: {e}")));
                None
            }
        },
        Err(found) => {
            errors.extend(found);
            None
        }
    };
    if let (Some(effective), Some(document), true) = (effective, document, errors.is_empty()) {
        let tx = begin_write(&state.db).await?;
        match rating::create(&tx, &actor, effective, &document, &note).await {
            Ok(_) => {
                tx.commit().await?;
                return Ok(Redirect::to("/rating").into_response());
            }
            Err(AppError::Validation(found)) => errors = found,
            Err(e) => return Err(e),
        }
    }
    // The form comes back with what was entered, each problem beside its input.
    let base = base_version.map(|id| (id, shown));
    let page = rating_page(&state, shell, &user, base, effective_text, note, errors, &posted).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The channel table as its form shows it: text as typed, three blank rows to add lines.
#[derive(Debug, Clone, Default)]
pub struct ChannelForm {
    pub effective_from: String,
    pub note: String,
    pub default_coefficient: String,
    pub regions: Vec<(String, String)>,
    pub dealers: Vec<(String, String)>,
}

impl ChannelForm {
    fn from_table(table: &ChannelTable, effective_from: NaiveDate) -> Self {
        let mut form = ChannelForm {
            effective_from: effective_from.to_string(),
            note: String::new(),
            default_coefficient: table.default_coefficient.to_string(),
            regions: table.regions.iter().map(|l| (l.region.clone(), l.coefficient.to_string())).collect(),
            dealers: table.dealers.iter().map(|l| (l.dealer_code.clone(), l.coefficient.to_string())).collect(),
        };
        form.pad();
        form
    }

    fn from_posted(posted: &[(String, String)]) -> Self {
        let all = |name: &str| -> Vec<String> {
            posted.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).collect()
        };
        let first = |name: &str| all(name).into_iter().next().unwrap_or_default();
        let pairs = |names: (&str, &str)| -> Vec<(String, String)> {
            all(names.0).into_iter().zip(all(names.1)).filter(|(a, b)| !a.is_empty() || !b.is_empty()).collect()
        };
        let mut form = ChannelForm {
            effective_from: first("effective_from"),
            note: first("note"),
            default_coefficient: first("default_coefficient"),
            regions: pairs(("region", "region_coefficient")),
            dealers: pairs(("dealer_code", "dealer_coefficient")),
        };
        form.pad();
        form
    }

    fn pad(&mut self) {
        for _ in 0..3 {
            self.regions.push(Default::default());
            self.dealers.push(Default::default());
        }
    }

    /// The table the form stands for, or every field that does not read.
    fn table(&self) -> Result<(NaiveDate, ChannelTable), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: String, text: &str| match Decimal::from_str(text) {
            Ok(value) => value,
            Err(_) => {
                errors.push(FieldError::new(field, "invalid", "enter a coefficient such as 0.95"));
                Decimal::ZERO
            }
        };
        let default_coefficient = number("default_coefficient".into(), &self.default_coefficient);
        let filled = |rows: &[(String, String)]| -> Vec<(String, String)> {
            rows.iter().filter(|(a, b)| !a.is_empty() || !b.is_empty()).cloned().collect()
        };
        let regions = filled(&self.regions)
            .into_iter()
            .enumerate()
            .map(|(i, (region, value))| RegionCoefficient {
                coefficient: number(format!("regions[{i}].coefficient"), &value),
                region,
            })
            .collect();
        let dealers = filled(&self.dealers)
            .into_iter()
            .enumerate()
            .map(|(i, (code, value))| DealerCoefficient {
                coefficient: number(format!("dealers[{i}].coefficient"), &value),
                dealer_code: code.to_uppercase(),
            })
            .collect();
        let effective = NaiveDate::parse_from_str(&self.effective_from, "%Y-%m-%d").ok();
        if effective.is_none() {
            errors.push(FieldError::new("effective_from", "invalid_date", "enter a date as YYYY-MM-DD"));
        }
        match effective {
            Some(day) if errors.is_empty() => Ok((day, ChannelTable { default_coefficient, regions, dealers })),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "underwriting/channel.html")]
pub struct ChannelPage {
    pub shell: Shell,
    pub in_force: ChannelVersion,
    pub versions: Vec<ChannelVersion>,
    pub filed_min: Decimal,
    pub filed_max: Decimal,
    pub today: NaiveDate,
    pub form: ChannelForm,
    pub can_edit: bool,
    pub errors: Vec<FieldError>,
}

async fn channel_page(
    state: &AppState,
    shell: Shell,
    role: Role,
    form: Option<ChannelForm>,
    errors: Vec<FieldError>,
) -> AppResult<ChannelPage> {
    let today = quotes::today();
    let in_force = channel::in_force(&state.db, today).await?;
    let filed = rating::in_force(&state.db, today).await?.document.tables.commercial.pricing_coefficient;
    let form = form.unwrap_or_else(|| ChannelForm::from_table(&in_force.table, today + chrono::Duration::days(1)));
    Ok(ChannelPage {
        shell,
        versions: channel::list(&state.db).await?,
        in_force,
        filed_min: filed.min,
        filed_max: filed.max,
        today,
        form,
        can_edit: role == Role::Underwriter,
        errors,
    })
}

pub async fn channel_table(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
) -> AppResult<ChannelPage> {
    channel_page(&state, shell, user.role, None, Vec::new()).await
}

pub async fn create_channel_version(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(posted): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = ChannelForm::from_posted(&posted);
    let result = match form.table() {
        Ok((effective_from, table)) => {
            let tx = begin_write(&state.db).await?;
            let created = channel::create(&tx, &actor, effective_from, &table, &form.note, quotes::today()).await;
            if created.is_ok() {
                tx.commit().await?;
            }
            created.map(|_| ())
        }
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/channel-coefficients").into_response()),
        Err(AppError::Validation(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, channel_page(&state, shell, user.role, Some(form), errors).await?)
                .into_response())
        }
        Err(e) => Err(e),
    }
}
