//! Dealers' quarterly satisfaction surveys: per dimension what the dealer expects
//! of an insurer and what it got from us; satisfaction is perceived − expected.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::domain::auth::Scope;
use crate::domain::feedback::{AverageGap, Dimension, Quarter, Rating, average_gaps, overall_gap, validate_ratings};
use crate::error::{AppError, AppResult, FieldError};
use entity::{dealers, satisfaction_surveys};

use super::audit::{self, Actor, Change};
use super::dealers::in_scope;
use super::now;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyRequest {
    pub dealer_id: i64,
    /// `2026Q3`.
    pub quarter: String,
    /// Who answered for the dealer (name and position).
    pub respondent: String,
    /// One rating per dimension.
    pub ratings: Vec<Rating>,
    /// To correct a recorded survey: the version read. Left out, a second survey of the same quarter is refused.
    #[serde(default)]
    pub version: Option<i32>,
}

/// One dimension of a recorded survey, with its gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RatedDimension {
    pub dimension: Dimension,
    pub expected: i32,
    pub perceived: i32,
    /// perceived − expected.
    pub gap: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: i64,
    pub dealer_id: i64,
    pub quarter: String,
    pub respondent: String,
    pub ratings: Vec<RatedDimension>,
    /// Mean gap over the dimensions.
    pub overall_gap: Option<f64>,
    pub recorded_by: i64,
    pub recorded_at: DateTime<Utc>,
    pub version: i32,
}

impl Survey {
    pub fn gap_of(&self, dimension: &str) -> Option<i32> {
        self.ratings.iter().find(|r| r.dimension.as_str() == dimension).map(|r| r.gap)
    }
}

fn survey(row: satisfaction_surveys::Model) -> Survey {
    let ratings: Vec<Rating> = serde_json::from_str(&row.scores_json).unwrap_or_default();
    Survey {
        id: row.id,
        dealer_id: row.dealer_id,
        quarter: row.quarter,
        respondent: row.respondent,
        overall_gap: overall_gap(&ratings),
        ratings: ratings
            .iter()
            .map(|r| RatedDimension {
                dimension: r.dimension,
                expected: r.expected,
                perceived: r.perceived,
                gap: r.gap(),
            })
            .collect(),
        recorded_by: row.recorded_by,
        recorded_at: row.recorded_at,
        version: row.version,
    }
}

/// Records a dealer's survey for a quarter, or corrects it at the version read.
pub async fn record(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    request: &SurveyRequest,
) -> AppResult<i64> {
    let recorded_by = actor.user_id.ok_or(AppError::Forbidden)?;
    let mut errors = Vec::new();
    if !scope.allows(request.dealer_id) || dealers::Entity::find_by_id(request.dealer_id).one(tx).await?.is_none() {
        errors.push(FieldError::new("dealer_id", "unknown_dealer", "choose one of your dealers"));
    }
    let quarter = Quarter::parse(&request.quarter);
    match quarter {
        None => errors.push(FieldError::new("quarter", "invalid", "a quarter such as 2026Q3")),
        Some(q) if q > Quarter::of(super::quotes::today()) => {
            errors.push(FieldError::new("quarter", "in_future", "a quarter that has begun"));
        }
        Some(_) => {}
    }
    let respondent = request.respondent.trim();
    if respondent.is_empty() || respondent.chars().count() > 100 {
        errors.push(FieldError::new("respondent", "required", "who answered for the dealer (up to 100 characters)"));
    }
    errors.extend(validate_ratings(&request.ratings));
    let Some(quarter) = quarter.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let mut ratings = request.ratings.clone();
    ratings.sort_by_key(|r| Dimension::ALL.iter().position(|d| *d == r.dimension));
    let scores_json = serde_json::to_string(&ratings).map_err(anyhow::Error::from)?;
    let existing = satisfaction_surveys::Entity::find()
        .filter(satisfaction_surveys::Column::DealerId.eq(request.dealer_id))
        .filter(satisfaction_surveys::Column::Quarter.eq(quarter.to_string()))
        .one(tx)
        .await?;
    let after = serde_json::json!({ "dealer_id": request.dealer_id, "quarter": quarter.to_string(), "respondent": respondent, "ratings": ratings });
    match (existing, request.version) {
        (None, _) => {
            let id = satisfaction_surveys::Entity::insert(satisfaction_surveys::ActiveModel {
                dealer_id: Set(request.dealer_id),
                quarter: Set(quarter.to_string()),
                respondent: Set(respondent.to_string()),
                scores_json: Set(scores_json),
                recorded_by: Set(recorded_by),
                recorded_at: Set(now()),
                version: Set(1),
                ..Default::default()
            })
            .exec(tx)
            .await
            .map_err(|e| match e.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                    AppError::Conflict(format!("a survey for {quarter} was recorded meanwhile; reload and correct it"))
                }
                _ => e.into(),
            })?
            .last_insert_id;
            audit::append(tx, actor, Change::new("record", "satisfaction_survey", id).after(&after)).await?;
            Ok(id)
        }
        (Some(row), None) => Err(AppError::Conflict(format!(
            "the dealer's survey for {quarter} is already recorded (survey {}); send its version to correct it",
            row.id
        ))),
        (Some(row), Some(version)) => {
            let result = satisfaction_surveys::Entity::update_many()
                .col_expr(satisfaction_surveys::Column::Respondent, Expr::value(respondent))
                .col_expr(satisfaction_surveys::Column::ScoresJson, Expr::value(scores_json))
                .col_expr(satisfaction_surveys::Column::RecordedBy, Expr::value(recorded_by))
                .col_expr(satisfaction_surveys::Column::RecordedAt, Expr::value(now()))
                .col_expr(
                    satisfaction_surveys::Column::Version,
                    Expr::col(satisfaction_surveys::Column::Version).add(1),
                )
                .filter(satisfaction_surveys::Column::Id.eq(row.id))
                .filter(satisfaction_surveys::Column::Version.eq(version))
                .exec(tx)
                .await?;
            if result.rows_affected == 0 {
                return Err(AppError::stale_version());
            }
            let before = serde_json::json!({ "respondent": row.respondent, "ratings": serde_json::from_str::<serde_json::Value>(&row.scores_json).unwrap_or_default() });
            audit::append(
                tx,
                actor,
                Change::new("correct", "satisfaction_survey", row.id).before(&before).after(&after),
            )
            .await?;
            Ok(row.id)
        }
    }
}

