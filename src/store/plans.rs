//! Service plans: the rules (versioned), each dealer's generated plans (history kept), and the channel
//! manager's decision on each item. An accepted or changed item is applied in the same transaction where it
//! belongs: a commission change becomes new agreements (refused with the filed range it would break),
//! remediation changes the dealer's status, a visit frequency plans the next visit; the other items are the
//! dealer's service terms, listed with the plan.

use std::collections::HashMap;

use analytics::plans::{DealerFigures, Measure, PlanItem, PlanRules, Proposal, Trigger, default_rules};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::{self, Actor, Change};
use super::now;
use super::sessions::SessionUser;
use crate::analysis::DealerAnalytics;
use crate::domain::auth::Scope;
use crate::error::{AppError, AppResult, FieldError};
use entity::{complaints, service_plan_items, service_plan_rules, service_plans};

/// The rules in force with their version (0 = the shipped defaults, never saved).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredRules {
    pub version: i32,
    #[schema(value_type = Object)]
    pub rules: PlanRules,
    pub note: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// The latest saved rules, or the shipped defaults.
pub async fn rules(db: &impl ConnectionTrait) -> AppResult<StoredRules> {
    let latest = service_plan_rules::Entity::find().order_by_desc(service_plan_rules::Column::Version).one(db).await?;
    match latest {
        Some(row) => Ok(StoredRules {
            version: row.version,
            rules: serde_json::from_str(&row.document)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("service-plan rules v{}: {e}", row.version)))?,
            note: row.note,
            created_at: Some(row.created_at),
        }),
        None => Ok(StoredRules { version: 0, rules: default_rules(), note: String::new(), created_at: None }),
    }
}

/// Saves a new version of the rules on top of `base_version` (the version read); 409 when another was saved since.
pub async fn save_rules(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    base_version: i32,
    rules: &PlanRules,
    note: &str,
) -> AppResult<i32> {
    let problems = rules.problems();
    if !problems.is_empty() {
        return Err(AppError::Validation(
            problems.into_iter().map(|(at, message)| FieldError::new(at, "invalid", message)).collect(),
        ));
    }
    let current = self::rules(tx).await?;
    if current.version != base_version {
        return Err(AppError::stale_version());
    }
    let version = base_version + 1;
    let document = serde_json::to_string(rules).map_err(|e| AppError::Internal(e.into()))?;
    // The unique version makes two saves on the same base collide instead of both landing.
    service_plan_rules::Entity::insert(service_plan_rules::ActiveModel {
        version: Set(version),
        document: Set(document),
        note: Set(note.trim().to_string()),
        created_by: Set(actor.user_id.unwrap_or_default()),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::stale_version(),
        _ => e.into(),
    })?;
    audit::append(tx, actor, Change::new("save", "service_plan_rules", version).after(rules)).await?;
    Ok(version)
}

/// A dealer's figures as the rules read them: its analytics row and positions, and its complaints now.
pub struct Evaluated<'a> {
    pub analytics: &'a DealerAnalytics,
    pub open_complaints: u64,
    pub overdue_complaints: u64,
}

impl DealerFigures for Evaluated<'_> {
    fn lookup(&self, figure: &str, measure: Measure, dimension: &str) -> Option<f64> {
        let row = &self.analytics.dealer;
        if measure == Measure::Value {
            return match figure {
                "loss_ratio" => row.loss_ratio,
                "ultimate_loss_ratio" => row.ultimate_loss_ratio,
                "price_normalised_loss_ratio" => row.price_normalised_loss_ratio,
                "variable_cost_ratio" => row.variable_cost_ratio,
                "commission_ratio" => row.commission_ratio,
                "frequency" => row.frequency,
                "severity" => row.severity,
                "written_premium" => rust_decimal::prelude::ToPrimitive::to_f64(&row.written_premium),
                "renewal_rate" => row.renewal_rate,
                "referral_ratio" => row.referral_ratio,
                "report_to_close_hours" => row.report_to_close_hours,
                "upside_down" => Some(if row.upside_down { 1.0 } else { 0.0 }),
                "overdue_claims" => Some(row.overdue_claims as f64),
                "open_complaints" => Some(self.open_complaints as f64),
                "overdue_complaints" => Some(self.overdue_complaints as f64),
                "composite_score" => row.composite_score,
                _ => None,
            };
        }
        let position = self.analytics.positions.iter().find(|p| p.figure == figure && p.dimension == dimension)?;
        match measure {
            Measure::Percentile => position.percentile,
            Measure::MadDistance => position.mad_distance,
            Measure::Value => None,
        }
    }
}

