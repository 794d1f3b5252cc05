//! Claims as JSON: report, the adjuster's queue, each step of the claim, documents,
//! settlement with approval, payments, and the owner's public status look-up.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::domain::claims::{Stage, Transition};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::api::users::created_response;
use crate::http::extract::{ClientIp, CurrentUser, IdempotencyKey, Json, Path, Query, RequestActor};
use crate::state::AppState;
use crate::store::begin_write;
use crate::store::claims::{
    self, ApprovalRequest, Claim, ClaimFile, ClaimFilter, ClaimSettings, LossItemRequest, NewDocument, PaymentRequest,
    PublicStatus, RegisterRequest, ReportRequest, ReserveChange, SettleRequest, StepRequest, SurveyRequest,
    WithdrawSettlementRequest,
};
use crate::store::sessions::SessionUser;
use crate::store::{Page, PageRequest};
use crate::store::{files, idempotency};
use sea_orm::TransactionTrait;

/// Reports a claim (first notice of loss) against the policies in force at the accident time.
/// Send an `Idempotency-Key`: the same key returns the same claim, never a second one.
#[utoipa::path(post, path = "/api/v1/claims", tag = "claims", request_body = ReportRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = ClaimFile), (status = 422, body = crate::error::Problem)))]
pub async fn report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Json(request): Json<ReportRequest>,
) -> AppResult<Response> {
    let fingerprint = idempotency::fingerprint(
        "POST",
        "/api/v1/claims",
        &serde_json::to_value(&request).map_err(anyhow::Error::from)?,
    );
    let scope = user.scope.clone();
    let settings = ClaimSettings::from_config(&state.config);
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            let id = claims::report(tx, &actor, &scope, &request, &settings).await?;
            let claim = claims::file(tx, &scope, id, &settings).await?;
            Ok((201, serde_json::to_value(claim).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/claims"))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    /// `reported`, `registered`, `surveyed`, `settled`, `closed`, `declined` or `withdrawn`;
    /// `open` (the default) for every open stage, `all` for every claim.
    pub stage: Option<String>,
    pub dealer_id: Option<i64>,
    /// Only claims past their stage's service target.
    pub overdue: Option<bool>,
    /// Only claims assigned to the caller.
    pub mine: Option<bool>,
    /// Only claims waiting in their stage at least this many hours.
    pub min_hours: Option<i64>,
    /// Claim number, plate or VIN.
    pub q: Option<String>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl ClaimQuery {
    pub fn filter(&self, user: &SessionUser) -> AppResult<ClaimFilter> {
        let text = self.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("open");
        let stage = match text {
            "open" | "all" => None,
            text => Some(Stage::parse(text).ok_or_else(|| {
                AppError::field(
                    "stage",
                    "unknown",
                    "choose open, all, reported, registered, surveyed, settled, closed, declined or withdrawn",
                )
            })?),
        };
        Ok(ClaimFilter {
            open_only: text == "open",
            stage,
            dealer_id: self.dealer_id,
            handler_id: self.mine.unwrap_or(false).then_some(user.user_id),
            overdue: self.overdue.unwrap_or(false),
            min_hours_in_stage: self.min_hours.filter(|h| *h > 0),
            search: self.q.clone(),
        })
    }
}

/// The queue: claims in scope, longest waiting in their stage first.
#[utoipa::path(get, path = "/api/v1/claims", tag = "claims", params(ClaimQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Claim>)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ClaimQuery>,
) -> AppResult<Json<Page<Claim>>> {
    let filter = query.filter(&user)?;
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(claims::list(&state.db, &user.scope, &filter, paging, &state.config.service_targets()).await?))
}

/// One column of the board.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct StageCount {
    pub stage: String,
    pub claims: u64,
    pub overdue: u64,
}

/// Claims per stage (with the same filters as the queue; closed, declined and withdrawn: the
/// last 30 days), and how many are overdue.
#[utoipa::path(get, path = "/api/v1/claims/board", tag = "claims", params(ClaimQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<StageCount>)))]
pub async fn board(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ClaimQuery>,
) -> AppResult<Json<Vec<StageCount>>> {
    let filter = ClaimFilter { stage: None, ..query.filter(&user)? };
    let counts = claims::stage_counts(&state.db, &user.scope, &filter, &state.config.service_targets()).await?;
    Ok(Json(
        counts
            .into_iter()
            .map(|(stage, claims, overdue)| StageCount { stage: stage.as_str().into(), claims, overdue })
            .collect(),
    ))
}

