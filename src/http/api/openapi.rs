//! The OpenAPI document, generated from the handlers' annotations, and a
//! browser for it from embedded assets (Swagger UI, vendored from npm).

use std::sync::LazyLock;

use askama::Template;
use askama_web::WebTemplate;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::pages::Shell;

use super::{analytics, audit, auth, claims, commission, dealers, feedback, health, monitoring, underwriting, users};

#[derive(OpenApi)]
#[openapi(
    info(title = "autochannel", description = "Auto insurance through car dealers: underwriting, claims, commission and dealer monitoring. Errors are application/problem+json (RFC 9457)."),
    paths(
        health::healthz, health::readyz,
        auth::login, auth::logout, auth::logout_everywhere, auth::me,
        users::list, users::create, users::show, users::update, users::add_qualification,
        dealers::list, dealers::show, dealers::create, dealers::update, dealers::import,
        audit::list, audit::verify,
        underwriting::create_quote, underwriting::list_quotes, underwriting::show_quote,
        underwriting::approve_quote, underwriting::decline_quote, underwriting::issue,
        underwriting::list_policies, underwriting::show_policy, underwriting::endorse, underwriting::cancel,
        underwriting::renew, underwriting::renewals, underwriting::list_rating_versions, underwriting::create_rating_version,
        underwriting::list_channel_versions, underwriting::create_channel_version,
        claims::report, claims::list, claims::board, claims::show, claims::register, claims::add_loss_item,
        claims::remove_loss_item, claims::upload, claims::download, claims::survey, claims::change_reserve,
        claims::settle, claims::approve, claims::withdraw_settlement, claims::pay, claims::close, claims::decline, claims::withdraw,
        claims::reopen, claims::lookup,
        commission::filed_rates, commission::create_filed_rates, commission::agreements, commission::create_agreement,
        commission::ledger, commission::statements, commission::statement, commission::confirm, commission::pay,
        commission::close_month, commission::reconcile,
        monitoring::figures, monitoring::portfolio, monitoring::thresholds, monitoring::set_thresholds,
        monitoring::alerts, monitoring::acknowledge, monitoring::raise,
        feedback::submit, feedback::list, feedback::show, feedback::photo, feedback::handle,
        feedback::log_complaint, feedback::complaints, feedback::complaint, feedback::hand_over, feedback::resolve,
        feedback::plan_visit, feedback::visits, feedback::visit, feedback::record_visit, feedback::cancel_visit,
        feedback::complete_follow_up, feedback::record_survey, feedback::dealer_surveys, feedback::survey_comparison,
        feedback::store_figures,
        analytics::dealers, analytics::dealer, analytics::plan_rules, analytics::save_plan_rules,
        analytics::dealer_plans, analytics::generate_plan, analytics::decide_item,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "users", description = "User administration"),
        (name = "dealers", description = "Dealers (车商)"),
        (name = "underwriting", description = "Quotes, referrals, policies, endorsements, cancellations, renewals, rating tables"),
        (name = "claims", description = "Claims: report, register, survey, settle, close; decline, withdraw, reopen; the owner's status look-up"),
        (name = "commission", description = "Filed rates, dealer agreements, the commission ledger and monthly statements"),
        (name = "monitoring", description = "Dealer figures (DOMAIN.md's monitoring table), trends, alerts and the portfolio"),
        (name = "feedback", description = "The store side: daily feedback, complaints (首问负责制), visits and satisfaction surveys"),
        (name = "analytics", description = "Dealers compared with their peers, chain-ladder ultimate loss ratios and service plans"),
        (name = "audit", description = "The append-only, hash-chained audit trail"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| ApiDoc::openapi().to_json().unwrap_or_default());

/// `GET /api/openapi.json`
pub async fn document() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}

#[derive(Template, WebTemplate)]
#[template(path = "api_docs.html")]
pub struct ApiDocsPage {
    pub shell: Shell,
}

/// `GET /api/docs`: the API browser.
pub async fn browser(shell: Shell) -> ApiDocsPage {
    ApiDocsPage { shell }
}
