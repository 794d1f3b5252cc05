//! User administration pages. A refused form comes back with what was typed
//! and a message beside each field at fault.

use std::str::FromStr;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::auth::{Role, password_problem};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::users::hash_in_background;
use crate::http::extract::{Form, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::users::{self, NewUser, User, UserChange, UserFilter, UserSummary};
use crate::store::{Page, PageRequest};

use super::{Shell, role_key};

#[derive(Debug, Default, Deserialize)]
pub struct UserListQuery {
    pub role: Option<String>,
    pub q: Option<String>,
    pub page: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UserListPage {
    pub shell: Shell,
    pub page: Page<UserSummary>,
    pub roles: Vec<(&'static str, &'static str)>,
    pub role: String,
    pub q: String,
}

impl UserListPage {
    pub fn role_label(&self, role: &Role) -> &'static str {
        self.shell.tr.t(role_key(*role))
    }

    pub fn page_link(&self, page: u64) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("role", &self.role)
            .append_pair("q", &self.q)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/admin/users?{query}")
    }
}

fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), role_key(*r))).collect()
}

pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<UserListQuery>,
) -> AppResult<UserListPage> {
    let role = query.role.as_deref().and_then(Role::parse);
    let filter = UserFilter { role, search: query.q.clone() };
    let page = users::list(&state.db, &filter, PageRequest::new(query.page, Some(50))).await?;
    Ok(UserListPage {
        shell,
        page,
        roles: role_options(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        q: query.q.unwrap_or_default(),
    })
}

/// What the user form holds, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
    /// Dealer codes separated by commas or spaces.
    #[serde(default)]
    pub dealers: String,
    #[serde(default)]
    pub authority_limit: String,
    pub disabled: Option<String>,
    pub version: Option<i32>,
}

impl UserForm {
    fn from_user(user: &User) -> Self {
        UserForm {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role.as_str().to_string(),
            password: String::new(),
            dealers: user.dealers.iter().map(|d| d.code.as_str()).collect::<Vec<_>>().join(", "),
            authority_limit: user.authority_limit.map(|d| d.to_string()).unwrap_or_default(),
            disabled: user.disabled.then(|| "on".to_string()),
            version: Some(user.version),
        }
    }

    fn dealer_codes(&self) -> Vec<String> {
        self.dealers
            .split([',', ' ', '，', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn authority(&self, errors: &mut Vec<FieldError>) -> Option<Decimal> {
        let text = self.authority_limit.trim();
        if text.is_empty() {
            return None;
        }
        match Decimal::from_str(text) {
            Ok(amount) => Some(amount),
            Err(_) => {
                errors.push(FieldError::new("authority_limit", "invalid_amount", "enter an amount such as 50000.00"));
                None
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user_form.html")]
pub struct UserFormPage {
    pub shell: Shell,
    /// `None` for a new user.
    pub user: Option<User>,
    pub form: UserForm,
    pub roles: Vec<(&'static str, &'static str)>,
    pub errors: Vec<FieldError>,
}

impl UserFormPage {
    /// The problem with `field`, in the page's language where the code has a translation.
    pub fn error(&self, field: &str) -> Option<&str> {
        let error = self.errors.iter().find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))?;
        Some(self.shell.tr.field_error(error))
    }

    fn render_with(self, status: StatusCode) -> Response {
        (status, self).into_response()
    }
}

pub async fn new_form(shell: Shell) -> UserFormPage {
    UserFormPage { shell, user: None, form: UserForm::default(), roles: role_options(), errors: Vec::new() }
}

pub async fn create(
    State(state): State<AppState>,
    shell: Shell,
    RequestActor(actor): RequestActor,
    Form(form): Form<UserForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "required", "choose a role"));
    }
    if let Some(problem) = password_problem(&form.password) {
        errors.push(FieldError::new("password", "weak", problem));
    }
    let authority_limit = form.authority(&mut errors);
    let refused = |errors: Vec<FieldError>, shell: Shell, mut form: UserForm| {
        form.password.clear();
        UserFormPage { shell, user: None, form, roles: role_options(), errors }
            .render_with(StatusCode::UNPROCESSABLE_ENTITY)
    };
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        // Report the record's own problems too, so one round trip shows everything to fix.
        let codes = form.dealer_codes();
        errors
            .extend(users::new_user_problems(&state.db, form.username.trim(), &form.display_name, role, &codes).await?);
        return Ok(refused(errors, shell, form));
    };
    let new = NewUser {
        username: form.username.trim().to_string(),
        display_name: form.display_name.clone(),
        role,
        password_hash: hash_in_background(form.password.clone()).await?,
        dealer_codes: form.dealer_codes(),
        authority_limit,
    };
    let tx = begin_write(&state.db).await?;
    match users::create(&tx, &actor, new).await {
        Ok(user) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/admin/users/{}", user.id)).into_response())
        }
        Err(AppError::Validation(errors)) => Ok(refused(errors, shell, form)),
        Err(e) => Err(e),
    }
}

