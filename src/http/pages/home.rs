//! The start page after sign-in: what this user works on, at a glance.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::domain::auth::Role;
use crate::error::AppResult;
use crate::http::extract::CurrentUser;
use crate::state::AppState;
use crate::store::PageRequest;
use crate::store::dealers::{self, Dealer, DealerFilter};

use super::Shell;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    pub shell: Shell,
    pub dealer_count: u64,
    pub dealers: Vec<Dealer>,
    pub user_count: Option<u64>,
    pub audit_count: Option<u64>,
    /// Open and overdue claims in scope, for the roles that work with claims.
    pub claims: Option<(u64, u64)>,
    /// Alerts not yet acknowledged, for the roles that act on them.
    pub open_alerts: Option<usize>,
    /// Feedback nobody has read yet, for channel managers and administrators.
    pub unread_feedback: Option<u64>,
    /// Open complaints the user owns and how many of them are overdue.
    pub my_complaints: (u64, u64),
    pub is_seller: bool,
}

pub async fn home(State(state): State<AppState>, shell: Shell, CurrentUser(user): CurrentUser) -> AppResult<HomePage> {
    let page =
        dealers::list(&state.db, &user.scope, &DealerFilter::default(), PageRequest::new(Some(1), Some(12))).await?;
    let (user_count, audit_count) = if user.role == Role::Administrator {
        (
            Some(entity::users::Entity::find().count(&state.db).await?),
            Some(entity::audit_log::Entity::find().count(&state.db).await?),
        )
    } else {
        (None, None)
    };
    let claims = if user.role == Role::Underwriter {
        None
    } else {
        Some(crate::store::claims::open_and_overdue(&state.db, &user.scope, &state.config.service_targets()).await?)
    };
    let open_alerts = if matches!(user.role, Role::ChannelManager | Role::Administrator) {
        Some(crate::store::monitoring::alerts(&state.db, &user.scope, None, true).await?.len())
    } else {
        None
    };
    let unread_feedback = if matches!(user.role, Role::ChannelManager | Role::Administrator) {
        let filter = crate::store::feedback::FeedbackFilter {
            status: Some(crate::domain::feedback::FeedbackStatus::New),
            ..Default::default()
        };
        Some(
            crate::store::feedback::list(&state.db, &user.scope, &filter, PageRequest::new(Some(1), Some(1)))
                .await?
                .total,
        )
    } else {
        None
    };
    let (open_mine, overdue_mine) =
        crate::store::complaints::owned_open_counts(&state.db, &user, crate::store::quotes::today()).await?;
    Ok(HomePage {
        shell,
        dealer_count: page.total,
        dealers: page.items,
        user_count,
        audit_count,
        claims,
        open_alerts,
        unread_feedback,
        my_complaints: (open_mine, overdue_mine),
        is_seller: user.role == Role::SalesAssistant,
    })
}
