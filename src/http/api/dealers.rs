//! Dealers within the caller's scope.

use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{CurrentUser, Json, Path, Query};
use crate::store::dealers::{self, Dealer, DealerFilter};
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
