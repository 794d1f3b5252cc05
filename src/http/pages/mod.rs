//! HTML pages rendered with askama. Every page gets a `Shell`: language,
//! signed-in user, navigation for their role and the CSRF token for forms.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod commission;
pub mod dealers;
pub mod feedback;
pub mod home;
pub mod json_form;
pub mod monitoring;
pub mod underwriting;
pub mod users;

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http_body_util::BodyExt;

use crate::domain::auth::Role;
use crate::error::{AppError, PROBLEM_JSON, Problem};
use crate::i18n::{Lang, Tr};
use crate::store::sessions::SessionUser;

/// Commits the change a handler made in `tx`, or rolls it back and returns what the page should show instead.
pub(super) async fn commit_or_refuse<T>(
    tx: sea_orm::DatabaseTransaction,
    result: crate::error::AppResult<T>,
) -> crate::error::AppResult<Result<T, (StatusCode, Vec<crate::error::FieldError>, Option<String>)>> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(Ok(value))
        }
        Err(e) => {
            tx.rollback().await?;
            refusal(e).map(Err)
        }
    }
}

/// Validation errors go back to the form with status 422, conflicts as a notice with 409.
pub(super) fn refusal(e: AppError) -> Result<(StatusCode, Vec<crate::error::FieldError>, Option<String>), AppError> {
    match e {
        AppError::Validation(errors) => Ok((StatusCode::UNPROCESSABLE_ENTITY, errors, None)),
        AppError::Conflict(message) => Ok((StatusCode::CONFLICT, Vec::new(), Some(message))),
        AppError::Refused(problem) => Ok((StatusCode::CONFLICT, vec![problem], None)),
        AppError::PayloadTooLarge { limit } => Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![crate::error::FieldError::new("photo", "too_large", format!("at most {} MB", limit / (1024 * 1024)))],
            None,
        )),
        other => Err(other),
    }
}

/// The link that sorts a table page by a column, flipping the direction when it already sorts by it.
pub(super) fn sort_link(path: &str, query: &str, sorted_by: &str, descending: bool, column: &str) -> String {
    let dir = if sorted_by == column && descending { "asc" } else { "desc" };
    format!("{path}?{query}&sort={column}&dir={dir}")
}

/// The query that picks a figures period: `period=month`, and `&on=2026-12-07` when a day was chosen.
pub(super) fn period_query(period: &str, on: Option<chrono::NaiveDate>) -> String {
    let period: String = form_urlencoded::byte_serialize(period.as_bytes()).collect();
    match on {
        Some(on) => format!("period={period}&on={on}"),
        None => format!("period={period}"),
    }
}

/// The arrow beside the column a table is sorted by.
pub(super) fn sort_arrow(sorted_by: &str, descending: bool, column: &str) -> &'static str {
    match (sorted_by == column, descending) {
        (true, true) => " ▼",
        (true, false) => " ▲",
        _ => "",
    }
}

/// One entry of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Shell {
    pub tr: Tr,
    pub user: Option<SessionUser>,
    pub csrf: String,
    pub path: String,
    pub nav: Vec<NavItem>,
}