/// One item of a plan as shown and decided.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub plan_id: i64,
    pub dealer_id: i64,
    pub rule_id: String,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    #[schema(value_type = Object)]
    pub proposal: Proposal,
    #[schema(value_type = Vec<Object>)]
    pub triggers: Vec<Trigger>,
    /// proposed | accepted | changed | rejected
    pub status: String,
    /// What was accepted when the manager changed the proposal.
    #[schema(value_type = Option<Object>)]
    pub decided_proposal: Option<Proposal>,
    pub note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Where the decision took effect, e.g. `commission_agreements:12,13`, `dealer_status:remediation`, `visit:7`.
    pub applied: Option<String>,
    pub version: i32,
}

/// A generated plan with its items.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub dealer_id: i64,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub rules_version: i32,
    /// The dealer's figures the rules read when the plan was generated.
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    pub generated_by: i64,
    pub generated_at: DateTime<Utc>,
    pub items: Vec<ItemView>,
}

fn item_view(row: service_plan_items::Model) -> AppResult<ItemView> {
    let unreadable =
        |what: &str, e: serde_json::Error| AppError::Internal(anyhow::anyhow!("plan item {} {what}: {e}", row.id));
    Ok(ItemView {
        proposal: serde_json::from_str(&row.proposal_json).map_err(|e| unreadable("proposal", e))?,
        triggers: serde_json::from_str(&row.triggers_json).map_err(|e| unreadable("triggers", e))?,
        decided_proposal: row
            .decided_proposal_json
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| unreadable("decision", e))?,
        id: row.id,
        plan_id: row.plan_id,
        dealer_id: row.dealer_id,
        rule_id: row.rule_id,
        kind: row.kind,
        title_zh: row.title_zh,
        title_en: row.title_en,
        status: row.status,
        note: row.note,
        decided_by: row.decided_by,
        decided_at: row.decided_at,
        applied: row.applied,
        version: row.version,
    })
}

/// Open and overdue complaints of a dealer today.
pub async fn complaint_counts(db: &impl ConnectionTrait, dealer_id: i64, today: NaiveDate) -> AppResult<(u64, u64)> {
    let open = complaints::Entity::find()
        .filter(complaints::Column::DealerId.eq(dealer_id))
        .filter(complaints::Column::Status.ne("resolved"));
    let overdue = open.clone().filter(complaints::Column::DueOn.lt(today)).count(db).await?;
    Ok((open.count(db).await?, overdue))
}

