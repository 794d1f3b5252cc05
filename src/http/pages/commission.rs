//! Commission pages: a dealer's agreements (with the form that checks a new one
//! against the filed ranges) and statements, and a statement with its lines,
//! its next step and its Excel and CSV downloads.

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
use crate::domain::commission::{StatementStatus, Terms, Tier};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::extract::{CurrentUser, Form, Path, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::commission::{self, Agreement, AgreementRequest, Statement};
use crate::store::dealers::{self, Dealer};
use crate::store::sessions::SessionUser;

use super::Shell;

/// The agreement form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgreementForm {
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub business_type: String,
    #[serde(default)]
    pub valid_from: String,
    #[serde(default)]
    pub base_rate_percent: String,
    #[serde(default)]
    pub tier_threshold: String,
    #[serde(default)]
    pub tier_rate_percent: String,
    #[serde(default)]
    pub note: String,
}

impl AgreementForm {
    fn request(&self) -> Result<AgreementRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let percent = |text: &str, field: &str, errors: &mut Vec<FieldError>| {
            Decimal::from_str(text.trim()).map(|p| p / Decimal::ONE_HUNDRED).map_err(|_| {
                errors.push(FieldError::new(field, "invalid", "enter a rate in %, e.g. 15 or 12.5"));
            })
        };
        let valid_from = NaiveDate::parse_from_str(self.valid_from.trim(), "%Y-%m-%d")
            .map_err(|_| errors.push(FieldError::new("valid_from", "invalid", "enter a date as YYYY-MM-DD")));
        let base_rate = percent(&self.base_rate_percent, "base_rate", &mut errors);
        let mut tiers = Vec::new();
        if !self.tier_threshold.trim().is_empty() {
            let threshold = Decimal::from_str(self.tier_threshold.trim()).map_err(|_| {
                errors.push(FieldError::new("tiers[0].monthly_written_at_least", "invalid", "enter an amount"))
            });
            let rate = percent(&self.tier_rate_percent, "tiers[0].rate", &mut errors);
            if let (Ok(monthly_written_at_least), Ok(rate)) = (threshold, rate) {
                tiers.push(Tier { monthly_written_at_least, rate });
            }
        }
        match (valid_from, base_rate, errors.is_empty()) {
            (Ok(valid_from), Ok(base_rate), true) => Ok(AgreementRequest {
                terms: Terms {
                    product: self.product.clone(),
                    business_type: self.business_type.clone(),
                    valid_from,
                    valid_to: None,
                    base_rate,
                    tiers,
                    loss_ratio_clause: None,
                },
                note: self.note.clone(),
            }),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "commission/dealer.html")]
pub struct DealerCommissionPage {
    pub shell: Shell,
    pub dealer: Dealer,
    pub agreements: Vec<Agreement>,
    pub statements: Vec<Statement>,
    pub can_agree: bool,
    pub form: AgreementForm,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

impl DealerCommissionPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field || e.field.starts_with(field))
            .map(|e| self.shell.tr.field_error(e))
    }

    pub fn percent(&self, rate: &Decimal) -> String {
        format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
    }
}

async fn dealer_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    form: AgreementForm,
    errors: Vec<FieldError>,
    notice: Option<String>,
) -> AppResult<DealerCommissionPage> {
    let dealer = dealers::get(&state.db, &user.scope, id).await?;
    let agreements = commission::agreements(&state.db, &user.scope, id).await?;
    let statements = commission::statements(&state.db, &user.scope, id).await?;
    Ok(DealerCommissionPage {
        shell,
        dealer,
        agreements,
        statements,
        can_agree: matches!(user.role, Role::Administrator | Role::ChannelManager),
        form,
        errors,
        notice,
    })
}

pub async fn dealer(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<DealerCommissionPage> {
    let form = AgreementForm {
        product: "commercial".into(),
        business_type: "new_car".into(),
        valid_from: crate::store::quotes::tomorrow().to_string(),
        ..Default::default()
    };
    dealer_page(&state, shell, &user, id, form, Vec::new(), None).await
}

pub async fn create_agreement(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<AgreementForm>,
) -> AppResult<Response> {
    let request = match form.request() {
        Ok(request) => request,
        Err(errors) => {
            let page = dealer_page(&state, shell, &user, id, form, errors, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let tx = begin_write(&state.db).await?;
    match commission::create_agreement(&tx, &actor, &user.scope, id, &request).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/dealers/{id}/commission")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            tx.rollback().await?;
            let page = dealer_page(&state, shell, &user, id, form, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(message)) => {
            tx.rollback().await?;
            let page = dealer_page(&state, shell, &user, id, form, Vec::new(), Some(message)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "commission/statement.html")]
pub struct StatementPage {
    pub shell: Shell,
    pub statement: Statement,
    pub can_confirm: bool,
    pub can_pay: bool,
    pub notice: Option<String>,
}

impl StatementPage {
    pub fn percent(&self, rate: &Decimal) -> String {
        format!("{}%", (rate * Decimal::ONE_HUNDRED).normalize())
    }
}

async fn statement_page(
    state: &AppState,
    shell: Shell,
    user: &SessionUser,
    id: i64,
    notice: Option<String>,
) -> AppResult<StatementPage> {
    let statement = commission::statement(&state.db, &user.scope, id).await?;
    let keeper = matches!(user.role, Role::Administrator | Role::ChannelManager);
    Ok(StatementPage {
        can_confirm: keeper && statement.status == StatementStatus::Draft,
        can_pay: user.role == Role::Administrator && statement.status == StatementStatus::Confirmed,
        shell,
        statement,
        notice,
    })
}

pub async fn statement(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatementPage> {
    statement_page(&state, shell, &user, id, None).await
}

#[derive(Debug, Deserialize)]
pub struct StatementForm {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub csrf: Option<String>,
}

async fn advance(
    state: AppState,
    shell: Shell,
    user: SessionUser,
    actor: crate::store::audit::Actor,
    id: i64,
    form: StatementForm,
    next: StatementStatus,
) -> AppResult<Response> {
    let _ = form.csrf;
    let version: i32 =
        form.version.trim().parse().map_err(|_| AppError::field("version", "invalid", "reload the page"))?;
    let tx = begin_write(&state.db).await?;
    match commission::advance_statement(&tx, &actor, &user.scope, id, version, next).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(Redirect::to(&format!("/statements/{id}")).into_response())
        }
        Err(AppError::Conflict(message)) => {
            tx.rollback().await?;
            let page = statement_page(&state, shell, &user, id, Some(message)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<StatementForm>,
) -> AppResult<Response> {
    advance(state, shell, user, actor, id, form, StatementStatus::Confirmed).await
}

pub async fn pay(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(form): Form<StatementForm>,
) -> AppResult<Response> {
    advance(state, shell, user, actor, id, form, StatementStatus::Paid).await
}
