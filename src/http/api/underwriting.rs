//! Quotes, referrals, issuing, endorsements, cancellations, renewals and the
//! rating tables, as JSON.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::underwriting::channel::ChannelTable;
use crate::domain::underwriting::issuing::PolicyStatus;
use crate::domain::underwriting::{Product, QuoteStatus, RatingDocument};
use crate::error::AppResult;
use crate::http::api::users::created_response;
use crate::http::extract::{CurrentUser, IdempotencyKey, Json, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::channel::{self, ChannelVersion};
use crate::store::idempotency;
use crate::store::policies::{self, Cancellation, Endorsement, Policy, PolicyFilter, RenewalCandidate};
use crate::store::quotes::{self, Quote, QuoteFilter, QuoteRequest};
use crate::store::rating::{self, RatingVersion};
use crate::store::{Page, PageRequest};

/// Prices a quote for one of the seller's dealers and runs the underwriting rules on it:
/// `accepted` may be issued, `referred` waits for an underwriter, `declined` names the rule.
#[utoipa::path(post, path = "/api/v1/quotes", tag = "underwriting", request_body = QuoteRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = Quote), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn create_quote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Json(request): Json<QuoteRequest>,
) -> AppResult<Response> {
    let fingerprint = idempotency::fingerprint(
        "POST",
        "/api/v1/quotes",
        &serde_json::to_value(&request).map_err(anyhow::Error::from)?,
    );
    let scope = user.scope.clone();
    let valid_days = state.config.quote_valid_days;
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let quote = quotes::create(tx, &actor, &scope, &request, quotes::Origin::Typed, valid_days).await?;
            Ok((201, serde_json::to_value(quote).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/quotes"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuoteQuery {
    /// `referred` gives the underwriter's queue, oldest first.
    pub status: Option<QuoteStatus>,
    pub dealer_id: Option<i64>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Quotes in the user's scope.
#[utoipa::path(get, path = "/api/v1/quotes", tag = "underwriting", params(QuoteQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Quote>)))]
pub async fn list_quotes(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<QuoteQuery>,
) -> AppResult<Json<Page<Quote>>> {
    let filter = QuoteFilter { status: query.status, dealer_id: query.dealer_id };
    Ok(Json(quotes::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, query.per_page)).await?))
}

/// One quote with its premium breakdown and the rules it hit.
#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "underwriting", security(("bearer" = [])),
    responses((status = 200, body = Quote), (status = 404, body = crate::error::Problem)))]
pub async fn show_quote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Quote>> {
    Ok(Json(quotes::get(&state.db, &user.scope, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub version: i32,
    /// Why; kept with the quote.
    pub note: String,
}

/// Approves a referred quote so that it can be issued.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/approve", tag = "underwriting", request_body = ReviewRequest, security(("bearer" = [])),
    responses((status = 200, body = Quote), (status = 409, body = crate::error::Problem)))]
pub async fn approve_quote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<ReviewRequest>,
) -> AppResult<Json<Quote>> {
    Ok(Json(quotes::review(&state.db, &actor, user.role, id, request.version, true, &request.note).await?))
}

/// Declines a referred quote.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/decline", tag = "underwriting", request_body = ReviewRequest, security(("bearer" = [])),
    responses((status = 200, body = Quote), (status = 409, body = crate::error::Problem)))]
pub async fn decline_quote(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<ReviewRequest>,
) -> AppResult<Json<Quote>> {
    Ok(Json(quotes::review(&state.db, &actor, user.role, id, request.version, false, &request.note).await?))
}

/// Issues the quote's policies. Refused unless the seller's qualification is valid today.
/// Send an `Idempotency-Key`: the same key returns the same policies, never a second set.
#[utoipa::path(post, path = "/api/v1/quotes/{id}/issue", tag = "underwriting", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = Vec<Policy>), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn issue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let path = format!("/api/v1/quotes/{id}/issue");
    let fingerprint = idempotency::fingerprint("POST", &path, &serde_json::Value::Null);
    let today = quotes::today();
    let offset = state.config.policy_start_offset_days;
    let scope = user.scope.clone();
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let issued = policies::issue(tx, &actor, &scope, id, today, offset).await?;
            Ok((201, serde_json::to_value(issued).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/policies"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PolicyQuery {
    /// Policy number, plate, VIN or owner name.
    pub q: Option<String>,
    /// On today's date: `pending`, `in_force`, `expired` or `cancelled`.
    #[param(value_type = Option<String>)]
    pub status: Option<PolicyStatus>,
    pub product: Option<Product>,
    pub dealer_id: Option<i64>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Policies in the user's scope, newest first.
#[utoipa::path(get, path = "/api/v1/policies", tag = "underwriting", params(PolicyQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Policy>)))]
pub async fn list_policies(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<PolicyQuery>,
) -> AppResult<Json<Page<Policy>>> {
    let filter =
        PolicyFilter { search: query.q, status: query.status, product: query.product, dealer_id: query.dealer_id };
    Ok(Json(policies::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, query.per_page)).await?))
}

/// One policy with its coverages and every version.
#[utoipa::path(get, path = "/api/v1/policies/{id}", tag = "underwriting", security(("bearer" = [])),
    responses((status = 200, body = Policy), (status = 404, body = crate::error::Problem)))]
