//! The authentication layer that runs before every route: finds the client
//! address and the signed-in user (bearer token or session cookie), and checks
//! the CSRF token of every state-changing request made with a cookie.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::Duration;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::sessions::{self, SessionUser};

use super::extract::{ClientIp, read_body};

/// Name of the browser session cookie.
pub const SESSION_COOKIE: &str = "ac_session";
/// Name of the header a script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Name of the form field (or query parameter) a page sends the CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req, state.config.trust_forwarded);
    req.extensions_mut().insert(ClientIp(ip));

    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let cookie = CookieJar::from_headers(req.headers()).get(SESSION_COOKIE).map(|c| c.value().to_string());
    let via_cookie = bearer.is_none() && cookie.is_some();
    let Some(token) = bearer.or(cookie) else {
        return next.run(req).await;
    };
    let ttl = Duration::hours(i64::from(state.config.session_hours));
    let user = match sessions::authenticate(&state.db, &token, ttl).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let Some(user) = user else {
        return next.run(req).await;
    };
    // The sign-in form has its own double-submit token and must work even with a stale session.
    if via_cookie && !is_safe(req.method()) && req.uri().path() != "/login" {
        req = match check_csrf(req, &user, &state).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        };
    }
    req.extensions_mut().insert(user);
    next.run(req).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Accepts the token from the header, the query string or, for a plain form, the form field.
async fn check_csrf(req: Request, user: &SessionUser, state: &AppState) -> Result<Request, AppError> {
    let expected = user.csrf_token.as_bytes();
    let from_header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let from_query = req.uri().query().and_then(|q| form_field(q.as_bytes(), CSRF_FIELD));
    if from_header.or(from_query).is_some_and(|t| same(t.as_bytes(), expected)) {
        return Ok(req);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = read_body(Request::from_parts(parts.clone(), body), state).await?;
    match form_field(&bytes, CSRF_FIELD) {
        Some(token) if same(token.as_bytes(), expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(AppError::Csrf),
    }
}

fn form_field(bytes: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(bytes).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// Constant-time comparison, so response times do not leak the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn client_ip(req: &Request, trust_forwarded: bool) -> String {
    if trust_forwarded
        && let Some(forwarded) = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next().map(str::trim).filter(|s| !s.is_empty())
    {
        return first.chars().take(64).collect();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_field(b"a=1&csrf=x%2By", "csrf").as_deref(), Some("x+y"));
        assert_eq!(form_field(b"a=1", "csrf"), None);
    }
}