/// A claim with its whole file: timeline, reserves, loss items, documents, settlements with the
/// calculation line by line, payments, fraud signals and the steps allowed next.
#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "claims", security(("bearer" = [])),
    responses((status = 200, body = ClaimFile), (status = 404, body = crate::error::Problem)))]
pub async fn show(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Json<ClaimFile>> {
    Ok(Json(file_in_one_read(&state, &user, id).await?))
}

/// A claim's file read on one connection (and one snapshot), not one connection taken from the pool per query.
async fn file_in_one_read(state: &AppState, user: &SessionUser, id: i64) -> AppResult<ClaimFile> {
    let read = state.db.begin().await?;
    let file = claims::file(&read, &user.scope, id, &ClaimSettings::from_config(&state.config)).await?;
    read.commit().await?;
    Ok(file)
}

/// Runs one change in a write transaction, then answers with the claim's file as committed, or
/// with the claim alone when the client sent `Prefer: return=minimal` (RFC 7240).
macro_rules! in_transaction {
    ($state:expr, $user:expr, $prefer:expr, |$tx:ident| $body:expr) => {{
        let $tx = begin_write(&$state.db).await?;
        let id = $body.await?;
        $tx.commit().await?;
        answer(&$state, &$user, id, $prefer).await
    }};
}

/// The answer to a change: the whole file, or with `Prefer: return=minimal` the claim alone.
async fn answer(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    PreferMinimal(minimal): PreferMinimal,
) -> AppResult<Response> {
    if minimal {
        let claim = claims::get(&state.db, &user.scope, id, &state.config.service_targets()).await?;
        return Ok(Json(claim).into_response());
    }
    Ok(Json(file_in_one_read(state, user, id).await?).into_response())
}

/// `Prefer: return=minimal`: answer a change with the claim alone, not its whole file.
pub struct PreferMinimal(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PreferMinimal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, AppError> {
        let minimal = parts
            .headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"));
        Ok(PreferMinimal(minimal))
    }
}

/// reported → registered: coverages hit and their initial reserves.
#[utoipa::path(post, path = "/api/v1/claims/{id}/register", tag = "claims", request_body = RegisterRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn register(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<RegisterRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::register(&tx, &actor, &user.scope, id, &request))
}

/// Adds an assessed loss item (part, labour or other).
#[utoipa::path(post, path = "/api/v1/claims/{id}/loss-items", tag = "claims", request_body = LossItemRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn add_loss_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<LossItemRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::add_loss_item(&tx, &actor, &user.scope, id, &request))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRequest {
    pub version: i32,
}

/// Removes a loss item (it stays on file, marked removed).
#[utoipa::path(post, path = "/api/v1/claims/{id}/loss-items/{item_id}/remove", tag = "claims", request_body = VersionRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem)))]
pub async fn remove_loss_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path((id, item_id)): Path<(i64, i64)>,
    Json(request): Json<VersionRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::remove_loss_item(
        &tx,
        &actor,
        &user.scope,
        id,
        item_id,
        request.version
    ))
}

/// registered → surveyed: surveyor and repair shop; the dealer's own shop records a repair referral.
#[utoipa::path(post, path = "/api/v1/claims/{id}/survey", tag = "claims", request_body = SurveyRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn survey(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<SurveyRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::survey(&tx, &actor, &user.scope, id, &request))
}

/// Sets a coverage's reserve by a recorded movement.
#[utoipa::path(post, path = "/api/v1/claims/{id}/reserve", tag = "claims", request_body = ReserveChange, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn change_reserve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<ReserveChange>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::change_reserve(&tx, &actor, &user.scope, id, &request))
}

/// Calculates the settlement (compulsory first, then commercial, line by line). Within the
/// adjuster's authority it is approved at once (surveyed → settled); above it, it waits.
#[utoipa::path(post, path = "/api/v1/claims/{id}/settle", tag = "claims", request_body = SettleRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn settle(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<SettleRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::settle(&tx, &actor, &user.scope, id, &request))
}

/// Approves the settlement waiting for authority (by another adjuster with enough authority).
#[utoipa::path(post, path = "/api/v1/claims/{id}/approve", tag = "claims", request_body = ApprovalRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<ApprovalRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::approve_settlement(&tx, &actor, &user.scope, id, &request))
}