impl Shell {
    pub fn new(lang: Lang, user: Option<SessionUser>, path: &str) -> Self {
        let nav = user
            .as_ref()
            .map(|u| {
                nav_for(u.role)
                    .into_iter()
                    .map(|(href, label)| NavItem {
                        href,
                        label,
                        active: if href == "/" {
                            path == "/"
                        } else {
                            path.starts_with(href.split('?').next().unwrap_or(href))
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        let csrf = user.as_ref().map(|u| u.csrf_token.clone()).unwrap_or_default();
        Shell { tr: Tr(lang), user, csrf, path: path.to_string(), nav }
    }

    pub fn role_label(&self) -> &'static str {
        self.user.as_ref().map(|u| self.tr.t(role_key(u.role))).unwrap_or("")
    }

    /// The other language's code, for the switch in the header.
    pub fn other_lang(&self) -> &'static str {
        match self.tr.0 {
            Lang::Zh => "en",
            Lang::En => "zh",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Shell {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or_default();
        let user = parts.extensions.get::<SessionUser>().cloned();
        Ok(Shell::new(lang, user, parts.uri.path()))
    }
}

/// The navigation of each role: only pages that exist and that the role may open.
fn nav_for(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut nav = vec![("/", "nav.home")];
    if role == Role::SalesAssistant {
        nav.push(("/feedback/new", "nav.new_feedback"));
        nav.push(("/quotes/new", "nav.new_quote"));
    }
    if matches!(role, Role::Underwriter | Role::Administrator) {
        nav.push(("/quotes?status=referred", "nav.referrals"));
    }
    if matches!(role, Role::ChannelManager | Role::Administrator) {
        nav.push(("/portfolio", "nav.portfolio"));
        nav.push(("/analytics", "nav.analytics"));
        nav.push(("/alerts", "nav.alerts"));
        nav.push(("/feedback", "nav.feedback"));
        nav.push(("/visits", "nav.visits"));
        nav.push(("/surveys", "nav.surveys"));
    }
    nav.push(("/complaints", "nav.complaints"));
    if role == Role::DealerStaff {
        nav.push(("/surveys/new", "nav.survey"));
    }
    nav.push(("/policies", "nav.policies"));
    if role != Role::Underwriter {
        nav.push(("/claims", "nav.claims"));
    }
    if role == Role::SalesAssistant {
        nav.push(("/claims/new", "nav.report_claim"));
    }
    if matches!(role, Role::SalesAssistant | Role::ChannelManager | Role::Administrator) {
        nav.push(("/renewals", "nav.renewals"));
    }
    nav.push(("/dealers", if role.is_tied_to_dealers() { "nav.my_dealers" } else { "nav.dealers" }));
    if matches!(role, Role::Underwriter | Role::Administrator) {
        nav.push(("/rating", "nav.rating"));
    }
    if matches!(role, Role::Underwriter | Role::ChannelManager | Role::Administrator) {
        nav.push(("/channel-coefficients", "nav.channel"));
    }
    if role == Role::Administrator {
        nav.push(("/admin/users", "nav.users"));
        nav.push(("/admin/audit", "nav.audit"));
    }
    if matches!(role, Role::Administrator | Role::Underwriter | Role::ClaimsAdjuster | Role::ChannelManager) {
        nav.push(("/api/docs", "nav.api"));
    }
    nav.push(("/account", "nav.account"));
    nav
}

pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Administrator => "role.administrator",
        Role::ChannelManager => "role.channel_manager",
        Role::Underwriter => "role.underwriter",
        Role::ClaimsAdjuster => "role.claims_adjuster",
        Role::SalesAssistant => "role.sales_assistant",
        Role::DealerStaff => "role.dealer_staff",
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<crate::error::FieldError>,
}

/// Turns problem+json answers to page requests into an error page in the
/// user's language, and sends signed-out visitors to the sign-in page.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let wants_page =
        !(path.starts_with("/api/") || path == "/healthz" || path == "/readyz" || path.starts_with("/assets/"));
    if !wants_page {
        return next.run(req).await;
    }
    let lang = req.extensions().get::<Lang>().copied().unwrap_or_default();
    let target = req.uri().path_and_query().map(|pq| pq.as_str().to_string()).unwrap_or_else(|| path.clone());
    let response = next.run(req).await;
    let is_problem =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !is_problem {
        return response;
    }
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        let next_target: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next_target}")).into_response();
    }
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&body).ok();
    let tr = Tr(lang);
    let code = problem.as_ref().map(|p| p.code.as_str()).unwrap_or("internal");
    let page = ErrorPage {
        shell: Shell::new(lang, None, &path),
        status: status.as_u16(),
        title: tr.t(&format!("error.{code}")),
        detail: problem.as_ref().and_then(|p| p.detail.clone()).filter(|_| status != StatusCode::NOT_FOUND),
        errors: problem.map(|p| p.errors).unwrap_or_default(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}
