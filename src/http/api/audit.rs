//! The audit trail for administrators: browse, filter and verify the chain.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppResult;
use crate::http::extract::{Json, Query};
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter, AuditRecord, Verification};
use crate::store::{Page, PageRequest};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Username of whoever acted.
    pub actor: Option<String>,
    /// `create`, `update`, `login`, `login_failed`, `logout`, …
    pub action: Option<String>,
    /// `user`, `session`, `dealer`, …
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// From this time (RFC 3339), inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Up to this time (RFC 3339), exclusive.
    pub to: Option<DateTime<Utc>>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        AuditFilter {
            actor: non_empty(&self.actor),
            action: non_empty(&self.action),
            entity: non_empty(&self.entity),
            entity_id: non_empty(&self.entity_id),
            from: self.from,
            to: self.to,
        }
    }
}

/// Audit records, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditRecord>)))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> AppResult<Json<Page<AuditRecord>>> {
    let paging = PageRequest::new(query.page, query.per_page);
    Ok(Json(audit::list(&state.db, &query.filter(), paging).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainStatus {
    pub intact: bool,
    /// Records checked before the first break (all of them when intact).
    pub records: i64,
    /// What is wrong at the first break.
    pub first_break: Option<String>,
}

impl From<Verification> for ChainStatus {
    fn from(verification: Verification) -> Self {
        match verification {
            Verification::Intact { records } => ChainStatus { intact: true, records, first_break: None },
            Verification::Broken { checked, first_break } => {
                ChainStatus { intact: false, records: checked, first_break: Some(first_break.to_string()) }
            }
        }
    }
}

/// Recomputes the hash chain and reports the first broken record.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = ChainStatus)))]
pub async fn verify(State(state): State<AppState>) -> AppResult<Json<ChainStatus>> {
    Ok(Json(audit::verify(&state.db).await?.into()))
}