/// A dealer's surveys, newest quarter first.
pub async fn for_dealer(db: &impl ConnectionTrait, scope: &Scope, dealer_id: i64) -> AppResult<Vec<Survey>> {
    if !scope.allows(dealer_id) {
        return Err(AppError::NotFound);
    }
    dealers::Entity::find_by_id(dealer_id).one(db).await?.ok_or(AppError::NotFound)?;
    Ok(satisfaction_surveys::Entity::find()
        .filter(satisfaction_surveys::Column::DealerId.eq(dealer_id))
        .order_by_desc(satisfaction_surveys::Column::Quarter)
        .all(db)
        .await?
        .into_iter()
        .map(survey)
        .collect())
}

/// Each dealer's latest survey.
pub async fn latest_by_dealer(db: &impl ConnectionTrait, dealer_ids: &[i64]) -> AppResult<HashMap<i64, Survey>> {
    let rows = satisfaction_surveys::Entity::find()
        .filter(satisfaction_surveys::Column::DealerId.is_in(dealer_ids.to_vec()))
        .order_by_asc(satisfaction_surveys::Column::Quarter)
        .all(db)
        .await?;
    // Ascending order: a later quarter overwrites an earlier one.
    Ok(rows.into_iter().map(|row| (row.dealer_id, survey(row))).collect())
}

/// Every dealer in scope with its survey of a quarter, compared: per-dealer gaps and the portfolio's mean per dimension.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub quarter: String,
    /// Dealers that answered, lowest overall gap (least satisfied) first.
    pub dealers: Vec<DealerSurvey>,
    /// Dealers in scope without a survey for the quarter.
    pub missing: Vec<DealerRef>,
    pub average: Vec<AverageGap>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealerRef {
    pub dealer_id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealerSurvey {
    pub dealer: DealerRef,
    pub survey: Survey,
}

pub async fn comparison(db: &impl ConnectionTrait, scope: &Scope, quarter: Quarter) -> AppResult<Comparison> {
    let dealer_rows = dealers::Entity::find()
        .filter(in_scope(scope, dealers::Column::Id))
        .order_by_asc(dealers::Column::Code)
        .all(db)
        .await?;
    let rows = satisfaction_surveys::Entity::find()
        .filter(in_scope(scope, satisfaction_surveys::Column::DealerId))
        .filter(satisfaction_surveys::Column::Quarter.eq(quarter.to_string()))
        .all(db)
        .await?;
    let mut by_dealer: HashMap<i64, Survey> = rows.into_iter().map(|r| (r.dealer_id, survey(r))).collect();
    let mut answered = Vec::new();
    let mut missing = Vec::new();
    for d in dealer_rows {
        let dealer = DealerRef { dealer_id: d.id, code: d.code, name: d.name };
        match by_dealer.remove(&d.id) {
            Some(survey) => answered.push(DealerSurvey { dealer, survey }),
            None => missing.push(dealer),
        }
    }
    answered.sort_by(|a, b| {
        a.survey
            .overall_gap
            .unwrap_or(0.0)
            .total_cmp(&b.survey.overall_gap.unwrap_or(0.0))
            .then(a.dealer.code.cmp(&b.dealer.code))
    });
    let ratings: Vec<Vec<Rating>> = answered
        .iter()
        .map(|d| {
            d.survey
                .ratings
                .iter()
                .map(|r| Rating { dimension: r.dimension, expected: r.expected, perceived: r.perceived })
                .collect()
        })
        .collect();
    let average = average_gaps(ratings.iter().map(Vec::as_slice));
    Ok(Comparison { quarter: quarter.to_string(), dealers: answered, missing, average })
}
