//! Monitoring: loads a dealer's facts (policies with their premium segments,
//! written premium, commission, claims with their stages, reserves, payments,
//! repair referrals) in bulk, for the pure figures of `domain::monitoring`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::claims::{ServiceTargets, Stage};
use crate::domain::money::{from_fen, rate_from_micros};
use crate::domain::monitoring::{
    ClaimFact, CommissionEntry, Facts, Payment, PolicyFact, PremiumEntry, Referral, ReserveMovement, vehicle_key,
};
use crate::error::AppResult;
use entity::{
    claim_payments, claim_reserve_movements, claim_transitions, claims, commission_ledger, policies, policy_versions,
    repair_referrals,
};

pub(crate) fn local_day(at: DateTime<Utc>) -> NaiveDate {
    crate::domain::clock::china_day(at)
}

/// A policy as monitoring sees it, from its row and its versions in order, with the premium each version wrote.
pub fn policy_fact(
    p: &policies::Model,
    versions: &[policy_versions::Model],
    renewed_by_policy: bool,
) -> (PolicyFact, Vec<PremiumEntry>) {
    let mut segments = Vec::new();
    let mut premiums = Vec::with_capacity(versions.len());
    for v in versions {
        match v.kind.as_str() {
            "issue" => segments.push((p.start_date, from_fen(v.premium_after_fen))),
            "endorse" => segments.push((v.effective_date.max(p.start_date), from_fen(v.premium_after_fen))),
            // A cancellation ends cover (cancelled_from) and refunds: written premium falls by the refund.
            _ => {}
        }
        premiums.push(PremiumEntry {
            dealer_id: p.dealer_id,
            policy_id: p.id,
            booked_on: local_day(v.created_at),
            amount: from_fen(v.adjustment_fen),
        });
    }
    if segments.is_empty() {
        segments.push((p.start_date, from_fen(p.premium_fen)));
    }
    let policy = PolicyFact {
        policy_id: p.id,
        vehicle_id: vehicle_key(&p.vin),
        dealer_id: p.dealer_id,
        product: p.product.clone(),
        business_type: p.business_type.clone(),
        issued_on: local_day(p.issued_at),
        start: p.start_date,
        end: p.end_date,
        cancelled_from: p.cancelled_from,
        segments,
        pricing_coefficient: rate_from_micros(p.pricing_coefficient_micros),
        renewed_by_policy,
    };
    (policy, premiums)
}

/// The policies of one car (VIN) as monitoring sees them now: what a change to any of them adjusts the monitoring
/// totals by, before and after.
pub async fn vehicle_facts(db: &impl ConnectionTrait, vin: &str) -> AppResult<Vec<PolicyFact>> {
    let rows = vehicle_policies(db, vin).await?;
    Ok(policy_facts(db, &rows).await?.0)
}

/// Every policy ever issued on the car.
pub async fn vehicle_policies(db: &impl ConnectionTrait, vin: &str) -> AppResult<Vec<policies::Model>> {
    Ok(policies::Entity::find()
        .filter(policies::Column::Vin.eq(vin))
        .order_by_asc(policies::Column::Id)
        .all(db)
        .await?)
}

/// The policies as monitoring sees them, with the premium each of their versions wrote: versions and renewals are
/// read in bulk, a thousand policies a statement (none for no policies).
pub async fn policy_facts(
    db: &impl ConnectionTrait,
    rows: &[policies::Model],
) -> AppResult<(Vec<PolicyFact>, Vec<PremiumEntry>)> {
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut versions: BTreeMap<i64, Vec<policy_versions::Model>> = BTreeMap::new();
    let mut renewed: HashSet<i64> = HashSet::new();
    for chunk in ids.chunks(1000) {
        for v in policy_versions::Entity::find()
            .filter(policy_versions::Column::PolicyId.is_in(chunk.to_vec()))
            .order_by_asc(policy_versions::Column::Seq)
            .all(db)
            .await?
        {
            versions.entry(v.policy_id).or_default().push(v);
        }
        renewed.extend(
            policies::Entity::find()
                .select_only()
                .column(policies::Column::RenewalOfPolicyId)
                .filter(policies::Column::RenewalOfPolicyId.is_in(chunk.to_vec()))
                .into_tuple::<Option<i64>>()
                .all(db)
                .await?
                .into_iter()
                .flatten(),
        );
    }
    let mut facts = Vec::with_capacity(rows.len());
    let mut premiums = Vec::with_capacity(rows.len());
    for p in rows {
        let own = versions.get(&p.id).map(Vec::as_slice).unwrap_or_default();
        let (policy, written) = policy_fact(p, own, renewed.contains(&p.id));
        facts.push(policy);
        premiums.extend(written);
    }
    Ok((facts, premiums))
}

