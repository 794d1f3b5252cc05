//! Every route of the service on one screen, each with its access rule. A
//! route cannot be added without a rule: `RouteTable` takes both together and
//! records the rule, and the access-matrix tests read that record.

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

use crate::domain::auth::Role;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::sessions::SessionUser;

use super::{api, assets, pages};

/// Who may call a route. Record scope (which dealers) is checked further in,
/// by the store, which answers 404 for records outside the user's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No sign-in: sign-in itself, health checks, static assets.
    Public,
    /// Any signed-in user; what they see is limited by their dealer scope.
    SignedIn,
    /// Signed-in users with one of these roles.
    Roles(&'static [Role]),
}

const ADMIN: Access = Access::Roles(&[Role::Administrator]);
const DEALER_KEEPERS: Access = Access::Roles(&[Role::Administrator, Role::ChannelManager]);
const SELLER: Access = Access::Roles(&[Role::SalesAssistant]);
const UNDERWRITER: Access = Access::Roles(&[Role::Underwriter, Role::Administrator]);
/// Who watches dealers' figures across the portfolio (store staff see their own dealer's dashboard).
const MONITORS: Access =
    Access::Roles(&[Role::Administrator, Role::ChannelManager, Role::Underwriter, Role::ClaimsAdjuster]);
const ADJUSTER: Access = Access::Roles(&[Role::ClaimsAdjuster]);
const CLAIM_REPORTERS: Access = Access::Roles(&[Role::SalesAssistant, Role::ClaimsAdjuster]);
/// Feedback from the stores is the insurer's own: store staff of the dealer do not read it.
const FEEDBACK_READERS: Access = Access::Roles(&[
    Role::Administrator,
    Role::ChannelManager,
    Role::Underwriter,
    Role::ClaimsAdjuster,
    Role::SalesAssistant,
]);
/// A dealer answers its satisfaction survey itself, or its channel manager records the answers.
const SURVEY_RECORDERS: Access = Access::Roles(&[Role::Administrator, Role::ChannelManager, Role::DealerStaff]);
const POLICY_KEEPERS: Access = Access::Roles(&[Role::SalesAssistant, Role::Underwriter, Role::Administrator]);

/// One route and its rule, as registered.
#[derive(Debug, Clone)]
pub struct RouteRule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

/// Builds the router and the list of rules side by side.
pub struct RouteTable {
    router: Router<AppState>,
    rules: Vec<RouteRule>,
}

impl RouteTable {
    fn new() -> Self {
        Self { router: Router::new(), rules: Vec::new() }
    }

