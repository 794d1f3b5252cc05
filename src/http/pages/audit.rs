//! The audit browser for administrators.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Deserialize;

use crate::error::AppResult;
use crate::http::api::audit::ChainStatus;
use crate::http::extract::Query;
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter, AuditRecord};
use crate::store::{Page, PageRequest};

use super::Shell;

#[derive(Debug, Default, Deserialize)]
pub struct AuditPageQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Dates are China Standard Time days.
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<u64>,
    pub verify: Option<String>,
}

/// An audit record with its time shown in China Standard Time.
pub struct AuditRow {
    pub record: AuditRecord,
    pub at: String,
    pub before: String,
    pub after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub shell: Shell,
    pub rows: Vec<AuditRow>,
    pub page: Page<AuditRecord>,
    pub query: AuditPageQuery,
    pub chain: Option<ChainStatus>,
    pub bad_dates: bool,
}

impl AuditPage {
    pub fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }

    pub fn page_link(&self, page: u64) -> String {
        let q = &self.query;
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", self.value(&q.actor))
            .append_pair("action", self.value(&q.action))
            .append_pair("entity", self.value(&q.entity))
            .append_pair("entity_id", self.value(&q.entity_id))
            .append_pair("from", self.value(&q.from))
            .append_pair("to", self.value(&q.to))
            .append_pair("page", &page.to_string())
            .finish();
        format!("/admin/audit?{query}")
    }
}

pub fn china_time() -> FixedOffset {
    crate::domain::clock::china()
}

/// A CST day's start as UTC, or `Err` when the text is not a date.
fn day_start(text: &Option<String>, plus_days: i64) -> Result<Option<DateTime<Utc>>, ()> {
    let Some(text) = text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| ())?;
    let start = (date + chrono::Duration::days(plus_days)).and_hms_opt(0, 0, 0).ok_or(())?;
    Ok(start.and_local_timezone(china_time()).single().map(|t| t.with_timezone(&Utc)))
}

pub async fn list(
    State(state): State<AppState>,
    shell: Shell,
    Query(query): Query<AuditPageQuery>,
) -> AppResult<AuditPage> {
    let from = day_start(&query.from, 0);
    let to = day_start(&query.to, 1);
    let bad_dates = from.is_err() || to.is_err();
    let non_empty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
    let filter = AuditFilter {
        actor: non_empty(&query.actor),
        action: non_empty(&query.action),
        entity: non_empty(&query.entity),
        entity_id: non_empty(&query.entity_id),
        from: from.unwrap_or(None),
        to: to.unwrap_or(None),
    };
    let page = audit::list(&state.db, &filter, PageRequest::new(query.page, Some(50))).await?;
    let chain = match query.verify.as_deref() {
        Some(_) => Some(audit::verify(&state.db).await?.into()),
        None => None,
    };
    let rows = page
        .items
        .iter()
        .map(|record| AuditRow {
            at: record.at.with_timezone(&china_time()).format("%Y-%m-%d %H:%M:%S").to_string(),
            before: record.before.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            after: record.after.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            record: record.clone(),
        })
        .collect();
    Ok(AuditPage { shell, rows, page, query, chain, bad_dates })
}