/// Every fact of the given dealers (all when `None`), as stored now.
pub async fn facts(
    db: &impl ConnectionTrait,
    dealer_ids: Option<&[i64]>,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> AppResult<Facts> {
    let dealer_filter = |column: policies::Column| match dealer_ids {
        Some(ids) => column.is_in(ids.to_vec()),
        None => column.is_not_null(),
    };
    let policy_rows = policies::Entity::find().filter(dealer_filter(policies::Column::DealerId)).all(db).await?;
    let (policies, premiums) = policy_facts(db, &policy_rows).await?;
    let mut facts = Facts { policies, premiums, ..Facts::default() };

    let ledger_filter = match dealer_ids {
        Some(ids) => commission_ledger::Column::DealerId.is_in(ids.to_vec()),
        None => commission_ledger::Column::DealerId.is_not_null(),
    };
    let ledger: Vec<(i64, NaiveDate, i64)> = commission_ledger::Entity::find()
        .select_only()
        .column(commission_ledger::Column::DealerId)
        .column(commission_ledger::Column::BookedOn)
        .column(commission_ledger::Column::AmountFen)
        .filter(ledger_filter)
        .into_tuple()
        .all(db)
        .await?;
    facts.commissions = ledger
        .into_iter()
        .map(|(dealer_id, booked_on, amount)| CommissionEntry { dealer_id, booked_on, amount: from_fen(amount) })
        .collect();

    let claim_filter = match dealer_ids {
        Some(ids) => claims::Column::DealerId.is_in(ids.to_vec()),
        None => claims::Column::DealerId.is_not_null(),
    };
    let claim_rows = claims::Entity::find().filter(claim_filter).all(db).await?;
    let claim_ids: Vec<i64> = claim_rows.iter().map(|c| c.id).collect();
    let mut stages = stages_of(db, &claim_ids).await?;
    for chunk in claim_ids.chunks(1000) {
        let movements: Vec<(i64, DateTime<Utc>, i64)> = claim_reserve_movements::Entity::find()
            .select_only()
            .column(claim_reserve_movements::Column::ClaimId)
            .column(claim_reserve_movements::Column::CreatedAt)
            .column(claim_reserve_movements::Column::AmountFen)
            .filter(claim_reserve_movements::Column::ClaimId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        facts.reserves.extend(movements.into_iter().map(|(claim_id, at, amount)| ReserveMovement {
            claim_id,
            at,
            amount: from_fen(amount),
        }));
        let paid: Vec<(i64, i64, NaiveDate, i64)> = claim_payments::Entity::find()
            .select_only()
            .column(claim_payments::Column::ClaimId)
            .column(claim_payments::Column::DealerId)
            .column(claim_payments::Column::PaidOn)
            .column(claim_payments::Column::AmountFen)
            .filter(claim_payments::Column::ClaimId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        facts.payments.extend(paid.into_iter().map(|(claim_id, dealer_id, paid_on, amount)| Payment {
            claim_id,
            dealer_id,
            paid_on,
            amount: from_fen(amount),
        }));
    }
    for c in &claim_rows {
        facts.claims.push(claim_fact(c, stages.remove(&c.id).unwrap_or_default(), targets, at));
    }
    let referral_filter = match dealer_ids {
        Some(ids) => repair_referrals::Column::DealerId.is_in(ids.to_vec()),
        None => repair_referrals::Column::DealerId.is_not_null(),
    };
    let referrals: Vec<(i64, NaiveDate, i64)> = repair_referrals::Entity::find()
        .select_only()
        .column(repair_referrals::Column::DealerId)
        .column(repair_referrals::Column::ReferredOn)
        .column(repair_referrals::Column::ValueFen)
        .filter(referral_filter)
        .into_tuple()
        .all(db)
        .await?;
    facts.referrals = referrals
        .into_iter()
        .map(|(dealer_id, referred_on, value)| Referral { dealer_id, referred_on, value: from_fen(value) })
        .collect();
    Ok(facts)
}

/// The stages each claim entered, in order, from its transitions.
async fn stages_of(
    db: &impl ConnectionTrait,
    claim_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<(String, DateTime<Utc>)>>> {
    let mut stages: HashMap<i64, Vec<(String, DateTime<Utc>)>> = HashMap::new();
    for chunk in claim_ids.chunks(1000) {
        let rows: Vec<(i64, String, DateTime<Utc>)> = claim_transitions::Entity::find()
            .select_only()
            .column(claim_transitions::Column::ClaimId)
            .column(claim_transitions::Column::ToStage)
            .column(claim_transitions::Column::At)
            .filter(claim_transitions::Column::ClaimId.is_in(chunk.to_vec()))
            .order_by_asc(claim_transitions::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        for (claim_id, to, at) in rows {
            let list = stages.entry(claim_id).or_default();
            // Staying in a stage (a payment, an update) is not entering it.
            if list.last().is_none_or(|(last, _)| *last != to) {
                list.push((to, at));
            }
        }
    }
    Ok(stages)
}

fn claim_fact(
    c: &claims::Model,
    stages: Vec<(String, DateTime<Utc>)>,
    targets: &ServiceTargets,
    at: DateTime<Utc>,
) -> ClaimFact {
    let stage = Stage::parse(&c.stage).unwrap_or(Stage::Reported);
    let closed_at =
        stages.iter().rev().find(|(s, _)| s == "closed").map(|(_, at)| *at).filter(|_| stage == Stage::Closed);
    ClaimFact {
        claim_id: c.id,
        dealer_id: c.dealer_id,
        accident_on: c.accident_on,
        reported_at: c.reported_at,
        stage: c.stage.clone(),
        closed_at,
        stages,
        overdue: targets.is_overdue(stage, c.stage_since, at),
    }
}

/// A claim's cycle from its row and stored stage history (`None` unless it is closed).
pub async fn claim_cycle_of(
    db: &impl ConnectionTrait,
    claim_id: i64,
) -> AppResult<Option<crate::domain::monitoring::ClaimCycle>> {
    let Some(row) = claims::Entity::find_by_id(claim_id).one(db).await? else { return Ok(None) };
    let stages = stages_of(db, &[claim_id]).await?.remove(&claim_id).unwrap_or_default();
    // The service targets only decide "overdue", which a cycle does not use.
    let fact = claim_fact(&row, stages, &ServiceTargets::default(), super::now());
    Ok(crate::domain::monitoring::claim_cycle(&fact))
}

/// A dealer's claims per stage now.
pub async fn claims_by_stage(db: &impl ConnectionTrait, dealer_id: i64) -> AppResult<BTreeMap<String, u64>> {
    use sea_orm::sea_query::Expr;
    let rows: Vec<(String, i64)> = claims::Entity::find()
        .select_only()
        .column(claims::Column::Stage)
        .expr(Expr::cust("COUNT(*)"))
        .filter(claims::Column::DealerId.eq(dealer_id))
        .group_by(claims::Column::Stage)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(stage, n)| (stage, u64::try_from(n).unwrap_or_default())).collect())
}

/// Each dealer's alert thresholds: its own where set, DOMAIN.md's defaults otherwise.
pub async fn thresholds_for(
    db: &impl ConnectionTrait,
    dealer_ids: &[i64],
) -> AppResult<HashMap<i64, crate::domain::monitoring::Thresholds>> {
    use entity::dealer_thresholds;
    let mut out = HashMap::new();
    for chunk in dealer_ids.chunks(500) {
        for row in dealer_thresholds::Entity::find()
            .filter(dealer_thresholds::Column::DealerId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let parsed = serde_json::from_str(&row.document).map_err(|e| {
                crate::error::AppError::Internal(anyhow::anyhow!("thresholds of {}: {e}", row.dealer_id))
            })?;
            out.insert(row.dealer_id, parsed);
        }
    }
    Ok(out)
}

/// A dealer's thresholds with the version to change them at (0 = still the defaults).
pub async fn thresholds(
    db: &impl ConnectionTrait,
    scope: &crate::domain::auth::Scope,
    dealer_id: i64,
) -> AppResult<(crate::domain::monitoring::Thresholds, i32)> {
    use entity::dealer_thresholds;
    super::dealers::get(db, scope, dealer_id).await?;
    match dealer_thresholds::Entity::find_by_id(dealer_id).one(db).await? {
        Some(row) => Ok((
            serde_json::from_str(&row.document)
                .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("thresholds of {dealer_id}: {e}")))?,
            row.version,
        )),
        None => Ok((crate::domain::monitoring::Thresholds::default(), 0)),
    }
}

/// Sets a dealer's thresholds at the version read (0 when still on the defaults).
pub async fn set_thresholds(
    tx: &impl ConnectionTrait,
    actor: &super::audit::Actor,
    scope: &crate::domain::auth::Scope,
    dealer_id: i64,
    version: i32,
    thresholds: &crate::domain::monitoring::Thresholds,
) -> AppResult<i32> {
    use crate::error::{AppError, FieldError};
    use entity::dealer_thresholds;
    use sea_orm::ActiveValue::Set;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let errors: Vec<FieldError> = thresholds.problems();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (before, current) = self::thresholds(tx, scope, dealer_id).await?;
    if current != version {
        return Err(AppError::stale_version());
    }
    let document = serde_json::to_string(thresholds).map_err(|e| AppError::Internal(e.into()))?;
    if current == 0 {
        dealer_thresholds::Entity::insert(dealer_thresholds::ActiveModel {
            dealer_id: Set(dealer_id),
            document: Set(document),
            version: Set(1),
            updated_by: Set(actor.user_id),
            updated_at: Set(super::now()),
        })
        .exec(tx)
        .await?;
    } else {
        let result = dealer_thresholds::Entity::update_many()
            .col_expr(dealer_thresholds::Column::Document, Expr::value(document))
            .col_expr(dealer_thresholds::Column::Version, Expr::col(dealer_thresholds::Column::Version).add(1))
            .col_expr(dealer_thresholds::Column::UpdatedBy, Expr::value(actor.user_id))
            .col_expr(dealer_thresholds::Column::UpdatedAt, Expr::value(super::now()))
            .filter(dealer_thresholds::Column::DealerId.eq(dealer_id))
            .filter(dealer_thresholds::Column::Version.eq(version))
            .exec(tx)
            .await?;
        if result.rows_affected == 0 {
            return Err(AppError::stale_version());
        }
    }
    let change = super::audit::Change::new("update", "dealer_thresholds", dealer_id).before(&before).after(thresholds);
    super::audit::append(tx, actor, change).await?;
    Ok(version + 1)
}

/// A raised alert as listed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoredAlert {
    pub id: i64,
    pub dealer_id: i64,
    pub dealer_code: String,
    pub dealer_name: String,
    pub kind: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub reason: String,
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub version: i32,
}