    fn add<H, T>(
        mut self,
        method: &'static str,
        filter: MethodFilter,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let endpoint = on(filter, handler)
            .route_layer(middleware::from_fn(move |req: Request, next: Next| enforce(access, req, next)));
        self.router = self.router.route(path, endpoint);
        self.rules.push(RouteRule { method, path, access });
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Self {
        self.add("GET", MethodFilter::GET, path, access, handler)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Self {
        self.add("POST", MethodFilter::POST, path, access, handler)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Self {
        self.add("PUT", MethodFilter::PUT, path, access, handler)
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Self {
        self.add("PATCH", MethodFilter::PATCH, path, access, handler)
    }

    /// A POST that takes a file upload: the global body limit is lifted here, and the handler
    /// enforces the document limit itself while it streams the body.
    fn upload<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, access: Access, handler: H) -> Self {
        let endpoint = on(MethodFilter::POST, handler)
            .layer(axum::extract::DefaultBodyLimit::disable())
            .route_layer(middleware::from_fn(move |req: Request, next: Next| enforce(access, req, next)));
        self.router = self.router.route(path, endpoint);
        self.rules.push(RouteRule { method: "POST", path, access });
        self
    }

    pub fn rules(&self) -> &[RouteRule] {
        &self.rules
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// The whole service.
pub fn routes() -> RouteTable {
    use Access::{Public, SignedIn};
    RouteTable::new()
        // Health
        .get("/healthz", Public, api::health::healthz)
        .get("/readyz", Public, api::health::readyz)
        // API: sign-in
        .post("/api/v1/auth/login", Public, api::auth::login)
        .post("/api/v1/auth/logout", SignedIn, api::auth::logout)
        .post("/api/v1/auth/logout-everywhere", SignedIn, api::auth::logout_everywhere)
        .get("/api/v1/me", SignedIn, api::auth::me)
        // API: users
        .get("/api/v1/users", ADMIN, api::users::list)
        .post("/api/v1/users", ADMIN, api::users::create)
        .get("/api/v1/users/{id}", ADMIN, api::users::show)
        .patch("/api/v1/users/{id}", ADMIN, api::users::update)
        .post("/api/v1/users/{id}/qualifications", DEALER_KEEPERS, api::users::add_qualification)
        // API: dealers
        .get("/api/v1/dealers", SignedIn, api::dealers::list)
        .post("/api/v1/dealers", DEALER_KEEPERS, api::dealers::create)
        .post("/api/v1/dealers/import", ADMIN, api::dealers::import)
        .get("/api/v1/dealers/{id}", SignedIn, api::dealers::show)
        .patch("/api/v1/dealers/{id}", DEALER_KEEPERS, api::dealers::update)
        // API: underwriting
        .post("/api/v1/quotes", SELLER, api::underwriting::create_quote)
        .get("/api/v1/quotes", SignedIn, api::underwriting::list_quotes)
        .get("/api/v1/quotes/{id}", SignedIn, api::underwriting::show_quote)
        .post("/api/v1/quotes/{id}/approve", UNDERWRITER, api::underwriting::approve_quote)
        .post("/api/v1/quotes/{id}/decline", UNDERWRITER, api::underwriting::decline_quote)
        .post("/api/v1/quotes/{id}/issue", SELLER, api::underwriting::issue)
        .get("/api/v1/policies", SignedIn, api::underwriting::list_policies)
        .get("/api/v1/policies/{id}", SignedIn, api::underwriting::show_policy)
        .post("/api/v1/policies/{id}/endorse", POLICY_KEEPERS, api::underwriting::endorse)
        .post("/api/v1/policies/{id}/cancel", POLICY_KEEPERS, api::underwriting::cancel)
        .post("/api/v1/policies/{id}/renew", SELLER, api::underwriting::renew)
        .get("/api/v1/renewals", SignedIn, api::underwriting::renewals)
        .get("/api/v1/rating-versions", SignedIn, api::underwriting::list_rating_versions)
        .post("/api/v1/rating-versions", UNDERWRITER, api::underwriting::create_rating_version)
        .get("/api/v1/channel-coefficients", SignedIn, api::underwriting::list_channel_versions)
        .post("/api/v1/channel-coefficients", UNDERWRITER, api::underwriting::create_channel_version)
        // API: claims
        .post("/api/v1/claims", CLAIM_REPORTERS, api::claims::report)
        .get("/api/v1/claims", SignedIn, api::claims::list)
        .get("/api/v1/claims/board", SignedIn, api::claims::board)
        .get("/api/v1/claims/{id}", SignedIn, api::claims::show)
        .post("/api/v1/claims/{id}/register", ADJUSTER, api::claims::register)
        .post("/api/v1/claims/{id}/loss-items", ADJUSTER, api::claims::add_loss_item)
        .post("/api/v1/claims/{id}/loss-items/{item_id}/remove", ADJUSTER, api::claims::remove_loss_item)
        .upload("/api/v1/claims/{id}/documents", CLAIM_REPORTERS, api::claims::upload)
        .get("/api/v1/claims/{id}/documents/{document_id}", SignedIn, api::claims::download)
        .post("/api/v1/claims/{id}/survey", ADJUSTER, api::claims::survey)
        .post("/api/v1/claims/{id}/reserve", ADJUSTER, api::claims::change_reserve)
        .post("/api/v1/claims/{id}/settle", ADJUSTER, api::claims::settle)
        .post("/api/v1/claims/{id}/approve", ADJUSTER, api::claims::approve)
        .post("/api/v1/claims/{id}/settlement/withdraw", ADJUSTER, api::claims::withdraw_settlement)
        .post("/api/v1/claims/{id}/payments", ADJUSTER, api::claims::pay)
        .post("/api/v1/claims/{id}/close", ADJUSTER, api::claims::close)
        .post("/api/v1/claims/{id}/decline", ADJUSTER, api::claims::decline)
        .post("/api/v1/claims/{id}/withdraw", CLAIM_REPORTERS, api::claims::withdraw)
        .post("/api/v1/claims/{id}/reopen", ADJUSTER, api::claims::reopen)
        .get("/api/v1/claim-status", Public, api::claims::lookup)
        // API: commission
        .get("/api/v1/filed-rates", SignedIn, api::commission::filed_rates)
        .post("/api/v1/filed-rates", ADMIN, api::commission::create_filed_rates)
        .get("/api/v1/dealers/{id}/agreements", SignedIn, api::commission::agreements)
        .post("/api/v1/dealers/{id}/agreements", DEALER_KEEPERS, api::commission::create_agreement)
        .get("/api/v1/dealers/{id}/ledger", SignedIn, api::commission::ledger)
        .get("/api/v1/dealers/{id}/statements", SignedIn, api::commission::statements)
        .get("/api/v1/statements/{id}", SignedIn, api::commission::statement)
        .post("/api/v1/statements/{id}/confirm", DEALER_KEEPERS, api::commission::confirm)
        .post("/api/v1/statements/{id}/pay", ADMIN, api::commission::pay)
        .post("/api/v1/commission/close-month", ADMIN, api::commission::close_month)
        .get("/api/v1/commission/reconcile", ADMIN, api::commission::reconcile)
        // API: monitoring
        .get("/api/v1/dealers/{id}/figures", SignedIn, api::monitoring::figures)
        .get("/api/v1/portfolio", MONITORS, api::monitoring::portfolio)
        .get("/api/v1/analytics/dealers", MONITORS, api::analytics::dealers)
        .get("/api/v1/analytics/dealers/{id}", MONITORS, api::analytics::dealer)
        .get("/api/v1/service-plan-rules", MONITORS, api::analytics::plan_rules)
        .put("/api/v1/service-plan-rules", ADMIN, api::analytics::save_plan_rules)
        .get("/api/v1/dealers/{id}/service-plans", MONITORS, api::analytics::dealer_plans)
        .post("/api/v1/dealers/{id}/service-plans", DEALER_KEEPERS, api::analytics::generate_plan)
        .post("/api/v1/service-plan-items/{id}/decision", DEALER_KEEPERS, api::analytics::decide_item)
        .get("/api/v1/dealers/{id}/thresholds", SignedIn, api::monitoring::thresholds)
        .post("/api/v1/dealers/{id}/thresholds", DEALER_KEEPERS, api::monitoring::set_thresholds)
        .get("/api/v1/alerts", SignedIn, api::monitoring::alerts)
        .post("/api/v1/alerts/{id}/acknowledge", DEALER_KEEPERS, api::monitoring::acknowledge)
        .post("/api/v1/alerts/raise", ADMIN, api::monitoring::raise)
        // API: feedback, complaints, visits, surveys
        .upload("/api/v1/feedback", SELLER, api::feedback::submit)
        .get("/api/v1/feedback", FEEDBACK_READERS, api::feedback::list)
        .get("/api/v1/feedback/{id}", FEEDBACK_READERS, api::feedback::show)
        .get("/api/v1/feedback/{id}/photo", FEEDBACK_READERS, api::feedback::photo)
        .post("/api/v1/feedback/{id}/handle", DEALER_KEEPERS, api::feedback::handle)
        .post("/api/v1/complaints", SignedIn, api::feedback::log_complaint)
        .get("/api/v1/complaints", SignedIn, api::feedback::complaints)
        .get("/api/v1/complaints/{id}", SignedIn, api::feedback::complaint)
        .post("/api/v1/complaints/{id}/hand-over", SignedIn, api::feedback::hand_over)
        .post("/api/v1/complaints/{id}/resolve", SignedIn, api::feedback::resolve)
        .post("/api/v1/visits", DEALER_KEEPERS, api::feedback::plan_visit)
        .get("/api/v1/visits", FEEDBACK_READERS, api::feedback::visits)
        .get("/api/v1/visits/{id}", FEEDBACK_READERS, api::feedback::visit)
        .post("/api/v1/visits/{id}/record", DEALER_KEEPERS, api::feedback::record_visit)
        .post("/api/v1/visits/{id}/cancel", DEALER_KEEPERS, api::feedback::cancel_visit)
        .post("/api/v1/follow-ups/{id}/complete", SignedIn, api::feedback::complete_follow_up)
        .post("/api/v1/surveys", SURVEY_RECORDERS, api::feedback::record_survey)
        .get("/api/v1/surveys/comparison", MONITORS, api::feedback::survey_comparison)
        .get("/api/v1/dealers/{id}/surveys", SignedIn, api::feedback::dealer_surveys)
        .get("/api/v1/dealers/{id}/store-figures", FEEDBACK_READERS, api::feedback::store_figures)
        // API: audit
        .get("/api/v1/audit", ADMIN, api::audit::list)
        .get("/api/v1/audit/verify", ADMIN, api::audit::verify)
        // API description
        .get("/api/openapi.json", SignedIn, api::openapi::document)
        .get("/api/docs", SignedIn, api::openapi::browser)
        // Pages
        .get("/login", Public, pages::auth::login_form)
        .post("/login", Public, pages::auth::login)
        .post("/logout", SignedIn, pages::auth::logout)
        .get("/", SignedIn, pages::home::home)
        .get("/account", SignedIn, pages::auth::account)
        .post("/account/logout-everywhere", SignedIn, pages::auth::logout_everywhere)
        .get("/dealers", SignedIn, pages::dealers::list)
        .get("/dealers/new", DEALER_KEEPERS, pages::dealers::new_form)
        .post("/dealers", DEALER_KEEPERS, pages::dealers::create)
        .get("/dealers/import", ADMIN, pages::dealers::import_form)
        .post("/dealers/import", ADMIN, pages::dealers::import)
        .get("/dealers/{id}", SignedIn, pages::dealers::show)
        .get("/dealers/{id}/edit", DEALER_KEEPERS, pages::dealers::edit_form)
        .post("/dealers/{id}", DEALER_KEEPERS, pages::dealers::update)
        .post("/dealers/{id}/sellers/{user_id}/qualifications", DEALER_KEEPERS, pages::dealers::add_qualification)
        .get("/dealers/{id}/commission", SignedIn, pages::commission::dealer)
        .get("/dealers/{id}/dashboard", SignedIn, pages::monitoring::dashboard)
        .get("/portfolio", MONITORS, pages::monitoring::portfolio)
        .get("/analytics", MONITORS, pages::analytics::portfolio)
        .get("/analytics/dealers/{id}", MONITORS, pages::analytics::dealer)
        .post("/analytics/dealers/{id}/plans", DEALER_KEEPERS, pages::analytics::generate)
        .post("/service-plan-items/{id}/decide", DEALER_KEEPERS, pages::analytics::decide)
        .get("/alerts", SignedIn, pages::monitoring::alert_list)
        .post("/alerts/{id}/acknowledge", DEALER_KEEPERS, pages::monitoring::acknowledge)
        .post("/dealers/{id}/agreements", DEALER_KEEPERS, pages::commission::create_agreement)
        .get("/statements/{id}", SignedIn, pages::commission::statement)
        .post("/statements/{id}/confirm", DEALER_KEEPERS, pages::commission::confirm)
        .post("/statements/{id}/pay", ADMIN, pages::commission::pay)
        .get("/admin/users", ADMIN, pages::users::list)
        .get("/admin/users/new", ADMIN, pages::users::new_form)
        .post("/admin/users", ADMIN, pages::users::create)
        .get("/admin/users/{id}", ADMIN, pages::users::edit_form)
        .post("/admin/users/{id}", ADMIN, pages::users::update)
        .post("/admin/users/{id}/qualifications", ADMIN, pages::users::add_qualification)
        .get("/quotes/new", SELLER, pages::underwriting::new_quote)
        .post("/quotes", SELLER, pages::underwriting::create_quote)
        .get("/quotes", SignedIn, pages::underwriting::list_quotes)
        .get("/quotes/{id}", SignedIn, pages::underwriting::show_quote)
        .post("/quotes/{id}/review", UNDERWRITER, pages::underwriting::review_quote)
        .post("/quotes/{id}/issue", SELLER, pages::underwriting::issue)
        .get("/policies", SignedIn, pages::underwriting::list_policies)
        .get("/policies/{id}", SignedIn, pages::underwriting::show_policy)
        .post("/policies/{id}/endorse", POLICY_KEEPERS, pages::underwriting::endorse)
        .post("/policies/{id}/cancel", POLICY_KEEPERS, pages::underwriting::cancel)
        .post("/policies/{id}/renew", SELLER, pages::underwriting::renew)
        .get("/renewals", SignedIn, pages::underwriting::renewals)
        .get("/rating", SignedIn, pages::underwriting::rating_tables)
        .post("/rating", UNDERWRITER, pages::underwriting::create_rating_version)
        .get("/channel-coefficients", SignedIn, pages::underwriting::channel_table)
        .post("/channel-coefficients", UNDERWRITER, pages::underwriting::create_channel_version)
        .get("/claims", SignedIn, pages::claims::queue)
        .get("/claims/new", CLAIM_REPORTERS, pages::claims::new_report)
        .post("/claims", CLAIM_REPORTERS, pages::claims::report)
        .get("/claims/{id}", SignedIn, pages::claims::show)
        .post("/claims/{id}/register", ADJUSTER, pages::claims::register)
        .post("/claims/{id}/loss-items", ADJUSTER, pages::claims::add_loss_item)
        .post("/claims/{id}/loss-items/{item_id}/remove", ADJUSTER, pages::claims::remove_loss_item)
        .upload("/claims/{id}/documents", CLAIM_REPORTERS, pages::claims::upload)
        .get("/claims/{id}/documents/{document_id}", SignedIn, api::claims::download)
        .post("/claims/{id}/survey", ADJUSTER, pages::claims::survey)
        .post("/claims/{id}/reserve", ADJUSTER, pages::claims::change_reserve)
        .post("/claims/{id}/settle", ADJUSTER, pages::claims::settle)
        .post("/claims/{id}/approve", ADJUSTER, pages::claims::approve)
        .post("/claims/{id}/settlement/withdraw", ADJUSTER, pages::claims::withdraw_settlement)
        .post("/claims/{id}/payments", ADJUSTER, pages::claims::pay)
        .post("/claims/{id}/close", ADJUSTER, pages::claims::close)
        .post("/claims/{id}/decline", ADJUSTER, pages::claims::decline)
        .post("/claims/{id}/withdraw", CLAIM_REPORTERS, pages::claims::withdraw)
        .post("/claims/{id}/reopen", ADJUSTER, pages::claims::reopen)
        .get("/claim-status", Public, pages::claims::status_form)
        .post("/claim-status", Public, pages::claims::status_lookup)
        .get("/feedback/new", SELLER, pages::feedback::new_feedback)
        .upload("/feedback", SELLER, pages::feedback::submit_feedback)
        .get("/feedback", FEEDBACK_READERS, pages::feedback::feed)
        .get("/feedback.csv", FEEDBACK_READERS, pages::feedback::feed_csv)
        .get("/feedback/{id}", FEEDBACK_READERS, pages::feedback::show_feedback)
        .get("/feedback/{id}/photo", FEEDBACK_READERS, api::feedback::photo)
        .post("/feedback/{id}/handle", DEALER_KEEPERS, pages::feedback::handle_feedback)
        .get("/complaints", SignedIn, pages::feedback::complaint_list)
        .get("/complaints/new", SignedIn, pages::feedback::new_complaint)
        .post("/complaints", SignedIn, pages::feedback::log_complaint)
        .get("/complaints/{id}", SignedIn, pages::feedback::show_complaint)
        .post("/complaints/{id}/hand-over", SignedIn, pages::feedback::hand_over)
        .post("/complaints/{id}/resolve", SignedIn, pages::feedback::resolve_complaint)
        .get("/visits", FEEDBACK_READERS, pages::feedback::visit_list)
        .post("/visits", DEALER_KEEPERS, pages::feedback::plan_visit)
        .get("/visits/{id}", FEEDBACK_READERS, pages::feedback::show_visit)
        .post("/visits/{id}/record", DEALER_KEEPERS, pages::feedback::record_visit)
        .post("/visits/{id}/cancel", DEALER_KEEPERS, pages::feedback::cancel_visit)
        .post("/follow-ups/{id}/complete", SignedIn, pages::feedback::complete_follow_up)
        .get("/surveys", MONITORS, pages::feedback::survey_comparison)
        .get("/surveys/new", SURVEY_RECORDERS, pages::feedback::new_survey)
        .post("/surveys", SURVEY_RECORDERS, pages::feedback::record_survey)
        .get("/admin/audit", ADMIN, pages::audit::list)
        .get("/assets/{*path}", Public, assets::serve)
}

async fn enforce(access: Access, req: Request, next: Next) -> Response {
    let user = req.extensions().get::<SessionUser>();
    let verdict = match (access, user) {
        (Access::Public, _) => Ok(()),
        (_, None) => Err(AppError::Unauthenticated),
        (Access::SignedIn, Some(_)) => Ok(()),
        (Access::Roles(roles), Some(user)) if roles.contains(&user.role) => Ok(()),
        (Access::Roles(_), Some(_)) => Err(AppError::Forbidden),
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