/// Withdraws the approved settlement when what it left unpaid will not be paid (the reason is required); its reserve
/// is released and the claim can then close on what was paid.
#[utoipa::path(post, path = "/api/v1/claims/{id}/settlement/withdraw", tag = "claims", request_body = WithdrawSettlementRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn withdraw_settlement(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<WithdrawSettlementRequest>,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::withdraw_settlement(&tx, &actor, &user.scope, id, &request))
}

/// Records a payment under the approved settlement; no limit can be exceeded across payments.
/// Send an `Idempotency-Key`: the same key never pays twice.
#[utoipa::path(post, path = "/api/v1/claims/{id}/payments", tag = "claims", request_body = PaymentRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "repeat the same key to get the first response back")),
    responses((status = 201, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn pay(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    IdempotencyKey(key): IdempotencyKey,
    Path(id): Path<i64>,
    Json(request): Json<PaymentRequest>,
) -> AppResult<Response> {
    let path = format!("/api/v1/claims/{id}/payments");
    let fingerprint =
        idempotency::fingerprint("POST", &path, &serde_json::to_value(&request).map_err(anyhow::Error::from)?);
    let scope = user.scope.clone();
    let settings = ClaimSettings::from_config(&state.config);
    let work: idempotency::Work = Box::new(move |tx| {
        Box::pin(async move {
            claims::pay(tx, &actor, &scope, id, &request).await?;
            let claim = claims::file(tx, &scope, id, &settings).await?;
            Ok((201, serde_json::to_value(claim).map_err(anyhow::Error::from)?))
        })
    });
    let outcome = idempotency::run_once(&state.db, user.user_id, key.as_deref(), &fingerprint, work).await?;
    Ok(created_response(outcome, "/api/v1/claims"))
}

async fn step(
    state: AppState,
    user: SessionUser,
    actor: crate::store::audit::Actor,
    id: i64,
    transition: Transition,
    request: StepRequest,
    prefer: PreferMinimal,
) -> AppResult<Response> {
    in_transaction!(state, user, prefer, |tx| claims::step(&tx, &actor, &user.scope, id, transition, &request))
}

/// settled → closed: reserves released to zero; the file is read-only until reopened.
#[utoipa::path(post, path = "/api/v1/claims/{id}/close", tag = "claims", request_body = StepRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem)))]
pub async fn close(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<StepRequest>,
) -> AppResult<Response> {
    step(state, user, actor, id, Transition::Close, request, prefer).await
}

/// Declines the claim; `note` is the reason and is required.
#[utoipa::path(post, path = "/api/v1/claims/{id}/decline", tag = "claims", request_body = StepRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn decline(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<StepRequest>,
) -> AppResult<Response> {
    step(state, user, actor, id, Transition::Decline, request, prefer).await
}

/// Withdraws the claim at the reporter's request.
#[utoipa::path(post, path = "/api/v1/claims/{id}/withdraw", tag = "claims", request_body = StepRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<StepRequest>,
) -> AppResult<Response> {
    step(state, user, actor, id, Transition::Withdraw, request, prefer).await
}