/// Raises the alerts of every dealer for the rolling 12 months to the month of `on` (with the
/// last six months for the rising trend), each dealer with its own thresholds. An alert already raised for the
/// dealer, kind and month is not raised again. Returns how many were new.
pub async fn raise_alerts(
    tx: &(impl ConnectionTrait + sea_orm::StreamTrait),
    actor: &super::audit::Actor,
    on: NaiveDate,
    targets: &ServiceTargets,
) -> AppResult<usize> {
    use crate::domain::monitoring::{self, Period, PeriodKind};
    use entity::dealer_alerts;
    use sea_orm::ActiveValue::Set;
    let dealer_ids: Vec<i64> =
        entity::dealers::Entity::find().select_only().column(entity::dealers::Column::Id).into_tuple().all(tx).await?;
    let thresholds = thresholds_for(tx, &dealer_ids).await?;
    // Judged on the rolling 12 months to the end of `on` (a month alone is too noisy), once a month: earned premium
    // counts only the days that have passed, so a run on the 1st judges the month's first day, not all of it.
    let month = Period::to_date(PeriodKind::Rolling12Months, on);
    let mut periods = Period::months_to_date(on, 6);
    periods.push(month);
    let existing: HashSet<(i64, String)> = dealer_alerts::Entity::find()
        .select_only()
        .column(dealer_alerts::Column::DealerId)
        .column(dealer_alerts::Column::Kind)
        .filter(dealer_alerts::Column::PeriodFrom.eq(month.from))
        .into_tuple::<(i64, String)>()
        .all(tx)
        .await?
        .into_iter()
        .collect();
    let mut raised = 0;
    let at = super::now();
    let default = monitoring::Thresholds::default();
    let mut all = super::totals::figures(tx, &dealer_ids, &periods, &|_| default.bands, false, targets, at).await?;
    for dealer_id in dealer_ids {
        let t = thresholds.get(&dealer_id).unwrap_or(&default);
        let mut trend = all.remove(&dealer_id).unwrap_or_default();
        let Some(current) = trend.pop() else { continue };
        for alert in monitoring::alerts(&current, &trend, t) {
            let kind =
                serde_json::to_value(alert.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            if existing.contains(&(dealer_id, kind.clone())) {
                continue;
            }
            dealer_alerts::Entity::insert(dealer_alerts::ActiveModel {
                dealer_id: Set(dealer_id),
                kind: Set(kind),
                period_from: Set(month.from),
                period_to: Set(month.to),
                reason: Set(alert.reason.clone()),
                figures_json: Set(serde_json::to_string(&alert.figures).unwrap_or_else(|_| "{}".into())),
                raised_at: Set(at),
                acknowledged_by: Set(None),
                acknowledged_at: Set(None),
                note: Set(None),
                version: Set(1),
                ..Default::default()
            })
            .exec(tx)
            .await?;
            raised += 1;
        }
    }
    let change = super::audit::Change::new("raise", "dealer_alerts", month.from)
        .after(&serde_json::json!({ "raised": raised, "month": month.from }));
    super::audit::append(tx, actor, change).await?;
    Ok(raised)
}

/// Alerts of dealers in scope, newest first; only unacknowledged ones when `open_only`.
pub async fn alerts(
    db: &impl ConnectionTrait,
    scope: &crate::domain::auth::Scope,
    dealer_id: Option<i64>,
    open_only: bool,
) -> AppResult<Vec<StoredAlert>> {
    use entity::{dealer_alerts, dealers};
    let mut query =
        dealer_alerts::Entity::find().filter(super::dealers::in_scope(scope, dealer_alerts::Column::DealerId));
    if let Some(id) = dealer_id {
        query = query.filter(dealer_alerts::Column::DealerId.eq(id));
    }
    if open_only {
        query = query.filter(dealer_alerts::Column::AcknowledgedAt.is_null());
    }
    let rows = query.order_by_desc(dealer_alerts::Column::Id).limit(500).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.dealer_id).collect();
    let names: HashMap<i64, (String, String)> = dealers::Entity::find()
        .filter(dealers::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, (d.code, d.name)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (code, name) = names.get(&r.dealer_id).cloned().unwrap_or_default();
            StoredAlert {
                id: r.id,
                dealer_id: r.dealer_id,
                dealer_code: code,
                dealer_name: name,
                kind: r.kind,
                period_from: r.period_from,
                period_to: r.period_to,
                reason: r.reason,
                figures: serde_json::from_str(&r.figures_json).unwrap_or_default(),
                raised_at: r.raised_at,
                acknowledged_by: r.acknowledged_by,
                acknowledged_at: r.acknowledged_at,
                note: r.note,
                version: r.version,
            }
        })
        .collect())
}

