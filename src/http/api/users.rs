//! User administration: create, list, read and change users.

use std::str::FromStr;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::auth::{Role, hash_password, password_problem};
use crate::error::{AppError, AppResult};
use crate::http::extract::{CurrentUser, IdempotencyKey, Json, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::idempotency::{self, Outcome};
use crate::store::users::{self, NewUser, User, UserChange, UserFilter, UserSummary};
use crate::store::{Page, PageRequest};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
    /// Dealer codes; required for sales assistants and dealer staff, refused for other roles.
    #[serde(default)]
    pub dealers: Vec<String>,
    /// Claims settlement authority in CNY, as a string with at most 2 decimals.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "50000.00")]
    pub authority_limit: Option<Decimal>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The version you read; if someone changed the user since, the change is refused with 409.
    pub version: i32,
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    /// A new limit as a string, or `null` to remove it; leave out to keep it.
    #[serde(default, deserialize_with = "present_decimal")]
    #[schema(value_type = Option<String>)]
    pub authority_limit: Option<Option<Decimal>>,
    pub dealers: Option<Vec<String>>,
    pub password: Option<String>,
}

/// Tells "absent" (keep) from `null` (remove) for an optional amount.
fn present_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Decimal>>, D::Error> {
    let value: Option<String> = Option::deserialize(deserializer)?;
    match value {
        None => Ok(Some(None)),
        Some(text) => Decimal::from_str(text.trim()).map(|d| Some(Some(d))).map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    pub role: Option<Role>,
    /// Part of a username or display name.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Users, filtered and paged.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<UserSummary>)))]
pub async fn list(State(state): State<AppState>, Query(query): Query<UserQuery>) -> AppResult<Json<Page<UserSummary>>> {
    let filter = UserFilter { role: query.role, search: query.q };
    Ok(Json(users::list(&state.db, &filter, PageRequest::new(query.page, query.per_page)).await?))
}

/// Creates a user. Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = User), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Json(request): Json<CreateUser>,
) -> AppResult<Response> {
    let fingerprint = idempotency::fingerprint(
        "POST",
        "/api/v1/users",
        &serde_json::to_value(&request).map_err(anyhow::Error::from)?,
    );
    if let Some(problem) = password_problem(&request.password) {
        return Err(AppError::field("password", "weak", problem));
    }
    let password_hash = hash_in_background(request.password.clone()).await?;
    let new = NewUser {
        username: request.username,
        display_name: request.display_name,
        role: request.role,
        password_hash,
        dealer_codes: request.dealers,
        authority_limit: request.authority_limit,
    };
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let created = users::create(tx, &actor, new).await?;
            Ok((201, serde_json::to_value(created).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/users"))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = crate::error::Problem)))]
pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> AppResult<Json<User>> {
    Ok(Json(users::get(&state.db, id).await?))
}

/// Changes a user; disabling one ends all their sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser, security(("bearer" = [])),
    responses((status = 200, body = User), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<UpdateUser>,
) -> AppResult<Json<User>> {
    let password_hash = match request.password {
        Some(password) => {
            if let Some(problem) = password_problem(&password) {
                return Err(AppError::field("password", "weak", problem));
            }
            Some(hash_in_background(password).await?)
        }
        None => None,
    };
    let change = UserChange {
        version: request.version,
        display_name: request.display_name,
        disabled: request.disabled,
        authority_limit: request.authority_limit,
        dealer_codes: request.dealers,
        password_hash,
    };
    let tx = begin_write(&state.db).await?;
    let user = users::update(&tx, &actor, id, change).await?;
    tx.commit().await?;
    Ok(Json(user))
}

/// Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
pub async fn hash_in_background(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// 201 with a `Location` for new records; replays say so in `Idempotent-Replayed`.
pub fn created_response(outcome: Outcome, collection: &str) -> Response {
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::CREATED);
    let location = outcome.body.get("id").map(|id| format!("{collection}/{id}"));
    let mut response = (status, axum::Json(outcome.body)).into_response();
    if let Some(location) = location.and_then(|l| l.parse().ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if outcome.replayed {
        response.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
    }
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualificationRequest {
    pub certificate_no: String,
    pub valid_from: chrono::NaiveDate,
    pub valid_to: chrono::NaiveDate,
}

/// Records a sales qualification certificate (销售从业资格) for a sales assistant. Channel
/// managers may do so for the assistants of the dealers they own.
#[utoipa::path(post, path = "/api/v1/users/{id}/qualifications", tag = "users", request_body = QualificationRequest,
    security(("bearer" = [])), responses((status = 201, body = User), (status = 422, body = crate::error::Problem)))]
pub async fn add_qualification(
    State(state): State<AppState>,
    crate::http::extract::CurrentUser(current): crate::http::extract::CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<QualificationRequest>,
) -> AppResult<(StatusCode, Json<User>)> {
    let tx = begin_write(&state.db).await?;
    if !users::works_in_scope(&tx, id, &current.scope).await? && current.scope != crate::domain::auth::Scope::All {
        return Err(crate::error::AppError::NotFound);
    }
    let qualification = users::Qualification {
        certificate_no: request.certificate_no.trim().to_string(),
        valid_from: request.valid_from,
        valid_to: request.valid_to,
    };
    users::add_qualification(&tx, &actor, id, qualification).await?;
    let user = users::get(&tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(user)))
}
