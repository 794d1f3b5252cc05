//! Sign-in and sign-out pages, and the user's own account page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::auth::SESSION_COOKIE;
use crate::http::extract::{ClientIp, CurrentUser, Form, Query};
use crate::state::AppState;
use crate::store::sessions::{self, LoginAttempt, SessionKind};
use crate::store::users::{self, User};

use super::Shell;

/// Before sign-in there is no session to hold a CSRF token, so the sign-in
/// form uses a double-submit cookie instead.
const PRELOGIN_COOKIE: &str = "ac_prelogin";

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub shell: Shell,
    pub form_token: String,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

pub async fn login_form(shell: Shell, jar: CookieJar, Query(query): Query<LoginQuery>) -> Response {
    if shell.user.is_some() {
        return Redirect::to("/").into_response();
    }
    let next = query.next.unwrap_or_default();
    login_page(shell, jar, next, String::new(), None, StatusCode::OK)
}

fn login_page(
    shell: Shell,
    jar: CookieJar,
    next: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let form_token = random_token();
    let cookie = Cookie::build((PRELOGIN_COOKIE, form_token.clone()))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build();
    let page = LoginPage { shell, form_token, next, username, error };
    (status, jar.add(cookie), page).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub csrf: String,
    #[serde(default)]
    pub next: String,
}

pub async fn login(
    State(state): State<AppState>,
    shell: Shell,
    jar: CookieJar,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let tr = shell.tr;
    let expected = jar.get(PRELOGIN_COOKIE).map(|c| c.value().to_string());
    if expected.as_deref() != Some(form.csrf.as_str()) {
        let error = Some(tr.t("error.csrf").to_string());
        return login_page(shell, jar, form.next, form.username, error, StatusCode::FORBIDDEN);
    }
    let attempt = LoginAttempt {
        username: &form.username,
        password: &form.password,
        ip: &ip,
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()),
        kind: SessionKind::Web,
    };
    let session = match sessions::login(&state.db, &state.login_policy(), attempt).await {
        Ok(session) => session,
        Err(AppError::BadCredentials) => {
            let error = Some(tr.t("login.bad_credentials").to_string());
            return login_page(shell, jar, form.next, form.username, error, StatusCode::UNAUTHORIZED);
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60);
            let error = Some(tr.t("login.locked").replace("{minutes}", &minutes.to_string()));
            return login_page(shell, jar, form.next, form.username, error, StatusCode::TOO_MANY_REQUESTS);
        }
        Err(other) => return other.into_response(),
    };
    // A new sign-in replaces whatever session this browser had (session rotation).
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Err(e) = sessions::revoke_token(&state.db, old.value()).await
    {
        return e.into_response();
    }
    let cookie = Cookie::build((SESSION_COOKIE, session.token))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(time_hours(state.config.session_hours))
        .build();
    let jar = jar.remove(Cookie::build(PRELOGIN_COOKIE).path("/login")).add(cookie);
    (jar, Redirect::to(safe_next(&form.next))).into_response()
}

/// Only local paths, so the sign-in page cannot be used to send people elsewhere.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local && !next.starts_with("/login") { next } else { "/" }
}

fn time_hours(hours: u32) -> cookie::time::Duration {
    cookie::time::Duration::hours(i64::from(hours))
}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> AppResult<Response> {
    sessions::logout(&state.db, &user, Some(ip), false).await?;
    Ok((jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/login")).into_response())
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> AppResult<Response> {
    sessions::logout(&state.db, &user, Some(ip), true).await?;
    Ok((jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/login")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/account.html")]
pub struct AccountPage {
    pub shell: Shell,
    pub account: User,
}

pub async fn account(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
) -> AppResult<AccountPage> {
    let account = users::get(&state.db, user.user_id).await?;
    Ok(AccountPage { shell, account })
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/dealers?page=2"), "/dealers?page=2");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/login"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
