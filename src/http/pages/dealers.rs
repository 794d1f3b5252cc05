//! Dealer list and dealer page, within the user's scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::auth::Role;
use crate::domain::dealers::{DealerFacts, DealerStatus, check_facts, split_brands};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{CurrentUser, Form, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::dealers::{self, Dealer, DealerFilter, DealerWrite};
use crate::store::{Page, PageRequest};

use super::Shell;

#[derive(Debug, Default, Deserialize)]
pub struct DealerListQuery {
    pub q: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
    pub page: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/list.html")]
pub struct DealerListPage {
    pub shell: Shell,
    pub page: Page<Dealer>,
    pub regions: Vec<String>,
    pub q: String,
    pub region: String,
    pub status: String,
    pub statuses: [(&'static str, &'static str); 3],
    pub can_create: bool,
    pub can_import: bool,
}

impl DealerListPage {
    /// The link to another page of the same filtered list.
    pub fn page_link(&self, page: u64) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("region", &self.region)
            .append_pair("status", &self.status)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/dealers?{query}")
    }
}

pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<DealerListQuery>,
) -> AppResult<DealerListPage> {
    let filter = DealerFilter { search: query.q.clone(), region: query.region.clone(), status: query.status.clone() };
    let page = dealers::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, Some(50))).await?;
    let regions = dealers::regions(&state.db, &user.scope).await?;
    Ok(DealerListPage {
        shell,
        page,
        regions,
        q: query.q.unwrap_or_default(),
        region: query.region.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        statuses: dealers::STATUSES,
        can_create: matches!(user.role, Role::Administrator | Role::ChannelManager),
        can_import: user.role == Role::Administrator,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/show.html")]
pub struct DealerPage {
    pub shell: Shell,
    pub dealer: Dealer,
    pub can_edit: bool,
    /// The dealer's sales assistants with their certificates.
    pub sellers: Vec<crate::store::users::User>,
    pub errors: Vec<FieldError>,
    pub today: chrono::NaiveDate,
}

impl DealerPage {
    /// Whether a seller holds a certificate valid today (issuing is refused otherwise).
    pub fn qualified(&self, seller: &crate::store::users::User) -> bool {
        seller.qualifications.iter().any(|q| q.valid_from <= self.today && self.today <= q.valid_to)
    }
}

pub async fn show(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<DealerPage> {
    dealer_page(&state, shell, &user, id, Vec::new()).await
}

async fn dealer_page(
    state: &AppState,
    shell: Shell,
    user: &crate::store::sessions::SessionUser,
    id: i64,
    errors: Vec<FieldError>,
) -> AppResult<DealerPage> {
    let dealer = dealers::get(&state.db, &user.scope, id).await?;
    let can_edit = matches!(user.role, Role::Administrator | Role::ChannelManager);
    let sellers = crate::store::users::sellers_of(&state.db, id).await?;
    Ok(DealerPage { shell, dealer, can_edit, sellers, errors, today: crate::store::quotes::today() })
}

/// A qualification certificate as typed on the dealer page.
#[derive(Debug, Deserialize)]
pub struct QualificationForm {
    #[serde(default)]
    pub certificate_no: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
    #[serde(default)]
    pub csrf: Option<String>,
}

/// Records a sales assistant's certificate from the dealer page (administrators and the dealer's channel manager).
pub async fn add_qualification(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path((id, seller)): Path<(i64, i64)>,
    Form(form): Form<QualificationForm>,
) -> AppResult<Response> {
    let _ = form.csrf;
    dealers::get(&state.db, &user.scope, id).await?;
    if !crate::store::users::sellers_of(&state.db, id).await?.iter().any(|s| s.id == seller) {
        return Err(AppError::NotFound);
    }
    let date = |text: &str, field: &str| {
        chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, "invalid", "enter a date as YYYY-MM-DD"))
    };
    let (from, to) = (date(&form.valid_from, "valid_from"), date(&form.valid_to, "valid_to"));
    let (valid_from, valid_to) = match (from, to) {
        (Ok(from), Ok(to)) => (from, to),
        (from, to) => {
            let errors = [from.err(), to.err()].into_iter().flatten().collect();
            let page = dealer_page(&state, shell, &user, id, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let qualification = crate::store::users::Qualification {
        certificate_no: form.certificate_no.trim().to_string(),
        valid_from,
        valid_to,
    };
    let tx = crate::store::begin_write(&state.db).await?;
    match crate::store::users::add_qualification(&tx, &actor, seller, qualification).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/dealers/{id}")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            tx.rollback().await?;
            let page = dealer_page(&state, shell, &user, id, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The dealer form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct DealerForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub dealer_group: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub brands: String,
    pub has_repair_shop: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub channel_manager: String,
    pub version: Option<i32>,
}

impl DealerForm {
    fn from_dealer(dealer: &Dealer, manager_username: Option<String>) -> Self {
        DealerForm {
            code: dealer.code.clone(),
            name: dealer.name.clone(),
            dealer_group: dealer.dealer_group.clone(),
            region: dealer.region.clone(),
            brands: dealer.brands.join("、"),
            has_repair_shop: dealer.has_repair_shop.then(|| "on".into()),
            status: dealer.status.clone(),
            channel_manager: manager_username.unwrap_or_default(),
            version: Some(dealer.version),
        }
    }

    fn facts(&self, code: &str) -> Result<DealerFacts, Vec<FieldError>> {
        let status = DealerStatus::parse(&self.status);
        let checked = check_facts(
            code,
            &self.name,
            &self.dealer_group,
            &self.region,
            &split_brands(&self.brands),
            self.has_repair_shop.is_some(),
            status.unwrap_or(DealerStatus::Active),
        );
        let mut errors: Vec<FieldError> = match &checked {
            Ok(_) => Vec::new(),
            Err(problems) => problems.to_vec(),
        };
        if status.is_none() {
            errors.push(FieldError::new("status", "required", "choose a status"));
        }
        match checked {
            Ok(facts) if errors.is_empty() => Ok(facts),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/form.html")]
pub struct DealerFormPage {
    pub shell: Shell,
    pub dealer: Option<Dealer>,
    pub form: DealerForm,
    pub statuses: [(&'static str, &'static str); 3],
    pub errors: Vec<FieldError>,
    /// Only administrators choose the owner.
    pub can_assign: bool,
}

impl DealerFormPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        let error = self.errors.iter().find(|e| e.field == field)?;
        Some(self.shell.tr.field_error(error))
    }

    fn new(shell: Shell, dealer: Option<Dealer>, form: DealerForm, errors: Vec<FieldError>) -> Self {
        let can_assign = shell.user.as_ref().is_some_and(|u| u.role == Role::Administrator);
        DealerFormPage { shell, dealer, form, statuses: dealers::STATUSES, errors, can_assign }
    }
}

pub async fn new_form(shell: Shell) -> DealerFormPage {
    let form = DealerForm { status: "active".into(), ..Default::default() };
    DealerFormPage::new(shell, None, form, Vec::new())
}

pub async fn create(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Form(form): Form<DealerForm>,
) -> AppResult<Response> {
    let facts = match form.facts(&form.code) {
        Ok(facts) => facts,
        Err(errors) => {
            return Ok(refused(DealerFormPage::new(shell, None, form, errors), StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let manager = Some(form.channel_manager.trim().to_string()).filter(|m| !m.is_empty());
    let tx = begin_write(&state.db).await?;
    match dealers::create(&tx, &actor, user.role, DealerWrite { facts, channel_manager: manager }).await {
        Ok(dealer) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/dealers/{}", dealer.id)).into_response())
        }
        Err(AppError::Validation(errors)) => {
            Ok(refused(DealerFormPage::new(shell, None, form, errors), StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}

fn refused(page: DealerFormPage, status: StatusCode) -> Response {
    (status, page).into_response()
}

pub async fn edit_form(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<DealerFormPage> {
    let dealer = dealers::get(&state.db, &user.scope, id).await?;
    let manager = manager_username(&state, &dealer).await?;
    let form = DealerForm::from_dealer(&dealer, manager);
    Ok(DealerFormPage::new(shell, Some(dealer), form, Vec::new()))
}

async fn manager_username(state: &AppState, dealer: &Dealer) -> AppResult<Option<String>> {
    match dealer.channel_manager_id {
        Some(id) => Ok(Some(crate::store::users::get(&state.db, id).await?.username)),
        None => Ok(None),
    }
}

pub async fn update(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<DealerForm>,
) -> AppResult<Response> {
    let dealer = dealers::get(&state.db, &user.scope, id).await?;
    let facts = match form.facts(&dealer.code) {
        Ok(facts) => facts,
        Err(errors) => {
            return Ok(refused(
                DealerFormPage::new(shell, Some(dealer), form, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let manager = Some(form.channel_manager.trim().to_string()).filter(|m| !m.is_empty());
    let write = DealerWrite { facts, channel_manager: manager };
    let tx = begin_write(&state.db).await?;
    match dealers::update(&tx, &actor, user.role, &user.scope, id, form.version.unwrap_or(0), write).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/dealers/{id}")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            Ok(refused(DealerFormPage::new(shell, Some(dealer), form, errors), StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(AppError::Conflict(message)) => {
            let fresh = DealerForm::from_dealer(&dealer, manager_username(&state, &dealer).await?);
            let errors = vec![FieldError::new("version", "stale", message)];
            Ok(refused(DealerFormPage::new(shell, Some(dealer), fresh, errors), StatusCode::CONFLICT))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/import.html")]
pub struct ImportPage {
    pub shell: Shell,
    pub imported: Option<usize>,
    pub problems: Vec<FieldError>,
}

pub async fn import_form(shell: Shell) -> ImportPage {
    ImportPage { shell, imported: None, problems: Vec::new() }
}

/// The upload: a multipart form whose `file` field holds the CSV.
pub async fn import(
    State(state): State<AppState>,
    shell: Shell,
    RequestActor(actor): RequestActor,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let mut multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(|e| AppError::BadRequest(e.body_text()))?);
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let problems = vec![FieldError::new("file", "required", "choose a CSV file to import")];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, ImportPage { shell, imported: None, problems }).into_response());
    };
    match crate::http::api::dealers::import_csv(&state, &actor, &bytes).await {
        Ok(count) => Ok(ImportPage { shell, imported: Some(count), problems: Vec::new() }.into_response()),
        Err(AppError::Validation(problems)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ImportPage { shell, imported: None, problems }).into_response())
        }
        Err(e) => Err(e),
    }
}