/// Acknowledges an alert with a note, at the version read.
pub async fn acknowledge(
    tx: &impl ConnectionTrait,
    actor: &super::audit::Actor,
    scope: &crate::domain::auth::Scope,
    id: i64,
    version: i32,
    note: &str,
) -> AppResult<()> {
    use crate::error::AppError;
    use entity::dealer_alerts;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let row = dealer_alerts::Entity::find_by_id(id).one(tx).await?.ok_or(AppError::NotFound)?;
    if !scope.allows(row.dealer_id) {
        return Err(AppError::NotFound);
    }
    if row.acknowledged_at.is_some() {
        return Err(AppError::Conflict("the alert is already acknowledged".into()));
    }
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::field("note", "required", "say what was done or decided (up to 2000 characters)"));
    }
    let result = dealer_alerts::Entity::update_many()
        .col_expr(dealer_alerts::Column::AcknowledgedAt, Expr::value(Some(super::now())))
        .col_expr(dealer_alerts::Column::AcknowledgedBy, Expr::value(actor.user_id))
        .col_expr(dealer_alerts::Column::Note, Expr::value(Some(note.to_string())))
        .col_expr(dealer_alerts::Column::Version, Expr::col(dealer_alerts::Column::Version).add(1))
        .filter(dealer_alerts::Column::Id.eq(id))
        .filter(dealer_alerts::Column::Version.eq(version))
        .exec(tx)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    let change =
        super::audit::Change::new("acknowledge", "dealer_alert", id).after(&serde_json::json!({ "note": note }));
    super::audit::append(tx, actor, change).await?;
    Ok(())
}