/// closed → back to settling, with new reserves and the reason in `note`.
#[utoipa::path(post, path = "/api/v1/claims/{id}/reopen", tag = "claims", request_body = StepRequest, security(("bearer" = [])),
    params(("Prefer" = Option<String>, Header, description = "`return=minimal` answers with the claim alone instead of its whole file")),
    responses((status = 200, body = ClaimFile), (status = 409, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    prefer: PreferMinimal,
    Path(id): Path<i64>,
    Json(request): Json<StepRequest>,
) -> AppResult<Response> {
    step(state, user, actor, id, Transition::Reopen, request, prefer).await
}

/// Reads an upload (`version` and `file` fields) within the document size limit, streaming
/// so that an oversized file is refused without being held in memory whole.
pub async fn read_upload(multipart: Multipart, max_bytes: u64) -> AppResult<(Option<i32>, Option<NewDocument>)> {
    let mut multipart = multipart;
    let mut version = None;
    let mut document = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
        match field.name() {
            Some("version") => {
                let text = field.text().await.map_err(|e| AppError::BadRequest(e.body_text()))?;
                version = Some(
                    text.trim()
                        .parse::<i32>()
                        .map_err(|_| AppError::field("version", "invalid", "the claim version as a whole number"))?,
                );
            }
            Some("file") => {
                let file_name = field.file_name().unwrap_or("document").to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
                    if (bytes.len() + chunk.len()) as u64 > max_bytes {
                        return Err(AppError::PayloadTooLarge {
                            limit: usize::try_from(max_bytes).unwrap_or(usize::MAX),
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                document = Some(NewDocument { file_name, content_type: String::new(), bytes });
            }
            _ => {}
        }
    }
    Ok((version, document))
}

/// Checks, stores and attaches an uploaded document.
pub async fn attach(
    state: &AppState,
    actor: &crate::store::audit::Actor,
    user: &SessionUser,
    id: i64,
    version: Option<i32>,
    document: Option<NewDocument>,
) -> AppResult<ClaimFile> {
    let settings = ClaimSettings::from_config(&state.config);
    let mut errors = Vec::new();
    if version.is_none() {
        errors.push(FieldError::new("version", "required", "send the claim version you read"));
    }
    let document = document.filter(|d| !d.bytes.is_empty());
    if document.is_none() {
        errors.push(FieldError::new("file", "required", "choose a photo or document to attach"));
    }
    let (Some(version), Some(mut document)) = (version, document) else {
        return Err(AppError::Validation(errors));
    };
    let Some(content_type) = files::sniff_content_type(&document.bytes) else {
        return Err(AppError::UnsupportedMediaType("attach a JPEG, PNG, WebP or HEIC photo, or a PDF".into()));
    };
    document.content_type = content_type.to_string();
    // The claim must exist in scope before anything is written to disk.
    claims::get(&state.db, &user.scope, id, &settings.targets).await?;
    let sha256 = hex::encode(Sha256::digest(&document.bytes));
    let path = files::store_file(&state.config.document_dir, &sha256, &document.bytes).await?;
    let tx = begin_write(&state.db).await?;
    claims::attach_document(&tx, actor, &user.scope, id, version, &document, &sha256, &path).await?;
    tx.commit().await?;
    claims::file(&state.db, &user.scope, id, &settings).await
}

/// Attaches a photo or document (multipart: `version`, `file`). Stored by SHA-256; the same
/// file on another claim is flagged as a fraud signal.
#[utoipa::path(post, path = "/api/v1/claims/{id}/documents", tag = "claims", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = String, description = "fields `version` and `file`"),
    responses((status = 200, body = ClaimFile), (status = 413, body = crate::error::Problem), (status = 415, body = crate::error::Problem)))]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Json<ClaimFile>> {
    let multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (version, document) = read_upload(multipart, state.config.document_max_bytes).await?;
    Ok(Json(attach(&state, &actor, &user, id, version, document).await?))
}

/// Downloads a document of a claim in scope.
#[utoipa::path(get, path = "/api/v1/claims/{id}/documents/{document_id}", tag = "claims", security(("bearer" = [])),
    responses((status = 200, description = "the file"), (status = 404, body = crate::error::Problem)))]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, document_id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let row = claims::document(&state.db, &user.scope, id, document_id).await?;
    let path = files::document_path(&state.config.document_dir, &row.sha256);
    let bytes =
        tokio::fs::read(&path).await.map_err(|e| AppError::Internal(anyhow::anyhow!("{}: {e}", path.display())))?;
    let disposition = format!("inline; filename*=UTF-8''{}", urlencode(&row.file_name));
    Ok((
        [
            (header::CONTENT_TYPE, row.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, max-age=3600".into()),
        ],
        bytes,
    )
        .into_response())
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub claim_no: String,
    /// The last 6 characters of the plate or of the owner's ID number.
    pub tail: String,
}

/// The owner's status look-up (no sign-in): the claim number and the last 6 characters of the
/// plate or ID give the stage and nothing else. Throttled per address.
#[utoipa::path(get, path = "/api/v1/claim-status", tag = "claims", params(LookupQuery),
    responses((status = 200, body = PublicStatus), (status = 404, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn lookup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<LookupQuery>,
) -> AppResult<Json<PublicStatus>> {
    let tx = begin_write(&state.db).await?;
    let found = claims::lookup(&tx, &ip, &query.claim_no, &query.tail, state.config.lookup_max_per_ip).await?;
    tx.commit().await?;
    found.map(Json).ok_or(AppError::NotFound)
}
