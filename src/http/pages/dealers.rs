//! Dealer list and dealer page, within the user's scope.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AppResult;
use crate::http::extract::{CurrentUser, Path, Query};
use crate::store::dealers::{self, Dealer, DealerFilter};
use crate::store::{Page, PageRequest};

use super::Shell;

#[derive(Debug, Default, Deserialize)]
pub struct DealerListQuery {
    pub q: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
    pub page: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/list.html")]
pub struct DealerListPage {
    pub shell: Shell,
    pub page: Page<Dealer>,
    pub regions: Vec<String>,
    pub q: String,
    pub region: String,
    pub status: String,
    pub statuses: [(&'static str, &'static str); 3],
}

impl DealerListPage {
    /// The link to another page of the same filtered list.
    pub fn page_link(&self, page: u64) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("region", &self.region)
            .append_pair("status", &self.status)
            .append_pair("page", &page.to_string())
            .finish();
        format!("/dealers?{query}")
    }
}

pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Query(query): Query<DealerListQuery>,
) -> AppResult<DealerListPage> {
    let filter = DealerFilter { search: query.q.clone(), region: query.region.clone(), status: query.status.clone() };
    let page = dealers::list(&state.db, &user.scope, &filter, PageRequest::new(query.page, Some(50))).await?;
    let regions = dealers::regions(&state.db, &user.scope).await?;
    Ok(DealerListPage {
        shell,
        page,
        regions,
        q: query.q.unwrap_or_default(),
        region: query.region.unwrap_or_default(),
        status: query.status.unwrap_or_default(),
        statuses: dealers::STATUSES,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "dealers/show.html")]
pub struct DealerPage {
    pub shell: Shell,
    pub dealer: Dealer,
}

pub async fn show(
    State(state): State<AppState>,
    shell: Shell,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<DealerPage> {
    let dealer = dealers::get(&state.db, &user.scope, id).await?;
    Ok(DealerPage { shell, dealer })
}