pub async fn edit_form(State(state): State<AppState>, shell: Shell, Path(id): Path<i64>) -> AppResult<UserFormPage> {
    let user = users::get(&state.db, id).await?;
    let form = UserForm::from_user(&user);
    Ok(UserFormPage { shell, user: Some(user), form, roles: role_options(), errors: Vec::new() })
}

pub async fn update(
    State(state): State<AppState>,
    shell: Shell,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> AppResult<Response> {
    let user = users::get(&state.db, id).await?;
    let mut errors = Vec::new();
    let authority_limit = form.authority(&mut errors);
    let password = Some(form.password.clone()).filter(|p| !p.is_empty());
    if let Some(problem) = password.as_deref().and_then(password_problem) {
        errors.push(FieldError::new("password", "weak", problem));
    }
    let refused = |errors: Vec<FieldError>, status: StatusCode, shell: Shell, user: User, mut form: UserForm| {
        form.password.clear();
        UserFormPage { shell, user: Some(user), form, roles: role_options(), errors }.render_with(status)
    };
    if !errors.is_empty() {
        return Ok(refused(errors, StatusCode::UNPROCESSABLE_ENTITY, shell, user, form));
    }
    let password_hash = match password {
        Some(p) => Some(hash_in_background(p).await?),
        None => None,
    };
    let change = UserChange {
        version: form.version.unwrap_or(0),
        display_name: Some(form.display_name.clone()),
        disabled: Some(form.disabled.is_some()),
        authority_limit: Some(authority_limit),
        dealer_codes: Some(form.dealer_codes()),
        password_hash,
    };
    let tx = begin_write(&state.db).await?;
    match users::update(&tx, &actor, id, change).await {
        Ok(updated) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/admin/users/{}?saved=1", updated.id)).into_response())
        }
        Err(AppError::Validation(errors)) => Ok(refused(errors, StatusCode::UNPROCESSABLE_ENTITY, shell, user, form)),
        Err(AppError::Conflict(message)) => {
            let errors = vec![FieldError::new("version", "stale", message)];
            let fresh = UserForm::from_user(&user);
            Ok(refused(errors, StatusCode::CONFLICT, shell, user, fresh))
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct QualificationForm {
    #[serde(default)]
    pub certificate_no: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: String,
}

pub async fn add_qualification(
    State(state): State<AppState>,
    shell: Shell,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<QualificationForm>,
) -> AppResult<Response> {
    let user = users::get(&state.db, id).await?;
    let date = |text: &str, field: &str, errors: &mut Vec<FieldError>| {
        let parsed = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
        if parsed.is_none() {
            errors.push(FieldError::new(field, "invalid_date", "enter a date as YYYY-MM-DD"));
        }
        parsed
    };
    let mut errors = Vec::new();
    let valid_from = date(&form.valid_from, "valid_from", &mut errors);
    let valid_to = date(&form.valid_to, "valid_to", &mut errors);
    let result = match (valid_from, valid_to) {
        (Some(valid_from), Some(valid_to)) => {
            let qualification =
                users::Qualification { certificate_no: form.certificate_no.trim().to_string(), valid_from, valid_to };
            let tx = begin_write(&state.db).await?;
            match users::add_qualification(&tx, &actor, id, qualification).await {
                Ok(()) => {
                    tx.commit().await?;
                    Ok(())
                }
                Err(AppError::Validation(found)) => Err(found),
                Err(e) => return Err(e),
            }
        }
        _ => Err(errors),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(errors) => {
            let form = UserForm::from_user(&user);
            let page = UserFormPage { shell, user: Some(user), form, roles: role_options(), errors };
            Ok(page.render_with(StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}