/// Evaluates the rules in force on a dealer's analytics and stores the plan with its items.
pub async fn generate(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    analytics: &DealerAnalytics,
    today: NaiveDate,
) -> AppResult<PlanView> {
    let dealer_id = analytics.dealer.dealer_id;
    super::dealers::get(tx, scope, dealer_id).await?;
    let rules = self::rules(tx).await?;
    let (open_complaints, overdue_complaints) = complaint_counts(tx, dealer_id, today).await?;
    let items: Vec<PlanItem> = rules.rules.evaluate(&Evaluated { analytics, open_complaints, overdue_complaints });
    let figures = serde_json::json!({
        "dealer": analytics.dealer,
        "open_complaints": open_complaints,
        "overdue_complaints": overdue_complaints,
        "computed_at": analytics.computed_at,
    });
    let plan_id = service_plans::Entity::insert(service_plans::ActiveModel {
        dealer_id: Set(dealer_id),
        period_from: Set(analytics.period.from),
        period_to: Set(analytics.period.to),
        rules_version: Set(rules.version),
        figures_json: Set(figures.to_string()),
        generated_by: Set(actor.user_id.unwrap_or_default()),
        generated_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?
    .last_insert_id;
    for item in &items {
        service_plan_items::Entity::insert(service_plan_items::ActiveModel {
            plan_id: Set(plan_id),
            dealer_id: Set(dealer_id),
            rule_id: Set(item.rule_id.clone()),
            kind: Set(item.proposal.kind().to_string()),
            title_zh: Set(item.title_zh.clone()),
            title_en: Set(item.title_en.clone()),
            proposal_json: Set(json(&item.proposal)?),
            triggers_json: Set(json(&item.triggers)?),
            status: Set("proposed".into()),
            version: Set(1),
            ..Default::default()
        })
        .exec(tx)
        .await?;
    }
    let change = Change::new("generate", "service_plan", plan_id)
        .after(&serde_json::json!({ "dealer_id": dealer_id, "rules_version": rules.version, "items": items.len() }));
    audit::append(tx, actor, change).await?;
    plan(tx, scope, plan_id).await
}

/// Plan data as stored in a text column.
fn json<T: Serialize>(value: &T) -> AppResult<String> {
    serde_json::to_string(value).map_err(|e| AppError::Internal(e.into()))
}

/// One plan with its items; 404 outside the scope.
pub async fn plan(db: &impl ConnectionTrait, scope: &Scope, plan_id: i64) -> AppResult<PlanView> {
    let row = service_plans::Entity::find_by_id(plan_id).one(db).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    Ok(with_items(db, vec![row]).await?.remove(0))
}

/// A dealer's plans, newest first (at most 20).
pub async fn plans(db: &impl ConnectionTrait, scope: &Scope, dealer_id: i64) -> AppResult<Vec<PlanView>> {
    super::dealers::get(db, scope, dealer_id).await?;
    let rows = service_plans::Entity::find()
        .filter(service_plans::Column::DealerId.eq(dealer_id))
        .order_by_desc(service_plans::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    with_items(db, rows).await
}

/// The plans with their items, read in one query, in the order given.
async fn with_items(db: &impl ConnectionTrait, rows: Vec<service_plans::Model>) -> AppResult<Vec<PlanView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut items: HashMap<i64, Vec<ItemView>> = HashMap::new();
    for item in service_plan_items::Entity::find()
        .filter(service_plan_items::Column::PlanId.is_in(ids))
        .order_by_asc(service_plan_items::Column::Id)
        .all(db)
        .await?
    {
        items.entry(item.plan_id).or_default().push(item_view(item)?);
    }
    Ok(rows
        .into_iter()
        .map(|row| PlanView {
            items: items.remove(&row.id).unwrap_or_default(),
            id: row.id,
            dealer_id: row.dealer_id,
            period_from: row.period_from,
            period_to: row.period_to,
            rules_version: row.rules_version,
            figures: serde_json::from_str(&row.figures_json).unwrap_or_default(),
            generated_by: row.generated_by,
            generated_at: row.generated_at,
        })
        .collect())
}

/// The decision a channel manager takes on one item.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// accept | change | reject
    pub decision: String,
    /// Why; required to change or reject.
    #[serde(default)]
    pub note: String,
    /// The changed proposal (same kind as the item's), for `change` only.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub proposal: Option<Proposal>,
    /// The item's version as read.
    pub version: i32,
}

/// Decides an item at the version read and applies an accepted or changed proposal.
pub async fn decide(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    item_id: i64,
    decision: &Decision,
    today: NaiveDate,
) -> AppResult<ItemView> {
    let row = service_plan_items::Entity::find_by_id(item_id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !user.scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    let item = item_view(row.clone())?;
    let note = decision.note.trim();
    let mut errors = Vec::new();
    let status = match decision.decision.as_str() {
        "accept" => "accepted",
        "change" => "changed",
        "reject" => "rejected",
        _ => {
            errors.push(FieldError::new("decision", "unknown", "accept, change or reject"));
            ""
        }
    };
    if (status == "changed" || status == "rejected") && note.is_empty() {
        errors.push(FieldError::new("note", "required", "say why the item is changed or rejected"));
    }
    if note.chars().count() > 2000 {
        errors.push(FieldError::new("note", "too_long", "at most 2000 characters"));
    }
    let effective = match (status, &decision.proposal) {
        ("changed", Some(proposal)) => {
            if proposal.kind() != item.proposal.kind() {
                errors.push(FieldError::new(
                    "proposal.kind",
                    "different_kind",
                    format!("keep the kind {}", item.proposal.kind()),
                ));
            }
            for (field, message) in proposal.problems() {
                errors.push(FieldError::new(format!("proposal.{field}"), "invalid", message));
            }
            Some(proposal.clone())
        }
        ("changed", None) => {
            errors.push(FieldError::new("proposal", "required", "the changed proposal"));
            None
        }
        ("accepted", _) => Some(item.proposal.clone()),
        _ => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if item.status != "proposed" {
        return Err(AppError::Conflict(format!("the item was already {}", item.status)));
    }
    if item.version != decision.version {
        return Err(AppError::stale_version());
    }
    let applied = match &effective {
        Some(proposal) => Some(apply(tx, actor, user, item.dealer_id, proposal, &item.title_zh, today).await?),
        None => None,
    };
    let result = service_plan_items::Entity::update_many()
        .col_expr(service_plan_items::Column::Status, Expr::value(status))
        .col_expr(
            service_plan_items::Column::DecidedProposalJson,
            Expr::value(if status == "changed" { effective.as_ref().map(json).transpose()? } else { None }),
        )
        .col_expr(service_plan_items::Column::Note, Expr::value(Some(note.to_string()).filter(|n| !n.is_empty())))
        .col_expr(service_plan_items::Column::DecidedBy, Expr::value(Some(user.user_id)))
        .col_expr(service_plan_items::Column::DecidedAt, Expr::value(Some(now())))
        .col_expr(service_plan_items::Column::Applied, Expr::value(applied.clone()))
        .col_expr(service_plan_items::Column::Version, Expr::col(service_plan_items::Column::Version).add(1))
        .filter(service_plan_items::Column::Id.eq(item_id))
        .filter(service_plan_items::Column::Version.eq(decision.version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let change = Change::new("decide", "service_plan_item", item_id)
        .before(&serde_json::json!({ "status": item.status }))
        .after(&serde_json::json!({ "status": status, "note": note, "proposal": effective, "applied": applied }));
    audit::append(tx, actor, change).await?;
    let row = service_plan_items::Entity::find_by_id(item_id).one(tx).await?.ok_or(AppError::NotFound)?;
    item_view(row)
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 { (day.year() + 1, 1) } else { (day.year(), day.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(day)
}

/// Makes an accepted proposal take effect; returns where.
async fn apply(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user: &SessionUser,
    dealer_id: i64,
    proposal: &Proposal,
    title: &str,
    today: NaiveDate,
) -> AppResult<String> {
    match proposal {
        Proposal::CommissionAdjustment { rate_change_bp } => {
            let from = first_of_next_month(today);
            let change = Decimal::new(i64::from(*rate_change_bp), 4);
            let in_force: Vec<_> = super::commission::agreements(tx, &user.scope, dealer_id)
                .await?
                .into_iter()
                // Compulsory commission is capped by regulation (DOMAIN.md: 4%); the plan steers the commercial rates.
                .filter(|a| a.product == "commercial")
                .filter(|a| a.valid_from <= from && a.valid_to.is_none_or(|to| from < to))
                .collect();
            if in_force.is_empty() {
                return Err(AppError::Conflict(format!(
                    "the dealer has no commercial commission agreement in force on {from} to change"
                )));
            }
            let mut created = Vec::new();
            for agreement in in_force {
                let mut terms = agreement.terms();
                terms.valid_from = from;
                terms.base_rate += change;
                for tier in &mut terms.tiers {
                    tier.rate += change;
                }
                if let Some(clause) = &mut terms.loss_ratio_clause {
                    clause.rate += change;
                }
                let request = super::commission::AgreementRequest {
                    terms,
                    note: format!("服务方案 / service plan: {title}"),
                };
                created
                    .push(super::commission::create_agreement(tx, actor, &user.scope, dealer_id, &request).await?.id);
            }
            Ok(format!("commission_agreements:{}", created.iter().map(i64::to_string).collect::<Vec<_>>().join(",")))
        }
        Proposal::Remediation {} => {
            let dealer = super::dealers::get(tx, &user.scope, dealer_id).await?;
            if dealer.status != "remediation" {
                let facts = crate::domain::dealers::DealerFacts {
                    code: dealer.code.clone(),
                    name: dealer.name.clone(),
                    dealer_group: dealer.dealer_group.clone(),
                    region: dealer.region.clone(),
                    brands: dealer.brands.clone(),
                    has_repair_shop: dealer.has_repair_shop,
                    status: crate::domain::dealers::DealerStatus::Remediation,
                };
                let write = super::dealers::DealerWrite { facts, channel_manager: None };
                super::dealers::update(tx, actor, user.role, &user.scope, dealer_id, dealer.version, write).await?;
            }
            Ok("dealer_status:remediation".into())
        }
        Proposal::VisitFrequency { visits_per_quarter } => {
            let every = 91 / i64::from(Ord::max(*visits_per_quarter, 1));
            let request = super::visits::PlanRequest {
                dealer_id,
                planned_on: today + chrono::Duration::days(Ord::max(every, 1)),
                purpose: format!("服务方案 / service plan: {title}"),
            };
            let id = super::visits::plan(tx, actor, user, &request, today).await?;
            Ok(format!("visit:{id}"))
        }
        // The remaining items are service terms the dealer's plan records; they are listed with the plan.
        Proposal::RepairReferralQuota { .. }
        | Proposal::FastTrackSmallClaims { .. }
        | Proposal::Training { .. }
        | Proposal::TightenUnderwriting { .. } => Ok("service_terms".into()),
    }
}
