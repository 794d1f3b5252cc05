//! Sign-in for API clients: a bearer token per sign-in, revoked at sign-out.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::auth::Role;
use crate::error::AppResult;
use crate::http::extract::{ClientIp, CurrentUser, Json};
use crate::state::AppState;
use crate::store::sessions::{self, LoginAttempt, SessionKind};
use crate::store::users;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user: Me,
}

/// The signed-in user and what they may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Dealer ids in scope; absent for head-office roles, who see all dealers.
    pub dealer_ids: Option<Vec<i64>>,
}

impl From<&sessions::SessionUser> for Me {
    fn from(user: &sessions::SessionUser) -> Self {
        Me {
            id: user.user_id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            dealer_ids: match &user.scope {
                crate::domain::auth::Scope::All => None,
                crate::domain::auth::Scope::Dealers(ids) => Some(ids.clone()),
            },
        }
    }
}

/// Signs in and returns a bearer token. Repeated failures lock the account and the address for a while (429).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::Problem), (status = 429, body = crate::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(request): Json<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let attempt = LoginAttempt {
        username: &request.username,
        password: &request.password,
        ip: &ip,
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
        kind: SessionKind::Api,
    };
    let session = sessions::login(&state.db, &state.login_policy(), attempt).await?;
    Ok(Json(LoginResponse { token: session.token, user: Me::from(&session.user) }))
}

/// Ends this token's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
) -> AppResult<axum::http::StatusCode> {
    sessions::logout(&state.db, &user, Some(ip), false).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Ends every session of the signed-in user, on every device.
#[utoipa::path(post, path = "/api/v1/auth/logout-everywhere", tag = "auth", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
) -> AppResult<axum::http::StatusCode> {
    sessions::logout(&state.db, &user, Some(ip), true).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The signed-in user with their full record.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses((status = 200, body = users::User)))]
pub async fn me(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> AppResult<Json<users::User>> {
    Ok(Json(users::get(&state.db, user.user_id).await?))
}
