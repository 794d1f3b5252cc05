//! Dealers within the caller's scope.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::dealers::{DealerStatus, ImportProblem, check_facts, parse_import};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::users::created_response;
use crate::http::extract::{CurrentUser, IdempotencyKey, Json, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::dealers::{self, Dealer, DealerFilter, DealerWrite};
use crate::store::idempotency;
use crate::store::{Page, PageRequest};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DealerQuery {
    /// Part of the code, name or dealer group.
    pub q: Option<String>,
    pub region: Option<String>,
    /// `active`, `suspended` or `remediation`.
    pub status: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Dealers the signed-in user may see.
#[utoipa::path(get, path = "/api/v1/dealers", tag = "dealers", params(DealerQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Dealer>)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<DealerQuery>,
) -> AppResult<Json<Page<Dealer>>> {
    let filter = DealerFilter { search: query.q, region: query.region, status: query.status };
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(dealers::list(&state.db, &user.scope, &filter, paging).await?))
}

/// One dealer; 404 for a dealer outside the user's scope.
#[utoipa::path(get, path = "/api/v1/dealers/{id}", tag = "dealers", security(("bearer" = [])),
    responses((status = 200, body = Dealer), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Dealer>> {
    Ok(Json(dealers::get(&state.db, &user.scope, id).await?))
}

/// A dealer's facts as sent by a client.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealerRequest {
    /// 2–32 capital letters, digits or '-'; cannot change later.
    pub code: String,
    pub name: String,
    pub dealer_group: String,
    /// Province and city, e.g. `广东-深圳`.
    pub region: String,
    pub brands: Vec<String>,
    pub has_repair_shop: bool,
    pub status: DealerStatus,
    /// Username of the owning channel manager (administrators only; a channel manager owns what they create).
    #[serde(default)]
    pub channel_manager: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealerUpdate {
    /// The version you read; a change based on an older one is refused with 409.
    pub version: i32,
    pub name: String,
    pub dealer_group: String,
    pub region: String,
    pub brands: Vec<String>,
    pub has_repair_shop: bool,
    pub status: DealerStatus,
    #[serde(default)]
    pub channel_manager: Option<String>,
}

/// Turns domain problems into the API's field errors.
pub fn facts_errors(problems: Vec<crate::domain::dealers::FactProblem>) -> AppError {
    AppError::Validation(problems)
}

/// Creates a dealer (administrators, and channel managers for themselves). Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/dealers", tag = "dealers", request_body = DealerRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = Dealer), (status = 422, body = crate::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Json(request): Json<DealerRequest>,
) -> AppResult<Response> {
    let body = serde_json::to_value(&request).map_err(anyhow::Error::from)?;
    let fingerprint = idempotency::fingerprint("POST", "/api/v1/dealers", &body);
    let facts = check_facts(
        &request.code,
        &request.name,
        &request.dealer_group,
        &request.region,
        &request.brands,
        request.has_repair_shop,
        request.status,
    )
    .map_err(facts_errors)?;
    let write = DealerWrite { facts, channel_manager: request.channel_manager };
    let role = user.role;
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let dealer = dealers::create(tx, &actor, role, write).await?;
            Ok((201, serde_json::to_value(dealer).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/dealers"))
}

/// Changes a dealer's facts; channel managers only their own dealers, and only administrators change the owner.
#[utoipa::path(patch, path = "/api/v1/dealers/{id}", tag = "dealers", request_body = DealerUpdate, security(("bearer" = [])),
    responses((status = 200, body = Dealer), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<DealerUpdate>,
) -> AppResult<Json<Dealer>> {
    let current = dealers::get(&state.db, &user.scope, id).await?;
    let facts = check_facts(
        &current.code,
        &request.name,
        &request.dealer_group,
        &request.region,
        &request.brands,
        request.has_repair_shop,
        request.status,
    )
    .map_err(facts_errors)?;
    let write = DealerWrite { facts, channel_manager: request.channel_manager };
    let tx = begin_write(&state.db).await?;
    let dealer = dealers::update(&tx, &actor, user.role, &user.scope, id, request.version, write).await?;
    tx.commit().await?;
    Ok(Json(dealer))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub imported: usize,
}

/// Imports dealers from CSV (`text/csv`, UTF-8, header `code,name,dealer_group,region,brands,has_repair_shop,status,channel_manager`).
/// A file with any bad row imports nothing; every problem is listed as `line N: field`.
#[utoipa::path(post, path = "/api/v1/dealers/import", tag = "dealers", request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])), responses((status = 200, body = ImportResult), (status = 422, body = crate::error::Problem)))]
pub async fn import(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> AppResult<Json<ImportResult>> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("text/csv") {
        return Err(AppError::UnsupportedMediaType("send the file as text/csv".into()));
    }
    import_csv(&state, &actor, &body).await.map(|imported| Json(ImportResult { imported }))
}

/// Shared by the API and the import page: parse, check against the database, store all or nothing.
pub async fn import_csv(state: &AppState, actor: &crate::store::audit::Actor, bytes: &[u8]) -> AppResult<usize> {
    let rows = parse_import(bytes).map_err(import_errors)?;
    let tx = begin_write(&state.db).await?;
    match dealers::import(&tx, actor, rows).await? {
        Ok(count) => {
            tx.commit().await?;
            Ok(count)
        }
        Err(problems) => Err(import_errors(problems)),
    }
}

fn import_errors(problems: Vec<ImportProblem>) -> AppError {
    AppError::Validation(
        problems
            .into_iter()
            .map(|p| FieldError::new(format!("line {}: {}", p.line, p.field), "import_row", p.message))
            .collect(),
    )
}