pub async fn show_policy(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<Policy>> {
    Ok(Json(policies::get(&state.db, &user.scope, id).await?))
}

/// Endorses a policy (plate, phone, commercial coverages) with a pro-rata premium difference.
#[utoipa::path(post, path = "/api/v1/policies/{id}/endorse", tag = "underwriting", request_body = Endorsement, security(("bearer" = [])),
    responses((status = 200, body = Policy), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn endorse(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<Endorsement>,
) -> AppResult<Json<Policy>> {
    let tx = begin_write(&state.db).await?;
    let policy = policies::endorse(&tx, &actor, &user.scope, id, request).await?;
    tx.commit().await?;
    Ok(Json(policy))
}

/// Cancels a policy, refunding the unearned premium pro rata by day.
#[utoipa::path(post, path = "/api/v1/policies/{id}/cancel", tag = "underwriting", request_body = Cancellation, security(("bearer" = [])),
    responses((status = 200, body = Policy), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Json(request): Json<Cancellation>,
) -> AppResult<Json<Policy>> {
    let today = quotes::today();
    let tx = begin_write(&state.db).await?;
    let policy = policies::cancel(&tx, &actor, &user.scope, id, request, today).await?;
    tx.commit().await?;
    Ok(Json(policy))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RenewalQuery {
    /// Policies ending within this many days (default 60).
    pub days: Option<u32>,
}

/// Policies coming up for renewal in the user's scope, with the NCD level of their renewal.
#[utoipa::path(get, path = "/api/v1/renewals", tag = "underwriting", params(RenewalQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<RenewalCandidate>)))]
pub async fn renewals(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<RenewalQuery>,
) -> AppResult<Json<Vec<RenewalCandidate>>> {
    let today = quotes::today();
    let days = query.days.unwrap_or(state.config.renewal_window_days).min(366);
    Ok(Json(policies::renewals(&state.db, &user.scope, today, days).await?))
}

/// Prices a renewal quote for a policy: next NCD level, starting when the policy ends.
#[utoipa::path(post, path = "/api/v1/policies/{id}/renew", tag = "underwriting", security(("bearer" = [])),
    responses((status = 201, body = Quote), (status = 404, body = crate::error::Problem)))]
pub async fn renew(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> AppResult<(StatusCode, Json<Quote>)> {
    let quote = quotes::renew(&state.db, &actor, &user.scope, id, state.config.quote_valid_days).await?;
    Ok((StatusCode::CREATED, Json(quote)))
}

/// The channel table's versions, newest first, and the version in force today.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelVersions {
    pub in_force: ChannelVersion,
    pub versions: Vec<ChannelVersion>,
}

/// The pricing coefficient per region and dealer: the version in force and every version.
#[utoipa::path(get, path = "/api/v1/channel-coefficients", tag = "underwriting", security(("bearer" = [])),
    responses((status = 200, body = ChannelVersions)))]
pub async fn list_channel_versions(State(state): State<AppState>) -> AppResult<Json<ChannelVersions>> {
    let in_force = channel::in_force(&state.db, quotes::today()).await?;
    Ok(Json(ChannelVersions { in_force, versions: channel::list(&state.db).await? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelVersionRequest {
    /// Today or later.
    pub effective_from: NaiveDate,
    pub table: ChannelTable,
    pub note: String,
}

/// Adds a version of the channel table from a date (underwriters); every coefficient must be inside the range filed
/// in the rating tables in force that day.
#[utoipa::path(post, path = "/api/v1/channel-coefficients", tag = "underwriting", request_body = ChannelVersionRequest, security(("bearer" = [])),
    responses((status = 201, body = ChannelVersion), (status = 422, body = crate::error::Problem)))]
pub async fn create_channel_version(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Json(request): Json<ChannelVersionRequest>,
) -> AppResult<(StatusCode, Json<ChannelVersion>)> {
    let tx = begin_write(&state.db).await?;
    let today = quotes::today();
    let version = channel::create(&tx, &actor, request.effective_from, &request.table, &request.note, today).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(version)))
}

/// Every rating version, newest first.
#[utoipa::path(get, path = "/api/v1/rating-versions", tag = "underwriting", security(("bearer" = [])),
    responses((status = 200, body = Vec<RatingVersion>)))]
pub async fn list_rating_versions(State(state): State<AppState>) -> AppResult<Json<Vec<RatingVersion>>> {
    Ok(Json(rating::list(&state.db).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingVersionRequest {
    pub effective_from: NaiveDate,
    #[schema(value_type = Object)]
    pub document: RatingDocument,
    pub note: String,
}

/// Adds a rating version in force from a date; earlier quotes keep theirs.
#[utoipa::path(post, path = "/api/v1/rating-versions", tag = "underwriting", request_body = RatingVersionRequest, security(("bearer" = [])),
    responses((status = 201, body = RatingVersion), (status = 422, body = crate::error::Problem)))]
pub async fn create_rating_version(
    State(state): State<AppState>,
    RequestActor(actor): RequestActor,
    Json(request): Json<RatingVersionRequest>,
) -> AppResult<(StatusCode, Json<RatingVersion>)> {
    let tx = begin_write(&state.db).await?;
    let version = rating::create(&tx, &actor, request.effective_from, &request.document, &request.note).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(version)))
}
